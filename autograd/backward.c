/* autograd/backward.c - reverse-mode differentiation.
 *
 * The whole idea, read aloud:
 *   1. Sort the graph: list every tensor the output depends on (through inputs that require
 *      grad) so that each tensor comes after all the tensors it was computed from. The walk uses
 *      an explicit stack, so a chain of 100,000 ops cannot overflow the C stack.
 *   2. Seed: the gradient of the output with respect to itself is 1 (or the caller's seed).
 *   3. Walk the list backwards. By the time we reach a tensor, every op that used it has already
 *      sent its contribution, and we have summed them in t->acc: that sum is dL/dt. Hand it to
 *      the backward rule of the op that made t; the rule returns dL/d(input) for each input
 *      (the chain rule), which we add to that input's acc. A tensor used twice (x*x, diamonds)
 *      receives two contributions and sums them before it is processed, exactly once.
 *   4. Leaves keep what reached them: ag_backward adds it to ag_grad(leaf), ag_grad_of returns it.
 *
 * The rules compute with ordinary ops. Normally they run in no-grad mode; with create_graph they
 * record, so the gradients are themselves differentiable.
 */
#include <stdlib.h>

#include "internal.h"

void ag__node_release_saved(ag_node *n);

typedef struct frame { ag_tensor *t; int next; } frame;

/* Per-thread work arrays, kept between passes so steady-state backward does not allocate. */
static _Thread_local ag_tensor **order;
static _Thread_local int64_t order_len, order_cap;
static _Thread_local frame *stack;
static _Thread_local int64_t stack_cap;

/* Frees the work arrays (ag_memory_trim, and so at thread exit). */
void ag__backward_trim(void)
{
    free(order);
    order = NULL;
    order_len = order_cap = 0;
    free(stack);
    stack = NULL;
    stack_cap = 0;
}

static bool grow(void **p, int64_t *cap, int64_t need, size_t elem)
{
    if (need <= *cap) return true;
    int64_t c = *cap ? *cap : 256;
    while (c < need) c *= 2;
    void *q = realloc(*p, (size_t)c * elem);
    if (!q) return false;
    *p = q;
    *cap = c;
    return true;
}

/* Step 1: topological order of the tensors `root` depends on, inputs first. */
static int topo_sort(const char *fn, ag_tensor *root)
{
    ag_thread *ts = ag__thread();
    uint64_t epoch = ++ts->epoch;
    int64_t sp = 0;
    order_len = 0;
    if (!grow((void **)&stack, &stack_cap, 1, sizeof *stack)) goto oom;
    stack[sp++] = (frame){root, 0};
    root->mark = epoch;
    while (sp > 0) {
        frame *f = &stack[sp - 1];
        ag_node *n = f->t->node;
        if (n && n->freed) {
            char s[AG_SHAPE_BUF];
            ag__error("%s: the graph through op '%s' (output %s) was already freed by a previous "
                      "backward; to backward through it again, pass retain_graph = true to the "
                      "first call", fn, ag__op_name(n), ag_shape_str(f->t, s, sizeof s));
            return -1;
        }
        if (n && f->next < n->ninputs) {
            ag_tensor *in = n->inputs[f->next++];
            if (in->requires_grad && in->mark != epoch) {
                in->mark = epoch;
                if (!grow((void **)&stack, &stack_cap, sp + 1, sizeof *stack)) goto oom;
                stack[sp++] = (frame){in, 0};
            }
        } else {
            if (!grow((void **)&order, &order_cap, order_len + 1, sizeof *order)) goto oom;
            order[order_len++] = f->t;
            sp--;
        }
    }
    return 0;
oom:
    ag__error("%s: out of memory sorting the graph", fn);
    return -1;
}

/* A gradient buffer we may add into in place: nobody else can see it. */
static bool exclusive(const ag_tensor *t)
{
    return t->refs == 1 && !t->base && !t->node && !t->in_scope && t->caller_refs == 0;
}

static void add_into(ag_tensor *dst, const ag_tensor *src)
{
    AG_DISPATCH(dst->dtype, T, T *d = dst->data; const T *s = src->data;
                AG_PFOR_SIMD(i, dst->numel, d[i] += s[i];););
}

/* *slot += g, consuming the reference to g. In place when allowed, else as a new op (which is
 * what create_graph needs: the sum must be part of the recorded graph). */
static int accumulate(ag_tensor **slot, ag_tensor *g, bool create_graph)
{
    if (!*slot) {
        *slot = g;
        return 0;
    }
    if (!create_graph && exclusive(*slot)) {
        add_into(*slot, g);
        ag__release(g);
        return 0;
    }
    ag_tensor *sum = ag_add(*slot, g);
    ag__release(g);
    if (!sum) return -1;
    ag__release(*slot);
    *slot = sum;
    return 0;
}

/* Adds g (a reference we own) into a stored gradient (leaf, or retained non-leaf). A stored
 * gradient must not alias anything else, since later passes add into it in place. */
static int store_grad(ag_tensor *t, ag_tensor *g, bool create_graph)
{
    if (t->grad && t->grad_zero) {
        /* after ag_zero_grad: overwrite the stored values (kept in place, as documented) */
        ag_tensor *s = t->grad;
        if (!create_graph && s->numel == g->numel && s->dtype == g->dtype && !s->node) {
            memcpy(s->data, g->data, (size_t)g->numel * ag_dtype_size(g->dtype));
            t->grad_zero = false;
            ag__release(g);
            return 0;
        }
        ag__grad_ready(t);
    }
    if (!t->grad && !create_graph && !exclusive(g)) {
        ag_tensor *c = ag_copy(g);
        ag__release(g);
        if (!c) return -1;
        g = c;
    }
    return accumulate(&t->grad, g, create_graph);
}

static bool requested(ag_tensor *t, int n, ag_tensor *const *inputs)
{
    for (int i = 0; i < n; i++)
        if (inputs[i] == t) return true;
    return false;
}

/* Step 3 for one tensor: apply the rule of the op that made t, send gradients to its inputs. */
static int propagate(const char *fn, ag_tensor *t, const ag_backward_opts *o)
{
    ag_node *n = t->node;
    ag_tensor *inline_gin[AG_INLINE_INPUTS] = {0};
    ag_tensor **gin = inline_gin;
    int rc = 0;
    if (n->ninputs > AG_INLINE_INPUTS) {
        gin = calloc((size_t)n->ninputs, sizeof *gin);
        if (!gin) {
            ag__error("%s: out of memory", fn);
            return -1;
        }
    }
    if (n->op->backward(n, t, t->acc, gin) != 0) {
        if (!ag_has_error()) ag__error("%s: backward of op '%s' failed", fn, ag__op_name(n));
        rc = -1;
    }
    for (int i = 0; i < n->ninputs; i++) {
        ag_tensor *x = n->inputs[i], *g = gin[i];
        gin[i] = NULL;
        if (!g) continue;
        if (rc != 0 || !x->requires_grad) {
            ag__release(g);
            continue;
        }
        if (!ag_same_shape(g, x)) { /* the op broadcast x: sum the gradient back to x's shape */
            ag_tensor *r = ag_sum_to(g, x->ndim, x->shape);
            ag__release(g);
            if (!r) { rc = -1; continue; }
            g = r;
        }
        if (ag__thread()->anomaly && ag__nonfinite(g)) {
            char s[AG_SHAPE_BUF];
            ag__error("%s: backward of op '%s' produced NaN or Inf in the gradient of its input "
                      "%d %s (anomaly mode)", fn, ag__op_name(n), i + 1, ag_shape_str(x, s, sizeof s));
            ag__release(g);
            rc = -1;
            continue;
        }
        if (accumulate(&x->acc, g, o->create_graph) != 0) rc = -1;
    }
    if (gin != inline_gin) free(gin);
    return rc;
}

/* Shared by ag_backward_ex (n == 0: accumulate into leaves) and ag_grad_of (return grads). */
static int run(const char *fn, ag_tensor *root, const ag_backward_opts *opts, int n,
               ag_tensor *const *inputs, ag_tensor **grads)
{
    ag_backward_opts o = opts ? *opts : (ag_backward_opts){0};
    if (o.create_graph) o.retain_graph = true;
    bool returning = grads != NULL;
    char s[AG_SHAPE_BUF], s2[AG_SHAPE_BUF];

    if (!root) {
        if (!ag_has_error()) ag__error("%s: output is NULL", fn);
        return -1;
    }
    if (!root->requires_grad) {
        ag__error("%s: the output %s does not require grad: no input of its graph has "
                  "requires_grad set, or it was computed in no-grad mode", fn,
                  ag_shape_str(root, s, sizeof s));
        return -1;
    }
    if (o.seed) {
        if (o.seed->dtype != root->dtype || !ag_same_shape(o.seed, root)) {
            ag__error("%s: seed %s %s does not match output %s %s", fn, ag_dtype_name(o.seed->dtype),
                      ag_shape_str(o.seed, s, sizeof s), ag_dtype_name(root->dtype),
                      ag_shape_str(root, s2, sizeof s2));
            return -1;
        }
    } else if (root->numel != 1) {
        ag__error("%s: output %s has %lld elements; backward from a non-scalar needs a seed "
                  "gradient of the same shape (ag_backward_opts.seed), or reduce it first "
                  "(e.g. ag_sum_all)", fn, ag_shape_str(root, s, sizeof s), (long long)root->numel);
        return -1;
    }
    for (int i = 0; returning && i < n; i++) {
        if (!inputs[i]) {
            ag__error("%s: inputs[%d] is NULL", fn, i);
            return -1;
        }
        if (!inputs[i]->requires_grad) {
            ag__error("%s: inputs[%d] %s does not require grad, so it has no gradient", fn, i,
                      ag_shape_str(inputs[i], s, sizeof s));
            return -1;
        }
    }
    if (topo_sort(fn, root) != 0) return -1;

    ag_thread *ts = ag__thread();
    bool was_disabled = ts->grad_disabled;
    ts->grad_disabled = !o.create_graph;
    ts->engine_owned++;
    int rc = 0;

    /* Step 2: seed. A caller's seed is used as is (never modified: it is not exclusive), so
     * with create_graph the gradients stay differentiable with respect to the seed too. */
    if (o.seed) ag__retain((ag_tensor *)o.seed);
    root->acc = o.seed ? (ag_tensor *)o.seed : ag_ones_like(root);
    if (!root->acc) rc = -1;

    /* Step 3: reverse topological order. */
    for (int64_t i = order_len - 1; i >= 0 && rc == 0; i--) {
        ag_tensor *t = order[i];
        if (!t->acc) continue; /* nothing flowed here */
        bool keep_acc = returning && requested(t, n, inputs);
        if (!t->node) continue; /* a leaf: step 4 */
        if (!returning && (t->retains_grad || o.retain_all_grads)) {
            ag__retain(t->acc);
            if (store_grad(t, t->acc, o.create_graph) != 0) rc = -1;
        }
        if (rc == 0 && propagate(fn, t, &o) != 0) rc = -1;
        if (!keep_acc) {
            ag__release(t->acc);
            t->acc = NULL;
        }
        if (!o.retain_graph) {
            t->node->freed = true;
            ag__node_release_saved(t->node);
        }
    }

    /* Step 4: leaves, or the requested inputs. */
    if (rc == 0 && !returning) {
        for (int64_t i = 0; i < order_len && rc == 0; i++) {
            ag_tensor *t = order[i];
            if (t->node || !t->acc || !t->requires_grad) continue;
            ag_tensor *g = t->acc;
            t->acc = NULL;
            if (store_grad(t, g, o.create_graph) != 0) rc = -1;
        }
    }
    if (rc == 0 && returning) {
        for (int i = 0; i < n && rc == 0; i++) {
            ag_tensor *g = inputs[i]->acc;
            if (g) ag__retain(g);
            else if (!(g = ag_zeros_like(inputs[i]))) rc = -1;
            grads[i] = g;
        }
    }
    for (int64_t i = 0; i < order_len; i++) {
        ag__release(order[i]->acc);
        order[i]->acc = NULL;
    }
    ts->engine_owned--;
    ts->grad_disabled = was_disabled;
    if (returning) {
        for (int i = 0; i < n; i++) {
            if (!grads[i]) continue;
            if (rc == 0) {
                ag__adopt(grads[i]);
            } else {
                ag__release(grads[i]);
                grads[i] = NULL;
            }
        }
    }
    return rc;
}

int ag_backward_ex(ag_tensor *root, const ag_backward_opts *opts)
{
    return run("ag_backward", root, opts, 0, NULL, NULL);
}

int ag_backward(ag_tensor *root) { return run("ag_backward", root, NULL, 0, NULL, NULL); }

int ag_grad_of(ag_tensor *output, int n, ag_tensor *const *inputs, ag_tensor **grads,
               const ag_backward_opts *opts)
{
    if (n < 0 || (n > 0 && (!inputs || !grads))) {
        ag__error("ag_grad_of: need n >= 0 inputs and a grads array (got n = %d, inputs %s, "
                  "grads %s)", n, inputs ? "set" : "NULL", grads ? "set" : "NULL");
        return -1;
    }
    for (int i = 0; i < n; i++) grads[i] = NULL;
    if (opts && opts->retain_all_grads) {
        ag__error("ag_grad_of: retain_all_grads is for ag_backward_ex; ag_grad_of stores nothing");
        return -1;
    }
    return run("ag_grad_of", output, opts, n, inputs, grads);
}
