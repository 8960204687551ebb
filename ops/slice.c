/* ops/slice.c - taking a strided range of one axis (slice) and joining tensors along an axis
 * (concat), which are each other's gradients: the gradient of a slice puts g back into zeros
 * of the input's shape (the internal op "slice_backward"), and the gradient of a concat hands
 * each input its own slice of g.
 */
#include "../autograd/internal.h"

static int slice_backward(ag_node *n, ag_tensor *y, ag_tensor *g, ag_tensor **gin);
static int slice_scatter_backward(ag_node *n, ag_tensor *y, ag_tensor *g, ag_tensor **gin);
static int concat_backward(ag_node *n, ag_tensor *y, ag_tensor *g, ag_tensor **gin);

/* slice: y = x[..., start:stop:step, ...].   dx = zeros of x's shape with g at the sliced
 * positions (slice_backward). */
static const ag_op OP_SLICE = {"slice", slice_backward};
/* slice_backward: y = zeros of a shape with g written at start:stop:step. It is linear, and
 * its adjoint is the slice itself:   dg = slice(gy, axis, start, stop, step). */
static const ag_op OP_SLICE_SCATTER = {"slice_backward", slice_scatter_backward};
/* concat: y = [x_0, x_1, ...] along axis.   dx_i = slice(g, axis, off_i, off_i + size_i, 1). */
static const ag_op OP_CONCAT = {"concat", concat_backward};

/* Number of elements of start:stop:step once normalised (0 <= start, stop <= n, step >= 1). */
static int64_t slice_count(int64_t start, int64_t stop, int64_t step)
{
    return stop > start ? (stop - start - 1) / step + 1 : 0;
}

/* Copies `count` rows of `inner` elements, `outer` times: dst row (o, j) <- src row
 * (o, start + j*step), where dst has `count` and src `n` rows per outer block. With `scatter`
 * the roles swap (src row (o, j) -> dst row (o, start + j*step)); rows never collide. */
static void slice_copy(ag_dtype dt, const void *src, void *dst, int64_t outer, int64_t n,
                       int64_t inner, int64_t start, int64_t step, int64_t count, bool scatter)
{
    int64_t rows = outer * count;
    AG_DISPATCH(dt, T, const T *ps = src; T *pd = dst;
        AG_PFOR_WORK(r, rows, rows * inner, {
            int64_t o = r / count, j = r % count;
            int64_t big = (o * n + start + j * step) * inner, small = r * inner;
            const T *s = ps + (scatter ? small : big);
            T *d = pd + (scatter ? big : small);
            for (int64_t i = 0; i < inner; i++) d[i] = s[i];
        }););
}

/* The internal op behind slice's gradient: zeros of shape (ndim, shape) with g placed at
 * start:stop:step (normalised) along axis. */
static ag_tensor *slice_scatter(ag_tensor *g, int ndim, const int64_t *shape, int axis,
                                int64_t start, int64_t stop, int64_t step)
{
    if (!ag__check("ag_slice_backward", 1, &g)) return NULL;
    ag_tensor *y = ag__new(g->dtype, ndim, shape);
    if (!y) return NULL;
    int64_t outer, n, inner;
    ag__axis_split(y, axis, &outer, &n, &inner);
    memset(y->data, 0, (size_t)y->numel * ag_dtype_size(y->dtype));
    slice_copy(y->dtype, g->data, y->data, outer, n, inner, start, step,
               slice_count(start, stop, step), true);
    ag_params p = {.axis = axis, .start = start, .stop = stop, .step = step, .ndim = ndim};
    for (int d = 0; d < ndim; d++) p.dims[d] = shape[d];
    return ag__finish(y, &OP_SLICE_SCATTER, 1, &g, &p);
}

static int slice_backward(ag_node *n, ag_tensor *y, ag_tensor *g, ag_tensor **gin)
{
    (void)y;
    ag_tensor *x = n->inputs[0];
    gin[0] = slice_scatter(g, x->ndim, x->shape, n->p.axis, n->p.start, n->p.stop, n->p.step);
    return gin[0] ? 0 : -1;
}

static int slice_scatter_backward(ag_node *n, ag_tensor *y, ag_tensor *g, ag_tensor **gin)
{
    (void)y;
    gin[0] = ag_slice(g, n->p.axis, n->p.start, n->p.stop, n->p.step);
    return gin[0] ? 0 : -1;
}

ag_tensor *ag_slice(ag_tensor *x, int axis, int64_t start, int64_t stop, int64_t step)
{
    int ax;
    if (!ag__check("ag_slice", 1, &x)) return NULL;
    if (!ag__axis("ag_slice", x, axis, &ax)) return NULL;
    if (step < 1) {
        char s[AG_SHAPE_BUF];
        ag__error("ag_slice: step %lld must be >= 1 (slicing axis %d of %s; reversed slices are "
                  "not supported)", (long long)step, axis, ag_shape_str(x, s, sizeof s));
        return NULL;
    }
    /* Python semantics: negative bounds count from the end, then both are clipped to [0, n]. */
    int64_t n = x->shape[ax];
    if (start < 0) start = start < -n ? 0 : start + n;
    if (stop < 0) stop = stop < -n ? 0 : stop + n;
    if (start > n) start = n;
    if (stop > n) stop = n;
    if (stop < start) stop = start;
    int64_t count = slice_count(start, stop, step), shape[AG_MAX_DIMS], outer, size, inner;
    for (int d = 0; d < x->ndim; d++) shape[d] = x->shape[d];
    shape[ax] = count;
    ag_tensor *y = ag__new(x->dtype, x->ndim, shape);
    if (!y) return NULL;
    ag__axis_split(x, ax, &outer, &size, &inner);
    slice_copy(x->dtype, x->data, y->data, outer, size, inner, start, step, count, false);
    ag_params p = {.axis = ax, .start = start, .stop = stop, .step = step};
    return ag__finish(y, &OP_SLICE, 1, &x, &p);
}

static int concat_backward(ag_node *n, ag_tensor *y, ag_tensor *g, ag_tensor **gin)
{
    (void)y;
    int axis = n->p.axis;
    int64_t off = 0;
    for (int i = 0; i < n->ninputs; i++) {
        int64_t size = n->inputs[i]->shape[axis];
        if (n->inputs[i]->requires_grad && !(gin[i] = ag_slice(g, axis, off, off + size, 1)))
            return -1;
        off += size;
    }
    return 0;
}

ag_tensor *ag_concat(int n, ag_tensor *const *xs, int axis)
{
    char a[AG_SHAPE_BUF], b[AG_SHAPE_BUF];
    int ax;
    if (n < 1 || !xs) {
        ag__error("ag_concat: need an array of at least one tensor (got n = %d, xs %s)", n,
                  xs ? "set" : "NULL");
        return NULL;
    }
    for (int i = 0; i < n; i++) {
        if (!xs[i]) {
            /* Keep the error of the op that produced the NULL, as ag__check does. */
            if (!ag_has_error()) ag__error("ag_concat: xs[%d] is NULL", i);
            return NULL;
        }
    }
    if (!ag__check("ag_concat", n, xs)) return NULL;
    if (!ag__axis("ag_concat", xs[0], axis, &ax)) return NULL;
    int nd = xs[0]->ndim;
    int64_t shape[AG_MAX_DIMS];
    for (int d = 0; d < nd; d++) shape[d] = xs[0]->shape[d];
    for (int i = 1; i < n; i++) {
        bool ok = xs[i]->ndim == nd;
        for (int d = 0; ok && d < nd; d++)
            if (d != ax && xs[i]->shape[d] != shape[d]) ok = false;
        if (!ok) {
            ag__error("ag_concat: xs[%d] has shape %s but xs[0] has %s: tensors must have the same "
                      "number of dimensions and equal sizes except on axis %d", i,
                      ag_shape_str(xs[i], a, sizeof a), ag_shape_str(xs[0], b, sizeof b), axis);
            return NULL;
        }
        if (xs[i]->shape[ax] > INT64_MAX / 16 - shape[ax]) {
            ag__error("ag_concat: joining xs[%d] %s along axis %d makes a tensor too large "
                      "(xs[0] is %s)", i, ag_shape_str(xs[i], a, sizeof a), axis,
                      ag_shape_str(xs[0], b, sizeof b));
            return NULL;
        }
        shape[ax] += xs[i]->shape[ax];
    }
    ag_tensor *y = ag__new(xs[0]->dtype, nd, shape);
    if (!y) return NULL;
    /* Input i fills rows off_i .. off_i + size_i of every outer block of y: a slice scatter. */
    int64_t outer, total, inner, off = 0;
    ag__axis_split(y, ax, &outer, &total, &inner);
    for (int i = 0; i < n; i++) {
        int64_t size = xs[i]->shape[ax];
        slice_copy(y->dtype, xs[i]->data, y->data, outer, total, inner, off, 1, size, true);
        off += size;
    }
    ag_params p = {.axis = ax};
    return ag__finish(y, &OP_CONCAT, n, xs, &p);
}
