/* demos/neuron.c - the first demo: one neuron, o = tanh(w1*x1 + w2*x2 + b), differentiated by
 * the engine and checked by hand, step by step (the example micrograd made famous).
 *
 * It prints every forward value, then every gradient in the order backward computes them, next
 * to the chain-rule formula that gives it, then writes the graph as Graphviz DOT (and SVG when
 * `dot` is installed). Finally it runs a few gradient-descent steps on the weights.
 *
 * Run: make demo
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <autograd.h>

static ag_tensor *named(ag_tensor *t, const char *name)
{
    ag_set_name(t, name);
    return t;
}

static ag_tensor *leaf(const char *name, double v, bool param)
{
    ag_tensor *t = named(ag_scalar(AG_F64, v), name);
    if (param) ag_set_requires_grad(t, true);
    return t;
}

int main(void)
{
    /* Inputs and parameters are leaves the caller owns. */
    ag_tensor *x1 = leaf("x1", 2.0, true), *x2 = leaf("x2", 0.0, true);
    ag_tensor *w1 = leaf("w1", -3.0, true), *w2 = leaf("w2", 1.0, true);
    ag_tensor *b = leaf("b", 6.8813735870195432, true);

    printf("A single neuron: o = tanh(w1*x1 + w2*x2 + b)\n\n");
    printf("Forward pass (each op records a node of the graph as it runs):\n");
    ag_scope *s = ag_scope_begin(); /* everything computed from here on is freed at its end */
    ag_tensor *x1w1 = named(ag_mul(x1, w1), "x1*w1");
    ag_tensor *x2w2 = named(ag_mul(x2, w2), "x2*w2");
    ag_tensor *sum = named(ag_add(x1w1, x2w2), "x1*w1 + x2*w2");
    ag_tensor *n = named(ag_add(sum, b), "n");
    ag_tensor *o = named(ag_tanh(n), "o");
    if (!o) {
        fprintf(stderr, "error: %s\n", ag_last_error());
        return 1;
    }
    printf("  x1*w1          = %8.4f\n", ag_item(x1w1));
    printf("  x2*w2          = %8.4f\n", ag_item(x2w2));
    printf("  x1*w1 + x2*w2  = %8.4f\n", ag_item(sum));
    printf("  n = ... + b    = %8.4f\n", ag_item(n));
    printf("  o = tanh(n)    = %8.4f\n\n", ag_item(o));

    /* retain_all_grads keeps the gradient of every node, not only of the leaves. */
    ag_backward_opts opts = {.retain_all_grads = true};
    if (ag_backward_ex(o, &opts) != 0) {
        fprintf(stderr, "error: %s\n", ag_last_error());
        return 1;
    }
    double on = ag_item(o);
    printf("Backward pass (reverse topological order; each line is the chain rule):\n");
    printf("  do/do                       = 1                 = %8.4f\n", ag_item(ag_grad(o)));
    printf("  do/dn  = 1 - o^2            = %8.4f          = %8.4f\n", 1 - on * on,
           ag_item(ag_grad(n)));
    printf("  do/db  = do/dn * 1          = %8.4f          = %8.4f\n", 1 - on * on,
           ag_item(ag_grad(b)));
    printf("  do/d(x1*w1) = do/dn * 1     = %8.4f          = %8.4f\n", 1 - on * on,
           ag_item(ag_grad(x1w1)));
    printf("  do/dw1 = do/d(x1*w1) * x1   = %8.4f          = %8.4f\n", (1 - on * on) * 2.0,
           ag_item(ag_grad(w1)));
    printf("  do/dx1 = do/d(x1*w1) * w1   = %8.4f          = %8.4f\n", (1 - on * on) * -3.0,
           ag_item(ag_grad(x1)));
    printf("  do/dw2 = do/d(x2*w2) * x2   = %8.4f          = %8.4f\n", (1 - on * on) * 0.0,
           ag_item(ag_grad(w2)));
    printf("  do/dx2 = do/d(x2*w2) * w2   = %8.4f          = %8.4f\n", (1 - on * on) * 1.0,
           ag_item(ag_grad(x2)));
    printf("  (left: the formula evaluated by hand; right: what the engine computed)\n\n");

    printf("The graph as text:\n");
    ag_graph_print(stdout, o);
    const char *dot = "neuron.dot";
    if (ag_graph_dot_file(dot, o) == 0) {
        printf("\nWrote the graph to %s", dot);
        if (system("command -v dot >/dev/null 2>&1") == 0 &&
            system("dot -Tsvg neuron.dot -o neuron.svg") == 0)
            printf(" and rendered it to neuron.svg");
        else
            printf(" (install graphviz and run `dot -Tsvg %s -o neuron.svg` to draw it)", dot);
        printf(".\n\n");
    } else {
        fprintf(stderr, "could not write %s: %s\n", dot, ag_last_error());
    }
    ag_scope_end(s);

    /* Gradient descent: push o towards the target 0.5 by minimising (o - 0.5)^2 over w1, w2, b. */
    printf("Gradient descent on (o - 0.5)^2, learning rate 0.1:\n");
    ag_tensor *params[] = {w1, w2, b};
    for (int step = 0; step <= 20; step++) {
        ag_scope *st = ag_scope_begin();
        for (int i = 0; i < 3; i++) ag_zero_grad(params[i]);
        ag_tensor *out = ag_tanh(ag_add(ag_add(ag_mul(x1, w1), ag_mul(x2, w2)), b));
        ag_tensor *err = ag_add_scalar(out, -0.5);
        ag_tensor *loss = ag_mul(err, err);
        ag_backward(loss);
        if (step % 4 == 0)
            printf("  step %2d  o = %.6f  loss = %.3e  dloss/dw1 = %+.5f\n", step, ag_item(out),
                   ag_item(loss), ag_item(ag_grad(w1)));
        /* The update is plain arithmetic on the leaves' storage: no graph is recorded. */
        for (int i = 0; i < 3; i++) {
            double *p = ag_data_f64(params[i]);
            p[0] -= 0.1 * ag_item(ag_grad(params[i]));
        }
        ag_scope_end(st);
    }

    ag_tensor *leaves[] = {x1, x2, w1, w2, b};
    for (int i = 0; i < 5; i++) ag_tensor_free(leaves[i]);
    return 0;
}
