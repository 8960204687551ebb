/* ops/activation.c - activation functions: tanh, sigmoid, relu, leaky_relu, softplus, clamp.
 *
 * Forwards are elementwise kernels (one body for float and double via <tgmath.h>), written in
 * numerically stable forms: sigmoid and softplus never evaluate e^x for large positive x, so
 * inputs of +-1000 give finite values and finite gradients. NaN inputs give NaN outputs.
 *
 * Backward rules use ops only. tanh and sigmoid express their derivative through the output y
 * (y carries the graph of x, so higher-order gradients are right). relu, leaky_relu and clamp
 * multiply g by a piecewise-constant factor computed by a private op without a gradient.
 */
#include <tgmath.h>

#include "../autograd/internal.h"

/* Runs BODY for every element with `v` = x[i]; BODY assigns `out`, stored as y[i]. c0 and c1
 * are the op's scalar parameters (kept in the node for the backward rule). */
#define ELEMENTWISE(FN, OP, P0, P1, BODY)                                                 \
    do {                                                                                  \
        if (!ag__check(FN, 1, &x)) return NULL;                                           \
        ag_tensor *y_ = ag__new_like(x);                                                  \
        if (!y_) return NULL;                                                             \
        AG_DISPATCH(x->dtype, T, const T *px = x->data; T *py = y_->data; int64_t n_ = x->numel; \
                    T c0 = (T)(P0), c1 = (T)(P1); (void)c0; (void)c1;                     \
                    AG_PFOR_SIMD(i, n_, T v = px[i], out; BODY py[i] = out;););           \
        ag_params p_ = {.scalar = {(P0), (P1)}};                                          \
        return ag__finish(y_, OP, 1, &x, &p_);                                            \
    } while (0)

/* ---- private piecewise-constant factors (no gradient: their derivative is 0 a.e.) ---- */

static const ag_op OP_STEP = {"relu_mask", NULL};
static const ag_op OP_RANGE_MASK = {"clamp_mask", NULL};

/* x > 0 ? 1 : slope  (relu uses slope 0). */
static ag_tensor *step_factor(ag_tensor *x, double slope)
{
    ELEMENTWISE("ag_relu", &OP_STEP, slope, 0.0, out = v > 0 ? (T)1 : c0;);
}

/* lo <= x <= hi ? 1 : 0  (inclusive at both bounds, as PyTorch's clamp gradient). */
static ag_tensor *range_mask(ag_tensor *x, double lo, double hi)
{
    ELEMENTWISE("ag_clamp", &OP_RANGE_MASK, lo, hi, out = (v >= c0 && v <= c1) ? (T)1 : (T)0;);
}

/* ---- backward rules ---- */

/* tanh: y = tanh x.   dy/dx = 1 - tanh^2 x = 1 - y^2. */
static int tanh_backward(ag_node *n, ag_tensor *y, ag_tensor *g, ag_tensor **gin)
{
    (void)n;
    ag_tensor *y2 = ag_mul(y, y);
    ag_tensor *d = ag_rsub_scalar(1.0, y2);
    gin[0] = ag_mul(g, d);
    ag__release(y2);
    ag__release(d);
    return gin[0] ? 0 : -1;
}

/* sigmoid: y = 1 / (1 + e^-x).   dy/dx = y (1 - y). */
static int sigmoid_backward(ag_node *n, ag_tensor *y, ag_tensor *g, ag_tensor **gin)
{
    (void)n;
    ag_tensor *one_minus = ag_rsub_scalar(1.0, y);
    ag_tensor *d = ag_mul(y, one_minus);
    gin[0] = ag_mul(g, d);
    ag__release(one_minus);
    ag__release(d);
    return gin[0] ? 0 : -1;
}

/* relu: y = max(x, 0).   dy/dx = [x > 0]  (0 at x = 0, as PyTorch). When no graph is being
 * recorded (a plain backward) the product g * [x > 0] is one pass without the mask tensor: the
 * same product as the op form, so an infinite g still gives NaN where x <= 0. */
static int relu_backward(ag_node *n, ag_tensor *y, ag_tensor *g, ag_tensor **gin)
{
    (void)y;
    ag_tensor *x = n->inputs[0];
    if (!ag_is_grad_enabled() && ag_same_shape(g, x) && g->dtype == x->dtype) {
        if (!(gin[0] = ag__new_like(x))) return -1;
        AG_DISPATCH(x->dtype, T, const T *px = x->data; const T *pg = g->data;
            T *pd = gin[0]->data;
            AG_PFOR_SIMD(i, x->numel, pd[i] = pg[i] * (T)(px[i] > 0);););
        return 0;
    }
    ag_tensor *mask = step_factor(x, 0.0);
    gin[0] = ag_mul(g, mask);
    ag__release(mask);
    return gin[0] ? 0 : -1;
}

/* leaky_relu: y = x > 0 ? x : slope x.   dy/dx = x > 0 ? 1 : slope. */
static int leaky_relu_backward(ag_node *n, ag_tensor *y, ag_tensor *g, ag_tensor **gin)
{
    (void)y;
    ag_tensor *f = step_factor(n->inputs[0], n->p.scalar[0]);
    gin[0] = ag_mul(g, f);
    ag__release(f);
    return gin[0] ? 0 : -1;
}

/* softplus: y = ln(1 + e^x).   dy/dx = e^x / (1 + e^x) = sigmoid(x). */
static int softplus_backward(ag_node *n, ag_tensor *y, ag_tensor *g, ag_tensor **gin)
{
    (void)y;
    ag_tensor *s = ag_sigmoid(n->inputs[0]);
    gin[0] = ag_mul(g, s);
    ag__release(s);
    return gin[0] ? 0 : -1;
}

/* clamp: y = min(max(x, lo), hi).   dy/dx = [lo <= x <= hi]  (bounds inclusive). */
static int clamp_backward(ag_node *n, ag_tensor *y, ag_tensor *g, ag_tensor **gin)
{
    (void)y;
    ag_tensor *mask = range_mask(n->inputs[0], n->p.scalar[0], n->p.scalar[1]);
    gin[0] = ag_mul(g, mask);
    ag__release(mask);
    return gin[0] ? 0 : -1;
}

static const ag_op OP_TANH = {"tanh", tanh_backward};
static const ag_op OP_SIGMOID = {"sigmoid", sigmoid_backward};
static const ag_op OP_RELU = {"relu", relu_backward};
static const ag_op OP_LEAKY_RELU = {"leaky_relu", leaky_relu_backward};
static const ag_op OP_SOFTPLUS = {"softplus", softplus_backward};
static const ag_op OP_CLAMP = {"clamp", clamp_backward};

/* ---- forwards ---- */

ag_tensor *ag_tanh(ag_tensor *x) { ELEMENTWISE("ag_tanh", &OP_TANH, 0.0, 0.0, out = tanh(v);); }

/* With e = e^-|x| in (0, 1]: 1/(1+e) for x >= 0, e/(1+e) for x < 0. No overflow anywhere. */
ag_tensor *ag_sigmoid(ag_tensor *x)
{
    ELEMENTWISE("ag_sigmoid", &OP_SIGMOID, 0.0, 0.0,
                T e = exp(-fabs(v)); out = v >= 0 ? 1 / (1 + e) : e / (1 + e););
}

/* !(v <= 0) keeps NaN as NaN. */
ag_tensor *ag_relu(ag_tensor *x)
{
    ELEMENTWISE("ag_relu", &OP_RELU, 0.0, 0.0, out = !(v <= 0) ? v : (T)0;);
}

ag_tensor *ag_leaky_relu(ag_tensor *x, double slope)
{
    if (!ag__check("ag_leaky_relu", 1, &x)) return NULL;
    if (!isfinite(slope)) {
        char s[AG_SHAPE_BUF];
        ag__error("ag_leaky_relu: slope %g is not finite (input %s)", slope,
                  ag_shape_str(x, s, sizeof s));
        return NULL;
    }
    ELEMENTWISE("ag_leaky_relu", &OP_LEAKY_RELU, slope, 0.0, out = v > 0 ? v : c0 * v;);
}

/* ln(1 + e^x) = max(x, 0) + ln(1 + e^-|x|): the exponent is never positive. */
ag_tensor *ag_softplus(ag_tensor *x)
{
    ELEMENTWISE("ag_softplus", &OP_SOFTPLUS, 0.0, 0.0,
                out = (v > 0 ? v : (T)0) + log1p(exp(-fabs(v))););
}

/* NaN inputs stay NaN (both comparisons are false). */
ag_tensor *ag_clamp(ag_tensor *x, double lo, double hi)
{
    if (!ag__check("ag_clamp", 1, &x)) return NULL;
    if (isnan(lo) || isnan(hi) || lo > hi) {
        char s[AG_SHAPE_BUF];
        ag__error("ag_clamp: invalid bounds lo = %g, hi = %g for input %s (need lo <= hi, "
                  "neither NaN; use -INFINITY/INFINITY for no bound)", lo, hi,
                  ag_shape_str(x, s, sizeof s));
        return NULL;
    }
    ELEMENTWISE("ag_clamp", &OP_CLAMP, lo, hi, out = v < c0 ? c0 : (v > c1 ? c1 : v););
}
