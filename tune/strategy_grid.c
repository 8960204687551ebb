/* tune/strategy_grid.c - grid search: every combination of the hyperparameters' grid values,
 * each once, trial n being the n-th combination with the last hyperparameter varying fastest
 * (scikit-learn's ParameterGrid order). */
#include <stdlib.h>

#include "tune_internal.h"

#define MAX_POINTS 1000000

typedef struct grid {
    int n;                                /* hyperparameters */
    int count[AG__TUNE_MAX_PARAMS];       /* grid values of each */
    double *values[AG__TUNE_MAX_PARAMS];
    int64_t total;                        /* product of the counts; 0 before bind */
} grid;

static void grid_free(void *state)
{
    grid *g = state;
    if (!g) return;
    for (int i = 0; i < g->n; i++) free(g->values[i]);
    free(g);
}

static int grid_bind(void *state, const ag_space *space)
{
    grid *g = state;
    if (g->total > 0) {
        ag__error("ag_strategy_grid: the strategy is already bound to a space");
        return -1;
    }
    int64_t total = 1;
    for (int i = 0; i < space->n; i++) {
        g->values[i] = ag__space_grid_values(space, i, &g->count[i]);
        if (!g->values[i]) return -1;
        g->n = i + 1;
        total *= g->count[i];
        if (total > MAX_POINTS) {
            ag__error("ag_strategy_grid: the grid has more than %d points (after '%s')",
                      MAX_POINTS, space->p[i].name);
            return -1;
        }
    }
    g->total = total;
    return 0;
}

static int64_t grid_size(void *state) { return ((grid *)state)->total; }

static int grid_next(void *state, const ag_study *s, ag_job *jobs, int cap)
{
    return ag__next_independent(s, ((grid *)state)->total, 0, jobs, cap);
}

static int grid_sample(void *state, const ag_study *s, int trial, ag_rng *rng, double *values)
{
    (void)s;
    (void)rng;
    grid *g = state;
    if (trial < 0 || trial >= g->total) {
        ag__error("ag_strategy_grid: trial %d is outside the grid of %lld points", trial,
                  (long long)g->total);
        return -1;
    }
    int64_t k = trial;
    for (int i = g->n - 1; i >= 0; i--) { /* mixed radix, last digit fastest */
        values[i] = g->values[i][k % g->count[i]];
        k /= g->count[i];
    }
    return 0;
}

static const ag_strategy_class grid_class = {
    .name = "grid",
    .bind = grid_bind,
    .size = grid_size,
    .next = grid_next,
    .sample = grid_sample,
    .free_state = grid_free,
};

ag_strategy *ag_strategy_grid(void)
{
    grid *g = calloc(1, sizeof *g);
    if (!g) {
        ag__error("ag_strategy_grid: out of memory");
        return NULL;
    }
    return ag_strategy_new(&grid_class, g);
}
