/* tests/test_memory.c - ownership and memory: scopes free a step's intermediates, a training
 * loop stops calling malloc once warmed up and keeps a flat RSS, views and graphs keep what
 * they need alive, and misuse is reported instead of crashing. */
#include <stdio.h>
#include <unistd.h>

#include "test_util.h"

static int64_t live(void) { return ag_memory_get_stats().live_tensors; }

Test(memory, scope_frees_every_intermediate)
{
    int64_t before = live();
    ag_tensor *x = T64(2, 2, ((double[]){1, 2, 3, 4}));
    ag_set_requires_grad(x, true);
    ag_scope *s = ag_scope_begin();
    ag_tensor *y = ag_sum_all(ag_exp(ag_mul(ag_add_scalar(x, 1), x)));
    ag_backward(y);
    cr_assert_gt(ag_scope_size(s), 3);
    cr_assert_eq(ag_scope_end(s), 0);
    cr_assert_eq(live(), before + 2, "x and its gradient remain");
    ag_tensor_free(x);
    cr_assert_eq(live(), before);
}

Test(memory, keep_claims_a_result_beyond_its_scope)
{
    ag_scope *s = ag_scope_begin();
    ag_tensor *y = ag_keep(ag_exp(ag_scalar(AG_F64, 0)));
    ag_scope_end(s);
    cr_assert_float_eq(ag_item(y), 1.0, 0);
    ag_tensor_free(y);
    cr_assert_eq(live(), 0);
}

Test(memory, freeing_a_scope_tensor_is_an_error_not_a_double_free)
{
    ag_scope *s = ag_scope_begin();
    ag_tensor *y = ag_scalar(AG_F64, 1);
    ag_clear_error();
    ag_tensor_free(y);
    expect_error_mentions("ag_tensor_free", "scope", "ag_keep");
    cr_assert_float_eq(ag_item(y), 1.0, 0); /* still alive */
    ag_scope_end(s);
    cr_assert_eq(live(), 0);
}

Test(memory, nested_scopes_and_ending_out_of_order)
{
    ag_scope *outer = ag_scope_begin();
    ag_scalar(AG_F64, 1);
    ag_scope *inner = ag_scope_begin();
    ag_scalar(AG_F64, 2);
    ag_scalar(AG_F64, 3);
    cr_assert_eq(ag_scope_size(inner), 2);
    cr_assert_eq(ag_scope_size(outer), 1);
    ag_clear_error();
    cr_assert_eq(ag_scope_end(outer), -1); /* inner still open: both end, with an error */
    expect_error_mentions("ag_scope_end", "inner scope");
    cr_assert_eq(live(), 0);
    ag_clear_error();
    cr_assert_eq(ag_scope_end(outer), -1);
    expect_error_mentions("ag_scope_end", "already ended");
}

Test(memory, a_view_outlives_its_base)
{
    ag_tensor *x = T64_1(4, ((double[]){1, 2, 3, 4}));
    ag_tensor *v = ag_reshape(x, 2, (int64_t[]){2, 2});
    cr_assert(v, "%s", ag_last_error());
    ag_tensor_free(x);
    expect_values(v, (double[]){1, 2, 3, 4}, 4, 0);
    ag_tensor_free(v);
    cr_assert_eq(live(), 0);
}

Test(memory, a_graph_keeps_freed_inputs_alive)
{
    ag_tensor *x = ag_scalar(AG_F64, 3);
    ag_set_requires_grad(x, true);
    ag_tensor *a = ag_mul(x, x);
    ag_tensor *b = ag_exp(a);
    ag_tensor_free(a); /* b's graph still needs a */
    cr_assert_eq(ag_backward(b), 0, "%s", ag_last_error());
    cr_assert_float_eq(ag_item(ag_grad(x)), 2 * 3 * exp(9.0), 1e-6);
    ag_tensor_free(b);
    ag_tensor_free(x);
    cr_assert_eq(live(), 0);
}

static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, resident = 0;
    if (!f) return -1;
    if (fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = -1;
    fclose(f);
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

/* One SGD step of a 4 -> 8 tanh -> 1 network on a fixed batch, in the way users write it. */
static double train_step(ag_tensor *x, ag_tensor *t, ag_tensor *w1, ag_tensor *b1, ag_tensor *w2)
{
    ag_scope *s = ag_scope_begin();
    ag_tensor *h = ag_tanh(ag_add(ag_matmul(x, w1), b1));
    ag_tensor *err = ag_sub(ag_matmul(h, w2), t);
    ag_tensor *loss = ag_mean_all(ag_mul(err, err));
    double l = ag_item(loss);
    ag_tensor *params[3] = {w1, b1, w2};
    for (int i = 0; i < 3; i++) ag_zero_grad(params[i]);
    ag_backward(loss);
    for (int i = 0; i < 3; i++) {
        double *p = ag_data_f64(params[i]), *g = ag_data_f64(ag_grad(params[i]));
        for (int64_t j = 0; j < ag_numel(params[i]); j++) p[j] -= 0.05 * g[j];
    }
    ag_scope_end(s);
    return l;
}

Test(memory, ten_thousand_steps_keep_memory_flat)
{
    ag_rng r = ag_rng_seed(7);
    ag_tensor *x = ag_rand_uniform(&r, AG_F64, 2, (int64_t[]){16, 4}, -1, 1);
    ag_tensor *t = ag_rand_uniform(&r, AG_F64, 2, (int64_t[]){16, 1}, -1, 1);
    ag_tensor *w1 = ag_rand_uniform(&r, AG_F64, 2, (int64_t[]){4, 8}, -0.5, 0.5);
    ag_tensor *b1 = ag_zeros(AG_F64, 1, (int64_t[]){8});
    ag_tensor *w2 = ag_rand_uniform(&r, AG_F64, 2, (int64_t[]){8, 1}, -0.5, 0.5);
    ag_set_requires_grad(w1, true);
    ag_set_requires_grad(b1, true);
    ag_set_requires_grad(w2, true);
    double first = train_step(x, t, w1, b1, w2), last = first;
    for (int i = 0; i < 100; i++) train_step(x, t, w1, b1, w2);
    int64_t mallocs = ag_memory_get_stats().mallocs, tensors = live();
    long rss0 = rss_kib();
    for (int i = 0; i < 10000; i++) last = train_step(x, t, w1, b1, w2);
    long rss1 = rss_kib();
    cr_assert_lt(last, first, "training should reduce the loss (%g -> %g)", first, last);
    cr_assert_eq(live(), tensors, "tensors leaked: %lld -> %lld", (long long)tensors, (long long)live());
#if !defined(__SANITIZE_ADDRESS__) /* ASan builds bypass the caches and pad allocations */
    cr_assert_eq(ag_memory_get_stats().mallocs, mallocs,
                 "the warmed-up loop called malloc %lld times",
                 (long long)(ag_memory_get_stats().mallocs - mallocs));
    cr_assert_lt(rss1 - rss0, 1024, "RSS grew by %ld KiB over 10,000 steps", rss1 - rss0);
#else
    (void)rss0; (void)rss1; (void)mallocs;
#endif
    ag_tensor *all[] = {x, t, w1, b1, w2};
    for (int i = 0; i < 5; i++) ag_tensor_free(all[i]);
    cr_assert_eq(live(), 0);
}

Test(memory, trim_returns_cached_buffers)
{
    ag_scope *s = ag_scope_begin();
    ag_zeros(AG_F64, 1, (int64_t[]){100000});
    ag_scope_end(s);
#if !defined(__SANITIZE_ADDRESS__) /* ASan builds do not cache */
    cr_assert_gt(ag_memory_get_stats().cached_bytes, 0);
#endif
    ag_memory_trim();
    cr_assert_eq(ag_memory_get_stats().cached_bytes, 0);
}

/* An op that fails after allocating its output (here: anomaly mode rejecting a NaN result, the
 * failure inside ag__finish) must free that output. Outside any scope nobody else would: the
 * caller never sees the tensor. Argument errors before allocation must not allocate either. */
Test(memory, failed_ops_outside_a_scope_leak_nothing)
{
    int64_t start = live();
    ag_tensor *x = T64(2, 2, ((double[]){-1, 2, 3, 4}));
    ag_tensor *w = T64(2, 2, ((double[]){1, 0, 0, 1}));
    ag_tensor *zero = ag_zeros(AG_F64, 2, (int64_t[]){2, 2});
    ag_tensor *f32 = ag_zeros(AG_F32, 2, (int64_t[]){2, 2});
    ag_set_requires_grad(w, true); /* so the graph-recording path is taken too */
    ag_tensor *xw = ag_matmul(x, w);
    cr_assert_not_null(xw, "%s", ag_last_error());
    int64_t before = live();

    /* Failures after allocation: anomaly mode rejects a NaN/Inf output inside ag__finish. */
    ag_set_anomaly_mode(true);
    ag_clear_error();
    cr_assert_null(ag_log(x)); /* log(-1) */
    expect_error_mentions("ag_log", "NaN or Inf", "[2,2]");
    cr_assert_null(ag_sqrt(xw)); /* records a graph node before failing */
    cr_assert_null(ag_pow(x, 0.5));
    cr_assert_null(ag_div(x, zero));
    cr_assert_null(ag_log_softmax(ag_log(x), 1)); /* NULL propagates */
    ag_set_anomaly_mode(false);
    cr_assert_eq(live(), before, "failed ops left %lld tensors", (long long)(live() - before));

    /* Argument errors: nothing is allocated at all. */
    cr_assert_null(ag_add(x, f32));
    cr_assert_null(ag_sum(x, 99, false));
    cr_assert_null(ag_broadcast_to(x, 2, (int64_t[]){-3, 2}));
    cr_assert_null(ag_gather(x, 1, (int64_t[]){0, 5}, 1));
    cr_assert_null(ag_concat(2, (ag_tensor *[]){x, f32}, 0));
    cr_assert_null(ag_pow(x, NAN));
    cr_assert_null(ag_matmul(x, ag_reshape(NULL, 0, NULL)));
    cr_assert_eq(live(), before, "argument errors left %lld tensors", (long long)(live() - before));

    ag_tensor *all[] = {xw, x, w, zero, f32};
    for (int i = 0; i < 5; i++) ag_tensor_free(all[i]);
    cr_assert_eq(live(), start, "live tensors %lld, expected %lld", (long long)live(),
                 (long long)start);
}
