/* demos/tutorial.c - the tutorial's model on real data (`make demo`).
 *
 * The Keras model from the tuning tutorial, ported literally to C:
 *     Dense(100 -> 32, relu), Dense(32 -> 10, softmax)
 *     Adam, categorical cross-entropy (on the probabilities), accuracy, 10 epochs, batch 32,
 *     10% held out
 * trained on Fashion-MNIST with each 28x28 image averaged down to 10x10 = 100 features. As in
 * Keras, the loss is computed from the softmax's logits during training. `--logits` trains the
 * PyTorch-style equivalent instead (no softmax layer, AG_LOSS_CROSS_ENTROPY on the logits): the
 * same numbers. It prints the model summary, a progress line per epoch, the test accuracy and the
 * predicted probabilities of three test images, and writes the loss and accuracy curves to
 * tutorial_curves.svg.
 *
 * Without Debian's dataset-fashion-mnist it says how to install it (installs it when run as
 * root) and meanwhile trains on a built-in synthetic data set of the same shape.
 * demo-check writes: tutorial_curves.svg
 */
#include "common.h"

int main(int argc, char **argv)
{
    bool logits = argc > 1 && strcmp(argv[1], "--logits") == 0;
    bool fast = demo_fast(), real = fashion_ensure();
    double t0 = demo_now();
    ag_dataset *train, *test;
    if (real) {
        printf("Loading Fashion-MNIST from %s and pooling each image to 10x10...\n",
               fashion_dir() ? fashion_dir() : AG_FASHION_MNIST_DEBIAN_DIR);
        train = pool_to_10x10(fashion_load(true, fast ? 2000 : 0));
        test = pool_to_10x10(fashion_load(false, fast ? 500 : 0));
    } else {
        printf("Using synthetic data instead: 10 Gaussian blobs in 100 dimensions.\n");
        ag_dataset *all = ag_make_blobs(fast ? 2500 : 70000, 100, 10, 1.0, 0.35, 7, AG_F32);
        if (!all || ag_dataset_split(all, 1.0 / 7, true, 7, &train, &test) != 0)
            demo_die("synthetic data");
        ag_dataset_free(all);
    }
    printf("%lld training and %lld test examples, %d classes (%.1f s)\n\n",
           (long long)ag_dataset_size(train), (long long)ag_dataset_size(test),
           train->num_classes, demo_now() - t0);

    /* The model: two Dense layers, the last with a softmax, as in Keras. (With --logits: no
     * softmax, and the loss applies it; the two train identically.) */
    ag_rng rng = ag_rng_seed(42);
    ag_module *layers[2] = {
        ag_dense(100, 32, &(ag_dense_opts){.activation = AG_ACT_RELU}, &rng),
        ag_dense(32, 10, &(ag_dense_opts){.activation = logits ? AG_ACT_NONE : AG_ACT_SOFTMAX},
                 &rng),
    };
    ag_module *model = ag_sequential(2, layers);
    if (!model) demo_die("building the model");
    ag_module_summary(stdout, model, 1, (int64_t[]){100});

    ag_optimizer *adam = ag_adam_new(ag_module_num_params(model), ag_module_params(model), NULL);
    ag_trainer *trainer = ag_compile(model, adam,
                                     logits ? AG_LOSS_CROSS_ENTROPY
                                            : AG_LOSS_CATEGORICAL_CROSS_ENTROPY,
                                     AG_METRIC_ACCURACY);
    if (!adam || !trainer) demo_die("compile");

    ag_fit_opts fo = ag_fit_defaults();
    fo.epochs = fast ? 2 : 10;
    fo.batch_size = 32;
    fo.validation_split = 0.1;
    fo.seed = 1;
    printf("\nTraining: Adam (lr 0.001), batch 32, %d epochs, 10%% of the data held out, %s\n",
           fo.epochs, logits ? "cross-entropy on the logits"
                             : "categorical cross-entropy on the probabilities");
    double t1 = demo_now();
    ag_history *h = ag_fit(trainer, train, &fo);
    if (!h) demo_die("fit");
    double train_s = demo_now() - t1;

    double test_loss, test_acc;
    if (ag_evaluate(trainer, test, 1000, &test_loss, &test_acc) != 0) demo_die("evaluate");
    printf("\nTest accuracy: %.2f%%  (test loss %.4f), trained in %.1f s\n", 100 * test_acc,
           test_loss, train_s);

    /* What the model says about the first three test images (as ag_print shows a tensor) */
    ag_scope *sc = ag_scope_begin();
    ag_tensor *first = ag_slice(test->x, 0, 0, 3, 1);
    ag_tensor *out = ag_predict(model, first, 3);
    if (!out) demo_die("predict");
    printf("\nThe model's %s for the first three test images (labels %.0f, %.0f, %.0f):\n",
           logits ? "logits" : "class probabilities", ag_get(test->y, 0), ag_get(test->y, 1),
           ag_get(test->y, 2));
    ag_print(out);
    ag_scope_end(sc);

    /* The curves: loss and accuracy against epoch, training and validation. */
    int n = ag_history_epochs(h);
    double ep[64], tl[64], vl[64], ta[64], va[64];
    for (int e = 0; e < n && e < 64; e++) {
        ep[e] = e + 1;
        tl[e] = ag_history_get(h, "loss", e);
        vl[e] = ag_history_get(h, "val_loss", e);
        ta[e] = ag_history_get(h, "accuracy", e);
        va[e] = ag_history_get(h, "val_accuracy", e);
    }
    ag_plot *pl = ag_plot_new("Loss", "epoch", "cross-entropy");
    ag_plot *pa = ag_plot_new("Accuracy", "epoch", "accuracy");
    ag_plot_line_points(pl, "training", n, ep, tl);
    ag_plot_line_points(pl, "validation", n, ep, vl);
    ag_plot_line_points(pa, "training", n, ep, ta);
    ag_plot_line_points(pa, "validation", n, ep, va);
    char path[512];
    ag_plot *both[2] = {pl, pa};
    if (ag_plot_save_svg_grid(demo_out_path(path, sizeof path, "tutorial_curves.svg"), 2, both,
                              2) != 0)
        demo_die("writing the picture");
    printf("Wrote the loss and accuracy curves to %s\n", path);
    printf("Total time %.1f s\n", demo_now() - t0);

    ag_plot_free(pl);
    ag_plot_free(pa);
    ag_history_free(h);
    ag_trainer_free(trainer);
    ag_optim_free(adam);
    ag_module_free(model);
    ag_dataset_free(train);
    ag_dataset_free(test);
    return 0;
}
