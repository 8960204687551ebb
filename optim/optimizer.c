/* optim/optimizer.c - what every optimizer shares: construction (parameter checks, the state
 * list), the step driver (gradient checks, per-parameter step counters, no-grad mode) and the
 * accessors of the common interface. The update rules live in sgd.c, adam.c and rmsprop.c.
 */
#include <stdio.h>
#include <stdlib.h>

#include "optim_internal.h"

bool ag__optim_opt(const char *fn, const char *option, double value, bool ok, const char *what)
{
    if (!ok) ag__error("%s: %s = %g must be %s", fn, option, value, what);
    return ok;
}

static bool check_params(const char *fn, int n, ag_tensor *const *params)
{
    if (n < 1) {
        ag__error("%s: n = %d parameters (need at least 1)", fn, n);
        return false;
    }
    if (!params) {
        ag__error("%s: params is NULL", fn);
        return false;
    }
    for (int i = 0; i < n; i++) {
        ag_tensor *p = params[i];
        char s[AG_SHAPE_BUF];
        if (!p) {
            ag__error("%s: params[%d] is NULL", fn, i);
            return false;
        }
        ag_shape_str(p, s, sizeof s);
        if (p->node) {
            ag__error("%s: params[%d] (%s %s) is not a leaf (computed by '%s'); optimize the "
                      "leaves it was computed from", fn, i, ag_dtype_name(p->dtype), s,
                      ag__op_name(p->node));
            return false;
        }
        if (!p->requires_grad) {
            ag__error("%s: params[%d] (%s %s) does not require grad (call "
                      "ag_set_requires_grad first)", fn, i, ag_dtype_name(p->dtype), s);
            return false;
        }
        for (int j = 0; j < i; j++)
            if (params[j] == p) {
                ag__error("%s: params[%d] is the same tensor as params[%d] (%s); list each "
                          "parameter once", fn, i, j, s);
                return false;
            }
    }
    return true;
}

/* Allocates the zero state inside a private scope and claims each tensor, so the optimizer owns
 * them whatever scope the caller is in. */
static int make_state(ag_optimizer *o, const char *const *keys)
{
    ag_scope *sc = ag_scope_begin();
    if (!sc) return -1;
    int rc = 0;
    for (int i = 0; i < o->n && rc == 0; i++) {
        for (int k = 0; k < o->nslots; k++) {
            ag_tensor *p = o->params[i];
            ag_tensor *t = k == 0 ? ag_scalar(AG_F64, 0.0) : ag_zeros_like(p);
            if (!t) {
                rc = -1;
                break;
            }
            o->state[i * o->nslots + k] = ag_keep(t);
            snprintf(o->state_names[i * o->nslots + k], sizeof o->state_names[0], "%d.%s", i,
                     k == 0 ? "step" : keys[k - 1]);
        }
    }
    ag_scope_end(sc);
    return rc;
}

ag_optimizer *ag__optim_new(const char *fn, const char *name, ag__optim_update_fn update, int n,
                            ag_tensor *const *params, double lr, const ag__optim_hyper *h,
                            int nkeys, const char *const *keys)
{
    if (!check_params(fn, n, params)) return NULL;
    if (!ag__optim_opt(fn, "lr", lr, ag__nonneg(lr), ">= 0 and finite")) return NULL;
    ag_optimizer *o = calloc(1, sizeof *o);
    if (!o) goto oom;
    o->name = name;
    o->update = update;
    o->n = n;
    o->lr = lr;
    o->h = *h;
    o->nslots = 1 + nkeys;
    o->params = calloc((size_t)n, sizeof *o->params);
    o->state = calloc((size_t)n * (size_t)o->nslots, sizeof *o->state);
    o->state_names = calloc((size_t)n * (size_t)o->nslots, sizeof *o->state_names);
    if (!o->params || !o->state || !o->state_names) goto oom;
    for (int i = 0; i < n; i++) {
        /* A reference of our own: a parameter freed too early cannot dangle here. */
        o->params[i] = params[i];
        ag__retain(params[i]);
    }
    if (make_state(o, keys) != 0) {
        ag_optim_free(o);
        return NULL;
    }
    return o;
oom:
    ag_optim_free(o);
    ag__error("%s: out of memory for %d parameters", fn, n);
    return NULL;
}

void ag_optim_free(ag_optimizer *o)
{
    if (!o) return;
    if (o->state)
        for (int i = 0; i < o->n * o->nslots; i++) ag_tensor_free(o->state[i]);
    if (o->params)
        for (int i = 0; i < o->n; i++)
            if (o->params[i]) ag__release(o->params[i]);
    free(o->state);
    free(o->state_names);
    free(o->params);
    free(o);
}

#define OPT_CHECK(fn, o, ret)                                        \
    do {                                                             \
        if (!(o)) {                                                  \
            ag__error("%s: optimizer is NULL", fn);                  \
            return ret;                                              \
        }                                                            \
    } while (0)

int ag_optim_step(ag_optimizer *o)
{
    OPT_CHECK("ag_optim_step", o, -1);
    /* Check every gradient first, so an error leaves all parameters untouched. */
    for (int i = 0; i < o->n; i++) {
        ag_tensor *p = o->params[i], *g = ag__grad_ready(o->params[i]);
        if (g && (g->dtype != p->dtype || !ag_same_shape(g, p))) {
            char a[AG_SHAPE_BUF], b[AG_SHAPE_BUF];
            ag__error("ag_optim_step (%s): the gradient of params[%d] is %s %s but the parameter "
                      "is %s %s", o->name, i, ag_dtype_name(g->dtype), ag_shape_str(g, a, sizeof a),
                      ag_dtype_name(p->dtype), ag_shape_str(p, b, sizeof b));
            return -1;
        }
    }
    bool was = ag_set_grad_enabled(false);
    for (int i = 0; i < o->n; i++) {
        ag_tensor *p = o->params[i];
        /* never reached by a backward pass: skipped, as in PyTorch */
        if (!ag__grad_ready(p)) continue;
        ag_tensor *const *slots = o->state + (size_t)i * (size_t)o->nslots;
        double *step = slots[0]->data;
        *step += 1.0;
        o->update(o, p, p->grad, slots, *step);
    }
    ag_set_grad_enabled(was);
    o->steps++;
    return 0;
}

int ag_optim_zero_grad(ag_optimizer *o)
{
    OPT_CHECK("ag_optim_zero_grad", o, -1);
    for (int i = 0; i < o->n; i++)
        if (ag_zero_grad(o->params[i]) != 0) return -1;
    return 0;
}

double ag_optim_get_lr(const ag_optimizer *o)
{
    OPT_CHECK("ag_optim_get_lr", o, NAN);
    return o->lr;
}

int ag_optim_set_lr(ag_optimizer *o, double lr)
{
    OPT_CHECK("ag_optim_set_lr", o, -1);
    if (!ag__optim_opt("ag_optim_set_lr", "lr", lr, ag__nonneg(lr), ">= 0 and finite")) return -1;
    o->lr = lr;
    return 0;
}

const char *ag_optim_name(const ag_optimizer *o)
{
    OPT_CHECK("ag_optim_name", o, NULL);
    return o->name;
}

int ag_optim_num_params(const ag_optimizer *o)
{
    OPT_CHECK("ag_optim_num_params", o, -1);
    return o->n;
}

ag_tensor *ag_optim_param(const ag_optimizer *o, int i)
{
    OPT_CHECK("ag_optim_param", o, NULL);
    if (i < 0 || i >= o->n) {
        ag__error("ag_optim_param: index %d out of range (the %s optimizer has %d parameters)", i,
                  o->name, o->n);
        return NULL;
    }
    return o->params[i];
}

int64_t ag_optim_steps(const ag_optimizer *o)
{
    OPT_CHECK("ag_optim_steps", o, -1);
    return o->steps;
}

int ag_optim_set_steps(ag_optimizer *o, int64_t steps)
{
    OPT_CHECK("ag_optim_set_steps", o, -1);
    if (steps < 0) {
        ag__error("ag_optim_set_steps: steps = %lld must be >= 0", (long long)steps);
        return -1;
    }
    o->steps = steps;
    return 0;
}

int ag_optim_num_state(const ag_optimizer *o)
{
    OPT_CHECK("ag_optim_num_state", o, -1);
    return o->n * o->nslots;
}

ag_tensor *ag_optim_state(const ag_optimizer *o, int i, const char **name)
{
    if (name) *name = NULL;
    OPT_CHECK("ag_optim_state", o, NULL);
    if (i < 0 || i >= o->n * o->nslots) {
        ag__error("ag_optim_state: index %d out of range (the %s optimizer has %d state tensors)",
                  i, o->name, o->n * o->nslots);
        return NULL;
    }
    if (name) *name = o->state_names[i];
    return o->state[i];
}
