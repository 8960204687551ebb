/* autograd/inspect.c - read-only access to the recorded graph: an op's name and inputs, and the
 * order in which backward visits the tensors. For teaching tools that replay backprop by hand. */
#include <stdlib.h>

#include "internal.h"

const char *ag_op_name(const ag_tensor *t)
{
    if (!t) {
        ag__error("ag_op_name: tensor is NULL");
        return "leaf";
    }
    return t->node ? ag__op_name(t->node) : "leaf";
}

int ag_num_inputs(const ag_tensor *t)
{
    return t && t->node ? t->node->ninputs : 0;
}

ag_tensor *ag_input(const ag_tensor *t, int i)
{
    int n = ag_num_inputs(t);
    if (i < 0 || i >= n) {
        ag__error("ag_input: input %d of a tensor made by '%s' with %d inputs", i,
                  t ? ag_op_name(t) : "(NULL)", n);
        return NULL;
    }
    return t->node->inputs[i];
}

/* Iterative post-order depth-first walk: a tensor is emitted once all its inputs are, giving a
 * topological order (inputs first); reversed, it is the order of backward. */
int ag_graph_order(ag_tensor *root, ag_tensor ***order, int64_t *count)
{
    if (order) *order = NULL;
    if (!root || !order || !count) {
        ag__error("ag_graph_order: %s is NULL", !root ? "root" : !order ? "order" : "count");
        return -1;
    }
    typedef struct frame { ag_tensor *t; int next; } frame;
    int64_t cap = 64, n = 0, sp = 0, scap = 64;
    ag_tensor **out = malloc(sizeof *out * (size_t)cap);
    frame *stack = malloc(sizeof *stack * (size_t)scap);
    uint64_t epoch = ++ag__thread()->epoch;
    if (!out || !stack) goto oom;
    root->mark = epoch;
    stack[sp++] = (frame){root, 0};
    while (sp > 0) {
        frame *f = &stack[sp - 1];
        int nin = f->t->node ? f->t->node->ninputs : 0;
        if (f->next < nin) {
            ag_tensor *in = f->t->node->inputs[f->next++];
            if (in->mark == epoch) continue;
            in->mark = epoch;
            if (sp == scap) {
                frame *s = realloc(stack, sizeof *stack * (size_t)(scap *= 2));
                if (!s) goto oom;
                stack = s;
            }
            stack[sp++] = (frame){in, 0};
            continue;
        }
        if (n == cap) {
            ag_tensor **o = realloc(out, sizeof *out * (size_t)(cap *= 2));
            if (!o) goto oom;
            out = o;
        }
        out[n++] = f->t;
        sp--;
    }
    for (int64_t i = 0; i < n / 2; i++) {
        ag_tensor *tmp = out[i];
        out[i] = out[n - 1 - i];
        out[n - 1 - i] = tmp;
    }
    free(stack);
    *order = out;
    *count = n;
    return 0;
oom:
    free(out);
    free(stack);
    ag__error("ag_graph_order: out of memory walking the graph");
    return -1;
}

void ag_graph_order_free(ag_tensor **order)
{
    free(order);
}
