/* optim/rmsprop.c - RMSprop with weight decay, momentum and the centered variant: PyTorch
 * 1.13's _single_tensor_rmsprop, operation by operation:
 *
 *     d = grad (+ wd*theta);   v = v*alpha + (1-alpha)*d*d
 *     centered: a = a*alpha + (1-alpha)*d;  avg = sqrt(v - a*a)     else avg = sqrt(v)
 *     avg = avg + eps
 *     momentum > 0: buf = buf*mu + d/avg;  theta = theta + (-lr)*buf
 *     otherwise:    theta = theta + (-lr)*d / avg
 *
 * Each "x + a*y" of PyTorch's add(alpha=) and addcmul is one fused multiply-add (fma), as its
 * CPU kernels compute them; addcdiv stays plain. State keys as PyTorch's: square_avg,
 * momentum_buffer (momentum > 0), grad_avg (centered).
 */
#include <tgmath.h>

#include "optim_internal.h"

typedef struct rms_args {
    void *p, *v, *buf, *ga;
    const void *g;
    double alpha, c, wd, eps, mu, neglr;
    bool decay, use_mom, centered;
} rms_args;

/* One body for both dtypes (T), see optim_internal.h for the two compilations. */
#define RMS_RANGE(T, NAME)                                                                \
    AG__OPTIM_CLONES static void NAME(const void *args, int64_t lo, int64_t hi)         \
    {                                                                                     \
        const rms_args *a = args;                                                         \
        T *pp = a->p, *v = a->v, *buf = a->buf, *ga = a->ga;                              \
        const T *pg = a->g;                                                               \
        const T alpha = (T)a->alpha, c = (T)a->c, wd = (T)a->wd, eps = (T)a->eps;         \
        const T mu = (T)a->mu, neglr = (T)a->neglr;                                       \
        const bool decay = a->decay, use_mom = a->use_mom, centered = a->centered;        \
        AG_SIMD                                                                           \
        for (int64_t i = lo; i < hi; i++) {                                               \
            T d = pg[i];                                                                  \
            if (decay) d = fma(pp[i], wd, d);                                             \
            T vi = fma(c * d, d, v[i] * alpha);                                           \
            v[i] = vi;                                                                    \
            T avg;                                                                        \
            if (centered) {                                                               \
                T ai = fma(d, c, ga[i] * alpha);                                          \
                ga[i] = ai;                                                               \
                avg = sqrt(fma(-ai, ai, vi));                                             \
            } else {                                                                      \
                avg = sqrt(vi);                                                           \
            }                                                                             \
            avg = avg + eps;                                                              \
            if (use_mom) {                                                                \
                T b = buf[i] * mu + d / avg;                                              \
                buf[i] = b;                                                               \
                pp[i] = fma(b, neglr, pp[i]);                                             \
            } else {                                                                      \
                pp[i] = pp[i] + neglr * d / avg;                                          \
            }                                                                             \
        }                                                                                 \
    }
RMS_RANGE(float, rms_f32)
RMS_RANGE(double, rms_f64)

static void rmsprop_update(const ag_optimizer *o, ag_tensor *p, const ag_tensor *g,
                           ag_tensor *const *slots, double step)
{
    (void)step;
    const ag__optim_hyper *h = &o->h;
    int k = 1;
    rms_args a = {.p = p->data, .g = g->data, .alpha = h->alpha, .c = 1 - h->alpha,
                  .wd = h->weight_decay, .eps = h->eps, .mu = h->momentum, .neglr = -o->lr,
                  .decay = h->weight_decay != 0, .use_mom = h->momentum > 0,
                  .centered = h->centered};
    a.v = slots[k++]->data;
    if (a.use_mom) a.buf = slots[k++]->data;
    if (a.centered) a.ga = slots[k++]->data;
    ag__optim_run(p->numel, p->dtype == AG_F32 ? rms_f32 : rms_f64, &a);
}

ag_rmsprop_opts ag_rmsprop_defaults(void)
{
    return (ag_rmsprop_opts){.lr = 1e-2, .alpha = 0.99, .eps = 1e-8};
}

ag_optimizer *ag_rmsprop_new(int n, ag_tensor *const *params, const ag_rmsprop_opts *opts)
{
    const char *fn = "ag_rmsprop_new";
    ag_rmsprop_opts o = opts ? *opts : ag_rmsprop_defaults();
    if (!ag__optim_opt(fn, "alpha", o.alpha, o.alpha >= 0 && o.alpha <= 1, "in [0, 1]") ||
        !ag__optim_opt(fn, "eps", o.eps, ag__nonneg(o.eps), ">= 0 and finite") ||
        !ag__optim_opt(fn, "weight_decay", o.weight_decay, ag__nonneg(o.weight_decay),
                       ">= 0 and finite") ||
        !ag__optim_opt(fn, "momentum", o.momentum, ag__nonneg(o.momentum), ">= 0 and finite"))
        return NULL;
    ag__optim_hyper h = {.alpha = o.alpha, .eps = o.eps, .weight_decay = o.weight_decay,
                         .momentum = o.momentum, .centered = o.centered};
    const char *keys[3];
    int nkeys = 0;
    keys[nkeys++] = "square_avg";
    if (o.momentum > 0) keys[nkeys++] = "momentum_buffer";
    if (o.centered) keys[nkeys++] = "grad_avg";
    return ag__optim_new(fn, "RMSprop", rmsprop_update, n, params, o.lr, &h, nkeys, keys);
}
