/* tests/test_util.h - small helpers shared by the Criterion test files.
 *
 *   ag_tensor *t = T64(2, 3, ((double[]){1, 2, 3, 4, 5, 6}));   // a float64 2x3 leaf
 *   expect_values(t, (double[]){...}, 6, 1e-12);                  // compare every element
 *   expect_gradcheck(fn, ctx, 2, inputs);                         // finite differences agree
 *   expect_error_mentions("ag_matmul", "[3,4]", "[5,2]");         // last error names them
 *
 * Tests run each in its own process (Criterion forks), so a failing test cannot poison others.
 */
#ifndef TEST_UTIL_H
#define TEST_UTIL_H

#include <criterion/criterion.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>

#include <autograd.h>

/* A leaf of any shape from doubles, in the given dtype. */
static inline ag_tensor *tu_tensor(ag_dtype dt, int ndim, const int64_t *shape, const double *v)
{
    ag_tensor *t = ag_tensor_from_f64(dt, ndim, shape, v);
    cr_assert(t, "tensor creation failed: %s", ag_last_error());
    return t;
}
#define T64_1(n, vals) tu_tensor(AG_F64, 1, (int64_t[]){n}, vals)
#define T64(r, c, vals) tu_tensor(AG_F64, 2, (int64_t[]){r, c}, vals)
#define T64_3(a, b, c, vals) tu_tensor(AG_F64, 3, (int64_t[]){a, b, c}, vals)

/* A float64 leaf of the given shape with reproducible values in [lo, hi), requiring grad. */
static inline ag_tensor *tu_param(uint64_t seed, int ndim, const int64_t *shape, double lo, double hi)
{
    ag_rng r = ag_rng_seed(seed);
    ag_tensor *t = ag_rand_uniform(&r, AG_F64, ndim, shape, lo, hi);
    cr_assert(t, "ag_rand_uniform failed: %s", ag_last_error());
    ag_set_requires_grad(t, true);
    return t;
}

/* Every element of t equals expected[i] within tol (absolute, plus relative for large values). */
static inline void expect_values(const ag_tensor *t, const double *expected, int64_t n, double tol)
{
    cr_assert(t, "tensor is NULL: %s", ag_last_error());
    cr_assert_eq(ag_numel(t), n, "numel %lld, expected %lld", (long long)ag_numel(t), (long long)n);
    for (int64_t i = 0; i < n; i++) {
        double a = ag_get(t, i), e = expected[i];
        double err = fabs(a - e), lim = tol * (1.0 + fabs(e));
        cr_assert(err <= lim || (isnan(a) && isnan(e)) || (isinf(a) && a == e),
                  "element %lld: got %.17g, expected %.17g (error %.3g > %.3g)", (long long)i, a, e,
                  err, lim);
    }
}

/* The shape of t is exactly the one given. */
static inline void expect_shape(const ag_tensor *t, int ndim, const int64_t *shape)
{
    cr_assert(t, "tensor is NULL: %s", ag_last_error());
    char got[128], want[128];
    ag_shape_str(t, got, sizeof got);
    cr_assert_eq(ag_ndim(t), ndim, "ndim: got %s", got);
    for (int d = 0; d < ndim; d++) {
        snprintf(want, sizeof want, "dim %d", d);
        cr_assert_eq(ag_shape(t)[d], shape[d], "%s: got shape %s", want, got);
    }
}

/* ag_gradcheck passes (defaults: eps 1e-6, atol 1e-5, rtol 1e-3) and also in fast mode. */
static inline void expect_gradcheck(ag_gradcheck_fn fn, void *ctx, int n, ag_tensor *const *inputs)
{
    ag_gradcheck_report rep;
    int rc = ag_gradcheck(fn, ctx, n, inputs, NULL, &rep);
    cr_assert_eq(rc, 0, "gradcheck: %s (error: %s)", rep.message, ag_last_error());
    ag_gradcheck_opts o = ag_gradcheck_defaults();
    o.fast = true;
    rc = ag_gradcheck(fn, ctx, n, inputs, &o, &rep);
    cr_assert_eq(rc, 0, "fast gradcheck: %s (error: %s)", rep.message, ag_last_error());
}

/* ag_gradgradcheck passes: second derivatives agree with finite differences of gradients. */
static inline void expect_gradgradcheck(ag_gradcheck_fn fn, void *ctx, int n, ag_tensor *const *inputs)
{
    ag_gradcheck_report rep;
    int rc = ag_gradgradcheck(fn, ctx, n, inputs, NULL, &rep);
    cr_assert_eq(rc, 0, "gradgradcheck: %s (error: %s)", rep.message, ag_last_error());
}

/* The last error message contains every given fragment (a NULL-terminated list). */
static inline void expect_error_has(const char *first, ...)
{
    const char *msg = ag_last_error();
    cr_assert(ag_has_error(), "expected an error mentioning '%s', but none was recorded", first);
    va_list ap;
    va_start(ap, first);
    for (const char *f = first; f; f = va_arg(ap, const char *))
        cr_assert(strstr(msg, f), "error message '%s' does not mention '%s'", msg, f);
    va_end(ap);
}
#define expect_error_mentions(...) expect_error_has(__VA_ARGS__, (const char *)NULL)

#endif
