/* tune/objective_cv.c - the built-in objective: k-fold cross-validation of a Sequential model
 * (in -> Dense + activation [+ dropout] x layers -> Dense out) whose settings come from the
 * trial's hyperparameters by name. The k models train in lockstep, epoch by epoch, so the mean
 * validation score can be reported after every epoch and a pruner can stop the trial early.
 * Also the refit of a chosen configuration on all the data. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "tune_internal.h"

struct ag_cv {
    ag_cv_opts o;
    char activation[32], optimizer[32]; /* copies of the option strings */
    int k;
    ag_dataset *all;                    /* every example, for the refit */
    ag_dataset **train, **val;          /* fold f: the other folds, and fold f */
    int64_t in, out;
    bool classification;
};

/* What one trial trains: the options overridden by the trial's values. */
typedef struct cfg {
    int layers, epochs;
    int64_t hidden, batch_size;
    ag_activation act;
    double dropout, lr, momentum, weight_decay;
    char optimizer[32];
} cfg;

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

ag_cv_opts ag_cv_defaults(void)
{
    return (ag_cv_opts){.folds = 5, .stratify = true, .shuffle = true, .score = AG_SCORE_VAL_LOSS,
                        .layers = 1, .hidden = 32, .activation = "relu", .optimizer = "adam",
                        .lr = 1e-3, .momentum = 0.9, .weight_decay = -1, .batch_size = 32,
                        .epochs = 5};
}

/* Checks a configuration; fn names the caller in the message. */
static int check_cfg(const char *fn, const cfg *c)
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

static int resolve(const ag_cv *cv, const ag_trial *t, cfg *c)
{
    const ag_cv_opts *o = &cv->o;
    *c = (cfg){.layers = o->layers, .hidden = o->hidden, .dropout = o->dropout, .lr = o->lr,
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
    return check_cfg("ag_cv_objective", c);
}

static ag_module *build_model(const ag_cv *cv, const ag_trial *t, const cfg *c, uint64_t seed)
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

static ag_optimizer *make_optimizer(const cfg *c, ag_module *m)
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

/* One model, its optimizer and trainer. */
typedef struct fold_model {
    ag_module *m;
    ag_optimizer *opt;
    ag_trainer *t;
} fold_model;

static void fold_free(fold_model *f)
{
    ag_trainer_free(f->t);
    ag_optim_free(f->opt);
    ag_module_free(f->m);
    *f = (fold_model){0};
}

static int fold_make(const ag_cv *cv, const ag_trial *t, const cfg *c, uint64_t seed,
                     fold_model *f)
{
    *f = (fold_model){0};
    f->m = build_model(cv, t, c, seed);
    f->opt = f->m ? make_optimizer(c, f->m) : NULL;
    ag_loss_kind loss = cv->classification ? AG_LOSS_CROSS_ENTROPY : AG_LOSS_MSE;
    f->t = f->opt ? ag_compile(f->m, f->opt, loss, cv->classification ? AG_METRIC_ACCURACY : 0)
                  : NULL;
    if (!f->t) {
        fold_free(f);
        return -1;
    }
    return 0;
}

/* Trains fold model f for epochs [from, to) on `data`; 1 when it diverged, -1 on error. */
static int train(const cfg *c, fold_model *f, const ag_dataset *data, uint64_t seed, int from,
                 int to)
{
    ag_fit_opts fo = ag_fit_defaults();
    fo.initial_epoch = from;
    fo.epochs = to;
    bool gd = strcmp(c->optimizer, "gd") == 0;
    fo.batch_size = gd ? ag_dataset_size(data) : c->batch_size;
    fo.seed = seed;
    fo.verbose = AG_VERBOSE_SILENT;
    ag_history *h = ag_fit(f->t, data, &fo);
    if (!h) return -1;
    int rc = ag_history_diverged(h) ? 1 : 0;
    ag_history_free(h);
    return rc;
}

/* Seeds of fold f: what 0 initial weights, 1 batch order (fold k: the refit). */
static uint64_t fold_seed(const ag_cv *cv, int f, int what)
{
    return ag__mix(cv->o.seed, 4 * (uint64_t)f + (uint64_t)what);
}

int ag_cv_objective(ag_trial *t, void *ctx, double *score)
{
    ag_cv *cv = ctx;
    if (!t || !cv || !score) {
        ag__error("ag_cv_objective: %s is NULL", !t ? "trial" : !cv ? "cv (ctx)" : "score");
        return AG_OBJECTIVE_FAILED;
    }
    *score = NAN;
    ag_direction want = ag_cv_direction(cv);
    if (t->study->opts.direction != want) {
        ag__error("ag_cv_objective: the study %s but the CV score (%s) is to be %s",
                  t->study->opts.direction == AG_MAXIMIZE ? "maximizes" : "minimizes",
                  cv->o.score == AG_SCORE_ACCURACY ? "accuracy" : "validation loss",
                  want == AG_MAXIMIZE ? "maximized" : "minimized");
        return AG_OBJECTIVE_FAILED;
    }
    cfg c;
    if (resolve(cv, t, &c) < 0) return AG_OBJECTIVE_FAILED;
    fold_model *fm = calloc((size_t)cv->k, sizeof *fm);
    double *fs = calloc((size_t)cv->k, sizeof *fs);
    int rc = fm && fs ? AG_OBJECTIVE_OK : AG_OBJECTIVE_FAILED, made = 0;
    if (!fm || !fs) ag__error("ag_cv_objective: out of memory");
    for (; rc == AG_OBJECTIVE_OK && made < cv->k; made++)
        if (fold_make(cv, t, &c, fold_seed(cv, made, 0), &fm[made]) < 0) rc = AG_OBJECTIVE_FAILED;
    double mean = NAN;
    for (int e = 0; rc == AG_OBJECTIVE_OK && e < c.epochs; e++) {
        mean = 0;
        for (int f = 0; rc == AG_OBJECTIVE_OK && f < cv->k; f++) {
            int tr = train(&c, &fm[f], cv->train[f], fold_seed(cv, f, 1), e, e + 1);
            double loss = NAN, acc = NAN;
            if (tr == 0 && ag_evaluate(fm[f].t, cv->val[f], 1024, &loss, &acc) < 0) tr = -1;
            fs[f] = cv->o.score == AG_SCORE_ACCURACY ? acc : loss;
            if (tr == 1 || (tr == 0 && !isfinite(fs[f])))
                ag__error("ag_cv_objective: trial %d diverged (%s) in fold %d, epoch %d", t->number,
                          tr == 1 ? "training loss NaN or Inf" : "validation loss not finite",
                          f, e + 1);
            if (tr != 0 || !isfinite(fs[f])) rc = AG_OBJECTIVE_FAILED;
            mean += fs[f] / cv->k;
        }
        if (rc != AG_OBJECTIVE_OK || ag_trial_report(t, e + 1, mean) < 0) {
            rc = AG_OBJECTIVE_FAILED;
        } else if (e + 1 < c.epochs && ag_trial_should_prune(t)) {
            rc = AG_OBJECTIVE_PRUNED;
        }
    }
    if (rc == AG_OBJECTIVE_OK && ag_trial_set_folds(t, cv->k, fs) < 0) rc = AG_OBJECTIVE_FAILED;
    if (rc != AG_OBJECTIVE_FAILED) *score = mean;
    for (int f = 0; fm && f < made; f++) fold_free(&fm[f]);
    free(fm);
    free(fs);
    return rc;
}

/* ---- making, refitting ---- */

ag_cv *ag_cv_new(const ag_dataset *ds, const ag_cv_opts *opts)
{
    ag_cv_opts o = opts ? *opts : ag_cv_defaults();
    if (!ds) {
        ag__error("ag_cv_new: dataset is NULL");
        return NULL;
    }
    int64_t n = ag_dataset_size(ds);
    bool cls = ds->num_classes > 0;
    const char *bad = ag_ndim(ds->x) != 2 ? "x must be [N, F]"
                    : o.folds < 2 || o.folds > n ? "folds must be in [2, N]"
                    : o.score != AG_SCORE_VAL_LOSS && o.score != AG_SCORE_ACCURACY ? "unknown score"
                    : o.score == AG_SCORE_ACCURACY && !cls ? "accuracy needs a classification dataset"
                    : !cls && ag_ndim(ds->y) != 2 ? "regression targets must be [N, K]"
                    : !o.activation || !o.optimizer ? "activation and optimizer must be set"
                    : NULL;
    if (bad) {
        ag__error("ag_cv_new: %s (folds %d, N %lld, score %d, num_classes %d)", bad, o.folds,
                  (long long)n, (int)o.score, ds->num_classes);
        return NULL;
    }
    cfg c = {.layers = o.layers, .hidden = o.hidden, .dropout = o.dropout, .lr = o.lr,
             .momentum = o.momentum, .weight_decay = o.weight_decay, .batch_size = o.batch_size,
             .epochs = o.epochs};
    snprintf(c.optimizer, sizeof c.optimizer, "%s", o.optimizer);
    if (check_cfg("ag_cv_new", &c) < 0) return NULL;
    if (find(act_names, COUNT(act_names), o.activation) < 0) {
        ag__error("ag_cv_new: unknown activation '%s' (none, relu, tanh, sigmoid, leaky_relu)",
                  o.activation);
        return NULL;
    }
    ag_cv *cv = calloc(1, sizeof *cv);
    int *fold_of = malloc(sizeof *fold_of * (size_t)n);
    int64_t *rows = malloc(sizeof *rows * (size_t)n);
    if (cv) {
        cv->train = calloc((size_t)o.folds, sizeof *cv->train);
        cv->val = calloc((size_t)o.folds, sizeof *cv->val);
    }
    if (!cv || !fold_of || !rows || !cv->train || !cv->val) {
        ag__error("ag_cv_new: out of memory");
        free(fold_of);
        free(rows);
        ag_cv_free(cv);
        return NULL;
    }
    cv->o = o;
    snprintf(cv->activation, sizeof cv->activation, "%s", o.activation);
    snprintf(cv->optimizer, sizeof cv->optimizer, "%s", o.optimizer);
    cv->o.activation = cv->activation;
    cv->o.optimizer = cv->optimizer;
    cv->k = o.folds;
    cv->classification = cls;
    cv->in = ag_shape(ds->x)[1];
    cv->out = cls ? ds->num_classes : ag_shape(ds->y)[1];
    int rc = cls && o.stratify ? ag_stratified_kfold(ds, o.folds, o.shuffle, o.seed, fold_of)
                               : ag_kfold(n, o.folds, o.shuffle, o.seed, fold_of);
    for (int f = 0; rc == 0 && f < o.folds; f++)
        rc = ag_fold_split(ds, fold_of, o.folds, f, &cv->train[f], &cv->val[f]);
    for (int64_t i = 0; i < n; i++) rows[i] = i;
    if (rc == 0 && !(cv->all = ag_dataset_subset(ds, rows, n))) rc = -1;
    free(fold_of);
    free(rows);
    if (rc < 0) {
        ag_cv_free(cv);
        return NULL;
    }
    return cv;
}

void ag_cv_free(ag_cv *cv)
{
    if (!cv) return;
    for (int f = 0; f < cv->k; f++) {
        if (cv->train) ag_dataset_free(cv->train[f]);
        if (cv->val) ag_dataset_free(cv->val[f]);
    }
    free(cv->train);
    free(cv->val);
    ag_dataset_free(cv->all);
    free(cv);
}

int ag_cv_folds(const ag_cv *cv)
{
    if (!cv) {
        ag__error("ag_cv_folds: cv is NULL");
        return -1;
    }
    return cv->k;
}

ag_direction ag_cv_direction(const ag_cv *cv)
{
    if (!cv) {
        ag__error("ag_cv_direction: cv is NULL");
        return AG_MINIMIZE;
    }
    return cv->o.score == AG_SCORE_ACCURACY ? AG_MAXIMIZE : AG_MINIMIZE;
}

int ag_study_optimize_cv(ag_study *s, ag_cv *cv)
{
    if (!s || !cv) {
        ag__error("ag_study_optimize_cv: %s is NULL", !s ? "study" : "cv");
        return -1;
    }
    if (s->opts.direction != ag_cv_direction(cv)) {
        ag__error("ag_study_optimize_cv: the study %s but the CV score (%s) is to be %s: set the "
                  "study's direction to %s", s->opts.direction == AG_MAXIMIZE ? "maximizes"
                                                                               : "minimizes",
                  cv->o.score == AG_SCORE_ACCURACY ? "accuracy" : "validation loss",
                  ag_cv_direction(cv) == AG_MAXIMIZE ? "maximized" : "minimized",
                  ag_cv_direction(cv) == AG_MAXIMIZE ? "AG_MAXIMIZE" : "AG_MINIMIZE");
        return -1;
    }
    for (int i = 0; i < s->space->n && !cv->o.build; i++)
        if (find(known, COUNT(known), s->space->p[i].name) < 0) {
            ag__error("ag_study_optimize_cv: unknown hyperparameter '%s' (the CV reads layers, "
                      "hidden, activation, dropout, optimizer, lr, momentum, weight_decay, "
                      "batch_size, epochs; give a build function to use others)",
                      s->space->p[i].name);
            return -1;
        }
    int64_t planned = ag_study_planned(s);
    if (!s->opts.quiet && planned > 0) {
        FILE *out = s->opts.out ? s->opts.out : stdout;
        bool halving = strncmp(s->strategy->name, "halving", 7) == 0;
        fprintf(out, "Fitting %d folds for each of %lld candidates, %s %lld fits\n", cv->k,
                (long long)planned, halving ? "at the first rung" : "totalling",
                (long long)planned * cv->k);
        fflush(out);
    }
    return ag_study_optimize(s, ag_cv_objective, cv);
}

ag_module *ag_cv_refit(ag_cv *cv, const ag_trial *trial, ag_history **history)
{
    if (history) *history = NULL;
    if (!cv || !trial) {
        ag__error("ag_cv_refit: %s is NULL", !cv ? "cv" : "trial");
        return NULL;
    }
    cfg c;
    ag_trial tmp = *trial; /* the trial's values with its last budget (0 for plain searches) */
    tmp.budget = trial->nrung > 0 ? trial->rung_budget[trial->nrung - 1] : trial->budget;
    if (resolve(cv, &tmp, &c) < 0) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", ag_last_error());
        ag__error("ag_cv_refit: trial %d: %s", trial->number, msg);
        return NULL;
    }
    fold_model f;
    if (fold_make(cv, trial, &c, fold_seed(cv, cv->k, 0), &f) < 0) return NULL;
    ag_fit_opts fo = ag_fit_defaults();
    fo.epochs = c.epochs;
    fo.batch_size = strcmp(c.optimizer, "gd") == 0 ? ag_dataset_size(cv->all) : c.batch_size;
    fo.seed = fold_seed(cv, cv->k, 1);
    fo.verbose = AG_VERBOSE_SILENT;
    ag_history *h = ag_fit(f.t, cv->all, &fo);
    bool diverged = h && ag_history_diverged(h);
    if (!h || diverged) {
        if (diverged) {
            char msg[400];
            snprintf(msg, sizeof msg, "%s", ag_last_error());
            ag__error("ag_cv_refit: trial %d diverged on all the data: %s", trial->number, msg);
        }
        ag_history_free(h);
        fold_free(&f);
        return NULL;
    }
    ag_module *m = f.m;
    f.m = NULL;
    fold_free(&f);
    if (history)
        *history = h;
    else
        ag_history_free(h);
    return m;
}
