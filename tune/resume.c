/* tune/resume.c - resuming a search from its CSV: the finished trials are loaded (values,
 * scores, folds, reports, rungs, state), checked against what the strategy proposes for the same
 * numbers, and ag_study_optimize then runs only the others. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "tune_internal.h"

enum { FIXED = 6, TAIL = 4, MAX_COLS = FIXED + AG__TUNE_MAX_PARAMS + TAIL };
static const char *const fixed_names[FIXED] = {"trial", "state", "score", "std", "seconds",
                                                "budget"};
static const char *const tail_names[TAIL] = {"folds", "reports", "rungs", "message"};

typedef struct csv_ctx {
    const char *path;
    int64_t line;
    int ncols;
    int param_col[AG__TUNE_MAX_PARAMS]; /* column of each hyperparameter of the space */
} csv_ctx;

/* Splits a line in place at commas; returns the field count (at most max + 1). A field that
 * starts with a double quote is a quoted CSV field ("" inside stands for "): the message. */
static int split(char *line, char **fields, int max)
{
    int n = 0;
    char *p = line;
    for (;;) {
        if (n == max) return max + 1;
        fields[n++] = p;
        if (*p == '"') { /* unquote in place: the text shifts left over the quotes */
            char *w = p, *r = p + 1;
            for (; *r; r++) {
                if (*r == '"' && r[1] != '"') {
                    r++; /* the closing quote */
                    break;
                }
                if (*r == '"') r++; /* "" stands for " */
                *w++ = *r;
            }
            *w = '\0'; /* w < r: nothing after the field is overwritten */
            if (*r != ',') break;
            p = r + 1;
            continue;
        }
        char *c = strchr(p, ',');
        if (!c) break;
        *c = '\0';
        p = c + 1;
    }
    return n;
}

static void chomp(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r')) s[--n] = '\0';
}

static int header(csv_ctx *c, const ag_space *sp, char *line)
{
    char *f[MAX_COLS + 1];
    int n = split(line, f, MAX_COLS);
    if (n != FIXED + sp->n + TAIL) {
        ag__error("ag_study_load_csv: %s: the header has %d columns, the space needs %d",
                  c->path, n, FIXED + sp->n + TAIL);
        return -1;
    }
    for (int i = 0; i < FIXED; i++)
        if (strcmp(f[i], fixed_names[i]) != 0) {
            ag__error("ag_study_load_csv: %s: column %d is '%.60s', expected '%s'", c->path, i + 1,
                      f[i], fixed_names[i]);
            return -1;
        }
    for (int i = 0; i < TAIL; i++)
        if (strcmp(f[FIXED + sp->n + i], tail_names[i]) != 0) {
            ag__error("ag_study_load_csv: %s: column %d is '%.60s', expected '%s'", c->path,
                      FIXED + sp->n + i + 1, f[FIXED + sp->n + i], tail_names[i]);
            return -1;
        }
    for (int p = 0; p < sp->n; p++) c->param_col[p] = -1;
    for (int i = 0; i < sp->n; i++) {
        int p = ag_space_find(sp, f[FIXED + i]);
        if (p < 0 || c->param_col[p] >= 0) {
            ag__error("ag_study_load_csv: %s: column '%.60s' is %s", c->path, f[FIXED + i],
                      p < 0 ? "not a hyperparameter of the space" : "repeated");
            return -1;
        }
        c->param_col[p] = FIXED + i;
    }
    c->ncols = n;
    return 0;
}

static int bad(const csv_ctx *c, const char *what, const char *text)
{
    ag__error("ag_study_load_csv: %s, line %lld: %s '%.80s'", c->path, (long long)c->line, what,
              text);
    return -1;
}

static bool number(const char *text, double *v, bool allow_nan)
{
    if (allow_nan && strcmp(text, "nan") == 0) {
        *v = NAN;
        return true;
    }
    char *end;
    errno = 0;
    *v = strtod(text, &end);
    return end != text && *end == '\0' && isfinite(*v);
}

static bool whole(const char *text, int lo, int hi, int *out)
{
    double v;
    if (!number(text, &v, false) || v != floor(v) || v < lo || v > hi) return false;
    *out = (int)v;
    return true;
}

/* "a;b;c" into the trial's folds. */
static int parse_folds(const csv_ctx *c, ag_trial *t, char *text)
{
    if (!*text) return 0;
    double v[1024];
    int n = 0;
    char *save = NULL;
    for (char *tok = strtok_r(text, ";", &save); tok; tok = strtok_r(NULL, ";", &save)) {
        if (n == 1024 || !number(tok, &v[n], false)) return bad(c, "bad fold score", tok);
        n++;
    }
    double *f = malloc(sizeof *f * (size_t)n);
    if (!f) return bad(c, "out of memory for", "folds");
    memcpy(f, v, sizeof *f * (size_t)n);
    free(t->folds);
    t->folds = f;
    t->nfolds = n;
    return 0;
}

/* "k:v;k:v" into reports (rungs == false) or rungs. */
static int parse_pairs(const csv_ctx *c, ag_trial *t, char *text, bool rungs)
{
    char *save = NULL;
    for (char *tok = strtok_r(text, ";", &save); tok; tok = strtok_r(NULL, ";", &save)) {
        char *colon = strchr(tok, ':');
        int k;
        double v;
        if (!colon) return bad(c, "expected step:value, got", tok);
        *colon = '\0';
        if (!whole(tok, 0, 1 << 30, &k) || !number(colon + 1, &v, false))
            return bad(c, "bad step:value pair at", tok);
        if (!rungs && t->nrep > 0 && k <= t->rep_step[t->nrep - 1])
            return bad(c, "report steps must increase at", tok);
        int rc = rungs ? ag__trial_add_rung(t, k, v) : ag__trial_add_report(t, k, v);
        if (rc < 0) return -1;
    }
    return 0;
}

static int row(csv_ctx *c, ag_study *s, char *line)
{
    char *f[MAX_COLS + 1];
    int n = split(line, f, MAX_COLS);
    if (n != c->ncols) {
        ag__error("ag_study_load_csv: %s, line %lld: %d fields, expected %d", c->path,
                  (long long)c->line, n, c->ncols);
        return -1;
    }
    int num;
    if (!whole(f[0], 0, 9999999, &num)) return bad(c, "bad trial number", f[0]);
    if (num < s->ntrials && ag__finished(s->trials[num])) return bad(c, "trial listed twice:", f[0]);
    ag_trial_state st;
    if (strcmp(f[1], "complete") == 0)
        st = AG_TRIAL_COMPLETE;
    else if (strcmp(f[1], "pruned") == 0)
        st = AG_TRIAL_PRUNED;
    else if (strcmp(f[1], "failed") == 0)
        st = AG_TRIAL_FAILED;
    else
        return bad(c, "unknown state", f[1]);
    double score, std, secs;
    int budget;
    if (!number(f[2], &score, st == AG_TRIAL_FAILED)) return bad(c, "bad score", f[2]);
    if (!number(f[3], &std, true)) return bad(c, "bad std", f[3]);
    if (!number(f[4], &secs, false) || secs < 0) return bad(c, "bad seconds", f[4]);
    if (!whole(f[5], 0, 1 << 30, &budget)) return bad(c, "bad budget", f[5]);
    double v[AG__TUNE_MAX_PARAMS];
    for (int p = 0; p < s->space->n; p++)
        if (ag__space_parse(s->space, p, f[c->param_col[p]], &v[p]) < 0)
            return bad(c, "bad value", f[c->param_col[p]]);
    if (ag__study_ensure(s, num + 1) < 0) return -1; /* the strategy's values for this number */
    ag_trial *t = s->trials[num];
    for (int p = 0; p < s->space->n; p++)
        if (v[p] != t->values[p]) {
            char want[80];
            ag__space_format(s->space, p, t->values[p], want, sizeof want, true);
            ag__error("ag_study_load_csv: %s, line %lld: trial %d has %s=%s but the search "
                      "proposes %s (another space, strategy or seed?)", c->path,
                      (long long)c->line, num, s->space->p[p].name, f[c->param_col[p]], want);
            return -1;
        }
    char *tail = f[c->ncols - TAIL];
    if (parse_folds(c, t, tail) < 0 || parse_pairs(c, t, f[c->ncols - 3], false) < 0 ||
        parse_pairs(c, t, f[c->ncols - 2], true) < 0)
        return -1;
    t->state = st;
    t->score = score;
    t->std = std;
    t->seconds = secs;
    t->budget = budget;
    snprintf(t->message, sizeof t->message, "%s", f[c->ncols - 1]);
    return 0;
}

int ag_study_load_csv(ag_study *s, const char *path)
{
    if (!s || !path) {
        ag__error("ag_study_load_csv: %s is NULL", !s ? "study" : "path");
        return -1;
    }
    if (s->ran || s->ntrials > 0) {
        ag__error("ag_study_load_csv: the study already has trials (load into a new study)");
        return -1;
    }
    FILE *fp = fopen(path, "r");
    if (!fp) {
        ag__error("ag_study_load_csv: cannot open '%s'", path);
        return -1;
    }
    csv_ctx c = {.path = path};
    char *line = NULL;
    size_t cap = 0;
    int rc = 0, loaded = 0;
    while (rc == 0 && getline(&line, &cap, fp) >= 0) {
        c.line++;
        chomp(line);
        if (c.line == 1)
            rc = header(&c, s->space, line);
        else if (line[0] != '\0' && (rc = row(&c, s, line)) == 0)
            loaded++;
    }
    if (rc == 0 && c.line == 0) {
        ag__error("ag_study_load_csv: %s is empty", path);
        rc = -1;
    }
    free(line);
    fclose(fp);
    if (rc < 0) { /* leave the study as it was: empty */
        for (int i = 0; i < s->ntrials; i++) ag__trial_free(s->trials[i]);
        s->ntrials = 0;
        return -1;
    }
    return loaded;
}
