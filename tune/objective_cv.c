/* tune/objective_cv.c - the built-in objective: k-fold cross-validation of a Sequential model
 * (in -> Dense + activation [+ dropout] x layers -> Dense out) whose settings come from the
 * trial's hyperparameters by name (cv_model.c turns them into models). The k models train in
 * lockstep, epoch by epoch, so the mean validation score can be reported after every epoch and a
 * pruner can stop the trial early. Also making the CV (folds) and the refit of a chosen
 * configuration on all the data. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "tune_internal.h"

ag_cv_opts ag_cv_defaults(void)
{
    return (ag_cv_opts){.folds = 5, .stratify = true, .shuffle = true, .score = AG_SCORE_VAL_LOSS,
                        .layers = 1, .hidden = 32, .activation = "relu", .optimizer = "adam",
                        .lr = 1e-3, .momentum = 0.9, .weight_decay = -1, .batch_size = 32,
                        .epochs = 5};
}

/* Trains fold model f for epochs [from, to) on `data`; 1 when it diverged, -1 on error. */
static int train(const ag__cv_cfg *c, ag__cv_fold *f, const ag_dataset *data, uint64_t seed,
                 int from, int to)
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
    ag__cv_cfg c;
    if (ag__cv_resolve(cv, t, &c) < 0) return AG_OBJECTIVE_FAILED;
    ag__cv_fold *fm = calloc((size_t)cv->k, sizeof *fm);
    double *fs = calloc((size_t)cv->k, sizeof *fs);
    int rc = fm && fs ? AG_OBJECTIVE_OK : AG_OBJECTIVE_FAILED, made = 0;
    if (!fm || !fs) ag__error("ag_cv_objective: out of memory");
    for (; rc == AG_OBJECTIVE_OK && made < cv->k; made++)
        if (ag__cv_fold_make(cv, t, &c, fold_seed(cv, made, 0), &fm[made]) < 0)
            rc = AG_OBJECTIVE_FAILED;
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
    for (int f = 0; fm && f < made; f++) ag__cv_fold_free(&fm[f]);
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
    ag__cv_cfg c = {.layers = o.layers, .hidden = o.hidden, .dropout = o.dropout, .lr = o.lr,
             .momentum = o.momentum, .weight_decay = o.weight_decay, .batch_size = o.batch_size,
             .epochs = o.epochs};
    snprintf(c.optimizer, sizeof c.optimizer, "%s", o.optimizer);
    if (ag__cv_check_cfg("ag_cv_new", &c) < 0) return NULL;
    if (!ag__cv_known_activation(o.activation)) {
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
        if (!ag__cv_known_param(s->space->p[i].name)) {
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
    ag__cv_cfg c;
    ag_trial tmp = *trial; /* the trial's values with its last budget (0 for plain searches) */
    tmp.budget = trial->nrung > 0 ? trial->rung_budget[trial->nrung - 1] : trial->budget;
    if (ag__cv_resolve(cv, &tmp, &c) < 0) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", ag_last_error());
        ag__error("ag_cv_refit: trial %d: %s", trial->number, msg);
        return NULL;
    }
    ag__cv_fold f;
    if (ag__cv_fold_make(cv, trial, &c, fold_seed(cv, cv->k, 0), &f) < 0) return NULL;
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
        ag__cv_fold_free(&f);
        return NULL;
    }
    ag_module *m = f.m;
    f.m = NULL;
    ag__cv_fold_free(&f);
    if (history)
        *history = h;
    else
        ag_history_free(h);
    return m;
}
