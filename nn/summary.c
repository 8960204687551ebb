/* nn/summary.c - ag_module_summary: a Keras-style table of a model's layers.
 *
 * Output shapes are not computed symbolically: one example (batch 1, zeros) is run through the
 * model in evaluation and no-grad mode while ag_module_forward records every module's output
 * shape. Evaluation mode keeps dropout from drawing masks, so a summary never changes what a
 * seeded training run does; every module's own training flag is restored afterwards.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "nn_internal.h"

static int count_modules(const ag_module *m)
{
    int n = 1;
    for (int i = 0; i < m->nchildren; i++) n += count_modules(m->children[i]);
    return n;
}

/* Saves (save != NULL) or restores the training flags depth-first; clears recorded shapes. */
static void walk_flags(ag_module *m, bool *flags, int *k, bool save)
{
    if (save) {
        flags[*k] = m->training;
        m->out_seen = false;
    } else {
        m->training = flags[*k];
    }
    (*k)++;
    for (int i = 0; i < m->nchildren; i++) walk_flags(m->children[i], flags, k, save);
}

/* "(None, 32)" from a recorded batch-1 shape; "?" if the module did not run. */
static void shape_text(const ag_module *m, char *buf, size_t size)
{
    if (!m->out_seen) {
        snprintf(buf, size, "?");
        return;
    }
    size_t len = (size_t)snprintf(buf, size, "(");
    for (int d = 0; d < m->out_ndim && len < size; d++) {
        if (d == 0) len += (size_t)snprintf(buf + len, size - len, "None");
        else len += (size_t)snprintf(buf + len, size - len, ", %" PRId64, m->out_shape[d]);
    }
    if (len < size) snprintf(buf + len, size - len, ")");
}

/* 3562 -> "3,562". */
static void with_commas(int64_t v, char *buf, size_t size)
{
    char digits[32];
    int n = snprintf(digits, sizeof digits, "%" PRId64, v < 0 ? -v : v);
    size_t k = 0;
    if (v < 0 && k + 1 < size) buf[k++] = '-';
    for (int i = 0; i < n && k + 1 < size; i++) {
        if (i > 0 && (n - i) % 3 == 0 && k + 1 < size) buf[k++] = ',';
        if (k + 1 < size) buf[k++] = digits[i];
    }
    buf[k] = '\0';
}

static void row(FILE *out, const char *name, const ag_module *m)
{
    char label[96], shape[128], params[32], details[128] = "";
    snprintf(label, sizeof label, "%s (%s)", name, m->cls->name);
    shape_text(m, shape, sizeof shape);
    snprintf(params, sizeof params, "%" PRId64, ag_module_count_weights(m));
    if (m->cls->describe) m->cls->describe(m, details, sizeof details);
    fprintf(out, "%-27s %-23s %-11s %s\n", label, shape, params, details);
}

/* Runs one example through m recording shapes; returns 0 or -1 (error recorded). */
static int probe(ag_module *m, int ndim, const int64_t *input_shape)
{
    int64_t shape[AG_MAX_DIMS] = {1};
    for (int d = 0; d < ndim; d++) shape[d + 1] = input_shape[d];
    ag_dtype dt = ag_module_num_params(m) > 0 ? ag_module_param(m, 0)->dtype : AG_F32;
    int nmod = count_modules(m), k = 0;
    bool *flags = malloc(sizeof *flags * (size_t)nmod);
    if (!flags) {
        ag__error("ag_module_summary: out of memory");
        return -1;
    }
    walk_flags(m, flags, &k, true);
    ag_module_train(m, false);
    bool grad = ag_set_grad_enabled(false);
    ag__module_record_shapes(true);
    int rc = -1;
    ag_scope *s = ag_scope_begin();
    if (s) {
        ag_tensor *y = ag_module_forward(m, ag_zeros(dt, ndim + 1, shape));
        if (y) rc = 0;
        ag_scope_end(s);
    }
    ag__module_record_shapes(false);
    ag_set_grad_enabled(grad);
    k = 0;
    walk_flags(m, flags, &k, false);
    free(flags);
    if (rc != 0) {
        char where[160], sh[AG_SHAPE_BUF];
        snprintf(where, sizeof where, "running one %s example of shape %s failed: ",
                 ag_dtype_name(dt), ag__shape_str(ndim + 1, shape, sh, sizeof sh));
        ag__error_prefix("ag_module_summary", where);
    }
    return rc;
}

int ag_module_summary(FILE *out, ag_module *m, int ndim, const int64_t *input_shape)
{
    static const char fn[] = "ag_module_summary";
    if (!out || !m) {
        ag__error("%s: %s is NULL", fn, !out ? "the output stream" : "module");
        return -1;
    }
    if (ndim < 0 || ndim >= AG_MAX_DIMS || (ndim > 0 && !input_shape)) {
        ag__error("%s: bad input shape (ndim %d%s; at most %d dimensions without the batch)", fn,
                  ndim, ndim > 0 && !input_shape ? ", shape NULL" : "", AG_MAX_DIMS - 1);
        return -1;
    }
    for (int d = 0; d < ndim; d++)
        if (input_shape[d] < 1) {
            char sh[AG_SHAPE_BUF];
            ag__error("%s: input shape %s has a size below 1", fn,
                      ag__shape_str(ndim, input_shape, sh, sizeof sh));
            return -1;
        }
    if (probe(m, ndim, input_shape) != 0) return -1;

    static const char rule[] = "____________________________________________________________"
                               "____________________";
    static const char dbl[] = "============================================================"
                              "====================";
    fprintf(out, "Model: %s\n%s\n", m->cls->name, rule);
    fprintf(out, "%-27s %-23s %-11s %s\n%s\n", "Layer (type)", "Output Shape", "Param #",
            "Details", dbl);
    if (m->nchildren == 0) row(out, "-", m);
    for (int i = 0; i < m->nchildren; i++) row(out, m->child_names[i], m->children[i]);

    int64_t total = ag_module_count_weights(m), trainable = 0;
    for (int i = 0; i < ag_module_num_params(m); i++)
        if (ag_module_param(m, i)->requires_grad) trainable += ag_module_param(m, i)->numel;
    char a[32], b[32], c[32];
    with_commas(total, a, sizeof a);
    with_commas(trainable, b, sizeof b);
    with_commas(total - trainable, c, sizeof c);
    fprintf(out, "%s\nTotal params: %s\nTrainable params: %s\nNon-trainable params: %s\n%s\n", dbl,
            a, b, c, rule);
    if (fflush(out) != 0 || ferror(out)) {
        ag__error("%s: writing the summary failed", fn);
        return -1;
    }
    return 0;
}
