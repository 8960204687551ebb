/* data/preprocess.c - data preprocessing: one-hot targets, column standardization, area-average
 * image resizing. Results are plain data (computed directly, no graph is recorded). */
#include <math.h>
#include <stdlib.h>

#include "data_internal.h"

static double value_at(const ag_tensor *t, int64_t i)
{
    double v;
    AG_DISPATCH(t->dtype, T, v = (double)((const T *)t->data)[i];);
    return v;
}

ag_tensor *ag_one_hot(const ag_tensor *labels, int num_classes)
{
    char s[AG_SHAPE_BUF];
    if (!labels) {
        if (!ag_has_error()) ag__error("ag_one_hot: labels is NULL");
        return NULL;
    }
    if (labels->ndim != 1 || num_classes < 1) {
        ag__error("ag_one_hot: need labels [N] and num_classes >= 1, got %s and %d",
                  ag_shape_str(labels, s, sizeof s), num_classes);
        return NULL;
    }
    int64_t n = labels->numel;
    if (!ag__data_check_labels("ag_one_hot", "labels", labels, num_classes)) return NULL;
    ag_tensor *out = ag_zeros(labels->dtype, 2, (int64_t[]){n, num_classes});
    if (!out) {
        ag__error_prefix("ag_one_hot", "");
        return NULL;
    }
    AG_DISPATCH(out->dtype, T, T *p = out->data;
                for (int64_t i = 0; i < n; i++) p[i * num_classes + (int64_t)value_at(labels, i)] = 1;);
    return out;
}

int ag_standardize_fit(const ag_tensor *x, ag_tensor **mean, ag_tensor **std)
{
    char s[AG_SHAPE_BUF];
    if (mean) *mean = NULL;
    if (std) *std = NULL;
    if (!x || !mean || !std) {
        if (!x && ag_has_error()) return -1;
        ag__error("ag_standardize_fit: %s is NULL", !x ? "x" : "an output pointer");
        return -1;
    }
    if (x->ndim != 2 || x->shape[0] < 1) {
        ag__error("ag_standardize_fit: x must be [N, F] with N >= 1, got %s",
                  ag_shape_str(x, s, sizeof s));
        return -1;
    }
    int64_t n = x->shape[0], f = x->shape[1];
    ag_tensor *m = ag__new(x->dtype, 1, &f);
    ag_tensor *sd = m ? ag__new(x->dtype, 1, &f) : NULL;
    if (!sd) {
        ag__discard(m);
        return -1;
    }
    AG_DISPATCH(x->dtype, T, const T *px = x->data; T *pm = m->data; T *ps = sd->data;
        AG_PFOR_WORK(j, f, n * f,
            double sum = 0, lo = (double)px[j], hi = lo;
            for (int64_t i = 0; i < n; i++) {
                double v = (double)px[i * f + j];
                sum += v;
                lo = v < lo ? v : lo;
                hi = v > hi ? v : hi;
            }
            double mu = sum / (double)n, ss = 0;
            for (int64_t i = 0; i < n; i++) {
                double d = (double)px[i * f + j] - mu;
                ss += d * d;
            }
            /* A constant column (detected exactly: a rounded mean could leave a tiny spread)
             * gets std 1 and its own value as mean, so it standardizes to exact zeros. */
            pm[j] = (T)(lo == hi ? lo : mu);
            ps[j] = (T)(lo == hi ? 1.0 : sqrt(ss / (double)n));););
    *mean = m;
    *std = sd;
    return 0;
}

ag_tensor *ag_standardize_apply(const ag_tensor *x, const ag_tensor *mean, const ag_tensor *std)
{
    char s1[AG_SHAPE_BUF], s2[AG_SHAPE_BUF], s3[AG_SHAPE_BUF];
    if (!x || !mean || !std) {
        if (!ag_has_error()) ag__error("ag_standardize_apply: an argument is NULL");
        return NULL;
    }
    int64_t f = x->ndim ? x->shape[x->ndim - 1] : -1;
    if (x->ndim < 1 || mean->ndim != 1 || std->ndim != 1 || mean->shape[0] != f ||
        std->shape[0] != f || mean->dtype != x->dtype || std->dtype != x->dtype) {
        ag__error("ag_standardize_apply: x %s %s needs mean and std [%lld] of its dtype, got %s %s "
                  "and %s %s", ag_shape_str(x, s1, sizeof s1), ag_dtype_name(x->dtype),
                  (long long)f, ag_shape_str(mean, s2, sizeof s2), ag_dtype_name(mean->dtype),
                  ag_shape_str(std, s3, sizeof s3), ag_dtype_name(std->dtype));
        return NULL;
    }
    for (int64_t j = 0; j < f; j++) {
        double v = value_at(std, j);
        if (!(v > 0) || isinf(v)) {
            ag__error("ag_standardize_apply: std[%lld] = %g (must be positive and finite)",
                      (long long)j, v);
            return NULL;
        }
    }
    ag_tensor *out = ag__new_like(x);
    if (!out) return NULL;
    AG_DISPATCH(x->dtype, T, const T *px = x->data; const T *pm = mean->data;
                const T *ps = std->data; T *po = out->data;
                AG_PFOR_SIMD(i, x->numel, po[i] = (px[i] - pm[i % f]) / ps[i % f];););
    return out;
}

/* Area weights along one axis, n inputs to m outputs. In units of 1/m of an input pixel,
 * input r covers [r*m, (r+1)*m) and output i covers [i*n, (i+1)*n); their overlap divided by n
 * is r's weight in i (the weights of i sum to 1). Integer overlaps make the weights exact.
 * Output i uses inputs from[i]..from[i]+cnt[i]-1 with weights w[off[i]...]; the counts add up
 * to at most n + m. */
typedef struct { int64_t *from, *cnt, *off; double *w; } axis_weights;

static void area_weights(int64_t n, int64_t m, axis_weights *a)
{
    int64_t k = 0;
    for (int64_t i = 0; i < m; i++) {
        int64_t lo = i * n, hi = (i + 1) * n;
        a->from[i] = lo / m;
        a->cnt[i] = (hi + m - 1) / m - a->from[i];
        a->off[i] = k;
        for (int64_t r = a->from[i]; r < a->from[i] + a->cnt[i]; r++) {
            int64_t b0 = r * m > lo ? r * m : lo, b1 = (r + 1) * m < hi ? (r + 1) * m : hi;
            a->w[k++] = (double)(b1 - b0) / (double)n;
        }
    }
}

/* One allocation for both axes' tables. */
static void *weights_alloc(int64_t h, int64_t oh, int64_t w, int64_t ow, axis_weights *ar,
                           axis_weights *ac)
{
    size_t ni = (size_t)(3 * (oh + ow)), nw = (size_t)(h + oh + w + ow);
    int64_t *ints = malloc(sizeof(int64_t) * ni + sizeof(double) * nw);
    if (!ints) return NULL;
    double *dbl = (double *)(ints + ni);
    *ar = (axis_weights){ints, ints + oh, ints + 2 * oh, dbl};
    int64_t *ci = ints + 3 * oh;
    *ac = (axis_weights){ci, ci + ow, ci + 2 * ow, dbl + h + oh};
    area_weights(h, oh, ar);
    area_weights(w, ow, ac);
    return ints;
}

ag_tensor *ag_resize_images(const ag_tensor *images, int64_t h, int64_t w, int64_t out_h,
                            int64_t out_w)
{
    char s[AG_SHAPE_BUF];
    if (!images) {
        if (!ag_has_error()) ag__error("ag_resize_images: images is NULL");
        return NULL;
    }
    const int64_t lim = (int64_t)1 << 24;
    if (h < 1 || w < 1 || out_h < 1 || out_w < 1 || h > lim || w > lim || out_h > lim ||
        out_w > lim) {
        ag__error("ag_resize_images: sizes %lldx%lld -> %lldx%lld must be in 1..%lld", (long long)h,
                  (long long)w, (long long)out_h, (long long)out_w, (long long)lim);
        return NULL;
    }
    const int64_t *sh = images->shape;
    bool ok = (images->ndim == 3 && sh[1] == h && sh[2] == w) ||
              (images->ndim == 2 && sh[1] == h * w);
    if (!ok) {
        ag__error("ag_resize_images: images %s are not [N, %lld, %lld] or [N, %lld]",
                  ag_shape_str(images, s, sizeof s), (long long)h, (long long)w,
                  (long long)(h * w));
        return NULL;
    }
    int64_t n = sh[0], po = out_h * out_w;
    axis_weights ar, ac;
    void *mem = weights_alloc(h, out_h, w, out_w, &ar, &ac);
    if (!mem) {
        ag__error("ag_resize_images: out of memory");
        return NULL;
    }
    ag_tensor *out = ag__new(images->dtype, 2, (int64_t[]){n, po});
    if (!out) {
        ag__error_prefix("ag_resize_images", "");
        free(mem);
        return NULL;
    }
    AG_DISPATCH(images->dtype, T, const T *px = images->data; T *py = out->data;
        AG_PFOR_WORK(k, n, n * h * w * 4,
            const T *img = px + k * h * w;
            for (int64_t i = 0; i < out_h; i++)
                for (int64_t j = 0; j < out_w; j++) {
                    double acc = 0;
                    for (int64_t a = 0; a < ar.cnt[i]; a++) {
                        const T *row = img + (ar.from[i] + a) * w + ac.from[j];
                        const double *wc = ac.w + ac.off[j];
                        double sum = 0;
                        for (int64_t b = 0; b < ac.cnt[j]; b++) sum += wc[b] * (double)row[b];
                        acc += ar.w[ar.off[i] + a] * sum;
                    }
                    py[k * po + i * out_w + j] = (T)acc;
                }););
    free(mem);
    return out;
}
