/* tests/test_debug.c - graph printing, DOT export and anomaly mode. */
#include <stdlib.h>

#include "test_util.h"

static char *capture(int (*fn)(FILE *, ag_tensor *), ag_tensor *root)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert(f);
    cr_assert_eq(fn(f, root), 0, "%s", ag_last_error());
    fclose(f);
    return buf;
}

Test(debug, print_shows_ops_names_values_and_grads)
{
    ag_tensor *x = ag_scalar(AG_F64, 2), *w = ag_scalar(AG_F64, -3);
    ag_set_name(x, "x");
    ag_set_name(w, "w");
    ag_set_requires_grad(w, true);
    ag_scope *s = ag_scope_begin();
    ag_tensor *xw = ag_mul(x, w);
    ag_tensor *y = ag_add(xw, xw); /* xw used twice: printed once, then referred to */
    ag_set_name(y, "y");
    ag_backward(y);
    char *out = capture(ag_graph_print, y);
    cr_assert(strstr(out, "add y"), "%s", out);
    cr_assert(strstr(out, "mul"), "%s", out);
    cr_assert(strstr(out, "leaf w float64[] data=[-3] grad=[4] requires_grad"), "%s", out);
    cr_assert(strstr(out, "(shown above)"), "%s", out);
    free(out);
    ag_scope_end(s);
    ag_tensor_free(x);
    ag_tensor_free(w);
}

Test(debug, dot_export_is_a_digraph_with_ops_and_edges)
{
    ag_tensor *x = ag_scalar(AG_F64, 0.5);
    ag_set_name(x, "x");
    ag_set_requires_grad(x, true);
    ag_scope *s = ag_scope_begin();
    ag_tensor *y = ag_tanh(ag_mul(x, x));
    ag_backward(y);
    char *out = capture(ag_graph_dot, y);
    cr_assert(strncmp(out, "digraph", 7) == 0, "%s", out);
    cr_assert(strstr(out, "label=\"tanh\""), "%s", out);
    cr_assert(strstr(out, "label=\"mul\""), "%s", out);
    cr_assert(strstr(out, "{ x | [] | data 0.5 | grad "), "%s", out);
    cr_assert(strstr(out, "->"), "%s", out);
    cr_assert_eq(out[strlen(out) - 2], '}');
    free(out);
    ag_clear_error();
    cr_assert_eq(ag_graph_dot_file("/nonexistent-dir/g.dot", y), -1);
    expect_error_mentions("ag_graph_dot_file", "/nonexistent-dir/g.dot");
    ag_scope_end(s);
    ag_tensor_free(x);
}

Test(debug, anomaly_mode_names_the_first_forward_op)
{
    ag_tensor *x = T64_1(3, ((double[]){1, -1, 2}));
    ag_set_requires_grad(x, true);
    ag_scope *s = ag_scope_begin();
    cr_assert(!ag_set_anomaly_mode(true));
    ag_clear_error();
    ag_tensor *y = ag_sum_all(ag_exp(ag_log(x))); /* log(-1) is the first NaN */
    cr_assert_null(y);
    expect_error_mentions("ag_log", "NaN or Inf", "forward", "[3]");
    ag_set_anomaly_mode(false);
    cr_assert_not_null(ag_log(x), "without anomaly mode NaN is a value, not an error");
    ag_scope_end(s);
    ag_tensor_free(x);
}

Test(debug, anomaly_mode_names_the_backward_op)
{
    /* sqrt(x) at 0 is finite, its derivative 1/(2 sqrt x) is not. */
    ag_tensor *x = T64_1(2, ((double[]){0, 4}));
    ag_set_requires_grad(x, true);
    ag_scope *s = ag_scope_begin();
    ag_set_anomaly_mode(true);
    ag_tensor *y = ag_sum_all(ag_sqrt(x));
    cr_assert_not_null(y, "%s", ag_last_error());
    ag_clear_error();
    cr_assert_eq(ag_backward(y), -1);
    expect_error_mentions("ag_backward", "sqrt", "NaN or Inf", "[2]");
    ag_set_anomaly_mode(false);
    ag_scope_end(s);
    ag_tensor_free(x);
}
