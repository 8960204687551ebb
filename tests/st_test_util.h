/* tests/st_test_util.h - what the safetensors tests (test_safetensors.c,
 * test_safetensors_corrupt.c) share on top of io_test_util.h: reading a whole file and a tensor
 * of known values.
 */
#ifndef ST_TEST_UTIL_H
#define ST_TEST_UTIL_H

#include "io_test_util.h"

static inline unsigned char *slurp(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    cr_assert(f, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)n + 1);
    cr_assert(b && fread(b, 1, (size_t)n, f) == (size_t)n);
    fclose(f);
    *size = (size_t)n;
    return b;
}

/* Values i * scale - 1. */
static inline ag_tensor *pattern(ag_dtype dt, int nd, const int64_t *shape, double scale)
{
    int64_t n = 1;
    for (int d = 0; d < nd; d++) n *= shape[d];
    double *v = malloc(((size_t)n + 1) * sizeof *v);
    for (int64_t i = 0; i < n; i++) v[i] = (double)i * scale - 1.0;
    ag_tensor *t = tu_tensor(dt, nd, shape, v);
    free(v);
    return t;
}

#endif
