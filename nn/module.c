/* nn/module.c - the module tree: creation, parameters and children, forward, train/eval mode,
 * the flat parameter list with dotted names, and freeing.
 *
 * A module owns one caller reference to each of its parameters and owns its children. The flat
 * list handed to optimizers is a cache rebuilt on demand after the tree changes, so reading it in
 * a training loop costs nothing.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "nn_internal.h"

static _Thread_local bool record_shapes;

void ag__module_record_shapes(bool on) { record_shapes = on; }

const char *ag__nn_describe_tensor(const ag_tensor *t, char *buf, size_t size)
{
    char s[AG_SHAPE_BUF];
    snprintf(buf, size, "%s %s", ag_dtype_name(t->dtype), ag_shape_str(t, s, sizeof s));
    return buf;
}

static bool check_module(const char *fn, const ag_module *m)
{
    if (m) return true;
    ag__error("%s: module is NULL", fn);
    return false;
}

/* Names are path components: non-empty, without '.', and unique among params and children. */
static bool check_name(const char *fn, const ag_module *m, const char *name)
{
    if (!name || !name[0]) {
        ag__error("%s: name is %s", fn, name ? "empty" : "NULL");
        return false;
    }
    if (strchr(name, '.')) {
        ag__error("%s: name '%s' contains '.' (dots separate the parts of a dotted path)", fn,
                  name);
        return false;
    }
    for (int i = 0; i < m->nparams; i++)
        if (strcmp(m->param_names[i], name) == 0) {
            ag__error("%s: %s already has a parameter named '%s'", fn, m->cls->name, name);
            return false;
        }
    for (int i = 0; i < m->nchildren; i++)
        if (strcmp(m->child_names[i], name) == 0) {
            ag__error("%s: %s already has a child named '%s'", fn, m->cls->name, name);
            return false;
        }
    return true;
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

/* Grows a pair of parallel arrays (items and names) to hold one more entry. */
static bool grow(void **items, char ***names, int *cap, int count, size_t item_size)
{
    if (count < *cap) return true;
    int ncap = *cap ? *cap * 2 : 4;
    void *ni = realloc(*items, item_size * (size_t)ncap);
    if (!ni) return false;
    *items = ni;
    char **nn = realloc(*names, sizeof *nn * (size_t)ncap);
    if (!nn) return false;
    *names = nn;
    *cap = ncap;
    return true;
}

static void invalidate(ag_module *m)
{
    for (; m; m = m->parent) m->cache_valid = false;
}

/* ---- creation and registration ---- */

ag_module *ag_module_new(const ag_module_class *cls, void *state)
{
    if (!cls || !cls->forward || !cls->name) {
        if (cls && cls->free_state && state) cls->free_state(state);
        ag__error("ag_module_new: the class %s", !cls ? "is NULL"
                  : !cls->name ? "has no name" : "has no forward function");
        return NULL;
    }
    ag_module *m = calloc(1, sizeof *m);
    if (!m) {
        if (cls->free_state && state) cls->free_state(state);
        ag__error("ag_module_new: out of memory for a %s", cls->name);
        return NULL;
    }
    m->cls = cls;
    m->state = state;
    m->training = true;
    return m;
}

int ag_module_add_param(ag_module *m, const char *name, ag_tensor *param)
{
    static const char fn[] = "ag_module_add_param";
    if (!check_module(fn, m)) return -1;
    if (!param) {
        if (!ag_has_error()) ag__error("%s: parameter '%s' is NULL", fn, name ? name : "(null)");
        return -1;
    }
    if (!check_name(fn, m, name)) return -1;
    if (param->node) {
        char s[AG_SHAPE_BUF];
        ag__error("%s: '%s' %s was produced by op '%s'; parameters must be leaves (use "
                  "ag_detach or a new tensor)", fn, name, ag_shape_str(param, s, sizeof s),
                  ag__op_name(param->node));
        return -1;
    }
    for (int i = 0; i < m->nparams; i++)
        if (m->params[i] == param) {
            ag__error("%s: this tensor is already registered as '%s'", fn, m->param_names[i]);
            return -1;
        }
    char *nm = dup_str(name);
    if (!nm || !grow((void **)&m->params, &m->param_names, &m->cap_params, m->nparams,
                     sizeof *m->params)) {
        free(nm);
        ag__error("%s: out of memory", fn);
        return -1;
    }
    /* A tensor owned by a scope is claimed; otherwise the caller's reference passes to us. */
    if (param->caller_refs <= 0) ag_keep(param);
    param->requires_grad = true;
    m->params[m->nparams] = param;
    m->param_names[m->nparams++] = nm;
    invalidate(m);
    return 0;
}

int ag__module_add_new_param(ag_module *m, const char *name, ag_tensor *t)
{
    if (!t) return -1;
    /* A tensor just made here leaves the caller's scope (its reference becomes the module's), so
     * freeing the module frees it at once rather than at the end of that scope. */
    ag__unscope(t);
    if (ag_module_add_param(m, name, t) == 0) return 0;
    if (t->caller_refs > 0) ag_tensor_free(t); /* else its scope frees it */
    return -1;
}

int ag_module_add_child(ag_module *m, const char *name, ag_module *child)
{
    static const char fn[] = "ag_module_add_child";
    if (!check_module(fn, m)) return -1;
    if (!child) {
        if (!ag_has_error()) ag__error("%s: child '%s' is NULL", fn, name ? name : "(null)");
        return -1;
    }
    if (!check_name(fn, m, name)) return -1;
    if (child->parent) {
        ag__error("%s: the %s is already a child of a %s", fn, child->cls->name,
                  child->parent->cls->name);
        return -1;
    }
    for (ag_module *a = m; a; a = a->parent)
        if (a == child) {
            ag__error("%s: adding a %s to %s would make a cycle", fn, child->cls->name,
                      a == m ? "itself" : "its own descendant");
            return -1;
        }
    char *nm = dup_str(name);
    if (!nm || !grow((void **)&m->children, &m->child_names, &m->cap_children, m->nchildren,
                     sizeof *m->children)) {
        free(nm);
        ag__error("%s: out of memory", fn);
        return -1;
    }
    m->children[m->nchildren] = child;
    m->child_names[m->nchildren++] = nm;
    child->parent = m;
    invalidate(m);
    return 0;
}

/* ---- forward and mode ---- */

ag_tensor *ag_module_forward(ag_module *m, ag_tensor *x)
{
    if (!check_module("ag_module_forward", m)) return NULL;
    if (!x) {
        if (!ag_has_error()) ag__error("ag_module_forward: input of the %s is NULL", m->cls->name);
        return NULL;
    }
    /* The layer's intermediates live in a scope of their own; only the output leaves it. */
    ag_scope *s = ag_scope_begin();
    if (!s) return NULL;
    ag_tensor *y = m->cls->forward(m, x);
    if (!y && !ag_has_error()) ag__error("ag_module_forward: the %s failed", m->cls->name);
    y = ag__scope_return(s, y);
    if (y && record_shapes) {
        m->out_seen = true;
        m->out_ndim = y->ndim;
        memcpy(m->out_shape, y->shape, sizeof m->out_shape);
    }
    return y;
}

void ag_module_train(ag_module *m, bool training)
{
    if (!check_module("ag_module_train", m)) return;
    m->training = training;
    for (int i = 0; i < m->nchildren; i++) ag_module_train(m->children[i], training);
}

bool ag_module_is_training(const ag_module *m) { return m && m->training; }

/* ---- accessors ---- */

const char *ag_module_kind(const ag_module *m)
{
    return check_module("ag_module_kind", m) ? m->cls->name : NULL;
}

void *ag_module_state(const ag_module *m)
{
    return check_module("ag_module_state", m) ? m->state : NULL;
}

const ag_module_class *ag_module_class_of(const ag_module *m)
{
    return check_module("ag_module_class_of", m) ? m->cls : NULL;
}

int ag_module_num_children(const ag_module *m)
{
    return check_module("ag_module_num_children", m) ? m->nchildren : -1;
}

static bool child_index(const char *fn, const ag_module *m, int i)
{
    if (!check_module(fn, m)) return false;
    if (i >= 0 && i < m->nchildren) return true;
    ag__error("%s: index %d out of range (the %s has %d children)", fn, i, m->cls->name,
              m->nchildren);
    return false;
}

ag_module *ag_module_child(const ag_module *m, int i)
{
    return child_index("ag_module_child", m, i) ? m->children[i] : NULL;
}

const char *ag_module_child_name(const ag_module *m, int i)
{
    return child_index("ag_module_child_name", m, i) ? m->child_names[i] : NULL;
}

/* ---- freeing ---- */

static void free_tree(ag_module *m)
{
    for (int i = 0; i < m->nchildren; i++) {
        free_tree(m->children[i]);
        free(m->child_names[i]);
    }
    for (int i = 0; i < m->nparams; i++) {
        ag_tensor_free(m->params[i]);
        free(m->param_names[i]);
    }
    for (int i = 0; i < m->cache_n; i++) free(m->cache_names[i]);
    free(m->cache_names);
    free(m->cache_params);
    free(m->children);
    free(m->child_names);
    free(m->params);
    free(m->param_names);
    if (m->cls->free_state && m->state) m->cls->free_state(m->state);
    free(m);
}

void ag_module_free(ag_module *m)
{
    if (!m) return;
    if (m->parent) {
        const ag_module *p = m->parent;
        const char *name = "?";
        for (int i = 0; i < p->nchildren; i++)
            if (p->children[i] == m) name = p->child_names[i];
        ag__error("ag_module_free: the %s is child '%s' of a %s; free the root module instead",
                  m->cls->name, name, p->cls->name);
        return;
    }
    free_tree(m);
}
