/* ops/unary.c - elementwise functions of one tensor: neg, pow (scalar exponent), exp, log,
 * sqrt, abs, sign.
 *
 * One macro writes each forward kernel for both dtypes; <tgmath.h> picks expf or exp for T.
 */
#include <tgmath.h>

#include "../autograd/internal.h"

/* y[i] = EXPR(x[i]) for every element; `c` is the op's scalar parameter. */
#define UNARY_FORWARD(FN, OP, EXPR, PARAM)                                               \
    do {                                                                                 \
        if (!ag__check(FN, 1, &x)) return NULL;                                          \
        ag_tensor *y_ = ag__new_like(x);                                                 \
        if (!y_) return NULL;                                                            \
        AG_DISPATCH(x->dtype, T, const T *px = x->data; T *py = y_->data; int64_t n_ = x->numel; \
                    T c = (T)(PARAM); (void)c;                                           \
                    AG_PFOR_SIMD(i, n_, T v = px[i]; (void)v; py[i] = (EXPR););          \
                    );                                                                   \
        ag_params p_ = {.scalar = {(PARAM), 0}};                                         \
        return ag__finish(y_, OP, 1, &x, &p_);                                           \
    } while (0)

/* neg: y = -x.   dy/dx = -1. */
static int neg_backward(ag_node *n, ag_tensor *y, ag_tensor *g, ag_tensor **gin)
{
    (void)n; (void)y;
    return (gin[0] = ag_neg(g)) ? 0 : -1;
}

/* pow: y = x^p.   dy/dx = p x^(p-1). */
static int pow_backward(ag_node *n, ag_tensor *y, ag_tensor *g, ag_tensor **gin)
{
    (void)y;
    double p = n->p.scalar[0];
    ag_tensor *xp = ag_pow(n->inputs[0], p - 1.0);
    ag_tensor *d = ag_mul_scalar(xp, p);
    gin[0] = ag_mul(g, d);
    ag__release(xp);
    ag__release(d);
    return gin[0] ? 0 : -1;
}

/* exp: y = e^x.   dy/dx = e^x = y. */
static int exp_backward(ag_node *n, ag_tensor *y, ag_tensor *g, ag_tensor **gin)
{
    (void)n;
    return (gin[0] = ag_mul(g, y)) ? 0 : -1;
}

/* log: y = ln x.   dy/dx = 1/x. */
static int log_backward(ag_node *n, ag_tensor *y, ag_tensor *g, ag_tensor **gin)
{
    (void)y;
    return (gin[0] = ag_div(g, n->inputs[0])) ? 0 : -1;
}

/* sqrt: y = sqrt x.   dy/dx = 1 / (2 sqrt x) = 0.5 / y. */
static int sqrt_backward(ag_node *n, ag_tensor *y, ag_tensor *g, ag_tensor **gin)
{
    (void)n;
    ag_tensor *h = ag_mul_scalar(g, 0.5);
    gin[0] = ag_div(h, y);
    ag__release(h);
    return gin[0] ? 0 : -1;
}

/* abs: y = |x|.   dy/dx = sign(x) (0 at x = 0, as in PyTorch). */
static int abs_backward(ag_node *n, ag_tensor *y, ag_tensor *g, ag_tensor **gin)
{
    (void)y;
    ag_tensor *s = ag_sign(n->inputs[0]);
    gin[0] = ag_mul(g, s);
    ag__release(s);
    return gin[0] ? 0 : -1;
}

static const ag_op OP_NEG = {"neg", neg_backward};
static const ag_op OP_POW = {"pow", pow_backward};
static const ag_op OP_EXP = {"exp", exp_backward};
static const ag_op OP_LOG = {"log", log_backward};
static const ag_op OP_SQRT = {"sqrt", sqrt_backward};
static const ag_op OP_ABS = {"abs", abs_backward};
/* sign: piecewise constant, so its derivative is 0 wherever it exists: no backward rule. */
static const ag_op OP_SIGN = {"sign", NULL};

ag_tensor *ag_neg(ag_tensor *x) { UNARY_FORWARD("ag_neg", &OP_NEG, -v, 0.0); }

ag_tensor *ag_pow(ag_tensor *x, double p)
{
    /* x first: a NULL x keeps the error of the op that produced it. */
    if (!ag__check("ag_pow", 1, &x)) return NULL;
    if (!isfinite(p)) {
        char s[AG_SHAPE_BUF];
        ag__error("ag_pow: exponent %g is not finite (input %s)", p, ag_shape_str(x, s, sizeof s));
        return NULL;
    }
    /* Common exponents avoid the slow general pow and stay exact. */
    if (p == 1.0) UNARY_FORWARD("ag_pow", &OP_POW, v, p);
    if (p == 2.0) UNARY_FORWARD("ag_pow", &OP_POW, v * v, p);
    if (p == 0.0) UNARY_FORWARD("ag_pow", &OP_POW, (T)1, p);
    UNARY_FORWARD("ag_pow", &OP_POW, pow(v, c), p);
}

ag_tensor *ag_exp(ag_tensor *x) { UNARY_FORWARD("ag_exp", &OP_EXP, exp(v), 0.0); }
ag_tensor *ag_log(ag_tensor *x) { UNARY_FORWARD("ag_log", &OP_LOG, log(v), 0.0); }
ag_tensor *ag_sqrt(ag_tensor *x) { UNARY_FORWARD("ag_sqrt", &OP_SQRT, sqrt(v), 0.0); }
ag_tensor *ag_abs(ag_tensor *x) { UNARY_FORWARD("ag_abs", &OP_ABS, fabs(v), 0.0); }
ag_tensor *ag_sign(ag_tensor *x)
{
    UNARY_FORWARD("ag_sign", &OP_SIGN, isnan(v) ? v : (T)((v > 0) - (v < 0)), 0.0);
}
