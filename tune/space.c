/* tune/space.c - search spaces: named hyperparameters (real and integer ranges, lists of numbers,
 * choices of strings), how to draw them at random, their grid points, and their text form for
 * the CSV. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "tune_internal.h"

ag_space *ag_space_new(void)
{
    ag_space *s = calloc(1, sizeof *s);
    if (!s) ag__error("ag_space_new: out of memory");
    return s;
}

static void param_clear(ag__param *p)
{
    free(p->values);
    if (p->choices)
        for (int i = 0; i < p->n; i++) free(p->choices[i]);
    free(p->choices);
}

void ag_space_free(ag_space *s)
{
    if (!s) return;
    for (int i = 0; i < s->n; i++) param_clear(&s->p[i]);
    free(s);
}

/* Letters, digits and '_', 1..63 characters: safe as a CSV column and a key=value token. */
static bool good_token(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n >= AG__TUNE_NAME) return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)name[i]) && name[i] != '_') return false;
    return true;
}

/* Checks the space and the name; returns the new slot or NULL with an error naming fn. */
static ag__param *new_param(ag_space *s, const char *fn, const char *name)
{
    if (!s || !name) {
        ag__error("%s: %s is NULL", fn, !s ? "space" : "name");
        return NULL;
    }
    if (!good_token(name)) {
        ag__error("%s: bad name '%.80s' (1 to 63 letters, digits or '_')", fn, name);
        return NULL;
    }
    if (ag_space_find(s, name) >= 0) {
        ag__error("%s: '%s' is already in the space", fn, name);
        return NULL;
    }
    if (s->n == AG__TUNE_MAX_PARAMS) {
        ag__error("%s: cannot add '%s': at most %d hyperparameters", fn, name, AG__TUNE_MAX_PARAMS);
        return NULL;
    }
    ag__param *p = &s->p[s->n];
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s", name);
    return p;
}

int ag_space_add_float(ag_space *s, const char *name, double lo, double hi, bool log)
{
    ag__param *p = new_param(s, "ag_space_add_float", name);
    if (!p) return -1;
    if (!isfinite(lo) || !isfinite(hi) || !(lo < hi) || (log && !(lo > 0))) {
        ag__error("ag_space_add_float: '%s': need finite lo < hi%s (got lo %g, hi %g)", name,
                  log ? " and lo > 0 for a log range" : "", lo, hi);
        return -1;
    }
    p->kind = AG_PARAM_FLOAT;
    p->lo = lo;
    p->hi = hi;
    p->log = log;
    s->n++;
    return 0;
}

int ag_space_add_int(ag_space *s, const char *name, int64_t lo, int64_t hi, bool log)
{
    ag__param *p = new_param(s, "ag_space_add_int", name);
    if (!p) return -1;
    const int64_t lim = (int64_t)1 << 53;
    if (lo > hi || lo <= -lim || hi >= lim || (log && lo < 1)) {
        ag__error("ag_space_add_int: '%s': need lo <= hi, |values| < 2^53%s (got lo %lld, hi %lld)",
                  name, log ? " and lo >= 1 for a log range" : "", (long long)lo, (long long)hi);
        return -1;
    }
    p->kind = AG_PARAM_INT;
    p->lo = (double)lo;
    p->hi = (double)hi;
    p->log = log;
    s->n++;
    return 0;
}

int ag_space_add_values(ag_space *s, const char *name, int n, const double *values)
{
    ag__param *p = new_param(s, "ag_space_add_values", name);
    if (!p) return -1;
    if (n < 1 || !values) {
        ag__error("ag_space_add_values: '%s': need n >= 1 values (got n %d, values %s)", name, n,
                  values ? "given" : "NULL");
        return -1;
    }
    for (int i = 0; i < n; i++) {
        if (!isfinite(values[i])) {
            ag__error("ag_space_add_values: '%s': value %d is %g (must be finite)", name, i,
                      values[i]);
            return -1;
        }
        for (int j = 0; j < i; j++)
            if (values[j] == values[i]) {
                ag__error("ag_space_add_values: '%s': value %g is listed twice", name, values[i]);
                return -1;
            }
    }
    p->values = malloc(sizeof *p->values * (size_t)n);
    if (!p->values) {
        ag__error("ag_space_add_values: out of memory");
        return -1;
    }
    memcpy(p->values, values, sizeof *p->values * (size_t)n);
    p->kind = AG_PARAM_FLOAT;
    p->n = n;
    s->n++;
    return 0;
}

static bool good_choice(const char *c)
{
    size_t n = strlen(c);
    if (n == 0 || n >= AG__TUNE_NAME) return false;
    return strpbrk(c, ",;\"\r\n") == NULL;
}

int ag_space_add_choice(ag_space *s, const char *name, int n, const char *const *choices)
{
    ag__param *p = new_param(s, "ag_space_add_choice", name);
    if (!p) return -1;
    if (n < 1 || !choices) {
        ag__error("ag_space_add_choice: '%s': need n >= 1 choices (got n %d, choices %s)", name, n,
                  choices ? "given" : "NULL");
        return -1;
    }
    for (int i = 0; i < n; i++) {
        if (!choices[i] || !good_choice(choices[i])) {
            ag__error("ag_space_add_choice: '%s': choice %d '%.80s' must have 1 to 63 characters "
                      "and no comma, semicolon, quote or line break",
                      name, i, choices[i] ? choices[i] : "(NULL)");
            return -1;
        }
        for (int j = 0; j < i; j++)
            if (strcmp(choices[i], choices[j]) == 0) {
                ag__error("ag_space_add_choice: '%s': choice '%s' is listed twice", name,
                          choices[i]);
                return -1;
            }
    }
    p->choices = calloc((size_t)n, sizeof *p->choices);
    for (int i = 0; p->choices && i < n; i++) {
        p->choices[i] = strdup(choices[i]);
        if (!p->choices[i]) {
            p->n = i;
            param_clear(p);
            p->choices = NULL;
            break;
        }
    }
    if (!p->choices) {
        ag__error("ag_space_add_choice: out of memory");
        return -1;
    }
    p->kind = AG_PARAM_CHOICE;
    p->n = n;
    s->n++;
    return 0;
}

int ag_space_set_grid_points(ag_space *s, const char *name, int n)
{
    if (!s || !name) {
        ag__error("ag_space_set_grid_points: %s is NULL", !s ? "space" : "name");
        return -1;
    }
    int i = ag_space_find(s, name);
    if (i < 0) {
        ag__error("ag_space_set_grid_points: no hyperparameter '%.80s' in the space", name);
        return -1;
    }
    if (s->p[i].n > 0) {
        ag__error("ag_space_set_grid_points: '%s' is a list of %d values: the grid takes them all",
                  name, s->p[i].n);
        return -1;
    }
    if (n < 1 || n > 100000) {
        ag__error("ag_space_set_grid_points: '%s': %d points (need 1 to 100000)", name, n);
        return -1;
    }
    s->p[i].grid_points = n;
    return 0;
}

int ag_space_size(const ag_space *s)
{
    if (!s) {
        ag__error("ag_space_size: space is NULL");
        return -1;
    }
    return s->n;
}

static const ag__param *param_at(const ag_space *s, int i, const char *fn)
{
    if (!s || i < 0 || i >= s->n) {
        if (!s)
            ag__error("%s: space is NULL", fn);
        else
            ag__error("%s: index %d out of range for %d hyperparameters", fn, i, s->n);
        return NULL;
    }
    return &s->p[i];
}

const char *ag_space_name(const ag_space *s, int i)
{
    const ag__param *p = param_at(s, i, "ag_space_name");
    return p ? p->name : NULL;
}

ag_param_kind ag_space_kind(const ag_space *s, int i)
{
    const ag__param *p = param_at(s, i, "ag_space_kind");
    return p ? p->kind : AG_PARAM_FLOAT;
}

bool ag_space_is_log(const ag_space *s, int i)
{
    const ag__param *p = param_at(s, i, "ag_space_is_log");
    return p && p->log;
}

int ag_space_find(const ag_space *s, const char *name)
{
    if (!s || !name) return -1;
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->p[i].name, name) == 0) return i;
    return -1;
}

ag_space *ag__space_clone(const ag_space *s)
{
    ag_space *c = ag_space_new();
    if (!c) return NULL;
    for (int i = 0; i < s->n; i++) {
        const ag__param *p = &s->p[i];
        int rc;
        if (p->kind == AG_PARAM_CHOICE)
            rc = ag_space_add_choice(c, p->name, p->n, (const char *const *)p->choices);
        else if (p->n > 0)
            rc = ag_space_add_values(c, p->name, p->n, p->values);
        else if (p->kind == AG_PARAM_INT)
            rc = ag_space_add_int(c, p->name, (int64_t)p->lo, (int64_t)p->hi, p->log);
        else
            rc = ag_space_add_float(c, p->name, p->lo, p->hi, p->log);
        if (rc < 0) {
            ag_space_free(c);
            return NULL;
        }
        c->p[i].grid_points = p->grid_points;
    }
    return c;
}

void ag__space_sample(const ag_space *s, ag_rng *rng, double *values)
{
    for (int i = 0; i < s->n; i++) {
        const ag__param *p = &s->p[i];
        double v;
        if (p->n > 0) {
            v = (double)ag_rng_below(rng, (uint64_t)p->n);
            if (p->kind != AG_PARAM_CHOICE) v = p->values[(int)v];
        } else if (p->kind == AG_PARAM_INT && !p->log) {
            v = p->lo + (double)ag_rng_below(rng, (uint64_t)(p->hi - p->lo) + 1);
        } else if (p->kind == AG_PARAM_INT) {
            double a = log(p->lo - 0.5), b = log(p->hi + 0.5);
            v = round(exp(a + ag_rng_uniform(rng) * (b - a)));
        } else if (p->log) {
            double a = log(p->lo), b = log(p->hi);
            v = exp(a + ag_rng_uniform(rng) * (b - a));
        } else {
            v = p->lo + ag_rng_uniform(rng) * (p->hi - p->lo);
        }
        /* exp(log(x)) and the int rounding may step just outside by rounding: clamp. */
        if (p->n == 0) v = v < p->lo ? p->lo : v > p->hi ? p->hi : v;
        values[i] = v;
    }
}

/* n points from lo to hi, evenly or geometrically spaced (both ends included). */
static void spread(double lo, double hi, bool log_scale, int n, double *out)
{
    for (int k = 0; k < n; k++) {
        double f = n == 1 ? 0.0 : (double)k / (n - 1);
        out[k] = log_scale ? exp(log(lo) + f * (log(hi) - log(lo))) : lo + f * (hi - lo);
    }
    if (n > 1) out[n - 1] = hi; /* exact upper end, whatever the rounding */
    out[0] = lo;
}

double *ag__space_grid_values(const ag_space *s, int i, int *n)
{
    const ag__param *p = &s->p[i];
    int64_t count;
    if (p->n > 0)
        count = p->n;
    else if (p->grid_points > 0)
        count = p->grid_points;
    else if (p->kind == AG_PARAM_INT)
        count = (int64_t)(p->hi - p->lo) + 1;
    else
        count = 5;
    if (count > 1000000) {
        ag__error("ag_strategy_grid: '%s' has %lld grid values (at most 1000000; set fewer with "
                  "ag_space_set_grid_points)", p->name, (long long)count);
        return NULL;
    }
    double *v = malloc(sizeof *v * (size_t)count);
    if (!v) {
        ag__error("ag_strategy_grid: out of memory for %lld grid values", (long long)count);
        return NULL;
    }
    int m = 0;
    if (p->n > 0) {
        for (int k = 0; k < p->n; k++) v[m++] = p->kind == AG_PARAM_CHOICE ? k : p->values[k];
    } else if (p->kind == AG_PARAM_INT && p->grid_points == 0) {
        for (int64_t k = 0; k < count; k++) v[m++] = p->lo + (double)k;
    } else {
        spread(p->lo, p->hi, p->log, (int)count, v);
        m = (int)count;
        if (p->kind == AG_PARAM_INT) { /* round and drop the duplicates (sorted ascending) */
            int w = 0;
            for (int k = 0; k < m; k++) {
                double r = round(v[k]);
                if (w == 0 || r != v[w - 1]) v[w++] = r;
            }
            m = w;
        }
    }
    *n = m;
    return v;
}

void ag__space_format(const ag_space *s, int i, double v, char *buf, size_t size, bool exact)
{
    const ag__param *p = &s->p[i];
    if (p->kind == AG_PARAM_CHOICE) {
        int k = (int)v;
        snprintf(buf, size, "%s", k >= 0 && k < p->n ? p->choices[k] : "?");
    } else if (p->kind == AG_PARAM_INT) {
        snprintf(buf, size, "%lld", (long long)v);
    } else {
        snprintf(buf, size, exact ? "%.17g" : "%.4g", v);
    }
}

int ag__space_parse(const ag_space *s, int i, const char *text, double *v)
{
    const ag__param *p = &s->p[i];
    if (p->kind == AG_PARAM_CHOICE) {
        for (int k = 0; k < p->n; k++)
            if (strcmp(p->choices[k], text) == 0) {
                *v = k;
                return 0;
            }
        return -1;
    }
    char *end;
    double x = strtod(text, &end);
    if (end == text || *end != '\0' || !isfinite(x)) return -1;
    if (p->kind == AG_PARAM_INT && x != floor(x)) return -1;
    *v = x;
    return 0;
}
