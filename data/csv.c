/* data/csv.c - ag_load_csv: a numeric CSV file with a header row as a dataset. The whole file is
 * read into memory, so lines of any length work; every field is checked, and errors name the
 * file, line and column. Fields are plain numbers (no quoting); header names may be quoted. */
#include <errno.h> /* fopen's reason */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "data_internal.h"

#define FN "ag_load_csv"

/* Reads the whole file into a NUL-terminated buffer (*len bytes before the NUL). */
static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        ag__error(FN ": cannot open '%s': %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (n + 1 >= cap) {
            char *nb = cap < SIZE_MAX / 2 ? realloc(buf, cap * 2) : NULL;
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - 1 - n, f);
        n += got;
        if (got == 0) break;
    }
    if (!buf) {
        ag__error(FN ": out of memory reading '%s'", path);
    } else if (ferror(f)) {
        ag__error(FN ": error reading '%s'", path);
        free(buf);
        buf = NULL;
    } else {
        buf[n] = '\0';
        *len = n;
    }
    fclose(f);
    return buf;
}

/* One line of the buffer: [p, end) without its '\n' or "\r\n"; returns the start of the next. */
static char *next_line(char *p, char *stop, char **end)
{
    char *nl = memchr(p, '\n', (size_t)(stop - p));
    char *e = nl ? nl : stop;
    if (e > p && e[-1] == '\r') e--;
    *end = e;
    return nl ? nl + 1 : stop;
}

/* A line of spaces and tabs only (a tab delimiter makes tabs count as fields instead). */
static bool blank(const char *p, const char *e, char delim)
{
    for (; p < e; p++)
        if (*p != ' ' && (*p != '\t' || delim == '\t')) return false;
    return true;
}

/* Splits [p, e) at `delim` in place (fields become NUL-terminated). Stores up to `max` field
 * starts; returns the number of fields. */
static int64_t split(char *p, char *e, char delim, char **fields, int64_t max)
{
    int64_t k = 0;
    for (;;) {
        char *d = memchr(p, delim, (size_t)(e - p));
        if (k < max) fields[k] = p;
        k++;
        if (!d) break;
        *d = '\0';
        p = d + 1;
    }
    *e = '\0';
    return k;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t') s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) s[--n] = '\0';
    return s;
}

/* Strips one pair of surrounding double quotes from a header name. */
static char *unquote(char *s)
{
    size_t n = strlen(s);
    if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
        s[n - 1] = '\0';
        return s + 1;
    }
    return s;
}

typedef struct {
    const char *path;
    char **names;     /* header names */
    int64_t ncol, target;
    bool classification;
} csv_ctx;

/* Parses a field as a finite number; the error names line, column and the column's name. */
static bool parse_number(const csv_ctx *c, char *field, int64_t line, int64_t col, double *out)
{
    char *s = trim(field), *end;
    const char *why = NULL;
    double v = *s ? strtod(s, &end) : 0;
    if (!*s) why = "empty field";
    else if (end == s || *end) why = "not a number";
    else if (!isfinite(v)) why = "not a finite number";
    if (why) {
        ag__error(FN ": %s line %lld, column %lld ('%.60s'): %s: '%.40s'", c->path, (long long)line,
                  (long long)col + 1, c->names[col], why, s);
        return false;
    }
    if (c->classification && col == c->target &&
        !(v >= 0 && v == floor(v) && v < (double)(1 << 24))) {
        ag__error(FN ": %s line %lld, column %lld ('%.60s'): class label %.17g is not an integer in "
                  "0..%d", c->path, (long long)line, (long long)col + 1, c->names[col], v,
                  (1 << 24) - 1);
        return false;
    }
    *out = v;
    return true;
}

/* Finds the target column from the options. */
static bool find_target(csv_ctx *c, const ag_csv_opts *o)
{
    if (o->target) {
        for (int64_t j = 0; j < c->ncol; j++)
            if (strcmp(c->names[j], o->target) == 0) {
                c->target = j;
                return true;
            }
        ag__error(FN ": %s line 1: no column named '%s' in the header", c->path, o->target);
        return false;
    }
    int64_t t = o->target_index == -1 ? c->ncol - 1 : o->target_index;
    if (t < 0 || t >= c->ncol) {
        ag__error(FN ": %s: target_index %d is out of range for %lld columns (-1: the last)",
                  c->path, o->target_index, (long long)c->ncol);
        return false;
    }
    c->target = t;
    return true;
}

/* Appends one value to a growing array. */
static bool push(double **v, size_t *n, size_t *cap, double x)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 1024;
        double *nv = realloc(*v, nc * sizeof **v);
        if (!nv) return false;
        *v = nv;
        *cap = nc;
    }
    (*v)[(*n)++] = x;
    return true;
}

/* Parses every data row into vals (row-major, all columns); returns the row count or -1. */
static int64_t parse_rows(csv_ctx *c, char *p, char *stop, char delim, int64_t line,
                          char **fields, double **vals)
{
    size_t n = 0, cap = 0;
    int64_t rows = 0;
    while (p < stop) {
        char *e;
        char *next = next_line(p, stop, &e);
        line++;
        if (!blank(p, e, delim)) {
            int64_t k = split(p, e, delim, fields, c->ncol);
            if (k != c->ncol) {
                ag__error(FN ": %s line %lld has %lld fields, the header has %lld", c->path,
                          (long long)line, (long long)k, (long long)c->ncol);
                return -1;
            }
            for (int64_t j = 0; j < c->ncol; j++) {
                double v;
                if (!parse_number(c, fields[j], line, j, &v)) return -1;
                if (!push(vals, &n, &cap, v)) {
                    ag__error(FN ": out of memory reading %s", c->path);
                    return -1;
                }
            }
            rows++;
        }
        p = next;
    }
    return rows;
}

/* Builds x (all columns but the target) and y from the parsed values. */
static ag_dataset *build(const csv_ctx *c, const double *vals, int64_t rows, ag_dtype dt)
{
    int64_t f = c->ncol - 1;
    double maxy = -1;
    ag_tensor *x = ag__new(dt, 2, (int64_t[]){rows, f});
    ag_tensor *y = x ? ag__new(dt, c->classification ? 1 : 2, (int64_t[]){rows, 1}) : NULL;
    if (!y) {
        ag__discard(x);
        return NULL;
    }
    AG_DISPATCH(dt, T, T *px = x->data; T *py = y->data;
        for (int64_t i = 0; i < rows; i++) {
            const double *r = vals + i * c->ncol;
            for (int64_t j = 0, k = 0; j < c->ncol; j++)
                if (j != c->target) px[i * f + k++] = (T)r[j];
            py[i] = (T)r[c->target];
            maxy = r[c->target] > maxy ? r[c->target] : maxy;
        });
    return ag__data_take(FN, x, y, c->classification ? (int)maxy + 1 : 0, true);
}

ag_dataset *ag_load_csv(const char *path, const ag_csv_opts *opts)
{
    ag_csv_opts o = opts ? *opts : (ag_csv_opts){0};
    char delim = o.delimiter ? o.delimiter : ',';
    if (!path || (o.dtype != AG_F32 && o.dtype != AG_F64) || delim == '\n' || delim == '\r' ||
        delim == '"') {
        ag__error(FN ": %s", !path ? "path is NULL" : o.dtype != AG_F32 && o.dtype != AG_F64
                                     ? "invalid dtype (use AG_F32 or AG_F64)"
                                     : "invalid delimiter");
        return NULL;
    }
    size_t len;
    char *buf = read_all(path, &len);
    if (!buf) return NULL;
    csv_ctx c = {.path = path, .classification = o.classification};
    char *p = buf, *stop = buf + len, *e;
    if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) p += 3; /* UTF-8 byte order mark */
    char *hdr = p;
    p = next_line(p, stop, &e);
    ag_dataset *ds = NULL;
    char **fields = NULL;
    double *vals = NULL;
    if (blank(hdr, e, delim)) {
        ag__error(FN ": %s line 1: %s", path, hdr == stop ? "the file is empty (no header row)"
                                                          : "the header row is empty");
        goto done;
    }
    c.ncol = 1;
    for (char *q = hdr; q < e; q++) c.ncol += *q == delim;
    if (c.ncol < 2) {
        ag__error(FN ": %s line 1: the header has 1 column; need a target and at least one "
                  "feature (delimiter '%c')", path, delim);
        goto done;
    }
    fields = malloc(sizeof *fields * (size_t)c.ncol * 2);
    if (!fields) {
        ag__error(FN ": out of memory reading %s", path);
        goto done;
    }
    c.names = fields + c.ncol;
    split(hdr, e, delim, c.names, c.ncol);
    for (int64_t j = 0; j < c.ncol; j++) c.names[j] = unquote(trim(c.names[j]));
    if (!find_target(&c, &o)) goto done;
    int64_t rows = parse_rows(&c, p, stop, delim, 1, fields, &vals);
    if (rows == 0) ag__error(FN ": %s has a header but no data rows", path);
    if (rows > 0) ds = build(&c, vals, rows, o.dtype);
done:
    free(vals);
    free(fields);
    free(buf);
    return ds;
}
