/* tests/test_reduce.c - reductions (sum, mean, max, min over an axis or all elements) and the
 * softmax family (softmax, log_softmax, logsumexp): values derived by hand or with libm on plain
 * doubles, empty inputs, tie sharing, stability at logits of 1000, determinism across thread
 * counts, gradients (first and second order) and error messages. */
#include "test_util.h"

#ifdef _OPENMP
#include <omp.h>
#endif

/* ---- helpers ---- */

enum rop { R_SUM, R_MEAN, R_MAX, R_MIN, R_SUM_ALL, R_MEAN_ALL, R_MAX_ALL, R_MIN_ALL,
           R_SOFTMAX, R_LOG_SOFTMAX, R_LOGSUMEXP };

typedef struct rctx { enum rop op; int axis; bool keepdim; } rctx;

static ag_tensor *rfn(ag_tensor *const *in, int n, void *ctx)
{
    (void)n;
    const rctx *c = ctx;
    switch (c->op) {
    case R_SUM: return ag_sum(in[0], c->axis, c->keepdim);
    case R_MEAN: return ag_mean(in[0], c->axis, c->keepdim);
    case R_MAX: return ag_max(in[0], c->axis, c->keepdim);
    case R_MIN: return ag_min(in[0], c->axis, c->keepdim);
    case R_SUM_ALL: return ag_sum_all(in[0]);
    case R_MEAN_ALL: return ag_mean_all(in[0]);
    case R_MAX_ALL: return ag_max_all(in[0]);
    case R_MIN_ALL: return ag_min_all(in[0]);
    case R_SOFTMAX: return ag_softmax(in[0], c->axis);
    case R_LOG_SOFTMAX: return ag_log_softmax(in[0], c->axis);
    case R_LOGSUMEXP: return ag_logsumexp(in[0], c->axis, c->keepdim);
    }
    return NULL;
}

/* gradcheck of op at a random float64 point of the given shape. */
static void check_grad(enum rop op, int axis, bool keepdim, int ndim, const int64_t *shape,
                       uint64_t seed, bool second_order)
{
    ag_scope *s = ag_scope_begin();
    ag_tensor *x = tu_param(seed, ndim, shape, -2, 2);
    rctx c = {op, axis, keepdim};
    expect_gradcheck(rfn, &c, 1, &x);
    if (second_order) expect_gradgradcheck(rfn, &c, 1, &x);
    ag_scope_end(s);
}

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
