/* tune/tune_internal.h - what the tune/ files share: the structs behind spaces, trials, studies
 * and strategies, and small helpers (seed mixing, growing arrays). Not installed. */
#ifndef AG_TUNE_INTERNAL_H
#define AG_TUNE_INTERNAL_H

#include <pthread.h>

#include "../autograd/internal.h"
#include "autograd/tune.h"

#define AG__TUNE_MAX_PARAMS 32
#define AG__TUNE_NAME 64

typedef struct ag__param {
    char name[AG__TUNE_NAME];
    ag_param_kind kind;
    double lo, hi;        /* ranges */
    bool log;
    int grid_points;      /* 0: the default (5 for float, every value for int) */
    int n;                /* listed values or choices (0 for a range) */
    double *values;       /* listed numbers */
    char **choices;       /* choice strings */
} ag__param;

struct ag_space {
    int n;
    ag__param p[AG__TUNE_MAX_PARAMS];
};

/* Deep copy (NULL and an error when memory runs out). */
ag_space *ag__space_clone(const ag_space *s);
/* Draws one value per hyperparameter from rng, in space order (choice: the index). */
void ag__space_sample(const ag_space *s, ag_rng *rng, double *values);
/* The grid values of hyperparameter i: *n values in a new array (free it), or NULL and an error. */
double *ag__space_grid_values(const ag_space *s, int i, int *n);
/* Writes value v of hyperparameter i as text (%.17g, or the choice string). */
void ag__space_format(const ag_space *s, int i, double v, char *buf, size_t size, bool exact);
/* Parses the text of hyperparameter i into *v (0, or -1 with no error recorded). */
int ag__space_parse(const ag_space *s, int i, const char *text, double *v);

struct ag_strategy {
    const ag_strategy_class *cls;
    void *state;
    bool in_study;
    char name[96];
};

struct ag_trial {
    ag_study *study;
    int number;
    ag_trial_state state;
    double values[AG__TUNE_MAX_PARAMS];
    uint64_t seed;
    int budget;
    bool final_run;          /* the current job completes the trial */
    double score, std, seconds;
    int nfolds;
    double *folds;
    int nrep, caprep;        /* reports of the last run */
    int *rep_step;
    double *rep_value;
    int nrung, caprung;      /* (budget, score) of each run */
    int *rung_budget;
    double *rung_score;
    char message[256];
};

struct ag_study {
    ag_space *space;
    ag_strategy *strategy;
    ag_study_opts opts;
    char *csv_path;
    ag_trial **trials;
    int ntrials, cap;
    int64_t calls;
    bool ran;                /* optimize has run (load_csv then refuses) */
    pthread_mutex_t lock;    /* guards reports, states and output while trials run */
    pthread_cond_t changed;  /* a trial reported or finished */
};

/* strategy.c: jobs for every trial in [0, total) that has not finished (budget, final as given),
 * up to cap: the generation of a strategy whose trials do not depend on each other. */
int ag__next_independent(const ag_study *s, int64_t total, int budget, ag_job *jobs, int cap);
/* True when trial `t` has finished (complete, pruned or failed). */
bool ag__finished(const ag_trial *t);

/* A trial struct for number `number` with the given values (state pending). */
ag_trial *ag__trial_new(ag_study *s, int number, const double *values);
void ag__trial_free(ag_trial *t);
/* Clears the per-run results before a new run (reports, folds). */
void ag__trial_reset_run(ag_trial *t);
int ag__trial_add_rung(ag_trial *t, int budget, double score);
int ag__trial_add_report(ag_trial *t, int step, double value);
/* Makes sure trials 0..n-1 exist (new ones pending, values from the strategy). 0 or -1. */
int ag__study_ensure(ag_study *s, int n);
/* The study's seed for trial n's sampling generator and for its objective. */
uint64_t ag__trial_sample_seed(uint64_t study_seed, int n);
uint64_t ag__trial_seed(uint64_t study_seed, int n);
/* splitmix64 of a ^ splitmix64(b): a seed mixing two numbers. */
uint64_t ag__mix(uint64_t a, uint64_t b);
/* Is score a better than b in this direction (NaN is never better)? */
bool ag__better(ag_direction d, double a, double b);
/* The best complete trial, or NULL. Not locked. */
const ag_trial *ag__study_best(const ag_study *s);

/* report.c: the live line of a finished trial (caller holds the lock). */
void ag__report_trial(ag_study *s, const ag_trial *t);
/* report.c: CSV writer used by csv_path (caller holds the lock). */
int ag__write_csv(const ag_study *s, const char *path);

/* Wall clock in seconds. */
double ag__tune_now(void);

/* ---- the cross-validation objective (objective_cv.c, cv_model.c) ---- */

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
typedef struct ag__cv_cfg {
    int layers, epochs;
    int64_t hidden, batch_size;
    ag_activation act;
    double dropout, lr, momentum, weight_decay;
    char optimizer[32];
} ag__cv_cfg;

/* One model, its optimizer and trainer. */
typedef struct ag__cv_fold {
    ag_module *m;
    ag_optimizer *opt;
    ag_trainer *t;
} ag__cv_fold;

/* Is name a hyperparameter the built-in model reads (layers, hidden, lr, ...)? */
bool ag__cv_known_param(const char *name);
/* Is name one of the activations the built-in model knows (none, relu, tanh, ...)? */
bool ag__cv_known_activation(const char *name);
/* Checks a configuration; fn names the caller in the message. 0 or -1. */
int ag__cv_check_cfg(const char *fn, const ag__cv_cfg *c);
/* The configuration of trial t: the CV's options overridden by the trial's values. 0 or -1. */
int ag__cv_resolve(const ag_cv *cv, const ag_trial *t, ag__cv_cfg *c);
/* Makes fold f's model (initial weights from seed), optimizer and trainer. 0, or -1 with f
 * zeroed. */
int ag__cv_fold_make(const ag_cv *cv, const ag_trial *t, const ag__cv_cfg *c, uint64_t seed,
                     ag__cv_fold *f);
void ag__cv_fold_free(ag__cv_fold *f);

#endif
