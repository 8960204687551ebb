/* tests/test_api_memory.c - the live-tensor count around public calls of nn/ and optim/: a call
 * that fails deep inside (a later step, batch or layer) leaves nothing behind, inside or outside
 * the caller's scope; a call that succeeds leaves exactly the tensors it returns; a module built
 * inside a scope gives its parameters back when it is freed, not when the scope ends.
 */
#include <stdio.h>
#include <unistd.h>

#include "api_test_util.h"

/* ---- failures deep inside a call leave nothing behind ---- */

/* A loss that fails on call number `fail_at` (1-based) and is a mean squared error otherwise. */
typedef struct { int calls, fail_at; } countdown;

static ag_tensor *failing_loss(ag_tensor *pred, ag_tensor *target, void *ctx)
{
    countdown *c = ctx;
    if (++c->calls == c->fail_at) {
        ag_set_error("failing_loss: call %d fails on purpose", c->calls);
        return NULL;
    }
    return ag_mse_loss(pred, ag_one_hot(target, 2), NULL); /* the step's scope frees both */
}

/* Identity on its first call, a wrong shape afterwards: ag_predict fails on the second batch. */
static ag_tensor *fickle_forward(ag_module *self, ag_tensor *x)
{
    int *calls = ag_module_state(self);
    return (*calls)++ == 0 ? ag_mul_scalar(x, 1.0) : ag_sum_all(x);
}

static const ag_module_class FICKLE = {"Fickle", fickle_forward, free, NULL};

static void late_failures(void)
{
    ag_dataset *ds = rows_dataset(12, AG_F32);
    ag_module *m;
    ag_optimizer *o;
    ag_trainer *t = dense_trainer(&m, &o, 3);
    countdown c = {0, 0};
    cr_assert_eq(ag_trainer_set_loss_fn(t, failing_loss, &c), 0);
    ag_callback *es = ag_early_stopping("loss", 5, 0, false, true);
    ag_fit_opts fo = ag_fit_defaults();
    fo.verbose = AG_VERBOSE_SILENT;
    fo.batch_size = 4;
    fo.epochs = 3;
    fo.ncallbacks = 1;
    fo.callbacks = &es;
    /* A run that succeeds first: the parameters' gradients then exist (and stay, as in
     * PyTorch), so the count below is what every later call must return to. */
    int64_t before = live();
    ag_history *h = ag_fit(t, ds, &fo);
    cr_assert(h, "%s", ag_last_error());
    ag_history_free(h);
    cr_assert_eq(live(), before + ag_module_num_params(m), "only the gradients remain");
    before = live();
    c = (countdown){0, 3};
    cr_assert_null(ag_fit(t, ds, &fo));
    expect_error_mentions("ag_fit: epoch 1, step 3: ", "failing_loss");
    cr_assert_eq(live(), before, "a fit failing at step 3 leaked");
    c = (countdown){0, 5}; /* epoch 2, step 2: after early stopping took its snapshot */
    cr_assert_null(ag_fit(t, ds, &fo));
    expect_error_mentions("ag_fit: epoch 2, step 2: ");
    cr_assert_eq(live(), before, "a fit failing after a snapshot leaked");
    double loss;
    c = (countdown){0, 2};
    cr_assert_lt(ag_evaluate(t, ds, 4, &loss, NULL), 0);
    expect_error_mentions("ag_evaluate: batch 2: ", "failing_loss");
    cr_assert_eq(live(), before, "an evaluation failing at batch 2 leaked");

    int *calls = calloc(1, sizeof *calls);
    ag_module *fickle = ag_module_new(&FICKLE, calls);
    cr_assert_null(ag_predict(fickle, ds->x, 5));
    expect_error_mentions("ag_predict: ", "rows [5, 10)");
    cr_assert_eq(live(), before, "a prediction failing at batch 2 leaked");

    ag_module *bad_last = ag_sequential(2, (ag_module *[]){ag_relu_layer(),
                                                           ag_dense(3, 1, NULL, NULL)});
    cr_assert_null(ag_module_forward(bad_last, ds->x));
    expect_error_mentions("ag_module_forward: layer 1 (Dense) of Sequential: ", "[12,2]");
    cr_assert_null(ag_sequential(2, (ag_module *[]){ag_relu_layer(), ag_dropout(2.0, 0)}));
    expect_error_mentions("ag_sequential: layer 1 is NULL: ag_dropout");
    ag_module_free(bad_last);
    cr_assert_eq(live(), before, "a failing forward or constructor leaked");
    ag_module_free(fickle);
    ag_callback_free(es);
    ag_trainer_free(t);
    ag_optim_free(o);
    ag_module_free(m);
    ag_dataset_free(ds);
}

Test(api_memory, late_failures_leak_nothing_outside_a_scope) { late_failures(); }

Test(api_memory, late_failures_leak_nothing_inside_a_scope)
{
    ag_scope *s = ag_scope_begin();
    int64_t before = ag_scope_size(s);
    late_failures();
    cr_assert_eq(ag_scope_size(s), before, "failures left tensors in the caller's scope");
    ag_scope_end(s);
    cr_assert_eq(live(), 0);
}

Test(api_memory, a_dense_built_inside_a_scope_frees_its_parameters_with_it)
{
    ag_scope *s = ag_scope_begin();
    int64_t before = live();
    ag_module *m = ag_dense(3, 2, NULL, NULL);
    cr_assert_eq(live(), before + 2);
    cr_assert_eq(ag_scope_size(s), 0, "the parameters left the scope");
    ag_module_free(m);
    cr_assert_eq(live(), before, "freed with the module, not at the end of the scope");
    ag_scope_end(s);
}

/* ---- success paths: every call leaves behind exactly what it returns ---- */

/* `expr` succeeds and the live-tensor count then differs from before by `delta` (the tensors it
 * returned, freed by `cleanup`, after which the count is back where it was). */
#define LEAVES(delta, expr, cleanup)                                                          \
    do {                                                                                      \
        int64_t live0_ = live();                                                              \
        cr_assert((expr), "%s: %s", #expr, ag_last_error());                                 \
        cr_expect_eq(live() - live0_, delta, "%s left %lld tensors", #expr,                   \
                     (long long)(live() - live0_));                                           \
        cleanup;                                                                              \
        cr_expect_eq(live(), live0_, "%s: freeing its result did not free everything", #expr); \
    } while (0)

Test(api_memory, success_paths_leave_only_their_results)
{
    char path[80];
    snprintf(path, sizeof path, "/tmp/ag_test_limits_ok_%d.safetensors", (int)getpid());
    ag_dataset *ds = rows_dataset(10, AG_F32), *a = NULL, *b = NULL;
    ag_module *m;
    ag_optimizer *o;
    ag_trainer *t = dense_trainer(&m, &o, 4);
    ag_fit_opts fo = ag_fit_defaults();
    fo.verbose = AG_VERBOSE_SILENT;
    fo.validation_split = 0.2;
    int64_t before = live();
    ag_history *h = ag_fit(t, ds, &fo);
    cr_assert(h, "%s", ag_last_error());
    ag_history_free(h);
    cr_assert_eq(live(), before + 2, "a fit leaves only the parameters' gradients");
    ag_tensor *const *ps = ag_module_params(m), *mean, *sd, *r = NULL;
    FILE *out = tmpfile();
    double loss;
    ag_st_file *f = NULL;
    ag_scheduler *s = NULL;
    ag_dataset *d = NULL;
    ag_batcher *bt = NULL;
    LEAVES(0, ag_evaluate(t, ds, 3, &loss, NULL) == 0, (void)0);
    LEAVES(0, ag_module_summary(out, m, 1, (int64_t[]){2}) == 0, (void)0);
    LEAVES(0, ag_module_zero_grad(m) == 0 && ag_optim_zero_grad(o) == 0, (void)0);
    LEAVES(0, ag_clip_grad_norm(2, ps, 0.5) >= 0 && ag_clip_grad_value(2, ps, 0.1) == 0, (void)0);
    LEAVES(0, ag_optim_step(o) == 0, (void)0);
    LEAVES(0, (s = ag_sched_cosine(o, 5, 0)) && ag_sched_step(s) == 0, ag_sched_free(s));
    LEAVES(0, ag_checkpoint_save(path, m, o, 0, NULL) == 0, (void)0);
    LEAVES(0, ag_checkpoint_load(path, m, o, NULL) == 0, (void)0);
    LEAVES(4, f = ag_safetensors_load(path), ag_st_free(f)); /* 2 parameters, 2 step counts */
    LEAVES(0, ag_module_save(m, path) == 0 && ag_module_load(m, path) == 0, (void)0);
    LEAVES(1, r = ag_predict(m, ds->x, 3), ag_tensor_free(r));
    LEAVES(2, ag_standardize_fit(ds->x, &mean, &sd) == 0,
           (ag_tensor_free(mean), ag_tensor_free(sd)));
    LEAVES(1, r = ag_one_hot(ds->y, 2), ag_tensor_free(r));
    LEAVES(4, ag_dataset_split(ds, 0.3, true, 1, &a, &b) == 0,
           (ag_dataset_free(a), ag_dataset_free(b)));
    LEAVES(2, d = ag_dataset_cast(ds, AG_F64), ag_dataset_free(d));
    LEAVES(2, d = ag_load_csv("tests/fixtures/data/good.csv", NULL), ag_dataset_free(d));
    LEAVES(2, d = ag_load_idx_dataset("tests/fixtures/data/images.idx",
                                      "tests/fixtures/data/labels.idx", AG_F32),
           ag_dataset_free(d));
    LEAVES(0, bt = ag_batcher_new(ds, 4, true, 0, false), ag_batcher_free(bt));
    fclose(out);
    remove(path);
    ag_trainer_free(t);
    ag_optim_free(o);
    ag_module_free(m);
    ag_dataset_free(ds);
    cr_assert_eq(live(), 0);
}
