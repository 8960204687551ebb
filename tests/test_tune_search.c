/* tests/test_tune_search.c - hyperparameter search itself: search spaces and sampling
 * (log-uniform really is log-distributed), grid search visits every point once, random search
 * repeats with its seed, trial seeds, successive halving keeps 1/eta per rung, ASHA prunes by
 * trial order on any thread count, and misuse of spaces, strategies, studies and the trial API is
 * an error naming the function. The CSV and pictures are in test_tune_csv.c, the
 * cross-validation objective in test_tune_cv.c.
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

/* Scores every trial 0 (when only the values matter). */
static int zero(ag_trial *t, void *ctx, double *score)
{
    (void)t;
    (void)ctx;
    *score = 0;
    return AG_OBJECTIVE_OK;
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
