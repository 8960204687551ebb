/* ops/shape.c - ops that rearrange a tensor without computing new values: reshape (a view
 * sharing the input's data), permute (reorders the axes, copying) and transpose (swaps two axes
 * through the permute kernel).
 *
 * Their gradients move g back the same way: reshape g to the input's shape, or permute g by the
 * inverse permutation.
 */
#include "../autograd/internal.h"

static int reshape_backward(ag_node *n, ag_tensor *y, ag_tensor *g, ag_tensor **gin);
static int permute_backward(ag_node *n, ag_tensor *y, ag_tensor *g, ag_tensor **gin);

/* reshape: y = x with another shape (same elements, same order). dx = reshape(g, x's shape). */
static const ag_op OP_RESHAPE = {"reshape", reshape_backward};
/* permute: y[i_0..] = x[i at perm]. dx = permute(g, inverse perm). */
static const ag_op OP_PERMUTE = {"permute", permute_backward};
/* transpose: a permute that swaps two axes; it is its own inverse. dx = transpose(g, a0, a1). */
static const ag_op OP_TRANSPOSE = {"transpose", permute_backward};

static int reshape_backward(ag_node *n, ag_tensor *y, ag_tensor *g, ag_tensor **gin)
{
    (void)y;
    ag_tensor *x = n->inputs[0];
    return (gin[0] = ag_reshape(g, x->ndim, x->shape)) ? 0 : -1;
}

/* Shared by permute and transpose: the node's params hold the permutation (ndim, dims). */
static int permute_backward(ag_node *n, ag_tensor *y, ag_tensor *g, ag_tensor **gin)
{
    (void)y;
    int inv[AG_MAX_DIMS];
    for (int i = 0; i < n->p.ndim; i++) inv[n->p.dims[i]] = i;
    return (gin[0] = ag_permute(g, inv)) ? 0 : -1;
}

ag_tensor *ag_reshape(ag_tensor *x, int ndim, const int64_t *shape)
{
    if (!ag__check("ag_reshape", 1, &x)) return NULL;
    char a[AG_SHAPE_BUF], b[AG_SHAPE_BUF];
    if (ndim < 0 || ndim > AG_MAX_DIMS) {
        ag__error("ag_reshape: ndim %d out of range (0..%d) reshaping %s", ndim, AG_MAX_DIMS,
                  ag_shape_str(x, a, sizeof a));
        return NULL;
    }
    if (ndim > 0 && !shape) {
        ag__error("ag_reshape: shape is NULL for ndim %d (reshaping %s)", ndim,
                  ag_shape_str(x, a, sizeof a));
        return NULL;
    }
    int64_t out[AG_MAX_DIMS], known = 1;
    int infer = -1;
    for (int d = 0; d < ndim; d++) {
        out[d] = shape[d];
        if (shape[d] == -1) {
            if (infer >= 0) {
                ag__error("ag_reshape: more than one -1 in shape %s (reshaping %s); only one "
                          "size can be inferred", ag__shape_str(ndim, shape, b, sizeof b),
                          ag_shape_str(x, a, sizeof a));
                return NULL;
            }
            infer = d;
        } else if (shape[d] < 0) {
            ag__error("ag_reshape: negative size %lld in shape %s (reshaping %s); use -1 to "
                      "infer one size", (long long)shape[d],
                      ag__shape_str(ndim, shape, b, sizeof b), ag_shape_str(x, a, sizeof a));
            return NULL;
        } else if (known > 0 && shape[d] > INT64_MAX / known) {
            ag__error("ag_reshape: shape %s is too large (reshaping %s)",
                      ag__shape_str(ndim, shape, b, sizeof b), ag_shape_str(x, a, sizeof a));
            return NULL;
        } else {
            known *= shape[d];
        }
    }
    if (infer >= 0) {
        if (known == 0 || x->numel % known != 0) {
            ag__error("ag_reshape: cannot reshape %s (%lld elements) into %s: %s",
                      ag_shape_str(x, a, sizeof a), (long long)x->numel,
                      ag__shape_str(ndim, shape, b, sizeof b),
                      known == 0 ? "the -1 size is ambiguous next to a 0 size"
                                 : "the other sizes do not divide the element count");
            return NULL;
        }
        out[infer] = x->numel / known;
    } else if (known != x->numel) {
        ag__error("ag_reshape: cannot reshape %s (%lld elements) into %s (%lld elements); the "
                  "element count must stay the same", ag_shape_str(x, a, sizeof a),
                  (long long)x->numel, ag__shape_str(ndim, shape, b, sizeof b), (long long)known);
        return NULL;
    }
    ag_tensor *y = ag__new_view(x, ndim, out);
    return ag__finish(y, &OP_RESHAPE, 1, &x, NULL);
}

/* y = x with axes reordered: output axis d is input axis perm[d]. Walks y contiguously, one
 * row (last output axis) per iteration, reading x through the permuted strides. */
static void permute_kernel(const ag_tensor *x, const int *perm, ag_tensor *y)
{
    int nd = y->ndim;
    int64_t xs[AG_MAX_DIMS], st[AG_MAX_DIMS];
    if (y->numel == 0) return;
    if (nd == 0) {
        memcpy(y->data, x->data, ag_dtype_size(y->dtype));
        return;
    }
    int64_t s = 1;
    for (int d = nd - 1; d >= 0; d--) {
        xs[d] = s;
        s *= x->shape[d];
    }
    for (int d = 0; d < nd; d++) st[d] = xs[perm[d]];
    int64_t inner = y->shape[nd - 1], rows = y->numel / inner, step = st[nd - 1];
    const int64_t *ys = y->shape;
    AG_DISPATCH(y->dtype, T, const T *px = x->data; T *py = y->data;
        AG_PFOR_WORK(r, rows, y->numel, {
            int64_t off = 0, rem = r;
            for (int d = nd - 2; d >= 0; d--) {
                off += (rem % ys[d]) * st[d];
                rem /= ys[d];
            }
            T *dst = py + r * inner;
            const T *src = px + off;
            for (int64_t j = 0; j < inner; j++) dst[j] = src[j * step];
        }););
}

/* Validates perm against x (negative entries count from the end), then permutes. */
static ag_tensor *permute_op(const char *fn, const ag_op *op, ag_tensor *x, const int *perm)
{
    int nd = x->ndim, p[AG_MAX_DIMS];
    bool seen[AG_MAX_DIMS] = {false};
    char s[AG_SHAPE_BUF];
    if (nd > 0 && !perm) {
        ag__error("%s: perm is NULL for a tensor of shape %s (give %d axes)", fn,
                  ag_shape_str(x, s, sizeof s), nd);
        return NULL;
    }
    for (int d = 0; d < nd; d++) {
        int a = perm[d] < 0 ? perm[d] + nd : perm[d];
        if (a < 0 || a >= nd || seen[a]) {
            char list[64 + 12 * AG_MAX_DIMS];
            size_t len = 0;
            for (int i = 0; i < nd; i++)
                len += (size_t)snprintf(list + len, sizeof list - len, i ? ",%d" : "%d", perm[i]);
            if (a < 0 || a >= nd)
                ag__error("%s: perm [%s] is not a permutation of the %d axes of %s: entry %d "
                          "(%d) is out of range (valid: %d..%d)", fn, list, nd,
                          ag_shape_str(x, s, sizeof s), d, perm[d], -nd, nd - 1);
            else
                ag__error("%s: perm [%s] is not a permutation of the %d axes of %s: axis %d "
                          "appears more than once", fn, list, nd, ag_shape_str(x, s, sizeof s), a);
            return NULL;
        }
        seen[a] = true;
        p[d] = a;
    }
    int64_t shape[AG_MAX_DIMS];
    for (int d = 0; d < nd; d++) shape[d] = x->shape[p[d]];
    ag_tensor *y = ag__new(x->dtype, nd, shape);
    if (!y) return NULL;
    permute_kernel(x, p, y);
    ag_params par = {.ndim = nd};
    for (int d = 0; d < nd; d++) par.dims[d] = p[d];
    return ag__finish(y, op, 1, &x, &par);
}

ag_tensor *ag_permute(ag_tensor *x, const int *perm)
{
    if (!ag__check("ag_permute", 1, &x)) return NULL;
    return permute_op("ag_permute", &OP_PERMUTE, x, perm);
}

ag_tensor *ag_transpose(ag_tensor *x, int axis0, int axis1)
{
    int a0, a1, perm[AG_MAX_DIMS];
    if (!ag__check("ag_transpose", 1, &x)) return NULL;
    if (!ag__axis("ag_transpose", x, axis0, &a0) || !ag__axis("ag_transpose", x, axis1, &a1))
        return NULL;
    for (int d = 0; d < x->ndim; d++) perm[d] = d;
    perm[a0] = a1;
    perm[a1] = a0;
    return permute_op("ag_transpose", &OP_TRANSPOSE, x, perm);
}
