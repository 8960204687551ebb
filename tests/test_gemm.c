/* tests/test_gemm.c - the internal GEMM (ops/gemm.h) called directly, against a reference
 * summed in double within the worst-case rounding bound: every transpose combination, both
 * dtypes, alpha, beta (C not read when 0), bias, padded leading dimensions (padding untouched),
 * odd sizes 1 .. 513 that cross every block size, 1 and 2 threads (bit-identical results),
 * the portable kernels through the whole driver, and the selected micro-kernels against the
 * portable ones. */
#include <stdlib.h>

#include "test_util.h"
#include "../ops/gemm.h"

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

/* n values in [-1, 1), exactly representable in dt, stored as dt. */
static void *typed_rand(ag_dtype dt, size_t n, uint64_t seed)
{
    ag_rng r = ag_rng_seed(seed);
    void *p = malloc((dt == AG_F32 ? sizeof(float) : sizeof(double)) * (n ? n : 1));
    cr_assert(p);
    for (size_t i = 0; i < n; i++) {
        double v = 2 * ag_rng_uniform(&r) - 1;
        if (dt == AG_F32) ((float *)p)[i] = (float)v;
        else ((double *)p)[i] = v;
    }
    return p;
}

static double tget(ag_dtype dt, const void *p, int64_t i)
{
    return dt == AG_F32 ? ((const float *)p)[i] : ((const double *)p)[i];
}

static void tset(ag_dtype dt, void *p, int64_t i, double v)
{
    if (dt == AG_F32) ((float *)p)[i] = (float)v;
    else ((double *)p)[i] = v;
}

typedef struct gemm_case {
    ag_dtype dt;
    bool ta, tb;
    int64_t m, n, k;
    double alpha, beta;
    bool bias;
    int threads;
} gemm_case;

/* Runs one ag__gemm on operands stored with padded leading dimensions and checks every element
 * of C against alpha op(A) op(B) + beta C + bias computed in double, within the worst-case
 * rounding bound 2 (k + 2) eps (|alpha| sum |a b| + |beta c| + |bias|). With beta == 0, C starts
 * as NaN (it must not be read); the padding of C must stay untouched. */
static void check_gemm(gemm_case t)
{
    int64_t m = t.m, n = t.n, k = t.k;
    int64_t ar = t.ta ? k : m, ac = t.ta ? m : k, br = t.tb ? n : k, bc = t.tb ? k : n;
    int64_t lda = ac + 3, ldb = bc + 5, ldc = n + 2;
    uint64_t seed = (uint64_t)(m * 7919 + n * 104729 + k * 13 + t.ta * 2 + t.tb);
    void *a = typed_rand(t.dt, (size_t)(ar * lda), seed), *b = typed_rand(t.dt, (size_t)(br * ldb), seed + 1);
    void *c = typed_rand(t.dt, (size_t)(m * ldc), seed + 2), *bias = typed_rand(t.dt, (size_t)n, seed + 3);
    double *c0 = malloc(sizeof(double) * (size_t)(m * ldc + 1));
    for (int64_t i = 0; i < m * ldc; i++) {
        if (t.beta == 0 && i % ldc < n) tset(t.dt, c, i, NAN);
        else if (i % ldc >= n) tset(t.dt, c, i, 12345);
        c0[i] = tget(t.dt, c, i);
    }
    set_threads(t.threads);
    ag__gemm(&(ag_gemm_args){.dtype = t.dt, .ta = t.ta, .tb = t.tb, .m = m, .n = n, .k = k,
                             .alpha = t.alpha, .beta = t.beta, .a = a, .lda = lda, .b = b,
                             .ldb = ldb, .c = c, .ldc = ldc, .bias = t.bias ? bias : NULL});
    double eps = t.dt == AG_F32 ? 0x1p-24 : 0x1p-53;
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < ldc; j++) {
            double got = tget(t.dt, c, i * ldc + j);
            if (j >= n) {
                cr_assert_eq(got, 12345, "C padding [%lld,%lld] was overwritten", (long long)i,
                             (long long)j);
                continue;
            }
            double s = 0, mag = 0;
            for (int64_t p = 0; p < k; p++) {
                double x = tget(t.dt, a, t.ta ? p * lda + i : i * lda + p);
                double y = tget(t.dt, b, t.tb ? j * ldb + p : p * ldb + j);
                s += x * y;
                mag += fabs(x * y);
            }
            double cb = t.beta == 0 ? 0 : t.beta * c0[i * ldc + j], bj = t.bias ? tget(t.dt, bias, j) : 0;
            double want = t.alpha * s + cb + bj;
            double tol = 2 * (double)(k + 2) * eps * (fabs(t.alpha) * mag + fabs(cb) + fabs(bj)) + 1e-300;
            cr_assert(fabs(got - want) <= tol,
                      "%s ta=%d tb=%d m=%lld n=%lld k=%lld alpha=%g beta=%g bias=%d threads=%d: "
                      "C[%lld,%lld] = %.17g, expected %.17g (tolerance %.3g)",
                      t.dt == AG_F32 ? "f32" : "f64", t.ta, t.tb, (long long)m, (long long)n,
                      (long long)k, t.alpha, t.beta, t.bias, t.threads, (long long)i,
                      (long long)j, got, want, tol);
        }
    free(a), free(b), free(c), free(bias), free(c0);
}

/* All four transpose combinations, both dtypes, for one shape; alpha, beta, bias and the
 * thread count vary with `variant` so that the combinations spread over the shapes. */
static void check_gemm_all(int64_t m, int64_t n, int64_t k, int variant)
{
    static const double alphas[] = {1, -0.5, 1, 2}, betas[] = {0, 0, 1, -1.5};
    for (int tr = 0; tr < 4; tr++)
        for (int d = 0; d < 2; d++) {
            int v = variant + tr + d;
            check_gemm((gemm_case){d ? AG_F64 : AG_F32, tr & 1, tr >> 1, m, n, k, alphas[v % 4],
                                   betas[(v / 2) % 4], v % 3 == 0, 1 + v % 2});
        }
}

Test(gemm, odd_sizes_every_transpose)
{
    int64_t sizes[4] = {1, 3, 17, 255};
    int v = 0;
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++)
            for (int l = 0; l < 4; l++) check_gemm_all(sizes[i], sizes[j], sizes[l], v++);
}

Test(gemm, sizes_with_513_cross_every_block)
{
    /* 513: several k blocks (KC 256) and m blocks (MC); 4099 columns: more than one NC panel;
     * 1 row / 2 columns of C with much work: the unpacked loops, split between threads */
    int64_t shapes[][3] = {{1, 513, 3}, {513, 1, 3}, {3, 1, 513}, {17, 255, 513}, {513, 17, 255},
                           {255, 513, 17}, {7, 4099, 11}, {1, 1030, 600}, {1030, 2, 600}};
    for (int s = 0; s < 9; s++) check_gemm_all(shapes[s][0], shapes[s][1], shapes[s][2], s);
    check_gemm((gemm_case){AG_F32, false, true, 513, 513, 513, 1, 0, true, 2});
    check_gemm((gemm_case){AG_F64, true, false, 513, 513, 513, -1, 1, false, 2});
}

Test(gemm, small_unpacked_path_edges)
{
    /* float products up to m*n*k = 131072 run ops/gemm_small.c: row tiles of 1..6 (and 6+r),
     * column strips of 16 with 8-wide and masked edges, k = 1, one row or column */
    int64_t mn[] = {1, 2, 5, 6, 7, 8, 9, 13, 16, 17, 24, 33};
    int64_t ks[] = {1, 3, 100};
    int v = 0;
    for (int i = 0; i < 12; i++)
        for (int j = 0; j < 12; j++)
            for (int l = 0; l < 3; l++) check_gemm_all(mn[i], mn[j], ks[l], v++);
    /* either side of the threshold, and long k with a tiny C */
    int64_t shapes[][3] = {{64, 64, 32}, {64, 64, 33}, {32, 100, 32}, {32, 32, 100},
                           {32, 10, 32}, {10, 32, 32}, {2, 3, 20000}, {131, 1, 1000}};
    for (int s = 0; s < 8; s++) check_gemm_all(shapes[s][0], shapes[s][1], shapes[s][2], s);
    for (int tr = 0; tr < 4; tr++) /* every transpose with beta and bias on */
        check_gemm((gemm_case){AG_F32, tr & 1, tr >> 1, 23, 37, 19, -0.5, 2, true, 1});
}

Test(gemm, empty_and_degenerate)
{
    check_gemm((gemm_case){AG_F64, false, false, 5, 7, 0, 1, 0, true, 1});     /* C = bias */
    check_gemm((gemm_case){AG_F32, true, true, 40, 40, 0, 1, 2, false, 2});    /* C = 2 C */
    check_gemm((gemm_case){AG_F64, false, false, 40, 50, 60, 0, 0.5, true, 2}); /* alpha 0 */
    check_gemm((gemm_case){AG_F64, false, false, 0, 50, 60, 1, 0, false, 2});
    check_gemm((gemm_case){AG_F32, false, false, 50, 0, 60, 1, 0, false, 2});
}

Test(gemm, portable_kernels_through_the_driver)
{
    ag__gemm_force_portable(true);
    cr_assert_str_eq(ag__gemm_kernel_name(), "portable");
    check_gemm_all(17, 255, 255, 0);
    check_gemm_all(255, 17, 300, 1);
    ag__gemm_force_portable(false);
}

/* The kernel in use (AVX2 when the CPU has it) against the portable one on the same panels,
 * with full tiles and a row stride, for alpha/beta combinations. */
Test(gemm, selected_kernel_matches_portable_kernel)
{
    ag_gemm_ukr_f32 k32;
    ag_gemm_ukr_f64 k64;
    ag__gemm_kernels(&k32, &k64);
    enum { KC = 37, LD = 20 };
    float *a32 = typed_rand(AG_F32, KC * AG_GEMM_MR_F32, 1), *b32 = typed_rand(AG_F32, KC * AG_GEMM_NR_F32, 2);
    double *a64 = typed_rand(AG_F64, KC * AG_GEMM_MR_F64, 3), *b64 = typed_rand(AG_F64, KC * AG_GEMM_NR_F64, 4);
    /* the kernels load B with aligned loads: copy into 64-byte aligned panels */
    _Alignas(64) float pb32[KC * AG_GEMM_NR_F32];
    _Alignas(64) double pb64[KC * AG_GEMM_NR_F64];
    memcpy(pb32, b32, sizeof pb32);
    memcpy(pb64, b64, sizeof pb64);
    double betas[3] = {0, 1, -0.75}, alphas[3] = {1, 0.5, -2};
    for (int v = 0; v < 3; v++) {
        float c1[6 * LD], c2[6 * LD];
        double d1[6 * LD], d2[6 * LD];
        for (int i = 0; i < 6 * LD; i++) c1[i] = c2[i] = (float)(i % 7) - 3, d1[i] = d2[i] = i % 5 - 2.5;
        k32(KC, a32, pb32, c1, LD, (float)alphas[v], (float)betas[v]);
        ag__gemm_ukr_f32_ref(KC, a32, pb32, c2, LD, (float)alphas[v], (float)betas[v]);
        k64(KC, a64, pb64, d1, LD, alphas[v], betas[v]);
        ag__gemm_ukr_f64_ref(KC, a64, pb64, d2, LD, alphas[v], betas[v]);
        for (int i = 0; i < 6 * LD; i++) {
            cr_assert(fabsf(c1[i] - c2[i]) <= 1e-5f * (1 + fabsf(c2[i])), "f32 [%d]: %g vs %g", i, c1[i], c2[i]);
            cr_assert(fabs(d1[i] - d2[i]) <= 1e-13 * (1 + fabs(d2[i])), "f64 [%d]: %g vs %g", i, d1[i], d2[i]);
        }
    }
    free(a32), free(b32), free(a64), free(b64);
}

/* Bit-identical results with 1 and 2 threads (k is never split between threads). */
Test(gemm, same_bits_for_one_and_two_threads)
{
    int64_t shapes[][3] = {{255, 513, 17}, {513, 17, 255}, {64, 64, 600}, {300, 300, 300}};
    for (int s = 0; s < 4; s++)
        for (int d = 0; d < 2; d++) {
            ag_dtype dt = d ? AG_F64 : AG_F32;
            size_t es = d ? sizeof(double) : sizeof(float);
            int64_t m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
            void *a = typed_rand(dt, (size_t)(m * k), 1), *b = typed_rand(dt, (size_t)(k * n), 2);
            void *c1 = malloc(es * (size_t)(m * n)), *c2 = malloc(es * (size_t)(m * n));
            ag_gemm_args g = {.dtype = dt, .tb = true, .m = m, .n = n, .k = k, .alpha = 1,
                              .a = a, .lda = k, .b = b, .ldb = k, .ldc = n, .bias = b};
            set_threads(1);
            g.c = c1;
            ag__gemm(&g);
            set_threads(2);
            g.c = c2;
            ag__gemm(&g);
            cr_assert_eq(memcmp(c1, c2, es * (size_t)(m * n)), 0, "shape %d dtype %d", s, d);
            free(a), free(b), free(c1), free(c2);
        }
}
