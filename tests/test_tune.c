/* tests/test_tune.c - hyperparameter search: search spaces and sampling (log-uniform really is
 * log-distributed), grid search visits every point once, random search repeats with its seed,
 * successive halving keeps 1/eta per rung, ASHA prunes by trial order, k-fold splits partition
 * and stratify, a diverging trial fails without stopping the search, resuming from the CSV skips
 * finished trials, the CSV round-trips, 1 and 2 threads give the same leaderboard, the refit
 * learns, pictures are written, and every misuse is an error naming the function.
 *
 * Expected values come from the definitions (counts of grid points, fractions 1/eta, fold sizes
 * n/k, the decades of a log-uniform law), not from the code under test. Objectives are either
 * closed-form functions of the values (no training) or tiny models on ag_make_blobs data.
 */
#ifdef _OPENMP
#include <omp.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <autograd/tune.h>

#include "test_util.h"

/* ---- helpers ---- */

static void set_threads(int n)
{
#ifdef _OPENMP
    omp_set_num_threads(n);
#else
    (void)n;
#endif
}

static ag_study_opts quiet_opts(uint64_t seed)
{
    ag_study_opts o = ag_study_defaults();
    o.seed = seed;
    o.quiet = true;
    return o;
}

static ag_study *study(ag_space *sp, ag_strategy *st, const ag_study_opts *o)
{
    ag_study *s = ag_study_new(sp, st, o);
    cr_assert(s, "ag_study_new: %s", ag_last_error());
    return s;
}

/* A closed-form objective: (log10 lr + 2)^2 + (width - 32)^2 / 1000, +1 for "sgd". */
static int toy(ag_trial *t, void *ctx, double *score)
{
    (void)ctx;
    double lr = ag_trial_float(t, "lr");
    double w = ag_trial_has(t, "width") ? ag_trial_float(t, "width") : 32;
    const char *opt = ag_trial_has(t, "opt") ? ag_trial_choice(t, "opt") : "adam";
    if (isnan(lr) || isnan(w) || !opt) return AG_OBJECTIVE_FAILED;
    *score = (log10(lr) + 2) * (log10(lr) + 2) + (w - 32) * (w - 32) / 1000 +
             (strcmp(opt, "sgd") == 0);
    return AG_OBJECTIVE_OK;
}

/* Scores every trial 0 (when only the values matter). */
static int zero(ag_trial *t, void *ctx, double *score)
{
    (void)t;
    (void)ctx;
    *score = 0;
    return AG_OBJECTIVE_OK;
}

static ag_space *toy_space(void)
{
    ag_space *sp = ag_space_new();
    cr_assert(sp);
    cr_assert_eq(ag_space_add_float(sp, "lr", 1e-4, 1, true), 0, "%s", ag_last_error());
    cr_assert_eq(ag_space_add_int(sp, "width", 8, 64, false), 0, "%s", ag_last_error());
    cr_assert_eq(ag_space_add_choice(sp, "opt", 3, (const char *[]){"sgd", "adam", "adamw"}), 0);
    return sp;
}

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

static char *temp_path(const char *stem)
{
    static char buf[4][256];
    static int k;
    char *p = buf[k++ % 4];
    snprintf(p, 256, "/tmp/ag_test_tune_%s_%d.csv", stem, (int)getpid());
    return p;
}

/* ---- spaces and sampling ---- */

Test(tune, log_uniform_samples_stay_in_range_and_fill_each_decade_equally)
{
    ag_space *sp = ag_space_new();
    cr_assert_eq(ag_space_add_float(sp, "lr", 1e-5, 1e-1, true), 0);
    cr_assert_eq(ag_space_add_int(sp, "units", 1, 1000, true), 0);
    ag_study_opts o = quiet_opts(3);
    ag_study *s = study(sp, ag_strategy_random(4000), &o);
    cr_assert_eq(ag_study_optimize(s, toy, NULL), 0, "%s", ag_last_error());
    int decade[4] = {0}, units_decade[3] = {0};
    for (int i = 0; i < 4000; i++) {
        const ag_trial *t = ag_study_trial(s, i);
        double lr = ag_trial_float(t, "lr");
        int64_t u = ag_trial_int(t, "units");
        cr_assert(lr >= 1e-5 && lr <= 1e-1, "lr %g out of range", lr);
        cr_assert(u >= 1 && u <= 1000, "units %lld out of range", (long long)u);
        int d = (int)floor(log10(lr) + 5);
        decade[d < 0 ? 0 : d > 3 ? 3 : d]++;
        units_decade[u < 10 ? 0 : u < 100 ? 1 : 2]++;
    }
    /* Log-uniform: each of the 4 decades holds 1/4 of the draws (binomial sd ~ 27). */
    for (int d = 0; d < 4; d++)
        cr_assert(abs(decade[d] - 1000) < 130, "decade %d holds %d of 4000", d, decade[d]);
    /* A uniform law would put 90% in [100, 1000]; log-uniform puts about a third there. */
    cr_assert(units_decade[2] > 1100 && units_decade[2] < 1600, "units >= 100: %d", units_decade[2]);
    ag_study_free(s);
    ag_space_free(sp);
}

Test(tune, grid_visits_every_point_exactly_once_last_varying_fastest)
{
    ag_space *sp = ag_space_new();
    cr_assert_eq(ag_space_add_float(sp, "lr", 1e-3, 1e-1, true), 0);
    cr_assert_eq(ag_space_set_grid_points(sp, "lr", 3), 0);
    cr_assert_eq(ag_space_add_int(sp, "width", 16, 17, false), 0);
    cr_assert_eq(ag_space_add_choice(sp, "opt", 2, (const char *[]){"sgd", "adam"}), 0);
    ag_study_opts o = quiet_opts(0);
    o.n_jobs = 2;
    ag_study *s = study(sp, ag_strategy_grid(), &o);
    cr_assert_eq(ag_study_planned(s), 12);
    cr_assert_eq(ag_study_optimize(s, toy, NULL), 0, "%s", ag_last_error());
    cr_assert_eq(ag_study_num_trials(s), 12);
    cr_assert_eq(ag_study_objective_calls(s), 12);
    int seen[3][2][2] = {{{0}}};
    const double lrs[3] = {1e-3, 1e-2, 1e-1};
    for (int i = 0; i < 12; i++) {
        const ag_trial *t = ag_study_trial(s, i);
        cr_assert_eq(ag_trial_state_of(t), AG_TRIAL_COMPLETE);
        double lr = ag_trial_float(t, "lr");
        int a = -1;
        for (int k = 0; k < 3; k++)
            if (fabs(lr - lrs[k]) < 1e-12 * lrs[k]) a = k;
        cr_assert(a >= 0, "lr %.17g is not a grid point", lr);
        int b = (int)ag_trial_int(t, "width") - 16, c = strcmp(ag_trial_choice(t, "opt"), "adam") == 0;
        seen[a][b][c]++;
        cr_assert_eq(i, a * 4 + b * 2 + c, "trial %d is point (%d,%d,%d)", i, a, b, c);
    }
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 2; b++)
            for (int c = 0; c < 2; c++) cr_assert_eq(seen[a][b][c], 1);
    /* A second optimize has nothing left to do. */
    cr_assert_eq(ag_study_optimize(s, toy, NULL), 0);
    cr_assert_eq(ag_study_objective_calls(s), 12);
    /* The best is lr 1e-2, width 17 (closest to 32), adam. */
    const ag_trial *b = ag_study_best(s);
    cr_assert_eq(ag_trial_number(b), 1 * 4 + 1 * 2 + 1);
    cr_assert_eq(ag_study_rank(s, ag_trial_number(b)), 1);
    ag_study_free(s);
    ag_space_free(sp);
}

Test(tune, grid_points_of_ranges_lists_and_rounded_log_ints)
{
    ag_space *sp = ag_space_new();
    cr_assert_eq(ag_space_add_values(sp, "batch", 3, (double[]){64, 16, 32}), 0);
    cr_assert_eq(ag_space_add_int(sp, "units", 1, 100, true), 0);
    cr_assert_eq(ag_space_set_grid_points(sp, "units", 5), 0); /* 1, 3.16, 10, 31.6, 100 */
    ag_study_opts o = quiet_opts(0);
    ag_study *s = study(sp, ag_strategy_grid(), &o);
    cr_assert_eq(ag_study_planned(s), 15);
    const double want_units[5] = {1, 3, 10, 32, 100};
    cr_assert_eq(ag_study_optimize(s, zero, NULL), 0, "%s", ag_last_error());
    for (int i = 0; i < 15; i++) {
        const ag_trial *t = ag_study_trial(s, i);
        cr_assert_eq(ag_trial_int(t, "batch"), ((int64_t[]){64, 16, 32})[i / 5]);
        cr_assert_eq(ag_trial_float(t, "units"), want_units[i % 5]);
    }
    ag_study_free(s);
    ag_space_free(sp);
}

Test(tune, random_search_repeats_exactly_with_its_seed)
{
    ag_space *sp = toy_space();
    double v[2][3][12];
    for (int run = 0; run < 3; run++) {
        ag_study_opts o = quiet_opts(run == 2 ? 8 : 7);
        o.n_jobs = run + 1;
        ag_study *s = study(sp, ag_strategy_random(12), &o);
        cr_assert_eq(ag_study_optimize(s, toy, NULL), 0, "%s", ag_last_error());
        for (int i = 0; i < 12; i++) {
            const ag_trial *t = ag_study_trial(s, i);
            double x[3] = {ag_trial_float(t, "lr"), ag_trial_float(t, "width"),
                           strcmp(ag_trial_choice(t, "opt"), "sgd") == 0 ? 0
                           : strcmp(ag_trial_choice(t, "opt"), "adam") == 0 ? 1 : 2};
            for (int k = 0; k < 3; k++) {
                if (run < 2) v[run][k][i] = x[k];
                else if (k == 0) cr_assert_neq(x[0], v[0][0][i], "seed 8 repeats seed 7's lr");
            }
        }
        ag_study_free(s);
    }
    cr_assert_eq(memcmp(v[0], v[1], sizeof v[0]), 0, "the same seed gave different values");
    ag_space_free(sp);
}

Test(tune, trial_seeds_depend_on_study_seed_and_number_only)
{
    ag_space *sp = toy_space();
    uint64_t seeds[2][5];
    for (int run = 0; run < 2; run++) {
        ag_study_opts o = quiet_opts(11);
        ag_study *s = study(sp, run ? ag_strategy_grid() : ag_strategy_random(5), &o);
        ag_space_set_grid_points(sp, "lr", 2); /* the study has its own copy already */
        cr_assert_eq(ag_study_optimize(s, zero, NULL), 0);
        for (int i = 0; i < 5; i++) seeds[run][i] = ag_trial_seed(ag_study_trial(s, i));
        ag_study_free(s);
    }
    for (int i = 0; i < 5; i++) {
        cr_assert_eq(seeds[0][i], seeds[1][i], "trial %d's seed depends on the strategy", i);
        for (int j = 0; j < i; j++) cr_assert_neq(seeds[0][i], seeds[0][j]);
    }
    ag_space_free(sp);
}

/* ---- successive halving and ASHA ---- */

/* Score depends on the value and, weakly, on the budget (more budget, lower score). */
static int budget_toy(ag_trial *t, void *ctx, double *score)
{
    (void)ctx;
    double x = ag_trial_float(t, "x");
    int b = ag_trial_budget(t);
    cr_assert(b >= 1, "budget %d", b);
    for (int step = 1; step <= b; step++)
        if (ag_trial_report(t, step, x + 1.0 / step) < 0) return AG_OBJECTIVE_FAILED;
    *score = x + 1.0 / b;
    return AG_OBJECTIVE_OK;
}

Test(tune, successive_halving_keeps_one_in_eta_at_each_rung)
{
    ag_space *sp = ag_space_new();
    cr_assert_eq(ag_space_add_float(sp, "x", 0, 1, false), 0);
    ag_study_opts o = quiet_opts(4);
    o.n_jobs = 2;
    ag_study *s = study(sp, ag_strategy_halving(ag_strategy_random(27), 1, 9, 3), &o);
    cr_assert_str_eq(ag_strategy_name(ag_study_strategy(s)), "halving(random)");
    cr_assert_eq(ag_study_optimize(s, budget_toy, NULL), 0, "%s", ag_last_error());
    /* Rungs at budgets 1, 3, 9 with 27, 9 and 3 configurations: 39 runs. */
    cr_assert_eq(ag_study_objective_calls(s), 27 + 9 + 3);
    int at[10] = {0};
    double x[27];
    for (int i = 0; i < 27; i++) {
        const ag_trial *t = ag_study_trial(s, i);
        x[i] = ag_trial_float(t, "x");
        for (int r = 0; r < ag_trial_num_rungs(t); r++) {
            int b;
            ag_trial_rung_at(t, r, &b, NULL);
            at[b]++;
        }
    }
    cr_assert_eq(at[1], 27);
    cr_assert_eq(at[3], 9);
    cr_assert_eq(at[9], 3);
    cr_assert_eq(ag_study_count(s, AG_TRIAL_COMPLETE), 3);
    cr_assert_eq(ag_study_count(s, AG_TRIAL_PRUNED), 24);
    /* Survivors of rung 1 are the 9 smallest x, of rung 2 the 3 smallest. */
    for (int i = 0; i < 27; i++) {
        int smaller = 0;
        for (int j = 0; j < 27; j++) smaller += x[j] < x[i];
        int rungs = ag_trial_num_rungs(ag_study_trial(s, i));
        cr_assert_eq(rungs, smaller < 3 ? 3 : smaller < 9 ? 2 : 1, "trial %d (rank %d)", i, smaller);
    }
    ag_study_free(s);
    ag_space_free(sp);
}

/* Reports x / step for 9 steps and asks to prune after each. */
static int curve(ag_trial *t, void *ctx, double *score)
{
    (void)ctx;
    double x = ag_trial_float(t, "x");
    for (int step = 1; step <= ag_trial_budget(t); step++) {
        *score = x + 1.0 / step;
        if (ag_trial_report(t, step, *score) < 0) return AG_OBJECTIVE_FAILED;
        if (ag_trial_should_prune(t)) return AG_OBJECTIVE_PRUNED;
    }
    return AG_OBJECTIVE_OK;
}

Test(tune, asha_prunes_by_trial_order_the_same_way_on_any_thread_count)
{
    ag_space *sp = ag_space_new();
    cr_assert_eq(ag_space_add_float(sp, "x", 0, 1, false), 0);
    int state[2][20], reports[2][20];
    for (int run = 0; run < 2; run++) {
        set_threads(run + 1);
        ag_study_opts o = quiet_opts(9);
        ag_study *s = study(sp, ag_strategy_asha(ag_strategy_random(20), 1, 9, 3), &o);
        cr_assert_eq(ag_study_optimize(s, curve, NULL), 0, "%s", ag_last_error());
        for (int i = 0; i < 20; i++) {
            const ag_trial *t = ag_study_trial(s, i);
            state[run][i] = ag_trial_state_of(t);
            reports[run][i] = ag_trial_num_reports(t);
            /* Recompute the rule at rung 1 and 3 from the trials with smaller numbers. */
            double xi = ag_trial_float(t, "x");
            int expect_reports = 9;
            for (int rung = 1; rung <= 3 && expect_reports == 9; rung *= 3) {
                int count = 1, ahead = 0;
                for (int m = 0; m < i; m++) {
                    const ag_trial *o2 = ag_study_trial(s, m);
                    if (ag_trial_num_reports(o2) < rung) continue;
                    count++;
                    ahead += ag_trial_float(o2, "x") <= xi;
                }
                if (ahead >= (count / 3 > 0 ? count / 3 : 1)) expect_reports = rung;
            }
            cr_assert_eq(reports[run][i], expect_reports, "trial %d", i);
            cr_assert_eq(state[run][i], expect_reports == 9 ? AG_TRIAL_COMPLETE : AG_TRIAL_PRUNED);
        }
        cr_assert_eq(state[run][0], AG_TRIAL_COMPLETE, "the first trial is never pruned");
        cr_assert(ag_study_count(s, AG_TRIAL_PRUNED) >= 8, "only %d pruned",
                  ag_study_count(s, AG_TRIAL_PRUNED));
        ag_study_free(s);
    }
    cr_assert_eq(memcmp(state[0], state[1], sizeof state[0]), 0);
    ag_space_free(sp);
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

/* ---- CSV, resume ---- */

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    cr_assert(f, "cannot open %s", path);
    static char buf[2][65536];
    static int k;
    char *b = buf[k++ % 2];
    size_t n = fread(b, 1, 65535, f);
    b[n] = '\0';
    fclose(f);
    return b;
}

/* Keeps the header and the rows of the listed trials. */
static void keep_rows(const char *path, int n, const int *trials)
{
    char *text = strdup(slurp(path)), *save = NULL;
    FILE *f = fopen(path, "w");
    cr_assert(f && text);
    int line = 0;
    for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save), line++) {
        bool keep = line == 0;
        for (int i = 0; i < n; i++) keep = keep || atoi(l) == trials[i];
        if (keep) fprintf(f, "%s\n", l);
    }
    fclose(f);
    free(text);
}

/* A failing trial for x > 0.8, pruned trials via ASHA, folds: every CSV column has content. */
static int rich(ag_trial *t, void *ctx, double *score)
{
    (void)ctx;
    double x = ag_trial_float(t, "x");
    if (x > 0.8) {
        ag_set_error("rich: x = %g, is too large, on purpose", x);
        return AG_OBJECTIVE_FAILED;
    }
    double folds[3] = {x, x + 0.1, x + 0.2 / 3};
    if (ag_trial_set_folds(t, 3, folds) < 0) return AG_OBJECTIVE_FAILED;
    return curve(t, ctx, score);
}

Test(tune, csv_round_trip_keeps_every_field)
{
    ag_space *sp = ag_space_new();
    cr_assert_eq(ag_space_add_float(sp, "x", 0, 1, false), 0);
    cr_assert_eq(ag_space_add_choice(sp, "opt", 2, (const char *[]){"sgd", "adam"}), 0);
    char *a = temp_path("roundtrip_a"), *b = temp_path("roundtrip_b");
    ag_study_opts o = quiet_opts(5);
    o.csv_path = a;
    ag_study *s = study(sp, ag_strategy_asha(ag_strategy_random(12), 1, 9, 3), &o);
    cr_assert_eq(ag_study_optimize(s, rich, NULL), 0, "%s", ag_last_error());
    cr_assert(ag_study_count(s, AG_TRIAL_FAILED) > 0 && ag_study_count(s, AG_TRIAL_PRUNED) > 0,
              "the seed should give failed and pruned trials");
    ag_study_opts o2 = quiet_opts(5);
    ag_study *r = study(sp, ag_strategy_asha(ag_strategy_random(12), 1, 9, 3), &o2);
    cr_assert_eq(ag_study_load_csv(r, a), 12, "%s", ag_last_error());
    for (int i = 0; i < 12; i++) {
        const ag_trial *x = ag_study_trial(s, i), *y = ag_study_trial(r, i);
        cr_assert_eq(ag_trial_state_of(x), ag_trial_state_of(y));
        cr_assert(ag_trial_score(x) == ag_trial_score(y) || (isnan(ag_trial_score(x)) && isnan(ag_trial_score(y))));
        cr_assert(ag_trial_std(x) == ag_trial_std(y) || (isnan(ag_trial_std(x)) && isnan(ag_trial_std(y))));
        cr_assert_eq(ag_trial_num_folds(x), ag_trial_num_folds(y));
        for (int k = 0; k < ag_trial_num_folds(x); k++) cr_assert_eq(ag_trial_fold(x, k), ag_trial_fold(y, k));
        cr_assert_eq(ag_trial_num_reports(x), ag_trial_num_reports(y));
        cr_assert_eq(ag_study_rank(s, i), ag_study_rank(r, i));
        cr_assert_str_eq(ag_trial_message(x), ag_trial_message(y));
    }
    cr_assert_eq(ag_study_write_csv(r, b), 0, "%s", ag_last_error());
    cr_assert_str_eq(slurp(a), slurp(b), "the CSV changed through a load and a write");
    cr_assert(strstr(slurp(a), "failed,nan"), "%s", slurp(a));
    cr_assert(strstr(slurp(a), "x = "), "the message is kept");
    /* Nothing is left to run. */
    cr_assert_eq(ag_study_optimize(r, rich, NULL), 0);
    cr_assert_eq(ag_study_objective_calls(r), 0);
    ag_study_free(s);
    ag_study_free(r);
    ag_space_free(sp);
    remove(a);
    remove(b);
}

Test(tune, resuming_from_the_csv_runs_only_unfinished_trials)
{
    ag_space *sp = toy_space();
    char *path = temp_path("resume");
    ag_study_opts o = quiet_opts(13);
    o.csv_path = path;
    ag_study *full = study(sp, ag_strategy_random(8), &o);
    cr_assert_eq(ag_study_optimize(full, toy, NULL), 0, "%s", ag_last_error());
    /* An interrupted run: trials 0, 1, 2 and 5 had finished (parallel runs leave holes). */
    keep_rows(path, 4, (int[]){0, 1, 2, 5});
    ag_study_opts o2 = quiet_opts(13);
    o2.csv_path = path;
    ag_study *res = study(sp, ag_strategy_random(8), &o2);
    cr_assert_eq(ag_study_load_csv(res, path), 4, "%s", ag_last_error());
    cr_assert_eq(ag_trial_state_of(ag_study_trial(res, 3)), AG_TRIAL_PENDING);
    cr_assert_eq(ag_study_optimize(res, toy, NULL), 0, "%s", ag_last_error());
    cr_assert_eq(ag_study_objective_calls(res), 4, "only trials 3, 4, 6, 7 run again");
    for (int i = 0; i < 8; i++) {
        cr_assert_eq(ag_trial_score(ag_study_trial(full, i)), ag_trial_score(ag_study_trial(res, i)));
        cr_assert_eq(ag_study_rank(full, i), ag_study_rank(res, i));
    }
    /* The same file with another seed does not match the search. */
    ag_study_opts o3 = quiet_opts(14);
    ag_study *other = study(sp, ag_strategy_random(8), &o3);
    cr_assert_eq(ag_study_load_csv(other, path), -1);
    expect_error_mentions("ag_study_load_csv", "line 2", "trial 0", "another space, strategy or seed");
    cr_assert_eq(ag_study_num_trials(other), 0, "a failed load leaves the study empty");
    ag_study_free(other);
    ag_study_free(full);
    ag_study_free(res);
    ag_space_free(sp);
    remove(path);
}

Test(tune, resuming_successive_halving_in_the_middle_of_a_rung)
{
    ag_space *sp = ag_space_new();
    cr_assert_eq(ag_space_add_float(sp, "x", 0, 1, false), 0);
    char *path = temp_path("resume_sh");
    ag_study_opts o = quiet_opts(2);
    o.csv_path = path;
    ag_study *full = study(sp, ag_strategy_halving(ag_strategy_random(9), 1, 4, 2), &o);
    cr_assert_eq(ag_study_optimize(full, budget_toy, NULL), 0, "%s", ag_last_error());
    int64_t calls = ag_study_objective_calls(full); /* 9 + 4 + 2 */
    cr_assert_eq(calls, 15);
    keep_rows(path, 3, (int[]){0, 1, 2});
    ag_study_opts o2 = quiet_opts(2);
    ag_study *res = study(sp, ag_strategy_halving(ag_strategy_random(9), 1, 4, 2), &o2);
    cr_assert_eq(ag_study_load_csv(res, path), 3, "%s", ag_last_error());
    cr_assert_eq(ag_study_optimize(res, budget_toy, NULL), 0, "%s", ag_last_error());
    /* Trials 0-2 keep every rung they had reached: only their missing runs happen. */
    int64_t done = 0;
    for (int i = 0; i < 3; i++) done += ag_trial_num_rungs(ag_study_trial(full, i));
    cr_assert_eq(ag_study_objective_calls(res), calls - done);
    for (int i = 0; i < 9; i++) {
        cr_assert_eq(ag_trial_state_of(ag_study_trial(full, i)), ag_trial_state_of(ag_study_trial(res, i)));
        cr_assert_eq(ag_trial_score(ag_study_trial(full, i)), ag_trial_score(ag_study_trial(res, i)));
    }
    ag_study_free(full);
    ag_study_free(res);
    ag_space_free(sp);
    remove(path);
}

/* ---- pictures ---- */

Test(tune, pictures_are_written)
{
    ag_space *sp = toy_space();
    ag_study_opts o = quiet_opts(1);
    ag_study *s = study(sp, ag_strategy_random(10), &o);
    cr_assert_eq(ag_study_optimize(s, toy, NULL), 0);
    char p1[128], p2[128], p3[128];
    snprintf(p1, sizeof p1, "/tmp/ag_test_tune_%d_all.svg", (int)getpid());
    snprintf(p2, sizeof p2, "/tmp/ag_test_tune_%d_lr.svg", (int)getpid());
    snprintf(p3, sizeof p3, "/tmp/ag_test_tune_%d_hist.svg", (int)getpid());
    cr_assert_eq(ag_study_plot(s, p1), 0, "%s", ag_last_error());
    cr_assert_eq(ag_study_plot_param(s, "opt", p2), 0, "%s", ag_last_error());
    cr_assert_eq(ag_study_plot_history(s, p3), 0, "%s", ag_last_error());
    cr_assert(strstr(slurp(p1), "<svg") && strstr(slurp(p1), "best so far"));
    cr_assert(strstr(slurp(p2), "0 sgd 1 adam 2 adamw"));
    cr_assert_eq(ag_study_plot_param(s, "nope", p2), -1);
    expect_error_mentions("ag_study_plot_param", "nope");
    remove(p1);
    remove(p2);
    remove(p3);
    ag_study_free(s);
    ag_space_free(sp);
}

/* ---- errors ---- */

Test(tune, space_errors_name_the_function_and_value)
{
    ag_space *sp = ag_space_new();
    cr_assert_eq(ag_space_add_float(sp, "lr", 0, 1, true), -1);
    expect_error_mentions("ag_space_add_float", "'lr'", "lo > 0");
    cr_assert_eq(ag_space_add_float(sp, "lr", 2, 1, false), -1);
    expect_error_mentions("ag_space_add_float", "lo 2", "hi 1");
    cr_assert_eq(ag_space_add_float(sp, "bad name", 0, 1, false), -1);
    expect_error_mentions("ag_space_add_float", "bad name");
    cr_assert_eq(ag_space_add_int(sp, "n", 5, 4, false), -1);
    expect_error_mentions("ag_space_add_int", "lo 5", "hi 4");
    cr_assert_eq(ag_space_add_values(sp, "v", 2, (double[]){1, 1}), -1);
    expect_error_mentions("ag_space_add_values", "listed twice");
    cr_assert_eq(ag_space_add_values(sp, "v", 1, (double[]){NAN}), -1);
    expect_error_mentions("ag_space_add_values", "finite");
    cr_assert_eq(ag_space_add_choice(sp, "c", 2, (const char *[]){"a,b", "c"}), -1);
    expect_error_mentions("ag_space_add_choice", "a,b", "comma");
    cr_assert_eq(ag_space_add_choice(sp, "c", 0, NULL), -1);
    expect_error_mentions("ag_space_add_choice", "n 0");
    cr_assert_eq(ag_space_add_float(sp, "lr", 1e-3, 1, true), 0);
    cr_assert_eq(ag_space_add_int(sp, "lr", 1, 2, false), -1);
    expect_error_mentions("ag_space_add_int", "'lr' is already");
    cr_assert_eq(ag_space_set_grid_points(sp, "lr", 0), -1);
    expect_error_mentions("ag_space_set_grid_points", "0 points");
    cr_assert_eq(ag_space_set_grid_points(sp, "nope", 3), -1);
    expect_error_mentions("ag_space_set_grid_points", "nope");
    cr_assert_eq(ag_space_add_float(NULL, "x", 0, 1, false), -1);
    expect_error_mentions("ag_space_add_float", "space is NULL");
    cr_assert_null(ag_space_name(sp, 3));
    expect_error_mentions("ag_space_name", "index 3");
    ag_space_free(sp);
}

Test(tune, strategy_and_study_errors)
{
    cr_assert_null(ag_strategy_random(0));
    expect_error_mentions("ag_strategy_random", "n_trials 0");
    cr_assert_null(ag_strategy_halving(ag_strategy_random(3), 4, 4, 3));
    expect_error_mentions("ag_strategy_halving", "min_budget 4", "max_budget 4");
    cr_assert_null(ag_strategy_asha(ag_strategy_grid(), 1, 9, 1));
    expect_error_mentions("ag_strategy_asha", "eta 1");
    cr_assert_null(ag_strategy_halving(NULL, 1, 9, 3));
    expect_error_mentions("ag_strategy_halving", "sampler is NULL");
    ag_space *empty = ag_space_new();
    cr_assert_null(ag_study_new(empty, ag_strategy_grid(), NULL));
    expect_error_mentions("ag_study_new", "no hyperparameter");
    ag_space *sp = toy_space();
    cr_assert_null(ag_study_new(sp, NULL, NULL));
    expect_error_mentions("ag_study_new", "strategy is NULL");
    ag_study_opts o = quiet_opts(0);
    o.n_jobs = -2;
    cr_assert_null(ag_study_new(sp, ag_strategy_grid(), &o));
    expect_error_mentions("ag_study_new", "n_jobs");
    /* A grid over an int range of 2^40 values is refused, not allocated. */
    ag_space *huge = ag_space_new();
    cr_assert_eq(ag_space_add_int(huge, "n", 0, (int64_t)1 << 40, false), 0);
    cr_assert_null(ag_study_new(huge, ag_strategy_grid(), NULL));
    expect_error_mentions("ag_strategy_grid", "'n'", "grid values");
    ag_study *s = study(sp, ag_strategy_random(2), &(ag_study_opts){.quiet = true});
    cr_assert_eq(ag_study_optimize(s, NULL, NULL), -1);
    expect_error_mentions("ag_study_optimize", "objective is NULL");
    cr_assert_null(ag_study_trial(s, 0));
    expect_error_mentions("ag_study_trial", "trial 0", "0 trials");
    cr_assert_null(ag_study_best(s));
    cr_assert_eq(ag_study_load_csv(s, "/nonexistent/x.csv"), -1);
    expect_error_mentions("ag_study_load_csv", "/nonexistent/x.csv");
    cr_assert_eq(ag_study_leaderboard(s, NULL, 0), -1);
    expect_error_mentions("ag_study_leaderboard", "out is NULL");
    cr_assert_eq(ag_study_write_csv(s, "/nonexistent/dir/x.csv"), -1);
    expect_error_mentions("ag_study_write_csv", "/nonexistent/dir/x.csv");
    ag_study_free(s);
    ag_space_free(huge);
    ag_space_free(sp);
    ag_space_free(empty);
}

/* Misuses the trial API from inside an objective and checks each error. */
static int misuse(ag_trial *t, void *ctx, double *score)
{
    (void)ctx;
    cr_assert(isnan(ag_trial_float(t, "nope")));
    expect_error_mentions("ag_trial_float", "'nope'");
    cr_assert_null(ag_trial_choice(t, "lr"));
    expect_error_mentions("ag_trial_choice", "'lr' is numeric");
    cr_assert(isnan(ag_trial_float(t, "opt")));
    expect_error_mentions("ag_trial_float", "'opt' is a choice");
    cr_assert_eq(ag_trial_int(t, "lr"), 0);
    expect_error_mentions("ag_trial_int", "'lr'", "not a whole number");
    cr_assert_eq(ag_trial_report(t, 1, NAN), -1);
    expect_error_mentions("ag_trial_report", "not finite");
    cr_assert_eq(ag_trial_report(t, 2, 1.0), 0);
    cr_assert_eq(ag_trial_report(t, 2, 1.0), -1);
    expect_error_mentions("ag_trial_report", "step 2");
    cr_assert_not(ag_trial_should_prune(t), "random search never prunes");
    cr_assert_eq(ag_trial_set_folds(t, 0, NULL), -1);
    expect_error_mentions("ag_trial_set_folds", "n 0");
    *score = NAN; /* a non-finite score fails the trial */
    return AG_OBJECTIVE_OK;
}

Test(tune, trial_api_errors_and_non_finite_scores)
{
    ag_space *sp = toy_space();
    ag_study_opts o = quiet_opts(0);
    ag_study *s = study(sp, ag_strategy_random(1), &o);
    cr_assert_eq(ag_study_optimize(s, misuse, NULL), -1, "every run failed");
    expect_error_mentions("ag_study_optimize", "all 1 runs failed", "score of nan");
    const ag_trial *t = ag_study_trial(s, 0);
    cr_assert_eq(ag_trial_state_of(t), AG_TRIAL_FAILED);
    cr_assert_eq(ag_trial_report((ag_trial *)t, 5, 1.0), -1);
    expect_error_mentions("ag_trial_report", "trial 0 is failed, not running");
    ag_study_free(s);
    ag_space_free(sp);
}

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

Test(tune, load_csv_rejects_bad_files)
{
    ag_space *sp = toy_space();
    char *path = temp_path("bad");
    const char *files[][2] = {
        {"trial,state,score\n", "header has 3 columns"},
        {"trial,state,score,std,seconds,budget,lr,width,opt,folds,reports,rungs,message\n"
         "0,done,1,nan,0,0,0.1,8,sgd,,,,\n", "unknown state 'done'"},
        {"trial,state,score,std,seconds,budget,lr,width,opt,folds,reports,rungs,message\n"
         "0,complete,1,nan,0,0,0.1,8,lbfgs,,,,\n", "bad value 'lbfgs'"},
        {"trial,state,score,std,seconds,budget,lr,width,nope,folds,reports,rungs,message\n",
         "'nope' is not a hyperparameter"},
        {"trial,state,score,std,seconds,budget,lr,width,opt,folds,reports,rungs,message\n"
         "x,complete,1,nan,0,0,0.1,8,sgd,,,,\n", "bad trial number 'x'"},
        {"trial,state,score,std,seconds,budget,lr,width,opt,folds,reports,rungs,message\n"
         "0,complete,1,nan,0,0\n", "6 fields, expected 13"},
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        FILE *f = fopen(path, "w");
        fputs(files[i][0], f);
        fclose(f);
        ag_study *s = study(sp, ag_strategy_random(3), &(ag_study_opts){.quiet = true});
        cr_assert_eq(ag_study_load_csv(s, path), -1, "file %zu was accepted", i);
        expect_error_mentions("ag_study_load_csv", path, files[i][1]);
        ag_study_free(s);
    }
    remove(path);
    ag_space_free(sp);
}
