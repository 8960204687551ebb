/* data/synthetic.c - seeded synthetic datasets for tests and teaching: interleaved spirals
 * (CS231n's classic non-linearly-separable set), Gaussian blobs, linear regression. Values are
 * drawn in double from one ag_rng in a fixed order, so a seed always gives the same data. */
#include <math.h>
#include <stdlib.h>

#include "data_internal.h"

/* x [n, f] and y (shape ny) from double buffers, as a dataset owning them. */
static ag_dataset *make(const char *fn, ag_dtype dt, int64_t n, int64_t f, const double *x,
                        int ny_dims, const double *y, int classes)
{
    ag_tensor *tx = ag_tensor_from_f64(dt, 2, (int64_t[]){n, f}, x);
    ag_tensor *ty = tx ? ag_tensor_from_f64(dt, ny_dims, (int64_t[]){n, 1}, y) : NULL;
    if (!ty) {
        ag__discard(tx);
        return NULL;
    }
    return ag__data_take(fn, tx, ty, classes, true);
}

static bool check(const char *fn, int64_t n, int64_t f, int classes, double spread, ag_dtype dt)
{
    if (dt != AG_F32 && dt != AG_F64) {
        ag__error("%s: invalid dtype %d (use AG_F32 or AG_F64)", fn, (int)dt);
        return false;
    }
    if (n < 1 || f < 1 || classes < 1 || !(spread >= 0) || isinf(spread) ||
        n > ((int64_t)1 << 40) / f / classes) {
        ag__error("%s: need n >= 1, features >= 1, classes >= 1 and a finite spread >= 0 "
                  "(got n %lld, features %lld, classes %d, %g)", fn, (long long)n, (long long)f,
                  classes, spread);
        return false;
    }
    return true;
}

/* Two buffers of doubles, or NULL (error recorded). */
static double *alloc2(const char *fn, int64_t a, int64_t b, double **second)
{
    double *p = malloc(sizeof(double) * (size_t)(a + b));
    if (!p) ag__error("%s: out of memory", fn);
    *second = p ? p + a : NULL;
    return p;
}

ag_dataset *ag_make_spirals(int64_t n_per_class, int classes, double noise, uint64_t seed,
                            ag_dtype dtype)
{
    const char *fn = "ag_make_spirals";
    if (!check(fn, n_per_class, 2, classes, noise, dtype)) return NULL;
    int64_t n = n_per_class * classes;
    double *y, *x = alloc2(fn, 2 * n, n, &y);
    if (!x) return NULL;
    ag_rng r = ag_rng_seed(seed);
    /* Class k: radius 0..1 and angle 4k..4(k+1) radians plus noise, x = (r sin t, r cos t). */
    for (int k = 0; k < classes; k++) {
        for (int64_t i = 0; i < n_per_class; i++) {
            double u = n_per_class > 1 ? (double)i / (double)(n_per_class - 1) : 0.0;
            double t = 4.0 * (k + u) + noise * ag_rng_normal(&r);
            int64_t row = k * n_per_class + i;
            x[2 * row] = u * sin(t);
            x[2 * row + 1] = u * cos(t);
            y[row] = k;
        }
    }
    ag_dataset *ds = make(fn, dtype, n, 2, x, 1, y, classes);
    free(x);
    return ds;
}

ag_dataset *ag_make_blobs(int64_t n, int64_t features, int classes, double std, double center_box,
                          uint64_t seed, ag_dtype dtype)
{
    const char *fn = "ag_make_blobs";
    if (!check(fn, n, features, classes, std, dtype)) return NULL;
    if (!(center_box >= 0) || isinf(center_box)) {
        ag__error("%s: center_box %g must be finite and >= 0", fn, center_box);
        return NULL;
    }
    double *y, *x = alloc2(fn, n * features + classes * features, n, &y);
    if (!x) return NULL;
    double *centres = x + n * features;
    ag_rng r = ag_rng_seed(seed);
    for (int64_t i = 0; i < classes * features; i++)
        centres[i] = center_box * (2.0 * ag_rng_uniform(&r) - 1.0);
    /* Example i belongs to class i % classes: balanced classes, interleaved (not sorted). */
    for (int64_t i = 0; i < n; i++) {
        int64_t k = i % classes;
        y[i] = (double)k;
        for (int64_t j = 0; j < features; j++)
            x[i * features + j] = centres[k * features + j] + std * ag_rng_normal(&r);
    }
    ag_dataset *ds = make(fn, dtype, n, features, x, 1, y, classes);
    free(x);
    return ds;
}

ag_dataset *ag_make_regression(int64_t n, int64_t features, double noise, uint64_t seed,
                               ag_dtype dtype, double *w_out, double *b_out)
{
    const char *fn = "ag_make_regression";
    if (!check(fn, n, features, 1, noise, dtype)) return NULL;
    double *y, *x = alloc2(fn, n * features + features, n, &y);
    if (!x) return NULL;
    double *w = x + n * features;
    ag_rng r = ag_rng_seed(seed);
    for (int64_t j = 0; j < features; j++) w[j] = ag_rng_normal(&r);
    double b = ag_rng_normal(&r);
    for (int64_t i = 0; i < n; i++) {
        double s = b;
        for (int64_t j = 0; j < features; j++) {
            x[i * features + j] = ag_rng_normal(&r);
            s += x[i * features + j] * w[j];
        }
        y[i] = s + noise * ag_rng_normal(&r);
    }
    ag_dataset *ds = make(fn, dtype, n, features, x, 2, y, 0);
    if (ds && w_out) memcpy(w_out, w, sizeof(double) * (size_t)features);
    if (ds && b_out) *b_out = b;
    free(x);
    return ds;
}
