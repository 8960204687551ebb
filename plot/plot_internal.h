/* plot/plot_internal.h - the plot struct shared by plot.c (data) and svg.c (drawing). */
#ifndef AG_PLOT_INTERNAL_H
#define AG_PLOT_INTERNAL_H

#include <stdbool.h>
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
    int nseries;
    ag_plot_series series[AG_PLOT_MAX_SERIES];
};

bool ag__plot_usable(double v, bool log_axis);

#endif
