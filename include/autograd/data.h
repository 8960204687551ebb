/* autograd/data.h - datasets, batching, loaders (CSV, IDX), preprocessing, synthetic data.
 *
 * A dataset is a pair of tensors with the same first dimension N: features x [N, ...] and targets
 * y, either [N] class indices stored as whole numbers (classification; num_classes > 0) or
 * [N, K] values (regression, or one-hot rows). Tensors in a dataset never require grad.
 *
 * Ownership: datasets are made by the functions below, owned by the caller and freed with
 * ag_dataset_free(), which frees x and y. Tensors returned by the other functions follow the
 * usual rules (current scope, or the caller outside a scope). Every function taking a dataset
 * checks it first (x and y present, at least 1-D, with the same N and dtype), so a struct filled
 * in by hand gives an error rather than an out-of-bounds read.
 */
#ifndef AUTOGRAD_DATA_H
#define AUTOGRAD_DATA_H

#include <stdbool.h>
#include <stdint.h>
#include "tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ag_dataset {
    ag_tensor *x;    /* features, [N, ...]; read-only for users */
    ag_tensor *y;    /* targets, [N] class indices or [N, K]; read-only for users */
    int num_classes; /* number of classes for index targets, 0 otherwise */
} ag_dataset;

/* A dataset holding `x` and `y` (ownership of both moves to the dataset, claimed from a scope if
 * needed). num_classes: for [N] index targets, the class count (every y must be a whole number in
 * [0, num_classes)); 0 for regression. NULL and an error (naming the row and value of a bad
 * target) when the first dimensions or dtypes differ, a tensor requires grad, x and y are the
 * same tensor or a target is not a class index; on failure the caller keeps x and y. */
ag_dataset *ag_dataset_new(ag_tensor *x, ag_tensor *y, int num_classes);
void ag_dataset_free(ag_dataset *ds);
int64_t ag_dataset_size(const ag_dataset *ds); /* N, or -1 on NULL */

/* The examples at the given rows (copies), as a new dataset. */
ag_dataset *ag_dataset_subset(const ag_dataset *ds, const int64_t *rows, int64_t n);

/* Splits into a first part of round(N*(1-fraction)) examples and a second of the rest, after a
 * seeded shuffle when `shuffle` is true (otherwise the last fraction is the second part, like
 * Keras' validation_split). 0 < fraction < 1; both parts non-empty. Both parts are new datasets
 * (copies); on failure *first and *second are NULL. */
int ag_dataset_split(const ag_dataset *ds, double fraction, bool shuffle, uint64_t seed,
                     ag_dataset **first, ag_dataset **second);

/* Converts the same dataset to another dtype (new dataset). */
ag_dataset *ag_dataset_cast(const ag_dataset *ds, ag_dtype dtype);

/* ---- batching ---- */

typedef struct ag_batcher ag_batcher;

/* Iterates over `ds` in batches of batch_size (the last batch may be smaller unless drop_last).
 * With `shuffle`, epoch e uses a permutation drawn from a generator seeded with (seed, e), so any
 * epoch can be replayed exactly (for resumed training); without it, rows come in order. The
 * batcher does not own `ds` (keep it alive while the batcher is used). An empty dataset, or
 * drop_last with batch_size > N (no batch at all), is an error. */
ag_batcher *ag_batcher_new(const ag_dataset *ds, int64_t batch_size, bool shuffle, uint64_t seed,
                           bool drop_last);
/* Next batch of the current epoch: 1 and new tensors *xb, *yb (copies, no grad; x's and y's
 * trailing shapes are kept); 0 at the end of the epoch (the epoch counter then advances and the
 * next call starts the next epoch); -1 on error. */
int ag_batcher_next(ag_batcher *b, ag_tensor **xb, ag_tensor **yb);
/* Restarts at the beginning of epoch `epoch` (0-based), even in the middle of an epoch. */
int ag_batcher_seek_epoch(ag_batcher *b, int epoch);
int ag_batcher_epoch(const ag_batcher *b);
int64_t ag_batcher_num_batches(const ag_batcher *b);
void ag_batcher_free(ag_batcher *b);

/* ---- preprocessing (results are plain data: no graph is recorded) ---- */

/* One-hot rows [N, num_classes] from [N] class indices (whole numbers in [0, num_classes)),
 * in the labels' dtype. */
ag_tensor *ag_one_hot(const ag_tensor *labels, int num_classes);

/* Column means and standard deviations (population, std of a constant column taken as 1) of a
 * [N, F] tensor, and (x - mean) / std. Fit on the training data, apply to both. mean and std
 * are [F] in x's dtype; apply takes x of any shape whose last dimension is F and rejects a
 * std that is not positive and finite. */
int ag_standardize_fit(const ag_tensor *x, ag_tensor **mean, ag_tensor **std);
ag_tensor *ag_standardize_apply(const ag_tensor *x, const ag_tensor *mean, const ag_tensor *std);

/* ---- loaders ---- */

/* Options for ag_load_csv; zero-initialised (or NULL) gives the defaults: the target is column
 * 0, ',' separates fields, regression, float32. */
typedef struct ag_csv_opts {
    const char *target;  /* name of the target column (header) ; NULL: target_index is used */
    int target_index;    /* 0-based column of the target when target is NULL; -1: the last */
    char delimiter;      /* default ',' */
    bool classification; /* target holds class labels 0..K-1 (num_classes = max + 1) */
    ag_dtype dtype;      /* default AG_F32 */
} ag_csv_opts;

/* Reads a CSV file with a header row and numeric columns: x [N, columns - 1] holds the other
 * columns in file order, y is [N, 1] (regression) or [N] class labels (classification). Fields
 * are numbers without quotes (spaces around them are allowed; empty, non-numeric or non-finite
 * fields are errors); header names may be double-quoted. "\r\n" line endings, blank lines, a
 * missing final newline and lines of any length are handled. Errors name the file, line and
 * column (a non-numeric field, a short row, an unknown target name). */
ag_dataset *ag_load_csv(const char *path, const ag_csv_opts *opts);

/* Reads an IDX file (MNIST format, unsigned-byte data), gzip-compressed or not (detected from the
 * content). Returns a tensor of its shape with values scaled by `scale` (1/255.0 for pixels, 1 for
 * labels). Every header field and the data length are checked. */
ag_tensor *ag_load_idx(const char *path, ag_dtype dtype, double scale);

/* An images file [N, h, w] and a labels file [N] (IDX, either may be gzip-compressed) as a
 * dataset with x [N, h*w] scaled to [0, 1] and num_classes = largest label + 1. Different N in
 * the two files is an error. For MNIST and Fashion-MNIST use the loaders below. */
ag_dataset *ag_load_idx_dataset(const char *images_path, const char *labels_path, ag_dtype dtype);

/* Where Debian's dataset-fashion-mnist package puts Fashion-MNIST's four files
 * (`sudo apt-get install dataset-fashion-mnist`; `dpkg -L dataset-fashion-mnist` lists them). */
#define AG_FASHION_MNIST_DEBIAN_DIR "/usr/share/datasets/fashion-mnist"

/* Fashion-MNIST (Zalando's 28x28 clothing images, 10 classes) or MNIST (handwritten digits) from
 * the four IDX files in `dir`, as Keras's fashion_mnist.load_data() / mnist.load_data() give
 * them: *train receives the 60,000 training examples, *test the 10,000 test examples, each with
 * x [N, 784] scaled to [0, 1], y [N] class indices and num_classes 10. Either pointer may be NULL
 * to skip that split. The files are train-images-idx3-ubyte, train-labels-idx1-ubyte,
 * t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte, each with or without ".gz".
 * dir NULL: Fashion-MNIST is read from AG_FASHION_MNIST_DEBIAN_DIR; MNIST has no Debian package,
 * so it needs a directory. Returns 0, or -1 with an error naming the missing or bad file (and the
 * apt-get line for Fashion-MNIST); both outputs are then NULL.
 *
 *     ag_dataset *train, *test;
 *     if (ag_load_fashion_mnist(NULL, AG_F32, &train, &test) != 0)
 *         fprintf(stderr, "%s\n", ag_last_error());
 */
int ag_load_fashion_mnist(const char *dir, ag_dtype dtype, ag_dataset **train, ag_dataset **test);
int ag_load_mnist(const char *dir, ag_dtype dtype, ag_dataset **train, ag_dataset **test);

/* Area-average resize of images [N, h, w] or [N, h*w] to [N, out_h*out_w]: each output pixel is
 * the mean of the input area it covers, pixels cut by the border weighted by the covered fraction
 * (exact average pooling when h/out_h is a whole number). Fashion-MNIST 28x28 -> 10x10 gives the
 * tutorial's 100 features. */
ag_tensor *ag_resize_images(const ag_tensor *images, int64_t h, int64_t w, int64_t out_h,
                            int64_t out_w);

/* ---- synthetic data for tests and teaching (all seeded) ---- */

/* `classes` interleaved spirals in 2-D, n_per_class points each (CS231n's data): point i of
 * class k has radius r = i/(n_per_class-1) and angle t = 4(k + r) + noise * N(0, 1), and
 * x = (r sin t, r cos t). Rows are grouped by class. */
ag_dataset *ag_make_spirals(int64_t n_per_class, int classes, double noise, uint64_t seed,
                            ag_dtype dtype);
/* Gaussian blobs: `classes` centres drawn uniformly in [-center_box, center_box]^features, points
 * with standard deviation `std`. Example i belongs to class i % classes (balanced, interleaved). */
ag_dataset *ag_make_blobs(int64_t n, int64_t features, int classes, double std, double center_box,
                          uint64_t seed, ag_dtype dtype);
/* Linear regression y = x w + b + noise with x ~ N(0, 1) [n, features], w ~ N(0,1), b ~ N(0,1);
 * y has shape [n, 1]. The true w ([features]) and b are written to `w_out`/`b_out` when not NULL. */
ag_dataset *ag_make_regression(int64_t n, int64_t features, double noise, uint64_t seed,
                               ag_dtype dtype, double *w_out, double *b_out);

#ifdef __cplusplus
}
#endif
#endif
