/* ops/gemm.h - the engine's internal matrix multiply (GEMM) and the differentiable ops built on
 * it that are not public: a b^T and a^T b, which let matmul and linear write their backward
 * rules with ops without ever materialising a transposed copy.
 *
 * ag__gemm computes, for row-major matrices with leading dimensions (element strides between
 * rows) lda, ldb, ldc:
 *     C[m,n] = alpha * op(A) op(B) + beta * C + bias      (bias broadcast over rows, optional)
 * op(X) is X or X^T; transposes are absorbed when the operands are packed, so no transposed copy
 * is made (except that small float products copy a transposed B, n*k elements, to a per-thread
 * buffer: see ops/gemm_small.c). beta == 0 means C is not read (it may hold garbage or NaN).
 * Each element of C sums its k products in the same order whatever the thread count, so results
 * are deterministic.
 * Large products run on OpenMP threads, unless called from inside a parallel region.
 */
#ifndef AG_OPS_GEMM_H
#define AG_OPS_GEMM_H

#include <stdbool.h>
#include <stdint.h>

#include <autograd.h>

typedef struct ag_gemm_args {
    ag_dtype dtype;         /* AG_F32: a, b, c, bias are float; AG_F64: double */
    bool ta, tb;            /* op(A) = A^T (A stored [k, m]); op(B) = B^T (B stored [n, k]) */
    int64_t m, n, k;
    double alpha, beta;
    const void *a;
    int64_t lda;
    const void *b;
    int64_t ldb;
    void *c;
    int64_t ldc;
    const void *bias;       /* NULL, or n values added to every row of C */
} ag_gemm_args;

void ag__gemm(const ag_gemm_args *g);

/* Micro-kernel tile sizes (rows of A x columns of B per register tile); packing uses them. */
#define AG_GEMM_MR_F32 6
#define AG_GEMM_NR_F32 16
#define AG_GEMM_MR_F64 6
#define AG_GEMM_NR_F64 8

/* Micro-kernels (ops/gemm_kernel.c): c[MR,NR] (row stride ldc) = alpha * a b + beta * c, with a
 * an MR-row panel packed [kc][MR] and b an NR-column panel packed [kc][NR]; beta == 0 does not
 * read c. ag__gemm_kernels picks the best version for this CPU once (AVX2+FMA or portable C). */
typedef void (*ag_gemm_ukr_f32)(int64_t kc, const float *a, const float *b, float *c,
                                int64_t ldc, float alpha, float beta);
typedef void (*ag_gemm_ukr_f64)(int64_t kc, const double *a, const double *b, double *c,
                                int64_t ldc, double alpha, double beta);
void ag__gemm_kernels(ag_gemm_ukr_f32 *f32, ag_gemm_ukr_f64 *f64);
/* The portable kernels alone (always correct; tests compare them with the selected ones). */
void ag__gemm_ukr_f32_ref(int64_t kc, const float *a, const float *b, float *c, int64_t ldc,
                          float alpha, float beta);
void ag__gemm_ukr_f64_ref(int64_t kc, const double *a, const double *b, double *c, int64_t ldc,
                          double alpha, double beta);
/* Packs a full panel of mr rows of an operand stored by rows (element (i, p) at src[i*rs + p])
 * as dst[p*mr + i], with SIMD transposes when the CPU allows; returns how many leading columns
 * p it packed (0 when no fast version applies), the caller packs the rest. */
int64_t ag__gemm_pack_rows(ag_dtype dt, int mr, int64_t kc, const void *src, int64_t rs,
                           void *dst);
/* Copies op(B) = B^T, B stored [n, k] with row stride ldb, to row order: dst[p*n + j] =
 * b[j*ldb + p] (8x8 blocks in registers; AVX2 kernels only, like ag__gemm_small_f32). */
void ag__gemm_transpose_f32(int64_t n, int64_t k, const float *b, int64_t ldb, float *dst);
/* Tests and benchmarks only: true makes ag__gemm use the portable kernels (not thread-safe:
 * set it while no GEMM runs). */
void ag__gemm_force_portable(bool on);
/* True when the AVX2+FMA kernels are in use (CPU has them and the portable ones are not forced). */
bool ag__gemm_avx2(void);
/* Small float products without packing (ops/gemm_small.c): C[m,n] = alpha op(A) op(B) + beta C
 * + bias, with op(A)(i, p) = a[i*ars + p*acs] and op(B)(p, j) = b[p*ldb + j] (rows contiguous);
 * beta == 0 does not read C. Needs k >= 1. Returns false (nothing done) without AVX2+FMA. */
bool ag__gemm_small_f32(int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                        int64_t ars, int64_t acs, const float *b, int64_t ldb, float beta,
                        float *c, int64_t ldc, const float *bias);
/* Name of the kernel in use ("avx2+fma" or "portable"), for benchmarks and reports. */
const char *ag__gemm_kernel_name(void);

/* a [..., m, k], b [..., n, k] -> a b^T [..., m, n] (batch dimensions broadcast).
 *                                  da: g b = matmul(g, b)     db: g^T a = matmul_tn(g, a) */
ag_tensor *ag__matmul_nt(ag_tensor *a, ag_tensor *b);
/* a [..., k, m], b [..., k, n] -> a^T b [..., m, n].
 *                                  da: b g^T = matmul_nt(b, g)   db: a g = matmul(a, g)   */
ag_tensor *ag__matmul_tn(ag_tensor *a, ag_tensor *b);

/* For AVX code (<immintrin.h> included by the user): in-place transpose of 8 rows of 8 floats
 * r0..r7 (r_q becomes column q). */
#define TRANSPOSE8_PS(r0, r1, r2, r3, r4, r5, r6, r7)                                       \
    do {                                                                                   \
        __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);           \
        __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);           \
        __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);           \
        __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);           \
        __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE); \
        __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE); \
        __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE); \
        __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE); \
        r0 = _mm256_permute2f128_ps(u0, u4, 0x20);                                         \
        r1 = _mm256_permute2f128_ps(u1, u5, 0x20);                                         \
        r2 = _mm256_permute2f128_ps(u2, u6, 0x20);                                         \
        r3 = _mm256_permute2f128_ps(u3, u7, 0x20);                                         \
        r4 = _mm256_permute2f128_ps(u0, u4, 0x31);                                         \
        r5 = _mm256_permute2f128_ps(u1, u5, 0x31);                                         \
        r6 = _mm256_permute2f128_ps(u2, u6, 0x31);                                         \
        r7 = _mm256_permute2f128_ps(u3, u7, 0x31);                                         \
    } while (0)

#endif
