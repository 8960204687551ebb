/* train/progress.c - Keras-style progress output for ag_fit.
 *
 *   Epoch 3/10
 *    600/1688 [=========>....................] - ETA: 2s - loss: 0.4170 - accuracy: 0.8512
 *   1688/1688 [==============================] - 2s 1ms/step - loss: 0.4170 - accuracy: 0.8512
 *
 * On a terminal the bar is one live line redrawn with '\r' (at most every 50 ms, so printing
 * never costs more than a fraction of a step); elsewhere (files, pipes, CI logs) only the final
 * line of each epoch is written, keeping logs short. The formats follow Keras 2's Progbar.
 */
#include <math.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "train_internal.h"

#define BAR_WIDTH 30
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

/* "  600/1688 [=========>....................]" into buf; returns its length. */
static int bar(char *buf, size_t size, int64_t cur, int64_t target)
{
    int digits = 1;
    for (int64_t t = target; t >= 10; t /= 10) digits++;
    int len = snprintf(buf, size, "%*lld/%lld [", digits, (long long)cur, (long long)target);
    int w = target > 0 ? (int)((double)BAR_WIDTH * (double)cur / (double)target) : BAR_WIDTH;
    if (w > BAR_WIDTH) w = BAR_WIDTH;
    for (int i = 0; i < BAR_WIDTH && len + 2 < (int)size; i++)
        buf[len++] = i < w - 1 ? '=' : i == w - 1 ? (cur < target ? '>' : '=') : '.';
    buf[len++] = ']';
    buf[len] = '\0';
    return len;
}

/* Appends " - name: value" pairs (4 decimals, or 4 significant digits in e-notation for tiny
 * values, as Keras). */
static int values(char *buf, size_t size, int n, const char *const *names, const double *vals)
{
    int len = 0;
    for (int i = 0; i < n && len < (int)size; i++)
        len += snprintf(buf + len, size - (size_t)len,
                        fabs(vals[i]) > 1e-3 || vals[i] == 0 ? " - %s: %.4f" : " - %s: %.4e",
                        names[i], vals[i]);
    return len < (int)size ? len : (int)size - 1;
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

/* Writes a live line over the previous one, blanking what is left of a longer old line. */
static void draw(ag__progress *p, const char *line, int len, bool final)
{
    int pad = p->prev_width > len ? p->prev_width - len : 0;
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
    char line[512], eta[32];
    int len = bar(line, sizeof line, step, p->target);
    eta_text(eta, sizeof eta, (now - p->start) / (double)step * (double)(p->target - step));
    len += snprintf(line + len, sizeof line - (size_t)len, " - ETA: %s", eta);
    len += values(line + len, sizeof line - (size_t)len, n, names, vals);
    draw(p, line, len, false);
}

void ag__progress_epoch_end(ag__progress *p, int64_t steps, int n, const char *const *names,
                            const double *vals)
{
    if (!p->out) return;
    double elapsed = ag__now() - p->start;
    char line[1024], per[32];
    int len = bar(line, sizeof line, steps, p->target);
    per_step_text(per, sizeof per, steps > 0 ? elapsed / (double)steps : 0);
    /* Keras prints whole seconds; short epochs say more in ms or with one decimal */
    if (elapsed < 1)
        len += snprintf(line + len, sizeof line - (size_t)len, " - %.0fms %s", elapsed * 1e3, per);
    else
        len += snprintf(line + len, sizeof line - (size_t)len,
                        elapsed < 10 ? " - %.1fs %s" : " - %.0fs %s", elapsed, per);
    len += values(line + len, sizeof line - (size_t)len, n, names, vals);
    if (p->live) {
        draw(p, line, len, true);
    } else {
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
