/* nn/loss_ce.c - cross-entropy from logits, with class-index or probability targets, label
 * smoothing and class weights, as PyTorch 1.13's nn.CrossEntropyLoss computes them; and
 * cross-entropy on probabilities, as Keras's categorical_crossentropy (from_logits = false).
 *
 * Everything goes through log_softmax, whose max-shift keeps logits of +-1000 finite (values
 * and gradients); the rest is gather, sums and products, so no gradient is written here. The
 * plain case (index targets, no weights, no smoothing) uses the fused op of ops/xent.c, which
 * computes the same values in one pass and has its own backward rule.
 *
 * With p = log_softmax(x), s the smoothing, C the classes and w the class weights (1 if none):
 *   index targets y:  loss_i = (1 - s) * (-w[y_i] p[i, y_i]) + (s / C) * (-sum_c w_c p[i, c])
 *                     mean = sum_i loss_i / sum_i w[y_i]   (N without weights)
 *   probabilities t:  loss_i = -sum_c w_c ((1 - s) t[i, c] + s / C) p[i, c]
 *                     mean = sum_i loss_i / N
 * The index form is PyTorch's (1 - s) * nll_loss + (s / C) * smooth_loss, both parts divided by
 * the same weight sum, so it equals the probability form only without class weights.
 *
 * On probabilities q the same formulas use p = log(clip(q / sum(q), 1e-7, 1 - 1e-7)) (Keras's
 * clipping), except when q is a recorded softmax of logits x: then p = log_softmax(x), which is
 * what Keras does too, for the same reason (no log of 0, exact gradient softmax - target).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn_internal.h"

static const char FN[] = "ag_cross_entropy";

/* Checks everything but the target's values; sets *index_targets for [N] targets. `fn` and
 * `xname` ("logits", "probs") name the function and the predictions in messages. */
static bool check_args(const char *fn, const char *xname, ag_tensor *logits, ag_tensor *target,
                       const ag_loss_opts *o, bool *index_targets)
{
    char sx[AG_SHAPE_BUF], st[AG_SHAPE_BUF];
    ag_shape_str(logits, sx, sizeof sx);
    if (logits->ndim != 2) {
        ag__error("%s: %s %s must be 2-D [N, C] (N rows of C class scores; reshape a single "
                  "row to [1, C])", fn, xname, sx);
        return false;
    }
    int64_t n = logits->shape[0], c = logits->shape[1];
    if (c == 0) {
        ag__error("%s: %s %s have no classes (C = 0)", fn, xname, sx);
        return false;
    }
    ag_shape_str(target, st, sizeof st);
    if (target->ndim == 1 && target->shape[0] == n) {
        *index_targets = true;
    } else if (ag_same_shape(target, logits)) {
        *index_targets = false;
    } else {
        ag__error("%s: target %s does not match %s %s (expected [%lld] class indices or "
                  "[%lld,%lld] probabilities)", fn, st, xname, sx, (long long)n, (long long)n,
                  (long long)c);
        return false;
    }
    double s = o->label_smoothing;
    if (!(s >= 0.0 && s < 1.0)) {
        ag__error("%s: label_smoothing %g is outside [0, 1)", fn, s);
        return false;
    }
    const ag_tensor *w = o->class_weights;
    if (w) {
        char sw[AG_SHAPE_BUF];
        ag_shape_str(w, sw, sizeof sw);
        if (w->dtype != logits->dtype) {
            ag__error("%s: dtype mismatch: class_weights %s are %s but %s %s are %s", fn, sw,
                      ag_dtype_name(w->dtype), xname, sx, ag_dtype_name(logits->dtype));
            return false;
        }
        if (w->ndim != 1 || w->shape[0] != c) {
            ag__error("%s: class_weights %s must have shape [%lld], one weight per class of "
                      "%s %s", fn, sw, (long long)c, xname, sx);
            return false;
        }
    }
    return true;
}

/* Reads [N] class indices stored as whole numbers in the logits' dtype into a new int64 array
 * (freed by the caller). NULL with an error naming the first bad value and its position. */
static int64_t *read_indices(const char *fn, ag_tensor *target, const ag_tensor *logits)
{
    int64_t n = target->numel, c = logits->shape[1];
    int64_t *idx = malloc(sizeof *idx * (size_t)(n > 0 ? n : 1));
    if (!idx) {
        ag__error("%s: out of memory for %lld class indices", fn, (long long)n);
        return NULL;
    }
    int64_t bad = -1;
    double bad_value = 0;
    AG_DISPATCH(target->dtype, T, const T *pt = target->data;
        for (int64_t i = 0; i < n; i++) {
            double v = (double)pt[i];
            /* NaN fails both tests; the range test comes first so the cast below is defined. */
            if (!(v >= 0 && v < (double)c) || v != floor(v)) {
                bad = i;
                bad_value = v;
                break;
            }
            idx[i] = (int64_t)v;
        });
    if (bad < 0) return idx;
    free(idx);
    char sx[AG_SHAPE_BUF];
    if (isfinite(bad_value) && bad_value != floor(bad_value))
        ag__error("%s: target[%lld] = %.10g is not a whole number (class indices are stored as "
                  "whole numbers in the logits' dtype)", fn, (long long)bad, bad_value);
    else
        ag__error("%s: target[%lld] = %.10g is not a class index for logits %s (valid: 0..%lld)",
                  fn, (long long)bad, bad_value, ag_shape_str(logits, sx, sizeof sx),
                  (long long)(c - 1));
    return NULL;
}

/* Per-example losses [N] for index targets; *weight_sum gets sum_i w[y_i] when there are class
 * weights (the mean's divisor), else NULL. */
static ag_tensor *index_losses(ag_tensor *logp, const int64_t *idx, ag_tensor *w, double s,
                               ag_tensor **weight_sum)
{
    int64_t n = logp->shape[0], c = logp->shape[1];
    ag_tensor *picked = ag_reshape(ag_gather(logp, 1, idx, 1), 1, (int64_t[]){n});
    ag_tensor *nll = ag_neg(picked);
    *weight_sum = NULL;
    if (w) {
        /* w[y_i] by indexing a constant: no gradient, and the sum is PyTorch's divisor */
        ag_tensor *wy = ag_index_select(w, 0, idx, n);
        nll = ag_mul(nll, wy);
        *weight_sum = ag_sum_all(wy);
    }
    if (s == 0.0) return nll;
    ag_tensor *smooth = ag_neg(ag_sum(w ? ag_mul(logp, w) : logp, 1, false));
    return ag_add(ag_mul_scalar(nll, 1.0 - s), ag_mul_scalar(smooth, s / (double)c));
}

/* Per-example losses [N] for probability targets. */
static ag_tensor *prob_losses(ag_tensor *logp, ag_tensor *target, ag_tensor *w, double s)
{
    int64_t c = logp->shape[1];
    ag_tensor *t = s == 0.0 ? target
                            : ag_add_scalar(ag_mul_scalar(target, 1.0 - s), s / (double)c);
    ag_tensor *prod = ag_mul(logp, t);
    if (w) prod = ag_mul(prod, w);
    return ag_neg(ag_sum(prod, 1, false));
}

/* Checks the arguments of loss `fn` and reads index targets into *idx (NULL for probability
 * targets; freed by the caller). */
static bool prepare(const char *fn, const char *xname, ag_tensor *x, ag_tensor *target,
                    const ag_loss_opts *opts, ag_loss_opts *o, int64_t **idx)
{
    bool index_targets = false;
    *idx = NULL;
    if (!ag__loss_pair(fn, x, xname, target, "target") ||
        !ag__loss_opts(fn, opts, AG__LOSS_SMOOTHING | AG__LOSS_CLASS_WEIGHTS, o) ||
        !check_args(fn, xname, x, target, o, &index_targets))
        return false;
    return !index_targets || (*idx = read_indices(fn, target, x)) != NULL;
}

/* The loss from log-probabilities logp [N, C] (log_softmax of logits, or the log of clipped
 * probabilities): per-example losses, then the reduction. */
static ag_tensor *from_log_probs(ag_tensor *logp, ag_tensor *target, const int64_t *idx,
                                 const ag_loss_opts *o)
{
    /* A constant copy of the weights: they are a setting, no gradient flows to them. */
    ag_tensor *w = o->class_weights ? ag_copy(o->class_weights) : NULL;
    if (!logp || (o->class_weights && !w)) return NULL;
    ag_tensor *weight_sum = NULL;
    ag_tensor *per = idx ? index_losses(logp, idx, w, o->label_smoothing, &weight_sum)
                         : prob_losses(logp, target, w, o->label_smoothing);
    if (o->reduction == AG_REDUCE_MEAN && weight_sum) return ag_div(ag_sum_all(per), weight_sum);
    return ag__loss_reduce(per, o->reduction);
}

ag_tensor *ag_cross_entropy(ag_tensor *logits, ag_tensor *target, const ag_loss_opts *opts)
{
    ag_loss_opts o;
    int64_t *idx;
    if (!prepare(FN, "logits", logits, target, opts, &o, &idx)) return NULL;
    ag_scope *sc = ag_scope_begin();
    if (!sc) {
        free(idx);
        return NULL;
    }
    ag_tensor *result;
    if (idx && !o.class_weights && o.label_smoothing == 0.0) {
        /* the common case as one fused op: the same values, one pass forward and backward */
        ag_tensor *per = ag__xent_index(logits, idx);
        result = per ? ag__loss_reduce(per, o.reduction) : NULL;
    } else {
        result = from_log_probs(ag_log_softmax(logits, 1), target, idx, &o);
    }
    free(idx);
    return ag__scope_return(sc, result);
}

/* ---- cross-entropy on probabilities (Keras's from_logits = false) ---- */

ag_tensor *ag__softmax_input(const ag_tensor *t)
{
    const ag_node *n = t ? t->node : NULL;
    if (!n || strcmp(n->op->name, "softmax") != 0 || n->ninputs != 1) return NULL;
    return n->p.axis == t->ndim - 1 ? n->inputs[0] : NULL;
}

/* Probabilities lie in [0, 1]; the first value outside names the likely mistake (logits). */
static bool check_probabilities(const char *fn, const ag_tensor *p)
{
    int64_t bad = -1;
    double v = 0;
    AG_DISPATCH(p->dtype, T, const T *d = p->data;
        for (int64_t i = 0; i < p->numel; i++)
            if (d[i] < 0 || d[i] > 1) { /* NaN passes: it gives a NaN loss, as it should */
                bad = i;
                v = (double)d[i];
                break;
            });
    if (bad < 0) return true;
    int64_t c = p->shape[1];
    ag__error("%s: probs[%lld,%lld] = %g is not a probability: the predictions look like logits "
              "(raw scores); give logits to ag_cross_entropy (AG_LOSS_CROSS_ENTROPY), or end the "
              "model with a softmax (activation AG_ACT_SOFTMAX)", fn, (long long)(bad / c),
              (long long)(bad % c), v);
    return false;
}

ag_tensor *ag_categorical_cross_entropy(ag_tensor *probs, ag_tensor *target,
                                        const ag_loss_opts *opts)
{
    static const char fn[] = "ag_categorical_cross_entropy";
    static const double eps = 1e-7; /* Keras's backend epsilon */
    ag_loss_opts o;
    int64_t *idx;
    if (!prepare(fn, "probs", probs, target, opts, &o, &idx)) return NULL;
    ag_tensor *logits = ag__softmax_input(probs);
    if (logits) {
        /* probs = softmax(logits), recorded in the graph: the loss from the logits is the same
         * number without the log of a rounded probability (finite when a probability underflows
         * to 0), and its gradient is softmax - target, as Keras computes it */
        free(idx);
        return ag_cross_entropy(logits, target, &o);
    }
    if (!check_probabilities(fn, probs)) {
        free(idx);
        return NULL;
    }
    ag_scope *sc = ag_scope_begin();
    if (!sc) {
        free(idx);
        return NULL;
    }
    /* Keras: rows scaled to sum to 1, clipped to [eps, 1 - eps], then the log */
    ag_tensor *q = ag_div(probs, ag_sum(probs, 1, true));
    ag_tensor *result = from_log_probs(ag_log(ag_clamp(q, eps, 1 - eps)), target, idx, &o);
    free(idx);
    return ag__scope_return(sc, result);
}
