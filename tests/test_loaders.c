/* tests/test_loaders.c - the CSV and IDX loaders and the synthetic datasets. Expected values come
 * from the files tests/fixtures/gen_data.py writes with Python's struct and gzip modules. Broken
 * inputs (truncated at every length, corrupt gzip, bad CSV fields) must give errors, never
 * crashes. Datasets, batching and preprocessing are tested in tests/test_dataset.c. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "test_util.h"

#define DATA "tests/fixtures/data/"

/* ---- CSV ---- */

/* good.csv: feat_a, feat_b, label, value with rows
 *   1.5, -2, 0, 10.25 / 3, 4e2, 2, -1 / 0.125, 7, 1, 3.5 / -0, 1e-3, 2, 0 */
static void expect_good_by_name(const char *path, char delim)
{
    ag_csv_opts o = {.target = "value", .delimiter = delim, .dtype = AG_F64};
    ag_dataset *ds = ag_load_csv(path, &o);
    cr_assert(ds, "%s: %s", path, ag_last_error());
    expect_shape(ds->x, 2, (int64_t[]){4, 3});
    expect_shape(ds->y, 2, (int64_t[]){4, 1});
    expect_values(ds->x, (double[]){1.5, -2, 0, 3, 400, 2, 0.125, 7, 1, -0.0, 1e-3, 2}, 12, 0);
    expect_values(ds->y, (double[]){10.25, -1, 3.5, 0}, 4, 0);
    cr_assert_eq(ds->num_classes, 0);
    ag_dataset_free(ds);
}

Test(data, csv_target_by_name)
{
    expect_good_by_name(DATA "good.csv", 0);
    expect_good_by_name(DATA "crlf.csv", 0);
    expect_good_by_name(DATA "no_newline.csv", ',');
    expect_good_by_name(DATA "semicolon.csv", ';');
    expect_good_by_name(DATA "quoted_header.csv", 0);
}

Test(data, csv_target_by_index_and_classification)
{
    ag_csv_opts o = {.target_index = 2, .classification = true};
    ag_dataset *ds = ag_load_csv(DATA "good.csv", &o);
    cr_assert(ds, "%s", ag_last_error());
    cr_assert_eq(ag_get_dtype(ds->x), AG_F32);
    expect_shape(ds->y, 1, (int64_t[]){4});
    expect_values(ds->y, (double[]){0, 2, 1, 2}, 4, 0);
    expect_values(ds->x, (double[]){1.5, -2, 10.25, 3, 400, -1, 0.125, 7, 3.5, 0, 1e-3, 0}, 12,
                  1e-7);
    cr_assert_eq(ds->num_classes, 3);
    ag_dataset_free(ds);
    /* -1: the last column; NULL options: the zero defaults (column 0). */
    o = (ag_csv_opts){.target_index = -1};
    ds = ag_load_csv(DATA "crlf.csv", &o);
    expect_values(ds->y, (double[]){10.25, -1, 3.5, 0}, 4, 0);
    ag_dataset_free(ds);
    ds = ag_load_csv(DATA "good.csv", NULL);
    expect_values(ds->y, (double[]){1.5, 3, 0.125, 0}, 4, 0);
    expect_shape(ds->x, 2, (int64_t[]){4, 3});
    ag_dataset_free(ds);
}

/* The load fails and the error names each fragment. */
static void expect_csv_error(const char *file, const ag_csv_opts *o, const char *a,
                             const char *b, const char *c)
{
    ag_clear_error();
    ag_dataset *ds = ag_load_csv(file, o);
    cr_assert_null(ds, "%s loaded", file);
    expect_error_mentions("ag_load_csv", a, b, c);
}

Test(data, csv_errors_name_file_line_and_column)
{
    ag_csv_opts cls = {.target_index = -1, .classification = true};
    expect_csv_error(DATA "bad_text.csv", NULL, "bad_text.csv line 3", "column 2 ('b')", "abc");
    expect_csv_error(DATA "bad_short.csv", NULL, "bad_short.csv line 4", "2 fields", "3");
    expect_csv_error(DATA "bad_long.csv", NULL, "line 2", "4 fields", "has 3");
    expect_csv_error(DATA "bad_empty_field.csv", NULL, "line 2", "column 2", "empty field");
    expect_csv_error(DATA "bad_inf.csv", NULL, "line 3", "column 2", "not a finite number");
    expect_csv_error(DATA "bad_nan.csv", NULL, "line 2", "column 1 ('a')", "nan");
    expect_csv_error(DATA "bad_label.csv", &cls, "line 3", "column 3 ('y')", "1.5");
    expect_csv_error(DATA "bad_neg_label.csv", &cls, "line 2", "column 3", "-1");
    expect_csv_error(DATA "empty.csv", NULL, "empty.csv", "empty", "header");
    expect_csv_error(DATA "header_only.csv", NULL, "header_only.csv", "no data rows", "header");
    expect_csv_error(DATA "one_column.csv", NULL, "one_column.csv", "1 column", "feature");
    ag_csv_opts name = {.target = "price"};
    expect_csv_error(DATA "good.csv", &name, "good.csv line 1", "no column named 'price'",
                     "header");
    ag_csv_opts idx = {.target_index = 4};
    expect_csv_error(DATA "good.csv", &idx, "target_index 4", "4 columns", "good.csv");
    expect_csv_error(DATA "missing.csv", NULL, "cannot open", "missing.csv", "No such file");
    ag_csv_opts dt = {.dtype = (ag_dtype)5};
    expect_csv_error(DATA "good.csv", &dt, "dtype", "AG_F32", "AG_F64");
    /* The wrong delimiter makes one column: the error says which delimiter was used. */
    expect_csv_error(DATA "semicolon.csv", NULL, "1 column", "','", "semicolon.csv");
}

/* Writes `len` bytes to a new temporary file; returns its path (static buffer per slot). */
static const char *temp_file(const void *bytes, size_t len, int slot)
{
    static char paths[2][64];
    snprintf(paths[slot], sizeof paths[slot], "/tmp/ag_test_data_XXXXXX");
    int fd = mkstemp(paths[slot]);
    cr_assert_geq(fd, 0);
    FILE *f = fdopen(fd, "wb");
    cr_assert(f);
    cr_assert_eq(fwrite(bytes, 1, len, f), len);
    cr_assert_eq(fclose(f), 0);
    return paths[slot];
}

Test(data, csv_very_long_lines)
{
    enum { COLS = 20000 };
    size_t cap = (size_t)COLS * 24 * 3 + 1024, n = 0;
    char *buf = malloc(cap);
    for (int j = 0; j < COLS; j++) n += (size_t)sprintf(buf + n, j ? ",column_%d" : "column_%d", j);
    n += (size_t)sprintf(buf + n, "\n");
    for (int i = 0; i < 2; i++) {
        for (int j = 0; j < COLS; j++)
            n += (size_t)sprintf(buf + n, j ? ",%d.25" : "%d.25", i * COLS + j);
        n += (size_t)sprintf(buf + n, "\r\n");
    }
    const char *path = temp_file(buf, n, 0);
    free(buf);
    ag_csv_opts o = {.target_index = -1, .dtype = AG_F64};
    ag_dataset *ds = ag_load_csv(path, &o);
    unlink(path);
    cr_assert(ds, "%s", ag_last_error());
    expect_shape(ds->x, 2, (int64_t[]){2, COLS - 1});
    cr_assert_eq(ag_get(ds->x, COLS - 2), COLS - 2 + 0.25);
    cr_assert_eq(ag_get(ds->x, COLS - 1), COLS + 0.25);
    cr_assert_eq(ag_get(ds->y, 1), 2 * COLS - 1 + 0.25);
    ag_dataset_free(ds);
}

/* ---- IDX ---- */

static double pixel(int n, int r, int c) { return (double)((n * 97 + r * 31 + c * 17 + 3) % 256); }

static void expect_images(const char *path)
{
    ag_tensor *t = ag_load_idx(path, AG_F64, 1.0);
    cr_assert(t, "%s: %s", path, ag_last_error());
    expect_shape(t, 3, (int64_t[]){3, 4, 5});
    for (int n = 0; n < 3; n++)
        for (int r = 0; r < 4; r++)
            for (int c = 0; c < 5; c++)
                cr_assert_eq(ag_get(t, n * 20 + r * 5 + c), pixel(n, r, c));
    ag_tensor_free(t);
    t = ag_load_idx(path, AG_F32, 1.0 / 255);
    cr_assert_eq(ag_get_dtype(t), AG_F32);
    cr_assert_float_eq(ag_get(t, 59), pixel(2, 3, 4) / 255, 1e-7);
    ag_tensor_free(t);
}

static void expect_mnist(const char *images, const char *labels)
{
    ag_dataset *ds = ag_load_idx_dataset(images, labels, AG_F64);
    cr_assert(ds, "%s", ag_last_error());
    expect_shape(ds->x, 2, (int64_t[]){3, 20});
    expect_values(ds->y, (double[]){7, 0, 9}, 3, 0);
    cr_assert_eq(ds->num_classes, 10);
    for (int n = 0; n < 3; n++)
        for (int k = 0; k < 20; k++)
            cr_assert_float_eq(ag_get(ds->x, n * 20 + k), pixel(n, k / 5, k % 5) / 255, 1e-15);
    ag_dataset_free(ds);
}

Test(data, idx_raw)
{
    expect_images(DATA "images.idx");
    ag_tensor *l = ag_load_idx(DATA "labels.idx", AG_F32, 1);
    expect_shape(l, 1, (int64_t[]){3});
    expect_values(l, (double[]){7, 0, 9}, 3, 0);
    ag_tensor_free(l);
    expect_mnist(DATA "images.idx", DATA "labels.idx");
}

static void expect_idx_error(const char *path, const char *a, const char *b)
{
    ag_clear_error();
    ag_tensor *t = ag_load_idx(path, AG_F32, 1);
    cr_assert_null(t, "%s loaded", path);
    expect_error_mentions("ag_load_idx", a, b);
}

Test(data, idx_bad_headers_and_lengths)
{
    expect_idx_error(DATA "bad_magic.idx", "bad_magic.idx", "magic bytes 0x01 0x00");
    expect_idx_error(DATA "bad_type.idx", "0x0D", "float32");
    expect_idx_error(DATA "ndim0.idx", "ndim0.idx", "0 dimensions");
    expect_idx_error(DATA "ndim9.idx", "9 dimensions", "1..8");
    expect_idx_error(DATA "trailing.idx", "bytes after the 60 data bytes", "[3,4,5]");
    expect_idx_error(DATA "nothing.idx", "cannot open", "nothing.idx");
    cr_assert_null(ag_load_idx(DATA "images.idx", AG_F32, NAN));
    expect_error_mentions("ag_load_idx", "scale");
    cr_assert_null(ag_load_idx_dataset(DATA "images.idx", DATA "labels4.idx", AG_F32));
    expect_error_mentions("ag_load_idx_dataset", "[3,4,5]", "[4]");
    cr_assert_null(ag_load_idx_dataset(DATA "images.idx", DATA "images.idx", AG_F32));
    expect_error_mentions("ag_load_idx_dataset", "[N, h, w] and [N]");
}

/* The bytes of a fixture file. */
static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert(f, "cannot open %s", path);
    unsigned char *buf = malloc(4096);
    *len = fread(buf, 1, 4096, f);
    fclose(f);
    cr_assert(*len > 0 && *len < 4096);
    return buf;
}

/* Every proper prefix of the file fails to load, with an error and without a crash. */
static void every_prefix_fails(const char *fixture)
{
    size_t len;
    unsigned char *bytes = slurp(fixture, &len);
    for (size_t k = 0; k < len; k++) {
        const char *path = temp_file(bytes, k, 0);
        ag_clear_error();
        ag_tensor *t = ag_load_idx(path, AG_F64, 1);
        unlink(path);
        cr_assert_null(t, "%s cut to %zu of %zu bytes loaded", fixture, k, len);
        cr_assert(strstr(ag_last_error(), "ag_load_idx"), "%zu: %s", k, ag_last_error());
    }
    free(bytes);
}

Test(data, idx_truncated_at_every_length)
{
    every_prefix_fails(DATA "images.idx");
    every_prefix_fails(DATA "labels.idx");
    size_t len;
    unsigned char *bytes = slurp(DATA "images.idx", &len);
    const char *path = temp_file(bytes, len - 1, 0);
    expect_idx_error(path, "truncated", "needs 60 bytes, the file has 59");
    unlink(path);
    free(bytes);
}

#ifdef AG_HAVE_ZLIB
Test(data, idx_gzip)
{
    expect_images(DATA "images.idx.gz");
    expect_images(DATA "images_2members.idx.gz");
    expect_mnist(DATA "images.idx.gz", DATA "labels.idx.gz");
    expect_mnist(DATA "images.idx", DATA "labels.idx.gz");
}

Test(data, idx_corrupt_gzip)
{
    expect_idx_error(DATA "bad_crc.idx.gz", "corrupt gzip data", "bad_crc.idx.gz");
    expect_idx_error(DATA "garbage_after.idx.gz", "corrupt gzip data", "garbage_after");
    expect_idx_error(DATA "trailing.idx.gz", "bytes after the 60 data bytes", "[3,4,5]");
    every_prefix_fails(DATA "images.idx.gz");
    every_prefix_fails(DATA "labels.idx.gz");
    /* Flipping any single byte past the gzip header is caught (deflate or CRC/length check). */
    size_t len;
    unsigned char *bytes = slurp(DATA "images.idx.gz", &len);
    for (size_t k = 10; k < len; k++) {
        bytes[k] ^= 0x55;
        const char *path = temp_file(bytes, len, 0);
        ag_clear_error();
        ag_tensor *t = ag_load_idx(path, AG_F64, 1);
        unlink(path);
        cr_assert_null(t, "byte %zu flipped: loaded", k);
        cr_assert(strstr(ag_last_error(), "ag_load_idx"));
        bytes[k] ^= 0x55;
    }
    free(bytes);
}
#else
Test(data, idx_gzip_needs_zlib)
{
    expect_idx_error(DATA "images.idx.gz", "built without zlib", "images.idx.gz");
    cr_assert_null(ag_load_idx_dataset(DATA "images.idx", DATA "labels.idx.gz", AG_F32));
    expect_error_mentions("ag_load_idx_dataset", "built without zlib");
}
#endif

/* ---- synthetic data ---- */

Test(data, spirals)
{
    ag_dataset *a = ag_make_spirals(50, 3, 0.2, 11, AG_F64);
    ag_dataset *b = ag_make_spirals(50, 3, 0.2, 11, AG_F64);
    ag_dataset *c = ag_make_spirals(50, 3, 0.2, 12, AG_F64);
    cr_assert(a && b && c, "%s", ag_last_error());
    expect_shape(a->x, 2, (int64_t[]){150, 2});
    expect_shape(a->y, 1, (int64_t[]){150});
    cr_assert_eq(a->num_classes, 3);
    int count[3] = {0}, same = 1, differ = 0;
    for (int64_t i = 0; i < 150; i++) {
        count[(int)ag_get(a->y, i)]++;
        /* The noise is on the angle: radius i/(n-1) within the class, exactly. */
        double x0 = ag_get(a->x, 2 * i), x1 = ag_get(a->x, 2 * i + 1);
        cr_assert_float_eq(sqrt(x0 * x0 + x1 * x1), (double)(i % 50) / 49, 1e-12);
        same &= x0 == ag_get(b->x, 2 * i);
        differ |= x0 != ag_get(c->x, 2 * i);
    }
    cr_assert(count[0] == 50 && count[1] == 50 && count[2] == 50);
    cr_assert(same && differ);
    ag_dataset_free(a);
    ag_dataset_free(b);
    ag_dataset_free(c);
    cr_assert_null(ag_make_spirals(0, 3, 0.2, 1, AG_F32));
    expect_error_mentions("ag_make_spirals", "n 0");
}

Test(data, blobs)
{
    ag_dataset *a = ag_make_blobs(101, 3, 4, 0.1, 10, 5, AG_F32);
    ag_dataset *b = ag_make_blobs(101, 3, 4, 0.1, 10, 5, AG_F32);
    cr_assert(a && b, "%s", ag_last_error());
    expect_shape(a->x, 2, (int64_t[]){101, 3});
    cr_assert_eq(a->num_classes, 4);
    int count[4] = {0};
    double mean[4][3] = {{0}};
    for (int64_t i = 0; i < 101; i++) {
        int k = (int)ag_get(a->y, i);
        count[k]++;
        for (int j = 0; j < 3; j++) {
            mean[k][j] += ag_get(a->x, i * 3 + j);
            cr_assert_eq(ag_get(a->x, i * 3 + j), ag_get(b->x, i * 3 + j));
        }
    }
    for (int k = 0; k < 4; k++) {
        cr_assert(count[k] == 25 || count[k] == 26, "class %d has %d", k, count[k]);
        for (int j = 0; j < 3; j++) {
            mean[k][j] /= count[k];
            cr_assert_leq(fabs(mean[k][j]), 10.5);
        }
    }
    /* std 0.1 around centres spread over [-10, 10]: each point is nearest its own class mean. */
    for (int64_t i = 0; i < 101; i++) {
        int best = -1;
        double bd = INFINITY;
        for (int k = 0; k < 4; k++) {
            double d = 0;
            for (int j = 0; j < 3; j++) d += pow(ag_get(a->x, i * 3 + j) - mean[k][j], 2);
            if (d < bd) bd = d, best = k;
        }
        cr_assert_eq(best, (int)ag_get(a->y, i));
    }
    ag_dataset_free(a);
    ag_dataset_free(b);
    cr_assert_null(ag_make_blobs(10, 2, 0, 1, 1, 1, AG_F32));
    expect_error_mentions("ag_make_blobs", "classes 0");
}

/* Least squares for y ~ x w + b by the normal equations (Gaussian elimination, F features). */
static void least_squares(const ag_dataset *ds, int f, double *coef)
{
    int m = f + 1;
    double a[8][9] = {{0}};
    int64_t n = ag_dataset_size(ds);
    for (int64_t i = 0; i < n; i++) {
        double row[8];
        for (int j = 0; j < f; j++) row[j] = ag_get(ds->x, i * f + j);
        row[f] = 1;
        double y = ag_get(ds->y, i);
        for (int p = 0; p < m; p++) {
            for (int q = 0; q < m; q++) a[p][q] += row[p] * row[q];
            a[p][m] += row[p] * y;
        }
    }
    for (int p = 0; p < m; p++)
        for (int r = p + 1; r < m; r++) {
            double k = a[r][p] / a[p][p];
            for (int q = p; q <= m; q++) a[r][q] -= k * a[p][q];
        }
    for (int p = m - 1; p >= 0; p--) {
        double s = a[p][m];
        for (int q = p + 1; q < m; q++) s -= a[p][q] * coef[q];
        coef[p] = s / a[p][p];
    }
}

Test(data, regression_fits_its_true_weights)
{
    double w[3], b, coef[4];
    ag_dataset *ds = ag_make_regression(400, 3, 0.1, 8, AG_F64, w, &b);
    cr_assert(ds, "%s", ag_last_error());
    expect_shape(ds->x, 2, (int64_t[]){400, 3});
    expect_shape(ds->y, 2, (int64_t[]){400, 1});
    cr_assert_eq(ds->num_classes, 0);
    least_squares(ds, 3, coef);
    for (int j = 0; j < 3; j++) cr_assert_float_eq(coef[j], w[j], 0.03, "w[%d]", j);
    cr_assert_float_eq(coef[3], b, 0.03);
    /* The residual of the true model has the noise's standard deviation. */
    double ss = 0;
    for (int i = 0; i < 400; i++) {
        double r = ag_get(ds->y, i) - b;
        for (int j = 0; j < 3; j++) r -= ag_get(ds->x, i * 3 + j) * w[j];
        ss += r * r;
    }
    cr_assert(fabs(sqrt(ss / 400) - 0.1) < 0.02, "residual std %g", sqrt(ss / 400));
    ag_dataset_free(ds);
    /* Without noise the data is exactly linear; the same seed gives the same weights. */
    double w2[3], b2;
    ds = ag_make_regression(20, 3, 0, 8, AG_F64, w2, &b2);
    cr_assert(w2[0] == w[0] && w2[2] == w[2] && b2 == b);
    for (int i = 0; i < 20; i++) {
        double r = ag_get(ds->y, i) - b;
        for (int j = 0; j < 3; j++) r -= ag_get(ds->x, i * 3 + j) * w[j];
        cr_assert(fabs(r) < 1e-12);
    }
    ag_dataset_free(ds);
    cr_assert_null(ag_make_regression(10, 0, 0, 1, AG_F32, NULL, NULL));
    expect_error_mentions("ag_make_regression", "features 0");
    cr_assert_null(ag_make_regression(10, 2, -1, 1, AG_F32, NULL, NULL));
    cr_assert_null(ag_make_regression(10, 2, 0, 1, (ag_dtype)3, NULL, NULL));
    expect_error_mentions("ag_make_regression", "dtype 3");
}
