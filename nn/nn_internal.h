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

/* ag_module_add_param for a tensor just created by the caller (may be NULL: then -1). The tensor
 * leaves the current scope (when it is the scope's newest), so it lives exactly as long as the
 * module; on failure it is freed (or left to its scope), so nothing leaks. */
int ag__module_add_new_param(ag_module *m, const char *name, ag_tensor *t);

/* "float32 [4,7]" style description of a tensor into buf. */
const char *ag__nn_describe_tensor(const ag_tensor *t, char *buf, size_t size);

/* ---- architecture records (config.c, registry.c; the builders live beside their layers) ---- */

typedef enum ag__config_type {
    AG__CONFIG_INT, AG__CONFIG_NUMBER, AG__CONFIG_BOOL, AG__CONFIG_STRING
} ag__config_type;

typedef struct ag__config_entry {
    char *key;
    ag__config_type type;
    int64_t i;     /* AG__CONFIG_INT */
    double d;      /* AG__CONFIG_NUMBER (and an INT's value as a double) */
    bool b;        /* AG__CONFIG_BOOL */
    char *s;       /* AG__CONFIG_STRING */
} ag__config_entry;

/* An empty config for a module of kind `kind` (copied), NULL with an error on failure. */
ag_config *ag__config_new(const char *kind);
void ag__config_free(ag_config *c);
/* The entries, in the order they were set. */
int ag__config_count(const ag_config *c);
const ag__config_entry *ag__config_at(const ag_config *c, int i);
/* Index of the string setting `key` among names[0..n), or -1 with an error listing them. */
int ag__config_pick(const ag_config *c, const char *key, const char *const *names, int n);

/* For the build function of a module without children: true when there are none; otherwise
 * frees them and records an error naming the kind. */
bool ag__config_no_children(const ag_config *c, int nchildren, ag_module *const *children);

/* The library's own builders, listed in registry.c. A new layer declares its builder here and
 * adds it to that list. */
extern const ag_module_builder ag__sequential_builder, ag__dense_builder, ag__relu_builder,
    ag__tanh_builder, ag__sigmoid_builder, ag__leaky_relu_builder, ag__softmax_builder,
    ag__dropout_builder;

/* ---- losses (loss.c, loss_ce.c): option and argument checks and the reduction step. A loss
 * returns its result from its private scope with ag__scope_return (autograd/internal.h). ---- */

/* Which options a loss accepts besides the reduction. */
enum { AG__LOSS_SMOOTHING = 1, AG__LOSS_CLASS_WEIGHTS = 2, AG__LOSS_POS_WEIGHT = 4 };

/* Copies *opts (or the defaults for NULL) into *out and checks it: a known reduction, and no
 * option that `fn` does not take (`allowed` is a set of AG__LOSS_* flags). Records an error
 * naming fn and returns false otherwise. */
bool ag__loss_opts(const char *fn, const ag_loss_opts *opts, unsigned allowed, ag_loss_opts *out);

/* Both tensors are non-NULL (named `a_name` and `b_name` in the message) and share a dtype. A NULL
 * keeps an earlier error, like the ops (it is the root cause of a failed nested expression). */
bool ag__loss_pair(const char *fn, ag_tensor *a, const char *a_name, ag_tensor *b,
                   const char *b_name);

/* The logits x when t = softmax(x) over t's last axis was recorded in the graph (grad mode on and
 * x requiring grad), else NULL: how ag_categorical_cross_entropy finds a model's logits, and how
 * the trainer spots a softmax fed to a loss that applies its own. */
ag_tensor *ag__softmax_input(const ag_tensor *t);

/* Applies the reduction to per-element losses: mean or sum over all elements (a 0-d tensor),
 * or `per` itself for AG_REDUCE_NONE. */
ag_tensor *ag__loss_reduce(ag_tensor *per, ag_reduction r);

#endif
