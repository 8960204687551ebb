/* io/arch.c - a model's architecture in its safetensors file, as Keras's model.save records its
 * config: ag_module_save writes it, ag_module_load_new rebuilds the model from it.
 *
 * The record is the metadata value "architecture", a JSON document listing the module tree in
 * depth-first order (flat, so its nesting depth in JSON does not grow with the model's):
 *
 *   {"version": 1, "modules": [
 *     {"name": "", "kind": "Sequential", "config": {}, "children": 2},
 *     {"name": "0", "kind": "Dense", "config": {"in_features": 100, ...}, "children": 0},
 *     {"name": "1", "kind": "ReLU", "config": {}, "children": 0}]}
 *
 * Each module is written by the save function of the builder registered for its kind (nn.h) and
 * rebuilt by its build function, children first; the parameters are then loaded by name. When a
 * module of the tree has no builder, the weights are still saved and "architecture_missing" says
 * which module, so ag_module_load_new can tell the user. Everything read is checked: JSON syntax
 * (by the safetensors parser), the version, every field's type, child counts that add up, a
 * nesting limit, unknown kinds, and each builder's own checks of its settings.
 */
#include <stdio.h>
#include <stdlib.h>

#include "io_internal.h"
#include "../nn/nn_internal.h"

#define ARCH_VERSION 1
#define MAX_NESTING 256

/* ---- writing ---- */

static void put_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c < 0x20) fprintf(f, "\\u%04x", c);
        else fputc(c, f);
    }
    fputc('"', f);
}

/* The shortest "%.Ng" text that reads back as the same double. */
static void put_number(FILE *f, double v)
{
    char buf[32];
    for (int digits = 15; digits <= 17; digits++) {
        snprintf(buf, sizeof buf, "%.*g", digits, v);
        if (strtod(buf, NULL) == v) break;
    }
    fputs(buf, f);
}

static void put_config(FILE *f, const ag_config *c)
{
    fputc('{', f);
    for (int i = 0; i < ag__config_count(c); i++) {
        const ag__config_entry *e = ag__config_at(c, i);
        if (i) fputs(", ", f);
        put_string(f, e->key);
        fputs(": ", f);
        switch (e->type) {
        case AG__CONFIG_INT: fprintf(f, "%lld", (long long)e->i); break;
        case AG__CONFIG_NUMBER: put_number(f, e->d); break;
        case AG__CONFIG_BOOL: fputs(e->b ? "true" : "false", f); break;
        case AG__CONFIG_STRING: put_string(f, e->s); break;
        }
    }
    fputc('}', f);
}

/* Writes module m (named `path` in the tree) and its subtree. Returns 0, 1 when some module has
 * no builder (its path and kind go to `missing`), -1 on an error. */
static int put_module(const char *fn, FILE *f, const ag_module *m, const char *path,
                      const char *name, int depth, char *missing, size_t nmissing)
{
    const char *kind = ag_module_kind(m);
    const ag_module_builder *b = ag_module_find_builder(kind);
    if (!b || depth > MAX_NESTING) {
        snprintf(missing, nmissing, "module '%s' (%s) %s", path[0] ? path : "(the root)", kind,
                 b ? "is nested too deeply" : "has no registered builder "
                                              "(ag_module_register_builder)");
        return 1;
    }
    ag_config *c = ag__config_new(kind);
    if (!c) return -1;
    if (b->save(m, c) != 0) {
        char where[320];
        snprintf(where, sizeof where, "saving the settings of module '%s' (%s): ",
                 path[0] ? path : "(the root)", kind);
        ag__error_prefix(fn, where);
        ag__config_free(c);
        return -1;
    }
    int n = ag_module_num_children(m);
    fputs(depth ? ",\n  {\"name\": " : "\n  {\"name\": ", f);
    put_string(f, name);
    fputs(", \"kind\": ", f);
    put_string(f, kind);
    fputs(", \"config\": ", f);
    put_config(f, c);
    fprintf(f, ", \"children\": %d}", n);
    ag__config_free(c);
    for (int i = 0; i < n; i++) {
        const char *cn = ag_module_child_name(m, i);
        size_t len = strlen(path) + strlen(cn) + 2;
        char *sub = malloc(len);
        if (!sub) {
            ag__error("%s: out of memory", fn);
            return -1;
        }
        snprintf(sub, len, "%s%s%s", path, path[0] ? "." : "", cn);
        int rc = put_module(fn, f, ag_module_child(m, i), sub, cn, depth + 1, missing, nmissing);
        free(sub);
        if (rc != 0) return rc;
    }
    return 0;
}

int ag__arch_meta(const char *fn, const ag_module *m, const char **key, char **value)
{
    char *buf = NULL, missing[320] = "";
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) {
        ag__error("%s: out of memory", fn);
        return -1;
    }
    fprintf(f, "{\"version\": %d, \"modules\": [", ARCH_VERSION);
    int rc = put_module(fn, f, m, "", "", 0, missing, sizeof missing);
    fputs("]}", f);
    if (fclose(f) != 0 && rc == 0) {
        ag__error("%s: out of memory", fn);
        rc = -1;
    }
    if (rc < 0) {
        free(buf);
        return -1;
    }
    if (rc == 1) {
        free(buf);
        *key = "architecture_missing";
        *value = malloc(strlen(missing) + 1);
        if (!*value) return ag__error("%s: out of memory", fn), -1;
        memcpy(*value, missing, strlen(missing) + 1);
        return 0;
    }
    *key = "architecture";
    *value = buf;
    return 0;
}

/* ---- reading ---- */

typedef struct reader {
    const char *fn, *path;
    const ag__json *doc;
    int32_t next;       /* index of the next module entry in the list */
    int index;          /* its position, for messages */
    int total;
} reader;

static const ag__json_val *member(const ag__json *d, const ag__json_val *obj, const char *key)
{
    for (int32_t i = obj->first; i >= 0; i = d->v[i].next)
        if (strcmp(d->v[i].key, key) == 0) return &d->v[i];
    return NULL;
}

/* A member of the expected type, or NULL with an error saying what is wrong. */
static const ag__json_val *field(const reader *r, const ag__json_val *obj, const char *key,
                                 ag__json_type type, const char *what)
{
    const ag__json_val *v = member(r->doc, obj, key);
    if (!v)
        ag__error("%s: '%s': architecture: %s has no '%s'", r->fn, r->path, what, key);
    else if (v->type != type)
        ag__error("%s: '%s': architecture: '%s' of %s is %s, expected %s", r->fn, r->path, key,
                  what, ag__json_type_name(v->type), ag__json_type_name(type));
    else
        return v;
    return NULL;
}

/* The settings of a module entry as an ag_config. */
static ag_config *read_config(const reader *r, const ag__json_val *obj, const char *kind,
                              const char *what)
{
    ag_config *c = ag__config_new(kind);
    int rc = c ? 0 : -1;
    for (int32_t i = obj->first; rc == 0 && i >= 0; i = r->doc->v[i].next) {
        const ag__json_val *v = &r->doc->v[i];
        switch (v->type) {
        case AG__JSON_UINT:
            rc = v->u <= (uint64_t)INT64_MAX ? ag_config_set_int(c, v->key, (int64_t)v->u)
                                             : ag_config_set_number(c, v->key, (double)v->u);
            break;
        case AG__JSON_NUMBER: rc = ag_config_set_number(c, v->key, v->d); break;
        case AG__JSON_STRING: rc = ag_config_set_string(c, v->key, v->str); break;
        case AG__JSON_LITERAL:
            if (strcmp(v->str, "null") != 0) {
                rc = ag_config_set_bool(c, v->key, strcmp(v->str, "true") == 0);
                break;
            }
            ag__error("%s: '%s': architecture: setting '%s' of %s is null (settings are numbers, "
                      "strings or true/false)", r->fn, r->path, v->key, what);
            rc = -1;
            break;
        default:
            ag__error("%s: '%s': architecture: setting '%s' of %s is %s (settings are numbers, "
                      "strings or true/false)", r->fn, r->path, v->key, what,
                      ag__json_type_name(v->type));
            rc = -1;
        }
    }
    if (rc == 0) return c;
    if (c && ag_has_error() && strncmp(ag_last_error(), r->fn, strlen(r->fn)) != 0) {
        char where[640];
        snprintf(where, sizeof where, "'%.200s': architecture: %s: ", r->path, what);
        ag__error_prefix(r->fn, where);
    }
    ag__config_free(c);
    return NULL;
}

/* Rebuilds the next module of the list and its subtree. */
static ag_module *build_next(reader *r, const char *parent_path, int depth)
{
    char what[320];
    if (r->next < 0) {
        ag__error("%s: '%s': architecture: the module list ends early (a child count is larger "
                  "than the modules listed)", r->fn, r->path);
        return NULL;
    }
    if (depth > MAX_NESTING) {
        ag__error("%s: '%s': architecture: modules nested more than %d deep", r->fn, r->path,
                  MAX_NESTING);
        return NULL;
    }
    const ag__json_val *e = &r->doc->v[r->next];
    int index = r->index++;
    r->next = e->next;
    snprintf(what, sizeof what, "module entry %d", index);
    if (e->type != AG__JSON_OBJECT) {
        ag__error("%s: '%s': architecture: %s is %s, expected an object", r->fn, r->path, what,
                  ag__json_type_name(e->type));
        return NULL;
    }
    const ag__json_val *name = field(r, e, "name", AG__JSON_STRING, what);
    const ag__json_val *kind = name ? field(r, e, "kind", AG__JSON_STRING, what) : NULL;
    const ag__json_val *cfg = kind ? field(r, e, "config", AG__JSON_OBJECT, what) : NULL;
    const ag__json_val *nch = cfg ? field(r, e, "children", AG__JSON_UINT, what) : NULL;
    if (!nch) return NULL;
    char path[256];
    snprintf(path, sizeof path, "%s%s%s", parent_path, parent_path[0] ? "." : "", name->str);
    snprintf(what, sizeof what, "module '%s' (%s)", depth ? path : "(the root)", kind->str);
    const ag_module_builder *b = ag_module_find_builder(kind->str);
    if (!b) {
        ag__error("%s: '%s': %s: no builder for kind '%s' in this program (a layer this library "
                  "version does not have, or a custom module: register its builder with "
                  "ag_module_register_builder before loading)", r->fn, r->path, what, kind->str);
        return NULL;
    }
    if (nch->u > (uint64_t)r->total) {
        ag__error("%s: '%s': architecture: %s claims %llu children but the file lists %d "
                  "modules", r->fn, r->path, what, (unsigned long long)nch->u, r->total);
        return NULL;
    }
    int n = (int)nch->u;
    ag_module **children = calloc((size_t)n + 1, sizeof *children);
    if (!children) {
        ag__error("%s: out of memory", r->fn);
        return NULL;
    }
    int built = 0;
    while (built < n && (children[built] = build_next(r, path, depth + 1))) built++;
    ag_config *c = built == n ? read_config(r, cfg, kind->str, what) : NULL;
    ag_module *m = NULL;
    if (c) {
        m = b->build(c, n, children); /* takes the children, also on failure */
        if (!m) {
            char where[640];
            snprintf(where, sizeof where, "'%.200s': %s: ", r->path, what);
            if (!ag_has_error()) ag__error("%s: the builder returned NULL", r->fn);
            ag__error_prefix(r->fn, where);
        }
        ag__config_free(c);
    } else {
        for (int i = 0; i < built; i++) ag_module_free(children[i]);
    }
    free(children);
    return m;
}

ag_module *ag_module_load_new(const char *path)
{
    static const char fn[] = "ag_module_load_new";
    ag_st_file *f = ag__st_load(fn, path);
    if (!f) return NULL;
    const char *text = ag_st_meta(f, "architecture");
    ag_module *m = NULL;
    ag__json doc = {0};
    if (!text) {
        const char *why = ag_st_meta(f, "architecture_missing");
        if (why)
            ag__error("%s: '%s' holds weights but no architecture: when it was saved, %s; build "
                      "the model in code and load the weights with ag_module_load", fn, path, why);
        else
            ag__error("%s: '%s' holds no architecture (metadata 'architecture'): it was not "
                      "written by ag_module_save; build the model in code and load the weights "
                      "with ag_module_load", fn, path);
        goto done;
    }
    if (ag__json_parse(&doc, text, strlen(text)) != 0) {
        ag__error("%s: '%s': the architecture metadata is not valid JSON: %s", fn, path, doc.err);
        goto done;
    }
    reader r = {fn, path, &doc, -1, 0, 0};
    const ag__json_val *root = &doc.v[0], *version = NULL, *list = NULL;
    if (root->type != AG__JSON_OBJECT) {
        ag__error("%s: '%s': the architecture is %s, expected an object", fn, path,
                  ag__json_type_name(root->type));
        goto done;
    }
    if (!(version = field(&r, root, "version", AG__JSON_UINT, "the architecture")) ||
        !(list = field(&r, root, "modules", AG__JSON_ARRAY, "the architecture")))
        goto done;
    if (version->u != ARCH_VERSION) {
        ag__error("%s: '%s': architecture version %llu; this library reads version %d", fn, path,
                  (unsigned long long)version->u, ARCH_VERSION);
        goto done;
    }
    r.next = list->first;
    r.total = list->count;
    m = build_next(&r, "", 0);
    if (m && r.next >= 0) {
        ag__error("%s: '%s': architecture: %d modules are listed but the tree uses only %d", fn,
                  path, r.total, r.index);
        ag_module_free(m);
        m = NULL;
    }
    if (m && ag__module_load_file(fn, path, m, f) != 0) {
        ag_module_free(m);
        m = NULL;
    }
done:
    ag__json_free(&doc);
    ag_st_free(f);
    return m;
}
