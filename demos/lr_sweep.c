/* demos/lr_sweep.c - choosing the learning rate (`make demo-lr`).
 *
 * The tutorial's model is trained with Adam at learning rates on a log grid from 1e-5 to 10
 * (half a decade apart), from the same initial weights, for a few epochs each. The final
 * validation loss against the learning rate shows three regions: too small (the loss has barely
 * moved), good (the bottom of the curve), and too large (the loss rises or training diverges).
 * Picture: lr_sweep.svg.
 * demo-check writes: lr_sweep.svg
 */
#include <math.h>
#include <stdio.h>

#include "common.h"

enum { NLR = 13 };

int main(void)
{
    bool fast = demo_fast();
    ag_dataset *train, *val;
    if (fashion_ensure()) {
        printf("Pooled Fashion-MNIST, first 20,000 training images; validation on the test set\n");
        train = pool_to_10x10(fashion_load(true, fast ? 1000 : 20000));
        val = pool_to_10x10(fashion_load(false, fast ? 300 : 0));
    } else {
        printf("Synthetic data (10 blobs in 100 dimensions)\n");
        ag_dataset *all = ag_make_blobs(fast ? 1300 : 25000, 100, 10, 1.0, 0.35, 7, AG_F32);
        if (!all || ag_dataset_split(all, 0.2, true, 7, &train, &val) != 0) demo_die("data");
        ag_dataset_free(all);
    }
    int epochs = fast ? 1 : 3;
    printf("Adam, batch 32, %d epochs per learning rate, same initial weights\n\n", epochs);
    printf("%10s %11s %9s %8s\n", "lr", "train loss", "val loss", "val acc");

    double lrs[NLR], val_loss[NLR];
    int best = -1;
    for (int i = 0; i < NLR; i++) {
        lrs[i] = pow(10.0, -5.0 + 0.5 * i);
        ag_rng rng = ag_rng_seed(42);
        ag_module *layers[2] = {
            ag_dense(100, 32, &(ag_dense_opts){.activation = AG_ACT_RELU}, &rng),
            ag_dense(32, 10, NULL, &rng)};
        ag_module *m = ag_sequential(2, layers);
        ag_adam_opts ao = ag_adam_defaults();
        ao.lr = lrs[i];
        ag_optimizer *opt = m ? ag_adam_new(ag_module_num_params(m), ag_module_params(m), &ao)
                              : NULL;
        ag_trainer *t = ag_compile(m, opt, AG_LOSS_CROSS_ENTROPY, AG_METRIC_ACCURACY);
        if (!t) demo_die("compile");
        ag_fit_opts fo = ag_fit_defaults();
        fo.epochs = epochs;
        fo.validation_data = val;
        fo.verbose = AG_VERBOSE_SILENT;
        fo.seed = 1;
        ag_history *h = ag_fit(t, train, &fo);
        if (!h) demo_die("fit");
        bool diverged = ag_history_diverged(h);
        val_loss[i] = diverged ? NAN : ag_history_last(h, "val_loss");
        if (diverged) {
            printf("%10.0e   diverged (loss became NaN or Inf)\n", lrs[i]);
            ag_clear_error();
        } else {
            printf("%10.0e %11.4f %9.4f %7.2f%%\n", lrs[i], ag_history_last(h, "loss"),
                   val_loss[i], 100 * ag_history_last(h, "val_accuracy"));
        }
        if (!isnan(val_loss[i]) && (best < 0 || val_loss[i] < val_loss[best])) best = i;
        ag_history_free(h);
        ag_trainer_free(t);
        ag_optim_free(opt);
        ag_module_free(m);
    }
    if (best >= 0)
        printf("\nBest learning rate on this grid: %.0e (validation loss %.4f)\n", lrs[best],
               val_loss[best]);

    ag_plot *p = ag_plot_new("Final validation loss against learning rate (Adam)",
                             "learning rate", "validation cross-entropy");
    ag_plot_set_log(p, true, true);
    ag_plot_line_points(p, "after training", NLR, lrs, val_loss);
    char path[512];
    if (ag_plot_save_svg(p, demo_out_path(path, sizeof path, "lr_sweep.svg")) != 0)
        demo_die("picture");
    printf("Wrote the curve to %s: left, too small (barely trained); middle, good;\n"
           "right, too large (the loss climbs back up or diverges; diverged runs are left out).\n",
           path);
    ag_plot_free(p);
    ag_dataset_free(train);
    ag_dataset_free(val);
    return 0;
}
