/* autograd/gradcheck.h - compares backward's gradients with finite differences.
 *
 * The function under test takes the input tensors and returns one output tensor of any shape.
 * The checker compares, for every input that requires grad, the analytic Jacobian (from
 * backward) with the numeric one from central differences
 *     dF/dx_j ~ (F(x + eps e_j) - F(x - eps e_j)) / (2 eps)
 * element by element: it passes when |analytic - numeric| <= atol + rtol * |numeric| everywhere.
 * It returns a status and fills a report with the worst element instead of printing.
 * Use float64 inputs: in float32, round-off swamps the differences (defaults are PyTorch's).
 */
#ifndef AUTOGRAD_GRADCHECK_H
#define AUTOGRAD_GRADCHECK_H

#include <stdbool.h>
#include <stdint.h>
#include "tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The function to check: returns a new tensor computed from inputs[0..n-1] with engine ops. */
typedef ag_tensor *(*ag_gradcheck_fn)(ag_tensor *const *inputs, int n, void *ctx);

typedef struct ag_gradcheck_opts {
    double eps;       /* finite-difference step (default 1e-6) */
    double atol;      /* absolute tolerance (default 1e-5) */
    double rtol;      /* relative tolerance (default 1e-3) */
    bool fast;        /* compare v^T J u for random v, u instead of whole Jacobians */
    uint64_t seed;    /* random directions of the fast mode and of gradgradcheck (default 0) */
} ag_gradcheck_opts;

/* The defaults above. */
ag_gradcheck_opts ag_gradcheck_defaults(void);

typedef struct ag_gradcheck_report {
    bool passed;
    int input;            /* input of the worst element (-1 if nothing was compared) */
    int64_t input_index;  /* flat index in that input (-1 in fast mode: a projection) */
    int64_t output_index; /* flat index in the output (-1 in fast mode) */
    double analytic;      /* backward's value at the worst element */
    double numeric;       /* finite differences' value there */
    double abs_err;       /* |analytic - numeric| */
    double rel_err;       /* abs_err / max(|numeric|, tiny) */
    int64_t compared;     /* number of Jacobian entries (or projections) compared */
    char message[320];    /* one line: passed, or what failed and where */
} ag_gradcheck_report;

/* Checks fn's gradients at `inputs` (n of them; the ones with requires_grad are checked; they
 * must be leaves). opts may be NULL (defaults); report may be NULL. Returns 0 when the check
 * passed, 1 when it ran and gradients disagree, -1 on an error (bad arguments, fn failed). The
 * inputs' values are restored afterwards. */
int ag_gradcheck(ag_gradcheck_fn fn, void *ctx, int n, ag_tensor *const *inputs,
                 const ag_gradcheck_opts *opts, ag_gradcheck_report *report);

/* Second-order check: runs ag_gradcheck on G(x, v) = (dF/dx)^T v computed with create_graph,
 * for a fixed random v, so backward-of-backward is compared with finite differences of
 * backward. Same returns as ag_gradcheck. */
int ag_gradgradcheck(ag_gradcheck_fn fn, void *ctx, int n, ag_tensor *const *inputs,
                     const ag_gradcheck_opts *opts, ag_gradcheck_report *report);

#ifdef __cplusplus
}
#endif
#endif
