/* plot/plot.c - the plot object: series, axes settings and the SVG writer's data model.
 * The drawing itself (axes, ticks, legend) lives in plot/svg.c.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "plot_internal.h"

static char *dup_or_null(const char *s)
{
    if (!s) return NULL;
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

ag_plot *ag_plot_new(const char *title, const char *xlabel, const char *ylabel)
{
    ag_plot *p = calloc(1, sizeof *p);
    if (!p) {
        ag__error("ag_plot_new: out of memory");
        return NULL;
    }
    p->title = dup_or_null(title);
    p->xlabel = dup_or_null(xlabel);
    p->ylabel = dup_or_null(ylabel);
    if ((title && !p->title) || (xlabel && !p->xlabel) || (ylabel && !p->ylabel)) {
        ag_plot_free(p);
        ag__error("ag_plot_new: out of memory");
        return NULL;
    }
    return p;
}

int ag_plot_set_log(ag_plot *p, bool log_x, bool log_y)
{
    if (!p) {
        ag__error("ag_plot_set_log: plot is NULL");
        return -1;
    }
    p->log_x = log_x;
    p->log_y = log_y;
    return 0;
}

static int set_range(ag_plot *p, int axis, double lo, double hi, const char *fn)
{
    if (!p) {
        ag__error("%s: plot is NULL", fn);
        return -1;
    }
    if (!isfinite(lo) || !isfinite(hi) || !(lo < hi)) {
        ag__error("%s: range [%g, %g] must be finite with lo < hi", fn, lo, hi);
        return -1;
    }
    p->fixed[axis] = true;
    p->range[axis][0] = lo;
    p->range[axis][1] = hi;
    return 0;
}

int ag_plot_set_xrange(ag_plot *p, double lo, double hi)
{
    return set_range(p, 0, lo, hi, "ag_plot_set_xrange");
}

int ag_plot_set_yrange(ag_plot *p, double lo, double hi)
{
    return set_range(p, 1, lo, hi, "ag_plot_set_yrange");
}

static void free_categories(ag_plot *p)
{
    for (int i = 0; i < p->ncategories; i++) free(p->categories[i]);
    free(p->categories);
    p->categories = NULL;
    p->ncategories = 0;
}

int ag_plot_set_xcategories(ag_plot *p, int n, const char *const *names)
{
    static const char fn[] = "ag_plot_set_xcategories";
    if (!p || (n > 0 && !names) || n < 0) {
        ag__error("%s: %s", fn, !p ? "plot is NULL" : n < 0 ? "negative count" : "names is NULL");
        return -1;
    }
    for (int i = 0; i < n; i++)
        if (!names[i]) {
            ag__error("%s: name %d is NULL", fn, i);
            return -1;
        }
    char **c = n ? calloc((size_t)n, sizeof *c) : NULL;
    bool ok = n == 0 || c;
    for (int i = 0; ok && i < n; i++) ok = (c[i] = dup_or_null(names[i])) != NULL;
    if (!ok) {
        for (int i = 0; c && i < n; i++) free(c[i]);
        free(c);
        ag__error("%s: out of memory", fn);
        return -1;
    }
    free_categories(p);
    p->categories = c;
    p->ncategories = n;
    return 0;
}

static int add_series(ag_plot *p, const char *label, int n, const double *x, const double *y,
                      bool line, bool dots, const char *fn)
{
    if (!p || !y) {
        ag__error("%s: %s is NULL", fn, !p ? "plot" : "y");
        return -1;
    }
    if (n < 1) {
        ag__error("%s: %d points; a series needs at least one", fn, n);
        return -1;
    }
    if (p->nseries == AG_PLOT_MAX_SERIES) {
        ag__error("%s: a plot holds at most %d series", fn, AG_PLOT_MAX_SERIES);
        return -1;
    }
    ag_plot_series *s = &p->series[p->nseries];
    memset(s, 0, sizeof *s);
    s->x = malloc((size_t)n * sizeof *s->x);
    s->y = malloc((size_t)n * sizeof *s->y);
    s->label = dup_or_null(label);
    if (!s->x || !s->y || (label && !s->label)) {
        free(s->x);
        free(s->y);
        free(s->label);
        ag__error("%s: out of memory for %d points", fn, n);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        s->x[i] = x ? x[i] : (double)(i + 1);
        s->y[i] = y[i];
    }
    s->n = n;
    s->line = line;
    s->dots = dots;
    p->nseries++;
    return 0;
}

int ag_plot_line(ag_plot *p, const char *label, int n, const double *x, const double *y)
{
    return add_series(p, label, n, x, y, true, false, "ag_plot_line");
}

int ag_plot_points(ag_plot *p, const char *label, int n, const double *x, const double *y)
{
    return add_series(p, label, n, x, y, false, true, "ag_plot_points");
}

int ag_plot_line_points(ag_plot *p, const char *label, int n, const double *x, const double *y)
{
    return add_series(p, label, n, x, y, true, true, "ag_plot_line_points");
}

void ag_plot_free(ag_plot *p)
{
    if (!p) return;
    for (int i = 0; i < p->nseries; i++) {
        free(p->series[i].x);
        free(p->series[i].y);
        free(p->series[i].label);
    }
    free_categories(p);
    free(p->title);
    free(p->xlabel);
    free(p->ylabel);
    free(p);
}

/* A value is drawable when finite and, on a log axis, positive. */
bool ag__plot_usable(double v, bool log_axis)
{
    return isfinite(v) && (!log_axis || v > 0);
}
