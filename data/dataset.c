/* data/dataset.c - the dataset type: creation with ownership transfer and target checks, row
 * subsets, train/validation splits, dtype conversion. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "data_internal.h"

ag_tensor *ag__data_rows(const ag_tensor *t, const int64_t *rows, int64_t start, int64_t n)
{
    int64_t shape[AG_MAX_DIMS];
    for (int d = 0; d < t->ndim; d++) shape[d] = t->shape[d];
    shape[0] = n;
    ag_tensor *out = ag__new(t->dtype, t->ndim, shape);
    if (!out || n == 0) return out;
    size_t row = (size_t)(t->shape[0] ? t->numel / t->shape[0] : 0) * ag_dtype_size(t->dtype);
    const char *src = t->data;
    char *dst = out->data;
    if (!rows) {
        memcpy(dst, src + (size_t)start * row, (size_t)n * row);
        return out;
    }
    /* Shuffled batches: one memcpy per row; threads pay off only for big batches. */
    AG_PFOR_WORK(i, n, n * (int64_t)row / 8,
                 memcpy(dst + (size_t)i * row, src + (size_t)rows[i] * row, row););
    return out;
}

void ag__data_permute(ag_rng *r, int64_t *perm, int64_t n)
{
    for (int64_t i = 0; i < n; i++) perm[i] = i;
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)ag_rng_below(r, (uint64_t)i + 1);
        int64_t tmp = perm[i];
        perm[i] = perm[j];
        perm[j] = tmp;
    }
}

bool ag__data_check_labels(const char *fn, const char *what, const ag_tensor *t, int nc)
{
    for (int64_t i = 0; i < t->numel; i++) {
        double v;
        AG_DISPATCH(t->dtype, T, v = (double)((const T *)t->data)[i];);
        if (!(v >= 0 && v < nc && v == floor(v))) {
            ag__error("%s: %s[%lld] = %.17g is not a class index in [0, %d)", fn, what,
                      (long long)i, v, nc);
            return false;
        }
    }
    return true;
}

/* Every y is a whole number in [0, nc): class-index targets. */
static bool check_labels(const char *fn, const ag_tensor *y, int nc)
{
    char s[AG_SHAPE_BUF];
    if (y->ndim != 1) {
        ag__error("%s: num_classes %d needs targets y of shape [N], got %s", fn, nc,
                  ag_shape_str(y, s, sizeof s));
        return false;
    }
    return ag__data_check_labels(fn, "target y", y, nc);
}

bool ag__data_check(const char *fn, const char *what, const ag_dataset *ds)
{
    char sx[AG_SHAPE_BUF], sy[AG_SHAPE_BUF];
    if (!ds) {
        ag__error("%s: %s is NULL", fn, what);
        return false;
    }
    if (!ds->x || !ds->y) {
        ag__error("%s: %s has no %s tensor (make datasets with ag_dataset_new)", fn, what,
                  ds->x ? "y" : "x");
        return false;
    }
    if (ds->x->ndim < 1 || ds->y->ndim < 1 || ds->x->shape[0] != ds->y->shape[0] ||
        ds->x->dtype != ds->y->dtype) {
        ag__error("%s: %s has x %s %s and y %s %s, which need the same first dimension and "
                  "dtype (make datasets with ag_dataset_new)", fn, what,
                  ag_dtype_name(ds->x->dtype), ag_shape_str(ds->x, sx, sizeof sx),
                  ag_dtype_name(ds->y->dtype), ag_shape_str(ds->y, sy, sizeof sy));
        return false;
    }
    return true;
}

static bool check_pair(const char *fn, const ag_tensor *x, const ag_tensor *y, int nc)
{
    char sx[AG_SHAPE_BUF], sy[AG_SHAPE_BUF];
    if (!x || !y) {
        if (!ag_has_error()) ag__error("%s: %s is NULL", fn, x ? "y" : "x");
        return false;
    }
    if (x == y) {
        ag__error("%s: x and y are the same tensor (pass a copy for y)", fn);
        return false;
    }
    if (x->ndim < 1 || y->ndim < 1 || x->shape[0] != y->shape[0]) {
        ag__error("%s: x %s and y %s need the same first dimension N", fn,
                  ag_shape_str(x, sx, sizeof sx), ag_shape_str(y, sy, sizeof sy));
        return false;
    }
    if (x->dtype != y->dtype) {
        ag__error("%s: x is %s but y is %s (convert one with ag_cast)", fn,
                  ag_dtype_name(x->dtype), ag_dtype_name(y->dtype));
        return false;
    }
    if (x->requires_grad || y->requires_grad) {
        ag__error("%s: %s %s requires grad; datasets hold plain data (use ag_detach or ag_copy)",
                  fn, x->requires_grad ? "x" : "y",
                  x->requires_grad ? ag_shape_str(x, sx, sizeof sx) : ag_shape_str(y, sy, sizeof sy));
        return false;
    }
    if (nc < 0) {
        ag__error("%s: num_classes %d is negative (0 for regression targets)", fn, nc);
        return false;
    }
    return nc == 0 || check_labels(fn, y, nc);
}

/* Takes the caller's ownership of t, claiming it from its scope when the caller has none. */
static void take(ag_tensor *t)
{
    if (t->caller_refs <= 0) ag_keep(t);
}

ag_dataset *ag__data_take(const char *fn, ag_tensor *x, ag_tensor *y, int num_classes,
                          bool discard)
{
    ag_dataset *ds = NULL;
    if (check_pair(fn, x, y, num_classes)) {
        ds = malloc(sizeof *ds);
        if (!ds) ag__error("%s: out of memory", fn);
    }
    if (!ds) {
        if (discard) {
            if (y) ag__discard(y); /* newest first, so a scope can take both back */
            if (x) ag__discard(x);
        }
        return NULL;
    }
    /* Tensors the library just made leave the caller's scope (newest first), so freeing the
     * dataset frees them at once instead of at the scope's end. */
    if (!(discard && ag__unscope(y))) take(y);
    if (!(discard && ag__unscope(x))) take(x);
    ds->x = x;
    ds->y = y;
    ds->num_classes = num_classes;
    return ds;
}

ag_dataset *ag_dataset_new(ag_tensor *x, ag_tensor *y, int num_classes)
{
    return ag__data_take("ag_dataset_new", x, y, num_classes, false);
}

void ag_dataset_free(ag_dataset *ds)
{
    if (!ds) return;
    ag_tensor_free(ds->x);
    ag_tensor_free(ds->y);
    free(ds);
}

int64_t ag_dataset_size(const ag_dataset *ds)
{
    return ag__data_check("ag_dataset_size", "dataset", ds) ? ds->x->shape[0] : -1;
}

/* Rows given by index (rows != NULL) or the run start..start+n-1, as a new dataset. */
static ag_dataset *take_rows(const char *fn, const ag_dataset *ds, const int64_t *rows,
                             int64_t start, int64_t n)
{
    ag_tensor *x = ag__data_rows(ds->x, rows, start, n);
    if (!x) return NULL;
    ag_tensor *y = ag__data_rows(ds->y, rows, start, n);
    if (!y) {
        ag__discard(x);
        return NULL;
    }
    return ag__data_take(fn, x, y, ds->num_classes, true);
}

ag_dataset *ag_dataset_subset(const ag_dataset *ds, const int64_t *rows, int64_t n)
{
    if (!ag__data_check("ag_dataset_subset", "dataset", ds)) return NULL;
    int64_t N = ds->x->shape[0];
    if (n < 0 || (n > 0 && !rows)) {
        ag__error("ag_dataset_subset: %s for n = %lld", n < 0 ? "negative count" : "rows is NULL",
                  (long long)n);
        return NULL;
    }
    for (int64_t i = 0; i < n; i++) {
        if (rows[i] < 0 || rows[i] >= N) {
            ag__error("ag_dataset_subset: rows[%lld] = %lld is out of range for %lld examples",
                      (long long)i, (long long)rows[i], (long long)N);
            return NULL;
        }
    }
    return take_rows("ag_dataset_subset", ds, rows, 0, n);
}

int ag_dataset_split(const ag_dataset *ds, double fraction, bool shuffle, uint64_t seed,
                     ag_dataset **first, ag_dataset **second)
{
    if (first) *first = NULL;
    if (second) *second = NULL;
    if (!ag__data_check("ag_dataset_split", "dataset", ds)) return -1;
    if (!first || !second) {
        ag__error("ag_dataset_split: an output pointer is NULL");
        return -1;
    }
    int64_t N = ds->x->shape[0];
    bool ok = fraction > 0 && fraction < 1;
    int64_t n1 = ok ? (int64_t)llround((double)N * (1.0 - fraction)) : 0;
    if (!ok || n1 < 1 || n1 >= N) {
        ag__error("ag_dataset_split: fraction %g of %lld examples does not leave two non-empty "
                  "parts (need 0 < fraction < 1)", fraction, (long long)N);
        return -1;
    }
    int64_t *perm = NULL;
    if (shuffle) {
        perm = malloc(sizeof *perm * (size_t)N);
        if (!perm) {
            ag__error("ag_dataset_split: out of memory for %lld indices", (long long)N);
            return -1;
        }
        ag_rng r = ag_rng_seed(seed);
        ag__data_permute(&r, perm, N);
    }
    /* Unshuffled, the parts are the runs [0, n1) and [n1, N): Keras' validation_split. */
    ag_dataset *a = take_rows("ag_dataset_split", ds, perm, 0, n1);
    ag_dataset *b = a ? take_rows("ag_dataset_split", ds, perm ? perm + n1 : NULL, n1, N - n1)
                      : NULL;
    free(perm);
    if (!b) {
        ag_dataset_free(a);
        return -1;
    }
    *first = a;
    *second = b;
    return 0;
}

ag_dataset *ag_dataset_cast(const ag_dataset *ds, ag_dtype dtype)
{
    if (!ag__data_check("ag_dataset_cast", "dataset", ds)) return NULL;
    if (dtype != AG_F32 && dtype != AG_F64) {
        ag__error("ag_dataset_cast: invalid dtype %d (use AG_F32 or AG_F64)", (int)dtype);
        return NULL;
    }
    ag_tensor *x = ag_cast(ds->x, dtype);
    if (!x) return NULL;
    ag_tensor *y = ag_cast(ds->y, dtype);
    if (!y) {
        ag__discard(x);
        return NULL;
    }
    return ag__data_take("ag_dataset_cast", x, y, ds->num_classes, true);
}
