/* autograd/loss.h - loss functions, each a composition of ops (so backward and create_graph work
 * through them like through any other expression).
 *
 * Shapes: predictions are [N] or [N, C] (a batch of N examples). Every loss returns a 0-d tensor
 * for AG_REDUCE_MEAN (the default) and AG_REDUCE_SUM. With AG_REDUCE_NONE, cross-entropy returns
 * the [N] per-example losses and the elementwise losses (MSE, L1, BCE) keep the prediction's
 * shape. Predictions and targets must have the same dtype.
 *
 * Weights (class_weights, pos_weight) are settings, not parameters: they are read as constants
 * and receive no gradient. An option a loss does not take (label_smoothing or class_weights for
 * anything but cross-entropy, pos_weight for anything but BCE) is an error, not ignored.
 * Target values are not range-checked, except class indices (PyTorch does the same).
 */
#ifndef AUTOGRAD_LOSS_H
#define AUTOGRAD_LOSS_H

#include "tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ag_reduction { AG_REDUCE_MEAN = 0, AG_REDUCE_SUM, AG_REDUCE_NONE } ag_reduction;

/* Options shared by the losses; a zero-initialised struct (or NULL) gives the defaults. */
typedef struct ag_loss_opts {
    ag_reduction reduction;         /* default mean */
    double label_smoothing;         /* cross-entropy only: 0 <= s < 1; targets become
                                       (1-s)*target + s/C (PyTorch's definition) */
    const ag_tensor *class_weights; /* cross-entropy only: [C] weights, or NULL. With class-index
                                       targets the mean divides by the sum of the weights of the
                                       targets (PyTorch); with probability targets by N. */
    const ag_tensor *pos_weight;    /* binary cross-entropy only: weight of the positive term,
                                       broadcast against the targets, or NULL */
} ag_loss_opts;

/* Mean squared error: mean over all elements of (pred - target)^2. pred and target have the same
 * shape. With AG_REDUCE_NONE the result is the elementwise squared error (pred's shape). */
ag_tensor *ag_mse_loss(ag_tensor *pred, ag_tensor *target, const ag_loss_opts *opts);

/* Mean absolute error, same conventions as ag_mse_loss (subgradient 0 at equality). */
ag_tensor *ag_l1_loss(ag_tensor *pred, ag_tensor *target, const ag_loss_opts *opts);

/* Cross-entropy from logits [N, C], computed as -sum(target * log_softmax(logits)) so logits of
 * 1000 stay finite. The target is either
 *   - [N] class indices stored as whole numbers in the logits' dtype (0 <= index < C), or
 *   - [N, C] probabilities or one-hot rows (Keras' categorical_crossentropy).
 * Gradient with respect to the logits: (softmax(logits) - target) / N for the mean.
 * Give it the model's raw scores, not the output of a softmax: on probabilities it would apply a
 * second softmax and train poorly; ag_categorical_cross_entropy is the loss for those. */
ag_tensor *ag_cross_entropy(ag_tensor *logits, ag_tensor *target, const ag_loss_opts *opts);

/* Cross-entropy on probabilities [N, C] (rows of a softmax), as Keras's categorical_crossentropy
 * with from_logits = false (and, for [N] class-index targets, sparse_categorical_crossentropy):
 * the loss for a model whose last layer is a softmax (Dense with AG_ACT_SOFTMAX, or
 * ag_softmax_layer), which is how Keras tutorials write classifiers. Targets, options and
 * reductions as ag_cross_entropy.
 *
 * When `probs` was made by ag_softmax over its last axis and that op is recorded in the graph (grad
 * mode on, as during training), the loss is computed from the softmax's input, the logits, as
 * ag_cross_entropy(logits, ...): the same value without taking the log of a rounded probability
 * (so it stays finite when a probability underflows to 0), and the gradient with respect to the
 * logits is exactly (softmax - target) / N. Keras does the same (ag_evaluate records the forward
 * graph for this loss, so validation losses find the logits too). Otherwise (in no-grad mode, or
 * for probabilities made another way) each row is divided by its sum, clipped to
 * [1e-7, 1 - 1e-7] (Keras's epsilon) and -sum(target * log(p)) taken; the two agree to rounding
 * except where a probability is below 1e-7. Values outside [0, 1] are an error: they are logits,
 * which belong to ag_cross_entropy. */
ag_tensor *ag_categorical_cross_entropy(ag_tensor *probs, ag_tensor *target,
                                        const ag_loss_opts *opts);

/* Binary cross-entropy from logits (any shape; target the same shape, values in [0, 1]):
 * max(x,0) - x*t + log(1 + e^-|x|), stable for any x. With pos_weight p:
 * (1-t)*x + (1 + (p-1)*t) * softplus(-x). */
ag_tensor *ag_bce_with_logits(ag_tensor *logits, ag_tensor *target, const ag_loss_opts *opts);

#ifdef __cplusplus
}
#endif
#endif
