/* tests/test_optim.c - the optimizers (optim/sgd.c, adam.c, rmsprop.c, optimizer.c).
 *
 * Trajectories against PyTorch 1.13 (tests/fixtures/optim_traj.h, made by gen_optim.py): a
 * nonconvex problem minimised for 60 steps with zero_grad / forward with the engine's ops /
 * backward / step, parameters compared every 10 steps, for several settings of every optimizer,
 * including parameters that have no gradient for the first steps, and float32 runs. Then the
 * state list (names, shapes, step counters), an exact resume from copied state, the common
 * interface, error messages and leak checks.
 */
#include "test_util.h"

#include "../autograd/internal.h" /* white box: only to plant a mismatched gradient */
#include "fixtures/optim_traj.h"

/* The problem's tensors in one dtype; W and b are the parameters. */
typedef struct problem {
    ag_tensor *x, *c, *w, *b;
} problem;

static problem problem_new(ag_dtype dt)
{
    problem p = {
        tu_tensor(dt, 2, (int64_t[]){5, 3}, OPT_X), tu_tensor(dt, 2, (int64_t[]){5, 4}, OPT_C),
        tu_tensor(dt, 2, (int64_t[]){3, 4}, OPT_W0), tu_tensor(dt, 1, (int64_t[]){4}, OPT_B0)};
    ag_set_requires_grad(p.w, true);
    ag_set_requires_grad(p.b, true);
    return p;
}

static void problem_free(problem *p)
{
    ag_tensor_free(p->x);
    ag_tensor_free(p->c);
    ag_tensor_free(p->w);
    ag_tensor_free(p->b);
}

/* One training step, as gen_optim.py: L = sum(C*tanh(XW (+b))^2) + 0.05*sum((W*W)*(W*W)). */
static void train_step(problem *p, ag_optimizer *opt, bool use_b)
{
    ag_scope *sc = ag_scope_begin();
    cr_assert_eq(ag_optim_zero_grad(opt), 0);
    ag_tensor *z = ag_matmul(p->x, p->w);
    if (use_b) z = ag_add(z, p->b);
    ag_tensor *sq = ag_mul(p->w, p->w);
    ag_tensor *loss = ag_add(ag_sum_all(ag_mul(p->c, ag_pow(ag_tanh(z), 2.0))),
                             ag_mul_scalar(ag_sum_all(ag_mul(sq, sq)), 0.05));
    cr_assert(loss, "forward failed: %s", ag_last_error());
    cr_assert_eq(ag_backward(loss), 0, "backward failed: %s", ag_last_error());
    cr_assert_eq(ag_optim_step(opt), 0, "step failed: %s", ag_last_error());
    ag_scope_end(sc);
}

static ag_optimizer *make_opt(const optim_case *c, ag_tensor *const *params)
{
    ag_optimizer *o = NULL;
    if (!strcmp(c->kind, "GD")) {
        o = ag_gd_new(2, params, c->lr);
    } else if (!strcmp(c->kind, "SGD")) {
        ag_sgd_opts s = {c->lr, c->momentum, c->dampening, c->weight_decay, c->nesterov};
        o = ag_sgd_new(2, params, &s);
    } else if (!strcmp(c->kind, "Adam") || !strcmp(c->kind, "AdamW")) {
        ag_adam_opts a = {c->lr, c->beta1, c->beta2, c->eps, c->weight_decay, c->amsgrad};
        o = c->kind[4] ? ag_adamw_new(2, params, &a) : ag_adam_new(2, params, &a);
    } else {
        ag_rmsprop_opts r = {c->lr, c->alpha, c->eps, c->weight_decay, c->momentum, c->centered};
        o = ag_rmsprop_new(2, params, &r);
    }
    cr_assert(o, "%s: constructor failed: %s", c->name, ag_last_error());
    cr_assert_str_eq(ag_optim_name(o), c->kind);
    return o;
}

/* Runs case c and compares every snapshot; returns the largest scaled error seen. */
static double run_case(const optim_case *c, double tol)
{
    int64_t live = ag_memory_get_stats().live_tensors;
    problem p = problem_new(c->f32 ? AG_F32 : AG_F64);
    ag_tensor *params[2] = {p.w, p.b};
    ag_optimizer *opt = make_opt(c, params);
    double worst = 0;
    for (int s = 0; s < OPT_STEPS; s++) {
        train_step(&p, opt, s >= c->skip_b);
        if (s < c->skip_b)
            cr_assert_null(ag_grad(p.b), "%s: b has a gradient at step %d", c->name, s);
        if ((s + 1) % OPT_SNAP) continue;
        const double *e = c->traj + (s / OPT_SNAP) * OPT_NVALS;
        for (int k = 0; k < OPT_NVALS; k++) {
            double a = k < 12 ? ag_get(p.w, k) : ag_get(p.b, k - 12);
            double err = fabs(a - e[k]) / (1 + fabs(e[k]));
            if (err > worst) worst = err;
            cr_assert(err <= tol, "%s: step %d, value %d: got %.17g, PyTorch %.17g (error %.3g)",
                      c->name, s + 1, k, a, e[k], err);
        }
    }
    cr_assert_eq(ag_optim_steps(opt), OPT_STEPS);
    ag_optim_free(opt);
    problem_free(&p);
    cr_assert_eq(ag_memory_get_stats().live_tensors, live, "%s leaked tensors", c->name);
    return worst;
}

Test(optim, trajectories_match_pytorch_float64)
{
    int n = 0;
    for (int i = 0; i < N_OPTIM_CASES; i++) {
        if (OPTIM_CASES[i].f32) continue;
        double worst = run_case(&OPTIM_CASES[i], 1e-10);
        cr_log_info("%-20s worst error %.2g", OPTIM_CASES[i].name, worst);
        n++;
    }
    cr_assert_geq(n, 18);
}

/* Against PyTorch's float32 runs. The engine's float32 gradients differ from PyTorch's by
 * float32 roundoff (different summation orders), which the dynamics amplify: RMSprop's
 * normalisation most (PyTorch's own trajectory moves by ~1e-6 when its gradients are perturbed
 * at that level), hence the looser bound; SGD and Adam agree to ~1e-7. */
Test(optim, trajectories_match_pytorch_float32)
{
    int n = 0;
    for (int i = 0; i < N_OPTIM_CASES; i++) {
        if (!OPTIM_CASES[i].f32) continue;
        double worst = run_case(&OPTIM_CASES[i], 5e-5);
        cr_log_info("%-20s worst error %.2g", OPTIM_CASES[i].name, worst);
        n++;
    }
    cr_assert_geq(n, 4);
}

/* ---- state ---- */

static void expect_state(ag_optimizer *o, const char *const *names, int n, const problem *p)
{
    cr_assert_eq(ag_optim_num_state(o), n, "%s: %d state tensors", ag_optim_name(o),
                 ag_optim_num_state(o));
    for (int i = 0; i < n; i++) {
        const char *name;
        ag_tensor *t = ag_optim_state(o, i, &name);
        cr_assert(t && name);
        cr_assert_str_eq(name, names[i]);
        ag_tensor *par = name[0] == '0' ? p->w : p->b;
        if (strstr(name, ".step")) {
            cr_assert_eq(ag_ndim(t), 0);
            cr_assert_eq(ag_get_dtype(t), AG_F64);
        } else {
            cr_assert(ag_same_shape(t, par), "%s has the wrong shape", name);
            cr_assert_eq(ag_get_dtype(t), ag_get_dtype(par));
        }
    }
    const char *name = "x";
    cr_assert_null(ag_optim_state(o, n, &name));
    cr_assert_null(name);
    expect_error_mentions("ag_optim_state", "out of range");
}

Test(optim, state_names_and_shapes)
{
    int64_t live = ag_memory_get_stats().live_tensors;
    problem p = problem_new(AG_F32);
    ag_tensor *ps[2] = {p.w, p.b};
    ag_optimizer *o = ag_gd_new(2, ps, 0.1);
    expect_state(o, (const char *[]){"0.step", "1.step"}, 2, &p);
    ag_optim_free(o);
    o = ag_sgd_new(2, ps, &(ag_sgd_opts){.lr = 0.1, .momentum = 0.9});
    expect_state(o, (const char *[]){"0.step", "0.momentum_buffer", "1.step", "1.momentum_buffer"},
                 4, &p);
    ag_optim_free(o);
    ag_adam_opts a = ag_adam_defaults();
    a.amsgrad = true;
    o = ag_adam_new(2, ps, &a);
    expect_state(o, (const char *[]){"0.step", "0.exp_avg", "0.exp_avg_sq", "0.max_exp_avg_sq",
                                     "1.step", "1.exp_avg", "1.exp_avg_sq", "1.max_exp_avg_sq"},
                 8, &p);
    ag_optim_free(o);
    o = ag_adamw_new(2, ps, NULL);
    expect_state(o, (const char *[]){"0.step", "0.exp_avg", "0.exp_avg_sq", "1.step",
                                     "1.exp_avg", "1.exp_avg_sq"}, 6, &p);
    ag_optim_free(o);
    o = ag_rmsprop_new(2, ps, &(ag_rmsprop_opts){.lr = 0.01, .alpha = 0.99, .momentum = 0.5,
                                                 .centered = true});
    expect_state(o, (const char *[]){"0.step", "0.square_avg", "0.momentum_buffer",
                                     "0.grad_avg", "1.step", "1.square_avg",
                                     "1.momentum_buffer", "1.grad_avg"}, 8, &p);
    ag_optim_free(o);
    problem_free(&p);
    cr_assert_eq(ag_memory_get_stats().live_tensors, live);
}

/* Per-parameter step counters advance only for parameters that had a gradient. */
Test(optim, step_counters_skip_parameters_without_grad)
{
    problem p = problem_new(AG_F64);
    ag_tensor *ps[2] = {p.w, p.b};
    ag_optimizer *o = ag_adam_new(2, ps, NULL);
    for (int s = 0; s < 5; s++) train_step(&p, o, s >= 3);
    cr_assert_eq(ag_item(ag_optim_state(o, 0, NULL)), 5.0);
    cr_assert_eq(ag_item(ag_optim_state(o, 3, NULL)), 2.0);
    cr_assert_eq(ag_optim_steps(o), 5);
    cr_assert_eq(ag_optim_set_steps(o, 100), 0);
    cr_assert_eq(ag_optim_steps(o), 100);
    cr_assert_eq(ag_optim_set_steps(o, -1), -1);
    expect_error_mentions("ag_optim_set_steps", "-1");
    ag_optim_free(o);
    problem_free(&p);
}

/* Copying parameters and state into a fresh optimizer continues the run bit for bit (what a
 * checkpoint does); the SGD case checks the first-step momentum rule comes from the state. */
Test(optim, resume_from_copied_state_is_exact)
{
    static const char *const names[] = {"sgd_momentum_skip", "adam_skip", "rmsprop_wd_all"};
    for (int k = 0; k < 3; k++) {
        const optim_case *c = NULL;
        for (int i = 0; i < N_OPTIM_CASES; i++)
            if (!strcmp(OPTIM_CASES[i].name, names[k])) c = &OPTIM_CASES[i];
        cr_assert(c);
        problem a = problem_new(AG_F64), b = problem_new(AG_F64);
        ag_tensor *pa[2] = {a.w, a.b}, *pb[2] = {b.w, b.b};
        ag_optimizer *oa = make_opt(c, pa);
        /* b is first used at step 10, so at the copy (after 8 steps) W has momentum and b none */
        for (int s = 0; s < 8; s++) train_step(&a, oa, s >= 10);
        /* b: a fresh optimizer whose parameters and state get a's values */
        memcpy(ag_data(b.w), ag_data(a.w), 12 * sizeof(double));
        memcpy(ag_data(b.b), ag_data(a.b), 4 * sizeof(double));
        ag_optimizer *ob = make_opt(c, pb);
        cr_assert_eq(ag_optim_num_state(ob), ag_optim_num_state(oa));
        for (int i = 0; i < ag_optim_num_state(oa); i++) {
            ag_tensor *src = ag_optim_state(oa, i, NULL), *dst = ag_optim_state(ob, i, NULL);
            memcpy(ag_data(dst), ag_data(src), (size_t)ag_numel(src) * sizeof(double));
        }
        for (int s = 8; s < 30; s++) {
            train_step(&a, oa, s >= 10);
            train_step(&b, ob, s >= 10);
        }
        cr_assert_eq(memcmp(ag_data(a.w), ag_data(b.w), 12 * sizeof(double)), 0, "%s", c->name);
        cr_assert_eq(memcmp(ag_data(a.b), ag_data(b.b), 4 * sizeof(double)), 0, "%s", c->name);
        ag_optim_free(oa);
        ag_optim_free(ob);
        problem_free(&a);
        problem_free(&b);
    }
}

/* ---- the common interface ---- */

Test(optim, lr_params_and_zero_grad)
{
    int64_t live = ag_memory_get_stats().live_tensors;
    problem p = problem_new(AG_F64);
    ag_tensor *ps[2] = {p.w, p.b};
    ag_optimizer *o = ag_sgd_new(2, ps, NULL);
    cr_assert_eq(ag_optim_get_lr(o), 0.01);
    cr_assert_eq(ag_optim_set_lr(o, 0.5), 0);
    cr_assert_eq(ag_optim_get_lr(o), 0.5);
    cr_assert_eq(ag_optim_set_lr(o, -1), -1);
    expect_error_mentions("ag_optim_set_lr", "lr", "-1");
    cr_assert_eq(ag_optim_set_lr(o, NAN), -1);
    cr_assert_eq(ag_optim_get_lr(o), 0.5);
    cr_assert_eq(ag_optim_num_params(o), 2);
    cr_assert_eq(ag_optim_param(o, 1), p.b);
    cr_assert_null(ag_optim_param(o, 2));
    expect_error_mentions("ag_optim_param", "2");
    /* zero_grad leaves parameters without a gradient alone and zeroes the others */
    cr_assert_eq(ag_optim_zero_grad(o), 0);
    cr_assert_null(ag_grad(p.w));
    ag_scope *sc = ag_scope_begin();
    ag_backward(ag_sum_all(ag_mul(p.w, p.w)));
    ag_scope_end(sc);
    cr_assert_neq(ag_get(ag_grad(p.w), 0), 0.0);
    cr_assert_eq(ag_optim_zero_grad(o), 0);
    for (int i = 0; i < 12; i++) cr_assert_eq(ag_get(ag_grad(p.w), i), 0.0);
    cr_assert_null(ag_grad(p.b));
    /* a step with zero gradients and no weight decay changes nothing; b is skipped */
    double w0 = ag_get(p.w, 0);
    cr_assert_eq(ag_optim_step(o), 0);
    cr_assert_eq(ag_get(p.w, 0), w0);
    cr_assert_eq(ag_is_grad_enabled(), true);
    ag_optim_free(o);
    ag_optim_free(NULL);
    problem_free(&p);
    cr_assert_eq(ag_memory_get_stats().live_tensors, live);
}

/* The optimizer keeps its own reference to each parameter and owns its state whatever scope
 * it was made in. */
Test(optim, ownership_across_scopes)
{
    int64_t live = ag_memory_get_stats().live_tensors;
    ag_scope *sc = ag_scope_begin();
    ag_tensor *w = ag_zeros(AG_F64, 1, (int64_t[]){3});
    ag_set_requires_grad(w, true);
    ag_optimizer *o = ag_adam_new(1, &w, NULL);
    cr_assert(o);
    ag_scope_end(sc); /* the state survives the scope; w lives on through the optimizer */
    cr_assert_eq(ag_numel(ag_optim_state(o, 1, NULL)), 3);
    cr_assert_eq(ag_optim_step(o), 0);
    ag_optim_free(o);
    cr_assert_eq(ag_memory_get_stats().live_tensors, live);
}

/* ---- errors ---- */

Test(optim, constructor_errors_name_the_problem)
{
    int64_t live = ag_memory_get_stats().live_tensors;
    problem p = problem_new(AG_F64);
    ag_tensor *ps[2] = {p.w, p.b};
    cr_assert_null(ag_adam_new(0, ps, NULL));
    expect_error_mentions("ag_adam_new", "n = 0");
    cr_assert_null(ag_sgd_new(1, NULL, NULL));
    expect_error_mentions("ag_sgd_new", "params is NULL");
    cr_assert_null(ag_rmsprop_new(2, (ag_tensor *[]){p.w, NULL}, NULL));
    expect_error_mentions("ag_rmsprop_new", "params[1] is NULL");
    ag_tensor *w2 = ag_mul_scalar(p.w, 2.0);
    cr_assert_null(ag_gd_new(1, &w2, 0.1));
    expect_error_mentions("ag_gd_new", "params[0]", "[3,4]", "not a leaf");
    cr_assert_null(ag_adamw_new(1, &p.x, NULL));
    expect_error_mentions("ag_adamw_new", "params[0]", "[5,3]", "does not require grad");
    cr_assert_null(ag_adam_new(3, (ag_tensor *[]){p.w, p.b, p.w}, NULL));
    expect_error_mentions("ag_adam_new", "params[2]", "params[0]", "same tensor");
    cr_assert_null(ag_gd_new(2, ps, -0.1));
    expect_error_mentions("ag_gd_new", "lr", "-0.1");
    cr_assert_null(ag_sgd_new(2, ps, &(ag_sgd_opts){.lr = 0.1, .momentum = -0.5}));
    expect_error_mentions("ag_sgd_new", "momentum", "-0.5");
    cr_assert_null(ag_sgd_new(2, ps, &(ag_sgd_opts){.lr = 0.1, .nesterov = true}));
    expect_error_mentions("ag_sgd_new", "nesterov", "momentum");
    cr_assert_null(ag_sgd_new(2, ps, &(ag_sgd_opts){.lr = 0.1, .momentum = 0.9, .dampening = 0.1,
                                                    .nesterov = true}));
    expect_error_mentions("ag_sgd_new", "nesterov", "dampening = 0.1");
    cr_assert_null(ag_sgd_new(2, ps, &(ag_sgd_opts){.lr = 0.1, .dampening = 2}));
    expect_error_mentions("ag_sgd_new", "dampening", "2");
    ag_adam_opts a = ag_adam_defaults();
    a.beta1 = 1.0;
    cr_assert_null(ag_adam_new(2, ps, &a));
    expect_error_mentions("ag_adam_new", "beta1", "1");
    a = ag_adamw_defaults();
    a.beta2 = NAN;
    cr_assert_null(ag_adamw_new(2, ps, &a));
    expect_error_mentions("ag_adamw_new", "beta2", "nan");
    a = ag_adam_defaults();
    a.eps = -1e-8;
    cr_assert_null(ag_adam_new(2, ps, &a));
    expect_error_mentions("ag_adam_new", "eps", "-1e-08");
    a = ag_adam_defaults();
    a.weight_decay = INFINITY;
    cr_assert_null(ag_adam_new(2, ps, &a));
    expect_error_mentions("ag_adam_new", "weight_decay", "inf");
    ag_rmsprop_opts r = ag_rmsprop_defaults();
    r.alpha = 1.5;
    cr_assert_null(ag_rmsprop_new(2, ps, &r));
    expect_error_mentions("ag_rmsprop_new", "alpha", "1.5");
    r = ag_rmsprop_defaults();
    r.momentum = -1;
    cr_assert_null(ag_rmsprop_new(2, ps, &r));
    expect_error_mentions("ag_rmsprop_new", "momentum", "-1");
    ag_tensor_free(w2);
    problem_free(&p);
    cr_assert_eq(ag_memory_get_stats().live_tensors, live, "an error path leaked");
}

Test(optim, null_optimizer_and_mismatched_gradient)
{
    cr_assert_eq(ag_optim_step(NULL), -1);
    expect_error_mentions("ag_optim_step", "NULL");
    cr_assert_eq(ag_optim_zero_grad(NULL), -1);
    cr_assert(isnan(ag_optim_get_lr(NULL)));
    cr_assert_null(ag_optim_name(NULL));
    cr_assert_eq(ag_optim_num_state(NULL), -1);
    cr_assert_eq(ag_optim_steps(NULL), -1);

    problem p = problem_new(AG_F64);
    ag_tensor *ps[2] = {p.w, p.b};
    ag_optimizer *o = ag_adam_new(2, ps, NULL);
    ag_scope *sc = ag_scope_begin();
    ag_backward(ag_sum_all(ag_mul(p.w, p.w)));
    ag_scope_end(sc);
    /* Only reachable through the internals: a gradient that no longer matches its parameter. */
    ag_tensor *good = p.w->grad;
    p.w->grad = ag_zeros(AG_F64, 1, (int64_t[]){12});
    double w0 = ag_get(p.w, 0);
    cr_assert_eq(ag_optim_step(o), -1);
    expect_error_mentions("ag_optim_step", "Adam", "params[0]", "[12]", "[3,4]");
    cr_assert_eq(ag_get(p.w, 0), w0);
    cr_assert_eq(ag_item(ag_optim_state(o, 0, NULL)), 0.0);
    ag_tensor_free(p.w->grad);
    p.w->grad = good;
    cr_assert_eq(ag_optim_step(o), 0);
    cr_assert_neq(ag_get(p.w, 0), w0);
    ag_optim_free(o);
    problem_free(&p);
}

/* A parameter large enough for the parallel loop (AG_PAR_MIN elements and more), checked
 * against the first-step formulas worked out by hand: SGD theta - lr*g; Adam's bias-corrected
 * first step theta - lr*g/(|g| + eps) (m^ = g, v^ = g^2); RMSprop theta - lr*g/(sqrt(0.01)|g|
 * + eps) with alpha 0.99. */
Test(optim, large_parameter_first_steps_by_hand)
{
    const int64_t n = 50000;
    int64_t live = ag_memory_get_stats().live_tensors;
    for (int kind = 0; kind < 3; kind++) {
        ag_tensor *p = ag_zeros(AG_F64, 1, &n);
        ag_set_requires_grad(p, true);
        double *pd = ag_data_f64(p);
        for (int64_t i = 0; i < n; i++) pd[i] = 0.001 * (double)(i % 97);
        ag_tensor *g = ag_zeros(AG_F64, 1, &n);
        double *gd = ag_data_f64(g);
        for (int64_t i = 0; i < n; i++) gd[i] = 0.5 - 0.01 * (double)(i % 89);
        ag_scope *sc = ag_scope_begin();
        ag_backward(ag_sum_all(ag_mul(p, g))); /* gradient g */
        ag_scope_end(sc);
        ag_adam_opts a = {.lr = 0.01, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8};
        ag_optimizer *o = kind == 0   ? ag_sgd_new(1, &p, &(ag_sgd_opts){.lr = 0.1})
                          : kind == 1 ? ag_adam_new(1, &p, &a)
                                      : ag_rmsprop_new(1, &p, NULL);
        cr_assert_eq(ag_optim_step(o), 0);
        for (int64_t i = 0; i < n; i += 7) {
            double p0 = 0.001 * (double)(i % 97), gi = gd[i], want;
            if (kind == 0) want = p0 - 0.1 * gi;
            else if (kind == 1) want = p0 - 0.01 * gi / (fabs(gi) + 1e-8);
            else want = p0 - 0.01 * gi / (sqrt(0.01) * fabs(gi) + 1e-8);
            cr_assert(fabs(pd[i] - want) <= 1e-12, "%s element %lld: %.17g vs %.17g",
                      ag_optim_name(o), (long long)i, pd[i], want);
        }
        ag_optim_free(o);
        ag_tensor_free(g);
        ag_tensor_free(p);
    }
    cr_assert_eq(ag_memory_get_stats().live_tensors, live);
}
