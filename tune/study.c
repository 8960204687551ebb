/* tune/study.c - a study: the trials of one search and the loop that runs them. The strategy
 * proposes a generation of jobs; the jobs run concurrently on OpenMP threads (one trial per
 * thread, handed out in trial-number order, each trial's ops single-threaded); results go into
 * the trials under the study's lock. Nothing here depends on which thread ran a trial or when. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "tune_internal.h"

#define MAX_JOBS 4096 /* per generation; the rest comes in the next one */

double ag__tune_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static uint64_t splitmix(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

uint64_t ag__mix(uint64_t a, uint64_t b) { return splitmix(a ^ splitmix(b)); }
uint64_t ag__trial_sample_seed(uint64_t seed, int n) { return ag__mix(seed, 2 * (uint64_t)n); }
uint64_t ag__trial_seed(uint64_t seed, int n) { return ag__mix(seed, 2 * (uint64_t)n + 1); }

bool ag__better(ag_direction d, double a, double b)
{
    if (isnan(a)) return false;
    if (isnan(b)) return true;
    return d == AG_MAXIMIZE ? a > b : a < b;
}

ag_study_opts ag_study_defaults(void) { return (ag_study_opts){.direction = AG_MINIMIZE}; }

ag_study *ag_study_new(const ag_space *space, ag_strategy *strategy, const ag_study_opts *opts)
{
    ag_study_opts o = opts ? *opts : ag_study_defaults();
    const char *bad = !space ? "space is NULL" : !strategy ? "strategy is NULL"
                    : space->n == 0 ? "the space has no hyperparameter"
                    : strategy->in_study ? "the strategy already belongs to a study" : NULL;
    if (!bad && o.n_jobs < 0) bad = "n_jobs is negative";
    if (!bad && o.direction != AG_MINIMIZE && o.direction != AG_MAXIMIZE) bad = "unknown direction";
    if (bad) {
        ag__error("ag_study_new: %s (n_jobs %d, direction %d)", bad, o.n_jobs, (int)o.direction);
        if (strategy && !strategy->in_study) ag_strategy_free(strategy);
        return NULL;
    }
    ag_study *s = calloc(1, sizeof *s);
    if (!s) {
        ag__error("ag_study_new: out of memory");
        ag_strategy_free(strategy);
        return NULL;
    }
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->changed, NULL);
    s->strategy = strategy;
    strategy->in_study = true;
    s->opts = o;
    s->space = ag__space_clone(space);
    if (s->space && o.csv_path) {
        s->csv_path = strdup(o.csv_path);
        if (!s->csv_path) ag__error("ag_study_new: out of memory");
    }
    s->opts.csv_path = s->csv_path;
    if (!s->space || (o.csv_path && !s->csv_path)) {
        ag_study_free(s);
        return NULL;
    }
    if (strategy->cls->bind && strategy->cls->bind(strategy->state, s->space) < 0) {
        ag_study_free(s);
        return NULL;
    }
    return s;
}

void ag_study_free(ag_study *s)
{
    if (!s) return;
    for (int i = 0; i < s->ntrials; i++) ag__trial_free(s->trials[i]);
    free(s->trials);
    if (s->strategy) {
        s->strategy->in_study = false;
        ag_strategy_free(s->strategy);
    }
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->changed);
    ag_space_free(s->space);
    free(s->csv_path);
    free(s);
}

int ag__study_ensure(ag_study *s, int n)
{
    if (n <= s->ntrials) return 0;
    if (n > s->cap) {
        int nc = s->cap ? s->cap : 16;
        while (nc < n) nc *= 2;
        ag_trial **nt = realloc(s->trials, sizeof *nt * (size_t)nc);
        if (!nt) {
            ag__error("ag_study_optimize: out of memory for %d trials", n);
            return -1;
        }
        s->trials = nt;
        s->cap = nc;
    }
    while (s->ntrials < n) {
        int k = s->ntrials;
        double v[AG__TUNE_MAX_PARAMS];
        ag_rng rng = ag_rng_seed(ag__trial_sample_seed(s->opts.seed, k));
        if (s->strategy->cls->sample(s->strategy->state, s, k, &rng, v) < 0) return -1;
        ag_trial *t = ag__trial_new(s, k, v);
        if (!t) return -1;
        s->trials[s->ntrials++] = t;
    }
    return 0;
}

/* What the runs of one optimize call add up to. */
typedef struct run_stats {
    int runs, failed, csv_failed;
    char first_error[400];
    char csv_error[400];
} run_stats;

/* Runs the objective once for trial t and records the outcome under the lock. The trial runs in
 * a scope of its own with grad mode on, whatever the calling thread's state, so every thread
 * gives it the same environment. */
static void run_job(ag_study *s, ag_trial *t, ag_objective_fn fn, void *ctx, run_stats *st)
{
    ag_clear_error();
    double t0 = ag__tune_now(), score = NAN;
    bool grad_was = ag_set_grad_enabled(true);
    ag_scope *scope = ag_scope_begin();
    int rc = fn(t, ctx, &score);
    char msg[sizeof t->message] = "";
    if (rc == AG_OBJECTIVE_FAILED)
        snprintf(msg, sizeof msg, "%s",
                 ag_has_error() ? ag_last_error() : "the objective failed without a message");
    ag_scope_end(scope);
    ag_set_grad_enabled(grad_was);
    double dt = ag__tune_now() - t0;
    ag_trial_state state = AG_TRIAL_FAILED;
    if (rc == AG_OBJECTIVE_OK && isfinite(score)) {
        state = AG_TRIAL_COMPLETE;
    } else if (rc == AG_OBJECTIVE_OK) {
        snprintf(msg, sizeof msg, "the objective returned a score of %g", score);
    } else if (rc == AG_OBJECTIVE_PRUNED) {
        state = AG_TRIAL_PRUNED;
        if (!isfinite(score)) score = t->nrep ? t->rep_value[t->nrep - 1] : NAN;
    } else if (rc != AG_OBJECTIVE_FAILED) {
        snprintf(msg, sizeof msg, "the objective returned %d (expected AG_OBJECTIVE_OK, "
                 "AG_OBJECTIVE_PRUNED or AG_OBJECTIVE_FAILED)", rc);
    }
    pthread_mutex_lock(&s->lock);
    t->seconds += dt;
    t->score = state == AG_TRIAL_FAILED ? NAN : score;
    if (state == AG_TRIAL_COMPLETE && t->budget > 0 &&
        ag__trial_add_rung(t, t->budget, score) < 0) {
        state = AG_TRIAL_FAILED;
        snprintf(msg, sizeof msg, "%s", ag_last_error());
    }
    if (state == AG_TRIAL_COMPLETE && !t->final_run) state = AG_TRIAL_PRUNED;
    for (char *c = msg; *c; c++)
        if (*c == '\n' || *c == '\r') *c = ' '; /* one line in the CSV */
    snprintf(t->message, sizeof t->message, "%s", msg);
    t->state = state;
    s->calls++;
    st->runs++;
    if (state == AG_TRIAL_FAILED && st->failed++ == 0)
        snprintf(st->first_error, sizeof st->first_error, "trial %d: %s", t->number, msg);
    ag__report_trial(s, t);
    if (s->csv_path && ag__write_csv(s, s->csv_path) < 0 && st->csv_failed++ == 0)
        snprintf(st->csv_error, sizeof st->csv_error, "%s", ag_last_error());
    pthread_cond_broadcast(&s->changed);
    pthread_mutex_unlock(&s->lock);
    ag_clear_error();
}

static int cmp_jobs(const void *a, const void *b)
{
    const ag_job *x = a, *y = b;
    return (x->trial > y->trial) - (x->trial < y->trial);
}

/* Checks a generation and creates its new trials. */
static int prepare(ag_study *s, ag_job *jobs, int n)
{
    qsort(jobs, (size_t)n, sizeof *jobs, cmp_jobs);
    for (int j = 0; j < n; j++) {
        const ag_job *b = &jobs[j];
        const char *bad = b->trial < 0 ? "a negative trial number"
                        : b->trial >= 10000000 ? "a trial number above 10,000,000"
                        : b->budget < 0 ? "a negative budget"
                        : j > 0 && b->trial == jobs[j - 1].trial ? "the same trial twice"
                        : NULL;
        if (bad) {
            ag__error("ag_study_optimize: strategy '%s' proposed %s (trial %d, budget %d)",
                      s->strategy->name, bad, b->trial, b->budget);
            return -1;
        }
    }
    if (ag__study_ensure(s, jobs[n - 1].trial + 1) < 0) return -1;
    for (int j = 0; j < n; j++) {
        ag_trial *t = s->trials[jobs[j].trial];
        ag__trial_reset_run(t);
        t->budget = jobs[j].budget;
        t->final_run = jobs[j].final;
        t->state = AG_TRIAL_RUNNING;
    }
    return 0;
}

static int threads_for(const ag_study *s, int jobs)
{
    int n = s->opts.n_jobs;
#ifdef _OPENMP
    if (n == 0) n = omp_get_max_threads();
#else
    n = 1;
#endif
    return n < 1 ? 1 : n > jobs ? jobs : n;
}

static void run_generation(ag_study *s, const ag_job *jobs, int n, ag_objective_fn fn,
                           void *ctx, run_stats *st)
{
    int nth = threads_for(s, n);
    (void)nth;
    int next = 0;
#ifdef _OPENMP
#pragma omp parallel num_threads(nth)
    {
        omp_set_num_threads(1); /* this thread's trial runs its ops on this thread only */
        for (;;) {
            int j;
#pragma omp atomic capture
            j = next++;
            if (j >= n) break;
            run_job(s, s->trials[jobs[j].trial], fn, ctx, st);
        }
    }
#else
    for (next = 0; next < n; next++) run_job(s, s->trials[jobs[next].trial], fn, ctx, st);
#endif
}

int ag_study_optimize(ag_study *s, ag_objective_fn fn, void *ctx)
{
    if (!s || !fn) {
        ag__error("ag_study_optimize: %s is NULL", !s ? "study" : "objective");
        return -1;
    }
    ag_job *jobs = malloc(sizeof *jobs * MAX_JOBS);
    if (!jobs) {
        ag__error("ag_study_optimize: out of memory");
        return -1;
    }
    s->ran = true;
    run_stats st = {0};
    int rc = 0;
    const ag_strategy_class *cls = s->strategy->cls;
    for (;;) {
        int n = cls->next(s->strategy->state, s, jobs, MAX_JOBS);
        if (n == 0) break;
        if (n < 0 || n > MAX_JOBS) {
            if (n > 0)
                ag__error("ag_study_optimize: strategy '%s' proposed %d jobs (at most %d)",
                          s->strategy->name, n, MAX_JOBS);
            else if (!ag_has_error())
                ag__error("ag_study_optimize: strategy '%s' failed", s->strategy->name);
            rc = -1;
            break;
        }
        if (prepare(s, jobs, n) < 0) {
            rc = -1;
            break;
        }
        run_generation(s, jobs, n, fn, ctx, &st);
    }
    free(jobs);
    if (rc < 0) return -1;
    if (st.csv_failed) {
        ag__error("ag_study_optimize: could not write the CSV: %s", st.csv_error);
        return -1;
    }
    if (st.runs > 0 && st.failed == st.runs) {
        ag__error("ag_study_optimize: all %d runs failed; first: %s", st.runs, st.first_error);
        return -1;
    }
    return 0;
}

int ag_study_num_trials(const ag_study *s)
{
    if (!s) {
        ag__error("ag_study_num_trials: study is NULL");
        return -1;
    }
    return s->ntrials;
}

const ag_trial *ag_study_trial(const ag_study *s, int i)
{
    if (!s || i < 0 || i >= s->ntrials) {
        if (!s)
            ag__error("ag_study_trial: study is NULL");
        else
            ag__error("ag_study_trial: trial %d out of range (%d trials)", i, s->ntrials);
        return NULL;
    }
    return s->trials[i];
}

const ag_trial *ag__study_best(const ag_study *s)
{
    const ag_trial *best = NULL;
    for (int i = 0; i < s->ntrials; i++) {
        const ag_trial *t = s->trials[i];
        if (t->state == AG_TRIAL_COMPLETE &&
            (!best || ag__better(s->opts.direction, t->score, best->score)))
            best = t;
    }
    return best;
}

const ag_trial *ag_study_best(const ag_study *s)
{
    if (!s) {
        ag__error("ag_study_best: study is NULL");
        return NULL;
    }
    return ag__study_best(s);
}

int ag_study_count(const ag_study *s, ag_trial_state state)
{
    if (!s) {
        ag__error("ag_study_count: study is NULL");
        return -1;
    }
    int n = 0;
    for (int i = 0; i < s->ntrials; i++) n += s->trials[i]->state == state;
    return n;
}

int64_t ag_study_objective_calls(const ag_study *s)
{
    if (!s) {
        ag__error("ag_study_objective_calls: study is NULL");
        return -1;
    }
    return s->calls;
}

ag_direction ag_study_direction(const ag_study *s)
{
    if (!s) ag__error("ag_study_direction: study is NULL");
    return s ? s->opts.direction : AG_MINIMIZE;
}

const ag_space *ag_study_space(const ag_study *s)
{
    if (!s) ag__error("ag_study_space: study is NULL");
    return s ? s->space : NULL;
}

const ag_strategy *ag_study_strategy(const ag_study *s)
{
    if (!s) ag__error("ag_study_strategy: study is NULL");
    return s ? s->strategy : NULL;
}

int64_t ag_study_planned(const ag_study *s)
{
    if (!s) {
        ag__error("ag_study_planned: study is NULL");
        return -1;
    }
    const ag_strategy_class *c = s->strategy->cls;
    return c->size ? c->size(s->strategy->state) : -1;
}
