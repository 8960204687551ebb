/* tests/io_test_util.h - what tests/test_safetensors*.c and tests/test_checkpoint.c share: a
 * temporary directory per test (made by setup, removed with its files by teardown; give both to
 * the file's TestSuite), paths inside it, and the byte size of a tensor.
 */
#ifndef IO_TEST_UTIL_H
#define IO_TEST_UTIL_H

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "test_util.h"

static char dir[256];

static inline void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/ag_test_io_XXXXXX");
    cr_assert(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
}

static inline int count_files(void)
{
    DIR *d = opendir(dir);
    cr_assert(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static inline void teardown(void)
{
    DIR *d = opendir(dir);
    if (!d) return;
    char p[600];
    for (struct dirent *e; (e = readdir(d));) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (remove(p) != 0) rmdir(p);
    }
    closedir(d);
    rmdir(dir);
}

/* dir/name (one of a few rotating buffers, so two paths can be live at once). */
static inline const char *tpath(const char *name)
{
    static char bufs[4][600];
    static int k;
    char *b = bufs[k++ % 4];
    snprintf(b, 600, "%s/%s", dir, name);
    return b;
}

static inline size_t nbytes(ag_tensor *t)
{
    return (size_t)ag_numel(t) * ag_dtype_size(ag_get_dtype(t));
}

#endif
