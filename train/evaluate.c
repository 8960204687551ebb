/* train/evaluate.c - ag_evaluate and ag_predict: the model in evaluation mode, no graph recorded,
 * batch by batch inside a scope per batch (so memory stays bounded by one batch), and the
 * caller's training mode and grad mode restored afterwards.
 *
 * One exception: with AG_LOSS_CATEGORICAL_CROSS_ENTROPY ag_evaluate records each batch's forward
 * graph (never run backward, freed with the batch's scope), so that the loss finds the softmax's
 * logits as it does in training and in Keras, and the validation loss is the same formula as the
 * training loss rather than the log of clipped probabilities.
 */
#include <string.h>

#include "train_internal.h"
#include "../nn/nn_internal.h"

/* Evaluation mode and no-grad, remembering what to restore. */
typedef struct eval_guard {
    ag_module *m;
    bool was_training, grad_was_on;
} eval_guard;

static eval_guard eval_begin(ag_module *m, bool record_graph)
{
    eval_guard g = {m, ag_module_is_training(m), ag_set_grad_enabled(record_graph)};
    ag_module_train(m, false);
    return g;
}

static void eval_end(const eval_guard *g)
{
    ag_module_train(g->m, g->was_training);
    ag_set_grad_enabled(g->grad_was_on);
}

int ag_evaluate(ag_trainer *t, const ag_dataset *ds, int64_t batch_size, double *loss,
                double *metrics_out)
{
    if (!t) {
        ag__error("ag_evaluate: trainer is NULL");
        return -1;
    }
    if (ag__check_dataset("ag_evaluate", "evaluation", t, ds) < 0) return -1;
    if (batch_size < 1) {
        ag__error("ag_evaluate: batch_size %lld must be at least 1", (long long)batch_size);
        return -1;
    }
    ag_batcher *b = ag_batcher_new(ds, batch_size, false, 0, false);
    if (!b) return -1;
    eval_guard g = eval_begin(t->model, t->loss == AG_LOSS_CATEGORICAL_CROSS_ENTROPY);
    ag__acc a = {0};
    int rc = 0;
    for (int64_t step = 1; rc == 0; step++) {
        ag_scope *s = ag_scope_begin();
        if (!s) {
            rc = -1;
            break;
        }
        ag_tensor *xb = NULL, *yb = NULL;
        int got = ag_batcher_next(b, &xb, &yb);
        if (got <= 0) {
            rc = got;
            ag_scope_end(s);
            break;
        }
        ag_tensor *pred = ag_module_forward(t->model, xb);
        ag_tensor *l = pred ? ag__trainer_loss(t, pred, yb) : NULL;
        if (!l || ag__acc_add(t, &a, pred, yb, ag_item(l)) < 0) {
            ag__error_prepend("ag_evaluate: batch %lld: ", (long long)step);
            rc = -1;
        }
        ag_scope_end(s);
    }
    eval_end(&g);
    ag_batcher_free(b);
    if (rc < 0) return -1;
    double lv, mv[AG__MAX_METRICS];
    ag__acc_values(t, &a, &lv, mv);
    if (loss) *loss = lv;
    if (metrics_out) memcpy(metrics_out, mv, (size_t)ag__metric_count(t) * sizeof *mv);
    return 0;
}

/* Forward of rows [start, stop) of x in the current scope. */
static ag_tensor *forward_rows(ag_module *m, const ag_tensor *x, int64_t start, int64_t stop)
{
    ag_tensor *xb = ag_slice((ag_tensor *)x, 0, start, stop, 1);
    return xb ? ag_module_forward(m, xb) : NULL;
}

ag_tensor *ag_predict(ag_module *model, const ag_tensor *x, int64_t batch_size)
{
    if (!model || !x) {
        ag__error("ag_predict: %s is NULL", model ? "x" : "model");
        return NULL;
    }
    char s[AG_SHAPE_BUF];
    if (ag_ndim(x) < 1 || ag_dim(x, 0) < 1) {
        ag__error("ag_predict: x %s has no examples (expected [N, ...] with N >= 1)",
                  ag_shape_str(x, s, sizeof s));
        return NULL;
    }
    if (batch_size < 1) {
        ag__error("ag_predict: batch_size %lld must be at least 1", (long long)batch_size);
        return NULL;
    }
    ag_dtype dt;
    if (ag__model_dtype(model, &dt) && ag_get_dtype(x) != dt) {
        ag__error("ag_predict: x %s is %s but the model's parameters are %s",
                  ag_shape_str(x, s, sizeof s), ag_dtype_name(ag_get_dtype(x)), ag_dtype_name(dt));
        return NULL;
    }
    int64_t n = ag_dim(x, 0), k = batch_size < n ? batch_size : n;
    eval_guard g = eval_begin(model, false);
    /* The first batch fixes the output's shape; it is kept past its scope so the result can be
     * allocated in the caller's ownership (their scope, or theirs to free). */
    ag_scope *sc = ag_scope_begin();
    ag_tensor *first = sc ? ag_keep(forward_rows(model, x, 0, k)) : NULL;
    if (sc) ag_scope_end(sc);
    ag_tensor *out = NULL;
    if (!first) {
        ag__error_prepend("ag_predict: rows [0, %lld): ", (long long)k);
        goto done;
    }
    if (ag_ndim(first) < 1 || ag_dim(first, 0) != k) {
        ag__error("ag_predict: the model returned %s for a batch of %lld examples",
                  ag_shape_str(first, s, sizeof s), (long long)k);
        goto done;
    }
    int64_t shape[AG_MAX_DIMS];
    memcpy(shape, ag_shape(first), (size_t)ag_ndim(first) * sizeof *shape);
    shape[0] = n;
    int64_t row = ag_numel(first) / ag_dim(first, 0);
    size_t esz = ag_dtype_size(ag_get_dtype(first));
    out = ag_zeros(ag_get_dtype(first), ag_ndim(first), shape);
    if (!out) {
        ag__error_prepend("ag_predict: ");
        goto done;
    }
    char *dst = ag_data(out);
    memcpy(dst, ag_data(first), (size_t)ag_numel(first) * esz);
    for (int64_t start = ag_dim(first, 0); start < n; start += batch_size) {
        int64_t stop = n - start < batch_size ? n : start + batch_size;
        sc = ag_scope_begin();
        ag_tensor *yb = sc ? forward_rows(model, x, start, stop) : NULL;
        bool ok = yb && ag_numel(yb) == (stop - start) * row && ag_get_dtype(yb) == ag_get_dtype(out);
        if (ok) memcpy(dst + (size_t)(start * row) * esz, ag_data(yb), (size_t)ag_numel(yb) * esz);
        else if (yb) ag__error("ag_predict: the model returned %s for rows [%lld, %lld)",
                               ag_shape_str(yb, s, sizeof s), (long long)start, (long long)stop);
        else ag__error_prepend("ag_predict: rows [%lld, %lld): ", (long long)start,
                               (long long)stop);
        if (sc) ag_scope_end(sc);
        if (!ok) {
            ag__discard(out); /* the caller's (or their scope's) new tensor, taken back */
            out = NULL;
            goto done;
        }
    }
done:
    ag_tensor_free(first);
    eval_end(&g);
    return out;
}
