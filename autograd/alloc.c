/* autograd/alloc.c - memory: per-thread caches of tensors, nodes and data buffers, and
 * reference counting.
 *
 * Why caches: a training step allocates the same shapes every time. Freed buffers go to a
 * free list per power-of-two size class on the freeing thread, so after the first step no op
 * calls malloc. Why reference counts: a graph must keep the tensors its backward needs alive even
 * after the user freed them, and a gradient built with create_graph must keep its own graph.
 * Release is iterative, so dropping a 100,000-node chain does not recurse 100,000 deep.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "internal.h"

/* Under AddressSanitizer the caches are bypassed: every free goes to the system at once, so
 * ASan sees use-after-free and LeakSanitizer is not fooled by stale pointers in cached blocks. */
#if defined(__SANITIZE_ADDRESS__)
#define AG_USE_CACHE 0
#else
#define AG_USE_CACHE 1
#endif

#define N_CLASSES 48
#define MIN_CLASS_BYTES 64
#define CACHE_LIMIT ((size_t)512 << 20) /* bytes of free buffers kept per thread */

typedef struct free_block { struct free_block *next; } free_block;

typedef struct pool {
    free_block *blocks[N_CLASSES];
    size_t cached_bytes;
    ag_tensor *free_tensors;       /* linked through ->base */
    ag_node *free_nodes;           /* linked through ->inputs */
    int64_t mallocs;
    ag_tensor **stack;             /* release worklist */
    int64_t stack_cap;
    bool registered;
} pool;

static _Thread_local pool tp;
static atomic_llong live_tensors;
static pthread_key_t exit_key;
static pthread_once_t exit_once = PTHREAD_ONCE_INIT;

static void on_thread_exit(void *unused)
{
    (void)unused;
    ag_memory_trim();
}

static void make_key(void) { pthread_key_create(&exit_key, on_thread_exit); }

static void register_thread(void)
{
    /* Returns a worker thread's caches to the system when the thread ends. */
    pthread_once(&exit_once, make_key);
    pthread_setspecific(exit_key, &tp);
    tp.registered = true;
}

static int size_class(size_t bytes)
{
    int c = 0;
    size_t cap = MIN_CLASS_BYTES;
    while (cap < bytes && c < N_CLASSES - 1) {
        cap <<= 1;
        c++;
    }
    return cap < bytes ? -1 : c;
}

void *ag__alloc_bytes(size_t bytes, int *cls)
{
    int c = size_class(bytes ? bytes : 1);
    if (c < 0) return NULL;
    *cls = c;
    if (tp.blocks[c]) {
        free_block *b = tp.blocks[c];
        tp.blocks[c] = b->next;
        tp.cached_bytes -= (size_t)MIN_CLASS_BYTES << c;
        return b;
    }
    if (!tp.registered) register_thread();
    tp.mallocs++;
    /* 64-byte alignment: cache lines and AVX loads. */
    return aligned_alloc(64, (size_t)MIN_CLASS_BYTES << c);
}

void ag__free_bytes(void *p, int cls)
{
    if (!p) return;
    size_t bytes = (size_t)MIN_CLASS_BYTES << cls;
    if (!AG_USE_CACHE || tp.cached_bytes + bytes > CACHE_LIMIT) {
        free(p);
        return;
    }
    free_block *b = p;
    b->next = tp.blocks[cls];
    tp.blocks[cls] = b;
    tp.cached_bytes += bytes;
}

static ag_tensor *alloc_tensor_struct(void)
{
    ag_tensor *t = tp.free_tensors;
    if (t) {
        tp.free_tensors = t->base;
    } else {
        if (!tp.registered) register_thread();
        tp.mallocs++;
        t = malloc(sizeof *t);
        if (!t) return NULL;
    }
    memset(t, 0, sizeof *t);
    atomic_fetch_add_explicit(&live_tensors, 1, memory_order_relaxed);
    return t;
}

static void free_tensor_struct(ag_tensor *t)
{
    if (!AG_USE_CACHE) {
        free(t);
        atomic_fetch_sub_explicit(&live_tensors, 1, memory_order_relaxed);
        return;
    }
    t->base = tp.free_tensors;
    tp.free_tensors = t;
    atomic_fetch_sub_explicit(&live_tensors, 1, memory_order_relaxed);
}

ag_node *ag__alloc_node(int ninputs);
ag_node *ag__alloc_node(int ninputs)
{
    ag_node *n = tp.free_nodes;
    if (n) {
        tp.free_nodes = (ag_node *)n->inputs;
    } else {
        tp.mallocs++;
        n = malloc(sizeof *n);
        if (!n) return NULL;
    }
    memset(n, 0, sizeof *n);
    n->ninputs = ninputs;
    if (ninputs <= AG_INLINE_INPUTS) {
        n->inputs = n->inline_inputs;
    } else {
        int cls;
        n->inputs = ag__alloc_bytes(sizeof(ag_tensor *) * (size_t)ninputs, &cls);
        if (!n->inputs) {
            n->inputs = (ag_tensor **)tp.free_nodes;
            tp.free_nodes = n;
            return NULL;
        }
    }
    return n;
}

static int ptr_class(int64_t count, size_t elem)
{
    int cls = size_class((size_t)count * elem);
    return cls;
}

/* Frees what a node owns besides its input references (saved state of the backward). */
void ag__node_release_saved(ag_node *n);
void ag__node_release_saved(ag_node *n)
{
    if (n->index) {
        ag__free_bytes(n->index, ptr_class(n->p.nindex, sizeof(int64_t)));
        n->index = NULL;
        n->p.index = NULL;
    }
}

ag_tensor *ag__new(ag_dtype dtype, int ndim, const int64_t *shape)
{
    if (ndim < 0 || ndim > AG_MAX_DIMS) {
        ag__error("ag_tensor: %d dimensions requested; the maximum is %d", ndim, AG_MAX_DIMS);
        return NULL;
    }
    int64_t numel = 1, nonzero = 1; /* nonzero: product of the non-zero sizes, also bounded */
    for (int d = 0; d < ndim; d++) {
        if (shape[d] < 0) {
            char s[AG_SHAPE_BUF];
            ag__error("ag_tensor: negative size in shape %s", ag__shape_str(ndim, shape, s, sizeof s));
            return NULL;
        }
        if (shape[d] && nonzero > INT64_MAX / 16 / shape[d]) {
            char s[AG_SHAPE_BUF];
            ag__error("ag_tensor: shape %s is too large", ag__shape_str(ndim, shape, s, sizeof s));
            return NULL;
        }
        numel *= shape[d];
        if (shape[d]) nonzero *= shape[d];
    }
    ag_tensor *t = alloc_tensor_struct();
    if (!t) goto oom;
    t->dtype = dtype;
    t->ndim = ndim;
    for (int d = 0; d < ndim; d++) t->shape[d] = shape[d];
    t->numel = numel;
    t->data = ag__alloc_bytes((size_t)numel * ag_dtype_size(dtype), &t->size_class);
    if (!t->data) {
        free_tensor_struct(t);
        goto oom;
    }
    t->refs = 1;
    ag__adopt(t);
    return t;
oom:;
    char s[AG_SHAPE_BUF];
    ag__error("ag_tensor: out of memory for a %s tensor of shape %s", ag_dtype_name(dtype),
              ag__shape_str(ndim, shape, s, sizeof s));
    return NULL;
}

ag_tensor *ag__new_like(const ag_tensor *t) { return ag__new(t->dtype, t->ndim, t->shape); }

ag_tensor *ag__new_view(ag_tensor *base, int ndim, const int64_t *shape)
{
    ag_tensor *t = alloc_tensor_struct();
    if (!t) {
        ag__error("ag_tensor: out of memory");
        return NULL;
    }
    t->dtype = base->dtype;
    t->ndim = ndim;
    for (int d = 0; d < ndim; d++) t->shape[d] = shape[d];
    t->numel = base->numel;
    t->data = base->data;
    t->size_class = -1;
    /* Keep the buffer's owner alive; a view of a view points at the first owner. */
    ag_tensor *owner = base->base ? base->base : base;
    ag__retain(owner);
    t->base = owner;
    t->refs = 1;
    ag__adopt(t);
    return t;
}

void ag__retain(ag_tensor *t)
{
    if (t) t->refs++;
}

static void push_release(ag_tensor *t, int64_t *top)
{
    if (!t) return;
    assert(t->refs > 0);
    if (--t->refs > 0) return;
    if (*top == tp.stack_cap) {
        int64_t cap = tp.stack_cap ? tp.stack_cap * 2 : 256;
        ag_tensor **s = realloc(tp.stack, sizeof *s * (size_t)cap);
        if (!s) abort(); /* internal invariant: cannot free memory without memory */
        tp.stack = s;
        tp.stack_cap = cap;
    }
    tp.stack[(*top)++] = t;
}

void ag__release(ag_tensor *t)
{
    if (!t) return;
    /* The worklist may already be in use by an outer release on this thread: start above it. */
    static _Thread_local int64_t top = 0;
    int64_t bottom = top;
    push_release(t, &top);
    while (top > bottom) {
        ag_tensor *x = tp.stack[--top];
        ag_node *n = x->node;
        if (n) {
            for (int i = 0; i < n->ninputs; i++) push_release(n->inputs[i], &top);
            ag__node_release_saved(n);
            if (n->inputs != n->inline_inputs)
                ag__free_bytes(n->inputs, ptr_class(n->ninputs, sizeof(ag_tensor *)));
            if (AG_USE_CACHE) {
                n->inputs = (ag_tensor **)tp.free_nodes;
                tp.free_nodes = n;
            } else {
                free(n);
            }
        }
        push_release(x->grad, &top);
        push_release(x->acc, &top);
        if (x->size_class >= 0) ag__free_bytes(x->data, x->size_class);
        push_release(x->base, &top);
        free_tensor_struct(x);
    }
}

ag_memory_stats ag_memory_get_stats(void)
{
    ag_memory_stats s;
    s.live_tensors = atomic_load_explicit(&live_tensors, memory_order_relaxed);
    s.cached_bytes = tp.cached_bytes;
    s.mallocs = tp.mallocs;
    return s;
}

void ag_memory_trim(void)
{
    ag__scope_trim();
    ag__backward_trim();
    for (int c = 0; c < N_CLASSES; c++) {
        while (tp.blocks[c]) {
            free_block *b = tp.blocks[c];
            tp.blocks[c] = b->next;
            free(b);
        }
    }
    tp.cached_bytes = 0;
    while (tp.free_tensors) {
        ag_tensor *t = tp.free_tensors;
        tp.free_tensors = t->base;
        free(t);
    }
    while (tp.free_nodes) {
        ag_node *n = tp.free_nodes;
        tp.free_nodes = (ag_node *)n->inputs;
        free(n);
    }
    free(tp.stack);
    tp.stack = NULL;
    tp.stack_cap = 0;
}
