/* autograd/internal.h - what the engine's own files share: the tensor and node structs, the
 * op descriptor, per-thread state, and the helpers every op uses (argument checks, output
 * allocation, graph recording, dtype dispatch, OpenMP loops, broadcasting plans).
 * Not installed: users see only include/autograd.h.
 */
#ifndef AG_INTERNAL_H
#define AG_INTERNAL_H

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "autograd.h"

typedef struct ag_node ag_node;

/* ---- the op descriptor: one per op, beside its forward function ----
 * backward(n, y, g, gin): given the node, the op's output y and the gradient g = dL/dy, set
 * gin[i] = dL/d(input i) for each input (leave NULL for inputs that need none). Rules are
 * written with the public ops, so with create_graph on they record a graph of their own. A rule
 * may return a gradient with the broadcast shape: the engine sums it down to the input's shape.
 * Returns 0, or -1 with an error recorded. Ops without a gradient have backward == NULL. */
typedef int (*ag_backward_fn)(ag_node *n, ag_tensor *y, ag_tensor *g, ag_tensor **gin);

typedef struct ag_op {
    const char *name;
    ag_backward_fn backward;
} ag_op;

/* Op parameters kept on the node for the backward rule. */
typedef struct ag_params {
    double scalar[2];              /* pow exponent, leaky slope, clamp bounds, scalar operand */
    int axis;                      /* reductions, softmax family, slice, concat, indexing */
    bool keepdim;
    int64_t start, stop, step;     /* slice (normalised) */
    int ndim;                      /* a shape or permutation */
    int64_t dims[AG_MAX_DIMS];
    const int64_t *index;          /* indexing ops: copied into the node */
    int64_t nindex;
    const ag_function *fn;         /* user-defined functions (function.c) and their context */
    void *ctx;
} ag_params;

#define AG_INLINE_INPUTS 3

struct ag_node {
    const ag_op *op;
    int ninputs;
    ag_tensor **inputs;            /* strong references */
    ag_tensor *inline_inputs[AG_INLINE_INPUTS];
    ag_params p;
    int64_t *index;                /* owned copy of p.index */
    bool freed;                    /* released by a backward without retain_graph */
};

struct ag_tensor {
    void *data;
    int64_t numel;
    int64_t shape[AG_MAX_DIMS];
    int ndim;
    ag_dtype dtype;
    int32_t refs;                  /* references: owner (scope or caller) + graph users */
    int32_t caller_refs;           /* how many of them the caller holds (ag_keep) */
    bool in_scope;                 /* one reference belongs to a scope */
    bool requires_grad;
    bool retains_grad;
    int size_class;                /* allocator class of data; -1 when data is borrowed */
    ag_tensor *base;               /* owner of `data` for views (strong reference) */
    ag_node *node;                 /* the op that produced this tensor (owned); NULL for leaves */
    ag_tensor *grad;               /* accumulated gradient (strong reference) */
    bool grad_zero;                /* grad's values are zero by ag_zero_grad, not yet written:
                                      the next backward writes instead of adding, and readers
                                      go through ag__grad_ready */
    /* scratch of a backward pass */
    uint64_t mark;
    ag_tensor *acc;
    char name[32];
};

/* t's gradient with ag_zero_grad's pending zeroing done (NULL if t has none). Every reader of
 * t->grad's values goes through this. */
static inline ag_tensor *ag__grad_ready(ag_tensor *t)
{
    if (t->grad && t->grad_zero) {
        memset(t->grad->data, 0, (size_t)t->grad->numel * ag_dtype_size(t->grad->dtype));
        t->grad_zero = false;
    }
    return t->grad;
}

/* ---- per-thread state ---- */
typedef struct ag_thread {
    bool grad_disabled;            /* no-grad mode */
    bool anomaly;
    int engine_owned;              /* >0: new tensors belong to the engine (inside backward) */
    ag_scope *scope;               /* innermost active scope */
    uint64_t epoch;                /* graph-walk marks */
    bool has_error;
    char error[512];
} ag_thread;

ag_thread *ag__thread(void);

/* ---- errors ---- */
void ag__error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Checks that the n tensors are non-NULL and share one dtype. On NULL keeps an earlier error
 * (or records "fn: argument k is NULL"); on mixed dtypes records both. Returns false on failure. */
bool ag__check(const char *fn, int n, ag_tensor *const *ts);
/* Normalises a possibly negative axis into [0, ndim); records an error naming fn otherwise. */
bool ag__axis(const char *fn, const ag_tensor *x, int axis, int *out);
/* Writes "[2,3]" for a raw shape. */
char *ag__shape_str(int ndim, const int64_t *shape, char *buf, size_t size);
#define AG_SHAPE_BUF 128

/* Ends scope `s` opened by the caller and hands `y` (made inside it, may be NULL) to whoever
 * owns new tensors now: the enclosing scope, or the caller outside any scope. Returns y. */
ag_tensor *ag__scope_return(ag_scope *s, ag_tensor *y);

/* Writes s with <, >, & and " escaped, for XML text: Graphviz HTML labels (debug.c) and SVG
 * (plot/). NULL writes nothing. */
void ag__xml_text(FILE *out, const char *s);

/* Replaces the recorded error "fn: rest" by "fn: <prefix>rest", so an error raised inside a
 * layer says where it happened (e.g. "layer 1 (Dense) of Sequential: "). A message from another
 * function is kept whole after the prefix ("fn: <prefix>ag_tensor: shape ... is too large"), so
 * every public function's error starts with its own name. */
void ag__error_prefix(const char *fn, const char *prefix);

/* Puts a printf-formatted prefix in front of the whole recorded error, e.g.
 * ag__error_prepend("ag_fit: epoch %d, step %lld: ", ...) before the message of the op that
 * failed inside that step. */
void ag__error_prepend(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- allocation and references ---- */
/* A new tensor with uninitialised data, owned per the thread's ownership rule. */
ag_tensor *ag__new(ag_dtype dtype, int ndim, const int64_t *shape);
ag_tensor *ag__new_like(const ag_tensor *t);
/* A new tensor sharing `base`'s data (a view) with the given shape (same numel). */
ag_tensor *ag__new_view(ag_tensor *base, int ndim, const int64_t *shape);
void ag__retain(ag_tensor *t);
void ag__release(ag_tensor *t);    /* iterative: deep graphs free without recursion */
void *ag__alloc_bytes(size_t bytes, int *size_class);
void ag__free_bytes(void *p, int size_class);
/* Ownership of a tensor the engine created in engine-owned mode is handed to the user:
 * the current scope, or the caller when no scope is active. */
void ag__adopt(ag_tensor *t);
void ag__scope_add(ag_tensor *t);
/* Frees a new tensor an op made but cannot return (it failed after allocating): undoes its
 * ownership by the scope or the caller. */
void ag__discard(ag_tensor *t);
/* Hands a tensor the library just made from the current scope to the caller (for results that
 * outlive the scope, such as a dataset's tensors): works when t is the scope's newest entry and
 * returns true; otherwise returns false and changes nothing. */
bool ag__unscope(ag_tensor *t);
/* Free this thread's cached work arrays (called by ag_memory_trim, so also at thread exit):
 * the spare scopes (scope.c) and backward's traversal arrays (backward.c). */
void ag__scope_trim(void);
void ag__backward_trim(void);

/* ---- recording ----
 * Finishes an op: in anomaly mode checks y for NaN/Inf; then, if grad mode is on and an input
 * requires grad, records a node with op, inputs and params (p may be NULL). Returns y, or NULL
 * (y released) on failure. */
ag_tensor *ag__finish(ag_tensor *y, const ag_op *op, int n, ag_tensor *const *inputs,
                      const ag_params *p);
bool ag__nonfinite(const ag_tensor *t);
/* Fused softmax cross-entropy with class-index targets t (validated by the caller): the
 * per-example losses [N] of logits [N, C] (ops/xent.c; used by ag_cross_entropy). */
ag_tensor *ag__xent_index(ag_tensor *x, const int64_t *t);
/* The name to show for a node's op: the op's, or a user-defined function's. */
const char *ag__op_name(const ag_node *n);

/* ---- shapes ---- */
int64_t ag__numel(int ndim, const int64_t *shape);
/* Broadcasts two shapes (NumPy rules) into out; false (error naming fn) if incompatible. */
bool ag__broadcast_shapes(const char *fn, int na, const int64_t *sa, int nb, const int64_t *sb,
                          int *nout, int64_t *out);
/* Splits x around `axis` as [outer, n, inner]. */
void ag__axis_split(const ag_tensor *x, int axis, int64_t *outer, int64_t *n, int64_t *inner);

/* Broadcasting plan for up to 3 operands read at an output's positions: dimensions are merged
 * where every operand is contiguous across them, so the common cases (same shape, row + vector,
 * column + scalar) become one or two flat loops. Strides are in elements (0 = broadcast). */
typedef struct ag_bplan {
    int nd;
    int nops;
    int64_t numel;
    int64_t shape[AG_MAX_DIMS];
    int64_t stride[3][AG_MAX_DIMS];
} ag_bplan;
void ag__bplan(ag_bplan *p, int nout, const int64_t *out, int nops, ag_tensor *const *ops);
/* Offsets of operand k's first element for output row `row` (all dims but the last). */
static inline void ag__bplan_row(const ag_bplan *p, int64_t row, int64_t *off)
{
    for (int k = 0; k < p->nops; k++) off[k] = 0;
    for (int d = p->nd - 2; d >= 0; d--) {
        int64_t i = row % p->shape[d];
        row /= p->shape[d];
        for (int k = 0; k < p->nops; k++) off[k] += i * p->stride[k][d];
    }
}

/* ---- shared op helpers ---- */
typedef void (*ag_binary_kernel)(const ag_bplan *, ag_tensor *, ag_tensor *, ag_tensor *);
/* A broadcasting binary op: checks a and b, allocates the broadcast output, runs k, records op. */
ag_tensor *ag__binary(const char *fn, const ag_op *op, ag_binary_kernel k, ag_tensor *a,
                      ag_tensor *b);
/* t, a reduction of x over `axis` with or without the kept axis, reshaped to keepdim shape
 * (a new reference), so it broadcasts against x. */
ag_tensor *ag__as_keepdim(ag_tensor *t, const ag_tensor *x, int axis, bool keepdim);

/* ---- dtype dispatch: one kernel body serves float and double ----
 * AG_DISPATCH(dtype, T, body): runs `body` with T typedef'd to float or double. Use <tgmath.h>
 * math (exp, log, ...) so the right precision is picked for T. */
#define AG_DISPATCH(dtype, T, ...)                       \
    do {                                                 \
        if ((dtype) == AG_F32) { typedef float T; __VA_ARGS__ } \
        else { typedef double T; __VA_ARGS__ }           \
    } while (0)

/* ---- OpenMP: parallel loops only above a size where threads pay for themselves ----
 * AG_PFOR(i, n, body) runs body for i = 0..n-1, in parallel (static schedule) when n is large
 * and as a plain loop otherwise: the branch is in C, because even `omp parallel if(0)` costs
 * hundreds of nanoseconds per op, which would dominate small tensors. AG_PFOR_SIMD also asks
 * for vectorisation (use it for flat elementwise bodies). `work` may differ from the trip
 * count (e.g. rows x row length) through AG_PFOR_WORK. */
#define AG_PAR_MIN 32768
#ifdef _OPENMP
#define AG_PRAGMA(x) _Pragma(#x)
#define AG_PFOR_WORK(i, n, work, ...)                                                  \
    do {                                                                               \
        const int64_t pfor_n_ = (n);                                                   \
        if ((work) >= AG_PAR_MIN) {                                                    \
            AG_PRAGMA(omp parallel for schedule(static))                               \
            for (int64_t i = 0; i < pfor_n_; i++) { __VA_ARGS__ }                      \
        } else {                                                                       \
            for (int64_t i = 0; i < pfor_n_; i++) { __VA_ARGS__ }                      \
        }                                                                              \
    } while (0)
#define AG_PFOR_SIMD(i, n, ...)                                                        \
    do {                                                                               \
        const int64_t pfor_n_ = (n);                                                   \
        if (pfor_n_ >= AG_PAR_MIN) {                                                   \
            AG_PRAGMA(omp parallel for simd schedule(static))                          \
            for (int64_t i = 0; i < pfor_n_; i++) { __VA_ARGS__ }                      \
        } else {                                                                       \
            AG_PRAGMA(omp simd)                                                        \
            for (int64_t i = 0; i < pfor_n_; i++) { __VA_ARGS__ }                      \
        }                                                                              \
    } while (0)
#else
#define AG_PFOR_WORK(i, n, work, ...) \
    do { const int64_t pfor_n_ = (n); for (int64_t i = 0; i < pfor_n_; i++) { __VA_ARGS__ } } while (0)
#define AG_PFOR_SIMD(i, n, ...) AG_PFOR_WORK(i, n, 0, __VA_ARGS__)
#endif
#define AG_PFOR(i, n, ...) AG_PFOR_WORK(i, n, n, __VA_ARGS__)
/* Asks for vectorisation of the `for` that follows (no reduction in it: results unchanged). */
#ifdef _OPENMP
#define AG_SIMD _Pragma("omp simd")
#else
#define AG_SIMD
#endif

/* Broadcast elementwise loop: for every output element i, with ia/ib/ic the operands' element
 * offsets, runs BODY. Output is contiguous. The inner loop is contiguous in the output. */
#define AG_BPLAN_LOOP(plan, i, ia, ib, ic, BODY)                                       \
    do {                                                                               \
        const ag_bplan *p_ = (plan);                                                   \
        int64_t inner_ = p_->shape[p_->nd - 1];                                        \
        int64_t rows_ = p_->numel / (inner_ ? inner_ : 1);                             \
        int64_t s0_ = p_->stride[0][p_->nd - 1], s1_ = p_->stride[1][p_->nd - 1];      \
        int64_t s2_ = p_->stride[2][p_->nd - 1];                                       \
        if (p_->numel == 0) break;                                                     \
        if (p_->nd == 1) {                                                             \
            AG_PFOR_SIMD(i, p_->numel,                                                 \
                int64_t ia = i * s0_, ib = i * s1_, ic = i * s2_;                      \
                (void)ia; (void)ib; (void)ic;                                          \
                BODY);                                                                 \
            break;                                                                     \
        }                                                                              \
        AG_PFOR_WORK(r_, rows_, p_->numel,                                             \
            int64_t off_[3] = {0, 0, 0};                                               \
            ag__bplan_row(p_, r_, off_);                                               \
            for (int64_t j_ = 0; j_ < inner_; j_++) {                                  \
                int64_t i = r_ * inner_ + j_;                                          \
                int64_t ia = off_[0] + j_ * s0_, ib = off_[1] + j_ * s1_;              \
                int64_t ic = off_[2] + j_ * s2_;                                       \
                (void)ia; (void)ib; (void)ic;                                          \
                BODY                                                                   \
            });                                                                        \
    } while (0)

#endif
