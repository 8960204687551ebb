/* tests/test_higher_order.c - gradients of gradients (create_graph), against analytic values:
 * Hessian-vector products, second derivatives of tanh and x^3, the Hessian of softmax
 * cross-entropy, mixed partials, and gradgradcheck on composites. */
#include "test_util.h"

Test(higher_order, hvp_of_sum_of_cubes)
{
    /* f = sum x^3: grad 3x^2, Hessian diag(6x), so Hv = 6 x v. */
    double xs[] = {0.5, -1.2, 2.0}, vs[] = {1.0, 0.3, -2.0};
    ag_tensor *x = T64_1(3, xs), *v = T64_1(3, vs);
    ag_set_requires_grad(x, true);
    ag_scope *s = ag_scope_begin();
    ag_tensor *f = ag_sum_all(ag_pow(x, 3));
    ag_tensor *g;
    ag_backward_opts o = {.create_graph = true};
    cr_assert_eq(ag_grad_of(f, 1, &x, &g, &o), 0, "%s", ag_last_error());
    expect_values(g, (double[]){0.75, 3 * 1.44, 12.0}, 3, 1e-14);
    ag_tensor *gv = ag_sum_all(ag_mul(g, v)), *hv;
    cr_assert_eq(ag_grad_of(gv, 1, &x, &hv, NULL), 0, "%s", ag_last_error());
    double want[3];
    for (int i = 0; i < 3; i++) want[i] = 6 * xs[i] * vs[i];
    expect_values(hv, want, 3, 1e-14);
    ag_scope_end(s);
    ag_tensor_free(x);
    ag_tensor_free(v);
}

Test(higher_order, third_derivative_of_cube)
{
    ag_tensor *x = ag_scalar(AG_F64, 1.7);
    ag_set_requires_grad(x, true);
    ag_scope *s = ag_scope_begin();
    ag_backward_opts o = {.create_graph = true};
    ag_tensor *y = ag_pow(x, 3), *d1, *d2, *d3;
    cr_assert_eq(ag_grad_of(y, 1, &x, &d1, &o), 0);
    cr_assert_eq(ag_grad_of(d1, 1, &x, &d2, &o), 0);
    cr_assert_eq(ag_grad_of(d2, 1, &x, &d3, &o), 0);
    cr_assert_float_eq(ag_item(d1), 3 * 1.7 * 1.7, 1e-13);
    cr_assert_float_eq(ag_item(d2), 6 * 1.7, 1e-13);
    cr_assert_float_eq(ag_item(d3), 6.0, 1e-13);
    ag_scope_end(s);
    ag_tensor_free(x);
}

Test(higher_order, second_derivative_of_tanh)
{
    double xs[] = {-1.3, 0.2, 0.9, 2.5};
    ag_tensor *x = T64_1(4, xs);
    ag_set_requires_grad(x, true);
    ag_scope *s = ag_scope_begin();
    ag_backward_opts o = {.create_graph = true};
    ag_tensor *d1, *d2;
    cr_assert_eq(ag_grad_of(ag_sum_all(ag_tanh(x)), 1, &x, &d1, &o), 0, "%s", ag_last_error());
    cr_assert_eq(ag_grad_of(ag_sum_all(d1), 1, &x, &d2, NULL), 0, "%s", ag_last_error());
    double w1[4], w2[4];
    for (int i = 0; i < 4; i++) {
        double t = tanh(xs[i]);
        w1[i] = 1 - t * t;                /* tanh' */
        w2[i] = -2 * t * (1 - t * t);     /* tanh'' */
    }
    expect_values(d1, w1, 4, 1e-14);
    expect_values(d2, w2, 4, 1e-13);
    ag_scope_end(s);
    ag_tensor_free(x);
}

Test(higher_order, hessian_of_softmax_cross_entropy)
{
    /* L(z) = -sum t log softmax(z), sum t = 1: grad p - t, Hessian diag(p) - p p^T. */
    double zs[] = {0.3, -1.0, 2.2, 0.5}, ts[] = {0.1, 0.2, 0.6, 0.1}, vs[] = {1, -2, 0.5, 3};
    ag_tensor *z = T64_1(4, zs), *t = T64_1(4, ts), *v = T64_1(4, vs);
    ag_set_requires_grad(z, true);
    ag_scope *s = ag_scope_begin();
    ag_tensor *L = ag_neg(ag_sum_all(ag_mul(t, ag_log_softmax(z, 0))));
    ag_backward_opts o = {.create_graph = true};
    ag_tensor *g, *hv;
    cr_assert_eq(ag_grad_of(L, 1, &z, &g, &o), 0, "%s", ag_last_error());
    cr_assert_eq(ag_grad_of(ag_sum_all(ag_mul(g, v)), 1, &z, &hv, NULL), 0, "%s", ag_last_error());
    double p[4], m = 0, sum = 0, pv = 0, wg[4], wh[4];
    for (int i = 0; i < 4; i++) m = fmax(m, zs[i]);
    for (int i = 0; i < 4; i++) sum += exp(zs[i] - m);
    for (int i = 0; i < 4; i++) p[i] = exp(zs[i] - m) / sum, pv += p[i] * vs[i];
    for (int i = 0; i < 4; i++) wg[i] = p[i] - ts[i], wh[i] = p[i] * vs[i] - p[i] * pv;
    expect_values(g, wg, 4, 1e-14);
    expect_values(hv, wh, 4, 1e-13);
    ag_scope_end(s);
    ag_tensor_free(z);
    ag_tensor_free(t);
    ag_tensor_free(v);
}

Test(higher_order, mixed_partials)
{
    /* f = x^2 y: df/dx = 2xy, d2f/dydx = 2x, d2f/dx2 = 2y. */
    ag_tensor *x = ag_scalar(AG_F64, 1.5), *y = ag_scalar(AG_F64, -0.7);
    ag_set_requires_grad(x, true);
    ag_set_requires_grad(y, true);
    ag_scope *s = ag_scope_begin();
    ag_tensor *f = ag_mul(ag_mul(x, x), y), *dfdx, *h[2];
    ag_backward_opts o = {.create_graph = true};
    cr_assert_eq(ag_grad_of(f, 1, &x, &dfdx, &o), 0);
    cr_assert_float_eq(ag_item(dfdx), 2 * 1.5 * -0.7, 1e-15);
    ag_tensor *xy[2] = {x, y};
    cr_assert_eq(ag_grad_of(dfdx, 2, xy, h, NULL), 0, "%s", ag_last_error());
    cr_assert_float_eq(ag_item(h[0]), 2 * -0.7, 1e-15);
    cr_assert_float_eq(ag_item(h[1]), 2 * 1.5, 1e-15);
    ag_scope_end(s);
    ag_tensor_free(x);
    ag_tensor_free(y);
}

Test(higher_order, backward_with_create_graph_leaves_a_differentiable_grad)
{
    ag_tensor *x = ag_scalar(AG_F64, 0.8);
    ag_set_requires_grad(x, true);
    ag_scope *s = ag_scope_begin();
    ag_backward_opts o = {.create_graph = true};
    cr_assert_eq(ag_backward_ex(ag_mul(ag_mul(x, x), x), &o), 0); /* grad 3x^2 */
    ag_tensor *g = ag_grad(x);
    cr_assert(ag_requires_grad(g));
    ag_tensor *d2;
    cr_assert_eq(ag_grad_of(g, 1, &x, &d2, NULL), 0, "%s", ag_last_error());
    cr_assert_float_eq(ag_item(d2), 6 * 0.8, 1e-15);
    ag_scope_end(s);
    /* The leaf's graph-carrying gradient references x: freeing x must break the cycle. */
    ag_tensor_free(x);
    cr_assert_eq(ag_memory_get_stats().live_tensors, 0);
}

static ag_tensor *composite(ag_tensor *const *in, int n, void *ctx)
{
    (void)n; (void)ctx;
    /* sum(tanh(x*w) / (1 + x^2)) + mean(log(w*w + 1)) */
    ag_tensor *a = ag_tanh(ag_mul(in[0], in[1]));
    ag_tensor *b = ag_add_scalar(ag_pow(in[0], 2), 1);
    ag_tensor *c = ag_log(ag_add_scalar(ag_mul(in[1], in[1]), 1));
    return ag_add(ag_sum_all(ag_div(a, b)), ag_mean_all(c));
}

Test(higher_order, gradgradcheck_on_a_composite)
{
    ag_tensor *x = tu_param(1, 2, (int64_t[]){2, 3}, -1, 1);
    ag_tensor *w = tu_param(2, 1, (int64_t[]){3}, -1, 1);
    ag_tensor *in[2] = {x, w};
    expect_gradcheck(composite, NULL, 2, in);
    expect_gradgradcheck(composite, NULL, 2, in);
    ag_tensor_free(x);
    ag_tensor_free(w);
}
