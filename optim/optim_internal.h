/* optim/optim_internal.h - what the optimizer files share: the optimizer struct, the per-kind
 * update function and the common constructor (optimizer.c). Not installed.
 *
 * Every optimizer keeps its state as named tensors, parameter-major: for parameter i the slots
 * state[i*nslots + 0 .. nslots-1], slot 0 always being "<i>.step" (a float64 0-d tensor that
 * counts the updates of that parameter). Everything a resumed run needs lives in these tensors,
 * so a checkpoint that restores them continues the trajectory exactly.
 */
#ifndef AG_OPTIM_INTERNAL_H
#define AG_OPTIM_INTERNAL_H

#include <math.h>

#include "../autograd/internal.h"

#define AG__OPTIM_MAX_SLOTS 4 /* state tensors per parameter, the step counter included */

/* Hyperparameters of every kind (each kind reads the ones it has). */
typedef struct ag__optim_hyper {
    double momentum, dampening, weight_decay;
    double beta1, beta2, eps, alpha;
    bool nesterov, amsgrad, centered;
    bool decoupled; /* AdamW: weight decay applied to the parameter, not the gradient */
} ag__optim_hyper;

/* Updates parameter p (data in place) from its gradient g (same shape and dtype, checked by the
 * caller). slots are the parameter's state tensors (slot 0 the step counter, already advanced);
 * step is its new value (1 on the parameter's first update). Runs with grad mode off. */
typedef void (*ag__optim_update_fn)(const ag_optimizer *opt, ag_tensor *p, const ag_tensor *g,
                                    ag_tensor *const *slots, double step);

struct ag_optimizer {
    const char *name;           /* "GD", "SGD", "Adam", "AdamW", "RMSprop" */
    ag__optim_update_fn update;
    int n;
    ag_tensor **params;         /* retained (a reference each), not owned by the caller's count */
    double lr;
    int64_t steps;              /* completed ag_optim_step calls */
    ag__optim_hyper h;
    int nslots;                 /* state tensors per parameter */
    ag_tensor **state;          /* n * nslots, parameter-major; caller-owned by the optimizer */
    char (*state_names)[48];
};

/* Validates the parameter list (n >= 1; each non-NULL, a leaf requiring grad, listed once) and
 * lr, then makes the optimizer with zero-filled state: slot 0 "step" (float64 0-d) and one
 * tensor shaped like the parameter per name in keys[0..nkeys-1] (PyTorch's state keys).
 * Errors name `fn`. */
ag_optimizer *ag__optim_new(const char *fn, const char *name, ag__optim_update_fn update, int n,
                            ag_tensor *const *params, double lr, const ag__optim_hyper *h,
                            int nkeys, const char *const *keys);

/* ---- the update loops ----
 * Each optimizer's per-element update is a function over a range [lo, hi) of the parameter,
 * instantiated for float and double from one body. On x86-64 (GCC) it is compiled twice and
 * chosen when the program loads: for x86-64-v3 (AVX2 + FMA: fma() is one instruction and the
 * loop vectorizes) and for the baseline (fma() is libm's exact software version). fma is exact
 * in both, so both give the same bits. Under the sanitizers only the baseline is built. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
    !defined(__SANITIZE_ADDRESS__)
#define AG__OPTIM_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define AG__OPTIM_CLONES
#endif

typedef void (*ag__optim_range_fn)(const void *args, int64_t lo, int64_t hi);

/* Runs k over [0, n) in chunks, in parallel when n is large (chunks never split a cache line
 * between threads). */
#define AG__OPTIM_CHUNK 4096
static inline void ag__optim_run(int64_t n, ag__optim_range_fn k, const void *args)
{
    int64_t nc = (n + AG__OPTIM_CHUNK - 1) / AG__OPTIM_CHUNK;
    AG_PFOR_WORK(c, nc, n,
        int64_t lo = c * AG__OPTIM_CHUNK, hi = lo + AG__OPTIM_CHUNK;
        k(args, lo, hi < n ? hi : n););
}

/* Records "fn: option = value must be <what>" unless ok; returns ok. */
bool ag__optim_opt(const char *fn, const char *option, double value, bool ok, const char *what);

/* Checks for options: x >= 0 and finite; lo <= x < hi. NaN fails both. */
static inline bool ag__nonneg(double x) { return x >= 0 && isfinite(x); }
static inline bool ag__in_co(double x, double lo, double hi) { return x >= lo && x < hi; }

#endif
