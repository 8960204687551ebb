/* autograd/debug.h - seeing the graph, and finding where NaN or Inf first appears. */
#ifndef AUTOGRAD_DEBUG_H
#define AUTOGRAD_DEBUG_H

#include <stdbool.h>
#include <stdio.h>
#include "tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Prints the graph that produced `root` as an indented tree, one line per tensor: op (or
 * "leaf"), name, dtype, shape, the first values and, when stored, the gradient. A tensor used
 * twice is printed once and referred to afterwards. Returns 0 or -1. */
int ag_graph_print(FILE *out, ag_tensor *root);

/* Writes the graph as Graphviz DOT: a record node per tensor (name, shape, value, gradient) and
 * an oval per op, edges from inputs to ops to outputs, as micrograd's draw_dot. Render with
 * `dot -Tsvg file.dot -o file.svg`. Returns 0 or -1. */
int ag_graph_dot(FILE *out, ag_tensor *root);

/* Writes ag_graph_dot output to the file `path`. Returns 0 or -1. */
int ag_graph_dot_file(const char *path, ag_tensor *root);

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
