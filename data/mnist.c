/* data/mnist.c - MNIST and Fashion-MNIST by name: the four IDX files of a directory as the
 * training and test datasets, like Keras's mnist.load_data() and fashion_mnist.load_data().
 *
 * A file is looked for under its usual names, gzip-compressed first: "train-images-idx3-ubyte.gz",
 * "train-images-idx3-ubyte", "train-images.idx3-ubyte" (how some archives unpack). When one is
 * missing the error names it, the directory searched, and for Fashion-MNIST the Debian package
 * that installs it.
 */
#include <stdio.h>
#include <unistd.h>

#include "data_internal.h"

#define FASHION_APT "sudo apt-get install dataset-fashion-mnist"

typedef struct collection {
    const char *fn;       /* the public function, for messages */
    const char *title;    /* "Fashion-MNIST" */
    const char *default_dir;
    const char *hint;     /* how to get the files */
} collection;

/* Finds <dir>/<stem>-<kind>-ubyte[.gz] (or <stem>.<kind>-ubyte) into path; false with an error
 * naming the file when none exists. */
static bool find_file(const collection *c, const char *dir, const char *stem, const char *kind,
                      char *path, size_t size)
{
    static const char *const forms[] = {"%s/%s-%s-ubyte.gz", "%s/%s-%s-ubyte", "%s/%s.%s-ubyte"};
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        int n = snprintf(path, size, forms[i], dir, stem, kind);
        if (n > 0 && (size_t)n < size && access(path, R_OK) == 0) return true;
    }
    ag__error("%s: %s file %s-%s-ubyte(.gz) not found in %s (%s)", c->fn, c->title, stem, kind,
              dir, c->hint);
    return false;
}

static ag_dataset *load_split(const collection *c, const char *dir, const char *prefix,
                              ag_dtype dtype)
{
    char stem[16], images[4096], labels[4096];
    snprintf(stem, sizeof stem, "%s-images", prefix);
    if (!find_file(c, dir, stem, "idx3", images, sizeof images)) return NULL;
    snprintf(stem, sizeof stem, "%s-labels", prefix);
    if (!find_file(c, dir, stem, "idx1", labels, sizeof labels)) return NULL;
    /* ten classes whatever labels a subset holds, so a model's output size never depends on it */
    return ag__load_idx_pair(c->fn, images, labels, dtype, 10);
}

static int load(const collection *c, const char *dir, ag_dtype dtype, ag_dataset **train,
                ag_dataset **test)
{
    if (train) *train = NULL;
    if (test) *test = NULL;
    if (!train && !test) {
        ag__error("%s: train and test are both NULL: nothing to load", c->fn);
        return -1;
    }
    if (dtype != AG_F32 && dtype != AG_F64) {
        ag__error("%s: invalid dtype %d (use AG_F32 or AG_F64)", c->fn, (int)dtype);
        return -1;
    }
    if (!dir && !c->default_dir) {
        ag__error("%s: no directory given, and %s has no default location (%s)", c->fn, c->title,
                  c->hint);
        return -1;
    }
    if (!dir) dir = c->default_dir;
    ag_dataset *tr = train ? load_split(c, dir, "train", dtype) : NULL;
    if (train && !tr) return -1;
    ag_dataset *te = test ? load_split(c, dir, "t10k", dtype) : NULL;
    if (test && !te) {
        ag_dataset_free(tr);
        return -1;
    }
    if (train) *train = tr;
    if (test) *test = te;
    return 0;
}

int ag_load_fashion_mnist(const char *dir, ag_dtype dtype, ag_dataset **train, ag_dataset **test)
{
    static const collection c = {"ag_load_fashion_mnist", "Fashion-MNIST",
                                 AG_FASHION_MNIST_DEBIAN_DIR,
                                 "Debian's dataset-fashion-mnist installs it in "
                                 AG_FASHION_MNIST_DEBIAN_DIR ": " FASHION_APT};
    return load(&c, dir, dtype, train, test);
}

int ag_load_mnist(const char *dir, ag_dtype dtype, ag_dataset **train, ag_dataset **test)
{
    static const collection c = {"ag_load_mnist", "MNIST", NULL,
                                 "Debian has no MNIST package: put train-images-idx3-ubyte.gz, "
                                 "train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and "
                                 "t10k-labels-idx1-ubyte.gz in a directory and pass it"};
    return load(&c, dir, dtype, train, test);
}
