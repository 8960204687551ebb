/* tune/strategy.c - the strategy interface shared by grid, random, successive halving and ASHA
 * (and whatever sampler comes next): making and freeing a strategy, and the generation of a
 * strategy whose trials are independent of each other. */
#include <stdio.h>
#include <stdlib.h>

#include "tune_internal.h"

ag_strategy *ag_strategy_new(const ag_strategy_class *cls, void *state)
{
    if (!cls || !cls->next || !cls->sample || !cls->name) {
        ag__error("ag_strategy_new: %s", !cls ? "class is NULL"
                                     : !cls->name ? "the class has no name"
                                                  : "the class needs next and sample functions");
        if (cls && cls->free_state) cls->free_state(state);
        return NULL;
    }
    ag_strategy *s = calloc(1, sizeof *s);
    if (!s) {
        ag__error("ag_strategy_new: out of memory");
        if (cls->free_state) cls->free_state(state);
        return NULL;
    }
    s->cls = cls;
    s->state = state;
    snprintf(s->name, sizeof s->name, "%s", cls->name);
    return s;
}

void ag_strategy_free(ag_strategy *s)
{
    if (!s) return;
    if (s->in_study) {
        ag__error("ag_strategy_free: the strategy belongs to a study (free the study instead)");
        return;
    }
    if (s->cls->free_state) s->cls->free_state(s->state);
    free(s);
}

const char *ag_strategy_name(const ag_strategy *s)
{
    if (!s) {
        ag__error("ag_strategy_name: strategy is NULL");
        return NULL;
    }
    return s->name;
}

bool ag__finished(const ag_trial *t)
{
    return t->state == AG_TRIAL_COMPLETE || t->state == AG_TRIAL_PRUNED ||
           t->state == AG_TRIAL_FAILED;
}

int ag__next_independent(const ag_study *s, int64_t total, int budget, ag_job *jobs, int cap)
{
    int n = 0;
    for (int64_t i = 0; i < total && n < cap; i++)
        if (i >= s->ntrials || !ag__finished(s->trials[i]))
            jobs[n++] = (ag_job){.trial = (int)i, .budget = budget, .final = true};
    return n;
}
