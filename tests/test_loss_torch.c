/* tests/test_loss_torch.c - the losses of include/autograd/loss.h (nn/loss.c, nn/loss_ce.c)
 * against PyTorch 1.13 (tests/fixtures/losses.h, made by tests/fixtures/gen_losses.py): values,
 * gradients for the prediction and the target, and Hessian-vector products, in float64 at 1e-12
 * and again with float32 inputs at a float32 tolerance; extreme logits (+-1000) included.
 */
#include "loss_test_util.h"

#include <criterion/parameterized.h>

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
