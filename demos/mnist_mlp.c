/* demos/mnist_mlp.c - a full-resolution Fashion-MNIST classifier (`make demo-mlp`).
 *
 * 784 -> 256 relu -> 10 (and, with --deep, 784 -> 256 relu -> 128 relu -> 10), Adam with a
 * cosine learning-rate decay, batch 64, 15 epochs on all 60,000 training images. It reports test
 * accuracy, saves the trained model as safetensors (fashion_mlp.safetensors: the weights,
 * loadable by PyTorch's nn.Sequential of the same layers, and the architecture), rebuilds the
 * model from the file alone (ag_module_load_new, as Keras's load_model) and predicts a few test
 * images with it.
 * Needs Debian's dataset-fashion-mnist (the demo says how to install it; synthetic data otherwise).
 * demo-check writes: fashion_mlp.safetensors
 */
#include <stdio.h>
#include <string.h>

#include "common.h"

static const char *const CLASSES[10] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};

static ag_module *build(bool deep, uint64_t seed)
{
    ag_rng rng = ag_rng_seed(seed);
    ag_dense_opts relu = {.activation = AG_ACT_RELU, .init = AG_INIT_HE_UNIFORM};
    ag_module *m = deep ? ag_sequential(3, (ag_module *[]){ag_dense(784, 256, &relu, &rng),
                                                           ag_dense(256, 128, &relu, &rng),
                                                           ag_dense(128, 10, NULL, &rng)})
                        : ag_sequential(2, (ag_module *[]){ag_dense(784, 256, &relu, &rng),
                                                           ag_dense(256, 10, NULL, &rng)});
    if (!m) demo_die("model");
    return m;
}

int main(int argc, char **argv)
{
    bool deep = argc > 1 && strcmp(argv[1], "--deep") == 0, fast = demo_fast();
    ag_dataset *train, *test;
    if (fashion_ensure()) {
        train = fashion_load(true, fast ? 1000 : 0);
        test = fashion_load(false, fast ? 300 : 0);
    } else {
        printf("Synthetic data (10 blobs in 784 dimensions)\n");
        ag_dataset *all = ag_make_blobs(fast ? 1300 : 20000, 784, 10, 1.0, 0.1, 7, AG_F32);
        if (!all || ag_dataset_split(all, 0.2, true, 7, &train, &test) != 0) demo_die("data");
        ag_dataset_free(all);
    }
    ag_module *model = build(deep, 42);
    ag_module_summary(stdout, model, 1, (int64_t[]){784});
    ag_optimizer *adam = ag_adam_new(ag_module_num_params(model), ag_module_params(model), NULL);
    ag_trainer *t = ag_compile(model, adam, AG_LOSS_CROSS_ENTROPY, AG_METRIC_ACCURACY);
    if (!t) demo_die("compile");
    ag_fit_opts fo = ag_fit_defaults();
    fo.epochs = fast ? 1 : 15;
    fo.batch_size = 64;
    fo.seed = 1;
    /* cosine decay of the learning rate over the run: large steps first, fine ones at the end */
    ag_scheduler *sched = ag_sched_cosine(adam, fo.epochs, 0.0);
    if (!sched) demo_die("schedule");
    fo.scheduler = sched;
    double t0 = demo_now();
    ag_history *h = ag_fit(t, train, &fo);
    if (!h) demo_die("fit");
    double loss, acc;
    if (ag_evaluate(t, test, 1000, &loss, &acc) != 0) demo_die("evaluate");
    printf("\nTest accuracy %.2f%% (loss %.4f) after %d epochs, %.1f s\n", 100 * acc, loss,
           fo.epochs, demo_now() - t0);

    char path[512];
    demo_out_path(path, sizeof path, "fashion_mlp.safetensors");
    if (ag_module_save(model, path) != 0) demo_die("saving");
    printf("Saved the model (architecture and weights) to %s\n", path);
    ag_module *copy = ag_module_load_new(path); /* nothing but the file */
    if (!copy) demo_die("loading");
    ag_tensor *first = ag_predict(copy, test->x, 1000);
    if (!first) demo_die("predict");
    int64_t n = ag_dataset_size(test) < 8 ? ag_dataset_size(test) : 8;
    int64_t *pred = malloc(sizeof *pred * (size_t)ag_dataset_size(test));
    if (!pred || ag_argmax_rows(first, pred) != 0) demo_die("argmax");
    printf("Rebuilt it from the file (%d layers, %lld weights); its predictions for the first "
           "test images:\n", ag_module_num_children(copy), (long long)ag_module_count_weights(copy));
    for (int64_t i = 0; i < n; i++) {
        int truth = (int)ag_get(test->y, i), guess = (int)pred[i];
        printf("  image %lld: predicted %-12s true %-12s %s\n", (long long)i,
               CLASSES[guess], CLASSES[truth], guess == truth ? "" : "(wrong)");
    }
    free(pred);
    ag_tensor_free(first);
    ag_module_free(copy);
    ag_history_free(h);
    ag_sched_free(sched);
    ag_trainer_free(t);
    ag_optim_free(adam);
    ag_module_free(model);
    ag_dataset_free(train);
    ag_dataset_free(test);
    return 0;
}
