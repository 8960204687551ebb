/* tests/test_matmul.c - matrix product: values against a naive triple loop on plain doubles
 * (odd sizes, sizes that cross the kernel's blocks, float32), batched and broadcast-batched
 * shapes, determinism across thread counts, gradients (first and second order) and errors.
 * Also the internal ops a b^T and a^T b (ops/gemm.h) that matmul's backward uses, and large
 * batched products (one GEMM per batch; tests/test_gemm.c tests the GEMM itself). */
#include <stdlib.h>

#include "test_util.h"
#include "../ops/gemm.h"

#ifdef _OPENMP
#include <omp.h>
#endif

/* c[m,n] = a[m,k] @ b[k,n] on plain doubles */
static void naive(const double *a, const double *b, double *c, int64_t m, int64_t k, int64_t n)
{
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            double s = 0;
            for (int64_t p = 0; p < k; p++) s += a[i * k + p] * b[p * n + j];
            c[i * n + j] = s;
        }
}

/* reproducible values in [-1, 1) */
static double *fill(double *v, int64_t n, uint64_t seed)
{
    ag_rng r = ag_rng_seed(seed);
    for (int64_t i = 0; i < n; i++) v[i] = 2 * ag_rng_uniform(&r) - 1;
    return v;
}

/* ag_matmul of [m,k] @ [k,n] in dtype dt against the naive product. */
static void check_2d(ag_dtype dt, int64_t m, int64_t k, int64_t n, double tol)
{
    ag_scope *s = ag_scope_begin();
    double *a = malloc(sizeof(double) * (size_t)(m * k)), *b = malloc(sizeof(double) * (size_t)(k * n));
    double *c = malloc(sizeof(double) * (size_t)(m * n));
    fill(a, m * k, (uint64_t)(m * 1000 + k));
    fill(b, k * n, (uint64_t)(k * 1000 + n));
    naive(a, b, c, m, k, n);
    ag_tensor *A = tu_tensor(dt, 2, (int64_t[]){m, k}, a);
    ag_tensor *B = tu_tensor(dt, 2, (int64_t[]){k, n}, b);
    ag_tensor *C = ag_matmul(A, B);
    expect_shape(C, 2, (int64_t[]){m, n});
    cr_assert_eq(ag_get_dtype(C), dt);
    for (int64_t i = 0; i < m * n; i++) {
        double got = ag_get(C, i);
        cr_assert(fabs(got - c[i]) <= tol * (1 + sqrt((double)k)),
                  "[%lld,%lld]@[%lld,%lld] element %lld: got %.17g, expected %.17g", (long long)m,
                  (long long)k, (long long)k, (long long)n, (long long)i, got, c[i]);
    }
    free(a);
    free(b);
    free(c);
    ag_scope_end(s);
}

Test(matmul, small_by_hand)
{
    ag_scope *s = ag_scope_begin();
    ag_tensor *a = T64(2, 3, ((double[]){1, 2, 3, 4, 5, 6}));
    ag_tensor *b = T64(3, 2, ((double[]){7, 8, 9, 10, 11, 12}));
    ag_tensor *c = ag_matmul(a, b);
    expect_shape(c, 2, (int64_t[]){2, 2});
    expect_values(c, (double[]){58, 64, 139, 154}, 4, 0);
    ag_scope_end(s);
}

Test(matmul, odd_sizes_against_naive)
{
    int64_t sizes[4] = {1, 3, 17, 33};
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++)
            for (int l = 0; l < 4; l++) check_2d(AG_F64, sizes[i], sizes[j], sizes[l], 1e-14);
}

Test(matmul, large_sizes_cross_blocks)
{
    check_2d(AG_F64, 65, 70, 67, 1e-14);
    check_2d(AG_F64, 130, 129, 97, 1e-14);
    check_2d(AG_F64, 9, 300, 600, 1e-14); /* k and n beyond one block */
}

Test(matmul, float32)
{
    check_2d(AG_F32, 3, 17, 33, 1e-6);
    check_2d(AG_F32, 70, 65, 130, 1e-6);
}

Test(matmul, empty_inner_dimension_gives_zeros)
{
    ag_scope *s = ag_scope_begin();
    ag_tensor *c = ag_matmul(ag_zeros(AG_F64, 2, (int64_t[]){2, 0}), ag_zeros(AG_F64, 2, (int64_t[]){0, 3}));
    expect_shape(c, 2, (int64_t[]){2, 3});
    expect_values(c, (double[]){0, 0, 0, 0, 0, 0}, 6, 0);
    c = ag_matmul(ag_zeros(AG_F64, 2, (int64_t[]){0, 4}), ag_zeros(AG_F64, 2, (int64_t[]){4, 3}));
    expect_shape(c, 2, (int64_t[]){0, 3});
    ag_scope_end(s);
}

/* a [A..., m, k] @ b [B..., k, n] against naive products per batch; batch index of the output
 * is mapped to a's and b's batch by the broadcasting rule given as index functions. */
typedef int64_t (*batch_map)(int64_t out_batch);

static void check_batched(int na, const int64_t *sa, int nb, const int64_t *sb, int no,
                          const int64_t *so, batch_map amap, batch_map bmap)
{
    ag_scope *s = ag_scope_begin();
    int64_t m = sa[na - 2], k = sa[na - 1], n = sb[nb - 1];
    int64_t numa = 1, numb = 1, nbatch = 1;
    for (int d = 0; d < na; d++) numa *= sa[d];
    for (int d = 0; d < nb; d++) numb *= sb[d];
    for (int d = 0; d < no - 2; d++) nbatch *= so[d];
    double a[256], b[256], c[64];
    fill(a, numa, 1);
    fill(b, numb, 2);
    ag_tensor *A = tu_tensor(AG_F64, na, sa, a), *B = tu_tensor(AG_F64, nb, sb, b);
    ag_tensor *C = ag_matmul(A, B);
    expect_shape(C, no, so);
    for (int64_t q = 0; q < nbatch; q++) {
        naive(a + amap(q) * m * k, b + bmap(q) * k * n, c, m, k, n);
        for (int64_t i = 0; i < m * n; i++)
            cr_assert_float_eq(ag_get(C, q * m * n + i), c[i], 1e-14, "batch %lld element %lld",
                               (long long)q, (long long)i);
    }
    ag_scope_end(s);
}

static int64_t same(int64_t q) { return q; }
static int64_t zero(int64_t q) { (void)q; return 0; }
static int64_t outer_of_3(int64_t q) { return q / 3; } /* [2,1] against [3]: output [2,3] */
static int64_t inner_of_3(int64_t q) { return q % 3; }

Test(matmul, batched_values)
{
    /* [2,3,4] @ [4,5] -> [2,3,5]: b shared by both batches */
    check_batched(3, (int64_t[]){2, 3, 4}, 2, (int64_t[]){4, 5}, 3, (int64_t[]){2, 3, 5}, same, zero);
    /* [2,3,4] @ [2,4,5]: batch by batch */
    check_batched(3, (int64_t[]){2, 3, 4}, 3, (int64_t[]){2, 4, 5}, 3, (int64_t[]){2, 3, 5}, same,
                  same);
    /* [2,1,3,4] @ [3,4,2] -> [2,3,3,2] */
    check_batched(4, (int64_t[]){2, 1, 3, 4}, 3, (int64_t[]){3, 4, 2}, 4, (int64_t[]){2, 3, 3, 2},
                  outer_of_3, inner_of_3);
    /* [3,4] @ [2,4,5] -> [2,3,5] */
    check_batched(2, (int64_t[]){3, 4}, 3, (int64_t[]){2, 4, 5}, 3, (int64_t[]){2, 3, 5}, zero, same);
}

Test(matmul, deterministic_for_any_thread_count)
{
#ifdef _OPENMP
    ag_scope *s = ag_scope_begin();
    ag_rng r = ag_rng_seed(3);
    ag_tensor *a = ag_rand_uniform(&r, AG_F32, 2, (int64_t[]){97, 211}, -1, 1);
    ag_tensor *b = ag_rand_uniform(&r, AG_F32, 2, (int64_t[]){211, 130}, -1, 1);
    omp_set_num_threads(1);
    ag_tensor *c1 = ag_matmul(a, b);
    omp_set_num_threads(2);
    ag_tensor *c2 = ag_matmul(a, b);
    cr_assert_eq(memcmp(ag_data(c1), ag_data(c2), sizeof(float) * 97 * 130), 0);
    ag_scope_end(s);
#endif
}

/* ---- gradients ---- */

static ag_tensor *mm(ag_tensor *const *in, int n, void *ctx)
{
    (void)n; (void)ctx;
    return ag_matmul(in[0], in[1]);
}

static void check_grad(int na, const int64_t *sa, int nb, const int64_t *sb, uint64_t seed,
                       bool second_order)
{
    ag_scope *s = ag_scope_begin();
    ag_tensor *in[2] = {tu_param(seed, na, sa, -1, 1), tu_param(seed + 1, nb, sb, -1, 1)};
    expect_gradcheck(mm, NULL, 2, in);
    if (second_order) expect_gradgradcheck(mm, NULL, 2, in);
    ag_scope_end(s);
}

Test(matmul, gradcheck_2d)
{
    check_grad(2, (int64_t[]){3, 4}, 2, (int64_t[]){4, 2}, 1, true);
    check_grad(2, (int64_t[]){1, 1}, 2, (int64_t[]){1, 1}, 3, false);
    check_grad(2, (int64_t[]){1, 5}, 2, (int64_t[]){5, 1}, 5, false);
    check_grad(2, (int64_t[]){4, 1}, 2, (int64_t[]){1, 3}, 7, false);
}

Test(matmul, gradcheck_batched)
{
    check_grad(3, (int64_t[]){2, 3, 4}, 3, (int64_t[]){2, 4, 5}, 11, false);
    check_grad(3, (int64_t[]){2, 3, 4}, 2, (int64_t[]){4, 5}, 13, true);
}

Test(matmul, gradcheck_broadcast_batched)
{
    check_grad(4, (int64_t[]){2, 1, 3, 4}, 3, (int64_t[]){3, 4, 2}, 21, true);
    check_grad(2, (int64_t[]){3, 4}, 3, (int64_t[]){2, 4, 5}, 23, false);
    check_grad(3, (int64_t[]){1, 2, 3}, 3, (int64_t[]){4, 3, 2}, 25, false);
}

Test(matmul, gradient_of_one_input_by_hand)
{
    /* L = sum(a @ b): dL/da[i,p] = sum_j b[p,j]; b does not require grad */
    ag_scope *s = ag_scope_begin();
    ag_tensor *a = T64(2, 3, ((double[]){1, 2, 3, 4, 5, 6}));
    ag_tensor *b = T64(3, 2, ((double[]){7, 8, 9, 10, 11, 12}));
    ag_set_requires_grad(a, true);
    cr_assert_eq(ag_backward(ag_sum_all(ag_matmul(a, b))), 0, "%s", ag_last_error());
    expect_values(ag_grad(a), (double[]){15, 19, 23, 15, 19, 23}, 6, 0);
    cr_assert_null(ag_grad(b));
    ag_scope_end(s);
}

/* ---- errors ---- */

Test(matmul, errors)
{
    ag_scope *s = ag_scope_begin();
    ag_tensor *v = T64_1(3, ((double[]){1, 2, 3}));
    ag_tensor *a34 = ag_zeros(AG_F64, 2, (int64_t[]){3, 4});
    ag_tensor *b52 = ag_zeros(AG_F64, 2, (int64_t[]){5, 2});
    ag_clear_error();
    cr_assert_null(ag_matmul(v, a34));
    expect_error_mentions("ag_matmul", "at least 2 dimensions", "[3]", "[1,3]", "[3,1]");
    ag_clear_error();
    cr_assert_null(ag_matmul(a34, ag_scalar(AG_F64, 2)));
    expect_error_mentions("ag_matmul", "at least 2 dimensions", "[]");
    ag_clear_error();
    cr_assert_null(ag_matmul(a34, b52));
    expect_error_mentions("ag_matmul: inner dimensions differ: [3,4] @ [5,2]");
    ag_clear_error();
    cr_assert_null(ag_matmul(ag_zeros(AG_F64, 3, (int64_t[]){2, 3, 4}),
                             ag_zeros(AG_F64, 3, (int64_t[]){3, 4, 5})));
    expect_error_mentions("ag_matmul", "batch", "[2,3,4]", "[3,4,5]");
    ag_clear_error();
    cr_assert_null(ag_matmul(a34, ag_zeros(AG_F32, 2, (int64_t[]){4, 2})));
    expect_error_mentions("ag_matmul", "float64", "float32", "[3,4]", "[4,2]");
    ag_clear_error();
    cr_assert_null(ag_matmul(NULL, a34));
    expect_error_mentions("ag_matmul", "NULL");
    ag_clear_error();
    cr_assert_null(ag_matmul(ag_matmul(a34, b52), a34)); /* the inner failure is kept */
    expect_error_mentions("ag_matmul: inner dimensions differ: [3,4] @ [5,2]");
    ag_scope_end(s);
}

Test(matmul, too_large_result_is_named)
{
    /* An empty inner dimension allows operands of any size; the product must still fit. */
    ag_scope *s = ag_scope_begin();
    int64_t big = (int64_t)1 << 40;
    ag_tensor *a = ag_zeros(AG_F64, 2, (int64_t[]){big, 0});
    ag_tensor *b = ag_zeros(AG_F64, 2, (int64_t[]){0, big});
    cr_assert(a && b, "%s", ag_last_error());
    ag_clear_error();
    cr_assert_null(ag_matmul(a, b));
    expect_error_mentions("ag_matmul", "too large", "[1099511627776,0]", "[0,1099511627776]");
    ag_scope_end(s);
}

static void set_threads(int nt)
{
#ifdef _OPENMP
    omp_set_num_threads(nt);
#else
    (void)nt;
#endif
}

/* ---- the internal differentiable ops a b^T and a^T b ---- */

/* ag__matmul_nt / ag__matmul_tn against ag_matmul of explicit transposes (values). */
static void check_nt_tn(ag_dtype dt, int64_t m, int64_t k, int64_t n, int threads)
{
    ag_scope *s = ag_scope_begin();
    set_threads(threads);
    ag_rng r = ag_rng_seed((uint64_t)(m + 31 * k + 977 * n));
    ag_tensor *a = ag_rand_uniform(&r, dt, 2, (int64_t[]){m, k}, -1, 1);
    ag_tensor *bt = ag_rand_uniform(&r, dt, 2, (int64_t[]){n, k}, -1, 1);
    ag_tensor *at = ag_rand_uniform(&r, dt, 2, (int64_t[]){k, m}, -1, 1);
    ag_tensor *b = ag_rand_uniform(&r, dt, 2, (int64_t[]){k, n}, -1, 1);
    ag_tensor *y1 = ag__matmul_nt(a, bt), *y2 = ag__matmul_tn(at, b);
    expect_shape(y1, 2, (int64_t[]){m, n});
    expect_shape(y2, 2, (int64_t[]){m, n});
    double tol = (dt == AG_F32 ? 1e-6 : 1e-15) * (double)(k + 2);
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            double s1 = 0, s2 = 0;
            for (int64_t p = 0; p < k; p++) {
                s1 += ag_get(a, i * k + p) * ag_get(bt, j * k + p);
                s2 += ag_get(at, p * m + i) * ag_get(b, p * n + j);
            }
            cr_assert(fabs(ag_get(y1, i * n + j) - s1) <= tol, "nt [%lld,%lld]", (long long)i, (long long)j);
            cr_assert(fabs(ag_get(y2, i * n + j) - s2) <= tol, "tn [%lld,%lld]", (long long)i, (long long)j);
        }
    ag_scope_end(s);
}

Test(matmul_nt_tn, values)
{
    int64_t sizes[3] = {1, 17, 255};
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            for (int l = 0; l < 3; l++)
                check_nt_tn((i + j + l) % 2 ? AG_F64 : AG_F32, sizes[i], sizes[j], sizes[l], 1 + l % 2);
}

Test(matmul_nt_tn, batched_broadcast)
{
    /* [2,1,3,4] @ [3,5,4]^T -> [2,3,3,5], against per-batch naive products */
    ag_scope *s = ag_scope_begin();
    ag_tensor *a = tu_param(1, 4, (int64_t[]){2, 1, 3, 4}, -1, 1);
    ag_tensor *b = tu_param(2, 3, (int64_t[]){3, 5, 4}, -1, 1);
    ag_tensor *y = ag__matmul_nt(a, b);
    expect_shape(y, 4, (int64_t[]){2, 3, 3, 5});
    ag_tensor *y2 = ag__matmul_tn(ag_transpose(a, -1, -2), ag_transpose(b, -1, -2));
    expect_shape(y2, 4, (int64_t[]){2, 3, 3, 5});
    for (int64_t q = 0; q < 6; q++)
        for (int64_t i = 0; i < 3; i++)
            for (int64_t j = 0; j < 5; j++) {
                double sum = 0;
                for (int64_t p = 0; p < 4; p++)
                    sum += ag_get(a, (q / 3) * 12 + i * 4 + p) * ag_get(b, (q % 3) * 20 + j * 4 + p);
                cr_assert_float_eq(ag_get(y, q * 15 + i * 5 + j), sum, 1e-14);
                cr_assert_float_eq(ag_get(y2, q * 15 + i * 5 + j), sum, 1e-14);
            }
    ag_scope_end(s);
}

static ag_tensor *mm_nt(ag_tensor *const *in, int n, void *ctx)
{
    (void)n; (void)ctx;
    return ag__matmul_nt(in[0], in[1]);
}

static ag_tensor *mm_tn(ag_tensor *const *in, int n, void *ctx)
{
    (void)n; (void)ctx;
    return ag__matmul_tn(in[0], in[1]);
}

Test(matmul_nt_tn, gradcheck_and_gradgradcheck)
{
    ag_scope *s = ag_scope_begin();
    ag_tensor *a = tu_param(1, 2, (int64_t[]){3, 4}, -1, 1), *b = tu_param(2, 2, (int64_t[]){5, 4}, -1, 1);
    ag_tensor *at = tu_param(3, 2, (int64_t[]){4, 3}, -1, 1), *b2 = tu_param(4, 2, (int64_t[]){4, 5}, -1, 1);
    expect_gradcheck(mm_nt, NULL, 2, (ag_tensor *[]){a, b});
    expect_gradgradcheck(mm_nt, NULL, 2, (ag_tensor *[]){a, b});
    expect_gradcheck(mm_tn, NULL, 2, (ag_tensor *[]){at, b2});
    expect_gradgradcheck(mm_tn, NULL, 2, (ag_tensor *[]){at, b2});
    /* batched with broadcasting, and vectors as 1-row / 1-column matrices */
    ag_tensor *a3 = tu_param(5, 3, (int64_t[]){2, 3, 4}, -1, 1), *b3 = tu_param(6, 2, (int64_t[]){5, 4}, -1, 1);
    expect_gradcheck(mm_nt, NULL, 2, (ag_tensor *[]){a3, b3});
    expect_gradgradcheck(mm_nt, NULL, 2, (ag_tensor *[]){a3, b3});
    ag_tensor *a4 = tu_param(7, 2, (int64_t[]){4, 1}, -1, 1), *b4 = tu_param(8, 3, (int64_t[]){2, 4, 3}, -1, 1);
    expect_gradcheck(mm_tn, NULL, 2, (ag_tensor *[]){a4, b4});
    expect_gradgradcheck(mm_tn, NULL, 2, (ag_tensor *[]){a4, b4});
    ag_scope_end(s);
}

Test(matmul_nt_tn, gradcheck_on_the_packed_path)
{
    /* m*n*k above the GEMM's small-product threshold, so forward and backward products run
     * through packing and the micro-kernels */
    ag_scope *s = ag_scope_begin();
    ag_tensor *a = tu_param(11, 2, (int64_t[]){9, 40}, -1, 1), *b = tu_param(12, 2, (int64_t[]){17, 40}, -1, 1);
    expect_gradcheck(mm_nt, NULL, 2, (ag_tensor *[]){a, b});
    ag_tensor *at = tu_param(13, 2, (int64_t[]){40, 9}, -1, 1), *b2 = tu_param(14, 2, (int64_t[]){40, 17}, -1, 1);
    expect_gradcheck(mm_tn, NULL, 2, (ag_tensor *[]){at, b2});
    ag_tensor *a2 = tu_param(15, 2, (int64_t[]){9, 40}, -1, 1);
    expect_gradcheck(mm, NULL, 2, (ag_tensor *[]){a2, b2});
    ag_scope_end(s);
}

Test(matmul_nt_tn, errors)
{
    ag_scope *s = ag_scope_begin();
    ag_tensor *a34 = ag_zeros(AG_F64, 2, (int64_t[]){3, 4}), *b35 = ag_zeros(AG_F64, 2, (int64_t[]){3, 5});
    ag_clear_error();
    cr_assert_null(ag__matmul_nt(a34, b35));
    expect_error_mentions("ag__matmul_nt: inner dimensions differ: [3,4] @ [3,5]^T", "4 vs 5");
    ag_clear_error();
    cr_assert_null(ag__matmul_tn(b35, a34 = ag_zeros(AG_F64, 2, (int64_t[]){4, 3})));
    expect_error_mentions("ag__matmul_tn: inner dimensions differ: [3,5]^T @ [4,3]", "3 vs 4");
    ag_clear_error();
    cr_assert_null(ag__matmul_tn(T64_1(3, ((double[]){1, 2, 3})), a34));
    expect_error_mentions("ag__matmul_tn", "at least 2 dimensions", "[3]");
    ag_clear_error();
    cr_assert_null(ag__matmul_nt(a34, ag_zeros(AG_F32, 2, (int64_t[]){2, 3})));
    expect_error_mentions("ag__matmul_nt", "float64", "float32");
    ag_scope_end(s);
}

/* ---- larger batched products: the per-batch GEMM loop, parallel over batches or not ---- */

static void check_batched_large(int64_t batches, int64_t m, int64_t k, int64_t n, int threads)
{
    ag_scope *s = ag_scope_begin();
    set_threads(threads);
    ag_rng r = ag_rng_seed((uint64_t)(batches + m + k + n));
    ag_tensor *a = ag_rand_uniform(&r, AG_F64, 3, (int64_t[]){batches, m, k}, -1, 1);
    ag_tensor *b = ag_rand_uniform(&r, AG_F64, 2, (int64_t[]){k, n}, -1, 1);
    ag_tensor *c = ag_matmul(a, b);
    expect_shape(c, 3, (int64_t[]){batches, m, n});
    const double *pa = ag_data(a), *pb = ag_data(b), *pc = ag_data(c);
    double *want = malloc(sizeof(double) * (size_t)(m * n));
    for (int64_t q = 0; q < batches; q++) {
        naive(pa + q * m * k, pb, want, m, k, n);
        for (int64_t i = 0; i < m * n; i++)
            cr_assert(fabs(pc[q * m * n + i] - want[i]) <= 1e-15 * (double)(k + 2),
                      "batch %lld element %lld", (long long)q, (long long)i);
    }
    free(want);
    ag_scope_end(s);
}

Test(matmul, batched_loop_of_gemms)
{
    check_batched_large(9, 33, 17, 41, 2);    /* small GEMMs: parallel over batches */
    check_batched_large(9, 33, 17, 41, 1);
    check_batched_large(2, 120, 100, 90, 2);  /* large GEMMs: each threaded */
}
