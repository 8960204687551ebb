/* tests/test_tune_cv.c - the cross-validation objective: k-fold splits partition the data and
 * stratify by class, a diverging trial fails without stopping the search, 1 and 2 threads give
 * the same leaderboard, CV scores are fold means and the refit learns, a custom model builder,
 * and misuse of the CV options is an error naming the option.
 *
 * Expected values come from the definitions (counts of grid points, fractions 1/eta, fold sizes
 * n/k, the decades of a log-uniform law), not from the code under test. Objectives are either
 * closed-form functions of the values (no training) or tiny models on ag_make_blobs data.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "tune_test_util.h"

/* ---- helpers ---- */

static ag_dataset *blobs(int64_t n, uint64_t seed)
{
    ag_dataset *ds = ag_make_blobs(n, 4, 3, 1.0, 4.0, seed, AG_F32);
    cr_assert(ds, "%s", ag_last_error());
    return ds;
}

static ag_cv_opts small_cv(int folds, int epochs)
{
    ag_cv_opts o = ag_cv_defaults();
    o.folds = folds;
    o.epochs = epochs;
    o.hidden = 8;
    o.batch_size = 16;
    o.seed = 5;
    return o;
}

/* ---- k-fold ---- */

Test(tune, kfold_partitions_the_data_in_near_equal_folds)
{
    int fold[23], count[5] = {0};
    cr_assert_eq(ag_kfold(23, 5, true, 3, fold), 0, "%s", ag_last_error());
    for (int i = 0; i < 23; i++) {
        cr_assert(fold[i] >= 0 && fold[i] < 5);
        count[fold[i]]++; /* each example is in exactly one test fold */
    }
    const int want[5] = {5, 5, 5, 4, 4};
    for (int f = 0; f < 5; f++) cr_assert_eq(count[f], want[f], "fold %d has %d", f, count[f]);
    int plain[23];
    cr_assert_eq(ag_kfold(23, 5, false, 0, plain), 0);
    for (int i = 0; i < 23; i++) cr_assert_eq(plain[i], i < 5 ? 0 : i < 10 ? 1 : i < 15 ? 2 : i < 19 ? 3 : 4);
    int again[23];
    cr_assert_eq(ag_kfold(23, 5, true, 3, again), 0);
    cr_assert_eq(memcmp(fold, again, sizeof fold), 0, "the same seed gave other folds");
}

Test(tune, stratified_kfold_keeps_class_proportions_in_every_fold)
{
    /* 60 of class 0, 30 of class 1, 10 of class 2, grouped by class. */
    double y[100], x[100];
    for (int i = 0; i < 100; i++) {
        y[i] = i < 60 ? 0 : i < 90 ? 1 : 2;
        x[i] = i;
    }
    ag_dataset *ds = ag_dataset_new(ag_tensor_from_f64(AG_F32, 2, (int64_t[]){100, 1}, x),
                                    ag_tensor_from_f64(AG_F32, 1, (int64_t[]){100}, y), 3);
    cr_assert(ds, "%s", ag_last_error());
    int fold[100], per[5][3] = {{0}};
    cr_assert_eq(ag_stratified_kfold(ds, 5, true, 1, fold), 0, "%s", ag_last_error());
    for (int i = 0; i < 100; i++) per[fold[i]][(int)y[i]]++;
    for (int f = 0; f < 5; f++) {
        cr_assert_eq(per[f][0], 12, "fold %d class 0: %d", f, per[f][0]);
        cr_assert_eq(per[f][1], 6, "fold %d class 1: %d", f, per[f][1]);
        cr_assert_eq(per[f][2], 2, "fold %d class 2: %d", f, per[f][2]);
    }
    /* The fold's datasets: train + test = everything, in order, nothing twice. */
    ag_dataset *tr, *te;
    cr_assert_eq(ag_fold_split(ds, fold, 5, 2, &tr, &te), 0, "%s", ag_last_error());
    cr_assert_eq(ag_dataset_size(tr), 80);
    cr_assert_eq(ag_dataset_size(te), 20);
    int seen[100] = {0};
    for (int64_t i = 0; i < 80; i++) seen[(int)ag_get(tr->x, i)]++;
    for (int64_t i = 0; i < 20; i++) {
        int row = (int)ag_get(te->x, i);
        seen[row]++;
        cr_assert_eq(fold[row], 2);
        cr_assert_eq(ag_get(te->y, i), y[row]);
    }
    for (int i = 0; i < 100; i++) cr_assert_eq(seen[i], 1, "row %d seen %d times", i, seen[i]);
    ag_dataset_free(tr);
    ag_dataset_free(te);
    ag_dataset_free(ds);
}

/* ---- the cross-validation objective ---- */

Test(tune, a_diverging_trial_is_failed_and_the_search_goes_on)
{
    ag_dataset *ds = blobs(90, 1);
    ag_space *sp = ag_space_new();
    cr_assert_eq(ag_space_add_values(sp, "lr", 3, (double[]){0.05, 1e6, 0.1}), 0);
    ag_cv_opts co = small_cv(3, 2);
    co.optimizer = "sgd";
    ag_cv *cv = ag_cv_new(ds, &co);
    cr_assert(cv, "%s", ag_last_error());
    ag_study_opts o = quiet_opts(0);
    ag_study *s = study(sp, ag_strategy_grid(), &o);
    cr_assert_eq(ag_study_optimize_cv(s, cv), 0, "%s", ag_last_error());
    cr_assert_eq(ag_trial_state_of(ag_study_trial(s, 0)), AG_TRIAL_COMPLETE);
    const ag_trial *bad = ag_study_trial(s, 1);
    cr_assert_eq(ag_trial_state_of(bad), AG_TRIAL_FAILED);
    cr_assert(isnan(ag_trial_score(bad)));
    cr_assert(strstr(ag_trial_message(bad), "diverged"), "message: %s", ag_trial_message(bad));
    cr_assert_eq(ag_trial_state_of(ag_study_trial(s, 2)), AG_TRIAL_COMPLETE, "the search stopped");
    cr_assert_eq(ag_study_rank(s, 1), 3, "a failed trial ranks last");
    ag_study_free(s);
    ag_cv_free(cv);
    ag_space_free(sp);
    ag_dataset_free(ds);
}

/* Everything that must not depend on the thread count, as doubles. */
static int snapshot(const ag_study *s, double *out)
{
    int n = 0;
    for (int i = 0; i < ag_study_num_trials(s); i++) {
        const ag_trial *t = ag_study_trial(s, i);
        out[n++] = ag_trial_state_of(t);
        out[n++] = ag_trial_score(t);
        out[n++] = ag_trial_std(t);
        out[n++] = ag_study_rank(s, i);
        out[n++] = ag_trial_num_reports(t);
        for (int f = 0; f < ag_trial_num_folds(t); f++) out[n++] = ag_trial_fold(t, f);
    }
    return n;
}

Test(tune, one_and_two_threads_give_the_same_leaderboard, .timeout = 60)
{
    ag_dataset *ds = blobs(120, 2);
    ag_space *sp = ag_space_new();
    cr_assert_eq(ag_space_add_float(sp, "lr", 1e-3, 0.3, true), 0);
    cr_assert_eq(ag_space_add_choice(sp, "optimizer", 3, (const char *[]){"sgd", "momentum", "adam"}), 0);
    ag_cv_opts co = small_cv(3, 3);
    co.score = AG_SCORE_ACCURACY;
    ag_cv *cv = ag_cv_new(ds, &co);
    cr_assert(cv, "%s", ag_last_error());
    double snap[2][2][400];
    int len[2][2];
    for (int asha = 0; asha < 2; asha++)
        for (int threads = 1; threads <= 2; threads++) {
            set_threads(threads);
            ag_study_opts o = quiet_opts(21);
            o.direction = AG_MAXIMIZE;
            ag_strategy *st = ag_strategy_random(8);
            if (asha) st = ag_strategy_asha(st, 1, 3, 2);
            ag_study *s = study(sp, st, &o);
            cr_assert_eq(ag_study_optimize_cv(s, cv), 0, "%s", ag_last_error());
            len[asha][threads - 1] = snapshot(s, snap[asha][threads - 1]);
            if (asha) cr_assert(ag_study_count(s, AG_TRIAL_PRUNED) > 0, "nothing was pruned");
            if (threads == 2) {
                cr_assert_eq(len[asha][0], len[asha][1]);
                cr_assert_eq(memcmp(snap[asha][0], snap[asha][1], sizeof(double) * (size_t)len[asha][0]),
                             0, "%s: 1 and 2 threads differ", asha ? "asha" : "random");
                FILE *devnull = fopen("/dev/null", "w");
                cr_assert_eq(ag_study_leaderboard(s, devnull, 0), 0);
                fclose(devnull);
            }
            ag_study_free(s);
        }
    ag_cv_free(cv);
    ag_space_free(sp);
    ag_dataset_free(ds);
}

Test(tune, cv_scores_are_fold_means_and_the_refit_learns)
{
    ag_dataset *ds = blobs(150, 3);
    ag_space *sp = ag_space_new();
    cr_assert_eq(ag_space_add_values(sp, "lr", 2, (double[]){1e-5, 0.05}), 0);
    cr_assert_eq(ag_space_add_choice(sp, "hidden", 1, (const char *[]){"16"}), 0);
    cr_assert_eq(ag_space_add_choice(sp, "activation", 1, (const char *[]){"tanh"}), 0);
    ag_cv_opts co = small_cv(5, 4);
    ag_cv *cv = ag_cv_new(ds, &co);
    cr_assert(cv, "%s", ag_last_error());
    cr_assert_eq(ag_cv_folds(cv), 5);
    char out[4096] = "";
    FILE *f = fmemopen(out, sizeof out, "w");
    ag_study_opts o = ag_study_defaults();
    o.out = f;
    ag_study *s = study(sp, ag_strategy_grid(), &o);
    cr_assert_eq(ag_study_optimize_cv(s, cv), 0, "%s", ag_last_error());
    fclose(f);
    cr_assert(strstr(out, "Fitting 5 folds for each of 2 candidates, totalling 10 fits"), "%s", out);
    cr_assert(strstr(out, "Trial 1 finished with score"), "%s", out);
    cr_assert(strstr(out, "Best is trial 1"), "%s", out);
    for (int i = 0; i < 2; i++) {
        const ag_trial *t = ag_study_trial(s, i);
        cr_assert_eq(ag_trial_num_folds(t), 5);
        double mean = 0, var = 0;
        for (int k = 0; k < 5; k++) mean += ag_trial_fold(t, k) / 5;
        for (int k = 0; k < 5; k++) var += pow(ag_trial_fold(t, k) - mean, 2) / 5;
        cr_assert(fabs(ag_trial_score(t) - mean) < 1e-12, "score %g, fold mean %g",
                  ag_trial_score(t), mean);
        cr_assert(fabs(ag_trial_std(t) - sqrt(var)) < 1e-12);
        cr_assert_eq(ag_trial_num_reports(t), 4, "one report per epoch");
    }
    const ag_trial *best = ag_study_best(s);
    cr_assert_eq(ag_trial_number(best), 1, "lr 0.05 beats lr 1e-5");
    ag_history *h = NULL;
    ag_module *m = ag_cv_refit(cv, best, &h);
    cr_assert(m, "%s", ag_last_error());
    cr_assert_eq(ag_history_epochs(h), 4);
    cr_assert_eq(ag_module_num_children(m), 2, "Dense(tanh), Dense");
    expect_shape(ag_module_param_by_name(m, "0.weight"), 2, (int64_t[]){16, 4}); /* "16" */
    ag_tensor *pred = ag_predict(m, ds->x, 64);
    int64_t cls[150];
    cr_assert_eq(ag_argmax_rows(pred, cls), 0);
    int right = 0;
    for (int i = 0; i < 150; i++) right += cls[i] == (int64_t)ag_get(ds->y, i);
    cr_assert(right > 120, "refit accuracy %d/150", right);
    ag_tensor_free(pred);
    ag_history_free(h);
    ag_module_free(m);
    ag_study_free(s);
    ag_cv_free(cv);
    ag_space_free(sp);
    ag_dataset_free(ds);
}

/* A custom model for the CV: a linear layer, or one hidden layer of "units" (a hyperparameter
 * the CV itself does not know). */
static ag_module *custom(const ag_trial *t, int64_t in, int64_t out, ag_rng *rng, void *ctx)
{
    int *calls = ctx;
    __atomic_add_fetch(calls, 1, __ATOMIC_RELAXED);
    int64_t units = ag_trial_int(t, "units");
    if (units == 0) return ag_dense(in, out, NULL, rng);
    ag_module *layers[2] = {ag_dense(in, units, &(ag_dense_opts){.activation = AG_ACT_RELU}, rng),
                            ag_dense(units, out, NULL, rng)};
    return ag_sequential(2, layers);
}

Test(tune, cv_with_a_custom_builder)
{
    ag_dataset *ds = blobs(60, 6);
    ag_space *sp = ag_space_new();
    cr_assert_eq(ag_space_add_int(sp, "units", 0, 2, false), 0);
    int calls = 0;
    ag_cv_opts co = small_cv(2, 1);
    co.build = custom;
    co.build_ctx = &calls;
    ag_cv *cv = ag_cv_new(ds, &co);
    ag_study *s = study(sp, ag_strategy_grid(), &(ag_study_opts){.quiet = true});
    cr_assert_eq(ag_study_optimize_cv(s, cv), 0, "%s", ag_last_error());
    cr_assert_eq(calls, 3 * 2, "one model per trial and fold");
    ag_module *m = ag_cv_refit(cv, ag_study_trial(s, 2), NULL);
    cr_assert(m, "%s", ag_last_error());
    expect_shape(ag_module_param_by_name(m, "0.weight"), 2, (int64_t[]){2, 4});
    ag_module_free(m);
    ag_study_free(s);
    ag_cv_free(cv);
    ag_space_free(sp);
    ag_dataset_free(ds);
}

/* ---- errors ---- */

Test(tune, cv_errors_name_the_option)
{
    ag_dataset *ds = blobs(30, 4);
    ag_cv_opts co = small_cv(40, 1);
    cr_assert_null(ag_cv_new(ds, &co));
    expect_error_mentions("ag_cv_new", "folds 40", "N 30");
    co = small_cv(3, 1);
    co.optimizer = "lbfgs";
    cr_assert_null(ag_cv_new(ds, &co));
    expect_error_mentions("ag_cv_new", "lbfgs");
    co = small_cv(3, 0);
    cr_assert_null(ag_cv_new(ds, &co));
    expect_error_mentions("ag_cv_new", "epochs 0");
    ag_dataset *reg = ag_make_regression(30, 2, 0.1, 1, AG_F32, NULL, NULL);
    co = small_cv(3, 1);
    co.score = AG_SCORE_ACCURACY;
    cr_assert_null(ag_cv_new(reg, &co));
    expect_error_mentions("ag_cv_new", "accuracy needs a classification dataset");
    co = small_cv(3, 1);
    ag_cv *cv = ag_cv_new(ds, &co);
    cr_assert(cv, "%s", ag_last_error());
    ag_space *sp = ag_space_new();
    cr_assert_eq(ag_space_add_float(sp, "learning_rate", 1e-3, 1e-1, true), 0);
    ag_study *s = study(sp, ag_strategy_random(2), &(ag_study_opts){.quiet = true});
    cr_assert_eq(ag_study_optimize_cv(s, cv), -1);
    expect_error_mentions("ag_study_optimize_cv", "unknown hyperparameter 'learning_rate'");
    /* Called directly, the objective fails each trial with the same reason. */
    cr_assert_eq(ag_study_optimize(s, ag_cv_objective, cv), -1);
    expect_error_mentions("all 2 runs failed", "unknown hyperparameter 'learning_rate'");
    ag_study_free(s);
    ag_space *sp2 = ag_space_new();
    cr_assert_eq(ag_space_add_float(sp2, "lr", 1e-3, 1e-1, true), 0);
    s = study(sp2, ag_strategy_random(1), &(ag_study_opts){.quiet = true, .direction = AG_MAXIMIZE});
    cr_assert_eq(ag_study_optimize_cv(s, cv), -1);
    expect_error_mentions("ag_study_optimize_cv", "maximizes", "validation loss", "AG_MINIMIZE");
    cr_assert_null(ag_cv_refit(cv, NULL, NULL));
    expect_error_mentions("ag_cv_refit", "trial is NULL");
    cr_assert_eq(ag_kfold(3, 4, false, 0, (int[3]){0}), -1);
    expect_error_mentions("ag_kfold", "k 4", "3 examples");
    cr_assert_eq(ag_stratified_kfold(reg, 3, false, 0, (int[30]){0}), -1);
    expect_error_mentions("ag_stratified_kfold", "classification");
    ag_dataset *a, *b;
    cr_assert_eq(ag_fold_split(ds, (int[30]){0}, 2, 1, &a, &b), -1);
    expect_error_mentions("ag_fold_split", "fold 1 holds 0 of 30");
    cr_assert_null(a);
    ag_study_free(s);
    ag_space_free(sp);
    ag_space_free(sp2);
    ag_cv_free(cv);
    ag_dataset_free(reg);
    ag_dataset_free(ds);
}
