/* tests/test_progress_tty.c - the live progress bar in a real pseudo-terminal of 60, 80 and 120
 * columns: ag_fit runs in a child whose stdout is the terminal (so AG_VERBOSE_AUTO picks the live
 * bar, and the width comes from TIOCGWINSZ); the parent reads everything the child wrote and
 * checks that no redraw (the text after a '\r') and no line is as wide as the terminal, so none
 * wraps and leaves a line behind. Also: the least important fields go first, $COLUMNS is used
 * when the output is no terminal, and files get whole lines.
 */
#define _DEFAULT_SOURCE
#include <pty.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fit_test_util.h"

/* Cross-entropy that takes a millisecond, so an epoch lasts long enough for several redraws. */
static ag_tensor *slow_cross_entropy(ag_tensor *pred, ag_tensor *target, void *ctx)
{
    (void)ctx;
    usleep(1000);
    return ag_cross_entropy(pred, target, NULL);
}

/* Trains a small model with every metric and validation data (long lines) for 2 epochs, the
 * progress going to stdout. Runs in the child. */
static void train_to_stdout(void)
{
    ag_dataset *data = ag_make_blobs(3200, 8, 3, 1.0, 1.0, 3, AG_F32);
    ag_module *m = mlp(8, 16, 3, AG_ACT_RELU, AG_F32, 1);
    ag_optimizer *opt = adam(m, 1e-2);
    ag_trainer *t = ag_compile(m, opt, AG_LOSS_CROSS_ENTROPY,
                               AG_METRIC_ACCURACY | AG_METRIC_MSE | AG_METRIC_MAE);
    ag_trainer_set_loss_fn(t, slow_cross_entropy, NULL);
    ag_fit_opts fo = ag_fit_defaults();
    fo.epochs = 2;
    fo.batch_size = 16;
    fo.validation_split = 0.2;
    fo.verbose = AG_VERBOSE_AUTO;
    ag_history *h = ag_fit(t, data, &fo);
    fflush(stdout);
    _exit(h ? 0 : 1);
}

/* Everything a child wrote to a terminal `cols` wide. */
static char *run_in_pty(int cols, size_t *len)
{
    struct winsize ws = {.ws_row = 24, .ws_col = (unsigned short)cols};
    int master;
    pid_t pid = forkpty(&master, NULL, NULL, &ws);
    cr_assert_geq(pid, 0, "forkpty failed");
    if (pid == 0) {
        unsetenv("COLUMNS"); /* the width must come from the terminal itself */
        train_to_stdout();
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (n + 4096 > cap) buf = realloc(buf, cap *= 2);
        ssize_t got = read(master, buf + n, 4096);
        if (got <= 0) break; /* EIO once the child has exited and closed the terminal */
        n += (size_t)got;
    }
    int status;
    waitpid(pid, &status, 0);
    close(master);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child's fit failed:\n%.*s",
              (int)n, buf);
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* Widest piece of text between two '\r' or '\n' (the terminal turns "\n" into "\r\n"), and how
 * many pieces there were. */
static int widest_segment(const char *s, size_t len, int *segments, int *redraws)
{
    int widest = 0, cur = 0;
    *segments = 0;
    *redraws = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || s[i] == '\r' || s[i] == '\n') {
            if (cur > 0) (*segments)++;
            widest = cur > widest ? cur : widest;
            cur = 0;
            *redraws += i < len && s[i] == '\r';
        } else {
            cur++;
        }
    }
    return widest;
}

Test(progress_tty, lines_fit_terminals_of_60_80_and_120_columns, .timeout = 120)
{
    const int widths[3] = {60, 80, 120};
    for (int k = 0; k < 3; k++) {
        size_t len;
        char *out = run_in_pty(widths[k], &len);
        int segments, redraws;
        int widest = widest_segment(out, len, &segments, &redraws);
        cr_log_info("%d columns: widest line %d, %d pieces, %d carriage returns", widths[k],
                    widest, segments, redraws);
        cr_expect_lt(widest, widths[k], "%d columns: a line of %d would wrap:\n%s", widths[k],
                     widest, out);
        cr_expect(strstr(out, "Epoch 2/2"), "%s", out);
        cr_expect_gt(redraws, 6, "the bar was redrawn several times: %s", out);
        cr_expect(strstr(out, " - loss: "), "the loss always stays: %s", out);
        free(out);
    }
}

/* ---- the fields that go first, checked on $COLUMNS with a forced live bar into a file ---- */

static char *fit_into_file(const char *columns)
{
    setenv("COLUMNS", columns, 1);
    ag_dataset *data = ag_make_blobs(320, 8, 3, 1.0, 1.0, 3, AG_F32);
    ag_module *m = mlp(8, 16, 3, AG_ACT_RELU, AG_F32, 1);
    ag_optimizer *opt = adam(m, 1e-2);
    ag_trainer *t = ag_compile(m, opt, AG_LOSS_CROSS_ENTROPY,
                               AG_METRIC_ACCURACY | AG_METRIC_MSE | AG_METRIC_MAE);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ag_fit_opts fo = quiet(1, 16);
    fo.validation_split = 0.2;
    fo.verbose = AG_VERBOSE_BAR; /* live, but the FILE has no terminal: $COLUMNS decides */
    fo.out = f;
    ag_history *h = fit_ok(t, data, &fo);
    fclose(f);
    ag_history_free(h);
    ag_trainer_free(t);
    ag_optim_free(opt);
    ag_module_free(m);
    ag_dataset_free(data);
    return buf;
}

/* The final line of the epoch (the last piece before the last '\n'). */
static char *final_line(char *out)
{
    char *end = strrchr(out, '\n');
    cr_assert_not_null(end);
    *end = '\0';
    char *start = strrchr(out, '\r');
    return start ? start + 1 : out;
}

Test(progress_tty, the_least_important_fields_go_first)
{
    char *wide = fit_into_file("300");
    char *line = final_line(wide);
    cr_expect(strstr(line, "[==============================]"), "full bar: %s", line);
    cr_expect(strstr(line, "/step") && strstr(line, "val_mae"), "%s", line);
    free(wide);

    char *mid = fit_into_file("100");
    line = final_line(mid);
    cr_expect_lt(strlen(line), 100u, "%s", line);
    cr_expect(!strstr(line, "/step"), "the time per step went first: %s", line);
    cr_expect(strstr(line, "[==========]"), "the bar narrowed to 10: %s", line);
    cr_expect(strstr(line, "loss: ") && !strstr(line, "val_mae"), "metrics from the end: %s",
              line);
    free(mid);

    char *narrow = fit_into_file("30");
    line = final_line(narrow);
    cr_expect_lt(strlen(line), 30u, "%s", line);
    cr_expect(strstr(line, "16/16") && strstr(line, "loss: ") && !strstr(line, "["),
              "count and loss stay, the bar goes: %s", line);
    free(narrow);

    char *tiny = fit_into_file("8");
    line = final_line(tiny);
    cr_expect_lt(strlen(line), 8u, "cut at the width: %s", line);
    free(tiny);
}

Test(progress_tty, logs_keep_whole_lines)
{
    setenv("COLUMNS", "40", 1);
    ag_dataset *data = ag_make_blobs(320, 8, 3, 1.0, 1.0, 3, AG_F32);
    ag_module *m = mlp(8, 16, 3, AG_ACT_RELU, AG_F32, 1);
    ag_optimizer *opt = adam(m, 1e-2);
    ag_trainer *t = ag_compile(m, opt, AG_LOSS_CROSS_ENTROPY, AG_METRIC_ACCURACY);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ag_fit_opts fo = quiet(1, 16);
    fo.verbose = AG_VERBOSE_LINES;
    fo.out = f;
    ag_history *h = fit_ok(t, data, &fo);
    fclose(f);
    cr_expect(strstr(buf, "[==============================]") && strstr(buf, "accuracy: "),
              "a log line is never shortened: %s", buf);
    free(buf);
    ag_history_free(h);
    ag_trainer_free(t);
    ag_optim_free(opt);
    ag_module_free(m);
    ag_dataset_free(data);
}
