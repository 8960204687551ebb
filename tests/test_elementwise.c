/* tests/test_elementwise.c - elementwise ops: arithmetic with broadcasting (ops/arith.c), unary
 * functions (ops/unary.c), activations (ops/activation.c), comparisons and where
 * (ops/compare.c) and cast (ops/cast.c).
 *
 * Forward values are checked against libm on plain doubles or values worked out by hand;
 * gradients against finite differences (first and second order); plus numerical stability at
 * +-1000, NaN propagation, float32 forwards and the error messages.
 */
#include <fenv.h>

#include "test_util.h"

/* ---- helpers ---- */

typedef struct shp { int nd; int64_t s[4]; } shp;

static const shp UNARY_SHAPES[] = {{0, {0}}, {1, {7}}, {2, {2, 3}}, {3, {3, 1, 2}}};
#define N_UNARY_SHAPES ((int)(sizeof UNARY_SHAPES / sizeof UNARY_SHAPES[0]))

static int64_t shp_numel(shp s)
{
    int64_t n = 1;
    for (int d = 0; d < s.nd; d++) n *= s.s[d];
    return n;
}

/* A float64 leaf requiring grad. Smooth ops get uniform values in [lo, hi); ops with kinks
 * (relu, abs, clamp at -0.5/0.6, ...) get values near fixed centres at least 0.15 from any kink. */
static ag_tensor *leaf(uint64_t seed, shp s, double lo, double hi, bool kinky)
{
    if (!kinky) return tu_param(seed, s.nd, s.s, lo, hi);
    static const double centres[] = {-1.3, -0.8, -0.3, 0.35, 0.8, 1.2};
    double v[64];
    int64_t n = shp_numel(s);
    cr_assert(n <= 64);
    ag_rng r = ag_rng_seed(seed);
    for (int64_t i = 0; i < n; i++)
        v[i] = centres[(i + (int64_t)seed) % 6] + 0.1 * (ag_rng_uniform(&r) - 0.5);
    ag_tensor *t = tu_tensor(AG_F64, s.nd, s.s, v);
    ag_set_requires_grad(t, true);
    return t;
}

/* d(sum(y))/dx: backward from y seeded with ones; returns ag_grad(x). */
static ag_tensor *grad_of_sum(ag_tensor *y, ag_tensor *x)
{
    cr_assert(y, "op failed: %s", ag_last_error());
    ag_tensor *seed = ag_ones_like(y);
    ag_backward_opts o = {.seed = seed};
    cr_assert_eq(ag_backward_ex(y, &o), 0, "backward failed: %s", ag_last_error());
    ag_tensor *g = ag_grad(x);
    cr_assert(g, "no gradient reached x");
    return g;
}

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

/* ---- unary forward values (libm on doubles) ---- */

static const double XS[] = {-3.5, -1.0, -0.25, 0.0, 0.5, 2.0, 7.0};
#define NXS 7

static void expect_map(ag_tensor *y, double (*f)(double), double tol)
{
    double e[NXS];
    for (int i = 0; i < NXS; i++) e[i] = f(XS[i]);
    expect_values(y, e, NXS, tol);
}

static double ref_sigmoid(double v) { return 1.0 / (1.0 + exp(-v)); }
static double ref_softplus(double v) { return log(1.0 + exp(v)); }
static double ref_neg(double v) { return -v; }
static double ref_sign(double v) { return v > 0 ? 1 : v < 0 ? -1 : 0; }
static double ref_cube(double v) { return v * v * v; }

Test(ew_unary, forward_values)
{
    ag_scope *sc = ag_scope_begin();
    ag_tensor *x = T64_1(NXS, XS);
    expect_map(ag_tanh(x), tanh, 1e-15);
    expect_map(ag_sigmoid(x), ref_sigmoid, 1e-15);
    expect_map(ag_softplus(x), ref_softplus, 1e-14);
    expect_map(ag_exp(x), exp, 1e-15);
    expect_map(ag_abs(x), fabs, 0);
    expect_map(ag_neg(x), ref_neg, 0);
    expect_map(ag_sign(x), ref_sign, 0);
    expect_map(ag_pow(x, 3), ref_cube, 1e-15);
    expect_values(ag_relu(x), (double[]){0, 0, 0, 0, 0.5, 2, 7}, NXS, 0);
    expect_values(ag_leaky_relu(x, 0.1), (double[]){-0.35, -0.1, -0.025, 0, 0.5, 2, 7}, NXS, 1e-15);
    expect_values(ag_clamp(x, -1, 1), (double[]){-1, -1, -0.25, 0, 0.5, 1, 1}, NXS, 0);
    expect_values(ag_clamp(x, -INFINITY, 0.5), (double[]){-3.5, -1, -0.25, 0, 0.5, 0.5, 0.5}, NXS,
                  0);
    expect_values(ag_clamp(x, 1, 1), (double[]){1, 1, 1, 1, 1, 1, 1}, NXS, 0);
    ag_tensor *p = T64_1(3, ((double[]){0.25, 1, 4}));
    expect_values(ag_pow(p, 0.5), (double[]){0.5, 1, 2}, 3, 1e-15);
    expect_values(ag_pow(p, -1.5), (double[]){8, 1, 0.125}, 3, 1e-15);
    expect_values(ag_log(p), (double[]){log(0.25), 0, log(4)}, 3, 1e-15);
    expect_values(ag_sqrt(p), (double[]){0.5, 1, 2}, 3, 1e-15);
    ag_scope_end(sc);
}

Test(ew_unary, float32_forward)
{
    ag_scope *sc = ag_scope_begin();
    ag_tensor *x = tu_tensor(AG_F32, 1, (int64_t[]){NXS}, XS);
    cr_assert_eq(ag_get_dtype(ag_tanh(x)), AG_F32);
    expect_map(ag_tanh(x), tanh, 1e-6);
    expect_map(ag_sigmoid(x), ref_sigmoid, 1e-6);
    expect_map(ag_softplus(x), ref_softplus, 1e-6);
    expect_values(ag_relu(x), (double[]){0, 0, 0, 0, 0.5, 2, 7}, NXS, 0);
    expect_values(ag_leaky_relu(x, 0.5), (double[]){-1.75, -0.5, -0.125, 0, 0.5, 2, 7}, NXS, 1e-7);
    expect_values(ag_clamp(x, -1, 1), (double[]){-1, -1, -0.25, 0, 0.5, 1, 1}, NXS, 0);
    ag_scope_end(sc);
}

/* 0-d inputs give 0-d outputs. */
Test(ew_unary, scalar_shapes)
{
    ag_scope *sc = ag_scope_begin();
    ag_tensor *s = ag_scalar(AG_F64, -2);
    ag_tensor *ys[] = {ag_tanh(s), ag_sigmoid(s), ag_relu(s), ag_leaky_relu(s, 0.2),
                       ag_softplus(s), ag_clamp(s, -1, 1), ag_cast(s, AG_F32)};
    for (int i = 0; i < 7; i++) expect_shape(ys[i], 0, NULL);
    cr_assert_float_eq(ag_item(ys[3]), -0.4, 1e-15);
    cr_assert_float_eq(ag_item(ys[4]), log1p(exp(-2.0)), 1e-15);
    ag_scope_end(sc);
}

/* Above the OpenMP threshold: same values as libm, element by element. */
Test(ew_unary, large_parallel)
{
    ag_scope *sc = ag_scope_begin();
    ag_rng r = ag_rng_seed(5);
    int64_t n = 100003;
    ag_tensor *x = ag_rand_uniform(&r, AG_F64, 1, &n, -20, 20);
    ag_tensor *ys = ag_sigmoid(x), *yp = ag_softplus(x), *yc = ag_clamp(x, -1, 2);
    cr_assert(ys && yp && yc);
    const double *px = ag_data_f64(x), *ps = ag_data_f64(ys), *pp = ag_data_f64(yp),
                 *pc = ag_data_f64(yc);
    for (int64_t i = 0; i < n; i++) {
        double v = px[i];
        cr_assert_float_eq(ps[i], ref_sigmoid(v), 1e-15, "sigmoid at %lld", (long long)i);
        cr_assert(fabs(pp[i] - ref_softplus(v)) <= 1e-14 * (1 + fabs(v)), "softplus at %lld",
                  (long long)i);
        cr_assert_eq(pc[i], v < -1 ? -1 : v > 2 ? 2 : v);
    }
    ag_scope_end(sc);
}

/* ---- gradient values by hand at and around kinks ---- */

Test(ew_act, gradient_values)
{
    ag_scope *sc = ag_scope_begin();
    ag_tensor *x = T64_1(5, ((double[]){-2, -0.5, 0, 0.5, 2}));
    ag_set_requires_grad(x, true);
    /* relu: 0 at 0 (PyTorch's choice). */
    expect_values(grad_of_sum(ag_relu(x), x), (double[]){0, 0, 0, 1, 1}, 5, 0);
    ag_zero_grad(x);
    expect_values(grad_of_sum(ag_leaky_relu(x, 0.25), x), (double[]){0.25, 0.25, 0.25, 1, 1}, 5, 0);
    ag_zero_grad(x);
    /* clamp passes the gradient at the bounds inclusive. */
    expect_values(grad_of_sum(ag_clamp(x, -0.5, 0.5), x), (double[]){0, 1, 1, 1, 0}, 5, 0);
    ag_zero_grad(x);
    double e[5];
    for (int i = 0; i < 5; i++) {
        double v = ag_get(x, i), t = tanh(v);
        e[i] = 1 - t * t;
    }
    expect_values(grad_of_sum(ag_tanh(x), x), e, 5, 1e-15);
    ag_zero_grad(x);
    for (int i = 0; i < 5; i++) {
        double s = ref_sigmoid(ag_get(x, i));
        e[i] = s * (1 - s);
    }
    expect_values(grad_of_sum(ag_sigmoid(x), x), e, 5, 1e-15);
    ag_zero_grad(x);
    for (int i = 0; i < 5; i++) e[i] = ref_sigmoid(ag_get(x, i));
    expect_values(grad_of_sum(ag_softplus(x), x), e, 5, 1e-15);
    ag_scope_end(sc);
}

/* Second derivatives by hand: tanh'' = -2 t (1 - t^2), sigmoid'' = s (1-s)(1-2s). */
Test(ew_act, second_derivative_values)
{
    ag_scope *sc = ag_scope_begin();
    ag_tensor *x = T64_1(3, ((double[]){-1, 0.3, 2}));
    ag_set_requires_grad(x, true);
    ag_backward_opts cg = {.create_graph = true};
    ag_tensor *g1, *g2;
    ag_tensor *y = ag_tanh(x);
    cg.seed = ag_ones_like(y);
    cr_assert_eq(ag_grad_of(y, 1, &x, &g1, &cg), 0, "%s", ag_last_error());
    cg.seed = ag_ones_like(g1);
    cr_assert_eq(ag_grad_of(g1, 1, &x, &g2, &cg), 0, "%s", ag_last_error());
    for (int i = 0; i < 3; i++) {
        double t = tanh(ag_get(x, i));
        cr_assert_float_eq(ag_get(g2, i), -2 * t * (1 - t * t), 1e-14);
    }
    y = ag_sigmoid(x);
    cg.seed = ag_ones_like(y);
    cr_assert_eq(ag_grad_of(y, 1, &x, &g1, &cg), 0, "%s", ag_last_error());
    cg.seed = ag_ones_like(g1);
    cr_assert_eq(ag_grad_of(g1, 1, &x, &g2, &cg), 0, "%s", ag_last_error());
    for (int i = 0; i < 3; i++) {
        double s = ref_sigmoid(ag_get(x, i));
        cr_assert_float_eq(ag_get(g2, i), s * (1 - s) * (1 - 2 * s), 1e-14);
    }
    ag_scope_end(sc);
}

/* ---- stability and NaN ---- */

static void expect_all_finite(ag_tensor *t)
{
    cr_assert(t, "NULL: %s", ag_last_error());
    for (int64_t i = 0; i < ag_numel(t); i++)
        cr_assert(isfinite(ag_get(t, i)), "element %lld is %g", (long long)i, ag_get(t, i));
}

static void check_stability(ag_dtype dt)
{
    ag_scope *sc = ag_scope_begin();
    ag_tensor *x = tu_tensor(dt, 1, (int64_t[]){4}, (double[]){-1000, -40, 40, 1000});
    ag_set_requires_grad(x, true);
    ag_tensor *y = ag_sigmoid(x), *g;
    expect_all_finite(y);
    expect_values(y, (double[]){0, ref_sigmoid(-40), 1, 1}, 4, 1e-15);
    g = grad_of_sum(y, x);
    expect_all_finite(g);
    expect_values(g, (double[]){0, 0, 0, 0}, 4, 1e-15);
    ag_zero_grad(x);

    y = ag_tanh(x);
    expect_values(y, (double[]){-1, -1, 1, 1}, 4, 0);
    g = grad_of_sum(y, x);
    expect_all_finite(g);
    expect_values(g, (double[]){0, 0, 0, 0}, 4, 0);
    ag_zero_grad(x);

    y = ag_softplus(x);
    expect_all_finite(y);
    expect_values(y, (double[]){0, 0, 40, 1000}, 4, dt == AG_F32 ? 1e-7 : 1e-15);
    g = grad_of_sum(y, x);
    expect_all_finite(g);
    expect_values(g, (double[]){0, 0, 1, 1}, 4, 1e-15);
    ag_scope_end(sc);
}

Test(ew_stab, large_inputs_f64) { check_stability(AG_F64); }
Test(ew_stab, large_inputs_f32) { check_stability(AG_F32); }

/* The stable forms never evaluate e^1000: no overflow (or Inf/Inf) even in intermediate steps,
 * forward or backward. */
Test(ew_stab, no_overflow_flags)
{
    ag_scope *sc = ag_scope_begin();
    for (int dt = AG_F32; dt <= AG_F64; dt++) {
        ag_tensor *x = tu_tensor((ag_dtype)dt, 1, (int64_t[]){4}, (double[]){-1000, -90, 90, 1000});
        ag_set_requires_grad(x, true);
        feclearexcept(FE_ALL_EXCEPT);
        ag_tensor *y = ag_add(ag_add(ag_sigmoid(x), ag_softplus(x)), ag_tanh(x));
        grad_of_sum(y, x);
        cr_assert(!fetestexcept(FE_OVERFLOW | FE_INVALID | FE_DIVBYZERO),
                  "%s: floating-point exception raised (overflow %d, invalid %d)",
                  ag_dtype_name((ag_dtype)dt), !!fetestexcept(FE_OVERFLOW),
                  !!fetestexcept(FE_INVALID));
    }
    ag_scope_end(sc);
}

/* The stable forms keep relative precision deep in the tails. */
Test(ew_stab, tails_keep_precision)
{
    ag_scope *sc = ag_scope_begin();
    ag_tensor *x = T64_1(2, ((double[]){-40, -700}));
    ag_tensor *s = ag_sigmoid(x), *p = ag_softplus(x);
    double e40 = exp(-40.0), e700 = exp(-700.0);
    cr_assert(fabs(ag_get(s, 0) - e40 / (1 + e40)) <= 1e-15 * e40);
    cr_assert(fabs(ag_get(s, 1) - e700) <= 1e-15 * e700);
    cr_assert(fabs(ag_get(p, 0) - log1p(e40)) <= 1e-15 * e40);
    cr_assert(fabs(ag_get(p, 1) - e700) <= 1e-15 * e700);
    ag_scope_end(sc);
}

Test(ew_stab, nan_propagates)
{
    ag_scope *sc = ag_scope_begin();
    ag_tensor *x = T64_1(2, ((double[]){NAN, 1}));
    ag_tensor *ys[] = {ag_exp(x), ag_sign(x), ag_tanh(x), ag_sigmoid(x), ag_relu(x),
                       ag_leaky_relu(x, 0.1), ag_softplus(x), ag_clamp(x, -1, 0.5),
                       ag_cast(x, AG_F32), ag_abs(x), ag_log(x), ag_sqrt(x)};
    for (int i = 0; i < (int)(sizeof ys / sizeof ys[0]); i++) {
        cr_assert(ys[i], "op %d failed: %s", i, ag_last_error());
        cr_assert(isnan(ag_get(ys[i], 0)), "op %d: got %g for NaN", i, ag_get(ys[i], 0));
        cr_assert(!isnan(ag_get(ys[i], 1)), "op %d: NaN for 1", i);
    }
    cr_assert_float_eq(ag_get(ys[1], 1), 1.0, 0);
    ag_scope_end(sc);
}

/* ---- comparisons ---- */

Test(ew_cmp, values_with_broadcasting)
{
    ag_scope *sc = ag_scope_begin();
    ag_tensor *a = T64(2, 3, ((double[]){1, 2, 3, 4, 5, 6}));
    ag_tensor *b = T64_1(3, ((double[]){2, 2, 7}));
    expect_values(ag_eq(a, b), (double[]){0, 1, 0, 0, 0, 0}, 6, 0);
    expect_values(ag_ne(a, b), (double[]){1, 0, 1, 1, 1, 1}, 6, 0);
    expect_values(ag_lt(a, b), (double[]){1, 0, 1, 0, 0, 1}, 6, 0);
    expect_values(ag_le(a, b), (double[]){1, 1, 1, 0, 0, 1}, 6, 0);
    expect_values(ag_gt(a, b), (double[]){0, 0, 0, 1, 1, 0}, 6, 0);
    expect_values(ag_ge(a, b), (double[]){0, 1, 0, 1, 1, 0}, 6, 0);
    expect_shape(ag_gt(b, a), 2, (int64_t[]){2, 3});
    /* [2,1] vs [1,3] -> [2,3]; 0-d against a matrix. */
    ag_tensor *col = T64(2, 1, ((double[]){1, 3}));
    ag_tensor *row = T64(1, 3, ((double[]){0, 1, 3}));
    ag_tensor *y = ag_le(col, row);
    expect_shape(y, 2, (int64_t[]){2, 3});
    expect_values(y, (double[]){0, 1, 1, 0, 0, 1}, 6, 0);
    ag_tensor *three = ag_scalar(AG_F64, 3);
    expect_values(ag_ge(a, three), (double[]){0, 0, 1, 1, 1, 1}, 6, 0);
    expect_shape(ag_eq(three, three), 0, NULL);
    cr_assert_float_eq(ag_item(ag_eq(three, three)), 1.0, 0);
    ag_scope_end(sc);
}

Test(ew_cmp, nan_float32_and_no_gradient)
{
    ag_scope *sc = ag_scope_begin();
    ag_tensor *a = tu_tensor(AG_F32, 1, (int64_t[]){3}, (double[]){NAN, 1, -2});
    ag_tensor *b = tu_tensor(AG_F32, 1, (int64_t[]){3}, (double[]){NAN, 1, 0});
    ag_set_requires_grad(a, true);
    ag_tensor *y = ag_eq(a, b);
    cr_assert_eq(ag_get_dtype(y), AG_F32);
    expect_values(y, (double[]){0, 1, 0}, 3, 0);
    expect_values(ag_ne(a, b), (double[]){1, 0, 1}, 3, 0);
    expect_values(ag_lt(a, b), (double[]){0, 0, 1}, 3, 0);
    expect_values(ag_ge(a, b), (double[]){0, 1, 0}, 3, 0);
    /* A mask is a constant: nothing recorded even though a requires grad. */
    cr_assert(!ag_requires_grad(y));
    cr_assert(ag_is_leaf(y));
    ag_scope_end(sc);
}

/* ---- where ---- */

Test(ew_where, values_with_three_way_broadcasting)
{
    ag_scope *sc = ag_scope_begin();
    ag_tensor *cond = T64(2, 1, ((double[]){1, 0}));
    ag_tensor *a = T64_1(3, ((double[]){1, 2, 3}));
    ag_tensor *b = ag_scalar(AG_F64, 9);
    ag_tensor *y = ag_where(cond, a, b);
    expect_shape(y, 2, (int64_t[]){2, 3});
    expect_values(y, (double[]){1, 2, 3, 9, 9, 9}, 6, 0);
    /* Any nonzero (negative, NaN) counts as true. */
    ag_tensor *c2 = T64_1(4, ((double[]){-2, 0, NAN, 0.5}));
    ag_tensor *a2 = T64_1(4, ((double[]){1, 2, 3, 4}));
    expect_values(ag_where(c2, a2, b), (double[]){1, 9, 3, 4}, 4, 0);
    /* cond [4,1,3], a [2,1], b [2,3] -> [4,2,3] */
    double cv[12];
    for (int i = 0; i < 12; i++) cv[i] = (i % 5 == 0);
    ag_tensor *c3 = T64_3(4, 1, 3, cv);
    ag_tensor *a3 = T64(2, 1, ((double[]){-1, -2}));
    ag_tensor *b3 = T64(2, 3, ((double[]){10, 11, 12, 13, 14, 15}));
    y = ag_where(c3, a3, b3);
    expect_shape(y, 3, (int64_t[]){4, 2, 3});
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 2; j++)
            for (int k = 0; k < 3; k++) {
                double e = cv[i * 3 + k] ? -1 - j : 10 + j * 3 + k;
                cr_assert_eq(ag_get(y, (i * 2 + j) * 3 + k), e, "at %d,%d,%d", i, j, k);
            }
    /* float32 */
    ag_tensor *cf = tu_tensor(AG_F32, 1, (int64_t[]){2}, (double[]){0, 1});
    ag_tensor *af = tu_tensor(AG_F32, 1, (int64_t[]){2}, (double[]){1.5, 2.5});
    ag_tensor *bf = tu_tensor(AG_F32, 0, NULL, (double[]){-4});
    y = ag_where(cf, af, bf);
    cr_assert_eq(ag_get_dtype(y), AG_F32);
    expect_values(y, (double[]){-4, 2.5}, 2, 0);
    ag_scope_end(sc);
}

/* Big enough for the parallel row loop of the broadcasting plan. */
Test(ew_where, large_broadcast)
{
    ag_scope *sc = ag_scope_begin();
    int64_t rows = 300, cols = 257;
    ag_tensor *cond = ag_zeros(AG_F64, 2, (int64_t[]){rows, 1});
    for (int64_t i = 0; i < rows; i += 3) ag_set(cond, i, 1);
    ag_tensor *a = ag_arange(AG_F64, cols);
    ag_tensor *b = ag_full(AG_F64, 2, (int64_t[]){rows, cols}, -1);
    ag_tensor *y = ag_where(cond, a, b);
    cr_assert(y, "%s", ag_last_error());
    for (int64_t i = 0; i < rows; i++)
        for (int64_t j = 0; j < cols; j++)
            cr_assert_eq(ag_get(y, i * cols + j), i % 3 == 0 ? (double)j : -1.0);
    ag_scope_end(sc);
}

typedef struct wcase { shp c, a, b; } wcase;

static ag_tensor *where_fn(ag_tensor *const *in, int n, void *ctx)
{
    (void)n; (void)ctx;
    return ag_where(in[0], in[1], in[2]);
}

Test(ew_grad, where)
{
    ag_scope *sc = ag_scope_begin();
    static const wcase cases[] = {
        {{2, {2, 3}}, {2, {2, 3}}, {2, {2, 3}}},
        {{2, {2, 1}}, {1, {3}}, {0, {0}}},
        {{0, {0}}, {2, {2, 3}}, {2, {1, 3}}},
        {{3, {4, 1, 3}}, {2, {2, 1}}, {2, {2, 3}}},
        {{1, {1}}, {0, {0}}, {0, {0}}},
    };
    for (int k = 0; k < (int)(sizeof cases / sizeof cases[0]); k++) {
        double cv[64];
        for (int i = 0; i < 64; i++) cv[i] = (i * 7 + k) % 3 == 0;
        ag_tensor *in[3] = {tu_tensor(AG_F64, cases[k].c.nd, cases[k].c.s, cv),
                            leaf(300 + (uint64_t)k, cases[k].a, -2, 2, false),
                            leaf(400 + (uint64_t)k, cases[k].b, -2, 2, false)};
        expect_gradcheck(where_fn, NULL, 3, in);
        if (k == 1 || k == 3) expect_gradgradcheck(where_fn, NULL, 3, in);
    }
    ag_scope_end(sc);
}

Test(ew_where, gradient_values_and_cond_gets_none)
{
    ag_scope *sc = ag_scope_begin();
    ag_tensor *cond = T64(2, 3, ((double[]){1, 0, 0, 1, 1, 0}));
    ag_tensor *a = T64(2, 3, ((double[]){1, 2, 3, 4, 5, 6}));
    ag_tensor *b = ag_scalar(AG_F64, 0.5);
    ag_set_requires_grad(cond, true);
    ag_set_requires_grad(a, true);
    ag_set_requires_grad(b, true);
    ag_tensor *y = ag_where(cond, a, b);
    expect_values(grad_of_sum(y, a), (double[]){1, 0, 0, 1, 1, 0}, 6, 0);
    cr_assert_float_eq(ag_item(ag_grad(b)), 3.0, 0); /* three places took b */
    cr_assert_null(ag_grad(cond));
    ag_scope_end(sc);
}

/* ---- cast ---- */

Test(ew_cast, values)
{
    ag_scope *sc = ag_scope_begin();
    ag_tensor *x = T64_1(4, ((double[]){0.1, -2.5, 1e300, -1e300}));
    ag_tensor *y = ag_cast(x, AG_F32);
    cr_assert_eq(ag_get_dtype(y), AG_F32);
    expect_shape(y, 1, (int64_t[]){4});
    const float *py = ag_data_f32(y);
    cr_assert(py[0] == 0.1f && py[1] == -2.5f);
    cr_assert(isinf(py[2]) && py[2] > 0 && isinf(py[3]) && py[3] < 0);
    ag_tensor *z = ag_cast(y, AG_F64);
    cr_assert_eq(ag_get_dtype(z), AG_F64);
    cr_assert_eq(ag_get(z, 0), (double)0.1f);
    /* Same dtype: an independent copy. */
    ag_tensor *c = ag_cast(x, AG_F64);
    cr_assert(c != x && ag_data(c) != ag_data(x));
    ag_set(x, 1, 42);
    cr_assert_eq(ag_get(c, 1), -2.5);
    ag_tensor *s = ag_cast(ag_scalar(AG_F32, 0.75), AG_F64);
    expect_shape(s, 0, NULL);
    cr_assert_eq(ag_item(s), 0.75);
    ag_scope_end(sc);
}

Test(ew_cast, gradient_dtype_and_values)
{
    ag_scope *sc = ag_scope_begin();
    ag_tensor *x = T64(2, 2, ((double[]){1, 2, 3, 4}));
    ag_set_requires_grad(x, true);
    /* y = 3 * cast(x, f32): dy/dx = 3, delivered as float64. */
    ag_tensor *y = ag_mul_scalar(ag_cast(x, AG_F32), 3);
    ag_tensor *g = grad_of_sum(y, x);
    cr_assert_eq(ag_get_dtype(g), AG_F64);
    expect_values(g, (double[]){3, 3, 3, 3}, 4, 0);
    /* The other way: a float32 leaf through float64 ops. */
    ag_tensor *w = tu_tensor(AG_F32, 1, (int64_t[]){3}, (double[]){0.5, -1, 2});
    ag_set_requires_grad(w, true);
    ag_tensor *w64 = ag_cast(w, AG_F64);
    g = grad_of_sum(ag_mul(w64, w64), w);
    cr_assert_eq(ag_get_dtype(g), AG_F32);
    expect_values(g, (double[]){1, -2, 4}, 3, 0);
    /* Same dtype still records. */
    ag_tensor *c = ag_cast(x, AG_F64);
    cr_assert(ag_requires_grad(c) && !ag_is_leaf(c));
    ag_scope_end(sc);
}

/* ---- errors ---- */

typedef ag_tensor *(*unary_op)(ag_tensor *);
static ag_tensor *leaky01(ag_tensor *x) { return ag_leaky_relu(x, 0.1); }
static ag_tensor *clamp01(ag_tensor *x) { return ag_clamp(x, 0, 1); }
static ag_tensor *cast32(ag_tensor *x) { return ag_cast(x, AG_F32); }

Test(ew_err, null_inputs)
{
    static const struct { unary_op f; const char *name; } un[] = {
        {ag_tanh, "ag_tanh"}, {ag_sigmoid, "ag_sigmoid"}, {ag_relu, "ag_relu"},
        {leaky01, "ag_leaky_relu"}, {ag_softplus, "ag_softplus"}, {clamp01, "ag_clamp"},
        {cast32, "ag_cast"},
    };
    for (int i = 0; i < (int)(sizeof un / sizeof un[0]); i++) {
        ag_clear_error();
        cr_assert_null(un[i].f(NULL));
        expect_error_mentions(un[i].name, "NULL");
    }
    static const struct { ag_tensor *(*f)(ag_tensor *, ag_tensor *); const char *name; } bin[] = {
        {ag_eq, "ag_eq"}, {ag_ne, "ag_ne"}, {ag_lt, "ag_lt"},
        {ag_le, "ag_le"}, {ag_gt, "ag_gt"}, {ag_ge, "ag_ge"},
    };
    ag_scope *sc = ag_scope_begin();
    ag_tensor *a = ag_zeros(AG_F64, 1, (int64_t[]){2});
    for (int i = 0; i < (int)(sizeof bin / sizeof bin[0]); i++) {
        ag_clear_error();
        cr_assert_null(bin[i].f(a, NULL));
        expect_error_mentions(bin[i].name, "argument 2", "NULL");
    }
    ag_clear_error();
    cr_assert_null(ag_where(a, a, NULL));
    expect_error_mentions("ag_where", "argument 3", "NULL");
    ag_scope_end(sc);
}

Test(ew_err, nested_failure_keeps_first_message)
{
    ag_scope *sc = ag_scope_begin();
    ag_tensor *x = ag_zeros(AG_F64, 2, (int64_t[]){2, 3});
    ag_clear_error();
    cr_assert_null(ag_sigmoid(ag_tanh(ag_clamp(x, 2, 1))));
    expect_error_mentions("ag_clamp", "[2,3]");
    cr_assert_null(strstr(ag_last_error(), "ag_tanh"));
    ag_scope_end(sc);
}

Test(ew_err, bad_parameters)
{
    ag_scope *sc = ag_scope_begin();
    ag_tensor *x = ag_zeros(AG_F64, 2, (int64_t[]){2, 3});
    ag_clear_error();
    cr_assert_null(ag_clamp(x, 2, 1));
    expect_error_mentions("ag_clamp", "lo = 2", "hi = 1", "[2,3]");
    ag_clear_error();
    cr_assert_null(ag_clamp(x, NAN, 1));
    expect_error_mentions("ag_clamp", "nan", "[2,3]");
    ag_clear_error();
    cr_assert_null(ag_clamp(x, 0, NAN));
    expect_error_mentions("ag_clamp", "nan");
    ag_clear_error();
    cr_assert_null(ag_leaky_relu(x, INFINITY));
    expect_error_mentions("ag_leaky_relu", "inf", "[2,3]");
    ag_clear_error();
    cr_assert_null(ag_cast(x, (ag_dtype)7));
    expect_error_mentions("ag_cast", "7", "[2,3]");
    ag_scope_end(sc);
}

Test(ew_err, shapes_and_dtypes)
{
    ag_scope *sc = ag_scope_begin();
    ag_tensor *a = ag_zeros(AG_F64, 2, (int64_t[]){2, 3});
    ag_tensor *b = ag_zeros(AG_F64, 1, (int64_t[]){4});
    ag_tensor *f = ag_zeros(AG_F32, 1, (int64_t[]){3});
    ag_clear_error();
    cr_assert_null(ag_lt(a, b));
    expect_error_mentions("ag_lt", "[2,3]", "[4]");
    ag_clear_error();
    cr_assert_null(ag_eq(a, f));
    expect_error_mentions("ag_eq", "float64", "float32", "[2,3]", "[3]");
    ag_clear_error();
    cr_assert_null(ag_add(a, b));
    expect_error_mentions("ag_add", "[2,3]", "[4]");
    ag_clear_error();
    cr_assert_null(ag_div(f, a));
    expect_error_mentions("ag_div", "float32", "float64");
    /* where: all three shapes named, whichever pair fails. */
    ag_tensor *c = ag_zeros(AG_F64, 2, (int64_t[]){2, 1});
    ag_tensor *s = ag_scalar(AG_F64, 1);
    ag_clear_error();
    cr_assert_null(ag_where(c, a, b));
    expect_error_mentions("ag_where", "cond [2,1]", "a [2,3]", "b [4]");
    ag_clear_error();
    cr_assert_null(ag_where(b, a, s));
    expect_error_mentions("ag_where", "[4]", "[2,3]", "[]");
    /* cond must share the dtype of a and b. */
    ag_clear_error();
    cr_assert_null(ag_where(f, a, a));
    expect_error_mentions("ag_where", "float32", "float64");
    ag_clear_error();
    cr_assert_null(ag_where(a, a, f));
    expect_error_mentions("ag_where", "float64", "float32", "[3]");
    ag_scope_end(sc);
}

Test(ew_err, pow_checks_its_input_first)
{
    ag_scope *sc = ag_scope_begin();
    ag_tensor *x = ag_zeros(AG_F64, 2, (int64_t[]){2, 3});
    ag_clear_error();
    cr_assert_null(ag_pow(x, NAN));
    expect_error_mentions("ag_pow", "nan", "[2,3]");
    /* A NULL input keeps the earlier error, even with a bad exponent. */
    ag_clear_error();
    cr_assert_null(ag_pow(ag_clamp(x, 2, 1), INFINITY));
    expect_error_mentions("ag_clamp", "[2,3]");
    cr_assert_null(strstr(ag_last_error(), "ag_pow"));
    ag_clear_error();
    cr_assert_null(ag_pow(NULL, 2));
    expect_error_mentions("ag_pow", "NULL");
    ag_scope_end(sc);
}
