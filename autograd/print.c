/* autograd/print.c - a tensor as text, in the manner of PyTorch's repr:
 *
 *     tensor([[ 0.1000, -0.2000],
 *             [ 1.5000,  2.0000]], shape=[2, 2], dtype=float32, grad_fn=<tanh>)
 *
 * Formatting follows torch/_tensor_str.py (1.13) with its default print options: one format for
 * all elements, chosen from the nonzero finite values shown (whole numbers print as "3.", a wide
 * range of magnitudes or values past 1e8 or below 1e-4 switch to e-notation, otherwise 4
 * decimals), right-aligned to a common width; rows wrap at 80 columns; a tensor of more than
 * 1000 elements is summarised with its first and last 3 entries along each long axis and "...".
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"

enum { THRESHOLD = 1000, EDGE = 3, LINE_WIDTH = 80, PRECISION = 4 };

typedef struct fmt {
    bool summarize;
    bool any;            /* some nonzero finite value was seen */
    bool int_mode, sci;
    double min_abs, max_abs;
    int width;
} fmt;

/* Calls visit(f, value) for every element shown (all of them, or the summarised ones). */
static void each_shown(const ag_tensor *t, bool summarize, int dim, int64_t offset, fmt *f,
                       void (*visit)(fmt *, double))
{
    if (t->ndim == 0) {
        visit(f, ag_get(t, 0));
        return;
    }
    int64_t n = t->shape[dim], stride = 1;
    for (int d = dim + 1; d < t->ndim; d++) stride *= t->shape[d];
    for (int64_t i = 0; i < n; i++) {
        if (summarize && n > 2 * EDGE && i == EDGE) i = n - EDGE;
        if (dim == t->ndim - 1) visit(f, ag_get(t, offset + i));
        else each_shown(t, summarize, dim + 1, offset + i * stride, f, visit);
    }
}

static void scan_range(fmt *f, double v)
{
    if (!isfinite(v) || v == 0) return;
    double a = fabs(v);
    if (!f->any) f->min_abs = f->max_abs = a;
    f->min_abs = fmin(f->min_abs, a);
    f->max_abs = fmax(f->max_abs, a);
    f->any = true;
    if (v != ceil(v)) f->int_mode = false;
}

/* The text of one value in the chosen format, without padding. */
static int format_value(const fmt *f, double v, char *buf, size_t size)
{
    if (isnan(v)) return snprintf(buf, size, "nan");
    if (isinf(v)) return snprintf(buf, size, v > 0 ? "inf" : "-inf");
    if (f->sci) return snprintf(buf, size, "%.*e", PRECISION, v);
    if (f->int_mode) return snprintf(buf, size, "%.0f.", v);
    return snprintf(buf, size, "%.*f", PRECISION, v);
}

static void scan_width(fmt *f, double v)
{
    if (!isfinite(v) || v == 0) return; /* as PyTorch: the width comes from nonzero finite values */
    char buf[64];
    int len = format_value(f, v, buf, sizeof buf);
    if (len > f->width) f->width = len;
}

static void choose_format(const ag_tensor *t, fmt *f)
{
    *f = (fmt){.summarize = t->numel > THRESHOLD, .int_mode = true, .width = 1};
    each_shown(t, f->summarize, 0, 0, f, scan_range);
    if (!f->any) return;
    double ratio = f->max_abs / f->min_abs;
    f->sci = f->int_mode ? ratio > 1000 || f->max_abs > 1e8
                         : ratio > 1000 || f->max_abs > 1e8 || f->min_abs < 1e-4;
    if (f->sci) f->int_mode = false;
    each_shown(t, f->summarize, 0, 0, f, scan_width);
}

static void put_value(FILE *out, const fmt *f, double v)
{
    char buf[64];
    int len = format_value(f, v, buf, sizeof buf);
    fprintf(out, "%*s%s", len < f->width ? f->width - len : 0, "", buf);
}

/* The values of t[offset...] along dims dim.. as nested brackets; `indent` is the column of the
 * opening bracket. */
static void put_dims(FILE *out, const ag_tensor *t, const fmt *f, int dim, int64_t offset,
                     int indent)
{
    int64_t n = t->shape[dim], stride = 1;
    for (int d = dim + 1; d < t->ndim; d++) stride *= t->shape[d];
    bool cut = f->summarize && n > 2 * EDGE;
    fputc('[', out);
    if (dim == t->ndim - 1) {
        /* one row: as many values per line as fit in the line width */
        int per_line = (LINE_WIDTH - indent) / (f->width + 2);
        if (per_line < 1) per_line = 1;
        int on_line = 0;
        for (int64_t i = 0; i < n; i++) {
            if (i > 0) {
                fputc(',', out);
                if (on_line == per_line) {
                    fprintf(out, "\n%*s", indent + 1, "");
                    on_line = 0;
                } else {
                    fputc(' ', out);
                }
            }
            if (cut && i == EDGE) {
                fputs(" ...", out); /* the elided middle counts as one entry, as PyTorch's */
                i = n - EDGE - 1;
            } else {
                put_value(out, f, ag_get(t, offset + i));
            }
            on_line++;
        }
    } else {
        int blank_lines = t->ndim - dim - 2; /* between matrices of a 3-D tensor, one, ... */
        for (int64_t i = 0; i < n; i++) {
            if (i > 0) {
                fputc(',', out);
                for (int b = 0; b <= blank_lines; b++) fputc('\n', out);
                fprintf(out, "%*s", indent + 1, "");
            }
            if (cut && i == EDGE) {
                fputs("...", out);
                i = n - EDGE - 1;
                continue;
            }
            put_dims(out, t, f, dim + 1, offset + i * stride, indent + 1);
        }
    }
    fputc(']', out);
}

/* Appends ", suffix" to the text, or starts a new line for it when the line, with a closing
 * parenthesis, would pass the line width (as PyTorch's _add_suffixes). */
static void add_suffix(FILE *out, int *line_len, int indent, const char *suffix)
{
    int n = (int)strlen(suffix);
    if (*line_len + n + 3 > LINE_WIDTH) {
        fprintf(out, ",\n%*s%s", indent, "", suffix);
        *line_len = indent + n;
    } else {
        fprintf(out, ", %s", suffix);
        *line_len += n + 2;
    }
}

/* The whole text into a malloc'd string (NULL when memory runs out). */
static char *tensor_text(const ag_tensor *t)
{
    static const char prefix[] = "tensor(";
    const int indent = (int)sizeof prefix - 1;
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    if (!out) return NULL;
    fmt f;
    choose_format(t, &f);
    fputs(prefix, out);
    if (t->ndim == 0) put_value(out, &f, ag_get(t, 0));
    else put_dims(out, t, &f, 0, 0, indent);
    fflush(out);
    const char *nl = buf ? strrchr(buf, '\n') : NULL;
    int line_len = (int)(nl ? len - (size_t)(nl - buf) - 1 : len); /* the last line's length */
    char s[AG_SHAPE_BUF + 8], suffix[AG_SHAPE_BUF + 48];
    snprintf(suffix, sizeof suffix, "shape=%s", ag_shape_str(t, s, sizeof s));
    add_suffix(out, &line_len, indent, suffix);
    snprintf(suffix, sizeof suffix, "dtype=%s", ag_dtype_name(t->dtype));
    add_suffix(out, &line_len, indent, suffix);
    if (t->node) {
        snprintf(suffix, sizeof suffix, "grad_fn=<%s>", ag__op_name(t->node));
        add_suffix(out, &line_len, indent, suffix);
    } else if (t->requires_grad) {
        add_suffix(out, &line_len, indent, "requires_grad=true");
    }
    if (t->name[0]) {
        snprintf(suffix, sizeof suffix, "name=\"%s\"", t->name);
        add_suffix(out, &line_len, indent, suffix);
    }
    fputc(')', out);
    bool bad = ferror(out) != 0;
    if (fclose(out) != 0 || bad) {
        free(buf);
        return NULL;
    }
    return buf;
}

int ag_fprint(FILE *out, const ag_tensor *t)
{
    if (!out || !t) {
        if (!ag_has_error() || !out) ag__error("ag_fprint: %s is NULL", out ? "tensor" : "out");
        return -1;
    }
    char *text = tensor_text(t);
    if (!text) {
        ag__error("ag_fprint: out of memory");
        return -1;
    }
    int rc = fprintf(out, "%s\n", text) < 0 ? -1 : 0;
    free(text);
    if (rc != 0) ag__error("ag_fprint: writing the tensor failed");
    return rc;
}

int ag_print(const ag_tensor *t)
{
    if (!t) {
        if (!ag_has_error()) ag__error("ag_print: tensor is NULL");
        return -1;
    }
    return ag_fprint(stdout, t);
}

char *ag_tensor_str(const ag_tensor *t)
{
    if (!t) {
        if (!ag_has_error()) ag__error("ag_tensor_str: tensor is NULL");
        return NULL;
    }
    char *text = tensor_text(t);
    if (!text) ag__error("ag_tensor_str: out of memory");
    return text;
}
