/* nn/loss_internal.h - what nn/loss.c and nn/loss_ce.c share: option and argument checks and the
 * reduction step. A loss returns its result from its private scope with ag__scope_return
 * (nn_internal.h).
 * Not installed.
 */
#ifndef AG_NN_LOSS_INTERNAL_H
#define AG_NN_LOSS_INTERNAL_H

#include "nn_internal.h"

/* Which options a loss accepts besides the reduction. */
enum { AG__LOSS_SMOOTHING = 1, AG__LOSS_CLASS_WEIGHTS = 2, AG__LOSS_POS_WEIGHT = 4 };

/* Copies *opts (or the defaults for NULL) into *out and checks it: a known reduction, and no
 * option that `fn` does not take (`allowed` is a set of AG__LOSS_* flags). Records an error
 * naming fn and returns false otherwise. */
bool ag__loss_opts(const char *fn, const ag_loss_opts *opts, unsigned allowed, ag_loss_opts *out);

/* Both tensors are non-NULL (named `a_name` and `b_name` in the message) and share a dtype. A NULL
 * keeps an earlier error, like the ops (it is the root cause of a failed nested expression). */
bool ag__loss_pair(const char *fn, ag_tensor *a, const char *a_name, ag_tensor *b,
                   const char *b_name);

/* Applies the reduction to per-element losses: mean or sum over all elements (a 0-d tensor),
 * or `per` itself for AG_REDUCE_NONE. */
ag_tensor *ag__loss_reduce(ag_tensor *per, ag_reduction r);


#endif
