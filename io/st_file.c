/* io/st_file.c - the loaded safetensors file (ag_st_file): lookups by index, name and metadata
 * key, and freeing. Reading and validating a file is io/safetensors.c's job.
 *
 * Tensors are kept sorted by name and metadata pairs by key (the loader sorts them), so both
 * lookups are binary searches.
 */
#include <stdio.h>
#include <stdlib.h>

#include "io_internal.h"

int ag__st_find(const ag_st_file *f, const char *name)
{
    int lo = 0, hi = f->n - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2, c = strcmp(f->names[mid], name);
        if (c == 0) return mid;
        if (c < 0) lo = mid + 1;
        else hi = mid - 1;
    }
    return -1;
}

int ag_st_count(const ag_st_file *f)
{
    if (!f) return ag__error("ag_st_count: file is NULL"), -1;
    return f->n;
}

static bool check_index(const char *fn, const ag_st_file *f, int i)
{
    if (!f) return ag__error("%s: file is NULL", fn), false;
    if (i < 0 || i >= f->n)
        return ag__error("%s: index %d out of range (the file holds %d tensors)", fn, i, f->n),
               false;
    return true;
}

const char *ag_st_name(const ag_st_file *f, int i)
{
    return check_index("ag_st_name", f, i) ? f->names[i] : NULL;
}

ag_tensor *ag_st_tensor(const ag_st_file *f, int i)
{
    return check_index("ag_st_tensor", f, i) ? f->tensors[i] : NULL;
}

ag_tensor *ag_st_get(const ag_st_file *f, const char *name)
{
    if (!f || !name) return ag__error("ag_st_get: %s is NULL", f ? "name" : "file"), NULL;
    int i = ag__st_find(f, name);
    if (i < 0) return ag__error("ag_st_get: no tensor named '%s' in the file", name), NULL;
    return f->tensors[i];
}

const char *ag_st_meta(const ag_st_file *f, const char *key)
{
    if (!f || !key) return ag__error("ag_st_meta: %s is NULL", f ? "key" : "file"), NULL;
    int lo = 0, hi = f->nmeta - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2, c = strcmp(f->meta[2 * mid], key);
        if (c == 0) return f->meta[2 * mid + 1];
        if (c < 0) lo = mid + 1;
        else hi = mid - 1;
    }
    return NULL;
}

void ag_st_free(ag_st_file *f)
{
    if (!f) return;
    for (int i = 0; i < f->n; i++) ag_tensor_free(f->tensors[i]);
    free(f->tensors);
    free(f->names);
    free(f->meta);
    free(f->strings);
    free(f);
}
