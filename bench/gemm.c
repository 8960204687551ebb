/* bench/gemm.c - matrix-multiply throughput (GFLOP/s = 2 n^3 / time) of the engine's GEMM
 * (ops/gemm.c, the kernel behind ag_matmul and ag_linear) for square float32 and float64
 * products, n = 128 .. 2048, on 1 and 2 threads; median of repeats after warm-up.
 *
 * Built with -DAG_BENCH_OPENBLAS and linked with -lopenblas, it also times cblas_sgemm /
 * cblas_dgemm on the same matrices, interleaved with ours repeat by repeat (so both see the
 * same machine load), checks that the results agree, and prints the ratio ours / OpenBLAS.
 *   cc -std=c11 -O2 -fopenmp -Iinclude -DAG_BENCH_OPENBLAS bench/gemm.c \
 *      build/libautograd.a -lopenblas -lz -lm -lpthread -o gemm
 *   OMP_WAIT_POLICY=passive OPENBLAS_THREAD_TIMEOUT=4 ./gemm [max_n]
 * The two variables make each library's idle threads sleep at once instead of spinning:
 * otherwise, interleaved, the spinning threads of one library take the cores from the other.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <autograd.h>

#include "../ops/gemm.h"

#ifdef _OPENMP
#include <omp.h>
#endif
#ifdef AG_BENCH_OPENBLAS
#include <cblas.h>
void openblas_set_num_threads(int n);
#endif

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void set_threads(int nt)
{
    (void)nt;
#ifdef _OPENMP
    omp_set_num_threads(nt);
#endif
#ifdef AG_BENCH_OPENBLAS
    openblas_set_num_threads(nt);
#endif
}

static void run_ours(ag_dtype dt, int n, const void *a, const void *b, void *c)
{
    ag__gemm(&(ag_gemm_args){.dtype = dt, .m = n, .n = n, .k = n, .alpha = 1, .beta = 0,
                             .a = a, .lda = n, .b = b, .ldb = n, .c = c, .ldc = n});
}

#ifdef AG_BENCH_OPENBLAS
static void run_blas(ag_dtype dt, int n, const void *a, const void *b, void *c)
{
    if (dt == AG_F32)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f,
                    c, n);
    else
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0, a, n, b, n, 0.0, c,
                    n);
}
#endif

/* Largest |x - y| relative to the largest |y|, over n*n elements. */
static double rel_diff(ag_dtype dt, const void *x, const void *y, size_t n)
{
    double d = 0, s = 0;
    for (size_t i = 0; i < n; i++) {
        double u = dt == AG_F32 ? ((const float *)x)[i] : ((const double *)x)[i];
        double v = dt == AG_F32 ? ((const float *)y)[i] : ((const double *)y)[i];
        if (fabs(u - v) > d) d = fabs(u - v);
        if (fabs(v) > s) s = fabs(v);
    }
    return s > 0 ? d / s : d;
}

#define MAXREP 41

static int bench(ag_dtype dt, int n, int nt)
{
    size_t es = dt == AG_F32 ? sizeof(float) : sizeof(double), nn = (size_t)n * n;
    void *a = malloc(nn * es), *b = malloc(nn * es), *c = malloc(nn * es), *c2 = malloc(nn * es);
    if (!a || !b || !c || !c2) {
        fprintf(stderr, "out of memory for n = %d\n", n);
        free(a), free(b), free(c), free(c2);
        return 1;
    }
    ag_rng r = ag_rng_seed((uint64_t)n);
    for (size_t i = 0; i < nn; i++) {
        double u = 2 * ag_rng_uniform(&r) - 1, v = 2 * ag_rng_uniform(&r) - 1;
        if (dt == AG_F32) ((float *)a)[i] = (float)u, ((float *)b)[i] = (float)v;
        else ((double *)a)[i] = u, ((double *)b)[i] = v;
    }
    set_threads(nt);
    double flops = 2.0 * n * n * n;
    /* about 0.3 s per library at 50 GFLOP/s, at least 5 repeats */
    int reps = (int)(0.3 * 50e9 / flops);
    reps = reps < 5 ? 5 : reps > MAXREP ? MAXREP : reps;
    double t_ours[MAXREP], t_blas[MAXREP];
    for (int rep = -2; rep < reps; rep++) {
        double t0 = now_s();
        run_ours(dt, n, a, b, c);
        double t1 = now_s();
        if (rep >= 0) t_ours[rep] = t1 - t0;
#ifdef AG_BENCH_OPENBLAS
        t0 = now_s();
        run_blas(dt, n, a, b, c2);
        t1 = now_s();
        if (rep >= 0) t_blas[rep] = t1 - t0;
#else
        (void)t_blas;
#endif
    }
    qsort(t_ours, (size_t)reps, sizeof(double), cmp);
    double g_ours = flops / t_ours[reps / 2] * 1e-9;
    printf("%-7s %5d %7d %9.1f", dt == AG_F32 ? "float32" : "float64", n, nt, g_ours);
#ifdef AG_BENCH_OPENBLAS
    qsort(t_blas, (size_t)reps, sizeof(double), cmp);
    double g_blas = flops / t_blas[reps / 2] * 1e-9;
    printf(" %9.1f %6.2f %9.1e", g_blas, g_ours / g_blas, rel_diff(dt, c, c2, nn));
#else
    (void)rel_diff;
    (void)c2;
#endif
    printf("   (%d repeats)\n", reps);
    fflush(stdout);
    free(a), free(b), free(c), free(c2);
    return 0;
}

int main(int argc, char **argv)
{
    int maxn = argc > 1 ? atoi(argv[1]) : 2048;
    printf("GEMM C = A B, square n x n, row-major; GFLOP/s = 2 n^3 / median time; kernel: %s\n",
           ag__gemm_kernel_name());
#ifdef AG_BENCH_OPENBLAS
    printf("dtype       n threads  ours GF/s  OpenBLAS  ratio  max rel diff\n");
#else
    printf("dtype       n threads  ours GF/s\n");
#endif
#ifdef AG_BENCH_OPENBLAS
    if (!getenv("OMP_WAIT_POLICY") || !getenv("OPENBLAS_THREAD_TIMEOUT"))
        fprintf(stderr, "note: set OMP_WAIT_POLICY=passive OPENBLAS_THREAD_TIMEOUT=4, or the "
                        "idle threads of each library spin and slow the other down\n");
#endif
#ifdef _OPENMP
    int maxt = 2;
#else
    int maxt = 1;
#endif
    int rc = 0;
    for (int d = 0; d < 2; d++)
        for (int n = 128; n <= maxn; n *= 2)
            for (int nt = 1; nt <= maxt; nt++) rc |= bench(d == 0 ? AG_F32 : AG_F64, n, nt);
    return rc;
}
