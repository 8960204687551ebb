/* tests/test_elementwise_unary.c - forward values of the unary ops and activations
 * (ops/unary.c, ops/activation.c) against libm on plain doubles, their first and second
 * derivatives at chosen points, and numerical stability: +-1000, overflow flags, precise tails
 * and NaN propagation.
 */
#include <fenv.h>

#include "elementwise_test_util.h"

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
