/* train/train_internal.h - what the training-loop files (fit.c, metrics.c, history.c, callbacks.c,
 * progress.c) share: the trainer struct, metric accumulators, history building, callback hooks
 * and the progress printer. Not installed.
 */
#ifndef AG_FIT_INTERNAL_H
#define AG_FIT_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "autograd.h"

#define AG__MAX_METRICS 3      /* accuracy, mse, mae */
#define AG__MAX_COLUMNS 10     /* loss, 3 metrics, val_loss, 3 val metrics, lr, seconds */

struct ag_trainer {
    ag_module *model;          /* not owned */
    ag_optimizer *opt;         /* not owned */
    ag_loss_kind loss;
    unsigned metrics;          /* AG_METRIC_* bits */
    ag_loss_opts loss_opts;    /* copied; the tensors it points to are not owned */
    ag_loss_fn loss_fn;        /* AG_LOSS_CUSTOM */
    void *loss_ctx;
};

/* ---- losses and metrics (metrics.c) ---- */

/* The compiled metrics in column order (accuracy, mse, mae): their count and names. */
int ag__metric_count(const ag_trainer *t);
const char *ag__metric_name(const ag_trainer *t, int i);

/* The dtype of the model's parameters; false (no error) when the model has none. */
bool ag__model_dtype(const ag_module *m, ag_dtype *dt);

/* Checks a dataset against the trainer (non-empty, dtypes of x and y equal the model's).
 * `fn` and `what` ("train", "validation_data") name it in the message. */
int ag__check_dataset(const char *fn, const char *what, const ag_trainer *t,
                      const ag_dataset *ds);

/* The compiled loss of a batch: a one-element tensor (in the current scope), or NULL. */
ag_tensor *ag__trainer_loss(ag_trainer *t, ag_tensor *pred, ag_tensor *y);

/* Running sums over the batches of an epoch (or an evaluation). */
typedef struct ag__acc {
    double loss_sum;           /* sum of batch loss * batch size */
    int64_t n;                 /* examples seen */
    int64_t correct;           /* accuracy */
    double sq_sum, abs_sum;    /* mse, mae */
    int64_t elems;             /* elements compared for mse/mae */
} ag__acc;

/* Adds a batch: its mean loss and, for the compiled metrics, its predictions against y. */
int ag__acc_add(const ag_trainer *t, ag__acc *a, const ag_tensor *pred, const ag_tensor *y,
                double batch_loss);
/* Mean loss and the compiled metrics (metrics has ag__metric_count entries). */
void ag__acc_values(const ag_trainer *t, const ag__acc *a, double *loss, double *metrics);

/* ---- history (history.c) ---- */

ag_history *ag__history_new(int first_epoch, int ncols, const char *const *names);
int ag__history_append(ag_history *h, const double *row);
void ag__history_set_flags(ag_history *h, bool diverged, bool stopped_early);
/* Index of column `name`, or -1 (no error recorded). */
int ag__history_find(const ag_history *h, const char *name);

/* ---- callbacks (callbacks.c) ---- */

/* Called once before training: resets the callback's state, resolves its default monitor
 * ("val_loss" with validation data, else "loss") and checks that the monitor is a column. */
int ag__callback_begin(ag_callback *cb, ag_trainer *t, const ag_history *h, bool has_val);
/* After each epoch (the history already holds its row). Sets *stop to ask for the end of
 * training. `log` receives messages (NULL: silent). */
int ag__callback_epoch_end(ag_callback *cb, ag_trainer *t, int epoch, const ag_history *h,
                           FILE *log, bool *stop);
/* After training, whatever ended it (restores best weights when asked). Frees run state. */
void ag__callback_end(ag_callback *cb, ag_trainer *t, FILE *log);

/* ---- progress output (progress.c) ---- */

typedef struct ag__progress {
    FILE *out;                 /* NULL when silent */
    bool live;                 /* redraw a bar with \r while an epoch runs */
    int64_t target;            /* steps in the epoch */
    double start, last_draw;   /* seconds (monotonic) */
    int prev_width;            /* length of the last live line, to blank leftovers */
} ag__progress;

double ag__now(void);
void ag__progress_init(ag__progress *p, ag_verbosity v, FILE *out);
void ag__progress_epoch_begin(ag__progress *p, int epoch, int epochs, int64_t steps);
/* Live update after `step` steps (throttled; nothing when not live). */
void ag__progress_step(ag__progress *p, int64_t step, int n, const char *const *names,
                       const double *vals);
/* The final line of an epoch. */
void ag__progress_epoch_end(ag__progress *p, int64_t steps, int n, const char *const *names,
                            const double *vals);
/* A message on its own line (ends a live line first). */
void ag__progress_message(ag__progress *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
