/* tests/tune_test_util.h - what the hyperparameter-search tests (test_tune_search.c,
 * test_tune_csv.c, test_tune_cv.c) share: the thread count, quiet study options, a study that
 * must be made, closed-form objectives (toy; budget_toy and curve, which report per step) and
 * the toy search space.
 */
#ifndef TUNE_TEST_UTIL_H
#define TUNE_TEST_UTIL_H

#ifdef _OPENMP
#include <omp.h>
#endif
#include <stdio.h>
#include <stdlib.h>

#include <autograd/tune.h>

#include "test_util.h"

static inline void set_threads(int n)
{
#ifdef _OPENMP
    omp_set_num_threads(n);
#else
    (void)n;
#endif
}

static inline ag_study_opts quiet_opts(uint64_t seed)
{
    ag_study_opts o = ag_study_defaults();
    o.seed = seed;
    o.quiet = true;
    return o;
}

static inline ag_study *study(ag_space *sp, ag_strategy *st, const ag_study_opts *o)
{
    ag_study *s = ag_study_new(sp, st, o);
    cr_assert(s, "ag_study_new: %s", ag_last_error());
    return s;
}

/* A closed-form objective: (log10 lr + 2)^2 + (width - 32)^2 / 1000, +1 for "sgd". */
static inline int toy(ag_trial *t, void *ctx, double *score)
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

static inline ag_space *toy_space(void)
{
    ag_space *sp = ag_space_new();
    cr_assert(sp);
    cr_assert_eq(ag_space_add_float(sp, "lr", 1e-4, 1, true), 0, "%s", ag_last_error());
    cr_assert_eq(ag_space_add_int(sp, "width", 8, 64, false), 0, "%s", ag_last_error());
    cr_assert_eq(ag_space_add_choice(sp, "opt", 3, (const char *[]){"sgd", "adam", "adamw"}), 0);
    return sp;
}

/* Score depends on the value and, weakly, on the budget (more budget, lower score). */
static inline int budget_toy(ag_trial *t, void *ctx, double *score)
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

/* Reports x / step for 9 steps and asks to prune after each. */
static inline int curve(ag_trial *t, void *ctx, double *score)
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

#endif
