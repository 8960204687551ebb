/* ops/compare.c - elementwise comparisons (eq, ne, lt, le, gt, ge) and selection (where).
 *
 * Comparisons broadcast as the arithmetic ops do and return masks: 1 where the relation holds,
 * 0 elsewhere, in the inputs' dtype, so a mask multiplies a tensor directly. They are piecewise
 * constant, so they have no gradient (backward NULL: nothing is recorded). IEEE rules apply to
 * NaN: every relation with NaN is false except ne.
 *
 * where(cond, a, b) picks a where cond != 0 and b elsewhere, broadcasting all three operands.
 * It is differentiable in a and b (the gradient is routed to the side that was picked).
 */
#include "../autograd/internal.h"

/* y = (a CMP b) ? 1 : 0 over the broadcast shape. */
#define COMPARE_KERNEL(NAME, CMP)                                                          \
    static void NAME(const ag_bplan *plan, ag_tensor *A, ag_tensor *B, ag_tensor *Y)       \
    {                                                                                      \
        AG_DISPATCH(Y->dtype, T, const T *a = A->data; const T *b = B->data; T *y = Y->data; \
                    AG_BPLAN_LOOP(plan, i, ia, ib, ic, y[i] = (a[ia] CMP b[ib]) ? (T)1 : (T)0;);); \
    }

COMPARE_KERNEL(eq_kernel, ==)
COMPARE_KERNEL(ne_kernel, !=)
COMPARE_KERNEL(lt_kernel, <)
COMPARE_KERNEL(le_kernel, <=)
COMPARE_KERNEL(gt_kernel, >)
COMPARE_KERNEL(ge_kernel, >=)

/* Comparisons: piecewise constant, derivative 0 wherever it exists: no backward rule. */
static const ag_op OP_EQ = {"eq", NULL};
static const ag_op OP_NE = {"ne", NULL};
static const ag_op OP_LT = {"lt", NULL};
static const ag_op OP_LE = {"le", NULL};
static const ag_op OP_GT = {"gt", NULL};
static const ag_op OP_GE = {"ge", NULL};

ag_tensor *ag_eq(ag_tensor *a, ag_tensor *b) { return ag__binary("ag_eq", &OP_EQ, eq_kernel, a, b); }
ag_tensor *ag_ne(ag_tensor *a, ag_tensor *b) { return ag__binary("ag_ne", &OP_NE, ne_kernel, a, b); }
ag_tensor *ag_lt(ag_tensor *a, ag_tensor *b) { return ag__binary("ag_lt", &OP_LT, lt_kernel, a, b); }
ag_tensor *ag_le(ag_tensor *a, ag_tensor *b) { return ag__binary("ag_le", &OP_LE, le_kernel, a, b); }
ag_tensor *ag_gt(ag_tensor *a, ag_tensor *b) { return ag__binary("ag_gt", &OP_GT, gt_kernel, a, b); }
ag_tensor *ag_ge(ag_tensor *a, ag_tensor *b) { return ag__binary("ag_ge", &OP_GE, ge_kernel, a, b); }

/* ---- where ---- */

/* where: y = cond != 0 ? a : b.   da = g * [cond], db = g * [!cond], written as
 * where(cond, g, 0) and where(cond, 0, g) (in the broadcast shape; the engine sums them down).
 * cond gets no gradient. */
static int where_backward(ag_node *n, ag_tensor *y, ag_tensor *g, ag_tensor **gin)
{
    (void)y;
    ag_tensor *cond = n->inputs[0];
    bool need_a = n->inputs[1]->requires_grad, need_b = n->inputs[2]->requires_grad;
    ag_tensor *zero = ag_scalar(g->dtype, 0.0);
    if (need_a) gin[1] = ag_where(cond, g, zero);
    if (need_b) gin[2] = ag_where(cond, zero, g);
    ag__release(zero);
    return (need_a && !gin[1]) || (need_b && !gin[2]) ? -1 : 0;
}

static const ag_op OP_WHERE = {"where", where_backward};

ag_tensor *ag_where(ag_tensor *cond, ag_tensor *a, ag_tensor *b)
{
    ag_tensor *in[3] = {cond, a, b};
    int n1, nd;
    int64_t s1[AG_MAX_DIMS], shape[AG_MAX_DIMS];
    ag_bplan plan;
    if (!ag__check("ag_where", 3, in)) return NULL;
    if (!ag__broadcast_shapes("ag_where", cond->ndim, cond->shape, a->ndim, a->shape, &n1, s1) ||
        !ag__broadcast_shapes("ag_where", n1, s1, b->ndim, b->shape, &nd, shape)) {
        /* Restate with all three shapes: the pairwise message may show an intermediate one. */
        char sc[AG_SHAPE_BUF], sa[AG_SHAPE_BUF], sb[AG_SHAPE_BUF];
        ag__error("ag_where: shapes cond %s, a %s and b %s cannot broadcast to one shape",
                  ag_shape_str(cond, sc, sizeof sc), ag_shape_str(a, sa, sizeof sa),
                  ag_shape_str(b, sb, sizeof sb));
        return NULL;
    }
    ag_tensor *y = ag__new(a->dtype, nd, shape);
    if (!y) return NULL;
    ag__bplan(&plan, nd, shape, 3, in);
    AG_DISPATCH(y->dtype, T, const T *pc = cond->data; const T *pa = a->data;
                const T *pb = b->data; T *py = y->data;
                /* operand offsets: oc (cond), oa (a), ob (b) */
                AG_BPLAN_LOOP(&plan, i, oc, oa, ob, py[i] = pc[oc] != 0 ? pa[oa] : pb[ob];););
    return ag__finish(y, &OP_WHERE, 3, in, NULL);
}
