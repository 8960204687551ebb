/* tests/test_dataset.c - datasets, batching and preprocessing (one-hot, standardization, area
 * resize). Expected values are worked out by hand (standardization, area weights). Loaders and
 * synthetic data are tested in tests/test_loaders.c. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "test_util.h"


/* x [n, 2] with rows (i, 100 + i) and y [n] = i % classes, or y [n, 1] = i when classes == 0. */
static ag_dataset *indexed(int64_t n, int classes)
{
    double *x = malloc(sizeof(double) * (size_t)n * 2), *y = malloc(sizeof(double) * (size_t)n);
    for (int64_t i = 0; i < n; i++) {
        x[2 * i] = (double)i;
        x[2 * i + 1] = 100.0 + (double)i;
        y[i] = classes ? (double)(i % classes) : (double)i;
    }
    ag_tensor *tx = ag_tensor_from_f64(AG_F64, 2, (int64_t[]){n, 2}, x);
    ag_tensor *ty = ag_tensor_from_f64(AG_F64, classes ? 1 : 2, (int64_t[]){n, 1}, y);
    free(x);
    free(y);
    ag_dataset *ds = ag_dataset_new(tx, ty, classes);
    cr_assert(ds, "ag_dataset_new: %s", ag_last_error());
    return ds;
}

/* ---- datasets ---- */

Test(data, dataset_takes_ownership_outside_and_inside_scopes)
{
    int64_t live = ag_memory_get_stats().live_tensors;
    ag_dataset *a = indexed(5, 0); /* made outside any scope */
    ag_scope *s = ag_scope_begin();
    ag_tensor *x = T64(2, 1, ((double[]){1, 2}));
    ag_tensor *y = T64_1(2, ((double[]){1, 0}));
    ag_dataset *b = ag_dataset_new(x, y, 2);
    cr_assert(b, "%s", ag_last_error());
    ag_scope_end(s); /* the dataset claimed x and y from the scope */
    cr_assert_eq(ag_dataset_size(b), 2);
    expect_values(b->x, (double[]){1, 2}, 2, 0);
    cr_assert_eq(b->num_classes, 2);
    cr_assert_eq(ag_dataset_size(a), 5);
    ag_dataset_free(a);
    ag_dataset_free(b);
    ag_dataset_free(NULL);
    cr_assert_eq(ag_memory_get_stats().live_tensors, live);
}

Test(data, dataset_new_errors_leave_tensors_to_the_caller)
{
    ag_scope *s = ag_scope_begin();
    ag_tensor *x = T64(3, 2, ((double[]){1, 2, 3, 4, 5, 6}));
    ag_tensor *y4 = T64_1(4, ((double[]){0, 1, 2, 3}));
    cr_assert_null(ag_dataset_new(x, y4, 0));
    expect_error_mentions("ag_dataset_new", "[3,2]", "[4]");
    ag_tensor *yh = T64_1(3, ((double[]){0, 1, 2.5}));
    cr_assert_null(ag_dataset_new(x, yh, 3));
    expect_error_mentions("ag_dataset_new", "y[2]", "2.5");
    ag_tensor *yb = T64_1(3, ((double[]){0, 3, 1}));
    cr_assert_null(ag_dataset_new(x, yb, 3));
    expect_error_mentions("y[1]", "3", "[0, 3)");
    cr_assert_null(ag_dataset_new(x, T64(3, 2, ((double[]){0, 1, 0, 1, 0, 1})), 2));
    expect_error_mentions("ag_dataset_new", "[N]", "[3,2]");
    cr_assert_null(ag_dataset_new(x, yb, -1));
    expect_error_mentions("num_classes", "-1");
    ag_tensor *y32 = ag_zeros(AG_F32, 1, (int64_t[]){3});
    cr_assert_null(ag_dataset_new(x, y32, 0));
    expect_error_mentions("float64", "float32");
    cr_assert_null(ag_dataset_new(x, x, 0));
    expect_error_mentions("same tensor");
    ag_tensor *p = tu_param(1, 1, (int64_t[]){3}, 0, 1);
    cr_assert_null(ag_dataset_new(x, p, 0));
    expect_error_mentions("requires grad");
    ag_clear_error();
    cr_assert_null(ag_dataset_new(NULL, yb, 0));
    expect_error_mentions("ag_dataset_new", "x is NULL");
    cr_assert_eq(ag_dataset_size(NULL), -1);
    ag_scope_end(s); /* nothing was taken: the scope frees all of them */
}

Test(data, subset_copies_rows)
{
    ag_dataset *ds = indexed(6, 3);
    ag_dataset *sub = ag_dataset_subset(ds, (int64_t[]){4, 0, 4}, 3);
    cr_assert(sub, "%s", ag_last_error());
    expect_shape(sub->x, 2, (int64_t[]){3, 2});
    expect_values(sub->x, (double[]){4, 104, 0, 100, 4, 104}, 6, 0);
    expect_values(sub->y, (double[]){1, 0, 1}, 3, 0);
    cr_assert_eq(sub->num_classes, 3);
    cr_assert_null(ag_dataset_subset(ds, (int64_t[]){1, 6}, 2));
    expect_error_mentions("ag_dataset_subset", "rows[1] = 6", "6 examples");
    cr_assert_null(ag_dataset_subset(ds, (int64_t[]){-1}, 1));
    expect_error_mentions("rows[0] = -1");
    ag_dataset_free(sub);
    ag_dataset_free(ds);
}

Test(data, split_takes_the_last_fraction_like_keras)
{
    ag_dataset *ds = indexed(10, 0), *a, *b;
    cr_assert_eq(ag_dataset_split(ds, 0.2, false, 0, &a, &b), 0, "%s", ag_last_error());
    expect_shape(a->x, 2, (int64_t[]){8, 2});
    expect_shape(b->y, 2, (int64_t[]){2, 1});
    expect_values(a->y, (double[]){0, 1, 2, 3, 4, 5, 6, 7}, 8, 0);
    expect_values(b->x, (double[]){8, 108, 9, 109}, 4, 0);
    ag_dataset_free(a);
    ag_dataset_free(b);
    /* round(10 * 0.75) = round(7.5) = 8 */
    cr_assert_eq(ag_dataset_split(ds, 0.25, false, 0, &a, &b), 0);
    cr_assert_eq(ag_dataset_size(a), 8);
    cr_assert_eq(ag_dataset_size(b), 2);
    ag_dataset_free(a);
    ag_dataset_free(b);
    ag_dataset_free(ds);
}

Test(data, shuffled_split_is_a_seeded_permutation)
{
    ag_dataset *ds = indexed(50, 5), *a, *b, *a2, *b2;
    cr_assert_eq(ag_dataset_split(ds, 0.3, true, 7, &a, &b), 0, "%s", ag_last_error());
    cr_assert_eq(ag_dataset_size(a), 35);
    cr_assert_eq(ag_dataset_size(b), 15);
    int seen[50] = {0}, in_order = 1;
    for (int64_t i = 0; i < 50; i++) {
        ag_dataset *part = i < 35 ? a : b;
        int64_t r = i < 35 ? i : i - 35;
        int idx = (int)ag_get(part->x, 2 * r);
        seen[idx]++;
        cr_assert_eq(ag_get(part->x, 2 * r + 1), 100.0 + idx); /* rows stay whole */
        cr_assert_eq(ag_get(part->y, r), (double)(idx % 5));   /* and paired with their y */
        in_order &= idx == i;
    }
    for (int i = 0; i < 50; i++) cr_assert_eq(seen[i], 1, "row %d seen %d times", i, seen[i]);
    cr_assert(!in_order, "shuffled split kept the original order");
    cr_assert_eq(ag_dataset_split(ds, 0.3, true, 7, &a2, &b2), 0);
    for (int64_t i = 0; i < 15; i++) cr_assert_eq(ag_get(b->y, i), ag_get(b2->y, i));
    ag_dataset_free(a);
    ag_dataset_free(b);
    ag_dataset_free(a2);
    ag_dataset_free(b2);
    cr_assert_eq(ag_dataset_split(ds, 0.0, false, 0, &a, &b), -1);
    expect_error_mentions("ag_dataset_split", "fraction 0", "50 examples");
    cr_assert_null(a);
    cr_assert_eq(ag_dataset_split(ds, 1.0, false, 0, &a, &b), -1);
    cr_assert_eq(ag_dataset_split(ds, 0.001, false, 0, &a, &b), -1); /* second part empty */
    cr_assert_eq(ag_dataset_split(ds, 0.5, false, 0, NULL, &b), -1);
    ag_dataset_free(ds);
}

Test(data, cast_converts_both_tensors)
{
    ag_dataset *ds = indexed(4, 2);
    ag_dataset *c = ag_dataset_cast(ds, AG_F32);
    cr_assert(c, "%s", ag_last_error());
    cr_assert_eq(ag_get_dtype(c->x), AG_F32);
    cr_assert_eq(ag_get_dtype(c->y), AG_F32);
    cr_assert_eq(c->num_classes, 2);
    expect_values(c->x, (double[]){0, 100, 1, 101, 2, 102, 3, 103}, 8, 0);
    cr_assert_null(ag_dataset_cast(ds, (ag_dtype)7));
    expect_error_mentions("ag_dataset_cast", "7");
    ag_dataset_free(c);
    ag_dataset_free(ds);
}

/* ---- batching ---- */

/* Runs one epoch; writes the example order (from x's first column) and the batch sizes.
 * Checks each batch's shapes and that x rows and y stay paired. Returns the batch count. */
static int run_epoch(ag_batcher *b, int64_t *order, int64_t *sizes, int classes)
{
    int nb = 0;
    int64_t k = 0;
    ag_tensor *xb, *yb;
    int rc;
    while ((rc = ag_batcher_next(b, &xb, &yb)) == 1) {
        int64_t m = ag_dim(xb, 0);
        cr_assert_eq(ag_ndim(xb), 2);
        cr_assert_eq(ag_dim(xb, 1), 2);
        cr_assert_eq(ag_ndim(yb), classes ? 1 : 2, "y keeps its trailing shape");
        cr_assert_eq(ag_dim(yb, 0), m);
        cr_assert(!ag_requires_grad(xb) && !ag_requires_grad(yb));
        for (int64_t i = 0; i < m; i++) {
            int64_t idx = (int64_t)ag_get(xb, 2 * i);
            cr_assert_eq(ag_get(xb, 2 * i + 1), 100.0 + (double)idx);
            cr_assert_eq(ag_get(yb, i), classes ? (double)(idx % classes) : (double)idx);
            order[k++] = idx;
        }
        sizes[nb++] = m;
        ag_tensor_free(xb);
        ag_tensor_free(yb);
    }
    cr_assert_eq(rc, 0, "%s", ag_last_error());
    cr_assert_null(xb);
    return nb;
}

Test(data, batcher_covers_each_example_once_per_epoch)
{
    ag_dataset *ds = indexed(10, 3);
    ag_batcher *b = ag_batcher_new(ds, 3, true, 42, false);
    cr_assert(b, "%s", ag_last_error());
    cr_assert_eq(ag_batcher_num_batches(b), 4);
    for (int e = 0; e < 3; e++) {
        int64_t order[10], sizes[8];
        cr_assert_eq(ag_batcher_epoch(b), e);
        cr_assert_eq(run_epoch(b, order, sizes, 3), 4);
        cr_assert(sizes[0] == 3 && sizes[1] == 3 && sizes[2] == 3 && sizes[3] == 1);
        int seen[10] = {0};
        for (int i = 0; i < 10; i++) seen[order[i]]++;
        for (int i = 0; i < 10; i++) cr_assert_eq(seen[i], 1, "epoch %d: example %d", e, i);
    }
    cr_assert_eq(ag_batcher_epoch(b), 3);
    ag_batcher_free(b);
    ag_dataset_free(ds);
}

Test(data, batcher_drop_last_and_plain_order)
{
    ag_dataset *ds = indexed(10, 0);
    ag_batcher *b = ag_batcher_new(ds, 3, true, 1, true);
    cr_assert_eq(ag_batcher_num_batches(b), 3);
    int64_t order[10], sizes[8];
    cr_assert_eq(run_epoch(b, order, sizes, 0), 3);
    int seen[10] = {0};
    for (int i = 0; i < 9; i++) seen[order[i]]++;
    for (int i = 0; i < 10; i++) cr_assert_leq(seen[i], 1);
    ag_batcher_free(b);
    /* Unshuffled: 0..9 in order; batch larger than N gives one batch. */
    b = ag_batcher_new(ds, 4, false, 0, false);
    cr_assert_eq(run_epoch(b, order, sizes, 0), 3);
    for (int i = 0; i < 10; i++) cr_assert_eq(order[i], i);
    ag_batcher_free(b);
    b = ag_batcher_new(ds, 64, false, 0, false);
    cr_assert_eq(run_epoch(b, order, sizes, 0), 1);
    cr_assert_eq(sizes[0], 10);
    ag_batcher_free(b);
    ag_dataset_free(ds);
}

static void epoch_order(ag_batcher *b, int64_t *order)
{
    int64_t sizes[64];
    run_epoch(b, order, sizes, 0);
}

Test(data, batcher_epochs_replay_exactly)
{
    enum { N = 40 };
    ag_dataset *ds = indexed(N, 0);
    ag_batcher *b = ag_batcher_new(ds, 7, true, 123, false);
    int64_t o[3][N], r[N];
    for (int e = 0; e < 3; e++) epoch_order(b, o[e]);
    cr_assert(memcmp(o[0], o[1], sizeof o[0]) != 0, "epochs 0 and 1 have the same order");
    cr_assert(memcmp(o[1], o[2], sizeof o[0]) != 0, "epochs 1 and 2 have the same order");
    cr_assert_eq(ag_batcher_seek_epoch(b, 1), 0);
    cr_assert_eq(ag_batcher_epoch(b), 1);
    epoch_order(b, r);
    cr_assert(memcmp(r, o[1], sizeof r) == 0, "seek_epoch(1) did not replay epoch 1");
    epoch_order(b, r);
    cr_assert(memcmp(r, o[2], sizeof r) == 0, "epoch 2 after a seek differs");
    /* A new batcher with the same seed gives the same orders; another seed does not. */
    ag_batcher *b2 = ag_batcher_new(ds, 7, true, 123, false), *b3 = ag_batcher_new(ds, 7, true, 124, false);
    epoch_order(b2, r);
    cr_assert(memcmp(r, o[0], sizeof r) == 0);
    epoch_order(b3, r);
    cr_assert(memcmp(r, o[0], sizeof r) != 0);
    /* Seeking in the middle of an epoch restarts it. */
    ag_tensor *xb, *yb;
    cr_assert_eq(ag_batcher_seek_epoch(b2, 0), 0);
    cr_assert_eq(ag_batcher_next(b2, &xb, &yb), 1);
    ag_tensor_free(xb);
    ag_tensor_free(yb);
    cr_assert_eq(ag_batcher_seek_epoch(b2, 0), 0);
    epoch_order(b2, r);
    cr_assert(memcmp(r, o[0], sizeof r) == 0);
    ag_batcher_free(b);
    ag_batcher_free(b2);
    ag_batcher_free(b3);
    ag_dataset_free(ds);
}

Test(data, batcher_errors)
{
    ag_dataset *ds = indexed(5, 0);
    cr_assert_null(ag_batcher_new(ds, 0, false, 0, false));
    expect_error_mentions("ag_batcher_new", "batch_size 0");
    cr_assert_null(ag_batcher_new(ds, 6, false, 0, true));
    expect_error_mentions("ag_batcher_new", "5 examples", "drop_last");
    cr_assert_null(ag_batcher_new(NULL, 2, false, 0, false));
    ag_batcher *b = ag_batcher_new(ds, 2, false, 0, false);
    cr_assert_eq(ag_batcher_seek_epoch(b, -1), -1);
    expect_error_mentions("ag_batcher_seek_epoch", "-1");
    ag_tensor *xb;
    cr_assert_eq(ag_batcher_next(b, &xb, NULL), -1);
    cr_assert_null(xb);
    cr_assert_eq(ag_batcher_next(NULL, &xb, &xb), -1);
    cr_assert_eq(ag_batcher_num_batches(NULL), -1);
    ag_batcher_free(b);
    ag_batcher_free(NULL);
    ag_dataset_free(ds);
}

Test(data, batches_belong_to_the_current_scope)
{
    int64_t live = ag_memory_get_stats().live_tensors;
    ag_dataset *ds = indexed(9, 0);
    ag_batcher *b = ag_batcher_new(ds, 4, true, 5, false);
    ag_tensor *xb, *yb;
    for (int step = 0; step < 7; step++) {
        ag_scope *s = ag_scope_begin();
        int rc = ag_batcher_next(b, &xb, &yb);
        cr_assert_geq(rc, 0);
        ag_scope_end(s);
    }
    ag_batcher_free(b);
    ag_dataset_free(ds);
    cr_assert_eq(ag_memory_get_stats().live_tensors, live);
}

/* ---- preprocessing ---- */

Test(data, one_hot_rows)
{
    ag_tensor *l = T64_1(4, ((double[]){2, 0, 1, 2}));
    ag_tensor *o = ag_one_hot(l, 3);
    expect_shape(o, 2, (int64_t[]){4, 3});
    expect_values(o, (double[]){0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 1}, 12, 0);
    ag_tensor_free(o);
    cr_assert_null(ag_one_hot(l, 2));
    expect_error_mentions("ag_one_hot", "labels[0] = 2", "[0, 2)");
    ag_tensor *h = T64_1(2, ((double[]){0, 0.5}));
    cr_assert_null(ag_one_hot(h, 2));
    expect_error_mentions("labels[1] = 0.5");
    cr_assert_null(ag_one_hot(l, 0));
    ag_tensor_free(l);
    ag_tensor_free(h);
}

Test(data, standardize_by_hand)
{
    /* Column 0: 1, 2, 3, 6: mean 3, population variance (4+1+0+9)/4 = 3.5.
     * Column 1: constant 5: std taken as 1, standardizes to 0.
     * Column 2: 0.1 three times and 0.1: constant too (a rounded mean must not matter). */
    ag_tensor *x = T64(4, 3, ((double[]){1, 5, 0.1, 2, 5, 0.1, 3, 5, 0.1, 6, 5, 0.1}));
    ag_tensor *m, *sd;
    cr_assert_eq(ag_standardize_fit(x, &m, &sd), 0, "%s", ag_last_error());
    double s = sqrt(3.5);
    expect_values(m, (double[]){3, 5, 0.1}, 3, 1e-15);
    expect_values(sd, (double[]){s, 1, 1}, 3, 1e-15);
    ag_tensor *z = ag_standardize_apply(x, m, sd);
    expect_values(z, (double[]){-2 / s, 0, 0, -1 / s, 0, 0, 0, 0, 0, 3 / s, 0, 0}, 12, 1e-15);
    /* Apply to other data with the training statistics. */
    ag_tensor *t = T64(1, 3, ((double[]){3 + s, 7, 0.1}));
    ag_tensor *zt = ag_standardize_apply(t, m, sd);
    expect_values(zt, (double[]){1, 2, 0}, 3, 1e-15);
    ag_tensor *bad = T64(2, 2, ((double[]){1, 2, 3, 4}));
    cr_assert_null(ag_standardize_apply(bad, m, sd));
    expect_error_mentions("ag_standardize_apply", "[2,2]", "[3]");
    ag_tensor *zero = ag_zeros(AG_F64, 1, (int64_t[]){3});
    cr_assert_null(ag_standardize_apply(x, m, zero));
    expect_error_mentions("std[0] = 0");
    ag_tensor *m2, *s2, *v = T64_1(2, ((double[]){1, 2}));
    cr_assert_eq(ag_standardize_fit(v, &m2, &s2), -1);
    expect_error_mentions("ag_standardize_fit", "[N, F]", "[2]");
    cr_assert_null(m2);
    for (ag_tensor **p = (ag_tensor *[]){x, m, sd, z, t, zt, bad, zero, v}, **e = p + 9; p < e; p++)
        ag_tensor_free(*p);
}

Test(data, standardize_float32_columns)
{
    ag_rng r = ag_rng_seed(3);
    ag_tensor *x = ag_rand_normal(&r, AG_F32, 2, (int64_t[]){200, 4}, 3.0, 2.0), *m, *sd;
    cr_assert_eq(ag_standardize_fit(x, &m, &sd), 0);
    ag_tensor *z = ag_standardize_apply(x, m, sd);
    for (int j = 0; j < 4; j++) {
        double s1 = 0, s2 = 0;
        for (int i = 0; i < 200; i++) {
            double v = ag_get(z, i * 4 + j);
            s1 += v;
            s2 += v * v;
        }
        cr_assert(fabs(s1 / 200) < 1e-5 && fabs(s2 / 200 - 1) < 1e-5, "column %d", j);
    }
    ag_tensor_free(x);
    ag_tensor_free(m);
    ag_tensor_free(sd);
    ag_tensor_free(z);
}

Test(data, resize_by_whole_factor_is_average_pooling)
{
    ag_rng r = ag_rng_seed(9);
    ag_tensor *img = ag_rand_uniform(&r, AG_F64, 3, (int64_t[]){3, 28, 28}, 0, 1);
    ag_tensor *out = ag_resize_images(img, 28, 28, 14, 14);
    expect_shape(out, 2, (int64_t[]){3, 196});
    double want[3 * 196];
    const double *p = ag_data_f64(img);
    for (int n = 0; n < 3; n++)
        for (int i = 0; i < 14; i++)
            for (int j = 0; j < 14; j++) {
                const double *q = p + n * 784 + 2 * i * 28 + 2 * j;
                want[n * 196 + i * 14 + j] = (q[0] + q[1] + q[28] + q[29]) / 4;
            }
    expect_values(out, want, 3 * 196, 1e-15);
    /* Flat input [N, h*w] gives the same. */
    ag_tensor *flat = ag_tensor_from(AG_F64, 2, (int64_t[]){3, 784}, ag_data(img));
    ag_tensor *out2 = ag_resize_images(flat, 28, 28, 14, 14);
    expect_values(out2, ag_data_f64(out), 3 * 196, 0);
    cr_assert_null(ag_resize_images(flat, 28, 27, 14, 14));
    expect_error_mentions("ag_resize_images", "[3,784]", "[N, 28, 27]");
    cr_assert_null(ag_resize_images(img, 28, 28, 0, 14));
    expect_error_mentions("ag_resize_images", "28x28 -> 0x14");
    ag_tensor_free(out2);
    ag_tensor_free(flat);
    ag_tensor_free(out);
    ag_tensor_free(img);
}

Test(data, resize_weights_partial_pixels)
{
    /* 5 -> 2 along an axis: output 0 covers input [0, 2.5): weights 0.4, 0.4, 0.2 for inputs
     * 0, 1, 2; output 1 covers [2.5, 5): 0.2, 0.4, 0.4 for inputs 2, 3, 4.
     * Image 0, (r, c) -> 5r + c, is linear: out = 5 E[r] + E[c] with E = 0.8 or 3.2.
     * Image 1: only the centre pixel (2,2) is 1: it is split over all four outputs, 0.2*0.2.
     * Image 2: only pixel (0,1) is 1: inside output (0,0) with weight 0.4 * 0.4. */
    double v[75] = {0};
    for (int i = 0; i < 25; i++) v[i] = i;
    v[25 + 12] = 1;
    v[50 + 1] = 1;
    ag_tensor *img = tu_tensor(AG_F64, 3, (int64_t[]){3, 5, 5}, v);
    ag_tensor *out = ag_resize_images(img, 5, 5, 2, 2);
    expect_values(out, (double[]){4.8, 7.2, 16.8, 19.2, 0.04, 0.04, 0.04, 0.04, 0.16, 0, 0, 0},
                  12, 1e-15);
    /* Upsampling 1x2 -> 1x3: outputs cover [0, 2/3), [2/3, 4/3), [4/3, 2) of the input:
     * a, (a + b) / 2, b. */
    ag_tensor *row = T64(1, 2, ((double[]){2, 6}));
    ag_tensor *up = ag_resize_images(row, 1, 2, 1, 3);
    expect_values(up, (double[]){2, 4, 6}, 3, 1e-15);
    ag_tensor_free(out);
    ag_tensor_free(img);
    ag_tensor_free(row);
    ag_tensor_free(up);
}

Test(data, resize_28_to_10_keeps_the_mean)
{
    /* Area averaging with weights that sum to one per output conserves the image's mean:
     * mean(out) = mean(in) exactly when the scales are uniform (28 = 10 * 2.8). */
    ag_rng r = ag_rng_seed(4);
    ag_tensor *img = ag_rand_uniform(&r, AG_F32, 2, (int64_t[]){2, 784}, 0, 1);
    ag_tensor *out = ag_resize_images(img, 28, 28, 10, 10);
    expect_shape(out, 2, (int64_t[]){2, 100});
    for (int n = 0; n < 2; n++) {
        double si = 0, so = 0;
        for (int i = 0; i < 784; i++) si += ag_get(img, n * 784 + i);
        for (int i = 0; i < 100; i++) so += ag_get(out, n * 100 + i);
        cr_assert(fabs(si / 784 - so / 100) < 1e-6, "image %d: %g vs %g", n, si / 784, so / 100);
    }
    /* Output (0,0) covers input rows/columns [0, 2.8): weights 1, 1, 0.8 (over 2.8). */
    double want = 0;
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++)
            want += (a < 2 ? 1 : 0.8) * (b < 2 ? 1 : 0.8) * ag_get(img, a * 28 + b);
    want /= 2.8 * 2.8;
    cr_assert(fabs(ag_get(out, 0) - want) < 1e-6, "got %g, want %g", ag_get(out, 0), want);
    ag_tensor_free(img);
    ag_tensor_free(out);
}

