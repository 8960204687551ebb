/* nn/loss.c - regression and binary losses (mean squared error, mean absolute error, binary
 * cross-entropy from logits) and the helpers every loss shares (options, reduction, ownership of
 * the result). Cross-entropy lives in nn/loss_ce.c.
 *
 * Each loss is a composition of public ops, so backward, create_graph and higher-order
 * gradients work through it with no gradient written here. A loss opens a scope of its own so
 * its intermediates are freed on return; the graph keeps what backward needs.
 */
#include <math.h>

#include "nn_internal.h"

/* ---- shared helpers ---- */

bool ag__loss_opts(const char *fn, const ag_loss_opts *opts, unsigned allowed, ag_loss_opts *out)
{
    *out = opts ? *opts : (ag_loss_opts){0};
    /* The enum may hold any int a caller cast into it: check its value, not its type. */
    int r = (int)out->reduction;
    if (r != AG_REDUCE_MEAN && r != AG_REDUCE_SUM && r != AG_REDUCE_NONE) {
        ag__error("%s: reduction %d is not AG_REDUCE_MEAN (0), AG_REDUCE_SUM (1) or "
                  "AG_REDUCE_NONE (2)", fn, r);
        return false;
    }
    /* An option the loss does not use is rejected rather than silently ignored: it is most
     * likely a mistake (class weights meant for a cross-entropy given to an MSE). */
    if (!(allowed & AG__LOSS_SMOOTHING) && out->label_smoothing != 0.0) {
        ag__error("%s: label_smoothing %g is set, but only ag_cross_entropy takes it", fn,
                  out->label_smoothing);
        return false;
    }
    if (!(allowed & AG__LOSS_CLASS_WEIGHTS) && out->class_weights) {
        ag__error("%s: class_weights is set, but only ag_cross_entropy takes it", fn);
        return false;
    }
    if (!(allowed & AG__LOSS_POS_WEIGHT) && out->pos_weight) {
        ag__error("%s: pos_weight is set, but only ag_bce_with_logits takes it", fn);
        return false;
    }
    return true;
}

bool ag__loss_pair(const char *fn, ag_tensor *a, const char *a_name, ag_tensor *b,
                   const char *b_name)
{
    if (!a || !b) {
        if (!ag_has_error()) ag__error("%s: %s is NULL", fn, a ? b_name : a_name);
        return false;
    }
    if (a->dtype != b->dtype) {
        char sa[AG_SHAPE_BUF], sb[AG_SHAPE_BUF];
        ag__error("%s: dtype mismatch: %s %s is %s but %s %s is %s (convert one with ag_cast)",
                  fn, a_name, ag_shape_str(a, sa, sizeof sa), ag_dtype_name(a->dtype), b_name,
                  ag_shape_str(b, sb, sizeof sb), ag_dtype_name(b->dtype));
        return false;
    }
    return true;
}

ag_tensor *ag__loss_reduce(ag_tensor *per, ag_reduction r)
{
    switch (r) {
    case AG_REDUCE_MEAN: return ag_mean_all(per);
    case AG_REDUCE_SUM: return ag_sum_all(per);
    case AG_REDUCE_NONE: return per;
    }
    return NULL; /* unreachable: ag__loss_opts checked the value */
}

/* Shapes of pred and target must be equal (no broadcasting: a [N, 1] prediction against [N]
 * targets would silently become an [N, N] loss). */
static bool same_shape(const char *fn, const char *a_name, ag_tensor *a, const char *b_name,
                       ag_tensor *b)
{
    if (ag_same_shape(a, b)) return true;
    char sa[AG_SHAPE_BUF], sb[AG_SHAPE_BUF];
    ag__error("%s: %s %s does not match %s %s (the shapes must be equal)", fn, b_name,
              ag_shape_str(b, sb, sizeof sb), a_name, ag_shape_str(a, sa, sizeof sa));
    return false;
}

/* ---- mean squared error and mean absolute error ---- */

enum regression { MSE, L1 };

static ag_tensor *regression_loss(const char *fn, enum regression kind, ag_tensor *pred,
                                  ag_tensor *target, const ag_loss_opts *opts)
{
    ag_loss_opts o;
    if (!ag__loss_pair(fn, pred, "pred", target, "target") ||
        !same_shape(fn, "pred", pred, "target", target) || !ag__loss_opts(fn, opts, 0, &o))
        return NULL;
    ag_scope *sc = ag_scope_begin();
    if (!sc) return NULL;
    ag_tensor *d = ag_sub(pred, target);
    /* (p - t)^2 as d*d: the gradient 2*d*g is exact, as PyTorch's. |d| has subgradient 0 at 0. */
    ag_tensor *per = kind == MSE ? ag_mul(d, d) : ag_abs(d);
    return ag__scope_return(sc, ag__loss_reduce(per, o.reduction));
}

ag_tensor *ag_mse_loss(ag_tensor *pred, ag_tensor *target, const ag_loss_opts *opts)
{
    return regression_loss("ag_mse_loss", MSE, pred, target, opts);
}

ag_tensor *ag_l1_loss(ag_tensor *pred, ag_tensor *target, const ag_loss_opts *opts)
{
    return regression_loss("ag_l1_loss", L1, pred, target, opts);
}

/* ---- binary cross-entropy from logits ----
 * With l = 1 + (p - 1) t (l = 1 without pos_weight):
 *     loss = (1 - t) x + l softplus(-x)
 * which is PyTorch's form. softplus(-x) = max(-x, 0) + log(1 + e^-|x|) never exponentiates a
 * positive number, so x = +-1000 gives finite values and gradients. */
ag_tensor *ag_bce_with_logits(ag_tensor *logits, ag_tensor *target, const ag_loss_opts *opts)
{
    static const char fn[] = "ag_bce_with_logits";
    ag_loss_opts o;
    if (!ag__loss_pair(fn, logits, "logits", target, "target") ||
        !same_shape(fn, "logits", logits, "target", target) ||
        !ag__loss_opts(fn, opts, AG__LOSS_POS_WEIGHT, &o))
        return NULL;
    const ag_tensor *pw = o.pos_weight;
    if (pw) {
        char sp[AG_SHAPE_BUF], st[AG_SHAPE_BUF];
        if (pw->dtype != logits->dtype) {
            ag__error("%s: dtype mismatch: pos_weight %s is %s but logits %s are %s", fn,
                      ag_shape_str(pw, sp, sizeof sp), ag_dtype_name(pw->dtype),
                      ag_shape_str(logits, st, sizeof st), ag_dtype_name(logits->dtype));
            return NULL;
        }
        /* pos_weight broadcasts against the target and must not enlarge it. */
        int nd;
        int64_t shape[AG_MAX_DIMS];
        bool ok = pw->ndim <= target->ndim &&
                  ag__broadcast_shapes(fn, pw->ndim, pw->shape, target->ndim, target->shape,
                                       &nd, shape) &&
                  nd == target->ndim &&
                  memcmp(shape, target->shape, sizeof(int64_t) * (size_t)nd) == 0;
        if (!ok) {
            ag__error("%s: pos_weight %s does not broadcast to target %s", fn,
                      ag_shape_str(pw, sp, sizeof sp), ag_shape_str(target, st, sizeof st));
            return NULL;
        }
    }
    ag_scope *sc = ag_scope_begin();
    if (!sc) return NULL;
    ag_tensor *lin = ag_mul(ag_rsub_scalar(1.0, target), logits);
    ag_tensor *sp = ag_softplus(ag_neg(logits));
    if (pw) {
        /* A constant copy: the weight is a setting, no gradient flows to it. */
        ag_tensor *l = ag_add_scalar(ag_mul(ag_add_scalar(ag_copy(pw), -1.0), target), 1.0);
        sp = ag_mul(l, sp);
    }
    return ag__scope_return(sc, ag__loss_reduce(ag_add(lin, sp), o.reduction));
}
