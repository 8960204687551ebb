/* autograd/grad.h - the dynamic graph and reverse-mode differentiation.
 *
 * Define-by-run: every op whose input requires a gradient records a node (the op, its inputs)
 * on its output as the program runs. ag_backward() walks that graph from the output back to the
 * leaves in reverse topological order, applying each op's backward rule (the chain rule) and
 * summing the contributions that reach a tensor used more than once.
 *
 * Leaf gradients accumulate across backward calls until zeroed (ag_zero_grad), as in PyTorch.
 * After a backward pass the graph's saved state is released unless retain_graph is set; a second
 * backward through it is then an error, not silent garbage.
 */
#ifndef AUTOGRAD_GRAD_H
#define AUTOGRAD_GRAD_H

#include <stdbool.h>
#include "tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- requires_grad, leaves and their gradients ---- */

/* Marks a leaf (a tensor not produced by a recorded op) as a parameter whose gradient backward
 * computes. Fails for non-leaves, as their requires_grad follows from their inputs. */
int ag_set_requires_grad(ag_tensor *t, bool requires_grad);
bool ag_requires_grad(const ag_tensor *t);

/* True when `t` was not produced by a recorded op. */
bool ag_is_leaf(const ag_tensor *t);

/* The gradient accumulated in `t` (a leaf that requires grad, or a tensor marked with
 * ag_retain_grad), or NULL if no backward has reached it since it was last cleared. The tensor
 * is owned by `t`: do not free it; it stays valid until the next ag_zero_grad/ag_tensor_free. */
ag_tensor *ag_grad(const ag_tensor *t);

/* Clears the gradient of `t`: its values become zero in place (the same tensor, the same
 * buffer), or it is dropped when it carries a graph (after a create_graph backward). The zeroing
 * is lazy: the next backward writes the new gradient over it instead of adding to zeros (one
 * pass instead of two), and ag_grad() zeroes the values first if they are read before that.
 * Returns 0 or -1. */
int ag_zero_grad(ag_tensor *t);

/* Asks backward to also store the gradient of a non-leaf tensor (read it with ag_grad). */
int ag_retain_grad(ag_tensor *t);

/* ---- grad mode ---- */

/* Enables or disables graph recording on this thread; returns the previous setting. With
 * recording off (no-grad mode) ops compute values only: use it for evaluation and for updates. */
bool ag_set_grad_enabled(bool enabled);
bool ag_is_grad_enabled(void);

/* A tensor sharing `t`'s values with no graph history and requires_grad false. */
ag_tensor *ag_detach(ag_tensor *t);

/* ---- backward ---- */

typedef struct ag_backward_opts {
    /* Gradient of the output to start from, same shape and dtype as the output. NULL means 1,
     * which is allowed only for one-element outputs. */
    const ag_tensor *seed;
    /* Keep the graph's saved state so that backward can run through it again. */
    bool retain_graph;
    /* Record the backward computation itself as a graph, so the gradients can be differentiated
     * again (higher-order derivatives). Implies retain_graph. */
    bool create_graph;
    /* Store the gradient of every tensor the pass reaches, not only leaves (for teaching and
     * for ag_graph_dot pictures). */
    bool retain_all_grads;
} ag_backward_opts;

/* Backpropagates from a one-element output `root`: adds d(root)/d(leaf) into ag_grad(leaf) for
 * every leaf that requires grad. Returns 0 or -1. */
int ag_backward(ag_tensor *root);

/* ag_backward with options (opts may be NULL for the defaults). */
int ag_backward_ex(ag_tensor *root, const ag_backward_opts *opts);

/* The equivalent of torch.autograd.grad: computes d(output)/d(inputs[i]) and returns it in
 * grads[i] (owned by the current scope or the caller) instead of accumulating into ag_grad.
 * An input that the output does not depend on gets zeros. Leaf gradients are left untouched.
 * With opts->create_graph the results are differentiable (e.g. Hessian-vector products).
 * Returns 0 or -1 (then every grads[i] is NULL). */
int ag_grad_of(ag_tensor *output, int n, ag_tensor *const *inputs, ag_tensor **grads,
               const ag_backward_opts *opts);

/* ---- user-defined differentiable functions (like torch.autograd.Function) ----
 *
 * For an operation the engine lacks, or to teach how a backward rule works: compute the output
 * values any way you like (raw loops, ops in no-grad mode), then ag_apply_function records it in
 * the graph with your backward rule. The rule receives the inputs, the output and the gradient of
 * the loss with respect to the output (g = dL/dy), and sets grad_inputs[i] = dL/d(input i) for
 * each input that needs one (leave NULL otherwise). Build the gradients with ops (so they can be
 * differentiated again with create_graph), or return grad_output itself. A gradient may have the
 * broadcast shape; the engine sums it down to the input's shape. Return 0, or -1 after recording
 * an error with ag_set_error. The rule runs inside a scope of its own: every tensor it makes is
 * freed when it returns (except the gradients it hands back), so it frees nothing itself.
 *
 * The ag_function must outlive every graph that uses it (a static const struct is the usual
 * way); `ctx` is passed through untouched and must live as long. */
typedef struct ag_function ag_function;
struct ag_function {
    const char *name;
    int (*backward)(const ag_function *fn, void *ctx, int n, ag_tensor *const *inputs,
                    ag_tensor *output, ag_tensor *grad_output, ag_tensor **grad_inputs);
};

/* Returns a new tensor with the values of `output` (copied; `output` stays the caller's) that is
 * recorded as fn(inputs) when grad mode is on and an input requires grad. n is 1 to 16; every
 * input and the output share one dtype. */
ag_tensor *ag_apply_function(const ag_function *fn, void *ctx, int n, ag_tensor *const *inputs,
                             ag_tensor *output);

#ifdef __cplusplus
}
#endif
#endif
