/* tests/test_safetensors_corrupt.c - damaged safetensors files and failed writes: every
 * truncation, every kind of corrupt header (written by hand here), bad header lengths and
 * flipped header bytes give an error naming the file, never a crash; a save that fails half way
 * keeps the old file and leaves no temporary file. Its own suite (io_corrupt): a TestSuite with
 * the temporary-directory fixture can be declared in one file only.
 * Each test works in its own temporary directory, removed afterwards (io_test_util.h).
 */
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "st_test_util.h"

/* ---- file helpers ---- */

TestSuite(io_corrupt, .init = setup, .fini = teardown);

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

Test(io_corrupt, every_truncation_is_an_error)
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

Test(io_corrupt, corrupt_headers_give_clear_errors)
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

Test(io_corrupt, bad_header_length)
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
Test(io_corrupt, flipped_header_bytes_never_crash)
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

Test(io_corrupt, save_into_missing_directory_fails_cleanly)
{
    ag_tensor *a = pattern(AG_F32, 1, (int64_t[]){2}, 1);
    const char *p = tpath("no/such/dir/x.safetensors");
    cr_assert_eq(ag_safetensors_save(p, 1, (const char *[]){"a"}, &a, 0, NULL), -1);
    expect_error_mentions("ag_safetensors_save", "no/such/dir/x.safetensors", strerror(ENOENT));
    cr_assert_eq(count_files(), 0);
    ag_tensor_free(a);
}

Test(io_corrupt, failed_save_keeps_the_old_file)
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
