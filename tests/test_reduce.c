/* tests/test_reduce.c - reductions (sum, mean, max, min over an axis or all elements): values
 * derived by hand on plain doubles, empty inputs, tie sharing, determinism across thread counts,
 * gradients (first and second order) and error messages. The softmax family is in
 * test_softmax.c. */
#include "reduce_test_util.h"

#ifdef _OPENMP
#include <omp.h>
#endif

/* 0, 1, ..., n-1 as doubles */
static double *iota(double *v, int n)
{
    for (int i = 0; i < n; i++) v[i] = i;
    return v;
}

/* ---- sum / mean forward ---- */

Test(reduce, sum_2d_each_axis_and_keepdim)
{
    ag_scope *s = ag_scope_begin();
    ag_tensor *x = T64(3, 4, ((double[]){1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}));
    ag_tensor *y = ag_sum(x, 0, false);
    expect_shape(y, 1, (int64_t[]){4});
    expect_values(y, (double[]){15, 18, 21, 24}, 4, 0);
    y = ag_sum(x, 0, true);
    expect_shape(y, 2, (int64_t[]){1, 4});
    expect_values(y, (double[]){15, 18, 21, 24}, 4, 0);
    y = ag_sum(x, 1, false);
    expect_shape(y, 1, (int64_t[]){3});
    expect_values(y, (double[]){10, 26, 42}, 3, 0);
    y = ag_sum(x, -1, true);
    expect_shape(y, 2, (int64_t[]){3, 1});
    expect_values(y, (double[]){10, 26, 42}, 3, 0);
    ag_scope_end(s);
}

Test(reduce, sum_3d_each_axis)
{
    /* x[a,b,c] = 12a + 4b + c for shape [2,3,4] */
    ag_scope *s = ag_scope_begin();
    double v[24], e[12];
    ag_tensor *x = T64_3(2, 3, 4, iota(v, 24));
    ag_tensor *y0 = ag_sum(x, 0, false); /* [3,4]: 12 + 8b + 2c */
    for (int b = 0; b < 3; b++) for (int c = 0; c < 4; c++) e[b * 4 + c] = 12 + 8 * b + 2 * c;
    expect_shape(y0, 2, (int64_t[]){3, 4});
    expect_values(y0, e, 12, 0);
    ag_tensor *y1 = ag_sum(x, 1, true); /* [2,1,4]: 36a + 12 + 3c */
    for (int a = 0; a < 2; a++) for (int c = 0; c < 4; c++) e[a * 4 + c] = 36 * a + 12 + 3 * c;
    expect_shape(y1, 3, (int64_t[]){2, 1, 4});
    expect_values(y1, e, 8, 0);
    ag_tensor *y2 = ag_sum(x, -1, false); /* [2,3]: 48a + 16b + 6 */
    for (int a = 0; a < 2; a++) for (int b = 0; b < 3; b++) e[a * 3 + b] = 48 * a + 16 * b + 6;
    expect_shape(y2, 2, (int64_t[]){2, 3});
    expect_values(y2, e, 6, 0);
    ag_scope_end(s);
}

Test(reduce, sum_1d_gives_0d_and_keepdim_gives_1)
{
    ag_scope *s = ag_scope_begin();
    ag_tensor *x = T64_1(5, ((double[]){1.5, -2, 3, 0.25, 4}));
    ag_tensor *y = ag_sum(x, 0, false);
    cr_assert_eq(ag_ndim(y), 0);
    cr_assert_float_eq(ag_item(y), 6.75, 1e-15);
    y = ag_sum(x, -1, true);
    expect_shape(y, 1, (int64_t[]){1});
    cr_assert_float_eq(ag_item(ag_mean(x, 0, false)), 1.35, 1e-15);
    ag_scope_end(s);
}

Test(reduce, mean_each_axis)
{
    ag_scope *s = ag_scope_begin();
    ag_tensor *x = T64(3, 4, ((double[]){1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}));
    expect_values(ag_mean(x, 0, false), (double[]){5, 6, 7, 8}, 4, 1e-15);
    ag_tensor *y = ag_mean(x, 1, true);
    expect_shape(y, 2, (int64_t[]){3, 1});
    expect_values(y, (double[]){2.5, 6.5, 10.5}, 3, 1e-15);
    double v[24], e[6];
    ag_tensor *x3 = T64_3(2, 3, 4, iota(v, 24));
    for (int a = 0; a < 2; a++) for (int b = 0; b < 3; b++) e[a * 3 + b] = 12 * a + 4 * b + 1.5;
    expect_values(ag_mean(x3, 2, false), e, 6, 1e-15);
    ag_scope_end(s);
}

Test(reduce, all_reductions)
{
    ag_scope *s = ag_scope_begin();
    ag_tensor *x = T64(2, 3, ((double[]){3, -1, 4, 1, -5, 9}));
    ag_tensor *y = ag_sum_all(x);
    cr_assert_eq(ag_ndim(y), 0);
    cr_assert_float_eq(ag_item(y), 11, 1e-15);
    cr_assert_float_eq(ag_item(ag_mean_all(x)), 11.0 / 6, 1e-15);
    cr_assert_eq(ag_item(ag_max_all(x)), 9);
    cr_assert_eq(ag_item(ag_min_all(x)), -5);
    ag_tensor *z = ag_scalar(AG_F64, -2.5); /* 0-d input */
    cr_assert_eq(ag_item(ag_sum_all(z)), -2.5);
    cr_assert_eq(ag_item(ag_max_all(z)), -2.5);
    ag_scope_end(s);
}

Test(reduce, large_sums_exact_and_across_blocks)
{
    /* 10007 ones span three 4096-element blocks; the integers sum exactly. */
    ag_scope *s = ag_scope_begin();
    ag_tensor *o = ag_ones(AG_F32, 1, (int64_t[]){10007});
    cr_assert_eq(ag_item(ag_sum_all(o)), 10007);
    cr_assert_eq(ag_item(ag_mean_all(o)), 1);
    ag_tensor *a = ag_arange(AG_F64, 100001); /* sum 0..n-1 = n(n-1)/2 */
    cr_assert_eq(ag_item(ag_sum_all(a)), 100001.0 * 100000.0 / 2);
    cr_assert_eq(ag_item(ag_max_all(a)), 100000);
    cr_assert_eq(ag_item(ag_min_all(a)), 0);
    ag_tensor *m = ag_reshape(a, 2, (int64_t[]){1, 100001});
    cr_assert_eq(ag_item(ag_sum(m, 1, false)), 100001.0 * 100000.0 / 2);
    ag_scope_end(s);
}

Test(reduce, float32_values)
{
    ag_scope *s = ag_scope_begin();
    ag_tensor *x = tu_tensor(AG_F32, 2, (int64_t[]){2, 3}, (double[]){0.5, 1.5, -2, 4, 0.25, 3});
    expect_values(ag_sum(x, 1, false), (double[]){0, 7.25}, 2, 1e-6);
    expect_values(ag_mean(x, 0, false), (double[]){2.25, 0.875, 0.5}, 3, 1e-6);
    expect_values(ag_max(x, 1, false), (double[]){1.5, 4}, 2, 0);
    expect_values(ag_min(x, 0, true), (double[]){0.5, 0.25, -2}, 3, 0);
    cr_assert_eq(ag_get_dtype(ag_sum_all(x)), AG_F32);
    cr_assert_float_eq(ag_item(ag_sum_all(x)), 7.25, 1e-6);
    ag_scope_end(s);
}

Test(reduce, deterministic_for_any_thread_count)
{
#ifdef _OPENMP
    ag_scope *s = ag_scope_begin();
    int64_t shape[2] = {300, 701};
    ag_rng r = ag_rng_seed(7);
    ag_tensor *x = ag_rand_uniform(&r, AG_F32, 2, shape, -1, 1);
    double res[2][5];
    for (int t = 0; t < 2; t++) {
        omp_set_num_threads(t + 1);
        res[t][0] = ag_item(ag_sum_all(x));
        res[t][1] = ag_item(ag_mean_all(x));
        res[t][2] = ag_get(ag_sum(x, 0, false), 77);
        res[t][3] = ag_get(ag_sum(x, 1, false), 123);
        res[t][4] = ag_get(ag_logsumexp(x, 0, false), 500);
    }
    for (int i = 0; i < 5; i++) cr_assert_eq(res[0][i], res[1][i], "result %d differs", i);
    ag_scope_end(s);
#endif
}

/* ---- empty inputs ---- */

Test(reduce, empty_sum_is_zero_mean_is_nan)
{
    ag_scope *s = ag_scope_begin();
    ag_tensor *e = ag_zeros(AG_F64, 1, (int64_t[]){0});
    cr_assert_eq(ag_item(ag_sum_all(e)), 0);
    cr_assert(isnan(ag_item(ag_mean_all(e))));
    cr_assert_eq(ag_item(ag_sum(e, 0, false)), 0);
    ag_tensor *e2 = ag_zeros(AG_F64, 2, (int64_t[]){3, 0});
    ag_tensor *y = ag_sum(e2, 1, false);
    expect_shape(y, 1, (int64_t[]){3});
    expect_values(y, (double[]){0, 0, 0}, 3, 0);
    y = ag_mean(e2, 1, true);
    expect_shape(y, 2, (int64_t[]){3, 1});
    for (int i = 0; i < 3; i++) cr_assert(isnan(ag_get(y, i)));
    y = ag_sum(e2, 0, false); /* reducing a non-empty axis of an empty tensor */
    expect_shape(y, 1, (int64_t[]){0});
    ag_scope_end(s);
}

Test(reduce, empty_max_min_are_errors)
{
    ag_scope *s = ag_scope_begin();
    ag_tensor *e2 = ag_zeros(AG_F64, 2, (int64_t[]){3, 0});
    ag_clear_error();
    cr_assert_null(ag_max(e2, 1, false));
    expect_error_mentions("ag_max", "[3,0]", "empty");
    ag_clear_error();
    cr_assert_null(ag_min(e2, -1, true));
    expect_error_mentions("ag_min", "[3,0]", "empty");
    ag_clear_error();
    cr_assert_null(ag_max_all(e2));
    expect_error_mentions("ag_max_all", "[3,0]", "empty");
    ag_clear_error();
    cr_assert_null(ag_min_all(e2));
    expect_error_mentions("ag_min_all", "[3,0]");
    ag_scope_end(s);
}

/* ---- max / min ---- */

Test(reduce, max_min_each_axis)
{
    ag_scope *s = ag_scope_begin();
    ag_tensor *x = T64(3, 4, ((double[]){3, -1, 4, 1, -5, 9, 2, 6, 5, 3, -5, 8}));
    expect_values(ag_max(x, 0, false), (double[]){5, 9, 4, 8}, 4, 0);
    expect_values(ag_min(x, 0, false), (double[]){-5, -1, -5, 1}, 4, 0);
    ag_tensor *y = ag_max(x, 1, true);
    expect_shape(y, 2, (int64_t[]){3, 1});
    expect_values(y, (double[]){4, 9, 8}, 3, 0);
    expect_values(ag_min(x, -1, false), (double[]){-1, -5, -5}, 3, 0);
    double v[24], e[8];
    ag_tensor *x3 = T64_3(2, 3, 4, iota(v, 24)); /* max over b: 12a + 8 + c */
    for (int a = 0; a < 2; a++) for (int c = 0; c < 4; c++) e[a * 4 + c] = 12 * a + 8 + c;
    expect_values(ag_max(x3, 1, false), e, 8, 0);
    for (int a = 0; a < 2; a++) for (int c = 0; c < 4; c++) e[a * 4 + c] = 12 * a + c;
    expect_values(ag_min(x3, 1, true), e, 8, 0);
    ag_scope_end(s);
}

Test(reduce, max_propagates_nan)
{
    ag_scope *s = ag_scope_begin();
    ag_tensor *x = T64(2, 3, ((double[]){1, NAN, 3, 4, 5, 6}));
    ag_tensor *y = ag_max(x, 1, false);
    cr_assert(isnan(ag_get(y, 0)));
    cr_assert_eq(ag_get(y, 1), 6);
    cr_assert(isnan(ag_item(ag_min_all(x))));
    ag_scope_end(s);
}

Test(reduce, tied_maxima_share_the_gradient)
{
    ag_scope *s = ag_scope_begin();
    ag_tensor *x = T64(2, 3, ((double[]){3, 1, 3, 2, 2, 0}));
    ag_set_requires_grad(x, true);
    /* row 0: two 3s share 1/2 each; row 1: two 2s share 1/2 each */
    cr_assert_eq(ag_backward(ag_sum_all(ag_max(x, 1, false))), 0, "%s", ag_last_error());
    expect_values(ag_grad(x), (double[]){0.5, 0, 0.5, 0.5, 0.5, 0}, 6, 0);
    ag_zero_grad(x);
    /* min over axis 0: column 0 -> 2, column 1 -> 1, column 2 -> 0, no ties; weighted by 2 */
    ag_tensor *w = T64_1(3, ((double[]){2, 2, 2}));
    cr_assert_eq(ag_backward(ag_sum_all(ag_mul(ag_min(x, 0, true), w))), 0, "%s",
                 ag_last_error());
    expect_values(ag_grad(x), (double[]){0, 2, 0, 2, 0, 2}, 6, 0);
    ag_zero_grad(x);
    /* max_all: 3 appears twice -> 1/2 each */
    cr_assert_eq(ag_backward(ag_max_all(x)), 0, "%s", ag_last_error());
    expect_values(ag_grad(x), (double[]){0.5, 0, 0.5, 0, 0, 0}, 6, 0);
    ag_zero_grad(x);
    /* min_all of four equal values: 1/4 each */
    ag_tensor *c = T64_1(4, ((double[]){7, 7, 7, 7}));
    ag_set_requires_grad(c, true);
    cr_assert_eq(ag_backward(ag_min_all(c)), 0, "%s", ag_last_error());
    expect_values(ag_grad(c), (double[]){0.25, 0.25, 0.25, 0.25}, 4, 0);
    ag_scope_end(s);
}

Test(reduce, sum_and_mean_gradients_by_hand)
{
    ag_scope *s = ag_scope_begin();
    ag_tensor *x = T64(2, 3, ((double[]){1, 2, 3, 4, 5, 6}));
    ag_set_requires_grad(x, true);
    ag_tensor *w = T64_1(2, ((double[]){10, 20}));
    /* sum over axis 1 weighted by w: d/dx[i,j] = w[i] */
    cr_assert_eq(ag_backward(ag_sum_all(ag_mul(ag_sum(x, 1, false), w))), 0, "%s",
                 ag_last_error());
    expect_values(ag_grad(x), (double[]){10, 10, 10, 20, 20, 20}, 6, 0);
    ag_zero_grad(x);
    /* mean over axis 0: 1/2 each; mean_all: 1/6 each */
    cr_assert_eq(ag_backward(ag_sum_all(ag_mean(x, 0, false))), 0, "%s", ag_last_error());
    expect_values(ag_grad(x), (double[]){0.5, 0.5, 0.5, 0.5, 0.5, 0.5}, 6, 1e-15);
    ag_zero_grad(x);
    cr_assert_eq(ag_backward(ag_mean_all(x)), 0, "%s", ag_last_error());
    for (int i = 0; i < 6; i++) cr_assert_float_eq(ag_get(ag_grad(x), i), 1.0 / 6, 1e-15);
    ag_scope_end(s);
}

/* ---- reduction gradients by finite differences ---- */

Test(reduce, gradcheck_sum)
{
    check_grad(R_SUM, 0, false, 1, (int64_t[]){5}, 1, true);
    check_grad(R_SUM, 0, true, 2, (int64_t[]){3, 4}, 2, false);
    check_grad(R_SUM, 1, false, 3, (int64_t[]){2, 3, 4}, 3, true);
    check_grad(R_SUM, -1, true, 3, (int64_t[]){2, 3, 4}, 4, false);
    check_grad(R_SUM, 0, false, 1, (int64_t[]){1}, 5, false);
}

Test(reduce, gradcheck_mean)
{
    check_grad(R_MEAN, 0, false, 1, (int64_t[]){5}, 11, true);
    check_grad(R_MEAN, 1, true, 2, (int64_t[]){3, 4}, 12, false);
    check_grad(R_MEAN, 0, false, 3, (int64_t[]){2, 3, 4}, 13, true);
    check_grad(R_MEAN, -1, false, 2, (int64_t[]){3, 1}, 14, false);
}

Test(reduce, gradcheck_max)
{
    check_grad(R_MAX, 0, false, 1, (int64_t[]){5}, 21, true);
    check_grad(R_MAX, 1, true, 2, (int64_t[]){3, 4}, 22, false);
    check_grad(R_MAX, 0, false, 3, (int64_t[]){2, 3, 4}, 23, true);
    check_grad(R_MAX, 2, false, 3, (int64_t[]){2, 3, 4}, 24, false);
    check_grad(R_MAX, 0, false, 1, (int64_t[]){1}, 25, false);
}

Test(reduce, gradcheck_min)
{
    check_grad(R_MIN, 0, true, 1, (int64_t[]){5}, 31, true);
    check_grad(R_MIN, -1, false, 2, (int64_t[]){3, 4}, 32, false);
    check_grad(R_MIN, 1, false, 3, (int64_t[]){2, 3, 4}, 33, true);
}

Test(reduce, gradcheck_all_reductions)
{
    enum rop ops[4] = {R_SUM_ALL, R_MEAN_ALL, R_MAX_ALL, R_MIN_ALL};
    for (int k = 0; k < 4; k++) {
        check_grad(ops[k], 0, false, 0, NULL, 40 + k, true);              /* 0-d */
        check_grad(ops[k], 0, false, 1, (int64_t[]){5}, 50 + k, false);
        check_grad(ops[k], 0, false, 2, (int64_t[]){3, 4}, 60 + k, true);
        check_grad(ops[k], 0, false, 3, (int64_t[]){2, 3, 4}, 70 + k, false);
    }
}

/* ---- reduction errors ---- */

Test(reduce, bad_axis_null_and_0d_errors)
{
    ag_scope *s = ag_scope_begin();
    ag_tensor *x = T64(3, 4, ((double[]){1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}));
    ag_clear_error();
    cr_assert_null(ag_sum(x, 2, false));
    expect_error_mentions("ag_sum", "axis 2", "[3,4]");
    ag_clear_error();
    cr_assert_null(ag_mean(x, -3, true));
    expect_error_mentions("ag_mean", "axis -3", "[3,4]");
    ag_clear_error();
    cr_assert_null(ag_max(x, 5, false));
    expect_error_mentions("ag_max", "[3,4]");
    ag_clear_error();
    cr_assert_null(ag_min(ag_scalar(AG_F64, 1), 0, false));
    expect_error_mentions("ag_min", "0-d");
    ag_clear_error();
    cr_assert_null(ag_sum(NULL, 0, false));
    expect_error_mentions("ag_sum", "NULL");
    ag_clear_error();
    cr_assert_null(ag_mean_all(NULL));
    expect_error_mentions("ag_mean_all", "NULL");
    /* a NULL from a failed inner op keeps the inner message */
    ag_clear_error();
    cr_assert_null(ag_max_all(ag_sum(x, 9, false)));
    expect_error_mentions("ag_sum", "axis 9");
    ag_scope_end(s);
}
