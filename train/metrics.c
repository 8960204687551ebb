/* train/metrics.c - the trainer's loss of a batch and the metrics (accuracy, mse, mae) summed over
 * batches, plus ag_argmax_rows.
 *
 * Metrics are read from the predictions' values (no graph): accuracy counts rows whose argmax
 * equals the target class (index targets, or the argmax of one-hot rows), or for one-column
 * predictions the side of the threshold (logit 0 with a BCE loss, 0.5 otherwise, as Keras'
 * binary accuracy) against target > 0.5. mse/mae compare elementwise; index targets against
 * [N, C] predictions are compared as one-hot rows.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../data/data_internal.h"
#include "../nn/nn_internal.h"
#include "train_internal.h"

static const unsigned metric_bits[AG__MAX_METRICS] = {AG_METRIC_ACCURACY, AG_METRIC_MSE,
                                                      AG_METRIC_MAE};
static const char *const metric_names[AG__MAX_METRICS] = {"accuracy", "mse", "mae"};

int ag__metric_count(const ag_trainer *t)
{
    int n = 0;
    for (int i = 0; i < AG__MAX_METRICS; i++) n += (t->metrics & metric_bits[i]) != 0;
    return n;
}

const char *ag__metric_name(const ag_trainer *t, int i)
{
    for (int k = 0; k < AG__MAX_METRICS; k++)
        if ((t->metrics & metric_bits[k]) && i-- == 0) return metric_names[k];
    return NULL;
}

bool ag__model_dtype(const ag_module *m, ag_dtype *dt)
{
    if (ag_module_num_params(m) < 1) return false;
    *dt = ag_get_dtype(ag_module_param(m, 0));
    return true;
}

int ag__check_dataset(const char *fn, const char *what, const ag_trainer *t,
                      const ag_dataset *ds)
{
    char name[64];
    snprintf(name, sizeof name, "%s dataset", what);
    if (!ag__data_check(fn, name, ds)) return -1;
    int64_t n = ag_dataset_size(ds);
    if (n < 1) {
        ag__error("%s: %s dataset is empty", fn, what);
        return -1;
    }
    ag_dtype dt;
    if (ag__model_dtype(t->model, &dt)) {
        const ag_tensor *ts[2] = {ds->x, ds->y};
        const char *names[2] = {"x", "y"};
        for (int i = 0; i < 2; i++) {
            if (ag_get_dtype(ts[i]) != dt) {
                char s[AG_SHAPE_BUF];
                ag__error("%s: %s %s is %s %s but the model's parameters are %s (convert with "
                          "ag_dataset_cast)", fn, what, names[i], ag_dtype_name(ag_get_dtype(ts[i])),
                          ag_shape_str(ts[i], s, sizeof s), ag_dtype_name(dt));
                return -1;
            }
        }
    }
    return 0;
}

/* For elementwise losses: [N, 1] predictions take [N] targets and the reverse (a view). */
static ag_tensor *match_column(ag_tensor *pred, ag_tensor *y)
{
    if (ag_numel(pred) != ag_numel(y) || ag_same_shape(pred, y)) return y;
    if (ag_ndim(pred) == 2 && ag_dim(pred, 1) == 1 && ag_ndim(y) == 1)
        return ag_reshape(y, 2, (int64_t[]){ag_dim(y, 0), 1});
    if (ag_ndim(pred) == 1 && ag_ndim(y) == 2 && ag_dim(y, 1) == 1)
        return ag_reshape(y, 1, (int64_t[]){ag_dim(y, 0)});
    return y;
}

ag_tensor *ag__trainer_loss(ag_trainer *t, ag_tensor *pred, ag_tensor *y)
{
    ag_tensor *l = NULL;
    switch (t->loss) {
    case AG_LOSS_MSE: l = ag_mse_loss(pred, match_column(pred, y), &t->loss_opts); break;
    case AG_LOSS_MAE: l = ag_l1_loss(pred, match_column(pred, y), &t->loss_opts); break;
    case AG_LOSS_CROSS_ENTROPY:
        if (ag__softmax_input(pred)) {
            ag__error("the model's last op is a softmax, so it outputs probabilities, but "
                      "AG_LOSS_CROSS_ENTROPY takes logits and applies a softmax of its own (two "
                      "in a row train badly): compile with AG_LOSS_CATEGORICAL_CROSS_ENTROPY "
                      "(Keras's categorical_crossentropy), or drop the model's softmax");
            return NULL;
        }
        l = ag_cross_entropy(pred, y, &t->loss_opts);
        break;
    case AG_LOSS_CATEGORICAL_CROSS_ENTROPY:
        l = ag_categorical_cross_entropy(pred, y, &t->loss_opts);
        break;
    case AG_LOSS_BCE: l = ag_bce_with_logits(pred, match_column(pred, y), &t->loss_opts); break;
    case AG_LOSS_CUSTOM:
        if (!t->loss_fn) {
            ag__error("ag_fit: the loss is AG_LOSS_CUSTOM but no function was set "
                      "(ag_trainer_set_loss_fn)");
            return NULL;
        }
        l = t->loss_fn(pred, y, t->loss_ctx);
        if (!l && !ag_has_error()) ag__error("custom loss function returned NULL");
        break;
    }
    if (l && ag_numel(l) != 1) {
        char s[AG_SHAPE_BUF];
        ag__error("loss returned shape %s, expected one value (reduction must be mean)",
                  ag_shape_str(l, s, sizeof s));
        return NULL;
    }
    return l;
}

static double at(const void *d, ag_dtype dt, int64_t i)
{
    return dt == AG_F32 ? (double)((const float *)d)[i] : ((const double *)d)[i];
}

static int64_t row_argmax(const void *d, ag_dtype dt, int64_t row, int64_t c)
{
    int64_t best = 0;
    double bv = at(d, dt, row * c);
    for (int64_t j = 1; j < c; j++) {
        double v = at(d, dt, row * c + j);
        if (v > bv || (isnan(v) && !isnan(bv))) { /* NaN wins, as in NumPy */
            bv = v;
            best = j;
        }
    }
    return best;
}

static void shape_error(const char *what, const ag_tensor *pred, const ag_tensor *y)
{
    char a[AG_SHAPE_BUF], b[AG_SHAPE_BUF];
    ag__error("%s: targets %s do not fit predictions %s", what, ag_shape_str(y, b, sizeof b),
              ag_shape_str(pred, a, sizeof a));
}

static int add_accuracy(const ag_trainer *t, ag__acc *a, const ag_tensor *pred,
                        const ag_tensor *y)
{
    int64_t n = ag_dim(pred, 0);
    ag_dtype dt = ag_get_dtype(pred);
    const void *p = ag_data((ag_tensor *)pred), *q = ag_data((ag_tensor *)y);
    int64_t c = ag_ndim(pred) == 2 ? ag_dim(pred, 1) : 1;
    if (ag_ndim(pred) > 2 || ag_ndim(pred) < 1 || ag_dim(y, 0) != n) {
        shape_error("accuracy", pred, y);
        return -1;
    }
    if (c == 1) { /* binary */
        if (ag_numel(y) != n) {
            shape_error("accuracy", pred, y);
            return -1;
        }
        double thr = t->loss == AG_LOSS_BCE ? 0.0 : 0.5;
        for (int64_t i = 0; i < n; i++)
            a->correct += (at(p, dt, i) > thr) == (at(q, dt, i) > 0.5);
        return 0;
    }
    bool onehot = ag_ndim(y) == 2 && ag_dim(y, 1) == c;
    if (!onehot && ag_ndim(y) != 1) {
        shape_error("accuracy", pred, y);
        return -1;
    }
    for (int64_t i = 0; i < n; i++) {
        int64_t want = onehot ? row_argmax(q, dt, i, c) : (int64_t)llround(at(q, dt, i));
        a->correct += row_argmax(p, dt, i, c) == want;
    }
    return 0;
}

static int add_errors(ag__acc *a, const ag_tensor *pred, const ag_tensor *y)
{
    ag_dtype dt = ag_get_dtype(pred);
    const void *p = ag_data((ag_tensor *)pred), *q = ag_data((ag_tensor *)y);
    int64_t m = ag_numel(pred);
    if (ag_numel(y) == m) {
        for (int64_t i = 0; i < m; i++) {
            double d = at(p, dt, i) - at(q, dt, i);
            a->sq_sum += d * d;
            a->abs_sum += fabs(d);
        }
    } else if (ag_ndim(pred) == 2 && ag_ndim(y) == 1 && ag_dim(y, 0) == ag_dim(pred, 0)) {
        int64_t n = ag_dim(pred, 0), c = ag_dim(pred, 1);
        for (int64_t i = 0; i < n; i++) {
            int64_t cls = (int64_t)llround(at(q, dt, i));
            for (int64_t j = 0; j < c; j++) {
                double d = at(p, dt, i * c + j) - (j == cls ? 1.0 : 0.0);
                a->sq_sum += d * d;
                a->abs_sum += fabs(d);
            }
        }
    } else {
        shape_error("mse/mae", pred, y);
        return -1;
    }
    a->elems += m;
    return 0;
}

int ag__acc_add(const ag_trainer *t, ag__acc *a, const ag_tensor *pred, const ag_tensor *y,
                double batch_loss)
{
    int64_t n = ag_ndim(pred) > 0 ? ag_dim(pred, 0) : 1;
    if (ag_get_dtype(pred) != ag_get_dtype(y)) {
        ag__error("metrics: predictions are %s but targets are %s",
                  ag_dtype_name(ag_get_dtype(pred)), ag_dtype_name(ag_get_dtype(y)));
        return -1;
    }
    if ((t->metrics & AG_METRIC_ACCURACY) && add_accuracy(t, a, pred, y) < 0) return -1;
    if ((t->metrics & (AG_METRIC_MSE | AG_METRIC_MAE)) && add_errors(a, pred, y) < 0) return -1;
    a->loss_sum += batch_loss * (double)n;
    a->n += n;
    return 0;
}

void ag__acc_values(const ag_trainer *t, const ag__acc *a, double *loss, double *metrics)
{
    double n = a->n > 0 ? (double)a->n : NAN, e = a->elems > 0 ? (double)a->elems : NAN;
    *loss = a->loss_sum / n;
    int k = 0;
    if (t->metrics & AG_METRIC_ACCURACY) metrics[k++] = (double)a->correct / n;
    if (t->metrics & AG_METRIC_MSE) metrics[k++] = a->sq_sum / e;
    if (t->metrics & AG_METRIC_MAE) metrics[k++] = a->abs_sum / e;
}

int ag_argmax_rows(const ag_tensor *x, int64_t *out)
{
    if (!x || !out) {
        ag__error("ag_argmax_rows: %s is NULL", x ? "out" : "x");
        return -1;
    }
    if (ag_ndim(x) != 2 || ag_dim(x, 1) < 1) {
        char s[AG_SHAPE_BUF];
        ag__error("ag_argmax_rows: expected [N, C] with C >= 1, got %s",
                  ag_shape_str(x, s, sizeof s));
        return -1;
    }
    const void *d = ag_data((ag_tensor *)x);
    int64_t n = ag_dim(x, 0), c = ag_dim(x, 1);
    for (int64_t i = 0; i < n; i++) out[i] = row_argmax(d, ag_get_dtype(x), i, c);
    return 0;
}
