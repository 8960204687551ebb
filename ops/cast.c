/* ops/cast.c - dtype conversion (float32 <-> float64).
 *
 * Ops never mix dtypes, so cast is the one bridge between them. It is differentiable: the
 * gradient is cast back to the input's dtype. Casting to the same dtype still makes a copy and
 * records the op, so gradients flow through it like through any other op. float64 values
 * outside float32's range become +-Inf, as IEEE rounding says.
 */
#include "../autograd/internal.h"

/* cast: y = x in another dtype.   dy/dx = 1: dx = cast(g, x's dtype). */
static int cast_backward(ag_node *n, ag_tensor *y, ag_tensor *g, ag_tensor **gin)
{
    (void)y;
    return (gin[0] = ag_cast(g, n->inputs[0]->dtype)) ? 0 : -1;
}

static const ag_op OP_CAST = {"cast", cast_backward};

ag_tensor *ag_cast(ag_tensor *x, ag_dtype dtype)
{
    if (!ag__check("ag_cast", 1, &x)) return NULL;
    if (dtype != AG_F32 && dtype != AG_F64) {
        char s[AG_SHAPE_BUF];
        ag__error("ag_cast: invalid dtype %d for input %s (use AG_F32 or AG_F64)", (int)dtype,
                  ag_shape_str(x, s, sizeof s));
        return NULL;
    }
    ag_tensor *y = ag__new(dtype, x->ndim, x->shape);
    if (!y) return NULL;
    int64_t n = x->numel;
    AG_DISPATCH(x->dtype, S, const S *px = x->data;
                AG_DISPATCH(dtype, D, D *py = y->data;
                            AG_PFOR_SIMD(i, n, py[i] = (D)px[i];);););
    return ag__finish(y, &OP_CAST, 1, &x, NULL);
}
