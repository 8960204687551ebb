/* io/safetensors.c - reading and validating safetensors files (the accessors of the loaded file
 * are in io/st_file.c).
 *
 * A file is untrusted input. The reader checks the file size before believing the header length,
 * reads the header with a bounded read, validates every entry (see validate_entry and
 * check_layout) before allocating any tensor, then reads each tensor's bytes straight into its
 * storage in file order. Since the tensors' byte ranges must tile the data buffer exactly, those
 * reads consume the whole rest of the file, so nothing is read twice and nothing is skipped.
 * Errors name the function, the file and the problem (the tensor, field and values involved).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "io_internal.h"

#define MAX_HEADER 100000000ULL

/* Every dtype the format defines, so a known but unsupported one gets a precise message. */
static const struct { const char *name; unsigned size; int ag; } DTYPES[] = {
    {"F64", 8, AG_F64}, {"F32", 4, AG_F32}, {"F16", 2, -1}, {"BF16", 2, -1}, {"I64", 8, -1},
    {"U64", 8, -1}, {"I32", 4, -1}, {"U32", 4, -1}, {"I16", 2, -1}, {"U16", 2, -1},
    {"I8", 1, -1}, {"U8", 1, -1}, {"BOOL", 1, -1}, {"F8_E4M3", 1, -1}, {"F8_E5M2", 1, -1},
};

typedef struct entry {
    const char *name;
    ag_dtype dtype;
    int ndim;
    int64_t shape[AG_MAX_DIMS];
    uint64_t begin, end;
} entry;

typedef struct loader {
    const char *fn, *path;
    ag__json *doc;
    uint64_t data_size;
} loader;

static int lfail(const loader *L, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int lfail(const loader *L, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ag__error("%s: '%s': %s", L->fn, L->path, msg);
    return -1;
}

/* The shape array: at most AG_MAX_DIMS non-negative integers whose non-zero product stays in the
 * range the engine allocates (so a zero dimension cannot hide an absurd one). */
static int read_shape(const loader *L, const char *name, const ag__json_val *s, entry *e)
{
    const ag__json_val *v = L->doc->v;
    if (s->type != AG__JSON_ARRAY)
        return lfail(L, "tensor '%s': shape is %s, not an array", name,
                     ag__json_type_name(s->type));
    if (s->count > AG_MAX_DIMS)
        return lfail(L, "tensor '%s': shape has %d dimensions; at most %d are supported", name,
                     (int)s->count, AG_MAX_DIMS);
    e->ndim = s->count;
    uint64_t nonzero = 1;
    int d = 0;
    for (int32_t c = s->first; c >= 0; c = v[c].next, d++) {
        if (v[c].type == AG__JSON_NUMBER)
            return lfail(L, "tensor '%s': shape[%d] is %g, not a non-negative integer", name, d,
                         v[c].d);
        if (v[c].type != AG__JSON_UINT)
            return lfail(L, "tensor '%s': shape[%d] is %s, not an integer", name, d,
                         ag__json_type_name(v[c].type));
        uint64_t n = v[c].u;
        if (n && nonzero > (uint64_t)(INT64_MAX / 16) / n)
            return lfail(L, "tensor '%s': shape is too large (dimension %d is %llu)", name, d,
                         (unsigned long long)n);
        if (n) nonzero *= n;
        e->shape[d] = (int64_t)n;
    }
    return 0;
}

static int read_offsets(const loader *L, const char *name, const ag__json_val *o, entry *e)
{
    const ag__json_val *v = L->doc->v;
    if (o->type != AG__JSON_ARRAY || o->count != 2 || v[o->first].type != AG__JSON_UINT ||
        v[v[o->first].next].type != AG__JSON_UINT)
        return lfail(L, "tensor '%s': data_offsets must be an array of two non-negative integers",
                     name);
    e->begin = v[o->first].u;
    e->end = v[v[o->first].next].u;
    if (e->begin > e->end)
        return lfail(L, "tensor '%s': data_offsets [%llu, %llu] end before they begin", name,
                     (unsigned long long)e->begin, (unsigned long long)e->end);
    if (e->end > L->data_size)
        return lfail(L, "tensor '%s': data_offsets [%llu, %llu] go past the end of the data "
                     "buffer (%llu bytes)", name, (unsigned long long)e->begin,
                     (unsigned long long)e->end, (unsigned long long)L->data_size);
    return 0;
}

/* One tensor entry: an object with exactly "dtype", "shape" and "data_offsets". */
static int validate_entry(const loader *L, const ag__json_val *ent, entry *e)
{
    const ag__json_val *v = L->doc->v;
    const char *name = ent->key;
    static const char *const fields[3] = {"dtype", "shape", "data_offsets"};
    const ag__json_val *f[3] = {NULL, NULL, NULL};
    if (ent->type != AG__JSON_OBJECT)
        return lfail(L, "tensor '%s': entry is %s, not an object", name,
                     ag__json_type_name(ent->type));
    for (int32_t c = ent->first; c >= 0; c = v[c].next) {
        int k = 0;
        while (k < 3 && strcmp(v[c].key, fields[k]) != 0) k++;
        if (k == 3) return lfail(L, "tensor '%s': unexpected field '%s'", name, v[c].key);
        if (f[k]) return lfail(L, "tensor '%s': field '%s' appears twice", name, fields[k]);
        f[k] = &v[c];
    }
    for (int k = 0; k < 3; k++)
        if (!f[k]) return lfail(L, "tensor '%s': missing field '%s'", name, fields[k]);
    if (f[0]->type != AG__JSON_STRING)
        return lfail(L, "tensor '%s': dtype is %s, not a string", name,
                     ag__json_type_name(f[0]->type));
    size_t t = 0, nt = sizeof DTYPES / sizeof DTYPES[0];
    while (t < nt && strcmp(DTYPES[t].name, f[0]->str) != 0) t++;
    if (t == nt) return lfail(L, "tensor '%s': unknown dtype '%s'", name, f[0]->str);
    if (DTYPES[t].ag < 0)
        return lfail(L, "tensor '%s' has dtype %s; only F32 and F64 are supported", name,
                     f[0]->str);
    e->name = name;
    e->dtype = (ag_dtype)DTYPES[t].ag;
    if (read_shape(L, name, f[1], e) || read_offsets(L, name, f[2], e)) return -1;
    uint64_t bytes = (uint64_t)ag__numel(e->ndim, e->shape) * DTYPES[t].size;
    if (e->end - e->begin != bytes) {
        char s[AG_SHAPE_BUF];
        return lfail(L, "tensor '%s': data_offsets [%llu, %llu] hold %llu bytes but %s %s "
                     "needs %llu", name, (unsigned long long)e->begin, (unsigned long long)e->end,
                     (unsigned long long)(e->end - e->begin), DTYPES[t].name,
                     ag__shape_str(e->ndim, e->shape, s, sizeof s), (unsigned long long)bytes);
    }
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const entry *)a)->name, ((const entry *)b)->name);
}

static int by_offset(const void *a, const void *b)
{
    const entry *x = *(const entry *const *)a, *y = *(const entry *const *)b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

static int by_key(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Names unique; byte ranges, in file order, tile [0, data_size) with no hole or overlap. */
static int check_layout(const loader *L, entry *e, int n, entry **order)
{
    qsort(e, (size_t)n, sizeof *e, by_name);
    for (int i = 1; i < n; i++)
        if (strcmp(e[i - 1].name, e[i].name) == 0)
            return lfail(L, "duplicate tensor name '%s'", e[i].name);
    for (int i = 0; i < n; i++) order[i] = &e[i];
    qsort(order, (size_t)n, sizeof *order, by_offset);
    uint64_t at = 0;
    for (int i = 0; i < n; i++) {
        if (order[i]->begin > at)
            return lfail(L, "bytes [%llu, %llu) of the data buffer belong to no tensor (a hole "
                         "before tensor '%s')", (unsigned long long)at,
                         (unsigned long long)order[i]->begin, order[i]->name);
        if (order[i]->begin < at)
            return lfail(L, "tensor '%s' (bytes [%llu, %llu)) overlaps tensor '%s'", order[i]->name,
                         (unsigned long long)order[i]->begin, (unsigned long long)order[i]->end,
                         order[i - 1]->name);
        at = order[i]->end;
    }
    if (at != L->data_size)
        return lfail(L, "bytes [%llu, %llu) at the end of the data buffer belong to no tensor",
                     (unsigned long long)at, (unsigned long long)L->data_size);
    return 0;
}

/* Top-level object: tensor entries and an optional "__metadata__" object of strings. Fills
 * e[0..*n) (sorted by name) and f->meta (sorted by key). */
static int validate_header(const loader *L, entry *e, int *n, entry **order, ag_st_file *f)
{
    const ag__json_val *v = L->doc->v, *meta = NULL;
    if (v[0].type != AG__JSON_OBJECT)
        return lfail(L, "header is %s, not an object", ag__json_type_name(v[0].type));
    *n = 0;
    for (int32_t c = v[0].first; c >= 0; c = v[c].next) {
        if (strcmp(v[c].key, "__metadata__") != 0) {
            if (validate_entry(L, &v[c], &e[(*n)++])) return -1;
            continue;
        }
        if (meta) return lfail(L, "\"__metadata__\" appears twice");
        meta = &v[c];
        if (meta->type != AG__JSON_OBJECT)
            return lfail(L, "\"__metadata__\" is %s, not an object",
                         ag__json_type_name(meta->type));
    }
    if (meta) {
        f->meta = malloc(2 * (size_t)meta->count * sizeof *f->meta + 1);
        if (!f->meta) return lfail(L, "out of memory");
        for (int32_t c = meta->first; c >= 0; c = v[c].next, f->nmeta++) {
            if (v[c].type != AG__JSON_STRING)
                return lfail(L, "metadata value for key '%s' is %s, not a string", v[c].key,
                             ag__json_type_name(v[c].type));
            f->meta[2 * f->nmeta] = v[c].key;
            f->meta[2 * f->nmeta + 1] = v[c].str;
        }
        /* Pairs sort by their key: a pair is two adjacent pointers, key first. */
        qsort(f->meta, (size_t)f->nmeta, 2 * sizeof *f->meta, by_key);
        for (int i = 1; i < f->nmeta; i++)
            if (strcmp(f->meta[2 * i - 2], f->meta[2 * i]) == 0)
                return lfail(L, "duplicate metadata key '%s'", f->meta[2 * i]);
    }
    return check_layout(L, e, *n, order);
}

static int read_exact(const loader *L, FILE *fp, void *buf, size_t n, const char *what)
{
    if (n == 0 || fread(buf, 1, n, fp) == n) return 0;
    if (ferror(fp)) return lfail(L, "read error in %s: %s", what, strerror(errno));
    return lfail(L, "unexpected end of file in %s (the file changed while being read?)", what);
}

/* Makes the tensors and reads their bytes, in file order. They are made inside a scope so that
 * a failure frees them all; on success each is claimed with ag_keep for the file object. */
static int read_tensors(const loader *L, FILE *fp, entry *e, int n, entry **order, ag_st_file *f)
{
    ag_scope *sc = ag_scope_begin();
    if (!sc) return -1;
    for (int i = 0; i < n; i++) {
        f->names[i] = e[i].name;
        if (!(f->tensors[i] = ag_zeros(e[i].dtype, e[i].ndim, e[i].shape))) {
            char msg[300];
            snprintf(msg, sizeof msg, "%s", ag_last_error());
            ag_scope_end(sc);
            return lfail(L, "tensor '%s': %s", e[i].name, msg);
        }
    }
    for (int i = 0; i < n; i++) {
        ag_tensor *t = f->tensors[order[i] - e];
        size_t bytes = (size_t)(order[i]->end - order[i]->begin);
        char what[300];
        snprintf(what, sizeof what, "the data of tensor '%s'", order[i]->name);
        if (read_exact(L, fp, ag_data(t), bytes, what)) {
            ag_scope_end(sc);
            return -1;
        }
        if (!ag__host_little_endian())
            ag__swap_elements(ag_data(t), ag_numel(t), ag_dtype_size(ag_get_dtype(t)));
    }
    for (int i = 0; i < n; i++) ag_keep(f->tensors[i]);
    ag_scope_end(sc);
    f->n = n;
    return 0;
}

/* Header length, bounded by the file size and the format's limit; the header must be a JSON
 * object text starting with '{'. */
static char *read_header(const loader *L, FILE *fp, uint64_t fsize, uint64_t *hlen)
{
    unsigned char lb[8];
    if (fsize < 8)
        return lfail(L, "file is %llu bytes, too short for the 8-byte header length",
                     (unsigned long long)fsize), NULL;
    if (read_exact(L, fp, lb, 8, "the header length")) return NULL;
    *hlen = 0;
    for (int i = 7; i >= 0; i--) *hlen = (*hlen << 8) | lb[i];
    if (*hlen > MAX_HEADER)
        return lfail(L, "header length %llu exceeds the format's limit of %llu bytes",
                     (unsigned long long)*hlen, MAX_HEADER), NULL;
    if (*hlen > fsize - 8)
        return lfail(L, "header length %llu exceeds the %llu bytes that follow it",
                     (unsigned long long)*hlen, (unsigned long long)(fsize - 8)), NULL;
    char *h = malloc(*hlen + 1);
    if (!h)
        return lfail(L, "out of memory for a %llu-byte header", (unsigned long long)*hlen), NULL;
    if (read_exact(L, fp, h, *hlen, "the header")) return free(h), NULL;
    if (*hlen == 0 || h[0] != '{')
        return free(h), lfail(L, "header does not start with '{'"), NULL;
    return h;
}

ag_st_file *ag__st_load(const char *fn, const char *path)
{
    if (!path) return ag__error("%s: path is NULL", fn), NULL;
    loader L = {.fn = fn, .path = path};
    FILE *fp = fopen(path, "rb");
    if (!fp) return lfail(&L, "cannot open: %s", strerror(errno)), NULL;
    struct stat st;
    if (fstat(fileno(fp), &st) != 0 || !S_ISREG(st.st_mode)) {
        lfail(&L, "not a regular file");
        fclose(fp);
        return NULL;
    }
    uint64_t fsize = (uint64_t)st.st_size, hlen = 0;
    ag__json doc = {0};
    entry *e = NULL, **order = NULL;
    ag_st_file *f = calloc(1, sizeof *f);
    char *h = f ? read_header(&L, fp, fsize, &hlen) : NULL;
    if (!f) lfail(&L, "out of memory");
    if (!h) goto fail;
    L.doc = &doc;
    L.data_size = fsize - 8 - hlen;
    if (ag__json_parse(&doc, h, hlen)) {
        lfail(&L, "header is not valid JSON: %s", doc.err);
        goto fail;
    }
    int n = 0;
    size_t cap = (size_t)doc.v[0].count + 1;
    e = malloc(cap * sizeof *e);
    order = malloc(cap * sizeof *order);
    f->names = malloc(cap * sizeof *f->names);
    f->tensors = calloc(cap, sizeof *f->tensors);
    if (!e || !order || !f->names || !f->tensors) {
        lfail(&L, "out of memory");
        goto fail;
    }
    if (validate_header(&L, e, &n, order, f) || read_tensors(&L, fp, e, n, order, f)) goto fail;
    f->strings = doc.strings; /* names and metadata point into it */
    doc.strings = NULL;
    ag__json_free(&doc);
    free(h);
    free(e);
    free(order);
    fclose(fp);
    return f;
fail:
    ag__json_free(&doc);
    free(h);
    free(e);
    free(order);
    fclose(fp);
    ag_st_free(f);
    return NULL;
}

ag_st_file *ag_safetensors_load(const char *path)
{
    return ag__st_load("ag_safetensors_load", path);
}
