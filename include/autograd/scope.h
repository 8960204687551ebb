/* autograd/scope.h - memory scopes: free a step's intermediates with one call.
 *
 *     ag_scope *s = ag_scope_begin();
 *     ag_tensor *loss = ag_mean_all(ag_tanh(ag_matmul(x, w))); // no intermediate to free by hand
 *     ag_backward(loss);
 *     ag_scope_end(s);                                         // frees loss and every intermediate
 *
 * Every tensor created while a scope is active (by an op, a creation function or a backward pass)
 * belongs to the innermost active scope. Scopes nest and are per thread. Tensors created outside
 * any scope belong to the caller. To keep a result beyond its scope, claim it with ag_keep().
 *
 * Freed memory goes back to per-thread caches, so a training loop that repeats the same shapes
 * stops calling malloc after its first step. ag_memory_trim() returns the caches to the system.
 */
#ifndef AUTOGRAD_SCOPE_H
#define AUTOGRAD_SCOPE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ag_scope ag_scope;

/* Starts a scope on this thread and returns it (NULL with an error only if memory runs out). */
ag_scope *ag_scope_begin(void);

/* Ends `s`, freeing every tensor it owns. Scopes end innermost first: ending a scope that still
 * has inner scopes open ends those too (and records an error saying so). Returns 0 or -1. */
int ag_scope_end(ag_scope *s);

/* Number of tensors `s` currently owns (-1 and an error if s is NULL). */
int64_t ag_scope_size(const ag_scope *s);

/* Counters of this thread's allocator, for leak checks and memory tuning. */
typedef struct ag_memory_stats {
    int64_t live_tensors;   /* tensors allocated and not yet freed (all threads' tensors freed
                               on this thread count here) */
    size_t cached_bytes;    /* data buffers kept for reuse on this thread */
    int64_t mallocs;        /* calls to the system allocator made by this thread so far */
} ag_memory_stats;

ag_memory_stats ag_memory_get_stats(void);

/* Returns this thread's cached buffers to the system. */
void ag_memory_trim(void);

#ifdef __cplusplus
}
#endif
#endif
