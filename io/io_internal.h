/* io/io_internal.h - what the file-format files of io/ share (json.c, safetensors.c, st_file.c,
 * safetensors_write.c, checkpoint.c): the JSON parser used for headers, the loaded-file struct,
 * and the save/load entry points that take the public function's name so errors start with it.
 * Not installed.
 */
#ifndef AG_IO_INTERNAL_H
#define AG_IO_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "../autograd/internal.h"

/* ---- JSON (io/json.c) ----
 * A strict RFC 8259 parser for one document held in memory, enough for safetensors headers.
 * Values live in one flat array; children of an object or array are chained through `next`.
 * Strings are decoded (escapes, surrogate pairs) into one arena and NUL-terminated; a string
 * holding U+0000 is refused, since names are C strings. Numbers that are non-negative integers
 * fitting in 64 bits are AG__JSON_UINT; any other number (negative, fraction, exponent) is
 * AG__JSON_NUMBER with its approximate value in `d`, so callers can say what was wrong.
 * Nesting is limited to AG__JSON_MAX_DEPTH; the parser never reads past `len`. */

#define AG__JSON_MAX_DEPTH 64

typedef enum ag__json_type {
    AG__JSON_OBJECT, AG__JSON_ARRAY, AG__JSON_STRING, AG__JSON_UINT, AG__JSON_NUMBER,
    AG__JSON_LITERAL /* true, false, null */
} ag__json_type;

typedef struct ag__json_val {
    ag__json_type type;
    int32_t count;   /* members of an object, elements of an array */
    int32_t first;   /* index of the first child, -1 if none */
    int32_t next;    /* index of the next sibling, -1 at the end */
    const char *key; /* for members of an object: the decoded key */
    const char *str; /* strings: decoded text; literals: "true"/"false"/"null" */
    uint64_t u;      /* AG__JSON_UINT */
    double d;        /* AG__JSON_NUMBER */
} ag__json_val;

typedef struct ag__json {
    ag__json_val *v;  /* v[0] is the root */
    int32_t n, cap;
    char *strings;    /* arena of decoded strings (len + 1 bytes always suffice) */
    size_t used, strings_cap;
    char err[160];    /* "at byte 17: expected ':' after an object key" */
} ag__json;

/* Parses text[0..len). Returns 0, or -1 with doc->err set; either way free with ag__json_free. */
int ag__json_parse(ag__json *doc, const char *text, size_t len);
void ag__json_free(ag__json *doc);
/* "an object", "an array", "a string", ... for messages such as "shape is a string". */
const char *ag__json_type_name(ag__json_type t);
/* Length (1..4) of the valid UTF-8 sequence starting at s (avail bytes readable), 0 if
 * invalid (bad lead or continuation byte, overlong form, surrogate, or past U+10FFFF). */
size_t ag__utf8_seq(const unsigned char *s, size_t avail);

/* ---- byte order: files are little-endian; big-endian hosts swap each element ---- */
static inline bool ag__host_little_endian(void)
{
    uint16_t x = 1;
    unsigned char c;
    memcpy(&c, &x, 1);
    return c == 1;
}

/* Reverses the bytes of each of n elements of `size` bytes. */
static inline void ag__swap_elements(unsigned char *p, int64_t n, size_t size)
{
    for (int64_t i = 0; i < n; i++, p += size)
        for (size_t a = 0, b = size - 1; a < b; a++, b--) {
            unsigned char t = p[a];
            p[a] = p[b];
            p[b] = t;
        }
}

/* ---- loaded files (read by io/safetensors.c, accessed in io/st_file.c) ---- */

struct ag_st_file {
    int n;               /* tensors, sorted by name */
    const char **names;  /* point into `strings` */
    ag_tensor **tensors; /* owned (one caller reference each) */
    int nmeta;           /* metadata pairs, sorted by key */
    const char **meta;   /* meta[2k] = key, meta[2k+1] = value, into `strings` */
    char *strings;       /* the decoded JSON strings, taken from the parser */
};

/* ag_safetensors_save / ag_safetensors_load with `fn` naming the public function in errors. */
int ag__st_save(const char *fn, const char *path, int n, const char *const *names,
                ag_tensor *const *tensors, int nmeta, const char *const *meta);
ag_st_file *ag__st_load(const char *fn, const char *path);
/* Index of the tensor called `name`, or -1 (no error recorded). */
int ag__st_find(const ag_st_file *f, const char *name);

/* ---- modules (checkpoint.c) and their architecture records (arch.c) ---- */

/* Loads the parameters of m from the loaded file f (read from `path`), all or nothing, as
 * ag_module_load does. */
int ag__module_load_file(const char *fn, const char *path, ag_module *m, const ag_st_file *f);

/* The metadata pair describing m's architecture: *key is "architecture" and *value its JSON, or,
 * when a module of the tree has no registered builder, *key is "architecture_missing" and *value
 * says which. *value is malloc'd. Returns 0 or -1. */
int ag__arch_meta(const char *fn, const ag_module *m, const char **key, char **value);

#endif
