/* plot/style.c - how series look and where the legend goes.
 *
 * Each series gets its own colour, dash pattern and marker shape, cycling through lists of
 * different lengths, so two series with nearly the same values (Adam and AdamW) stay apart: the
 * one drawn on top is dashed and the other shows through, and their markers differ.
 *
 * The legend goes where it hides the least: nine places in the frame are scored by the data
 * points under them (heavily) and the line samples under them; the caller moves the legend out
 * of the frame when every place would cover a point.
 */
#include <stdio.h>
#include <string.h>

#include "plot_internal.h"

static const char *const COLORS[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                     "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
static const char *const DASHES[] = {"", "7,3", "2,2", "10,3,2,3", "4,4", "12,4"};
enum { NCOLORS = 10, NDASHES = 6, NMARKERS = 6 };

const char *ag__plot_color(int k) { return COLORS[k % NCOLORS]; }
const char *ag__plot_dash(int k) { return DASHES[k % NDASHES]; }

void ag__plot_marker(FILE *f, int k, double x, double y, double r)
{
    const char *c = ag__plot_color(k);
    switch (k % NMARKERS) {
    case 0: fprintf(f, "<circle cx='%.1f' cy='%.1f' r='%.1f' fill='%s'/>\n", x, y, r, c); break;
    case 1: /* square, the same area as the circle */
        fprintf(f, "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='%s'/>\n",
                x - 0.89 * r, y - 0.89 * r, 1.78 * r, 1.78 * r, c);
        break;
    case 2: /* triangle up */
        fprintf(f, "<polygon points='%.1f,%.1f %.1f,%.1f %.1f,%.1f' fill='%s'/>\n", x,
                y - 1.3 * r, x + 1.15 * r, y + 0.75 * r, x - 1.15 * r, y + 0.75 * r, c);
        break;
    case 3: /* diamond */
        fprintf(f, "<polygon points='%.1f,%.1f %.1f,%.1f %.1f,%.1f %.1f,%.1f' fill='%s'/>\n", x,
                y - 1.25 * r, x + 1.25 * r, y, x, y + 1.25 * r, x - 1.25 * r, y, c);
        break;
    case 4: /* triangle down */
        fprintf(f, "<polygon points='%.1f,%.1f %.1f,%.1f %.1f,%.1f' fill='%s'/>\n", x,
                y + 1.3 * r, x + 1.15 * r, y - 0.75 * r, x - 1.15 * r, y - 0.75 * r, c);
        break;
    default: /* an open circle */
        fprintf(f, "<circle cx='%.1f' cy='%.1f' r='%.1f' fill='white' stroke='%s' "
                   "stroke-width='1.8'/>\n", x, y, r, c);
    }
}

void ag__plot_text(FILE *f, const char *s) { ag__xml_text(f, s); }

void ag__plot_legend_size(const ag_plot *p, double *w, double *h)
{
    int n = 0;
    size_t width = 0;
    for (int s = 0; s < p->nseries; s++)
        if (p->series[s].label) {
            n++;
            width = strlen(p->series[s].label) > width ? strlen(p->series[s].label) : width;
        }
    *w = n ? 44 + 6.8 * (double)width : 0;
    *h = n ? 8 + 18.0 * n : 0;
}

static bool inside(double px, double py, double x, double y, double w, double h, double margin)
{
    return px >= x - margin && px <= x + w + margin && py >= y - margin && py <= y + h + margin;
}

/* What the box would hide: each data point counts 1000, each of 8 samples along a line's
 * segments 1. Sets *points to the number of points. */
static long cover(const ag_plot *p, const ag__plot_axis *ax, const ag__plot_axis *ay, double x, double y,
                  double w, double h, int *points)
{
    long score = 0;
    *points = 0;
    for (int s = 0; s < p->nseries; s++) {
        const ag_plot_series *se = &p->series[s];
        bool have_prev = false;
        double qx = 0, qy = 0;
        for (int i = 0; i < se->n; i++) {
            if (!ag__plot_usable(se->x[i], ax->log) || !ag__plot_usable(se->y[i], ay->log)) {
                have_prev = false;
                continue;
            }
            double px = ag__plot_px(ax, se->x[i]), py = ag__plot_px(ay, se->y[i]);
            if (inside(px, py, x, y, w, h, 6)) {
                score += 1000;
                (*points)++;
            }
            if (se->line && have_prev)
                for (int k = 1; k < 8; k++) {
                    double t = k / 8.0;
                    score += inside(qx + t * (px - qx), qy + t * (py - qy), x, y, w, h, 2);
                }
            qx = px;
            qy = py;
            have_prev = true;
        }
    }
    return score;
}

int ag__plot_legend_place(const ag_plot *p, const ag__plot_axis *ax, const ag__plot_axis *ay, double w,
                          double h, double *x, double *y)
{
    /* corners first (the usual places), then the middles of the edges, then the centre */
    double left = ax->px0 + 8, right = ax->px1 - w - 8, cx = (ax->px0 + ax->px1 - w) / 2;
    double top = ay->px1 + 8, bottom = ay->px0 - h - 8, cy = (ay->px0 + ay->px1 - h) / 2;
    const double xs[9] = {right, left, right, left, cx, cx, right, left, cx};
    const double ys[9] = {top, top, bottom, bottom, top, bottom, cy, cy, cy};
    long best = -1;
    int best_points = 0;
    for (int c = 0; c < 9; c++) {
        int points;
        long score = cover(p, ax, ay, xs[c], ys[c], w, h, &points);
        if (best < 0 || score < best) {
            best = score;
            best_points = points;
            *x = xs[c];
            *y = ys[c];
        }
    }
    return best_points;
}

void ag__plot_legend_draw(FILE *f, const ag_plot *p, double x, double y, double w, double h)
{
    if (w <= 0) return;
    fprintf(f, "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='white' "
               "fill-opacity='0.9' stroke='#999'/>\n", x, y, w, h);
    int row = 0;
    for (int s = 0; s < p->nseries; s++) {
        const ag_plot_series *se = &p->series[s];
        if (!se->label) continue;
        double cy = y + 13 + 18.0 * row++;
        if (se->line) {
            fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='%s' "
                       "stroke-width='2'", x + 5, cy, x + 33, cy, ag__plot_color(s));
            if (ag__plot_dash(s)[0]) fprintf(f, " stroke-dasharray='%s'", ag__plot_dash(s));
            fputs("/>\n", f);
        }
        if (se->dots) ag__plot_marker(f, s, x + 19, cy, 3.5);
        fprintf(f, "<text x='%.1f' y='%.1f' font-size='12'>", x + 39, cy + 4);
        ag__plot_text(f, se->label);
        fputs("</text>\n", f);
    }
}
