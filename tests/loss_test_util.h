/* tests/loss_test_util.h - helpers shared by the loss tests (test_loss_torch.c,
 * test_loss_gradcheck.c, test_loss_api.c): calling a loss by its fixture kind, and class-index
 * targets.
 */
#ifndef LOSS_TEST_UTIL_H
#define LOSS_TEST_UTIL_H

#include "test_util.h"
#include "fixtures/losses.h"

static inline ag_tensor *call_loss(int kind, ag_tensor *x, ag_tensor *t, const ag_loss_opts *o)
{
    switch (kind) {
    case LOSS_MSE: return ag_mse_loss(x, t, o);
    case LOSS_L1: return ag_l1_loss(x, t, o);
    case LOSS_CE: return ag_cross_entropy(x, t, o);
    default: return ag_bce_with_logits(x, t, o);
    }
}

/* Index targets 0..C-1 cycling through the rows, as whole numbers. */
static inline ag_tensor *index_targets(int64_t n, int64_t c, int64_t shift)
{
    double v[16];
    for (int64_t i = 0; i < n; i++) v[i] = (double)((i * 3 + shift) % c);
    return tu_tensor(AG_F64, 1, (int64_t[]){n}, v);
}

#endif
