/* tests/test_checkpoint.c - module save/load and training checkpoints (io/checkpoint.c).
 *
 * Independent references: an uninterrupted training run for checkpoint resumes, and a byte copy
 * of every parameter to check that a failed load changes nothing. Each test works in its own
 * temporary directory, removed afterwards (io_test_util.h).
 */
#include "io_test_util.h"

TestSuite(checkpoint, .init = setup, .fini = teardown);

/* ---- modules ---- */

static ag_module *mlp(int64_t in, int64_t hidden, int64_t out, ag_dtype dt, uint64_t seed)
{
    ag_rng r = ag_rng_seed(seed);
    ag_dense_opts o = {.dtype = dt, .init = AG_INIT_TORCH_DEFAULT};
    ag_module *layers[] = {ag_dense(in, hidden, &o, &r), ag_tanh_layer(),
                           ag_dense(hidden, out, &o, &r)};
    ag_module *m = ag_sequential(3, layers);
    cr_assert(m, "%s", ag_last_error());
    return m;
}

/* A copy of every parameter's bytes, to check that a failed load changed nothing. */
typedef struct snapshot { int n; unsigned char *bytes; size_t size; } snapshot;

static snapshot snap(ag_tensor *const *ts, int n)
{
    snapshot s = {n, NULL, 0};
    for (int i = 0; i < n; i++) s.size += nbytes(ts[i]);
    s.bytes = malloc(s.size + 1);
    size_t at = 0;
    for (int i = 0; i < n; i++) {
        size_t k = nbytes(ts[i]);
        if (k) memcpy(s.bytes + at, ag_data(ts[i]), k);
        at += k;
    }
    return s;
}

static bool same_snapshot(snapshot a, snapshot b)
{
    bool same = a.n == b.n && a.size == b.size && memcmp(a.bytes, b.bytes, a.size) == 0;
    free(a.bytes);
    free(b.bytes);
    return same;
}

static snapshot snap_module(const ag_module *m)
{
    return snap(ag_module_params(m), ag_module_num_params(m));
}

Test(checkpoint, module_roundtrip)
{
    ag_module *a = mlp(3, 4, 2, AG_F64, 1), *b = mlp(3, 4, 2, AG_F64, 2);
    const char *p = tpath("m.safetensors");
    cr_assert_eq(ag_module_save(a, p), 0, "%s", ag_last_error());
    cr_assert_not(same_snapshot(snap_module(a), snap_module(b)));
    cr_assert_eq(ag_module_load(b, p), 0, "%s", ag_last_error());
    cr_assert(same_snapshot(snap_module(a), snap_module(b)));
    ag_st_file *f = ag_safetensors_load(p);
    const char *names[] = {"0.bias", "0.weight", "2.bias", "2.weight"};
    for (int i = 0; i < 4; i++) cr_assert_str_eq(ag_st_name(f, i), names[i]);
    cr_assert_str_eq(ag_st_meta(f, "format"), "pt");
    ag_st_free(f);
    ag_module_free(a);
    ag_module_free(b);
}

Test(checkpoint, module_mismatch_leaves_module_unchanged)
{
    const char *p = tpath("m.safetensors");
    ag_module *a = mlp(3, 4, 2, AG_F64, 1);
    cr_assert_eq(ag_module_save(a, p), 0);
    ag_dense_opts o64 = {.dtype = AG_F64};
    struct { ag_module *m; const char *f1, *f2, *f3; } cases[] = {
        {mlp(3, 5, 2, AG_F64, 2), "0.weight", "[4,3]", "[5,3]"},
        {mlp(3, 4, 2, AG_F32, 2), "float64", "float32", "'0.weight'"},
        {ag_sequential(2, (ag_module *[]){ag_dense(3, 4, &o64, NULL), ag_tanh_layer()}),
         "holds tensor '2.bias'", "module", NULL},
        {ag_sequential(4, (ag_module *[]){ag_dense(3, 4, &o64, NULL), ag_tanh_layer(),
                                          ag_dense(4, 2, &o64, NULL), ag_dense(2, 1, &o64, NULL)}),
         "'3.weight'", "missing", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ag_module *m = cases[i].m;
        cr_assert(m, "%s", ag_last_error());
        snapshot before = snap_module(m);
        cr_assert_eq(ag_module_load(m, p), -1, "case %zu loaded", i);
        expect_error_mentions("ag_module_load", "m.safetensors", cases[i].f1, cases[i].f2);
        if (cases[i].f3) expect_error_mentions(cases[i].f3);
        cr_assert(same_snapshot(before, snap_module(m)), "case %zu: the module changed", i);
        ag_module_free(m);
    }
    cr_assert_eq(ag_module_load(NULL, p), -1);
    expect_error_mentions("ag_module_load", "NULL");
    cr_assert_eq(ag_module_save(a, NULL), -1);
    expect_error_mentions("ag_module_save", "path");
    cr_assert_eq(ag_module_load(a, tpath("none.safetensors")), -1);
    expect_error_mentions("ag_module_load", "none.safetensors", "No such file");
    ag_module_free(a);
}

/* ---- checkpoints: resume bit for bit ---- */

typedef enum { ADAM, SGD_MOMENTUM, ADAM_AMSGRAD } optkind;

static ag_optimizer *make_opt(ag_module *m, optkind k, double lr)
{
    ag_optimizer *o;
    if (k == SGD_MOMENTUM) {
        ag_sgd_opts s = ag_sgd_defaults();
        s.lr = lr;
        s.momentum = 0.9;
        o = ag_sgd_new(ag_module_num_params(m), ag_module_params(m), &s);
    } else {
        ag_adam_opts a = ag_adam_defaults();
        a.lr = lr;
        a.amsgrad = k == ADAM_AMSGRAD;
        o = ag_adam_new(ag_module_num_params(m), ag_module_params(m), &a);
    }
    cr_assert(o, "%s", ag_last_error());
    return o;
}

/* Fixed regression data: 16 examples, 3 features, 2 targets. */
static ag_tensor *data_x, *data_y;

static void make_data(void)
{
    ag_rng r = ag_rng_seed(42);
    data_x = ag_rand_uniform(&r, AG_F64, 2, (int64_t[]){16, 3}, -1, 1);
    data_y = ag_rand_uniform(&r, AG_F64, 2, (int64_t[]){16, 2}, -1, 1);
    cr_assert(data_x && data_y);
}

static void train(ag_module *m, ag_optimizer *o, int steps)
{
    for (int s = 0; s < steps; s++) {
        ag_scope *sc = ag_scope_begin();
        cr_assert_eq(ag_optim_zero_grad(o), 0);
        ag_tensor *d = ag_sub(ag_module_forward(m, data_x), data_y);
        ag_tensor *loss = ag_mean_all(ag_mul(d, d));
        cr_assert_eq(ag_backward(loss), 0, "%s", ag_last_error());
        cr_assert_eq(ag_optim_step(o), 0, "%s", ag_last_error());
        ag_scope_end(sc);
    }
}

static void resume_case(optkind kind)
{
    const int k = 5;
    make_data();
    /* Uninterrupted: 2k steps. */
    ag_module *ma = mlp(3, 6, 2, AG_F64, 1);
    ag_optimizer *oa = make_opt(ma, kind, 0.05);
    train(ma, oa, 2 * k);

    /* k steps, checkpoint, then a fresh model (other init) and optimizer (other lr) resume. */
    ag_module *mb = mlp(3, 6, 2, AG_F64, 1);
    ag_optimizer *ob = make_opt(mb, kind, 0.05);
    train(mb, ob, k);
    const char *p = tpath("ck.safetensors");
    const char *meta[] = {"epoch", "3"};
    cr_assert_eq(ag_checkpoint_save(p, mb, ob, 1, meta), 0, "%s", ag_last_error());
    ag_module_free(mb);
    ag_optim_free(ob);

    ag_module *mc = mlp(3, 6, 2, AG_F64, 99);
    ag_optimizer *oc = make_opt(mc, kind, 0.7);
    ag_st_file *f = NULL;
    cr_assert_eq(ag_checkpoint_load(p, mc, oc, &f), 0, "%s", ag_last_error());
    cr_assert(f);
    cr_assert_str_eq(ag_st_meta(f, "epoch"), "3");
    cr_assert_str_eq(ag_st_meta(f, "optimizer"), ag_optim_name(oc));
    ag_st_free(f);
    cr_assert_eq(ag_optim_steps(oc), k);
    cr_assert(ag_optim_get_lr(oc) == 0.05);
    train(mc, oc, k);
    cr_assert(same_snapshot(snap_module(ma), snap_module(mc)), "resumed parameters differ");
    ag_module_free(ma);
    ag_module_free(mc);
    ag_optim_free(oa);
    ag_optim_free(oc);
    ag_tensor_free(data_x);
    ag_tensor_free(data_y);
}

Test(checkpoint, checkpoint_resume_adam_bit_for_bit) { resume_case(ADAM); }
Test(checkpoint, checkpoint_resume_sgd_momentum_bit_for_bit) { resume_case(SGD_MOMENTUM); }

static snapshot snap_optim(const ag_optimizer *o)
{
    int n = ag_optim_num_state(o);
    ag_tensor **ts = malloc(((size_t)n + 1) * sizeof *ts);
    for (int i = 0; i < n; i++) {
        const char *name;
        ts[i] = ag_optim_state(o, i, &name);
    }
    snapshot s = snap(ts, n);
    free(ts);
    return s;
}

Test(checkpoint, checkpoint_mismatch_changes_nothing)
{
    make_data();
    ag_module *m = mlp(3, 6, 2, AG_F64, 1);
    ag_optimizer *o = make_opt(m, ADAM, 0.05);
    train(m, o, 3);
    const char *p = tpath("ck.safetensors"), *pm = tpath("model_only.safetensors");
    cr_assert_eq(ag_checkpoint_save(p, m, o, 0, NULL), 0, "%s", ag_last_error());
    cr_assert_eq(ag_checkpoint_save(pm, m, NULL, 0, NULL), 0, "%s", ag_last_error());

    struct { ag_module *m; optkind k; bool with_opt; const char *file, *f1, *f2; } cases[] = {
        {mlp(3, 6, 2, AG_F64, 2), SGD_MOMENTUM, true, p, "optimizer Adam", "not SGD"},
        {mlp(3, 6, 2, AG_F64, 2), ADAM_AMSGRAD, true, p, "max_exp_avg_sq", "missing"},
        {mlp(3, 5, 2, AG_F64, 2), ADAM, true, p, "model.0.weight", "[6,3]"},
        {mlp(3, 6, 2, AG_F64, 2), ADAM, true, pm, "no optimizer state", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ag_module *mi = cases[i].m;
        ag_optimizer *oi = make_opt(mi, cases[i].k, 0.3);
        train(mi, oi, 1);
        snapshot bm = snap_module(mi), bo = snap_optim(oi);
        ag_st_file *f = (ag_st_file *)1;
        cr_assert_eq(ag_checkpoint_load(cases[i].file, mi, oi, &f), -1, "case %zu loaded", i);
        cr_assert_null(f);
        expect_error_mentions("ag_checkpoint_load", cases[i].f1);
        if (cases[i].f2) expect_error_mentions(cases[i].f2);
        cr_assert(same_snapshot(bm, snap_module(mi)), "case %zu: the module changed", i);
        cr_assert(same_snapshot(bo, snap_optim(oi)), "case %zu: the optimizer state changed", i);
        cr_assert(ag_optim_get_lr(oi) == 0.3 && ag_optim_steps(oi) == 1);
        ag_optim_free(oi);
        ag_module_free(mi);
    }

    /* Without an optimizer only the model is restored, from either file. */
    for (int k = 0; k < 2; k++) {
        ag_module *mi = mlp(3, 6, 2, AG_F64, 7);
        cr_assert_eq(ag_checkpoint_load(k ? pm : p, mi, NULL, NULL), 0, "%s", ag_last_error());
        cr_assert(same_snapshot(snap_module(m), snap_module(mi)));
        ag_module_free(mi);
    }
    /* Reserved metadata keys are refused on save. */
    cr_assert_eq(ag_checkpoint_save(p, m, o, 1, (const char *[]){"lr", "1"}), -1);
    expect_error_mentions("ag_checkpoint_save", "'lr'", "reserved");
    cr_assert_eq(ag_checkpoint_save(p, NULL, o, 0, NULL), -1);
    expect_error_mentions("ag_checkpoint_save", "NULL");
    ag_module_free(m);
    ag_optim_free(o);
    ag_tensor_free(data_x);
    ag_tensor_free(data_y);
}
