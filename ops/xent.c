/* ops/xent.c - softmax cross-entropy with class-index targets as one op (internal, used by
 * nn/loss_ce.c when there are no class weights and no label smoothing).
 *
 *   loss_i = -log_softmax(x)[i, t_i] = -((x[i, t_i] - m_i) - log sum_j e^(x[i, j] - m_i))
 *   d loss_i / d x[i, j] = softmax(x)[i, j] - [j == t_i]          (dx = g_i * that)
 *
 * The forward is the same arithmetic as log_softmax followed by gather and neg, in one pass;
 * it keeps the softmax probabilities for the backward pass. The backward rule is written with
 * ops (softmax, a constant one-hot, sub, mul), so gradients of gradients work; when no graph is
 * being recorded it is one pass over the saved probabilities instead, the same formula.
 */
#include <tgmath.h>

#include "../autograd/internal.h"
#include "rows.h"

/* One-hot rows [N, C] for the targets, as a constant tensor. */
static ag_tensor *one_hot(const ag_tensor *x, const int64_t *t)
{
    ag_tensor *oh = ag_zeros(x->dtype, 2, x->shape);
    if (!oh) return NULL;
    int64_t c = x->shape[1];
    AG_DISPATCH(x->dtype, T, T *p = oh->data;
        for (int64_t i = 0; i < x->shape[0]; i++) p[i * c + t[i]] = 1;);
    return oh;
}

/* dx = g_i (p[i, :] - onehot(t_i)) from the probabilities p saved by the forward pass. */
static ag_tensor *fused_grad(const ag_tensor *p, const ag_tensor *g, const int64_t *t)
{
    ag_tensor *dx = ag__new_like(p);
    if (!dx) return NULL;
    int64_t n = p->shape[0], c = p->shape[1];
    AG_DISPATCH(p->dtype, T, const T *pp = p->data; const T *pg = g->data; T *pd = dx->data;
        AG_PFOR_WORK(i, n, p->numel,
            const T *pi = pp + i * c;
            T *di = pd + i * c;
            T gi = pg[i];
            for (int64_t j = 0; j < c; j++) di[j] = gi * (pi[j] - (T)(j == t[i]));););
    return dx;
}

static int xent_backward(ag_node *n, ag_tensor *y, ag_tensor *g, ag_tensor **gin)
{
    (void)y;
    ag_tensor *x = n->inputs[0];
    const int64_t *t = n->p.index;
    if (!ag_is_grad_enabled()) {
        gin[0] = fused_grad(n->inputs[1], g, t); /* inputs[1]: the saved softmax, a constant */
        return gin[0] ? 0 : -1;
    }
    /* create_graph: the same formula as a graph of ops */
    ag_tensor *sm = ag_softmax(x, 1), *oh = one_hot(x, t);
    ag_tensor *d = sm && oh ? ag_sub(sm, oh) : NULL;
    ag_tensor *gc = ag_reshape(g, 2, (int64_t[]){x->shape[0], 1});
    gin[0] = d && gc ? ag_mul(d, gc) : NULL;
    ag__release(sm);
    ag__release(oh);
    ag__release(d);
    ag__release(gc);
    return gin[0] ? 0 : -1;
}

static const ag_op OP_XENT = {"softmax_cross_entropy", xent_backward};

ag_tensor *ag__xent_index(ag_tensor *x, const int64_t *t)
{
    if (!ag__check("ag_cross_entropy", 1, &x)) return NULL;
    if (x->ndim != 2) {
        char s[AG_SHAPE_BUF];
        ag__error("ag_cross_entropy: logits %s must be 2-D", ag_shape_str(x, s, sizeof s));
        return NULL;
    }
    int64_t n = x->shape[0], c = x->shape[1];
    ag_tensor *y = ag__new(x->dtype, 1, (int64_t[]){n});
    if (!y) return NULL;
    /* The softmax probabilities are kept for the backward pass (as a second, constant input of
     * the node), so it needs no exp. Only when a graph is recorded. */
    bool save = ag_is_grad_enabled() && x->requires_grad;
    ag_tensor *prob = save ? ag__new_like(x) : NULL;
    if (save && !prob) {
        ag__discard(y);
        return NULL;
    }
    AG_DISPATCH(x->dtype, T, const T *px = x->data; T *py = y->data;
        T *pp = prob ? (T *)prob->data : NULL;
        AG_PFOR_WORK(i, n, x->numel,
            const T *xi = px + i * c;
            T *pi = pp ? pp + i * c : NULL;
            /* the same m and s as log_softmax's rows (ops/rows.h) */
            T m = ag__row_shift(T, xi, c);
            T s = ag__row_expsum(T, xi, c, m, pi);
            if (pi)
                for (int64_t j = 0; j < c; j++) pi[j] /= s;
            py[i] = -((xi[t[i]] - m) - log(s));););
    ag_params p = {.axis = 1, .index = t, .nindex = n};
    ag_tensor *in[2] = {x, prob};
    ag_tensor *out = ag__finish(y, &OP_XENT, save ? 2 : 1, in, &p);
    if (prob) ag__discard(prob); /* the node holds it now: drop the scope's (or caller's) claim */
    return out;
}
