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

typedef struct adam_args {
    void *p, *m, *v, *vmax;
    const void *g;
    double b1, b2, c1, c2, wd, eps, shrink, bc2s, negss;
    bool l2, ams;
} adam_args;

/* One body for both dtypes (T), see optim_internal.h for the two compilations. Adam and AdamW
 * without AMSGrad run a branch-free loop that vectorizes (AdamW's decay is a multiplication by
 * 1 - lr*wd, by exactly 1 for Adam); L2 weight decay and AMSGrad take the general loop. */
#define ADAM_STEP(T)                                                                      \
    T d = pg[i], pv = pp[i] * shrink;                                                     \
    if (l2) d = fma(pv, wd, d);                                                           \
    T mi = fma(d, c1, m[i] * b1);                                                         \
    T vi = fma(c2 * d, d, v[i] * b2);                                                     \
    m[i] = mi;                                                                            \
    v[i] = vi;

#define ADAM_RANGE(T, NAME)                                                               \
    AG__OPTIM_CLONES static void NAME(const void *args, int64_t lo, int64_t hi)         \
    {                                                                                     \
        const adam_args *a = args;                                                        \
        T *pp = a->p, *m = a->m, *v = a->v, *vmax = a->vmax;                              \
        const T *pg = a->g;                                                               \
        const T b1 = (T)a->b1, b2 = (T)a->b2, c1 = (T)a->c1, c2 = (T)a->c2;               \
        const T wd = (T)a->wd, eps = (T)a->eps, shrink = (T)a->shrink;                    \
        const T bc2s = (T)a->bc2s, negss = (T)a->negss;                                   \
        if (!a->ams && !a->l2) {                                                          \
            const bool l2 = false;                                                        \
            AG_SIMD                                                                       \
            for (int64_t i = lo; i < hi; i++) {                                           \
                ADAM_STEP(T)                                                              \
                T denom = sqrt(vi) / bc2s + eps;                                          \
                pp[i] = pv + negss * mi / denom;                                          \
            }                                                                             \
            return;                                                                       \
        }                                                                                 \
        const bool l2 = a->l2, ams = a->ams;                                              \
        for (int64_t i = lo; i < hi; i++) {                                               \
            ADAM_STEP(T)                                                                  \
            if (ams) {                                                                    \
                /* torch.maximum: NaN in either operand gives NaN */                      \
                T mx = vmax[i];                                                           \
                vi = (vi > mx || vi != vi) ? vi : mx;                                     \
                vmax[i] = vi;                                                             \
            }                                                                             \
            T denom = sqrt(vi) / bc2s + eps;                                              \
            pp[i] = pv + negss * mi / denom;                                              \
        }                                                                                 \
    }
ADAM_RANGE(float, adam_f32)
ADAM_RANGE(double, adam_f64)

static void adam_update(const ag_optimizer *o, ag_tensor *p, const ag_tensor *g,
                        ag_tensor *const *slots, double step)
{
    const ag__optim_hyper *h = &o->h;
    double bc1 = 1 - pow(h->beta1, step), bc2 = 1 - pow(h->beta2, step);
    adam_args a = {
        .p = p->data, .g = g->data, .m = slots[1]->data, .v = slots[2]->data,
        .vmax = h->amsgrad ? slots[3]->data : NULL,
        .b1 = h->beta1, .b2 = h->beta2, .c1 = 1 - h->beta1, .c2 = 1 - h->beta2,
        .wd = h->weight_decay, .eps = h->eps,
        .shrink = h->decoupled ? 1 - o->lr * h->weight_decay : 1,
        .bc2s = sqrt(bc2), .negss = -(o->lr / bc1),
        .l2 = !h->decoupled && h->weight_decay != 0,
        .ams = h->amsgrad};
    ag__optim_run(p->numel, p->dtype == AG_F32 ? adam_f32 : adam_f64, &a);
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
