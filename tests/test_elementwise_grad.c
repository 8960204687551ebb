/* tests/test_elementwise_grad.c - gradients of the elementwise ops against finite differences
 * (first and second order): every unary op and activation (ops/unary.c, ops/activation.c,
 * ops/cast.c) on several shapes, binary arithmetic with broadcasting (ops/arith.c) and its
 * forward values.
 */
#include "elementwise_test_util.h"

static const shp UNARY_SHAPES[] = {{0, {0}}, {1, {7}}, {2, {2, 3}}, {3, {3, 1, 2}}};
#define N_UNARY_SHAPES ((int)(sizeof UNARY_SHAPES / sizeof UNARY_SHAPES[0]))

/* ---- unary ops under gradcheck, selected by an op code ---- */

typedef enum uop {
    U_NEG, U_POW, U_EXP, U_LOG, U_SQRT, U_ABS, U_TANH, U_SIGMOID, U_RELU, U_LEAKY, U_SOFTPLUS,
    U_CLAMP, U_ADDS, U_MULS, U_RSUBS, U_CAST_SAME, U_CAST_RT
} uop;

typedef struct ucase { uop op; double p0, p1, lo, hi; bool kinky; } ucase;

static ag_tensor *unary_fn(ag_tensor *const *in, int n, void *ctx)
{
    (void)n;
    const ucase *c = ctx;
    ag_tensor *x = in[0];
    switch (c->op) {
    case U_NEG: return ag_neg(x);
    case U_POW: return ag_pow(x, c->p0);
    case U_EXP: return ag_exp(x);
    case U_LOG: return ag_log(x);
    case U_SQRT: return ag_sqrt(x);
    case U_ABS: return ag_abs(x);
    case U_TANH: return ag_tanh(x);
    case U_SIGMOID: return ag_sigmoid(x);
    case U_RELU: return ag_relu(x);
    case U_LEAKY: return ag_leaky_relu(x, c->p0);
    case U_SOFTPLUS: return ag_softplus(x);
    case U_CLAMP: return ag_clamp(x, c->p0, c->p1);
    case U_ADDS: return ag_add_scalar(x, c->p0);
    case U_MULS: return ag_mul_scalar(x, c->p0);
    case U_RSUBS: return ag_rsub_scalar(c->p0, x);
    case U_CAST_SAME: return ag_cast(x, AG_F64);
    case U_CAST_RT: return ag_cast(ag_cast(x, AG_F32), AG_F64);
    }
    return NULL;
}

/* gradcheck on every shape of UNARY_SHAPES; gradgradcheck on [2,3]. */
static void check_unary(ucase c)
{
    ag_scope *sc = ag_scope_begin();
    for (int k = 0; k < N_UNARY_SHAPES; k++) {
        ag_tensor *x = leaf(11 + (uint64_t)k, UNARY_SHAPES[k], c.lo, c.hi, c.kinky);
        expect_gradcheck(unary_fn, &c, 1, &x);
    }
    ag_tensor *x = leaf(99, UNARY_SHAPES[2], c.lo, c.hi, c.kinky);
    expect_gradgradcheck(unary_fn, &c, 1, &x);
    ag_scope_end(sc);
}

#define UNARY_GRAD_TEST(NAME, ...) \
    Test(ew_grad, NAME) { check_unary((ucase){__VA_ARGS__}); }

UNARY_GRAD_TEST(neg, U_NEG, 0, 0, -2, 2, false)
UNARY_GRAD_TEST(pow2, U_POW, 2, 0, -2, 2, false)
UNARY_GRAD_TEST(pow3, U_POW, 3, 0, -2, 2, false)
UNARY_GRAD_TEST(pow_half, U_POW, 0.5, 0, 0.5, 2, false)
UNARY_GRAD_TEST(pow_minus_1_5, U_POW, -1.5, 0, 0.5, 2, false)
UNARY_GRAD_TEST(exp, U_EXP, 0, 0, -2, 2, false)
UNARY_GRAD_TEST(log, U_LOG, 0, 0, 0.3, 3, false)
UNARY_GRAD_TEST(sqrt, U_SQRT, 0, 0, 0.3, 3, false)
UNARY_GRAD_TEST(abs, U_ABS, 0, 0, 0, 0, true)
UNARY_GRAD_TEST(tanh, U_TANH, 0, 0, -2, 2, false)
UNARY_GRAD_TEST(sigmoid, U_SIGMOID, 0, 0, -3, 3, false)
UNARY_GRAD_TEST(relu, U_RELU, 0, 0, 0, 0, true)
UNARY_GRAD_TEST(leaky_relu, U_LEAKY, 0.1, 0, 0, 0, true)
UNARY_GRAD_TEST(softplus, U_SOFTPLUS, 0, 0, -3, 3, false)
UNARY_GRAD_TEST(clamp, U_CLAMP, -0.5, 0.6, 0, 0, true)
UNARY_GRAD_TEST(clamp_lower_only, U_CLAMP, -0.5, INFINITY, 0, 0, true)
UNARY_GRAD_TEST(add_scalar, U_ADDS, 2.5, 0, -2, 2, false)
UNARY_GRAD_TEST(mul_scalar, U_MULS, -1.7, 0, -2, 2, false)
UNARY_GRAD_TEST(rsub_scalar, U_RSUBS, 3.0, 0, -2, 2, false)
UNARY_GRAD_TEST(cast_same_dtype, U_CAST_SAME, 0, 0, -2, 2, false)

/* f64 -> f32 -> f64: float32 rounding (relative 6e-8) swamps eps 1e-6, so use a wide step. */
Test(ew_grad, cast_round_trip)
{
    ag_scope *sc = ag_scope_begin();
    ucase c = {U_CAST_RT, 0, 0, 0, 0, false};
    ag_gradcheck_opts o = ag_gradcheck_defaults();
    o.eps = 1e-2;
    o.atol = 1e-4;
    ag_gradcheck_report rep;
    for (int k = 0; k < N_UNARY_SHAPES; k++) {
        ag_tensor *x = leaf(21 + (uint64_t)k, UNARY_SHAPES[k], -2, 2, false);
        int rc = ag_gradcheck(unary_fn, &c, 1, &x, &o, &rep);
        cr_assert_eq(rc, 0, "gradcheck: %s (%s)", rep.message, ag_last_error());
    }
    ag_tensor *x = leaf(29, UNARY_SHAPES[2], -2, 2, false);
    int rc = ag_gradgradcheck(unary_fn, &c, 1, &x, &o, &rep);
    cr_assert_eq(rc, 0, "gradgradcheck: %s (%s)", rep.message, ag_last_error());
    ag_scope_end(sc);
}

/* ---- binary arithmetic with broadcasting ---- */

typedef struct bcase { ag_tensor *(*f)(ag_tensor *, ag_tensor *); } bcase;

static ag_tensor *binary_fn(ag_tensor *const *in, int n, void *ctx)
{
    (void)n;
    const bcase *c = ctx;
    return c->f(in[0], in[1]);
}

static const shp BIN_SHAPES[][2] = {
    {{2, {2, 3}}, {2, {2, 3}}},        /* same shape */
    {{2, {2, 3}}, {1, {3}}},           /* row vector */
    {{2, {2, 1}}, {2, {1, 3}}},        /* outer */
    {{3, {4, 1, 3}}, {2, {2, 3}}},     /* both stretch, different ndim */
    {{0, {0}}, {2, {2, 3}}},           /* 0-d with a matrix */
    {{2, {2, 3}}, {0, {0}}},           /* matrix with 0-d */
    {{1, {1}}, {0, {0}}},              /* size-1 edge */
};
#define N_BIN_SHAPES ((int)(sizeof BIN_SHAPES / sizeof BIN_SHAPES[0]))

/* The second operand of div stays in [0.5, 2) (away from 0). */
static void check_binary(ag_tensor *(*f)(ag_tensor *, ag_tensor *), bool positive_b)
{
    ag_scope *sc = ag_scope_begin();
    bcase c = {f};
    for (int k = 0; k < N_BIN_SHAPES; k++) {
        ag_tensor *in[2] = {leaf(100 + (uint64_t)k, BIN_SHAPES[k][0], -2, 2, false),
                            leaf(200 + (uint64_t)k, BIN_SHAPES[k][1], positive_b ? 0.5 : -2, 2,
                                 false)};
        expect_gradcheck(binary_fn, &c, 2, in);
        if (k == 1 || k == 3) expect_gradgradcheck(binary_fn, &c, 2, in);
    }
    ag_scope_end(sc);
}

Test(ew_grad, add) { check_binary(ag_add, false); }
Test(ew_grad, sub) { check_binary(ag_sub, false); }
Test(ew_grad, mul) { check_binary(ag_mul, false); }
Test(ew_grad, div) { check_binary(ag_div, true); }

Test(ew_arith, broadcast_forward_values)
{
    ag_scope *sc = ag_scope_begin();
    ag_tensor *a = T64(2, 3, ((double[]){1, 2, 3, 4, 5, 6}));
    ag_tensor *r = T64_1(3, ((double[]){10, 20, 30}));
    ag_tensor *col = T64(2, 1, ((double[]){2, -1}));
    ag_tensor *row = T64(1, 3, ((double[]){1, 2, 4}));
    ag_tensor *s = ag_scalar(AG_F64, 2);
    ag_tensor *y = ag_add(a, r);
    expect_shape(y, 2, (int64_t[]){2, 3});
    expect_values(y, (double[]){11, 22, 33, 14, 25, 36}, 6, 1e-15);
    expect_values(ag_sub(r, a), (double[]){9, 18, 27, 6, 15, 24}, 6, 1e-15);
    y = ag_mul(col, row);
    expect_shape(y, 2, (int64_t[]){2, 3});
    expect_values(y, (double[]){2, 4, 8, -1, -2, -4}, 6, 1e-15);
    expect_values(ag_div(s, a), (double[]){2, 1, 2.0 / 3, 0.5, 0.4, 2.0 / 6}, 6, 1e-15);
    ag_tensor *b3 = ag_full(AG_F64, 3, (int64_t[]){4, 1, 3}, 3.0);
    y = ag_div(b3, a);
    expect_shape(y, 3, (int64_t[]){4, 2, 3});
    for (int64_t i = 0; i < 24; i++)
        cr_assert_float_eq(ag_get(y, i), 3.0 / (double)(i % 6 + 1), 1e-15);
    ag_scope_end(sc);
}

Test(ew_arith, float32_forward)
{
    ag_scope *sc = ag_scope_begin();
    ag_tensor *a = tu_tensor(AG_F32, 2, (int64_t[]){2, 2}, (double[]){1.5, -2, 0.25, 8});
    ag_tensor *b = tu_tensor(AG_F32, 1, (int64_t[]){2}, (double[]){2, 4});
    expect_values(ag_mul(a, b), (double[]){3, -8, 0.5, 32}, 4, 1e-7);
    expect_values(ag_div(a, b), (double[]){0.75, -0.5, 0.125, 2}, 4, 1e-7);
    expect_values(ag_rsub_scalar(1, a), (double[]){-0.5, 3, 0.75, -7}, 4, 1e-7);
    cr_assert_eq(ag_get_dtype(ag_add(a, b)), AG_F32);
    ag_scope_end(sc);
}
