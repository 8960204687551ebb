/* autograd/debug.c - seeing the graph: an indented text tree and Graphviz DOT export.
 * Both walk the graph with an explicit stack (deep graphs are fine) and visit each tensor once. */
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

static const char *label(const ag_tensor *t, char *buf, size_t size)
{
    if (t->name[0]) snprintf(buf, size, "%s", t->name);
    else snprintf(buf, size, "t%p", (const void *)t);
    return buf;
}

int ag_graph_print(FILE *out, ag_tensor *root)
{
    if (!out || !root) {
        if (!ag_has_error() || out) ag__error("ag_graph_print: %s is NULL", out ? "root" : "out");
        return -1;
    }
    item *items;
    int64_t n;
    if (collect(root, &items, &n) != 0) return -1;
    for (int64_t i = 0; i < n; i++) {
        ag_tensor *t = items[i].t;
        char s[AG_SHAPE_BUF], nm[64];
        fprintf(out, "%*s%s %s", 2 * items[i].depth, "", t->node ? ag__op_name(t->node) : "leaf",
                label(t, nm, sizeof nm));
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
    free(items);
    return 0;
}

int ag_graph_dot(FILE *out, ag_tensor *root)
{
    if (!out || !root) {
        if (!ag_has_error() || out) ag__error("ag_graph_dot: %s is NULL", out ? "root" : "out");
        return -1;
    }
    item *items;
    int64_t n;
    if (collect(root, &items, &n) != 0) return -1;
    fprintf(out, "digraph autograd {\n  rankdir=LR;\n  node [fontname=\"Helvetica\"];\n");
    for (int64_t i = 0; i < n; i++) {
        ag_tensor *t = items[i].t;
        if (items[i].repeat) continue;
        char s[AG_SHAPE_BUF];
        /* A record per tensor: name | shape | data | grad (micrograd's draw_dot layout). */
        fprintf(out, "  \"%p\" [shape=record, label=\"{ %s | %s | data ", (void *)t,
                t->name[0] ? t->name : (t->node ? " " : "leaf"), ag_shape_str(t, s, sizeof s));
        values(out, t, 4);
        fprintf(out, " | grad ");
        if (ag__grad_ready(t)) values(out, t->grad, 4);
        else fprintf(out, "-");
        fprintf(out, " }\"%s];\n", t->requires_grad && !t->node ? ", style=filled, fillcolor=\"#e8f0ff\"" : "");
        if (t->node) {
            ag_node *nd = t->node;
            fprintf(out, "  \"%p_op\" [shape=oval, label=\"%s\"];\n", (void *)t, ag__op_name(nd));
            fprintf(out, "  \"%p_op\" -> \"%p\";\n", (void *)t, (void *)t);
            for (int k = 0; k < nd->ninputs; k++)
                fprintf(out, "  \"%p\" -> \"%p_op\";\n", (void *)nd->inputs[k], (void *)t);
        }
    }
    fprintf(out, "}\n");
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
