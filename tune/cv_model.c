/* tune/cv_model.c - what the cross-validation objective trains, from a trial's
 * hyperparameters: the configuration (the CV's options overridden by the trial's values, read by
 * name), the Sequential model (in -> Dense + activation [+ dropout] x layers -> Dense out) or
 * the user's build function, its optimizer, and one fold's model, optimizer and trainer. The
 * objective itself and the refit are in objective_cv.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "tune_internal.h"

static const char *const known[] = {"layers", "hidden", "activation", "dropout", "optimizer",
                                    "lr", "momentum", "weight_decay", "batch_size", "epochs"};
static const char *const optimizers[] = {"gd", "sgd", "momentum", "nesterov", "adam", "adamw",
                                         "rmsprop"};
static const char *const act_names[] = {"none", "relu", "tanh", "sigmoid", "leaky_relu"};
static const ag_activation act_values[] = {AG_ACT_NONE, AG_ACT_RELU, AG_ACT_TANH, AG_ACT_SIGMOID,
                                           AG_ACT_LEAKY_RELU};
#define COUNT(a) ((int)(sizeof(a) / sizeof(a)[0]))

static int find(const char *const *list, int n, const char *s)
{
    for (int i = 0; s && i < n; i++)
        if (strcmp(list[i], s) == 0) return i;
    return -1;
}

bool ag__cv_known_param(const char *name)
{
    return find(known, COUNT(known), name) >= 0;
}

bool ag__cv_known_activation(const char *name)
{
    return find(act_names, COUNT(act_names), name) >= 0;
}

/* Checks a configuration; fn names the caller in the message. */
int ag__cv_check_cfg(const char *fn, const ag__cv_cfg *c)
{
    const char *bad = c->layers < 0 || c->layers > 64 ? "layers (0 to 64)"
                    : c->hidden < 1 || c->hidden > 1 << 24 ? "hidden (1 to 2^24)"
                    : !(c->dropout >= 0 && c->dropout < 1) ? "dropout (in [0, 1))"
                    : !(c->lr >= 0 && isfinite(c->lr)) ? "lr (>= 0, finite)"
                    : !(c->momentum >= 0 && c->momentum < 1) ? "momentum (in [0, 1))"
                    : !(isfinite(c->weight_decay) && (c->weight_decay >= 0 || c->weight_decay == -1))
                        ? "weight_decay (>= 0, or -1 for the default)"
                    : c->batch_size < 1 ? "batch_size (>= 1)"
                    : c->epochs < 1 || c->epochs > 100000 ? "epochs (1 to 100000)" : NULL;
    if (bad) {
        ag__error("%s: bad %s: layers %d, hidden %lld, dropout %g, lr %g, momentum %g, "
                  "weight_decay %g, batch_size %lld, epochs %d", fn, bad, c->layers,
                  (long long)c->hidden, c->dropout, c->lr, c->momentum, c->weight_decay,
                  (long long)c->batch_size, c->epochs);
        return -1;
    }
    if (find(optimizers, COUNT(optimizers), c->optimizer) < 0) {
        ag__error("%s: unknown optimizer '%s' (gd, sgd, momentum, nesterov, adam, adamw, rmsprop)",
                  fn, c->optimizer);
        return -1;
    }
    return 0;
}

/* Reads a numeric hyperparameter of the trial into *v when the space has it: a number, or a
 * choice whose string is a number (hidden widths {"16", "32", "64"}). */
static int num(const ag_trial *t, const char *name, double *v)
{
    if (!ag_trial_has(t, name)) return 0;
    int i = ag_space_find(t->study->space, name);
    const ag__param *p = &t->study->space->p[i];
    if (p->kind != AG_PARAM_CHOICE) {
        *v = t->values[i];
        return 0;
    }
    const char *text = p->choices[(int)t->values[i]];
    char *end;
    double x = strtod(text, &end);
    if (end == text || *end != '\0' || !isfinite(x)) {
        ag__error("ag_cv_objective: hyperparameter '%s' must be numeric, not '%s'", name, text);
        return -1;
    }
    *v = x;
    return 0;
}

int ag__cv_resolve(const ag_cv *cv, const ag_trial *t, ag__cv_cfg *c)
{
    const ag_cv_opts *o = &cv->o;
    *c = (ag__cv_cfg){.layers = o->layers, .hidden = o->hidden, .dropout = o->dropout, .lr = o->lr,
               .momentum = o->momentum, .weight_decay = o->weight_decay,
               .batch_size = o->batch_size, .epochs = o->epochs};
    snprintf(c->optimizer, sizeof c->optimizer, "%s", cv->optimizer);
    const char *act = cv->activation;
    const ag_space *sp = t->study->space;
    for (int i = 0; i < sp->n && !o->build; i++)
        if (find(known, COUNT(known), sp->p[i].name) < 0) {
            ag__error("ag_cv_objective: unknown hyperparameter '%s' (the CV reads layers, hidden, "
                      "activation, dropout, optimizer, lr, momentum, weight_decay, batch_size, "
                      "epochs; give a build function to use others)", sp->p[i].name);
            return -1;
        }
    double layers = c->layers, hidden = (double)c->hidden, batch = (double)c->batch_size,
           epochs = c->epochs;
    if (num(t, "layers", &layers) < 0 || num(t, "hidden", &hidden) < 0 ||
        num(t, "dropout", &c->dropout) < 0 || num(t, "lr", &c->lr) < 0 ||
        num(t, "momentum", &c->momentum) < 0 || num(t, "weight_decay", &c->weight_decay) < 0 ||
        num(t, "batch_size", &batch) < 0 || num(t, "epochs", &epochs) < 0)
        return -1;
    if (layers != floor(layers) || hidden != floor(hidden) || batch != floor(batch) ||
        epochs != floor(epochs) || fabs(hidden) > 1e9 || fabs(batch) > 1e15 || fabs(layers) > 1e6 ||
        fabs(epochs) > 1e6) {
        ag__error("ag_cv_objective: layers %g, hidden %g, batch_size %g and epochs %g must be "
                  "whole numbers", layers, hidden, batch, epochs);
        return -1;
    }
    c->layers = (int)layers;
    c->hidden = (int64_t)hidden;
    c->batch_size = (int64_t)batch;
    c->epochs = t->budget > 0 ? t->budget : (int)epochs;
    if (ag_trial_has(t, "optimizer")) {
        const char *s = ag_trial_choice(t, "optimizer");
        if (!s) return -1;
        snprintf(c->optimizer, sizeof c->optimizer, "%s", s);
    }
    if (ag_trial_has(t, "activation") && !(act = ag_trial_choice(t, "activation"))) return -1;
    int a = find(act_names, COUNT(act_names), act);
    if (a < 0) {
        ag__error("ag_cv_objective: unknown activation '%s' (none, relu, tanh, sigmoid, "
                  "leaky_relu)", act);
        return -1;
    }
    c->act = act_values[a];
    return ag__cv_check_cfg("ag_cv_objective", c);
}

static ag_module *build_model(const ag_cv *cv, const ag_trial *t, const ag__cv_cfg *c,
                              uint64_t seed)
{
    ag_rng rng = ag_rng_seed(seed);
    if (cv->o.build) return cv->o.build(t, cv->in, cv->out, &rng, cv->o.build_ctx);
    ag_module *m = ag_sequential(0, NULL);
    int64_t width = cv->in;
    for (int l = 0; m && l < c->layers; l++) {
        ag_module *d = ag_dense(width, c->hidden, &(ag_dense_opts){.activation = c->act}, &rng);
        if (!d || ag_sequential_add(m, d) < 0) goto fail_layer;
        width = c->hidden;
        if (c->dropout > 0) {
            d = ag_dropout(c->dropout, ag__mix(seed, (uint64_t)l));
            if (!d || ag_sequential_add(m, d) < 0) goto fail_layer;
        }
        continue;
    fail_layer:
        ag_module_free(d);
        ag_module_free(m);
        return NULL;
    }
    ag_module *last = m ? ag_dense(width, cv->out, NULL, &rng) : NULL;
    if (!last || ag_sequential_add(m, last) < 0) {
        ag_module_free(last);
        ag_module_free(m);
        return NULL;
    }
    return m;
}

static ag_optimizer *make_optimizer(const ag__cv_cfg *c, ag_module *m)
{
    int n = ag_module_num_params(m);
    ag_tensor *const *p = ag_module_params(m);
    int which = find(optimizers, COUNT(optimizers), c->optimizer);
    if (which >= 4) {
        ag_adam_opts a = which == 5 ? ag_adamw_defaults() : ag_adam_defaults();
        ag_rmsprop_opts r = ag_rmsprop_defaults();
        a.lr = r.lr = c->lr;
        if (c->weight_decay >= 0) a.weight_decay = r.weight_decay = c->weight_decay;
        return which == 4 ? ag_adam_new(n, p, &a) : which == 5 ? ag_adamw_new(n, p, &a)
                                                               : ag_rmsprop_new(n, p, &r);
    }
    if (which == 0 && c->weight_decay <= 0) return ag_gd_new(n, p, c->lr);
    ag_sgd_opts s = ag_sgd_defaults();
    s.lr = c->lr;
    if (c->weight_decay >= 0) s.weight_decay = c->weight_decay;
    if (which >= 2) s.momentum = c->momentum;
    s.nesterov = which == 3;
    return ag_sgd_new(n, p, &s);
}

void ag__cv_fold_free(ag__cv_fold *f)
{
    ag_trainer_free(f->t);
    ag_optim_free(f->opt);
    ag_module_free(f->m);
    *f = (ag__cv_fold){0};
}

int ag__cv_fold_make(const ag_cv *cv, const ag_trial *t, const ag__cv_cfg *c, uint64_t seed,
                     ag__cv_fold *f)
{
    *f = (ag__cv_fold){0};
    f->m = build_model(cv, t, c, seed);
    f->opt = f->m ? make_optimizer(c, f->m) : NULL;
    ag_loss_kind loss = cv->classification ? AG_LOSS_CROSS_ENTROPY : AG_LOSS_MSE;
    f->t = f->opt ? ag_compile(f->m, f->opt, loss, cv->classification ? AG_METRIC_ACCURACY : 0)
                  : NULL;
    if (!f->t) {
        ag__cv_fold_free(f);
        return -1;
    }
    return 0;
}
