/* tests/test_inspect.c - graph introspection: op names, inputs, and the backward visiting order
 * (every tensor after all its consumers), including a diamond and a 100,000-op chain. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include <autograd.h>
#include "test_util.h"

static int64_t position(ag_tensor **order, int64_t n, const ag_tensor *t)
{
    for (int64_t i = 0; i < n; i++)
        if (order[i] == t) return i;
    return -1;
}

Test(inspect, names_and_inputs)
{
    ag_scope *s = ag_scope_begin();
    ag_tensor *a = tu_param(1, 1, (int64_t[]){2}, -1, 1), *b = tu_param(2, 1, (int64_t[]){2}, -1, 1);
    ag_tensor *m = ag_mul(a, b), *t = ag_tanh(m);
    cr_expect_str_eq(ag_op_name(a), "leaf");
    cr_expect_str_eq(ag_op_name(m), "mul");
    cr_expect_str_eq(ag_op_name(t), "tanh");
    cr_expect_eq(ag_num_inputs(m), 2);
    cr_expect_eq(ag_num_inputs(a), 0);
    cr_expect_eq(ag_input(m, 0), a);
    cr_expect_eq(ag_input(m, 1), b);
    cr_expect_eq(ag_input(t, 0), m);
    cr_expect_null(ag_input(t, 1));
    expect_error_mentions("ag_input", "input 1", "tanh");
    cr_expect_null(ag_input(a, 0));
    ag_scope_end(s);
}

Test(inspect, diamond_order_puts_each_tensor_after_its_consumers)
{
    ag_scope *s = ag_scope_begin();
    ag_tensor *x = tu_param(3, 1, (int64_t[]){3}, -1, 1);
    ag_tensor *a = ag_exp(x), *b = ag_tanh(x), *c = ag_mul(a, b), *d = ag_add(c, a);
    ag_tensor *root = ag_sum_all(d);
    ag_tensor **order;
    int64_t n;
    cr_assert_eq(ag_graph_order(root, &order, &n), 0);
    cr_expect_eq(n, 6, "x, a, b, c, d, root once each");
    cr_expect_eq(order[0], root);
    cr_expect_eq(order[n - 1], x);
    ag_tensor *all[] = {root, d, c, b, a, x};
    for (int i = 0; i < 6; i++) {
        ag_tensor *t = all[i];
        for (int k = 0; k < ag_num_inputs(t); k++)
            cr_expect_lt(position(order, n, t), position(order, n, ag_input(t, k)),
                         "a consumer comes before its input");
    }
    ag_graph_order_free(order);
    ag_scope_end(s);
}

Test(inspect, deep_chain_does_not_overflow_the_stack)
{
    ag_scope *s = ag_scope_begin();
    ag_tensor *x = tu_param(4, 0, NULL, 0, 1), *y = x;
    for (int i = 0; i < 100000; i++) y = ag_add_scalar(y, 1e-6);
    ag_tensor **order;
    int64_t n;
    cr_assert_eq(ag_graph_order(y, &order, &n), 0);
    cr_expect_eq(n, 100001);
    cr_expect_eq(order[0], y);
    cr_expect_eq(order[n - 1], x);
    ag_graph_order_free(order);
    cr_expect_eq(ag_graph_order(NULL, &order, &n), -1);
    expect_error_mentions("ag_graph_order", "root");
    cr_expect_null(order, "a failed call leaves nothing to free");
    ag_graph_order_free(NULL);
    ag_scope_end(s);
}
