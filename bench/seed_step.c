/* bench/seed_step.c - time per training step of the seed model: Dense(100->32 relu),
 * Dense(32->10), Adam, cross-entropy, F32, batch 32. Measures the hand-written loop (zero_grad,
 * forward, loss, backward, step in a scope) and ag_fit (which adds batching by copy, metrics and
 * one loss read-back per step), each after a warm-up.
 *
 *     make build/bench/seed_step && ./build/bench/seed_step
 */
#include <stdio.h>
#include <time.h>

#include <autograd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static ag_module *seed_model(void)
{
    ag_rng r = ag_rng_seed(1);
    ag_dense_opts relu = {.activation = AG_ACT_RELU};
    ag_module *layers[2] = {ag_dense(100, 32, &relu, &r), ag_dense(32, 10, NULL, &r)};
    return ag_sequential(2, layers);
}

int main(void)
{
    const int64_t n = 32 * 1000;
    ag_dataset *ds = ag_make_blobs(n, 100, 10, 1.0, 1.0, 5, AG_F32);
    ag_module *m = seed_model();
    ag_optimizer *opt = ag_adam_new(ag_module_num_params(m), ag_module_params(m), NULL);
    if (!ds || !m || !opt) {
        fprintf(stderr, "setup failed: %s\n", ag_last_error());
        return 1;
    }

    /* Hand-written loop over fixed batches (slices of the data, no copies). */
    const int steps = 3000;
    double t0 = 0;
    for (int s = -300; s < steps; s++) {
        if (s == 0) t0 = now();
        int64_t start = (int64_t)(s < 0 ? s + 300 : s) % 1000 * 32;
        ag_scope *sc = ag_scope_begin();
        ag_tensor *xb = ag_slice(ds->x, 0, start, start + 32, 1);
        ag_tensor *yb = ag_slice(ds->y, 0, start, start + 32, 1);
        ag_optim_zero_grad(opt);
        ag_tensor *loss = ag_cross_entropy(ag_module_forward(m, xb), yb, NULL);
        if (!loss || ag_backward(loss) < 0 || ag_optim_step(opt) < 0) {
            fprintf(stderr, "step failed: %s\n", ag_last_error());
            return 1;
        }
        ag_scope_end(sc);
    }
    double loop_us = (now() - t0) / steps * 1e6;

    /* ag_fit: 3 epochs of 1000 steps, timed after a warm-up epoch. */
    ag_trainer *t = ag_compile(m, opt, AG_LOSS_CROSS_ENTROPY, AG_METRIC_ACCURACY);
    ag_fit_opts fo = ag_fit_defaults();
    fo.verbose = AG_VERBOSE_SILENT;
    ag_history_free(ag_fit(t, ds, &fo));
    fo.epochs = 3;
    t0 = now();
    ag_history *h = ag_fit(t, ds, &fo);
    double fit_us = (now() - t0) / (3.0 * 1000) * 1e6;
    if (!h) {
        fprintf(stderr, "fit failed: %s\n", ag_last_error());
        return 1;
    }
    printf("seed model (F32, batch 32, Adam, CE): hand loop %.1f us/step, ag_fit %.1f us/step "
           "(final accuracy %.4f)\n", loop_us, fit_us, ag_history_last(h, "accuracy"));
    ag_history_free(h);
    ag_trainer_free(t);
    ag_optim_free(opt);
    ag_module_free(m);
    ag_dataset_free(ds);
    return 0;
}
