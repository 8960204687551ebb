/* tests/test_api_limits.c - regressions from the review of nn/ and optim/: huge sizes that used to
 * overflow (UBSan), datasets built by hand with missing or inconsistent tensors, errors that
 * must name the public function called, and threads that train and save at the same time (as
 * tune/ does). Memory on success and failure paths is in test_api_memory.c.
 *
 * Expected values come from the definitions: batch counts by hand, lr sequences from the
 * schedule's formula, and a run on one thread as the reference for runs on several.
 */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#include "api_test_util.h"

/* ---- huge values: errors or correct results, never an overflow ---- */

Test(limits, huge_fans_batch_sizes_epochs_and_t_max)
{
    ag_tensor *w = ag_zeros(AG_F64, 1, (int64_t[]){3});
    cr_assert_eq(ag_init_fill(w, AG_INIT_GLOROT_UNIFORM, INT64_MAX, INT64_MAX, NULL), 0, "%s",
                 ag_last_error());
    cr_assert_eq(ag_init_fill(w, AG_INIT_GLOROT_NORMAL, 0, INT64_MAX, NULL), 0);
    for (int i = 0; i < 3; i++) cr_assert(fabs(ag_get(w, i)) < 1e-8, "tiny weights for huge fans");

    ag_dataset *ds = rows_dataset(5, AG_F32);
    int64_t sizes[][3] = {{INT64_MAX, 1, 0}, {2, 3, 2}, {5, 1, 1}, {4, 2, 1}};
    for (int i = 0; i < 4; i++) {
        ag_batcher *b = ag_batcher_new(ds, sizes[i][0], false, 0, false);
        cr_assert_eq(ag_batcher_num_batches(b), sizes[i][1], "batch %lld", (long long)sizes[i][0]);
        ag_batcher_free(b);
        if (sizes[i][0] > 5) continue;
        b = ag_batcher_new(ds, sizes[i][0], false, 0, true);
        cr_assert_eq(ag_batcher_num_batches(b), sizes[i][2], "drop_last %lld",
                     (long long)sizes[i][0]);
        ag_batcher_free(b);
    }

    ag_module *m;
    ag_optimizer *o;
    ag_trainer *t = dense_trainer(&m, &o, 1);
    ag_fit_opts fo = ag_fit_defaults();
    fo.verbose = AG_VERBOSE_SILENT;
    fo.batch_size = INT64_MAX;
    fo.epochs = 2;
    ag_history *h = ag_fit(t, ds, &fo);
    cr_assert(h, "%s", ag_last_error());
    cr_assert_eq(ag_optim_steps(o), 2, "one batch per epoch");
    double v = ag_history_get(h, "loss", INT_MIN);
    cr_assert(isnan(v));
    expect_error_mentions("ag_history_get", "out of range");
    cr_assert(isnan(ag_history_get(h, "loss", INT_MAX)));

    /* cosine with t_max = INT_MAX: lr = base * (1 + cos(pi e / T)) / 2, barely below base */
    ag_scheduler *s = ag_sched_cosine(o, INT_MAX, 0);
    cr_assert(s, "%s", ag_last_error());
    double base = ag_optim_get_lr(o);
    for (int e = 1; e <= 3; e++) {
        cr_assert_eq(ag_sched_step(s), 0, "%s", ag_last_error());
        double want = base * (1 + cos(3.141592653589793 * e / INT_MAX)) / 2;
        cr_assert(fabs(ag_optim_get_lr(o) - want) <= 1e-15 * base, "epoch %d", e);
    }
    ag_sched_free(s);

    cr_assert_null(ag_dense(INT64_MAX / 2, 4, NULL, NULL));
    expect_error_mentions("ag_dense: ", "Dense(4611686018427387903 -> 4)", "too large");
    ag_history_free(h);
    ag_trainer_free(t);
    ag_optim_free(o);
    ag_module_free(m);
    ag_dataset_free(ds);
    ag_tensor_free(w);
}

Test(limits, a_schedule_that_overflows_the_lr_fails_and_changes_nothing)
{
    ag_tensor *p = ag_zeros(AG_F64, 1, (int64_t[]){1});
    ag_set_requires_grad(p, true);
    ag_optimizer *o = ag_gd_new(1, &p, 1.0);
    ag_scheduler *s = ag_sched_exponential(o, 1e300);
    cr_assert_eq(ag_sched_step(s), 0);
    cr_assert_eq(ag_optim_get_lr(o), 1e300);
    cr_assert_eq(ag_sched_step(s), -1, "1e600 is not a learning rate");
    expect_error_mentions("ag_sched_step: ", "epoch 2", "inf", "1e+300");
    cr_assert_eq(ag_optim_get_lr(o), 1e300, "lr unchanged");
    cr_assert_eq(ag_sched_epoch(s), 1, "the failed step is not counted");
    ag_sched_free(s);
    ag_optim_free(o);
    ag_tensor_free(p);
}

/* ---- datasets built by hand (the struct is public) ---- */

Test(limits, hand_built_datasets_are_checked_before_their_rows_are_read)
{
    ag_tensor *x = ag_zeros(AG_F32, 2, (int64_t[]){4, 2});
    ag_tensor *y3 = ag_zeros(AG_F32, 1, (int64_t[]){3}), *y64 = ag_zeros(AG_F64, 1, (int64_t[]){4});
    ag_dataset bad[] = {{x, NULL, 0}, {NULL, y3, 0}, {x, y3, 2}, {x, y64, 2}};
    ag_module *m;
    ag_optimizer *o;
    ag_trainer *t = dense_trainer(&m, &o, 2);
    ag_fit_opts fo = ag_fit_defaults();
    fo.verbose = AG_VERBOSE_SILENT;
    int64_t before = live();
    for (int i = 0; i < 4; i++) {
        ag_dataset *a = NULL, *b = NULL;
        double loss;
        cr_assert_lt(ag_dataset_size(&bad[i]), 0);
        expect_error_mentions("ag_dataset_size: dataset ", "ag_dataset_new");
        cr_assert_null(ag_batcher_new(&bad[i], 2, true, 0, false));
        expect_error_mentions("ag_batcher_new");
        cr_assert_null(ag_dataset_subset(&bad[i], (int64_t[]){3}, 1));
        cr_assert_lt(ag_dataset_split(&bad[i], 0.5, true, 0, &a, &b), 0);
        cr_assert_null(ag_dataset_cast(&bad[i], AG_F64));
        cr_assert_null(ag_fit(t, &bad[i], &fo));
        expect_error_mentions("ag_fit: training dataset");
        cr_assert_lt(ag_evaluate(t, &bad[i], 2, &loss, NULL), 0);
        expect_error_mentions("ag_evaluate: evaluation dataset");
        cr_assert_eq(live(), before);
    }
    ag_trainer_free(t);
    ag_optim_free(o);
    ag_module_free(m);
    ag_tensor_free(x);
    ag_tensor_free(y3);
    ag_tensor_free(y64);
}

/* ---- threads: several trainings and saves at once, as tune/ runs trials ---- */

typedef struct trial {
    uint64_t seed;
    const char *path;
    double loss[3];
    int save_failures;
} trial;

static void *run_trial(void *arg)
{
    trial *tr = arg;
    ag_dataset *ds = ag_make_spirals(30, 3, 0.1, 5, AG_F64);
    ag_rng r = ag_rng_seed(tr->seed);
    ag_dense_opts d1 = {.activation = AG_ACT_RELU, .dtype = AG_F64}, d2 = {.dtype = AG_F64};
    ag_module *m = ag_sequential(3, (ag_module *[]){ag_dense(2, 16, &d1, &r),
                                                     ag_dropout(0.1, tr->seed),
                                                     ag_dense(16, 3, &d2, &r)});
    ag_optimizer *o = ag_adam_new(ag_module_num_params(m), ag_module_params(m), NULL);
    ag_trainer *t = ag_compile(m, o, AG_LOSS_CROSS_ENTROPY, 0);
    ag_fit_opts fo = ag_fit_defaults();
    fo.verbose = AG_VERBOSE_SILENT;
    fo.epochs = 3;
    fo.batch_size = 16;
    fo.seed = tr->seed;
    ag_history *h = ag_fit(t, ds, &fo);
    for (int e = 0; e < 3; e++) tr->loss[e] = ag_history_get(h, "loss", e);
    for (int i = 0; tr->path && i < 10; i++)
        tr->save_failures += ag_module_save(m, tr->path) != 0;
    ag_history_free(h);
    ag_trainer_free(t);
    ag_optim_free(o);
    ag_module_free(m);
    ag_dataset_free(ds);
    ag_memory_trim(); /* this thread's buffer cache goes with the thread */
    return NULL;
}

Test(limits, concurrent_trials_match_serial_ones_and_saves_to_one_path_stay_whole)
{
    enum { N = 3 };
    char path[80];
    snprintf(path, sizeof path, "/tmp/ag_test_limits_%d.safetensors", (int)getpid());
    trial serial[N], parallel[N];
    pthread_t th[N];
    for (int i = 0; i < N; i++) {
        serial[i] = (trial){.seed = 11 + (uint64_t)i};
        run_trial(&serial[i]);
        parallel[i] = (trial){.seed = 11 + (uint64_t)i, .path = path};
    }
#ifdef _OPENMP
    /* as tune/ runs trials: one per OpenMP thread (the pool's threads outlive the test, which
     * also keeps autograd/backward.c's per-thread work arrays reachable: see the review notes) */
    (void)th;
#pragma omp parallel for num_threads(N) schedule(static, 1)
    for (int i = 0; i < N; i++) run_trial(&parallel[i]);
#else
    for (int i = 0; i < N; i++)
        cr_assert_eq(pthread_create(&th[i], NULL, run_trial, &parallel[i]), 0);
    for (int i = 0; i < N; i++) pthread_join(th[i], NULL);
#endif
    for (int i = 0; i < N; i++) {
        cr_assert_eq(parallel[i].save_failures, 0, "trial %d: a save to the shared path failed", i);
        for (int e = 0; e < 3; e++)
            cr_assert(parallel[i].loss[e] == serial[i].loss[e] && isfinite(serial[i].loss[e]),
                      "trial %d epoch %d: %.17g on a thread, %.17g alone", i, e,
                      parallel[i].loss[e], serial[i].loss[e]);
    }
    ag_st_file *f = ag_safetensors_load(path);
    cr_assert(f, "the last save left a whole file: %s", ag_last_error());
    cr_assert_eq(ag_st_count(f), 4);
    ag_st_free(f);
    remove(path);
    char tmp[120];
    for (int k = 0; k < 3; k++) {
        snprintf(tmp, sizeof tmp, "%s.tmp.%d.%d", path, (int)getpid(), k);
        cr_assert_neq(access(tmp, F_OK), 0, "temporary file %s left behind", tmp);
    }
}

Test(limits, errors_raised_inside_predict_start_with_ag_predict)
{
    ag_module *m = ag_dense(2, 2, NULL, NULL);
    ag_tensor *x3 = ag_zeros(AG_F32, 3, (int64_t[]){5, 2, 1});
    ag_tensor *x = ag_zeros(AG_F32, 2, (int64_t[]){5, 2});
    cr_assert_null(ag_predict(m, x3, 2));
    expect_error_mentions("ag_predict: rows [0, 2): ag_module_forward: ", "[2,2,1]");
    ag_tensor *p = ag_predict(m, x, 2);
    cr_assert(p, "%s", ag_last_error());
    ag_tensor_free(p);
    ag_tensor_free(x3);
    ag_tensor_free(x);
    ag_module_free(m);
}
