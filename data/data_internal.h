/* data/data_internal.h - helpers shared by the dataset files (dataset.c, batcher.c, csv.c,
 * idx.c, synthetic.c, preprocess.c). Not installed. */
#ifndef AG_DATA_INTERNAL_H
#define AG_DATA_INTERNAL_H

#include "../autograd/internal.h"

/* The rows of t (first axis) as a new tensor [n, t's trailing shape], copied row by row (one
 * memcpy for a contiguous run). rows == NULL means rows start..start+n-1. Rows must be valid. */
ag_tensor *ag__data_rows(const ag_tensor *t, const int64_t *rows, int64_t start, int64_t n);

/* ag_dataset_new with errors naming `fn`. With `discard`, x and y are freed on failure (for
 * tensors the caller just made); otherwise the caller keeps them. */
ag_dataset *ag__data_take(const char *fn, ag_tensor *x, ag_tensor *y, int num_classes,
                          bool discard);

/* Checks a dataset handed to a public function (`what` names it, e.g. "dataset" or "training
 * dataset"): non-NULL, x and y non-NULL and at least 1-D with the same first dimension and dtype.
 * The struct is public, so a hand-built one is checked before its rows are read. */
bool ag__data_check(const char *fn, const char *what, const ag_dataset *ds);

/* Every element of t is a whole number in [0, nc); otherwise an error "fn: what[i] = v is not a
 * class index in [0, nc)" naming the first bad element. */
bool ag__data_check_labels(const char *fn, const char *what, const ag_tensor *t, int nc);

/* Images and labels from two IDX files as a dataset (ag_load_idx_dataset, with errors naming
 * `fn`); num_classes 0 means the largest label + 1. */
ag_dataset *ag__load_idx_pair(const char *fn, const char *images_path, const char *labels_path,
                              ag_dtype dtype, int num_classes);

/* A random permutation of 0..n-1 from `r` (Fisher-Yates with ag_rng_below). */
void ag__data_permute(ag_rng *r, int64_t *perm, int64_t n);

#endif
