/* tests/test_safetensors.c - safetensors files (io/safetensors*.c, io/st_file.c, io/json.c):
 * round trips, argument and accessor errors, and files written from PyTorch. Corrupt, truncated
 * and half-written files are in test_safetensors_corrupt.c.
 *
 * Independent references: files written from PyTorch tensors by tests/fixtures/gen_safetensors.py
 * (its own implementation of the format; values and PyTorch's MLP output in
 * safetensors_expected.h) and exact byte comparison for round trips. Module save/load and
 * checkpoints are in test_checkpoint.c.
 * Each test works in its own temporary directory, removed afterwards (io_test_util.h).
 */
#include "st_test_util.h"
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
