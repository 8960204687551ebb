/* io/safetensors_write.c - writing safetensors files, atomically.
 *
 * The header lists "__metadata__" first, then the tensors sorted by name (so the same tensors
 * always give the same bytes), with data_offsets in that order; it is padded with spaces so the
 * data starts 8-byte aligned, as the reference writer does. The file is written to a temporary
 * file "<path>.tmp.<pid>.<k>" of its own, flushed and fsync'ed, closed, then renamed over `path`:
 * a failure at any point removes the temporary file and leaves an earlier file at `path`
 * untouched.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "io_internal.h"

#define MAX_HEADER 100000000u

/* A growing string; `oom` sticks once an allocation fails. */
typedef struct sbuf {
    char *p;
    size_t len, cap;
    bool oom;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t n)
{
    if (b->oom) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1) cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) { b->oom = true; return; }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_str(sbuf *b, const char *s) { sb_put(b, s, strlen(s)); }

static void sb_u64(sbuf *b, uint64_t v)
{
    char t[24];
    sb_put(b, t, (size_t)snprintf(t, sizeof t, "%llu", (unsigned long long)v));
}

/* A JSON string literal. Text is checked to be UTF-8 beforehand; quotes, backslashes and
 * control characters are escaped. */
static void sb_json(sbuf *b, const char *s)
{
    sb_put(b, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char t[8];
        if (c == '"' || c == '\\') {
            t[0] = '\\';
            t[1] = (char)c;
            sb_put(b, t, 2);
        } else if (c < 0x20) {
            sb_put(b, t, (size_t)snprintf(t, sizeof t, "\\u%04x", c));
        } else {
            sb_put(b, s, 1);
        }
    }
    sb_put(b, "\"", 1);
}

static bool valid_utf8(const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        size_t k = ag__utf8_seq((const unsigned char *)s + i, n - i);
        if (!k) return false;
        i += k;
    }
    return true;
}

typedef struct named {
    const char *name;
    int index;
} named;

static int by_name(const void *a, const void *b)
{
    return strcmp(((const named *)a)->name, ((const named *)b)->name);
}

/* order[k] = index of the k-th name in sorted order; -1 (error recorded) on a duplicate. */
static int sort_names(const char *fn, int n, const char *const *names, int *order)
{
    named *s = malloc(((size_t)n + 1) * sizeof *s);
    if (!s) return ag__error("%s: out of memory", fn), -1;
    for (int i = 0; i < n; i++) s[i] = (named){names[i], i};
    qsort(s, (size_t)n, sizeof *s, by_name);
    int rc = 0;
    for (int k = 0; k < n; k++) {
        order[k] = s[k].index;
        if (k && strcmp(s[k - 1].name, s[k].name) == 0 && rc == 0) {
            ag__error("%s: duplicate tensor name '%s'", fn, s[k].name);
            rc = -1;
        }
    }
    free(s);
    return rc;
}

/* Argument checks: unique non-empty UTF-8 names, F32/F64 tensors, metadata keys unique. */
static int check_args(const char *fn, const char *path, int n, const char *const *names,
                      ag_tensor *const *tensors, int nmeta, const char *const *meta)
{
    if (!path) return ag__error("%s: path is NULL", fn), -1;
    if (n < 0 || nmeta < 0)
        return ag__error("%s: negative count (n %d, nmeta %d)", fn, n, nmeta), -1;
    if (n > 0 && (!names || !tensors)) return ag__error("%s: names or tensors is NULL", fn), -1;
    if (nmeta > 0 && !meta) return ag__error("%s: meta is NULL with nmeta %d", fn, nmeta), -1;
    for (int i = 0; i < n; i++) {
        if (!names[i] || !names[i][0]) return ag__error("%s: tensor %d has no name", fn, i), -1;
        if (!valid_utf8(names[i]))
            return ag__error("%s: name of tensor %d is not UTF-8", fn, i), -1;
        if (strcmp(names[i], "__metadata__") == 0)
            return ag__error("%s: \"__metadata__\" is reserved and cannot name a tensor", fn), -1;
        if (!tensors[i]) return ag__error("%s: tensor '%s' is NULL", fn, names[i]), -1;
        ag_dtype dt = ag_get_dtype(tensors[i]);
        if (dt != AG_F32 && dt != AG_F64)
            return ag__error("%s: tensor '%s' has an invalid dtype", fn, names[i]), -1;
    }
    for (int i = 0; i < 2 * nmeta; i++) {
        if (!meta[i])
            return ag__error("%s: metadata %s %d is NULL", fn, i % 2 ? "value" : "key", i / 2), -1;
        if (!valid_utf8(meta[i]))
            return ag__error("%s: metadata %s %d is not UTF-8", fn, i % 2 ? "value" : "key", i / 2),
                   -1;
        for (int j = 0; j < i && i % 2 == 0; j += 2)
            if (strcmp(meta[i], meta[j]) == 0)
                return ag__error("%s: duplicate metadata key '%s'", fn, meta[i]), -1;
    }
    return 0;
}

/* The JSON header, padded with spaces to make 8 + length a multiple of 8. */
static int build_header(sbuf *b, int n, const char *const *names, ag_tensor *const *tensors,
                        const int *order, int nmeta, const char *const *meta)
{
    sb_str(b, "{");
    if (nmeta > 0) {
        sb_str(b, "\"__metadata__\":{");
        for (int i = 0; i < nmeta; i++) {
            if (i) sb_str(b, ",");
            sb_json(b, meta[2 * i]);
            sb_str(b, ":");
            sb_json(b, meta[2 * i + 1]);
        }
        sb_str(b, "}");
    }
    uint64_t off = 0;
    for (int k = 0; k < n; k++) {
        ag_tensor *t = tensors[order[k]];
        uint64_t bytes = (uint64_t)ag_numel(t) * ag_dtype_size(ag_get_dtype(t));
        if (k || nmeta > 0) sb_str(b, ",");
        sb_json(b, names[order[k]]);
        sb_str(b, ag_get_dtype(t) == AG_F32 ? ":{\"dtype\":\"F32\",\"shape\":[" :
                                              ":{\"dtype\":\"F64\",\"shape\":[");
        for (int d = 0; d < ag_ndim(t); d++) {
            if (d) sb_str(b, ",");
            sb_u64(b, (uint64_t)ag_shape(t)[d]);
        }
        sb_str(b, "],\"data_offsets\":[");
        sb_u64(b, off);
        sb_str(b, ",");
        sb_u64(b, off + bytes);
        sb_str(b, "]}");
        off += bytes;
    }
    sb_str(b, "}");
    while (!b->oom && b->len % 8) sb_str(b, " ");
    return b->oom ? -1 : 0;
}

/* Writes a tensor's bytes little-endian (swapping through a small buffer on big-endian hosts). */
static bool write_data(FILE *fp, ag_tensor *t)
{
    size_t es = ag_dtype_size(ag_get_dtype(t)), bytes = (size_t)ag_numel(t) * es;
    const unsigned char *src = ag_data(t);
    if (bytes == 0) return true;
    if (ag__host_little_endian()) return fwrite(src, 1, bytes, fp) == bytes;
    unsigned char buf[4096];
    for (size_t at = 0; at < bytes; at += sizeof buf) {
        size_t k = bytes - at < sizeof buf ? bytes - at : sizeof buf;
        memcpy(buf, src + at, k);
        ag__swap_elements(buf, (int64_t)(k / es), es);
        if (fwrite(buf, 1, k, fp) != k) return false;
    }
    return true;
}

/* Best effort: makes the rename itself durable. Failure here loses nothing already written. */
static void sync_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char dir[4096];
    if (!slash) snprintf(dir, sizeof dir, ".");
    else if ((size_t)(slash - path) + 1 < sizeof dir)
        snprintf(dir, sizeof dir, "%.*s", slash == path ? 1 : (int)(slash - path), path);
    else return;
    int fd = open(dir, O_RDONLY);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

/* Creates a temporary file beside `path` that no one else is writing: "<path>.tmp.<pid>.<k>",
 * created exclusively (O_EXCL) with the first k that is free. Threads of one process saving to
 * the same path thus never share a temporary file (the last rename wins, with a whole file). */
static FILE *create_temp(const char *fn, const char *path, char *tmp, size_t tlen)
{
    for (int k = 0;; k++) {
        snprintf(tmp, tlen, "%s.tmp.%ld.%d", path, (long)getpid(), k);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0666);
        if (fd < 0 && errno == EEXIST && k < 999) continue;
        FILE *fp = fd < 0 ? NULL : fdopen(fd, "wb");
        if (!fp) {
            ag__error("%s: cannot create '%s': %s", fn, tmp, strerror(errno));
            if (fd >= 0) {
                close(fd);
                remove(tmp);
            }
        }
        return fp;
    }
}

static int write_atomic(const char *fn, const char *path, const sbuf *hdr, int n,
                        ag_tensor *const *tensors, const int *order)
{
    size_t tlen = strlen(path) + 48;
    char *tmp = malloc(tlen);
    if (!tmp) return ag__error("%s: out of memory", fn), -1;
    FILE *fp = create_temp(fn, path, tmp, tlen);
    if (!fp) {
        free(tmp);
        return -1;
    }
    unsigned char lb[8];
    for (int i = 0; i < 8; i++) lb[i] = (unsigned char)((uint64_t)hdr->len >> (8 * i));
    const char *step = "write";
    bool ok = fwrite(lb, 1, 8, fp) == 8 && fwrite(hdr->p, 1, hdr->len, fp) == hdr->len;
    for (int k = 0; ok && k < n; k++) ok = write_data(fp, tensors[order[k]]);
    if (ok && !(ok = fflush(fp) == 0)) step = "flush";
    if (ok && !(ok = fsync(fileno(fp)) == 0)) step = "fsync";
    int err = errno;
    int closed = fclose(fp);
    if (ok && !(ok = closed == 0)) step = "close", err = errno;
    if (ok && !(ok = rename(tmp, path) == 0)) step = "rename", err = errno;
    if (!ok) {
        remove(tmp);
        ag__error("%s: cannot save '%s' (%s failed): %s", fn, path, step, strerror(err));
    } else {
        sync_dir(path);
    }
    free(tmp);
    return ok ? 0 : -1;
}

int ag__st_save(const char *fn, const char *path, int n, const char *const *names,
                ag_tensor *const *tensors, int nmeta, const char *const *meta)
{
    if (check_args(fn, path, n, names, tensors, nmeta, meta)) return -1;
    int *order = malloc(((size_t)n + 1) * sizeof *order);
    if (!order) return ag__error("%s: out of memory", fn), -1;
    int rc = -1;
    sbuf hdr = {0};
    if (sort_names(fn, n, names, order)) {
        /* error recorded */
    } else if (build_header(&hdr, n, names, tensors, order, nmeta, meta)) {
        ag__error("%s: out of memory", fn);
    } else if (hdr.len > MAX_HEADER) {
        ag__error("%s: header of %zu bytes exceeds the format's limit of %u", fn, hdr.len,
                  MAX_HEADER);
    } else {
        rc = write_atomic(fn, path, &hdr, n, tensors, order);
    }
    free(hdr.p);
    free(order);
    return rc;
}

int ag_safetensors_save(const char *path, int n, const char *const *names,
                        ag_tensor *const *tensors, int nmeta, const char *const *meta)
{
    return ag__st_save("ag_safetensors_save", path, n, names, tensors, nmeta, meta);
}
