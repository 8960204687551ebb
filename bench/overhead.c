/* bench/overhead.c - graph overhead: a chain of 10,000 ops on one-element float64 tensors.
 * Reports nanoseconds per op to run and record the forward pass, and per op in backward
 * (median of 31 repetitions after warm-up). This is workload W3 of the performance issue.
 * Run: make bench-overhead */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <autograd.h>

#define CHAIN 10000
#define REPS 31

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(void)
{
    ag_tensor *x = ag_scalar(AG_F64, 0.5), *c = ag_scalar(AG_F64, 1e-4);
    ag_set_requires_grad(x, true);
    double fwd[REPS], bwd[REPS];
    for (int rep = -3; rep < REPS; rep++) {
        ag_scope *s = ag_scope_begin();
        double t0 = now_ns();
        ag_tensor *y = x;
        for (int i = 0; i < CHAIN; i++) y = (i & 1) ? ag_mul(y, c) : ag_add(y, c);
        double t1 = now_ns();
        if (ag_backward(y) != 0) {
            fprintf(stderr, "backward failed: %s\n", ag_last_error());
            return 1;
        }
        double t2 = now_ns();
        ag_zero_grad(x);
        ag_scope_end(s);
        if (rep >= 0) {
            fwd[rep] = (t1 - t0) / CHAIN;
            bwd[rep] = (t2 - t1) / CHAIN;
        }
    }
    qsort(fwd, REPS, sizeof *fwd, cmp);
    qsort(bwd, REPS, sizeof *bwd, cmp);
    printf("W3 graph overhead, chain of %d one-element float64 ops (add/mul alternating)\n", CHAIN);
    printf("  forward+record: median %6.1f ns/op (min %6.1f, max %6.1f)\n", fwd[REPS / 2], fwd[0],
           fwd[REPS - 1]);
    printf("  backward:       median %6.1f ns/op (min %6.1f, max %6.1f)\n", bwd[REPS / 2], bwd[0],
           bwd[REPS - 1]);
    ag_tensor_free(x);
    ag_tensor_free(c);
    return 0;
}
