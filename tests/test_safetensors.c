/* tests/test_safetensors.c - safetensors files (nn/safetensors*.c, nn/st_file.c, nn/json.c).
 *
 * Independent references: files written from PyTorch tensors by tests/fixtures/gen_safetensors.py
 * (its own implementation of the format; values and PyTorch's MLP output in
 * safetensors_expected.h), headers written by hand here for every kind of corruption, and exact
 * byte comparison for round trips. Module save/load and checkpoints are in test_checkpoint.c.
 * Each test works in its own temporary directory, removed afterwards (io_test_util.h).
 */
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "io_test_util.h"
#include "fixtures/safetensors_expected.h"

/* ---- file helpers ---- */

TestSuite(io, .init = setup, .fini = teardown);

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
