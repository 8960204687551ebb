/* ops/arith.c - elementwise arithmetic with NumPy broadcasting: add, sub, mul, div, and the
 * scalar forms add_scalar, mul_scalar, rsub_scalar.
 *
 * Each op: a forward kernel over a broadcasting plan (ag__bplan), and a backward rule written
 * with ops. Rules may return gradients in the broadcast (output) shape; the engine sums them
 * back to each input's shape with ag_sum_to.
 */
#include "../autograd/internal.h"

/* Forward for all four binary ops: y = a OP b over the broadcast shape. */
#define BINARY_KERNEL(NAME, EXPR)                                                          \
    static void NAME(const ag_bplan *plan, ag_tensor *A, ag_tensor *B, ag_tensor *Y)       \
    {                                                                                      \
        AG_DISPATCH(Y->dtype, T, const T *a = A->data; const T *b = B->data; T *y = Y->data; \
                    AG_BPLAN_LOOP(plan, i, ia, ib, ic, y[i] = EXPR;););                     \
    }

BINARY_KERNEL(add_kernel, a[ia] + b[ib])
BINARY_KERNEL(sub_kernel, a[ia] - b[ib])
BINARY_KERNEL(mul_kernel, a[ia] * b[ib])
BINARY_KERNEL(div_kernel, a[ia] / b[ib])

/* Checks, broadcasts, allocates and runs kernel k for a binary op (shared with compare.c). */
ag_tensor *ag__binary(const char *fn, const ag_op *op, ag_binary_kernel k, ag_tensor *a,
                      ag_tensor *b)
{
    ag_tensor *in[2] = {a, b};
    int nd;
    int64_t shape[AG_MAX_DIMS];
    ag_bplan plan;
    if (!ag__check(fn, 2, in)) return NULL;
    if (!ag__broadcast_shapes(fn, a->ndim, a->shape, b->ndim, b->shape, &nd, shape)) return NULL;
    ag_tensor *y = ag__new(a->dtype, nd, shape);
    if (!y) return NULL;
    ag__bplan(&plan, nd, shape, 2, in);
    k(&plan, a, b, y);
    return ag__finish(y, op, 2, in, NULL);
}

/* add: y = a + b.   dy/da = 1, dy/db = 1: both inputs receive g unchanged. */
static int add_backward(ag_node *n, ag_tensor *y, ag_tensor *g, ag_tensor **gin)
{
    (void)n; (void)y;
    ag__retain(g);
    ag__retain(g);
    gin[0] = g;
    gin[1] = g;
    return 0;
}

/* sub: y = a - b.   dy/da = 1, dy/db = -1. */
static int sub_backward(ag_node *n, ag_tensor *y, ag_tensor *g, ag_tensor **gin)
{
    (void)y;
    ag__retain(g);
    gin[0] = g;
    if (n->inputs[1]->requires_grad && !(gin[1] = ag_neg(g))) return -1;
    return 0;
}

/* mul: y = a * b.   dy/da = b, dy/db = a. */
static int mul_backward(ag_node *n, ag_tensor *y, ag_tensor *g, ag_tensor **gin)
{
    (void)y;
    ag_tensor *a = n->inputs[0], *b = n->inputs[1];
    if (a->requires_grad && !(gin[0] = ag_mul(g, b))) return -1;
    if (b->requires_grad && !(gin[1] = ag_mul(g, a))) return -1;
    return 0;
}

/* div: y = a / b.   dy/da = 1/b, dy/db = -a/b^2 = -y/b. */
static int div_backward(ag_node *n, ag_tensor *y, ag_tensor *g, ag_tensor **gin)
{
    (void)y;
    ag_tensor *a = n->inputs[0], *b = n->inputs[1];
    if (a->requires_grad && !(gin[0] = ag_div(g, b))) return -1;
    if (b->requires_grad) {
        /* Written from a and b (not y) so that second derivatives see the dependence on a. */
        ag_tensor *t1 = ag_mul(g, a), *t2 = ag_mul(b, b);
        ag_tensor *t3 = ag_div(t1, t2);
        gin[1] = ag_neg(t3);
        ag__release(t1);
        ag__release(t2);
        ag__release(t3);
        if (!gin[1]) return -1;
    }
    return 0;
}

static const ag_op OP_ADD = {"add", add_backward};
static const ag_op OP_SUB = {"sub", sub_backward};
static const ag_op OP_MUL = {"mul", mul_backward};
static const ag_op OP_DIV = {"div", div_backward};

ag_tensor *ag_add(ag_tensor *a, ag_tensor *b) { return ag__binary("ag_add", &OP_ADD, add_kernel, a, b); }
ag_tensor *ag_sub(ag_tensor *a, ag_tensor *b) { return ag__binary("ag_sub", &OP_SUB, sub_kernel, a, b); }
ag_tensor *ag_mul(ag_tensor *a, ag_tensor *b) { return ag__binary("ag_mul", &OP_MUL, mul_kernel, a, b); }
ag_tensor *ag_div(ag_tensor *a, ag_tensor *b) { return ag__binary("ag_div", &OP_DIV, div_kernel, a, b); }

/* ---- with a constant scalar s (kept in the node's params) ---- */

/* add_scalar: y = a + s.   dy/da = 1. */
static int add_scalar_backward(ag_node *n, ag_tensor *y, ag_tensor *g, ag_tensor **gin)
{
    (void)n; (void)y;
    ag__retain(g);
    gin[0] = g;
    return 0;
}

/* mul_scalar: y = a * s.   dy/da = s. */
static int mul_scalar_backward(ag_node *n, ag_tensor *y, ag_tensor *g, ag_tensor **gin)
{
    (void)y;
    return (gin[0] = ag_mul_scalar(g, n->p.scalar[0])) ? 0 : -1;
}

/* rsub_scalar: y = s - a.   dy/da = -1. */
static int rsub_scalar_backward(ag_node *n, ag_tensor *y, ag_tensor *g, ag_tensor **gin)
{
    (void)n; (void)y;
    return (gin[0] = ag_neg(g)) ? 0 : -1;
}

static const ag_op OP_ADD_SCALAR = {"add_scalar", add_scalar_backward};
static const ag_op OP_MUL_SCALAR = {"mul_scalar", mul_scalar_backward};
static const ag_op OP_RSUB_SCALAR = {"rsub_scalar", rsub_scalar_backward};

enum scalar_kind { ADD, MUL, RSUB };

static ag_tensor *scalar_op(const char *fn, const ag_op *op, enum scalar_kind kind, ag_tensor *a,
                            double s)
{
    if (!ag__check(fn, 1, &a)) return NULL;
    ag_tensor *y = ag__new_like(a);
    if (!y) return NULL;
    AG_DISPATCH(a->dtype, T, const T *x = a->data; T *o = y->data; T c = (T)s; int64_t n = a->numel;
        switch (kind) {
        case ADD: AG_PFOR_SIMD(i, n, o[i] = x[i] + c;); break;
        case MUL: AG_PFOR_SIMD(i, n, o[i] = x[i] * c;); break;
        case RSUB: AG_PFOR_SIMD(i, n, o[i] = c - x[i];); break;
        });
    ag_params p = {.scalar = {s, 0}};
    return ag__finish(y, op, 1, &a, &p);
}

ag_tensor *ag_add_scalar(ag_tensor *a, double s)
{
    return scalar_op("ag_add_scalar", &OP_ADD_SCALAR, ADD, a, s);
}

ag_tensor *ag_mul_scalar(ag_tensor *a, double s)
{
    return scalar_op("ag_mul_scalar", &OP_MUL_SCALAR, MUL, a, s);
}

ag_tensor *ag_rsub_scalar(double s, ag_tensor *a)
{
    return scalar_op("ag_rsub_scalar", &OP_RSUB_SCALAR, RSUB, a, s);
}
