/* autograd/nn.h - modules: layers, activations, Sequential models, initializers, summary.
 *
 * A module is a function with parameters: forward(x) -> y built from the engine's ops, so its
 * gradient comes from the ops' backward rules (no gradient is written by hand in nn/). Modules
 * form a tree: a Sequential holds its layers as children named "0", "1", ...; parameters are
 * listed depth-first with dotted names ("0.weight", "0.bias", "2.weight", ...), the same names
 * PyTorch's state_dict uses, so saved files interoperate.
 *
 * Ownership: a module is owned by the caller and freed with ag_module_free(), which frees its
 * parameters and children. Parameters are leaf tensors that require grad; they belong to the
 * module (do not ag_tensor_free them). Tensors returned by forward follow the usual rules
 * (owned by the current scope, or by the caller outside a scope).
 *
 * Threads: nothing in nn/ keeps global state (but the table of builders for saving
 * architectures, which a lock guards), so threads may each build and train modules of their own
 * at the same time (with the same seeds they get the same results as one thread).
 * A module itself is used by one thread at a time (dropout advances the layer's generator).
 *
 * Writing a new layer: fill an ag_module_class with a forward function, create the module with
 * ag_module_new(), register its parameters with ag_module_add_param() and any sub-modules with
 * ag_module_add_child(). To let ag_module_save record it and ag_module_load_new rebuild it from a
 * file, register a builder for it (see "saving a model's architecture" at the end of this header).
 */
#ifndef AUTOGRAD_NN_H
#define AUTOGRAD_NN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "tensor.h"
#include "random.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ag_module ag_module;

/* What makes a kind of module. `forward` must build its output with ops from `x` and the
 * module's parameters (see ag_module_param_by_name / ag_module_child) and return NULL with an
 * error recorded on failure. `free_state` frees the `state` pointer given to ag_module_new (may be
 * NULL when there is nothing to free). `describe` (optional) writes a short description of the
 * layer's settings for summaries, for example "units=32, relu". */
typedef struct ag_module_class {
    const char *name;                                      /* "Dense", "ReLU", ... */
    ag_tensor *(*forward)(ag_module *self, ag_tensor *x);
    void (*free_state)(void *state);
    void (*describe)(const ag_module *self, char *buf, size_t size);
} ag_module_class;

/* ---- the module interface ---- */

/* A new module of class `cls` carrying `state` (owned by the module from now on, freed with
 * cls->free_state, also when this call fails). Starts in training mode with no parameters or
 * children. */
ag_module *ag_module_new(const ag_module_class *cls, void *state);

/* Registers `param` under `name` (no dots). The module takes ownership of the tensor (claimed with
 * ag_keep if it belongs to a scope) and sets requires_grad. A tensor belongs to one module only:
 * a parameter of another module is not the caller's to give (to share a weight, use it in a
 * forward function rather than registering it twice). Returns 0, or -1 on a NULL argument,
 * a duplicate name, a name containing '.', a tensor already registered in `m` or a non-leaf;
 * on failure the tensor stays with the caller. */
int ag_module_add_param(ag_module *m, const char *name, ag_tensor *param);

/* Registers `child` under `name`; the parent takes ownership of the child. -1 on error (NULL,
 * duplicate name, a child that already has a parent, or adding a module to itself or to one of
 * its descendants); on failure the child stays with the caller. */
int ag_module_add_child(ag_module *m, const char *name, ag_module *child);

/* Runs the module: y = m(x). NULL and an error (naming the module and the shapes) on failure.
 * The class's forward runs inside a scope of its own, so its intermediates never reach the
 * caller's scope; only y does (an identity layer may return x itself, with a new reference that
 * follows the same rules). */
ag_tensor *ag_module_forward(ag_module *m, ag_tensor *x);

/* Frees the module, its state, parameters and children. NULL is ignored. Freeing a module that is
 * a child of another is refused with an error (free the root instead). */
void ag_module_free(ag_module *m);

/* Training mode (the default) or evaluation mode, for the module and all its descendants.
 * Dropout is active only in training mode. */
void ag_module_train(ag_module *m, bool training);
bool ag_module_is_training(const ag_module *m);

/* Class name ("Dense", "Sequential", ...), the state pointer, and the class itself. */
const char *ag_module_kind(const ag_module *m);
void *ag_module_state(const ag_module *m);
const ag_module_class *ag_module_class_of(const ag_module *m);

/* Direct children, in registration order. */
int ag_module_num_children(const ag_module *m);
ag_module *ag_module_child(const ag_module *m, int i);
const char *ag_module_child_name(const ag_module *m, int i);

/* All parameters of the module and its descendants, depth-first in registration order.
 * ag_module_params returns an array of ag_module_num_params(m) tensors that stays valid until the
 * module tree changes or is freed; pass it straight to an optimizer. Names are dotted paths. */
int ag_module_num_params(const ag_module *m);
ag_tensor *const *ag_module_params(const ag_module *m);
ag_tensor *ag_module_param(const ag_module *m, int i);
const char *ag_module_param_name(const ag_module *m, int i);
ag_tensor *ag_module_param_by_name(const ag_module *m, const char *dotted_name);

/* Total number of scalar parameters (Keras' "Total params"); -1 on a NULL module. */
int64_t ag_module_count_weights(const ag_module *m);

/* Zeroes the gradients of every parameter that has one, with ag_zero_grad. */
int ag_module_zero_grad(ag_module *m);

/* Keras-style table: one row per child (layer name and kind, output shape with the batch
 * dimension shown as "None", parameter count, the class's description) and the totals; a module
 * without children gets one row of its own. The output shapes are found by a no-grad forward
 * pass, in evaluation mode, of one example of zeros of shape `input_shape` (without the batch
 * dimension) in the dtype of the first parameter (float32 if none); every module's training
 * flag is restored afterwards and dropout draws no mask. Returns 0 or -1. */
int ag_module_summary(FILE *out, ag_module *m, int ndim, const int64_t *input_shape);

/* ---- initializers ---- */

typedef enum ag_init {
    AG_INIT_GLOROT_UNIFORM = 0, /* U(-a, a), a = sqrt(6 / (fan_in + fan_out)); Keras' default */
    AG_INIT_GLOROT_NORMAL,      /* N(0, 2 / (fan_in + fan_out)) */
    AG_INIT_HE_UNIFORM,         /* U(-a, a), a = sqrt(6 / fan_in); for relu layers */
    AG_INIT_HE_NORMAL,          /* N(0, 2 / fan_in) */
    AG_INIT_TORCH_DEFAULT,      /* PyTorch nn.Linear: weight and bias U(-k, k), k = 1/sqrt(fan_in) */
    AG_INIT_ZEROS
} ag_init;

/* Fills `t` (any shape, a leaf) in place from `rng` (NULL: a generator seeded with 0) according
 * to `init` with the given fans. Values are drawn in row-major order. Returns 0 or -1. */
int ag_init_fill(ag_tensor *t, ag_init init, int64_t fan_in, int64_t fan_out, ag_rng *rng);

/* ---- layers ---- */

typedef enum ag_activation {
    AG_ACT_NONE = 0, AG_ACT_RELU, AG_ACT_TANH, AG_ACT_SIGMOID, AG_ACT_LEAKY_RELU, AG_ACT_SOFTMAX
} ag_activation;

/* Options of a Dense layer. Zero-initialised fields take the defaults noted. */
typedef struct ag_dense_opts {
    ag_activation activation; /* applied after x W^T + b; default none */
    ag_init init;             /* weight initializer; default Glorot uniform (Keras) */
    bool no_bias;             /* default: with bias */
    double leaky_slope;       /* slope for AG_ACT_LEAKY_RELU; 0 means 0.01 */
    ag_dtype dtype;           /* default AG_F32 */
} ag_dense_opts;

/* A fully connected layer: y = act(x W^T + b) with weight W of shape [out, in] (PyTorch's
 * layout, so "weight" loads into nn.Linear) and bias b of shape [out], zero-initialised except
 * with AG_INIT_TORCH_DEFAULT. x has shape [batch, in] (or [in]). Parameters "weight", "bias".
 * `opts` may be NULL for the defaults. `rng` draws the initial weights (NULL: a generator seeded
 * with 0). */
ag_module *ag_dense(int64_t in_features, int64_t out_features, const ag_dense_opts *opts,
                    ag_rng *rng);

/* Parameter-free activation layers. */
ag_module *ag_relu_layer(void);
ag_module *ag_tanh_layer(void);
ag_module *ag_sigmoid_layer(void);
ag_module *ag_leaky_relu_layer(double slope);  /* slope 0 means 0.01 */
ag_module *ag_softmax_layer(int axis); /* usually axis -1 */

/* Inverted dropout: in training mode each element is zeroed with probability p and the rest are
 * scaled by 1/(1-p); in evaluation mode it is the identity. 0 <= p < 1. The mask is drawn from
 * the layer's own generator, seeded with `seed`. */
ag_module *ag_dropout(double p, uint64_t seed);

/* A container running its children in order. ag_sequential takes ownership of `n` layers (all
 * freed on error); ag_sequential_add appends one more (on failure it stays with the caller).
 * Children are named "0", "1", ... */
ag_module *ag_sequential(int n, ag_module *const *layers);
int ag_sequential_add(ag_module *seq, ag_module *layer);

/* ---- saving a model's architecture (Keras's model.save / load_model) ----
 *
 * ag_module_save (io.h) records, next to the weights, what each module of the tree is: its kind
 * ("Dense", "Sequential", ...), its settings (units, activation, ...) and its children; and
 * ag_module_load_new rebuilds the model from the file alone. A kind knows how to write its
 * settings and how to build a module from them:
 *
 *     static int block_save(const ag_module *m, ag_config *c) {
 *         const block_state *st = ag_module_state(m);
 *         return ag_config_set_int(c, "width", st->width);
 *     }
 *     static ag_module *block_build(const ag_config *c, int nchildren, ag_module *const *children) {
 *         int64_t width;
 *         if (ag_config_get_int(c, "width", &width) != 0) return NULL;  // error already recorded
 *         return block_new(width, nchildren, children);                 // takes the children
 *     }
 *     static const ag_module_builder BLOCK = {"Block", block_save, block_build};
 *     ...
 *     ag_module_register_builder(&BLOCK);                               // once, before save/load
 *
 * The builder's name is the kind: the name of the module's class (ag_module_class.name). Every
 * layer of the library has its builder registered already; a new layer in nn/ adds its builder
 * to the list in nn/registry.c (one line), and a program registers the builders of its own
 * modules with one ag_module_register_builder call each.
 * Parameters are not settings: they are saved as tensors under their dotted names and loaded
 * into the rebuilt model, so `build` only needs to create them with the right shapes. */

typedef struct ag_config ag_config;   /* a module's settings: named numbers, flags and strings */

/* Setters (for save functions): add a setting under `key` (non-empty, unique within the module;
 * numbers must be finite). Return 0, or -1 with an error. */
int ag_config_set_int(ag_config *c, const char *key, int64_t value);
int ag_config_set_number(ag_config *c, const char *key, double value);
int ag_config_set_bool(ag_config *c, const char *key, bool value);
int ag_config_set_string(ag_config *c, const char *key, const char *value);

/* Getters (for build functions): 0 and *out, or -1 with an error naming the kind, the key and
 * what the file holds instead (a missing key, a string where a number belongs, 2.5 for an int).
 * An int setting reads as a number too. ag_config_get_string returns NULL on error; the string
 * belongs to the config. ag_config_has says whether a key is present (for optional settings). */
int ag_config_get_int(const ag_config *c, const char *key, int64_t *out);
int ag_config_get_number(const ag_config *c, const char *key, double *out);
int ag_config_get_bool(const ag_config *c, const char *key, bool *out);
const char *ag_config_get_string(const ag_config *c, const char *key);
bool ag_config_has(const ag_config *c, const char *key);
/* The kind the settings belong to ("Dense"), for messages. */
const char *ag_config_kind(const ag_config *c);

/* How to save and rebuild one kind of module (the builder of kind `name`). `save` writes the module's settings (not its
 * parameters, not its children) and returns 0 or -1. `build` makes a new module from the
 * settings and its children, already rebuilt in their saved order: it takes ownership of them
 * (adding them to the new module, or freeing them, also when it fails) and returns the module,
 * or NULL with an error. The parameter values are loaded afterwards, by name. */
typedef struct ag_module_kind {
    const char *name;
    int (*save)(const ag_module *m, ag_config *config);
    ag_module *(*build)(const ag_config *config, int nchildren, ag_module *const *children);
} ag_module_builder;

/* Registers `b` for the whole process (thread-safe; usually once at start-up). The struct must
 * stay valid (a static const). Registering the same struct again does nothing; another builder
 * for a kind that has one already is an error. Returns 0 or -1. */
int ag_module_register_builder(const ag_module_builder *b);

/* The builder registered for kind `name`, or NULL (no error recorded). */
const ag_module_builder *ag_module_find_builder(const char *name);

#ifdef __cplusplus
}
#endif
#endif
