/* tests/nn_test_util.h - what the module tests (test_nn_layers.c, test_nn_module.c) share: the
 * live-tensor count and a finite-difference check of a module with respect to its input and
 * every one of its parameters.
 */
#ifndef NN_TEST_UTIL_H
#define NN_TEST_UTIL_H

#include "test_util.h"

static inline int64_t live(void) { return ag_memory_get_stats().live_tensors; }

/* inputs[0] is x; the rest are the module's own parameters, perturbed in place by gradcheck. */
static inline ag_tensor *run_module(ag_tensor *const *in, int n, void *ctx)
{
    (void)n;
    return ag_module_forward(ctx, in[0]);
}

static inline void gradcheck_module(ag_module *m, ag_tensor *x)
{
    int np = ag_module_num_params(m);
    ag_tensor *in[16] = {x};
    cr_assert(np < 16);
    for (int i = 0; i < np; i++) in[i + 1] = ag_module_params(m)[i];
    expect_gradcheck(run_module, m, np + 1, in);
}

#endif
