/* data/idx.c - IDX files (the MNIST format), raw or gzip-compressed: ag_load_idx and
 * ag_load_idx_dataset (MNIST and Fashion-MNIST by name are in mnist.c).
 *
 * Layout (big-endian): 0x00 0x00, a type byte (only 0x08, unsigned byte, is supported), a
 * dimension count, one 32-bit size per dimension, then exactly product(sizes) data bytes. Every
 * field is checked and the data must end exactly where the header says. gzip input (magic
 * 1f 8b) is inflated with zlib as it is read; built without zlib (no AG_HAVE_ZLIB) such files
 * give an error saying so.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#ifdef AG_HAVE_ZLIB
#include <zlib.h>
#endif

#include "data_internal.h"

#define IDX_MAX_BYTES ((int64_t)1 << 40) /* refuse headers promising more than 1 TiB */

/* A byte source: the raw file, or its gzip stream decompressed on the fly. */
typedef struct {
    const char *fn, *path;
    FILE *f;
    unsigned char peek[2];
    size_t npeek, ipeek; /* bytes read to detect gzip, handed out first (raw files) */
    bool gz;
#ifdef AG_HAVE_ZLIB
    z_stream z;
    bool z_ready, z_member_end;
    unsigned char in[1 << 16];
#endif
} source;

static bool source_open(source *s, const char *fn, const char *path)
{
    memset(s, 0, sizeof *s);
    s->fn = fn;
    s->path = path;
    s->f = fopen(path, "rb");
    if (!s->f) {
        ag__error("%s: cannot open '%s': %s", fn, path, strerror(errno));
        return false;
    }
    s->npeek = fread(s->peek, 1, 2, s->f);
    s->gz = s->npeek == 2 && s->peek[0] == 0x1f && s->peek[1] == 0x8b;
    if (!s->gz) return true;
#ifdef AG_HAVE_ZLIB
    memcpy(s->in, s->peek, 2);
    s->z.next_in = s->in;
    s->z.avail_in = 2;
    if (inflateInit2(&s->z, 16 + MAX_WBITS) != Z_OK) { /* 16: gzip wrapper only */
        ag__error("%s: '%s': cannot start zlib", fn, path);
        return false;
    }
    s->z_ready = true;
    return true;
#else
    ag__error("%s: '%s' is gzip-compressed but the library was built without zlib "
              "(install zlib and rebuild, or gunzip the file first)", fn, path);
    return false;
#endif
}

static void source_close(source *s)
{
#ifdef AG_HAVE_ZLIB
    if (s->z_ready) inflateEnd(&s->z);
#endif
    if (s->f) fclose(s->f);
}

static bool read_failed(source *s)
{
    if (!ferror(s->f)) return false;
    ag__error("%s: error reading '%s'", s->fn, s->path);
    return true;
}

#ifdef AG_HAVE_ZLIB
/* Refills zlib's input: the number of bytes now available, 0 at the end of the file, -1 on error. */
static int64_t refill(source *s)
{
    size_t got = fread(s->in, 1, sizeof s->in, s->f);
    if (got == 0 && read_failed(s)) return -1;
    s->z.next_in = s->in;
    s->z.avail_in = (uInt)got;
    return (int64_t)got;
}

static int64_t read_gz(source *s, unsigned char *buf, size_t n)
{
    size_t done = 0;
    while (done < n) {
        if (s->z.avail_in == 0) {
            int64_t r = refill(s);
            if (r < 0) return -1;
            if (r == 0) {
                if (s->z_member_end) break; /* the stream ended cleanly */
                ag__error("%s: '%s': the gzip data ends unexpectedly (truncated file?)", s->fn,
                          s->path);
                return -1;
            }
        }
        if (s->z_member_end) { /* more input after a gzip member: the next member */
            inflateReset(&s->z);
            s->z_member_end = false;
        }
        size_t chunk = n - done < ((size_t)1 << 30) ? n - done : (size_t)1 << 30;
        s->z.next_out = buf + done;
        s->z.avail_out = (uInt)chunk;
        int ret = inflate(&s->z, Z_NO_FLUSH);
        done += chunk - s->z.avail_out;
        if (ret == Z_STREAM_END) {
            s->z_member_end = true;
        } else if (ret != Z_OK && ret != Z_BUF_ERROR) {
            ag__error("%s: '%s': corrupt gzip data (%s)", s->fn, s->path,
                      s->z.msg ? s->z.msg : "zlib error");
            return -1;
        }
    }
    return (int64_t)done;
}
#endif

/* Reads up to n bytes: how many were read (fewer only at the end of the data), or -1. */
static int64_t source_read(source *s, void *dst, size_t n)
{
    unsigned char *buf = dst;
#ifdef AG_HAVE_ZLIB
    if (s->gz) return read_gz(s, buf, n);
#endif
    size_t done = 0;
    while (done < n && s->ipeek < s->npeek) buf[done++] = s->peek[s->ipeek++];
    if (done < n) done += fread(buf + done, 1, n - done, s->f);
    if (done < n && read_failed(s)) return -1;
    return (int64_t)done;
}

static const char *type_name(int t)
{
    switch (t) {
    case 0x09: return "signed byte";
    case 0x0B: return "16-bit integer";
    case 0x0C: return "32-bit integer";
    case 0x0D: return "float32";
    case 0x0E: return "float64";
    }
    return "unknown";
}

/* The header: shape into ndim/dims; the data size into *total. */
static bool read_header(source *s, int *ndim, int64_t *dims, int64_t *total)
{
    unsigned char h[4 + 4 * AG_MAX_DIMS];
    int64_t got = source_read(s, h, 4);
    if (got < 0) return false;
    if (got < 4) {
        ag__error("%s: '%s' is too short for an IDX header (%lld bytes)", s->fn, s->path,
                  (long long)got);
        return false;
    }
    if (h[0] || h[1]) {
        ag__error("%s: '%s' has bad magic bytes 0x%02X 0x%02X (an IDX file starts with 0x00 "
                  "0x00)", s->fn, s->path, h[0], h[1]);
        return false;
    }
    if (h[2] != 0x08) {
        ag__error("%s: '%s' has data type 0x%02X (%s); only 0x08 (unsigned byte) is supported",
                  s->fn, s->path, h[2], type_name(h[2]));
        return false;
    }
    *ndim = h[3];
    if (*ndim < 1 || *ndim > AG_MAX_DIMS) {
        ag__error("%s: '%s' has %d dimensions (must be 1..%d)", s->fn, s->path, *ndim,
                  AG_MAX_DIMS);
        return false;
    }
    got = source_read(s, h + 4, 4 * (size_t)*ndim);
    if (got < 0) return false;
    if (got < 4 * *ndim) {
        ag__error("%s: '%s': the header is truncated (%lld of %d size bytes)", s->fn, s->path,
                  (long long)got, 4 * *ndim);
        return false;
    }
    *total = 1;
    for (int d = 0; d < *ndim; d++) {
        const unsigned char *p = h + 4 + 4 * d;
        dims[d] = (int64_t)p[0] << 24 | (int64_t)p[1] << 16 | (int64_t)p[2] << 8 | p[3];
        if (dims[d] && *total > IDX_MAX_BYTES / dims[d]) {
            ag__error("%s: '%s': the shape in the header is too large", s->fn, s->path);
            return false;
        }
        *total *= dims[d];
    }
    return true;
}

/* Data bytes left in a raw regular file after a header of `ndim` sizes, or -1 when unknown: a
 * short file is reported before a header's promise is allocated. */
static int64_t raw_left(source *s, int ndim)
{
    struct stat st;
    if (s->gz || fstat(fileno(s->f), &st) != 0 || !S_ISREG(st.st_mode)) return -1;
    int64_t left = (int64_t)st.st_size - 4 - 4 * (int64_t)ndim;
    return left < 0 ? 0 : left;
}

static void truncated(const char *fn, const char *path, int ndim, const int64_t *dims,
                      int64_t total, int64_t got)
{
    char sh[AG_SHAPE_BUF];
    ag__error("%s: '%s': the data is truncated: the header's shape %s needs %lld bytes, the file "
              "has %lld", fn, path, ag__shape_str(ndim, dims, sh, sizeof sh), (long long)total,
              (long long)got);
}

/* Reads an IDX file's shape and data bytes (*data is malloc'd). */
static bool idx_read(const char *fn, const char *path, int *ndim, int64_t *dims,
                     unsigned char **data, int64_t *total)
{
    source s;
    *data = NULL;
    bool ok = false;
    if (!path) {
        ag__error("%s: path is NULL", fn);
        return false;
    }
    if (source_open(&s, fn, path) && read_header(&s, ndim, dims, total)) {
        char sh[AG_SHAPE_BUF];
        unsigned char extra;
        int64_t left = raw_left(&s, *ndim);
        if (left >= 0 && left < *total) {
            truncated(fn, path, *ndim, dims, *total, left);
            goto out;
        }
        *data = malloc(*total ? (size_t)*total : 1);
        int64_t got = *data ? source_read(&s, *data, (size_t)*total) : -1;
        int64_t more = got == *total ? source_read(&s, &extra, 1) : -1;
        if (!*data)
            ag__error("%s: out of memory for %lld bytes of '%s'", fn, (long long)*total, path);
        else if (got >= 0 && got < *total)
            truncated(fn, path, *ndim, dims, *total, got);
        else if (more > 0)
            ag__error("%s: '%s' has bytes after the %lld data bytes of shape %s", fn, path,
                      (long long)*total, ag__shape_str(*ndim, dims, sh, sizeof sh));
        ok = more == 0;
    }
out:
    source_close(&s);
    if (!ok) {
        free(*data);
        *data = NULL;
    }
    return ok;
}

/* A tensor of the given shape holding bytes * scale. */
static ag_tensor *to_tensor(const unsigned char *bytes, int ndim, const int64_t *shape,
                            ag_dtype dt, double scale)
{
    ag_tensor *t = ag__new(dt, ndim, shape);
    if (!t) return NULL;
    AG_DISPATCH(dt, T, T *p = t->data;
                AG_PFOR_SIMD(i, t->numel, p[i] = (T)((double)bytes[i] * scale);););
    return t;
}

static bool check_dtype(const char *fn, ag_dtype dt)
{
    if (dt == AG_F32 || dt == AG_F64) return true;
    ag__error("%s: invalid dtype %d (use AG_F32 or AG_F64)", fn, (int)dt);
    return false;
}

ag_tensor *ag_load_idx(const char *path, ag_dtype dtype, double scale)
{
    const char *fn = "ag_load_idx";
    if (!check_dtype(fn, dtype)) return NULL;
    if (!isfinite(scale)) {
        ag__error("%s: scale %g is not finite", fn, scale);
        return NULL;
    }
    int ndim;
    int64_t dims[AG_MAX_DIMS], total;
    unsigned char *data;
    if (!idx_read(fn, path, &ndim, dims, &data, &total)) return NULL;
    ag_tensor *t = to_tensor(data, ndim, dims, dtype, scale);
    free(data);
    return t;
}

ag_dataset *ag_load_idx_dataset(const char *images_path, const char *labels_path, ag_dtype dtype)
{
    return ag__load_idx_pair("ag_load_idx_dataset", images_path, labels_path, dtype, 0);
}

ag_dataset *ag__load_idx_pair(const char *fn, const char *images_path, const char *labels_path,
                              ag_dtype dtype, int num_classes)
{
    char si[AG_SHAPE_BUF], sl[AG_SHAPE_BUF];
    if (!check_dtype(fn, dtype)) return NULL;
    int ni, nl;
    int64_t di[AG_MAX_DIMS], dl[AG_MAX_DIMS], ti, tl;
    unsigned char *img, *lab = NULL;
    if (!idx_read(fn, images_path, &ni, di, &img, &ti)) return NULL;
    ag_dataset *ds = NULL;
    if (!idx_read(fn, labels_path, &nl, dl, &lab, &tl)) goto done;
    if (ni < 2 || nl != 1 || di[0] != dl[0] || di[0] == 0) {
        ag__error("%s: images %s ('%s') and labels %s ('%s') must be [N, h, w] and [N], N > 0",
                  fn, ag__shape_str(ni, di, si, sizeof si), images_path,
                  ag__shape_str(nl, dl, sl, sizeof sl), labels_path);
        goto done;
    }
    int maxl = 0;
    for (int64_t i = 0; i < tl; i++) maxl = lab[i] > maxl ? lab[i] : maxl;
    ag_tensor *x = to_tensor(img, 2, (int64_t[]){di[0], ti / di[0]}, dtype, 1.0 / 255.0);
    ag_tensor *y = x ? to_tensor(lab, 1, dl, dtype, 1.0) : NULL;
    if (!y) {
        ag__discard(x);
        goto done;
    }
    ds = ag__data_take(fn, x, y, num_classes > 0 ? num_classes : maxl + 1, true);
done:
    free(img);
    free(lab);
    return ds;
}
