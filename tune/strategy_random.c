/* tune/strategy_random.c - random search: n_trials configurations, trial n drawn from a
 * generator seeded with (study seed, n) alone, so any trial can be drawn again on its own (for
 * a resumed search) and the draws do not depend on the order trials run in. */
#include <stdlib.h>

#include "tune_internal.h"

typedef struct random_search {
    int n_trials;
    const ag_space *space; /* the study's copy, set by bind */
} random_search;

static int random_bind(void *state, const ag_space *space)
{
    random_search *r = state;
    if (r->space) {
        ag__error("ag_strategy_random: the strategy is already bound to a space");
        return -1;
    }
    r->space = space;
    return 0;
}

static int64_t random_size(void *state) { return ((random_search *)state)->n_trials; }

static int random_next(void *state, const ag_study *s, ag_job *jobs, int cap)
{
    return ag__next_independent(s, ((random_search *)state)->n_trials, 0, jobs, cap);
}

static int random_sample(void *state, const ag_study *s, int trial, ag_rng *rng, double *values)
{
    (void)s;
    (void)trial;
    random_search *r = state;
    if (!r->space) {
        ag__error("ag_strategy_random: the strategy is not bound to a space");
        return -1;
    }
    ag__space_sample(r->space, rng, values);
    return 0;
}

static const ag_strategy_class random_class = {
    .name = "random",
    .bind = random_bind,
    .size = random_size,
    .next = random_next,
    .sample = random_sample,
    .free_state = free,
};

ag_strategy *ag_strategy_random(int n_trials)
{
    if (n_trials < 1 || n_trials > 1000000) {
        ag__error("ag_strategy_random: n_trials %d must be in [1, 1000000]", n_trials);
        return NULL;
    }
    random_search *r = calloc(1, sizeof *r);
    if (!r) {
        ag__error("ag_strategy_random: out of memory");
        return NULL;
    }
    r->n_trials = n_trials;
    return ag_strategy_new(&random_class, r);
}
