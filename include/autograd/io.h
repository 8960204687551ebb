/* autograd/io.h - saving and loading tensors, models and checkpoints in the safetensors format.
 *
 * File layout (https://github.com/huggingface/safetensors): an 8-byte little-endian header length
 * N, N bytes of JSON mapping each tensor name to {"dtype", "shape", "data_offsets"} (plus an
 * optional "__metadata__" object of strings), padded with spaces so the data starts 8-byte
 * aligned, then the raw little-endian row-major data. Files written here load with the Python
 * safetensors readers (PyTorch or NumPy) and back.
 *
 * Writes are atomic: the file is written to a temporary file of its own, "<path>.tmp.<pid>.<k>"
 * (created exclusively, so threads saving to the same path never share one), flushed with fsync,
 * then renamed over `path`, so a crash mid-save leaves any previous file intact.
 *
 * Reads check everything: header length against the file size, JSON syntax, every field's type,
 * dtype names, shapes, that data_offsets agree with dtype x shape, lie inside the buffer, do not
 * overlap and leave no holes, and that names are unique. Any problem gives NULL / -1 and an error
 * naming the file and the field; nothing crashes on a corrupt file.
 */
#ifndef AUTOGRAD_IO_H
#define AUTOGRAD_IO_H

#include <stdint.h>
#include "tensor.h"
#include "nn.h"
#include "optim.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- raw safetensors files ---- */

/* Writes n named tensors (F32 or F64) and nmeta metadata pairs (meta[2k] = key, meta[2k+1] =
 * value; may be NULL when nmeta is 0). Names must be unique, non-empty UTF-8 and not
 * "__metadata__"; metadata keys must be unique. Tensors are stored sorted by name, so the same
 * input always gives the same bytes. */
int ag_safetensors_save(const char *path, int n, const char *const *names,
                        ag_tensor *const *tensors, int nmeta, const char *const *meta);

/* A loaded file: its tensors and its metadata. */
typedef struct ag_st_file ag_st_file;

/* Reads and validates a whole file. Tensors of dtype F32 and F64 are supported; any other dtype is
 * reported as an error naming the tensor and its dtype. */
ag_st_file *ag_safetensors_load(const char *path);
int ag_st_count(const ag_st_file *f);
const char *ag_st_name(const ag_st_file *f, int i);
/* The i-th tensor, or the one named `name` (NULL with an error if absent). The tensors belong to
 * the file object: copy with ag_copy to keep them past ag_st_free. */
ag_tensor *ag_st_tensor(const ag_st_file *f, int i);
ag_tensor *ag_st_get(const ag_st_file *f, const char *name);
/* Metadata value for `key`, or NULL (no error) when absent. */
const char *ag_st_meta(const ag_st_file *f, const char *key);
void ag_st_free(ag_st_file *f);

/* ---- models ---- */

/* Saves a module's parameters under their dotted names ("0.weight", "0.bias", ...), with the
 * metadata {"format": "pt"} that PyTorch-side safetensors loaders look for, and the model's
 * architecture as Keras's model.save records it: the metadata "architecture" holds JSON listing
 * every module of the tree, depth first, with its kind, its settings and its number of children,
 *        {"version": 1, "modules": [
 *          {"name": "", "kind": "Sequential", "config": {}, "children": 2},
 *          {"name": "0", "kind": "Dense", "config": {"in_features": 100, "out_features": 32,
 *           "activation": "relu", "bias": true, "init": "glorot_uniform", "dtype": "float32"},
 *           "children": 0}, ...]}
 * written by the builder registered for each kind (nn.h). If a module has no builder, the weights
 * are saved all the same, and the metadata "architecture_missing" names the module instead. */
int ag_module_save(const ag_module *m, const char *path);

/* Rebuilds a model from a file written by ag_module_save, from the file alone (Keras's
 * load_model): each module is made by the builder registered for its kind, then every parameter
 * is loaded as ag_module_load does. The new module is the caller's (ag_module_free), in training
 * mode. NULL and an error naming the file and the module when the file has no architecture, the
 * record is malformed (bad JSON, missing or mistyped fields, child counts that do not add up), a
 * kind has no builder in this program (register it first), a setting is invalid, or the weights
 * do not match what the architecture builds. */
ag_module *ag_module_load_new(const char *path);

/* Loads parameter values into an existing module of the same architecture. Every parameter must
 * be present with the same shape and dtype, and the file must hold no extra tensors; otherwise
 * -1, an error naming the tensor and both shapes, and the module is left unchanged. */
int ag_module_load(ag_module *m, const char *path);

/* ---- checkpoints: model + optimizer state + step, for an exact resume ---- */

/* Writes the module's parameters ("model.<name>"), the optimizer's state tensors
 * ("optim.<state name>"), and metadata: optimizer name, step count and learning rate (printed
 * with 17 significant digits, so they read back exactly), plus nmeta caller pairs (for example
 * the epoch). `opt` may be NULL. */
int ag_checkpoint_save(const char *path, const ag_module *m, const ag_optimizer *opt, int nmeta,
                       const char *const *meta);

/* Restores what ag_checkpoint_save wrote into a module and optimizer built the same way: the
 * parameter values, the optimizer's state tensors, its learning rate and step count. Every name,
 * shape and dtype, the optimizer's kind and the metadata are validated before anything is
 * changed; a missing or extra tensor is an error. With `opt` NULL only the model is restored
 * (the file's "optim." tensors are ignored), e.g. to evaluate a checkpoint. The caller's
 * metadata can be read with `file_out` (optional: on success receives the loaded file, to free
 * with ag_st_free; NULL on failure). */
int ag_checkpoint_load(const char *path, ag_module *m, ag_optimizer *opt, ag_st_file **file_out);

#ifdef __cplusplus
}
#endif
#endif
