/* autograd/tune.h - hyperparameter search: search spaces, strategies (grid, random, successive
 * halving, ASHA), k-fold cross-validation, trials run in parallel, reports, resume, pictures.
 *
 *     ag_space *sp = ag_space_new();
 *     ag_space_add_float(sp, "lr", 1e-4, 1e-1, true);            // log-uniform
 *     ag_space_add_choice(sp, "optimizer", 2, (const char *[]){"sgd", "adam"});
 *     ag_study_opts so = ag_study_defaults();                    // minimize, seed 0, all threads
 *     ag_study *st = ag_study_new(sp, ag_strategy_random(20), &so);
 *     ag_cv_opts co = ag_cv_defaults();                          // 5 folds, val loss, 100->32->C
 *     ag_cv *cv = ag_cv_new(data, &co);
 *     ag_study_optimize_cv(st, cv);                              // live line per trial
 *     ag_study_leaderboard(st, stdout, 10);
 *     ag_module *best = ag_cv_refit(cv, ag_study_best(st), NULL); // trained on all the data
 *
 * or, with your own objective (it builds, trains and scores a model from a trial's values):
 *
 *     int objective(ag_trial *t, void *ctx, double *score) {
 *         double lr = ag_trial_float(t, "lr"), val_loss = 0;
 *         for (int epoch = 0; epoch < 10; epoch++) {
 *             val_loss = train_one_epoch(ctx, lr);        // your code: returns the val loss
 *             ag_trial_report(t, epoch + 1, val_loss);
 *             if (ag_trial_should_prune(t)) { *score = val_loss; return AG_OBJECTIVE_PRUNED; }
 *         }
 *         *score = val_loss;
 *         return AG_OBJECTIVE_OK;
 *     }
 *     ag_study_optimize(st, objective, ctx);
 *
 * Determinism: trial n's values are drawn from a generator seeded with (study seed, n) and its
 * seed for the objective (ag_trial_seed) is derived from the same pair, never from a thread or a
 * clock; pruning decisions for trial n depend only on trials with smaller numbers; the strategy
 * proposes trials in generations that do not depend on the thread count. So the results (values,
 * scores, states, leaderboard, CSV apart from times) are identical whatever the number of threads.
 *
 * Threads: the trials of a generation run concurrently on OpenMP threads, one trial per thread;
 * each trial runs its ops single-threaded (so trials do not compete for cores and results do
 * not depend on how many threads the ops would have used). The objective is therefore called
 * from several threads at once: its ctx must only be read, and each call must build its own
 * model, optimizer and graph (tensors of the library are per thread, a dataset may be read by
 * all). Errors are per thread: an objective that fails records its message with ag_set_error
 * (or lets a library call do it) and returns AG_OBJECTIVE_FAILED.
 *
 * Ownership: spaces, strategies, studies and CV objectives are owned by the caller and freed with
 * their *_free function, except that ag_study_new takes the strategy (and a halving/ASHA strategy
 * takes its sampler). The study copies the space. Trials belong to their study.
 */
#ifndef AUTOGRAD_TUNE_H
#define AUTOGRAD_TUNE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "data.h"
#include "fit.h"
#include "nn.h"
#include "random.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- search spaces ---- */

typedef struct ag_space ag_space;

typedef enum ag_param_kind {
    AG_PARAM_FLOAT = 0, /* a real range [lo, hi] (uniform or log-uniform), or a list of numbers */
    AG_PARAM_INT,       /* whole numbers lo..hi inclusive (uniform or log-uniform) */
    AG_PARAM_CHOICE     /* one of a list of strings ("sgd", "adam", ...) */
} ag_param_kind;

/* An empty space. NULL only when memory runs out. */
ag_space *ag_space_new(void);
void ag_space_free(ag_space *s);

/* Names: 1 to 63 characters among letters, digits and '_', unique within the space (they are
 * CSV column names). Every add returns 0, or -1 with an error naming the function, the
 * parameter and the offending value. At most 32 hyperparameters. */

/* A real hyperparameter in [lo, hi] (lo < hi, both finite). Random search draws it uniformly,
 * or log-uniformly when `log` (then lo > 0): log(x) uniform in [log lo, log hi], as learning
 * rates should be. Grid search takes 5 points from lo to hi, evenly spaced (geometrically when
 * `log`), or as many as ag_space_set_grid_points says. */
int ag_space_add_float(ag_space *s, const char *name, double lo, double hi, bool log);

/* A whole-number hyperparameter in lo..hi inclusive (lo <= hi, |values| < 2^53). Random search
 * draws every value with equal probability, or, when `log` (lo >= 1), log-uniformly (Optuna's
 * rule: log-uniform in [lo - 0.5, hi + 0.5], rounded). Grid search visits every value, or, after
 * ag_space_set_grid_points, that many values spread evenly (geometrically when `log`), rounded,
 * duplicates removed. */
int ag_space_add_int(ag_space *s, const char *name, int64_t lo, int64_t hi, bool log);

/* A numeric hyperparameter taking one of n listed values (finite, distinct; for example batch
 * sizes {16, 32, 64} or learning rates {1e-3, 1e-2}). Kind AG_PARAM_FLOAT; random search picks
 * one value with equal probability, grid search visits each in the given order. */
int ag_space_add_values(ag_space *s, const char *name, int n, const double *values);

/* A categorical hyperparameter: one of n distinct strings (1 to 63 characters, no comma,
 * semicolon, quote or line break, so that they fit a CSV field). Read with ag_trial_choice. */
int ag_space_add_choice(ag_space *s, const char *name, int n, const char *const *choices);

/* Number of points grid search takes from the float or int range `name` (n >= 1; a range with
 * n = 1 gives its lower end). -1 and an error for an unknown name or a list/choice parameter. */
int ag_space_set_grid_points(ag_space *s, const char *name, int n);

/* Number of hyperparameters, and the name and kind of the i-th (in the order added). */
int ag_space_size(const ag_space *s);
const char *ag_space_name(const ag_space *s, int i);
ag_param_kind ag_space_kind(const ag_space *s, int i);
/* Index of the hyperparameter called `name`, or -1 (without recording an error) when absent. */
int ag_space_find(const ag_space *s, const char *name);
/* True for a log-scaled range (pictures use a log axis for it). */
bool ag_space_is_log(const ag_space *s, int i);

/* ---- trials ---- */

typedef struct ag_trial ag_trial;
typedef struct ag_study ag_study;

typedef enum ag_trial_state {
    AG_TRIAL_PENDING = 0, /* proposed, not run yet */
    AG_TRIAL_RUNNING,
    AG_TRIAL_COMPLETE,    /* the objective finished and returned a finite score */
    AG_TRIAL_PRUNED,      /* stopped early by the strategy (its score is the last value reached) */
    AG_TRIAL_FAILED       /* the objective failed, diverged (NaN/Inf loss) or gave a non-finite score */
} ag_trial_state;

/* "pending", "running", "complete", "pruned", "failed". */
const char *ag_trial_state_name(ag_trial_state s);

/* The trial's number (0, 1, ... in the order the strategy proposed them). -1 on NULL. */
int ag_trial_number(const ag_trial *t);

/* A seed for everything random in the objective (initial weights, batch order, dropout), derived
 * from (study seed, trial number) only. */
uint64_t ag_trial_seed(const ag_trial *t);

/* The resource this run of the trial may use (epochs, by convention), set by a successive
 * halving or ASHA strategy; 0 when the strategy sets none (the objective then uses its own
 * number of epochs). */
int ag_trial_budget(const ag_trial *t);

/* The values of the trial's hyperparameters, by name:
 *   ag_trial_float  - a float or int hyperparameter, as a double;
 *   ag_trial_int    - an int hyperparameter, or a float one whose value is a whole number
 *                     (a list such as batch sizes {16, 32, 64});
 *   ag_trial_choice - a choice hyperparameter's string (owned by the study).
 * An unknown name or the wrong kind records an error naming the function and the hyperparameter,
 * and returns NaN, 0 or NULL. ag_trial_has tells whether the space has `name` (no error). */
double ag_trial_float(const ag_trial *t, const char *name);
int64_t ag_trial_int(const ag_trial *t, const char *name);
const char *ag_trial_choice(const ag_trial *t, const char *name);
bool ag_trial_has(const ag_trial *t, const char *name);

/* Writes the values as "lr=0.001 optimizer=adam" into buf (always terminated). Returns buf. */
const char *ag_trial_format_values(const ag_trial *t, char *buf, size_t size);

/* Reports an intermediate value of the objective (for example the validation loss after `step`
 * epochs, step counted from 1). Steps must increase within a run; the value must be finite
 * (report a diverged run by failing instead). Returns 0, or -1 with an error. Only for the
 * running trial passed to the objective. */
int ag_trial_report(ag_trial *t, int step, double value);

/* Asks the strategy whether the trial should stop now, given its last reported value. Always
 * false for strategies that do not prune. Under ASHA the answer at a rung can depend on the
 * values other trials with smaller numbers report at that rung: the call waits until each of
 * them has reached the rung or finished, so the decision never depends on timing. When it says
 * true, the objective should return AG_OBJECTIVE_PRUNED at once. */
bool ag_trial_should_prune(ag_trial *t);

/* Records per-fold scores of the run (n >= 1 finite values); the trial's std is then the
 * population standard deviation of these (NumPy's np.std, as scikit-learn reports). The score
 * itself is what the objective returns (normally their mean). Returns 0 or -1. */
int ag_trial_set_folds(ag_trial *t, int n, const double *scores);

/* Results of a trial (meaningful once it finished): state, score (NaN for a failed trial; the
 * last reported value for a pruned one), std over folds (NaN without folds), wall time in
 * seconds of all its runs, per-fold scores, the error message of a failed trial ("" otherwise).
 */
ag_trial_state ag_trial_state_of(const ag_trial *t);
double ag_trial_score(const ag_trial *t);
double ag_trial_std(const ag_trial *t);
double ag_trial_seconds(const ag_trial *t);
int ag_trial_num_folds(const ag_trial *t);
double ag_trial_fold(const ag_trial *t, int i);
const char *ag_trial_message(const ag_trial *t);

/* Intermediate values reported during the trial's last run: count, and the i-th (step, value). */
int ag_trial_num_reports(const ag_trial *t);
int ag_trial_report_at(const ag_trial *t, int i, int *step, double *value);

/* Scores of the runs of the trial at successive budgets (successive halving runs a surviving
 * trial again with a larger budget): count, the i-th (budget, score), and the score of the run at
 * `budget` (true when there is one). */
int ag_trial_num_rungs(const ag_trial *t);
int ag_trial_rung_at(const ag_trial *t, int i, int *budget, double *score);
bool ag_trial_rung_score(const ag_trial *t, int budget, double *score);

/* ---- strategies ---- */

typedef struct ag_strategy ag_strategy;

/* Every point of the space's grid, once, in order (the last hyperparameter varies fastest, as
 * scikit-learn's ParameterGrid). At most 1,000,000 points. */
ag_strategy *ag_strategy_grid(void);

/* n_trials configurations drawn independently (trial n from a generator seeded with
 * (study seed, n)). n_trials >= 1. */
ag_strategy *ag_strategy_random(int n_trials);

/* Synchronous successive halving (scikit-learn's HalvingGridSearchCV/HalvingRandomSearchCV):
 * every configuration `sampler` proposes (a grid or random strategy) is run with budget
 * min_budget; the best floor(n / eta) of them (at least 1; ties go to the smaller trial number)
 * run again from scratch with eta times the budget, and so on; the last rung uses max_budget.
 * Trials that stop before the last rung end "pruned"; those that finish it, "complete".
 * 1 <= min_budget < max_budget, eta >= 2. Takes ownership of `sampler` (freed on failure too). */
ag_strategy *ag_strategy_halving(ag_strategy *sampler, int min_budget, int max_budget, int eta);

/* Asynchronous successive halving (ASHA, Li et al. 2020) as a pruner: every configuration
 * `sampler` proposes runs once with budget max_budget, reporting a value per step; at the rungs
 * step = min_budget * eta^k (< max_budget) it continues only if its value is among the best
 * max(1, floor(c / eta)) of the c values reported at that rung by itself and by the trials with
 * smaller numbers (so it never waits for a rung to fill, and the decision does not depend on
 * timing). Same conditions and ownership as ag_strategy_halving. */
ag_strategy *ag_strategy_asha(ag_strategy *sampler, int min_budget, int max_budget, int eta);

/* Name ("grid", "random", "halving(random)", "asha(grid)", or a custom class's). */
const char *ag_strategy_name(const ag_strategy *s);
/* Frees a strategy not given to a study. NULL is ignored. */
void ag_strategy_free(ag_strategy *s);

/* Writing a new strategy (for example TPE or a Gaussian-process sampler): fill a class and call
 * ag_strategy_new. The study calls, in this order:
 *   bind(state, space)            once, from ag_study_new (optional): check the space, precompute;
 *   size(state)                   the number of configurations planned, or -1 if unknown;
 *   next(state, study, jobs, cap) before each generation: fill up to cap jobs and return their
 *                                 count (0: the search is over; -1: error). A job runs trial
 *                                 `trial` with `budget`; a number equal to ag_study_num_trials()
 *                                 or above creates new trials (numbers with no job in between are
 *                                 created pending). A job must not name a trial that is finished
 *                                 and not to be run again. The study runs the whole generation
 *                                 (in parallel) before calling next again, so a strategy that
 *                                 learns from results sees every earlier generation complete;
 *                                 generations must not depend on the number of threads.
 *   sample(state, study, trial, rng, values)
 *                                 values of a new trial (one double per hyperparameter in space
 *                                 order: the number for float/int, the index for a choice), from
 *                                 `rng` (seeded with (study seed, trial)) and/or the finished
 *                                 trials. Also used by ag_study_load_csv to check that a file
 *                                 matches the search. Returns 0 or -1.
 *   is_rung(state, step), prune(state, study, trial, step, value)
 *                                 optional pruning: at a step where is_rung is true the study
 *                                 waits until every trial with a smaller number has reported a
 *                                 step >= `step` or finished, then asks prune (under the study's
 *                                 lock: read other trials, do not call back into the study).
 *   free_state(state)             when the strategy is freed.
 * `final` in a job says whether a completed run at that budget completes the trial; otherwise
 * the trial is marked pruned at that budget until a later generation runs it again. */
typedef struct ag_job {
    int trial;
    int budget; /* 0: the objective's own */
    bool final;
} ag_job;

typedef struct ag_strategy_class {
    const char *name;
    int (*bind)(void *state, const ag_space *space);
    int64_t (*size)(void *state);
    int (*next)(void *state, const ag_study *study, ag_job *jobs, int cap);
    int (*sample)(void *state, const ag_study *study, int trial, ag_rng *rng, double *values);
    bool (*is_rung)(void *state, int step);
    bool (*prune)(void *state, const ag_study *study, int trial, int step, double value);
    void (*free_state)(void *state);
} ag_strategy_class;

/* A strategy of class `cls` (next and sample required) holding `state` (freed with
 * cls->free_state, also when this call fails). */
ag_strategy *ag_strategy_new(const ag_strategy_class *cls, void *state);

/* ---- studies ---- */

typedef enum ag_direction { AG_MINIMIZE = 0, AG_MAXIMIZE } ag_direction;

typedef struct ag_study_opts {
    ag_direction direction; /* AG_MINIMIZE (a loss); AG_MAXIMIZE for an accuracy */
    uint64_t seed;          /* 0; sampling and ag_trial_seed derive from (seed, trial number) */
    int n_jobs;             /* trials run at once; 0: omp_get_max_threads() (1 without OpenMP) */
    bool quiet;             /* false: a live line per finished trial */
    FILE *out;              /* NULL: stdout */
    const char *csv_path;   /* NULL, or a CSV of all trials rewritten after each one finishes
                               (copied), so an interrupted search can be resumed */
} ag_study_opts;

ag_study_opts ag_study_defaults(void);

/* A study searching `space` (copied) with `strategy` (owned from now on, freed with the study,
 * also when this call fails, unless it already belongs to another study). NULL and an error for
 * a NULL or empty space, a NULL strategy, a strategy already in a study, a strategy that rejects
 * the space, n_jobs < 0 or an unknown direction. */
ag_study *ag_study_new(const ag_space *space, ag_strategy *strategy, const ag_study_opts *opts);
void ag_study_free(ag_study *s);

/* The objective: builds, trains and scores a model from the trial's values and stores the score
 * in *score. Returns AG_OBJECTIVE_OK (a finite score), AG_OBJECTIVE_PRUNED (stopped because
 * ag_trial_should_prune said so) or AG_OBJECTIVE_FAILED (an error recorded on this thread; a
 * diverged training is a failure). A non-finite score counts as a failure. */
enum { AG_OBJECTIVE_OK = 0, AG_OBJECTIVE_PRUNED = 1, AG_OBJECTIVE_FAILED = -1 };
typedef int (*ag_objective_fn)(ag_trial *trial, void *ctx, double *score);

/* Runs the search to its end: generation after generation from the strategy, the trials of a
 * generation in parallel (n_jobs threads), skipping trials already finished (loaded with
 * ag_study_load_csv or run by an earlier call). A failing trial is recorded as failed and the
 * search goes on. Returns 0, or -1 with an error for a NULL argument, a strategy error, a CSV
 * that cannot be written, or when every trial run by this call failed (the error then quotes
 * the first failure). */
int ag_study_optimize(ag_study *s, ag_objective_fn fn, void *ctx);

/* Number of trials (all states), the i-th (by number; owned by the study), and the best finished
 * trial: the best score among complete trials (ties: smaller number), or NULL without an error
 * when there is none. */
int ag_study_num_trials(const ag_study *s);
const ag_trial *ag_study_trial(const ag_study *s, int i);
const ag_trial *ag_study_best(const ag_study *s);

/* Counts of trials in a state, and of objective calls made by this study object so far (a
 * resumed study does not count the trials it loaded). */
int ag_study_count(const ag_study *s, ag_trial_state state);
int64_t ag_study_objective_calls(const ag_study *s);

ag_direction ag_study_direction(const ag_study *s);
const ag_space *ag_study_space(const ag_study *s);
const ag_strategy *ag_study_strategy(const ag_study *s);
/* Configurations the strategy plans (-1 if unknown), for "Fitting 5 folds for each of ...". */
int64_t ag_study_planned(const ag_study *s);

/* Rank of trial i in the leaderboard (1 = best): complete trials by score (ties: smaller
 * number), then pruned ones (largest budget reached first, then by score), then failed ones by
 * number. -1 for pending trials or a bad index. */
int ag_study_rank(const ag_study *s, int i);

/* Prints the leaderboard: rank, trial, score mean +- std, the values, state, time; `top` rows at
 * most (0: all). Returns 0 or -1. */
int ag_study_leaderboard(const ag_study *s, FILE *out, int top);

/* Writes every finished trial as CSV (atomically: a temporary file renamed), one row per trial
 * in number order:
 *   trial,state,score,std,seconds,budget,<each hyperparameter>,folds,reports,rungs,message
 * with numbers in %.17g (exact round trip), choices as their strings, folds as "s1;s2;...",
 * reports and rungs as "step:value;..." and the message (line breaks made spaces) quoted as a
 * CSV field when it holds a comma or a quote. */
int ag_study_write_csv(const ag_study *s, const char *path);

/* Loads the finished trials of a CSV written by ag_study_write_csv (or by csv_path) into a
 * study that has not run yet, so ag_study_optimize runs only the rest. The hyperparameter
 * columns must be the space's, and each loaded trial's values must be those the strategy
 * proposes for its number (same space, strategy and seed), else -1 with an error naming the
 * file, line and value. Returns the number of trials loaded. */
int ag_study_load_csv(ag_study *s, const char *path);

/* ---- pictures (SVG, see plot.h) ---- */

/* Score against hyperparameter `name`: complete trials as points (a line with mean +- std when
 * the space has this one hyperparameter only), pruned trials as a second series; log x for a
 * log range; a choice is drawn at positions 0, 1, ... named in the axis label. */
int ag_study_plot_param(const ag_study *s, const char *name, const char *path);

/* Each complete trial's score against its number and the best score so far. */
int ag_study_plot_history(const ag_study *s, const char *path);

/* One file with every hyperparameter's plot and the history, side by side. */
int ag_study_plot(const ag_study *s, const char *path);

/* ---- k-fold splits ---- */

/* Assigns each of n examples to one of k folds (2 <= k <= n): fold_of[i] in [0, k). The folds
 * are contiguous blocks of the (shuffled with `seed` when `shuffle`) order, the first n % k of
 * size n / k + 1, the rest n / k (scikit-learn's KFold). Returns 0 or -1. */
int ag_kfold(int64_t n, int k, bool shuffle, uint64_t seed, int *fold_of);

/* Stratified k-fold for a classification dataset (num_classes > 0): the examples of each class
 * (in order, or shuffled with `seed`) are dealt to the folds in turn, continuing from class to
 * class, so every fold holds each class's count divided by k to within one and fold sizes
 * differ by at most one. 2 <= k <= N. Returns 0 or -1. */
int ag_stratified_kfold(const ag_dataset *ds, int k, bool shuffle, uint64_t seed, int *fold_of);

/* The examples outside fold `fold` (*train) and inside it (*test), as new datasets in the
 * original order. fold_of has N entries in [0, k). Both parts must be non-empty. On failure
 * both outputs are NULL. */
int ag_fold_split(const ag_dataset *ds, const int *fold_of, int k, int fold, ag_dataset **train,
                  ag_dataset **test);

/* ---- the built-in objective: k-fold cross-validation of a Sequential model ---- */

typedef enum ag_cv_score {
    AG_SCORE_VAL_LOSS = 0, /* mean validation loss over the folds (minimize) */
    AG_SCORE_ACCURACY      /* mean validation accuracy (maximize; classification only) */
} ag_cv_score;

/* A custom model builder: a model from the trial's values (and the CV's hyperparameters), for
 * `in` features and `out` outputs, initialised from `rng`. NULL and an error on failure. */
typedef ag_module *(*ag_cv_build_fn)(const ag_trial *t, int64_t in, int64_t out, ag_rng *rng,
                                     void *ctx);

/* The model and its training. Each field is the default of a hyperparameter of the same name
 * (in quotes below): a trial whose space has that name uses the trial's value instead (numeric
 * ones may be float, int, a list of values, or a choice of numeric strings such as {"16", "64"}).
 * The model is in -> (Dense(hidden, activation) [-> Dropout]) x layers -> Dense(out), with
 * out = num_classes (classification, cross-entropy) or y's width (regression, MSE). */
typedef struct ag_cv_opts {
    int folds;                /* 5 (2 <= folds <= N) */
    bool stratify;            /* true: stratified folds when the dataset is classification */
    bool shuffle;             /* true: shuffle before splitting into folds */
    uint64_t seed;            /* 0: the folds, initial weights and batch order. The same for
                                 every trial (common random numbers: trials differ only by their
                                 hyperparameters); fold f uses seeds derived from (seed, f). */
    ag_cv_score score;        /* AG_SCORE_VAL_LOSS */
    int layers;               /* 1      "layers": hidden layers (0: a linear model) */
    int64_t hidden;           /* 32     "hidden": units per hidden layer */
    const char *activation;   /* "relu" "activation": relu, tanh, sigmoid, leaky_relu, none */
    double dropout;           /* 0      "dropout": after each hidden layer, in [0, 1) */
    const char *optimizer;    /* "adam" "optimizer": gd (full batch), sgd, momentum (SGD with
                                 momentum), nesterov, adam, adamw, rmsprop */
    double lr;                /* 1e-3   "lr" */
    double momentum;          /* 0.9    "momentum" (momentum and nesterov only) */
    double weight_decay;      /* -1     "weight_decay"; -1: the optimizer's default (AdamW
                                 0.01, others 0) */
    int64_t batch_size;       /* 32     "batch_size" (ignored by gd, which uses every example) */
    int epochs;               /* 5      "epochs"; a trial's budget (halving, ASHA) overrides it */
    ag_cv_build_fn build;     /* NULL; when set it makes the model (layers, hidden, activation,
                                 dropout are then left to it, and hyperparameters the CV does not
                                 know are allowed: the builder reads them) */
    void *build_ctx;
} ag_cv_opts;

ag_cv_opts ag_cv_defaults(void);

typedef struct ag_cv ag_cv;

/* Prepares k-fold cross-validation of `ds` (which is copied into the folds, so it may be freed
 * afterwards). Checks the options (naming the bad one and its value) and the dataset (accuracy
 * needs a classification dataset; x must be [N, F]). NULL and an error on failure. */
ag_cv *ag_cv_new(const ag_dataset *ds, const ag_cv_opts *opts);
void ag_cv_free(ag_cv *cv);
int ag_cv_folds(const ag_cv *cv);
/* AG_MAXIMIZE for accuracy, AG_MINIMIZE for the loss. */
ag_direction ag_cv_direction(const ag_cv *cv);

/* The objective (pass ctx = the ag_cv): trains one model per fold, all folds in lockstep epoch by
 * epoch, reports the mean validation score after each epoch (step = epochs done) and stops when
 * the strategy prunes; records the per-fold scores and returns their mean. A fold whose training
 * diverges (NaN/Inf loss) fails the trial, naming the fold and epoch. A hyperparameter the CV
 * does not know (without a custom builder) fails the trial, naming it. */
int ag_cv_objective(ag_trial *t, void *cv, double *score);

/* Prints scikit-learn's "Fitting 5 folds for each of 12 candidates, totalling 60 fits" (unless
 * the study is quiet) and runs ag_study_optimize with ag_cv_objective. The study's direction
 * must be the CV score's (else -1 with an error saying so). */
int ag_study_optimize_cv(ag_study *s, ag_cv *cv);

/* Trains the configuration of `trial` (for example ag_study_best(study)) on all the data of the
 * CV (every fold together), for the trial's last budget if it has one, else its "epochs" or the
 * options' epochs. Returns the trained model (the caller frees it with ag_module_free) and, when
 * `history` is not NULL, the training history (to free with ag_history_free). NULL and an error
 * on failure (a NULL trial, a trial from a different space, a diverged training). */
ag_module *ag_cv_refit(ag_cv *cv, const ag_trial *trial, ag_history **history);

#ifdef __cplusplus
}
#endif
#endif
