/* tests/test_plot.c - the SVG plot writer: files are well formed, series break at non-finite
 * values, text is escaped, log axes skip non-positive values, bad arguments give errors. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <autograd.h>
#include "test_util.h"

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    cr_assert_eq(fread(s, 1, (size_t)n, f), (size_t)n);
    s[n] = 0;
    fclose(f);
    return s;
}

static int count(const char *s, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(s, needle); p; p = strstr(p + 1, needle)) n++;
    return n;
}

static char path[64];

static void make_path(void)
{
    snprintf(path, sizeof path, "/tmp/ag_test_plot_%d.svg", (int)getpid());
}

Test(plot, line_plot_is_an_svg_with_labels_and_legend)
{
    make_path();
    double y[4] = {3, 1, 2, 0.5};
    ag_plot *p = ag_plot_new("Loss <train & val>", "epoch", "loss");
    cr_assert_not_null(p);
    cr_assert_eq(ag_plot_line(p, "train", 4, NULL, y), 0);
    cr_assert_eq(ag_plot_points(p, "dots", 4, NULL, y), 0);
    cr_assert_eq(ag_plot_save_svg(p, path), 0, "%s", ag_last_error());
    char *s = read_all(path);
    cr_expect(strncmp(s, "<svg ", 5) == 0);
    cr_expect(strstr(s, "</svg>") != NULL);
    cr_expect(strstr(s, "Loss &lt;train &amp; val&gt;") != NULL, "title escaped");
    cr_expect(strstr(s, ">epoch<") != NULL && strstr(s, ">loss<") != NULL);
    cr_expect_eq(count(s, "<polyline"), 1);
    cr_expect_eq(count(s, "<circle"), 4 + 1, "4 dots and one legend marker");
    cr_expect(strstr(s, ">train<") && strstr(s, ">dots<"));
    free(s);
    ag_plot_free(p);
    remove(path);
}

Test(plot, non_finite_values_break_the_line)
{
    make_path();
    double y[5] = {1, 2, NAN, 4, INFINITY};
    ag_plot *p = ag_plot_new(NULL, NULL, NULL);
    cr_assert_eq(ag_plot_line(p, NULL, 5, NULL, y), 0);
    cr_assert_eq(ag_plot_save_svg(p, path), 0);
    char *s = read_all(path);
    cr_expect_eq(count(s, "<polyline"), 2, "two pieces around the NaN");
    cr_expect(strstr(s, "nan") == NULL && strstr(s, "inf") == NULL);
    free(s);
    ag_plot_free(p);
    remove(path);
}

Test(plot, log_axes_skip_non_positive_values_and_show_decades)
{
    make_path();
    double x[4] = {1e-6, 1e-3, 0, 1}, y[4] = {1e-10, 1e-4, 5, -1};
    ag_plot *p = ag_plot_new("t", "eps", "error");
    cr_assert_eq(ag_plot_set_log(p, true, true), 0);
    cr_assert_eq(ag_plot_line_points(p, "a", 4, x, y), 0);
    cr_assert_eq(ag_plot_save_svg(p, path), 0);
    char *s = read_all(path);
    cr_expect_eq(count(s, "<circle"), 2 + 1, "only the two positive points, plus the legend");
    cr_expect(strstr(s, ">1e-06<") != NULL, "a decade tick");
    cr_expect(strstr(s, "(log scale)") != NULL);
    free(s);
    ag_plot_free(p);
    remove(path);
}

Test(plot, grid_of_plots_and_fixed_ranges)
{
    make_path();
    double y[2] = {0, 1};
    ag_plot *a = ag_plot_new("a", NULL, NULL), *b = ag_plot_new("b", NULL, NULL);
    ag_plot_line(a, NULL, 2, NULL, y);
    ag_plot_line(b, NULL, 2, NULL, y);
    cr_assert_eq(ag_plot_set_yrange(b, 0, 1), 0);
    ag_plot *both[2] = {a, b};
    cr_assert_eq(ag_plot_save_svg_grid(path, 2, both, 2), 0);
    char *s = read_all(path);
    cr_expect(strstr(s, "width='1280' height='420'") != NULL);
    cr_expect_eq(count(s, "<clipPath"), 2);
    free(s);
    ag_plot_free(a);
    ag_plot_free(b);
    remove(path);
}

Test(plot, bad_arguments_are_errors)
{
    double y[1] = {1};
    ag_plot *p = ag_plot_new("t", NULL, NULL);
    cr_expect_eq(ag_plot_line(NULL, "a", 1, NULL, y), -1);
    expect_error_mentions("ag_plot_line", "plot");
    cr_expect_eq(ag_plot_line(p, "a", 0, NULL, y), -1);
    expect_error_mentions("ag_plot_line", "0 points");
    cr_expect_eq(ag_plot_set_xrange(p, 2, 1), -1);
    expect_error_mentions("ag_plot_set_xrange", "[2, 1]");
    cr_expect_eq(ag_plot_save_svg(p, "/nonexistent-dir/x.svg"), -1);
    expect_error_mentions("ag_plot_save_svg_grid", "/nonexistent-dir/x.svg");
    for (int i = 0; i < 16; i++) cr_assert_eq(ag_plot_line(p, NULL, 1, NULL, y), 0);
    cr_expect_eq(ag_plot_line(p, NULL, 1, NULL, y), -1);
    expect_error_mentions("ag_plot_line", "at most 16");
    ag_plot_free(p);
    ag_plot_free(NULL);
}
