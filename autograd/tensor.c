/* autograd/tensor.c - creating, inspecting and freeing tensors. */
#include <math.h>
#include <stdio.h>

#include "internal.h"

const char *ag_dtype_name(ag_dtype dtype)
{
    switch (dtype) {
    case AG_F32: return "float32";
    case AG_F64: return "float64";
    }
    return "invalid";
}

size_t ag_dtype_size(ag_dtype dtype)
{
    switch (dtype) {
    case AG_F32: return sizeof(float);
    case AG_F64: return sizeof(double);
    }
    return 0;
}

int64_t ag__numel(int ndim, const int64_t *shape)
{
    int64_t n = 1;
    for (int d = 0; d < ndim; d++) n *= shape[d];
    return n;
}

/* Validates the arguments every creation function shares. */
static bool check_new(const char *fn, ag_dtype dtype, int ndim, const int64_t *shape)
{
    if (dtype != AG_F32 && dtype != AG_F64) {
        ag__error("%s: invalid dtype %d (use AG_F32 or AG_F64)", fn, (int)dtype);
        return false;
    }
    if (ndim < 0 || ndim > AG_MAX_DIMS) {
        ag__error("%s: ndim %d out of range (0..%d)", fn, ndim, AG_MAX_DIMS);
        return false;
    }
    if (ndim > 0 && !shape) {
        ag__error("%s: shape is NULL for ndim %d", fn, ndim);
        return false;
    }
    for (int d = 0; d < ndim; d++) {
        if (shape[d] < 0) {
            char s[AG_SHAPE_BUF];
            ag__error("%s: negative size in shape %s", fn, ag__shape_str(ndim, shape, s, sizeof s));
            return false;
        }
    }
    return true;
}

ag_tensor *ag_full(ag_dtype dtype, int ndim, const int64_t *shape, double value)
{
    if (!check_new("ag_full", dtype, ndim, shape)) return NULL;
    ag_tensor *t = ag__new(dtype, ndim, shape);
    if (!t) return NULL;
    AG_DISPATCH(dtype, T, T *p = t->data; T v = (T)value;
                AG_PFOR_SIMD(i, t->numel, p[i] = v;););
    return t;
}

ag_tensor *ag_zeros(ag_dtype dtype, int ndim, const int64_t *shape)
{
    if (!check_new("ag_zeros", dtype, ndim, shape)) return NULL;
    return ag_full(dtype, ndim, shape, 0.0);
}

ag_tensor *ag_ones(ag_dtype dtype, int ndim, const int64_t *shape)
{
    if (!check_new("ag_ones", dtype, ndim, shape)) return NULL;
    return ag_full(dtype, ndim, shape, 1.0);
}

ag_tensor *ag_scalar(ag_dtype dtype, double value) { return ag_full(dtype, 0, NULL, value); }

ag_tensor *ag_full_like(const ag_tensor *t, double value)
{
    if (!t) {
        if (!ag_has_error()) ag__error("ag_full_like: tensor is NULL");
        return NULL;
    }
    return ag_full(t->dtype, t->ndim, t->shape, value);
}

ag_tensor *ag_zeros_like(const ag_tensor *t) { return ag_full_like(t, 0.0); }
ag_tensor *ag_ones_like(const ag_tensor *t) { return ag_full_like(t, 1.0); }

ag_tensor *ag_tensor_from(ag_dtype dtype, int ndim, const int64_t *shape, const void *data)
{
    if (!check_new("ag_tensor_from", dtype, ndim, shape)) return NULL;
    if (!data && ag__numel(ndim, shape) > 0) {
        ag__error("ag_tensor_from: data is NULL");
        return NULL;
    }
    ag_tensor *t = ag__new(dtype, ndim, shape);
    if (t && t->numel) memcpy(t->data, data, (size_t)t->numel * ag_dtype_size(dtype));
    return t;
}

ag_tensor *ag_tensor_from_f64(ag_dtype dtype, int ndim, const int64_t *shape, const double *data)
{
    if (!check_new("ag_tensor_from_f64", dtype, ndim, shape)) return NULL;
    if (!data && ag__numel(ndim, shape) > 0) {
        ag__error("ag_tensor_from_f64: data is NULL");
        return NULL;
    }
    ag_tensor *t = ag__new(dtype, ndim, shape);
    if (!t) return NULL;
    AG_DISPATCH(dtype, T, T *p = t->data; for (int64_t i = 0; i < t->numel; i++) p[i] = (T)data[i];);
    return t;
}

ag_tensor *ag_arange(ag_dtype dtype, int64_t n)
{
    if (n < 0) {
        ag__error("ag_arange: n = %lld is negative", (long long)n);
        return NULL;
    }
    if (!check_new("ag_arange", dtype, 1, &n)) return NULL;
    ag_tensor *t = ag__new(dtype, 1, &n);
    if (!t) return NULL;
    AG_DISPATCH(dtype, T, T *p = t->data; for (int64_t i = 0; i < n; i++) p[i] = (T)i;);
    return t;
}

ag_tensor *ag_copy(const ag_tensor *t)
{
    if (!t) {
        if (!ag_has_error()) ag__error("ag_copy: tensor is NULL");
        return NULL;
    }
    return ag_tensor_from(t->dtype, t->ndim, t->shape, t->data);
}

void ag_tensor_free(ag_tensor *t)
{
    if (!t) return;
    if (t->caller_refs <= 0) {
        char s[AG_SHAPE_BUF];
        ag__error("ag_tensor_free: the %s tensor %s belongs to a scope and is freed by "
                  "ag_scope_end (claim it with ag_keep to free it yourself)",
                  ag_dtype_name(t->dtype), ag_shape_str(t, s, sizeof s));
        return;
    }
    t->caller_refs--;
    /* The caller is done with it: drop its gradient too. This also breaks the cycle a
     * create_graph gradient forms with its leaf (leaf -> grad -> graph -> leaf). */
    if (t->caller_refs == 0 && !t->in_scope && t->grad) {
        ag_tensor *g = t->grad;
        t->grad = NULL;
        t->grad_zero = false;
        ag__release(g);
    }
    ag__release(t);
}

ag_tensor *ag_keep(ag_tensor *t)
{
    if (!t) return NULL;
    t->caller_refs++;
    ag__retain(t);
    return t;
}

/* ---- inspection ---- */

#define NULL_CHECK(fn, t, ret)                                            \
    do {                                                                  \
        if (!(t)) {                                                       \
            if (!ag_has_error()) ag__error("%s: tensor is NULL", fn);     \
            return ret;                                                   \
        }                                                                 \
    } while (0)

int ag_ndim(const ag_tensor *t)
{
    NULL_CHECK("ag_ndim", t, -1);
    return t->ndim;
}

const int64_t *ag_shape(const ag_tensor *t)
{
    NULL_CHECK("ag_shape", t, NULL);
    return t->shape;
}

int64_t ag_dim(const ag_tensor *t, int axis)
{
    NULL_CHECK("ag_dim", t, -1);
    int a;
    if (!ag__axis("ag_dim", t, axis, &a)) return -1;
    return t->shape[a];
}

int64_t ag_numel(const ag_tensor *t)
{
    NULL_CHECK("ag_numel", t, -1);
    return t->numel;
}

ag_dtype ag_get_dtype(const ag_tensor *t)
{
    NULL_CHECK("ag_get_dtype", t, AG_F64);
    return t->dtype;
}

void *ag_data(ag_tensor *t)
{
    NULL_CHECK("ag_data", t, NULL);
    return t->data;
}

float *ag_data_f32(ag_tensor *t)
{
    NULL_CHECK("ag_data_f32", t, NULL);
    if (t->dtype != AG_F32) {
        ag__error("ag_data_f32: tensor is %s, not float32 (use ag_data_f64 or ag_cast)",
                  ag_dtype_name(t->dtype));
        return NULL;
    }
    return t->data;
}

double *ag_data_f64(ag_tensor *t)
{
    NULL_CHECK("ag_data_f64", t, NULL);
    if (t->dtype != AG_F64) {
        ag__error("ag_data_f64: tensor is %s, not float64 (use ag_data_f32 or ag_cast)",
                  ag_dtype_name(t->dtype));
        return NULL;
    }
    return t->data;
}

static double load(const ag_tensor *t, int64_t i)
{
    return t->dtype == AG_F32 ? (double)((const float *)t->data)[i] : ((const double *)t->data)[i];
}

double ag_item(const ag_tensor *t)
{
    NULL_CHECK("ag_item", t, NAN);
    if (t->numel != 1) {
        char s[AG_SHAPE_BUF];
        ag__error("ag_item: tensor of shape %s has %lld elements, not 1", ag_shape_str(t, s, sizeof s),
                  (long long)t->numel);
        return NAN;
    }
    return load(t, 0);
}

double ag_get(const ag_tensor *t, int64_t i)
{
    NULL_CHECK("ag_get", t, NAN);
    if (i < 0 || i >= t->numel) {
        char s[AG_SHAPE_BUF];
        ag__error("ag_get: index %lld out of range for shape %s (%lld elements)", (long long)i,
                  ag_shape_str(t, s, sizeof s), (long long)t->numel);
        return NAN;
    }
    return load(t, i);
}

int ag_set(ag_tensor *t, int64_t i, double value)
{
    NULL_CHECK("ag_set", t, -1);
    if (i < 0 || i >= t->numel) {
        char s[AG_SHAPE_BUF];
        ag__error("ag_set: index %lld out of range for shape %s (%lld elements)", (long long)i,
                  ag_shape_str(t, s, sizeof s), (long long)t->numel);
        return -1;
    }
    AG_DISPATCH(t->dtype, T, ((T *)t->data)[i] = (T)value;);
    return 0;
}

int ag_to_f64(const ag_tensor *t, double *out, int64_t n)
{
    NULL_CHECK("ag_to_f64", t, -1);
    if (!out || n < t->numel) {
        char s[AG_SHAPE_BUF];
        ag__error("ag_to_f64: output %s holds %lld doubles but tensor %s has %lld elements",
                  out ? "buffer" : "(NULL)", (long long)n, ag_shape_str(t, s, sizeof s),
                  (long long)t->numel);
        return -1;
    }
    for (int64_t i = 0; i < t->numel; i++) out[i] = load(t, i);
    return 0;
}

bool ag_same_shape(const ag_tensor *a, const ag_tensor *b)
{
    if (!a || !b || a->ndim != b->ndim) return false;
    for (int d = 0; d < a->ndim; d++)
        if (a->shape[d] != b->shape[d]) return false;
    return true;
}

int ag_set_name(ag_tensor *t, const char *name)
{
    NULL_CHECK("ag_set_name", t, -1);
    if (!name) name = "";
    snprintf(t->name, sizeof t->name, "%s", name);
    return 0;
}

const char *ag_name(const ag_tensor *t) { return t ? t->name : ""; }
