/* plot/svg.c - draws plots as SVG: axes fitted to the data, "nice" ticks (1-2-5 steps; on log
 * axes every multiple of a power of ten for short spans, 1-2-5 or decades with unlabelled minor
 * ticks for longer ones), category names on a categorical axis, grid lines, series clipped to the
 * frame, titles. One panel is 640 x 420; in a grid, an incomplete last row is stretched to the
 * full width, so no empty panel is left. Styles and the legend are in plot/style.c.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "plot_internal.h"

enum { PANEL_W = 640, PANEL_H = 420, LEFT = 78, RIGHT = 24, TOP = 44, BOTTOM = 58 };

typedef ag__plot_axis axis;

static double to_axis(const axis *a, double v) { return a->log ? log10(v) : v; }
static double to_px(const axis *a, double v) { return ag__plot_px(a, v); }

/* Fits an axis to the usable values of every series (x when which == 0, else y). */
static void fit_axis(const ag_plot *p, int which, axis *a)
{
    if (which == 0 && p->ncategories > 0) { /* one slot per category, value i at the centre */
        a->log = false;
        a->lo = -0.5;
        a->hi = p->ncategories - 0.5;
        return;
    }
    a->log = which == 0 ? p->log_x : p->log_y;
    double lo = INFINITY, hi = -INFINITY;
    if (p->fixed[which]) {
        lo = p->range[which][0];
        hi = p->range[which][1];
    } else {
        for (int s = 0; s < p->nseries; s++)
            for (int i = 0; i < p->series[s].n; i++) {
                double v = which == 0 ? p->series[s].x[i] : p->series[s].y[i];
                if (!ag__plot_usable(v, a->log)) continue;
                lo = fmin(lo, v);
                hi = fmax(hi, v);
            }
    }
    if (!(lo <= hi)) { lo = a->log ? 1 : 0; hi = a->log ? 10 : 1; }
    if (a->log && lo <= 0) lo = hi / 10;
    lo = to_axis(a, lo);
    hi = to_axis(a, hi);
    if (hi - lo < 1e-12 * fmax(1, fabs(hi))) { lo -= 0.5; hi += 0.5; }
    if (!p->fixed[which]) {
        double pad = 0.04 * (hi - lo);
        lo -= pad;
        hi += pad;
    }
    a->lo = lo;
    a->hi = hi;
}

static void tick_label(char *buf, size_t n, double v, double step)
{
    if (fabs(v) < step * 1e-9) v = 0;
    double av = fabs(v);
    if (av != 0 && (av >= 1e5 || av < 1e-3)) snprintf(buf, n, "%.0e", v);
    else snprintf(buf, n, "%.6g", v);
}

/* Linear ticks: a 1-2-5 step giving about 5 ticks over [lo, hi]. Returns how many. */
static int linear_ticks(double lo, double hi, double *vals, int max)
{
    double raw = (hi - lo) / 5, mag = pow(10, floor(log10(raw))), f = raw / mag;
    double step = (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * mag;
    int n = 0;
    for (double v = ceil(lo / step) * step; v <= hi + step * 1e-9 && n < max; v += step)
        vals[n++] = v;
    return n;
}

/* Ticks of a log axis: labelled ones in vals (every m * 10^d for a span under about a decade,
 * 1-2-5 for up to 2.5 decades, decades beyond) and unlabelled minor ones in minor (the other
 * multiples, for spans up to 6 decades). A span too short for 3 labels gets linear ticks. */
static void log_ticks(const axis *a, double *vals, int *n, double *minor, int *nminor, int max)
{
    double span = a->hi - a->lo;
    int d0 = (int)floor(a->lo), d1 = (int)ceil(a->hi);
    int every = d1 - d0 > 10 ? (d1 - d0 + 9) / 10 : 1;
    *n = *nminor = 0;
    for (int d = d0; d <= d1; d++)
        for (int m = 1; m <= 9; m++) {
            double v = m * pow(10, d), l = log10(v);
            if (l < a->lo - 1e-9 || l > a->hi + 1e-9) continue;
            bool label = span <= 1.2 ? true
                         : span <= 2.5 ? m == 1 || m == 2 || m == 5
                                       : m == 1 && d % every == 0;
            if (label && *n < max) vals[(*n)++] = v;
            else if (!label && span <= 6 && *nminor < max) minor[(*nminor)++] = v;
        }
    if (*n < 3) { /* less than a decade with few multiples in it: plain steps */
        *nminor = 0;
        *n = linear_ticks(pow(10, a->lo), pow(10, a->hi), vals, max);
    }
}

/* The labelled ticks of an axis into vals (at most max), the minor ones into minor. */
static int ticks(const ag_plot *p, const axis *a, bool is_x, double *vals, double *minor,
                 int *nminor, int max)
{
    int n = 0;
    *nminor = 0;
    if (is_x && p->ncategories > 0) {
        for (int i = 0; i < p->ncategories && n < max; i++) vals[n++] = i;
        return n;
    }
    if (a->log) {
        log_ticks(a, vals, &n, minor, nminor, max);
        return n;
    }
    return linear_ticks(a->lo, a->hi, vals, max);
}

static void draw_axes(FILE *f, const ag_plot *p, const axis *ax, const axis *ay, int ox, int oy)
{
    double x0 = ax->px0, x1 = ax->px1, y0 = ay->px0, y1 = ay->px1;
    double tv[128], mv[128];
    char buf[32];
    for (int which = 0; which < 2; which++) {
        const axis *a = which == 0 ? ax : ay;
        int nm, nt = ticks(p, a, which == 0, tv, mv, &nm, 128);
        double step = nt > 1 ? fabs(tv[1] - tv[0]) : 1;
        for (int i = 0; i < nm; i++) { /* minor: a faint grid line and a short tick */
            double q = to_px(a, mv[i]);
            if (which == 0)
                fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#f3f3f3'/>\n"
                           "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#333'/>\n",
                        q, y1, q, y0, q, y0, q, y0 - 4);
            else
                fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#f3f3f3'/>\n"
                           "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#333'/>\n",
                        x0, q, x1, q, x0, q, x0 + 4, q);
        }
        for (int i = 0; i < nt; i++) {
            double q = to_px(a, tv[i]);
            bool category = which == 0 && p->ncategories > 0;
            if (category) snprintf(buf, sizeof buf, "%.30s", p->categories[i]);
            else tick_label(buf, sizeof buf, tv[i], a->log ? tv[i] : step);
            if (which == 0) {
                fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#e5e5e5'/>\n"
                           "<text x='%.1f' y='%.1f' text-anchor='middle' font-size='12'>",
                        q, y1, q, y0, q, y0 + 17);
            } else {
                fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#e5e5e5'/>\n"
                           "<text x='%.1f' y='%.1f' text-anchor='end' font-size='12'>",
                        x0, q, x1, q, x0 - 6, q + 4);
            }
            ag__plot_text(f, buf);
            fputs("</text>\n", f);
        }
    }
    fprintf(f, "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='none' stroke='#333'/>\n",
            x0, y1, x1 - x0, y0 - y1);
    if (p->title) {
        fprintf(f, "<text x='%.1f' y='%d' text-anchor='middle' font-size='16' "
                   "font-weight='bold'>", (x0 + x1) / 2, oy + 26);
        ag__plot_text(f, p->title);
        fputs("</text>\n", f);
    }
    if (p->xlabel) {
        fprintf(f, "<text x='%.1f' y='%d' text-anchor='middle' font-size='13'>", (x0 + x1) / 2,
                oy + PANEL_H - 14);
        ag__plot_text(f, p->xlabel);
        fputs(ax->log ? " (log scale)</text>\n" : "</text>\n", f);
    }
    if (p->ylabel) {
        double cy = (y0 + y1) / 2;
        fprintf(f, "<text x='%d' y='%.1f' text-anchor='middle' font-size='13' "
                   "transform='rotate(-90 %d %.1f)'>", ox + 18, cy, ox + 18, cy);
        ag__plot_text(f, p->ylabel);
        fputs(ay->log ? " (log scale)</text>\n" : "</text>\n", f);
    }
}

static void draw_series(FILE *f, const ag_plot *p, const axis *ax, const axis *ay, int clip_id)
{
    fprintf(f, "<g clip-path='url(#c%d)'>\n", clip_id);
    for (int s = 0; s < p->nseries; s++) {
        const ag_plot_series *se = &p->series[s];
        const char *color = ag__plot_color(s), *dash = ag__plot_dash(s);
        if (se->line) {
            bool open = false;
            for (int i = 0; i < se->n; i++) {
                bool ok = ag__plot_usable(se->x[i], ax->log) && ag__plot_usable(se->y[i], ay->log);
                if (!ok) {
                    if (open) fputs("'/>\n", f);
                    open = false;
                    continue;
                }
                if (!open) {
                    fprintf(f, "<polyline fill='none' stroke='%s' stroke-width='2' "
                               "stroke-linejoin='round' ", color);
                    if (dash[0]) fprintf(f, "stroke-dasharray='%s' ", dash);
                    fputs("points='", f);
                }
                fprintf(f, "%.1f,%.1f ", to_px(ax, se->x[i]), to_px(ay, se->y[i]));
                open = true;
            }
            if (open) fputs("'/>\n", f);
        }
        if (se->dots) {
            double r = se->line ? 3.5 : 3.0;
            for (int i = 0; i < se->n; i++)
                if (ag__plot_usable(se->x[i], ax->log) && ag__plot_usable(se->y[i], ay->log))
                    ag__plot_marker(f, s, to_px(ax, se->x[i]), to_px(ay, se->y[i]), r);
        }
    }
    fputs("</g>\n", f);
}

/* One panel `w` pixels wide at (ox, oy). The legend goes inside the frame where it hides the
 * least; when every place inside would cover a data point, the frame narrows and the legend
 * stands to its right. */
static void draw_panel(FILE *f, const ag_plot *p, int ox, int oy, int w, int id)
{
    axis ax, ay;
    fit_axis(p, 0, &ax);
    fit_axis(p, 1, &ay);
    ax.px0 = ox + LEFT;
    ax.px1 = ox + w - RIGHT;
    ay.px0 = oy + PANEL_H - BOTTOM; /* y grows downwards in SVG */
    ay.px1 = oy + TOP;
    double lw, lh, lx = 0, ly = 0;
    ag__plot_legend_size(p, &lw, &lh);
    if (lw > 0 && ag__plot_legend_place(p, &ax, &ay, lw, lh, &lx, &ly) > 0 &&
        ax.px1 - ax.px0 - lw - 12 > 0.5 * (w - LEFT - RIGHT)) {
        ax.px1 -= lw + 12;
        lx = ax.px1 + 10;
        ly = ay.px1;
    }
    fprintf(f, "<clipPath id='c%d'><rect x='%.1f' y='%.1f' width='%.1f' height='%.1f'/>"
               "</clipPath>\n", id, ax.px0, ay.px1, ax.px1 - ax.px0, ay.px0 - ay.px1);
    draw_axes(f, p, &ax, &ay, ox, oy);
    draw_series(f, p, &ax, &ay, id);
    ag__plot_legend_draw(f, p, lx, ly, lw, lh);
}

int ag_plot_save_svg_grid(const char *path, int n, ag_plot *const *plots, int columns)
{
    if (!path || !plots || n < 1 || columns < 1) {
        ag__error("ag_plot_save_svg_grid: need a path, n >= 1 plots and columns >= 1 "
                  "(got n = %d, columns = %d)", n, columns);
        return -1;
    }
    for (int i = 0; i < n; i++)
        if (!plots[i]) {
            ag__error("ag_plot_save_svg_grid: plot %d is NULL", i);
            return -1;
        }
    FILE *f = fopen(path, "w");
    if (!f) {
        ag__error("ag_plot_save_svg_grid: cannot open '%s' for writing: %s", path,
                  strerror(errno));
        return -1;
    }
    int cols = n < columns ? n : columns, rows = (n + columns - 1) / columns;
    int total = cols * PANEL_W, last = n - (rows - 1) * cols; /* panels in the last row */
    fprintf(f, "<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' "
               "font-family='Helvetica, Arial, sans-serif'>\n"
               "<rect width='100%%' height='100%%' fill='white'/>\n",
            total, rows * PANEL_H);
    for (int i = 0; i < n; i++) {
        int row = i / cols, col = i % cols;
        int w = row == rows - 1 ? total / last : PANEL_W; /* the last row fills the width */
        draw_panel(f, plots[i], col * w, row * PANEL_H, w, i);
    }
    fputs("</svg>\n", f);
    bool bad = ferror(f) != 0;
    if (fclose(f) != 0 || bad) {
        ag__error("ag_plot_save_svg_grid: writing '%s' failed", path);
        return -1;
    }
    return 0;
}

int ag_plot_save_svg(const ag_plot *p, const char *path)
{
    if (!p) {
        ag__error("ag_plot_save_svg: plot is NULL");
        return -1;
    }
    ag_plot *one = (ag_plot *)p;
    return ag_plot_save_svg_grid(path, 1, &one, 1);
}
