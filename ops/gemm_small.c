/* ops/gemm_small.c - the small-product float GEMM path (interface in ops/gemm.h): products too
 * small for packing to pay (a training step of a small MLP: 32x100x32, 32x32x10, ...) run an
 * AVX2+FMA register-blocked kernel straight on the operands.
 *
 * op(B) must have contiguous rows (element (p, j) at b[p*ldb + j]): a tile of 6 rows x 16
 * columns of C keeps 12 ymm accumulators; each k step loads 16 elements of a row of op(B) and
 * broadcasts 6 elements of op(A), which may have any strides (A or A^T costs the same). Edge
 * tiles use the same code with fewer rows (a compile-time count) and masked loads and stores
 * for the columns, so nothing is copied and no scalar clean-up loop runs. The caller (ops/gemm.c)
 * copies a transposed B into row order first (ag__gemm_transpose_f32, 8x8 blocks in
 * registers): n*k moves against m*n*k multiplies.
 *
 * Summation order: each element of C adds its k products in increasing k into one accumulator
 * (FMA), then c = alpha * acc + beta * c + bias. No threads, so results do not depend on them.
 */
#include "gemm.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#define AVX_TARGET __attribute__((target("avx2,fma")))
#define INLINE static inline __attribute__((always_inline))

typedef struct small_args {
    int64_t k, ars, acs, ldb, ldc;
    const float *a, *b, *bias;
    float *c;
    float alpha, beta;
} small_args;

/* One row of a tile: its two accumulators get element (i, p) of op(A) times the row of B. */
#define ROW_STEP(i, x0, x1)                                                                \
    do {                                                                                   \
        if (H > (i)) {                                                                     \
            __m256 av = _mm256_broadcast_ss(a + (i) * ars);                                \
            x0 = _mm256_fmadd_ps(av, b0, x0);                                              \
            if (W2) x1 = _mm256_fmadd_ps(av, b1, x1);                                      \
        }                                                                                  \
    } while (0)

/* Finishes one row of a tile: c = alpha * acc + beta * c + bias, masked at the right edge. */
AVX_TARGET INLINE void row_store(const small_args *s, bool W2, bool full, float *cr, __m256 x0,
                                 __m256 x1, __m256 bi0, __m256 bi1, __m256i m0, __m256i m1)
{
    __m256 va = _mm256_set1_ps(s->alpha), vb = _mm256_set1_ps(s->beta);
    __m256 v0 = _mm256_mul_ps(va, x0), v1 = _mm256_mul_ps(va, x1);
    if (s->beta != 0) {
        v0 = _mm256_fmadd_ps(vb, full ? _mm256_loadu_ps(cr) : _mm256_maskload_ps(cr, m0), v0);
        if (W2)
            v1 = _mm256_fmadd_ps(vb, full ? _mm256_loadu_ps(cr + 8)
                                          : _mm256_maskload_ps(cr + 8, m1), v1);
    }
    if (s->bias) {
        v0 = _mm256_add_ps(v0, bi0);
        v1 = _mm256_add_ps(v1, bi1);
    }
    if (full) _mm256_storeu_ps(cr, v0);
    else _mm256_maskstore_ps(cr, m0, v0);
    if (W2) {
        if (full) _mm256_storeu_ps(cr + 8, v1);
        else _mm256_maskstore_ps(cr + 8, m1, v1);
    }
}

/* Rows [i0, i0+H) x columns [j0, j0+16) of C, H <= 6 a constant after inlining (the twelve
 * accumulators are separate variables so that they stay in registers); W2 false: only the first
 * vector of columns is used (the tile is at most 8 wide); full false: lane masks m0, m1. */
AVX_TARGET INLINE void tile(const small_args *s, int H, bool W2, bool full, int64_t i0,
                            int64_t j0, __m256i m0, __m256i m1)
{
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    const float *a = s->a + i0 * s->ars, *b = s->b + j0;
    int64_t ars = s->ars, acs = s->acs, ldb = s->ldb;
    for (int64_t p = 0; p < s->k; p++, a += acs, b += ldb) {
        __m256 b0, b1 = _mm256_setzero_ps();
        if (full) {
            b0 = _mm256_loadu_ps(b);
            if (W2) b1 = _mm256_loadu_ps(b + 8);
        } else {
            b0 = _mm256_maskload_ps(b, m0);
            if (W2) b1 = _mm256_maskload_ps(b + 8, m1);
        }
        ROW_STEP(0, c00, c01);
        ROW_STEP(1, c10, c11);
        ROW_STEP(2, c20, c21);
        ROW_STEP(3, c30, c31);
        ROW_STEP(4, c40, c41);
        ROW_STEP(5, c50, c51);
    }
    __m256 bi0 = _mm256_setzero_ps(), bi1 = bi0;
    if (s->bias) {
        bi0 = full ? _mm256_loadu_ps(s->bias + j0) : _mm256_maskload_ps(s->bias + j0, m0);
        if (W2)
            bi1 = full ? _mm256_loadu_ps(s->bias + j0 + 8)
                       : _mm256_maskload_ps(s->bias + j0 + 8, m1);
    }
    float *cr = s->c + i0 * s->ldc + j0;
    int64_t ldc = s->ldc;
    row_store(s, W2, full, cr, c00, c01, bi0, bi1, m0, m1);
    if (H > 1) row_store(s, W2, full, cr + ldc, c10, c11, bi0, bi1, m0, m1);
    if (H > 2) row_store(s, W2, full, cr + 2 * ldc, c20, c21, bi0, bi1, m0, m1);
    if (H > 3) row_store(s, W2, full, cr + 3 * ldc, c30, c31, bi0, bi1, m0, m1);
    if (H > 4) row_store(s, W2, full, cr + 4 * ldc, c40, c41, bi0, bi1, m0, m1);
    if (H > 5) row_store(s, W2, full, cr + 5 * ldc, c50, c51, bi0, bi1, m0, m1);
}

/* All row tiles of one column strip; H is a constant in every call of tile. */
AVX_TARGET INLINE void strip(const small_args *s, int64_t m, bool W2, bool full, int64_t j0,
                             __m256i m0, __m256i m1)
{
    int64_t i0 = 0;
    for (; i0 + 6 <= m; i0 += 6) tile(s, 6, W2, full, i0, j0, m0, m1);
    switch (m - i0) {
    case 5: tile(s, 5, W2, full, i0, j0, m0, m1); break;
    case 4: tile(s, 4, W2, full, i0, j0, m0, m1); break;
    case 3: tile(s, 3, W2, full, i0, j0, m0, m1); break;
    case 2: tile(s, 2, W2, full, i0, j0, m0, m1); break;
    case 1: tile(s, 1, W2, full, i0, j0, m0, m1); break;
    default: break;
    }
}

AVX_TARGET static void small_f32(const small_args *s, int64_t m, int64_t n)
{
    static const int32_t lanes[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    __m256i idx = _mm256_loadu_si256((const __m256i *)lanes), all = _mm256_set1_epi32(-1);
    int64_t j0 = 0;
    for (; j0 + 16 <= n; j0 += 16) strip(s, m, true, true, j0, all, all);
    int64_t w = n - j0;
    if (w == 0) return;
    if (w == 8) {
        strip(s, m, false, true, j0, all, all);
        return;
    }
    /* lane l of vector h is on when 8h + l < w */
    __m256i m0 = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)w), idx);
    __m256i m1 = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)w - 8), idx);
    if (w < 8) strip(s, m, false, false, j0, m0, m1);
    else strip(s, m, true, false, j0, m0, m1);
}

AVX_TARGET void ag__gemm_transpose_f32(int64_t n, int64_t k, const float *b, int64_t ldb,
                                       float *dst)
{
    int64_t n8 = n / 8 * 8, k8 = k / 8 * 8;
    for (int64_t j = 0; j < n8; j += 8) {
        const float *s0 = b + j * ldb;
        for (int64_t p = 0; p < k8; p += 8) {
            __m256 r0 = _mm256_loadu_ps(s0 + p), r1 = _mm256_loadu_ps(s0 + ldb + p);
            __m256 r2 = _mm256_loadu_ps(s0 + 2 * ldb + p), r3 = _mm256_loadu_ps(s0 + 3 * ldb + p);
            __m256 r4 = _mm256_loadu_ps(s0 + 4 * ldb + p), r5 = _mm256_loadu_ps(s0 + 5 * ldb + p);
            __m256 r6 = _mm256_loadu_ps(s0 + 6 * ldb + p), r7 = _mm256_loadu_ps(s0 + 7 * ldb + p);
            TRANSPOSE8_PS(r0, r1, r2, r3, r4, r5, r6, r7);
            float *d = dst + p * n + j;
            _mm256_storeu_ps(d, r0);
            _mm256_storeu_ps(d + n, r1);
            _mm256_storeu_ps(d + 2 * n, r2);
            _mm256_storeu_ps(d + 3 * n, r3);
            _mm256_storeu_ps(d + 4 * n, r4);
            _mm256_storeu_ps(d + 5 * n, r5);
            _mm256_storeu_ps(d + 6 * n, r6);
            _mm256_storeu_ps(d + 7 * n, r7);
        }
        for (int64_t p = k8; p < k; p++)
            for (int64_t q = 0; q < 8; q++) dst[p * n + j + q] = s0[q * ldb + p];
    }
    for (int64_t j = n8; j < n; j++)
        for (int64_t p = 0; p < k; p++) dst[p * n + j] = b[j * ldb + p];
}

bool ag__gemm_small_f32(int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                        int64_t ars, int64_t acs, const float *b, int64_t ldb, float beta,
                        float *c, int64_t ldc, const float *bias)
{
    if (!ag__gemm_avx2()) return false;
    small_args s = {.k = k, .ars = ars, .acs = acs, .ldb = ldb, .ldc = ldc, .a = a, .b = b,
                    .bias = bias, .c = c, .alpha = alpha, .beta = beta};
    small_f32(&s, m, n);
    return true;
}

#else

void ag__gemm_transpose_f32(int64_t n, int64_t k, const float *b, int64_t ldb, float *dst)
{
    for (int64_t j = 0; j < n; j++)
        for (int64_t p = 0; p < k; p++) dst[p * n + j] = b[j * ldb + p];
}

bool ag__gemm_small_f32(int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                        int64_t ars, int64_t acs, const float *b, int64_t ldb, float beta,
                        float *c, int64_t ldc, const float *bias)
{
    (void)m; (void)n; (void)k; (void)alpha; (void)a; (void)ars; (void)acs; (void)b;
    (void)ldb; (void)beta; (void)c; (void)ldc; (void)bias;
    return false;
}

#endif
