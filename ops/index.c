/* ops/index.c - selecting by integer (int64) indices along one axis: index_select (whole
 * slices, indices may repeat) and gather (one index per output element, as torch.gather; with
 * x [N, C] and one class per row it picks each row's target logit for a cross-entropy).
 *
 * Both read x at indexed positions, so their gradients add g back at those positions into
 * zeros of x's shape: the internal ops "index_add" and "scatter_add", whose own gradients are
 * index_select and gather again. Repeated indices accumulate; the adding kernels split the work
 * so that no two threads ever write the same element and the summation order is fixed.
 */
#include "../autograd/internal.h"

static int index_select_backward(ag_node *n, ag_tensor *y, ag_tensor *g, ag_tensor **gin);
static int index_add_backward(ag_node *n, ag_tensor *y, ag_tensor *g, ag_tensor **gin);
static int gather_backward(ag_node *n, ag_tensor *y, ag_tensor *g, ag_tensor **gin);
static int scatter_add_backward(ag_node *n, ag_tensor *y, ag_tensor *g, ag_tensor **gin);

/* index_select: y[o, j, i] = x[o, index[j], i].   dx = index_add(g): g[o, j, i] added at
 * x[o, index[j], i]. */
static const ag_op OP_INDEX_SELECT = {"index_select", index_select_backward};
/* index_add: y = zeros of x's shape, y[o, index[j], i] += g[o, j, i]. Linear; its adjoint is
 * dg = index_select(gy, axis, index). */
static const ag_op OP_INDEX_ADD = {"index_add", index_add_backward};
/* gather: y[o, j, i] = x[o, index[o, j, i], i].   dx = scatter_add(g): g[o, j, i] added at
 * x[o, index[o, j, i], i]. */
static const ag_op OP_GATHER = {"gather", gather_backward};
/* scatter_add: y = zeros of x's shape, y[o, index[o, j, i], i] += g[o, j, i]. Linear; its
 * adjoint is dg = gather(gy, axis, index). */
static const ag_op OP_SCATTER_ADD = {"scatter_add", scatter_add_backward};

/* Where the index of position (o, j, i) of the small side [outer, k, inner] lives:
 * idx[o*so + j*sj + i*si]. index_select: (0, 1, 0); gather: (k*inner, inner, 1). */
typedef struct imap {
    const int64_t *idx;
    int64_t so, sj, si;
} imap;

/* y [outer, k, inner] = x [outer, n, inner] read at the mapped indices. One output row per
 * iteration. */
static void select_kernel(const ag_tensor *x, ag_tensor *y, imap m, int64_t outer, int64_t n,
                          int64_t k, int64_t inner)
{
    int64_t rows = outer * k;
    AG_DISPATCH(y->dtype, T, const T *px = x->data; T *py = y->data;
        AG_PFOR_WORK(r, rows, rows * inner, {
            int64_t o = r / k, j = r % k;
            const int64_t *ix = m.idx + o * m.so + j * m.sj;
            const T *src = px + o * n * inner;
            T *dst = py + r * inner;
            if (m.si == 0) {
                src += ix[0] * inner;
                for (int64_t i = 0; i < inner; i++) dst[i] = src[i];
            } else {
                for (int64_t i = 0; i < inner; i++) dst[i] = src[ix[i * m.si] * inner + i];
            }
        }););
}

#define ADD_BLOCK 256

/* y [outer, n, inner] (zeroed here) += g [outer, k, inner] at the mapped indices. Work is split
 * by (o, block of i): every element of y belongs to one iteration, which adds its
 * contributions in order j = 0, 1, ..., so repeated indices accumulate deterministically. */
static void add_kernel(const ag_tensor *g, ag_tensor *y, imap m, int64_t outer, int64_t n,
                       int64_t k, int64_t inner)
{
    memset(y->data, 0, (size_t)y->numel * ag_dtype_size(y->dtype));
    int64_t nb = (inner + ADD_BLOCK - 1) / ADD_BLOCK, tasks = outer * nb;
    AG_DISPATCH(y->dtype, T, const T *pg = g->data; T *py = y->data;
        AG_PFOR_WORK(t, tasks, outer * k * inner, {
            int64_t o = t / nb, i0 = (t % nb) * ADD_BLOCK;
            int64_t i1 = i0 + ADD_BLOCK < inner ? i0 + ADD_BLOCK : inner;
            T *dst = py + o * n * inner;
            for (int64_t j = 0; j < k; j++) {
                const int64_t *ix = m.idx + o * m.so + j * m.sj;
                const T *src = pg + (o * k + j) * inner;
                if (m.si == 0) {
                    T *d = dst + ix[0] * inner;
                    for (int64_t i = i0; i < i1; i++) d[i] += src[i];
                } else {
                    for (int64_t i = i0; i < i1; i++) dst[ix[i * m.si] * inner + i] += src[i];
                }
            }
        }););
}

/* Shared argument checks: axis, k >= 0, a size that fits, an index array holding `count`
 * entries each in [0, size of axis). */
static bool check_args(const char *fn, ag_tensor *x, int axis, int *ax, const int64_t *index,
                       int64_t k, bool per_element, int64_t *count)
{
    char s[AG_SHAPE_BUF];
    if (!ag__check(fn, 1, &x)) return false;
    if (!ag__axis(fn, x, axis, ax)) return false;
    int64_t outer, n, inner;
    ag__axis_split(x, *ax, &outer, &n, &inner);
    if (k < 0) {
        ag__error("%s: the number of indices %lld is negative (x %s)", fn, (long long)k,
                  ag_shape_str(x, s, sizeof s));
        return false;
    }
    int64_t rest = per_element ? outer * inner : 1;
    if (rest > 0 && k > INT64_MAX / 16 / rest) {
        ag__error("%s: %lld indices per slice is too many (x %s)", fn, (long long)k,
                  ag_shape_str(x, s, sizeof s));
        return false;
    }
    *count = k * rest;
    if (*count > 0 && !index) {
        ag__error("%s: index is NULL but %lld indices are needed (x %s, axis %d)", fn,
                  (long long)*count, ag_shape_str(x, s, sizeof s), axis);
        return false;
    }
    for (int64_t i = 0; i < *count; i++) {
        if (index[i] < 0 || index[i] >= n) {
            if (n == 0)
                ag__error("%s: index[%lld] = %lld but axis %d of %s has size 0, so no index is "
                          "valid", fn, (long long)i, (long long)index[i], axis,
                          ag_shape_str(x, s, sizeof s));
            else
                ag__error("%s: index[%lld] = %lld is out of range for axis %d of %s (valid "
                          "indices: 0..%lld)", fn, (long long)i, (long long)index[i], axis,
                          ag_shape_str(x, s, sizeof s), (long long)(n - 1));
            return false;
        }
    }
    return true;
}

/* ---- index_select and index_add ---- */

/* The internal op of index_select's gradient: zeros of shape (ndim, shape) with g's slices
 * added at index along axis. */
static ag_tensor *index_add(ag_tensor *g, int ndim, const int64_t *shape, int axis,
                            const int64_t *index, int64_t nindex)
{
    if (!ag__check("ag_index_add", 1, &g)) return NULL;
    ag_tensor *y = ag__new(g->dtype, ndim, shape);
    if (!y) return NULL;
    int64_t outer, n, inner;
    ag__axis_split(y, axis, &outer, &n, &inner);
    add_kernel(g, y, (imap){index, 0, 1, 0}, outer, n, nindex, inner);
    ag_params p = {.axis = axis, .index = index, .nindex = nindex, .ndim = ndim};
    for (int d = 0; d < ndim; d++) p.dims[d] = shape[d];
    return ag__finish(y, &OP_INDEX_ADD, 1, &g, &p);
}

static int index_select_backward(ag_node *n, ag_tensor *y, ag_tensor *g, ag_tensor **gin)
{
    (void)y;
    ag_tensor *x = n->inputs[0];
    gin[0] = index_add(g, x->ndim, x->shape, n->p.axis, n->index, n->p.nindex);
    return gin[0] ? 0 : -1;
}

static int index_add_backward(ag_node *n, ag_tensor *y, ag_tensor *g, ag_tensor **gin)
{
    (void)y;
    gin[0] = ag_index_select(g, n->p.axis, n->index, n->p.nindex);
    return gin[0] ? 0 : -1;
}

ag_tensor *ag_index_select(ag_tensor *x, int axis, const int64_t *index, int64_t n)
{
    int ax;
    int64_t count, outer, size, inner, shape[AG_MAX_DIMS];
    if (!check_args("ag_index_select", x, axis, &ax, index, n, false, &count)) return NULL;
    ag__axis_split(x, ax, &outer, &size, &inner);
    for (int d = 0; d < x->ndim; d++) shape[d] = x->shape[d];
    shape[ax] = n;
    ag_tensor *y = ag__new(x->dtype, x->ndim, shape);
    if (!y) return NULL;
    select_kernel(x, y, (imap){index, 0, 1, 0}, outer, size, n, inner);
    ag_params p = {.axis = ax, .index = index, .nindex = n};
    return ag__finish(y, &OP_INDEX_SELECT, 1, &x, &p);
}

/* ---- gather and scatter_add ---- */

/* The internal op of gather's gradient: zeros of shape (ndim, shape) with each g[o, j, i]
 * added at [o, index[o, j, i], i] along axis. */
static ag_tensor *scatter_add(ag_tensor *g, int ndim, const int64_t *shape, int axis,
                              const int64_t *index)
{
    if (!ag__check("ag_scatter_add", 1, &g)) return NULL;
    ag_tensor *y = ag__new(g->dtype, ndim, shape);
    if (!y) return NULL;
    int64_t outer, n, inner, k = g->shape[axis];
    ag__axis_split(y, axis, &outer, &n, &inner);
    add_kernel(g, y, (imap){index, k * inner, inner, 1}, outer, n, k, inner);
    ag_params p = {.axis = axis, .index = index, .nindex = g->numel, .ndim = ndim};
    for (int d = 0; d < ndim; d++) p.dims[d] = shape[d];
    return ag__finish(y, &OP_SCATTER_ADD, 1, &g, &p);
}

static int gather_backward(ag_node *n, ag_tensor *y, ag_tensor *g, ag_tensor **gin)
{
    (void)y;
    ag_tensor *x = n->inputs[0];
    gin[0] = scatter_add(g, x->ndim, x->shape, n->p.axis, n->index);
    return gin[0] ? 0 : -1;
}

static int scatter_add_backward(ag_node *n, ag_tensor *y, ag_tensor *g, ag_tensor **gin)
{
    (void)y;
    int64_t k = n->inputs[0]->shape[n->p.axis];
    gin[0] = ag_gather(g, n->p.axis, n->index, k);
    return gin[0] ? 0 : -1;
}

ag_tensor *ag_gather(ag_tensor *x, int axis, const int64_t *index, int64_t k)
{
    int ax;
    int64_t count, outer, size, inner, shape[AG_MAX_DIMS];
    if (!check_args("ag_gather", x, axis, &ax, index, k, true, &count)) return NULL;
    ag__axis_split(x, ax, &outer, &size, &inner);
    for (int d = 0; d < x->ndim; d++) shape[d] = x->shape[d];
    shape[ax] = k;
    ag_tensor *y = ag__new(x->dtype, x->ndim, shape);
    if (!y) return NULL;
    select_kernel(x, y, (imap){index, k * inner, inner, 1}, outer, size, k, inner);
    ag_params p = {.axis = ax, .index = index, .nindex = count};
    return ag__finish(y, &OP_GATHER, 1, &x, &p);
}
