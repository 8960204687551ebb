/* autograd/ops.h - differentiable operations.
 *
 * Every op returns a new tensor (owned by the current scope, or by the caller when no scope is
 * active) and, when an input requires grad and grad mode is on, records its backward rule.
 * Inputs must share one dtype. Binary ops broadcast as NumPy does: shapes are aligned from the
 * right and a dimension of size 1 stretches to match; backward sums a broadcast gradient back to
 * its input's shape. Negative axes count from the end (-1 is the last axis).
 *
 * Any NULL input makes an op return NULL without touching the recorded error, so a nested
 * expression reports its first failure.
 *
 * The derivative of each op is given next to its declaration (g is the incoming gradient).
 */
#ifndef AUTOGRAD_OPS_H
#define AUTOGRAD_OPS_H

#include <stdbool.h>
#include "tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- elementwise arithmetic (broadcasting) ---- */
ag_tensor *ag_add(ag_tensor *a, ag_tensor *b);   /* a + b      da: g          db: g           */
ag_tensor *ag_sub(ag_tensor *a, ag_tensor *b);   /* a - b      da: g          db: -g          */
ag_tensor *ag_mul(ag_tensor *a, ag_tensor *b);   /* a * b      da: g*b        db: g*a         */
ag_tensor *ag_div(ag_tensor *a, ag_tensor *b);   /* a / b      da: g/b        db: -g*a/b^2    */

/* With a constant scalar (no tensor needed for the constant). */
ag_tensor *ag_add_scalar(ag_tensor *a, double s); /* a + s     da: g                          */
ag_tensor *ag_mul_scalar(ag_tensor *a, double s); /* a * s     da: g*s                        */
ag_tensor *ag_rsub_scalar(double s, ag_tensor *a);/* s - a     da: -g                         */

/* ---- elementwise functions ---- */
ag_tensor *ag_neg(ag_tensor *x);                 /* -x          dx: -g                         */
ag_tensor *ag_pow(ag_tensor *x, double p);       /* x^p         dx: g*p*x^(p-1)                */
ag_tensor *ag_exp(ag_tensor *x);                 /* e^x         dx: g*e^x                      */
ag_tensor *ag_log(ag_tensor *x);                 /* ln x        dx: g/x                        */
ag_tensor *ag_sqrt(ag_tensor *x);                /* sqrt x      dx: g/(2 sqrt x)               */
ag_tensor *ag_abs(ag_tensor *x);                 /* |x|         dx: g*sign(x) (0 at 0)         */
ag_tensor *ag_sign(ag_tensor *x);                /* -1, 0 or 1; constant: no gradient          */
ag_tensor *ag_tanh(ag_tensor *x);                /* tanh x      dx: g*(1 - tanh^2 x)           */
ag_tensor *ag_sigmoid(ag_tensor *x);             /* s=1/(1+e^-x) dx: g*s*(1-s)                 */
ag_tensor *ag_relu(ag_tensor *x);                /* max(x,0)    dx: g*[x>0]                    */
ag_tensor *ag_leaky_relu(ag_tensor *x, double slope); /* x>0 ? x : slope*x  dx: g*(x>0 ? 1 : slope) */
ag_tensor *ag_softplus(ag_tensor *x);            /* ln(1+e^x)   dx: g*sigmoid(x)  (stable form) */
/* min(max(x, lo), hi)   dx: g*[lo <= x <= hi]. lo may be -INFINITY, hi INFINITY; lo <= hi. */
ag_tensor *ag_clamp(ag_tensor *x, double lo, double hi);

/* ---- matrix product ---- */
/* a [..., m, k] @ b [..., k, n] -> [..., m, n]. Both must have at least 2 dimensions; leading
 * (batch) dimensions broadcast.   da: g @ b^T    db: a^T @ g   (summed over broadcast batches) */
ag_tensor *ag_matmul(ag_tensor *a, ag_tensor *b);
/* Fully connected layer, PyTorch layout: y = x W^T + b with x [..., in] (a vector [in] or a
 * batch [rows, in]), W [out, in], b [out] or NULL (no bias) -> y [..., out]. One fused pass:
 * no transposed copy of W, the bias added as each output tile is written.
 *                 dx: g W      dW: g^T x (rows summed)      db: g summed over the rows    */
ag_tensor *ag_linear(ag_tensor *x, ag_tensor *w, ag_tensor *b);

/* ---- reductions ---- */
/* Over one axis (keepdim keeps it with size 1) or over all elements (a 0-d result). */
ag_tensor *ag_sum(ag_tensor *x, int axis, bool keepdim);   /* dx: g broadcast to x's shape     */
ag_tensor *ag_mean(ag_tensor *x, int axis, bool keepdim);  /* dx: g/n broadcast                */
ag_tensor *ag_sum_all(ag_tensor *x);                       /* dx: g broadcast                  */
ag_tensor *ag_mean_all(ag_tensor *x);                      /* dx: g/numel broadcast            */
/* Maximum/minimum over an axis or all. The gradient is shared equally among tied extremes
 * (like torch.amax):  dx: g*[x == max]/count(x == max). */
ag_tensor *ag_max(ag_tensor *x, int axis, bool keepdim);
ag_tensor *ag_min(ag_tensor *x, int axis, bool keepdim);
ag_tensor *ag_max_all(ag_tensor *x);
ag_tensor *ag_min_all(ag_tensor *x);
/* Sums `x` down to `shape` (the reverse of broadcasting): dx: g broadcast back. */
ag_tensor *ag_sum_to(ag_tensor *x, int ndim, const int64_t *shape);

/* ---- softmax family (numerically stable: logits of 1000 stay finite) ---- */
/* y = e^x / sum e^x along axis            dx: y*(g - sum(g*y))                          */
ag_tensor *ag_softmax(ag_tensor *x, int axis);
/* y = x - logsumexp(x) along axis         dx: g - softmax(x)*sum(g)                     */
ag_tensor *ag_log_softmax(ag_tensor *x, int axis);
/* y = log sum e^x along axis              dx: g*softmax(x)                              */
ag_tensor *ag_logsumexp(ag_tensor *x, int axis, bool keepdim);

/* ---- shape ---- */
/* Same values in a new shape with the same element count. One entry of `shape` may be -1
 * (inferred).                              dx: reshape(g, x's shape)                    */
ag_tensor *ag_reshape(ag_tensor *x, int ndim, const int64_t *shape);
/* Reorders dimensions: output axis i is input axis perm[i].   dx: permute(g, inverse perm) */
ag_tensor *ag_permute(ag_tensor *x, const int *perm);
/* Swaps two axes.                          dx: transpose(g, a0, a1)                      */
ag_tensor *ag_transpose(ag_tensor *x, int axis0, int axis1);
/* Elements start, start+step, ... (< stop) along `axis`; step >= 1; start/stop may be negative
 * (from the end) and are clipped to the axis like Python slices.   dx: g scattered into zeros */
ag_tensor *ag_slice(ag_tensor *x, int axis, int64_t start, int64_t stop, int64_t step);
/* Joins n tensors along `axis` (other sizes equal).   dx_i: the matching slice of g       */
ag_tensor *ag_concat(int n, ag_tensor *const *xs, int axis);
/* Stretches size-1 / missing leading dimensions to `shape`.   dx: sum_to(g, x's shape)    */
ag_tensor *ag_broadcast_to(ag_tensor *x, int ndim, const int64_t *shape);

/* ---- comparisons and selection (masks are 0/1 tensors of the inputs' dtype; no gradient) ---- */
ag_tensor *ag_eq(ag_tensor *a, ag_tensor *b);
ag_tensor *ag_ne(ag_tensor *a, ag_tensor *b);
ag_tensor *ag_lt(ag_tensor *a, ag_tensor *b);
ag_tensor *ag_le(ag_tensor *a, ag_tensor *b);
ag_tensor *ag_gt(ag_tensor *a, ag_tensor *b);
ag_tensor *ag_ge(ag_tensor *a, ag_tensor *b);
/* cond != 0 ? a : b, all three broadcasting.   da: g*[cond]   db: g*[!cond]; cond: none   */
ag_tensor *ag_where(ag_tensor *cond, ag_tensor *a, ag_tensor *b);

/* ---- type conversion ---- */
/* The same values in another dtype.        dx: cast(g, x's dtype)                       */
ag_tensor *ag_cast(ag_tensor *x, ag_dtype dtype);

/* ---- indexing by integer indices ---- */
/* Selects `n` slices of x along `axis` (indices may repeat): output has size n on that axis.
 *                                          dx: g's slices added at their indices          */
ag_tensor *ag_index_select(ag_tensor *x, int axis, const int64_t *index, int64_t n);
/* out[..., j, ...] = x[..., index[..., j, ...], ...] along `axis`, as torch.gather: the output
 * has x's shape except size k on `axis`, and `index` holds that many elements (row-major).
 * With x [N, C], axis 1, k 1 and one class index per row, this picks each row's target logit.
 *                                          dx: g added at the gathered positions          */
ag_tensor *ag_gather(ag_tensor *x, int axis, const int64_t *index, int64_t k);

#ifdef __cplusplus
}
#endif
#endif
