/* optim/clip.c - gradient clipping as torch.nn.utils.clip_grad_norm_ / clip_grad_value_.
 *
 * By norm: total = || (||g_1||, ..., ||g_n||) ||_2 (the norm of the per-tensor norms, PyTorch's
 * order of operations), coef = max_norm / (total + 1e-6) clamped to at most 1, and every
 * gradient is multiplied by coef (PyTorch also multiplies by 1 when no clipping is needed; that
 * changes no value, so here that pass is skipped). A
 * non-finite total gives a non-finite or zero coefficient, as in PyTorch without
 * error_if_nonfinite. Norms are summed serially in double so the result does not depend on the
 * thread count; the scaling runs in parallel for large tensors.
 */
#include <tgmath.h>

#include "optim_internal.h"

/* Checks the list; parameters without a gradient are fine (skipped). */
static bool check_list(const char *fn, int n, ag_tensor *const *params)
{
    if (n < 0 || (n > 0 && !params)) {
        ag__error("%s: %s (n = %d)", fn, n < 0 ? "negative count" : "params is NULL", n);
        return false;
    }
    for (int i = 0; i < n; i++) {
        if (!params[i]) {
            ag__error("%s: params[%d] is NULL", fn, i);
            return false;
        }
    }
    return true;
}

static double sum_squares(const ag_tensor *g)
{
    double s = 0;
    AG_DISPATCH(g->dtype, T,
        const T *pg = g->data;
        for (int64_t i = 0; i < g->numel; i++) s += (double)pg[i] * (double)pg[i];);
    return s;
}

double ag_clip_grad_norm(int n, ag_tensor *const *params, double max_norm)
{
    const char *fn = "ag_clip_grad_norm";
    if (!check_list(fn, n, params)) return -1;
    if (!ag__optim_opt(fn, "max_norm", max_norm, ag__nonneg(max_norm), ">= 0 and finite"))
        return -1;
    double total = 0;
    for (int i = 0; i < n; i++) {
        if (!ag__grad_ready(params[i])) continue;
        double norm = sqrt(sum_squares(params[i]->grad));
        total += norm * norm;
    }
    total = sqrt(total);
    double coef = max_norm / (total + 1e-6);
    if (coef > 1.0) coef = 1.0; /* NaN stays NaN, as torch.clamp */
    if (coef == 1.0) return total; /* g * 1 == g */
    for (int i = 0; i < n; i++) {
        ag_tensor *g = ag__grad_ready(params[i]);
        if (!g) continue;
        AG_DISPATCH(g->dtype, T,
            T *pg = g->data;
            const T c = (T)coef;
            AG_PFOR_SIMD(j, g->numel, pg[j] = pg[j] * c;););
    }
    return total;
}

int ag_clip_grad_value(int n, ag_tensor *const *params, double clip)
{
    const char *fn = "ag_clip_grad_value";
    if (!check_list(fn, n, params)) return -1;
    if (!ag__optim_opt(fn, "clip", clip, ag__nonneg(clip), ">= 0 and finite")) return -1;
    for (int i = 0; i < n; i++) {
        ag_tensor *g = ag__grad_ready(params[i]);
        if (!g) continue;
        AG_DISPATCH(g->dtype, T,
            T *pg = g->data;
            const T hi = (T)clip, lo = (T)(-clip);
            /* NaN compares false both ways and stays NaN, as torch.clamp */
            AG_PFOR(j, g->numel, T v = pg[j]; pg[j] = v < lo ? lo : (v > hi ? hi : v);););
    }
    return 0;
}
