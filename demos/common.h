/* demos/common.h - what the demos share: loading Fashion-MNIST (ag_load_fashion_mnist, from
 * Debian's dataset-fashion-mnist or $AG_FASHION_MNIST_DIR), the fast mode used by the tests,
 * timing, and a synthetic stand-in when the data is absent.
 * Header-only (static functions) so each demo stays a single file to read.
 */
#ifndef AG_DEMOS_COMMON_H
#define AG_DEMOS_COMMON_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <autograd.h>


/* AG_DEMO_FAST=1 (set by scripts/demo-check.sh, which `make test` runs) shrinks data and epochs
 * and uses the synthetic data, so a demo finishes in a second or two: only the code paths are
 * checked, the figures mean nothing then. */
static inline bool demo_fast(void)
{
    const char *s = getenv("AG_DEMO_FAST");
    return s && *s && strcmp(s, "0") != 0;
}

static inline double demo_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Where to write pictures: $AG_DEMO_OUT or the current directory. */
static inline const char *demo_out_path(char *buf, size_t n, const char *file)
{
    const char *dir = getenv("AG_DEMO_OUT");
    snprintf(buf, n, "%s%s%s", dir ? dir : "", dir ? "/" : "", file);
    return buf;
}

static inline void demo_die(const char *what)
{
    fprintf(stderr, "error: %s: %s\n", what, ag_last_error());
    exit(1);
}

#define FASHION_DEFAULT_DIR AG_FASHION_MNIST_DEBIAN_DIR

/* The directory holding Fashion-MNIST: $AG_FASHION_MNIST_DIR, or NULL for the library's default
 * (Debian's location, AG_FASHION_MNIST_DEBIAN_DIR). */
static inline const char *fashion_dir(void)
{
    return getenv("AG_FASHION_MNIST_DIR");
}

/* Path of one of the four files ("train-images-idx3-ubyte.gz", ...) in that directory. */
static inline const char *fashion_file(char *buf, size_t n, const char *name)
{
    snprintf(buf, n, "%s/%s", fashion_dir() ? fashion_dir() : FASHION_DEFAULT_DIR, name);
    return buf;
}

static inline bool fashion_present(void)
{
    char gz[512], raw[512];
    const char *dir = fashion_dir() ? fashion_dir() : AG_FASHION_MNIST_DEBIAN_DIR;
    snprintf(gz, sizeof gz, "%s/t10k-labels-idx1-ubyte.gz", dir);
    snprintf(raw, sizeof raw, "%s/t10k-labels-idx1-ubyte", dir);
    return access(gz, R_OK) == 0 || access(raw, R_OK) == 0;
}

/* Makes sure Fashion-MNIST is there: installs Debian's package when running as root, otherwise
 * says how. Returns true when the files can be read. */
static inline bool fashion_ensure(void)
{
    if (demo_fast()) return false; /* the fast mode checks code paths on synthetic data */
    if (fashion_present()) return true;
    if (getenv("AG_FASHION_MNIST_DIR")) {
        printf("Fashion-MNIST not found in $AG_FASHION_MNIST_DIR.\n");
        return false;
    }
    if (geteuid() == 0) {
        printf("Fashion-MNIST is not installed; installing Debian's dataset-fashion-mnist...\n");
        fflush(stdout);
        int rc = system("apt-get install -y -q dataset-fashion-mnist >/dev/null 2>&1 || "
                        "(apt-get update -q >/dev/null 2>&1 && "
                        "apt-get install -y -q dataset-fashion-mnist >/dev/null 2>&1)");
        if (rc == 0 && fashion_present()) return true;
        printf("Installing dataset-fashion-mnist failed.\n");
        return false;
    }
    printf("Fashion-MNIST is not installed. To use the real data:\n"
           "    sudo apt-get install dataset-fashion-mnist\n");
    return false;
}

/* Loads the training or test split, x [N, 784] in [0, 1] and labels [N]; keeps only the first
 * `limit` examples when limit > 0. */
static inline ag_dataset *fashion_load(bool train, int64_t limit)
{
    ag_dataset *ds = NULL;
    if (ag_load_fashion_mnist(fashion_dir(), AG_F32, train ? &ds : NULL, train ? NULL : &ds) != 0)
        demo_die("loading Fashion-MNIST");
    if (limit > 0 && limit < ag_dataset_size(ds)) {
        int64_t *rows = malloc((size_t)limit * sizeof *rows);
        if (!rows) demo_die("out of memory");
        for (int64_t i = 0; i < limit; i++) rows[i] = i;
        ag_dataset *small = ag_dataset_subset(ds, rows, limit);
        free(rows);
        ag_dataset_free(ds);
        if (!small) demo_die("subset");
        ds = small;
    }
    return ds;
}

/* The tutorial's 100 features: each 28x28 image averaged down to 10x10. */
static inline ag_dataset *pool_to_10x10(ag_dataset *ds)
{
    ag_tensor *x = ag_resize_images(ds->x, 28, 28, 10, 10);
    ag_tensor *y = ag_copy(ds->y);
    if (!x || !y) demo_die("pooling to 10x10");
    ag_dataset *out = ag_dataset_new(x, y, ds->num_classes);
    if (!out) demo_die("pooled dataset");
    ag_dataset_free(ds);
    return out;
}

#endif
