/* autograd.h - the umbrella header of autograd-c, an automatic differentiation engine in C11.
 *
 *     #include <autograd.h>
 *
 * Modules (each header documents its functions where they are declared):
 *   autograd/tensor.h     tensors: creation, inspection, ownership
 *   autograd/scope.h      memory scopes and allocator statistics
 *   autograd/error.h      the error convention: NULL / -1 and ag_last_error()
 *   autograd/grad.h       the graph, requires_grad, no-grad mode, backward, ag_grad_of
 *   autograd/ops.h        differentiable operations
 *   autograd/gradcheck.h  gradient checking by finite differences
 *   autograd/debug.h      printing tensors (ag_print), the graph as text or Graphviz, anomaly mode
 *   autograd/random.h     seeded random numbers and random tensors
 *   autograd/nn.h         modules: Dense, activations, dropout, Sequential, initializers
 *   autograd/loss.h       MSE, L1, cross-entropy, binary cross-entropy (built from ops)
 *   autograd/optim.h      GD, SGD, Adam, AdamW, RMSprop, schedules, gradient clipping
 *   autograd/data.h       datasets, batching, MNIST/Fashion-MNIST, CSV and IDX loaders, synthetic data
 *   autograd/io.h         safetensors files, model save/load, checkpoints
 *   autograd/fit.h        Keras-style compile / fit / evaluate / predict, callbacks
 *   autograd/plot.h       line and scatter plots written as SVG
 *   autograd/tune.h       hyperparameter search: spaces, grid/random/halving/ASHA, k-fold CV,
 *                         parallel trials
 */
#ifndef AUTOGRAD_H
#define AUTOGRAD_H

#define AG_VERSION_MAJOR 0
#define AG_VERSION_MINOR 1
#define AG_VERSION_PATCH 0
#define AG_VERSION "0.1.0"

#include "autograd/tensor.h"
#include "autograd/error.h"
#include "autograd/scope.h"
#include "autograd/grad.h"
#include "autograd/ops.h"
#include "autograd/gradcheck.h"
#include "autograd/debug.h"
#include "autograd/random.h"
#include "autograd/nn.h"
#include "autograd/loss.h"
#include "autograd/optim.h"
#include "autograd/data.h"
#include "autograd/io.h"
#include "autograd/fit.h"
#include "autograd/plot.h"
#include "autograd/tune.h"

#endif
