/* data/batcher.c - mini-batches over a dataset, epoch after epoch. Epoch e's order depends only
 * on (seed, e), so training resumed at epoch e sees exactly the batches it would have seen. */
#include <stdlib.h>

#include "data_internal.h"

struct ag_batcher {
    const ag_dataset *ds;
    int64_t n, batch;
    bool shuffle, drop_last;
    uint64_t seed;
    int epoch;
    int64_t pos;      /* next row of the epoch's order */
    int64_t *perm;    /* the epoch's order (shuffle only) */
    int perm_epoch;   /* epoch `perm` was drawn for; -1 when none yet */
};

ag_batcher *ag_batcher_new(const ag_dataset *ds, int64_t batch_size, bool shuffle, uint64_t seed,
                           bool drop_last)
{
    if (!ag__data_check("ag_batcher_new", "dataset", ds)) return NULL;
    int64_t n = ds->x->shape[0];
    if (batch_size < 1) {
        ag__error("ag_batcher_new: batch_size %lld must be at least 1", (long long)batch_size);
        return NULL;
    }
    if (n == 0 || (drop_last && batch_size > n)) {
        ag__error("ag_batcher_new: %lld examples give no batch of size %lld%s", (long long)n,
                  (long long)batch_size, n ? " with drop_last" : "");
        return NULL;
    }
    ag_batcher *b = calloc(1, sizeof *b);
    if (b && shuffle) b->perm = malloc(sizeof *b->perm * (size_t)n);
    if (!b || (shuffle && !b->perm)) {
        free(b);
        ag__error("ag_batcher_new: out of memory for %lld examples", (long long)n);
        return NULL;
    }
    b->ds = ds;
    b->n = n;
    b->batch = batch_size;
    b->shuffle = shuffle;
    b->drop_last = drop_last;
    b->seed = seed;
    b->perm_epoch = -1;
    return b;
}

/* Draws epoch e's permutation: the generator is seeded from a mix of (seed, e) alone. */
static void draw_perm(ag_batcher *b)
{
    ag_rng r = ag_rng_seed(b->seed ^ ((uint64_t)b->epoch * 0x9E3779B97F4A7C15ull));
    ag__data_permute(&r, b->perm, b->n);
    b->perm_epoch = b->epoch;
}

int ag_batcher_next(ag_batcher *b, ag_tensor **xb, ag_tensor **yb)
{
    if (xb) *xb = NULL;
    if (yb) *yb = NULL;
    if (!b || !xb || !yb) {
        ag__error("ag_batcher_next: %s is NULL", !b ? "batcher" : "an output pointer");
        return -1;
    }
    int64_t left = b->n - b->pos;
    if (left == 0 || (b->drop_last && left < b->batch)) {
        if (b->epoch == INT32_MAX) {
            ag__error("ag_batcher_next: epoch counter overflow");
            return -1;
        }
        b->epoch++;
        b->pos = 0;
        return 0;
    }
    if (b->shuffle && b->perm_epoch != b->epoch) draw_perm(b);
    int64_t k = left < b->batch ? left : b->batch;
    const int64_t *rows = b->shuffle ? b->perm + b->pos : NULL;
    ag_tensor *x = ag__data_rows(b->ds->x, rows, b->pos, k);
    if (!x) return -1;
    ag_tensor *y = ag__data_rows(b->ds->y, rows, b->pos, k);
    if (!y) {
        ag__discard(x);
        return -1;
    }
    b->pos += k;
    *xb = x;
    *yb = y;
    return 1;
}

int ag_batcher_seek_epoch(ag_batcher *b, int epoch)
{
    if (!b) {
        ag__error("ag_batcher_seek_epoch: batcher is NULL");
        return -1;
    }
    if (epoch < 0) {
        ag__error("ag_batcher_seek_epoch: epoch %d is negative", epoch);
        return -1;
    }
    b->epoch = epoch;
    b->pos = 0;
    return 0;
}

int ag_batcher_epoch(const ag_batcher *b)
{
    if (!b) {
        ag__error("ag_batcher_epoch: batcher is NULL");
        return -1;
    }
    return b->epoch;
}

int64_t ag_batcher_num_batches(const ag_batcher *b)
{
    if (!b) {
        ag__error("ag_batcher_num_batches: batcher is NULL");
        return -1;
    }
    /* n / batch rounded up, without n + batch - 1 (which overflows for a huge batch_size) */
    return b->n / b->batch + (!b->drop_last && b->n % b->batch != 0);
}

void ag_batcher_free(ag_batcher *b)
{
    if (!b) return;
    free(b->perm);
    free(b);
}
