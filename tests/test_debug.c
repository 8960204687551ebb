/* tests/test_debug.c - graph printing, DOT export and anomaly mode. */
#include <stdlib.h>
#include <unistd.h>

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
    cr_assert(strstr(out, "rankdir=LR"), "%s", out);
    /* unnamed tensors show their op; values and gradients are rounded to 3 digits */
    cr_assert(strstr(out, "<b>tanh</b><br/>0.245>"), "%s", out);
    cr_assert(strstr(out, "<b>mul</b><br/>0.25>"), "%s", out);
    cr_assert(strstr(out, "<b>x</b><br/>0.5<br/><font color=\"#b22222\">\xe2\x88\x87 0.94</font>"),
              "%s", out);
    cr_assert(strstr(out, "t2 -> t1;") && strstr(out, "t1 -> t0;"), "%s", out);
    cr_assert_eq(out[strlen(out) - 2], '}');
    free(out);
    ag_clear_error();
    cr_assert_eq(ag_graph_dot_file("/nonexistent-dir/g.dot", y), -1);
    expect_error_mentions("ag_graph_dot_file", "/nonexistent-dir/g.dot");
    ag_scope_end(s);
    ag_tensor_free(x);
}

/* The 2-2-1 network of demos/backprop.c, every weight a named scalar. */
static ag_tensor *network(void)
{
    static const char *const names[] = {"x1", "x2", "w11", "w12", "w21", "w22", "b1", "b2",
                                        "v1", "v2", "c"};
    static const double vals[] = {0.5, -1, 0.3, -0.8, 1.2, 0.4, 0.1, -0.5, 0.7, -1.1, 0.05};
    ag_tensor *p[11];
    for (int i = 0; i < 11; i++) {
        p[i] = ag_scalar(AG_F64, vals[i]);
        ag_set_name(p[i], names[i]);
        if (i >= 2) ag_set_requires_grad(p[i], true);
    }
    ag_tensor *h1 = ag_tanh(ag_add(ag_add(ag_mul(p[0], p[2]), ag_mul(p[1], p[3])), p[6]));
    ag_tensor *h2 = ag_tanh(ag_add(ag_add(ag_mul(p[0], p[4]), ag_mul(p[1], p[5])), p[7]));
    ag_tensor *y = ag_sigmoid(ag_add(ag_add(ag_mul(h1, p[8]), ag_mul(h2, p[9])), p[10]));
    ag_tensor *e = ag_add_scalar(y, -1);
    return ag_mul(e, e);
}

Test(debug, pictures_name_tensors_by_op_and_shape_never_by_address)
{
    ag_scope *s = ag_scope_begin();
    ag_tensor *w = ag_ones(AG_F32, 2, (int64_t[]){3, 2});
    ag_set_requires_grad(w, true);
    ag_tensor *y = ag_sum_all(ag_relu(ag_matmul(ag_ones(AG_F32, 2, (int64_t[]){4, 3}), w)));
    char *dot = capture(ag_graph_dot, y), *txt = capture(ag_graph_print, y);
    cr_expect(!strstr(dot, "0x") && !strstr(txt, "0x"), "an address:\n%s\n%s", dot, txt);
    cr_expect(strstr(dot, "<b>relu</b><br/><font color=\"#666666\">[4,2]</font>"), "%s", dot);
    cr_expect(strstr(dot, "<b>parameter</b><br/><font color=\"#666666\">[3,2]</font>"), "%s",
              dot);
    cr_expect(strstr(dot, "<b>constant</b><br/><font color=\"#666666\">[4,3]</font>"), "%s",
              dot);
    cr_expect(strstr(txt, "relu t1 float32[4,2]"), "%s", txt);
    free(dot);
    free(txt);
    ag_scope_end(s);
}

/* With Graphviz installed, the 2-2-1 network's picture fits in 800 points (it is legible at the
 * width a README shows it); without it the test says it is skipped. */
Test(debug, the_network_picture_is_compact)
{
    if (system("command -v dot >/dev/null 2>&1") != 0) {
        cr_log_warn("graphviz is not installed: the picture's width is not checked");
        return;
    }
    ag_scope *s = ag_scope_begin();
    ag_tensor *loss = network();
    cr_assert_eq(ag_backward(loss), 0);
    char dot[64], svg[64], cmd[200];
    snprintf(dot, sizeof dot, "/tmp/ag_net_%d.dot", (int)getpid());
    snprintf(svg, sizeof svg, "/tmp/ag_net_%d.svg", (int)getpid());
    cr_assert_eq(ag_graph_dot_file(dot, loss), 0);
    snprintf(cmd, sizeof cmd, "dot -Tsvg %s -o %s", dot, svg);
    cr_assert_eq(system(cmd), 0);
    FILE *f = fopen(svg, "r");
    cr_assert_not_null(f);
    char buf[4096] = {0};
    fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    const char *wp = strstr(buf, "<svg width=\"");
    cr_assert_not_null(wp, "%s", buf);
    double width = atof(wp + strlen("<svg width=\""));
    cr_expect_lt(width, 800, "the picture is %g points wide", width);
    remove(dot);
    remove(svg);
    ag_scope_end(s);
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
