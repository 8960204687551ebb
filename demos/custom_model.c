/* demos/custom_model.c - models no container describes, with hand-written training loops
 * (`make demo-custom`).
 *
 * Part 1: power-law regression y = a * x^p + b where the exponent p is itself learned. x^p is
 * written as exp(p * log x), so the gradient with respect to p comes from the ops' rules.
 * Part 2: a residual MLP on a 3-class spiral: h = relu(Dense(x)); h = h + tanh(Dense(h)) (the skip
 * connection); logits = Dense(h). Three Dense layers combined by hand, one optimizer over all
 * their parameters, a batcher, and the loop: zero_grad, forward, loss, backward, step.
 */
#include <math.h>
#include <stdio.h>

#include "common.h"

static void power_law(bool fast)
{
    printf("Part 1. Learn a, p, b in y = a * x^p + b from noisy data (true a=2.5, p=1.7, b=0.3)\n");
    ag_rng rng = ag_rng_seed(3);
    enum { N = 200 };
    double xs[N], ys[N];
    for (int i = 0; i < N; i++) {
        xs[i] = 0.1 + 2.9 * ag_rng_uniform(&rng);
        ys[i] = 2.5 * pow(xs[i], 1.7) + 0.3 + 0.05 * ag_rng_normal(&rng);
    }
    ag_tensor *x = ag_tensor_from_f64(AG_F64, 1, (int64_t[]){N}, xs);
    ag_tensor *y = ag_tensor_from_f64(AG_F64, 1, (int64_t[]){N}, ys);
    ag_tensor *logx = ag_log(x); /* constant: computed once */
    ag_tensor *a = ag_scalar(AG_F64, 1.0), *p = ag_scalar(AG_F64, 1.0), *b = ag_scalar(AG_F64, 0.0);
    ag_tensor *params[3] = {a, p, b};
    for (int i = 0; i < 3; i++) ag_set_requires_grad(params[i], true);
    ag_adam_opts ao = ag_adam_defaults();
    ao.lr = 0.05;
    ag_optimizer *opt = ag_adam_new(3, params, &ao);
    if (!opt) demo_die("optimizer");
    int steps = fast ? 50 : 1500;
    for (int step = 0; step <= steps; step++) {
        ag_scope *s = ag_scope_begin(); /* frees this step's intermediates at its end */
        ag_optim_zero_grad(opt);
        ag_tensor *pred = ag_add(ag_mul(a, ag_exp(ag_mul(p, logx))), b); /* a * e^(p ln x) + b */
        ag_tensor *loss = ag_mse_loss(pred, y, NULL);
        if (!loss || ag_backward(loss) != 0 || ag_optim_step(opt) != 0) demo_die("training");
        if (step % (steps / 5) == 0)
            printf("  step %4d  loss %.5f   a = %.4f  p = %.4f  b = %.4f\n", step, ag_item(loss),
                   ag_item(a), ag_item(p), ag_item(b));
        ag_scope_end(s);
    }
    ag_optim_free(opt);
    ag_tensor *all[] = {x, y, logx, a, p, b};
    for (int i = 0; i < 6; i++) ag_tensor_free(all[i]);
}

/* The residual network's forward pass: three layers wired by hand. */
static ag_tensor *resnet_forward(ag_module *const *layer, ag_tensor *x)
{
    ag_tensor *h = ag_relu(ag_module_forward(layer[0], x));
    h = ag_add(h, ag_tanh(ag_module_forward(layer[1], h))); /* skip connection */
    return ag_module_forward(layer[2], h);
}

static void residual_mlp(bool fast)
{
    printf("\nPart 2. A residual MLP on a 3-class spiral, trained with a hand-written loop\n");
    ag_dataset *data = ag_make_spirals(fast ? 50 : 200, 3, 0.1, 5, AG_F32);
    if (!data) demo_die("spirals");
    ag_rng rng = ag_rng_seed(11);
    ag_dense_opts he = {.init = AG_INIT_HE_UNIFORM};
    ag_module *layer[3] = {ag_dense(2, 64, &he, &rng), ag_dense(64, 64, NULL, &rng),
                           ag_dense(64, 3, NULL, &rng)};
    /* One optimizer over the parameters of all three layers. */
    ag_tensor *params[6];
    int np = 0;
    for (int l = 0; l < 3; l++) {
        if (!layer[l]) demo_die("layers");
        for (int i = 0; i < ag_module_num_params(layer[l]); i++)
            params[np++] = ag_module_param(layer[l], i);
    }
    ag_adam_opts ao = ag_adam_defaults();
    ao.lr = 0.01;
    ag_optimizer *opt = ag_adam_new(np, params, &ao);
    ag_batcher *batches = ag_batcher_new(data, 32, true, 1, false);
    if (!opt || !batches) demo_die("optimizer or batcher");

    int epochs = fast ? 3 : 120;
    for (int epoch = 1; epoch <= epochs; epoch++) {
        double total = 0;
        int64_t seen = 0;
        ag_tensor *xb, *yb;
        int more;
        while ((more = ag_batcher_next(batches, &xb, &yb)) == 1) {
            ag_scope *s = ag_scope_begin();
            ag_optim_zero_grad(opt);
            ag_tensor *loss = ag_cross_entropy(resnet_forward(layer, xb), yb, NULL);
            if (!loss || ag_backward(loss) != 0 || ag_optim_step(opt) != 0) demo_die("training");
            total += ag_item(loss) * (double)ag_shape(xb)[0];
            seen += ag_shape(xb)[0];
            ag_scope_end(s);
            ag_tensor_free(xb);
            ag_tensor_free(yb);
        }
        if (more < 0) demo_die("batcher");
        if (epoch % (epochs / 3 > 0 ? epochs / 3 : 1) == 0 || epoch == 1) {
            /* training accuracy, in no-grad mode */
            ag_scope *s = ag_scope_begin();
            bool was = ag_set_grad_enabled(false);
            ag_tensor *logits = resnet_forward(layer, data->x);
            int64_t n = ag_dataset_size(data), correct = 0, pred[1024];
            ag_argmax_rows(logits, pred);
            for (int64_t i = 0; i < n; i++) correct += pred[i] == (int64_t)ag_get(data->y, i);
            ag_set_grad_enabled(was);
            ag_scope_end(s);
            printf("  epoch %3d  loss %.4f  training accuracy %.1f%%\n", epoch,
                   total / (double)seen, 100.0 * (double)correct / (double)n);
        }
    }
    ag_batcher_free(batches);
    ag_optim_free(opt);
    for (int l = 0; l < 3; l++) ag_module_free(layer[l]);
    ag_dataset_free(data);
}

int main(void)
{
    bool fast = demo_fast();
    power_law(fast);
    residual_mlp(fast);
    return 0;
}
