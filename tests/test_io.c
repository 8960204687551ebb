/* tests/test_io.c - safetensors files, module save/load and checkpoints (nn/safetensors*.c,
 * nn/json.c, nn/checkpoint.c).
 *
 * Independent references: files written from PyTorch tensors by tests/fixtures/gen_safetensors.py
 * (its own implementation of the format; values and PyTorch's MLP output in
 * safetensors_expected.h), headers written by hand here for every kind of corruption, exact byte
 * comparison for round trips, and an uninterrupted training run for checkpoint resumes.
 * Each test works in its own temporary directory, removed afterwards.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test_util.h"
#include "fixtures/safetensors_expected.h"

/* ---- temporary directory and file helpers ---- */

static char dir[256];

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/ag_test_io_XXXXXX");
    cr_assert(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
}

static int count_files(void)
{
    DIR *d = opendir(dir);
    cr_assert(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static void teardown(void)
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

TestSuite(io, .init = setup, .fini = teardown);

/* dir/name (one of a few rotating buffers, so two paths can be live at once). */
static const char *tpath(const char *name)
{
    static char bufs[4][600];
    static int k;
    char *b = bufs[k++ % 4];
    snprintf(b, 600, "%s/%s", dir, name);
    return b;
}

/* A fixture next to this source file. */
static const char *fixture(const char *name)
{
    static char b[600];
    const char *slash = strrchr(__FILE__, '/');
    int n = slash ? (int)(slash - __FILE__) + 1 : 0;
    snprintf(b, sizeof b, "%.*sfixtures/%s", n, __FILE__, name);
    return b;
}

static unsigned char *slurp(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    cr_assert(f, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)n + 1);
    cr_assert(b && fread(b, 1, (size_t)n, f) == (size_t)n);
    fclose(f);
    *size = (size_t)n;
    return b;
}

/* Writes a file anew. Removing it first matters for speed: on ext4, truncating a file that
 * has data forces a flush (auto_da_alloc), which made the loops below take seconds. */
static void spit(const char *path, const void *b, size_t n)
{
    remove(path);
    FILE *f = fopen(path, "wb");
    cr_assert(f && fwrite(b, 1, n, f) == n && fclose(f) == 0);
}

/* A file with the given 8-byte length field, header text and `dlen` data bytes (0, 1, 2, ...). */
static void write_raw(const char *path, uint64_t declared, const char *hdr, size_t dlen)
{
    size_t hl = strlen(hdr);
    unsigned char *b = malloc(8 + hl + dlen + 1);
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)(declared >> (8 * i));
    memcpy(b + 8, hdr, hl);
    for (size_t i = 0; i < dlen; i++) b[8 + hl + i] = (unsigned char)i;
    spit(path, b, 8 + hl + dlen);
    free(b);
}

static size_t nbytes(ag_tensor *t)
{
    return (size_t)ag_numel(t) * ag_dtype_size(ag_get_dtype(t));
}

/* Values i * scale - 1. */
static ag_tensor *pattern(ag_dtype dt, int nd, const int64_t *shape, double scale)
{
    int64_t n = 1;
    for (int d = 0; d < nd; d++) n *= shape[d];
    double *v = malloc(((size_t)n + 1) * sizeof *v);
    for (int64_t i = 0; i < n; i++) v[i] = (double)i * scale - 1.0;
    ag_tensor *t = tu_tensor(dt, nd, shape, v);
    free(v);
    return t;
}

static void expect_same_tensor(ag_tensor *got, ag_tensor *want, const char *name)
{
    cr_assert(got, "%s: missing: %s", name, ag_last_error());
    cr_assert_eq(ag_get_dtype(got), ag_get_dtype(want), "%s: dtype", name);
    cr_assert(ag_same_shape(got, want), "%s: shape", name);
    size_t bytes = nbytes(want);
    cr_assert(bytes == 0 || memcmp(ag_data(got), ag_data(want), bytes) == 0, "%s: values", name);
}

/* ---- round trips ---- */

#define NRT 6
static ag_tensor *rt[NRT];
static const char *RT_NAMES[NRT] = {"b.f32_2x3", "a.f64_4", "scalar", "empty[3,0,2]",
                                    "cube \"q\"/\xc3\xa9\\", "special"};

static void make_roundtrip_tensors(void)
{
    rt[0] = pattern(AG_F32, 2, (int64_t[]){2, 3}, 0.37);
    rt[1] = pattern(AG_F64, 1, (int64_t[]){4}, 1.0 / 3);
    rt[2] = tu_tensor(AG_F64, 0, NULL, (double[]){3.25});
    rt[3] = pattern(AG_F32, 3, (int64_t[]){3, 0, 2}, 1);
    rt[4] = pattern(AG_F64, 3, (int64_t[]){2, 2, 2}, 0.1);
    /* Values that must survive bit for bit: NaN, infinities, -0, a subnormal. */
    rt[5] = tu_tensor(AG_F64, 1, (int64_t[]){5},
                      (double[]){NAN, INFINITY, -INFINITY, -0.0, 4e-320});
}

static void free_roundtrip_tensors(void)
{
    for (int i = 0; i < NRT; i++) ag_tensor_free(rt[i]);
}

Test(io, roundtrip_f32_f64_shapes_and_metadata)
{
    make_roundtrip_tensors();
    const char *meta[] = {"epoch", "7", "note", "tab\there \"quoted\" \xc3\xa9 \\ end",
                          "empty", ""};
    const char *p = tpath("rt.safetensors");
    cr_assert_eq(ag_safetensors_save(p, NRT, RT_NAMES, rt, 3, meta), 0, "%s", ag_last_error());

    ag_st_file *f = ag_safetensors_load(p);
    cr_assert(f, "%s", ag_last_error());
    cr_assert_eq(ag_st_count(f), NRT);
    for (int i = 0; i < NRT; i++) expect_same_tensor(ag_st_get(f, RT_NAMES[i]), rt[i], RT_NAMES[i]);
    for (int i = 1; i < NRT; i++) /* listed in name order */
        cr_assert_lt(strcmp(ag_st_name(f, i - 1), ag_st_name(f, i)), 0);
    for (int k = 0; k < 3; k++)
        cr_assert_str_eq(ag_st_meta(f, meta[2 * k]), meta[2 * k + 1]);
    ag_clear_error();
    cr_assert_null(ag_st_meta(f, "absent"));
    cr_assert_not(ag_has_error(), "an absent metadata key is not an error");
    ag_st_free(f);

    /* Layout: header padded with spaces to 8-byte alignment, data exactly after it. */
    size_t size;
    unsigned char *b = slurp(p, &size);
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--) n = n << 8 | b[i];
    cr_assert_eq((8 + n) % 8, 0);
    cr_assert_eq(b[8], '{');
    size_t data = 0;
    for (int i = 0; i < NRT; i++) data += nbytes(rt[i]);
    cr_assert_eq(size, 8 + n + data);

    /* Deterministic: the same tensors given in another order give the same bytes. */
    const char *names2[NRT];
    ag_tensor *t2[NRT];
    for (int i = 0; i < NRT; i++) {
        names2[i] = RT_NAMES[NRT - 1 - i];
        t2[i] = rt[NRT - 1 - i];
    }
    const char *p2 = tpath("rt2.safetensors");
    cr_assert_eq(ag_safetensors_save(p2, NRT, names2, t2, 3, meta), 0);
    size_t size2;
    unsigned char *b2 = slurp(p2, &size2);
    cr_assert(size == size2 && memcmp(b, b2, size) == 0);
    free(b);
    free(b2);
    free_roundtrip_tensors();
    cr_assert_eq(count_files(), 2, "no temporary file is left behind");
}

Test(io, empty_file_and_metadata_only)
{
    const char *p = tpath("e.safetensors");
    cr_assert_eq(ag_safetensors_save(p, 0, NULL, NULL, 0, NULL), 0, "%s", ag_last_error());
    ag_st_file *f = ag_safetensors_load(p);
    cr_assert(f, "%s", ag_last_error());
    cr_assert_eq(ag_st_count(f), 0);
    ag_st_free(f);
    const char *meta[] = {"k", "v"};
    cr_assert_eq(ag_safetensors_save(p, 0, NULL, NULL, 1, meta), 0);
    f = ag_safetensors_load(p);
    cr_assert(f && ag_st_count(f) == 0 && strcmp(ag_st_meta(f, "k"), "v") == 0);
    ag_st_free(f);
}

Test(io, save_argument_errors)
{
    ag_tensor *a = pattern(AG_F32, 1, (int64_t[]){2}, 1);
    ag_tensor *b = pattern(AG_F64, 1, (int64_t[]){2}, 1);
    ag_tensor *ts[] = {a, b};
    const char *p = tpath("x.safetensors");
    const char *dup[] = {"w", "w"}, *empty[] = {"w", ""}, *res[] = {"__metadata__", "w"};
    const char *bad_utf8[] = {"w", "\xff"};
    cr_assert_eq(ag_safetensors_save(NULL, 2, (const char *[]){"a", "b"}, ts, 0, NULL), -1);
    expect_error_mentions("ag_safetensors_save", "path");
    cr_assert_eq(ag_safetensors_save(p, 2, dup, ts, 0, NULL), -1);
    expect_error_mentions("ag_safetensors_save", "duplicate", "'w'");
    cr_assert_eq(ag_safetensors_save(p, 2, empty, ts, 0, NULL), -1);
    expect_error_mentions("ag_safetensors_save", "no name");
    cr_assert_eq(ag_safetensors_save(p, 2, res, ts, 0, NULL), -1);
    expect_error_mentions("ag_safetensors_save", "__metadata__");
    cr_assert_eq(ag_safetensors_save(p, 2, bad_utf8, ts, 0, NULL), -1);
    expect_error_mentions("ag_safetensors_save", "UTF-8");
    const char *ab[] = {"a", "b"};
    cr_assert_eq(ag_safetensors_save(p, 2, ab, (ag_tensor *[]){a, NULL}, 0, NULL), -1);
    expect_error_mentions("ag_safetensors_save", "'b'", "NULL");
    cr_assert_eq(ag_safetensors_save(p, 1, dup, ts, 1, NULL), -1);
    expect_error_mentions("ag_safetensors_save", "meta");
    cr_assert_eq(ag_safetensors_save(p, 1, dup, ts, 2, (const char *[]){"k", "1", "k", "2"}), -1);
    expect_error_mentions("ag_safetensors_save", "duplicate metadata key 'k'");
    cr_assert_eq(ag_safetensors_save(p, -1, dup, ts, 0, NULL), -1);
    expect_error_mentions("ag_safetensors_save", "negative");
    cr_assert_eq(count_files(), 0, "failed saves create nothing");
    ag_tensor_free(a);
    ag_tensor_free(b);
}

Test(io, accessor_errors)
{
    ag_tensor *a = pattern(AG_F32, 1, (int64_t[]){2}, 1);
    const char *p = tpath("x.safetensors");
    cr_assert_eq(ag_safetensors_save(p, 1, (const char *[]){"a"}, &a, 0, NULL), 0);
    ag_st_file *f = ag_safetensors_load(p);
    cr_assert(f);
    cr_assert_null(ag_st_tensor(f, 1));
    expect_error_mentions("ag_st_tensor", "index 1", "1 tensors");
    cr_assert_null(ag_st_name(f, -1));
    expect_error_mentions("ag_st_name", "-1");
    cr_assert_null(ag_st_get(f, "b"));
    expect_error_mentions("ag_st_get", "'b'");
    cr_assert_eq(ag_st_count(NULL), -1);
    expect_error_mentions("ag_st_count", "NULL");
    cr_assert(ag_st_tensor(f, 0) == ag_st_get(f, "a"));
    ag_st_free(f);
    ag_st_free(NULL);
    ag_tensor_free(a);

    cr_assert_null(ag_safetensors_load(tpath("missing.safetensors")));
    expect_error_mentions("ag_safetensors_load", "missing.safetensors", "No such file");
    cr_assert_null(ag_safetensors_load(dir));
    expect_error_mentions("ag_safetensors_load", dir, "not a regular file");
    cr_assert_null(ag_safetensors_load(NULL));
    expect_error_mentions("ag_safetensors_load", "NULL");
}

/* ---- files written from PyTorch (tests/fixtures/gen_safetensors.py) ---- */

static void expect_fixture(ag_st_file *f, const st_expect *e, int n, const char *const *meta,
                           int nmeta)
{
    cr_assert(f, "%s", ag_last_error());
    cr_assert_eq(ag_st_count(f), n);
    for (int i = 0; i < n; i++) {
        ag_tensor *t = ag_st_get(f, e[i].name);
        cr_assert(t, "%s", ag_last_error());
        cr_assert_eq(ag_get_dtype(t), e[i].f64 ? AG_F64 : AG_F32, "%s: dtype", e[i].name);
        expect_shape(t, e[i].ndim, e[i].shape);
        cr_assert_eq(ag_numel(t), e[i].numel);
        for (int64_t k = 0; k < e[i].numel; k++) /* float32 values are exact in the header */
            cr_assert(ag_get(t, k) == e[i].v[k], "%s[%lld]: %.17g vs %.17g", e[i].name,
                      (long long)k, ag_get(t, k), e[i].v[k]);
    }
    for (int k = 0; k < nmeta; k++) {
        const char *v = ag_st_meta(f, meta[2 * k]);
        cr_assert(v, "metadata '%s' missing", meta[2 * k]);
        cr_assert_str_eq(v, meta[2 * k + 1]);
    }
}

Test(io, reads_pytorch_state_dict)
{
    ag_st_file *f = ag_safetensors_load(fixture("torch_mlp.safetensors"));
    expect_fixture(f, ST_MLP, ST_MLP_N, ST_MLP_META, ST_MLP_NMETA);
    ag_st_free(f);
}

Test(io, reads_unpadded_escaped_unsorted_file)
{
    ag_st_file *f = ag_safetensors_load(fixture("torch_misc.safetensors"));
    expect_fixture(f, ST_MISC, ST_MISC_N, ST_MISC_META, ST_MISC_NMETA);
    ag_st_free(f);
}

/* The state_dict loads into our Sequential(Dense, ReLU, Dense), which then computes PyTorch's
 * output: the names and the [out, in] weight layout agree. */
Test(io, pytorch_state_dict_into_module)
{
    ag_module *layers[] = {ag_dense(4, 3, NULL, NULL), ag_relu_layer(), ag_dense(3, 2, NULL, NULL)};
    ag_module *m = ag_sequential(3, layers);
    cr_assert(m, "%s", ag_last_error());
    cr_assert_eq(ag_module_load(m, fixture("torch_mlp.safetensors")), 0, "%s", ag_last_error());
    ag_tensor *x = tu_tensor(AG_F32, 2, (int64_t[]){ST_MLP_BATCH, 4}, ST_MLP_X);
    ag_tensor *y = ag_module_forward(m, x);
    expect_values(y, ST_MLP_Y, ST_MLP_BATCH * 2, 1e-6);
    /* And saving it gives back the same tensors. */
    cr_assert_eq(ag_module_save(m, tpath("back.safetensors")), 0, "%s", ag_last_error());
    ag_st_file *f = ag_safetensors_load(tpath("back.safetensors"));
    expect_fixture(f, ST_MLP, ST_MLP_N, (const char *[]){"format", "pt"}, 1);
    ag_st_free(f);
    ag_tensor_free(y);
    ag_tensor_free(x);
    ag_module_free(m);
}

/* For tests/fixtures/read_safetensors.py, run by hand: with AG_IO_EXPORT_DIR set, this writes
 * pattern.safetensors (the round-trip tensors; metadata "pattern" = "arange*0.25-1") and
 * module.safetensors (a Sequential(Dense(3,4), ReLU, Dense(4,2)) state) there. */
Test(io, export_for_python)
{
    const char *out = getenv("AG_IO_EXPORT_DIR");
    char p[600];
    ag_tensor *ts[] = {pattern(AG_F32, 2, (int64_t[]){2, 3}, 0.25),
                       pattern(AG_F64, 1, (int64_t[]){4}, 0.25), pattern(AG_F64, 0, NULL, 0.25),
                       pattern(AG_F32, 3, (int64_t[]){3, 0, 2}, 0.25),
                       pattern(AG_F64, 3, (int64_t[]){2, 2, 2}, 0.25)};
    const char *names[] = {"f32_2x3", "f64_4", "f64_scalar", "f32_empty", "f64_cube \xc3\xa9"};
    const char *meta[] = {"pattern", "arange*0.25-1", "note", "\"quoted\" \xe2\x9c\x93"};
    snprintf(p, sizeof p, "%s/pattern.safetensors", out ? out : dir);
    cr_assert_eq(ag_safetensors_save(p, 5, names, ts, 2, meta), 0, "%s", ag_last_error());
    ag_module *layers[] = {ag_dense(3, 4, NULL, NULL), ag_relu_layer(), ag_dense(4, 2, NULL, NULL)};
    ag_module *m = ag_sequential(3, layers);
    snprintf(p, sizeof p, "%s/module.safetensors", out ? out : dir);
    cr_assert_eq(ag_module_save(m, p), 0, "%s", ag_last_error());
    ag_module_free(m);
    for (int i = 0; i < 5; i++) ag_tensor_free(ts[i]);
}

/* ---- corrupt files: errors, never crashes ---- */

/* A valid small file: two tensors and metadata. */
static void write_small(const char *p)
{
    ag_tensor *ts[] = {pattern(AG_F32, 2, (int64_t[]){2, 2}, 0.5),
                       pattern(AG_F64, 1, (int64_t[]){3}, 0.5)};
    const char *meta[] = {"k", "v"};
    cr_assert_eq(ag_safetensors_save(p, 2, (const char *[]){"w", "b"}, ts, 1, meta), 0);
    ag_tensor_free(ts[0]);
    ag_tensor_free(ts[1]);
}

Test(io, every_truncation_is_an_error)
{
    const char *p = tpath("small.safetensors"), *q = tpath("cut.safetensors");
    write_small(p);
    size_t size;
    unsigned char *b = slurp(p, &size);
    for (size_t n = 0; n < size; n++) {
        spit(q, b, n);
        ag_clear_error();
        ag_st_file *f = ag_safetensors_load(q);
        cr_assert_null(f, "a file cut to %zu of %zu bytes loaded", n, size);
        expect_error_mentions("ag_safetensors_load", "cut.safetensors");
    }
    free(b);
}

#define F32_2 "{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":"
#define ENT(dtype, shape, offsets) \
    "{\"dtype\":\"" dtype "\",\"shape\":" shape ",\"data_offsets\":" offsets "}"
typedef struct bad { const char *hdr; size_t dlen; const char *frag1, *frag2; } bad;

static const bad BAD[] = {
    {"", 0, "does not start with '{'", NULL},
    {"[1,2]", 0, "does not start with '{'", NULL},
    {"{abc}", 0, "not valid JSON", "at byte 1"},
    {"{\"a\":1} x", 0, "not valid JSON", "after the end"},
    {"{\"a\":" F32_2 "[0,8]}", 8, "not valid JSON", "unterminated"},
    {"{\"a\":[1]}", 0, "tensor 'a'", "entry is an array, not an object"},
    {"{\"a\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "tensor 'a'", "missing field 'dtype'"},
    {"{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", 8, "missing field 'shape'", NULL},
    {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8, "missing field 'data_offsets'", NULL},
    {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"x\":1}}", 8,
     "unexpected field 'x'", NULL},
    {"{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8,
     "field 'dtype' appears twice", NULL},
    {"{\"a\":{\"dtype\":4,\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "dtype is an integer", NULL},
    {"{\"a\":" ENT("F32", "\"2\"", "[0,8]") "}", 8, "shape is a string", NULL},
    {"{\"a\":" ENT("F32", "[\"2\"]", "[0,8]") "}", 8, "shape[0] is a string", NULL},
    {"{\"a\":" ENT("F32", "[-2]", "[0,8]") "}", 8, "shape[0] is -2", NULL},
    {"{\"a\":" ENT("F32", "[1.5]", "[0,8]") "}", 8, "shape[0] is 1.5", NULL},
    {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,2],\"data_offsets\":[0,8]}}", 8,
     "9 dimensions", NULL},
    {"{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,0]}}", 0,
     "too large", NULL},
    {"{\"a\":" F32_2 "{\"b\":0}}}", 8, "data_offsets must be an array of two", NULL},
    {"{\"a\":" F32_2 "[8]}}", 8, "data_offsets must be an array of two", NULL},
    {"{\"a\":" F32_2 "[0,4,8]}}", 8, "data_offsets must be an array of two", NULL},
    {"{\"a\":" F32_2 "[-1,7]}}", 8, "data_offsets must be an array of two", NULL},
    {"{\"a\":" F32_2 "[8,0]}}", 8, "end before they begin", NULL},
    {"{\"a\":" F32_2 "[0,99999999999999999999999]}}", 8, "integer too large", NULL},
    {"{\"a\":" ENT("F17", "[2]", "[0,8]") "}", 8, "unknown dtype 'F17'", NULL},
    {"{\"a\":" ENT("F16", "[2]", "[0,4]") "}", 4, "tensor 'a' has dtype F16", "only F32 and F64"},
    {"{\"ids\":" ENT("I64", "[1]", "[0,8]") "}", 8, "'ids' has dtype I64", NULL},
    {"{\"a\":" F32_2 "[0,4]}}", 4, "hold 4 bytes but F32 [2] needs 8", NULL},
    {"{\"a\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "needs 16", NULL},
    {"{\"a\":" F32_2 "[0,8]}}", 4, "go past the end of the data buffer (4 bytes)", NULL},
    {"{\"a\":" F32_2 "[0,8]},\"b\":" F32_2 "[4,12]}}", 12, "overlaps", NULL},
    {"{\"a\":" F32_2 "[0,8]},\"b\":" F32_2 "[12,20]}}", 20, "bytes [8, 12)", "belong to no tensor"},
    {"{\"a\":" F32_2 "[4,12]}}", 12, "bytes [0, 4)", NULL},
    {"{\"a\":" F32_2 "[0,8]}}", 12, "bytes [8, 12) at the end", NULL},
    {"{\"a\":" F32_2 "[0,8]},\"a\":" F32_2 "[8,16]}}", 16, "duplicate tensor name 'a'", NULL},
    {"{\"__metadata__\":{\"k\":1}}", 0, "metadata value for key 'k' is an integer", NULL},
    {"{\"__metadata__\":{\"k\":null}}", 0, "metadata value for key 'k'", NULL},
    {"{\"__metadata__\":\"x\"}", 0, "\"__metadata__\" is a string, not an object", NULL},
    {"{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}", 0, "duplicate metadata key 'k'", NULL},
    {"{\"__metadata__\":{},\"__metadata__\":{}}", 0, "appears twice", NULL},
    {"{\"\xff\":1}", 0, "invalid UTF-8", NULL},
    {"{\"\xc0\xaf\":1}", 0, "invalid UTF-8", NULL},
    {"{\"\\udc00\":1}", 0, "unpaired low surrogate", NULL},
    {"{\"\\ud800x\":1}", 0, "high surrogate", NULL},
    {"{\"a\\u0000\":1}", 0, "\\u0000", NULL},
    {"{\"a\tb\":1}", 0, "control character", NULL},
    {"{\"a\\q\":1}", 0, "invalid escape", NULL},
    {"{\"a\":01}", 0, "not valid JSON", NULL},
    {"{\"a\":tru}", 0, "unexpected character", NULL},
    {"{\"a\":[1,]}", 0, "not valid JSON", NULL},
    {"{\"a\" 1}", 0, "expected ':'", NULL},
    {"{\"a\":1,}", 0, "expected a string key", NULL},
};

Test(io, corrupt_headers_give_clear_errors)
{
    const char *p = tpath("bad.safetensors");
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
        write_raw(p, strlen(BAD[i].hdr), BAD[i].hdr, BAD[i].dlen);
        ag_clear_error();
        ag_st_file *f = ag_safetensors_load(p);
        if (f) ag_st_free(f);
        cr_assert_null(f, "case %zu (%s) loaded", i, BAD[i].hdr);
        const char *msg = ag_last_error();
        cr_assert(strstr(msg, "ag_safetensors_load") && strstr(msg, "bad.safetensors") &&
                  strstr(msg, BAD[i].frag1) && (!BAD[i].frag2 || strstr(msg, BAD[i].frag2)),
                  "case %zu (%s): message '%s'", i, BAD[i].hdr, msg);
    }
    /* Deep nesting is refused, not a stack overflow. */
    char deep[1000] = "{\"a\":";
    for (int i = 0; i < 300; i++) strcat(deep, "[");
    write_raw(p, strlen(deep), deep, 0);
    cr_assert_null(ag_safetensors_load(p));
    expect_error_mentions("nesting too deep");
}

Test(io, bad_header_length)
{
    const char *p = tpath("len.safetensors");
    const char *h = "{\"a\":" F32_2 "[0,8]}}";
    write_raw(p, 1ull << 40, h, 8);
    cr_assert_null(ag_safetensors_load(p));
    expect_error_mentions("len.safetensors", "exceeds the format's limit of 100000000");
    write_raw(p, strlen(h) + 9, h, 8);
    cr_assert_null(ag_safetensors_load(p));
    expect_error_mentions("len.safetensors", "exceeds the", "bytes that follow");
    write_raw(p, UINT64_MAX, h, 8);
    cr_assert_null(ag_safetensors_load(p));
    expect_error_mentions("len.safetensors", "header length");
    write_raw(p, strlen(h) - 1, h, 8); /* the last '}' becomes data */
    cr_assert_null(ag_safetensors_load(p));
    expect_error_mentions("len.safetensors", "not valid JSON");
    write_raw(p, strlen(h), h, 8); /* and the right length loads */
    ag_st_file *f = ag_safetensors_load(p);
    cr_assert(f, "%s", ag_last_error());
    ag_st_free(f);
}

/* Every header byte replaced by a few values, one at a time: an error or a successful load, never
 * a crash, a leak or a sanitizer report. */
Test(io, flipped_header_bytes_never_crash)
{
    const char *p = tpath("small.safetensors"), *q = tpath("flip.safetensors");
    write_small(p);
    size_t size;
    unsigned char *b = slurp(p, &size);
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--) n = n << 8 | b[i];
    static const unsigned char subst[] = {0x00, 0x01, 0x7f, 0x80, 0xff, '"', '\\', '{', '}', '[',
                                          ']', ',', ':', '-', '0', '9', ' ', 'e', 'u'};
    int loaded = 0, failed = 0;
    for (size_t pos = 0; pos < 8 + n; pos++) {
        unsigned char orig = b[pos];
        for (size_t k = 0; k < sizeof subst + 1; k++) {
            b[pos] = k < sizeof subst ? subst[k] : orig ^ 0x20;
            if (b[pos] == orig) continue;
            spit(q, b, size);
            ag_clear_error();
            ag_st_file *f = ag_safetensors_load(q);
            if (f) {
                loaded++;
                for (int i = 0; i < ag_st_count(f); i++) cr_assert(ag_st_tensor(f, i));
                ag_st_free(f);
            } else {
                failed++;
                expect_error_mentions("ag_safetensors_load", "flip.safetensors");
            }
        }
        b[pos] = orig;
    }
    cr_assert_gt(failed, 0);
    cr_assert_gt(loaded, 0, "some edits (metadata text, padding) leave a valid file");
    free(b);
}

/* ---- atomic writes ---- */

Test(io, save_into_missing_directory_fails_cleanly)
{
    ag_tensor *a = pattern(AG_F32, 1, (int64_t[]){2}, 1);
    const char *p = tpath("no/such/dir/x.safetensors");
    cr_assert_eq(ag_safetensors_save(p, 1, (const char *[]){"a"}, &a, 0, NULL), -1);
    expect_error_mentions("ag_safetensors_save", "no/such/dir/x.safetensors", strerror(ENOENT));
    cr_assert_eq(count_files(), 0);
    ag_tensor_free(a);
}

Test(io, failed_save_keeps_the_old_file)
{
    const char *p = tpath("keep.safetensors");
    write_small(p);
    size_t size;
    unsigned char *old = slurp(p, &size);

    /* A write that fails half way: the file size limit stops the data (EFBIG, not a signal). */
    ag_tensor *big = ag_zeros(AG_F64, 1, (int64_t[]){100000});
    struct rlimit saved, lim;
    cr_assert_eq(getrlimit(RLIMIT_FSIZE, &saved), 0);
    lim = saved;
    lim.rlim_cur = 64 * 1024;
    signal(SIGXFSZ, SIG_IGN);
    cr_assert_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
    int rc = ag_safetensors_save(p, 1, (const char *[]){"big"}, &big, 0, NULL);
    setrlimit(RLIMIT_FSIZE, &saved);
    cr_assert_eq(rc, -1);
    expect_error_mentions("ag_safetensors_save", "keep.safetensors", strerror(EFBIG));

    /* Renaming over a directory fails after the data is written. */
    mkdir(tpath("adir"), 0755);
    cr_assert_eq(ag_safetensors_save(tpath("adir"), 1, (const char *[]){"big"}, &big, 0, NULL), -1);
    expect_error_mentions("ag_safetensors_save", "adir", "rename");

    size_t size2;
    unsigned char *now = slurp(p, &size2);
    cr_assert(size == size2 && memcmp(old, now, size) == 0, "the earlier file changed");
    cr_assert_eq(count_files(), 2, "a temporary file was left behind");

    /* A successful save replaces it. */
    cr_assert_eq(ag_safetensors_save(p, 1, (const char *[]){"big"}, &big, 0, NULL), 0);
    ag_st_file *f = ag_safetensors_load(p);
    cr_assert(f && ag_st_count(f) == 1 && ag_numel(ag_st_get(f, "big")) == 100000);
    ag_st_free(f);
    cr_assert_eq(count_files(), 2);
    free(old);
    free(now);
    ag_tensor_free(big);
}

/* ---- modules ---- */

static ag_module *mlp(int64_t in, int64_t hidden, int64_t out, ag_dtype dt, uint64_t seed)
{
    ag_rng r = ag_rng_seed(seed);
    ag_dense_opts o = {.dtype = dt, .init = AG_INIT_TORCH_DEFAULT};
    ag_module *layers[] = {ag_dense(in, hidden, &o, &r), ag_tanh_layer(),
                           ag_dense(hidden, out, &o, &r)};
    ag_module *m = ag_sequential(3, layers);
    cr_assert(m, "%s", ag_last_error());
    return m;
}

/* A copy of every parameter's bytes, to check that a failed load changed nothing. */
typedef struct snapshot { int n; unsigned char *bytes; size_t size; } snapshot;

static snapshot snap(ag_tensor *const *ts, int n)
{
    snapshot s = {n, NULL, 0};
    for (int i = 0; i < n; i++) s.size += nbytes(ts[i]);
    s.bytes = malloc(s.size + 1);
    size_t at = 0;
    for (int i = 0; i < n; i++) {
        size_t k = nbytes(ts[i]);
        if (k) memcpy(s.bytes + at, ag_data(ts[i]), k);
        at += k;
    }
    return s;
}

static bool same_snapshot(snapshot a, snapshot b)
{
    bool same = a.n == b.n && a.size == b.size && memcmp(a.bytes, b.bytes, a.size) == 0;
    free(a.bytes);
    free(b.bytes);
    return same;
}

static snapshot snap_module(const ag_module *m)
{
    return snap(ag_module_params(m), ag_module_num_params(m));
}

Test(io, module_roundtrip)
{
    ag_module *a = mlp(3, 4, 2, AG_F64, 1), *b = mlp(3, 4, 2, AG_F64, 2);
    const char *p = tpath("m.safetensors");
    cr_assert_eq(ag_module_save(a, p), 0, "%s", ag_last_error());
    cr_assert_not(same_snapshot(snap_module(a), snap_module(b)));
    cr_assert_eq(ag_module_load(b, p), 0, "%s", ag_last_error());
    cr_assert(same_snapshot(snap_module(a), snap_module(b)));
    ag_st_file *f = ag_safetensors_load(p);
    const char *names[] = {"0.bias", "0.weight", "2.bias", "2.weight"};
    for (int i = 0; i < 4; i++) cr_assert_str_eq(ag_st_name(f, i), names[i]);
    cr_assert_str_eq(ag_st_meta(f, "format"), "pt");
    ag_st_free(f);
    ag_module_free(a);
    ag_module_free(b);
}

Test(io, module_mismatch_leaves_module_unchanged)
{
    const char *p = tpath("m.safetensors");
    ag_module *a = mlp(3, 4, 2, AG_F64, 1);
    cr_assert_eq(ag_module_save(a, p), 0);
    ag_dense_opts o64 = {.dtype = AG_F64};
    struct { ag_module *m; const char *f1, *f2, *f3; } cases[] = {
        {mlp(3, 5, 2, AG_F64, 2), "0.weight", "[4,3]", "[5,3]"},
        {mlp(3, 4, 2, AG_F32, 2), "float64", "float32", "'0.weight'"},
        {ag_sequential(2, (ag_module *[]){ag_dense(3, 4, &o64, NULL), ag_tanh_layer()}),
         "holds tensor '2.bias'", "module", NULL},
        {ag_sequential(4, (ag_module *[]){ag_dense(3, 4, &o64, NULL), ag_tanh_layer(),
                                          ag_dense(4, 2, &o64, NULL), ag_dense(2, 1, &o64, NULL)}),
         "'3.weight'", "missing", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ag_module *m = cases[i].m;
        cr_assert(m, "%s", ag_last_error());
        snapshot before = snap_module(m);
        cr_assert_eq(ag_module_load(m, p), -1, "case %zu loaded", i);
        expect_error_mentions("ag_module_load", "m.safetensors", cases[i].f1, cases[i].f2);
        if (cases[i].f3) expect_error_mentions(cases[i].f3);
        cr_assert(same_snapshot(before, snap_module(m)), "case %zu: the module changed", i);
        ag_module_free(m);
    }
    cr_assert_eq(ag_module_load(NULL, p), -1);
    expect_error_mentions("ag_module_load", "NULL");
    cr_assert_eq(ag_module_save(a, NULL), -1);
    expect_error_mentions("ag_module_save", "path");
    cr_assert_eq(ag_module_load(a, tpath("none.safetensors")), -1);
    expect_error_mentions("ag_module_load", "none.safetensors", "No such file");
    ag_module_free(a);
}

/* ---- checkpoints: resume bit for bit ---- */

typedef enum { ADAM, SGD_MOMENTUM, ADAM_AMSGRAD } optkind;

static ag_optimizer *make_opt(ag_module *m, optkind k, double lr)
{
    ag_optimizer *o;
    if (k == SGD_MOMENTUM) {
        ag_sgd_opts s = ag_sgd_defaults();
        s.lr = lr;
        s.momentum = 0.9;
        o = ag_sgd_new(ag_module_num_params(m), ag_module_params(m), &s);
    } else {
        ag_adam_opts a = ag_adam_defaults();
        a.lr = lr;
        a.amsgrad = k == ADAM_AMSGRAD;
        o = ag_adam_new(ag_module_num_params(m), ag_module_params(m), &a);
    }
    cr_assert(o, "%s", ag_last_error());
    return o;
}

/* Fixed regression data: 16 examples, 3 features, 2 targets. */
static ag_tensor *data_x, *data_y;

static void make_data(void)
{
    ag_rng r = ag_rng_seed(42);
    data_x = ag_rand_uniform(&r, AG_F64, 2, (int64_t[]){16, 3}, -1, 1);
    data_y = ag_rand_uniform(&r, AG_F64, 2, (int64_t[]){16, 2}, -1, 1);
    cr_assert(data_x && data_y);
}

static void train(ag_module *m, ag_optimizer *o, int steps)
{
    for (int s = 0; s < steps; s++) {
        ag_scope *sc = ag_scope_begin();
        cr_assert_eq(ag_optim_zero_grad(o), 0);
        ag_tensor *d = ag_sub(ag_module_forward(m, data_x), data_y);
        ag_tensor *loss = ag_mean_all(ag_mul(d, d));
        cr_assert_eq(ag_backward(loss), 0, "%s", ag_last_error());
        cr_assert_eq(ag_optim_step(o), 0, "%s", ag_last_error());
        ag_scope_end(sc);
    }
}

static void resume_case(optkind kind)
{
    const int k = 5;
    make_data();
    /* Uninterrupted: 2k steps. */
    ag_module *ma = mlp(3, 6, 2, AG_F64, 1);
    ag_optimizer *oa = make_opt(ma, kind, 0.05);
    train(ma, oa, 2 * k);

    /* k steps, checkpoint, then a fresh model (other init) and optimizer (other lr) resume. */
    ag_module *mb = mlp(3, 6, 2, AG_F64, 1);
    ag_optimizer *ob = make_opt(mb, kind, 0.05);
    train(mb, ob, k);
    const char *p = tpath("ck.safetensors");
    const char *meta[] = {"epoch", "3"};
    cr_assert_eq(ag_checkpoint_save(p, mb, ob, 1, meta), 0, "%s", ag_last_error());
    ag_module_free(mb);
    ag_optim_free(ob);

    ag_module *mc = mlp(3, 6, 2, AG_F64, 99);
    ag_optimizer *oc = make_opt(mc, kind, 0.7);
    ag_st_file *f = NULL;
    cr_assert_eq(ag_checkpoint_load(p, mc, oc, &f), 0, "%s", ag_last_error());
    cr_assert(f);
    cr_assert_str_eq(ag_st_meta(f, "epoch"), "3");
    cr_assert_str_eq(ag_st_meta(f, "optimizer"), ag_optim_name(oc));
    ag_st_free(f);
    cr_assert_eq(ag_optim_steps(oc), k);
    cr_assert(ag_optim_get_lr(oc) == 0.05);
    train(mc, oc, k);
    cr_assert(same_snapshot(snap_module(ma), snap_module(mc)), "resumed parameters differ");
    ag_module_free(ma);
    ag_module_free(mc);
    ag_optim_free(oa);
    ag_optim_free(oc);
    ag_tensor_free(data_x);
    ag_tensor_free(data_y);
}

Test(io, checkpoint_resume_adam_bit_for_bit) { resume_case(ADAM); }
Test(io, checkpoint_resume_sgd_momentum_bit_for_bit) { resume_case(SGD_MOMENTUM); }

static snapshot snap_optim(const ag_optimizer *o)
{
    int n = ag_optim_num_state(o);
    ag_tensor **ts = malloc(((size_t)n + 1) * sizeof *ts);
    for (int i = 0; i < n; i++) {
        const char *name;
        ts[i] = ag_optim_state(o, i, &name);
    }
    snapshot s = snap(ts, n);
    free(ts);
    return s;
}

Test(io, checkpoint_mismatch_changes_nothing)
{
    make_data();
    ag_module *m = mlp(3, 6, 2, AG_F64, 1);
    ag_optimizer *o = make_opt(m, ADAM, 0.05);
    train(m, o, 3);
    const char *p = tpath("ck.safetensors"), *pm = tpath("model_only.safetensors");
    cr_assert_eq(ag_checkpoint_save(p, m, o, 0, NULL), 0, "%s", ag_last_error());
    cr_assert_eq(ag_checkpoint_save(pm, m, NULL, 0, NULL), 0, "%s", ag_last_error());

    struct { ag_module *m; optkind k; bool with_opt; const char *file, *f1, *f2; } cases[] = {
        {mlp(3, 6, 2, AG_F64, 2), SGD_MOMENTUM, true, p, "optimizer Adam", "not SGD"},
        {mlp(3, 6, 2, AG_F64, 2), ADAM_AMSGRAD, true, p, "max_exp_avg_sq", "missing"},
        {mlp(3, 5, 2, AG_F64, 2), ADAM, true, p, "model.0.weight", "[6,3]"},
        {mlp(3, 6, 2, AG_F64, 2), ADAM, true, pm, "no optimizer state", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ag_module *mi = cases[i].m;
        ag_optimizer *oi = make_opt(mi, cases[i].k, 0.3);
        train(mi, oi, 1);
        snapshot bm = snap_module(mi), bo = snap_optim(oi);
        ag_st_file *f = (ag_st_file *)1;
        cr_assert_eq(ag_checkpoint_load(cases[i].file, mi, oi, &f), -1, "case %zu loaded", i);
        cr_assert_null(f);
        expect_error_mentions("ag_checkpoint_load", cases[i].f1);
        if (cases[i].f2) expect_error_mentions(cases[i].f2);
        cr_assert(same_snapshot(bm, snap_module(mi)), "case %zu: the module changed", i);
        cr_assert(same_snapshot(bo, snap_optim(oi)), "case %zu: the optimizer state changed", i);
        cr_assert(ag_optim_get_lr(oi) == 0.3 && ag_optim_steps(oi) == 1);
        ag_optim_free(oi);
        ag_module_free(mi);
    }

    /* Without an optimizer only the model is restored, from either file. */
    for (int k = 0; k < 2; k++) {
        ag_module *mi = mlp(3, 6, 2, AG_F64, 7);
        cr_assert_eq(ag_checkpoint_load(k ? pm : p, mi, NULL, NULL), 0, "%s", ag_last_error());
        cr_assert(same_snapshot(snap_module(m), snap_module(mi)));
        ag_module_free(mi);
    }
    /* Reserved metadata keys are refused on save. */
    cr_assert_eq(ag_checkpoint_save(p, m, o, 1, (const char *[]){"lr", "1"}), -1);
    expect_error_mentions("ag_checkpoint_save", "'lr'", "reserved");
    cr_assert_eq(ag_checkpoint_save(p, NULL, o, 0, NULL), -1);
    expect_error_mentions("ag_checkpoint_save", "NULL");
    ag_module_free(m);
    ag_optim_free(o);
    ag_tensor_free(data_x);
    ag_tensor_free(data_y);
}
