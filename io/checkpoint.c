/* io/checkpoint.c - saving and loading modules and training checkpoints as safetensors files.
 *
 * A module file holds the parameters under their dotted names, so it loads into PyTorch's
 * nn.Sequential of the same layers (load_state_dict) and back. A checkpoint adds the optimizer:
 * parameters as "model.<name>", state tensors as "optim.<state name>", and metadata giving the
 * optimizer's name, step count and learning rate ("%.17g" reads back to the same double), so a
 * resumed run continues bit for bit.
 *
 * Loading is all or nothing: every name, shape and dtype (and the optimizer's kind, step count
 * and learning rate) is checked before the first value is changed, so a mismatched file leaves
 * the module and optimizer exactly as they were.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "io_internal.h"

static const char *const RESERVED[] = {"optimizer", "optim_steps", "lr"};

static char *join(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    char *s = malloc(na + nb + 1);
    if (s) {
        memcpy(s, a, na);
        memcpy(s + na, b, nb + 1);
    }
    return s;
}

/* What a loader must find in the file: a prefix + name, and the tensor it goes into. */
typedef struct want {
    char *name;
    ag_tensor *dst;
    int src; /* index in the file, once found */
} want;

static void free_wants(want *w, int n)
{
    for (int i = 0; w && i < n; i++) free(w[i].name);
    free(w);
}

/* Lists the module's parameters (and the optimizer's state, if opt) under their file names. */
static want *list_wants(const char *fn, const ag_module *m, const ag_optimizer *opt, bool prefixed,
                        int *count)
{
    int np = ag_module_num_params(m), ns = opt ? ag_optim_num_state(opt) : 0;
    if (np < 0 || ns < 0) return NULL;
    want *w = calloc((size_t)np + (size_t)ns + 1, sizeof *w);
    if (!w) return ag__error("%s: out of memory", fn), NULL;
    bool ok = true;
    for (int i = 0; i < np; i++) {
        w[i].dst = ag_module_param(m, i);
        const char *pn = ag_module_param_name(m, i);
        ok = ok && w[i].dst && pn && (w[i].name = join(prefixed ? "model." : "", pn));
    }
    for (int i = 0; i < ns; i++) {
        const char *sn = NULL;
        w[np + i].dst = ag_optim_state(opt, i, &sn);
        ok = ok && w[np + i].dst && sn && (w[np + i].name = join("optim.", sn));
    }
    if (!ok) {
        if (!ag_has_error()) ag__error("%s: out of memory", fn);
        free_wants(w, np + ns);
        return NULL;
    }
    *count = np + ns;
    return w;
}

static int save(const char *fn, const char *path, const ag_module *m, const ag_optimizer *opt,
                bool prefixed, int nmeta, const char *const *meta)
{
    int n = 0;
    want *w = list_wants(fn, m, opt, prefixed, &n);
    if (!w) return -1;
    const char **names = malloc(((size_t)n + 1) * sizeof *names);
    ag_tensor **ts = malloc(((size_t)n + 1) * sizeof *ts);
    int rc = -1;
    if (names && ts) {
        for (int i = 0; i < n; i++) {
            names[i] = w[i].name;
            ts[i] = w[i].dst;
        }
        rc = ag__st_save(fn, path, n, names, ts, nmeta, meta);
    } else {
        ag__error("%s: out of memory", fn);
    }
    free(names);
    free(ts);
    free_wants(w, n);
    return rc;
}

int ag_module_save(const ag_module *m, const char *path)
{
    static const char fn[] = "ag_module_save";
    if (!m) return ag__error("%s: module is NULL", fn), -1;
    /* "format": "pt" is what PyTorch-side safetensors readers expect of a state_dict file; the
     * architecture (io/arch.c) lets ag_module_load_new rebuild the model from the file alone. */
    const char *arch_key;
    char *arch;
    if (ag__arch_meta(fn, m, &arch_key, &arch) != 0) return -1;
    const char *meta[] = {"format", "pt", arch_key, arch};
    int rc = save(fn, path, m, NULL, false, 2, meta);
    free(arch);
    return rc;
}

int ag_checkpoint_save(const char *path, const ag_module *m, const ag_optimizer *opt, int nmeta,
                       const char *const *meta)
{
    const char *fn = "ag_checkpoint_save";
    if (!m) return ag__error("%s: module is NULL", fn), -1;
    if (nmeta < 0 || (nmeta > 0 && !meta))
        return ag__error("%s: bad metadata (nmeta %d, meta %p)", fn, nmeta, (const void *)meta), -1;
    for (int i = 0; i < nmeta; i++)
        for (int r = 0; r < 3; r++)
            if (meta[2 * i] && strcmp(meta[2 * i], RESERVED[r]) == 0)
                return ag__error("%s: metadata key '%s' is reserved for the checkpoint", fn,
                                 RESERVED[r]), -1;
    const char **all = malloc((2 * (size_t)nmeta + 6) * sizeof *all);
    if (!all) return ag__error("%s: out of memory", fn), -1;
    char steps[32], lr[32];
    int k = 0;
    if (opt) {
        snprintf(steps, sizeof steps, "%" PRId64, ag_optim_steps(opt));
        snprintf(lr, sizeof lr, "%.17g", ag_optim_get_lr(opt));
        const char *mine[6] = {"optimizer", ag_optim_name(opt), "optim_steps", steps, "lr", lr};
        for (; k < 6; k++) all[k] = mine[k];
    }
    for (int i = 0; i < 2 * nmeta; i++) all[k++] = meta[i];
    int rc = save(fn, path, m, opt, true, k / 2, all);
    free(all);
    return rc;
}

/* Finds every wanted tensor in the file with the same shape and dtype, and checks that the
 * file holds nothing else (entries starting with `ignore` excepted, when not NULL). */
static int match(const char *fn, const char *path, const ag_st_file *f, want *w, int n,
                 const char *ignore, const char *owner)
{
    char a[AG_SHAPE_BUF], b[AG_SHAPE_BUF];
    for (int i = 0; i < n; i++) {
        w[i].src = ag__st_find(f, w[i].name);
        if (w[i].src < 0)
            return ag__error("%s: '%s': tensor '%s' (%s %s) is missing from the file", fn, path,
                             w[i].name, ag_dtype_name(ag_get_dtype(w[i].dst)),
                             ag_shape_str(w[i].dst, a, sizeof a)), -1;
        ag_tensor *t = f->tensors[w[i].src];
        if (!ag_same_shape(t, w[i].dst) || ag_get_dtype(t) != ag_get_dtype(w[i].dst))
            return ag__error("%s: '%s': tensor '%s' is %s %s in the file but %s %s here", fn,
                             path, w[i].name, ag_dtype_name(ag_get_dtype(t)),
                             ag_shape_str(t, a, sizeof a), ag_dtype_name(ag_get_dtype(w[i].dst)),
                             ag_shape_str(w[i].dst, b, sizeof b)), -1;
    }
    /* Names are unique on both sides, so every file tensor was matched iff the counts agree
     * (after the ignored ones); otherwise name one that was not. */
    int ignored = 0;
    for (int j = 0; ignore && j < f->n; j++)
        ignored += strncmp(f->names[j], ignore, strlen(ignore)) == 0;
    if (f->n - ignored == n) return 0;
    for (int j = 0; j < f->n; j++) {
        if (ignore && strncmp(f->names[j], ignore, strlen(ignore)) == 0) continue;
        int i = 0;
        while (i < n && w[i].src != j) i++;
        if (i == n)
            return ag__error("%s: '%s': the file holds tensor '%s', which the %s does not have",
                             fn, path, f->names[j], owner), -1;
    }
    return 0;
}

static void copy_values(const ag_st_file *f, const want *w, int n)
{
    for (int i = 0; i < n; i++) {
        size_t bytes = (size_t)ag_numel(w[i].dst) * ag_dtype_size(ag_get_dtype(w[i].dst));
        if (bytes) memcpy(ag_data(w[i].dst), ag_data(f->tensors[w[i].src]), bytes);
    }
}

int ag__module_load_file(const char *fn, const char *path, ag_module *m, const ag_st_file *f)
{
    int n = 0;
    want *w = list_wants(fn, m, NULL, false, &n);
    if (!w) return -1;
    int rc = match(fn, path, f, w, n, NULL, "module") == 0 ? 0 : -1;
    if (rc == 0) copy_values(f, w, n);
    free_wants(w, n);
    return rc;
}

int ag_module_load(ag_module *m, const char *path)
{
    const char *fn = "ag_module_load";
    if (!m) return ag__error("%s: module is NULL", fn), -1;
    ag_st_file *f = ag__st_load(fn, path);
    int rc = f ? ag__module_load_file(fn, path, m, f) : -1;
    ag_st_free(f);
    return rc;
}

/* The optimizer metadata: same kind, a step count and a learning rate that parse exactly. */
static int read_optim_meta(const char *fn, const char *path, const ag_st_file *f,
                           const ag_optimizer *opt, int64_t *steps, double *lr)
{
    const char *kind = ag_st_meta(f, "optimizer"), *s = ag_st_meta(f, "optim_steps");
    const char *l = ag_st_meta(f, "lr");
    if (!kind || !s || !l)
        return ag__error("%s: '%s': no optimizer state in the file (metadata 'optimizer', "
                         "'optim_steps' and 'lr' are needed)", fn, path), -1;
    if (strcmp(kind, ag_optim_name(opt)) != 0)
        return ag__error("%s: '%s': the checkpoint is for optimizer %s, not %s", fn, path, kind,
                         ag_optim_name(opt)), -1;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < 0)
        return ag__error("%s: '%s': bad optim_steps '%s'", fn, path, s), -1;
    errno = 0;
    *lr = strtod(l, &end);
    if (errno || end == l || *end || !isfinite(*lr) || *lr < 0)
        return ag__error("%s: '%s': bad lr '%s'", fn, path, l), -1;
    *steps = v;
    return 0;
}

int ag_checkpoint_load(const char *path, ag_module *m, ag_optimizer *opt, ag_st_file **file_out)
{
    const char *fn = "ag_checkpoint_load";
    if (file_out) *file_out = NULL;
    if (!m) return ag__error("%s: module is NULL", fn), -1;
    int n = 0;
    want *w = list_wants(fn, m, opt, true, &n);
    if (!w) return -1;
    ag_st_file *f = ag__st_load(fn, path);
    int64_t steps = 0;
    double lr = 0, old_lr = opt ? ag_optim_get_lr(opt) : 0;
    int rc = -1;
    const char *ignore = opt ? NULL : "optim.", *owner = opt ? "module or optimizer" : "module";
    if (f && (!opt || read_optim_meta(fn, path, f, opt, &steps, &lr) == 0) &&
        match(fn, path, f, w, n, ignore, owner) == 0) {
        /* Setting lr and steps are the only steps that can fail; undo lr if steps fails. */
        rc = 0;
        if (opt && ag_optim_set_lr(opt, lr) != 0) rc = -1;
        else if (opt && ag_optim_set_steps(opt, steps) != 0) {
            ag_optim_set_lr(opt, old_lr);
            rc = -1;
        }
        if (rc == 0) copy_values(f, w, n);
    }
    if (rc == 0 && file_out) *file_out = f;
    else ag_st_free(f);
    free_wants(w, n);
    return rc;
}
