/* tests/reduce_test_util.h - helpers shared by test_reduce.c and test_softmax.c: the reduction
 * and softmax ops selected by a code, and a gradcheck of one of them at a random point.
 */
#ifndef REDUCE_TEST_UTIL_H
#define REDUCE_TEST_UTIL_H

#include "test_util.h"

enum rop { R_SUM, R_MEAN, R_MAX, R_MIN, R_SUM_ALL, R_MEAN_ALL, R_MAX_ALL, R_MIN_ALL,
           R_SOFTMAX, R_LOG_SOFTMAX, R_LOGSUMEXP };

typedef struct rctx { enum rop op; int axis; bool keepdim; } rctx;

static inline ag_tensor *rfn(ag_tensor *const *in, int n, void *ctx)
{
    (void)n;
    const rctx *c = ctx;
    switch (c->op) {
    case R_SUM: return ag_sum(in[0], c->axis, c->keepdim);
    case R_MEAN: return ag_mean(in[0], c->axis, c->keepdim);
    case R_MAX: return ag_max(in[0], c->axis, c->keepdim);
    case R_MIN: return ag_min(in[0], c->axis, c->keepdim);
    case R_SUM_ALL: return ag_sum_all(in[0]);
    case R_MEAN_ALL: return ag_mean_all(in[0]);
    case R_MAX_ALL: return ag_max_all(in[0]);
    case R_MIN_ALL: return ag_min_all(in[0]);
    case R_SOFTMAX: return ag_softmax(in[0], c->axis);
    case R_LOG_SOFTMAX: return ag_log_softmax(in[0], c->axis);
    case R_LOGSUMEXP: return ag_logsumexp(in[0], c->axis, c->keepdim);
    }
    return NULL;
}

/* gradcheck of op at a random float64 point of the given shape. */
static inline void check_grad(enum rop op, int axis, bool keepdim, int ndim, const int64_t *shape,
                       uint64_t seed, bool second_order)
{
    ag_scope *s = ag_scope_begin();
    ag_tensor *x = tu_param(seed, ndim, shape, -2, 2);
    rctx c = {op, axis, keepdim};
    expect_gradcheck(rfn, &c, 1, &x);
    if (second_order) expect_gradgradcheck(rfn, &c, 1, &x);
    ag_scope_end(s);
}

#endif
