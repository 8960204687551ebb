/* plot/plot_internal.h - the plot struct shared by plot.c (data) and svg.c (drawing). */
#ifndef AG_PLOT_INTERNAL_H
#define AG_PLOT_INTERNAL_H

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include "../autograd/internal.h"
#include "autograd/plot.h"

#define AG_PLOT_MAX_SERIES 16

typedef struct ag_plot_series {
    char *label;
    int n;
    double *x, *y;
    bool line, dots;
} ag_plot_series;

struct ag_plot {
    char *title, *xlabel, *ylabel;
    bool log_x, log_y;
    bool fixed[2];        /* axis range given by the user (x, y) */
    double range[2][2];
    int ncategories;      /* > 0: x is categorical, value i is categories[i] */
    char **categories;
    int nseries;
    ag_plot_series series[AG_PLOT_MAX_SERIES];
};

bool ag__plot_usable(double v, bool log_axis);

/* ---- drawing (svg.c draws axes and panels, style.c series styles and legends) ---- */

/* An axis fitted to the data: its range (in log10 units on a log axis) and where it is drawn. */
typedef struct ag__plot_axis {
    bool log;
    double lo, hi;
    double px0, px1;      /* pixel positions of lo and hi */
} ag__plot_axis;

static inline double ag__plot_px(const ag__plot_axis *a, double v)
{
    double u = a->log ? log10(v) : v;
    return a->px0 + (u - a->lo) / (a->hi - a->lo) * (a->px1 - a->px0);
}

/* Series k's look: a colour, a dash pattern ("" for solid) and a marker shape, each cycling
 * through its own list, so series that overlap stay apart even in grey. */
const char *ag__plot_color(int k);
const char *ag__plot_dash(int k);
/* Draws series k's marker centred at (x, y) with radius r. */
void ag__plot_marker(FILE *f, int k, double x, double y, double r);

/* Text with <, >, & and quotes escaped for SVG. */
void ag__plot_text(FILE *f, const char *s);

/* The legend's size for plot p (0 x 0 when no series has a label). */
void ag__plot_legend_size(const ag_plot *p, double *w, double *h);
/* Where the legend hides the least of the data inside the frame of axes ax, ay: *x, *y are its
 * top-left corner; returns the number of data points it would cover there. */
int ag__plot_legend_place(const ag_plot *p, const ag__plot_axis *ax, const ag__plot_axis *ay, double w,
                          double h, double *x, double *y);
void ag__plot_legend_draw(FILE *f, const ag_plot *p, double x, double y, double w, double h);

#endif
