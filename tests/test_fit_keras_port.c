/* tests/test_fit_keras_port.c - the tutorial's Keras model ported literally: Dense(100 -> 32,
 * relu), Dense(32 -> 10, softmax), categorical cross-entropy on the probabilities. It must train
 * exactly as the logits version (no softmax, AG_LOSS_CROSS_ENTROPY) does, since the loss is taken
 * from the softmax's logits; and the mismatched pairs must fail with errors that say what to use.
 */
#include <math.h>

#include "fit_test_util.h"

/* The tutorial's model; `last` is the activation of the output layer. Same seed, same weights. */
static ag_module *tutorial_model(ag_activation last)
{
    ag_rng rng = ag_rng_seed(42);
    ag_module *m = ag_sequential(2, (ag_module *[]){
        ag_dense(100, 32, &(ag_dense_opts){.activation = AG_ACT_RELU}, &rng),
        ag_dense(32, 10, &(ag_dense_opts){.activation = last}, &rng)});
    cr_assert(m, "%s", ag_last_error());
    return m;
}

typedef struct run {
    double loss, val_loss, acc, val_acc, test_acc;
} run;

static run train(ag_activation last, ag_loss_kind loss, const ag_dataset *data,
                 const ag_dataset *test)
{
    ag_module *m = tutorial_model(last);
    ag_optimizer *opt = adam(m, 1e-3);
    ag_trainer *t = ag_compile(m, opt, loss, AG_METRIC_ACCURACY);
    cr_assert(t, "%s", ag_last_error());
    ag_fit_opts fo = quiet(5, 32);
    fo.validation_split = 0.1;
    ag_history *h = fit_ok(t, data, &fo);
    run r = {ag_history_last(h, "loss"), ag_history_last(h, "val_loss"),
             ag_history_last(h, "accuracy"), ag_history_last(h, "val_accuracy"), NAN};
    cr_assert_eq(ag_evaluate(t, test, 256, NULL, &r.test_acc), 0, "%s", ag_last_error());
    ag_history_free(h);
    ag_trainer_free(t);
    ag_optim_free(opt);
    ag_module_free(m);
    return r;
}

Test(keras_port, softmax_model_with_categorical_cross_entropy_trains_like_the_logits_model)
{
    ag_dataset *all = ag_make_blobs(3500, 100, 10, 1.0, 0.6, 7, AG_F32), *data, *test;
    cr_assert_eq(ag_dataset_split(all, 1.0 / 7, true, 7, &data, &test), 0);
    run logits = train(AG_ACT_NONE, AG_LOSS_CROSS_ENTROPY, data, test);
    run probs = train(AG_ACT_SOFTMAX, AG_LOSS_CATEGORICAL_CROSS_ENTROPY, data, test);
    cr_log_info("logits: loss %.4f acc %.4f test %.4f; probabilities: loss %.4f acc %.4f test "
                "%.4f", logits.loss, logits.acc, logits.test_acc, probs.loss, probs.acc,
                probs.test_acc);
    cr_expect_gt(logits.test_acc, 0.8, "the data is learnable: %g", logits.test_acc);
    /* the same loss from the same logits: the same updates, bit for bit */
    cr_expect_eq(probs.loss, logits.loss);
    cr_expect_eq(probs.acc, logits.acc);
    cr_expect_eq(probs.val_acc, logits.val_acc);
    cr_expect_eq(probs.test_acc, logits.test_acc);
    /* evaluation finds the logits too, so the validation loss is the same formula */
    cr_expect_eq(probs.val_loss, logits.val_loss);
    ag_dataset_free(all);
    ag_dataset_free(data);
    ag_dataset_free(test);
}

Test(keras_port, a_softmax_model_with_the_logits_loss_stops_at_once)
{
    ag_dataset *data = ag_make_blobs(64, 100, 10, 1.0, 0.35, 7, AG_F32);
    ag_module *models[2] = {tutorial_model(AG_ACT_SOFTMAX), NULL};
    /* a trailing Softmax layer is the same mistake */
    models[1] = tutorial_model(AG_ACT_NONE);
    cr_assert_eq(ag_sequential_add(models[1], ag_softmax_layer(-1)), 0);
    for (int k = 0; k < 2; k++) {
        ag_optimizer *opt = adam(models[k], 1e-3);
        ag_trainer *t = ag_compile(models[k], opt, AG_LOSS_CROSS_ENTROPY, AG_METRIC_ACCURACY);
        ag_fit_opts fo = quiet(1, 32);
        cr_expect_null(ag_fit(t, data, &fo));
        expect_error_mentions("ag_fit: epoch 1, step 1", "softmax", "AG_LOSS_CROSS_ENTROPY takes "
                              "logits", "AG_LOSS_CATEGORICAL_CROSS_ENTROPY");
        ag_trainer_free(t);
        ag_optim_free(opt);
        ag_module_free(models[k]);
    }
    ag_dataset_free(data);
}

Test(keras_port, a_logits_model_with_the_probabilities_loss_stops_at_once)
{
    ag_dataset *data = ag_make_blobs(64, 100, 10, 1.0, 0.35, 7, AG_F32);
    ag_module *m = tutorial_model(AG_ACT_NONE);
    ag_optimizer *opt = adam(m, 1e-3);
    ag_trainer *t = ag_compile(m, opt, AG_LOSS_CATEGORICAL_CROSS_ENTROPY, AG_METRIC_ACCURACY);
    ag_fit_opts fo = quiet(1, 32);
    cr_expect_null(ag_fit(t, data, &fo));
    expect_error_mentions("ag_fit: epoch 1, step 1", "not a probability", "logits",
                          "AG_LOSS_CROSS_ENTROPY", "AG_ACT_SOFTMAX");
    ag_trainer_free(t);
    ag_optim_free(opt);
    ag_module_free(m);
    ag_dataset_free(data);
}
