/* optim/sgd.c - plain gradient descent and SGD with momentum, dampening, Nesterov and weight
 * decay: PyTorch 1.13's _single_tensor_sgd, operation by operation,
 *
 *     d = grad (+ wd*theta);  buf = d on the parameter's first update, else buf*mu + (1-tau)*d;
 *     d = nesterov ? d + mu*buf : buf  (only when mu != 0);  theta = theta + (-lr)*d
 *
 * with each scalar rounded to the parameter's dtype first, as PyTorch does, and each
 * "x + alpha*y" as one fused multiply-add (fma), as PyTorch's CPU kernels compute add(alpha=)
 * and addcmul (with FMA instructions), so trajectories agree with PyTorch's to the last bit or
 * nearly. PyTorch decides "first update" by the momentum buffer being
 * unset; here the parameter's step counter (state "<i>.step") decides, so a restored checkpoint
 * resumes exactly.
 */
#include <tgmath.h>

#include "optim_internal.h"

typedef struct sgd_args {
    void *p, *buf;
    const void *g;
    double wd, mu, keep, neglr;
    bool decay, use_mom, nest, first;
} sgd_args;

/* One body for both dtypes (T), see optim_internal.h for the two compilations. Options are
 * selects, and momentum (which reads and writes the buffer) has its own loop, so both loops
 * vectorize. */
#define SGD_RANGE(T, NAME)                                                                \
    AG__OPTIM_CLONES static void NAME(const void *args, int64_t lo, int64_t hi)         \
    {                                                                                     \
        const sgd_args *a = args;                                                         \
        T *pp = a->p, *pb = a->buf;                                                       \
        const T *pg = a->g;                                                               \
        const T wd = (T)a->wd, mu = (T)a->mu, keep = (T)a->keep, neglr = (T)a->neglr;     \
        const bool decay = a->decay, nest = a->nest, first = a->first;                    \
        if (!a->use_mom) {                                                                \
            AG_SIMD                                                                       \
            for (int64_t i = lo; i < hi; i++) {                                           \
                T d = pg[i];                                                              \
                d = decay ? fma(pp[i], wd, d) : d;                                        \
                pp[i] = fma(d, neglr, pp[i]);                                             \
            }                                                                             \
            return;                                                                       \
        }                                                                                 \
        AG_SIMD                                                                           \
        for (int64_t i = lo; i < hi; i++) {                                               \
            T d = pg[i];                                                                  \
            d = decay ? fma(pp[i], wd, d) : d;                                            \
            T b = first ? d : fma(d, keep, pb[i] * mu);                                   \
            pb[i] = b;                                                                    \
            d = nest ? fma(b, mu, d) : b;                                                 \
            pp[i] = fma(d, neglr, pp[i]);                                                 \
        }                                                                                 \
    }
SGD_RANGE(float, sgd_f32)
SGD_RANGE(double, sgd_f64)

static void sgd_update(const ag_optimizer *o, ag_tensor *p, const ag_tensor *g,
                       ag_tensor *const *slots, double step)
{
    const ag__optim_hyper *h = &o->h;
    sgd_args a = {.p = p->data, .g = g->data,
                  .buf = h->momentum != 0 ? slots[1]->data : NULL,
                  .wd = h->weight_decay, .mu = h->momentum, .keep = 1 - h->dampening,
                  .neglr = -o->lr, .decay = h->weight_decay != 0, .use_mom = h->momentum != 0,
                  .nest = h->nesterov, .first = step <= 1.0};
    ag__optim_run(p->numel, p->dtype == AG_F32 ? sgd_f32 : sgd_f64, &a);
}

static const char *const MOMENTUM_KEYS[] = {"momentum_buffer"};

ag_sgd_opts ag_sgd_defaults(void)
{
    return (ag_sgd_opts){.lr = 0.01};
}

static bool check_sgd(const char *fn, const ag_sgd_opts *o)
{
    if (!ag__optim_opt(fn, "momentum", o->momentum, ag__nonneg(o->momentum), ">= 0 and finite"))
        return false;
    if (!ag__optim_opt(fn, "dampening", o->dampening, o->dampening >= 0 && o->dampening <= 1,
                       "in [0, 1]"))
        return false;
    if (!ag__optim_opt(fn, "weight_decay", o->weight_decay, ag__nonneg(o->weight_decay),
                       ">= 0 and finite"))
        return false;
    if (o->nesterov && (o->momentum <= 0 || o->dampening != 0)) {
        ag__error("%s: nesterov needs momentum > 0 and dampening == 0 (got momentum = %g, "
                  "dampening = %g)", fn, o->momentum, o->dampening);
        return false;
    }
    return true;
}

static ag_optimizer *make(const char *fn, const char *name, int n, ag_tensor *const *params,
                          const ag_sgd_opts *o)
{
    if (!check_sgd(fn, o)) return NULL;
    ag__optim_hyper h = {.momentum = o->momentum, .dampening = o->dampening,
                         .weight_decay = o->weight_decay, .nesterov = o->nesterov};
    return ag__optim_new(fn, name, sgd_update, n, params, o->lr, &h, o->momentum != 0 ? 1 : 0,
                         MOMENTUM_KEYS);
}

ag_optimizer *ag_gd_new(int n, ag_tensor *const *params, double lr)
{
    ag_sgd_opts o = {.lr = lr};
    return make("ag_gd_new", "GD", n, params, &o);
}

ag_optimizer *ag_sgd_new(int n, ag_tensor *const *params, const ag_sgd_opts *opts)
{
    ag_sgd_opts o = opts ? *opts : ag_sgd_defaults();
    return make("ag_sgd_new", "SGD", n, params, &o);
}
