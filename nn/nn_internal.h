/* nn/nn_internal.h - what the files of nn/ share: the module struct (module.c owns its
 * bookkeeping; summary.c reads the recorded output shapes) and small ownership helpers.
 * Not installed.
 */
#ifndef AG_NN_INTERNAL_H
#define AG_NN_INTERNAL_H

#include "../autograd/internal.h"

struct ag_module {
    const ag_module_class *cls;
    void *state;
    bool training;
    ag_module *parent;

    int nparams, cap_params;
    ag_tensor **params;          /* one caller reference each, owned by the module */
    char **param_names;

    int nchildren, cap_children;
    ag_module **children;        /* owned */
    char **child_names;

    /* Flat depth-first list of the subtree's parameters and their dotted names, rebuilt lazily
     * when the tree below changes (cache_valid is cleared on this module and its ancestors). */
    bool cache_valid;
    int cache_n;
    ag_tensor **cache_params;
    char **cache_names;

    /* Output shape of the last forward while shape recording is on (for ag_module_summary). */
    bool out_seen;
    int out_ndim;
    int64_t out_shape[AG_MAX_DIMS];
};

/* While on (this thread), ag_module_forward records each module's output shape in out_*. */
void ag__module_record_shapes(bool on);

/* Ends scope `s` opened by the caller and hands `y` (made inside it, may be NULL) to whoever
 * owns new tensors now: the enclosing scope, or the caller outside any scope. Returns y. */
ag_tensor *ag__scope_return(ag_scope *s, ag_tensor *y);

/* Replaces the recorded error "fn: rest" by "fn: <prefix>rest", so an error raised inside a
 * layer says where it happened (e.g. "layer 1 (Dense) of Sequential: "). A message from another
 * function is kept whole after the prefix ("fn: <prefix>ag_tensor: shape ... is too large"), so
 * every public function's error starts with its own name. */
void ag__error_prefix(const char *fn, const char *prefix);

/* Puts a printf-formatted prefix in front of the whole recorded error, e.g.
 * ag__error_prepend("ag_fit: epoch %d, step %lld: ", ...) before the message of the op that
 * failed inside that step. */
void ag__error_prepend(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ag_module_add_param for a tensor just created by the caller (may be NULL: then -1). The tensor
 * leaves the current scope (when it is the scope's newest), so it lives exactly as long as the
 * module; on failure it is freed (or left to its scope), so nothing leaks. */
int ag__module_add_new_param(ag_module *m, const char *name, ag_tensor *t);

/* "float32 [4,7]" style description of a tensor into buf. */
const char *ag__nn_describe_tensor(const ag_tensor *t, char *buf, size_t size);

#endif
