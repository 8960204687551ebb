/* tests/test_tune_csv.c - what a study writes and reads back: the CSV round-trips every field,
 * resuming from the CSV runs only unfinished trials (also in the middle of a successive-halving
 * rung), bad CSV files are rejected with the line and reason, and the pictures are written.
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

static char *temp_path(const char *stem)
{
    static char buf[4][256];
    static int k;
    char *p = buf[k++ % 4];
    snprintf(p, 256, "/tmp/ag_test_tune_%s_%d.csv", stem, (int)getpid());
    return p;
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
    /* a choice on a categorical axis: its names under the points, not indices in the label */
    char *choice = slurp(p2);
    cr_assert(strstr(choice, ">sgd<") && strstr(choice, ">adam<") && strstr(choice, ">adamw<"),
              "%s", choice);
    cr_assert(!strstr(choice, "0 sgd"), "%s", choice);
    cr_assert_eq(ag_study_plot_param(s, "nope", p2), -1);
    expect_error_mentions("ag_study_plot_param", "nope");
    remove(p1);
    remove(p2);
    remove(p3);
    ag_study_free(s);
    ag_space_free(sp);
}

/* ---- errors ---- */

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
