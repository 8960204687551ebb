/* autograd/debug.h - seeing tensors and the graph, and finding where NaN or Inf first appears. */
#ifndef AUTOGRAD_DEBUG_H
#define AUTOGRAD_DEBUG_H

#include <stdbool.h>
#include <stdio.h>
#include "tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- printing a tensor ----
 *
 *     ag_print(w);    // tensor([[ 0.1000, -0.2000,  0.3000]], shape=[1,3], dtype=float64,
 *                     //        requires_grad=true)
 *
 * The text is PyTorch's repr with its default print options: the values in nested brackets, one
 * format for all of them (4 decimals; "3." when all are whole numbers; e-notation for values
 * past 1e8, below 1e-4 or spanning more than three decades), rows wrapped at 80 columns; then the
 * shape, the dtype, and either the op that made the tensor (grad_fn=<tanh>, for a tensor
 * recorded in the graph) or requires_grad=true (for a parameter), and its name when it has one.
 * A tensor of more than 1000 elements is summarised: along each axis longer than 6 only the
 * first 3 and last 3 entries are shown, with "..." between. */

/* Writes the text of `t` and a newline to stdout / to `out`. Returns 0 or -1. */
int ag_print(const ag_tensor *t);
int ag_fprint(FILE *out, const ag_tensor *t);

/* The same text (without the newline) as a string the caller frees with free(); NULL and an
 * error on failure. */
char *ag_tensor_str(const ag_tensor *t);

/* ---- the graph ---- */

/* Prints the graph that produced `root` as an indented tree, one line per tensor: op (or
 * "leaf"), name (or "t<k>", k its position in the walk, for an unnamed tensor), dtype, shape, the
 * first values and, when stored, the gradient. A tensor used twice is printed once and referred
 * to afterwards. Returns 0 or -1. */
int ag_graph_print(FILE *out, ag_tensor *root);

/* Writes the graph as Graphviz DOT, laid out left to right and compact enough that a 2-2-1
 * network of scalars reads well 800 pixels wide: one box per tensor with its name in bold (an
 * unnamed tensor shows the op that made it, or "parameter" / "constant" for a leaf), the op under
 * a name, the shape of a non-scalar, and, for tensors of at most 4 elements, the values and the
 * gradient (after a nabla) rounded to 3 significant digits; parameters are shaded; an edge runs
 * from each input to the tensor computed from it. Render with `dot -Tsvg file.dot -o file.svg`
 * (or -Tpng). Returns 0 or -1. */
int ag_graph_dot(FILE *out, ag_tensor *root);

/* Writes ag_graph_dot output to the file `path`. Returns 0 or -1. */
int ag_graph_dot_file(const char *path, ag_tensor *root);

/* ---- looking inside the graph (for teaching tools and custom visualisations) ---- */

/* Name of the op that produced t ("add", "tanh", a user function's name, ...), or "leaf". */
const char *ag_op_name(const ag_tensor *t);

/* Number of inputs of the op that produced t (0 for a leaf or when t is NULL), and the i-th. */
int ag_num_inputs(const ag_tensor *t);
ag_tensor *ag_input(const ag_tensor *t, int i);

/* Lists the tensors of root's graph, each once, in the order backward visits them: root first,
 * every tensor after all the tensors that consume it (reverse topological order). *count
 * receives its length. Returns 0 or -1 (then *order is NULL).
 *
 * The caller owns the array *order and frees it with ag_graph_order_free() (plain free() works
 * too); the tensors in it are NOT the caller's: they stay owned by their scope or creator, and
 * the array is valid only while they live. */
int ag_graph_order(ag_tensor *root, ag_tensor ***order, int64_t *count);

/* Frees an array returned by ag_graph_order (not the tensors in it). NULL is ignored. */
void ag_graph_order_free(ag_tensor **order);

/* Anomaly mode (per thread, off by default): every op checks its output for NaN/Inf and every
 * backward rule its gradients; the first op that produces one fails with an error naming it,
 * e.g. "ag_log: produced NaN or Inf in forward (input [3])". Costs one pass over each result.
 * Returns the previous setting. */
bool ag_set_anomaly_mode(bool enabled);
bool ag_is_anomaly_mode(void);

#ifdef __cplusplus
}
#endif
#endif
