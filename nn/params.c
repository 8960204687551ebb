/* nn/params.c - a module tree's parameters as one flat list: depth-first in registration order
 * (a module's own parameters, then each child's), with dotted names as in PyTorch's state_dict
 * ("0.weight", "0.bias", ...). Also lookup by dotted name, counting and zeroing gradients.
 *
 * The list is cached on the module and rebuilt only after the tree below it changed (module.c
 * clears cache_valid on the changed module and its ancestors).
 */
#include <stdio.h>
#include <stdlib.h>

#include "nn_internal.h"

static int count_params(const ag_module *m)
{
    int n = m->nparams;
    for (int i = 0; i < m->nchildren; i++) n += count_params(m->children[i]);
    return n;
}

/* Appends m's parameters under `prefix` ("" at the root); false on out of memory. */
static bool collect(const ag_module *m, const char *prefix, ag_tensor **ps, char **names, int *k)
{
    for (int i = 0; i < m->nparams; i++) {
        int len = snprintf(NULL, 0, "%s%s", prefix, m->param_names[i]);
        char *s = malloc((size_t)len + 1);
        if (!s) return false;
        snprintf(s, (size_t)len + 1, "%s%s", prefix, m->param_names[i]);
        ps[*k] = m->params[i];
        names[(*k)++] = s;
    }
    for (int i = 0; i < m->nchildren; i++) {
        int len = snprintf(NULL, 0, "%s%s.", prefix, m->child_names[i]);
        char *p = malloc((size_t)len + 1);
        if (!p) return false;
        snprintf(p, (size_t)len + 1, "%s%s.", prefix, m->child_names[i]);
        bool ok = collect(m->children[i], p, ps, names, k);
        free(p);
        if (!ok) return false;
    }
    return true;
}

static void drop_cache(ag_module *m)
{
    for (int i = 0; i < m->cache_n; i++) free(m->cache_names[i]);
    free(m->cache_names);
    free(m->cache_params);
    m->cache_names = NULL;
    m->cache_params = NULL;
    m->cache_n = 0;
    m->cache_valid = false;
}

/* Makes the cache current; false (error recorded) on out of memory. The cache is not part of
 * the module's observable value, hence the cast from const. */
static bool refresh(const char *fn, const ag_module *cm)
{
    if (!cm) {
        ag__error("%s: module is NULL", fn);
        return false;
    }
    ag_module *m = (ag_module *)cm;
    if (m->cache_valid) return true;
    drop_cache(m);
    int n = count_params(m);
    /* One spare slot: a module without parameters still gets a non-NULL array. */
    m->cache_params = calloc((size_t)n + 1, sizeof *m->cache_params);
    m->cache_names = calloc((size_t)n + 1, sizeof *m->cache_names);
    int k = 0;
    bool ok = m->cache_params && m->cache_names;
    if (ok) ok = collect(m, "", m->cache_params, m->cache_names, &k);
    m->cache_n = k;
    if (!ok) {
        drop_cache(m);
        ag__error("%s: out of memory listing %d parameters", fn, n);
        return false;
    }
    m->cache_valid = true;
    return true;
}

int ag_module_num_params(const ag_module *m)
{
    return refresh("ag_module_num_params", m) ? m->cache_n : -1;
}

ag_tensor *const *ag_module_params(const ag_module *m)
{
    return refresh("ag_module_params", m) ? m->cache_params : NULL;
}

static bool param_index(const char *fn, const ag_module *m, int i)
{
    if (!refresh(fn, m)) return false;
    if (i >= 0 && i < m->cache_n) return true;
    ag__error("%s: index %d out of range (the %s has %d parameters)", fn, i, m->cls->name,
              m->cache_n);
    return false;
}

ag_tensor *ag_module_param(const ag_module *m, int i)
{
    return param_index("ag_module_param", m, i) ? m->cache_params[i] : NULL;
}

const char *ag_module_param_name(const ag_module *m, int i)
{
    return param_index("ag_module_param_name", m, i) ? m->cache_names[i] : NULL;
}

ag_tensor *ag_module_param_by_name(const ag_module *m, const char *dotted_name)
{
    static const char fn[] = "ag_module_param_by_name";
    if (!m) {
        ag__error("%s: module is NULL", fn);
        return NULL;
    }
    if (!dotted_name) {
        ag__error("%s: name is NULL", fn);
        return NULL;
    }
    /* Walk down one path component at a time: children for every part but the last. */
    const ag_module *cur = m;
    const char *part = dotted_name;
    for (;;) {
        const char *dot = strchr(part, '.');
        size_t len = dot ? (size_t)(dot - part) : strlen(part);
        if (!dot) {
            for (int i = 0; i < cur->nparams; i++)
                if (strcmp(cur->param_names[i], part) == 0) return cur->params[i];
            break;
        }
        const ag_module *next = NULL;
        for (int i = 0; i < cur->nchildren && !next; i++)
            if (strlen(cur->child_names[i]) == len && strncmp(cur->child_names[i], part, len) == 0)
                next = cur->children[i];
        if (!next) break;
        cur = next;
        part = dot + 1;
    }
    ag__error("%s: the %s has no parameter named '%s'", fn, m->cls->name, dotted_name);
    return NULL;
}

int64_t ag_module_count_weights(const ag_module *m)
{
    if (!refresh("ag_module_count_weights", m)) return -1;
    int64_t total = 0;
    for (int i = 0; i < m->cache_n; i++) total += m->cache_params[i]->numel;
    return total;
}

int ag_module_zero_grad(ag_module *m)
{
    if (!refresh("ag_module_zero_grad", m)) return -1;
    int rc = 0;
    for (int i = 0; i < m->cache_n; i++)
        if (m->cache_params[i]->grad && ag_zero_grad(m->cache_params[i]) != 0) rc = -1;
    return rc;
}
