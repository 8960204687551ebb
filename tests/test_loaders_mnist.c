/* tests/test_loaders_mnist.c - MNIST and Fashion-MNIST by name: the four files of a directory
 * found under their usual names (gzip or not), both splits or one, and errors that name the
 * missing file, the directory and, for Fashion-MNIST, the Debian package. The files are the IDX
 * fixtures of tests/fixtures/data (3 images of 4x5 with labels 7, 0, 9) linked under the names
 * of the real data sets. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "test_util.h"

#define DATA "tests/fixtures/data/"

/* A temporary directory holding the fixtures under the given names (NULL: left out). */
static char *make_dir(const char *train_images, const char *train_labels, const char *test_images,
                      const char *test_labels)
{
    static char dir[64];
    snprintf(dir, sizeof dir, "/tmp/ag_mnist_XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    char cwd[PATH_MAX];
    cr_assert_not_null(getcwd(cwd, sizeof cwd));
    const char *names[4] = {train_images, train_labels, test_images, test_labels};
    const char *files[4] = {"images.idx", "labels.idx", "images.idx", "labels.idx"};
    for (int i = 0; i < 4; i++) {
        if (!names[i]) continue;
        char from[PATH_MAX + 64], to[128];
        snprintf(from, sizeof from, "%s/" DATA "%s", cwd, files[i]);
        snprintf(to, sizeof to, "%s/%s", dir, names[i]);
        cr_assert_eq(symlink(from, to), 0, "symlink %s", to);
    }
    return dir;
}

static void remove_dir(const char *dir)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

static void expect_fixture(const ag_dataset *ds, ag_dtype dt)
{
    cr_assert_not_null(ds);
    expect_shape(ds->x, 2, (int64_t[]){3, 20});
    expect_values(ds->y, (double[]){7, 0, 9}, 3, 0);
    cr_expect_eq(ds->num_classes, 10);
    cr_expect_eq(ag_get_dtype(ds->x), dt);
}

Test(mnist, both_splits_under_every_usual_name)
{
    char *dir = make_dir("train-images-idx3-ubyte", "train-labels.idx1-ubyte",
                         "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte");
    ag_dataset *train, *test;
    cr_assert_eq(ag_load_fashion_mnist(dir, AG_F64, &train, &test), 0, "%s", ag_last_error());
    expect_fixture(train, AG_F64);
    expect_fixture(test, AG_F64);
    cr_expect_float_eq(ag_get(train->x, 1), ag_get(test->x, 1), 0);
    ag_dataset_free(train);
    ag_dataset_free(test);
    /* one split only */
    cr_assert_eq(ag_load_mnist(dir, AG_F32, NULL, &test), 0, "%s", ag_last_error());
    expect_fixture(test, AG_F32);
    ag_dataset_free(test);
    remove_dir(dir);
}

#ifdef AG_HAVE_ZLIB
Test(mnist, gzip_files_come_first)
{
    char *dir = make_dir("train-images-idx3-ubyte", "train-labels-idx1-ubyte", NULL, NULL);
    char cwd[PATH_MAX], from[PATH_MAX + 64], to[128];
    cr_assert_not_null(getcwd(cwd, sizeof cwd));
    /* a .gz beside the raw file is preferred: make it the only readable one to tell */
    snprintf(from, sizeof from, "%s/" DATA "labels.idx.gz", cwd);
    snprintf(to, sizeof to, "%s/t10k-labels-idx1-ubyte.gz", dir);
    cr_assert_eq(symlink(from, to), 0);
    snprintf(from, sizeof from, "%s/" DATA "images.idx.gz", cwd);
    snprintf(to, sizeof to, "%s/t10k-images-idx3-ubyte.gz", dir);
    cr_assert_eq(symlink(from, to), 0);
    ag_dataset *test;
    cr_assert_eq(ag_load_mnist(dir, AG_F32, NULL, &test), 0, "%s", ag_last_error());
    expect_fixture(test, AG_F32);
    ag_dataset_free(test);
    remove_dir(dir);
}
#endif

Test(mnist, a_missing_file_is_named_with_the_way_to_get_it)
{
    char *dir = make_dir("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                         "t10k-images-idx3-ubyte", NULL);
    ag_dataset *train = (ag_dataset *)1, *test = (ag_dataset *)1;
    cr_expect_eq(ag_load_fashion_mnist(dir, AG_F32, &train, &test), -1);
    cr_expect_null(train, "nothing is returned when a split fails");
    cr_expect_null(test);
    expect_error_mentions("ag_load_fashion_mnist", "t10k-labels-idx1-ubyte", dir,
                          "apt-get install dataset-fashion-mnist");
    cr_expect_eq(ag_load_mnist(dir, AG_F32, NULL, &test), -1);
    expect_error_mentions("ag_load_mnist", "t10k-labels-idx1-ubyte", dir, "no MNIST package");
    /* the training split alone is there */
    cr_expect_eq(ag_load_mnist(dir, AG_F32, &train, NULL), 0);
    ag_dataset_free(train);
    remove_dir(dir);
}

Test(mnist, argument_errors)
{
    ag_dataset *train, *test;
    cr_expect_eq(ag_load_mnist(NULL, AG_F32, &train, &test), -1);
    expect_error_mentions("ag_load_mnist", "no directory given", "no MNIST package");
    cr_expect_eq(ag_load_fashion_mnist("/nonexistent", AG_F32, NULL, NULL), -1);
    expect_error_mentions("ag_load_fashion_mnist", "both NULL");
    cr_expect_eq(ag_load_fashion_mnist("/nonexistent", (ag_dtype)7, &train, NULL), -1);
    expect_error_mentions("ag_load_fashion_mnist", "dtype 7");
    cr_expect_eq(ag_load_fashion_mnist("/nonexistent", AG_F32, &train, NULL), -1);
    expect_error_mentions("ag_load_fashion_mnist", "/nonexistent", "train-images-idx3-ubyte");
}

/* NULL means Debian's location: the real test split when the package is installed, otherwise an
 * error with the apt-get line (either way the call is checked). */
Test(mnist, fashion_mnist_from_the_debian_package_or_how_to_install_it)
{
    ag_dataset *test;
    bool installed = access(AG_FASHION_MNIST_DEBIAN_DIR "/t10k-labels-idx1-ubyte.gz", R_OK) == 0;
    int rc = ag_load_fashion_mnist(NULL, AG_F32, NULL, &test);
    if (!installed) {
        cr_expect_eq(rc, -1);
        expect_error_mentions("ag_load_fashion_mnist", AG_FASHION_MNIST_DEBIAN_DIR,
                              "sudo apt-get install dataset-fashion-mnist");
        return;
    }
#ifdef AG_HAVE_ZLIB
    cr_assert_eq(rc, 0, "%s", ag_last_error());
    expect_shape(test->x, 2, (int64_t[]){10000, 784});
    cr_expect_eq(test->num_classes, 10);
    ag_dataset_free(test);
#else
    cr_expect_eq(rc, -1);
    expect_error_mentions("ag_load_fashion_mnist", "built without zlib");
#endif
}
