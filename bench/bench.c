/* bench/bench.c - `make bench`: the performance issue's workloads, here and in PyTorch, side by
 * side in one run.
 *
 *   W1  seed MLP training step (float32, 100 -> 32 relu -> 10, CE, Adam, batch 32)      us/step
 *   W2  large MLP training step (784 -> 512 relu -> 512 relu -> 10, Adam, batch 128)    ms/step
 *   W3  graph overhead: chain of 10,000 one-element float64 ops, forward and backward  ns/op
 *   W4  square matmul, float32 and float64, n = 128 ... 2048                        GFLOP/s
 *   W5  full gradient check of a float64 2-layer MLP (4x10 input, 10 -> 16 tanh -> 3)     ms
 *   W6  peak resident memory of a process running 1,000 W1 steps                        MiB
 * W2 and W4 run with 1 and 2 threads. PyTorch runs in bench/torch_bench.py (Debian's python3
 * with python3-torch), driven through a pipe so that the two engines alternate round by round
 * and see the same machine load. Each figure is the median over repetitions after warm-up, with
 * min and max; "ratio" is how many times faster this engine is (>1 means faster).
 *
 * Usage: bench [--quick] [--no-torch]    (make bench; make bench-quick)
 */
#define _GNU_SOURCE
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <autograd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "bench_util.h"

static void set_threads(int n)
{
#ifdef _OPENMP
    omp_set_num_threads(n);
#else
    (void)n;
#endif
}

/* ---- our side of each workload: a function running `reps` timed repetitions ---- */

typedef struct mlp {
    ag_module *model;
    ag_optimizer *opt;
    ag_tensor *x, *y;
} mlp;

static mlp mlp_new(const int64_t *sizes, int nlayers, int64_t batch)
{
    ag_rng rng = ag_rng_seed(0);
    ag_module *layers[8];
    for (int i = 0; i < nlayers; i++) {
        ag_dense_opts o = {.init = AG_INIT_TORCH_DEFAULT,
                           .activation = i < nlayers - 1 ? AG_ACT_RELU : AG_ACT_NONE};
        layers[i] = ag_dense(sizes[i], sizes[i + 1], &o, &rng);
    }
    mlp m = {.model = ag_sequential(nlayers, layers)};
    if (!m.model) bench_die("model");
    m.opt = ag_adam_new(ag_module_num_params(m.model), ag_module_params(m.model), NULL);
    m.x = ag_rand_normal(&rng, AG_F32, 2, (int64_t[]){batch, sizes[0]}, 0, 1);
    m.y = ag_zeros(AG_F32, 1, (int64_t[]){batch});
    for (int64_t i = 0; i < batch; i++) ag_set(m.y, i, (double)ag_rng_below(&rng, (uint64_t)sizes[nlayers]));
    if (!m.opt || !m.x || !m.y) bench_die("setup");
    return m;
}

static void mlp_free(mlp *m)
{
    ag_optim_free(m->opt);
    ag_module_free(m->model);
    ag_tensor_free(m->x);
    ag_tensor_free(m->y);
}

static void mlp_step(mlp *m)
{
    ag_scope *s = ag_scope_begin();
    ag_optim_zero_grad(m->opt);
    ag_tensor *loss = ag_cross_entropy(ag_module_forward(m->model, m->x), m->y, NULL);
    if (!loss || ag_backward(loss) != 0 || ag_optim_step(m->opt) != 0) bench_die("training step");
    ag_scope_end(s);
}

static int time_mlp(const int64_t *sizes, int nlayers, int64_t batch, int warm, int reps,
                    double *out)
{
    mlp m = mlp_new(sizes, nlayers, batch);
    for (int i = 0; i < warm; i++) mlp_step(&m);
    for (int i = 0; i < reps; i++) {
        double t0 = bench_now();
        mlp_step(&m);
        out[i] = bench_now() - t0;
    }
    mlp_free(&m);
    return reps;
}

static const int64_t W1_SIZES[] = {100, 32, 10}, W2_SIZES[] = {784, 512, 512, 10};

static int w1(int reps, double *out) { return time_mlp(W1_SIZES, 2, 32, 20, reps, out); }
static int w2(int reps, double *out) { return time_mlp(W2_SIZES, 3, 128, 3, reps, out); }

/* W3: out[2i] forward, out[2i+1] backward, seconds per op. */
static int w3(int reps, double *out)
{
    enum { CHAIN = 10000 };
    ag_tensor *x = ag_scalar(AG_F64, 0.5), *c = ag_scalar(AG_F64, 1e-4);
    ag_set_requires_grad(x, true);
    for (int rep = -2; rep < reps; rep++) {
        ag_scope *s = ag_scope_begin();
        double t0 = bench_now();
        ag_tensor *y = x;
        for (int i = 0; i < CHAIN; i++) y = (i & 1) ? ag_mul(y, c) : ag_add(y, c);
        double t1 = bench_now();
        if (ag_backward(y) != 0) bench_die("W3 backward");
        double t2 = bench_now();
        ag_zero_grad(x);
        ag_scope_end(s);
        if (rep >= 0) {
            out[2 * rep] = (t1 - t0) / CHAIN;
            out[2 * rep + 1] = (t2 - t1) / CHAIN;
        }
    }
    ag_tensor_free(x);
    ag_tensor_free(c);
    return 2 * reps;
}

static int w4(int reps, double *out, int64_t n, ag_dtype dt)
{
    ag_rng rng = ag_rng_seed(1);
    ag_tensor *a = ag_rand_normal(&rng, dt, 2, (int64_t[]){n, n}, 0, 1);
    ag_tensor *b = ag_rand_normal(&rng, dt, 2, (int64_t[]){n, n}, 0, 1);
    ag_tensor_free(ag_matmul(a, b)); /* warm-up */
    for (int i = 0; i < reps; i++) {
        double t0 = bench_now();
        ag_tensor *c = ag_matmul(a, b);
        out[i] = bench_now() - t0;
        if (!c) bench_die("W4 matmul");
        ag_tensor_free(c);
    }
    ag_tensor_free(a);
    ag_tensor_free(b);
    return reps;
}

static ag_tensor *w5_fn(ag_tensor *const *in, int n, void *ctx)
{
    (void)n, (void)ctx; /* tanh(x W1 + b1) W2 + b2, as in PyTorch's side */
    return ag_add(ag_matmul(ag_tanh(ag_add(ag_matmul(in[0], in[1]), in[2])), in[3]), in[4]);
}

static int w5(int reps, double *out)
{
    ag_rng rng = ag_rng_seed(2);
    const int64_t shapes[5][2] = {{4, 10}, {10, 16}, {16, 0}, {16, 3}, {3, 0}};
    ag_tensor *in[5];
    for (int i = 0; i < 5; i++) {
        in[i] = ag_rand_normal(&rng, AG_F64, shapes[i][1] ? 2 : 1, shapes[i], 0, 1);
        ag_set_requires_grad(in[i], true);
    }
    for (int rep = -2; rep < reps; rep++) {
        double t0 = bench_now();
        ag_gradcheck_report r;
        if (ag_gradcheck(w5_fn, NULL, 5, in, NULL, &r) != 0) bench_die("W5 gradcheck");
        if (rep >= 0) out[rep] = bench_now() - t0;
    }
    for (int i = 0; i < 5; i++) ag_tensor_free(in[i]);
    return reps;
}

/* W6: a fresh process (this program re-run with --w6) runs 1,000 W1 steps and prints its peak
 * RSS in bytes; a forked child would count the parent's pages too. */
static int w6_child(void)
{
    set_threads(1);
    mlp m = mlp_new(W1_SIZES, 2, 32);
    for (int i = 0; i < 1000; i++) mlp_step(&m);
    mlp_free(&m);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("%.0f\n", (double)ru.ru_maxrss * 1024.0);
    return 0;
}

static double w6_ours(const char *self)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "'%s' --w6", self);
    FILE *p = popen(cmd, "r");
    double bytes = NAN;
    if (!p) return NAN;
    if (fscanf(p, "%lf", &bytes) != 1) bytes = NAN;
    pclose(p);
    return bytes;
}


int main(int argc, char **argv)
{
    bool quick = false, torch = true;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--w6")) return w6_child();
        if (!strcmp(argv[i], "--quick")) quick = true;
        else if (!strcmp(argv[i], "--no-torch")) torch = false;
        else {
            fprintf(stderr, "usage: %s [--quick] [--no-torch]\n", argv[0]);
            return 2;
        }
    }
    /* one PyTorch server per thread count: its pools are sized when it starts */
    torch_server t1 = {0}, t2 = {0};
    if (torch && (torch_start(&t1, 1) != 0 || torch_start(&t2, 2) != 0)) {
        printf("(PyTorch not found: install python3-torch and run with Debian's /usr/bin/python3 "
               "to see it side by side)\n");
        if (t1.pid) torch_stop(&t1);
        torch = false;
    }
    torch_server *tsn[3] = {NULL, &t1, &t2};
    int rounds = quick ? 2 : 5;
    bench_header(torch ? t1.version : NULL);

    set_threads(1);
    bench_row(&t1, torch, "W1 seed MLP step, 1 thread", "us", 1e6, 1, rounds, quick ? 100 : 400,
              w1, "W1");
    for (int nt = 1; nt <= 2; nt++) {
        set_threads(nt);
        char label[64];
        snprintf(label, sizeof label, "W2 large MLP step, %d thread%s", nt, nt > 1 ? "s" : "");
        bench_row(tsn[nt], torch, label, "ms", 1e3, nt, rounds, quick ? 3 : 8, w2, "W2");
    }
    set_threads(1);
    bench_row_pair(&t1, torch, "W3 graph overhead, 1 thread", rounds, quick ? 3 : 7, w3);
    for (int nt = 1; nt <= 2; nt++) {
        set_threads(nt);
        for (int dt = 0; dt < 2; dt++)
            for (int64_t n = 128; n <= (quick ? 512 : 2048); n *= 2) {
                int reps = n <= 256 ? 20 : n <= 512 ? 8 : n <= 1024 ? 3 : 2;
                bench_row_gemm(tsn[nt], torch, n, dt ? AG_F64 : AG_F32, nt, rounds, reps, w4);
            }
    }
    set_threads(1);
    bench_row(&t1, torch, "W5 gradcheck 2-layer MLP, 1 thread", "ms", 1e3, 1, rounds,
              quick ? 3 : 10, w5, "W5");
    double ours = w6_ours(argv[0]), theirs = torch ? torch_w6() : NAN;
    bench_print_single("W6 peak RSS, 1,000 W1 steps", "MiB", ours / 1048576.0,
                       theirs / 1048576.0);
    if (torch) {
        torch_stop(&t1);
        torch_stop(&t2);
    }
    return 0;
}
