/* tune/strategy_asha.c - successive halving, two ways, around any sampler (grid or random):
 *
 *   halving: synchronous, rung by rung (scikit-learn's Halving*SearchCV, Jamieson & Talwalkar):
 *            all configurations run with the smallest budget, the best 1/eta run again from
 *            scratch with eta times more, ... up to max_budget. Each rung is one generation, so
 *            the fraction kept is exact and nothing depends on timing.
 *   asha:    asynchronous (Li et al. 2020) as a pruner inside each trial's single run: at a rung
 *            a trial goes on if it is in the top 1/eta of the values reported at that rung so
 *            far. "So far" is defined by trial number, not by the clock (the study waits for the
 *            smaller-numbered trials to reach the rung), so decisions are reproducible.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "tune_internal.h"

typedef struct halving {
    ag_strategy *sampler;
    int min_budget, max_budget, eta;
    int nrungs;
    int budget[40];     /* budget of each rung; the last is max_budget */
} halving;

static void halving_free(void *state)
{
    halving *h = state;
    if (!h) return;
    h->sampler->in_study = false; /* owned by this strategy, see make() */
    ag_strategy_free(h->sampler);
    free(h);
}

static int halving_bind(void *state, const ag_space *space)
{
    halving *h = state;
    const ag_strategy_class *c = h->sampler->cls;
    return c->bind ? c->bind(h->sampler->state, space) : 0;
}

static int64_t halving_size(void *state)
{
    halving *h = state;
    const ag_strategy_class *c = h->sampler->cls;
    return c->size ? c->size(h->sampler->state) : -1;
}

static int halving_sample(void *state, const ag_study *s, int trial, ag_rng *rng, double *values)
{
    halving *h = state;
    return h->sampler->cls->sample(h->sampler->state, s, trial, rng, values);
}

/* Has trial t finished its run at budget b (a score, or a failure during that run)? */
static bool done_at(const ag_trial *t, int b)
{
    return ag_trial_rung_score(t, b, NULL) || (t->state == AG_TRIAL_FAILED && t->budget == b);
}

/* A trial's score at a rung, for sorting (better first; ties: smaller number). */
typedef struct scored {
    double score;
    int trial;
    ag_direction d;
} scored;

static int cmp_scored(const void *a, const void *b)
{
    const scored *x = a, *y = b;
    if (ag__better(x->d, x->score, y->score)) return -1;
    if (ag__better(x->d, y->score, x->score)) return 1;
    return (x->trial > y->trial) - (x->trial < y->trial);
}

/* Keeps in members[] the best floor(nm / eta) (at least one) of those scored at budget b;
 * returns their count, or -1 when memory runs out. */
static int promote(const ag_study *s, int *members, int nm, int b, int eta)
{
    scored *v = malloc(sizeof *v * (size_t)nm);
    if (!v) {
        ag__error("ag_strategy_halving: out of memory");
        return -1;
    }
    int n = 0;
    for (int i = 0; i < nm; i++) {
        double x;
        if (ag_trial_rung_score(s->trials[members[i]], b, &x))
            v[n++] = (scored){x, members[i], s->opts.direction};
    }
    qsort(v, (size_t)n, sizeof *v, cmp_scored);
    int keep = nm / eta > 0 ? nm / eta : 1;
    if (keep > n) keep = n;
    for (int i = 0; i < keep; i++) members[i] = v[i].trial;
    free(v);
    return keep;
}

static int halving_next(void *state, const ag_study *s, ag_job *jobs, int cap)
{
    halving *h = state;
    int64_t n0 = halving_size(state);
    if (n0 < 1 || n0 > 10000000) {
        ag__error("ag_strategy_halving: the sampler '%s' plans %lld configurations (successive "
                  "halving needs a known count)", h->sampler->name, (long long)n0);
        return -1;
    }
    int *members = malloc(sizeof *members * (size_t)n0);
    if (!members) {
        ag__error("ag_strategy_halving: out of memory");
        return -1;
    }
    int nm = (int)n0, njobs = 0;
    for (int i = 0; i < nm; i++) members[i] = i;
    for (int k = 0; k < h->nrungs && njobs == 0 && nm > 0; k++) {
        int b = h->budget[k];
        for (int i = 0; i < nm && njobs < cap; i++)
            if (members[i] >= s->ntrials || !done_at(s->trials[members[i]], b))
                jobs[njobs++] = (ag_job){members[i], b, k == h->nrungs - 1};
        if (njobs > 0 || k == h->nrungs - 1) break;
        nm = promote(s, members, nm, b, h->eta); /* rung k is complete */
        if (nm < 0) njobs = -1;
    }
    free(members);
    return njobs;
}

/* ---- ASHA ---- */

static int asha_next(void *state, const ag_study *s, ag_job *jobs, int cap)
{
    halving *h = state;
    int64_t n = halving_size(state);
    if (n < 1) {
        ag__error("ag_strategy_asha: the sampler '%s' plans no known number of configurations",
                  h->sampler->name);
        return -1;
    }
    return ag__next_independent(s, n, h->max_budget, jobs, cap);
}

static bool asha_is_rung(void *state, int step)
{
    halving *h = state;
    for (int k = 0; k < h->nrungs - 1; k++)
        if (h->budget[k] == step) return true;
    return false;
}

/* The value trial t reported at exactly `step`, if any. */
static bool value_at(const ag_trial *t, int step, double *v)
{
    for (int i = 0; i < t->nrep; i++)
        if (t->rep_step[i] == step) {
            *v = t->rep_value[i];
            return true;
        }
    return false;
}

static bool asha_prune(void *state, const ag_study *s, int trial, int step, double value)
{
    halving *h = state;
    int count = 1, ahead = 0; /* values at this rung; of them, at least as good as `value` */
    for (int m = 0; m < trial && m < s->ntrials; m++) {
        double v;
        if (!value_at(s->trials[m], step, &v) || !isfinite(v)) continue;
        count++;
        if (!ag__better(s->opts.direction, value, v)) ahead++; /* ties go to the smaller number */
    }
    int keep = count / h->eta > 0 ? count / h->eta : 1;
    return ahead >= keep;
}

static const ag_strategy_class halving_class = {
    .name = "halving",
    .bind = halving_bind,
    .size = halving_size,
    .next = halving_next,
    .sample = halving_sample,
    .free_state = halving_free,
};

static const ag_strategy_class asha_class = {
    .name = "asha",
    .bind = halving_bind,
    .size = halving_size,
    .next = asha_next,
    .sample = halving_sample,
    .is_rung = asha_is_rung,
    .prune = asha_prune,
    .free_state = halving_free,
};

static ag_strategy *make(const char *fn, const ag_strategy_class *cls, ag_strategy *sampler,
                         int min_budget, int max_budget, int eta)
{
    const char *bad = !sampler ? "sampler is NULL"
                    : sampler->in_study ? "the sampler already belongs to a study or strategy"
                    : sampler->cls == &halving_class || sampler->cls == &asha_class
                        ? "the sampler is itself a halving strategy"
                    : !(min_budget >= 1 && min_budget < max_budget) ? "need 1 <= min_budget < max_budget"
                    : eta < 2 ? "need eta >= 2" : NULL;
    if (bad) {
        ag__error("%s: %s (min_budget %d, max_budget %d, eta %d)", fn, bad, min_budget, max_budget,
                  eta);
        if (sampler && !sampler->in_study) ag_strategy_free(sampler);
        return NULL;
    }
    halving *h = calloc(1, sizeof *h);
    if (!h) {
        ag__error("%s: out of memory", fn);
        ag_strategy_free(sampler);
        return NULL;
    }
    h->sampler = sampler;
    sampler->in_study = true; /* so that nobody else frees or wraps it */
    h->min_budget = min_budget;
    h->max_budget = max_budget;
    h->eta = eta;
    for (double b = min_budget; h->nrungs < 40; b *= eta) {
        h->budget[h->nrungs++] = b < max_budget ? (int)b : max_budget;
        if (b >= max_budget) break;
    }
    ag_strategy *s = ag_strategy_new(cls, h);
    if (s) snprintf(s->name, sizeof s->name, "%s(%.60s)", cls->name, sampler->name);
    return s;
}

ag_strategy *ag_strategy_halving(ag_strategy *sampler, int min_budget, int max_budget, int eta)
{
    return make("ag_strategy_halving", &halving_class, sampler, min_budget, max_budget, eta);
}

ag_strategy *ag_strategy_asha(ag_strategy *sampler, int min_budget, int max_budget, int eta)
{
    return make("ag_strategy_asha", &asha_class, sampler, min_budget, max_budget, eta);
}
