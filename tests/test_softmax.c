/* tests/test_softmax.c - the softmax family (softmax, log_softmax, logsumexp): values against
 * libm on plain doubles along every axis, stability at logits of 1000, infinite lanes,
 * gradients (first and second order) and error messages. */
#include "reduce_test_util.h"

/* ---- softmax family: values ---- */

/* libm reference along the last axis of a [rows, n] array. */
static void ref_softmax(const double *x, int rows, int n, double *sm, double *lsm, double *lse)
{
    for (int r = 0; r < rows; r++) {
        double t = 0;
        for (int j = 0; j < n; j++) t += exp(x[r * n + j]);
        if (lse) lse[r] = log(t);
        for (int j = 0; j < n; j++) {
            if (sm) sm[r * n + j] = exp(x[r * n + j]) / t;
            if (lsm) lsm[r * n + j] = x[r * n + j] - log(t);
        }
    }
}

Test(softmax, values_last_axis_against_libm)
{
    ag_scope *s = ag_scope_begin();
    double v[12] = {0.5, -1, 2, 0, 1.25, 3, -0.5, 0.75, -2, -2.5, 0.1, 1};
    double sm[12], lsm[12], lse[3];
    ref_softmax(v, 3, 4, sm, lsm, lse);
    ag_tensor *x = T64(3, 4, v);
    ag_tensor *y = ag_softmax(x, 1);
    expect_shape(y, 2, (int64_t[]){3, 4});
    expect_values(y, sm, 12, 1e-14);
    expect_values(ag_sum(y, 1, false), (double[]){1, 1, 1}, 3, 1e-14);
    expect_values(ag_log_softmax(x, -1), lsm, 12, 1e-14);
    ag_tensor *l = ag_logsumexp(x, 1, false);
    expect_shape(l, 1, (int64_t[]){3});
    expect_values(l, lse, 3, 1e-14);
    l = ag_logsumexp(x, -1, true);
    expect_shape(l, 2, (int64_t[]){3, 1});
    expect_values(l, lse, 3, 1e-14);
    ag_scope_end(s);
}

Test(softmax, values_middle_and_first_axis)
{
    /* [2,3,4] over axis 1: transpose the reference by hand (lane = (a, c), along b) */
    ag_scope *s = ag_scope_begin();
    double v[24], lane[3], sm[3], lsm[3], lse, e_sm[24], e_lsm[24], e_lse[8];
    for (int i = 0; i < 24; i++) v[i] = sin(1.7 * i) * 3;
    for (int a = 0; a < 2; a++)
        for (int c = 0; c < 4; c++) {
            for (int b = 0; b < 3; b++) lane[b] = v[a * 12 + b * 4 + c];
            ref_softmax(lane, 1, 3, sm, lsm, &lse);
            for (int b = 0; b < 3; b++) {
                e_sm[a * 12 + b * 4 + c] = sm[b];
                e_lsm[a * 12 + b * 4 + c] = lsm[b];
            }
            e_lse[a * 4 + c] = lse;
        }
    ag_tensor *x = T64_3(2, 3, 4, v);
    expect_values(ag_softmax(x, 1), e_sm, 24, 1e-14);
    expect_values(ag_log_softmax(x, -2), e_lsm, 24, 1e-14);
    ag_tensor *l = ag_logsumexp(x, 1, true);
    expect_shape(l, 3, (int64_t[]){2, 1, 4});
    expect_values(l, e_lse, 8, 1e-14);
    /* axis 0 of a [2,3]: columns sum to 1 */
    ag_tensor *x2 = T64(2, 3, ((double[]){1, 2, 3, 3, 2, 1}));
    double p = 1 / (1 + exp(2.0)), q = 1 - p;
    expect_values(ag_softmax(x2, 0), (double[]){p, 0.5, q, q, 0.5, p}, 6, 1e-15);
    ag_scope_end(s);
}

Test(softmax, single_element_and_float32)
{
    ag_scope *s = ag_scope_begin();
    ag_tensor *one = T64_1(1, ((double[]){-3.5}));
    expect_values(ag_softmax(one, 0), (double[]){1}, 1, 0);
    expect_values(ag_log_softmax(one, 0), (double[]){0}, 1, 0);
    cr_assert_eq(ag_item(ag_logsumexp(one, 0, false)), -3.5);
    double v[6] = {0.5, -1, 2, 3, 0.25, -0.75}, sm[6], lsm[6], lse[2];
    ref_softmax(v, 2, 3, sm, lsm, lse);
    ag_tensor *x = tu_tensor(AG_F32, 2, (int64_t[]){2, 3}, v);
    ag_tensor *y = ag_softmax(x, 1);
    cr_assert_eq(ag_get_dtype(y), AG_F32);
    expect_values(y, sm, 6, 1e-6);
    expect_values(ag_log_softmax(x, 1), lsm, 6, 1e-6);
    expect_values(ag_logsumexp(x, 1, false), lse, 2, 1e-6);
    ag_scope_end(s);
}

Test(softmax, stable_at_logits_of_1000)
{
    ag_scope *s = ag_scope_begin();
    ag_dtype dts[2] = {AG_F64, AG_F32};
    for (int d = 0; d < 2; d++) {
        double tol = d ? 1e-6 : 1e-14;
        /* [1000, 1000, 999]: shift by 1000 by hand */
        ag_tensor *x = tu_tensor(dts[d], 1, (int64_t[]){3}, (double[]){1000, 1000, 999});
        ag_set_requires_grad(x, true);
        double z = 2 + exp(-1.0);
        expect_values(ag_softmax(x, 0), (double[]){1 / z, 1 / z, exp(-1.0) / z}, 3, tol);
        expect_values(ag_log_softmax(x, 0), (double[]){-log(z), -log(z), -1 - log(z)}, 3, tol);
        expect_values(ag_logsumexp(x, 0, false), (double[]){1000 + log(z)}, 1, tol);
        /* mixed 1000 / -1000 */
        ag_tensor *m = tu_tensor(dts[d], 2, (int64_t[]){2, 2}, (double[]){1000, -1000, -1000, 1000});
        ag_set_requires_grad(m, true);
        expect_values(ag_softmax(m, 1), (double[]){1, 0, 0, 1}, 4, tol);
        expect_values(ag_log_softmax(m, 1), (double[]){0, -2000, -2000, 0}, 4, tol);
        ag_tensor *l = ag_logsumexp(m, 1, false);
        expect_values(l, (double[]){1000, 1000}, 2, tol);
        /* gradients finite: d logsumexp = softmax */
        cr_assert_eq(ag_backward(ag_sum_all(l)), 0, "%s", ag_last_error());
        expect_values(ag_grad(m), (double[]){1, 0, 0, 1}, 4, tol);
        ag_zero_grad(m);
        /* sum(w * log_softmax): grad = w - softmax * sum(w) */
        ag_tensor *w = tu_tensor(dts[d], 2, (int64_t[]){2, 2}, (double[]){1, 2, 3, 4});
        cr_assert_eq(ag_backward(ag_sum_all(ag_mul(ag_log_softmax(m, 1), w))), 0, "%s",
                     ag_last_error());
        expect_values(ag_grad(m), (double[]){1 - 3, 2, 3, 4 - 7}, 4, tol);
        ag_zero_grad(m);
        /* sum(w * softmax): grad = y*(w - sum(w*y)) = 0 for one-hot y */
        cr_assert_eq(ag_backward(ag_sum_all(ag_mul(ag_softmax(m, 1), w))), 0, "%s",
                     ag_last_error());
        expect_values(ag_grad(m), (double[]){0, 0, 0, 0}, 4, tol);
        /* softmax of [1000,1000,999] weighted: grad = y*(w - y.w) */
        ag_tensor *w3 = tu_tensor(dts[d], 1, (int64_t[]){3}, (double[]){1, 0, 0});
        cr_assert_eq(ag_backward(ag_sum_all(ag_mul(ag_softmax(x, 0), w3))), 0, "%s",
                     ag_last_error());
        double y0 = 1 / z, y2 = exp(-1.0) / z;
        expect_values(ag_grad(x), (double[]){y0 * (1 - y0), -y0 * y0, -y2 * y0}, 3, tol);
    }
    ag_scope_end(s);
}

Test(softmax, infinite_lanes)
{
    ag_scope *s = ag_scope_begin();
    ag_tensor *x = T64(2, 2, ((double[]){-INFINITY, -INFINITY, -INFINITY, 0}));
    ag_tensor *l = ag_logsumexp(x, 1, false);
    cr_assert(isinf(ag_get(l, 0)) && ag_get(l, 0) < 0, "logsumexp of all -inf is -inf");
    cr_assert_eq(ag_get(l, 1), 0);
    expect_values(ag_softmax(x, 1), (double[]){NAN, NAN, 0, 1}, 4, 0);
    ag_scope_end(s);
}

/* ---- softmax family: gradients ---- */

Test(softmax, gradcheck_softmax)
{
    check_grad(R_SOFTMAX, 0, false, 1, (int64_t[]){5}, 81, true);
    check_grad(R_SOFTMAX, 1, false, 2, (int64_t[]){3, 4}, 82, true);
    check_grad(R_SOFTMAX, 0, false, 2, (int64_t[]){3, 4}, 83, false);
    check_grad(R_SOFTMAX, 1, false, 3, (int64_t[]){2, 3, 4}, 84, false);
    check_grad(R_SOFTMAX, 0, false, 1, (int64_t[]){1}, 85, false);
}

Test(softmax, gradcheck_log_softmax)
{
    check_grad(R_LOG_SOFTMAX, 0, false, 1, (int64_t[]){5}, 91, true);
    check_grad(R_LOG_SOFTMAX, -1, false, 2, (int64_t[]){3, 4}, 92, true);
    check_grad(R_LOG_SOFTMAX, 1, false, 3, (int64_t[]){2, 3, 4}, 93, false);
    check_grad(R_LOG_SOFTMAX, 0, false, 3, (int64_t[]){2, 3, 4}, 94, false);
}

Test(softmax, gradcheck_logsumexp)
{
    check_grad(R_LOGSUMEXP, 0, false, 1, (int64_t[]){5}, 101, true);
    check_grad(R_LOGSUMEXP, 1, true, 2, (int64_t[]){3, 4}, 102, true);
    check_grad(R_LOGSUMEXP, 0, false, 2, (int64_t[]){3, 4}, 103, false);
    check_grad(R_LOGSUMEXP, 1, false, 3, (int64_t[]){2, 3, 4}, 104, true);
    check_grad(R_LOGSUMEXP, 2, true, 3, (int64_t[]){2, 3, 4}, 105, false);
    check_grad(R_LOGSUMEXP, 0, false, 1, (int64_t[]){1}, 106, false);
}

/* ---- softmax family: errors ---- */

Test(softmax, errors)
{
    ag_scope *s = ag_scope_begin();
    ag_tensor *x = T64(3, 4, ((double[]){1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}));
    ag_clear_error();
    cr_assert_null(ag_softmax(x, 2));
    expect_error_mentions("ag_softmax", "axis 2", "[3,4]");
    ag_clear_error();
    cr_assert_null(ag_log_softmax(x, -3));
    expect_error_mentions("ag_log_softmax", "axis -3", "[3,4]");
    ag_clear_error();
    cr_assert_null(ag_logsumexp(x, 7, true));
    expect_error_mentions("ag_logsumexp", "axis 7", "[3,4]");
    ag_clear_error();
    cr_assert_null(ag_softmax(ag_scalar(AG_F64, 1), 0));
    expect_error_mentions("ag_softmax", "0-d");
    ag_clear_error();
    cr_assert_null(ag_log_softmax(NULL, 0));
    expect_error_mentions("ag_log_softmax", "NULL");
    ag_clear_error();
    cr_assert_null(ag_logsumexp(NULL, 0, false));
    expect_error_mentions("ag_logsumexp", "NULL");
    ag_scope_end(s);
}
