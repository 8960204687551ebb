/* autograd/debug.c - seeing the graph: an indented text tree and Graphviz DOT export.
 * Both walk the graph with an explicit stack (deep graphs are fine) and visit each tensor once;
 * tensors are identified by name or by their position in the walk, never by address. */
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"

/* "1.5, -2, 3, ..." : the first few values of t. */
static void values(FILE *out, const ag_tensor *t, int max)
{
    for (int64_t i = 0; i < t->numel && i < max; i++)
        fprintf(out, "%s%.4g", i ? ", " : "", ag_get(t, i));
    if (t->numel > max) fprintf(out, ", ...");
}

/* Collects the tensors of root's graph, each once, in depth-first pre-order with depths. */
typedef struct item { ag_tensor *t; int depth; bool repeat; } item;

static int collect(ag_tensor *root, item **items, int64_t *count)
{
    int64_t cap = 64, n = 0, sp = 0, scap = 64;
    item *out = malloc(sizeof *out * (size_t)cap);
    item *stack = malloc(sizeof *stack * (size_t)scap);
    uint64_t epoch = ++ag__thread()->epoch;
    if (!out || !stack) goto oom;
    stack[sp++] = (item){root, 0, false};
    while (sp > 0) {
        item it = stack[--sp];
        it.repeat = it.t->mark == epoch;
        it.t->mark = epoch;
        if (n == cap) {
            item *o = realloc(out, sizeof *out * (size_t)(cap *= 2));
            if (!o) goto oom;
            out = o;
        }
        out[n++] = it;
        if (it.repeat || !it.t->node) continue;
        ag_node *nd = it.t->node;
        for (int i = nd->ninputs - 1; i >= 0; i--) {
            if (sp == scap) {
                item *s = realloc(stack, sizeof *stack * (size_t)(scap *= 2));
                if (!s) goto oom;
                stack = s;
            }
            stack[sp++] = (item){nd->inputs[i], it.depth + 1, false};
        }
    }
    free(stack);
    *items = out;
    *count = n;
    return 0;
oom:
    free(out);
    free(stack);
    ag__error("ag_graph: out of memory walking the graph");
    return -1;
}

/* What identifies a tensor in text: its name, or "t<k>" with k its position in the walk (never
 * an address, which changes from run to run and means nothing to a reader). */
static const char *label(const ag_tensor *t, int64_t k, char *buf, size_t size)
{
    if (t->name[0]) snprintf(buf, size, "%s", t->name);
    else snprintf(buf, size, "t%lld", (long long)k);
    return buf;
}

/* Each tensor's position in the walk (its first item), found by address in a sorted index:
 * graphs of 100,000 tensors stay fast. */
typedef struct slot { const ag_tensor *t; int64_t pos; } slot;

static int by_address(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t)((const slot *)a)->t, y = (uintptr_t)((const slot *)b)->t;
    return (x > y) - (x < y);
}

static slot *index_items(const item *items, int64_t n)
{
    slot *idx = malloc(sizeof *idx * (size_t)(n > 0 ? n : 1));
    if (!idx) {
        ag__error("ag_graph: out of memory walking the graph");
        return NULL;
    }
    int64_t k = 0;
    for (int64_t i = 0; i < n; i++)
        if (!items[i].repeat) idx[k++] = (slot){items[i].t, i};
    qsort(idx, (size_t)k, sizeof *idx, by_address);
    return idx;
}

static int64_t position(const slot *idx, int64_t n, const ag_tensor *t)
{
    slot key = {t, 0};
    const slot *s = bsearch(&key, idx, (size_t)n, sizeof *idx, by_address);
    return s ? s->pos : -1;
}

/* The checks and the walk both writers start with: the items of root's graph, the index of their
 * positions, and how many distinct tensors there are. */
static int walk(const char *fn, FILE *out, ag_tensor *root, item **items, int64_t *n, slot **idx,
                int64_t *distinct)
{
    if (!out || !root) {
        if (!ag_has_error() || out) ag__error("%s: %s is NULL", fn, out ? "root" : "out");
        return -1;
    }
    if (collect(root, items, n) != 0) return -1;
    if (!(*idx = index_items(*items, *n))) {
        free(*items);
        return -1;
    }
    *distinct = 0;
    for (int64_t i = 0; i < *n; i++) *distinct += !(*items)[i].repeat;
    return 0;
}

int ag_graph_print(FILE *out, ag_tensor *root)
{
    item *items;
    slot *idx;
    int64_t n, distinct;
    if (walk("ag_graph_print", out, root, &items, &n, &idx, &distinct) != 0) return -1;
    for (int64_t i = 0; i < n; i++) {
        ag_tensor *t = items[i].t;
        char s[AG_SHAPE_BUF], nm[64];
        int64_t k = items[i].repeat ? position(idx, distinct, t) : i;
        fprintf(out, "%*s%s %s", 2 * items[i].depth, "", t->node ? ag__op_name(t->node) : "leaf",
                label(t, k, nm, sizeof nm));
        if (items[i].repeat) {
            fprintf(out, " (shown above)\n");
            continue;
        }
        fprintf(out, " %s%s data=[", ag_dtype_name(t->dtype), ag_shape_str(t, s, sizeof s));
        values(out, t, 6);
        fprintf(out, "]");
        if (ag__grad_ready(t)) {
            fprintf(out, " grad=[");
            values(out, t->grad, 6);
            fprintf(out, "]");
        }
        if (t->requires_grad && !t->node) fprintf(out, " requires_grad");
        fprintf(out, "\n");
    }
    free(idx);
    free(items);
    return 0;
}

/* ---- Graphviz ---- */

void ag__xml_text(FILE *out, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '&': fputs("&amp;", out); break;
        case '"': fputs("&quot;", out); break;
        default: fputc(*s, out);
        }
    }
}

/* Up to 4 values rounded to 3 significant digits: "0.707" or "[0.1, -0.2, 0.3]"; nothing for
 * larger tensors, whose shape says more than a few of their numbers. */
static bool short_values(FILE *out, const ag_tensor *t)
{
    if (t->numel < 1 || t->numel > 4) return false;
    if (t->numel > 1) fputc('[', out);
    for (int64_t i = 0; i < t->numel; i++)
        fprintf(out, "%s%.3g", i ? ", " : "", ag_get(t, i));
    if (t->numel > 1) fputc(']', out);
    return true;
}

/* One box per tensor, ranks from left to right: the name in bold (an unnamed tensor shows the op
 * that made it, or "parameter"/"constant" for a leaf), the op under a name, the shape of a
 * non-scalar, then the value and the gradient (after a nabla) when they are a few numbers.
 * Parameters are shaded. Edges run from each input to the tensor computed from it. */
static void dot_node(FILE *out, const ag_tensor *t, int64_t id)
{
    char s[AG_SHAPE_BUF];
    const char *op = t->node ? ag__op_name(t->node) : NULL;
    bool param = !t->node && t->requires_grad;
    fprintf(out, "  t%lld [label=<<b>", (long long)id);
    ag__xml_text(out, t->name[0] ? t->name : op ? op : param ? "parameter" : "constant");
    fputs("</b>", out);
    if (t->name[0] && op) {
        fputs("<br/><font color=\"#666666\">", out);
        ag__xml_text(out, op);
        fputs("</font>", out);
    }
    if (t->ndim > 0) {
        fputs("<br/><font color=\"#666666\">", out);
        ag__xml_text(out, ag_shape_str(t, s, sizeof s));
        fputs("</font>", out);
    }
    if (t->numel >= 1 && t->numel <= 4) fputs("<br/>", out);
    short_values(out, t);
    const ag_tensor *g = ag__grad_ready((ag_tensor *)t);
    if (g && g->numel <= 4) {
        fputs("<br/><font color=\"#b22222\">\xe2\x88\x87 ", out); /* nabla: the gradient */
        short_values(out, g);
        fputs("</font>", out);
    }
    fprintf(out, ">%s];\n", param ? ", fillcolor=\"#dde8ff\"" : "");
}

int ag_graph_dot(FILE *out, ag_tensor *root)
{
    item *items;
    slot *idx;
    int64_t n, distinct;
    if (walk("ag_graph_dot", out, root, &items, &n, &idx, &distinct) != 0) return -1;
    fputs("digraph autograd {\n"
          "  rankdir=LR; ranksep=0.18; nodesep=0.08; pad=0.04;\n"
          "  node [shape=box, style=\"rounded,filled\", fillcolor=white, color=\"#888888\", "
          "fontname=\"Helvetica\", fontsize=10, margin=\"0.04,0.02\", height=0.2];\n"
          "  edge [arrowsize=0.5, color=\"#555555\"];\n", out);
    /* Node ids are positions in the walk: the same graph always gives the same file. */
    for (int64_t i = 0; i < n; i++)
        if (!items[i].repeat) dot_node(out, items[i].t, i);
    for (int64_t i = 0; i < n; i++) {
        ag_tensor *t = items[i].t;
        if (items[i].repeat || !t->node) continue;
        for (int k = 0; k < t->node->ninputs; k++)
            fprintf(out, "  t%lld -> t%lld;\n",
                    (long long)position(idx, distinct, t->node->inputs[k]), (long long)i);
    }
    fprintf(out, "}\n");
    free(idx);
    free(items);
    return ferror(out) ? -1 : 0;
}

int ag_graph_dot_file(const char *path, ag_tensor *root)
{
    if (!path) {
        ag__error("ag_graph_dot_file: path is NULL");
        return -1;
    }
    FILE *f = fopen(path, "w");
    if (!f) {
        ag__error("ag_graph_dot_file: cannot open '%s' for writing", path);
        return -1;
    }
    int rc = ag_graph_dot(f, root);
    if (fclose(f) != 0 && rc == 0) {
        ag__error("ag_graph_dot_file: error writing '%s'", path);
        rc = -1;
    }
    return rc;
}
