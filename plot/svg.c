/* plot/svg.c - draws plots as SVG: axes fitted to the data, "nice" ticks (1-2-5 steps, decades on
 * log axes), grid lines, series clipped to the frame, a legend, titles. One panel is 640 x 420.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "plot_internal.h"

enum { PANEL_W = 640, PANEL_H = 420, LEFT = 78, RIGHT = 24, TOP = 44, BOTTOM = 58 };

static const char *const COLORS[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                     "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
#define NCOLORS ((int)(sizeof COLORS / sizeof COLORS[0]))

typedef struct axis {
    bool log;
    double lo, hi;        /* data range, in log10 units on a log axis */
    double px0, px1;      /* pixel positions of lo and hi */
} axis;

static void put_text(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*s, f);
        }
    }
}

static double to_axis(const axis *a, double v) { return a->log ? log10(v) : v; }

static double to_px(const axis *a, double v)
{
    return a->px0 + (to_axis(a, v) - a->lo) / (a->hi - a->lo) * (a->px1 - a->px0);
}

/* Fits an axis to the usable values of every series (x when which == 0, else y). */
static void fit_axis(const ag_plot *p, int which, axis *a)
{
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

/* Fills vals with the tick values of the axis (at most max); returns how many. */
static int ticks(const axis *a, double *vals, int max)
{
    int n = 0;
    if (a->log) {
        int d0 = (int)floor(a->lo), d1 = (int)ceil(a->hi);
        bool sub = d1 - d0 <= 2;
        int every = d1 - d0 > 10 ? (d1 - d0 + 9) / 10 : 1;
        for (int d = d0; d <= d1 && n < max; d++) {
            if (d % every) continue;
            static const double mult[] = {1, 2, 5};
            for (int m = 0; m < (sub ? 3 : 1) && n < max; m++) {
                double v = mult[m] * pow(10, d), l = log10(v);
                if (l >= a->lo - 1e-9 && l <= a->hi + 1e-9) vals[n++] = v;
            }
        }
        return n;
    }
    double raw = (a->hi - a->lo) / 5, mag = pow(10, floor(log10(raw))), f = raw / mag;
    double step = (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * mag;
    for (double v = ceil(a->lo / step) * step; v <= a->hi + step * 1e-9 && n < max; v += step)
        vals[n++] = v;
    return n;
}

static void draw_axes(FILE *f, const ag_plot *p, const axis *ax, const axis *ay, int ox, int oy)
{
    double x0 = ax->px0, x1 = ax->px1, y0 = ay->px0, y1 = ay->px1;
    double tv[64];
    char buf[32];
    int nt = ticks(ax, tv, 64);
    double step = nt > 1 ? fabs(tv[1] - tv[0]) : 1;
    for (int i = 0; i < nt; i++) {
        double px = to_px(ax, tv[i]);
        fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#e5e5e5'/>\n",
                px, y1, px, y0);
        tick_label(buf, sizeof buf, tv[i], ax->log ? tv[i] : step);
        fprintf(f, "<text x='%.1f' y='%.1f' text-anchor='middle' font-size='12'>%s</text>\n",
                px, y0 + 17, buf);
    }
    nt = ticks(ay, tv, 64);
    step = nt > 1 ? fabs(tv[1] - tv[0]) : 1;
    for (int i = 0; i < nt; i++) {
        double py = to_px(ay, tv[i]);
        fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#e5e5e5'/>\n",
                x0, py, x1, py);
        tick_label(buf, sizeof buf, tv[i], ay->log ? tv[i] : step);
        fprintf(f, "<text x='%.1f' y='%.1f' text-anchor='end' font-size='12'>%s</text>\n",
                x0 - 6, py + 4, buf);
    }
    fprintf(f, "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='none' stroke='#333'/>\n",
            x0, y1, x1 - x0, y0 - y1);
    if (p->title) {
        fprintf(f, "<text x='%.1f' y='%d' text-anchor='middle' font-size='16' "
                   "font-weight='bold'>", (x0 + x1) / 2, oy + 26);
        put_text(f, p->title);
        fputs("</text>\n", f);
    }
    if (p->xlabel) {
        fprintf(f, "<text x='%.1f' y='%d' text-anchor='middle' font-size='13'>", (x0 + x1) / 2,
                oy + PANEL_H - 14);
        put_text(f, p->xlabel);
        fputs(ax->log ? " (log scale)</text>\n" : "</text>\n", f);
    }
    if (p->ylabel) {
        double cy = (y0 + y1) / 2;
        fprintf(f, "<text x='%d' y='%.1f' text-anchor='middle' font-size='13' "
                   "transform='rotate(-90 %d %.1f)'>", ox + 18, cy, ox + 18, cy);
        put_text(f, p->ylabel);
        fputs(ay->log ? " (log scale)</text>\n" : "</text>\n", f);
    }
}

static void draw_series(FILE *f, const ag_plot *p, const axis *ax, const axis *ay, int clip_id)
{
    fprintf(f, "<g clip-path='url(#c%d)'>\n", clip_id);
    for (int s = 0; s < p->nseries; s++) {
        const ag_plot_series *se = &p->series[s];
        const char *color = COLORS[s % NCOLORS];
        if (se->line) {
            bool open = false;
            for (int i = 0; i < se->n; i++) {
                bool ok = ag__plot_usable(se->x[i], ax->log) && ag__plot_usable(se->y[i], ay->log);
                if (!ok) {
                    if (open) fputs("'/>\n", f);
                    open = false;
                    continue;
                }
                if (!open)
                    fprintf(f, "<polyline fill='none' stroke='%s' stroke-width='2' "
                               "stroke-linejoin='round' points='", color);
                fprintf(f, "%.1f,%.1f ", to_px(ax, se->x[i]), to_px(ay, se->y[i]));
                open = true;
            }
            if (open) fputs("'/>\n", f);
        }
        if (se->dots) {
            double r = se->line ? 3.5 : 2.2;
            for (int i = 0; i < se->n; i++)
                if (ag__plot_usable(se->x[i], ax->log) && ag__plot_usable(se->y[i], ay->log))
                    fprintf(f, "<circle cx='%.1f' cy='%.1f' r='%.1f' fill='%s'/>\n",
                            to_px(ax, se->x[i]), to_px(ay, se->y[i]), r, color);
        }
    }
    fputs("</g>\n", f);
}

static void draw_legend(FILE *f, const ag_plot *p, const axis *ax, const axis *ay)
{
    int n = 0;
    size_t width = 0;
    for (int s = 0; s < p->nseries; s++)
        if (p->series[s].label) {
            n++;
            width = strlen(p->series[s].label) > width ? strlen(p->series[s].label) : width;
        }
    if (!n) return;
    double w = 40 + 7.2 * (double)width, h = 8 + 18.0 * n, x = ax->px1 - w - 8, y = ay->px1 + 8;
    /* Put the legend where it hides the fewest data points: a corner, else mid-height. */
    double mid = (ay->px0 + ay->px1 - h) / 2;
    double lx[6] = {ax->px1 - w - 8, ax->px0 + 8, ax->px1 - w - 8, ax->px0 + 8,
                    ax->px1 - w - 8, ax->px0 + 8};
    double ly[6] = {ay->px1 + 8, ay->px1 + 8, ay->px0 - h - 8, ay->px0 - h - 8, mid, mid};
    int best = -1, best_hidden = 0;
    for (int c = 0; c < 6; c++) {
        int hidden = 0;
        for (int s = 0; s < p->nseries; s++)
            for (int i = 0; i < p->series[s].n; i++) {
                double vx = p->series[s].x[i], vy = p->series[s].y[i];
                if (!ag__plot_usable(vx, ax->log) || !ag__plot_usable(vy, ay->log)) continue;
                double px = to_px(ax, vx), py = to_px(ay, vy);
                hidden += px >= lx[c] - 6 && px <= lx[c] + w + 6 && py >= ly[c] - 6 &&
                          py <= ly[c] + h + 6;
            }
        if (best < 0 || hidden < best_hidden) {
            best = c;
            best_hidden = hidden;
        }
    }
    x = lx[best];
    y = ly[best];
    fprintf(f, "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='white' "
               "fill-opacity='0.85' stroke='#999'/>\n", x, y, w, h);
    int row = 0;
    for (int s = 0; s < p->nseries; s++) {
        const ag_plot_series *se = &p->series[s];
        if (!se->label) continue;
        double cy = y + 13 + 18.0 * row++;
        const char *color = COLORS[s % NCOLORS];
        if (se->line)
            fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='%s' "
                       "stroke-width='2'/>\n", x + 6, cy, x + 28, cy, color);
        if (se->dots)
            fprintf(f, "<circle cx='%.1f' cy='%.1f' r='3.5' fill='%s'/>\n", x + 17, cy, color);
        fprintf(f, "<text x='%.1f' y='%.1f' font-size='12'>", x + 34, cy + 4);
        put_text(f, se->label);
        fputs("</text>\n", f);
    }
}

static void draw_panel(FILE *f, const ag_plot *p, int ox, int oy, int id)
{
    axis ax, ay;
    fit_axis(p, 0, &ax);
    fit_axis(p, 1, &ay);
    ax.px0 = ox + LEFT;
    ax.px1 = ox + PANEL_W - RIGHT;
    ay.px0 = oy + PANEL_H - BOTTOM; /* y grows downwards in SVG */
    ay.px1 = oy + TOP;
    fprintf(f, "<clipPath id='c%d'><rect x='%.1f' y='%.1f' width='%.1f' height='%.1f'/>"
               "</clipPath>\n", id, ax.px0, ay.px1, ax.px1 - ax.px0, ay.px0 - ay.px1);
    draw_axes(f, p, &ax, &ay, ox, oy);
    draw_series(f, p, &ax, &ay, id);
    draw_legend(f, p, &ax, &ay);
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
    fprintf(f, "<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' "
               "font-family='Helvetica, Arial, sans-serif'>\n"
               "<rect width='100%%' height='100%%' fill='white'/>\n",
            cols * PANEL_W, rows * PANEL_H);
    for (int i = 0; i < n; i++)
        draw_panel(f, plots[i], (i % columns) * PANEL_W, (i / columns) * PANEL_H, i);
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
