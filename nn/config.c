/* nn/config.c - a module's settings for its architecture record: an ordered list of named
 * integers, numbers, flags and strings, written by a builder's save function and read by its
 * build function (see nn.h). io/arch.c turns it into JSON and back.
 *
 * A number read back from JSON may be an integer or not ("1" for 1.0), so the getters are
 * lenient where no information is lost: an int reads as a number, and a whole number as an int.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "nn_internal.h"

struct ag_config {
    char *kind;
    int n, cap;
    ag__config_entry *e;
};

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

ag_config *ag__config_new(const char *kind)
{
    ag_config *c = calloc(1, sizeof *c);
    if (c && !(c->kind = dup_str(kind ? kind : "?"))) {
        free(c);
        c = NULL;
    }
    if (!c) ag__error("ag_config: out of memory");
    return c;
}

void ag__config_free(ag_config *c)
{
    if (!c) return;
    for (int i = 0; i < c->n; i++) {
        free(c->e[i].key);
        free(c->e[i].s);
    }
    free(c->e);
    free(c->kind);
    free(c);
}

int ag__config_count(const ag_config *c) { return c ? c->n : 0; }

const ag__config_entry *ag__config_at(const ag_config *c, int i) { return &c->e[i]; }

const char *ag_config_kind(const ag_config *c) { return c ? c->kind : "(NULL)"; }

static const ag__config_entry *find(const ag_config *c, const char *key)
{
    for (int i = 0; i < c->n; i++)
        if (strcmp(c->e[i].key, key) == 0) return &c->e[i];
    return NULL;
}

/* A new entry for `key`, or NULL with an error naming fn. */
static ag__config_entry *add(const char *fn, ag_config *c, const char *key, ag__config_type t)
{
    if (!c || !key || !key[0]) {
        ag__error("%s: %s", fn, !c ? "config is NULL" : !key ? "key is NULL" : "key is empty");
        return NULL;
    }
    if (find(c, key)) {
        ag__error("%s: %s already has a setting '%s'", fn, c->kind, key);
        return NULL;
    }
    if (c->n == c->cap) {
        int cap = c->cap ? 2 * c->cap : 8;
        ag__config_entry *e = realloc(c->e, sizeof *e * (size_t)cap);
        if (!e) {
            ag__error("%s: out of memory", fn);
            return NULL;
        }
        c->e = e;
        c->cap = cap;
    }
    ag__config_entry *e = &c->e[c->n];
    *e = (ag__config_entry){.type = t, .key = dup_str(key)};
    if (!e->key) {
        ag__error("%s: out of memory", fn);
        return NULL;
    }
    c->n++;
    return e;
}

int ag_config_set_int(ag_config *c, const char *key, int64_t value)
{
    ag__config_entry *e = add("ag_config_set_int", c, key, AG__CONFIG_INT);
    if (!e) return -1;
    e->i = value;
    e->d = (double)value;
    return 0;
}

int ag_config_set_number(ag_config *c, const char *key, double value)
{
    if (!isfinite(value)) {
        ag__error("ag_config_set_number: %s: '%s' = %g is not finite (a file cannot hold it)",
                  c ? c->kind : "(NULL)", key ? key : "(NULL)", value);
        return -1;
    }
    ag__config_entry *e = add("ag_config_set_number", c, key, AG__CONFIG_NUMBER);
    if (!e) return -1;
    e->d = value;
    return 0;
}

int ag_config_set_bool(ag_config *c, const char *key, bool value)
{
    ag__config_entry *e = add("ag_config_set_bool", c, key, AG__CONFIG_BOOL);
    if (!e) return -1;
    e->b = value;
    return 0;
}

int ag_config_set_string(ag_config *c, const char *key, const char *value)
{
    if (!value) {
        ag__error("ag_config_set_string: value is NULL");
        return -1;
    }
    ag__config_entry *e = add("ag_config_set_string", c, key, AG__CONFIG_STRING);
    if (!e) return -1;
    if (!(e->s = dup_str(value))) {
        free(e->key);
        c->n--;
        ag__error("ag_config_set_string: out of memory");
        return -1;
    }
    return 0;
}

static const char *type_name(ag__config_type t)
{
    static const char *const names[] = {"an integer", "a number", "true/false", "a string"};
    return names[t];
}

/* The entry for `key` if it has one of the wanted types; otherwise an error naming fn. */
static const ag__config_entry *get(const char *fn, const ag_config *c, const char *key,
                                   unsigned types, const char *want)
{
    if (!c || !key) {
        ag__error("%s: %s is NULL", fn, c ? "key" : "config");
        return NULL;
    }
    const ag__config_entry *e = find(c, key);
    if (!e) {
        ag__error("%s: %s has no setting '%s'", fn, c->kind, key);
        return NULL;
    }
    if (!(types & (1u << e->type))) {
        ag__error("%s: %s setting '%s' is %s, expected %s", fn, c->kind, key, type_name(e->type),
                  want);
        return NULL;
    }
    return e;
}

int ag_config_get_int(const ag_config *c, const char *key, int64_t *out)
{
    static const char fn[] = "ag_config_get_int";
    const ag__config_entry *e =
        get(fn, c, key, 1u << AG__CONFIG_INT | 1u << AG__CONFIG_NUMBER, "an integer");
    if (!e || !out) {
        if (e) ag__error("%s: out is NULL", fn);
        return -1;
    }
    if (e->type == AG__CONFIG_NUMBER) {
        if (e->d != floor(e->d) || fabs(e->d) >= 9.2e18) {
            ag__error("%s: %s setting '%s' is %.17g, expected an integer", fn, c->kind, key, e->d);
            return -1;
        }
        *out = (int64_t)e->d;
    } else {
        *out = e->i;
    }
    return 0;
}

int ag_config_get_number(const ag_config *c, const char *key, double *out)
{
    const ag__config_entry *e = get("ag_config_get_number", c, key,
                                    1u << AG__CONFIG_INT | 1u << AG__CONFIG_NUMBER, "a number");
    if (!e || !out) {
        if (e) ag__error("ag_config_get_number: out is NULL");
        return -1;
    }
    *out = e->d;
    return 0;
}

int ag_config_get_bool(const ag_config *c, const char *key, bool *out)
{
    const ag__config_entry *e = get("ag_config_get_bool", c, key, 1u << AG__CONFIG_BOOL,
                                    "true or false");
    if (!e || !out) {
        if (e) ag__error("ag_config_get_bool: out is NULL");
        return -1;
    }
    *out = e->b;
    return 0;
}

const char *ag_config_get_string(const ag_config *c, const char *key)
{
    const ag__config_entry *e =
        get("ag_config_get_string", c, key, 1u << AG__CONFIG_STRING, "a string");
    return e ? e->s : NULL;
}

bool ag_config_has(const ag_config *c, const char *key)
{
    return c && key && find(c, key) != NULL;
}

int ag__config_pick(const ag_config *c, const char *key, const char *const *names, int n)
{
    const char *s = ag_config_get_string(c, key);
    if (!s) return -1;
    for (int i = 0; i < n; i++)
        if (strcmp(s, names[i]) == 0) return i;
    char list[256] = "";
    size_t used = 0;
    for (int i = 0; i < n && used < sizeof list; i++)
        used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", names[i]);
    ag__error("ag_config_get_string: %s setting '%s' is '%.60s', expected one of %s", c->kind, key,
              s, list);
    return -1;
}

bool ag__config_no_children(const ag_config *c, int nchildren, ag_module *const *children)
{
    if (nchildren == 0) return true;
    for (int i = 0; i < nchildren; i++) ag_module_free(children[i]);
    ag__error("ag_module_builder: %s has no sub-modules, but %d were given", ag_config_kind(c),
              nchildren);
    return false;
}
