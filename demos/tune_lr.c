/* demos/tune_lr.c - choosing Adam's learning rate by 5-fold cross-validation, as scikit-learn's
 * GridSearchCV does it.
 *
 * The tutorial's model (100 -> 32 relu -> 10) on 20,000 pooled Fashion-MNIST training images (or
 * the synthetic stand-in) is trained with Adam at 9 learning rates half a decade apart, from
 * 1e-4 to 1. Each learning rate is scored by 5-fold cross-validation: 5 models, each trained on
 * 4 folds and scored by its validation loss on the fifth; the score is their mean (+- std).
 * The trials run in parallel on the OpenMP threads (OMP_NUM_THREADS), with the same results
 * whatever their number. The best learning rate is then refit on all 20,000 images and tested
 * on the test set. Writes tune_lr.svg (CV score against the learning rate, log axis) and
 * tune_lr.csv (every trial, per-fold scores; `tune_lr --resume` continues from it).
 * demo-check writes: tune_lr.svg
 */
#include <math.h>
#include <stdio.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "common.h"

static int threads(void)
{
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

/* Accuracy of the model on a dataset (argmax of the outputs against the labels). */
static double accuracy(ag_module *m, const ag_dataset *ds)
{
    int64_t n = ag_dataset_size(ds);
    int64_t *cls = malloc(sizeof *cls * (size_t)n);
    ag_tensor *pred = ag_predict(m, ds->x, 1000);
    if (!cls || !pred || ag_argmax_rows(pred, cls) < 0) demo_die("predict");
    int64_t right = 0;
    for (int64_t i = 0; i < n; i++) right += cls[i] == (int64_t)ag_get(ds->y, i);
    ag_tensor_free(pred);
    free(cls);
    return (double)right / (double)n;
}

int main(int argc, char **argv)
{
    bool fast = demo_fast(), resume = argc > 1 && strcmp(argv[1], "--resume") == 0;
    ag_dataset *train, *test;
    if (fashion_ensure()) {
        printf("Pooled Fashion-MNIST (10x10 = 100 features): the first %d training images for "
               "the search, the test set for the end\n", fast ? 1000 : 20000);
        train = pool_to_10x10(fashion_load(true, fast ? 1000 : 20000));
        test = pool_to_10x10(fashion_load(false, fast ? 300 : 0));
    } else {
        printf("Synthetic data (10 blobs in 100 dimensions)\n");
        ag_dataset *all = ag_make_blobs(fast ? 1300 : 24000, 100, 10, 1.0, 0.35, 7, AG_F32);
        if (!all || ag_dataset_split(all, 1.0 / 6, true, 7, &train, &test) != 0) demo_die("data");
        ag_dataset_free(all);
    }

    /* The search space: one hyperparameter, 9 grid points from 1e-4 to 1 on a log scale. */
    ag_space *space = ag_space_new();
    if (!space || ag_space_add_float(space, "lr", 1e-4, 1, true) < 0 ||
        ag_space_set_grid_points(space, "lr", fast ? 3 : 9) < 0)
        demo_die("space");

    /* The model and its training: everything but lr is fixed. */
    ag_cv_opts co = ag_cv_defaults(); /* 5 folds, stratified, val loss, 100 -> 32 relu -> 10 */
    co.optimizer = "adam";
    co.epochs = fast ? 1 : 10;
    co.seed = 1;
    ag_cv *cv = ag_cv_new(train, &co);
    if (!cv) demo_die("cross-validation");

    char csv[512], svg[512];
    demo_out_path(csv, sizeof csv, "tune_lr.csv");
    demo_out_path(svg, sizeof svg, "tune_lr.svg");
    ag_study_opts so = ag_study_defaults(); /* minimize the validation loss */
    so.csv_path = csv;
    ag_study *study = ag_study_new(space, ag_strategy_grid(), &so);
    if (!study) demo_die("study");
    if (resume) {
        int n = ag_study_load_csv(study, csv);
        if (n < 0) demo_die("resume");
        printf("Resuming: %d finished trials loaded from %s\n", n, csv);
    }
    printf("Adam, batch 32, %d epoch(s) per fit, same initial weights and folds for every lr; "
           "%d threads\n\n", co.epochs, threads());

    double t0 = demo_now();
    if (ag_study_optimize_cv(study, cv) < 0) demo_die("search");
    double secs = demo_now() - t0;
    printf("\nSearch: %.2f s on %d thread%s\n\n", secs, threads(), threads() > 1 ? "s" : "");
    ag_study_leaderboard(study, stdout, 0);

    const ag_trial *best = ag_study_best(study);
    if (!best) demo_die("no trial finished");
    printf("\nChosen learning rate: %.3g (cross-validated loss %.4f +- %.4f over %d folds)\n",
           ag_trial_float(best, "lr"), ag_trial_score(best), ag_trial_std(best), ag_cv_folds(cv));

    ag_module *model = ag_cv_refit(cv, best, NULL);
    if (!model) demo_die("refit");
    printf("Refit on all %lld training examples: test accuracy %.2f%% on %lld test examples\n",
           (long long)ag_dataset_size(train), 100 * accuracy(model, test),
           (long long)ag_dataset_size(test));

    if (ag_study_plot_param(study, "lr", svg) < 0) demo_die("picture");
    printf("Wrote %s (CV loss against lr, with mean +- std) and %s (every trial)\n", svg, csv);
    ag_module_free(model);
    ag_study_free(study);
    ag_cv_free(cv);
    ag_space_free(space);
    ag_dataset_free(train);
    ag_dataset_free(test);
    return 0;
}
