/* train/fit.c - ag_compile and ag_fit: the Keras-style training loop.
 *
 * A training step is exactly the hand-written loop (zero_grad, forward, loss, backward, step)
 * inside a scope, so every intermediate of a step is freed when it ends and memory stays flat.
 * The loss is read back once per step (ag_item) to check it is finite and to sum the epoch's
 * mean; a NaN or infinite loss stops training before the update (Keras' TerminateOnNaN, but
 * leaving the weights of the last good step).
 *
 * After each epoch: validation (ag_evaluate), the history row, the progress line, the
 * scheduler step, then the callbacks in order.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "train_internal.h"
#include "../nn/nn_internal.h"

/* ---- the trainer ---- */

ag_trainer *ag_compile(ag_module *model, ag_optimizer *opt, ag_loss_kind loss, unsigned metrics)
{
    if (!model || !opt) {
        ag__error("ag_compile: %s is NULL", model ? "optimizer" : "model");
        return NULL;
    }
    if ((int)loss < AG_LOSS_MSE || loss > AG_LOSS_CUSTOM) {
        ag__error("ag_compile: unknown loss kind %d", (int)loss);
        return NULL;
    }
    if (metrics & ~(unsigned)(AG_METRIC_ACCURACY | AG_METRIC_MSE | AG_METRIC_MAE)) {
        ag__error("ag_compile: unknown metric bits 0x%x (use AG_METRIC_ACCURACY | AG_METRIC_MSE "
                  "| AG_METRIC_MAE)", metrics);
        return NULL;
    }
    /* The optimizer may train a subset of the model (frozen layers) but nothing else. */
    int np = ag_module_num_params(model);
    for (int i = 0; i < ag_optim_num_params(opt); i++) {
        ag_tensor *p = ag_optim_param(opt, i);
        int j = 0;
        while (j < np && ag_module_param(model, j) != p) j++;
        if (j == np) {
            char s[AG_SHAPE_BUF];
            ag__error("ag_compile: the optimizer's parameter %d %s is not a parameter of the "
                      "model", i, ag_shape_str(p, s, sizeof s));
            return NULL;
        }
    }
    ag_trainer *t = calloc(1, sizeof *t);
    if (!t) {
        ag__error("ag_compile: out of memory");
        return NULL;
    }
    t->model = model;
    t->opt = opt;
    t->loss = loss;
    t->metrics = metrics;
    return t;
}

int ag_trainer_set_loss_opts(ag_trainer *t, const ag_loss_opts *opts)
{
    if (!t) {
        ag__error("ag_trainer_set_loss_opts: trainer is NULL");
        return -1;
    }
    if (opts && opts->reduction != AG_REDUCE_MEAN) {
        ag__error("ag_trainer_set_loss_opts: reduction %d: the training loop needs the mean "
                  "(AG_REDUCE_MEAN)", (int)opts->reduction);
        return -1;
    }
    if (opts) t->loss_opts = *opts;
    else memset(&t->loss_opts, 0, sizeof t->loss_opts);
    return 0;
}

int ag_trainer_set_loss_fn(ag_trainer *t, ag_loss_fn fn, void *ctx)
{
    if (!t || !fn) {
        ag__error("ag_trainer_set_loss_fn: %s is NULL", t ? "fn" : "trainer");
        return -1;
    }
    t->loss = AG_LOSS_CUSTOM;
    t->loss_fn = fn;
    t->loss_ctx = ctx;
    return 0;
}

void ag_trainer_free(ag_trainer *t) { free(t); }

ag_fit_opts ag_fit_defaults(void)
{
    return (ag_fit_opts){.epochs = 1, .batch_size = 32, .shuffle = true};
}

/* ---- fit ---- */

/* Everything one run needs; released by run_free whatever happened. */
typedef struct fit_run {
    ag_trainer *t;
    const ag_fit_opts *o;
    const ag_dataset *train, *val;
    ag_dataset *split_train, *split_val;   /* owned when validation_split is used */
    ag_batcher *batcher;
    ag_history *h;
    ag__progress prog;
    int nm;                                /* compiled metrics */
    const char *cols[AG__MAX_COLUMNS];
    int ncols;
} fit_run;

static int check_opts(const ag_trainer *t, const ag_dataset *train, const ag_fit_opts *o)
{
    if (o->epochs < 0 || o->initial_epoch < 0 || o->initial_epoch > o->epochs) {
        ag__error("ag_fit: need 0 <= initial_epoch <= epochs (got initial_epoch %d, epochs %d)",
                  o->initial_epoch, o->epochs);
        return -1;
    }
    if (o->batch_size < 1) {
        ag__error("ag_fit: batch_size %lld must be at least 1", (long long)o->batch_size);
        return -1;
    }
    if (!(o->validation_split >= 0 && o->validation_split < 1)) {
        ag__error("ag_fit: validation_split %g must be in [0, 1)", o->validation_split);
        return -1;
    }
    if ((int)o->verbose < AG_VERBOSE_AUTO || o->verbose > AG_VERBOSE_LINES) {
        ag__error("ag_fit: unknown verbosity %d", (int)o->verbose);
        return -1;
    }
    if (o->ncallbacks < 0 || (o->ncallbacks > 0 && !o->callbacks)) {
        ag__error("ag_fit: %d callbacks but the array is %s", o->ncallbacks,
                  o->callbacks ? "given" : "NULL");
        return -1;
    }
    for (int i = 0; i < o->ncallbacks; i++)
        if (!o->callbacks[i]) {
            ag__error("ag_fit: callback %d is NULL", i);
            return -1;
        }
    if (t->loss == AG_LOSS_CUSTOM && !t->loss_fn) {
        ag__error("ag_fit: the loss is AG_LOSS_CUSTOM but no function was set "
                  "(ag_trainer_set_loss_fn)");
        return -1;
    }
    if (ag__check_dataset("ag_fit", "training", t, train) < 0) return -1;
    if (o->validation_data &&
        ag__check_dataset("ag_fit", "validation_data", t, o->validation_data) < 0)
        return -1;
    return 0;
}

/* Training and validation sets: validation_data, else the last validation_split of train. */
static int split_data(fit_run *r, const ag_dataset *train)
{
    const ag_fit_opts *o = r->o;
    r->train = train;
    r->val = o->validation_data;
    if (r->val || o->validation_split == 0) return 0;
    int64_t n = ag_dataset_size(train);
    double keep = round((double)n * (1 - o->validation_split));
    if (keep < 1 || keep > (double)(n - 1)) {
        ag__error("ag_fit: validation_split %g of %lld examples leaves %s empty", o->validation_split,
                  (long long)n, keep < 1 ? "the training set" : "the validation set");
        return -1;
    }
    /* In a scope of our own: the copies then belong to the datasets alone, not also to a scope
     * the caller may have open (which would hold them until it ends). */
    ag_scope *s = ag_scope_begin();
    if (!s) return -1;
    int rc = ag_dataset_split(train, o->validation_split, false, 0, &r->split_train, &r->split_val);
    ag_scope_end(s);
    if (rc < 0) return -1;
    r->train = r->split_train;
    r->val = r->split_val;
    return 0;
}

static void run_free(fit_run *r)
{
    ag_batcher_free(r->batcher);
    ag_dataset_free(r->split_train);
    ag_dataset_free(r->split_val);
}

/* Prefixes the current error with "ag_fit: epoch E, step S: ". */
static void step_error(int epoch, int64_t step)
{
    ag__error_prepend("ag_fit: epoch %d, step %lld: ", epoch + 1, (long long)step);
}

/* One epoch of training steps. Returns 0, 1 when the loss diverged, -1 on error. */
static int train_epoch(fit_run *r, int epoch, ag__acc *a)
{
    ag_trainer *t = r->t;
    const char *names[1 + AG__MAX_METRICS];
    double vals[1 + AG__MAX_METRICS];
    names[0] = "loss";
    for (int i = 0; i < r->nm; i++) names[1 + i] = r->cols[1 + i];
    if (ag_batcher_seek_epoch(r->batcher, epoch) < 0) return -1;
    for (int64_t step = 1;; step++) {
        ag_scope *s = ag_scope_begin();
        if (!s) return -1;
        ag_tensor *xb = NULL, *yb = NULL;
        int got = ag_batcher_next(r->batcher, &xb, &yb);
        if (got <= 0) {
            ag_scope_end(s);
            if (got < 0) step_error(epoch, step);
            return got;
        }
        int rc = ag_optim_zero_grad(t->opt);
        ag_tensor *pred = rc == 0 ? ag_module_forward(t->model, xb) : NULL;
        ag_tensor *loss = pred ? ag__trainer_loss(t, pred, yb) : NULL;
        double lv = loss ? ag_item(loss) : NAN;
        if (!loss) {
            rc = -1;
        } else if (!isfinite(lv)) {
            ag__error("ag_fit: the loss became %g at epoch %d, step %lld; training stopped (try a "
                      "smaller learning rate)", lv, epoch + 1, (long long)step);
            ag__progress_message(&r->prog, "Epoch %d, step %lld: invalid loss %g, terminating "
                                 "training", epoch + 1, (long long)step, lv);
            ag_scope_end(s);
            return 1;
        } else if (ag_backward(loss) < 0 || ag_optim_step(t->opt) < 0 ||
                   ag__acc_add(t, a, pred, yb, lv) < 0) {
            rc = -1;
        }
        ag_scope_end(s);
        if (rc < 0) {
            step_error(epoch, step);
            return -1;
        }
        ag__acc_values(t, a, &vals[0], &vals[1]);
        ag__progress_step(&r->prog, step, 1 + r->nm, names, vals);
    }
}

/* Builds the epoch's history row (train values, validation, lr, seconds) and prints it. */
static int finish_epoch(fit_run *r, const ag__acc *a, double lr, double start, int64_t steps)
{
    double row[AG__MAX_COLUMNS];
    int k = 0;
    ag__acc_values(r->t, a, &row[0], &row[1]);
    k = 1 + r->nm;
    if (r->val) {
        if (ag_evaluate(r->t, r->val, r->o->batch_size, &row[k], &row[k + 1]) < 0) return -1;
        k += 1 + r->nm;
    }
    ag__progress_epoch_end(&r->prog, steps, k, r->cols, row);
    row[k++] = lr;
    row[k++] = ag__now() - start;
    return ag__history_append(r->h, row);
}

/* Steps the scheduler once per epoch. ag_sched_step_metric serves every kind: a plateau
 * schedule uses the metric (val_loss, or loss without validation data), the others ignore it. */
static int step_scheduler(fit_run *r)
{
    ag_scheduler *s = r->o->scheduler;
    if (!s) return 0;
    return ag_sched_step_metric(s, ag_history_last(r->h, r->val ? "val_loss" : "loss"));
}

static void set_columns(fit_run *r)
{
    static const char *const val_names[AG__MAX_METRICS + 1][2] = {
        {"loss", "val_loss"}, {"accuracy", "val_accuracy"}, {"mse", "val_mse"},
        {"mae", "val_mae"}};
    int k = 0;
    r->cols[k++] = "loss";
    for (int i = 0; i < r->nm; i++) r->cols[k++] = ag__metric_name(r->t, i);
    if (r->val) {
        for (int i = 0; i <= r->nm; i++) {
            const char *base = i == 0 ? "loss" : ag__metric_name(r->t, i - 1);
            for (int j = 0; j <= AG__MAX_METRICS; j++)
                if (strcmp(val_names[j][0], base) == 0) r->cols[k++] = val_names[j][1];
        }
    }
    r->cols[k++] = "lr";
    r->cols[k++] = "seconds";
    r->ncols = k;
}

ag_history *ag_fit(ag_trainer *t, const ag_dataset *train, const ag_fit_opts *opts)
{
    ag_fit_opts defaults = ag_fit_defaults();
    if (!t) {
        ag__error("ag_fit: trainer is NULL");
        return NULL;
    }
    fit_run r = {.t = t, .o = opts ? opts : &defaults, .nm = ag__metric_count(t)};
    const ag_fit_opts *o = r.o;
    if (check_opts(t, train, o) < 0 || split_data(&r, train) < 0) {
        run_free(&r);
        return NULL;
    }
    set_columns(&r);
    r.batcher = ag_batcher_new(r.train, o->batch_size, o->shuffle, o->seed, false);
    r.h = r.batcher ? ag__history_new(o->initial_epoch, r.ncols, r.cols) : NULL;
    int rc = r.h ? 0 : -1;
    for (int i = 0; rc == 0 && i < o->ncallbacks; i++)
        rc = ag__callback_begin(o->callbacks[i], t, r.h, r.val != NULL);
    if (rc < 0) {
        ag_history_free(r.h);
        run_free(&r);
        return NULL;
    }
    ag__progress_init(&r.prog, o->verbose, o->out);
    bool was_training = ag_module_is_training(t->model);
    bool grad_was_on = ag_set_grad_enabled(true);
    ag_module_train(t->model, true);
    int64_t steps = ag_batcher_num_batches(r.batcher);
    bool diverged = false, stopped = false;
    for (int epoch = o->initial_epoch; epoch < o->epochs && !stopped; epoch++) {
        double start = ag__now(), lr = ag_optim_get_lr(t->opt);
        ag__acc a = {0};
        ag__progress_epoch_begin(&r.prog, epoch + 1, o->epochs, steps);
        rc = train_epoch(&r, epoch, &a);
        if (rc == 1) diverged = true;
        if (rc != 0) break;
        if (finish_epoch(&r, &a, lr, start, steps) < 0 || step_scheduler(&r) < 0) {
            rc = -1;
            break;
        }
        bool stop = false;
        for (int i = 0; rc == 0 && i < o->ncallbacks; i++)
            rc = ag__callback_epoch_end(o->callbacks[i], t, epoch, r.h, r.prog.out, &stop);
        if (rc < 0) break;
        stopped = stop && epoch + 1 < o->epochs;
    }
    for (int i = 0; i < o->ncallbacks; i++) ag__callback_end(o->callbacks[i], t, r.prog.out);
    ag_module_train(t->model, was_training);
    ag_set_grad_enabled(grad_was_on);
    run_free(&r);
    if (rc < 0) {
        ag_history_free(r.h);
        return NULL;
    }
    ag__history_set_flags(r.h, diverged, stopped);
    return r.h;
}
