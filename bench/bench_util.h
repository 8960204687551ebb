/* bench/bench_util.h - the bench's plumbing: timing, statistics, the PyTorch server process
 * (bench/torch_bench.py behind two pipes) and the side-by-side table. Header-only, used by
 * bench/bench.c. */
#ifndef AG_BENCH_UTIL_H
#define AG_BENCH_UTIL_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include <autograd.h>

#define MAX_SAMPLES 4096

static double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void bench_die(const char *what)
{
    fprintf(stderr, "bench: %s failed: %s\n", what, ag_last_error());
    exit(1);
}

/* Before each block of repetitions: the other engine's idle OpenMP threads spin for a while
 * after their last parallel region (GOMP_SPINCOUNT); give them time to go to sleep so they do
 * not take a core from the engine being measured. */
static void settle(void)
{
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct stats { double med, min, max; int n; } stats;

static stats stats_of(double *v, int n)
{
    stats s = {NAN, NAN, NAN, n};
    if (n <= 0) return s;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    s.med = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
    s.min = v[0];
    s.max = v[n - 1];
    return s;
}

/* ---- the PyTorch server ---- */

typedef struct torch_server {
    pid_t pid;
    FILE *to, *from;
    char version[64];
} torch_server;

/* The PyTorch script a suite talks to: bench/torch_bench.py unless a suite (bench/suite_*.c)
 * sets its own before starting servers. Each script speaks the same line protocol. */
static const char *torch_script = "bench/torch_bench.py";

/* The server runs with its thread pools fixed to `threads` through the environment (PyTorch's
 * BLAS and OpenMP pools ignore set_num_threads for some kernels otherwise). */
static int torch_spawn(torch_server *ts, int threads)
{
    int in[2], out[2];
    if (access("/usr/bin/python3", X_OK) != 0 || pipe(in) != 0) return -1;
    if (pipe(out) != 0) {
        close(in[0]);
        close(in[1]);
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[0]), close(in[1]), close(out[0]), close(out[1]);
        char n[16];
        snprintf(n, sizeof n, "%d", threads);
        setenv("OMP_NUM_THREADS", n, 1);
        setenv("OPENBLAS_NUM_THREADS", n, 1);
        setenv("MKL_NUM_THREADS", n, 1);
        execl("/usr/bin/python3", "python3", torch_script, (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    ts->pid = pid;
    ts->to = fdopen(in[1], "w");
    ts->from = fdopen(out[0], "r");
    return ts->to && ts->from ? 0 : -1;
}

static int torch_start(torch_server *ts, int threads)
{
    if (torch_spawn(ts, threads) != 0) return -1;
    char line[256];
    if (!fgets(line, sizeof line, ts->from) || strncmp(line, "READY torch ", 12) != 0) {
        if (ts->to) fclose(ts->to);
        if (ts->from) fclose(ts->from);
        waitpid(ts->pid, NULL, 0);
        return -1;
    }
    line[strcspn(line, "\n")] = 0;
    snprintf(ts->version, sizeof ts->version, "%.60s", line + 12);
    return 0;
}

static void torch_stop(torch_server *ts)
{
    fprintf(ts->to, "quit\n");
    fclose(ts->to);
    fclose(ts->from);
    waitpid(ts->pid, NULL, 0);
}

/* Sends a command; parses the reply into out (pairs "a,b" give two numbers). Returns count. */
static int torch_run(torch_server *ts, const char *cmd, double *out, int max)
{
    fprintf(ts->to, "%s\n", cmd);
    fflush(ts->to);
    static char line[1 << 17];
    if (!fgets(line, sizeof line, ts->from)) return -1;
    if (!strncmp(line, "ERR", 3)) {
        fprintf(stderr, "bench: PyTorch side: %s", line);
        return -1;
    }
    int n = 0;
    for (char *p = line; *p && n < max;) {
        char *end;
        double v = strtod(p, &end);
        if (end == p) break;
        out[n++] = v;
        p = end;
        while (*p == ' ' || *p == ',' || *p == '\n') p++;
    }
    return n;
}

static double torch_w6(void)
{
    torch_server one = {0};
    if (torch_start(&one, 1) != 0) return NAN;
    double v = NAN;
    if (torch_run(&one, "W6 1 1", &v, 1) != 1) v = NAN;
    torch_stop(&one);
    return v;
}

/* ---- the table ---- */

static void bench_header(const char *torch_version)
{
    printf("%-40s %-6s %26s %26s %8s\n", "workload", "unit", "autograd-c median (min-max)",
           torch_version ? "PyTorch median (min-max)" : "PyTorch", "ratio");
    if (torch_version) printf("(PyTorch %s, eager mode, same thread count)\n", torch_version);
}

static void fmt_stats(char *buf, size_t n, stats s, double scale)
{
    if (isnan(s.med)) snprintf(buf, n, "-");
    else snprintf(buf, n, "%.3g (%.3g-%.3g)", s.med * scale, s.min * scale, s.max * scale);
}

/* ratio: how many times faster we are (times: theirs/ours; rates: ours/theirs). */
static void print_row(const char *label, const char *unit, stats ours, stats theirs,
                      double scale, bool higher_is_better)
{
    char a[64], b[64], r[32] = "-";
    fmt_stats(a, sizeof a, ours, scale);
    fmt_stats(b, sizeof b, theirs, scale);
    if (!isnan(ours.med) && !isnan(theirs.med) && ours.med > 0 && theirs.med > 0)
        snprintf(r, sizeof r, "%.2fx",
                 higher_is_better ? ours.med / theirs.med : theirs.med / ours.med);
    printf("%-40s %-6s %26s %26s %8s\n", label, unit, a, b, r);
    fflush(stdout);
}

typedef int (*bench_fn)(int reps, double *out);

/* `rounds` alternations of `reps` repetitions here and `reps` in PyTorch. */
static void bench_row(torch_server *ts, bool torch, const char *label, const char *unit,
                      double scale, int threads, int rounds, int reps, bench_fn fn,
                      const char *torch_name)
{
    static double ours[MAX_SAMPLES], theirs[MAX_SAMPLES];
    int n1 = 0, n2 = 0;
    char cmd[64];
    snprintf(cmd, sizeof cmd, "%s %d %d", torch_name, threads, reps);
    for (int r = 0; r < rounds; r++) {
        settle();
        n1 += fn(reps, ours + n1);
        if (torch) {
            settle();
            int k = torch_run(ts, cmd, theirs + n2, MAX_SAMPLES - n2);
            if (k > 0) n2 += k;
        }
    }
    print_row(label, unit, stats_of(ours, n1), stats_of(theirs, n2), scale, false);
}

/* W3: samples come in (forward, backward) pairs. */
static void bench_row_pair(torch_server *ts, bool torch, const char *label, int rounds, int reps,
                           bench_fn fn)
{
    static double ours[MAX_SAMPLES], theirs[MAX_SAMPLES];
    static double f1[MAX_SAMPLES], b1[MAX_SAMPLES], f2[MAX_SAMPLES], b2[MAX_SAMPLES];
    int n1 = 0, n2 = 0;
    char cmd[64];
    snprintf(cmd, sizeof cmd, "W3 1 %d", reps);
    for (int r = 0; r < rounds; r++) {
        settle();
        int k = fn(reps, ours);
        for (int i = 0; i + 1 < k; i += 2) f1[n1] = ours[i], b1[n1++] = ours[i + 1];
        if (torch) {
            settle();
            k = torch_run(ts, cmd, theirs, MAX_SAMPLES);
            for (int i = 0; i + 1 < k; i += 2) f2[n2] = theirs[i], b2[n2++] = theirs[i + 1];
        }
    }
    char l1[80], l2[80];
    snprintf(l1, sizeof l1, "%s, forward+record", label);
    snprintf(l2, sizeof l2, "%s, backward", label);
    print_row(l1, "ns/op", stats_of(f1, n1), stats_of(f2, n2), 1e9, false);
    print_row(l2, "ns/op", stats_of(b1, n1), stats_of(b2, n2), 1e9, false);
}

typedef int (*gemm_fn)(int reps, double *out, int64_t n, ag_dtype dt);

static void bench_row_gemm(torch_server *ts, bool torch, int64_t n, ag_dtype dt, int threads,
                           int rounds, int reps, gemm_fn fn)
{
    static double ours[MAX_SAMPLES], theirs[MAX_SAMPLES];
    int n1 = 0, n2 = 0;
    char cmd[64], label[80];
    snprintf(cmd, sizeof cmd, "W4 %d %d %lld %s", threads, reps, (long long)n,
             dt == AG_F32 ? "f32" : "f64");
    for (int r = 0; r < rounds; r++) {
        settle();
        n1 += fn(reps, ours + n1, n, dt);
        if (torch) {
            settle();
            int k = torch_run(ts, cmd, theirs + n2, MAX_SAMPLES - n2);
            if (k > 0) n2 += k;
        }
    }
    /* seconds -> GFLOP/s: rate = 2 n^3 / t, so min and max swap */
    double flop = 2.0 * (double)n * (double)n * (double)n;
    for (int i = 0; i < n1; i++) ours[i] = flop / ours[i] * 1e-9;
    for (int i = 0; i < n2; i++) theirs[i] = flop / theirs[i] * 1e-9;
    snprintf(label, sizeof label, "W4 matmul %s n=%lld, %d thread%s",
             dt == AG_F32 ? "f32" : "f64", (long long)n, threads, threads > 1 ? "s" : "");
    print_row(label, "GFLOP/s", stats_of(ours, n1), stats_of(theirs, n2), 1, true);
}

static void bench_print_single(const char *label, const char *unit, double ours, double theirs)
{
    stats a = {ours, ours, ours, 1}, b = {theirs, theirs, theirs, 1};
    print_row(label, unit, a, b, 1, false);
}

#endif
