/* tune/kfold.c - k-fold and stratified k-fold splits (scikit-learn's KFold and the idea of
 * StratifiedKFold), and the train/test datasets of one fold. */
#include <stdlib.h>

#include "tune_internal.h"

/* A random permutation of 0..n-1 (Fisher-Yates), or the identity without shuffling. */
static void order(int64_t *perm, int64_t n, bool shuffle, uint64_t seed)
{
    for (int64_t i = 0; i < n; i++) perm[i] = i;
    if (!shuffle) return;
    ag_rng r = ag_rng_seed(seed);
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)ag_rng_below(&r, (uint64_t)i + 1);
        int64_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
}

static int check_k(const char *fn, int64_t n, int k, const void *out)
{
    if (!out) {
        ag__error("%s: fold_of is NULL", fn);
        return -1;
    }
    if (k < 2 || k > n) {
        ag__error("%s: need 2 <= k <= n (got k %d for %lld examples)", fn, k, (long long)n);
        return -1;
    }
    return 0;
}

int ag_kfold(int64_t n, int k, bool shuffle, uint64_t seed, int *fold_of)
{
    if (check_k("ag_kfold", n, k, fold_of) < 0) return -1;
    int64_t *perm = malloc(sizeof *perm * (size_t)n);
    if (!perm) {
        ag__error("ag_kfold: out of memory for %lld examples", (long long)n);
        return -1;
    }
    order(perm, n, shuffle, seed);
    /* Contiguous blocks of the order: the first n % k folds get one extra example. */
    int64_t base = n / k, extra = n % k, pos = 0;
    for (int f = 0; f < k; f++) {
        int64_t size = base + (f < extra);
        for (int64_t i = 0; i < size; i++) fold_of[perm[pos++]] = f;
    }
    free(perm);
    return 0;
}

int ag_stratified_kfold(const ag_dataset *ds, int k, bool shuffle, uint64_t seed, int *fold_of)
{
    if (!ds) {
        ag__error("ag_stratified_kfold: dataset is NULL");
        return -1;
    }
    int64_t n = ag_dataset_size(ds);
    if (ds->num_classes <= 0 || ag_ndim(ds->y) != 1) {
        ag__error("ag_stratified_kfold: needs a classification dataset with [N] class indices "
                  "(num_classes %d, y has %d dimensions)", ds->num_classes, ag_ndim(ds->y));
        return -1;
    }
    if (check_k("ag_stratified_kfold", n, k, fold_of) < 0) return -1;
    int64_t *perm = malloc(sizeof *perm * (size_t)n);
    int *label = malloc(sizeof *label * (size_t)n);
    if (!perm || !label) {
        free(perm);
        free(label);
        ag__error("ag_stratified_kfold: out of memory for %lld examples", (long long)n);
        return -1;
    }
    for (int64_t i = 0; i < n; i++) label[i] = (int)ag_get(ds->y, i);
    order(perm, n, shuffle, seed);
    /* Deal each class's examples (in the shuffled order) to folds 0, 1, ..., k-1, 0, ...,
     * carrying the position on from one class to the next: per-class counts per fold then
     * differ by at most one, and so do the fold sizes. */
    int64_t pos = 0;
    for (int c = 0; c < ds->num_classes; c++)
        for (int64_t i = 0; i < n; i++)
            if (label[perm[i]] == c) fold_of[perm[i]] = (int)(pos++ % k);
    free(perm);
    free(label);
    return 0;
}

int ag_fold_split(const ag_dataset *ds, const int *fold_of, int k, int fold, ag_dataset **train,
                  ag_dataset **test)
{
    if (train) *train = NULL;
    if (test) *test = NULL;
    if (!ds || !fold_of || !train || !test) {
        ag__error("ag_fold_split: %s is NULL", !ds ? "dataset" : !fold_of ? "fold_of"
                                               : !train ? "train" : "test");
        return -1;
    }
    if (k < 2 || fold < 0 || fold >= k) {
        ag__error("ag_fold_split: fold %d out of range for k = %d", fold, k);
        return -1;
    }
    int64_t n = ag_dataset_size(ds), ntest = 0;
    for (int64_t i = 0; i < n; i++) {
        if (fold_of[i] < 0 || fold_of[i] >= k) {
            ag__error("ag_fold_split: fold_of[%lld] = %d is not in [0, %d)", (long long)i,
                      fold_of[i], k);
            return -1;
        }
        ntest += fold_of[i] == fold;
    }
    if (ntest == 0 || ntest == n) {
        ag__error("ag_fold_split: fold %d holds %lld of %lld examples (both parts must be "
                  "non-empty)", fold, (long long)ntest, (long long)n);
        return -1;
    }
    int64_t *rows = malloc(sizeof *rows * (size_t)n);
    if (!rows) {
        ag__error("ag_fold_split: out of memory");
        return -1;
    }
    int64_t a = 0, b = ntest; /* test rows first, then train rows, each in order */
    for (int64_t i = 0; i < n; i++) {
        if (fold_of[i] == fold)
            rows[a++] = i;
        else
            rows[b++] = i;
    }
    *test = ag_dataset_subset(ds, rows, ntest);
    *train = *test ? ag_dataset_subset(ds, rows + ntest, n - ntest) : NULL;
    free(rows);
    if (!*train) {
        ag_dataset_free(*test);
        *test = NULL;
        return -1;
    }
    return 0;
}
