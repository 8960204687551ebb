/* demos/tune_optimizers.c - which optimizer? Compared fairly: each with its own learning rate.
 *
 * An optimizer is only as good as its learning rate, so comparing them at one shared rate
 * compares the rates, not the optimizers. As the tutorial's FAQ suggests, each optimizer gets
 * its own small grid of learning rates around its usual range, every (optimizer, lr) pair is
 * scored by 3-fold cross-validation, and the optimizers are compared by their best CV score:
 *   GD        full-batch gradient descent (one step per epoch)
 *   SGD       mini-batches of 32
 *   Momentum  SGD with momentum 0.9
 *   Adam, AdamW (weight decay 0.01)
 * Then the same question is asked of an automatic search: 30 random (optimizer, lr) pairs with
 * ASHA, which stops the trials that are doing badly after 1, 2 and 4 epochs.
 * Pictures: tune_optimizers.svg (CV loss against lr, one line per optimizer) and
 * tune_optimizers_asha.svg (the random search: score against each hyperparameter, best so far).
 * demo-check writes: tune_optimizers.svg
 */
#include <math.h>
#include <stdio.h>

#include "common.h"

enum { NOPT = 5, NLR = 5 };

static const char *const names[NOPT] = {"gd", "sgd", "momentum", "adam", "adamw"};
/* Each optimizer's grid: half-decades around the rates it is usually run at. */
static const double grids[NOPT][NLR] = {{0.1, 0.3, 1, 3, 10},
                                        {0.01, 0.03, 0.1, 0.3, 1},
                                        {0.001, 0.003, 0.01, 0.03, 0.1},
                                        {3e-4, 1e-3, 3e-3, 1e-2, 3e-2},
                                        {3e-4, 1e-3, 3e-3, 1e-2, 3e-2}};

int main(void)
{
    bool fast = demo_fast();
    ag_dataset *train;
    if (fashion_ensure()) {
        printf("Pooled Fashion-MNIST (10x10 = 100 features), the first %d training images\n",
               fast ? 900 : 12000);
        train = pool_to_10x10(fashion_load(true, fast ? 900 : 12000));
    } else {
        printf("Synthetic data (10 blobs in 100 dimensions)\n");
        train = ag_make_blobs(fast ? 900 : 12000, 100, 10, 1.0, 0.35, 7, AG_F32);
        if (!train) demo_die("data");
    }
    ag_cv_opts co = ag_cv_defaults(); /* 100 -> 32 relu -> 10, cross-entropy, val loss */
    co.folds = 3;
    co.epochs = fast ? 1 : 8;
    co.seed = 3;
    ag_cv *cv = ag_cv_new(train, &co);
    if (!cv) demo_die("cross-validation");
    printf("3-fold CV, %d epochs per fit, the same folds and initial weights for every run\n\n",
           co.epochs);

    ag_plot *pl = ag_plot_new("Cross-validated loss against learning rate", "learning rate",
                              "CV validation loss (mean of 3 folds)");
    ag_plot_set_log(pl, true, true);
    double best_lr[NOPT], best_score[NOPT], best_std[NOPT];
    double t0 = demo_now();
    for (int o = 0; o < NOPT; o++) {
        ag_space *sp = ag_space_new();
        if (!sp || ag_space_add_choice(sp, "optimizer", 1, &names[o]) < 0 ||
            ag_space_add_values(sp, "lr", fast ? 2 : NLR, grids[o]) < 0)
            demo_die("space");
        ag_study_opts so = ag_study_defaults();
        so.quiet = true;
        ag_study *st = ag_study_new(sp, ag_strategy_grid(), &so);
        if (!st || ag_study_optimize_cv(st, cv) < 0) demo_die(names[o]);
        double x[NLR], y[NLR];
        int n = 0;
        for (int i = 0; i < ag_study_num_trials(st); i++) {
            const ag_trial *t = ag_study_trial(st, i);
            x[n] = ag_trial_float(t, "lr");
            y[n++] = ag_trial_score(t); /* NaN for a diverged run: the line breaks there */
        }
        ag_plot_line_points(pl, names[o], n, x, y);
        const ag_trial *b = ag_study_best(st);
        best_lr[o] = b ? ag_trial_float(b, "lr") : NAN;
        best_score[o] = b ? ag_trial_score(b) : NAN;
        best_std[o] = b ? ag_trial_std(b) : NAN;
        char grid[128] = "";
        for (int i = 0; i < n; i++)
            snprintf(grid + strlen(grid), sizeof grid - strlen(grid), "%s%g", i ? " " : "", x[i]);
        printf("%-9s lr grid %-28s best lr %-7.3g CV loss %.4f +- %.4f%s\n", names[o], grid,
               best_lr[o], best_score[o], best_std[o],
               ag_study_count(st, AG_TRIAL_FAILED) ? " (some rates diverged)" : "");
        ag_study_free(st);
        ag_space_free(sp);
    }
    printf("(%.1f s)\n\nRanking by each optimizer's best CV loss:\n", demo_now() - t0);
    int order[NOPT];
    for (int i = 0; i < NOPT; i++) order[i] = i;
    for (int i = 0; i < NOPT; i++) /* a few entries: selection sort */
        for (int j = i + 1; j < NOPT; j++)
            if (best_score[order[j]] < best_score[order[i]] || isnan(best_score[order[i]])) {
                int tmp = order[i];
                order[i] = order[j];
                order[j] = tmp;
            }
    for (int i = 0; i < NOPT; i++)
        printf("  %d. %-9s %.4f +- %.4f at lr %.3g\n", i + 1, names[order[i]],
               best_score[order[i]], best_std[order[i]], best_lr[order[i]]);

    /* The automatic way: one random search over both, with ASHA pruning. */
    printf("\nRandom search over (optimizer, lr log-uniform in [1e-4, 3]), %d trials, ASHA "
           "(rungs at 1, 2, 4 epochs, keep 1/2):\n", fast ? 6 : 30);
    ag_space *sp = ag_space_new();
    if (!sp || ag_space_add_choice(sp, "optimizer", NOPT, names) < 0 ||
        ag_space_add_float(sp, "lr", 1e-4, 3, true) < 0)
        demo_die("space");
    ag_study_opts so = ag_study_defaults();
    so.seed = 1;
    ag_strategy *asha = ag_strategy_asha(ag_strategy_random(fast ? 6 : 30), 1, fast ? 2 : co.epochs, 2);
    ag_study *st = ag_study_new(sp, asha, &so);
    t0 = demo_now();
    if (!st || ag_study_optimize_cv(st, cv) < 0) demo_die("random search");
    printf("(%.1f s; %d complete, %d pruned, %d failed)\n\n", demo_now() - t0,
           ag_study_count(st, AG_TRIAL_COMPLETE), ag_study_count(st, AG_TRIAL_PRUNED),
           ag_study_count(st, AG_TRIAL_FAILED));
    ag_study_leaderboard(st, stdout, 10);

    char p1[512], p2[512];
    demo_out_path(p1, sizeof p1, "tune_optimizers.svg");
    demo_out_path(p2, sizeof p2, "tune_optimizers_asha.svg");
    if (ag_plot_save_svg(pl, p1) < 0 || ag_study_plot(st, p2) < 0) demo_die("pictures");
    printf("\nWrote %s (each optimizer's CV loss against its learning rates) and %s\n", p1, p2);
    ag_plot_free(pl);
    ag_study_free(st);
    ag_space_free(sp);
    ag_cv_free(cv);
    ag_dataset_free(train);
    return 0;
}
