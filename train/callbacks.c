/* train/callbacks.c - epoch-end hooks for ag_fit: early stopping (Keras' EarlyStopping, with
 * restore_best_weights), model checkpoints (ag_checkpoint_save) and user functions.
 *
 * A callback's run state (best value, patience counter, weight snapshot) is reset at the start
 * of every fit, so one callback object can serve several runs in turn.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "train_internal.h"
#include "../nn/nn_internal.h"

typedef enum { CB_EARLY_STOP, CB_CHECKPOINT, CB_USER } cb_kind;

struct ag_callback {
    cb_kind kind;
    char monitor_arg[32];       /* as given ("" for the default) */
    char monitor[32];           /* resolved at the start of a fit */
    bool mode_max;
    int patience;               /* early stopping */
    double min_delta;
    bool restore_best;
    char *path;                 /* checkpoint */
    bool save_best_only;
    ag_epoch_end_fn fn;         /* user */
    void *ctx;
    /* run state */
    double best;
    int best_epoch, wait;
    int nsnap;
    ag_tensor **snap;           /* copies of the parameters at the best epoch */
};

static ag_callback *cb_new(cb_kind kind, const char *fn, const char *monitor, bool mode_max)
{
    if (monitor && (!*monitor || strlen(monitor) >= sizeof ((ag_callback *)0)->monitor_arg)) {
        ag__error("%s: monitor \"%s\" must be a column name of 1 to 31 characters", fn, monitor);
        return NULL;
    }
    ag_callback *cb = calloc(1, sizeof *cb);
    if (!cb) {
        ag__error("%s: out of memory", fn);
        return NULL;
    }
    cb->kind = kind;
    cb->mode_max = mode_max;
    if (monitor) snprintf(cb->monitor_arg, sizeof cb->monitor_arg, "%s", monitor);
    return cb;
}

ag_callback *ag_early_stopping(const char *monitor, int patience, double min_delta, bool mode_max,
                               bool restore_best_weights)
{
    if (patience < 0 || !(min_delta >= 0) || isinf(min_delta)) {
        ag__error("ag_early_stopping: need patience >= 0 and a finite min_delta >= 0 "
                  "(got patience %d, min_delta %g)", patience, min_delta);
        return NULL;
    }
    ag_callback *cb = cb_new(CB_EARLY_STOP, "ag_early_stopping", monitor, mode_max);
    if (!cb) return NULL;
    cb->patience = patience;
    cb->min_delta = min_delta;
    cb->restore_best = restore_best_weights;
    return cb;
}

ag_callback *ag_model_checkpoint(const char *path, const char *monitor, bool mode_max,
                                 bool save_best_only)
{
    if (!path || !*path) {
        ag__error("ag_model_checkpoint: path is %s", path ? "empty" : "NULL");
        return NULL;
    }
    ag_callback *cb = cb_new(CB_CHECKPOINT, "ag_model_checkpoint", monitor, mode_max);
    if (!cb) return NULL;
    cb->path = strdup(path);
    if (!cb->path) {
        ag__error("ag_model_checkpoint: out of memory");
        free(cb);
        return NULL;
    }
    cb->save_best_only = save_best_only;
    return cb;
}

ag_callback *ag_callback_new(ag_epoch_end_fn fn, void *ctx)
{
    if (!fn) {
        ag__error("ag_callback_new: fn is NULL");
        return NULL;
    }
    ag_callback *cb = cb_new(CB_USER, "ag_callback_new", NULL, false);
    if (!cb) return NULL;
    cb->fn = fn;
    cb->ctx = ctx;
    return cb;
}

static void free_snapshot(ag_callback *cb)
{
    for (int i = 0; i < cb->nsnap; i++) ag_tensor_free(cb->snap[i]);
    free(cb->snap);
    cb->snap = NULL;
    cb->nsnap = 0;
}

void ag_callback_free(ag_callback *cb)
{
    if (!cb) return;
    free_snapshot(cb);
    free(cb->path);
    free(cb);
}

/* ---- weight snapshots: copies made once per fit, then overwritten in place ---- */

static int take_snapshot(ag_callback *cb, ag_trainer *t)
{
    int n = ag_module_num_params(t->model);
    if (!cb->snap) {
        cb->snap = calloc(n > 0 ? (size_t)n : 1, sizeof *cb->snap);
        if (!cb->snap) {
            ag__error("ag_early_stopping: out of memory for the best weights");
            return -1;
        }
        /* Own scope + keep: the copies belong to the callback whatever scope the caller is in. */
        ag_scope *s = ag_scope_begin();
        if (!s) return -1; /* without it the copies would be kept twice */
        for (; cb->nsnap < n; cb->nsnap++) {
            cb->snap[cb->nsnap] = ag_keep(ag_copy(ag_module_param(t->model, cb->nsnap)));
            if (!cb->snap[cb->nsnap]) break;
        }
        ag_scope_end(s);
        if (cb->nsnap < n) return -1;
        return 0;
    }
    for (int i = 0; i < cb->nsnap; i++) {
        ag_tensor *p = ag_module_param(t->model, i);
        memcpy(ag_data(cb->snap[i]), ag_data(p),
               (size_t)ag_numel(p) * ag_dtype_size(ag_get_dtype(p)));
    }
    return 0;
}

static void restore_snapshot(ag_callback *cb, ag_trainer *t)
{
    for (int i = 0; i < cb->nsnap; i++) {
        ag_tensor *p = ag_module_param(t->model, i);
        memcpy(ag_data(p), ag_data(cb->snap[i]),
               (size_t)ag_numel(p) * ag_dtype_size(ag_get_dtype(p)));
    }
}

/* ---- running ---- */

int ag__callback_begin(ag_callback *cb, ag_trainer *t, const ag_history *h, bool has_val)
{
    (void)t;
    free_snapshot(cb);
    cb->best = cb->mode_max ? -INFINITY : INFINITY;
    cb->best_epoch = -1;
    cb->wait = 0;
    if (cb->kind == CB_USER) return 0;
    snprintf(cb->monitor, sizeof cb->monitor, "%s",
             cb->monitor_arg[0] ? cb->monitor_arg : has_val ? "val_loss" : "loss");
    if (ag__history_find(h, cb->monitor) < 0) {
        char cols[256];
        int len = 0;
        for (int c = 0; c < ag_history_num_columns(h) && len < (int)sizeof cols; c++)
            len += snprintf(cols + len, sizeof cols - (size_t)len, c ? ", %s" : "%s",
                            ag_history_column_name(h, c));
        ag__error("ag_fit: %s monitors \"%s\", which is not a history column (columns: %s)",
                  cb->kind == CB_EARLY_STOP ? "early stopping" : "model checkpoint", cb->monitor,
                  cols);
        return -1;
    }
    return 0;
}

static int checkpoint(ag_callback *cb, ag_trainer *t, int epoch, double value, FILE *log)
{
    char ep[32], val[40];
    snprintf(ep, sizeof ep, "%d", epoch + 1);
    snprintf(val, sizeof val, "%.17g", value);
    const char *meta[6] = {"epoch", ep, "monitor", cb->monitor, "monitor_value", val};
    if (ag_checkpoint_save(cb->path, t->model, t->opt, 3, meta) < 0) {
        ag__error_prepend("ag_fit: model checkpoint after epoch %d: ", epoch + 1);
        return -1;
    }
    if (log && cb->save_best_only)
        fprintf(log, "Epoch %d: %s improved to %.5f, saving model to %s\n", epoch + 1,
                cb->monitor, value, cb->path);
    return 0;
}

int ag__callback_epoch_end(ag_callback *cb, ag_trainer *t, int epoch, const ag_history *h,
                           FILE *log, bool *stop)
{
    if (cb->kind == CB_USER) {
        *stop |= cb->fn(t, epoch, h, cb->ctx);
        return 0;
    }
    double v = ag_history_last(h, cb->monitor);
    if (cb->kind == CB_CHECKPOINT) {
        bool better = cb->mode_max ? v > cb->best : v < cb->best;
        if (cb->save_best_only && !better) return 0;
        if (better) cb->best = v;
        return checkpoint(cb, t, epoch, v, log);
    }
    /* Early stopping, as Keras: improvement means beating the best by more than min_delta. */
    bool better = cb->mode_max ? v - cb->min_delta > cb->best : v + cb->min_delta < cb->best;
    if (cb->restore_best && !cb->snap && take_snapshot(cb, t) < 0) return -1;
    cb->wait++;
    if (better) {
        cb->best = v;
        cb->best_epoch = epoch;
        cb->wait = 0;
        if (cb->restore_best && take_snapshot(cb, t) < 0) return -1;
        return 0;
    }
    if (cb->wait >= cb->patience && epoch > 0) {
        *stop = true;
        if (log) fprintf(log, "Epoch %d: early stopping\n", epoch + 1);
    }
    return 0;
}

void ag__callback_end(ag_callback *cb, ag_trainer *t, FILE *log)
{
    if (cb->kind == CB_EARLY_STOP && cb->restore_best && cb->snap && cb->best_epoch >= 0) {
        restore_snapshot(cb, t);
        if (log)
            fprintf(log, "Restoring model weights from the end of the best epoch: %d.\n",
                    cb->best_epoch + 1);
    }
    free_snapshot(cb);
}
