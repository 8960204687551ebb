/* tune/trial.c - a trial: its hyperparameter values read by name, the intermediate values it
 * reports, the pruning question it asks (deterministic under ASHA: it waits for the trials with
 * smaller numbers to reach the rung), and the results the study keeps. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "tune_internal.h"

ag_trial *ag__trial_new(ag_study *s, int number, const double *values)
{
    ag_trial *t = calloc(1, sizeof *t);
    if (!t) {
        ag__error("ag_study_optimize: out of memory for trial %d", number);
        return NULL;
    }
    t->study = s;
    t->number = number;
    t->state = AG_TRIAL_PENDING;
    if (values) memcpy(t->values, values, sizeof(double) * (size_t)s->space->n);
    t->seed = ag__trial_seed(s->opts.seed, number);
    t->score = NAN;
    t->std = NAN;
    return t;
}

void ag__trial_free(ag_trial *t)
{
    if (!t) return;
    free(t->folds);
    free(t->rep_step);
    free(t->rep_value);
    free(t->rung_budget);
    free(t->rung_score);
    free(t);
}

void ag__trial_reset_run(ag_trial *t)
{
    t->nrep = 0;
    t->nfolds = 0;
    t->std = NAN;
    t->message[0] = '\0';
}

/* Grows a pair of parallel arrays to hold one more entry. */
static int grow(int n, int *cap, int **a, double **b)
{
    if (n < *cap) return 0;
    int nc = *cap ? 2 * *cap : 8;
    int *na = realloc(*a, sizeof *na * (size_t)nc);
    if (na) *a = na;
    double *nb = na ? realloc(*b, sizeof *nb * (size_t)nc) : NULL;
    if (!nb) return -1;
    *b = nb;
    *cap = nc;
    return 0;
}

int ag__trial_add_rung(ag_trial *t, int budget, double score)
{
    if (grow(t->nrung, &t->caprung, &t->rung_budget, &t->rung_score) < 0) {
        ag__error("ag_study_optimize: out of memory");
        return -1;
    }
    t->rung_budget[t->nrung] = budget;
    t->rung_score[t->nrung++] = score;
    return 0;
}

int ag__trial_add_report(ag_trial *t, int step, double value)
{
    if (grow(t->nrep, &t->caprep, &t->rep_step, &t->rep_value) < 0) {
        ag__error("ag_trial_report: out of memory");
        return -1;
    }
    t->rep_step[t->nrep] = step;
    t->rep_value[t->nrep++] = value;
    return 0;
}

const char *ag_trial_state_name(ag_trial_state s)
{
    switch (s) {
    case AG_TRIAL_PENDING: return "pending";
    case AG_TRIAL_RUNNING: return "running";
    case AG_TRIAL_COMPLETE: return "complete";
    case AG_TRIAL_PRUNED: return "pruned";
    case AG_TRIAL_FAILED: return "failed";
    }
    return "unknown";
}

int ag_trial_number(const ag_trial *t)
{
    if (!t) {
        ag__error("ag_trial_number: trial is NULL");
        return -1;
    }
    return t->number;
}

uint64_t ag_trial_seed(const ag_trial *t)
{
    if (!t) {
        ag__error("ag_trial_seed: trial is NULL");
        return 0;
    }
    return t->seed;
}

int ag_trial_budget(const ag_trial *t)
{
    if (!t) {
        ag__error("ag_trial_budget: trial is NULL");
        return -1;
    }
    return t->budget;
}

/* Index of `name` in the trial's space, or -1 with an error naming fn. */
static int lookup(const ag_trial *t, const char *name, const char *fn)
{
    if (!t || !name) {
        ag__error("%s: %s is NULL", fn, !t ? "trial" : "name");
        return -1;
    }
    int i = ag_space_find(t->study->space, name);
    if (i < 0) ag__error("%s: no hyperparameter '%.80s' in the space", fn, name);
    return i;
}

double ag_trial_float(const ag_trial *t, const char *name)
{
    int i = lookup(t, name, "ag_trial_float");
    if (i < 0) return NAN;
    if (t->study->space->p[i].kind == AG_PARAM_CHOICE) {
        ag__error("ag_trial_float: '%s' is a choice (read it with ag_trial_choice)", name);
        return NAN;
    }
    return t->values[i];
}

int64_t ag_trial_int(const ag_trial *t, const char *name)
{
    int i = lookup(t, name, "ag_trial_int");
    if (i < 0) return 0;
    const ag__param *p = &t->study->space->p[i];
    double v = t->values[i];
    if (p->kind == AG_PARAM_CHOICE || v != floor(v) || fabs(v) >= 9007199254740992.0) {
        ag__error("ag_trial_int: '%s' is %s", name,
                  p->kind == AG_PARAM_CHOICE ? "a choice (read it with ag_trial_choice)"
                                             : "not a whole number");
        return 0;
    }
    return (int64_t)v;
}

const char *ag_trial_choice(const ag_trial *t, const char *name)
{
    int i = lookup(t, name, "ag_trial_choice");
    if (i < 0) return NULL;
    const ag__param *p = &t->study->space->p[i];
    if (p->kind != AG_PARAM_CHOICE) {
        ag__error("ag_trial_choice: '%s' is numeric (read it with ag_trial_float or ag_trial_int)",
                  name);
        return NULL;
    }
    return p->choices[(int)t->values[i]];
}

bool ag_trial_has(const ag_trial *t, const char *name)
{
    return t && ag_space_find(t->study->space, name) >= 0;
}

const char *ag_trial_format_values(const ag_trial *t, char *buf, size_t size)
{
    if (!buf || size == 0) return buf;
    buf[0] = '\0';
    if (!t) return buf;
    const ag_space *s = t->study->space;
    size_t used = 0;
    for (int i = 0; i < s->n && used < size; i++) {
        char v[80];
        ag__space_format(s, i, t->values[i], v, sizeof v, false);
        int w = snprintf(buf + used, size - used, "%s%s=%s", i ? " " : "", s->p[i].name, v);
        if (w < 0) break;
        used += (size_t)w;
    }
    return buf;
}

static bool running(const ag_trial *t, const char *fn)
{
    if (!t) {
        ag__error("%s: trial is NULL", fn);
        return false;
    }
    if (t->state != AG_TRIAL_RUNNING) {
        ag__error("%s: trial %d is %s, not running", fn, t->number, ag_trial_state_name(t->state));
        return false;
    }
    return true;
}

int ag_trial_report(ag_trial *t, int step, double value)
{
    if (!running(t, "ag_trial_report")) return -1;
    if (!isfinite(value)) {
        ag__error("ag_trial_report: trial %d, step %d: value %g is not finite (fail the trial "
                  "instead)", t->number, step, value);
        return -1;
    }
    if (step < 0 || (t->nrep > 0 && step <= t->rep_step[t->nrep - 1])) {
        ag__error("ag_trial_report: trial %d: step %d must be >= 0 and above the last (%d)",
                  t->number, step, t->nrep ? t->rep_step[t->nrep - 1] : -1);
        return -1;
    }
    ag_study *s = t->study;
    pthread_mutex_lock(&s->lock);
    int rc = ag__trial_add_report(t, step, value);
    pthread_cond_broadcast(&s->changed);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

/* True when every running trial numbered below n has reported a step >= step (finished, pending
 * and failed ones never report again, so they do not hold the decision up). */
static bool lower_ready(const ag_study *s, int n, int step)
{
    for (int m = 0; m < n && m < s->ntrials; m++) {
        const ag_trial *o = s->trials[m];
        if (o->state == AG_TRIAL_RUNNING && (o->nrep == 0 || o->rep_step[o->nrep - 1] < step))
            return false;
    }
    return true;
}

bool ag_trial_should_prune(ag_trial *t)
{
    if (!running(t, "ag_trial_should_prune")) return false;
    ag_study *s = t->study;
    const ag_strategy_class *cls = s->strategy->cls;
    if (!cls->prune || !cls->is_rung || t->nrep == 0) return false;
    int step = t->rep_step[t->nrep - 1];
    double value = t->rep_value[t->nrep - 1];
    if (!cls->is_rung(s->strategy->state, step)) return false;
    pthread_mutex_lock(&s->lock);
    while (!lower_ready(s, t->number, step)) pthread_cond_wait(&s->changed, &s->lock);
    bool prune = cls->prune(s->strategy->state, s, t->number, step, value);
    pthread_mutex_unlock(&s->lock);
    return prune;
}

int ag_trial_set_folds(ag_trial *t, int n, const double *scores)
{
    if (!running(t, "ag_trial_set_folds")) return -1;
    if (n < 1 || !scores) {
        ag__error("ag_trial_set_folds: need n >= 1 scores (got n %d, scores %s)", n,
                  scores ? "given" : "NULL");
        return -1;
    }
    double mean = 0;
    for (int i = 0; i < n; i++) {
        if (!isfinite(scores[i])) {
            ag__error("ag_trial_set_folds: trial %d: fold %d score %g is not finite", t->number, i,
                      scores[i]);
            return -1;
        }
        mean += scores[i] / n;
    }
    double *f = realloc(t->folds, sizeof *f * (size_t)n);
    if (!f) {
        ag__error("ag_trial_set_folds: out of memory");
        return -1;
    }
    memcpy(f, scores, sizeof *f * (size_t)n);
    double var = 0;
    for (int i = 0; i < n; i++) var += (f[i] - mean) * (f[i] - mean) / n;
    t->folds = f;
    t->nfolds = n;
    t->std = sqrt(var);
    return 0;
}

#define GETTER(type, fn, expr, bad)                     \
    type fn(const ag_trial *t)                          \
    {                                                   \
        if (!t) {                                       \
            ag__error(#fn ": trial is NULL");           \
            return bad;                                 \
        }                                               \
        return expr;                                    \
    }
GETTER(ag_trial_state, ag_trial_state_of, t->state, AG_TRIAL_FAILED)
GETTER(double, ag_trial_score, t->score, NAN)
GETTER(double, ag_trial_std, t->std, NAN)
GETTER(double, ag_trial_seconds, t->seconds, NAN)
GETTER(int, ag_trial_num_folds, t->nfolds, -1)
GETTER(const char *, ag_trial_message, t->message, NULL)
GETTER(int, ag_trial_num_reports, t->nrep, -1)
GETTER(int, ag_trial_num_rungs, t->nrung, -1)

double ag_trial_fold(const ag_trial *t, int i)
{
    if (!t || i < 0 || i >= t->nfolds) {
        ag__error("ag_trial_fold: %s", !t ? "trial is NULL" : "fold index out of range");
        return NAN;
    }
    return t->folds[i];
}

int ag_trial_report_at(const ag_trial *t, int i, int *step, double *value)
{
    if (!t || i < 0 || i >= t->nrep) {
        ag__error("ag_trial_report_at: %s", !t ? "trial is NULL" : "report index out of range");
        return -1;
    }
    if (step) *step = t->rep_step[i];
    if (value) *value = t->rep_value[i];
    return 0;
}

int ag_trial_rung_at(const ag_trial *t, int i, int *budget, double *score)
{
    if (!t || i < 0 || i >= t->nrung) {
        ag__error("ag_trial_rung_at: %s", !t ? "trial is NULL" : "rung index out of range");
        return -1;
    }
    if (budget) *budget = t->rung_budget[i];
    if (score) *score = t->rung_score[i];
    return 0;
}

bool ag_trial_rung_score(const ag_trial *t, int budget, double *score)
{
    if (!t) return false;
    for (int i = t->nrung - 1; i >= 0; i--)
        if (t->rung_budget[i] == budget) {
            if (score) *score = t->rung_score[i];
            return true;
        }
    return false;
}
