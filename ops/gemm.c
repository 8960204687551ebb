/* ops/gemm.c - the GEMM driver (interface in ops/gemm.h): BLIS/GotoBLAS-style blocking around
 * the register micro-kernels of ops/gemm_kernel.c.
 *
 *   for jc in n by NC:                      B panel  [KC x NC]  (packed; lives in L3)
 *     for pc in k by KC:                    pack op(B)[pc:+KC, jc:+NC] into NR-column panels
 *       for ic in m by MC:                  A block  [MC x KC]  (packed; lives in L2)
 *         pack op(A)[ic:+MC, pc:+KC] into MR-row panels
 *         for jr in NC by NR: for ir in MC by MR:   micro-kernel on one MR x NR tile
 *                                                   (its B panel [KC x NR] stays in L1)
 * Transposed operands are read with swapped strides while packing, so op(X) costs nothing.
 * Edge tiles: panels are zero-padded to MR/NR, the kernel writes a local tile and only the valid
 * part is added to C. The first k block applies beta and the bias; later ones add (beta = 1).
 *
 * Threads: C is cut into a fixed grid of rectangles (rows in multiples of MR, columns in
 * multiples of NR), one per thread, each computed by the loops above with the thread's own
 * packing buffers - no barriers. k is never split, so every element sums its products in the
 * same order for any thread count: results are bit-identical with 1 or N threads.
 * Small float products (m*n*k <= SMALL_F32_WORK) run the unpacked AVX2 kernel of
 * ops/gemm_small.c when the CPU has it. Otherwise tiny products (m*n*k < SMALL_WORK, about
 * 16^3: measured, packing pays from there) and matrix-vector shapes (1 or 2 rows or columns
 * of C) skip packing and run plain loops.
 */
#include <pthread.h>
#include <stdlib.h>

#include "../autograd/internal.h"
#include "gemm.h"

#ifdef _OPENMP
#include <omp.h>
#endif

/* Block sizes in elements, for AMD Zen 4 (L1d 32 KiB, L2 1 MiB per core, shared L3 32 MiB):
 * KC x NR of B (16 KiB) fits half of L1; MC x KC of A fits in L2 beside streaming B and C;
 * KC x NC of B (3 MiB for float, 4 MiB for double, per thread) stays in L3. */
typedef struct blocking {
    int mr, nr;
    int64_t mc, kc, nc;
} blocking;
#ifndef AG_GEMM_BLOCKS_F32 /* (the macros let a tuning build try other sizes) */
#define AG_GEMM_BLOCKS_F32 144, 256, 3072
#define AG_GEMM_BLOCKS_F64 72, 256, 2048
#endif
static const blocking BL_F32 = {AG_GEMM_MR_F32, AG_GEMM_NR_F32, AG_GEMM_BLOCKS_F32};
static const blocking BL_F64 = {AG_GEMM_MR_F64, AG_GEMM_NR_F64, AG_GEMM_BLOCKS_F64};

#define SMALL_WORK 4096      /* m*n*k below this: plain loops, no packing, no threads */
#define DIRECT_MAX 2         /* at most this many rows or columns of C: plain loops (threaded) */
#define PAR_WORK 262144      /* m*n*k per thread that pays for starting it */
#ifndef SMALL_F32_WORK /* float m*n*k up to this: ops/gemm_small.c, no packing. Measured on one
                        * thread: 1.3x faster at 32x100x41 and 64^3, on par up to 200^3 (all in
                        * L2); stopped at PAR_WORK, where the packed path starts to use threads */
#define SMALL_F32_WORK 262144
#endif

/* Everything one call needs, shared read-only by its threads. */
typedef struct gemm_ctx {
    const ag_gemm_args *g;
    blocking bl;
    size_t es;                 /* element size */
    int64_t ars, acs;          /* op(A)(i, p) = a[i*ars + p*acs] */
    int64_t brs, bcs;          /* op(B)(p, j) = b[p*brs + j*bcs] */
    ag_gemm_ukr_f32 k32;
    ag_gemm_ukr_f64 k64;
} gemm_ctx;

/* ---- per-thread packing buffers: grown on demand, reused by later calls, freed when the
 * thread exits (pthread key destructor); 64-byte aligned for the kernels' aligned loads. ---- */
typedef struct pack_buf {
    void *p[2];
    size_t cap[2];
} pack_buf;

static _Thread_local pack_buf tls_buf;
static pthread_key_t buf_key;
static pthread_once_t buf_once = PTHREAD_ONCE_INIT;
static bool buf_key_ok;

static void buf_release(void *v)
{
    pack_buf *b = v;
    for (int i = 0; i < 2; i++) {
        free(b->p[i]);
        b->p[i] = NULL;
        b->cap[i] = 0;
    }
}

static void buf_key_init(void) { buf_key_ok = pthread_key_create(&buf_key, buf_release) == 0; }

/* Buffer i (0: A, 1: B) of this thread with room for `bytes`; NULL when out of memory. */
static void *thread_buffer(int i, size_t bytes)
{
    pack_buf *b = &tls_buf;
    if (b->cap[i] >= bytes) return b->p[i];
    if (!b->p[0] && !b->p[1]) {
        pthread_once(&buf_once, buf_key_init);
        if (buf_key_ok) pthread_setspecific(buf_key, b);
    }
    free(b->p[i]);
    b->p[i] = NULL;
    b->cap[i] = 0;
    bytes = (bytes + 4095) & ~(size_t)4095;
    void *p;
    if (posix_memalign(&p, 64, bytes) != 0) return NULL;
    b->p[i] = p;
    b->cap[i] = bytes;
    return p;
}

/* ---- packing ----
 * Packs rows [0, rows) x columns [0, kc) of X, element (r, p) at x[r*rs + p*cs], into panels
 * of mr rows: panel q, row i, column p goes to dst[q*mr*kc + p*mr + i]. Rows past the end are
 * zeros. A is packed as itself; B as op(B)^T, so that its columns become panel rows. */
static void pack(ag_dtype dt, int mr, int64_t rows, int64_t kc, const void *x, int64_t rs,
                 int64_t cs, void *dst)
{
    AG_DISPATCH(dt, T, const T *src = x; T *d = dst;
        for (int64_t r0 = 0; r0 < rows; r0 += mr, d += mr * kc) {
            int h = rows - r0 < mr ? (int)(rows - r0) : mr;
            const T *s = src + r0 * rs;
            if (cs == 1) {          /* each row contiguous along k: a transpose */
                int64_t p0 = h == mr ? ag__gemm_pack_rows(dt, mr, kc, s, rs, d) : 0;
                for (int i = 0; i < h; i++) {
                    const T *sr = s + i * rs;
                    for (int64_t p = p0; p < kc; p++) d[p * mr + i] = sr[p];
                }
            } else if (h == mr && mr * sizeof(T) == 64) { /* rs == 1: copies of 64 bytes */
                for (int64_t p = 0; p < kc; p++) memcpy(d + p * mr, s + p * cs, 64);
            } else {                /* rs == 1: the panel's mr elements contiguous per k */
                for (int64_t p = 0; p < kc; p++) {
                    const T *sc = s + p * cs;
                    for (int i = 0; i < h; i++) d[p * mr + i] = sc[i];
                }
            }
            for (int64_t p = 0; h < mr && p < kc; p++)
                for (int i = h; i < mr; i++) d[p * mr + i] = 0;
        });
}

/* ---- macro-kernel: an mc x nc block of C from a packed A block and B panel ----
 * beta and bias (NULL, or the bias of these nc columns) are those of this k block. */
static void macro_kernel(const gemm_ctx *x, int64_t mc, int64_t nc, int64_t kc, double beta,
                         const void *bias, const void *pa, const void *pb, void *cblk)
{
    int64_t ldc = x->g->ldc;
    AG_DISPATCH(x->g->dtype, T,
        enum { MR = sizeof(T) == 4 ? AG_GEMM_MR_F32 : AG_GEMM_MR_F64,
               NR = sizeof(T) == 4 ? AG_GEMM_NR_F32 : AG_GEMM_NR_F64 };
        const T al = (T)x->g->alpha, be = (T)beta;
        const T *bi = bias;
        T *c = cblk;
        _Alignas(64) T tile[MR * NR];
        for (int64_t jr = 0; jr < nc; jr += NR) {
            int nr = nc - jr < NR ? (int)(nc - jr) : NR;
            const T *bp = (const T *)pb + jr * kc;
            for (int64_t ir = 0; ir < mc; ir += MR) {
                int mr = mc - ir < MR ? (int)(mc - ir) : MR;
                const T *ap = (const T *)pa + ir * kc;
                T *ct = c + ir * ldc + jr;
                if (mr == MR && nr == NR) {
                    T b1 = be;
                    if (bi) {   /* C = beta C + bias, then the kernel adds alpha AB */
                        for (int i = 0; i < MR; i++)
                            for (int j = 0; j < NR; j++)
                                ct[i * ldc + j] = (be == 0 ? 0 : be * ct[i * ldc + j]) + bi[jr + j];
                        b1 = 1;
                    }
                    _Generic((T)0, float: x->k32, double: x->k64)(kc, ap, bp, ct, ldc, al, b1);
                } else {
                    _Generic((T)0, float: x->k32, double: x->k64)(kc, ap, bp, tile, NR, al, 0);
                    for (int i = 0; i < mr; i++)
                        for (int j = 0; j < nr; j++) {
                            T v = be == 0 ? 0 : be * ct[i * ldc + j];
                            if (bi) v += bi[jr + j];
                            ct[i * ldc + j] = v + tile[i * NR + j];
                        }
                }
            }
        });
}

/* The blocked loops for the rectangle [m0, m1) x [n0, n1) of C; false when the packing buffers
 * cannot be allocated (nothing written then). */
static bool run_block(const gemm_ctx *x, int64_t m0, int64_t m1, int64_t n0, int64_t n1)
{
    const ag_gemm_args *g = x->g;
    const blocking *bl = &x->bl;
    size_t es = x->es;
    /* k in equal blocks of at most KC, so no block is a short leftover */
    int64_t nkb = (g->k + bl->kc - 1) / bl->kc, kcb = (g->k + nkb - 1) / nkb;
    int64_t mcap = m1 - m0 < bl->mc ? m1 - m0 : bl->mc, ncap = n1 - n0 < bl->nc ? n1 - n0 : bl->nc;
    mcap = (mcap + bl->mr - 1) / bl->mr * bl->mr;
    ncap = (ncap + bl->nr - 1) / bl->nr * bl->nr;
    void *pa = thread_buffer(0, (size_t)(mcap * kcb) * es);
    void *pb = thread_buffer(1, (size_t)(ncap * kcb) * es);
    if (!pa || !pb) return false;
    const char *a = g->a, *b = g->b, *bias = g->bias;
    char *c = g->c;
    for (int64_t jc = n0; jc < n1; jc += bl->nc) {
        int64_t nc = n1 - jc < bl->nc ? n1 - jc : bl->nc;
        for (int64_t pc = 0; pc < g->k; pc += kcb) {
            int64_t kc = g->k - pc < kcb ? g->k - pc : kcb;
            pack(g->dtype, bl->nr, nc, kc, b + (size_t)(pc * x->brs + jc * x->bcs) * es, x->bcs,
                 x->brs, pb);
            for (int64_t ic = m0; ic < m1; ic += bl->mc) {
                int64_t mc = m1 - ic < bl->mc ? m1 - ic : bl->mc;
                pack(g->dtype, bl->mr, mc, kc, a + (size_t)(ic * x->ars + pc * x->acs) * es,
                     x->ars, x->acs, pa);
                macro_kernel(x, mc, nc, kc, pc == 0 ? g->beta : 1,
                             pc == 0 && bias ? bias + (size_t)jc * es : NULL, pa, pb,
                             c + (size_t)(ic * g->ldc + jc) * es);
            }
        }
    }
    return true;
}

/* ---- direct loops, without packing: tiny products, matrix-vector shapes (few rows of C,
 * where a 6-row tile would mostly multiply padding), and the fallback when packing buffers
 * cannot be allocated. Each element of C is finished as beta c + bias + alpha sum. ---- */

/* B's rows contiguous (op(B) = B): rows of C as sums of scaled rows of B, a contiguous
 * vectorised update of a block of accumulators; each element adds its products in order. */
#define DIRECT_NB 256
#define INLINE static inline __attribute__((always_inline))
INLINE void direct_rows(const gemm_ctx *x, int64_t m0, int64_t m1, int64_t n0, int64_t n1)
{
    const ag_gemm_args *g = x->g;
    int64_t k = g->k, ldc = g->ldc, ars = x->ars, acs = x->acs, brs = x->brs;
    AG_DISPATCH(g->dtype, T, const T *a = g->a; const T *b = g->b; const T *bias = g->bias;
        T *c = g->c;
        const T al = (T)g->alpha, be = (T)g->beta;
        T acc[DIRECT_NB];
        for (int64_t i = m0; i < m1; i++)
            for (int64_t j0 = n0; j0 < n1; j0 += DIRECT_NB) {
                int64_t jw = n1 - j0 < DIRECT_NB ? n1 - j0 : DIRECT_NB;
                T *cr = c + i * ldc + j0;
                for (int64_t j = 0; j < jw; j++) acc[j] = 0;
                for (int64_t p = 0; p < k; p++) {
                    const T aip = a[i * ars + p * acs], *restrict br = b + p * brs + j0;
                    AG_SIMD
                    for (int64_t j = 0; j < jw; j++) acc[j] += aip * br[j];
                }
                /* The same sums in every branch, (beta C or 0) + (bias or 0) + alpha acc; the
                 * branches are outside the loops so C is never read when beta is 0 (a masked
                 * load of C there cost more than the product on AMD). */
                if (be == 0 && !bias)
                    for (int64_t j = 0; j < jw; j++) cr[j] = ((T)0 + (T)0) + al * acc[j];
                else if (be == 0)
                    for (int64_t j = 0; j < jw; j++) cr[j] = ((T)0 + bias[j0 + j]) + al * acc[j];
                else
                    for (int64_t j = 0; j < jw; j++)
                        cr[j] = (be * cr[j] + (bias ? bias[j0 + j] : 0)) + al * acc[j];
            });
}

/* A's rows and op(B)'s columns contiguous: dot products in 8 interleaved partial sums (a fixed
 * order, so still deterministic) that the compiler keeps in one vector register. */
INLINE void direct_dots(const gemm_ctx *x, int64_t m0, int64_t m1, int64_t n0, int64_t n1)
{
    const ag_gemm_args *g = x->g;
    int64_t k = g->k, ldc = g->ldc, ars = x->ars, bcs = x->bcs;
    AG_DISPATCH(g->dtype, T, const T *a = g->a; const T *b = g->b; const T *bias = g->bias;
        T *c = g->c;
        const T al = (T)g->alpha, be = (T)g->beta;
        for (int64_t i = m0; i < m1; i++)
            for (int64_t j = n0; j < n1; j++) {
                const T *ar = a + i * ars, *bc = b + j * bcs;
                T s8[8] = {0, 0, 0, 0, 0, 0, 0, 0};
                int64_t p = 0;
                for (; p + 8 <= k; p += 8) {
                    AG_SIMD
                    for (int l = 0; l < 8; l++) s8[l] += ar[p + l] * bc[p + l];
                }
                T s = ((s8[0] + s8[4]) + (s8[1] + s8[5])) + ((s8[2] + s8[6]) + (s8[3] + s8[7]));
                for (; p < k; p++) s += ar[p] * bc[p];
                T *cij = c + i * ldc + j;
                *cij = (be == 0 ? 0 : be * *cij) + (bias ? bias[j] : 0) + al * s;
            });
}

/* Any strides (both operands transposed); also k == 0 and alpha == 0, where A and B are not
 * read (C = beta C + bias, as BLAS does). */
static void direct_any(const gemm_ctx *x, int64_t m0, int64_t m1, int64_t n0, int64_t n1)
{
    const ag_gemm_args *g = x->g;
    int64_t k = g->alpha == 0 ? 0 : g->k, ldc = g->ldc;
    AG_DISPATCH(g->dtype, T, const T *a = g->a; const T *b = g->b; const T *bias = g->bias;
        T *c = g->c;
        const T al = (T)g->alpha, be = (T)g->beta;
        for (int64_t i = m0; i < m1; i++)
            for (int64_t j = n0; j < n1; j++) {
                T s = 0;
                for (int64_t p = 0; p < k; p++)
                    s += a[i * x->ars + p * x->acs] * b[p * x->brs + j * x->bcs];
                T *cij = c + i * ldc + j;
                *cij = (be == 0 ? 0 : be * *cij) + (bias ? bias[j] : 0) + al * s;
            });
}

/* The two vectorised forms, compiled twice: for the build's baseline ISA and for AVX2 (chosen
 * at run time). Without FMA contraction (C11 mode) both round identically. */
static void direct_fast(const gemm_ctx *x, bool dots, int64_t m0, int64_t m1, int64_t n0,
                        int64_t n1)
{
    if (dots) direct_dots(x, m0, m1, n0, n1);
    else direct_rows(x, m0, m1, n0, n1);
}

#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx2"))) static void direct_fast_avx2(const gemm_ctx *x, bool dots,
                                                             int64_t m0, int64_t m1,
                                                             int64_t n0, int64_t n1)
{
    if (dots) direct_dots(x, m0, m1, n0, n1);
    else direct_rows(x, m0, m1, n0, n1);
}
#endif

static void run_direct(const gemm_ctx *x, int64_t m0, int64_t m1, int64_t n0, int64_t n1)
{
    const ag_gemm_args *g = x->g;
    bool dots = x->acs == 1 && x->brs == 1;
    if (g->k <= 0 || g->alpha == 0 || (x->bcs != 1 && !dots)) {
        direct_any(x, m0, m1, n0, n1);
        return;
    }
    dots = dots && (x->bcs != 1 || n1 - n0 < 8);   /* rows when B's rows are contiguous */
#if defined(__x86_64__) || defined(__i386__)
    if (__builtin_cpu_supports("avx2")) {
        direct_fast_avx2(x, dots, m0, m1, n0, n1);
        return;
    }
#endif
    direct_fast(x, dots, m0, m1, n0, n1);
}

/* Small float products: the unpacked AVX2 kernel of ops/gemm_small.c. It wants op(B) by rows,
 * so a transposed B (n x k, stored by rows) is first copied to row order in this thread's
 * B buffer: n*k moves, small beside the m*n*k multiplies. False when not done (no AVX2, or no
 * memory for the copy). */
static bool run_small(const gemm_ctx *x)
{
    const ag_gemm_args *g = x->g;
    const float *b = g->b;
    int64_t ldb = x->brs;
    if (!ag__gemm_avx2()) return false;
    if (x->bcs != 1) {
        float *bt = thread_buffer(1, (size_t)(g->n * g->k) * sizeof(float));
        if (!bt) return false;
        ag__gemm_transpose_f32(g->n, g->k, b, x->bcs, bt);
        b = bt;
        ldb = g->n;
    }
    return ag__gemm_small_f32(g->m, g->n, g->k, (float)g->alpha, g->a, x->ars, x->acs, b, ldb,
                              (float)g->beta, g->c, g->ldc, g->bias);
}

/* Threads worth using for this product: none inside a parallel region, and at least PAR_WORK
 * of m*n*k and one tile per thread. */
static int pick_threads(const gemm_ctx *x, double work)
{
#ifdef _OPENMP
    if (omp_in_parallel()) return 1;
    int nt = omp_get_max_threads();
    double by_work = work / PAR_WORK;
    if (by_work < nt) nt = by_work < 1 ? 1 : (int)by_work;
    const ag_gemm_args *g = x->g;
    double tiles = (double)((g->m + x->bl.mr - 1) / x->bl.mr) * ((g->n + x->bl.nr - 1) / x->bl.nr);
    if (tiles < nt) nt = (int)tiles;
    return nt;
#else
    (void)x; (void)work;
    return 1;
#endif
}

#ifdef _OPENMP
/* Thread t's rectangle of a tm x tn grid over C. The grid minimises m/tm + n/tn (each thread
 * packs (m/tm + n/tn) * k elements), preferring to split rows on ties. */
static void thread_rect(const gemm_ctx *x, int nt, int t, int64_t *r)
{
    const ag_gemm_args *g = x->g;
    int64_t tiles_m = (g->m + x->bl.mr - 1) / x->bl.mr, tiles_n = (g->n + x->bl.nr - 1) / x->bl.nr;
    int tm = 1;
    double best = -1;
    for (int d = 1; d <= nt; d++) {
        if (nt % d) continue;
        double score = (double)g->m / d + (double)g->n / (nt / d);
        bool fits = d <= tiles_m && nt / d <= tiles_n;
        if (fits && (best < 0 || score <= best)) { best = score; tm = d; }
    }
    int tn = nt / tm, ti = t / tn, tj = t % tn;
    r[0] = tiles_m * ti / tm * x->bl.mr;
    r[1] = tiles_m * (ti + 1) / tm * x->bl.mr;
    r[2] = tiles_n * tj / tn * x->bl.nr;
    r[3] = tiles_n * (tj + 1) / tn * x->bl.nr;
    if (r[1] > g->m) r[1] = g->m;
    if (r[3] > g->n) r[3] = g->n;
}
#endif

static void run_rect(const gemm_ctx *x, bool direct, const int64_t *r)
{
    if (r[0] >= r[1] || r[2] >= r[3]) return;
    if (direct || !run_block(x, r[0], r[1], r[2], r[3])) run_direct(x, r[0], r[1], r[2], r[3]);
}

#ifdef AG_USE_CBLAS
#include <cblas.h>
/* `make BLAS=openblas`: large products go to the system's BLAS; the bias is added afterwards.
 * Small ones stay on the direct path, where a library call costs more than the product. */
static bool run_cblas(const ag_gemm_args *g)
{
    if ((double)g->m * (double)g->n * (double)g->k < SMALL_WORK || g->k <= 0) return false;
    enum CBLAS_TRANSPOSE ta = g->ta ? CblasTrans : CblasNoTrans;
    enum CBLAS_TRANSPOSE tb = g->tb ? CblasTrans : CblasNoTrans;
    if (g->dtype == AG_F32)
        cblas_sgemm(CblasRowMajor, ta, tb, (int)g->m, (int)g->n, (int)g->k, (float)g->alpha,
                    g->a, (int)g->lda, g->b, (int)g->ldb, (float)g->beta, g->c, (int)g->ldc);
    else
        cblas_dgemm(CblasRowMajor, ta, tb, (int)g->m, (int)g->n, (int)g->k, g->alpha, g->a,
                    (int)g->lda, g->b, (int)g->ldb, g->beta, g->c, (int)g->ldc);
    if (g->bias)
        AG_DISPATCH(g->dtype, T, T *c = g->c; const T *bias = g->bias;
            for (int64_t i = 0; i < g->m; i++)
                for (int64_t j = 0; j < g->n; j++) c[i * g->ldc + j] += bias[j];);
    return true;
}
#endif

void ag__gemm(const ag_gemm_args *g)
{
    if (g->m <= 0 || g->n <= 0) return;
#ifdef AG_USE_CBLAS
    if (g->m < INT32_MAX && g->n < INT32_MAX && g->k < INT32_MAX && run_cblas(g)) return;
#endif
    gemm_ctx x = {.g = g, .bl = g->dtype == AG_F32 ? BL_F32 : BL_F64,
                  .es = g->dtype == AG_F32 ? sizeof(float) : sizeof(double)};
    x.ars = g->ta ? 1 : g->lda;
    x.acs = g->ta ? g->lda : 1;
    x.brs = g->tb ? 1 : g->ldb;
    x.bcs = g->tb ? g->ldb : 1;
    double work = (double)g->m * (double)g->n * (double)g->k;
    if (g->dtype == AG_F32 && g->k > 0 && g->alpha != 0 && work <= SMALL_F32_WORK &&
        run_small(&x))
        return;
    if (g->k <= 0 || g->alpha == 0 || work < SMALL_WORK) {
        run_direct(&x, 0, g->m, 0, g->n);
        return;
    }
    /* one or two rows (or columns) of C: packing would cost as much as the product */
    bool direct = g->m <= DIRECT_MAX || g->n <= DIRECT_MAX;
    ag__gemm_kernels(&x.k32, &x.k64);
    int nt = pick_threads(&x, work);
    if (nt <= 1) {
        run_rect(&x, direct, (int64_t[]){0, g->m, 0, g->n});
        return;
    }
#ifdef _OPENMP
#pragma omp parallel num_threads(nt)
    {
        int64_t r[4];
        thread_rect(&x, omp_get_num_threads(), omp_get_thread_num(), r);
        run_rect(&x, direct, r);
    }
#endif
}
