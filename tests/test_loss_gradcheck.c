/* tests/test_loss_gradcheck.c - loss gradients from two independent sources: finite differences
 * (ag_gradcheck full and fast, ag_gradgradcheck) for every loss and option on several shapes,
 * and hand derivations: the cross-entropy gradient (softmax - onehot) / N, the BCE gradient
 * (sigmoid(x) - t) / n, and label smoothing in its index and probability forms.
 */
#include "loss_test_util.h"

/* What a gradcheck function computes: inputs are x, then the target unless it is given here
 * (class indices). */
typedef struct gc_ctx { int kind; ag_loss_opts o; ag_tensor *fixed_target; } gc_ctx;

static ag_tensor *gc_fn(ag_tensor *const *in, int n, void *ctx)
{
    (void)n;
    const gc_ctx *c = ctx;
    return call_loss(c->kind, in[0], c->fixed_target ? c->fixed_target : in[1], &c->o);
}

static const ag_reduction REDUCTIONS[] = {AG_REDUCE_MEAN, AG_REDUCE_SUM, AG_REDUCE_NONE};

/* gradcheck (full and fast) for every reduction; gradgradcheck too when `second`. */
static void check_all_reductions(gc_ctx c, int n, ag_tensor *const *in, bool second)
{
    for (int r = 0; r < 3; r++) {
        c.o.reduction = REDUCTIONS[r];
        expect_gradcheck(gc_fn, &c, n, in);
        if (second) expect_gradgradcheck(gc_fn, &c, n, in);
    }
}

typedef struct shp { int nd; int64_t s[3]; } shp;
static const shp ELEM_SHAPES[] = {{0, {0}}, {1, {5}}, {2, {3, 4}}, {3, {2, 3, 2}}};

/* A target |x - t| >= 0.2 away from x (L1's kink), both leaves requiring grad. */
static void regression_pair(uint64_t seed, shp s, ag_tensor **x, ag_tensor **t)
{
    *x = tu_param(seed, s.nd, s.s, -2, 2);
    ag_tensor *off = tu_param(seed + 100, s.nd, s.s, 0.2, 1.2);
    ag_rng r = ag_rng_seed(seed);
    double v[32];
    int64_t n = ag_numel(*x);
    for (int64_t i = 0; i < n; i++)
        v[i] = ag_get(*x, i) + (ag_rng_uniform(&r) < 0.5 ? -1 : 1) * ag_get(off, i);
    *t = tu_tensor(AG_F64, s.nd, s.s, v);
    ag_set_requires_grad(*t, true);
}

Test(loss_gradcheck, mse_and_l1_every_shape_and_reduction)
{
    ag_scope *sc = ag_scope_begin();
    for (int k = 0; k < 4; k++) {
        ag_tensor *in[2];
        regression_pair(10 + (uint64_t)k, ELEM_SHAPES[k], &in[0], &in[1]);
        check_all_reductions((gc_ctx){.kind = LOSS_MSE}, 2, in, k == 2);
        check_all_reductions((gc_ctx){.kind = LOSS_L1}, 2, in, false);
    }
    ag_scope_end(sc);
}

Test(loss_gradcheck, bce_with_and_without_pos_weight)
{
    ag_scope *sc = ag_scope_begin();
    for (int k = 0; k < 4; k++) {
        shp s = ELEM_SHAPES[k];
        ag_tensor *in[2] = {tu_param(20 + (uint64_t)k, s.nd, s.s, -4, 4),
                            tu_param(30 + (uint64_t)k, s.nd, s.s, 0, 1)};
        check_all_reductions((gc_ctx){.kind = LOSS_BCE}, 2, in, k == 2);
        /* pos_weight of the last axis's size, broadcast over the rest */
        int64_t last = s.nd ? s.s[s.nd - 1] : 1;
        ag_rng r = ag_rng_seed(40 + (uint64_t)k);
        ag_tensor *pw = ag_rand_uniform(&r, AG_F64, s.nd ? 1 : 0, &last, 0.3, 3);
        check_all_reductions((gc_ctx){.kind = LOSS_BCE, .o.pos_weight = pw}, 2, in, k == 2);
    }
    ag_scope_end(sc);
}

static const int64_t CE_SHAPES[][2] = {{1, 3}, {4, 5}, {6, 2}};

Test(loss_gradcheck, cross_entropy_index_targets_every_option)
{
    ag_scope *sc = ag_scope_begin();
    for (int k = 0; k < 3; k++) {
        int64_t n = CE_SHAPES[k][0], c = CE_SHAPES[k][1];
        ag_tensor *x = tu_param(50 + (uint64_t)k, 2, CE_SHAPES[k], -3, 3);
        ag_tensor *w = tu_param(60 + (uint64_t)k, 1, &c, 0.2, 2.5);
        ag_tensor *y = index_targets(n, c, k);
        bool second = k == 1;
        gc_ctx plain = {.kind = LOSS_CE, .fixed_target = y};
        check_all_reductions(plain, 1, &x, second);
        gc_ctx weighted = plain, smooth = plain, both = plain;
        weighted.o.class_weights = w;
        smooth.o.label_smoothing = 0.1;
        both.o.class_weights = w;
        both.o.label_smoothing = 0.25;
        check_all_reductions(weighted, 1, &x, false);
        check_all_reductions(smooth, 1, &x, false);
        check_all_reductions(both, 1, &x, second);
    }
    ag_scope_end(sc);
}

Test(loss_gradcheck, cross_entropy_probability_targets_every_option)
{
    ag_scope *sc = ag_scope_begin();
    for (int k = 0; k < 3; k++) {
        int64_t c = CE_SHAPES[k][1];
        ag_tensor *in[2] = {tu_param(70 + (uint64_t)k, 2, CE_SHAPES[k], -3, 3),
                            tu_param(80 + (uint64_t)k, 2, CE_SHAPES[k], 0, 1)};
        ag_tensor *w = tu_param(90 + (uint64_t)k, 1, &c, 0.2, 2.5);
        bool second = k == 1;
        check_all_reductions((gc_ctx){.kind = LOSS_CE}, 2, in, second);
        check_all_reductions((gc_ctx){.kind = LOSS_CE, .o.class_weights = w}, 2, in, false);
        check_all_reductions((gc_ctx){.kind = LOSS_CE, .o.label_smoothing = 0.3}, 2, in, false);
        check_all_reductions(
            (gc_ctx){.kind = LOSS_CE, .o.class_weights = w, .o.label_smoothing = 0.1}, 2, in,
            second);
    }
    ag_scope_end(sc);
}

/* ---- hand derivations ---- */

/* d mean CE / dx = (softmax(x) - onehot(y)) / N, computed here in plain doubles. */
Test(loss_hand, cross_entropy_gradient_is_softmax_minus_onehot_over_n)
{
    ag_scope *sc = ag_scope_begin();
    enum { N = 4, C = 5 };
    ag_tensor *x = tu_param(7, 2, (int64_t[]){N, C}, -4, 4);
    ag_tensor *y = index_targets(N, C, 1);
    ag_tensor *onehot = ag_zeros(AG_F64, 2, (int64_t[]){N, C});
    double expect[N * C], loss = 0;
    for (int i = 0; i < N; i++) {
        double m = -INFINITY, s = 0;
        int yi = (int)ag_get(y, i);
        for (int j = 0; j < C; j++) m = fmax(m, ag_get(x, i * C + j));
        for (int j = 0; j < C; j++) s += exp(ag_get(x, i * C + j) - m);
        for (int j = 0; j < C; j++)
            expect[i * C + j] = (exp(ag_get(x, i * C + j) - m) / s - (j == yi)) / N;
        loss += (log(s) + m - ag_get(x, i * C + yi)) / N;
        ag_set(onehot, i * C + yi, 1.0);
    }
    ag_tensor *l = ag_cross_entropy(x, y, NULL);
    expect_values(l, &loss, 1, 1e-14);
    cr_assert_eq(ag_backward(l), 0, "%s", ag_last_error());
    expect_values(ag_grad(x), expect, N * C, 1e-15);
    /* the same through one-hot probability rows */
    ag_zero_grad(x);
    ag_tensor *l2 = ag_cross_entropy(x, onehot, NULL);
    expect_values(l2, &loss, 1, 1e-14);
    cr_assert_eq(ag_backward(l2), 0, "%s", ag_last_error());
    expect_values(ag_grad(x), expect, N * C, 1e-15);
    /* sum: N times larger */
    ag_zero_grad(x);
    cr_assert_eq(ag_backward(ag_cross_entropy(x, y, &(ag_loss_opts){.reduction = AG_REDUCE_SUM})),
                 0);
    for (int k = 0; k < N * C; k++) expect[k] *= N;
    expect_values(ag_grad(x), expect, N * C, 1e-15);
    ag_scope_end(sc);
}

/* d mean BCE / dx = (sigmoid(x) - t) / n. */
Test(loss_hand, bce_gradient_is_sigmoid_minus_target_over_n)
{
    ag_scope *sc = ag_scope_begin();
    ag_tensor *x = tu_param(8, 2, (int64_t[]){2, 3}, -5, 5);
    ag_tensor *t = T64(2, 3, ((double[]){0, 1, 0.5, 1, 0, 0.2}));
    double expect[6];
    for (int i = 0; i < 6; i++) expect[i] = (1 / (1 + exp(-ag_get(x, i))) - ag_get(t, i)) / 6;
    cr_assert_eq(ag_backward(ag_bce_with_logits(x, t, NULL)), 0, "%s", ag_last_error());
    expect_values(ag_grad(x), expect, 6, 1e-15);
    ag_scope_end(sc);
}

/* Label smoothing with index targets equals the smoothed one-hot probability form when there
 * are no class weights (with weights the two divide by different totals, as in PyTorch). */
Test(loss_hand, smoothing_index_and_probability_forms_agree_without_weights)
{
    ag_scope *sc = ag_scope_begin();
    ag_tensor *x = tu_param(9, 2, (int64_t[]){3, 4}, -3, 3);
    ag_tensor *y = T64_1(3, ((double[]){3, 0, 2}));
    ag_tensor *onehot = T64(3, 4, ((double[]){0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 1, 0}));
    for (int r = 0; r < 3; r++) {
        ag_loss_opts o = {.reduction = REDUCTIONS[r], .label_smoothing = 0.2};
        ag_tensor *a = ag_cross_entropy(x, y, &o), *b = ag_cross_entropy(x, onehot, &o);
        double bv[3];
        ag_to_f64(b, bv, 3);
        expect_values(a, bv, ag_numel(b), 1e-14);
    }
    ag_scope_end(sc);
}
