/* tests/shape_test_util.h - helper shared by the shape-op tests (test_shape.c,
 * test_shape_slice_concat.c): a leaf holding its own flat indices.
 */
#ifndef SHAPE_TEST_UTIL_H
#define SHAPE_TEST_UTIL_H

#include <stdlib.h>

#include "test_util.h"

/* A leaf [d0, d1, ...] holding 0, 1, 2, ... (value = flat row-major index). */
static inline ag_tensor *iota(ag_dtype dt, int ndim, const int64_t *shape)
{
    int64_t n = 1;
    for (int d = 0; d < ndim; d++) n *= shape[d];
    double *v = malloc(sizeof(double) * (size_t)(n ? n : 1));
    for (int64_t i = 0; i < n; i++) v[i] = (double)i;
    ag_tensor *t = tu_tensor(dt, ndim, shape, v);
    free(v);
    return t;
}

#endif
