/* tests/test_gradcheck.c - the gradient checker as a library function: it passes correct
 * gradients, catches wrong ones (in slow and fast mode) with a report that locates the worst
 * element, leaves the inputs as they were, and reports bad arguments as errors. */
#include "test_util.h"

static ag_tensor *good(ag_tensor *const *in, int n, void *ctx)
{
    (void)n; (void)ctx;
    return ag_mul(ag_exp(in[0]), in[1]); /* e^x * w, a [2,2] output */
}

/* x * detach(x): backward sees only the first factor, so its gradient is x where the true
 * derivative is 2x. A wrong gradient made on purpose. */
static ag_tensor *wrong(ag_tensor *const *in, int n, void *ctx)
{
    (void)n; (void)ctx;
    return ag_mul(in[0], ag_detach(in[0]));
}

Test(gradcheck, passes_a_correct_gradient_and_restores_inputs)
{
    double xs[] = {0.1, -0.4, 0.7, 1.1}, ws[] = {2, -1, 0.5, 3};
    ag_tensor *x = T64(2, 2, xs), *w = T64(2, 2, ws);
    ag_set_requires_grad(x, true);
    ag_set_requires_grad(w, true);
    ag_tensor *in[2] = {x, w};
    ag_gradcheck_report r;
    cr_assert_eq(ag_gradcheck(good, NULL, 2, in, NULL, &r), 0, "%s", r.message);
    cr_assert(r.passed);
    cr_assert_eq(r.compared, 2 * 4 * 4, "every Jacobian entry compared (got %lld)", (long long)r.compared);
    cr_assert(strstr(r.message, "passed"));
    expect_values(x, xs, 4, 0);
    expect_values(w, ws, 4, 0);
    cr_assert_null(ag_grad(x), "gradcheck must not leave gradients behind");
    ag_tensor_free(x);
    ag_tensor_free(w);
}

Test(gradcheck, catches_a_wrong_gradient_and_locates_it)
{
    ag_tensor *x = T64_1(3, ((double[]){0.5, -2.0, 1.0}));
    ag_set_requires_grad(x, true);
    ag_gradcheck_report r;
    cr_assert_eq(ag_gradcheck(wrong, NULL, 1, &x, NULL, &r), 1);
    cr_assert(!r.passed);
    /* Worst element: |analytic - numeric| = |x| is largest at x = -2 (index 1, output 1). */
    cr_assert_eq(r.input, 0);
    cr_assert_eq(r.input_index, 1);
    cr_assert_eq(r.output_index, 1);
    cr_assert_float_eq(r.analytic, -2.0, 1e-12);
    cr_assert_float_eq(r.numeric, -4.0, 1e-6);
    cr_assert_float_eq(r.abs_err, 2.0, 1e-6);
    cr_assert(strstr(r.message, "FAILED"), "%s", r.message);
    ag_tensor_free(x);
}

Test(gradcheck, fast_mode_catches_a_wrong_gradient)
{
    ag_tensor *x = T64_1(3, ((double[]){0.5, -2.0, 1.0}));
    ag_set_requires_grad(x, true);
    ag_gradcheck_opts o = ag_gradcheck_defaults();
    o.fast = true;
    ag_gradcheck_report r;
    cr_assert_eq(ag_gradcheck(wrong, NULL, 1, &x, &o, &r), 1, "%s", r.message);
    cr_assert_eq(r.compared, 1);
    cr_assert_eq(r.input_index, -1);
    /* numeric v^T J u is twice the analytic one for this function */
    cr_assert_float_eq(r.numeric, 2 * r.analytic, 1e-6);
    ag_tensor_free(x);
}

Test(gradcheck, tolerances_are_honoured)
{
    ag_tensor *x = T64_1(2, ((double[]){1.0, 1.0}));
    ag_set_requires_grad(x, true);
    ag_gradcheck_opts o = ag_gradcheck_defaults();
    o.atol = 10; /* an error of 1 is now within tolerance */
    cr_assert_eq(ag_gradcheck(wrong, NULL, 1, &x, &o, NULL), 0);
    ag_tensor_free(x);
}

Test(gradcheck, only_inputs_that_require_grad_are_checked)
{
    ag_tensor *x = T64(2, 2, ((double[]){0.1, 0.2, 0.3, 0.4}));
    ag_tensor *w = T64(2, 2, ((double[]){1, 2, 3, 4}));
    ag_set_requires_grad(w, true);
    ag_tensor *in[2] = {x, w};
    ag_gradcheck_report r;
    cr_assert_eq(ag_gradcheck(good, NULL, 2, in, NULL, &r), 0, "%s", r.message);
    cr_assert_eq(r.compared, 4 * 4);
    ag_tensor_free(x);
    ag_tensor_free(w);
}

Test(gradcheck, errors_for_bad_arguments)
{
    ag_tensor *x = T64_1(2, ((double[]){1, 2}));
    ag_gradcheck_report r;
    ag_clear_error();
    cr_assert_eq(ag_gradcheck(good, NULL, 1, &x, NULL, &r), -1);
    expect_error_mentions("ag_gradcheck", "no input requires grad");
    cr_assert(strstr(r.message, "error"));
    ag_set_requires_grad(x, true);
    ag_gradcheck_opts o = ag_gradcheck_defaults();
    o.eps = 0;
    ag_clear_error();
    cr_assert_eq(ag_gradcheck(wrong, NULL, 1, &x, &o, &r), -1);
    expect_error_mentions("ag_gradcheck", "eps");
    ag_clear_error();
    cr_assert_eq(ag_gradcheck(NULL, NULL, 1, &x, NULL, &r), -1);
    expect_error_mentions("ag_gradcheck", "function");
    ag_scope *s = ag_scope_begin();
    ag_tensor *nonleaf = ag_exp(x);
    ag_clear_error();
    cr_assert_eq(ag_gradcheck(wrong, NULL, 1, &nonleaf, NULL, &r), -1);
    expect_error_mentions("ag_gradcheck", "leaves");
    ag_scope_end(s);
    ag_tensor_free(x);
}

static ag_tensor *fails(ag_tensor *const *in, int n, void *ctx)
{
    (void)n; (void)ctx;
    return ag_matmul(in[0], in[0]); /* [3] is not a matrix */
}

Test(gradcheck, a_failing_function_is_reported)
{
    ag_tensor *x = T64_1(3, ((double[]){1, 2, 3}));
    ag_set_requires_grad(x, true);
    ag_gradcheck_report r;
    ag_clear_error();
    cr_assert_eq(ag_gradcheck(fails, NULL, 1, &x, NULL, &r), -1);
    cr_assert(strstr(r.message, "ag_matmul"), "%s", r.message);
    ag_tensor_free(x);
}

Test(gradcheck, gradgradcheck_passes_and_catches)
{
    ag_tensor *x = T64(2, 2, ((double[]){0.1, -0.4, 0.7, 1.1}));
    ag_tensor *w = T64(2, 2, ((double[]){2, -1, 0.5, 3}));
    ag_set_requires_grad(x, true);
    ag_set_requires_grad(w, true);
    ag_tensor *in[2] = {x, w};
    ag_gradcheck_report r;
    cr_assert_eq(ag_gradgradcheck(good, NULL, 2, in, NULL, &r), 0, "%s", r.message);
    /* x * detach(x): first derivative wrong, so the second is too. */
    cr_assert_eq(ag_gradgradcheck(wrong, NULL, 1, &x, NULL, &r), 1, "%s", r.message);
    ag_tensor_free(x);
    ag_tensor_free(w);
}
