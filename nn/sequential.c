/* nn/sequential.c - Sequential: runs its children "0", "1", ... in order.
 *
 * A failure inside a layer is reported with the layer's index and kind in front of the layer's
 * own message, so a shape mistake deep in a model points at the layer that made it.
 */
#include <stdio.h>
#include <stdlib.h>

#include "nn_internal.h"

static ag_tensor *sequential_forward(ag_module *self, ag_tensor *x)
{
    ag_tensor *h = x;
    for (int i = 0; i < self->nchildren; i++) {
        ag_module *c = self->children[i];
        h = ag_module_forward(c, h);
        if (!h) {
            char where[96];
            snprintf(where, sizeof where, "layer %d (%s) of Sequential: ", i, c->cls->name);
            ag__error_prefix("ag_module_forward", where);
            return NULL;
        }
    }
    return h;
}

static void sequential_describe(const ag_module *self, char *buf, size_t size)
{
    snprintf(buf, size, "%d layers", ag_module_num_children(self));
}

static const ag_module_class SEQUENTIAL = {"Sequential", sequential_forward, NULL,
                                           sequential_describe};

int ag_sequential_add(ag_module *seq, ag_module *layer)
{
    if (!seq) {
        ag__error("ag_sequential_add: module is NULL");
        return -1;
    }
    if (seq->cls != &SEQUENTIAL) {
        ag__error("ag_sequential_add: the module is a %s, not a Sequential", seq->cls->name);
        return -1;
    }
    if (!layer) {
        if (!ag_has_error()) ag__error("ag_sequential_add: layer is NULL");
        return -1;
    }
    if (layer->parent) {
        ag__error("ag_sequential_add: the %s already belongs to a %s", layer->cls->name,
                  layer->parent->cls->name);
        return -1;
    }
    char name[16];
    snprintf(name, sizeof name, "%d", seq->nchildren);
    if (ag_module_add_child(seq, name, layer) != 0) {
        ag__error_prefix("ag_sequential_add", ""); /* keeps add_child's reason after ours */
        return -1;
    }
    return 0;
}

/* Frees the distinct, parentless layers of the list (the ones the caller handed over). Which
 * ones is decided before freeing any: freeing a layer also frees its children, which may be in
 * the list too. */
static void free_given(int n, ag_module *const *layers)
{
    bool *root = calloc((size_t)n + 1, sizeof *root);
    for (int i = 0; i < n; i++) {
        bool seen = false;
        for (int j = 0; j < i && !seen; j++) seen = layers[j] == layers[i];
        bool r = !seen && layers[i] && !layers[i]->parent;
        if (root) root[i] = r;
        else if (r) ag_module_free(layers[i]); /* out of memory: best effort, in order */
    }
    for (int i = 0; root && i < n; i++)
        if (root[i]) ag_module_free(layers[i]);
    free(root);
}

ag_module *ag_sequential(int n, ag_module *const *layers)
{
    static const char fn[] = "ag_sequential";
    if (n < 0 || (n > 0 && !layers)) {
        ag__error("%s: %s", fn, n < 0 ? "negative layer count" : "layers is NULL");
        return NULL;
    }
    /* Check everything first, so that a failure leaves no half-built model behind. */
    for (int i = 0; i < n; i++) {
        const char *bad = NULL;
        if (!layers[i]) bad = "is NULL";
        else if (layers[i]->parent) bad = "already belongs to another module";
        for (int j = 0; j < i && !bad; j++)
            if (layers[j] == layers[i]) bad = "is given twice";
        if (bad) {
            if (!layers[i] && ag_has_error()) {
                /* Most likely the constructor of that layer failed: keep its reason. */
                char where[64];
                snprintf(where, sizeof where, "layer %d is NULL: ", i);
                ag__error_prefix(fn, where);
            } else {
                ag__error("%s: layer %d %s", fn, i, bad);
            }
            free_given(n, layers);
            return NULL;
        }
    }
    ag_module *seq = ag_module_new(&SEQUENTIAL, NULL);
    if (!seq) {
        free_given(n, layers);
        return NULL;
    }
    for (int i = 0; i < n; i++)
        if (ag_sequential_add(seq, layers[i]) != 0) {
            /* Out of memory: the added layers go with seq, the rest are freed here. */
            ag_module_free(seq);
            free_given(n - i, layers + i);
            return NULL;
        }
    return seq;
}

/* ---- architecture record (nn.h): no settings; the layers are its children ---- */

static int sequential_save(const ag_module *m, ag_config *c)
{
    (void)m, (void)c;
    return 0;
}

static ag_module *sequential_build(const ag_config *c, int nchildren, ag_module *const *children)
{
    (void)c;
    return ag_sequential(nchildren, children); /* frees them on failure */
}

const ag_module_builder ag__sequential_builder = {"Sequential", sequential_save, sequential_build};
