/* tests/api_test_util.h - what the tests of the public API's edges share (test_api_errors.c,
 * test_api_errors_data.c, test_api_limits.c, test_api_memory.c): small fixtures, and the row
 * macros of the argument-error tables: FAILS(fn, expr) checks that a call returned its error
 * value, recorded a message starting with "fn:" and left the live-tensor count unchanged;
 * HARMLESS(expr) that a call without an error value neither crashes nor leaks. Rows use
 * cr_expect, so a run lists every failing row at once.
 */
#ifndef API_TEST_UTIL_H
#define API_TEST_UTIL_H

#include "test_util.h"

static inline int64_t live(void) { return ag_memory_get_stats().live_tensors; }

static inline void check_row(const char *fn, const char *call, bool failed, int64_t live_before)
{
    const char *msg = ag_last_error();
    size_t n = strlen(fn);
    cr_expect(failed, "%s did not fail", call);
    cr_expect(ag_has_error() && strncmp(msg, fn, n) == 0 && msg[n] == ':',
              "%s: the error \"%s\" does not start with \"%s:\"", call, msg, fn);
    cr_expect_eq(live(), live_before, "%s changed the live-tensor count by %lld", call,
                 (long long)(live() - live_before));
}

/* One row: `expr` is true when the call returned its error value. */
#define FAILS(fn, expr)                                                                       \
    do {                                                                                      \
        ag_clear_error();                                                                     \
        int64_t live0_ = live();                                                              \
        bool failed_ = (expr);                                                                \
        check_row(fn, #expr, failed_, live0_);                                                \
    } while (0)

/* Calls that have no error value (void, bool): they must simply not crash or leak. */
#define HARMLESS(expr)                                                                        \
    do {                                                                                      \
        int64_t live0_ = live();                                                              \
        (void)(expr);                                                                         \
        cr_expect_eq(live(), live0_, "%s changed the live-tensor count", #expr);              \
    } while (0)

/* A float32 [4, 2] tensor of zeros, and a 4-example, 2-class dataset. */
static inline ag_tensor *fx(void)
{
    return tu_tensor(AG_F32, 2, (int64_t[]){4, 2}, (double[8]){0});
}

static inline ag_dataset *small_dataset(void)
{
    ag_tensor *x = fx();
    ag_tensor *y = tu_tensor(AG_F32, 1, (int64_t[]){4}, (double[]){0, 1, 1, 0});
    ag_dataset *ds = ag_dataset_new(x, y, 2);
    cr_assert(ds, "%s", ag_last_error());
    return ds;
}

/* n examples of 2 features in 2 classes (seeded blobs), and a Dense(2 -> 2) trained by SGD on
 * cross-entropy with accuracy. */
static inline ag_dataset *rows_dataset(int64_t n, ag_dtype dt)
{
    ag_dataset *ds = ag_make_blobs(n, 2, 2, 0.5, 3, 7, dt);
    cr_assert(ds, "%s", ag_last_error());
    return ds;
}

static inline ag_trainer *dense_trainer(ag_module **m, ag_optimizer **o, uint64_t seed)
{
    ag_rng r = ag_rng_seed(seed);
    *m = ag_dense(2, 2, NULL, &r);
    *o = ag_sgd_new(ag_module_num_params(*m), ag_module_params(*m), NULL);
    ag_trainer *t = ag_compile(*m, *o, AG_LOSS_CROSS_ENTROPY, AG_METRIC_ACCURACY);
    cr_assert(t, "%s", ag_last_error());
    return t;
}

#endif
