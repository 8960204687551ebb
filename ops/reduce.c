/* ops/reduce.c - reductions: sum, mean, max and min over one axis (optionally keeping it with
 * size 1) or over all elements (a 0-d result).
 *
 * Determinism: every result is computed in an order fixed by the shape alone, never by the
 * thread count. Over an axis, x is seen as [outer, n, inner]; each output element adds (or
 * compares) its n inputs in order (a contiguous row, inner == 1, is summed with eight running
 * sums in a fixed pattern: AG__SUM8 of ops/rows.h), and threads split the outputs. Over all
 * elements, x is cut into fixed blocks of BLOCK elements; each block is reduced on its own
 * (blocks in parallel) and the block results are then combined in order.
 *
 * Empty inputs: a sum of no elements is 0, a mean of none is NaN (0/0, as NumPy and PyTorch);
 * max/min of nothing is undefined and reported as an error.
 */
#include <stdlib.h>
#include <tgmath.h>

#include "../autograd/internal.h"
#include "rows.h"

enum kind { SUM, MEAN, MAX, MIN };

static const char *const FN_AXIS[] = {"ag_sum", "ag_mean", "ag_max", "ag_min"};
static const char *const FN_ALL[] = {"ag_sum_all", "ag_mean_all", "ag_max_all", "ag_min_all"};

#define BLOCK 4096 /* elements per block of a full reduction */
#define IBLK 256   /* inner positions handled together by one iteration of an axis reduction */

/* v replaces the running extreme m: larger (MAX) or smaller (MIN), or NaN (which then sticks). */
#define BETTER(k, v, m) ((k) == MAX ? ((v) > (m) || isnan(v)) : ((v) < (m) || isnan(v)))

/* y[o, i] = reduce_j x[o, j, i] with x viewed as [outer, n, inner]. n >= 1 for MAX/MIN. */
static void axis_kernel(const ag_tensor *x, ag_tensor *y, int axis, enum kind k)
{
    int64_t outer, n, inner;
    ag__axis_split(x, axis, &outer, &n, &inner);
    int64_t nblk = (inner + IBLK - 1) / IBLK, iters = outer * nblk;
    AG_DISPATCH(x->dtype, T, const T *px = x->data; T *py = y->data;
        AG_PFOR_WORK(it, iters, x->numel,
            int64_t o = it / nblk, i0 = (it % nblk) * IBLK;
            int64_t i1 = i0 + IBLK < inner ? i0 + IBLK : inner;
            T *yo = py + o * inner;
            const T *xo = px + o * n * inner;
            if ((k == SUM || k == MEAN) && inner == 1) {
                AG__SUM8(T, xo, 0, n, yo[0]); /* a contiguous row */
                if (k == MEAN) yo[0] = yo[0] / (T)n;
            } else if (k == SUM || k == MEAN) {
                for (int64_t i = i0; i < i1; i++) yo[i] = 0;
                for (int64_t j = 0; j < n; j++) {
                    const T *xr = xo + j * inner;
                    AG_SIMD
                    for (int64_t i = i0; i < i1; i++) yo[i] += xr[i];
                }
                if (k == MEAN) /* n == 0 gives 0/0 = NaN, as intended */
                    for (int64_t i = i0; i < i1; i++) yo[i] = yo[i] / (T)n;
            } else {
                for (int64_t i = i0; i < i1; i++) yo[i] = xo[i];
                for (int64_t j = 1; j < n; j++) {
                    const T *xr = xo + j * inner;
                    for (int64_t i = i0; i < i1; i++)
                        if (BETTER(k, xr[i], yo[i])) yo[i] = xr[i];
                }
            });
        );
}

/* Reduces all of x into the 0-d y, blockwise; `part` holds one partial result per block. */
static void all_kernel(const ag_tensor *x, ag_tensor *y, enum kind k, void *part)
{
    int64_t n = x->numel, nb = (n + BLOCK - 1) / BLOCK;
    AG_DISPATCH(x->dtype, T, const T *px = x->data; T *pp = part; T r;
        AG_PFOR_WORK(b, nb, n,
            int64_t lo = b * BLOCK, hi = lo + BLOCK < n ? lo + BLOCK : n;
            if (k == SUM || k == MEAN) {
                AG__SUM8(T, px, lo, hi, pp[b]);
            } else {
                T m = px[lo];
                for (int64_t j = lo + 1; j < hi; j++)
                    if (BETTER(k, px[j], m)) m = px[j];
                pp[b] = m;
            });
        if (k == SUM || k == MEAN) {
            r = 0;
            for (int64_t b = 0; b < nb; b++) r += pp[b];
            if (k == MEAN) r = r / (T)n; /* n == 0: NaN */
        } else {
            r = pp[0];
            for (int64_t b = 1; b < nb; b++)
                if (BETTER(k, pp[b], r)) r = pp[b];
        }
        *(T *)y->data = r;);
}

/* x's shape with `axis` set to 1: the shape of a keepdim result. */
static void keep_shape(const ag_tensor *x, int axis, int64_t *shape)
{
    for (int d = 0; d < x->ndim; d++) shape[d] = d == axis ? 1 : x->shape[d];
}

/* t (a result over `axis`, with or without the axis) as its keepdim shape; a new reference.
 * Shared with the softmax family (declared in internal.h). */
ag_tensor *ag__as_keepdim(ag_tensor *t, const ag_tensor *x, int axis, bool keepdim)
{
    int64_t shape[AG_MAX_DIMS];
    if (keepdim) {
        ag__retain(t);
        return t;
    }
    keep_shape(x, axis, shape);
    return ag_reshape(t, x->ndim, shape);
}

/* sum over axis: y = sum_j x_j.   dx_j = g (g restored to keepdim shape, broadcast to x). */
static int sum_backward(ag_node *n, ag_tensor *y, ag_tensor *g, ag_tensor **gin)
{
    (void)y;
    ag_tensor *x = n->inputs[0];
    ag_tensor *gk = ag__as_keepdim(g, x, n->p.axis, n->p.keepdim);
    gin[0] = ag_broadcast_to(gk, x->ndim, x->shape);
    ag__release(gk);
    return gin[0] ? 0 : -1;
}

/* mean over axis: y = (1/n) sum_j x_j.   dx_j = g/n (broadcast to x). */
static int mean_backward(ag_node *n, ag_tensor *y, ag_tensor *g, ag_tensor **gin)
{
    (void)y;
    ag_tensor *x = n->inputs[0];
    int64_t len = x->shape[n->p.axis];
    ag_tensor *gk = ag__as_keepdim(g, x, n->p.axis, n->p.keepdim);
    ag_tensor *gs = ag_mul_scalar(gk, len ? 1.0 / (double)len : 0.0);
    gin[0] = ag_broadcast_to(gs, x->ndim, x->shape);
    ag__release(gk);
    ag__release(gs);
    return gin[0] ? 0 : -1;
}

/* max/min over axis: y = x_j* (the extreme).   dx_j = g*[x_j == y]/count(x == y): tied extremes
 * share the gradient equally. The mask is a constant (comparisons have no gradient). */
static int extreme_backward(ag_node *n, ag_tensor *y, ag_tensor *g, ag_tensor **gin)
{
    ag_tensor *x = n->inputs[0];
    int axis = n->p.axis;
    ag_tensor *gk = ag__as_keepdim(g, x, axis, n->p.keepdim);
    ag_tensor *yk = ag__as_keepdim(y, x, axis, n->p.keepdim);
    ag_tensor *mask = ag_eq(x, yk);
    ag_tensor *count = ag_sum(mask, axis, true);
    ag_tensor *share = ag_div(gk, count);
    gin[0] = ag_mul(mask, share);
    ag__release(gk);
    ag__release(yk);
    ag__release(mask);
    ag__release(count);
    ag__release(share);
    return gin[0] ? 0 : -1;
}

/* sum_all: y = sum_i x_i.   dx_i = g (the 0-d g broadcast to x). */
static int sum_all_backward(ag_node *n, ag_tensor *y, ag_tensor *g, ag_tensor **gin)
{
    (void)y;
    ag_tensor *x = n->inputs[0];
    return (gin[0] = ag_broadcast_to(g, x->ndim, x->shape)) ? 0 : -1;
}

/* mean_all: y = (1/N) sum_i x_i.   dx_i = g/N. */
static int mean_all_backward(ag_node *n, ag_tensor *y, ag_tensor *g, ag_tensor **gin)
{
    (void)y;
    ag_tensor *x = n->inputs[0];
    ag_tensor *gs = ag_mul_scalar(g, x->numel ? 1.0 / (double)x->numel : 0.0);
    gin[0] = ag_broadcast_to(gs, x->ndim, x->shape);
    ag__release(gs);
    return gin[0] ? 0 : -1;
}

/* max_all/min_all: y = the extreme.   dx_i = g*[x_i == y]/count(x == y). */
static int extreme_all_backward(ag_node *n, ag_tensor *y, ag_tensor *g, ag_tensor **gin)
{
    ag_tensor *x = n->inputs[0];
    ag_tensor *mask = ag_eq(x, y);
    ag_tensor *count = ag_sum_all(mask);
    ag_tensor *share = ag_div(g, count);
    gin[0] = ag_mul(mask, share);
    ag__release(mask);
    ag__release(count);
    ag__release(share);
    return gin[0] ? 0 : -1;
}

static const ag_op OP_SUM = {"sum", sum_backward};
static const ag_op OP_MEAN = {"mean", mean_backward};
static const ag_op OP_MAX = {"max", extreme_backward};
static const ag_op OP_MIN = {"min", extreme_backward};
static const ag_op OP_SUM_ALL = {"sum_all", sum_all_backward};
static const ag_op OP_MEAN_ALL = {"mean_all", mean_all_backward};
static const ag_op OP_MAX_ALL = {"max_all", extreme_all_backward};
static const ag_op OP_MIN_ALL = {"min_all", extreme_all_backward};

static const ag_op *const OPS_AXIS[] = {&OP_SUM, &OP_MEAN, &OP_MAX, &OP_MIN};
static const ag_op *const OPS_ALL[] = {&OP_SUM_ALL, &OP_MEAN_ALL, &OP_MAX_ALL, &OP_MIN_ALL};

static ag_tensor *reduce_axis(enum kind k, ag_tensor *x, int axis, bool keepdim)
{
    const char *fn = FN_AXIS[k];
    int ax;
    if (!ag__check(fn, 1, &x) || !ag__axis(fn, x, axis, &ax)) return NULL;
    if ((k == MAX || k == MIN) && x->shape[ax] == 0) {
        char s[AG_SHAPE_BUF];
        ag__error("%s: axis %d of shape %s is empty; the %s of no elements is undefined", fn,
                  axis, ag_shape_str(x, s, sizeof s), k == MAX ? "maximum" : "minimum");
        return NULL;
    }
    int64_t shape[AG_MAX_DIMS];
    int nd = 0;
    for (int d = 0; d < x->ndim; d++) {
        if (d != ax) shape[nd++] = x->shape[d];
        else if (keepdim) shape[nd++] = 1;
    }
    ag_tensor *y = ag__new(x->dtype, nd, shape);
    if (!y) return NULL;
    axis_kernel(x, y, ax, k);
    ag_params p = {.axis = ax, .keepdim = keepdim};
    return ag__finish(y, OPS_AXIS[k], 1, &x, &p);
}

static ag_tensor *reduce_all(enum kind k, ag_tensor *x)
{
    const char *fn = FN_ALL[k];
    if (!ag__check(fn, 1, &x)) return NULL;
    if ((k == MAX || k == MIN) && x->numel == 0) {
        char s[AG_SHAPE_BUF];
        ag__error("%s: the tensor of shape %s is empty; the %s of no elements is undefined", fn,
                  ag_shape_str(x, s, sizeof s), k == MAX ? "maximum" : "minimum");
        return NULL;
    }
    /* scratch first: a failure after ag__new would leave y to the scope */
    int64_t nb = (x->numel + BLOCK - 1) / BLOCK;
    int cls = -1;
    double stack_part[16];
    void *part = stack_part;
    if (nb > 16 && !(part = ag__alloc_bytes((size_t)nb * sizeof(double), &cls))) {
        char s[AG_SHAPE_BUF];
        ag__error("%s: out of memory reducing shape %s", fn, ag_shape_str(x, s, sizeof s));
        return NULL;
    }
    ag_tensor *y = ag__new(x->dtype, 0, NULL);
    if (y) all_kernel(x, y, k, part);
    if (cls >= 0) ag__free_bytes(part, cls);
    if (!y) return NULL;
    return ag__finish(y, OPS_ALL[k], 1, &x, NULL);
}

ag_tensor *ag_sum(ag_tensor *x, int axis, bool keepdim) { return reduce_axis(SUM, x, axis, keepdim); }
ag_tensor *ag_mean(ag_tensor *x, int axis, bool keepdim) { return reduce_axis(MEAN, x, axis, keepdim); }
ag_tensor *ag_max(ag_tensor *x, int axis, bool keepdim) { return reduce_axis(MAX, x, axis, keepdim); }
ag_tensor *ag_min(ag_tensor *x, int axis, bool keepdim) { return reduce_axis(MIN, x, axis, keepdim); }
ag_tensor *ag_sum_all(ag_tensor *x) { return reduce_all(SUM, x); }
ag_tensor *ag_mean_all(ag_tensor *x) { return reduce_all(MEAN, x); }
ag_tensor *ag_max_all(ag_tensor *x) { return reduce_all(MAX, x); }
ag_tensor *ag_min_all(ag_tensor *x) { return reduce_all(MIN, x); }
