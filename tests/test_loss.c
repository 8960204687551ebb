/* tests/test_loss.c - the losses of include/autograd/loss.h (nn/loss.c, nn/loss_ce.c).
 *
 * Expected values come from three independent sources:
 *   - PyTorch 1.13 (tests/fixtures/losses.h, made by tests/fixtures/gen_losses.py): values,
 *     gradients for the prediction and the target, and Hessian-vector products, in float64 at
 *     1e-12 and again with float32 inputs at a float32 tolerance; extreme logits (+-1000) included;
 *   - finite differences: ag_gradcheck (full and fast) and ag_gradgradcheck for every loss and
 *     option on several shapes;
 *   - hand derivations: the cross-entropy gradient (softmax - onehot) / N, the BCE gradient
 *     (sigmoid(x) - t) / n.
 * Plus the reduction shapes, ownership of the result (caller or scope; intermediates freed),
 * and the error messages.
 */
#include "test_util.h"
#include "fixtures/losses.h"

#include <criterion/parameterized.h>

/* ---- calling a loss by kind ---- */

static ag_tensor *call_loss(int kind, ag_tensor *x, ag_tensor *t, const ag_loss_opts *o)
{
    switch (kind) {
    case LOSS_MSE: return ag_mse_loss(x, t, o);
    case LOSS_L1: return ag_l1_loss(x, t, o);
    case LOSS_CE: return ag_cross_entropy(x, t, o);
    default: return ag_bce_with_logits(x, t, o);
    }
}

static ag_tensor *fixture_tensor(const loss_tensor *f, ag_dtype dt, bool requires_grad)
{
    if (f->numel == 0 && !f->v) return NULL;
    ag_tensor *t = tu_tensor(dt, f->ndim, f->shape, f->v);
    if (requires_grad) cr_assert_eq(ag_set_requires_grad(t, true), 0, "%s", ag_last_error());
    return t;
}

/* t matches the fixture in shape and values: |t - e| <= tol * (1 + |e|), and is finite. */
static void expect_fixture(const char *cname, const char *what, const ag_tensor *t,
                           const loss_tensor *e, double tol)
{
    cr_assert(t, "%s: %s is NULL (%s)", cname, what, ag_last_error());
    char got[128];
    ag_shape_str(t, got, sizeof got);
    bool same = ag_ndim(t) == e->ndim;
    for (int d = 0; same && d < e->ndim; d++) same = ag_shape(t)[d] == e->shape[d];
    cr_assert(same, "%s: %s has shape %s, PyTorch's has %d dims", cname, what, got, e->ndim);
    for (int64_t i = 0; i < e->numel; i++) {
        double a = ag_get(t, i), x = e->v[i];
        double err = fabs(a - x), lim = tol * (1.0 + fabs(x));
        cr_assert(isfinite(a), "%s: %s element %lld is %g", cname, what, (long long)i, a);
        cr_assert(err <= lim, "%s: %s element %lld: engine %.17g, PyTorch %.17g (error %.3g)",
                  cname, what, (long long)i, a, x, err);
    }
}

/* One fixture case's inputs in dtype dt, and the loss options it uses. */
typedef struct built { ag_tensor *x, *t, *w; ag_loss_opts o; } built;

static built build_case(const loss_case *c, ag_dtype dt)
{
    built b = {0};
    b.x = fixture_tensor(&c->x, dt, true);
    b.t = fixture_tensor(&c->target, dt, c->target_grad);
    b.w = fixture_tensor(&c->weight, dt, false);
    b.o.reduction = (ag_reduction)c->reduction;
    b.o.label_smoothing = c->label_smoothing;
    if (c->kind == LOSS_CE) b.o.class_weights = b.w;
    else b.o.pos_weight = b.w;
    return b;
}

/* Value and first-order gradients of one case, in dt. */
static void check_case(const loss_case *c, ag_dtype dt, double tol)
{
    ag_scope *s = ag_scope_begin();
    built b = build_case(c, dt);
    ag_tensor *out = call_loss(c->kind, b.x, b.t, &b.o);
    cr_assert(out, "%s: loss failed: %s", c->name, ag_last_error());
    cr_assert_eq(ag_get_dtype(out), dt, "%s: result dtype", c->name);
    expect_fixture(c->name, "value", out, &c->out, tol);
    ag_backward_opts bo = {.seed = fixture_tensor(&c->upstream, dt, false)};
    cr_assert_eq(ag_backward_ex(out, &bo), 0, "%s: backward: %s", c->name, ag_last_error());
    expect_fixture(c->name, "gradient of x", ag_grad(b.x), &c->grad_x, tol);
    if (c->target_grad)
        expect_fixture(c->name, "gradient of the target", ag_grad(b.t), &c->grad_t, tol);
    else
        cr_assert_null(ag_grad(b.t), "%s: class indices got a gradient", c->name);
    ag_scope_end(s);
}

/* Second order: gradients with create_graph, then the gradient of sum(g * v). */
static void check_hvp(const loss_case *c)
{
    ag_scope *s = ag_scope_begin();
    built b = build_case(c, AG_F64);
    int n = c->target_grad ? 2 : 1;
    ag_tensor *in[2] = {b.x, b.t}, *g[2] = {0}, *h[2] = {0};
    ag_tensor *out = call_loss(c->kind, b.x, b.t, &b.o);
    ag_backward_opts bo = {.seed = fixture_tensor(&c->upstream, AG_F64, false),
                           .create_graph = true};
    cr_assert_eq(ag_grad_of(out, n, in, g, &bo), 0, "%s: %s", c->name, ag_last_error());
    ag_tensor *sum = ag_sum_all(ag_mul(g[0], fixture_tensor(&c->hvp_vx, AG_F64, false)));
    if (n == 2)
        sum = ag_add(sum, ag_sum_all(ag_mul(g[1], fixture_tensor(&c->hvp_vt, AG_F64, false))));
    cr_assert_eq(ag_grad_of(sum, n, in, h, NULL), 0, "%s: %s", c->name, ag_last_error());
    expect_fixture(c->name, "hvp for x", h[0], &c->hvp_x, 1e-10);
    if (n == 2) expect_fixture(c->name, "hvp for the target", h[1], &c->hvp_t, 1e-10);
    ag_scope_end(s);
}

/* ---- PyTorch fixtures, one test per case ---- */

ParameterizedTestParameters(loss_torch, f64)
{
    static int idx[LOSS_NCASES];
    for (int i = 0; i < LOSS_NCASES; i++) idx[i] = i;
    return cr_make_param_array(int, idx, LOSS_NCASES);
}
ParameterizedTest(int *i, loss_torch, f64) { check_case(loss_all[*i], AG_F64, 1e-12); }

ParameterizedTestParameters(loss_torch, f32)
{
    static int idx[LOSS_NCASES];
    for (int i = 0; i < LOSS_NCASES; i++) idx[i] = i;
    return cr_make_param_array(int, idx, LOSS_NCASES);
}
/* float32 carries ~7 digits; the extreme cases keep their +-1000 exactly. */
ParameterizedTest(int *i, loss_torch, f32) { check_case(loss_all[*i], AG_F32, 2e-5); }

Test(loss_torch, hessian_vector_products)
{
    int count = 0;
    for (int i = 0; i < LOSS_NCASES; i++)
        if (loss_all[i]->has_hvp) {
            check_hvp(loss_all[i]);
            count++;
        }
    cr_assert_geq(count, 6, "only %d HVP fixtures", count);
}

/* ---- finite differences ---- */

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

/* Index targets 0..C-1 cycling through the rows, as whole numbers. */
static ag_tensor *index_targets(int64_t n, int64_t c, int64_t shift)
{
    double v[16];
    for (int64_t i = 0; i < n; i++) v[i] = (double)((i * 3 + shift) % c);
    return tu_tensor(AG_F64, 1, (int64_t[]){n}, v);
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

/* ---- shapes, extreme inputs, ownership ---- */

Test(loss_shapes, reductions_give_scalars_or_per_element_losses)
{
    ag_scope *sc = ag_scope_begin();
    ag_tensor *p = tu_param(1, 3, (int64_t[]){2, 3, 2}, -1, 1);
    ag_tensor *q = tu_param(2, 3, (int64_t[]){2, 3, 2}, 0, 1);
    ag_loss_opts none = {.reduction = AG_REDUCE_NONE}, sum = {.reduction = AG_REDUCE_SUM};
    for (int k = LOSS_MSE; k <= LOSS_BCE; k++) {
        if (k == LOSS_CE) continue;
        expect_shape(call_loss(k, p, q, &none), 3, (int64_t[]){2, 3, 2});
        expect_shape(call_loss(k, p, q, &sum), 0, NULL);
        expect_shape(call_loss(k, p, q, NULL), 0, NULL);
    }
    ag_tensor *x = tu_param(3, 2, (int64_t[]){4, 3}, -1, 1);
    expect_shape(ag_cross_entropy(x, index_targets(4, 3, 0), &none), 1, (int64_t[]){4});
    expect_shape(ag_cross_entropy(x, tu_param(4, 2, (int64_t[]){4, 3}, 0, 1), &none), 1,
                 (int64_t[]){4});
    expect_shape(ag_cross_entropy(x, index_targets(4, 3, 0), &sum), 0, NULL);
    /* an empty batch: mean is 0/0 (NaN, as PyTorch), sum 0, none [0] */
    ag_tensor *e = ag_zeros(AG_F64, 2, (int64_t[]){0, 3});
    ag_tensor *ey = ag_zeros(AG_F64, 1, (int64_t[]){0});
    cr_assert(isnan(ag_item(ag_cross_entropy(e, ey, NULL))));
    cr_assert_eq(ag_item(ag_cross_entropy(e, ey, &sum)), 0.0);
    expect_shape(ag_cross_entropy(e, ey, &none), 1, (int64_t[]){0});
    ag_scope_end(sc);
}

/* +-1000 in both dtypes: finite values and gradients (the fixtures also check the numbers). */
Test(loss_shapes, extreme_logits_stay_finite_in_both_dtypes)
{
    for (int d = 0; d < 2; d++) {
        ag_dtype dt = d ? AG_F32 : AG_F64;
        ag_scope *sc = ag_scope_begin();
        ag_tensor *x = tu_tensor(dt, 2, (int64_t[]){2, 3},
                                 (double[]){1000, -1000, 0, -1000, -1000, 1000});
        ag_set_requires_grad(x, true);
        ag_tensor *y = tu_tensor(dt, 1, (int64_t[]){2}, (double[]){1, 0});
        ag_tensor *t = tu_tensor(dt, 2, (int64_t[]){2, 3}, (double[]){0, 1, 0.5, 1, 0, 0});
        ag_tensor *ce = ag_cross_entropy(x, y, &(ag_loss_opts){.label_smoothing = 0.1});
        ag_tensor *bce = ag_bce_with_logits(x, t, NULL);
        /* CE: row 0 loses about 2000; BCE: four confidently wrong logits cost 1000 each, and
         * x = 0 against t = 0.5 costs log 2 */
        cr_assert(isfinite(ag_item(ce)) && ag_item(ce) > 900, "ce %g", ag_item(ce));
        cr_assert(fabs(ag_item(bce) - (4000 + log(2.0)) / 6) < 1e-3, "bce %g", ag_item(bce));
        cr_assert_eq(ag_backward(ag_add(ce, bce)), 0, "%s", ag_last_error());
        for (int i = 0; i < 6; i++) cr_assert(isfinite(ag_get(ag_grad(x), i)), "grad %d", i);
        ag_scope_end(sc);
    }
}

Test(loss_memory, result_belongs_to_the_caller_or_the_scope_and_intermediates_are_freed)
{
    int64_t base = ag_memory_get_stats().live_tensors;
    ag_tensor *x = tu_param(5, 2, (int64_t[]){3, 4}, -1, 1);
    ag_tensor *y = index_targets(3, 4, 0);
    ag_tensor *w = ag_ones(AG_F64, 1, (int64_t[]){4});
    ag_set_requires_grad(w, true); /* a setting: no gradient reaches it */
    /* outside a scope: the caller frees the result; the graph keeps what backward needs */
    ag_loss_opts o = {.class_weights = w, .label_smoothing = 0.1};
    ag_tensor *l = ag_cross_entropy(x, y, &o);
    cr_assert(l, "%s", ag_last_error());
    cr_assert_eq(ag_backward(l), 0, "%s", ag_last_error());
    cr_assert(ag_grad(x));
    cr_assert_null(ag_grad(w), "class weights received a gradient");
    ag_clear_error();
    ag_tensor_free(l);
    cr_assert(!ag_has_error(), "%s", ag_last_error());
    /* inside a scope: exactly one new tensor (the result) belongs to it */
    ag_scope *sc = ag_scope_begin();
    for (int k = LOSS_MSE; k <= LOSS_BCE; k++) {
        int64_t before = ag_scope_size(sc);
        ag_tensor *t = k == LOSS_CE ? y : x;
        cr_assert(call_loss(k, x, t, NULL), "%s", ag_last_error());
        cr_assert_eq(ag_scope_size(sc), before + 1, "kind %d left %lld tensors in the scope", k,
                     (long long)(ag_scope_size(sc) - before));
    }
    ag_scope_end(sc);
    ag_tensor_free(x);
    ag_tensor_free(y);
    ag_tensor_free(w);
    cr_assert_eq(ag_memory_get_stats().live_tensors, base, "leaked %lld tensors",
                 (long long)(ag_memory_get_stats().live_tensors - base));
}

Test(loss_memory, no_grad_mode_records_nothing)
{
    ag_scope *sc = ag_scope_begin();
    ag_tensor *x = tu_param(6, 2, (int64_t[]){2, 3}, -1, 1);
    bool prev = ag_set_grad_enabled(false);
    ag_tensor *l = ag_cross_entropy(x, index_targets(2, 3, 0), NULL);
    ag_set_grad_enabled(prev);
    cr_assert(l && !ag_requires_grad(l));
    ag_scope_end(sc);
}

/* ---- errors ---- */

/* The call fails, leaks nothing, and its message names every fragment. */
#define EXPECT_FAIL(call, ...)                                                             \
    do {                                                                                   \
        ag_clear_error();                                                                  \
        int64_t live_ = ag_memory_get_stats().live_tensors;                                \
        cr_assert_null((call), "%s succeeded", #call);                                     \
        cr_assert_eq(ag_memory_get_stats().live_tensors, live_, "%s leaked tensors", #call); \
        expect_error_mentions(__VA_ARGS__);                                                \
    } while (0)

Test(loss_errors, null_dtype_and_shape_mismatches)
{
    ag_scope *sc = ag_scope_begin();
    ag_tensor *a = ag_zeros(AG_F64, 2, (int64_t[]){4, 3});
    ag_tensor *b = ag_zeros(AG_F64, 2, (int64_t[]){3, 4});
    ag_tensor *f = ag_zeros(AG_F32, 2, (int64_t[]){4, 3});
    EXPECT_FAIL(ag_mse_loss(NULL, a, NULL), "ag_mse_loss", "pred is NULL");
    EXPECT_FAIL(ag_l1_loss(a, NULL, NULL), "ag_l1_loss", "target is NULL");
    EXPECT_FAIL(ag_cross_entropy(NULL, a, NULL), "ag_cross_entropy", "logits is NULL");
    EXPECT_FAIL(ag_bce_with_logits(a, NULL, NULL), "ag_bce_with_logits", "target is NULL");
    EXPECT_FAIL(ag_mse_loss(a, b, NULL), "ag_mse_loss", "[3,4]", "[4,3]");
    EXPECT_FAIL(ag_l1_loss(a, f, NULL), "ag_l1_loss", "float64", "float32", "[4,3]");
    EXPECT_FAIL(ag_bce_with_logits(a, b, NULL), "ag_bce_with_logits", "[3,4]", "[4,3]");
    EXPECT_FAIL(ag_bce_with_logits(f, a, NULL), "ag_bce_with_logits", "float32", "float64");
    EXPECT_FAIL(ag_cross_entropy(a, f, NULL), "ag_cross_entropy", "float64", "float32");
    /* a NULL from a failed inner op keeps that op's message */
    ag_clear_error();
    cr_assert_null(ag_mse_loss(ag_matmul(a, a), a, NULL));
    expect_error_mentions("ag_matmul", "[4,3]");
    ag_scope_end(sc);
}

Test(loss_errors, cross_entropy_shapes_and_targets)
{
    ag_scope *sc = ag_scope_begin();
    ag_tensor *x = ag_zeros(AG_F64, 2, (int64_t[]){4, 5});
    ag_tensor *y = T64_1(4, ((double[]){0, 1, 4, 2}));
    ag_tensor *x1 = ag_zeros(AG_F64, 1, (int64_t[]){5}), *y1 = T64_1(1, ((double[]){0}));
    ag_tensor *x3 = ag_zeros(AG_F64, 3, (int64_t[]){2, 4, 5});
    ag_tensor *x0 = ag_zeros(AG_F64, 2, (int64_t[]){4, 0});
    ag_tensor *short_y = T64_1(3, ((double[]){0, 1, 2}));
    ag_tensor *narrow = ag_zeros(AG_F64, 2, (int64_t[]){4, 3});
    ag_tensor *too_big = T64_1(4, ((double[]){0, 1, 5, 2}));
    ag_tensor *negative = T64_1(4, ((double[]){0, -1, 1, 2}));
    ag_tensor *fraction = T64_1(4, ((double[]){0, 1, 2, 1.5}));
    ag_tensor *nan = T64_1(4, ((double[]){NAN, 1, 2, 3}));
    ag_tensor *huge = T64_1(4, ((double[]){0, 1, 2, 1e300}));
    EXPECT_FAIL(ag_cross_entropy(x1, y1, NULL), "ag_cross_entropy", "[5]", "2-D");
    EXPECT_FAIL(ag_cross_entropy(x3, y, NULL), "ag_cross_entropy", "[2,4,5]", "2-D");
    EXPECT_FAIL(ag_cross_entropy(x0, y, NULL), "ag_cross_entropy", "[4,0]", "no classes");
    EXPECT_FAIL(ag_cross_entropy(x, short_y, NULL), "ag_cross_entropy", "target [3]",
                "logits [4,5]");
    EXPECT_FAIL(ag_cross_entropy(x, narrow, NULL), "ag_cross_entropy", "target [4,3]",
                "logits [4,5]");
    EXPECT_FAIL(ag_cross_entropy(x, too_big, NULL), "ag_cross_entropy", "target[2] = 5", "[4,5]",
                "0..4");
    EXPECT_FAIL(ag_cross_entropy(x, negative, NULL), "ag_cross_entropy", "target[1] = -1");
    EXPECT_FAIL(ag_cross_entropy(x, fraction, NULL), "ag_cross_entropy", "target[3] = 1.5",
                "whole number");
    EXPECT_FAIL(ag_cross_entropy(x, nan, NULL), "ag_cross_entropy", "target[0] = nan");
    EXPECT_FAIL(ag_cross_entropy(x, huge, NULL), "ag_cross_entropy", "target[3] = 1e+300");
    ag_scope_end(sc);
}

Test(loss_errors, options)
{
    ag_scope *sc = ag_scope_begin();
    ag_tensor *x = ag_zeros(AG_F64, 2, (int64_t[]){4, 5});
    ag_tensor *y = T64_1(4, ((double[]){0, 1, 4, 2}));
    ag_tensor *w4 = ag_ones(AG_F64, 1, (int64_t[]){4});
    ag_tensor *w5f = ag_ones(AG_F32, 1, (int64_t[]){5});
    ag_tensor *w15 = ag_ones(AG_F64, 2, (int64_t[]){1, 5});
    ag_tensor *w5 = ag_ones(AG_F64, 1, (int64_t[]){5});
    EXPECT_FAIL(ag_cross_entropy(x, y, &(ag_loss_opts){.class_weights = w4}), "ag_cross_entropy",
                "class_weights [4]", "[5]", "[4,5]");
    EXPECT_FAIL(ag_cross_entropy(x, y, &(ag_loss_opts){.class_weights = w15}),
                "ag_cross_entropy", "class_weights [1,5]");
    EXPECT_FAIL(ag_cross_entropy(x, y, &(ag_loss_opts){.class_weights = w5f}),
                "ag_cross_entropy", "class_weights [5]", "float32", "float64");
    EXPECT_FAIL(ag_cross_entropy(x, y, &(ag_loss_opts){.label_smoothing = -0.1}),
                "ag_cross_entropy", "label_smoothing -0.1");
    EXPECT_FAIL(ag_cross_entropy(x, y, &(ag_loss_opts){.label_smoothing = 1.0}),
                "ag_cross_entropy", "label_smoothing 1");
    EXPECT_FAIL(ag_cross_entropy(x, y, &(ag_loss_opts){.label_smoothing = NAN}),
                "ag_cross_entropy", "label_smoothing nan");
    EXPECT_FAIL(ag_cross_entropy(x, y, &(ag_loss_opts){.pos_weight = w5}), "ag_cross_entropy",
                "pos_weight");
    EXPECT_FAIL(ag_cross_entropy(x, y, &(ag_loss_opts){.reduction = (ag_reduction)7}),
                "ag_cross_entropy", "reduction 7");
    EXPECT_FAIL(ag_mse_loss(x, x, &(ag_loss_opts){.reduction = (ag_reduction)-1}), "ag_mse_loss",
                "reduction -1");
    EXPECT_FAIL(ag_mse_loss(x, x, &(ag_loss_opts){.class_weights = w5}), "ag_mse_loss",
                "class_weights");
    EXPECT_FAIL(ag_l1_loss(x, x, &(ag_loss_opts){.label_smoothing = 0.1}), "ag_l1_loss",
                "label_smoothing");
    EXPECT_FAIL(ag_bce_with_logits(x, x, &(ag_loss_opts){.label_smoothing = 0.1}),
                "ag_bce_with_logits", "label_smoothing");
    /* pos_weight must broadcast to the target without enlarging it */
    EXPECT_FAIL(ag_bce_with_logits(x, x, &(ag_loss_opts){.pos_weight = w4}),
                "ag_bce_with_logits", "pos_weight [4]", "target [4,5]");
    ag_tensor *w245 = ag_ones(AG_F64, 3, (int64_t[]){2, 4, 5});
    EXPECT_FAIL(ag_bce_with_logits(x, x, &(ag_loss_opts){.pos_weight = w245}),
                "ag_bce_with_logits", "pos_weight [2,4,5]", "target [4,5]");
    EXPECT_FAIL(ag_bce_with_logits(x, x, &(ag_loss_opts){.pos_weight = w5f}),
                "ag_bce_with_logits", "pos_weight [5]", "float32");
    /* the accepted forms */
    cr_assert(ag_bce_with_logits(x, x, &(ag_loss_opts){.pos_weight = w5}), "%s", ag_last_error());
    cr_assert(ag_bce_with_logits(x, x, &(ag_loss_opts){.pos_weight = ag_ones(
                  AG_F64, 2, (int64_t[]){4, 1})}), "%s", ag_last_error());
    cr_assert(ag_cross_entropy(x, y, &(ag_loss_opts){.label_smoothing = 0.999}), "%s",
              ag_last_error());
    ag_scope_end(sc);
}
