/* nn/loss_ce.c - cross-entropy from logits, with class-index or probability targets, label
 * smoothing and class weights, as PyTorch 1.13's nn.CrossEntropyLoss computes them.
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
 */
#include <math.h>
#include <stdlib.h>

#include "nn_internal.h"

static const char FN[] = "ag_cross_entropy";

/* Checks everything but the target's values; sets *index_targets for [N] targets. */
static bool check_args(ag_tensor *logits, ag_tensor *target, const ag_loss_opts *o,
                       bool *index_targets)
{
    char sx[AG_SHAPE_BUF], st[AG_SHAPE_BUF];
    ag_shape_str(logits, sx, sizeof sx);
    if (logits->ndim != 2) {
        ag__error("%s: logits %s must be 2-D [N, C] (N rows of C class scores; reshape a single "
                  "row to [1, C])", FN, sx);
        return false;
    }
    int64_t n = logits->shape[0], c = logits->shape[1];
    if (c == 0) {
        ag__error("%s: logits %s have no classes (C = 0)", FN, sx);
        return false;
    }
    ag_shape_str(target, st, sizeof st);
    if (target->ndim == 1 && target->shape[0] == n) {
        *index_targets = true;
    } else if (ag_same_shape(target, logits)) {
        *index_targets = false;
    } else {
        ag__error("%s: target %s does not match logits %s (expected [%lld] class indices or "
                  "[%lld,%lld] probabilities)", FN, st, sx, (long long)n, (long long)n,
                  (long long)c);
        return false;
    }
    double s = o->label_smoothing;
    if (!(s >= 0.0 && s < 1.0)) {
        ag__error("%s: label_smoothing %g is outside [0, 1)", FN, s);
        return false;
    }
    const ag_tensor *w = o->class_weights;
    if (w) {
        char sw[AG_SHAPE_BUF];
        ag_shape_str(w, sw, sizeof sw);
        if (w->dtype != logits->dtype) {
            ag__error("%s: dtype mismatch: class_weights %s are %s but logits %s are %s", FN, sw,
                      ag_dtype_name(w->dtype), sx, ag_dtype_name(logits->dtype));
            return false;
        }
        if (w->ndim != 1 || w->shape[0] != c) {
            ag__error("%s: class_weights %s must have shape [%lld], one weight per class of "
                      "logits %s", FN, sw, (long long)c, sx);
            return false;
        }
    }
    return true;
}

/* Reads [N] class indices stored as whole numbers in the logits' dtype into a new int64 array
 * (freed by the caller). NULL with an error naming the first bad value and its position. */
static int64_t *read_indices(ag_tensor *target, const ag_tensor *logits)
{
    int64_t n = target->numel, c = logits->shape[1];
    int64_t *idx = malloc(sizeof *idx * (size_t)(n > 0 ? n : 1));
    if (!idx) {
        ag__error("%s: out of memory for %lld class indices", FN, (long long)n);
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
                  "whole numbers in the logits' dtype)", FN, (long long)bad, bad_value);
    else
        ag__error("%s: target[%lld] = %.10g is not a class index for logits %s (valid: 0..%lld)",
                  FN, (long long)bad, bad_value, ag_shape_str(logits, sx, sizeof sx),
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

ag_tensor *ag_cross_entropy(ag_tensor *logits, ag_tensor *target, const ag_loss_opts *opts)
{
    ag_loss_opts o;
    bool index_targets = false;
    if (!ag__loss_pair(FN, logits, "logits", target, "target") ||
        !ag__loss_opts(FN, opts, AG__LOSS_SMOOTHING | AG__LOSS_CLASS_WEIGHTS, &o) ||
        !check_args(logits, target, &o, &index_targets))
        return NULL;
    int64_t *idx = NULL;
    if (index_targets && !(idx = read_indices(target, logits))) return NULL;
    ag_scope *sc = ag_scope_begin();
    if (!sc) {
        free(idx);
        return NULL;
    }
    if (index_targets && !o.class_weights && o.label_smoothing == 0.0) {
        /* the common case as one fused op: the same values, one pass forward and backward */
        ag_tensor *per = ag__xent_index(logits, idx);
        free(idx);
        return ag__scope_return(sc, per ? ag__loss_reduce(per, o.reduction) : NULL);
    }
    ag_tensor *logp = ag_log_softmax(logits, 1);
    /* A constant copy of the weights: they are a setting, no gradient flows to them. */
    ag_tensor *w = o.class_weights ? ag_copy(o.class_weights) : NULL;
    ag_tensor *result = NULL;
    if (logp && (w || !o.class_weights)) {
        ag_tensor *weight_sum = NULL;
        ag_tensor *per = index_targets ? index_losses(logp, idx, w, o.label_smoothing, &weight_sum)
                                       : prob_losses(logp, target, w, o.label_smoothing);
        if (o.reduction == AG_REDUCE_MEAN && weight_sum)
            result = ag_div(ag_sum_all(per), weight_sum);
        else
            result = ag__loss_reduce(per, o.reduction);
    }
    free(idx);
    return ag__scope_return(sc, result);
}
