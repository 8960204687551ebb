/* train/history.c - the per-epoch record ag_fit returns: named columns, one row per completed
 * epoch, numbered from the run's initial_epoch (so a resumed run keeps absolute epoch numbers).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../autograd/internal.h"
#include "train_internal.h"

struct ag_history {
    int first_epoch;            /* absolute number of row 0 */
    int ncols;
    char names[AG__MAX_COLUMNS][32];
    int rows, cap;
    double *vals;               /* rows x ncols */
    bool diverged, stopped_early;
};

ag_history *ag__history_new(int first_epoch, int ncols, const char *const *names)
{
    if (ncols < 1 || ncols > AG__MAX_COLUMNS) {
        ag__error("ag_fit: %d history columns (1 to %d supported)", ncols, AG__MAX_COLUMNS);
        return NULL;
    }
    ag_history *h = calloc(1, sizeof *h);
    if (!h) {
        ag__error("ag_fit: out of memory for the history");
        return NULL;
    }
    h->first_epoch = first_epoch;
    h->ncols = ncols;
    for (int c = 0; c < ncols; c++) snprintf(h->names[c], sizeof h->names[c], "%s", names[c]);
    return h;
}

int ag__history_append(ag_history *h, const double *row)
{
    if (h->rows == h->cap) {
        int cap = h->cap ? 2 * h->cap : 16;
        double *v = realloc(h->vals, (size_t)cap * (size_t)h->ncols * sizeof *v);
        if (!v) {
            ag__error("ag_fit: out of memory growing the history to %d epochs", cap);
            return -1;
        }
        h->vals = v;
        h->cap = cap;
    }
    memcpy(h->vals + (size_t)h->rows * (size_t)h->ncols, row, (size_t)h->ncols * sizeof *row);
    h->rows++;
    return 0;
}

void ag__history_set_flags(ag_history *h, bool diverged, bool stopped_early)
{
    h->diverged = diverged;
    h->stopped_early = stopped_early;
}

int ag__history_find(const ag_history *h, const char *name)
{
    for (int c = 0; c < h->ncols; c++)
        if (strcmp(h->names[c], name) == 0) return c;
    return -1;
}

int ag_history_epochs(const ag_history *h)
{
    if (!h) {
        ag__error("ag_history_epochs: history is NULL");
        return -1;
    }
    return h->rows;
}

int ag_history_first_epoch(const ag_history *h)
{
    if (!h) {
        ag__error("ag_history_first_epoch: history is NULL");
        return -1;
    }
    return h->first_epoch;
}

int ag_history_num_columns(const ag_history *h)
{
    if (!h) {
        ag__error("ag_history_num_columns: history is NULL");
        return -1;
    }
    return h->ncols;
}

const char *ag_history_column_name(const ag_history *h, int c)
{
    if (!h) {
        ag__error("ag_history_column_name: history is NULL");
        return NULL;
    }
    if (c < 0 || c >= h->ncols) {
        ag__error("ag_history_column_name: column %d out of range [0, %d)", c, h->ncols);
        return NULL;
    }
    return h->names[c];
}

/* Lists the columns into buf, for error messages. */
static const char *column_list(const ag_history *h, char *buf, size_t size)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int c = 0; c < h->ncols && len < size; c++)
        len += (size_t)snprintf(buf + len, size - len, c ? ", %s" : "%s", h->names[c]);
    return buf;
}

double ag_history_get(const ag_history *h, const char *name, int epoch)
{
    if (!h || !name) {
        ag__error("ag_history_get: %s is NULL", h ? "name" : "history");
        return NAN;
    }
    int c = ag__history_find(h, name);
    if (c < 0) {
        char cols[256];
        ag__error("ag_history_get: no column \"%s\" (columns: %s)", name,
                  column_list(h, cols, sizeof cols));
        return NAN;
    }
    /* In 64 bits: any int epoch (INT_MIN included) is then a range error, not an overflow. */
    int64_t r = (int64_t)epoch - h->first_epoch;
    if (r < 0 || r >= h->rows) {
        if (h->rows == 0)
            ag__error("ag_history_get: epoch %d requested but the history has no epochs", epoch);
        else
            ag__error("ag_history_get: epoch %d out of range [%d, %d]", epoch, h->first_epoch,
                      h->first_epoch + h->rows - 1);
        return NAN;
    }
    return h->vals[(size_t)r * (size_t)h->ncols + (size_t)c];
}

double ag_history_last(const ag_history *h, const char *name)
{
    if (!h) {
        ag__error("ag_history_last: history is NULL");
        return NAN;
    }
    if (h->rows == 0) {
        ag__error("ag_history_last: the history has no epochs");
        return NAN;
    }
    return ag_history_get(h, name, h->first_epoch + h->rows - 1);
}

int ag_history_write_csv(const ag_history *h, const char *path)
{
    if (!h || !path) {
        ag__error("ag_history_write_csv: %s is NULL", h ? "path" : "history");
        return -1;
    }
    FILE *f = fopen(path, "w");
    if (!f) {
        ag__error("ag_history_write_csv: cannot open '%s' for writing", path);
        return -1;
    }
    int bad = fprintf(f, "epoch") < 0;
    for (int c = 0; c < h->ncols; c++) bad |= fprintf(f, ",%s", h->names[c]) < 0;
    bad |= fprintf(f, "\n") < 0;
    for (int r = 0; r < h->rows; r++) {
        bad |= fprintf(f, "%d", h->first_epoch + r) < 0;
        for (int c = 0; c < h->ncols; c++)
            bad |= fprintf(f, ",%.17g", h->vals[(size_t)r * (size_t)h->ncols + (size_t)c]) < 0;
        bad |= fprintf(f, "\n") < 0;
    }
    bad |= fclose(f) != 0;
    if (bad) {
        ag__error("ag_history_write_csv: write to '%s' failed", path);
        return -1;
    }
    return 0;
}

bool ag_history_diverged(const ag_history *h) { return h && h->diverged; }

bool ag_history_stopped_early(const ag_history *h) { return h && h->stopped_early; }

void ag_history_free(ag_history *h)
{
    if (!h) return;
    free(h->vals);
    free(h);
}
