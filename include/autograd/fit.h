/* autograd/fit.h - a Keras-style training loop: compile, fit, evaluate, predict, callbacks.
 *
 *     ag_trainer *t = ag_compile(model, adam, AG_LOSS_CROSS_ENTROPY, AG_METRIC_ACCURACY);
 *     ag_fit_opts fo = ag_fit_defaults();          // 1 epoch, batch 32, shuffled
 *     fo.epochs = 10; fo.validation_split = 0.1;
 *     ag_history *h = ag_fit(t, train, &fo);
 *     printf("%g\n", ag_history_last(h, "val_accuracy"));
 *
 * One training step is exactly the hand-written loop: zero_grad, forward, loss, backward, step,
 * inside a scope that frees the step's intermediates. Nothing here computes a gradient by hand.
 *
 * validation_split takes the LAST fraction of the training data, before any shuffling (as Keras
 * does): shuffle your data first if it is ordered by class.
 */
#ifndef AUTOGRAD_FIT_H
#define AUTOGRAD_FIT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "tensor.h"
#include "nn.h"
#include "optim.h"
#include "loss.h"
#include "data.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ag_loss_kind {
    AG_LOSS_MSE = 0,           /* ag_mse_loss */
    AG_LOSS_MAE,               /* ag_l1_loss */
    AG_LOSS_CROSS_ENTROPY,     /* ag_cross_entropy from logits (index or one-hot targets) */
    AG_LOSS_BCE,               /* ag_bce_with_logits */
    AG_LOSS_CATEGORICAL_CROSS_ENTROPY, /* ag_categorical_cross_entropy on probabilities: Keras's
                                  categorical_crossentropy, for a model ending in a softmax */
    AG_LOSS_CUSTOM             /* ag_trainer_set_loss_fn */
} ag_loss_kind;

/* Logits or probabilities: a model whose last layer is a softmax outputs probabilities and takes
 * AG_LOSS_CATEGORICAL_CROSS_ENTROPY (the literal port of a Keras model compiled with
 * loss="categorical_crossentropy"; trained from the softmax's logits, as Keras does); a model
 * without it outputs logits and takes AG_LOSS_CROSS_ENTROPY (PyTorch's convention). Both train
 * the same. AG_LOSS_CROSS_ENTROPY on a model ending in a softmax would apply a second softmax and
 * train badly, so ag_fit stops at its first step with an error saying which loss to use. */

/* Metrics, combined with |. Accuracy: argmax of [N, C] predictions against index or one-hot
 * targets, or for [N]/[N, 1] predictions with a BCE loss, logit > 0 against target > 0.5 (with
 * any other loss, prediction > 0.5, Keras' binary accuracy). mse/mae: mean over all elements;
 * index targets against [N, C] predictions count as one-hot rows. Training metrics are the running
 * values over the epoch's batches (as Keras reports them), validation metrics one evaluation. */
enum { AG_METRIC_ACCURACY = 1, AG_METRIC_MSE = 2, AG_METRIC_MAE = 4 };

typedef struct ag_trainer ag_trainer;

/* Binds a model, an optimizer, a loss and metrics (neither model nor optimizer is owned). */
ag_trainer *ag_compile(ag_module *model, ag_optimizer *opt, ag_loss_kind loss, unsigned metrics);
/* Loss options (reduction must stay mean; label smoothing, class weights). The struct is copied;
 * the tensors it points to are not, and must outlive the trainer. NULL restores the defaults. */
int ag_trainer_set_loss_opts(ag_trainer *t, const ag_loss_opts *opts);
/* A custom loss: fn(pred, target, ctx) returning a 0-d tensor built from ops (a batch mean).
 * Setting one switches the trainer to AG_LOSS_CUSTOM. */
typedef ag_tensor *(*ag_loss_fn)(ag_tensor *pred, ag_tensor *target, void *ctx);
int ag_trainer_set_loss_fn(ag_trainer *t, ag_loss_fn fn, void *ctx);
void ag_trainer_free(ag_trainer *t);

/* ---- history: one row per completed epoch, columns by name ---- */

typedef struct ag_history ag_history;

/* Columns: "loss", then "accuracy"/"mse"/"mae" as compiled, "val_loss" and "val_<metric>" when
 * there is validation data, "lr" (the learning rate used during the epoch), "seconds" (wall time
 * of the epoch, validation included). "loss" is the mean of the batch losses weighted by batch
 * size. Epochs are numbered from the run's initial_epoch: a history from initial_epoch 3 holds
 * epochs 3, 4, ... (ag_history_first_epoch); ag_history_epochs counts the rows. */
int ag_history_epochs(const ag_history *h);
int ag_history_first_epoch(const ag_history *h);
int ag_history_num_columns(const ag_history *h);
const char *ag_history_column_name(const ag_history *h, int c);
/* Value of column `name` at `epoch` (0-based, absolute); NaN and an error when absent. */
double ag_history_get(const ag_history *h, const char *name, int epoch);
double ag_history_last(const ag_history *h, const char *name);
/* Writes the history as CSV (epoch, then the columns). */
int ag_history_write_csv(const ag_history *h, const char *path);
/* True when training stopped because the loss became NaN or infinite. */
bool ag_history_diverged(const ag_history *h);
/* True when a callback (for example early stopping) ended training before the last epoch. */
bool ag_history_stopped_early(const ag_history *h);
void ag_history_free(ag_history *h);

/* ---- callbacks ---- */

typedef struct ag_callback ag_callback;

/* Stops when `monitor` (default "val_loss", or "loss" without validation data) has not improved
 * by more than min_delta for `patience` epochs; optionally restores the best weights at the end.
 * mode_max: improvement means larger (for accuracies). */
ag_callback *ag_early_stopping(const char *monitor, int patience, double min_delta, bool mode_max,
                               bool restore_best_weights);
/* Saves a checkpoint (model + optimizer, see io.h) to `path` after each epoch, or only when
 * `monitor` improved when save_best_only. */
ag_callback *ag_model_checkpoint(const char *path, const char *monitor, bool mode_max,
                                 bool save_best_only);
/* Your own: called after every epoch with the history so far (it already holds that epoch's
 * row; `epoch` is 0-based, absolute); return true to stop training.
 *
 * A callback's state is reset when a fit starts, so it may serve several fits in turn (not two
 * at once). Early stopping follows Keras (it never stops after the first epoch; an epoch improves
 * when it beats the best by more than min_delta) and, with restore_best_weights, copies the best
 * epoch's parameter values back when training ends, whatever ended it. A monitor that is not a
 * history column of the fit is an error from ag_fit. Order after each epoch: history row and
 * progress line, scheduler step, callbacks in array order (a checkpoint thus stores the learning
 * rate of the next epoch, ready for a resume). Checkpoint metadata: "epoch" (completed epochs,
 * the initial_epoch to resume from), "monitor" (the column) and "monitor_value" (%.17g). */
typedef bool (*ag_epoch_end_fn)(ag_trainer *t, int epoch, const ag_history *h, void *ctx);
ag_callback *ag_callback_new(ag_epoch_end_fn fn, void *ctx);
void ag_callback_free(ag_callback *cb);

/* ---- fit ---- */

typedef enum ag_verbosity {
    AG_VERBOSE_AUTO = 0, /* a live progress bar on a terminal, one line per epoch otherwise */
    AG_VERBOSE_SILENT,
    AG_VERBOSE_BAR,
    AG_VERBOSE_LINES
} ag_verbosity;

typedef struct ag_fit_opts {
    int epochs;                       /* 1 */
    int64_t batch_size;               /* 32 */
    bool shuffle;                     /* true; epoch e shuffles with (seed, e) */
    uint64_t seed;                    /* 0 */
    double validation_split;          /* 0: none; else the last fraction of the data (the
                                         first round(N*(1-split)) examples train) */
    const ag_dataset *validation_data;/* NULL; overrides validation_split */
    int initial_epoch;                /* 0; to resume (history numbers epochs from here) */
    ag_verbosity verbose;             /* AG_VERBOSE_AUTO */
    FILE *out;                        /* NULL: stdout */
    int ncallbacks;
    ag_callback *const *callbacks;    /* not owned */
    ag_scheduler *scheduler;          /* NULL; stepped after each epoch (a plateau schedule with
                                         val_loss, or loss without validation data) */
} ag_fit_opts;

ag_fit_opts ag_fit_defaults(void);

/* Trains and returns the history (to free with ag_history_free), or NULL on an argument error
 * or a failing step (the error then names the epoch and step: "ag_fit: epoch 2, step 5: ...").
 * The model is trained in training mode with grad mode on; both are restored afterwards.
 * A NaN or infinite training loss stops training at once (Keras' TerminateOnNaN): the history of
 * the completed epochs is returned, ag_history_diverged() is true for it, and ag_last_error()
 * names the epoch and step. */
ag_history *ag_fit(ag_trainer *t, const ag_dataset *train, const ag_fit_opts *opts);

/* Loss and metrics on a dataset in evaluation mode, without recording a graph (except with
 * AG_LOSS_CATEGORICAL_CROSS_ENTROPY, whose loss is computed from the softmax's logits as in
 * training: each batch's forward graph is recorded and freed with the batch), in batches of
 * batch_size (the loss is the mean of the batch means weighted by batch size). `loss` may be
 * NULL; `metrics_out` receives the compiled metrics in the order accuracy, mse, mae (those
 * compiled) and may be NULL. The model's training mode is restored afterwards. */
int ag_evaluate(ag_trainer *t, const ag_dataset *ds, int64_t batch_size, double *loss,
                double *metrics_out);

/* Model outputs for x [N, ...] in evaluation mode, batch by batch, without a graph: one tensor
 * [N, ...] (owned by the current scope, or the caller). The training mode is restored. */
ag_tensor *ag_predict(ag_module *model, const ag_tensor *x, int64_t batch_size);

/* Index of the largest value in each row of [N, C] (the predicted class; the first on ties, a
 * NaN counts as largest, as NumPy). out has N entries. */
int ag_argmax_rows(const ag_tensor *x, int64_t *out);

#ifdef __cplusplus
}
#endif
#endif
