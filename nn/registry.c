/* nn/registry.c - the builders that save and rebuild each kind of module (see nn.h), keyed by
 * kind name: the library's own, listed below, and those programs register for their modules.
 *
 * The only process-wide state of nn/: a table guarded by a mutex, filled with the built-in
 * builders the first time it is used. Registering is rare (once per kind at start-up) and lookups
 * happen once per module saved or loaded, so a lock and a linear search cost nothing that shows.
 */
#include <pthread.h>
#include <stdlib.h>

#include "nn_internal.h"

/* Every layer of the library. A new layer adds its builder here (and declares it in
 * nn_internal.h). */
static const ag_module_builder *const BUILTIN[] = {
    &ag__sequential_builder, &ag__dense_builder,   &ag__relu_builder,
    &ag__tanh_builder,       &ag__sigmoid_builder, &ag__leaky_relu_builder,
    &ag__softmax_builder,    &ag__dropout_builder,
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static const ag_module_builder **table;
static int count, cap;
static bool builtins_added;

/* Under the lock: the entry for `name`, or NULL. */
static const ag_module_builder *lookup(const char *name)
{
    for (int i = 0; i < count; i++)
        if (strcmp(table[i]->name, name) == 0) return table[i];
    return NULL;
}

/* Under the lock: appends b (the name is known to be free). */
static bool append(const ag_module_builder *b)
{
    if (count == cap) {
        int ncap = cap ? 2 * cap : 32;
        const ag_module_builder **t = realloc(table, sizeof *t * (size_t)ncap);
        if (!t) return false;
        table = t;
        cap = ncap;
    }
    table[count++] = b;
    return true;
}

/* Under the lock: the built-in builders go in first, so no program can take their names. */
static bool ensure_builtins(void)
{
    if (builtins_added) return true;
    for (size_t i = 0; i < sizeof BUILTIN / sizeof BUILTIN[0]; i++)
        if (!lookup(BUILTIN[i]->name) && !append(BUILTIN[i])) return false;
    builtins_added = true;
    return true;
}

int ag_module_register_builder(const ag_module_builder *b)
{
    static const char fn[] = "ag_module_register_builder";
    if (!b || !b->name || !b->name[0] || !b->save || !b->build) {
        ag__error("%s: %s", fn, !b ? "builder is NULL"
                                : !b->name || !b->name[0] ? "the builder has no name"
                                                          : "the builder needs both save and "
                                                            "build functions");
        return -1;
    }
    pthread_mutex_lock(&lock);
    int rc = -1;
    const ag_module_builder *old = NULL;
    if (!ensure_builtins())
        ag__error("%s: out of memory", fn);
    else if ((old = lookup(b->name)) != NULL && old != b)
        ag__error("%s: kind '%s' already has a builder (each kind has one)", fn, b->name);
    else if (!old && !append(b))
        ag__error("%s: out of memory", fn);
    else
        rc = 0;
    pthread_mutex_unlock(&lock);
    return rc;
}

const ag_module_builder *ag_module_find_builder(const char *name)
{
    if (!name) return NULL;
    pthread_mutex_lock(&lock);
    const ag_module_builder *b = ensure_builtins() ? lookup(name) : NULL;
    pthread_mutex_unlock(&lock);
    return b;
}
