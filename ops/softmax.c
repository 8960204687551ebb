/* ops/softmax.c - the softmax family along one axis: softmax, log_softmax and logsumexp.
 *
 * All three are computed from the same two passes over each lane (the n values along the axis):
 * the maximum m, then s = sum_j e^(x_j - m). Shifting by m keeps every exponent <= 0, so logits
 * of 1000 (or a mix of 1000 and -1000) give finite results:
 *     logsumexp = m + log s,   log_softmax_j = (x_j - m) - log s,   softmax_j = e^(x_j - m) / s.
 * A lane whose maximum is infinite is not shifted (exp(-inf - -inf) would be NaN): all -inf
 * gives logsumexp -inf, as PyTorch does.
 *
 * x is seen as [outer, n, inner]; each iteration handles up to IBLK neighbouring lanes of one
 * outer index (contiguous inner loops), and the sums run in order: results do not depend on the
 * thread count.
 */
#include <tgmath.h>

#include "../autograd/internal.h"
#include "rows.h"

enum kind { SOFTMAX, LOG_SOFTMAX, LOGSUMEXP };

#define IBLK 128

/* The kernel below for the last axis (inner == 1, contiguous lanes): the same operations in the
 * same order, without the lane-block bookkeeping that dominates short rows (a classifier's
 * [batch, 10] logits). The two passes are ops/rows.h's, shared with ops/xent.c. */
static void rows_kernel(const ag_tensor *x, ag_tensor *y, int64_t outer, int64_t n, enum kind k)
{
    AG_DISPATCH(x->dtype, T, const T *px = x->data; T *py = y->data;
        AG_PFOR_WORK(o, outer, x->numel,
            const T *xo = px + o * n;
            T *yo = k == LOGSUMEXP ? py + o : py + o * n;
            T m = ag__row_shift(T, xo, n);
            T s = ag__row_expsum(T, xo, n, m, k == SOFTMAX ? yo : NULL);
            if (k == LOGSUMEXP) {
                yo[0] = m + log(s);
            } else if (k == LOG_SOFTMAX) {
                T ls = log(s);
                for (int64_t j = 0; j < n; j++) yo[j] = (xo[j] - m) - ls;
            } else {
                for (int64_t j = 0; j < n; j++) yo[j] /= s;
            });
        );
}

/* Forward for the three ops. y has outer*n*inner elements (softmax, log_softmax) or
 * outer*inner (logsumexp). */
static void kernel(const ag_tensor *x, ag_tensor *y, int axis, enum kind k)
{
    int64_t outer, n, inner;
    ag__axis_split(x, axis, &outer, &n, &inner);
    if (inner == 1) {
        rows_kernel(x, y, outer, n, k);
        return;
    }
    int64_t nblk = (inner + IBLK - 1) / IBLK, iters = outer * nblk;
    AG_DISPATCH(x->dtype, T, const T *px = x->data; T *py = y->data;
        AG_PFOR_WORK(it, iters, x->numel,
            int64_t o = it / nblk, i0 = (it % nblk) * IBLK;
            int64_t w = i0 + IBLK < inner ? IBLK : inner - i0;
            const T *xo = px + o * n * inner + i0;
            T m[IBLK], s[IBLK];
            for (int64_t i = 0; i < w; i++) m[i] = -INFINITY;
            for (int64_t j = 0; j < n; j++)
                for (int64_t i = 0; i < w; i++) {
                    T v = xo[j * inner + i];
                    if (v > m[i] || isnan(v)) m[i] = v; /* NaN sticks and propagates */
                }
            for (int64_t i = 0; i < w; i++) {
                if (isinf(m[i])) m[i] = 0; /* no shift: see the header comment */
                s[i] = 0;
            }
            /* softmax keeps e^(x - m) in y on the way, then divides: one exp per element */
            T *ys = k == SOFTMAX ? py + o * n * inner + i0 : NULL;
            for (int64_t j = 0; j < n; j++)
                for (int64_t i = 0; i < w; i++) {
                    T e = exp(xo[j * inner + i] - m[i]);
                    if (ys) ys[j * inner + i] = e;
                    s[i] += e;
                }
            if (k == LOGSUMEXP) {
                T *yo = py + o * inner + i0;
                for (int64_t i = 0; i < w; i++) yo[i] = m[i] + log(s[i]);
            } else if (k == LOG_SOFTMAX) {
                T *yo = py + o * n * inner + i0;
                /* (x - m) - log s: exact shift first, so 1000 - 1000 loses nothing */
                for (int64_t i = 0; i < w; i++) s[i] = log(s[i]);
                for (int64_t j = 0; j < n; j++)
                    for (int64_t i = 0; i < w; i++)
                        yo[j * inner + i] = (xo[j * inner + i] - m[i]) - s[i];
            } else {
                for (int64_t j = 0; j < n; j++)
                    for (int64_t i = 0; i < w; i++) ys[j * inner + i] /= s[i];
            });
        );
}

/* softmax: y_j = e^x_j / sum_i e^x_i.   dy_j/dx_i = y_j (delta_ij - y_i), so
 * dx = y * (g - sum(g*y, axis)). Uses the output y, whose own graph carries second order. */
static int softmax_backward(ag_node *n, ag_tensor *y, ag_tensor *g, ag_tensor **gin)
{
    ag_tensor *gy = ag_mul(g, y);
    ag_tensor *s = ag_sum(gy, n->p.axis, true);
    ag_tensor *d = ag_sub(g, s);
    gin[0] = ag_mul(y, d);
    ag__release(gy);
    ag__release(s);
    ag__release(d);
    return gin[0] ? 0 : -1;
}

/* log_softmax: y_j = x_j - logsumexp(x).   dy_j/dx_i = delta_ij - softmax_i, so
 * dx = g - e^y * sum(g, axis)   (e^y is the softmax). */
static int log_softmax_backward(ag_node *n, ag_tensor *y, ag_tensor *g, ag_tensor **gin)
{
    int64_t outer, len, inner;
    ag__axis_split(y, n->p.axis, &outer, &len, &inner);
    if (!ag_is_grad_enabled() && inner == 1 && g->dtype == y->dtype && g->numel == y->numel) {
        /* No create_graph, so nothing is recorded: the same arithmetic as the ops below (e^y,
         * the row sum in ag_sum's order, g - e^y s) in one pass per row, without four
         * temporaries; a classifier's [batch, 10] rows are too short for the ops to pay. */
        ag_tensor *dx = ag__new_like(y);
        if (!dx) return -1;
        AG_DISPATCH(y->dtype, T, const T *py = y->data; const T *pg = g->data; T *pd = dx->data;
            AG_PFOR_WORK(o, outer, y->numel,
                const T *yo = py + o * len, *go = pg + o * len;
                T *d = pd + o * len;
                T s;
                AG__SUM8(T, go, 0, len, s);
                for (int64_t j = 0; j < len; j++) {
                    T e = exp(yo[j]), ps = e * s;
                    d[j] = go[j] - ps;
                });
            );
        gin[0] = dx;
        return 0;
    }
    ag_tensor *p = ag_exp(y);
    ag_tensor *s = ag_sum(g, n->p.axis, true);
    ag_tensor *ps = ag_mul(p, s);
    gin[0] = ag_sub(g, ps);
    ag__release(p);
    ag__release(s);
    ag__release(ps);
    return gin[0] ? 0 : -1;
}

/* logsumexp: y = log sum_i e^x_i.   dy/dx_i = e^(x_i - y) = softmax_i, so
 * dx = g * e^(x - y)   (g and y restored to keepdim shape; x - y <= 0 stays finite). */
static int logsumexp_backward(ag_node *n, ag_tensor *y, ag_tensor *g, ag_tensor **gin)
{
    ag_tensor *x = n->inputs[0];
    ag_tensor *gk = ag__as_keepdim(g, x, n->p.axis, n->p.keepdim);
    ag_tensor *yk = ag__as_keepdim(y, x, n->p.axis, n->p.keepdim);
    ag_tensor *d = ag_sub(x, yk);
    ag_tensor *p = ag_exp(d);
    gin[0] = ag_mul(gk, p);
    ag__release(gk);
    ag__release(yk);
    ag__release(d);
    ag__release(p);
    return gin[0] ? 0 : -1;
}

static const ag_op OP_SOFTMAX = {"softmax", softmax_backward};
static const ag_op OP_LOG_SOFTMAX = {"log_softmax", log_softmax_backward};
static const ag_op OP_LOGSUMEXP = {"logsumexp", logsumexp_backward};

static ag_tensor *forward(const char *fn, const ag_op *op, enum kind k, ag_tensor *x, int axis,
                          bool keepdim)
{
    int ax;
    if (!ag__check(fn, 1, &x) || !ag__axis(fn, x, axis, &ax)) return NULL;
    ag_tensor *y;
    if (k == LOGSUMEXP) {
        int64_t shape[AG_MAX_DIMS];
        int nd = 0;
        for (int d = 0; d < x->ndim; d++) {
            if (d != ax) shape[nd++] = x->shape[d];
            else if (keepdim) shape[nd++] = 1;
        }
        y = ag__new(x->dtype, nd, shape);
    } else {
        y = ag__new_like(x);
    }
    if (!y) return NULL;
    kernel(x, y, ax, k);
    ag_params p = {.axis = ax, .keepdim = keepdim};
    return ag__finish(y, op, 1, &x, &p);
}

ag_tensor *ag_softmax(ag_tensor *x, int axis)
{
    return forward("ag_softmax", &OP_SOFTMAX, SOFTMAX, x, axis, true);
}

ag_tensor *ag_log_softmax(ag_tensor *x, int axis)
{
    return forward("ag_log_softmax", &OP_LOG_SOFTMAX, LOG_SOFTMAX, x, axis, true);
}

ag_tensor *ag_logsumexp(ag_tensor *x, int axis, bool keepdim)
{
    return forward("ag_logsumexp", &OP_LOGSUMEXP, LOGSUMEXP, x, axis, keepdim);
}
