/* tests/elementwise_test_util.h - helpers shared by the elementwise tests
 * (test_elementwise_grad.c, test_elementwise_unary.c, test_elementwise_where.c): small shapes,
 * float64 leaves that keep away from kinks, and the gradient of sum(y).
 */
#ifndef ELEMENTWISE_TEST_UTIL_H
#define ELEMENTWISE_TEST_UTIL_H

#include "test_util.h"

typedef struct shp { int nd; int64_t s[4]; } shp;

static inline int64_t shp_numel(shp s)
{
    int64_t n = 1;
    for (int d = 0; d < s.nd; d++) n *= s.s[d];
    return n;
}

/* A float64 leaf requiring grad. Smooth ops get uniform values in [lo, hi); ops with kinks
 * (relu, abs, clamp at -0.5/0.6, ...) get values near fixed centres at least 0.15 from any kink. */
static inline ag_tensor *leaf(uint64_t seed, shp s, double lo, double hi, bool kinky)
{
    if (!kinky) return tu_param(seed, s.nd, s.s, lo, hi);
    static const double centres[] = {-1.3, -0.8, -0.3, 0.35, 0.8, 1.2};
    double v[64];
    int64_t n = shp_numel(s);
    cr_assert(n <= 64);
    ag_rng r = ag_rng_seed(seed);
    for (int64_t i = 0; i < n; i++)
        v[i] = centres[(i + (int64_t)seed) % 6] + 0.1 * (ag_rng_uniform(&r) - 0.5);
    ag_tensor *t = tu_tensor(AG_F64, s.nd, s.s, v);
    ag_set_requires_grad(t, true);
    return t;
}

/* d(sum(y))/dx: backward from y seeded with ones; returns ag_grad(x). */
static inline ag_tensor *grad_of_sum(ag_tensor *y, ag_tensor *x)
{
    cr_assert(y, "op failed: %s", ag_last_error());
    ag_tensor *seed = ag_ones_like(y);
    ag_backward_opts o = {.seed = seed};
    cr_assert_eq(ag_backward_ex(y, &o), 0, "backward failed: %s", ag_last_error());
    ag_tensor *g = ag_grad(x);
    cr_assert(g, "no gradient reached x");
    return g;
}

#endif
