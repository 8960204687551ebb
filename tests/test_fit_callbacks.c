/* tests/test_fit_callbacks.c - what controls a fit: early stopping (with best weights
 * restored), user callbacks and checkpoints, divergence, schedules, resuming and determinism,
 * flat memory over many steps, and argument errors. How well the loop learns is in
 * test_fit_train.c.
 *
 * Expected values are independent of the code under test: hand-computed outputs of a layer with
 * chosen weights, accuracy targets from the task definitions, and the loop's own invariants
 * (a zero learning rate leaves the model fixed, so a fit's epoch loss must equal an evaluation).
 */
#include <stdio.h>
#include <unistd.h>

#include "fit_test_util.h"

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
