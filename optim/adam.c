/* optim/adam.c - Adam (with AMSGrad and L2 weight decay) and AdamW: PyTorch 1.13's
 * _single_tensor_adam / _single_tensor_adamw (the non-capturable path), operation by operation:
 *
 *     AdamW: theta = theta * (1 - lr*wd)          Adam: d = grad + wd*theta (when wd != 0)
 *     m = m*b1 + (1-b1)*d;   v = v*b2 + (1-b2)*d*d;   (AMSGrad: vmax = max(vmax, v), used for v)
 *     bc1 = 1 - b1^t;  bc2 = 1 - b2^t;  step_size = lr / bc1
 *     denom = sqrt(v) / sqrt(bc2) + eps;   theta = theta + (-step_size)*m / denom
 *
 * The bias corrections are computed in double from the parameter's own step count t (so a
 * parameter that got no gradient at some steps has a smaller t, as in PyTorch); the scalars are
 * rounded to the parameter's dtype before the elementwise work, as PyTorch's kernels do, and
 * the "x + a*y" of add(alpha=) and addcmul are fused multiply-adds as in PyTorch's CPU kernels
 * (which use FMA instructions); addcdiv has no fusable product and stays plain.
 */
#include <tgmath.h>

#include "optim_internal.h"

static void adam_update(const ag_optimizer *o, ag_tensor *p, const ag_tensor *g,
                        ag_tensor *const *slots, double step)
{
    const ag__optim_hyper *h = &o->h;
    const bool decoupled = h->decoupled, l2 = !h->decoupled && h->weight_decay != 0;
    const bool ams = h->amsgrad;
    double bc1 = 1 - pow(h->beta1, step), bc2 = 1 - pow(h->beta2, step);
    double step_size = o->lr / bc1, bc2_sqrt = sqrt(bc2);
    AG_DISPATCH(p->dtype, T,
        T *pp = p->data;
        const T *pg = g->data;
        T *m = slots[1]->data, *v = slots[2]->data;
        T *vmax = ams ? slots[3]->data : NULL;
        const T b1 = (T)h->beta1, b2 = (T)h->beta2, c1 = (T)(1 - h->beta1);
        const T c2 = (T)(1 - h->beta2), wd = (T)h->weight_decay, eps = (T)h->eps;
        const T shrink = (T)(1 - o->lr * h->weight_decay), bc2s = (T)bc2_sqrt;
        const T negss = (T)(-step_size);
        AG_PFOR(i, p->numel,
            T d = pg[i];
            if (decoupled) pp[i] = pp[i] * shrink;
            else if (l2) d = fma(pp[i], wd, d);
            T mi = fma(d, c1, m[i] * b1);
            T vi = fma(c2 * d, d, v[i] * b2);
            m[i] = mi;
            v[i] = vi;
            if (ams) {
                /* torch.maximum: NaN in either operand gives NaN */
                T a = vmax[i];
                vi = (vi > a || vi != vi) ? vi : a;
                vmax[i] = vi;
            }
            T denom = sqrt(vi) / bc2s + eps;
            pp[i] = pp[i] + negss * mi / denom;););
}

static const char *const KEYS[] = {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"};

ag_adam_opts ag_adam_defaults(void)
{
    return (ag_adam_opts){.lr = 1e-3, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8};
}

ag_adam_opts ag_adamw_defaults(void)
{
    ag_adam_opts o = ag_adam_defaults();
    o.weight_decay = 1e-2;
    return o;
}

static ag_optimizer *make(const char *fn, const char *name, bool decoupled, int n,
                          ag_tensor *const *params, const ag_adam_opts *o)
{
    if (!ag__optim_opt(fn, "beta1", o->beta1, ag__in_co(o->beta1, 0, 1), "in [0, 1)") ||
        !ag__optim_opt(fn, "beta2", o->beta2, ag__in_co(o->beta2, 0, 1), "in [0, 1)") ||
        !ag__optim_opt(fn, "eps", o->eps, ag__nonneg(o->eps), ">= 0 and finite") ||
        !ag__optim_opt(fn, "weight_decay", o->weight_decay, ag__nonneg(o->weight_decay),
                       ">= 0 and finite"))
        return NULL;
    ag__optim_hyper h = {.beta1 = o->beta1, .beta2 = o->beta2, .eps = o->eps,
                         .weight_decay = o->weight_decay, .amsgrad = o->amsgrad,
                         .decoupled = decoupled};
    return ag__optim_new(fn, name, adam_update, n, params, o->lr, &h, o->amsgrad ? 3 : 2, KEYS);
}

ag_optimizer *ag_adam_new(int n, ag_tensor *const *params, const ag_adam_opts *opts)
{
    ag_adam_opts o = opts ? *opts : ag_adam_defaults();
    return make("ag_adam_new", "Adam", false, n, params, &o);
}

ag_optimizer *ag_adamw_new(int n, ag_tensor *const *params, const ag_adam_opts *opts)
{
    ag_adam_opts o = opts ? *opts : ag_adamw_defaults();
    return make("ag_adamw_new", "AdamW", true, n, params, &o);
}
