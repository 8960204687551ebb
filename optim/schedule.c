/* optim/schedule.c - learning-rate schedules with PyTorch 1.13's lr_scheduler semantics.
 *
 * PyTorch's schedules step in "chainable" form: each step computes the new lr from the
 * optimizer's current lr (StepLR multiplies by gamma at multiples of step_size, ExponentialLR by
 * gamma every epoch, CosineAnnealingLR by a ratio of cosines, LinearLR by a ratio of factors).
 * We replicate those recurrences expression by expression rather than the closed forms in
 * optim.h, so the lr sequence equals PyTorch's to the last bit; the two agree up to rounding
 * while nobody else changes the lr. As in PyTorch, making a schedule performs its epoch-0 step
 * (LinearLR then multiplies the lr by start_factor at once).
 *
 * ReduceLROnPlateau: mode "min", relative threshold; the lr only changes when the reduction is
 * larger than 1e-8 (PyTorch's eps).
 */
#include <limits.h>
#include <stdlib.h>

#include "optim_internal.h"

typedef enum { S_STEP, S_EXP, S_COSINE, S_LINEAR, S_PLATEAU } sched_kind;

struct ag_scheduler {
    sched_kind kind;
    ag_optimizer *opt;      /* not owned */
    double base_lr;
    int epoch;              /* PyTorch's last_epoch */
    int step_size, t_max, total_iters, patience, cooldown;
    double gamma, eta_min, start, end, factor, threshold, min_lr;
    double best;            /* plateau: best metric so far */
    int bad_epochs, cooldown_left;
};

#define PLATEAU_EPS 1e-8
#define PI 3.141592653589793 /* Python's math.pi, the double nearest pi */

/* The chainable lr for s->epoch (already advanced), from the optimizer's current lr. */
static double next_lr(const ag_scheduler *s, double lr)
{
    int e = s->epoch;
    switch (s->kind) {
    case S_STEP:
        return (e == 0 || e % s->step_size != 0) ? lr : lr * s->gamma;
    case S_EXP:
        return e == 0 ? lr : lr * s->gamma;
    case S_COSINE: {
        int T = s->t_max;
        if (e == 0) return lr;
        /* in 64 bits: 2 * T overflows an int for t_max above INT_MAX / 2 */
        if (((int64_t)e - 1 - T) % (2 * (int64_t)T) == 0)
            return lr + (s->base_lr - s->eta_min) * (1 - cos(PI / T)) / 2;
        return (1 + cos(PI * e / T)) / (1 + cos(PI * (e - 1) / T)) * (lr - s->eta_min) +
               s->eta_min;
    }
    case S_LINEAR:
        if (e == 0) return lr * s->start;
        if (e > s->total_iters) return lr;
        return lr * (1. + (s->end - s->start) /
                              (s->total_iters * s->start + (e - 1) * (s->end - s->start)));
    case S_PLATEAU:
        break;
    }
    return lr;
}

static ag_scheduler *make(const char *fn, ag_optimizer *opt, sched_kind kind)
{
    if (!opt) {
        ag__error("%s: optimizer is NULL", fn);
        return NULL;
    }
    ag_scheduler *s = calloc(1, sizeof *s);
    if (!s) {
        ag__error("%s: out of memory", fn);
        return NULL;
    }
    s->kind = kind;
    s->opt = opt;
    s->base_lr = opt->lr;
    s->best = INFINITY;
    s->epoch = kind == S_PLATEAU ? 0 : -1;
    return s;
}

/* PyTorch's _initial_step: the epoch-0 step made by the constructor. */
static ag_scheduler *start(ag_scheduler *s)
{
    if (s && s->kind != S_PLATEAU) ag_sched_step(s);
    return s;
}

#define OPT(fn, name, v, ok, what)                                \
    do {                                                          \
        if (!ag__optim_opt(fn, name, v, ok, what)) return NULL;   \
    } while (0)

ag_scheduler *ag_sched_step_lr(ag_optimizer *opt, int step_size, double gamma)
{
    const char *fn = "ag_sched_step_lr";
    OPT(fn, "step_size", step_size, step_size >= 1, ">= 1");
    OPT(fn, "gamma", gamma, gamma > 0 && isfinite(gamma), "> 0 and finite");
    ag_scheduler *s = make(fn, opt, S_STEP);
    if (s) s->step_size = step_size, s->gamma = gamma;
    return start(s);
}

ag_scheduler *ag_sched_exponential(ag_optimizer *opt, double gamma)
{
    const char *fn = "ag_sched_exponential";
    OPT(fn, "gamma", gamma, gamma > 0 && isfinite(gamma), "> 0 and finite");
    ag_scheduler *s = make(fn, opt, S_EXP);
    if (s) s->gamma = gamma;
    return start(s);
}

ag_scheduler *ag_sched_cosine(ag_optimizer *opt, int t_max, double eta_min)
{
    const char *fn = "ag_sched_cosine";
    OPT(fn, "t_max", t_max, t_max >= 1, ">= 1");
    OPT(fn, "eta_min", eta_min, ag__nonneg(eta_min), ">= 0 and finite");
    ag_scheduler *s = make(fn, opt, S_COSINE);
    if (s) s->t_max = t_max, s->eta_min = eta_min;
    return start(s);
}

ag_scheduler *ag_sched_linear(ag_optimizer *opt, double start_factor, double end_factor,
                              int total_iters)
{
    const char *fn = "ag_sched_linear";
    /* start_factor 0 would divide by zero in PyTorch's recurrence at epoch 1 */
    OPT(fn, "start_factor", start_factor, start_factor > 0 && start_factor <= 1, "in (0, 1]");
    OPT(fn, "end_factor", end_factor, end_factor >= 0 && end_factor <= 1, "in [0, 1]");
    OPT(fn, "total_iters", total_iters, total_iters >= 1, ">= 1");
    ag_scheduler *s = make(fn, opt, S_LINEAR);
    if (s) s->start = start_factor, s->end = end_factor, s->total_iters = total_iters;
    return start(s);
}

ag_scheduler *ag_sched_plateau(ag_optimizer *opt, double factor, int patience, double threshold,
                               int cooldown, double min_lr)
{
    const char *fn = "ag_sched_plateau";
    OPT(fn, "factor", factor, ag__in_co(factor, 0, 1), "in [0, 1)");
    OPT(fn, "patience", patience, patience >= 0, ">= 0");
    OPT(fn, "threshold", threshold, ag__in_co(threshold, 0, 1), "in [0, 1)");
    OPT(fn, "cooldown", cooldown, cooldown >= 0, ">= 0");
    OPT(fn, "min_lr", min_lr, ag__nonneg(min_lr), ">= 0 and finite");
    ag_scheduler *s = make(fn, opt, S_PLATEAU);
    if (s) {
        s->factor = factor, s->patience = patience, s->threshold = threshold;
        s->cooldown = cooldown, s->min_lr = min_lr;
    }
    return s;
}

int ag_sched_step(ag_scheduler *s)
{
    if (!s) {
        ag__error("ag_sched_step: scheduler is NULL");
        return -1;
    }
    if (s->kind == S_PLATEAU) {
        ag__error("ag_sched_step: a plateau schedule needs the metric: call "
                  "ag_sched_step_metric");
        return -1;
    }
    if (s->epoch == INT_MAX) {
        ag__error("ag_sched_step: the epoch counter would overflow (%d steps)", s->epoch);
        return -1;
    }
    s->epoch++;
    double old = s->opt->lr, lr = next_lr(s, old);
    /* Only a schedule that drove the lr to overflow (a gamma above 1 for long enough) or below
     * zero can fail here; the failed step is not counted, so the schedule stays as it was. */
    if (!(lr >= 0 && isfinite(lr))) {
        s->epoch--;
        ag__error("ag_sched_step: epoch %d would set lr = %g (from lr = %g), which is not >= 0 "
                  "and finite", s->epoch + 1, lr, old);
        return -1;
    }
    return ag_optim_set_lr(s->opt, lr);
}

static void plateau_step(ag_scheduler *s, double metric)
{
    if (s->epoch < INT_MAX) s->epoch++; /* saturates: the plateau logic does not use it */
    if (metric < s->best * (1. - s->threshold)) {
        s->best = metric;
        s->bad_epochs = 0;
    } else {
        s->bad_epochs++;
    }
    if (s->cooldown_left > 0) {
        s->cooldown_left--;
        s->bad_epochs = 0; /* bad epochs during the cooldown do not count */
    }
    if (s->bad_epochs > s->patience) {
        double old = s->opt->lr, lr = old * s->factor;
        if (lr < s->min_lr) lr = s->min_lr;
        if (old - lr > PLATEAU_EPS) s->opt->lr = lr;
        s->cooldown_left = s->cooldown;
        s->bad_epochs = 0;
    }
}

int ag_sched_step_metric(ag_scheduler *s, double metric)
{
    if (!s) {
        ag__error("ag_sched_step_metric: scheduler is NULL");
        return -1;
    }
    if (s->kind != S_PLATEAU) return ag_sched_step(s); /* the metric is not needed */
    plateau_step(s, metric);
    return 0;
}

bool ag_sched_needs_metric(const ag_scheduler *s)
{
    return s && s->kind == S_PLATEAU;
}

int ag_sched_epoch(const ag_scheduler *s)
{
    if (!s) {
        ag__error("ag_sched_epoch: scheduler is NULL");
        return -1;
    }
    return s->epoch;
}

void ag_sched_free(ag_scheduler *s)
{
    free(s);
}
