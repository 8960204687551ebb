/* tests/fit_test_util.h - what the training-loop tests (test_fit_train.c, test_fit_callbacks.c)
 * share: a two-layer MLP, Adam and SGD for it, the XOR data set, silent fit options and a fit
 * that must succeed.
 */
#ifndef FIT_TEST_UTIL_H
#define FIT_TEST_UTIL_H

#include "test_util.h"

static inline ag_module *mlp(int64_t in, int64_t hidden, int64_t out, ag_activation act,
                             ag_dtype dt, uint64_t seed)
{
    ag_rng r = ag_rng_seed(seed);
    ag_dense_opts o1 = {.activation = act, .dtype = dt}, o2 = {.dtype = dt};
    ag_module *layers[2] = {ag_dense(in, hidden, &o1, &r), ag_dense(hidden, out, &o2, &r)};
    cr_assert(layers[0] && layers[1], "%s", ag_last_error());
    ag_module *m = ag_sequential(2, layers);
    cr_assert(m, "%s", ag_last_error());
    return m;
}

static inline ag_optimizer *adam(ag_module *m, double lr)
{
    ag_adam_opts o = ag_adam_defaults();
    o.lr = lr;
    ag_optimizer *opt = ag_adam_new(ag_module_num_params(m), ag_module_params(m), &o);
    cr_assert(opt, "%s", ag_last_error());
    return opt;
}

static inline ag_optimizer *sgd(ag_module *m, double lr)
{
    ag_sgd_opts o = ag_sgd_defaults();
    o.lr = lr;
    ag_optimizer *opt = ag_sgd_new(ag_module_num_params(m), ag_module_params(m), &o);
    cr_assert(opt, "%s", ag_last_error());
    return opt;
}

static inline ag_dataset *xor_data(ag_dtype dt)
{
    ag_tensor *x = ag_tensor_from_f64(dt, 2, (int64_t[]){4, 2}, (double[]){0, 0, 0, 1, 1, 0, 1, 1});
    ag_tensor *y = ag_tensor_from_f64(dt, 1, (int64_t[]){4}, (double[]){0, 1, 1, 0});
    ag_dataset *ds = ag_dataset_new(x, y, 2);
    cr_assert(ds, "%s", ag_last_error());
    return ds;
}

static inline ag_fit_opts quiet(int epochs, int64_t batch)
{
    ag_fit_opts o = ag_fit_defaults();
    o.epochs = epochs;
    o.batch_size = batch;
    o.verbose = AG_VERBOSE_SILENT;
    return o;
}

static inline ag_history *fit_ok(ag_trainer *t, const ag_dataset *ds, const ag_fit_opts *o)
{
    ag_history *h = ag_fit(t, ds, o);
    cr_assert(h, "ag_fit failed: %s", ag_last_error());
    return h;
}

#endif
