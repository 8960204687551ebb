/* tune/tune_plot.c - pictures of a study (SVG through plot.h): the score against each
 * hyperparameter (a choice on a categorical axis named by its values), and each trial's score
 * with the best so far against the trial number. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "tune_internal.h"

static const char *ylabel(const ag_study *s)
{
    return s->opts.direction == AG_MAXIMIZE ? "score (higher is better)"
                                            : "score (lower is better)";
}

/* A list of numbers spanning two decades or more reads better on a log axis. */
static bool log_axis(const ag__param *p)
{
    if (p->log) return true;
    if (p->kind != AG_PARAM_FLOAT || p->n < 3) return false;
    double lo = INFINITY, hi = 0;
    for (int i = 0; i < p->n; i++) {
        if (p->values[i] <= 0) return false;
        lo = fmin(lo, p->values[i]);
        hi = fmax(hi, p->values[i]);
    }
    return hi / lo >= 100;
}

typedef struct xy {
    double x, y, sd;
} xy;

static int cmp_x(const void *a, const void *b)
{
    double u = ((const xy *)a)->x, v = ((const xy *)b)->x;
    return (u > v) - (u < v);
}

/* Adds the points of trials in `state` as a series; sorted by x and drawn as a line with the
 * std band when `line`. */
static int add_series(ag_plot *pl, const ag_study *s, int p, ag_trial_state state,
                      const char *label, bool line)
{
    xy *v = malloc(sizeof *v * (size_t)(s->ntrials ? s->ntrials : 1));
    double *x = malloc(sizeof *x * (size_t)(s->ntrials ? s->ntrials : 1) * 4);
    if (!v || !x) {
        free(v);
        free(x);
        ag__error("ag_study_plot: out of memory");
        return -1;
    }
    int n = 0;
    for (int i = 0; i < s->ntrials; i++) {
        const ag_trial *t = s->trials[i];
        if (t->state == state && isfinite(t->score)) v[n++] = (xy){t->values[p], t->score, t->std};
    }
    int rc = 0;
    if (n > 0) {
        double *y = x + n, *hi = y + n, *lo = hi + n;
        if (line) qsort(v, (size_t)n, sizeof *v, cmp_x);
        bool band = line;
        for (int i = 0; i < n; i++) {
            x[i] = v[i].x;
            y[i] = v[i].y;
            hi[i] = v[i].y + v[i].sd;
            lo[i] = v[i].y - v[i].sd;
            band = band && !isnan(v[i].sd);
        }
        rc = line ? ag_plot_line_points(pl, label, n, x, y) : ag_plot_points(pl, label, n, x, y);
        if (rc == 0 && band) rc = ag_plot_line(pl, "mean + std", n, x, hi);
        if (rc == 0 && band) rc = ag_plot_line(pl, "mean - std", n, x, lo);
    }
    free(v);
    free(x);
    return rc;
}

static ag_plot *param_plot(const ag_study *s, int p)
{
    const ag__param *par = &s->space->p[p];
    char title[160];
    snprintf(title, sizeof title, "Score against %s", par->name);
    ag_plot *pl = ag_plot_new(title, par->name, ylabel(s));
    if (!pl) return NULL;
    int rc = ag_plot_set_log(pl, log_axis(par), false);
    /* a choice is drawn on a categorical axis: its names, not their indices */
    if (rc == 0 && par->kind == AG_PARAM_CHOICE)
        rc = ag_plot_set_xcategories(pl, par->n, (const char *const *)par->choices);
    if (rc == 0) rc = add_series(pl, s, p, AG_TRIAL_COMPLETE, "complete", s->space->n == 1);
    if (rc == 0 && ag_study_count(s, AG_TRIAL_PRUNED) > 0)
        rc = add_series(pl, s, p, AG_TRIAL_PRUNED, "pruned (last value)", false);
    if (rc < 0) {
        ag_plot_free(pl);
        return NULL;
    }
    return pl;
}

static ag_plot *history_plot(const ag_study *s)
{
    ag_plot *pl = ag_plot_new("Score of each trial and best so far", "trial", ylabel(s));
    double *buf = malloc(sizeof *buf * (size_t)(s->ntrials ? s->ntrials : 1) * 3);
    if (!pl || !buf) {
        if (!buf) ag__error("ag_study_plot_history: out of memory");
        ag_plot_free(pl);
        free(buf);
        return NULL;
    }
    double *x = buf, *y = buf + s->ntrials, *best = buf + 2 * s->ntrials;
    int n = 0;
    for (int i = 0; i < s->ntrials; i++) {
        const ag_trial *t = s->trials[i];
        if (t->state != AG_TRIAL_COMPLETE) continue;
        x[n] = t->number;
        y[n] = t->score;
        best[n] = n == 0 || ag__better(s->opts.direction, t->score, best[n - 1]) ? t->score
                                                                                 : best[n - 1];
        n++;
    }
    int rc = 0;
    if (n > 0) {
        rc = ag_plot_points(pl, "complete trial", n, x, y);
        if (rc == 0) rc = ag_plot_line(pl, "best so far", n, x, best);
    }
    free(buf);
    if (rc < 0) {
        ag_plot_free(pl);
        return NULL;
    }
    return pl;
}

static int save(ag_plot *pl, const char *path)
{
    int rc = pl ? ag_plot_save_svg(pl, path) : -1;
    ag_plot_free(pl);
    return rc;
}

int ag_study_plot_param(const ag_study *s, const char *name, const char *path)
{
    if (!s || !name || !path) {
        ag__error("ag_study_plot_param: %s is NULL", !s ? "study" : !name ? "name" : "path");
        return -1;
    }
    int p = ag_space_find(s->space, name);
    if (p < 0) {
        ag__error("ag_study_plot_param: no hyperparameter '%.80s' in the space", name);
        return -1;
    }
    return save(param_plot(s, p), path);
}

int ag_study_plot_history(const ag_study *s, const char *path)
{
    if (!s || !path) {
        ag__error("ag_study_plot_history: %s is NULL", !s ? "study" : "path");
        return -1;
    }
    return save(history_plot(s), path);
}

int ag_study_plot(const ag_study *s, const char *path)
{
    if (!s || !path) {
        ag__error("ag_study_plot: %s is NULL", !s ? "study" : "path");
        return -1;
    }
    ag_plot *pl[AG__TUNE_MAX_PARAMS + 1];
    int n = 0, rc = 0;
    for (int p = 0; p < s->space->n && rc == 0; p++)
        if (!(pl[n++] = param_plot(s, p))) rc = -1;
    if (rc == 0 && !(pl[n++] = history_plot(s))) rc = -1;
    if (rc == 0) rc = ag_plot_save_svg_grid(path, n, pl, n <= 2 ? n : n <= 4 ? 2 : 3);
    for (int i = 0; i < n; i++) ag_plot_free(pl[i]);
    return rc;
}
