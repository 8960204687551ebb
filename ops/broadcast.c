/* ops/broadcast.c - broadcast_to and its adjoint sum_to.
 *
 * These two are each other's backward: stretching copies a value to many places, so its
 * gradient sums those places back; summing down has a gradient that stretches back. The engine
 * uses sum_to to return a broadcast gradient to its input's shape.
 */
#include "../autograd/internal.h"

/* True when `small` (ns dims) broadcasts to `big` (nb dims). */
static bool broadcasts_to(int ns, const int64_t *small, int nb, const int64_t *big)
{
    if (ns > nb) return false;
    for (int d = 0; d < ns; d++) {
        int64_t s = small[d], b = big[d + nb - ns];
        if (s != b && s != 1) return false;
    }
    return true;
}

static int sum_to_backward(ag_node *n, ag_tensor *y, ag_tensor *g, ag_tensor **gin);
static int broadcast_to_backward(ag_node *n, ag_tensor *y, ag_tensor *g, ag_tensor **gin);

/* sum_to: y = sum of x over the dimensions that broadcasting stretched.   dx = broadcast_to(g). */
static const ag_op OP_SUM_TO = {"sum_to", sum_to_backward};
/* broadcast_to: y = x stretched to a larger shape.   dx = sum_to(g, x's shape). */
static const ag_op OP_BROADCAST_TO = {"broadcast_to", broadcast_to_backward};

static int sum_to_backward(ag_node *n, ag_tensor *y, ag_tensor *g, ag_tensor **gin)
{
    (void)y;
    ag_tensor *x = n->inputs[0];
    return (gin[0] = ag_broadcast_to(g, x->ndim, x->shape)) ? 0 : -1;
}

static int broadcast_to_backward(ag_node *n, ag_tensor *y, ag_tensor *g, ag_tensor **gin)
{
    (void)y;
    ag_tensor *x = n->inputs[0];
    return (gin[0] = ag_sum_to(g, x->ndim, x->shape)) ? 0 : -1;
}

ag_tensor *ag_sum_to(ag_tensor *x, int ndim, const int64_t *shape)
{
    if (!ag__check("ag_sum_to", 1, &x)) return NULL;
    if (ndim < 0 || ndim > AG_MAX_DIMS || (ndim > 0 && !shape) ||
        !broadcasts_to(ndim, shape, x->ndim, x->shape)) {
        char a[AG_SHAPE_BUF], b[AG_SHAPE_BUF];
        ag__error("ag_sum_to: cannot sum %s down to %s (the target must broadcast to the input)",
                  ag_shape_str(x, a, sizeof a),
                  ndim >= 0 && ndim <= AG_MAX_DIMS && shape ? ag__shape_str(ndim, shape, b, sizeof b)
                                                            : "(invalid shape)");
        return NULL;
    }
    ag_tensor *y = ag__new(x->dtype, ndim, shape);
    if (!y) return NULL;
    memset(y->data, 0, (size_t)y->numel * ag_dtype_size(y->dtype));
    /* Walk x, reading y at broadcast positions; writes collide, so this loop is serial. */
    ag_bplan plan;
    ag_tensor *ops[1] = {y};
    ag__bplan(&plan, x->ndim, x->shape, 1, ops);
    AG_DISPATCH(x->dtype, T, const T *px = x->data; T *py = y->data;
        int64_t inner = plan.shape[plan.nd - 1], s = plan.stride[0][plan.nd - 1];
        for (int64_t r = 0; r < plan.numel / (inner ? inner : 1); r++) {
            int64_t off[3];
            ag__bplan_row(&plan, r, off);
            const T *row = px + r * inner;
            if (s == 0) {
                T acc = 0;
                for (int64_t j = 0; j < inner; j++) acc += row[j];
                py[off[0]] += acc;
            } else {
                for (int64_t j = 0; j < inner; j++) py[off[0] + j] += row[j];
            }
        });
    return ag__finish(y, &OP_SUM_TO, 1, &x, NULL);
}

ag_tensor *ag_broadcast_to(ag_tensor *x, int ndim, const int64_t *shape)
{
    if (!ag__check("ag_broadcast_to", 1, &x)) return NULL;
    if (ndim < 0 || ndim > AG_MAX_DIMS || (ndim > 0 && !shape) ||
        !broadcasts_to(x->ndim, x->shape, ndim, shape)) {
        char a[AG_SHAPE_BUF], b[AG_SHAPE_BUF];
        ag__error("ag_broadcast_to: cannot broadcast %s to %s", ag_shape_str(x, a, sizeof a),
                  ndim >= 0 && ndim <= AG_MAX_DIMS && shape ? ag__shape_str(ndim, shape, b, sizeof b)
                                                            : "(invalid shape)");
        return NULL;
    }
    /* broadcasts_to only compares sizes with x's: new leading sizes, and sizes stretched from
     * 1, are unchecked so far. */
    int64_t numel = 1;
    for (int d = 0; d < ndim; d++) {
        if (shape[d] < 0 || (shape[d] > 0 && numel > INT64_MAX / 16 / shape[d])) {
            char a[AG_SHAPE_BUF], b[AG_SHAPE_BUF];
            ag__error("ag_broadcast_to: cannot broadcast %s to %s: %s",
                      ag_shape_str(x, a, sizeof a), ag__shape_str(ndim, shape, b, sizeof b),
                      shape[d] < 0 ? "negative size" : "the target is too large");
            return NULL;
        }
        numel *= shape[d];
    }
    ag_tensor *y = ag__new(x->dtype, ndim, shape);
    if (!y) return NULL;
    ag_bplan plan;
    ag__bplan(&plan, ndim, shape, 1, &x);
    AG_DISPATCH(x->dtype, T, const T *px = x->data; T *py = y->data;
                AG_BPLAN_LOOP(&plan, i, ia, ib, ic, py[i] = px[ia];););
    return ag__finish(y, &OP_BROADCAST_TO, 1, &x, NULL);
}
