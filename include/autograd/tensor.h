/* autograd/tensor.h - n-dimensional tensors: creation, inspection, ownership.
 *
 * A tensor is a contiguous, row-major array of float32 or float64 values with up to
 * AG_MAX_DIMS dimensions (a 0-dimensional tensor is a scalar holding one value).
 *
 * Ownership in one paragraph: a tensor created while no scope is active (see scope.h) belongs to
 * the caller, who frees it with ag_tensor_free(). A tensor created inside a scope belongs to that
 * scope and is freed by ag_scope_end(), unless the caller claims it with ag_keep(). The engine
 * reference-counts tensors internally, so freeing a tensor that a graph still uses is safe: its
 * memory lives on until the graph is gone.
 *
 * Error convention (see error.h): functions returning a pointer return NULL on failure, functions
 * returning int return 0 on success and -1 on failure; either way ag_last_error() says why.
 */
#ifndef AUTOGRAD_TENSOR_H
#define AUTOGRAD_TENSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Maximum number of dimensions of a tensor. */
#define AG_MAX_DIMS 8

/* Element type, chosen at run time. Ops never mix dtypes: convert with ag_cast(). */
typedef enum ag_dtype { AG_F32 = 0, AG_F64 = 1 } ag_dtype;

typedef struct ag_tensor ag_tensor;

/* "float32" or "float64" ("invalid" for anything else). */
const char *ag_dtype_name(ag_dtype dtype);

/* Size in bytes of one element of `dtype` (0 if dtype is invalid). */
size_t ag_dtype_size(ag_dtype dtype);

/* ---- creation (each returns a new tensor owned by the current scope, or by the caller) ---- */

/* A tensor of the given shape whose values are copied from `data`, which must hold
 * product(shape) elements of `dtype` (float for AG_F32, double for AG_F64).
 * ndim may be 0 (a scalar; shape may then be NULL). */
ag_tensor *ag_tensor_from(ag_dtype dtype, int ndim, const int64_t *shape, const void *data);

/* Like ag_tensor_from but the values are given as doubles and converted to `dtype`. */
ag_tensor *ag_tensor_from_f64(ag_dtype dtype, int ndim, const int64_t *shape, const double *data);

/* A tensor filled with `value`, with zeros, or with ones. */
ag_tensor *ag_full(ag_dtype dtype, int ndim, const int64_t *shape, double value);
ag_tensor *ag_zeros(ag_dtype dtype, int ndim, const int64_t *shape);
ag_tensor *ag_ones(ag_dtype dtype, int ndim, const int64_t *shape);

/* A 0-dimensional tensor holding `value`. */
ag_tensor *ag_scalar(ag_dtype dtype, double value);

/* Same shape and dtype as `t`, filled with zeros / ones / value. */
ag_tensor *ag_zeros_like(const ag_tensor *t);
ag_tensor *ag_ones_like(const ag_tensor *t);
ag_tensor *ag_full_like(const ag_tensor *t, double value);

/* The 1-D tensor [0, 1, ..., n-1]. */
ag_tensor *ag_arange(ag_dtype dtype, int64_t n);

/* A copy of `t`'s values with no graph history (requires_grad false). */
ag_tensor *ag_copy(const ag_tensor *t);

/* ---- ownership ---- */

/* Releases the caller's ownership of `t` (NULL is ignored). Freeing a tensor also drops its
 * gradient. Passing a tensor that a scope owns (and that was not claimed with ag_keep) is an
 * error reported through ag_last_error(); nothing is freed then. */
void ag_tensor_free(ag_tensor *t);

/* Claims `t` for the caller: it survives the end of the scope that made it and must be freed
 * with ag_tensor_free(). May be called more than once (each call needs one ag_tensor_free).
 * Returns t (NULL if t is NULL). */
ag_tensor *ag_keep(ag_tensor *t);

/* ---- inspection ---- */

int ag_ndim(const ag_tensor *t);              /* number of dimensions (-1 and an error if NULL) */
const int64_t *ag_shape(const ag_tensor *t);  /* pointer to ag_ndim(t) sizes; NULL if t is NULL */
int64_t ag_dim(const ag_tensor *t, int axis); /* size of one axis; negative axes count from the end */
int64_t ag_numel(const ag_tensor *t);         /* number of elements (-1 and an error if NULL) */
ag_dtype ag_get_dtype(const ag_tensor *t);    /* element type (AG_F64 and an error if NULL) */

/* Raw storage: numel elements of the tensor's dtype, contiguous, row-major. Writing through it
 * changes the value in place; do that only to leaves (parameters), never to a tensor whose
 * value a recorded graph still needs. */
void *ag_data(ag_tensor *t);
/* Typed storage: NULL with an error if the dtype differs. */
float *ag_data_f32(ag_tensor *t);
double *ag_data_f64(ag_tensor *t);

/* The value of a one-element tensor, as a double (NaN and an error otherwise). */
double ag_item(const ag_tensor *t);

/* Element `flat_index` (row-major) as a double (NaN and an error if out of range). */
double ag_get(const ag_tensor *t, int64_t flat_index);

/* Sets element `flat_index` (row-major) from a double. Returns 0 or -1. */
int ag_set(ag_tensor *t, int64_t flat_index, double value);

/* Copies all elements, converted to double, into `out`, which holds `n` doubles (n must be at
 * least ag_numel(t)). Returns 0 or -1. */
int ag_to_f64(const ag_tensor *t, double *out, int64_t n);

/* Writes "[2,3]" (or "[]" for a scalar) into buf; returns buf. NULL t gives "(null)". */
char *ag_shape_str(const ag_tensor *t, char *buf, size_t size);

/* True when shapes (and ndim) are equal. */
bool ag_same_shape(const ag_tensor *a, const ag_tensor *b);

/* Optional name shown by ag_graph_print() and ag_graph_dot() (copied; at most 31 characters). */
int ag_set_name(ag_tensor *t, const char *name);
const char *ag_name(const ag_tensor *t);   /* "" when unnamed */

#ifdef __cplusplus
}
#endif
#endif
