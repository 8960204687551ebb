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
    cr_expect_eq(count(s, "<rect x='") - 3, 4 + 1,
                 "the second series' squares: 4 dots and one legend marker (besides the "
                 "background, the frame and the legend box)");
    cr_expect_eq(count(s, "<circle"), 0);
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
    /* three plots in two columns: the third fills the second row, no empty slot */
    ag_plot *three[3] = {a, b, a};
    cr_assert_eq(ag_plot_save_svg_grid(path, 3, three, 2), 0);
    s = read_all(path);
    cr_expect(strstr(s, "width='1280' height='840'") != NULL);
    cr_expect(strstr(s, "<clipPath id='c2'><rect x='78.0' y='464.0' width='1178.0'"), "%s", s);
    free(s);
    ag_plot_free(a);
    ag_plot_free(b);
    remove(path);
}

Test(plot, every_series_has_its_own_dash_and_marker)
{
    make_path();
    double y[3] = {1, 2, 3};
    ag_plot *p = ag_plot_new("t", NULL, NULL);
    char label[8];
    for (int k = 0; k < 6; k++) {
        snprintf(label, sizeof label, "s%d", k);
        cr_assert_eq(ag_plot_line_points(p, label, 3, NULL, y), 0); /* all on top of each other */
    }
    cr_assert_eq(ag_plot_save_svg(p, path), 0);
    char *s = read_all(path);
    cr_expect_eq(count(s, "<polyline"), 6);
    cr_expect_eq(count(s, "<polyline fill='none' stroke='#1f77b4' stroke-width='2' "
                          "stroke-linejoin='round' points="), 1, "the first is solid");
    const char *dashes[5] = {"7,3", "2,2", "10,3,2,3", "4,4", "12,4"};
    for (int k = 0; k < 5; k++) {
        char want[48];
        snprintf(want, sizeof want, "stroke-dasharray='%s'", dashes[k]);
        cr_expect_eq(count(s, want), 2, "%s on the line and in the legend", want);
    }
    /* markers: circle, square, triangle, diamond, triangle down, open circle */
    cr_expect_eq(count(s, "<circle"), 2 * 4, "filled and open circles, data and legend");
    cr_expect_eq(count(s, "fill='white' stroke='#8c564b'"), 4);
    cr_expect_eq(count(s, "<polygon"), 3 * 4);
    free(s);
    ag_plot_free(p);
    remove(path);
}

Test(plot, categorical_axis_shows_names)
{
    make_path();
    double x[4] = {0, 1, 2, 1}, y[4] = {0.5, 0.7, 0.6, 0.65};
    ag_plot *p = ag_plot_new("score", "optimizer", "loss");
    const char *names[3] = {"sgd", "adam", "a<b"};
    cr_assert_eq(ag_plot_set_xcategories(p, 3, names), 0);
    cr_assert_eq(ag_plot_points(p, "trials", 4, x, y), 0);
    cr_assert_eq(ag_plot_save_svg(p, path), 0);
    char *s = read_all(path);
    cr_expect(strstr(s, ">sgd<") && strstr(s, ">adam<") && strstr(s, ">a&lt;b<"), "%s", s);
    cr_expect_eq(count(s, "text-anchor='middle' font-size='12'"), 3, "one label per category");
    free(s);
    cr_expect_eq(ag_plot_set_xcategories(p, 2, (const char *[]){"a", NULL}), -1);
    expect_error_mentions("ag_plot_set_xcategories", "name 1 is NULL");
    cr_expect_eq(ag_plot_set_xcategories(NULL, 0, NULL), -1);
    cr_assert_eq(ag_plot_set_xcategories(p, 0, NULL), 0, "numeric again");
    ag_plot_free(p);
    remove(path);
}

Test(plot, short_log_spans_get_more_ticks)
{
    make_path();
    double y[3] = {0.45, 0.8, 2.1};
    ag_plot *p = ag_plot_new("t", NULL, NULL);
    ag_plot_set_log(p, false, true);
    ag_plot_line(p, NULL, 3, NULL, y);
    cr_assert_eq(ag_plot_save_svg(p, path), 0);
    char *s = read_all(path);
    const char *labels[] = {">0.5<", ">0.6<", ">0.7<", ">0.8<", ">0.9<", ">1<", ">2<"};
    for (int i = 0; i < 7; i++) cr_expect(strstr(s, labels[i]), "tick %s: %s", labels[i], s);
    free(s);
    ag_plot_free(p);
    /* four decades: labelled decades and unlabelled minor ticks between them */
    double x[2] = {1e-4, 1};
    p = ag_plot_new("t", NULL, NULL);
    ag_plot_set_log(p, true, false);
    ag_plot_line(p, NULL, 2, x, y);
    cr_assert_eq(ag_plot_save_svg(p, path), 0);
    s = read_all(path);
    cr_expect(strstr(s, ">0.001<") && strstr(s, ">0.01<") && !strstr(s, ">0.002<"));
    cr_expect_geq(count(s, "stroke='#f3f3f3'"), 4 * 8, "8 minor ticks per decade");
    free(s);
    ag_plot_free(p);
    remove(path);
}

Test(plot, the_legend_covers_no_data_point)
{
    make_path();
    /* points in every corner, every edge middle and the centre: no place inside is free */
    double x[9] = {0, 0.5, 1, 0, 0.5, 1, 0, 0.5, 1}, y[9] = {0, 0, 0, 0.5, 0.5, 0.5, 1, 1, 1};
    ag_plot *p = ag_plot_new("t", NULL, NULL);
    ag_plot_points(p, "a rather long legend label", 9, x, y);
    cr_assert_eq(ag_plot_save_svg(p, path), 0);
    char *s = read_all(path);
    /* the frame narrowed and the legend stands to its right, beyond every point */
    const char *frame = strstr(s, "<clipPath id='c0'><rect x='78.0' y='44.0' width='");
    cr_assert_not_null(frame, "%s", s);
    double fw = atof(frame + strlen("<clipPath id='c0'><rect x='78.0' y='44.0' width='"));
    cr_expect_lt(fw, 640 - 78 - 24 - 100, "frame width %g", fw);
    const char *box = strstr(s, "fill-opacity='0.9'");
    cr_assert_not_null(box);
    const char *bx = box;
    while (bx > s && strncmp(bx, "<rect x='", 9) != 0) bx--;
    cr_expect_gt(atof(bx + 9), 78 + fw, "legend at x %g, frame ends at %g", atof(bx + 9), 78 + fw);
    free(s);
    ag_plot_free(p);
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
