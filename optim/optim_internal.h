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

/* Records "fn: option = value must be <what>" unless ok; returns ok. */
bool ag__optim_opt(const char *fn, const char *option, double value, bool ok, const char *what);

/* Checks for options: x >= 0 and finite; lo <= x < hi. NaN fails both. */
static inline bool ag__nonneg(double x) { return x >= 0 && isfinite(x); }
static inline bool ag__in_co(double x, double lo, double hi) { return x >= lo && x < hi; }

#endif
