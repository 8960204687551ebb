/* tests/test_fit_train.c - the training loop learns: a hand-written loop and ag_fit learn XOR,
 * spirals and the seed's 100-feature classifier; history values agree with ag_evaluate; the
 * validation split; progress output formats; evaluate/predict values and accuracy. Callbacks,
 * divergence, schedules, resuming, memory and argument errors are in test_fit_callbacks.c.
 *
 * Expected values are independent of the code under test: hand-computed outputs of a layer with
 * chosen weights, accuracy targets from the task definitions, and the loop's own invariants
 * (a zero learning rate leaves the model fixed, so a fit's epoch loss must equal an evaluation).
 */
#include <stdio.h>
#include <unistd.h>

#include "fit_test_util.h"

/* ---- helpers ---- */

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

    setenv("COLUMNS", "200", 1); /* a live bar off a terminal is as wide as $COLUMNS says */
    char *bar = run_verbose(AG_VERBOSE_BAR, false);
    cr_assert(strstr(bar, "\r1/4 [======>.......................] - ETA: "), "%s", bar);
    cr_assert(strstr(bar, "\r4/4 [==============================] - "), "%s", bar);
    free(bar);
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
