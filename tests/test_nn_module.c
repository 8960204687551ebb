/* tests/test_nn_module.c - modules as containers (nn/): parameter names and counts, zero_grad,
 * the summary table, a module class written by a user, train/eval propagation, error paths
 * (forward shapes and dtypes, constructors, names, children, freeing) and memory. The layers
 * themselves are tested in test_nn_layers.c.
 *
 * Expected values are worked out by hand (parameter counts, summary lines); gradients are
 * checked by ag_gradcheck in float64.
 */
#include <stdio.h>
#include <stdlib.h>

#include "nn_test_util.h"

/* ---- parameters, names, counts ---- */

static ag_module *mlp(void)
{
    ag_dense_opts relu = {.activation = AG_ACT_RELU};
    ag_module *m = ag_sequential(2, (ag_module *[]){ag_dense(100, 32, &relu, NULL),
                                                    ag_dense(32, 10, NULL, NULL)});
    cr_assert(m, "%s", ag_last_error());
    return m;
}

Test(params, dotted_names_and_counts)
{
    ag_module *m = mlp();
    const char *names[] = {"0.weight", "0.bias", "1.weight", "1.bias"};
    cr_assert_eq(ag_module_num_params(m), 4);
    cr_assert_eq(ag_module_count_weights(m), 3562);
    cr_assert_eq(ag_module_count_weights(ag_module_child(m, 1)), 330);
    ag_tensor *const *ps = ag_module_params(m);
    for (int i = 0; i < 4; i++) {
        cr_assert_str_eq(ag_module_param_name(m, i), names[i]);
        cr_assert_eq(ps[i], ag_module_param(m, i));
        cr_assert_eq(ps[i], ag_module_param_by_name(m, names[i]));
    }
    expect_shape(ag_module_param_by_name(m, "1.weight"), 2, (int64_t[]){10, 32});
    cr_assert_str_eq(ag_module_kind(m), "Sequential");
    cr_assert_eq(ag_module_num_children(m), 2);
    cr_assert_str_eq(ag_module_child_name(m, 1), "1");
    cr_assert_str_eq(ag_module_kind(ag_module_child(m, 0)), "Dense");

    /* Appending a layer changes the list (the cache is rebuilt). */
    cr_assert_eq(ag_sequential_add(m, ag_dense(10, 2, NULL, NULL)), 0);
    cr_assert_eq(ag_module_num_params(m), 6);
    cr_assert_str_eq(ag_module_param_name(m, 5), "2.bias");
    cr_assert_eq(ag_module_count_weights(m), 3562 + 22);
    /* A change deep in the tree reaches the root's list too. */
    ag_module *inner = ag_sequential(0, NULL);
    cr_assert_eq(ag_sequential_add(m, inner), 0);
    cr_assert_eq(ag_module_num_params(m), 6);
    cr_assert_eq(ag_sequential_add(inner, ag_dense(2, 2, NULL, NULL)), 0);
    cr_assert_eq(ag_module_num_params(m), 8);
    cr_assert_str_eq(ag_module_param_name(m, 7), "3.0.bias");
    cr_assert(ag_module_param_by_name(m, "3.0.weight"));

    ag_clear_error();
    cr_assert_null(ag_module_param_by_name(m, "0.kernel"));
    expect_error_mentions("ag_module_param_by_name", "0.kernel");
    cr_assert_null(ag_module_param_by_name(m, "9.weight"));
    cr_assert_null(ag_module_param_by_name(m, "0"));
    cr_assert_null(ag_module_param_by_name(m, "0.weight."));
    cr_assert_null(ag_module_param(m, 8));
    expect_error_mentions("ag_module_param", "8");
    cr_assert_null(ag_module_child(m, -1));
    expect_error_mentions("ag_module_child", "-1");
    ag_module_free(m);
}

Test(params, zero_grad_clears_every_gradient)
{
    ag_module *m = mlp();
    ag_tensor *x = ag_ones(AG_F32, 2, (int64_t[]){2, 100});
    ag_scope *s = ag_scope_begin();
    ag_backward(ag_sum_all(ag_module_forward(m, x)));
    ag_scope_end(s);
    double before = 0;
    for (int i = 0; i < 4; i++) {
        ag_tensor *g = ag_grad(ag_module_param(m, i));
        cr_assert(g, "param %d has no gradient", i);
        for (int64_t j = 0; j < ag_numel(g); j++) before += fabs(ag_get(g, j));
    }
    cr_assert_gt(before, 0);
    cr_assert_eq(ag_module_zero_grad(m), 0);
    for (int i = 0; i < 4; i++) {
        ag_tensor *g = ag_grad(ag_module_param(m, i));
        for (int64_t j = 0; g && j < ag_numel(g); j++) cr_assert_eq(ag_get(g, j), 0.0);
    }
    ag_tensor_free(x);
    ag_module_free(m);
    cr_assert_eq(live(), 0);
}

/* ---- summary ---- */

static char *summary_text(ag_module *m, int ndim, const int64_t *shape)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert(f);
    int rc = ag_module_summary(f, m, ndim, shape);
    fclose(f);
    cr_assert_eq(rc, 0, "summary failed: %s", ag_last_error());
    return buf;
}

/* The line of `text` that starts with `start` (a static copy). */
static const char *line_starting(const char *text, const char *start)
{
    static char line[256];
    for (const char *p = text; p && *p;) {
        const char *end = strchr(p, '\n');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (strncmp(p, start, strlen(start)) == 0) {
            snprintf(line, sizeof line, "%.*s", (int)n, p);
            return line;
        }
        p = end ? end + 1 : NULL;
    }
    cr_assert_fail("no line starting with '%s' in:\n%s", start, text);
    return NULL;
}

Test(summary, keras_like_table)
{
    ag_module *m = mlp();
    cr_assert_eq(ag_sequential_add(m, ag_dropout(0.5, 1)), 0);
    cr_assert_eq(ag_sequential_add(m, ag_softmax_layer(-1)), 0);
    ag_module_train(ag_module_child(m, 1), false); /* mixed flags must come back as they were */
    char *t = summary_text(m, 1, (int64_t[]){100});
    cr_assert_str_eq(line_starting(t, "Model:"), "Model: Sequential");
    const char *l = line_starting(t, "Layer (type)");
    cr_assert(strstr(l, "Output Shape") && strstr(l, "Param #"), "%s", l);
    l = line_starting(t, "0 (Dense)");
    cr_assert(strstr(l, "(None, 32)") && strstr(l, " 3232 ") && strstr(l, "relu"), "%s", l);
    l = line_starting(t, "1 (Dense)");
    cr_assert(strstr(l, "(None, 10)") && strstr(l, " 330 "), "%s", l);
    l = line_starting(t, "2 (Dropout)");
    cr_assert(strstr(l, "(None, 10)") && strstr(l, " 0 ") && strstr(l, "p=0.5"), "%s", l);
    line_starting(t, "3 (Softmax)");
    cr_assert_str_eq(line_starting(t, "Total params:"), "Total params: 3,562");
    cr_assert_str_eq(line_starting(t, "Trainable params:"), "Trainable params: 3,562");
    cr_assert_str_eq(line_starting(t, "Non-trainable params:"), "Non-trainable params: 0");
    free(t);
    cr_assert(ag_module_is_training(m) && ag_module_is_training(ag_module_child(m, 0)));
    cr_assert(!ag_module_is_training(ag_module_child(m, 1)));
    cr_assert(ag_is_grad_enabled());
    ag_module_free(m);
    cr_assert_eq(live(), 0);
}

Test(summary, single_layer_float64_and_errors)
{
    ag_dense_opts o = {.dtype = AG_F64};
    ag_module *d = ag_dense(3, 2, &o, NULL);
    char *t = summary_text(d, 1, (int64_t[]){3});
    const char *l = line_starting(t, "- (Dense)");
    cr_assert(strstr(l, "(None, 2)") && strstr(l, " 8 "), "%s", l);
    free(t);
    ag_clear_error();
    FILE *f = fopen("/dev/null", "w");
    cr_assert_eq(ag_module_summary(f, d, 1, (int64_t[]){4}), -1);
    expect_error_mentions("ag_module_summary", "[1,4]", "Dense(3 -> 2)");
    cr_assert_eq(ag_module_summary(NULL, d, 1, (int64_t[]){3}), -1);
    expect_error_mentions("ag_module_summary", "NULL");
    cr_assert_eq(ag_module_summary(f, d, 1, NULL), -1);
    expect_error_mentions("ag_module_summary", "shape");
    cr_assert_eq(ag_module_summary(f, NULL, 1, (int64_t[]){3}), -1);
    fclose(f);
    cr_assert(ag_module_is_training(d));
    ag_module_free(d);
    cr_assert_eq(live(), 0);
}

Test(summary, draws_no_dropout_mask)
{
    ag_module *a = ag_sequential(1, (ag_module *[]){ag_dropout(0.5, 77)});
    ag_module *b = ag_sequential(1, (ag_module *[]){ag_dropout(0.5, 77)});
    free(summary_text(a, 1, (int64_t[]){64}));
    ag_tensor *x = ag_ones(AG_F64, 1, (int64_t[]){64});
    ag_tensor *ya = ag_module_forward(a, x), *yb = ag_module_forward(b, x);
    for (int64_t i = 0; i < 64; i++) cr_assert_eq(ag_get(ya, i), ag_get(yb, i));
    ag_tensor *all[] = {ya, yb, x};
    for (int i = 0; i < 3; i++) ag_tensor_free(all[i]);
    ag_module_free(a);
    ag_module_free(b);
}

/* ---- a module class written by a user ---- */

typedef struct scaled { double init; } scaled;
static int scaled_frees;

static void scaled_free(void *p)
{
    scaled_frees++;
    free(p);
}

/* y = alpha * inner(x): a parameter of its own and a child. */
static ag_tensor *scaled_forward(ag_module *self, ag_tensor *x)
{
    ag_tensor *h = ag_module_forward(ag_module_child(self, 0), x);
    return ag_mul(h, ag_module_param_by_name(self, "alpha"));
}

static void scaled_describe(const ag_module *self, char *buf, size_t size)
{
    snprintf(buf, size, "alpha0=%g", ((scaled *)ag_module_state(self))->init);
}

static const ag_module_class SCALED = {"Scaled", scaled_forward, scaled_free, scaled_describe};

static ag_module *make_scaled(double alpha)
{
    scaled *st = malloc(sizeof *st);
    st->init = alpha;
    ag_module *m = ag_module_new(&SCALED, st);
    cr_assert(m);
    cr_assert_eq(ag_module_add_param(m, "alpha", ag_scalar(AG_F64, alpha)), 0);
    ag_dense_opts o = {.activation = AG_ACT_SIGMOID, .dtype = AG_F64,
                       .init = AG_INIT_TORCH_DEFAULT};
    cr_assert_eq(ag_module_add_child(m, "inner", ag_dense(3, 2, &o, NULL)), 0);
    return m;
}

Test(custom, user_defined_module)
{
    scaled_frees = 0;
    ag_module *m = make_scaled(1.5);
    cr_assert_str_eq(ag_module_kind(m), "Scaled");
    cr_assert_eq(ag_module_class_of(m), &SCALED);
    cr_assert_eq(((scaled *)ag_module_state(m))->init, 1.5);
    cr_assert_eq(ag_module_num_params(m), 3);
    cr_assert_str_eq(ag_module_param_name(m, 0), "alpha");
    cr_assert_str_eq(ag_module_param_name(m, 1), "inner.weight");
    cr_assert_str_eq(ag_module_param_name(m, 2), "inner.bias");
    cr_assert(ag_requires_grad(ag_module_param(m, 0)));

    ag_tensor *x = tu_param(3, 2, (int64_t[]){4, 3}, -1, 1);
    gradcheck_module(m, x);

    /* Inside a Sequential, then summarised. */
    ag_module *net = ag_sequential(2, (ag_module *[]){m, ag_tanh_layer()});
    cr_assert(net);
    char *t = summary_text(net, 1, (int64_t[]){3});
    const char *l = line_starting(t, "0 (Scaled)");
    cr_assert(strstr(l, "(None, 2)") && strstr(l, " 9 ") && strstr(l, "alpha0=1.5"), "%s", l);
    free(t);
    ag_module_free(net);
    cr_assert_eq(scaled_frees, 1);
    ag_tensor_free(x);
    cr_assert_eq(live(), 0);
}

Test(custom, train_eval_propagates_to_every_descendant)
{
    ag_module *inner = ag_sequential(2, (ag_module *[]){ag_dropout(0.1, 0), ag_relu_layer()});
    ag_module *net = ag_sequential(2, (ag_module *[]){ag_dense(2, 2, NULL, NULL), inner});
    cr_assert(ag_module_is_training(net) && ag_module_is_training(ag_module_child(inner, 0)));
    ag_module_train(net, false);
    cr_assert(!ag_module_is_training(net) && !ag_module_is_training(inner));
    cr_assert(!ag_module_is_training(ag_module_child(inner, 0)));
    cr_assert(!ag_module_is_training(ag_module_child(net, 0)));
    ag_module_train(inner, true);
    cr_assert(!ag_module_is_training(net) && ag_module_is_training(ag_module_child(inner, 1)));
    ag_module_free(net);
}

/* ---- errors ---- */

Test(errors, forward_shapes_dtypes_and_nulls)
{
    ag_module *d = ag_dense(100, 32, NULL, NULL);
    ag_tensor *x = ag_zeros(AG_F32, 2, (int64_t[]){4, 7});
    ag_clear_error();
    cr_assert_null(ag_module_forward(d, x));
    expect_error_mentions("ag_module_forward", "Dense(100 -> 32)", "[batch, 100]", "[4,7]");
    ag_tensor *x64 = ag_zeros(AG_F64, 2, (int64_t[]){4, 100});
    cr_assert_null(ag_module_forward(d, x64));
    expect_error_mentions("ag_module_forward", "Dense(100 -> 32)", "float32", "float64",
                          "[4,100]");
    ag_tensor *x3 = ag_zeros(AG_F32, 3, (int64_t[]){2, 2, 100});
    cr_assert_null(ag_module_forward(d, x3));
    expect_error_mentions("ag_module_forward", "[2,2,100]");
    ag_clear_error();
    cr_assert_null(ag_module_forward(NULL, x));
    expect_error_mentions("ag_module_forward", "NULL");
    ag_clear_error();
    cr_assert_null(ag_module_forward(d, NULL));
    expect_error_mentions("ag_module_forward", "Dense", "NULL");
    ag_module_free(d);

    /* Inside a Sequential the message names the failing layer. */
    ag_module *net = ag_sequential(3, (ag_module *[]){ag_dense(5, 4, NULL, NULL), ag_relu_layer(),
                                                      ag_dense(3, 2, NULL, NULL)});
    ag_tensor *x5 = ag_zeros(AG_F32, 2, (int64_t[]){6, 5});
    cr_assert_null(ag_module_forward(net, x5));
    expect_error_mentions("ag_module_forward: layer 2 (Dense) of Sequential",
                          "Dense(3 -> 2) expects [batch, 3]", "[6,4]");
    /* A softmax layer with a bad axis reports the op's error after the layer. */
    ag_module *sm = ag_sequential(1, (ag_module *[]){ag_softmax_layer(3)});
    cr_assert_null(ag_module_forward(sm, x5));
    expect_error_mentions("layer 0 (Softmax)", "ag_softmax", "axis 3");
    ag_module_free(sm);
    ag_module_free(net);
    ag_tensor *all[] = {x, x64, x3, x5};
    for (int i = 0; i < 4; i++) ag_tensor_free(all[i]);
    cr_assert_eq(live(), 0);
}

Test(errors, constructors)
{
    ag_clear_error();
    cr_assert_null(ag_dense(0, 3, NULL, NULL));
    expect_error_mentions("ag_dense", "0 -> 3");
    cr_assert_null(ag_dense(3, -1, NULL, NULL));
    expect_error_mentions("ag_dense", "3 -> -1");
    cr_assert_null(ag_dense(3, 3, &(ag_dense_opts){.activation = (ag_activation)42}, NULL));
    expect_error_mentions("ag_dense", "activation 42");
    cr_assert_null(ag_dense(3, 3, &(ag_dense_opts){.init = (ag_init)9}, NULL));
    expect_error_mentions("ag_dense", "initializer 9");
    cr_assert_null(ag_dense(3, 3, &(ag_dense_opts){.dtype = (ag_dtype)5}, NULL));
    expect_error_mentions("ag_dense", "dtype 5");
    cr_assert_null(ag_leaky_relu_layer(INFINITY));
    expect_error_mentions("ag_leaky_relu_layer", "inf");
    cr_assert_null(ag_module_new(NULL, NULL));
    expect_error_mentions("ag_module_new", "NULL");
    scaled_frees = 0;
    cr_assert_null(ag_module_new(&(ag_module_class){"Broken", NULL, scaled_free, NULL},
                                 malloc(8)));
    expect_error_mentions("ag_module_new", "forward");
    cr_assert_eq(scaled_frees, 1); /* the state was handed over, so it is freed */

    ag_tensor *t = ag_zeros(AG_F64, 1, (int64_t[]){3});
    ag_rng r = ag_rng_seed(1);
    cr_assert_eq(ag_init_fill(t, AG_INIT_HE_UNIFORM, 0, 5, &r), -1);
    expect_error_mentions("ag_init_fill", "He uniform", "fan_in 0");
    cr_assert_eq(ag_init_fill(t, (ag_init)77, 3, 3, &r), -1);
    expect_error_mentions("ag_init_fill", "77");
    cr_assert_eq(ag_init_fill(NULL, AG_INIT_ZEROS, 3, 3, &r), -1);
    cr_assert_eq(ag_init_fill(t, AG_INIT_GLOROT_UNIFORM, 3, 3, NULL), 0); /* NULL rng: seed 0 */
    ag_tensor_free(t);

    /* ag_sequential frees every layer it was given when it fails (the leak check sees it). */
    ag_clear_error();
    ag_module *relu = ag_relu_layer();
    cr_assert_null(ag_sequential(3, (ag_module *[]){ag_dense(2, 2, NULL, NULL), NULL, relu}));
    expect_error_mentions("ag_sequential", "layer 1 is NULL");
    ag_clear_error();
    cr_assert_null(ag_sequential(2, (ag_module *[]){ag_dense(2, 2, NULL, NULL),
                                                    ag_dense(0, 2, NULL, NULL)}));
    expect_error_mentions("ag_sequential", "layer 1 is NULL", "ag_dense", "0 -> 2");
    relu = ag_relu_layer();
    cr_assert_null(ag_sequential(2, (ag_module *[]){relu, relu}));
    expect_error_mentions("ag_sequential", "layer 1 is given twice");
    /* A layer listed after its own parent: freeing the parent frees it, once. */
    ag_module *child = ag_relu_layer();
    ag_module *parent = ag_sequential(1, &child);
    cr_assert_null(ag_sequential(2, (ag_module *[]){parent, child}));
    expect_error_mentions("ag_sequential", "layer 1 already belongs to another module");
    cr_assert_null(ag_sequential(-1, NULL));
    expect_error_mentions("ag_sequential", "negative");
    cr_assert_eq(live(), 0);
}

Test(errors, names_children_and_freeing)
{
    ag_module *m = ag_sequential(0, NULL);
    ag_module *own = ag_module_new(&SCALED, NULL);
    ag_tensor *p = ag_zeros(AG_F64, 1, (int64_t[]){2});
    cr_assert_eq(ag_module_add_param(own, "w", p), 0);
    ag_tensor *q = ag_zeros(AG_F64, 1, (int64_t[]){2});
    ag_clear_error();
    cr_assert_eq(ag_module_add_param(own, "w", q), -1);
    expect_error_mentions("ag_module_add_param", "already has a parameter named 'w'");
    cr_assert_eq(ag_module_add_param(own, "a.b", q), -1);
    expect_error_mentions("ag_module_add_param", "'a.b'", "'.'");
    cr_assert_eq(ag_module_add_param(own, "", q), -1);
    expect_error_mentions("ag_module_add_param", "empty");
    cr_assert_eq(ag_module_add_param(own, "v", p), -1);
    expect_error_mentions("ag_module_add_param", "already registered as 'w'");
    ag_clear_error();
    cr_assert_eq(ag_module_add_param(own, "v", NULL), -1);
    expect_error_mentions("ag_module_add_param", "NULL");
    cr_assert_eq(ag_module_add_param(NULL, "v", q), -1);
    expect_error_mentions("ag_module_add_param", "module is NULL");
    ag_set_requires_grad(q, true);
    ag_tensor *nonleaf2 = ag_exp(q);
    cr_assert_eq(ag_module_add_param(own, "e", nonleaf2), -1);
    expect_error_mentions("ag_module_add_param", "'e'", "leaves");
    ag_tensor_free(nonleaf2);
    ag_tensor_free(q); /* failures left q with the caller */

    ag_module *child = ag_relu_layer();
    cr_assert_eq(ag_module_add_child(own, "w", child), -1);
    expect_error_mentions("ag_module_add_child", "already has a parameter named 'w'");
    cr_assert_eq(ag_module_add_child(own, "c.d", child), -1);
    expect_error_mentions("ag_module_add_child", "'.'");
    cr_assert_eq(ag_module_add_child(own, "c", child), 0);
    ag_module *extra = ag_relu_layer();
    cr_assert_eq(ag_module_add_child(own, "c", extra), -1);
    expect_error_mentions("ag_module_add_child", "already has a child named 'c'");
    cr_assert_eq(ag_module_add_child(m, "x", child), -1);
    expect_error_mentions("ag_module_add_child", "already a child of a Scaled");
    cr_assert_eq(ag_module_add_child(own, "self", own), -1);
    expect_error_mentions("ag_module_add_child", "cycle", "itself");
    cr_assert_eq(ag_sequential_add(m, own), 0);
    cr_assert_eq(ag_module_add_child(own, "loop", m), -1);
    expect_error_mentions("ag_module_add_child", "cycle", "descendant");
    cr_assert_eq(ag_sequential_add(m, child), -1);
    expect_error_mentions("ag_sequential_add", "already belongs to a Scaled");
    cr_assert_eq(ag_sequential_add(own, extra), -1);
    expect_error_mentions("ag_sequential_add", "Scaled", "not a Sequential");
    ag_module_free(extra); /* failed additions leave the layer with the caller */

    /* Freeing a child is refused; the tree stays intact and the root frees everything. */
    ag_clear_error();
    ag_module_free(child);
    expect_error_mentions("ag_module_free", "ReLU", "child 'c'", "Scaled", "root");
    cr_assert_eq(ag_module_child(own, 0), child);
    ag_module_free(NULL);
    ag_module_free(m);
    cr_assert_eq(live(), 0);
}

/* ---- memory ---- */

Test(memory, module_outlives_the_scope_it_was_built_in)
{
    ag_scope *s = ag_scope_begin();
    ag_module *m = mlp();
    ag_scope_end(s);
    ag_tensor *x = ag_ones(AG_F32, 2, (int64_t[]){3, 100});
    ag_tensor *y = ag_module_forward(m, x);
    expect_shape(y, 2, (int64_t[]){3, 10});
    ag_tensor_free(y);
    ag_tensor_free(x);
    ag_module_free(m);
    cr_assert_eq(live(), 0);
}

Test(memory, forward_output_belongs_to_the_callers_scope)
{
    ag_module *m = mlp();
    ag_tensor *x = ag_ones(AG_F32, 2, (int64_t[]){3, 100});
    ag_scope *s = ag_scope_begin();
    ag_tensor *y = ag_module_forward(m, x);
    cr_assert(y);
    /* Only the output lands in the caller's scope; the layers' intermediates do not. */
    cr_assert_eq(ag_scope_size(s), 1);
    /* An identity layer (dropout in eval mode) hands out its input under the same rules. */
    ag_module *d = ag_dropout(0.5, 0);
    ag_module_train(d, false);
    ag_tensor *z = ag_module_forward(d, y);
    cr_assert_eq(z, y);
    cr_assert_eq(ag_scope_size(s), 2);
    ag_scope_end(s);
    ag_tensor *z2 = ag_module_forward(d, x); /* outside a scope: the caller frees it */
    ag_tensor_free(z2);
    ag_tensor_free(x);
    ag_module_free(d);
    ag_module_free(m);
    cr_assert_eq(live(), 0);
}

Test(memory, training_loop_in_scopes_keeps_the_live_count_flat)
{
    ag_module *m = ag_sequential(3, (ag_module *[]){ag_dense(8, 16, NULL, NULL), ag_dropout(0.2, 3),
                                                    ag_dense(16, 4, NULL, NULL)});
    ag_rng r = ag_rng_seed(1);
    ag_tensor *x = ag_rand_uniform(&r, AG_F32, 2, (int64_t[]){32, 8}, -1, 1);
    int64_t counts[6];
    for (int it = 0; it < 6; it++) {
        ag_scope *s = ag_scope_begin();
        ag_tensor *y = ag_module_forward(m, x);
        ag_tensor *loss = ag_mean_all(ag_mul(y, y));
        cr_assert_eq(ag_backward(loss), 0, "%s", ag_last_error());
        ag_module_zero_grad(m);
        ag_scope_end(s);
        counts[it] = live();
    }
    for (int it = 2; it < 6; it++) cr_assert_eq(counts[it], counts[1], "iteration %d", it);
    cr_assert_eq(counts[1], 1 + 4 + 4, "x, 4 parameters and their gradients");
    ag_tensor_free(x);
    ag_module_free(m);
    cr_assert_eq(live(), 0);
}
