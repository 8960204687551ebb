/* tests/test_backward.c - the backward pass itself: the bug classes other engines shipped
 * (a node used twice, diamonds, deep graphs, backward twice), accumulation, seeds, no-grad,
 * detach, ag_grad_of and retained gradients. Expected values are derived by hand. */
#include "test_util.h"

Test(backward, x_times_x_gets_both_contributions)
{
    ag_tensor *x = T64_1(3, ((double[]){1.5, -2, 3}));
    ag_set_requires_grad(x, true);
    ag_scope *s = ag_scope_begin();
    ag_tensor *y = ag_sum_all(ag_mul(x, x));       /* d/dx sum x^2 = 2x */
    cr_assert_eq(ag_backward(y), 0, "%s", ag_last_error());
    expect_values(ag_grad(x), (double[]){3, -4, 6}, 3, 1e-15);
    ag_scope_end(s);
    ag_tensor_free(x);
}

Test(backward, diamond_sums_once_before_propagating)
{
    /* a = 2x; b = a*3; c = a*a; y = b + c  ->  dy/da = 3 + 2a, dy/dx = 2(3 + 4x). Node a is used
     * by two consumers; its gradient must be summed once and then sent to x exactly once. */
    ag_tensor *x = ag_scalar(AG_F64, 1.25);
    ag_set_requires_grad(x, true);
    ag_scope *s = ag_scope_begin();
    ag_tensor *a = ag_mul_scalar(x, 2);
    ag_tensor *y = ag_add(ag_mul_scalar(a, 3), ag_mul(a, a));
    cr_assert_eq(ag_backward(y), 0, "%s", ag_last_error());
    cr_assert_float_eq(ag_item(ag_grad(x)), 2 * (3 + 4 * 1.25), 1e-14);
    ag_scope_end(s);
    ag_tensor_free(x);
}

Test(backward, chain_of_100000_ops_does_not_overflow_the_stack)
{
    ag_tensor *x = ag_scalar(AG_F64, 0.5);
    ag_set_requires_grad(x, true);
    ag_scope *s = ag_scope_begin();
    ag_tensor *y = x;
    for (int i = 0; i < 100000; i++) y = ag_add_scalar(y, 1e-5); /* dy/dx = 1 */
    y = ag_mul(y, y);                                             /* d/dx y^2 = 2y */
    cr_assert_eq(ag_backward(y), 0, "%s", ag_last_error());
    cr_assert_float_eq(ag_item(ag_grad(x)), 2 * (0.5 + 1.0), 1e-9);
    ag_scope_end(s);
    ag_tensor_free(x);
}

Test(backward, deep_graph_freed_by_caller_without_scope)
{
    /* Freeing the last tensor of a 100,000-node chain releases it iteratively. */
    ag_tensor *x = ag_scalar(AG_F64, 1);
    ag_set_requires_grad(x, true);
    ag_tensor *y = ag_add_scalar(x, 1);
    for (int i = 0; i < 100000; i++) {
        ag_tensor *next = ag_add_scalar(y, 1);
        ag_tensor_free(y); /* the graph keeps it alive */
        y = next;
    }
    cr_assert_float_eq(ag_item(y), 100002.0, 1e-9);
    ag_tensor_free(y);
    ag_tensor_free(x);
    cr_assert_eq(ag_memory_get_stats().live_tensors, 0);
}

Test(backward, leaf_gradients_accumulate_until_zeroed)
{
    ag_tensor *w = T64_1(2, ((double[]){1, 2}));
    ag_set_requires_grad(w, true);
    for (int k = 1; k <= 3; k++) {
        ag_scope *s = ag_scope_begin();
        ag_backward(ag_sum_all(ag_mul_scalar(w, 5)));
        ag_scope_end(s);
        expect_values(ag_grad(w), (double[]){5.0 * k, 5.0 * k}, 2, 1e-15);
    }
    ag_zero_grad(w);
    expect_values(ag_grad(w), (double[]){0, 0}, 2, 0);
    ag_tensor_free(w);
}

Test(backward, second_backward_through_freed_graph_is_a_clear_error)
{
    ag_tensor *x = ag_scalar(AG_F64, 2);
    ag_set_requires_grad(x, true);
    ag_scope *s = ag_scope_begin();
    ag_tensor *y = ag_exp(ag_mul(x, x));
    cr_assert_eq(ag_backward(y), 0);
    double g1 = ag_item(ag_grad(x));
    ag_clear_error();
    cr_assert_eq(ag_backward(y), -1);
    expect_error_mentions("ag_backward", "already freed", "retain_graph");
    cr_assert_float_eq(ag_item(ag_grad(x)), g1, 0, "a failed backward must not touch gradients");
    ag_scope_end(s);
    ag_tensor_free(x);
}

Test(backward, retain_graph_allows_a_second_pass)
{
    ag_tensor *x = ag_scalar(AG_F64, 0.3);
    ag_set_requires_grad(x, true);
    ag_scope *s = ag_scope_begin();
    ag_tensor *y = ag_mul(ag_mul(x, x), x); /* 3x^2 */
    ag_backward_opts o = {.retain_graph = true};
    cr_assert_eq(ag_backward_ex(y, &o), 0);
    cr_assert_eq(ag_backward_ex(y, &o), 0);
    cr_assert_float_eq(ag_item(ag_grad(x)), 2 * 3 * 0.09, 1e-15);
    ag_scope_end(s);
    ag_tensor_free(x);
}

Test(backward, non_scalar_root_needs_a_seed)
{
    ag_tensor *x = T64_1(3, ((double[]){1, 2, 3}));
    ag_set_requires_grad(x, true);
    ag_scope *s = ag_scope_begin();
    ag_tensor *y = ag_mul(x, x);
    ag_clear_error();
    cr_assert_eq(ag_backward(y), -1);
    expect_error_mentions("ag_backward", "[3]", "seed");
    ag_tensor *seed = T64_1(3, ((double[]){1, 10, 100}));
    ag_backward_opts o = {.seed = seed};
    cr_assert_eq(ag_backward_ex(y, &o), 0, "%s", ag_last_error());
    expect_values(ag_grad(x), (double[]){2, 40, 600}, 3, 1e-15);
    /* The caller's seed is not modified. */
    expect_values(seed, (double[]){1, 10, 100}, 3, 0);
    ag_scope_end(s);
    ag_tensor_free(x);
}

Test(backward, seed_shape_mismatch_is_an_error)
{
    ag_tensor *x = T64_1(3, ((double[]){1, 2, 3}));
    ag_set_requires_grad(x, true);
    ag_scope *s = ag_scope_begin();
    ag_tensor *y = ag_mul(x, x);
    ag_tensor *seed = T64_1(2, ((double[]){1, 1}));
    ag_backward_opts o = {.seed = seed};
    ag_clear_error();
    cr_assert_eq(ag_backward_ex(y, &o), -1);
    expect_error_mentions("ag_backward", "seed", "[2]", "[3]");
    ag_scope_end(s);
    ag_tensor_free(x);
}

Test(backward, output_without_grad_is_an_error)
{
    ag_scope *s = ag_scope_begin();
    ag_tensor *y = ag_exp(ag_scalar(AG_F64, 1));
    ag_clear_error();
    cr_assert_eq(ag_backward(y), -1);
    expect_error_mentions("ag_backward", "does not require grad");
    ag_scope_end(s);
}

Test(backward, no_grad_mode_records_nothing)
{
    ag_tensor *x = ag_scalar(AG_F64, 2);
    ag_set_requires_grad(x, true);
    ag_scope *s = ag_scope_begin();
    bool prev = ag_set_grad_enabled(false);
    cr_assert(prev);
    ag_tensor *y = ag_mul(x, x);
    cr_assert(!ag_requires_grad(y));
    cr_assert(ag_is_leaf(y));
    ag_set_grad_enabled(true);
    cr_assert(ag_requires_grad(ag_mul(x, x)));
    ag_scope_end(s);
    ag_tensor_free(x);
}

Test(backward, detach_stops_the_gradient_and_shares_values)
{
    ag_tensor *x = ag_scalar(AG_F64, 3);
    ag_set_requires_grad(x, true);
    ag_scope *s = ag_scope_begin();
    ag_tensor *d = ag_detach(x);
    cr_assert(!ag_requires_grad(d));
    cr_assert_float_eq(ag_item(d), 3.0, 0);
    ag_tensor *y = ag_mul(x, d); /* treated as x * const: dy/dx = 3 */
    ag_backward(y);
    cr_assert_float_eq(ag_item(ag_grad(x)), 3.0, 0);
    ag_scope_end(s);
    ag_tensor_free(x);
}

Test(backward, grad_of_returns_without_accumulating)
{
    ag_tensor *x = T64_1(2, ((double[]){1, 2})), *w = T64_1(2, ((double[]){3, 4}));
    ag_set_requires_grad(x, true);
    ag_set_requires_grad(w, true);
    ag_tensor *unused = ag_scalar(AG_F64, 1);
    ag_set_requires_grad(unused, true);
    ag_scope *s = ag_scope_begin();
    ag_tensor *y = ag_sum_all(ag_mul(x, w));
    ag_tensor *g[3];
    ag_tensor *in[3] = {x, w, unused};
    cr_assert_eq(ag_grad_of(y, 3, in, g, NULL), 0, "%s", ag_last_error());
    expect_values(g[0], (double[]){3, 4}, 2, 0);
    expect_values(g[1], (double[]){1, 2}, 2, 0);
    expect_values(g[2], (double[]){0}, 1, 0); /* not used by y: zeros */
    cr_assert_null(ag_grad(x), "ag_grad_of must not accumulate into leaves");
    ag_scope_end(s);
    ag_tensor_free(x);
    ag_tensor_free(w);
    ag_tensor_free(unused);
}

Test(backward, grad_of_an_intermediate)
{
    ag_tensor *x = ag_scalar(AG_F64, 2);
    ag_set_requires_grad(x, true);
    ag_scope *s = ag_scope_begin();
    ag_tensor *a = ag_mul(x, x);           /* a = 4 */
    ag_tensor *y = ag_mul(a, a);           /* y = a^2, dy/da = 2a = 8 */
    ag_tensor *g;
    cr_assert_eq(ag_grad_of(y, 1, &a, &g, NULL), 0, "%s", ag_last_error());
    cr_assert_float_eq(ag_item(g), 8.0, 0);
    ag_scope_end(s);
    ag_tensor_free(x);
}

Test(backward, retain_grad_and_retain_all_grads)
{
    ag_tensor *x = ag_scalar(AG_F64, 0.5);
    ag_set_requires_grad(x, true);
    ag_scope *s = ag_scope_begin();
    ag_tensor *a = ag_mul_scalar(x, 4);    /* 2 */
    ag_tensor *b = ag_mul(a, a);           /* 4 */
    ag_tensor *y = ag_add_scalar(b, 1);
    ag_retain_grad(a);
    ag_backward(y);
    cr_assert_float_eq(ag_item(ag_grad(a)), 4.0, 0);  /* dy/da = 2a */
    cr_assert_null(ag_grad(b));
    ag_zero_grad(x);
    ag_tensor *a2 = ag_mul_scalar(x, 4);   /* the first graph was freed: build a new one */
    ag_tensor *y2 = ag_add_scalar(ag_mul(a2, a2), 1);
    ag_backward_opts o = {.retain_all_grads = true};
    cr_assert_eq(ag_backward_ex(y2, &o), 0, "%s", ag_last_error());
    cr_assert_float_eq(ag_item(ag_grad(y2)), 1.0, 0);
    cr_assert_float_eq(ag_item(ag_grad(x)), 16.0, 0);  /* 2a * 4 */
    ag_scope_end(s);
    ag_tensor_free(x);
}

Test(backward, broadcast_gradients_are_summed_to_the_input_shape)
{
    ag_tensor *a = T64(2, 3, ((double[]){1, 2, 3, 4, 5, 6}));
    ag_tensor *b = T64_1(3, ((double[]){10, 20, 30}));
    ag_set_requires_grad(a, true);
    ag_set_requires_grad(b, true);
    ag_scope *s = ag_scope_begin();
    ag_tensor *y = ag_sum_all(ag_mul(a, b));
    ag_backward(y);
    expect_values(ag_grad(a), (double[]){10, 20, 30, 10, 20, 30}, 6, 0);
    expect_values(ag_grad(b), (double[]){5, 7, 9}, 3, 0);
    ag_scope_end(s);
    ag_tensor_free(a);
    ag_tensor_free(b);
}

Test(backward, set_requires_grad_on_non_leaf_is_an_error)
{
    ag_tensor *x = ag_scalar(AG_F64, 1);
    ag_set_requires_grad(x, true);
    ag_scope *s = ag_scope_begin();
    ag_tensor *y = ag_exp(x);
    ag_clear_error();
    cr_assert_eq(ag_set_requires_grad(y, false), -1);
    expect_error_mentions("ag_set_requires_grad", "exp", "leaves");
    ag_scope_end(s);
    ag_tensor_free(x);
}

Test(backward, float32_backward)
{
    ag_tensor *x = ag_tensor_from(AG_F32, 1, (int64_t[]){2}, (float[]){1.5f, -0.5f});
    ag_set_requires_grad(x, true);
    ag_scope *s = ag_scope_begin();
    ag_backward(ag_sum_all(ag_mul(ag_exp(x), x))); /* d/dx x e^x = (1 + x) e^x */
    expect_values(ag_grad(x), (double[]){2.5 * exp(1.5), 0.5 * exp(-0.5)}, 2, 1e-6);
    cr_assert_eq(ag_get_dtype(ag_grad(x)), AG_F32);
    ag_scope_end(s);
    ag_tensor_free(x);
}

/* ag_zero_grad zeroes lazily: the stored gradient keeps its storage (in place, as documented),
 * reads see zeros, and the next backward writes the new gradient instead of adding to it. */
Test(backward, zero_grad_is_in_place_and_the_next_pass_overwrites)
{
    ag_tensor *x = T64_1(3, ((double[]){1, 2, 3}));
    ag_set_requires_grad(x, true);
    ag_scope *s = ag_scope_begin();
    cr_assert_eq(ag_backward(ag_sum_all(ag_mul(x, x))), 0);
    ag_tensor *g = ag_grad(x);
    expect_values(g, (double[]){2, 4, 6}, 3, 0);
    cr_assert_eq(ag_zero_grad(x), 0);
    cr_expect_eq(ag_grad(x), g, "same tensor after zero_grad");
    expect_values(g, (double[]){0, 0, 0}, 3, 0);
    cr_assert_eq(ag_zero_grad(x), 0);
    cr_assert_eq(ag_backward(ag_sum_all(ag_mul_scalar(x, 5.0))), 0);
    cr_expect_eq(ag_grad(x), g, "written into the same storage");
    expect_values(g, (double[]){5, 5, 5}, 3, 0);
    cr_assert_eq(ag_backward(ag_sum_all(x)), 0);
    expect_values(ag_grad(x), (double[]){6, 6, 6}, 3, 0); /* accumulates again */
    ag_scope_end(s);
    ag_tensor_free(x);
}

Test(backward, zeroed_gradient_not_reached_reads_as_zero_and_steps_as_zero)
{
    ag_tensor *a = T64_1(2, ((double[]){1, 2})), *b = T64_1(2, ((double[]){3, 4}));
    ag_set_requires_grad(a, true);
    ag_set_requires_grad(b, true);
    ag_scope *s = ag_scope_begin();
    cr_assert_eq(ag_backward(ag_sum_all(ag_mul(a, b))), 0);
    ag_tensor *params[2] = {a, b};
    ag_sgd_opts o = ag_sgd_defaults();
    o.lr = 0.5;
    o.weight_decay = 1.0;  /* a zero gradient still moves the parameter through the decay */
    ag_optimizer *opt = ag_sgd_new(2, params, &o);
    cr_assert_not_null(opt);
    cr_assert_eq(ag_optim_zero_grad(opt), 0);
    cr_assert_eq(ag_backward(ag_sum_all(a)), 0);     /* reaches a only */
    cr_assert_eq(ag_optim_step(opt), 0);
    expect_values(a, (double[]){1 - 0.5 * (1 + 1), 2 - 0.5 * (1 + 2)}, 2, 1e-15);
    expect_values(b, (double[]){3 - 0.5 * 3, 4 - 0.5 * 4}, 2, 1e-15); /* zero grad + decay */
    expect_values(ag_grad(b), (double[]){0, 0}, 2, 0);
    ag_optim_free(opt);
    ag_scope_end(s);
    ag_tensor_free(a);
    ag_tensor_free(b);
}

Test(backward, zeroed_gradient_then_create_graph)
{
    ag_tensor *x = T64_1(2, ((double[]){1.5, -2}));
    ag_set_requires_grad(x, true);
    ag_scope *s = ag_scope_begin();
    cr_assert_eq(ag_backward(ag_sum_all(x)), 0);
    cr_assert_eq(ag_zero_grad(x), 0);
    ag_backward_opts o = {.create_graph = true};
    cr_assert_eq(ag_backward_ex(ag_sum_all(ag_mul(ag_mul(x, x), x)), &o), 0);
    expect_values(ag_grad(x), (double[]){3 * 1.5 * 1.5, 3 * 4.0}, 2, 1e-15);
    ag_scope_end(s);
    ag_zero_grad(x); /* drops the graph-carrying gradient */
    ag_tensor_free(x);
}
