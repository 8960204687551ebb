/* autograd/plot.h - line and scatter plots written as SVG files, with no dependency.
 *
 * Enough to look at training: loss curves, a learning-rate sweep on a log axis, error against eps
 * on log-log axes, a 2-D data set coloured by class. A plot is a set of series over one pair of
 * axes; several plots can be written side by side into one file.
 *
 *     ag_plot *p = ag_plot_new("Training loss", "epoch", "loss");
 *     ag_plot_line(p, "train", n, epochs, loss);
 *     ag_plot_line(p, "validation", n, epochs, val_loss);
 *     ag_plot_save_svg(p, "loss.svg");
 *     ag_plot_free(p);
 *
 * Non-finite values (and values <= 0 on a log axis) are skipped: a line breaks there.
 * Each series has its own colour, dash pattern and marker shape, so overlapping series stay
 * distinguishable; the legend goes where it covers no data point (outside the frame, on the
 * right, when there is no such place inside).
 */
#ifndef AUTOGRAD_PLOT_H
#define AUTOGRAD_PLOT_H

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ag_plot ag_plot;

/* A new, empty plot. Any string may be NULL (nothing drawn). The strings are copied. */
ag_plot *ag_plot_new(const char *title, const char *xlabel, const char *ylabel);

/* Logarithmic (base 10) axes; off by default. */
int ag_plot_set_log(ag_plot *p, bool log_x, bool log_y);

/* Fixes the range of an axis instead of fitting it to the data (lo < hi; positive for a log
 * axis). */
int ag_plot_set_xrange(ag_plot *p, double lo, double hi);
int ag_plot_set_yrange(ag_plot *p, double lo, double hi);

/* Makes the x axis categorical: the value i stands for names[i] (i = 0..n-1), and the axis shows
 * the names instead of numbers (for a choice such as the optimizer). The names are copied; n = 0
 * makes the axis numeric again. Overrides the log setting of x. Returns 0 or -1. */
int ag_plot_set_xcategories(ag_plot *p, int n, const char *const *names);

/* A series drawn as a line through n points (x may be NULL: 1, 2, ..., n). The label appears in
 * the legend (NULL: no legend entry). Values are copied. Returns 0, or -1 with an error. */
int ag_plot_line(ag_plot *p, const char *label, int n, const double *x, const double *y);

/* A series drawn as dots (a scatter plot), same conventions. */
int ag_plot_points(ag_plot *p, const char *label, int n, const double *x, const double *y);

/* A line and a dot at each point. */
int ag_plot_line_points(ag_plot *p, const char *label, int n, const double *x, const double *y);

/* Writes the plot as an SVG file (about 640 x 420 pixels). */
int ag_plot_save_svg(const ag_plot *p, const char *path);

/* Writes n plots side by side, `columns` per row, into one SVG file. When the last row has fewer
 * plots, they are widened to fill it, so the picture has no empty slot. */
int ag_plot_save_svg_grid(const char *path, int n, ag_plot *const *plots, int columns);

void ag_plot_free(ag_plot *p);

#ifdef __cplusplus
}
#endif
#endif
