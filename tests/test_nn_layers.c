/* tests/test_nn_layers.c - the layers of nn/: Dense against hand-computed values, gradients of
 * layers and Sequential models against finite differences, initializer statistics, and dropout
 * (eval identity, kept fraction, scale, seeds). Modules as containers are in test_nn_module.c.
 *
 * Expected values are worked out by hand or computed here with plain C loops and libm
 * (independent of the engine's ops); gradients are checked by ag_gradcheck in float64.
 */
#include <stdio.h>
#include <stdlib.h>

#include "nn_test_util.h"

static void set_values(ag_tensor *t, const double *v)
{
    cr_assert(t, "%s", ag_last_error());
    for (int64_t i = 0; i < ag_numel(t); i++) cr_assert_eq(ag_set(t, i, v[i]), 0);
}

static ag_module *dense_act(int64_t in, int64_t out, ag_activation act, ag_dtype dt)
{
    ag_dense_opts o = {.activation = act, .dtype = dt};
    ag_module *m = ag_dense(in, out, &o, NULL);
    cr_assert(m, "ag_dense failed: %s", ag_last_error());
    return m;
}

/* W = [[0.1,-0.2,0.3],[0.4,0.5,-0.6]], b = [0.05,-0.1], x = [[1,2,3],[-1,0.5,2]]:
 * x W^T + b = [[0.65,-0.5],[0.45,-1.45]] (worked out by hand). */
static const double HW[] = {0.1, -0.2, 0.3, 0.4, 0.5, -0.6}, HB[] = {0.05, -0.1};
static const double HX[] = {1, 2, 3, -1, 0.5, 2};
static const double HY[] = {0.65, -0.5, 0.45, -1.45};

static ag_module *hand_dense(ag_activation act, ag_dtype dt)
{
    ag_module *m = dense_act(3, 2, act, dt);
    set_values(ag_module_param_by_name(m, "weight"), HW);
    set_values(ag_module_param_by_name(m, "bias"), HB);
    return m;
}

/* ---- Dense forward ---- */

Test(dense, forward_by_hand_f64_and_f32)
{
    for (int k = 0; k < 2; k++) {
        ag_dtype dt = k ? AG_F32 : AG_F64;
        ag_module *m = hand_dense(AG_ACT_NONE, dt);
        ag_tensor *x = tu_tensor(dt, 2, (int64_t[]){2, 3}, HX);
        ag_tensor *y = ag_module_forward(m, x);
        expect_shape(y, 2, (int64_t[]){2, 2});
        cr_assert_eq(ag_get_dtype(y), dt);
        expect_values(y, HY, 4, dt == AG_F64 ? 1e-15 : 1e-6);
        ag_tensor_free(y);
        /* A single example [in] gives [out]. */
        ag_tensor *x1 = tu_tensor(dt, 1, (int64_t[]){3}, HX + 3);
        y = ag_module_forward(m, x1);
        expect_shape(y, 1, (int64_t[]){2});
        expect_values(y, HY + 2, 2, dt == AG_F64 ? 1e-15 : 1e-6);
        ag_tensor_free(y);
        ag_tensor_free(x1);
        ag_tensor_free(x);
        ag_module_free(m);
    }
    cr_assert_eq(live(), 0);
}

Test(dense, activations_by_hand)
{
    ag_tensor *x = T64(2, 3, HX);
    double e[4];
    for (int a = AG_ACT_NONE; a <= AG_ACT_SOFTMAX; a++) {
        for (int i = 0; i < 4; i++) {
            double v = HY[i];
            switch (a) {
            case AG_ACT_RELU: e[i] = v > 0 ? v : 0; break;
            case AG_ACT_TANH: e[i] = tanh(v); break;
            case AG_ACT_SIGMOID: e[i] = 1 / (1 + exp(-v)); break;
            case AG_ACT_LEAKY_RELU: e[i] = v > 0 ? v : 0.01 * v; break;
            case AG_ACT_SOFTMAX: {
                int r = i / 2;
                e[i] = exp(v) / (exp(HY[2 * r]) + exp(HY[2 * r + 1]));
                break;
            }
            default: e[i] = v;
            }
        }
        ag_module *m = hand_dense((ag_activation)a, AG_F64);
        ag_tensor *y = ag_module_forward(m, x);
        expect_values(y, e, 4, 1e-14);
        ag_tensor_free(y);
        ag_module_free(m);
    }
    /* A custom leaky slope and no bias. */
    ag_dense_opts o = {.activation = AG_ACT_LEAKY_RELU, .leaky_slope = 0.2, .no_bias = true,
                       .dtype = AG_F64};
    ag_module *m = ag_dense(3, 2, &o, NULL);
    cr_assert_eq(ag_module_num_params(m), 1);
    set_values(ag_module_param(m, 0), HW);
    ag_tensor *y = ag_module_forward(m, x);
    expect_values(y, (double[]){0.6, 0.2 * -0.4, 0.4, 0.2 * -1.35}, 4, 1e-14);
    ag_tensor_free(y);
    ag_module_free(m);
    ag_tensor_free(x);
}

/* ---- gradients against finite differences ---- */

Test(dense, gradcheck_every_activation_wrt_input_and_weights)
{
    ag_tensor *x = tu_param(7, 2, (int64_t[]){3, 4}, -1, 1);
    ag_rng r = ag_rng_seed(3);
    for (int a = AG_ACT_NONE; a <= AG_ACT_SOFTMAX; a++) {
        ag_dense_opts o = {.activation = (ag_activation)a, .dtype = AG_F64,
                           .init = AG_INIT_TORCH_DEFAULT};
        ag_module *m = ag_dense(4, 3, &o, &r);
        cr_assert(m);
        gradcheck_module(m, x);
        ag_module_free(m);
    }
    ag_tensor_free(x);
    cr_assert_eq(live(), 0);
}

Test(dense, gradgradcheck_through_a_tanh_layer)
{
    ag_tensor *x = tu_param(8, 2, (int64_t[]){2, 3}, -1, 1);
    ag_dense_opts o = {.activation = AG_ACT_TANH, .dtype = AG_F64, .init = AG_INIT_TORCH_DEFAULT};
    ag_module *m = ag_dense(3, 2, &o, NULL);
    ag_tensor *in[3] = {x, ag_module_param(m, 0), ag_module_param(m, 1)};
    expect_gradgradcheck(run_module, m, 3, in);
    ag_module_free(m);
    ag_tensor_free(x);
}

Test(sequential, gradcheck_two_layers_and_activation_layers)
{
    ag_rng r = ag_rng_seed(11);
    ag_dense_opts o1 = {.activation = AG_ACT_TANH, .dtype = AG_F64, .init = AG_INIT_TORCH_DEFAULT};
    ag_dense_opts o2 = {.dtype = AG_F64, .init = AG_INIT_TORCH_DEFAULT};
    ag_module *net = ag_sequential(2, (ag_module *[]){ag_dense(4, 5, &o1, &r),
                                                      ag_dense(5, 3, &o2, &r)});
    cr_assert(net, "%s", ag_last_error());
    ag_tensor *x = tu_param(9, 2, (int64_t[]){3, 4}, -1, 1);
    gradcheck_module(net, x);
    ag_module_free(net);

    /* Every activation layer after a Dense. */
    ag_module *acts[] = {ag_relu_layer(), ag_tanh_layer(), ag_sigmoid_layer(),
                         ag_leaky_relu_layer(0.1), ag_softmax_layer(-1), ag_dropout(0.3, 5)};
    for (int i = 0; i < 6; i++) {
        ag_module *s = ag_sequential(2, (ag_module *[]){ag_dense(4, 3, &o2, &r), acts[i]});
        cr_assert(s, "%s", ag_last_error());
        if (i == 5) ag_module_train(s, false); /* a fresh mask per call is not a function */
        gradcheck_module(s, x);
        ag_module_free(s);
    }
    ag_tensor_free(x);
    cr_assert_eq(live(), 0);
}

/* ---- initializers ---- */

static void stats(ag_tensor *t, double *mean, double *var, double *maxabs)
{
    int64_t n = ag_numel(t);
    double s = 0, s2 = 0, m = 0;
    for (int64_t i = 0; i < n; i++) {
        double v = ag_get(t, i);
        s += v;
        s2 += v * v;
        if (fabs(v) > m) m = fabs(v);
    }
    *mean = s / (double)n;
    *var = s2 / (double)n - *mean * *mean;
    *maxabs = m;
}

Test(init, statistics_of_every_initializer)
{
    const int64_t fi = 300, fo = 500, shape[2] = {500, 300};
    const double n = 150000;
    for (int k = 0; k < 2; k++) {
        ag_dtype dt = k ? AG_F32 : AG_F64;
        for (int init = AG_INIT_GLOROT_UNIFORM; init <= AG_INIT_ZEROS; init++) {
            ag_tensor *t = ag_full(dt, 2, shape, 7.0);
            ag_rng r = ag_rng_seed(100 + (uint64_t)init);
            cr_assert_eq(ag_init_fill(t, (ag_init)init, fi, fo, &r), 0, "%s", ag_last_error());
            double mean, var, mx, bound = 0, want_var = 0;
            stats(t, &mean, &var, &mx);
            switch (init) {
            case AG_INIT_GLOROT_UNIFORM: bound = sqrt(6.0 / (fi + fo)); break;
            case AG_INIT_HE_UNIFORM: bound = sqrt(6.0 / fi); break;
            case AG_INIT_TORCH_DEFAULT: bound = 1 / sqrt((double)fi); break;
            case AG_INIT_GLOROT_NORMAL: want_var = 2.0 / (fi + fo); break;
            case AG_INIT_HE_NORMAL: want_var = 2.0 / fi; break;
            default: break;
            }
            if (init == AG_INIT_ZEROS) {
                cr_assert_eq(mx, 0.0);
            } else if (bound > 0) {
                /* U(-a, a): inside the bounds, reaching close to them, variance a^2/3. */
                cr_assert_leq(mx, bound * (1 + 1e-7), "init %d: %g > %g", init, mx, bound);
                cr_assert_geq(mx, bound * 0.999, "init %d: %g does not reach %g", init, mx, bound);
                want_var = bound * bound / 3;
            }
            if (want_var > 0) {
                double sd = sqrt(want_var);
                cr_assert_lt(fabs(mean), 5 * sd / sqrt(n), "init %d: mean %g", init, mean);
                cr_assert_lt(fabs(var / want_var - 1), 0.02, "init %d: var %g, want %g", init,
                             var, want_var);
            }
            ag_tensor_free(t);
        }
    }
}

Test(init, dense_defaults_and_torch_default_bias)
{
    /* Keras' default: Glorot-uniform weight, zero bias. */
    ag_module *m = ag_dense(400, 300, NULL, NULL);
    ag_tensor *w = ag_module_param_by_name(m, "weight"), *b = ag_module_param_by_name(m, "bias");
    expect_shape(w, 2, (int64_t[]){300, 400});
    expect_shape(b, 1, (int64_t[]){300});
    cr_assert_eq(ag_get_dtype(w), AG_F32);
    cr_assert(ag_requires_grad(w) && ag_requires_grad(b) && ag_is_leaf(w));
    double mean, var, mx, a = sqrt(6.0 / 700);
    stats(w, &mean, &var, &mx);
    cr_assert(mx <= a * (1 + 1e-6) && mx > 0.99 * a, "max %g, bound %g", mx, a);
    stats(b, &mean, &var, &mx);
    cr_assert_eq(mx, 0.0);
    ag_module_free(m);

    /* PyTorch's nn.Linear: weight and bias U(-k, k), k = 1/sqrt(in). */
    ag_dense_opts o = {.init = AG_INIT_TORCH_DEFAULT, .dtype = AG_F64};
    m = ag_dense(400, 3000, &o, NULL);
    double k = 1 / sqrt(400.0);
    stats(ag_module_param(m, 0), &mean, &var, &mx);
    cr_assert(mx <= k && mx > 0.999 * k);
    stats(ag_module_param(m, 1), &mean, &var, &mx);
    cr_assert(mx <= k && mx > 0.99 * k, "bias max %g, bound %g", mx, k);
    cr_assert_lt(fabs(var / (k * k / 3) - 1), 0.1);
    ag_module_free(m);

    /* Zeros initializer. */
    o.init = AG_INIT_ZEROS;
    m = ag_dense(5, 4, &o, NULL);
    stats(ag_module_param(m, 0), &mean, &var, &mx);
    cr_assert_eq(mx, 0.0);
    ag_module_free(m);
}

Test(init, seeded_repeatability)
{
    ag_dense_opts o = {.init = AG_INIT_HE_NORMAL};
    ag_rng r1 = ag_rng_seed(42), r2 = ag_rng_seed(42), r3 = ag_rng_seed(43), r0 = ag_rng_seed(0);
    ag_module *a = ag_dense(20, 10, &o, &r1), *b = ag_dense(20, 10, &o, &r2);
    ag_module *c = ag_dense(20, 10, &o, &r3), *d = ag_dense(20, 10, &o, NULL);
    ag_module *e = ag_dense(20, 10, &o, &r0);
    int diff_c = 0;
    for (int64_t i = 0; i < 200; i++) {
        double va = ag_get(ag_module_param(a, 0), i);
        cr_assert_eq(va, ag_get(ag_module_param(b, 0), i));
        cr_assert_eq(ag_get(ag_module_param(d, 0), i), ag_get(ag_module_param(e, 0), i));
        diff_c += va != ag_get(ag_module_param(c, 0), i);
    }
    cr_assert_gt(diff_c, 190);
    /* The generator advanced: a second layer from r1 differs from the first. */
    ag_module *a2 = ag_dense(20, 10, &o, &r1);
    cr_assert_neq(ag_get(ag_module_param(a2, 0), 0), ag_get(ag_module_param(a, 0), 0));
    ag_module *all[] = {a, b, c, d, e, a2};
    for (int i = 0; i < 6; i++) ag_module_free(all[i]);
}

/* ---- dropout ---- */

Test(dropout, eval_identity_train_fraction_scale_and_gradient)
{
    const double p = 0.3;
    const int64_t n = 100000;
    ag_module *d = ag_dropout(p, 1234);
    cr_assert_str_eq(ag_module_kind(d), "Dropout");
    ag_tensor *x = tu_param(5, 1, (int64_t[]){n}, 0.5, 1.5);

    ag_module_train(d, false);
    ag_tensor *y = ag_module_forward(d, x);
    for (int64_t i = 0; i < n; i += 97) cr_assert_eq(ag_get(y, i), ag_get(x, i));
    ag_tensor_free(y);

    ag_module_train(d, true);
    y = ag_module_forward(d, x);
    ag_scope *s = ag_scope_begin();
    cr_assert_eq(ag_backward(ag_sum_all(y)), 0, "%s", ag_last_error());
    ag_scope_end(s);
    ag_tensor *g = ag_grad(x);
    int64_t zeros = 0;
    for (int64_t i = 0; i < n; i++) {
        double yi = ag_get(y, i), xi = ag_get(x, i), gi = ag_get(g, i);
        if (yi == 0) {
            zeros++;
            cr_assert_eq(gi, 0.0);
        } else {
            cr_assert_float_eq(yi, xi / (1 - p), 1e-12);
            cr_assert_float_eq(gi, 1 / (1 - p), 1e-12); /* dy/dx = mask / (1 - p) */
        }
    }
    /* Binomial(n, p): sd = sqrt(n p (1-p)) ~ 145; allow 5 sd. */
    cr_assert_lt(fabs((double)zeros - p * n), 5 * sqrt(n * p * (1 - p)), "zeros %lld",
                 (long long)zeros);
    ag_tensor_free(y);
    ag_tensor_free(x);
    ag_module_free(d);
    cr_assert_eq(live(), 0);
}

Test(dropout, repeatable_by_seed_and_p_zero)
{
    ag_tensor *x = ag_ones(AG_F32, 2, (int64_t[]){4, 50});
    ag_module *a = ag_dropout(0.5, 9), *b = ag_dropout(0.5, 9), *c = ag_dropout(0.5, 10);
    ag_tensor *ya = ag_module_forward(a, x), *yb = ag_module_forward(b, x);
    ag_tensor *yc = ag_module_forward(c, x), *ya2 = ag_module_forward(a, x);
    int diff_c = 0, diff_next = 0;
    for (int64_t i = 0; i < 200; i++) {
        cr_assert_eq(ag_get(ya, i), ag_get(yb, i));
        cr_assert(ag_get(ya, i) == 0 || ag_get(ya, i) == 2);
        diff_c += ag_get(ya, i) != ag_get(yc, i);
        diff_next += ag_get(ya, i) != ag_get(ya2, i);
    }
    cr_assert_gt(diff_c, 50);
    cr_assert_gt(diff_next, 50); /* each call draws a new mask */
    ag_tensor *ys[] = {ya, yb, yc, ya2};
    for (int i = 0; i < 4; i++) ag_tensor_free(ys[i]);

    ag_module *z = ag_dropout(0, 1);
    ag_tensor *yz = ag_module_forward(z, x);
    for (int64_t i = 0; i < 200; i++) cr_assert_eq(ag_get(yz, i), 1.0);
    ag_tensor_free(yz);
    ag_module *all[] = {a, b, c, z};
    for (int i = 0; i < 4; i++) ag_module_free(all[i]);
    ag_tensor_free(x);

    ag_clear_error();
    cr_assert_null(ag_dropout(1.0, 0));
    expect_error_mentions("ag_dropout", "p = 1", "0 <= p < 1");
    cr_assert_null(ag_dropout(-0.1, 0));
    expect_error_mentions("ag_dropout", "-0.1");
    cr_assert_null(ag_dropout(NAN, 0));
    expect_error_mentions("ag_dropout", "nan");
    cr_assert_eq(live(), 0);
}
