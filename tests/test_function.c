/* tests/test_function.c - user-defined differentiable functions (ag_apply_function): a correct
 * rule passes the gradient checker (first and second order), a wrong rule is caught, borrowed
 * gradients are handled, failures are reported, and the graph shows the function's name. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>

#include <autograd.h>
#include "test_util.h"

/* cube(x) = x^3, dx = 3 x^2 g, written with ops so it can be differentiated again. */
static int cube_backward(const ag_function *fn, void *ctx, int n, ag_tensor *const *in,
                         ag_tensor *out, ag_tensor *g, ag_tensor **gin)
{
    (void)fn, (void)ctx, (void)n, (void)out;
    ag_tensor *x2 = ag_mul(in[0], in[0]);
    ag_tensor *d = ag_mul_scalar(x2, 3.0);
    gin[0] = ag_mul(g, d); /* x2 and d are freed by the rule's scope */
    return gin[0] ? 0 : -1;
}
static const ag_function CUBE = {"cube", cube_backward};

/* The same with a deliberate mistake: 2 x^2 instead of 3 x^2. */
static int wrong_backward(const ag_function *fn, void *ctx, int n, ag_tensor *const *in,
                          ag_tensor *out, ag_tensor *g, ag_tensor **gin)
{
    (void)fn, (void)ctx, (void)n, (void)out;
    ag_tensor *x2 = ag_mul(in[0], in[0]);
    ag_tensor *d = ag_mul_scalar(x2, 2.0);
    gin[0] = ag_mul(g, d); /* x2 and d are freed by the rule's scope */
    return gin[0] ? 0 : -1;
}
static const ag_function WRONG_CUBE = {"wrong_cube", wrong_backward};

/* Values computed by hand in a no-grad region, then recorded with the user rule. */
static ag_tensor *apply_cube(const ag_function *fn, ag_tensor *x)
{
    bool was = ag_set_grad_enabled(false);
    ag_tensor *x2 = ag_mul(x, x);
    ag_tensor *v = ag_mul(x2, x);
    ag_set_grad_enabled(was);
    ag_tensor *y = ag_apply_function(fn, NULL, 1, &x, v);
    ag_tensor_free(x2);
    ag_tensor_free(v);
    return y;
}

static ag_tensor *cube_sum(ag_tensor *const *in, int n, void *ctx)
{
    (void)n;
    ag_tensor *y = apply_cube(ctx, in[0]);
    ag_tensor *s = ag_sum_all(y);
    ag_tensor_free(y);
    return s;
}

Test(function, correct_rule_passes_gradcheck_and_gradgradcheck)
{
    ag_tensor *x = tu_param(1, 2, (int64_t[]){3, 4}, -2, 2);
    ag_gradcheck_report r;
    cr_expect_eq(ag_gradcheck(cube_sum, (void *)&CUBE, 1, &x, NULL, &r), 0, "%s", r.message);
    cr_expect_eq(ag_gradgradcheck(cube_sum, (void *)&CUBE, 1, &x, NULL, &r), 0, "%s", r.message);
    ag_tensor_free(x);
}

Test(function, values_and_gradient_by_hand)
{
    ag_tensor *x = T64_1(3, ((double[]){1, -2, 0.5}));
    ag_set_requires_grad(x, true);
    ag_tensor *y = apply_cube(&CUBE, x);
    expect_values(y, (double[]){1, -8, 0.125}, 3, 1e-15);
    ag_tensor *s = ag_sum_all(y);
    cr_assert_eq(ag_backward(s), 0, "%s", ag_last_error());
    expect_values(ag_grad(x), (double[]){3, 12, 0.75}, 3, 1e-15);
    ag_tensor_free(s);
    ag_tensor_free(y);
    ag_tensor_free(x);
}

Test(function, wrong_rule_is_caught_by_the_checker)
{
    ag_tensor *x = tu_param(2, 1, (int64_t[]){5}, 0.5, 2);
    ag_gradcheck_report r;
    cr_expect_eq(ag_gradcheck(cube_sum, (void *)&WRONG_CUBE, 1, &x, NULL, &r), 1);
    cr_expect(!r.passed);
    cr_expect_eq(r.input, 0);
    double xv = ag_get(x, r.input_index);
    cr_expect(fabs(r.numeric - 3 * xv * xv) < 1e-6, "numeric %g vs 3x^2 %g", r.numeric, 3 * xv * xv);
    cr_expect(fabs(r.analytic - 2 * xv * xv) < 1e-12, "analytic is the wrong rule's 2x^2");
    ag_tensor_free(x);
}

/* identity with a rule that hands back grad_output itself (a borrowed tensor). */
static int pass_backward(const ag_function *fn, void *ctx, int n, ag_tensor *const *in,
                         ag_tensor *out, ag_tensor *g, ag_tensor **gin)
{
    (void)fn, (void)ctx, (void)in, (void)out;
    for (int i = 0; i < n; i++) gin[i] = g;
    return 0;
}
static const ag_function PASS = {"pass", pass_backward};

Test(function, a_rule_may_return_grad_output_itself)
{
    ag_tensor *a = tu_param(3, 1, (int64_t[]){4}, -1, 1), *b = tu_param(4, 1, (int64_t[]){4}, -1, 1);
    ag_tensor *in[2] = {a, b};
    ag_tensor *v = ag_add(a, b);
    ag_tensor *y = ag_apply_function(&PASS, NULL, 2, in, v);
    ag_tensor *s = ag_sum_all(ag_keep(ag_mul_scalar(y, 2.0)));
    cr_assert_eq(ag_backward(s), 0, "%s", ag_last_error());
    expect_values(ag_grad(a), (double[]){2, 2, 2, 2}, 4, 0);
    expect_values(ag_grad(b), (double[]){2, 2, 2, 2}, 4, 0);
    ag_tensor_free(s);
    ag_tensor_free(y);
    ag_tensor_free(v);
    ag_tensor_free(a);
    ag_tensor_free(b);
}

static int failing_backward(const ag_function *fn, void *ctx, int n, ag_tensor *const *in,
                            ag_tensor *out, ag_tensor *g, ag_tensor **gin)
{
    (void)fn, (void)ctx, (void)n, (void)in, (void)out, (void)g, (void)gin;
    ag_set_error("failing: cannot differentiate at this point");
    return -1;
}
static const ag_function FAILING = {"failing", failing_backward};

Test(function, a_failing_rule_fails_backward_with_its_message)
{
    ag_scope *sc = ag_scope_begin();
    ag_tensor *x = tu_param(5, 1, (int64_t[]){2}, -1, 1);
    ag_tensor *y = ag_apply_function(&FAILING, NULL, 1, &x, x);
    cr_assert_not_null(y);
    cr_expect_eq(ag_backward(ag_sum_all(y)), -1);
    expect_error_mentions("cannot differentiate");
    ag_scope_end(sc);
}

Test(function, graph_shows_the_function_name)
{
    ag_scope *sc = ag_scope_begin();
    ag_tensor *x = tu_param(6, 1, (int64_t[]){2}, -1, 1);
    ag_tensor *y = apply_cube(&CUBE, x);
    char buf[2048] = {0};
    FILE *f = fmemopen(buf, sizeof buf - 1, "w");
    cr_assert_eq(ag_graph_print(f, y), 0);
    fclose(f);
    cr_expect(strstr(buf, "cube") != NULL, "%s", buf);
    ag_scope_end(sc);
}

Test(function, bad_arguments_are_errors)
{
    ag_scope *sc = ag_scope_begin();
    ag_tensor *x = tu_param(7, 1, (int64_t[]){2}, -1, 1);
    ag_tensor *x32 = ag_zeros(AG_F32, 1, (int64_t[]){2});
    cr_expect_null(ag_apply_function(NULL, NULL, 1, &x, x));
    expect_error_mentions("ag_apply_function");
    ag_function nameless = {NULL, cube_backward};
    cr_expect_null(ag_apply_function(&nameless, NULL, 1, &x, x));
    expect_error_mentions("ag_apply_function", "name");
    cr_expect_null(ag_apply_function(&CUBE, NULL, 0, &x, x));
    expect_error_mentions("ag_apply_function", "cube", "0 inputs");
    cr_expect_null(ag_apply_function(&CUBE, NULL, 1, &x, x32));
    expect_error_mentions("ag_apply_function", "float32", "float64");
    cr_expect_null(ag_apply_function(&CUBE, NULL, 1, &x, NULL));
    ag_scope_end(sc);
}

Test(function, no_graph_in_no_grad_mode)
{
    ag_scope *sc = ag_scope_begin();
    ag_tensor *x = tu_param(8, 1, (int64_t[]){2}, -1, 1);
    bool was = ag_set_grad_enabled(false);
    ag_tensor *y = ag_apply_function(&CUBE, NULL, 1, &x, x);
    ag_set_grad_enabled(was);
    cr_expect(y && !ag_requires_grad(y) && ag_is_leaf(y));
    ag_scope_end(sc);
}
