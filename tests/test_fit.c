/* tests/test_fit.c - the training loop: a hand-written loop and ag_fit learn XOR, spirals and the
 * seed's 100-feature classifier; history values agree with ag_evaluate; progress output formats;
 * early stopping (with best weights restored), checkpoints, divergence, schedules, resuming,
 * determinism, flat memory, evaluate/predict values, and argument errors.
 *
 * Expected values are independent of the code under test: hand-computed outputs of a layer with
 * chosen weights, accuracy targets from the task definitions, and the loop's own invariants
 * (a zero learning rate leaves the model fixed, so a fit's epoch loss must equal an evaluation).
 */
#include <stdio.h>
#include <unistd.h>

#include "test_util.h"

/* ---- helpers ---- */

static ag_module *mlp(int64_t in, int64_t hidden, int64_t out, ag_activation act, ag_dtype dt,
                      uint64_t seed)
{
    ag_rng r = ag_rng_seed(seed);
    ag_dense_opts o1 = {.activation = act, .dtype = dt}, o2 = {.dtype = dt};
    ag_module *layers[2] = {ag_dense(in, hidden, &o1, &r), ag_dense(hidden, out, &o2, &r)};
    cr_assert(layers[0] && layers[1], "%s", ag_last_error());
    ag_module *m = ag_sequential(2, layers);
    cr_assert(m, "%s", ag_last_error());
    return m;
}

static ag_optimizer *adam(ag_module *m, double lr)
{
    ag_adam_opts o = ag_adam_defaults();
    o.lr = lr;
    ag_optimizer *opt = ag_adam_new(ag_module_num_params(m), ag_module_params(m), &o);
    cr_assert(opt, "%s", ag_last_error());
    return opt;
}

static ag_optimizer *sgd(ag_module *m, double lr)
{
    ag_sgd_opts o = ag_sgd_defaults();
    o.lr = lr;
    ag_optimizer *opt = ag_sgd_new(ag_module_num_params(m), ag_module_params(m), &o);
    cr_assert(opt, "%s", ag_last_error());
    return opt;
}

static ag_dataset *xor_data(ag_dtype dt)
{
    ag_tensor *x = ag_tensor_from_f64(dt, 2, (int64_t[]){4, 2}, (double[]){0, 0, 0, 1, 1, 0, 1, 1});
    ag_tensor *y = ag_tensor_from_f64(dt, 1, (int64_t[]){4}, (double[]){0, 1, 1, 0});
    ag_dataset *ds = ag_dataset_new(x, y, 2);
    cr_assert(ds, "%s", ag_last_error());
    return ds;
}

static ag_fit_opts quiet(int epochs, int64_t batch)
{
    ag_fit_opts o = ag_fit_defaults();
    o.epochs = epochs;
    o.batch_size = batch;
    o.verbose = AG_VERBOSE_SILENT;
    return o;
}

static ag_history *fit_ok(ag_trainer *t, const ag_dataset *ds, const ag_fit_opts *o)
{
    ag_history *h = ag_fit(t, ds, o);
    cr_assert(h, "ag_fit failed: %s", ag_last_error());
    return h;
}

/* Accuracy of the model on ds (eval mode) through ag_predict + ag_argmax_rows. */
static double accuracy_of(ag_module *m, const ag_dataset *ds)
{
    ag_tensor *p = ag_predict(m, ds->x, 64);
    cr_assert(p, "%s", ag_last_error());
    int64_t n = ag_dim(p, 0), *cls = malloc(sizeof *cls * (size_t)n), ok = 0;
    cr_assert_eq(ag_argmax_rows(p, cls), 0, "%s", ag_last_error());
    for (int64_t i = 0; i < n; i++) ok += cls[i] == (int64_t)ag_get(ds->y, i);
    free(cls);
    ag_tensor_free(p);
    return (double)ok / (double)n;
}

/* ---- learning ---- */

Test(fit, xor_with_a_hand_written_loop)
{
    ag_dataset *ds = xor_data(AG_F64);
    ag_module *m = mlp(2, 8, 2, AG_ACT_TANH, AG_F64, 1);
    ag_optimizer *opt = adam(m, 0.05);
    double last = 0;
    for (int step = 0; step < 300; step++) {
        ag_scope *s = ag_scope_begin();
        ag_optim_zero_grad(opt);
        ag_tensor *loss = ag_cross_entropy(ag_module_forward(m, ds->x), ds->y, NULL);
        cr_assert(loss, "%s", ag_last_error());
        last = ag_item(loss);
        cr_assert_eq(ag_backward(loss), 0, "%s", ag_last_error());
        cr_assert_eq(ag_optim_step(opt), 0, "%s", ag_last_error());
        ag_scope_end(s);
    }
    cr_assert_lt(last, 0.02, "XOR loss %g", last);
    cr_assert_eq(accuracy_of(m, ds), 1.0);
    ag_optim_free(opt);
    ag_module_free(m);
    ag_dataset_free(ds);
}

Test(fit, xor_through_fit_binary_and_categorical)
{
    /* 2 -> 8 tanh -> 2 with cross-entropy, and 2 -> 4 tanh -> 1 with BCE (binary accuracy). */
    for (int binary = 0; binary < 2; binary++) {
        ag_dataset *ds = xor_data(AG_F32);
        ag_module *m = mlp(2, binary ? 4 : 8, binary ? 1 : 2, AG_ACT_TANH, AG_F32, 3);
        ag_optimizer *opt = adam(m, 0.05);
        ag_trainer *t = ag_compile(m, opt, binary ? AG_LOSS_BCE : AG_LOSS_CROSS_ENTROPY,
                                   AG_METRIC_ACCURACY);
        cr_assert(t, "%s", ag_last_error());
        ag_fit_opts o = quiet(400, 4);
        ag_history *h = fit_ok(t, ds, &o);
        cr_assert_eq(ag_history_epochs(h), 400);
        cr_assert_lt(ag_history_last(h, "loss"), 0.05, "binary %d: loss %g", binary,
                     ag_history_last(h, "loss"));
        double acc;
        cr_assert_eq(ag_evaluate(t, ds, 4, NULL, &acc), 0, "%s", ag_last_error());
        cr_assert_eq(acc, 1.0, "binary %d: accuracy %g", binary, acc);
        cr_assert_eq(ag_history_last(h, "accuracy"), 1.0);
        ag_history_free(h);
        ag_trainer_free(t);
        ag_optim_free(opt);
        ag_module_free(m);
        ag_dataset_free(ds);
    }
}

Test(fit, spirals_reach_95_percent_training_accuracy)
{
    ag_dataset *ds = ag_make_spirals(100, 3, 0.1, 7, AG_F32);
    cr_assert(ds, "%s", ag_last_error());
    ag_module *m = mlp(2, 64, 3, AG_ACT_RELU, AG_F32, 11);
    ag_optimizer *opt = adam(m, 0.01);
    ag_trainer *t = ag_compile(m, opt, AG_LOSS_CROSS_ENTROPY, AG_METRIC_ACCURACY);
    ag_fit_opts o = quiet(150, 32);
    ag_history *h = fit_ok(t, ds, &o);
    double acc;
    cr_assert_eq(ag_evaluate(t, ds, 100, NULL, &acc), 0, "%s", ag_last_error());
    cr_assert_geq(acc, 0.95, "spirals training accuracy %g", acc);
    cr_assert_float_eq(accuracy_of(m, ds), acc, 1e-12);
    ag_history_free(h);
    ag_trainer_free(t);
    ag_optim_free(opt);
    ag_module_free(m);
    ag_dataset_free(ds);
}

Test(fit, seed_architecture_reaches_95_percent_validation_accuracy)
{
    /* Dense(100->32 relu), Dense(32->10), Adam, cross-entropy, batch 32, validation_split 0.1. */
    ag_dataset *ds = ag_make_blobs(2000, 100, 10, 1.0, 2.0, 5, AG_F32);
    cr_assert(ds, "%s", ag_last_error());
    ag_module *m = mlp(100, 32, 10, AG_ACT_RELU, AG_F32, 2);
    ag_optimizer *opt = adam(m, 1e-3);
    ag_trainer *t = ag_compile(m, opt, AG_LOSS_CROSS_ENTROPY, AG_METRIC_ACCURACY);
    ag_fit_opts o = quiet(3, 32);
    o.validation_split = 0.1;
    ag_history *h = fit_ok(t, ds, &o);
    cr_assert_eq(ag_history_epochs(h), 3);
    cr_assert_geq(ag_history_last(h, "val_accuracy"), 0.95, "val_accuracy %g",
                  ag_history_last(h, "val_accuracy"));
    cr_assert_lt(ag_history_last(h, "val_loss"), ag_history_get(h, "loss", 0));
    ag_history_free(h);
    ag_trainer_free(t);
    ag_optim_free(opt);
    ag_module_free(m);
    ag_dataset_free(ds);
}

/* ---- history ---- */

Test(fit, history_columns_and_values_agree_with_evaluate)
{
    ag_dataset *ds = ag_make_blobs(90, 4, 3, 1.0, 2.0, 1, AG_F64);
    ag_dataset *val = ag_make_blobs(30, 4, 3, 1.0, 2.0, 1, AG_F64);
    ag_module *m = mlp(4, 6, 3, AG_ACT_TANH, AG_F64, 4);
    ag_optimizer *opt = sgd(m, 0.1);
    cr_assert_eq(ag_optim_set_lr(opt, 0.0), 0); /* a fixed model: epoch means equal evaluations */
    ag_trainer *t = ag_compile(m, opt, AG_LOSS_CROSS_ENTROPY,
                               AG_METRIC_ACCURACY | AG_METRIC_MSE | AG_METRIC_MAE);
    ag_fit_opts o = quiet(2, 16); /* 90 = 5 x 16 + 10: the last batch is smaller */
    o.validation_data = val;
    ag_history *h = fit_ok(t, ds, &o);
    const char *cols[] = {"loss", "accuracy", "mse", "mae", "val_loss", "val_accuracy",
                          "val_mse", "val_mae", "lr", "seconds"};
    cr_assert_eq(ag_history_num_columns(h), 10);
    for (int c = 0; c < 10; c++) cr_assert_str_eq(ag_history_column_name(h, c), cols[c]);
    cr_assert_eq(ag_history_first_epoch(h), 0);
    double tl, tm[3], vl, vm[3];
    cr_assert_eq(ag_evaluate(t, ds, 16, &tl, tm), 0, "%s", ag_last_error());
    cr_assert_eq(ag_evaluate(t, val, 7, &vl, vm), 0, "%s", ag_last_error());
    for (int e = 0; e < 2; e++) {
        cr_assert_float_eq(ag_history_get(h, "loss", e), tl, 1e-12);
        cr_assert_float_eq(ag_history_get(h, "accuracy", e), tm[0], 1e-12);
        cr_assert_float_eq(ag_history_get(h, "mse", e), tm[1], 1e-12);
        cr_assert_float_eq(ag_history_get(h, "mae", e), tm[2], 1e-12);
        cr_assert_float_eq(ag_history_get(h, "val_loss", e), vl, 1e-12);
        cr_assert_float_eq(ag_history_get(h, "val_accuracy", e), vm[0], 1e-12);
        cr_assert_float_eq(ag_history_get(h, "val_mse", e), vm[1], 1e-12);
        cr_assert_float_eq(ag_history_get(h, "val_mae", e), vm[2], 1e-12);
        cr_assert_eq(ag_history_get(h, "lr", e), 0.0);
        cr_assert_geq(ag_history_get(h, "seconds", e), 0.0);
    }
    /* Missing columns and epochs are errors naming them. */
    ag_clear_error();
    cr_assert(isnan(ag_history_get(h, "val_acc", 0)));
    expect_error_mentions("ag_history_get", "val_acc", "val_accuracy");
    cr_assert(isnan(ag_history_get(h, "loss", 2)));
    expect_error_mentions("ag_history_get", "epoch 2", "[0, 1]");
    /* CSV: a header row and one row per epoch. */
    char path[64], line[512];
    snprintf(path, sizeof path, "/tmp/ag_test_fit_hist_%d.csv", (int)getpid());
    cr_assert_eq(ag_history_write_csv(h, path), 0, "%s", ag_last_error());
    FILE *f = fopen(path, "r");
    cr_assert(fgets(line, sizeof line, f));
    cr_assert_str_eq(line, "epoch,loss,accuracy,mse,mae,val_loss,val_accuracy,val_mse,val_mae,"
                           "lr,seconds\n");
    cr_assert(fgets(line, sizeof line, f));
    cr_assert_eq(strncmp(line, "0,", 2), 0);
    cr_assert(fgets(line, sizeof line, f));
    cr_assert(!fgets(line, sizeof line, f));
    fclose(f);
    remove(path);
    cr_assert(!ag_history_diverged(h) && !ag_history_stopped_early(h));
    ag_history_free(h);
    ag_trainer_free(t);
    ag_optim_free(opt);
    ag_module_free(m);
    ag_dataset_free(ds);
    ag_dataset_free(val);
}

Test(fit, validation_split_takes_the_last_fraction)
{
    /* A fixed model (lr 0): val_loss must equal the evaluation of the last 10 of 40 examples. */
    ag_dataset *ds = ag_make_blobs(40, 3, 2, 1.0, 2.0, 9, AG_F64);
    ag_module *m = mlp(3, 4, 2, AG_ACT_TANH, AG_F64, 5);
    ag_optimizer *opt = sgd(m, 0.1);
    ag_optim_set_lr(opt, 0.0);
    ag_trainer *t = ag_compile(m, opt, AG_LOSS_CROSS_ENTROPY, AG_METRIC_ACCURACY);
    ag_fit_opts o = quiet(1, 8);
    o.validation_split = 0.25;
    ag_history *h = fit_ok(t, ds, &o);
    int64_t first[30], last[10];
    for (int i = 0; i < 30; i++) first[i] = i;
    for (int i = 0; i < 10; i++) last[i] = 30 + i;
    ag_dataset *a = ag_dataset_subset(ds, first, 30), *b = ag_dataset_subset(ds, last, 10);
    double la, lb;
    ag_evaluate(t, a, 8, &la, NULL);
    ag_evaluate(t, b, 8, &lb, NULL);
    cr_assert_float_eq(ag_history_last(h, "loss"), la, 1e-12);
    cr_assert_float_eq(ag_history_last(h, "val_loss"), lb, 1e-12);
    ag_dataset_free(a);
    ag_dataset_free(b);
    ag_history_free(h);
    ag_trainer_free(t);
    ag_optim_free(opt);
    ag_module_free(m);
    ag_dataset_free(ds);
}

/* ---- progress output ---- */

static char *run_verbose(ag_verbosity v, bool with_val)
{
    ag_dataset *ds = xor_data(AG_F32);
    ag_module *m = mlp(2, 4, 2, AG_ACT_TANH, AG_F32, 3);
    ag_optimizer *opt = adam(m, 0.01);
    ag_trainer *t = ag_compile(m, opt, AG_LOSS_CROSS_ENTROPY, AG_METRIC_ACCURACY);
    FILE *f = tmpfile();
    cr_assert(f);
    ag_fit_opts o = quiet(2, 1);
    o.verbose = v;
    o.out = f;
    o.validation_data = with_val ? ds : NULL;
    ag_history *h = fit_ok(t, ds, &o);
    long n = ftell(f);
    char *text = calloc(1, (size_t)n + 1);
    rewind(f);
    cr_assert_eq(fread(text, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    ag_history_free(h);
    ag_trainer_free(t);
    ag_optim_free(opt);
    ag_module_free(m);
    ag_dataset_free(ds);
    return text;
}

Test(fit, progress_lines_silent_and_bar)
{
    char *lines = run_verbose(AG_VERBOSE_LINES, true);
    const char *head = "Epoch 1/2\n4/4 [==============================] - ";
    cr_assert(strncmp(lines, head, strlen(head)) == 0, "output:\n%s", lines);
    cr_assert(strstr(lines, "\nEpoch 2/2\n4/4 [==============================] - "), "%s", lines);
    cr_assert(strstr(lines, "/step - loss: "), "%s", lines);
    cr_assert(strstr(lines, " - accuracy: "), "%s", lines);
    cr_assert(strstr(lines, " - val_loss: "), "%s", lines);
    cr_assert(strstr(lines, " - val_accuracy: "), "%s", lines);
    cr_assert(!strchr(lines, '\r'), "no redraws off a terminal: %s", lines);
    int nl = 0;
    for (char *c = lines; *c; c++) nl += *c == '\n';
    cr_assert_eq(nl, 4, "two lines per epoch:\n%s", lines);
    free(lines);

    char *auto_ = run_verbose(AG_VERBOSE_AUTO, false); /* a file is not a terminal */
    cr_assert(strstr(auto_, "Epoch 1/2\n") && !strchr(auto_, '\r') && !strstr(auto_, "val_"),
              "%s", auto_);
    free(auto_);

    char *silent = run_verbose(AG_VERBOSE_SILENT, true);
    cr_assert_str_eq(silent, "");
    free(silent);

    char *bar = run_verbose(AG_VERBOSE_BAR, false);
    cr_assert(strstr(bar, "\r1/4 [======>.......................] - ETA: "), "%s", bar);
    cr_assert(strstr(bar, "\r4/4 [==============================] - "), "%s", bar);
    free(bar);
}

/* ---- callbacks ---- */

/* A loss scaled by a factor per epoch, so the monitored loss has a known best epoch. */
typedef struct scaled {
    int epoch;
    double factor[10];
    ag_tensor *snap[10][4]; /* parameter values after each epoch */
    ag_module *m;
} scaled;

static ag_tensor *scaled_mse(ag_tensor *pred, ag_tensor *y, void *ctx)
{
    scaled *s = ctx;
    return ag_mul_scalar(ag_mse_loss(pred, y, NULL), s->factor[s->epoch]);
}

static bool record_epoch(ag_trainer *t, int epoch, const ag_history *h, void *ctx)
{
    (void)t;
    (void)h;
    scaled *s = ctx;
    for (int i = 0; i < 4; i++) s->snap[epoch][i] = ag_copy(ag_module_param(s->m, i));
    s->epoch = epoch + 1;
    return false;
}

static bool same_values(ag_tensor *a, ag_tensor *b)
{
    for (int64_t i = 0; i < ag_numel(a); i++)
        if (ag_get(a, i) != ag_get(b, i)) return false;
    return true;
}

Test(fit, early_stopping_stops_and_restores_the_best_weights)
{
    ag_dataset *ds = ag_make_regression(64, 3, 0.1, 2, AG_F64, NULL, NULL);
    ag_module *m = mlp(3, 5, 1, AG_ACT_TANH, AG_F64, 8);
    ag_optimizer *opt = sgd(m, 0.01);
    ag_trainer *t = ag_compile(m, opt, AG_LOSS_MSE, 0);
    scaled s = {.factor = {1.0, 0.5, 0.2, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9}, .m = m};
    cr_assert_eq(ag_trainer_set_loss_fn(t, scaled_mse, &s), 0);
    ag_callback *rec = ag_callback_new(record_epoch, &s);
    ag_callback *es = ag_early_stopping(NULL, 2, 0.0, false, true); /* monitors "loss" */
    ag_callback *cbs[2] = {rec, es};
    ag_fit_opts o = quiet(10, 16);
    o.ncallbacks = 2;
    o.callbacks = cbs;
    ag_history *h = fit_ok(t, ds, &o);
    /* Best epoch 2; epochs 3 and 4 do not improve: patience 2 stops after epoch 4. */
    cr_assert_eq(ag_history_epochs(h), 5);
    cr_assert(ag_history_stopped_early(h));
    cr_assert_lt(ag_history_get(h, "loss", 2), ag_history_get(h, "loss", 3));
    for (int i = 0; i < 4; i++)
        cr_assert(same_values(ag_module_param(m, i), s.snap[2][i]), "param %d not restored", i);
    cr_assert(!same_values(ag_module_param(m, 0), s.snap[4][0]), "training changed weights");
    for (int e = 0; e < 5; e++)
        for (int i = 0; i < 4; i++) ag_tensor_free(s.snap[e][i]);
    ag_history_free(h);

    /* Without restore the weights are those of the last epoch. */
    s.epoch = 0;
    ag_callback *es2 = ag_early_stopping("loss", 2, 0.0, false, false);
    cbs[1] = es2;
    h = fit_ok(t, ds, &o);
    cr_assert_eq(ag_history_epochs(h), 5);
    for (int i = 0; i < 4; i++) cr_assert(same_values(ag_module_param(m, i), s.snap[4][i]));
    for (int e = 0; e < 5; e++)
        for (int i = 0; i < 4; i++) ag_tensor_free(s.snap[e][i]);
    ag_history_free(h);

    ag_callback_free(rec);
    ag_callback_free(es);
    ag_callback_free(es2);
    ag_trainer_free(t);
    ag_optim_free(opt);
    ag_module_free(m);
    ag_dataset_free(ds);
}

static bool stop_at_epoch_1(ag_trainer *t, int epoch, const ag_history *h, void *ctx)
{
    (void)t;
    (void)ctx;
    cr_assert_eq(ag_history_epochs(h), epoch + 1, "the row is recorded before callbacks");
    return epoch == 1;
}

Test(fit, user_callback_stops_and_checkpoint_writes_a_loadable_file)
{
    ag_dataset *ds = xor_data(AG_F32);
    ag_module *m = mlp(2, 4, 2, AG_ACT_TANH, AG_F32, 3);
    ag_optimizer *opt = adam(m, 0.01);
    ag_trainer *t = ag_compile(m, opt, AG_LOSS_CROSS_ENTROPY, AG_METRIC_ACCURACY);
    char path[64];
    snprintf(path, sizeof path, "/tmp/ag_test_fit_ckpt_%d.safetensors", (int)getpid());
    ag_callback *ck = ag_model_checkpoint(path, NULL, false, false);
    ag_callback *stop = ag_callback_new(stop_at_epoch_1, NULL);
    ag_callback *cbs[2] = {ck, stop};
    ag_fit_opts o = quiet(5, 2);
    o.ncallbacks = 2;
    o.callbacks = cbs;
    ag_history *h = fit_ok(t, ds, &o);
    cr_assert_eq(ag_history_epochs(h), 2);
    cr_assert(ag_history_stopped_early(h));

    ag_module *m2 = mlp(2, 4, 2, AG_ACT_TANH, AG_F32, 99);
    ag_optimizer *opt2 = adam(m2, 0.5);
    ag_st_file *file = NULL;
    cr_assert_eq(ag_checkpoint_load(path, m2, opt2, &file), 0, "%s", ag_last_error());
    cr_assert_str_eq(ag_st_meta(file, "epoch"), "2");
    cr_assert_str_eq(ag_st_meta(file, "monitor"), "loss");
    cr_assert_float_eq(atof(ag_st_meta(file, "monitor_value")), ag_history_last(h, "loss"), 0);
    for (int i = 0; i < 4; i++)
        cr_assert(same_values(ag_module_param(m, i), ag_module_param(m2, i)));
    cr_assert_eq(ag_optim_steps(opt2), ag_optim_steps(opt));
    cr_assert_eq(ag_optim_steps(opt), 4);
    ag_st_free(file);
    remove(path);

    /* save_best_only on a column that never improves after the first epoch: one save. */
    ag_callback *best = ag_model_checkpoint(path, "lr", true, true);
    ag_fit_opts o2 = quiet(3, 4);
    o2.ncallbacks = 1;
    o2.callbacks = &best;
    ag_history *h2 = fit_ok(t, ds, &o2);
    cr_assert_eq(ag_checkpoint_load(path, m2, opt2, &file), 0, "%s", ag_last_error());
    cr_assert_str_eq(ag_st_meta(file, "epoch"), "1");
    ag_st_free(file);
    remove(path);

    ag_history_free(h);
    ag_history_free(h2);
    ag_callback_free(ck);
    ag_callback_free(best);
    ag_callback_free(stop);
    ag_trainer_free(t);
    ag_optim_free(opt);
    ag_optim_free(opt2);
    ag_module_free(m);
    ag_module_free(m2);
    ag_dataset_free(ds);
}

/* ---- divergence ---- */

static ag_tensor *nan_at_call_7(ag_tensor *pred, ag_tensor *y, void *ctx)
{
    int *calls = ctx;
    ag_tensor *l = ag_mse_loss(pred, y, NULL);
    return ++*calls == 7 ? ag_mul_scalar(l, NAN) : l;
}

Test(fit, a_nan_loss_stops_training_with_a_diverged_history)
{
    ag_dataset *ds = ag_make_regression(16, 2, 0.0, 3, AG_F64, NULL, NULL);
    ag_module *m = mlp(2, 3, 1, AG_ACT_TANH, AG_F64, 1);
    ag_optimizer *opt = sgd(m, 0.01);
    ag_trainer *t = ag_compile(m, opt, AG_LOSS_MSE, AG_METRIC_MAE);
    int calls = 0;
    ag_trainer_set_loss_fn(t, nan_at_call_7, &calls);
    ag_fit_opts o = quiet(5, 4); /* 4 steps per epoch: call 7 is epoch 2, step 3 */
    ag_clear_error();
    ag_history *h = fit_ok(t, ds, &o);
    cr_assert(ag_history_diverged(h));
    cr_assert_eq(ag_history_epochs(h), 1);
    expect_error_mentions("ag_fit", "nan", "epoch 2", "step 3");
    cr_assert_eq(ag_optim_steps(opt), 6, "no update from the NaN step");
    for (int i = 0; i < ag_module_num_params(m); i++)
        for (int64_t k = 0; k < ag_numel(ag_module_param(m, i)); k++)
            cr_assert(isfinite(ag_get(ag_module_param(m, i), k)));
    ag_history_free(h);
    ag_trainer_free(t);
    ag_optim_free(opt);

    /* A learning rate far too large makes plain MSE regression explode to inf/NaN. */
    ag_optimizer *big = sgd(m, 1e6);
    ag_trainer *t2 = ag_compile(m, big, AG_LOSS_MSE, 0);
    ag_fit_opts o2 = quiet(50, 4);
    h = fit_ok(t2, ds, &o2);
    cr_assert(ag_history_diverged(h));
    cr_assert_lt(ag_history_epochs(h), 50);
    ag_history_free(h);
    ag_trainer_free(t2);
    ag_optim_free(big);
    ag_module_free(m);
    ag_dataset_free(ds);
}

/* ---- evaluate, predict, argmax ---- */

Test(fit, evaluate_and_predict_values)
{
    ag_dense_opts dop = {.dtype = AG_F64};
    ag_module *d = ag_dense(3, 2, &dop, NULL);
    ag_module *m = ag_sequential(1, &d);
    /* W = [[1, 2, 3], [-1, 0, 1]], b = [0.5, -0.5] */
    const double w[] = {1, 2, 3, -1, 0, 1}, b[] = {0.5, -0.5};
    for (int i = 0; i < 6; i++) ag_set(ag_module_param_by_name(m, "0.weight"), i, w[i]);
    for (int i = 0; i < 2; i++) ag_set(ag_module_param_by_name(m, "0.bias"), i, b[i]);
    double xv[15];
    for (int i = 0; i < 15; i++) xv[i] = 0.5 * i - 3;
    ag_tensor *x = T64(5, 3, xv);
    double expect[10];
    for (int r = 0; r < 5; r++)
        for (int c = 0; c < 2; c++)
            expect[r * 2 + c] = b[c] + w[c * 3] * xv[r * 3] + w[c * 3 + 1] * xv[r * 3 + 1] +
                                w[c * 3 + 2] * xv[r * 3 + 2];
    ag_module_train(m, true);
    ag_tensor *p = ag_predict(m, x, 2); /* batches of 2, 2, 1 */
    expect_shape(p, 2, (int64_t[]){5, 2});
    expect_values(p, expect, 10, 1e-14);
    cr_assert(!ag_requires_grad(p));
    cr_assert(ag_module_is_training(m), "training mode restored");
    ag_tensor_free(p);

    /* Inside a caller scope the prediction belongs to the scope. */
    int64_t live = ag_memory_get_stats().live_tensors;
    ag_scope *s = ag_scope_begin();
    p = ag_predict(m, x, 4);
    cr_assert_eq(ag_scope_size(s), 1);
    ag_scope_end(s);
    cr_assert_eq(ag_memory_get_stats().live_tensors, live);

    /* evaluate: MSE against targets y, metrics mse and mae computed by hand. */
    double yv[10], se = 0, ae = 0;
    for (int i = 0; i < 10; i++) {
        yv[i] = (i % 3) - 1.0;
        se += (expect[i] - yv[i]) * (expect[i] - yv[i]);
        ae += fabs(expect[i] - yv[i]);
    }
    ag_dataset *ds = ag_dataset_new(ag_copy(x), T64(5, 2, yv), 0);
    ag_optimizer *opt = sgd(m, 0.1);
    ag_trainer *t = ag_compile(m, opt, AG_LOSS_MSE, AG_METRIC_MAE | AG_METRIC_MSE);
    double loss, met[2];
    cr_assert_eq(ag_evaluate(t, ds, 3, &loss, met), 0, "%s", ag_last_error());
    cr_assert_float_eq(loss, se / 10, 1e-12);
    cr_assert_float_eq(met[0], se / 10, 1e-12, "mse comes first");
    cr_assert_float_eq(met[1], ae / 10, 1e-12);
    cr_assert(ag_module_is_training(m));

    /* argmax: first index on ties. */
    ag_tensor *a = T64(3, 3, ((double[]){1, 3, 3, -1, -2, -3, 0, 0, 5}));
    int64_t cls[3];
    cr_assert_eq(ag_argmax_rows(a, cls), 0);
    cr_assert(cls[0] == 1 && cls[1] == 0 && cls[2] == 2);
    ag_clear_error();
    cr_assert_eq(ag_argmax_rows(x, NULL), -1);
    expect_error_mentions("ag_argmax_rows", "out");
    cr_assert_eq(ag_argmax_rows(ag_module_param_by_name(m, "0.bias"), cls), -1);
    expect_error_mentions("ag_argmax_rows", "[2]");

    ag_tensor_free(a);
    ag_trainer_free(t);
    ag_optim_free(opt);
    ag_dataset_free(ds);
    ag_tensor_free(x);
    ag_module_free(m);
}

Test(fit, accuracy_with_one_hot_targets_and_binary_predictions)
{
    /* Fixed logits through a model-free check: one-hot and index targets give the same accuracy. */
    ag_dataset *ds = ag_make_blobs(60, 4, 3, 0.5, 3.0, 2, AG_F64);
    ag_module *m = mlp(4, 8, 3, AG_ACT_TANH, AG_F64, 6);
    ag_optimizer *opt = adam(m, 0.02);
    ag_trainer *t = ag_compile(m, opt, AG_LOSS_CROSS_ENTROPY, AG_METRIC_ACCURACY);
    ag_fit_opts o = quiet(20, 10);
    ag_history_free(fit_ok(t, ds, &o));
    ag_dataset *oh = ag_dataset_new(ag_copy(ds->x), ag_one_hot(ds->y, 3), 0);
    cr_assert(oh, "%s", ag_last_error());
    double a1, a2, l1, l2;
    ag_evaluate(t, ds, 7, &l1, &a1);
    ag_evaluate(t, oh, 7, &l2, &a2);
    cr_assert_float_eq(a1, a2, 1e-15);
    cr_assert_float_eq(l1, l2, 1e-12);
    cr_assert_float_eq(a1, accuracy_of(m, ds), 1e-15);
    cr_assert_gt(a1, 0.9);
    ag_dataset_free(oh);
    ag_trainer_free(t);
    ag_optim_free(opt);
    ag_module_free(m);
    ag_dataset_free(ds);
}

/* ---- schedules, resuming, determinism, memory ---- */

Test(fit, scheduler_sets_the_lr_column)
{
    ag_dataset *ds = xor_data(AG_F64);
    ag_module *m = mlp(2, 4, 2, AG_ACT_TANH, AG_F64, 3);
    ag_optimizer *opt = sgd(m, 0.1);
    ag_scheduler *s = ag_sched_step_lr(opt, 1, 0.5);
    ag_trainer *t = ag_compile(m, opt, AG_LOSS_CROSS_ENTROPY, 0);
    ag_fit_opts o = quiet(3, 4);
    o.scheduler = s;
    ag_history *h = fit_ok(t, ds, &o);
    cr_assert_float_eq(ag_history_get(h, "lr", 0), 0.1, 1e-15);
    cr_assert_float_eq(ag_history_get(h, "lr", 1), 0.05, 1e-15);
    cr_assert_float_eq(ag_history_get(h, "lr", 2), 0.025, 1e-15);
    cr_assert_float_eq(ag_optim_get_lr(opt), 0.0125, 1e-15);
    ag_history_free(h);
    ag_sched_free(s);
    /* A plateau schedule with patience 0 on a loss that cannot improve (lr 0): cut every epoch
     * after the first. */
    ag_optim_set_lr(opt, 0.0);
    ag_scheduler *p = ag_sched_plateau(opt, 0.1, 0, 1e-4, 0, 0);
    ag_optim_set_lr(opt, 0.0);
    o.scheduler = p;
    h = fit_ok(t, ds, &o);
    cr_assert_eq(ag_history_epochs(h), 3);
    ag_history_free(h);
    ag_sched_free(p);
    ag_trainer_free(t);
    ag_optim_free(opt);
    ag_module_free(m);
    ag_dataset_free(ds);
}

/* Trains the seed-like model with the given epochs; returns history (model/opt returned). */
static ag_history *small_run(ag_module **m, ag_optimizer **opt, ag_trainer **t,
                             const ag_dataset *ds, int initial, int epochs)
{
    if (!*m) {
        *m = mlp(5, 8, 3, AG_ACT_RELU, AG_F64, 21);
        *opt = adam(*m, 0.01);
        *t = ag_compile(*m, *opt, AG_LOSS_CROSS_ENTROPY, AG_METRIC_ACCURACY);
    }
    ag_fit_opts o = quiet(epochs, 16);
    o.initial_epoch = initial;
    o.seed = 77;
    o.validation_split = 0.2;
    return fit_ok(*t, ds, &o);
}

static void free_run(ag_module *m, ag_optimizer *opt, ag_trainer *t)
{
    ag_trainer_free(t);
    ag_optim_free(opt);
    ag_module_free(m);
}

Test(fit, same_seed_same_history_and_resume_replays_shuffles)
{
    ag_dataset *ds = ag_make_blobs(100, 5, 3, 2.0, 1.0, 4, AG_F64);
    ag_module *m1 = NULL, *m2 = NULL, *m3 = NULL;
    ag_optimizer *o1, *o2, *o3;
    ag_trainer *t1, *t2, *t3;
    ag_history *h1 = small_run(&m1, &o1, &t1, ds, 0, 4);
    ag_history *h2 = small_run(&m2, &o2, &t2, ds, 0, 4);
    ag_history *a = small_run(&m3, &o3, &t3, ds, 0, 2);
    ag_history *b = small_run(&m3, &o3, &t3, ds, 2, 4);
    cr_assert_eq(ag_history_first_epoch(b), 2);
    cr_assert_eq(ag_history_epochs(b), 2);
    const char *cols[] = {"loss", "accuracy", "val_loss", "val_accuracy", "lr"};
    for (int e = 0; e < 4; e++)
        for (int c = 0; c < 5; c++) {
            double v1 = ag_history_get(h1, cols[c], e);
            cr_assert_eq(v1, ag_history_get(h2, cols[c], e), "%s at %d", cols[c], e);
            cr_assert_eq(v1, ag_history_get(e < 2 ? a : b, cols[c], e), "resumed %s at %d",
                         cols[c], e);
        }
    for (int i = 0; i < 4; i++) {
        cr_assert(same_values(ag_module_param(m1, i), ag_module_param(m2, i)));
        cr_assert(same_values(ag_module_param(m1, i), ag_module_param(m3, i)));
    }
    ag_history_free(h1);
    ag_history_free(h2);
    ag_history_free(a);
    ag_history_free(b);
    free_run(m1, o1, t1);
    free_run(m2, o2, t2);
    free_run(m3, o3, t3);
    ag_dataset_free(ds);
}

static bool record_live(ag_trainer *t, int epoch, const ag_history *h, void *ctx)
{
    (void)t;
    (void)h;
    ((int64_t *)ctx)[epoch] = ag_memory_get_stats().live_tensors;
    return false;
}

Test(fit, many_steps_keep_the_live_tensor_count_flat)
{
    ag_dataset *ds = ag_make_blobs(256, 10, 4, 1.0, 2.0, 3, AG_F32);
    ag_module *m = mlp(10, 16, 4, AG_ACT_RELU, AG_F32, 1);
    ag_optimizer *opt = adam(m, 1e-3);
    ag_trainer *t = ag_compile(m, opt, AG_LOSS_CROSS_ENTROPY, AG_METRIC_ACCURACY | AG_METRIC_MSE);
    int64_t live[8] = {0};
    ag_callback *cb = ag_callback_new(record_live, live);
    ag_fit_opts o = quiet(8, 8); /* 8 x 29 steps */
    o.validation_split = 0.1;
    o.ncallbacks = 1;
    o.callbacks = &cb;
    int64_t before = ag_memory_get_stats().live_tensors;
    ag_history *h = fit_ok(t, ds, &o);
    for (int e = 1; e < 8; e++) cr_assert_eq(live[e], live[0], "epoch %d: %lld vs %lld", e,
                                              (long long)live[e], (long long)live[0]);
    /* After the fit only the parameters' gradients remain (4 tensors). */
    cr_assert_eq(ag_memory_get_stats().live_tensors, before + 4);
    ag_history_free(h);
    /* Inside a caller's scope: nothing of the fit is left in it, nothing leaks past it. */
    ag_scope *s = ag_scope_begin();
    o.epochs = 2;
    h = fit_ok(t, ds, &o);
    cr_assert_eq(ag_scope_size(s), 0);
    ag_scope_end(s);
    cr_assert_eq(ag_memory_get_stats().live_tensors, before + 4);
    ag_history_free(h);
    ag_callback_free(cb);
    ag_trainer_free(t);
    ag_optim_free(opt);
    ag_module_free(m);
    ag_dataset_free(ds);
}

/* ---- errors ---- */

Test(fit, argument_errors_name_the_function_and_values)
{
    ag_dataset *ds = xor_data(AG_F32), *ds64 = xor_data(AG_F64);
    ag_module *m = mlp(2, 4, 2, AG_ACT_TANH, AG_F32, 3);
    ag_module *other = mlp(2, 4, 2, AG_ACT_TANH, AG_F32, 3);
    ag_optimizer *opt = adam(m, 0.01), *oopt = adam(other, 0.01);
    ag_clear_error();
    cr_assert_null(ag_compile(NULL, opt, AG_LOSS_MSE, 0));
    expect_error_mentions("ag_compile", "model");
    cr_assert_null(ag_compile(m, NULL, AG_LOSS_MSE, 0));
    expect_error_mentions("ag_compile", "optimizer");
    cr_assert_null(ag_compile(m, opt, (ag_loss_kind)42, 0));
    expect_error_mentions("ag_compile", "42");
    cr_assert_null(ag_compile(m, opt, AG_LOSS_MSE, 64));
    expect_error_mentions("ag_compile", "0x40");
    cr_assert_null(ag_compile(m, oopt, AG_LOSS_MSE, 0));
    expect_error_mentions("ag_compile", "not a parameter of the model");

    ag_trainer *t = ag_compile(m, opt, AG_LOSS_CROSS_ENTROPY, AG_METRIC_ACCURACY);
    ag_loss_opts lo = {.reduction = AG_REDUCE_SUM};
    cr_assert_eq(ag_trainer_set_loss_opts(t, &lo), -1);
    expect_error_mentions("ag_trainer_set_loss_opts", "reduction");
    cr_assert_eq(ag_trainer_set_loss_fn(t, NULL, NULL), -1);
    expect_error_mentions("ag_trainer_set_loss_fn", "fn");

    ag_fit_opts o = quiet(1, 2);
    cr_assert_null(ag_fit(NULL, ds, &o));
    expect_error_mentions("ag_fit", "trainer");
    cr_assert_null(ag_fit(t, NULL, &o));
    expect_error_mentions("ag_fit", "NULL");
    cr_assert_null(ag_fit(t, ds64, &o));
    expect_error_mentions("ag_fit", "float64", "float32", "[4,2]");
    o.batch_size = 0;
    cr_assert_null(ag_fit(t, ds, &o));
    expect_error_mentions("ag_fit", "batch_size 0");
    o = quiet(-1, 2);
    cr_assert_null(ag_fit(t, ds, &o));
    expect_error_mentions("ag_fit", "epochs -1");
    o = quiet(2, 2);
    o.initial_epoch = 3;
    cr_assert_null(ag_fit(t, ds, &o));
    expect_error_mentions("ag_fit", "initial_epoch 3");
    o = quiet(1, 2);
    o.validation_split = 1.0;
    cr_assert_null(ag_fit(t, ds, &o));
    expect_error_mentions("ag_fit", "validation_split 1");
    o.validation_split = 0.1; /* 4 examples: round(3.6) = 4 leave no validation example */
    cr_assert_null(ag_fit(t, ds, &o));
    expect_error_mentions("ag_fit", "validation_split 0.1", "4 examples");
    o = quiet(1, 2);
    o.ncallbacks = 1;
    cr_assert_null(ag_fit(t, ds, &o));
    expect_error_mentions("ag_fit", "callbacks", "NULL");
    ag_callback *es = ag_early_stopping("val_accuracy", 1, 0, true, false);
    o.callbacks = &es;
    cr_assert_null(ag_fit(t, ds, &o)); /* no validation data: no val_accuracy column */
    expect_error_mentions("ag_fit", "val_accuracy", "loss, accuracy, lr, seconds");
    cr_assert_null(ag_early_stopping(NULL, -1, 0, false, false));
    expect_error_mentions("ag_early_stopping", "patience -1");
    cr_assert_null(ag_model_checkpoint(NULL, NULL, false, false));
    expect_error_mentions("ag_model_checkpoint", "path");
    cr_assert_null(ag_callback_new(NULL, NULL));
    expect_error_mentions("ag_callback_new", "fn");

    /* A checkpoint that cannot be written stops the fit with an error naming the epoch. */
    ag_callback *bad = ag_model_checkpoint("/nonexistent-dir/x.safetensors", NULL, false, false);
    o.callbacks = &bad;
    cr_assert_null(ag_fit(t, ds, &o));
    expect_error_mentions("ag_fit", "checkpoint", "epoch 1");

    /* Targets that do not fit the loss: the step's error names epoch and step. */
    ag_dataset *wide = ag_dataset_new(ag_copy(ds->x), ag_zeros(AG_F32, 2, (int64_t[]){4, 3}), 0);
    o = quiet(1, 2);
    cr_assert_null(ag_fit(t, wide, &o));
    expect_error_mentions("ag_fit", "epoch 1, step 1", "ag_cross_entropy");

    ag_trainer *custom = ag_compile(m, opt, AG_LOSS_CUSTOM, 0);
    cr_assert_null(ag_fit(custom, ds, &o));
    expect_error_mentions("ag_fit", "AG_LOSS_CUSTOM", "ag_trainer_set_loss_fn");

    double l;
    cr_assert_eq(ag_evaluate(t, ds, 0, &l, NULL), -1);
    expect_error_mentions("ag_evaluate", "batch_size 0");
    cr_assert_eq(ag_evaluate(NULL, ds, 1, &l, NULL), -1);
    expect_error_mentions("ag_evaluate", "trainer");
    cr_assert_eq(ag_evaluate(t, ds64, 1, &l, NULL), -1);
    expect_error_mentions("ag_evaluate", "float64");
    cr_assert_null(ag_predict(m, NULL, 4));
    expect_error_mentions("ag_predict", "x");
    cr_assert_null(ag_predict(m, ds->x, 0));
    expect_error_mentions("ag_predict", "batch_size 0");
    cr_assert_null(ag_predict(m, ds64->x, 4));
    expect_error_mentions("ag_predict", "float64", "float32");
    ag_tensor *three = ag_zeros(AG_F32, 2, (int64_t[]){4, 3});
    cr_assert_null(ag_predict(m, three, 4));
    expect_error_mentions("[4,3]");
    cr_assert(isnan(ag_history_last(NULL, "loss")));
    expect_error_mentions("ag_history_last", "NULL");

    ag_tensor_free(three);
    ag_dataset_free(wide);
    ag_callback_free(es);
    ag_callback_free(bad);
    ag_trainer_free(custom);
    ag_trainer_free(t);
    ag_optim_free(opt);
    ag_optim_free(oopt);
    ag_module_free(m);
    ag_module_free(other);
    ag_dataset_free(ds);
    ag_dataset_free(ds64);
}
