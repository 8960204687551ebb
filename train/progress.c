/* train/progress.c - Keras-style progress output for ag_fit.
 *
 *   Epoch 3/10
 *    600/1688 [=========>....................] - ETA: 2s - loss: 0.4170 - accuracy: 0.8512
 *   1688/1688 [==============================] - 2s 1ms/step - loss: 0.4170 - accuracy: 0.8512
 *
 * On a terminal the bar is one live line redrawn with '\r' (at most every 50 ms, so printing
 * never costs more than a fraction of a step), fitted to the terminal's width so that it never
 * wraps; elsewhere (files, pipes, CI logs) only the final line of each epoch is written, whole,
 * keeping logs short. The formats follow Keras 2's Progbar.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "train_internal.h"

#define REDRAW_SECONDS 0.05

double ag__now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void ag__progress_init(ag__progress *p, ag_verbosity v, FILE *out)
{
    memset(p, 0, sizeof *p);
    if (v == AG_VERBOSE_SILENT) return;
    p->out = out ? out : stdout;
    if (v == AG_VERBOSE_BAR) p->live = true;
    else if (v == AG_VERBOSE_AUTO) p->live = isatty(fileno(p->out)) == 1;
}

void ag__progress_epoch_begin(ag__progress *p, int epoch, int epochs, int64_t steps)
{
    p->target = steps;
    p->start = ag__now();
    p->last_draw = -1;
    p->prev_width = 0;
    if (!p->out) return;
    fprintf(p->out, "Epoch %d/%d\n", epoch, epochs);
    fflush(p->out);
}

/* ---- fitting the line to the terminal ----
 * A live line wider than the terminal wraps, and every redraw then leaves a line behind. So the
 * line is built from parts and the least important go first until it fits: the bar narrows
 * from 30 to 10 characters, the time per step goes, then the metrics from the last one back to
 * the loss and the first metric, then the bar, then that metric, then the time; the step count
 * and the loss stay, and a line still too long is cut. Lines written to a file or a pipe are
 * never shortened. */

typedef struct parts {
    int64_t cur, target;
    char time[40];        /* "ETA: 2s", or "2s" on the final line */
    char per_step[24];    /* "1ms/step" (final line) or "" */
    int n;
    char vals[AG__MAX_COLUMNS][64]; /* " - loss: 0.4170" */
} parts;

/* Columns of the terminal `out` writes to: TIOCGWINSZ, else $COLUMNS, else 80. */
static int terminal_width(FILE *out)
{
    struct winsize ws;
    int fd = fileno(out);
    if (fd >= 0 && ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
    const char *c = getenv("COLUMNS");
    long v = c ? strtol(c, NULL, 10) : 0;
    return v > 0 && v < 100000 ? (int)v : 80;
}

static int digits(int64_t v)
{
    int d = 1;
    for (; v >= 10; v /= 10) d++;
    return d;
}

/* Builds the line with `nvals` values, a bar `bar` wide (0: none), the time or not, the time per
 * step or not. Returns its length. */
static int compose(char *buf, size_t size, const parts *pt, int bar, bool time, bool per_step,
                   int nvals)
{
    int len = snprintf(buf, size, "%*lld/%lld", digits(pt->target), (long long)pt->cur,
                       (long long)pt->target);
    if (bar > 0 && len + bar + 4 < (int)size) {
        int w = pt->target > 0 ? (int)((double)bar * (double)pt->cur / (double)pt->target) : bar;
        if (w > bar) w = bar;
        buf[len++] = ' ';
        buf[len++] = '[';
        for (int i = 0; i < bar; i++)
            buf[len++] = i < w - 1 ? '=' : i == w - 1 ? (pt->cur < pt->target ? '>' : '=') : '.';
        buf[len++] = ']';
        buf[len] = '\0';
    }
    if (time) len += snprintf(buf + len, size - (size_t)len, " - %s", pt->time);
    if (per_step && pt->per_step[0])
        len += snprintf(buf + len, size - (size_t)len, "%s%s", time ? " " : " - ", pt->per_step);
    for (int i = 0; i < nvals && len < (int)size; i++)
        len += snprintf(buf + len, size - (size_t)len, "%s", pt->vals[i]);
    return len < (int)size ? len : (int)size - 1;
}

/* The fullest line that fits in `width` columns (all of it when width is 0). */
static int fit_line(char *buf, size_t size, const parts *pt, int width)
{
    enum { FULL_BAR = 30, MIN_BAR = 10 };
    int len = compose(buf, size, pt, FULL_BAR, true, true, pt->n);
    if (width <= 0 || len <= width) return len;
    /* the bar narrows first: len - FULL_BAR + bar <= width */
    if (len - FULL_BAR + MIN_BAR <= width)
        return compose(buf, size, pt, width - (len - FULL_BAR), true, true, pt->n);
    /* then the time per step, the metrics from the end down to the loss and one more (the
     * numbers say more than the bar), the bar, the rest of the metrics, the time */
    int keep = pt->n < 2 ? pt->n : 2;
    for (int n = pt->n; n >= keep; n--)
        if ((len = compose(buf, size, pt, MIN_BAR, true, false, n)) <= width) return len;
    for (int n = keep; n >= 1; n--)
        if ((len = compose(buf, size, pt, 0, true, false, n)) <= width) return len;
    for (int n = 1; n >= 0; n--)
        if ((len = compose(buf, size, pt, 0, false, false, n)) <= width) return len;
    buf[width] = '\0'; /* a very narrow terminal: cut */
    return width;
}

/* Appends " - name: value" pairs (4 decimals, or 4 significant digits in e-notation for tiny
 * values, as Keras) as separate parts. */
static void set_values(parts *pt, int n, const char *const *names, const double *vals)
{
    pt->n = n < AG__MAX_COLUMNS ? n : AG__MAX_COLUMNS;
    for (int i = 0; i < pt->n; i++)
        snprintf(pt->vals[i], sizeof pt->vals[i],
                 fabs(vals[i]) > 1e-3 || vals[i] == 0 ? " - %s: %.4f" : " - %s: %.4e", names[i],
                 vals[i]);
}

static void eta_text(char *buf, size_t size, double eta)
{
    long s = (long)eta;
    if (eta > 3600) snprintf(buf, size, "%ld:%02ld:%02ld", s / 3600, (s % 3600) / 60, s % 60);
    else if (eta > 60) snprintf(buf, size, "%ld:%02ld", s / 60, s % 60);
    else snprintf(buf, size, "%lds", s);
}

static void per_step_text(char *buf, size_t size, double t)
{
    if (t >= 1 || t == 0) snprintf(buf, size, "%.0fs/step", t);
    else if (t >= 1e-3) snprintf(buf, size, "%.0fms/step", t * 1e3);
    else snprintf(buf, size, "%.0fus/step", t * 1e6);
}

/* Writes a live line over the previous one, blanking what is left of a longer old line. The
 * line is at most width - 1 columns, so the cursor never reaches the last column (where some
 * terminals wrap at once). */
static void draw(ag__progress *p, const parts *pt, bool final)
{
    char line[1024];
    int width = terminal_width(p->out) - 1;
    if (width < 1) width = 1;
    int len = fit_line(line, sizeof line, pt, width);
    int pad = p->prev_width > len ? p->prev_width - len : 0;
    if (len + pad > width) pad = width - len;
    fprintf(p->out, "\r%s%*s%s", line, pad, "", final ? "\n" : "");
    fflush(p->out);
    p->prev_width = final ? 0 : len;
}

void ag__progress_step(ag__progress *p, int64_t step, int n, const char *const *names,
                       const double *vals)
{
    if (!p->out || !p->live || step >= p->target) return;
    double now = ag__now();
    if (p->last_draw >= 0 && now - p->last_draw < REDRAW_SECONDS) return;
    p->last_draw = now;
    parts pt = {.cur = step, .target = p->target};
    char eta[32];
    eta_text(eta, sizeof eta, (now - p->start) / (double)step * (double)(p->target - step));
    snprintf(pt.time, sizeof pt.time, "ETA: %s", eta);
    set_values(&pt, n, names, vals);
    draw(p, &pt, false);
}

void ag__progress_epoch_end(ag__progress *p, int64_t steps, int n, const char *const *names,
                            const double *vals)
{
    if (!p->out) return;
    double elapsed = ag__now() - p->start;
    parts pt = {.cur = steps, .target = p->target};
    per_step_text(pt.per_step, sizeof pt.per_step, steps > 0 ? elapsed / (double)steps : 0);
    /* Keras prints whole seconds; short epochs say more in ms or with one decimal */
    if (elapsed < 1) snprintf(pt.time, sizeof pt.time, "%.0fms", elapsed * 1e3);
    else snprintf(pt.time, sizeof pt.time, elapsed < 10 ? "%.1fs" : "%.0fs", elapsed);
    set_values(&pt, n, names, vals);
    if (p->live) {
        draw(p, &pt, true);
    } else {
        char line[1024];
        fit_line(line, sizeof line, &pt, 0);
        fprintf(p->out, "%s\n", line);
        fflush(p->out);
    }
}

void ag__progress_message(ag__progress *p, const char *fmt, ...)
{
    if (!p->out) return;
    if (p->prev_width > 0) fputc('\n', p->out); /* end an unfinished live line */
    p->prev_width = 0;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(p->out, fmt, ap);
    va_end(ap);
    fputc('\n', p->out);
    fflush(p->out);
}
