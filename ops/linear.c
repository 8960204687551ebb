/* ops/linear.c - the fused affine map of a fully connected layer, in PyTorch's layout:
 *     y = x W^T + b      x [..., in], W [out, in], b [out] or NULL  ->  y [..., out]
 *
 * Forward is one GEMM that reads W transposed while packing it and adds the bias while each
 * output tile is in cache (ops/gemm.c), instead of a transpose copy, a matmul and a broadcast
 * add. Backward is written with ops, so create_graph works through it:
 *     dx = g W (matmul)      dW = g^T x (ag__matmul_tn)      db = sum of g over the rows
 * with x and g seen as matrices [rows, in] and [rows, out].
 */
#include "../autograd/internal.h"
#include "gemm.h"

/* Product of all dimensions of x but the last (1 for a vector). */
static int64_t rows_of(const ag_tensor *x)
{
    int64_t r = 1;
    for (int d = 0; d < x->ndim - 1; d++) r *= x->shape[d];
    return r;
}

/* t as a [rows, cols] matrix: a new reference (t itself when already 2-D). */
static ag_tensor *as_matrix(ag_tensor *t, int64_t rows, int64_t cols)
{
    if (t->ndim == 2) {
        ag__retain(t);
        return t;
    }
    return ag_reshape(t, 2, (int64_t[]){rows, cols});
}

static int linear_backward(ag_node *n, ag_tensor *y, ag_tensor *g, ag_tensor **gin)
{
    (void)y;
    ag_tensor *x = n->inputs[0], *w = n->inputs[1], *b = n->ninputs > 2 ? n->inputs[2] : NULL;
    int64_t out = w->shape[0], in = w->shape[1], rows = rows_of(x);
    ag_tensor *g2 = as_matrix(g, rows, out), *x2 = NULL, *t = NULL;
    int rc = -1;
    if (!g2) return -1;
    if (x->requires_grad) {                       /* dx = g W */
        if (!(t = ag_matmul(g2, w))) goto done;
        if (x->ndim == 2) {
            gin[0] = t;
            t = NULL;
        } else if (!(gin[0] = ag_reshape(t, x->ndim, x->shape))) {
            goto done;
        }
    }
    if (w->requires_grad) {                       /* dW = g^T x */
        if (!(x2 = as_matrix(x, rows, in))) goto done;
        if (!(gin[1] = ag__matmul_tn(g2, x2))) goto done;
    }
    if (b && b->requires_grad && !(gin[2] = ag_sum(g2, 0, false))) goto done; /* db */
    rc = 0;
done:
    if (t) ag__release(t);
    if (x2) ag__release(x2);
    ag__release(g2);
    return rc;
}

static const ag_op OP_LINEAR = {"linear", linear_backward};

ag_tensor *ag_linear(ag_tensor *x, ag_tensor *w, ag_tensor *b)
{
    ag_tensor *in[3] = {x, w, b};
    int nin = b ? 3 : 2;
    char sx[AG_SHAPE_BUF], sw[AG_SHAPE_BUF], sb[AG_SHAPE_BUF];
    if (!ag__check("ag_linear", nin, in)) return NULL;
    if (w->ndim != 2) {
        ag__error("ag_linear: weight %s must be 2-D [out_features, in_features]",
                  ag_shape_str(w, sw, sizeof sw));
        return NULL;
    }
    int64_t out = w->shape[0], k = w->shape[1];
    if (x->ndim < 1 || x->shape[x->ndim - 1] != k) {
        ag_shape_str(x, sx, sizeof sx);
        ag_shape_str(w, sw, sizeof sw);
        if (x->ndim < 1)
            ag__error("ag_linear: input %s must have at least 1 dimension ([in_features] or "
                      "[..., in_features]; weight %s)", sx, sw);
        else
            ag__error("ag_linear: input %s does not match weight %s (the last dimension of the "
                      "input, %lld, must equal in_features, the weight's dimension 1: %lld)",
                      sx, sw, (long long)x->shape[x->ndim - 1], (long long)k);
        return NULL;
    }
    if (b && (b->ndim != 1 || b->shape[0] != out)) {
        ag__error("ag_linear: bias %s does not match weight %s (expected [%lld]: one value per "
                  "output feature)", ag_shape_str(b, sb, sizeof sb),
                  ag_shape_str(w, sw, sizeof sw), (long long)out);
        return NULL;
    }
    int64_t shape[AG_MAX_DIMS];
    memcpy(shape, x->shape, sizeof(int64_t) * (size_t)x->ndim);
    shape[x->ndim - 1] = out;
    int64_t rows = rows_of(x);
    if (out > 0 && rows > INT64_MAX / 16 / out) {
        ag__error("ag_linear: the result of input %s and weight %s would be too large",
                  ag_shape_str(x, sx, sizeof sx), ag_shape_str(w, sw, sizeof sw));
        return NULL;
    }
    ag_tensor *y = ag__new(x->dtype, x->ndim, shape);
    if (!y) return NULL;
    ag__gemm(&(ag_gemm_args){.dtype = x->dtype, .ta = false, .tb = true, .m = rows, .n = out,
                             .k = k, .alpha = 1, .beta = 0, .a = x->data, .lda = k,
                             .b = w->data, .ldb = k, .c = y->data, .ldc = out,
                             .bias = b ? b->data : NULL});
    return ag__finish(y, &OP_LINEAR, nin, in, NULL);
}
