/* demos/backprop.c - backpropagation step by step, for teaching (`make demo-backprop`).
 *
 * Part 1: one neuron, o = tanh(x1*w1 + x2*w2 + b): forward values, then each gradient in the
 * order backward computes it beside the chain-rule formula evaluated by hand.
 * Part 2: a 2-2-1 network with a squared-error loss, every weight a scalar so each node of the
 * graph is one number. The demo replays backpropagation itself: it walks the graph in backward
 * order (ag_graph_order), multiplies each node's local derivative by the gradient flowing into it
 * and adds the product into its inputs, printing every step; then it checks its sums against the
 * engine's ag_backward. Both graphs are written as Graphviz DOT, rendered to SVG when `dot` is
 * installed, each node showing its value and gradient.
 * Part 3: the graph of the tutorial's model on a batch of 4 (tutorial_graph.svg), one node per
 * tensor with its shape.
 * demo-check writes: network.dot
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <autograd.h>

static ag_tensor *named(ag_tensor *t, const char *name)
{
    if (!t) {
        fprintf(stderr, "error: %s\n", ag_last_error());
        exit(1);
    }
    ag_set_name(t, name);
    return t;
}

static ag_tensor *leaf(const char *name, double v, bool param)
{
    ag_tensor *t = named(ag_scalar(AG_F64, v), name);
    if (param) ag_set_requires_grad(t, true);
    return t;
}

static void render(const char *dot, const char *svg, ag_tensor *root)
{
    if (ag_graph_dot_file(dot, root) != 0) {
        fprintf(stderr, "could not write %s: %s\n", dot, ag_last_error());
        return;
    }
    char cmd[256];
    snprintf(cmd, sizeof cmd, "dot -Tsvg %s -o %s", dot, svg);
    if (system("command -v dot >/dev/null 2>&1") == 0 && system(cmd) == 0)
        printf("Wrote the graph to %s and rendered it to %s.\n", dot, svg);
    else
        printf("Wrote the graph to %s (install graphviz and run `%s` to draw it).\n", dot, cmd);
}

static void part1_neuron(void)
{
    ag_scope *s = ag_scope_begin();
    ag_tensor *x1 = leaf("x1", 2.0, true), *x2 = leaf("x2", 0.0, true);
    ag_tensor *w1 = leaf("w1", -3.0, true), *w2 = leaf("w2", 1.0, true);
    ag_tensor *b = leaf("b", 6.8813735870195432, true);
    printf("Part 1. A single neuron: o = tanh(w1*x1 + w2*x2 + b)\n\n");
    printf("Forward pass (each op records a node of the graph as it runs):\n");
    ag_tensor *x1w1 = named(ag_mul(x1, w1), "x1*w1"), *x2w2 = named(ag_mul(x2, w2), "x2*w2");
    ag_tensor *sum = named(ag_add(x1w1, x2w2), "x1*w1 + x2*w2");
    ag_tensor *n = named(ag_add(sum, b), "n"), *o = named(ag_tanh(n), "o");
    printf("  x1*w1 = %.4f   x2*w2 = %.4f   n = x1*w1 + x2*w2 + b = %.4f   o = tanh(n) = %.4f\n",
           ag_item(x1w1), ag_item(x2w2), ag_item(n), ag_item(o));
    printf("  The output as ag_print shows it (grad_fn names the op that made it):\n  ");
    ag_print(o);
    printf("  and a parameter (a leaf that requires grad):\n  ");
    ag_print(w1);
    printf("\n");
    ag_backward_opts opts = {.retain_all_grads = true}; /* keep every node's gradient */
    if (ag_backward_ex(o, &opts) != 0) {
        fprintf(stderr, "error: %s\n", ag_last_error());
        exit(1);
    }
    double t = 1 - ag_item(o) * ag_item(o);
    printf("Backward pass, in reverse topological order (formula by hand | engine):\n");
    printf("  do/dn  = 1 - o^2          = %8.4f | %8.4f\n", t, ag_item(ag_grad(n)));
    printf("  do/db  = do/dn * 1        = %8.4f | %8.4f\n", t, ag_item(ag_grad(b)));
    printf("  do/dw1 = do/dn * x1       = %8.4f | %8.4f\n", t * 2.0, ag_item(ag_grad(w1)));
    printf("  do/dx1 = do/dn * w1       = %8.4f | %8.4f\n", t * -3.0, ag_item(ag_grad(x1)));
    printf("  do/dw2 = do/dn * x2       = %8.4f | %8.4f\n", t * 0.0, ag_item(ag_grad(w2)));
    printf("  do/dx2 = do/dn * w2       = %8.4f | %8.4f\n", t * 1.0, ag_item(ag_grad(x2)));
    render("neuron.dot", "neuron.svg", o);
    ag_scope_end(s);
}

/* The local derivative d(out)/d(input k) of the scalar ops this demo uses, from the op's name
 * and the values around it: the table micrograd writes as one _backward closure per op. */
static double local_derivative(ag_tensor *out, int k, const char **formula)
{
    const char *op = ag_op_name(out);
    double y = ag_item(out), a = ag_item(ag_input(out, 0));
    double b = ag_num_inputs(out) > 1 ? ag_item(ag_input(out, 1)) : 0;
    if (!strcmp(op, "add")) return *formula = "1", 1.0;
    if (!strcmp(op, "sub")) return *formula = k ? "-1" : "1", k ? -1.0 : 1.0;
    static char other[48];
    if (!strcmp(op, "mul")) { /* d(a*b)/da = b: the other factor */
        snprintf(other, sizeof other, "%s", ag_name(ag_input(out, 1 - k)));
        return *formula = other, k ? a : b;
    }
    if (!strcmp(op, "tanh")) return *formula = "1 - out^2", 1 - y * y;
    if (!strcmp(op, "sigmoid")) return *formula = "out * (1 - out)", y * (1 - y);
    fprintf(stderr, "no local derivative for op '%s' in this demo\n", op);
    exit(1);
}

static int64_t find(ag_tensor **order, int64_t n, const ag_tensor *t)
{
    for (int64_t i = 0; i < n; i++)
        if (order[i] == t) return i;
    return -1;
}

static void part2_network(void)
{
    printf("\nPart 2. A 2-2-1 network, L = (sigmoid(v1*h1 + v2*h2 + c) - target)^2,\n"
           "        h_i = tanh(x1*w_i1 + x2*w_i2 + b_i), every weight a scalar leaf.\n\n");
    ag_scope *s = ag_scope_begin();
    ag_tensor *x1 = leaf("x1", 0.5, false), *x2 = leaf("x2", -1.0, false);
    ag_tensor *target = leaf("target", 1.0, false);
    ag_tensor *w11 = leaf("w11", 0.3, true), *w12 = leaf("w12", -0.8, true);
    ag_tensor *w21 = leaf("w21", 1.2, true), *w22 = leaf("w22", 0.4, true);
    ag_tensor *b1 = leaf("b1", 0.1, true), *b2 = leaf("b2", -0.5, true);
    ag_tensor *v1 = leaf("v1", 0.7, true), *v2 = leaf("v2", -1.1, true), *c = leaf("c", 0.05, true);

    ag_tensor *h1 = named(ag_tanh(named(ag_add(named(ag_add(named(ag_mul(x1, w11), "x1*w11"),
                                                            named(ag_mul(x2, w12), "x2*w12")),
                                                     "s11"), b1), "z1")), "h1");
    ag_tensor *h2 = named(ag_tanh(named(ag_add(named(ag_add(named(ag_mul(x1, w21), "x1*w21"),
                                                            named(ag_mul(x2, w22), "x2*w22")),
                                                     "s21"), b2), "z2")), "h2");
    ag_tensor *z = named(ag_add(named(ag_add(named(ag_mul(h1, v1), "h1*v1"),
                                             named(ag_mul(h2, v2), "h2*v2")), "s3"), c), "z3");
    ag_tensor *y = named(ag_sigmoid(z), "y");
    ag_tensor *e = named(ag_sub(y, target), "e");
    ag_tensor *loss = named(ag_mul(e, e), "L");
    printf("Forward: h1 = %.6f, h2 = %.6f, y = %.6f, L = %.6f\n\n", ag_item(h1), ag_item(h2),
           ag_item(y), ag_item(loss));

    /* Backprop by hand: visit nodes so that each comes after everything that consumes it, so
     * its gradient is complete when we reach it; then push it to its inputs. */
    ag_tensor **order;
    int64_t n;
    if (ag_graph_order(loss, &order, &n) != 0) exit(1);
    double *grad = calloc((size_t)n, sizeof *grad);
    if (!grad) exit(1);
    grad[0] = 1.0; /* dL/dL */
    printf("Backpropagation replayed by hand, node by node (dL/dnode is complete on arrival):\n");
    for (int64_t i = 0; i < n; i++) {
        ag_tensor *t = order[i];
        if (ag_num_inputs(t) == 0) continue;
        printf("  %-7s = %-7s value %+9.6f   dL/d%-7s = %+9.6f\n", ag_name(t), ag_op_name(t),
               ag_item(t), ag_name(t), grad[i]);
        for (int k = 0; k < ag_num_inputs(t); k++) {
            ag_tensor *in = ag_input(t, k);
            const char *formula;
            double local = local_derivative(t, k, &formula);
            int64_t j = find(order, n, in);
            grad[j] += local * grad[i];
            char lhs[80];
            snprintf(lhs, sizeof lhs, "d(%s)/d(%s)", ag_name(t), ag_name(in));
            printf("      %-22s = %-15s = %+9.6f   dL/d%-7s += %+9.6f * %+9.6f\n", lhs,
                   formula, local, ag_name(in), local, grad[i]);
        }
    }

    ag_backward_opts opts = {.retain_all_grads = true};
    if (ag_backward_ex(loss, &opts) != 0) exit(1);
    printf("\nThe weights' gradients, by hand and by ag_backward:\n");
    double worst = 0;
    for (int64_t i = 0; i < n; i++) {
        ag_tensor *t = order[i];
        if (ag_num_inputs(t) != 0 || !ag_requires_grad(t)) continue;
        double engine = ag_item(ag_grad(t));
        worst = fmax(worst, fabs(engine - grad[i]));
        printf("  dL/d%-4s  by hand %+.12f   engine %+.12f\n", ag_name(t), grad[i], engine);
    }
    printf("  largest difference: %.1e\n", worst);
    render("network.dot", "network.svg", loss);
    free(grad);
    ag_graph_order_free(order);
    ag_scope_end(s);
}

/* Part 3: the same pictures for a real model, the tutorial's, on one batch: each node is a whole
 * tensor now, so the picture shows shapes instead of numbers. */
static void part3_tutorial_model(void)
{
    printf("\nPart 3. The tutorial's model (100 -> Dense 32 relu -> Dense 10 softmax) on a batch of "
           "4,\n        with the categorical cross-entropy: one node per tensor.\n");
    ag_scope *s = ag_scope_begin();
    ag_rng rng = ag_rng_seed(42);
    ag_module *model = ag_sequential(2, (ag_module *[]){
        ag_dense(100, 32, &(ag_dense_opts){.activation = AG_ACT_RELU}, &rng),
        ag_dense(32, 10, &(ag_dense_opts){.activation = AG_ACT_SOFTMAX}, &rng)});
    if (!model) {
        fprintf(stderr, "error: %s\n", ag_last_error());
        exit(1);
    }
    for (int i = 0; i < ag_module_num_params(model); i++) /* "0.weight", ... */
        ag_set_name(ag_module_param(model, i), ag_module_param_name(model, i));
    ag_tensor *x = named(ag_rand_uniform(&rng, AG_F32, 2, (int64_t[]){4, 100}, 0, 1), "x");
    ag_tensor *y = named(ag_tensor_from_f64(AG_F32, 1, (int64_t[]){4}, (double[]){3, 1, 4, 1}),
                         "labels");
    ag_tensor *loss = named(ag_categorical_cross_entropy(ag_module_forward(model, x), y, NULL),
                            "loss");
    if (ag_backward(loss) != 0) {
        fprintf(stderr, "error: %s\n", ag_last_error());
        exit(1);
    }
    printf("  loss = %.4f; ", ag_item(loss));
    render("tutorial_graph.dot", "tutorial_graph.svg", loss);
    ag_module_free(model);
    ag_scope_end(s);
}

int main(void)
{
    part1_neuron();
    part2_network();
    part3_tutorial_model();
    return 0;
}
