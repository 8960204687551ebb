/* tests/test_parallel.c - OpenMP paths: tensors large enough to run in parallel give results
 * identical from run to run, equal to the serial reference, and reductions do not depend on
 * the thread count. Also passes (trivially serial) in an OPENMP=0 build. */
#ifdef _OPENMP
#include <omp.h>
#endif
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "test_util.h"

static void set_threads(int n)
{
#ifdef _OPENMP
    omp_set_num_threads(n);
#else
    (void)n;
#endif
}

/* Values of a forward + backward over large tensors, copied out as doubles. */
static double *run(int threads, int64_t *count)
{
    set_threads(threads);
    ag_rng r = ag_rng_seed(3);
    ag_tensor *a = ag_rand_uniform(&r, AG_F32, 2, (int64_t[]){300, 200}, -1, 1);
    ag_tensor *b = ag_rand_uniform(&r, AG_F32, 2, (int64_t[]){200, 256}, -1, 1);
    ag_tensor *bias = ag_rand_uniform(&r, AG_F32, 1, (int64_t[]){256}, -1, 1);
    ag_scope *s = ag_scope_begin();
    ag_set_requires_grad(b, true);
    ag_set_requires_grad(bias, true);
    ag_tensor *h = ag_tanh(ag_add(ag_matmul(a, b), bias));       /* 76,800 elements */
    ag_tensor *p = ag_softmax(h, 1);
    ag_tensor *loss = ag_add(ag_sum_all(ag_mul(p, h)), ag_mean_all(ag_exp(h)));
    cr_assert(loss, "%s", ag_last_error());
    cr_assert_eq(ag_backward(loss), 0, "%s", ag_last_error());
    int64_t n = 1 + ag_numel(b) + ag_numel(bias);
    double *out = malloc(sizeof(double) * (size_t)n);
    out[0] = ag_item(loss);
    ag_to_f64(ag_grad(b), out + 1, ag_numel(b));
    ag_to_f64(ag_grad(bias), out + 1 + ag_numel(b), ag_numel(bias));
    ag_scope_end(s);
    ag_tensor_free(a);
    ag_tensor_free(b);
    ag_tensor_free(bias);
    *count = n;
    return out;
}

Test(parallel, same_result_on_every_run_with_two_threads)
{
    int64_t n1, n2;
    double *r1 = run(2, &n1), *r2 = run(2, &n2);
    cr_assert_eq(n1, n2);
    cr_assert_eq(memcmp(r1, r2, sizeof(double) * (size_t)n1), 0, "two runs differ");
    free(r1);
    free(r2);
}

Test(parallel, one_and_two_threads_agree)
{
    int64_t n1, n2;
    double *r1 = run(1, &n1), *r2 = run(2, &n2);
    for (int64_t i = 0; i < n1; i++)
        cr_assert(fabs(r1[i] - r2[i]) <= 1e-5 * (1 + fabs(r1[i])), "element %lld: %g vs %g",
                  (long long)i, r1[i], r2[i]);
    free(r1);
    free(r2);
}

Test(parallel, full_sum_does_not_depend_on_thread_count)
{
    ag_rng r = ag_rng_seed(11);
    ag_tensor *x = ag_rand_uniform(&r, AG_F32, 1, (int64_t[]){1000003}, -1, 1);
    double sums[2];
    for (int t = 1; t <= 2; t++) {
        set_threads(t);
        ag_scope *s = ag_scope_begin();
        sums[t - 1] = ag_item(ag_sum_all(x));
        ag_scope_end(s);
    }
    cr_assert_eq(sums[0], sums[1], "sum with 1 thread %.9g, with 2 threads %.9g", sums[0], sums[1]);
    /* and it is close to the sum in double precision */
    double ref = 0;
    const float *p = ag_data_f32(x);
    for (int64_t i = 0; i < 1000003; i++) ref += p[i];
    cr_assert(fabs(sums[0] - ref) < 1e-2, "%g vs %g", sums[0], ref);
    ag_tensor_free(x);
}

Test(parallel, large_elementwise_matches_serial_reference)
{
    set_threads(2);
    int64_t n = 100000;
    ag_rng r = ag_rng_seed(5);
    ag_tensor *x = ag_rand_uniform(&r, AG_F64, 2, (int64_t[]){n / 100, 100}, -2, 2);
    ag_tensor *c = ag_rand_uniform(&r, AG_F64, 1, (int64_t[]){100}, -2, 2);
    ag_scope *s = ag_scope_begin();
    ag_tensor *y = ag_mul(ag_sigmoid(x), c); /* broadcast row vector over 1000 rows */
    const double *px = ag_data_f64(x), *pc = ag_data_f64(c), *py = ag_data_f64(y);
    for (int64_t i = 0; i < n; i++) {
        double want = 1.0 / (1.0 + exp(-px[i])) * pc[i % 100];
        cr_assert(fabs(py[i] - want) <= 1e-15 * (1 + fabs(want)), "element %lld", (long long)i);
    }
    ag_scope_end(s);
    ag_tensor_free(x);
    ag_tensor_free(c);
}

/* A thread that runs backward and exits must not leave its work arrays behind (LeakSanitizer
 * reports them in the sanitizer build; make test fails on such a report). */
static void *backward_then_exit(void *arg)
{
    (void)arg;
    ag_tensor *w = ag_ones(AG_F64, 1, (int64_t[]){3});
    ag_set_requires_grad(w, true);
    ag_scope *s = ag_scope_begin();
    int rc = ag_backward(ag_sum_all(ag_mul(w, w)));
    ag_scope_end(s);
    ag_tensor_free(w);
    return (void *)(intptr_t)rc;
}

Test(parallel, thread_exit_frees_backward_work_arrays)
{
    pthread_t t;
    void *rc;
    cr_assert_eq(pthread_create(&t, NULL, backward_then_exit, NULL), 0);
    cr_assert_eq(pthread_join(t, &rc), 0);
    cr_expect_eq((intptr_t)rc, 0);
}
