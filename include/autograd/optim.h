/* autograd/optim.h - optimizers, learning-rate schedules and gradient clipping.
 *
 * An optimizer updates any list of parameter tensors (leaf tensors that require grad) from their
 * gradients, in place and without recording a graph. The update rules are PyTorch 1.13's,
 * documented formulas and defaults included, so a trajectory here equals PyTorch's to rounding:
 *
 *   GD / SGD  g = grad + wd*theta;  buf = g (first step) else mu*buf + (1-dampening)*g;
 *             g = nesterov ? g + mu*buf : buf (when mu != 0);  theta -= lr*g
 *   Adam      g = grad + wd*theta;  m = b1*m + (1-b1)*g;  v = b2*v + (1-b2)*g^2;
 *             m^ = m/(1-b1^t);  v^ = v/(1-b2^t) (AMSGrad: vmax = max(vmax, v), v^ = vmax/(1-b2^t));
 *             theta -= lr * m^ / (sqrt(v^) + eps)
 *   AdamW     theta *= 1 - lr*wd, then the Adam step on the raw gradient
 *   RMSprop   v = alpha*v + (1-alpha)*g^2;  theta -= lr*g/(sqrt(v)+eps)
 *             (momentum and centered variants as in PyTorch)
 *
 * A parameter whose gradient does not exist yet is skipped, as in PyTorch (its own step count
 * then lags). The optimizer does not own the parameters; it keeps a reference to each, so one
 * freed early stays valid until the optimizer is freed.
 *
 * Each optimizer's state (moment buffers, per-parameter step counts) is a list of named tensors,
 * allocated when the optimizer is made, so a checkpoint can save and restore it exactly
 * (see io.h).
 */
#ifndef AUTOGRAD_OPTIM_H
#define AUTOGRAD_OPTIM_H

#include <stdbool.h>
#include <stdint.h>
#include "tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ag_optimizer ag_optimizer;

/* ---- options, with PyTorch's defaults from the *_defaults() functions ---- */

typedef struct ag_sgd_opts {
    double lr;           /* required in PyTorch (>= 0); defaults() sets 0.01 */
    double momentum;     /* 0 */
    double dampening;    /* 0 */
    double weight_decay; /* 0 */
    bool nesterov;       /* false; needs momentum > 0 and dampening == 0 */
} ag_sgd_opts;

typedef struct ag_adam_opts {
    double lr;           /* 1e-3 */
    double beta1, beta2; /* 0.9, 0.999 */
    double eps;          /* 1e-8 (Keras uses 1e-7) */
    double weight_decay; /* Adam: 0 (L2 added to the gradient); AdamW: 1e-2 (decoupled) */
    bool amsgrad;        /* false */
} ag_adam_opts;

typedef struct ag_rmsprop_opts {
    double lr;           /* 1e-2 */
    double alpha;        /* 0.99 */
    double eps;          /* 1e-8 */
    double weight_decay; /* 0 */
    double momentum;     /* 0 */
    bool centered;       /* false */
} ag_rmsprop_opts;

ag_sgd_opts ag_sgd_defaults(void);
ag_adam_opts ag_adam_defaults(void);
ag_adam_opts ag_adamw_defaults(void);
ag_rmsprop_opts ag_rmsprop_defaults(void);

/* ---- constructors: n parameters, an array the optimizer copies (the tensors are not owned;
 * the optimizer holds a reference to each, so a parameter freed before it stays valid).
 * NULL and an error for n < 1, a NULL or non-leaf parameter, one that does not require grad, a
 * parameter listed twice, or an option out of range (the message names the option and its
 * value). `opts` may be NULL for the defaults. Ranges (all finite): lr, momentum, weight_decay,
 * eps >= 0; dampening and alpha in [0, 1]; beta1, beta2 in [0, 1). ---- */

ag_optimizer *ag_gd_new(int n, ag_tensor *const *params, double lr); /* plain gradient descent */
ag_optimizer *ag_sgd_new(int n, ag_tensor *const *params, const ag_sgd_opts *opts);
ag_optimizer *ag_adam_new(int n, ag_tensor *const *params, const ag_adam_opts *opts);
ag_optimizer *ag_adamw_new(int n, ag_tensor *const *params, const ag_adam_opts *opts);
ag_optimizer *ag_rmsprop_new(int n, ag_tensor *const *params, const ag_rmsprop_opts *opts);

/* ---- the common interface ---- */

/* One update of every parameter that has a gradient. Returns 0, or -1 with an error (for example
 * a gradient whose shape or dtype no longer matches its parameter). */
int ag_optim_step(ag_optimizer *opt);

/* Zeroes the gradients of all parameters with ag_zero_grad (in place, or dropped when a gradient
 * carries a graph; parameters without one are left alone). */
int ag_optim_zero_grad(ag_optimizer *opt);

/* The learning rate used by the next step, and setting it (lr >= 0, finite). */
double ag_optim_get_lr(const ag_optimizer *opt);
int ag_optim_set_lr(ag_optimizer *opt, double lr);

/* "GD", "SGD", "Adam", "AdamW" or "RMSprop". */
const char *ag_optim_name(const ag_optimizer *opt);

/* The parameters the optimizer updates. */
int ag_optim_num_params(const ag_optimizer *opt);
ag_tensor *ag_optim_param(const ag_optimizer *opt, int i);

/* Number of completed ag_optim_step calls; settable for a resumed run. */
int64_t ag_optim_steps(const ag_optimizer *opt);
int ag_optim_set_steps(ag_optimizer *opt, int64_t steps);

/* The optimizer's state as named tensors ("3.exp_avg", "3.exp_avg_sq", "3.step",
 * "0.momentum_buffer", ...: the parameter's index, a dot, PyTorch's state key). The tensors belong
 * to the optimizer; a checkpoint loader overwrites their values in place. Listed parameter by
 * parameter; each parameter's first entry is "<i>.step", a float64 0-d tensor counting that
 * parameter's updates (every optimizer has it; SGD uses it to tell the first momentum step).
 * Then, in this order: SGD "momentum_buffer" (momentum != 0); Adam/AdamW "exp_avg",
 * "exp_avg_sq", "max_exp_avg_sq" (amsgrad); RMSprop "square_avg", "momentum_buffer"
 * (momentum > 0), "grad_avg" (centered). Moment tensors have the parameter's shape and dtype. */
int ag_optim_num_state(const ag_optimizer *opt);
ag_tensor *ag_optim_state(const ag_optimizer *opt, int i, const char **name);

/* Frees the optimizer and its state (not the parameters). NULL is ignored. */
void ag_optim_free(ag_optimizer *opt);

/* ---- learning-rate schedules (PyTorch's lr_scheduler semantics). A schedule remembers the
 * optimizer's learning rate when made (base_lr); call ag_sched_step once per epoch (or per step,
 * as you choose), after the optimizer steps. Like PyTorch, the schedules step in "chainable"
 * form (each new lr is computed from the optimizer's current lr by PyTorch's recurrence, so the
 * sequence equals PyTorch's bit for bit; the closed forms below hold up to rounding), and making
 * one performs its epoch-0 step (LinearLR sets lr = lr * start_factor at once). The schedule
 * does not own the optimizer, which must outlive it. NULL and an error naming the option for
 * a NULL optimizer or an option out of range: step_size, t_max, total_iters >= 1; gamma > 0;
 * start_factor in (0, 1], end_factor in [0, 1]; factor and threshold in [0, 1); eta_min,
 * min_lr >= 0; patience, cooldown >= 0. ---- */

typedef struct ag_scheduler ag_scheduler;

/* lr = base_lr * gamma^floor(epoch / step_size) */
ag_scheduler *ag_sched_step_lr(ag_optimizer *opt, int step_size, double gamma);
/* lr = base_lr * gamma^epoch */
ag_scheduler *ag_sched_exponential(ag_optimizer *opt, double gamma);
/* lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / t_max)) / 2 */
ag_scheduler *ag_sched_cosine(ag_optimizer *opt, int t_max, double eta_min);
/* Linear warm-up (PyTorch LinearLR): the factor goes linearly from start_factor to end_factor
 * over total_iters steps, then stays at end_factor. */
ag_scheduler *ag_sched_linear(ag_optimizer *opt, double start_factor, double end_factor,
                              int total_iters);
/* ReduceLROnPlateau in "min" mode with a relative threshold: when the metric has not improved
 * by more than threshold*best for more than `patience` calls, lr = max(lr * factor, min_lr)
 * (applied only if that lowers lr by more than 1e-8, as PyTorch), then wait `cooldown` calls.
 * PyTorch's defaults: factor 0.1, patience 10, threshold 1e-4, cooldown 0, min_lr 0. */
ag_scheduler *ag_sched_plateau(ag_optimizer *opt, double factor, int patience, double threshold,
                               int cooldown, double min_lr);

/* Advances the schedule by one epoch and sets the optimizer's lr. For a plateau schedule use
 * ag_sched_step_metric instead (ag_sched_step on it is an error). ag_sched_step_metric on any
 * other schedule ignores the metric and acts as ag_sched_step, so a training loop may call it
 * for every schedule. */
int ag_sched_step(ag_scheduler *s);
int ag_sched_step_metric(ag_scheduler *s, double metric);
/* True for a plateau schedule (it must be stepped with a metric). */
bool ag_sched_needs_metric(const ag_scheduler *s);
/* The epoch counter (number of ag_sched_step / ag_sched_step_metric calls so far). */
int ag_sched_epoch(const ag_scheduler *s);
void ag_sched_free(ag_scheduler *s);

/* ---- gradient clipping, over any list of tensors that have gradients ---- */

/* Scales all gradients together so that their global L2 norm is at most max_norm (PyTorch's
 * clip_grad_norm_: coefficient max_norm / (norm + 1e-6), applied only when below 1). Returns the
 * norm before clipping, or -1 on error. Tensors without a gradient are skipped. */
double ag_clip_grad_norm(int n, ag_tensor *const *params, double max_norm);

/* Clamps every gradient element to [-clip, clip]. */
int ag_clip_grad_value(int n, ag_tensor *const *params, double clip);

#ifdef __cplusplus
}
#endif
#endif
