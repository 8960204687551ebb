/* tests/test_schedule.c - learning-rate schedules (optim/schedule.c) and gradient clipping
 * (optim/clip.c).
 *
 * Schedules: the lr after creation and after each of 30 steps equals PyTorch 1.13's
 * lr_scheduler sequence (tests/fixtures/optim_traj.h) for StepLR, ExponentialLR,
 * CosineAnnealingLR (past t_max too), LinearLR and ReduceLROnPlateau (fed a fixed metric
 * sequence; patience, threshold, cooldown, min_lr). Clipping: clip_grad_norm_'s total norm and
 * the clipped gradients, clip_grad_value_, skipped tensors, float32, and the error paths.
 */
#include "test_util.h"

#include "fixtures/optim_traj.h"

static ag_tensor *param(int n)
{
    ag_tensor *p = ag_zeros(AG_F64, 1, (int64_t[]){n});
    ag_set_requires_grad(p, true);
    return p;
}

static ag_scheduler *make_sched(const sched_case *c, ag_optimizer *o)
{
    ag_scheduler *s = NULL;
    if (!strcmp(c->kind, "step")) s = ag_sched_step_lr(o, c->k[0], c->f[0]);
    else if (!strcmp(c->kind, "exp")) s = ag_sched_exponential(o, c->f[0]);
    else if (!strcmp(c->kind, "cosine")) s = ag_sched_cosine(o, c->k[0], c->f[0]);
    else if (!strcmp(c->kind, "linear")) s = ag_sched_linear(o, c->f[0], c->f[1], c->k[0]);
    else s = ag_sched_plateau(o, c->f[0], c->k[0], c->f[1], c->k[1], c->f[2]);
    cr_assert(s, "%s: %s", c->name, ag_last_error());
    return s;
}

Test(schedule, lr_sequences_match_pytorch)
{
    for (int i = 0; i < N_SCHED_CASES; i++) {
        const sched_case *c = &SCHED_CASES[i];
        ag_tensor *p = param(2);
        ag_optimizer *o = ag_sgd_new(1, &p, &(ag_sgd_opts){.lr = c->base_lr});
        ag_scheduler *s = make_sched(c, o);
        bool plateau = !strcmp(c->kind, "plateau");
        cr_assert_eq(ag_sched_needs_metric(s), plateau);
        for (int e = 0; e <= SCHED_EPOCHS; e++) {
            if (e > 0) {
                int rc = plateau ? ag_sched_step_metric(s, PLATEAU_METRICS[e - 1])
                                 : ag_sched_step(s);
                cr_assert_eq(rc, 0, "%s: %s", c->name, ag_last_error());
            }
            double lr = ag_optim_get_lr(o), want = c->lrs[e];
            /* bit-equal here (same libm as Python); 1e-15 leaves room for another libm cos */
            cr_assert(fabs(lr - want) <= 1e-15 * fabs(want) + 1e-18,
                      "%s epoch %d: lr %.17g, PyTorch %.17g", c->name, e, lr, want);
            cr_assert_eq(ag_sched_epoch(s), e);
        }
        ag_sched_free(s);
        ag_optim_free(o);
        ag_tensor_free(p);
    }
}

/* PyTorch's chainable form builds on the optimizer's current lr, so a manual change carries on. */
Test(schedule, chains_from_the_current_lr)
{
    ag_tensor *p = param(1);
    ag_optimizer *o = ag_sgd_new(1, &p, &(ag_sgd_opts){.lr = 1.0});
    ag_scheduler *s = ag_sched_exponential(o, 0.5);
    ag_sched_step(s);
    cr_assert_eq(ag_optim_get_lr(o), 0.5);
    ag_optim_set_lr(o, 4.0);
    ag_sched_step(s);
    cr_assert_eq(ag_optim_get_lr(o), 2.0);
    /* step_metric on a schedule that needs no metric is a plain step */
    cr_assert_eq(ag_sched_step_metric(s, 123.0), 0);
    cr_assert_eq(ag_optim_get_lr(o), 1.0);
    cr_assert_eq(ag_sched_epoch(s), 3);
    ag_sched_free(s);
    /* LinearLR applies start_factor when made */
    s = ag_sched_linear(o, 0.25, 1.0, 4);
    cr_assert_eq(ag_optim_get_lr(o), 0.25);
    ag_sched_free(s);
    ag_sched_free(NULL);
    ag_optim_free(o);
    ag_tensor_free(p);
}

Test(schedule, errors_name_the_option)
{
    ag_tensor *p = param(1);
    ag_optimizer *o = ag_sgd_new(1, &p, NULL);
    cr_assert_null(ag_sched_step_lr(NULL, 3, 0.5));
    expect_error_mentions("ag_sched_step_lr", "optimizer is NULL");
    cr_assert_null(ag_sched_step_lr(o, 0, 0.5));
    expect_error_mentions("ag_sched_step_lr", "step_size", "0");
    cr_assert_null(ag_sched_exponential(o, -0.5));
    expect_error_mentions("ag_sched_exponential", "gamma", "-0.5");
    cr_assert_null(ag_sched_cosine(o, 0, 0));
    expect_error_mentions("ag_sched_cosine", "t_max", "0");
    cr_assert_null(ag_sched_cosine(o, 5, -1));
    expect_error_mentions("ag_sched_cosine", "eta_min", "-1");
    cr_assert_null(ag_sched_linear(o, 0.0, 1.0, 5));
    expect_error_mentions("ag_sched_linear", "start_factor", "0");
    cr_assert_null(ag_sched_linear(o, 0.5, 1.5, 5));
    expect_error_mentions("ag_sched_linear", "end_factor", "1.5");
    cr_assert_null(ag_sched_linear(o, 0.5, 1.0, 0));
    expect_error_mentions("ag_sched_linear", "total_iters", "0");
    cr_assert_null(ag_sched_plateau(o, 1.0, 10, 1e-4, 0, 0));
    expect_error_mentions("ag_sched_plateau", "factor", "1");
    cr_assert_null(ag_sched_plateau(o, 0.1, -1, 1e-4, 0, 0));
    expect_error_mentions("ag_sched_plateau", "patience", "-1");
    cr_assert_null(ag_sched_plateau(o, 0.1, 10, 1e-4, -2, 0));
    expect_error_mentions("ag_sched_plateau", "cooldown", "-2");
    cr_assert_null(ag_sched_plateau(o, 0.1, 10, 1e-4, 0, -0.1));
    expect_error_mentions("ag_sched_plateau", "min_lr", "-0.1");
    ag_scheduler *s = ag_sched_plateau(o, 0.1, 10, 1e-4, 0, 0);
    cr_assert_eq(ag_sched_step(s), -1);
    expect_error_mentions("ag_sched_step", "ag_sched_step_metric");
    cr_assert_eq(ag_sched_step(NULL), -1);
    cr_assert_eq(ag_sched_step_metric(NULL, 1.0), -1);
    cr_assert_eq(ag_sched_epoch(NULL), -1);
    cr_assert_not(ag_sched_needs_metric(NULL));
    ag_sched_free(s);
    ag_optim_free(o);
    ag_tensor_free(p);
}

/* ---- clipping ---- */

/* Three parameters whose gradients are exactly the fixture's G1, G2 (unless !middle), G3:
 * backward of sum(p_i * G_i). */
static void clip_setup(ag_dtype dt, bool middle, ag_tensor **ps, ag_tensor **gs)
{
    static const int64_t shapes[3][3] = {{3, 4}, {4}, {2, 2, 2}};
    static const int nds[3] = {2, 1, 3};
    const double *vals[3] = {CLIP_G1, CLIP_G2, CLIP_G3};
    ag_scope *sc = ag_scope_begin();
    ag_tensor *loss = NULL;
    for (int i = 0; i < 3; i++) {
        ps[i] = ag_keep(ag_zeros(dt, nds[i], shapes[i]));
        gs[i] = ag_tensor_from_f64(dt, nds[i], shapes[i], vals[i]);
        ag_set_requires_grad(ps[i], true);
        if (i == 1 && !middle) continue;
        ag_tensor *term = ag_sum_all(ag_mul(ps[i], gs[i]));
        loss = loss ? ag_add(loss, term) : term;
    }
    cr_assert_eq(ag_backward(loss), 0, "%s", ag_last_error());
    ag_scope_end(sc);
}

static void clip_check(const clip_case *c, ag_dtype dt, double tol)
{
    ag_tensor *ps[3], *gs[3];
    clip_setup(dt, c->middle, ps, gs);
    if (c->by_norm) {
        double total = ag_clip_grad_norm(3, ps, c->value);
        cr_assert(fabs(total - c->total_norm) <= tol * c->total_norm,
                  "%s: total %.17g, PyTorch %.17g", c->name, total, c->total_norm);
    } else {
        cr_assert_eq(ag_clip_grad_value(3, ps, c->value), 0);
    }
    cr_assert_eq(ag_grad(ps[1]) != NULL, (bool)c->middle);
    int off = 0;
    for (int i = 0; i < 3; i++) {
        int64_t n = ag_numel(ps[i]);
        if (ag_grad(ps[i])) expect_values(ag_grad(ps[i]), c->out + off, n, tol);
        off += (int)n;
        ag_tensor_free(ps[i]);
    }
}

Test(clip, matches_pytorch)
{
    int64_t live = ag_memory_get_stats().live_tensors;
    for (int i = 0; i < N_CLIP_CASES; i++) clip_check(&CLIP_CASES[i], AG_F64, 1e-14);
    for (int i = 0; i < N_CLIP_CASES; i++) clip_check(&CLIP_CASES[i], AG_F32, 1e-6);
    cr_assert_eq(ag_memory_get_stats().live_tensors, live);
}

Test(clip, nothing_to_clip_and_errors)
{
    ag_tensor *p = param(3);
    cr_assert_eq(ag_clip_grad_norm(1, &p, 1.0), 0.0); /* no gradient: norm 0, nothing changes */
    cr_assert_eq(ag_clip_grad_norm(0, NULL, 1.0), 0.0);
    cr_assert_eq(ag_clip_grad_norm(-1, &p, 1.0), -1.0);
    expect_error_mentions("ag_clip_grad_norm", "-1");
    cr_assert_eq(ag_clip_grad_norm(2, (ag_tensor *[]){p, NULL}, 1.0), -1.0);
    expect_error_mentions("ag_clip_grad_norm", "params[1] is NULL");
    cr_assert_eq(ag_clip_grad_norm(1, &p, -2.0), -1.0);
    expect_error_mentions("ag_clip_grad_norm", "max_norm", "-2");
    cr_assert_eq(ag_clip_grad_value(1, &p, NAN), -1);
    expect_error_mentions("ag_clip_grad_value", "clip", "nan");
    cr_assert_eq(ag_clip_grad_value(1, NULL, 1.0), -1);
    expect_error_mentions("ag_clip_grad_value", "params is NULL");
    ag_tensor_free(p);
}
