/* tests/test_linear.c - ag_linear (y = x W^T + b, PyTorch layout): a product worked by hand,
 * values against a naive loop summed in double at odd sizes (both dtypes, with and without
 * bias, vector / batch / 3-D inputs, 1 and 2 threads), gradients and second derivatives by
 * finite differences, empty sizes, determinism across thread counts, and argument errors. */
#include <stdlib.h>

#include "test_util.h"

#ifdef _OPENMP
#include <omp.h>
#endif

static void set_threads(int nt)
{
#ifdef _OPENMP
    omp_set_num_threads(nt);
#else
    (void)nt;
#endif
}

Test(linear, by_hand)
{
    ag_scope *s = ag_scope_begin();
    ag_tensor *x = T64(2, 3, ((double[]){1, 2, 3, 4, 5, 6}));
    ag_tensor *w = T64(2, 3, ((double[]){1, 0, -1, 2, 1, 0}));
    ag_tensor *b = T64_1(2, ((double[]){10, 20}));
    /* row 0: [1-3, 2+2] = [-2, 4]; row 1: [4-6, 8+5] = [-2, 13]; plus b */
    ag_tensor *y = ag_linear(x, w, b);
    expect_shape(y, 2, (int64_t[]){2, 2});
    expect_values(y, (double[]){8, 24, 8, 33}, 4, 0);
    expect_values(ag_linear(x, w, NULL), (double[]){-2, 4, -2, 13}, 4, 0);
    ag_tensor *v = ag_linear(T64_1(3, ((double[]){1, 1, 1})), w, b);
    expect_shape(v, 1, (int64_t[]){2});
    expect_values(v, (double[]){10, 23}, 2, 0);
    ag_scope_end(s);
}

/* ag_linear with x [rows, in] (or [in] when rows < 0), W [out, in], optional b, in dtype dt,
 * against sums in double of the tensors' own values, within the worst-case rounding bound. */
static void check_values(ag_dtype dt, int64_t rows, int64_t in, int64_t out, bool bias, int threads)
{
    ag_scope *s = ag_scope_begin();
    set_threads(threads);
    ag_rng r = ag_rng_seed((uint64_t)(rows * 1009 + in * 31 + out));
    int64_t nr = rows < 0 ? 1 : rows;
    ag_tensor *x = rows < 0 ? ag_rand_uniform(&r, dt, 1, (int64_t[]){in}, -1, 1)
                            : ag_rand_uniform(&r, dt, 2, (int64_t[]){rows, in}, -1, 1);
    ag_tensor *w = ag_rand_uniform(&r, dt, 2, (int64_t[]){out, in}, -1, 1);
    ag_tensor *b = bias ? ag_rand_uniform(&r, dt, 1, (int64_t[]){out}, -1, 1) : NULL;
    ag_tensor *y = ag_linear(x, w, b);
    if (rows < 0) expect_shape(y, 1, (int64_t[]){out});
    else expect_shape(y, 2, (int64_t[]){rows, out});
    double eps = dt == AG_F32 ? 0x1p-24 : 0x1p-53;
    for (int64_t i = 0; i < nr; i++)
        for (int64_t j = 0; j < out; j++) {
            double sum = b ? ag_get(b, j) : 0, mag = fabs(sum);
            for (int64_t p = 0; p < in; p++) {
                double t = ag_get(x, i * in + p) * ag_get(w, j * in + p);
                sum += t;
                mag += fabs(t);
            }
            double got = ag_get(y, i * out + j), tol = 2 * (double)(in + 2) * eps * mag + 1e-300;
            cr_assert(fabs(got - sum) <= tol, "rows %lld in %lld out %lld bias %d: y[%lld,%lld] = "
                      "%.17g, expected %.17g", (long long)rows, (long long)in, (long long)out,
                      bias, (long long)i, (long long)j, got, sum);
        }
    ag_scope_end(s);
}

Test(linear, odd_sizes_against_naive)
{
    int64_t sizes[4] = {1, 3, 17, 255};
    int v = 0;
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++)
            for (int l = 0; l < 4; l++, v++)
                check_values(v % 2 ? AG_F64 : AG_F32, sizes[i], sizes[j], sizes[l], v % 3 != 0,
                             1 + v % 2);
}

Test(linear, vectors_and_513)
{
    check_values(AG_F32, -1, 513, 3, true, 1);
    check_values(AG_F64, -1, 17, 255, false, 2);
    check_values(AG_F64, -1, 1, 1, true, 1);
    check_values(AG_F32, 17, 513, 255, true, 2);
    check_values(AG_F64, 513, 255, 17, true, 2);
    check_values(AG_F32, 1, 513, 3, false, 1);
}

Test(linear, three_d_input_maps_every_row)
{
    ag_scope *s = ag_scope_begin();
    ag_rng r = ag_rng_seed(5);
    ag_tensor *x = ag_rand_uniform(&r, AG_F64, 3, (int64_t[]){2, 3, 4}, -1, 1);
    ag_tensor *w = ag_rand_uniform(&r, AG_F64, 2, (int64_t[]){5, 4}, -1, 1);
    ag_tensor *b = ag_rand_uniform(&r, AG_F64, 1, (int64_t[]){5}, -1, 1);
    ag_tensor *y = ag_linear(x, w, b);
    expect_shape(y, 3, (int64_t[]){2, 3, 5});
    ag_tensor *y2 = ag_linear(ag_reshape(x, 2, (int64_t[]){6, 4}), w, b);
    cr_assert_eq(memcmp(ag_data(y), ag_data(y2), sizeof(double) * 30), 0);
    ag_scope_end(s);
}

Test(linear, same_bits_for_one_and_two_threads)
{
    ag_scope *s = ag_scope_begin();
    ag_rng r = ag_rng_seed(9);
    ag_tensor *x = ag_rand_uniform(&r, AG_F32, 2, (int64_t[]){200, 300}, -1, 1);
    ag_tensor *w = ag_rand_uniform(&r, AG_F32, 2, (int64_t[]){130, 300}, -1, 1);
    ag_tensor *b = ag_rand_uniform(&r, AG_F32, 1, (int64_t[]){130}, -1, 1);
    set_threads(1);
    ag_tensor *y1 = ag_linear(x, w, b);
    set_threads(2);
    ag_tensor *y2 = ag_linear(x, w, b);
    cr_assert_eq(memcmp(ag_data(y1), ag_data(y2), sizeof(float) * 200 * 130), 0);
    ag_scope_end(s);
}

Test(linear, empty_sizes)
{
    ag_scope *s = ag_scope_begin();
    ag_tensor *b = T64_1(2, ((double[]){1, 2}));
    /* no input features: y = b for every row */
    ag_tensor *y = ag_linear(ag_zeros(AG_F64, 2, (int64_t[]){3, 0}), ag_zeros(AG_F64, 2, (int64_t[]){2, 0}), b);
    expect_shape(y, 2, (int64_t[]){3, 2});
    expect_values(y, (double[]){1, 2, 1, 2, 1, 2}, 6, 0);
    /* no rows: an empty batch, and its gradients are zeros */
    ag_tensor *w = tu_param(1, 2, (int64_t[]){2, 4}, -1, 1);
    ag_set_requires_grad(b, true);
    y = ag_linear(ag_zeros(AG_F64, 2, (int64_t[]){0, 4}), w, b);
    expect_shape(y, 2, (int64_t[]){0, 2});
    cr_assert_eq(ag_backward(ag_sum_all(y)), 0, "%s", ag_last_error());
    expect_values(ag_grad(w), (double[]){0, 0, 0, 0, 0, 0, 0, 0}, 8, 0);
    expect_values(ag_grad(b), (double[]){0, 0}, 2, 0);
    ag_scope_end(s);
}

/* ---- gradients (float64, finite differences) ---- */

static ag_tensor *lin(ag_tensor *const *in, int n, void *ctx)
{
    (void)ctx;
    return ag_linear(in[0], in[1], n > 2 ? in[2] : NULL);
}

static void check_grad(int nx, const int64_t *sx, int64_t out, bool bias, uint64_t seed)
{
    ag_scope *s = ag_scope_begin();
    int64_t in = sx[nx - 1];
    ag_tensor *ts[3] = {tu_param(seed, nx, sx, -1, 1), tu_param(seed + 1, 2, (int64_t[]){out, in}, -1, 1),
                        bias ? tu_param(seed + 2, 1, (int64_t[]){out}, -1, 1) : NULL};
    expect_gradcheck(lin, NULL, bias ? 3 : 2, ts);
    expect_gradgradcheck(lin, NULL, bias ? 3 : 2, ts);
    ag_scope_end(s);
}

Test(linear, gradcheck_and_gradgradcheck)
{
    check_grad(2, (int64_t[]){3, 4}, 2, true, 1);
    check_grad(2, (int64_t[]){3, 4}, 2, false, 4);
    check_grad(1, (int64_t[]){5}, 3, true, 7);
    check_grad(1, (int64_t[]){5}, 3, false, 10);
    check_grad(3, (int64_t[]){2, 3, 4}, 2, true, 13);
    check_grad(2, (int64_t[]){1, 1}, 1, true, 16);
}

Test(linear, gradcheck_on_the_packed_path)
{
    /* rows x out x in above the GEMM's small-product threshold (packing, micro-kernels) */
    ag_scope *s = ag_scope_begin();
    ag_tensor *ts[3] = {tu_param(21, 2, (int64_t[]){7, 40}, -1, 1),
                        tu_param(22, 2, (int64_t[]){18, 40}, -1, 1),
                        tu_param(23, 1, (int64_t[]){18}, -1, 1)};
    expect_gradcheck(lin, NULL, 3, ts);
    ag_scope_end(s);
}

Test(linear, gradients_of_some_inputs_by_hand)
{
    /* L = sum(x W^T + b): dL/dx[i,p] = sum_j W[j,p]; dL/db = rows; x and W without grad
     * get none */
    ag_scope *s = ag_scope_begin();
    ag_tensor *x = T64(2, 3, ((double[]){1, 2, 3, 4, 5, 6}));
    ag_tensor *w = T64(2, 3, ((double[]){1, 0, -1, 2, 1, 0}));
    ag_tensor *b = T64_1(2, ((double[]){10, 20}));
    ag_set_requires_grad(x, true);
    ag_set_requires_grad(b, true);
    cr_assert_eq(ag_backward(ag_sum_all(ag_linear(x, w, b))), 0, "%s", ag_last_error());
    expect_values(ag_grad(x), (double[]){3, 1, -1, 3, 1, -1}, 6, 0);
    expect_values(ag_grad(b), (double[]){2, 2}, 2, 0);
    cr_assert_null(ag_grad(w));
    ag_scope_end(s);
}

/* ---- errors ---- */

Test(linear, errors)
{
    ag_scope *s = ag_scope_begin();
    ag_tensor *x = ag_zeros(AG_F64, 2, (int64_t[]){4, 3}), *w = ag_zeros(AG_F64, 2, (int64_t[]){2, 3});
    ag_tensor *b = ag_zeros(AG_F64, 1, (int64_t[]){2});
    ag_clear_error();
    cr_assert_null(ag_linear(NULL, w, b));
    expect_error_mentions("ag_linear", "NULL");
    ag_clear_error();
    cr_assert_null(ag_linear(x, NULL, b));
    expect_error_mentions("ag_linear", "NULL");
    ag_clear_error();
    cr_assert_null(ag_linear(x, ag_zeros(AG_F64, 1, (int64_t[]){3}), b));
    expect_error_mentions("ag_linear: weight [3] must be 2-D");
    ag_clear_error();
    cr_assert_null(ag_linear(x, ag_zeros(AG_F64, 2, (int64_t[]){2, 5}), b));
    expect_error_mentions("ag_linear: input [4,3] does not match weight [2,5]", "3", "5");
    ag_clear_error();
    cr_assert_null(ag_linear(ag_scalar(AG_F64, 1), w, b));
    expect_error_mentions("ag_linear: input [] must have at least 1 dimension", "[2,3]");
    ag_clear_error();
    cr_assert_null(ag_linear(x, w, ag_zeros(AG_F64, 1, (int64_t[]){3})));
    expect_error_mentions("ag_linear: bias [3] does not match weight [2,3]", "[2]");
    ag_clear_error();
    cr_assert_null(ag_linear(x, w, ag_zeros(AG_F64, 2, (int64_t[]){1, 2})));
    expect_error_mentions("ag_linear: bias [1,2]", "[2]");
    ag_clear_error();
    cr_assert_null(ag_linear(x, ag_zeros(AG_F32, 2, (int64_t[]){2, 3}), NULL));
    expect_error_mentions("ag_linear", "float64", "float32");
    ag_clear_error();
    cr_assert_null(ag_linear(x, w, ag_zeros(AG_F32, 1, (int64_t[]){2})));
    expect_error_mentions("ag_linear", "float64", "float32");
    ag_clear_error();
    cr_assert_null(ag_linear(ag_linear(x, ag_zeros(AG_F64, 1, (int64_t[]){3}), NULL), w, b));
    expect_error_mentions("ag_linear: weight [3] must be 2-D"); /* the inner failure is kept */
    ag_scope_end(s);
}
