/* ops/gemm.h - the engine's internal matrix multiply (GEMM) and the differentiable ops built on
 * it that are not public: a b^T and a^T b, which let matmul and linear write their backward
 * rules with ops without ever materialising a transposed copy.
 *
 * ag__gemm computes, for row-major matrices with leading dimensions (element strides between
 * rows) lda, ldb, ldc:
 *     C[m,n] = alpha * op(A) op(B) + beta * C + bias      (bias broadcast over rows, optional)
 * op(X) is X or X^T; transposes are absorbed when the operands are packed, so no transposed copy
 * is made. beta == 0 means C is not read (it may hold garbage or NaN). Each element of C sums its
 * k products in the same order whatever the thread count, so results are deterministic.
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
/* Tests and benchmarks only: true makes ag__gemm use the portable kernels (not thread-safe:
 * set it while no GEMM runs). */
void ag__gemm_force_portable(bool on);
/* Name of the kernel in use ("avx2+fma" or "portable"), for benchmarks and reports. */
const char *ag__gemm_kernel_name(void);

/* a [..., m, k], b [..., n, k] -> a b^T [..., m, n] (batch dimensions broadcast).
 *                                  da: g b = matmul(g, b)     db: g^T a = matmul_tn(g, a) */
ag_tensor *ag__matmul_nt(ag_tensor *a, ag_tensor *b);
/* a [..., k, m], b [..., k, n] -> a^T b [..., m, n].
 *                                  da: b g^T = matmul_nt(b, g)   db: a g = matmul(a, g)   */
ag_tensor *ag__matmul_tn(ag_tensor *a, ag_tensor *b);

#endif
