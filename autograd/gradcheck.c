/* autograd/gradcheck.c - checks backward's gradients against central finite differences.
 *
 * Slow mode builds both Jacobians of F at x, one entry per (input element j, output element o):
 *   numeric:  (F(x + eps e_j) - F(x - eps e_j))_o / (2 eps)      (2 evaluations per input element)
 *   analytic: row o of J from one backward seeded with the unit vector e_o
 * Fast mode compares one number per input: v^T J u for a random output direction v and a random
 * unit input direction u (2 evaluations and 1 backward), as PyTorch's fast gradcheck does.
 * Every evaluation runs in its own scope, so a check allocates nothing that outlives it.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"

ag_gradcheck_opts ag_gradcheck_defaults(void)
{
    return (ag_gradcheck_opts){.eps = 1e-6, .atol = 1e-5, .rtol = 1e-3, .fast = false, .seed = 0};
}

typedef struct check {
    ag_gradcheck_fn fn;
    void *ctx;
    int n;
    ag_tensor *const *inputs;
    int k;                      /* inputs that require grad */
    ag_tensor *checked[64];
    int which[64];              /* index in inputs of checked[i] */
    int64_t m;                  /* output elements */
    ag_dtype out_dtype;
    int out_ndim;
    int64_t out_shape[AG_MAX_DIMS];
} check;

/* F(x) into out[0..m) as doubles. Grad mode stays on: F may itself differentiate (gradgradcheck). */
static int evaluate(check *c, double *out)
{
    ag_scope *s = ag_scope_begin();
    if (!s) return -1;
    ag_tensor *y = c->fn(c->inputs, c->n, c->ctx);
    int rc = -1;
    if (!y) {
        if (!ag_has_error()) ag__error("ag_gradcheck: the function returned NULL");
    } else if (y->numel != c->m) {
        ag__error("ag_gradcheck: the function's output changed size between calls (%lld vs %lld)",
                  (long long)y->numel, (long long)c->m);
    } else {
        rc = ag_to_f64(y, out, c->m);
    }
    ag_scope_end(s);
    return rc;
}

/* The analytic vector-Jacobian product J^T v for every checked input, into grads[i]. */
static int vjp(check *c, const double *v, double **grads)
{
    ag_scope *s = ag_scope_begin();
    if (!s) return -1;
    int rc = -1;
    ag_tensor *y = c->fn(c->inputs, c->n, c->ctx);
    if (!y) {
        if (!ag_has_error()) ag__error("ag_gradcheck: the function returned NULL");
        goto done;
    }
    if (!y->requires_grad) { /* F does not depend on the inputs through any gradient: J = 0 */
        for (int i = 0; i < c->k; i++)
            memset(grads[i], 0, sizeof(double) * (size_t)c->checked[i]->numel);
        rc = 0;
        goto done;
    }
    ag_tensor *seed = ag_tensor_from_f64(y->dtype, y->ndim, y->shape, v);
    ag_tensor *g[64];
    ag_backward_opts o = {.seed = seed};
    if (!seed || ag_grad_of(y, c->k, c->checked, g, &o) != 0) goto done;
    rc = 0;
    for (int i = 0; i < c->k && rc == 0; i++) rc = ag_to_f64(g[i], grads[i], c->checked[i]->numel);
done:
    ag_scope_end(s);
    return rc;
}

static int setup(const char *fn_name, check *c, ag_gradcheck_fn fn, void *ctx, int n,
                 ag_tensor *const *inputs, const ag_gradcheck_opts *o)
{
    memset(c, 0, sizeof *c);
    if (!fn || n <= 0 || !inputs) {
        ag__error("%s: need a function and at least one input (got fn %s, n = %d)", fn_name,
                  fn ? "set" : "NULL", n);
        return -1;
    }
    if (!(o->eps > 0) || !(o->atol >= 0) || !(o->rtol >= 0)) {
        ag__error("%s: need eps > 0, atol >= 0, rtol >= 0 (got %g, %g, %g)", fn_name, o->eps,
                  o->atol, o->rtol);
        return -1;
    }
    c->fn = fn;
    c->ctx = ctx;
    c->n = n;
    c->inputs = inputs;
    for (int i = 0; i < n; i++) {
        if (!inputs[i]) {
            ag__error("%s: input %d is NULL", fn_name, i);
            return -1;
        }
        if (!inputs[i]->requires_grad) continue;
        if (inputs[i]->node) {
            ag__error("%s: input %d was produced by op '%s'; inputs must be leaves", fn_name, i,
                      ag__op_name(inputs[i]->node));
            return -1;
        }
        if (c->k == 64) {
            ag__error("%s: more than 64 inputs require grad", fn_name);
            return -1;
        }
        c->which[c->k] = i;
        c->checked[c->k++] = inputs[i];
    }
    if (c->k == 0) {
        ag__error("%s: no input requires grad, so there is nothing to check (use "
                  "ag_set_requires_grad)", fn_name);
        return -1;
    }
    /* One evaluation to learn the output's shape. */
    ag_scope *s = ag_scope_begin();
    if (!s) return -1;
    ag_tensor *y = fn(inputs, n, ctx);
    if (y) {
        c->m = y->numel;
        c->out_dtype = y->dtype;
        c->out_ndim = y->ndim;
        memcpy(c->out_shape, y->shape, sizeof c->out_shape);
    } else if (!ag_has_error()) {
        ag__error("%s: the function returned NULL", fn_name);
    }
    ag_scope_end(s);
    return y ? 0 : -1;
}

/* Keeps the worst (largest error relative to its tolerance) comparison. */
static void consider(ag_gradcheck_report *r, double *worst, const ag_gradcheck_opts *o, int input,
                     int64_t idx, int64_t out_idx, double a, double num)
{
    double err = fabs(a - num), tol = o->atol + o->rtol * fabs(num);
    bool ok = (isnan(a) && isnan(num)) || err <= tol;
    double score = ok ? (tol > 0 ? err / tol : 0) : (isnan(err) ? INFINITY : 1 + err / fmax(tol, 1e-300));
    r->compared++;
    if (!ok) r->passed = false;
    if (score > *worst || r->input < 0) {
        *worst = score;
        r->input = input;
        r->input_index = idx;
        r->output_index = out_idx;
        r->analytic = a;
        r->numeric = num;
        r->abs_err = err;
        r->rel_err = err / fmax(fabs(num), 1e-300);
    }
}

static void perturb(ag_tensor *t, int64_t j, double delta, double original)
{
    AG_DISPATCH(t->dtype, T, ((T *)t->data)[j] = (T)(original + delta););
}

static int slow(check *c, const ag_gradcheck_opts *o, ag_gradcheck_report *r, double *worst)
{
    int64_t total = 0;
    for (int i = 0; i < c->k; i++) total += c->checked[i]->numel;
    if ((double)total * (double)c->m > 5e7) {
        ag__error("ag_gradcheck: the Jacobian has %lld x %lld entries; use the fast mode "
                  "(opts.fast = true) for inputs this large", (long long)c->m, (long long)total);
        return -1;
    }
    double *ana = malloc(sizeof(double) * (size_t)(total * c->m + 3 * c->m + 1));
    double **rows = malloc(sizeof(double *) * (size_t)c->k);
    if (!ana || !rows) {
        free(ana);
        free(rows);
        ag__error("ag_gradcheck: out of memory");
        return -1;
    }
    double *fp = ana + total * c->m, *fm = fp + c->m, *v = fm + c->m;
    int rc = 0;
    /* Analytic: one backward per output element o, seeded with e_o; ana[o*total + j]. */
    for (int64_t oi = 0; oi < c->m && rc == 0; oi++) {
        memset(v, 0, sizeof(double) * (size_t)c->m);
        v[oi] = 1.0;
        int64_t off = 0;
        for (int i = 0; i < c->k; i++) {
            rows[i] = ana + oi * total + off;
            off += c->checked[i]->numel;
        }
        rc = vjp(c, v, rows);
    }
    /* Numeric: central differences, one input element at a time. */
    int64_t off = 0;
    for (int i = 0; i < c->k && rc == 0; i++) {
        ag_tensor *x = c->checked[i];
        for (int64_t j = 0; j < x->numel && rc == 0; j++) {
            double x0 = ag_get(x, j);
            perturb(x, j, o->eps, x0);
            rc = evaluate(c, fp);
            perturb(x, j, -o->eps, x0);
            if (rc == 0) rc = evaluate(c, fm);
            perturb(x, j, 0.0, x0); /* exact: x0 was read from this dtype */
            for (int64_t oi = 0; oi < c->m && rc == 0; oi++) {
                double num = (fp[oi] - fm[oi]) / (2.0 * o->eps);
                consider(r, worst, o, c->which[i], j, oi, ana[oi * total + off + j], num);
            }
        }
        off += x->numel;
    }
    free(rows);
    free(ana);
    return rc;
}

static int fast(check *c, const ag_gradcheck_opts *o, ag_gradcheck_report *r, double *worst)
{
    ag_rng rng = ag_rng_seed(o->seed);
    int64_t total = 0;
    for (int i = 0; i < c->k; i++) total += c->checked[i]->numel;
    double *buf = malloc(sizeof(double) * (size_t)(3 * total + 3 * c->m + 1));
    double **g = malloc(sizeof(double *) * (size_t)c->k);
    if (!buf || !g) {
        free(buf);
        free(g);
        ag__error("ag_gradcheck: out of memory");
        return -1;
    }
    double *u = buf, *orig = u + total, *grads = orig + total, *v = grads + total;
    double *fp = v + c->m, *fm = fp + c->m;
    for (int64_t oi = 0; oi < c->m; oi++) v[oi] = ag_rng_uniform(&rng) * 2 - 1;
    int64_t off = 0;
    for (int i = 0; i < c->k; i++) {
        g[i] = grads + off;
        off += c->checked[i]->numel;
    }
    int rc = vjp(c, v, g);
    off = 0;
    for (int i = 0; i < c->k && rc == 0; i++) {
        ag_tensor *x = c->checked[i];
        int64_t n = x->numel;
        double norm = 0, analytic = 0, numeric = 0;
        for (int64_t j = 0; j < n; j++) {
            u[off + j] = ag_rng_uniform(&rng) * 2 - 1;
            norm += u[off + j] * u[off + j];
        }
        norm = sqrt(norm) > 0 ? sqrt(norm) : 1;
        for (int64_t j = 0; j < n; j++) {
            u[off + j] /= norm;
            orig[off + j] = ag_get(x, j);
            analytic += g[i][j] * u[off + j];
        }
        for (int64_t j = 0; j < n; j++) perturb(x, j, o->eps * u[off + j], orig[off + j]);
        rc = evaluate(c, fp);
        for (int64_t j = 0; j < n; j++) perturb(x, j, -o->eps * u[off + j], orig[off + j]);
        if (rc == 0) rc = evaluate(c, fm);
        for (int64_t j = 0; j < n; j++) perturb(x, j, 0.0, orig[off + j]);
        for (int64_t oi = 0; oi < c->m; oi++) numeric += v[oi] * (fp[oi] - fm[oi]) / (2 * o->eps);
        if (rc == 0) consider(r, worst, o, c->which[i], -1, -1, analytic, numeric);
        off += n;
    }
    free(g);
    free(buf);
    return rc;
}

int ag_gradcheck(ag_gradcheck_fn fn, void *ctx, int n, ag_tensor *const *inputs,
                 const ag_gradcheck_opts *opts, ag_gradcheck_report *report)
{
    ag_gradcheck_opts o = opts ? *opts : ag_gradcheck_defaults();
    ag_gradcheck_report local, *r = report ? report : &local;
    memset(r, 0, sizeof *r);
    r->passed = true;
    r->input = -1;
    r->input_index = r->output_index = -1;
    check c;
    double worst = 0;
    if (setup("ag_gradcheck", &c, fn, ctx, n, inputs, &o) != 0) {
        r->passed = false;
        snprintf(r->message, sizeof r->message, "error: %s", ag_last_error());
        return -1;
    }
    bool was = ag_set_grad_enabled(true);
    int rc = o.fast ? fast(&c, &o, r, &worst) : slow(&c, &o, r, &worst);
    ag_set_grad_enabled(was);
    if (rc != 0) {
        r->passed = false;
        snprintf(r->message, sizeof r->message, "error: %s", ag_last_error());
        return -1;
    }
    if (r->input < 0) {
        snprintf(r->message, sizeof r->message, "passed: nothing to compare (empty input or output)");
        return 0;
    }
    const char *mode = o.fast ? " (fast mode: v^T J u)" : "";
    if (r->passed)
        snprintf(r->message, sizeof r->message,
                 "passed: %lld comparisons%s, worst at input %d element %lld output %lld: "
                 "analytic %.10g numeric %.10g (abs err %.3g)", (long long)r->compared, mode,
                 r->input, (long long)r->input_index, (long long)r->output_index, r->analytic,
                 r->numeric, r->abs_err);
    else
        snprintf(r->message, sizeof r->message,
                 "FAILED%s: input %d element %lld, output %lld: analytic %.10g vs numeric %.10g "
                 "(abs err %.3g, rel err %.3g; allowed %.3g + %.3g*|numeric|)", mode, r->input,
                 (long long)r->input_index, (long long)r->output_index, r->analytic, r->numeric,
                 r->abs_err, r->rel_err, o.atol, o.rtol);
    return r->passed ? 0 : 1;
}

/* ---- second order: G(x, v) = J(x)^T v, computed with create_graph, checked by gradcheck ---- */

typedef struct gg_ctx {
    ag_gradcheck_fn fn;
    void *ctx;
    int n;            /* inputs of F; input n of G is v */
} gg_ctx;

static ag_tensor *gg_fn(ag_tensor *const *in, int n, void *p)
{
    gg_ctx *g = p;
    (void)n;
    ag_tensor *y = g->fn(in, g->n, g->ctx);
    ag_tensor *grads[64], *checked[64], *flat[64];
    int k = 0;
    for (int i = 0; i < g->n && k < 64; i++)
        if (in[i]->requires_grad) checked[k++] = in[i];
    if (!y) return NULL;
    if (!y->requires_grad) return ag_zeros(y->dtype, 1, (int64_t[]){1});
    ag_backward_opts o = {.seed = in[g->n], .create_graph = true};
    if (ag_grad_of(y, k, checked, grads, &o) != 0) return NULL;
    for (int i = 0; i < k; i++) flat[i] = ag_reshape(grads[i], 1, (int64_t[]){-1});
    return k == 1 ? flat[0] : ag_concat(k, flat, 0);
}

int ag_gradgradcheck(ag_gradcheck_fn fn, void *ctx, int n, ag_tensor *const *inputs,
                     const ag_gradcheck_opts *opts, ag_gradcheck_report *report)
{
    ag_gradcheck_opts o = opts ? *opts : ag_gradcheck_defaults();
    ag_gradcheck_report local, *r = report ? report : &local;
    check c;
    memset(r, 0, sizeof *r);
    if (n > 63) {
        ag__error("ag_gradgradcheck: at most 63 inputs (got %d)", n);
        snprintf(r->message, sizeof r->message, "error: %s", ag_last_error());
        return -1;
    }
    if (setup("ag_gradgradcheck", &c, fn, ctx, n, inputs, &o) != 0) {
        snprintf(r->message, sizeof r->message, "error: %s", ag_last_error());
        return -1;
    }
    /* A fixed random output direction v, itself checked as an input (as PyTorch does). It
     * lives in a scope of its own around the check. */
    ag_scope *vs = ag_scope_begin();
    ag_rng rng = ag_rng_seed(o.seed ^ 0x5eedull);
    ag_tensor *v = vs ? ag_rand_uniform(&rng, c.out_dtype, c.out_ndim, c.out_shape, -1, 1) : NULL;
    if (!v) {
        snprintf(r->message, sizeof r->message, "error: %s", ag_last_error());
        if (vs) ag_scope_end(vs);
        return -1;
    }
    ag_set_requires_grad(v, true);
    ag_tensor *all[64];
    for (int i = 0; i < n; i++) all[i] = inputs[i];
    all[n] = v;
    gg_ctx g = {fn, ctx, n};
    int rc = ag_gradcheck(gg_fn, &g, n + 1, all, &o, r);
    ag_scope_end(vs);
    return rc;
}
