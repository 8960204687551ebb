/* demos/gradcheck_eps.c - how finite differences check gradients, and where they fail
 * (`make demo-gradcheck`).
 *
 * Part 1: for f(x) = sum(tanh(x) * exp(x / 2)) the demo computes the central difference
 *     (f(x + eps e_j) - f(x - eps e_j)) / (2 eps)
 * for eps = 1e-1 ... 1e-12, in float32 and float64, and compares it with the exact gradient from
 * backward (float64). Two errors compete. Truncation: the difference quotient of a curved
 * function is off by about f'''(x) eps^2 / 6, so it grows as eps^2 at LARGE eps. Round-off: f is
 * computed with a relative error near machine epsilon u, and dividing that by 2 eps makes it grow
 * as u / eps at SMALL eps. The total is smallest where the two meet, at the bottom of the V:
 * about 1e-5 in float64 (u ~ 1e-16) and 1e-2 in float32 (u ~ 6e-8), which is why gradient checks
 * run in float64. The curves go to gradcheck_eps.svg (eps on a log axis, small eps on the left).
 * Part 2: an op with a deliberately wrong backward rule (2x^2 instead of 3x^2 for x^3), made with
 * ag_apply_function, is caught by ag_gradcheck, whose report is printed.
 * demo-check writes: gradcheck_eps.svg
 */
#include <math.h>
#include <stdio.h>

#include "common.h"

#define N 6
#define NEPS 12

static ag_tensor *f(ag_tensor *x)
{
    return ag_sum_all(ag_mul(ag_tanh(x), ag_exp(ag_mul_scalar(x, 0.5))));
}

/* Largest error of the central differences at step eps over the N elements, in `dtype`. */
static double fd_error(ag_dtype dtype, const double *x0, double eps, const double *exact)
{
    double worst = 0;
    ag_scope *s = ag_scope_begin();
    bool was = ag_set_grad_enabled(false);
    ag_tensor *x = ag_tensor_from_f64(dtype, 1, (int64_t[]){N}, x0);
    for (int j = 0; j < N; j++) {
        /* x_j + eps and x_j - eps are rounded to the dtype, as a real check would see them. */
        ag_set(x, j, x0[j] + eps);
        double hi = ag_get(x, j), fp = ag_item(f(x));
        ag_set(x, j, x0[j] - eps);
        double lo = ag_get(x, j), fm = ag_item(f(x));
        ag_set(x, j, x0[j]);
        if (hi == lo) { /* x +- eps rounds to the same number: the step is lost */
            worst = NAN;
            break;
        }
        double numeric = (fp - fm) / (hi - lo);
        worst = fmax(worst, fabs(numeric - exact[j]));
    }
    ag_set_grad_enabled(was);
    ag_scope_end(s);
    return worst;
}

/* cube(x) = x^3 with a wrong rule: d/dx written as 2 x^2. */
static int wrong_cube_backward(const ag_function *fn, void *ctx, int n, ag_tensor *const *in,
                               ag_tensor *out, ag_tensor *g, ag_tensor **gin)
{
    (void)fn, (void)ctx, (void)n, (void)out;
    gin[0] = ag_mul(g, ag_mul_scalar(ag_mul(in[0], in[0]), 2.0)); /* should be 3.0 */
    return gin[0] ? 0 : -1;
}
static const ag_function WRONG_CUBE = {"wrong_cube", wrong_cube_backward};

static ag_tensor *uses_wrong_cube(ag_tensor *const *in, int n, void *ctx)
{
    (void)n, (void)ctx;
    bool was = ag_set_grad_enabled(false);
    ag_tensor *v = ag_mul(ag_mul(in[0], in[0]), in[0]);
    ag_set_grad_enabled(was);
    return ag_sum_all(ag_apply_function(&WRONG_CUBE, NULL, 1, in, v));
}

int main(void)
{
    const double x0[N] = {-1.5, -0.7, -0.1, 0.3, 0.9, 1.7};
    ag_scope *s = ag_scope_begin();
    ag_tensor *x = ag_tensor_from_f64(AG_F64, 1, (int64_t[]){N}, x0);
    ag_set_requires_grad(x, true);
    if (ag_backward(f(x)) != 0) demo_die("backward");
    double exact[N];
    ag_to_f64(ag_grad(x), exact, N);

    printf("Part 1. Central differences for f(x) = sum(tanh(x) * exp(x/2)), 6 elements,\n"
           "        against the exact gradient from backward (largest error over elements)\n\n");
    printf("      eps     float64 error   float32 error\n");
    double eps[NEPS], e64[NEPS], e32[NEPS];
    int best64 = 0, best32 = 0;
    for (int k = 0; k < NEPS; k++) {
        eps[k] = pow(10.0, -(k + 1));
        e64[k] = fd_error(AG_F64, x0, eps[k], exact);
        e32[k] = fd_error(AG_F32, x0, eps[k], exact);
        if (e64[k] < e64[best64]) best64 = k;
        if (e32[k] < e32[best32]) best32 = k;
        printf("  %7.0e   %13.3e   ", eps[k], e64[k]);
        if (isnan(e32[k])) printf("  (step lost: x + eps == x - eps)\n");
        else printf("%13.3e\n", e32[k]);
    }
    printf("\nBest eps: %.0e in float64 (error %.1e), %.0e in float32 (error %.1e).\n",
           eps[best64], e64[best64], eps[best32], e32[best32]);
    printf("Down the table (smaller eps) the error first falls as eps^2: at large eps truncation\n"
           "dominates. Past the best eps it rises as round-off/eps: at small eps the rounding of\n"
           "f, divided by 2 eps, dominates. In float32 a step below ~1e-8 vanishes when added to\n"
           "x. On the picture eps grows to the right: round-off on the left, truncation on the\n"
           "right.\n");

    ag_plot *p = ag_plot_new("Finite-difference error against step size", "eps",
                             "max |numeric - exact|");
    ag_plot_set_log(p, true, true);
    ag_plot_line_points(p, "float64", NEPS, eps, e64);
    ag_plot_line_points(p, "float32", NEPS, eps, e32);
    char path[512];
    if (ag_plot_save_svg(p, demo_out_path(path, sizeof path, "gradcheck_eps.svg")) != 0)
        demo_die("writing the picture");
    printf("Wrote the V-shaped curves to %s\n", path);
    ag_plot_free(p);

    printf("\nPart 2. An op whose backward rule is wrong (d(x^3)/dx written as 2x^2):\n");
    ag_tensor *y = ag_tensor_from_f64(AG_F64, 1, (int64_t[]){4}, (double[]){0.5, -1, 1.5, 2});
    ag_set_requires_grad(y, true);
    ag_gradcheck_report r;
    int rc = ag_gradcheck(uses_wrong_cube, NULL, 1, &y, NULL, &r);
    printf("  ag_gradcheck returned %d (%s)\n", rc, rc == 1 ? "gradients disagree" : "?");
    printf("  report: %s\n", r.message);
    printf("  worst element: input %d, index %lld: analytic %.6f, numeric %.6f (3x^2 = %.6f)\n",
           r.input, (long long)r.input_index, r.analytic, r.numeric,
           3 * ag_get(y, r.input_index) * ag_get(y, r.input_index));
    ag_scope_end(s);
    return rc == 1 ? 0 : 1;
}
