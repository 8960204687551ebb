/* tests/test_loss_probs.c - ag_categorical_cross_entropy, the cross-entropy on probabilities
 * (Keras's categorical_crossentropy with from_logits = false):
 *   - after a recorded softmax it is computed from the logits: equal to ag_cross_entropy on them,
 *     finite where the probability underflows, gradient (softmax - target) / N;
 *   - on other probabilities, Keras's formula by hand: rows normalised, clipped to
 *     [1e-7, 1 - 1e-7], -sum(t log p);
 *   - gradients checked by finite differences in float64 (first and second order) on both paths,
 *     with index and probability targets, class weights and label smoothing;
 *   - values outside [0, 1] (logits by mistake) are an error saying what to use.
 */
#include <math.h>

#include "test_util.h"

static ag_tensor *index_targets3(void) { return T64_1(3, ((double[]){2, 0, 1})); }

static const double LOGITS[] = {0.3, -1.2, 2.0, 0.5, 0.1, -0.4, -2.0, 1.5, 0.7};
static const double PROBS[] = {0.2, 0.5, 0.3, 0.6, 0.3, 0.1, 0.25, 0.25, 0.5};

Test(loss_probs, after_a_softmax_it_equals_the_logits_loss)
{
    ag_scope *s = ag_scope_begin();
    ag_tensor *x = T64(3, 3, LOGITS);
    ag_set_requires_grad(x, true);
    ag_tensor *onehot = T64(3, 3, ((double[]){0, 0, 1, 1, 0, 0, 0, 1, 0}));
    ag_tensor *targets[2] = {index_targets3(), onehot};
    ag_loss_opts opts[3] = {{0}, {.label_smoothing = 0.1}, {.reduction = AG_REDUCE_SUM}};
    for (int k = 0; k < 2; k++)
        for (int j = 0; j < 3; j++) {
            ag_tensor *a = ag_categorical_cross_entropy(ag_softmax(x, -1), targets[k], &opts[j]);
            ag_tensor *b = ag_cross_entropy(x, targets[k], &opts[j]);
            cr_assert(a && b, "%s", ag_last_error());
            cr_expect_eq(ag_item(a), ag_item(b), "targets %d, opts %d: bit for bit", k, j);
        }
    /* a probability that underflows to 0 still gives the finite loss of the logits */
    ag_tensor *far = T64(1, 2, ((double[]){800, -800}));
    ag_set_requires_grad(far, true);
    ag_tensor *l = ag_categorical_cross_entropy(ag_softmax(far, 1), T64_1(1, ((double[]){1})), NULL);
    cr_assert_not_null(l, "%s", ag_last_error());
    cr_expect_float_eq(ag_item(l), 1600.0, 1e-9, "-log_softmax, not -log(1e-7) = 16.1");
    cr_assert_eq(ag_backward(l), 0);
    expect_values(ag_grad(far), (double[]){1, -1}, 2, 1e-12); /* softmax - target */
    ag_scope_end(s);
}

/* Keras's formula, by hand: -sum_c t_c log(clip(p_c / sum p, 1e-7, 1 - 1e-7)), mean over rows. */
static double keras_loss(const double *p, const double *t, int n, int c)
{
    double total = 0;
    for (int i = 0; i < n; i++) {
        double sum = 0;
        for (int j = 0; j < c; j++) sum += p[i * c + j];
        for (int j = 0; j < c; j++) {
            double q = fmin(fmax(p[i * c + j] / sum, 1e-7), 1 - 1e-7);
            total -= t[i * c + j] * log(q);
        }
    }
    return total / n;
}

Test(loss_probs, other_probabilities_follow_keras_formula)
{
    ag_scope *s = ag_scope_begin();
    double t[9] = {0, 0, 1, 1, 0, 0, 0, 1, 0};
    ag_tensor *l = ag_categorical_cross_entropy(T64(3, 3, PROBS), T64(3, 3, t), NULL);
    cr_assert_not_null(l, "%s", ag_last_error());
    cr_expect_float_eq(ag_item(l), keras_loss(PROBS, t, 3, 3), 1e-15);
    cr_expect_float_eq(ag_item(l), -(log(0.3) + log(0.6) + log(0.25)) / 3, 1e-15);
    /* index targets give the same; rows not summing to 1 are normalised */
    double unnorm[9], z[3] = {0, 0.9, 0.1};
    for (int i = 0; i < 9; i++) unnorm[i] = PROBS[i] * (i < 3 ? 0.5 : i < 6 ? 1.0 : 0.8);
    ag_tensor *li = ag_categorical_cross_entropy(T64(3, 3, unnorm), index_targets3(), NULL);
    cr_expect_float_eq(ag_item(li), ag_item(l), 1e-15);
    /* a zero probability is clipped to 1e-7, as Keras does */
    double zero_t[3] = {1, 0, 0};
    ag_tensor *lz = ag_categorical_cross_entropy(T64(1, 3, z), T64(1, 3, zero_t), NULL);
    cr_expect_float_eq(ag_item(lz), -log(1e-7), 1e-12);
    cr_expect_float_eq(ag_item(lz), keras_loss(z, zero_t, 1, 3), 1e-15);
    /* in float32 too */
    ag_tensor *l32 = ag_categorical_cross_entropy(tu_tensor(AG_F32, 2, (int64_t[]){3, 3}, PROBS),
                                                  tu_tensor(AG_F32, 2, (int64_t[]){3, 3}, t), NULL);
    cr_expect_float_eq(ag_item(l32), keras_loss(PROBS, t, 3, 3), 1e-6);
    ag_scope_end(s);
}

Test(loss_probs, evaluation_without_a_graph_agrees_with_training)
{
    ag_scope *s = ag_scope_begin();
    ag_tensor *x = T64(3, 3, LOGITS);
    ag_set_requires_grad(x, true);
    ag_tensor *y = index_targets3();
    ag_tensor *train = ag_categorical_cross_entropy(ag_softmax(x, -1), y, NULL);
    bool was = ag_set_grad_enabled(false);
    ag_tensor *eval = ag_categorical_cross_entropy(ag_softmax(x, -1), y, NULL);
    ag_set_grad_enabled(was);
    cr_expect_float_eq(ag_item(eval), ag_item(train), 1e-15);
    ag_scope_end(s);
}

/* ---- gradients by finite differences, float64 ---- */

enum head { PROBS_IN, SOFTMAX, SIGMOID }; /* what makes the probabilities from the input */

typedef struct {
    ag_tensor *target;
    ag_loss_opts opts;
    enum head head;
} case_ctx;

static ag_tensor *f(ag_tensor *const *in, int n, void *ctx)
{
    (void)n;
    case_ctx *c = ctx;
    ag_tensor *p = c->head == SOFTMAX ? ag_softmax(in[0], -1)
                 : c->head == SIGMOID ? ag_sigmoid(in[0]) : in[0];
    return ag_categorical_cross_entropy(p, c->target, &c->opts);
}

static void check_both_orders(const double *x0, enum head softmax)
{
    ag_tensor *w = T64_1(3, ((double[]){0.5, 2.0, 1.0}));
    ag_tensor *onehot = T64(3, 3, ((double[]){0.1, 0.2, 0.7, 1, 0, 0, 0, 1, 0}));
    case_ctx cases[] = {
        {index_targets3(), {0}, softmax},
        {onehot, {0}, softmax},
        {index_targets3(), {.class_weights = w}, softmax},
        {onehot, {.label_smoothing = 0.2, .class_weights = w}, softmax},
        {index_targets3(), {.reduction = AG_REDUCE_NONE, .label_smoothing = 0.1}, softmax},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        ag_tensor *x = T64(3, 3, x0);
        ag_set_requires_grad(x, true);
        cr_assert_not_null(f(&x, 1, &cases[k]), "case %zu: %s", k, ag_last_error());
        expect_gradcheck(f, &cases[k], 1, &x);
        expect_gradgradcheck(f, &cases[k], 1, &x);
    }
}

Test(loss_probs, gradients_through_the_softmax_path)
{
    ag_scope *s = ag_scope_begin();
    check_both_orders(LOGITS, SOFTMAX);
    ag_scope_end(s);
}

Test(loss_probs, gradients_through_the_clipped_log_path)
{
    ag_scope *s = ag_scope_begin();
    check_both_orders(PROBS, PROBS_IN); /* away from the clip bounds, as gradchecks avoid kinks */
    /* probabilities made by another op (sigmoid) take this path inside a graph too */
    check_both_orders(LOGITS, SIGMOID);
    ag_scope_end(s);
}

/* ---- mistakes ---- */

Test(loss_probs, logits_are_not_probabilities)
{
    ag_scope *s = ag_scope_begin();
    cr_expect_null(ag_categorical_cross_entropy(T64(3, 3, LOGITS), index_targets3(), NULL));
    expect_error_mentions("ag_categorical_cross_entropy", "probs[0,1] = -1.2", "logits",
                          "ag_cross_entropy", "AG_ACT_SOFTMAX");
    cr_expect_null(ag_categorical_cross_entropy(T64_1(3, PROBS), index_targets3(), NULL));
    expect_error_mentions("ag_categorical_cross_entropy", "probs [3]", "2-D");
    cr_expect_null(ag_categorical_cross_entropy(T64(3, 3, PROBS), T64_1(2, PROBS), NULL));
    expect_error_mentions("ag_categorical_cross_entropy", "target [2]", "probs [3,3]");
    cr_expect_null(ag_categorical_cross_entropy(T64(3, 3, PROBS), T64_1(3, ((double[]){0, 3, 1})),
                                                NULL));
    expect_error_mentions("ag_categorical_cross_entropy", "target[1] = 3");
    cr_expect_null(ag_categorical_cross_entropy(T64(3, 3, PROBS), index_targets3(),
                                                &(ag_loss_opts){.pos_weight = index_targets3()}));
    expect_error_mentions("ag_categorical_cross_entropy", "pos_weight");
    ag_scope_end(s);
}
