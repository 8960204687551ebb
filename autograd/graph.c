/* autograd/graph.c - recording the dynamic graph as ops run.
 *
 * An op computes its output, then calls ag__finish(): if grad mode is on and any input requires
 * a gradient, a node (op, inputs, parameters) is attached to the output, which then requires a
 * gradient too. Nothing else is needed to build the graph: it is the program's own data flow.
 */
#include <math.h>
#include <stdlib.h>

#include "internal.h"

ag_node *ag__alloc_node(int ninputs);

bool ag_set_grad_enabled(bool enabled)
{
    ag_thread *ts = ag__thread();
    bool prev = !ts->grad_disabled;
    ts->grad_disabled = !enabled;
    return prev;
}

bool ag_is_grad_enabled(void) { return !ag__thread()->grad_disabled; }

bool ag_set_anomaly_mode(bool enabled)
{
    ag_thread *ts = ag__thread();
    bool prev = ts->anomaly;
    ts->anomaly = enabled;
    return prev;
}

bool ag_is_anomaly_mode(void) { return ag__thread()->anomaly; }

bool ag__nonfinite(const ag_tensor *t)
{
    bool bad = false;
    AG_DISPATCH(t->dtype, T, const T *p = t->data;
                for (int64_t i = 0; i < t->numel; i++) if (!isfinite(p[i])) { bad = true; break; });
    return bad;
}

ag_tensor *ag__finish(ag_tensor *y, const ag_op *op, int n, ag_tensor *const *inputs,
                      const ag_params *p)
{
    ag_thread *ts = ag__thread();
    if (!y) return NULL;
    if (ts->anomaly && !ts->engine_owned && ag__nonfinite(y)) {
        /* (inside backward, propagate() checks the gradients and names the rule instead) */
        char buf[4 * AG_SHAPE_BUF] = "";
        size_t len = 0;
        for (int i = 0; i < n && len < sizeof buf; i++) {
            char s[AG_SHAPE_BUF];
            len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s%s", i ? ", " : "",
                                    ag_shape_str(inputs[i], s, sizeof s),
                                    ag__nonfinite(inputs[i]) ? " (already non-finite)" : "");
        }
        ag__error("ag_%s: produced NaN or Inf in forward (anomaly mode; input %s)", op->name, buf);
        ag__discard(y);
        return NULL;
    }
    if (ts->grad_disabled || !op->backward) return y;
    bool needs = false;
    for (int i = 0; i < n; i++) needs |= inputs[i]->requires_grad;
    if (!needs) return y;

    ag_node *node = ag__alloc_node(n);
    if (!node) {
        ag__error("ag_%s: out of memory recording the graph", op->name);
        ag__discard(y);
        return NULL;
    }
    node->op = op;
    for (int i = 0; i < n; i++) {
        node->inputs[i] = inputs[i];
        ag__retain(inputs[i]);
    }
    if (p) {
        node->p = *p;
        if (p->index && p->nindex > 0) {
            int cls;
            node->index = ag__alloc_bytes(sizeof(int64_t) * (size_t)p->nindex, &cls);
            if (!node->index) {
                y->node = node; /* released with y */
                ag__error("ag_%s: out of memory saving indices", op->name);
                ag__discard(y);
                return NULL;
            }
            memcpy(node->index, p->index, sizeof(int64_t) * (size_t)p->nindex);
        }
        node->p.index = node->index;
    }
    y->node = node;
    y->requires_grad = true;
    return y;
}

int ag_set_requires_grad(ag_tensor *t, bool requires_grad)
{
    if (!t) {
        if (!ag_has_error()) ag__error("ag_set_requires_grad: tensor is NULL");
        return -1;
    }
    if (t->node) {
        ag__error("ag_set_requires_grad: tensor %s was produced by op '%s'; only leaves can be "
                  "marked (use ag_detach to make a leaf)",
                  t->name[0] ? t->name : "(unnamed)", ag__op_name(t->node));
        return -1;
    }
    t->requires_grad = requires_grad;
    return 0;
}

bool ag_requires_grad(const ag_tensor *t) { return t && t->requires_grad; }

bool ag_is_leaf(const ag_tensor *t) { return t && !t->node; }

ag_tensor *ag_grad(const ag_tensor *t)
{
    if (!t) {
        if (!ag_has_error()) ag__error("ag_grad: tensor is NULL");
        return NULL;
    }
    return ag__grad_ready((ag_tensor *)t);
}

int ag_zero_grad(ag_tensor *t)
{
    if (!t) {
        if (!ag_has_error()) ag__error("ag_zero_grad: tensor is NULL");
        return -1;
    }
    ag_tensor *g = t->grad;
    if (!g) return 0;
    if (g->node || g->refs > 1) {
        /* A graph-carrying or shared gradient cannot be zeroed in place: drop it. */
        t->grad = NULL;
        t->grad_zero = false;
        ag__release(g);
        return 0;
    }
    /* Zeroed lazily: the next backward writes the gradient instead of adding it to zeros (one
     * pass over the data instead of two), and ag_grad() zeroes the values if read before. */
    t->grad_zero = true;
    return 0;
}

int ag_retain_grad(ag_tensor *t)
{
    if (!t) {
        if (!ag_has_error()) ag__error("ag_retain_grad: tensor is NULL");
        return -1;
    }
    if (!t->requires_grad) {
        char s[AG_SHAPE_BUF];
        ag__error("ag_retain_grad: tensor %s does not require grad, so backward never reaches it",
                  ag_shape_str(t, s, sizeof s));
        return -1;
    }
    t->retains_grad = true;
    return 0;
}

ag_tensor *ag_detach(ag_tensor *t)
{
    if (!t) {
        if (!ag_has_error()) ag__error("ag_detach: tensor is NULL");
        return NULL;
    }
    return ag__new_view(t, t->ndim, t->shape);
}

/* ---- shapes and broadcasting ---- */

bool ag__broadcast_shapes(const char *fn, int na, const int64_t *sa, int nb, const int64_t *sb,
                          int *nout, int64_t *out)
{
    int n = na > nb ? na : nb;
    for (int d = 0; d < n; d++) {
        int ia = d - (n - na), ib = d - (n - nb);
        int64_t x = ia >= 0 ? sa[ia] : 1, y = ib >= 0 ? sb[ib] : 1;
        if (x != y && x != 1 && y != 1) {
            char a[AG_SHAPE_BUF], b[AG_SHAPE_BUF];
            ag__error("%s: shapes %s and %s cannot broadcast (dimension %d: %lld vs %lld)", fn,
                      ag__shape_str(na, sa, a, sizeof a), ag__shape_str(nb, sb, b, sizeof b), d,
                      (long long)x, (long long)y);
            return false;
        }
        out[d] = x == 1 ? y : x;
    }
    *nout = n;
    return true;
}

void ag__axis_split(const ag_tensor *x, int axis, int64_t *outer, int64_t *n, int64_t *inner)
{
    int64_t o = 1, in = 1;
    for (int d = 0; d < axis; d++) o *= x->shape[d];
    for (int d = axis + 1; d < x->ndim; d++) in *= x->shape[d];
    *outer = o;
    *n = x->shape[axis];
    *inner = in;
}

void ag__bplan(ag_bplan *p, int nout, const int64_t *out, int nops, ag_tensor *const *ops)
{
    int64_t shape[AG_MAX_DIMS], stride[3][AG_MAX_DIMS];
    int nd = nout;
    memset(p, 0, sizeof *p);
    p->nops = nops;
    p->numel = ag__numel(nout, out);
    /* Element strides of each operand aligned to the output; 0 where it broadcasts. */
    for (int k = 0; k < nops; k++) {
        const ag_tensor *t = ops[k];
        int64_t s = 1;
        for (int d = nout - 1; d >= 0; d--) {
            int td = d - (nout - t->ndim);
            if (td < 0 || t->shape[td] == 1) {
                stride[k][d] = 0;
            } else {
                stride[k][d] = s;
                s *= t->shape[td];
            }
        }
    }
    for (int d = 0; d < nout; d++) shape[d] = out[d];
    if (nd == 0) { /* a scalar output: one element */
        p->nd = 1;
        p->shape[0] = 1;
        return;
    }
    /* Merge dimension d into d+1 when every operand steps across them as one flat run.
     * Size-1 dimensions are dropped first: they never move any operand. */
    int m = 0;
    int64_t ms[AG_MAX_DIMS], mst[3][AG_MAX_DIMS];
    for (int d = 0; d < nd; d++) {
        if (shape[d] == 1) continue;
        if (m > 0) {
            bool ok = true;
            for (int k = 0; k < nops; k++)
                if (mst[k][m - 1] != stride[k][d] * shape[d]) ok = false;
            if (ok) {
                ms[m - 1] *= shape[d];
                for (int k = 0; k < nops; k++) mst[k][m - 1] = stride[k][d];
                continue;
            }
        }
        ms[m] = shape[d];
        for (int k = 0; k < nops; k++) mst[k][m] = stride[k][d];
        m++;
    }
    if (m == 0) { /* all sizes 1 */
        p->nd = 1;
        p->shape[0] = 1;
        return;
    }
    p->nd = m;
    for (int d = 0; d < m; d++) {
        p->shape[d] = ms[d];
        for (int k = 0; k < nops; k++) p->stride[k][d] = mst[k][d];
    }
}
