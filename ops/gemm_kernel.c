/* ops/gemm_kernel.c - GEMM micro-kernels: one MR x NR tile of C from a packed A panel and a
 * packed B panel (layouts in ops/gemm.h); and the SIMD transposes that pack operands stored by
 * rows into those panels.
 *
 * The AVX2+FMA kernels keep the whole tile in registers (6x16 floats or 6x8 doubles = 12 ymm
 * accumulators, plus 2 for a row of B and 1 for a broadcast element of A: 15 of the 16 ymm
 * registers), so each k step is 2 loads + 6 broadcasts for 12 FMAs. They are compiled with a
 * target attribute (the Makefile flags stay generic) and chosen at run time when the CPU has
 * AVX2 and FMA; the portable kernels are plain C and serve every other CPU.
 *
 * Summation order, identical in all kernels up to FMA rounding: each element adds its products
 * in increasing k into one accumulator, then c = alpha * acc + beta * c.
 */
#include <stdbool.h>
#include <stddef.h>

#include "gemm.h"

#if defined(__x86_64__) || defined(__i386__)
#define GEMM_X86 1
#include <immintrin.h>
#endif

/* ---- portable kernels ---- */
#define REF_KERNEL(NAME, T, MR, NR)                                                        \
    void NAME(int64_t kc, const T *a, const T *b, T *c, int64_t ldc, T alpha, T beta)      \
    {                                                                                      \
        T acc[MR * NR] = {0};                                                              \
        for (int64_t p = 0; p < kc; p++, a += MR, b += NR)                                 \
            for (int i = 0; i < MR; i++)                                                   \
                for (int j = 0; j < NR; j++) acc[i * NR + j] += a[i] * b[j];               \
        for (int i = 0; i < MR; i++)                                                       \
            for (int j = 0; j < NR; j++) {                                                 \
                T *cij = c + i * ldc + j;                                                  \
                *cij = beta == 0 ? alpha * acc[i * NR + j]                                 \
                                 : alpha * acc[i * NR + j] + beta * *cij;                  \
            }                                                                              \
    }

REF_KERNEL(ag__gemm_ukr_f32_ref, float, AG_GEMM_MR_F32, AG_GEMM_NR_F32)
REF_KERNEL(ag__gemm_ukr_f64_ref, double, AG_GEMM_MR_F64, AG_GEMM_NR_F64)

#ifdef GEMM_X86
/* ---- AVX2 + FMA kernels ----
 * The k loop is unrolled by 4 (fewer loop branches; the out-of-order core overlaps the
 * iterations). The C tile is prefetched before the loop so that its load at the end hits. */
#define AVX_TARGET __attribute__((target("avx2,fma")))

/* Stores one row of the tile: two accumulator vectors for 2*W elements. */
#define STORE_ROW(T, W, LOADU, STOREU, MUL, FMA, r, x0, x1)                                 \
    do {                                                                                   \
        T *cr_ = c + (r) * ldc;                                                            \
        if (beta == 0) {                                                                   \
            STOREU(cr_, one ? x0 : MUL(va, x0));                                           \
            STOREU(cr_ + W, one ? x1 : MUL(va, x1));                                       \
        } else {                                                                           \
            __typeof__(x0) o0_ = LOADU(cr_), o1_ = LOADU(cr_ + W);                         \
            if (beta != 1) {                                                               \
                o0_ = MUL(vb, o0_);                                                        \
                o1_ = MUL(vb, o1_);                                                        \
            }                                                                              \
            STOREU(cr_, FMA(va, x0, o0_));                                                 \
            STOREU(cr_ + W, FMA(va, x1, o1_));                                             \
        }                                                                                  \
    } while (0)

/* One k step: row p of B (two vectors), six broadcast elements of A. */
#define STEP_F32(p)                                                                        \
    do {                                                                                   \
        __m256 b0 = _mm256_load_ps(b + (p) * 16), b1 = _mm256_load_ps(b + (p) * 16 + 8);   \
        __m256 av;                                                                         \
        av = _mm256_broadcast_ss(a + (p) * 6 + 0);                                         \
        c00 = _mm256_fmadd_ps(av, b0, c00); c01 = _mm256_fmadd_ps(av, b1, c01);            \
        av = _mm256_broadcast_ss(a + (p) * 6 + 1);                                         \
        c10 = _mm256_fmadd_ps(av, b0, c10); c11 = _mm256_fmadd_ps(av, b1, c11);            \
        av = _mm256_broadcast_ss(a + (p) * 6 + 2);                                         \
        c20 = _mm256_fmadd_ps(av, b0, c20); c21 = _mm256_fmadd_ps(av, b1, c21);            \
        av = _mm256_broadcast_ss(a + (p) * 6 + 3);                                         \
        c30 = _mm256_fmadd_ps(av, b0, c30); c31 = _mm256_fmadd_ps(av, b1, c31);            \
        av = _mm256_broadcast_ss(a + (p) * 6 + 4);                                         \
        c40 = _mm256_fmadd_ps(av, b0, c40); c41 = _mm256_fmadd_ps(av, b1, c41);            \
        av = _mm256_broadcast_ss(a + (p) * 6 + 5);                                         \
        c50 = _mm256_fmadd_ps(av, b0, c50); c51 = _mm256_fmadd_ps(av, b1, c51);            \
    } while (0)

AVX_TARGET static void ukr_f32_avx2(int64_t kc, const float *a, const float *b, float *c,
                                    int64_t ldc, float alpha, float beta)
{
    for (int i = 0; i < 6; i++) _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0);
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    int64_t p = 0;
    for (; p + 4 <= kc; p += 4, a += 24, b += 64) {
        STEP_F32(0);
        STEP_F32(1);
        STEP_F32(2);
        STEP_F32(3);
    }
    for (; p < kc; p++, a += 6, b += 16) STEP_F32(0);
    bool one = alpha == 1;
    __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
    STORE_ROW(float, 8, _mm256_loadu_ps, _mm256_storeu_ps, _mm256_mul_ps, _mm256_fmadd_ps,
              0, c00, c01);
    STORE_ROW(float, 8, _mm256_loadu_ps, _mm256_storeu_ps, _mm256_mul_ps, _mm256_fmadd_ps,
              1, c10, c11);
    STORE_ROW(float, 8, _mm256_loadu_ps, _mm256_storeu_ps, _mm256_mul_ps, _mm256_fmadd_ps,
              2, c20, c21);
    STORE_ROW(float, 8, _mm256_loadu_ps, _mm256_storeu_ps, _mm256_mul_ps, _mm256_fmadd_ps,
              3, c30, c31);
    STORE_ROW(float, 8, _mm256_loadu_ps, _mm256_storeu_ps, _mm256_mul_ps, _mm256_fmadd_ps,
              4, c40, c41);
    STORE_ROW(float, 8, _mm256_loadu_ps, _mm256_storeu_ps, _mm256_mul_ps, _mm256_fmadd_ps,
              5, c50, c51);
}

#define STEP_F64(p)                                                                        \
    do {                                                                                   \
        __m256d b0 = _mm256_load_pd(b + (p) * 8), b1 = _mm256_load_pd(b + (p) * 8 + 4);     \
        __m256d av;                                                                        \
        av = _mm256_broadcast_sd(a + (p) * 6 + 0);                                         \
        c00 = _mm256_fmadd_pd(av, b0, c00); c01 = _mm256_fmadd_pd(av, b1, c01);            \
        av = _mm256_broadcast_sd(a + (p) * 6 + 1);                                         \
        c10 = _mm256_fmadd_pd(av, b0, c10); c11 = _mm256_fmadd_pd(av, b1, c11);            \
        av = _mm256_broadcast_sd(a + (p) * 6 + 2);                                         \
        c20 = _mm256_fmadd_pd(av, b0, c20); c21 = _mm256_fmadd_pd(av, b1, c21);            \
        av = _mm256_broadcast_sd(a + (p) * 6 + 3);                                         \
        c30 = _mm256_fmadd_pd(av, b0, c30); c31 = _mm256_fmadd_pd(av, b1, c31);            \
        av = _mm256_broadcast_sd(a + (p) * 6 + 4);                                         \
        c40 = _mm256_fmadd_pd(av, b0, c40); c41 = _mm256_fmadd_pd(av, b1, c41);            \
        av = _mm256_broadcast_sd(a + (p) * 6 + 5);                                         \
        c50 = _mm256_fmadd_pd(av, b0, c50); c51 = _mm256_fmadd_pd(av, b1, c51);            \
    } while (0)

AVX_TARGET static void ukr_f64_avx2(int64_t kc, const double *a, const double *b, double *c,
                                    int64_t ldc, double alpha, double beta)
{
    for (int i = 0; i < 6; i++) _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0);
    __m256d c00 = _mm256_setzero_pd(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    __m256d c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    int64_t p = 0;
    for (; p + 4 <= kc; p += 4, a += 24, b += 32) {
        STEP_F64(0);
        STEP_F64(1);
        STEP_F64(2);
        STEP_F64(3);
    }
    for (; p < kc; p++, a += 6, b += 8) STEP_F64(0);
    bool one = alpha == 1;
    __m256d va = _mm256_set1_pd(alpha), vb = _mm256_set1_pd(beta);
    STORE_ROW(double, 4, _mm256_loadu_pd, _mm256_storeu_pd, _mm256_mul_pd, _mm256_fmadd_pd,
              0, c00, c01);
    STORE_ROW(double, 4, _mm256_loadu_pd, _mm256_storeu_pd, _mm256_mul_pd, _mm256_fmadd_pd,
              1, c10, c11);
    STORE_ROW(double, 4, _mm256_loadu_pd, _mm256_storeu_pd, _mm256_mul_pd, _mm256_fmadd_pd,
              2, c20, c21);
    STORE_ROW(double, 4, _mm256_loadu_pd, _mm256_storeu_pd, _mm256_mul_pd, _mm256_fmadd_pd,
              3, c30, c31);
    STORE_ROW(double, 4, _mm256_loadu_pd, _mm256_storeu_pd, _mm256_mul_pd, _mm256_fmadd_pd,
              4, c40, c41);
    STORE_ROW(double, 4, _mm256_loadu_pd, _mm256_storeu_pd, _mm256_mul_pd, _mm256_fmadd_pd,
              5, c50, c51);
}

/* ---- packing a full panel of an operand stored by rows (element (i, p) at src[i*rs + p]):
 * dst[p*MR + i]. This is a transpose of MR x kc; it is done 8x8 (float) or 4x4 (double) blocks
 * at a time in registers, a group of 8 (4) rows streaming along k at a time, instead of one
 * scattered store per element. ---- */

/* (TRANSPOSE8_PS, the 8x8 float transpose in registers, is in ops/gemm.h.) */

/* float panels of 16 rows (B) or 6 rows (A), 8 columns of k per block; returns the number of
 * leading columns packed (a multiple of 8). */
AVX_TARGET static int64_t pack_rows_f32(int mr, int64_t kc, const float *src, int64_t rs,
                                        float *dst)
{
    int64_t kb = kc / 8 * 8;
    for (int h = 0; h < mr; h += 8) {
        const float *s0 = src + h * rs;
        float *d = dst + h;
        for (int64_t p = 0; p < kb; p += 8, d += 8 * mr) {
            __m256 r0 = _mm256_loadu_ps(s0 + p), r1 = _mm256_loadu_ps(s0 + rs + p);
            __m256 r2 = _mm256_loadu_ps(s0 + 2 * rs + p), r3 = _mm256_loadu_ps(s0 + 3 * rs + p);
            __m256 r4 = _mm256_loadu_ps(s0 + 4 * rs + p), r5 = _mm256_loadu_ps(s0 + 5 * rs + p);
            __m256 r6 = _mm256_setzero_ps(), r7 = r6;
            if (mr == 16) {
                r6 = _mm256_loadu_ps(s0 + 6 * rs + p);
                r7 = _mm256_loadu_ps(s0 + 7 * rs + p);
            }
            TRANSPOSE8_PS(r0, r1, r2, r3, r4, r5, r6, r7);
            if (mr == 16) {
                _mm256_store_ps(d, r0);
                _mm256_store_ps(d + 16, r1);
                _mm256_store_ps(d + 32, r2);
                _mm256_store_ps(d + 48, r3);
                _mm256_store_ps(d + 64, r4);
                _mm256_store_ps(d + 80, r5);
                _mm256_store_ps(d + 96, r6);
                _mm256_store_ps(d + 112, r7);
            } else { /* 6 rows: 6 of the 8 lanes of each column; the 8-lane stores overlap the
                      * next column, which is stored after (the last one stores 6 lanes) */
                _mm256_storeu_ps(d, r0);
                _mm256_storeu_ps(d + 6, r1);
                _mm256_storeu_ps(d + 12, r2);
                _mm256_storeu_ps(d + 18, r3);
                _mm256_storeu_ps(d + 24, r4);
                _mm256_storeu_ps(d + 30, r5);
                _mm256_storeu_ps(d + 36, r6);
                _mm_storeu_ps(d + 42, _mm256_castps256_ps128(r7));
                _mm_storel_pi((__m64 *)(d + 46), _mm256_extractf128_ps(r7, 1));
            }
        }
    }
    return kb;
}

/* double panels of 8 rows (B) or 6 rows (A), 4 columns of k per block. */
AVX_TARGET static int64_t pack_rows_f64(int mr, int64_t kc, const double *src, int64_t rs,
                                        double *dst)
{
    int64_t kb = kc / 4 * 4;
    for (int h = 0; h + 4 <= mr; h += 4) {
        const double *s0 = src + h * rs;
        double *d = dst + h;
        for (int64_t p = 0; p < kb; p += 4, d += 4 * mr) {
            __m256d r0 = _mm256_loadu_pd(s0 + p), r1 = _mm256_loadu_pd(s0 + rs + p);
            __m256d r2 = _mm256_loadu_pd(s0 + 2 * rs + p), r3 = _mm256_loadu_pd(s0 + 3 * rs + p);
            __m256d t0 = _mm256_unpacklo_pd(r0, r1), t1 = _mm256_unpackhi_pd(r0, r1);
            __m256d t2 = _mm256_unpacklo_pd(r2, r3), t3 = _mm256_unpackhi_pd(r2, r3);
            _mm256_storeu_pd(d, _mm256_permute2f128_pd(t0, t2, 0x20));
            _mm256_storeu_pd(d + mr, _mm256_permute2f128_pd(t1, t3, 0x20));
            _mm256_storeu_pd(d + 2 * mr, _mm256_permute2f128_pd(t0, t2, 0x31));
            _mm256_storeu_pd(d + 3 * mr, _mm256_permute2f128_pd(t1, t3, 0x31));
        }
    }
    if (mr == 6) { /* rows 4 and 5: a pair per column */
        const double *s4 = src + 4 * rs, *s5 = src + 5 * rs;
        double *d = dst + 4;
        for (int64_t p = 0; p < kb; p += 4, d += 24) {
            __m256d r4 = _mm256_loadu_pd(s4 + p), r5 = _mm256_loadu_pd(s5 + p);
            __m256d lo = _mm256_unpacklo_pd(r4, r5), hi = _mm256_unpackhi_pd(r4, r5);
            _mm_storeu_pd(d, _mm256_castpd256_pd128(lo));
            _mm_storeu_pd(d + 6, _mm256_castpd256_pd128(hi));
            _mm_storeu_pd(d + 12, _mm256_extractf128_pd(lo, 1));
            _mm_storeu_pd(d + 18, _mm256_extractf128_pd(hi, 1));
        }
    }
    return kb;
}
#endif

static bool portable_forced;

void ag__gemm_force_portable(bool on) { portable_forced = on; }

bool ag__gemm_avx2(void)
{
#ifdef GEMM_X86
    /* (__builtin_cpu_supports initialises itself; the answer does not change, so no lock) */
    return !portable_forced && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return false;
#endif
}

void ag__gemm_kernels(ag_gemm_ukr_f32 *f32, ag_gemm_ukr_f64 *f64)
{
#ifdef GEMM_X86
    if (ag__gemm_avx2()) {
        *f32 = ukr_f32_avx2;
        *f64 = ukr_f64_avx2;
        return;
    }
#endif
    *f32 = ag__gemm_ukr_f32_ref;
    *f64 = ag__gemm_ukr_f64_ref;
}

int64_t ag__gemm_pack_rows(ag_dtype dt, int mr, int64_t kc, const void *src, int64_t rs,
                           void *dst)
{
#ifdef GEMM_X86
    if (ag__gemm_avx2()) {
        if (dt == AG_F32 && (mr == 16 || mr == 6)) return pack_rows_f32(mr, kc, src, rs, dst);
        if (dt == AG_F64 && (mr == 8 || mr == 6)) return pack_rows_f64(mr, kc, src, rs, dst);
    }
#endif
    (void)dt; (void)mr; (void)kc; (void)src; (void)rs; (void)dst;
    return 0;
}

const char *ag__gemm_kernel_name(void) { return ag__gemm_avx2() ? "avx2+fma" : "portable"; }
