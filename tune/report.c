/* tune/report.c - what a study tells its user: a live line per finished trial (as Optuna logs:
 * number, score, values, best so far), the final leaderboard (rank, mean +- std), and the CSV
 * of every trial (values, per-fold scores, reports, time, state) that a search resumes from. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "tune_internal.h"

/* The furthest step a trial got to: its last report, else its budget. */
static int reached(const ag_trial *t)
{
    return t->nrep > 0 ? t->rep_step[t->nrep - 1] : t->budget;
}

void ag__report_trial(ag_study *s, const ag_trial *t)
{
    if (s->opts.quiet) return;
    FILE *out = s->opts.out ? s->opts.out : stdout;
    char vals[512];
    ag_trial_format_values(t, vals, sizeof vals);
    if (t->state == AG_TRIAL_FAILED) {
        fprintf(out, "Trial %d failed (%.1f s) [%s]: %s\n", t->number, t->seconds, vals,
                t->message);
    } else {
        fprintf(out, "Trial %d %s", t->number, t->state == AG_TRIAL_PRUNED ? "pruned" : "finished");
        if (t->state == AG_TRIAL_PRUNED) fprintf(out, " at %d", reached(t));
        fprintf(out, " with score %.6g", t->score);
        if (!isnan(t->std)) fprintf(out, " (+- %.3g)", t->std);
        fprintf(out, " [%s] in %.1f s.", vals, t->seconds);
        const ag_trial *b = ag__study_best(s);
        if (b) fprintf(out, " Best is trial %d with %.6g.", b->number, b->score);
        fputc('\n', out);
    }
    fflush(out);
}

/* Leaderboard order of two trial indices (see ag_study_rank). */
static const ag_study *order_study; /* set under order_lock for qsort */
static pthread_mutex_t order_lock = PTHREAD_MUTEX_INITIALIZER;

static int group(const ag_trial *t)
{
    return t->state == AG_TRIAL_COMPLETE ? 0 : t->state == AG_TRIAL_PRUNED ? 1 : 2;
}

static int cmp_rank(const void *a, const void *b)
{
    const ag_trial *x = order_study->trials[*(const int *)a];
    const ag_trial *y = order_study->trials[*(const int *)b];
    ag_direction d = order_study->opts.direction;
    int gx = group(x), gy = group(y);
    if (gx != gy) return gx - gy;
    if (gx == 1 && reached(x) != reached(y)) return reached(y) - reached(x);
    if (gx < 2) {
        if (ag__better(d, x->score, y->score)) return -1;
        if (ag__better(d, y->score, x->score)) return 1;
    }
    return x->number - y->number;
}

/* Finished trials' numbers in leaderboard order; returns the count (-1: out of memory). */
static int ranked(const ag_study *s, int **out)
{
    int *idx = malloc(sizeof *idx * (size_t)(s->ntrials ? s->ntrials : 1));
    if (!idx) {
        ag__error("ag_study_leaderboard: out of memory");
        return -1;
    }
    int n = 0;
    for (int i = 0; i < s->ntrials; i++)
        if (ag__finished(s->trials[i])) idx[n++] = i;
    pthread_mutex_lock(&order_lock);
    order_study = s;
    qsort(idx, (size_t)n, sizeof *idx, cmp_rank);
    pthread_mutex_unlock(&order_lock);
    *out = idx;
    return n;
}

int ag_study_rank(const ag_study *s, int i)
{
    if (!s || i < 0 || i >= s->ntrials) {
        ag__error("ag_study_rank: %s", !s ? "study is NULL" : "trial index out of range");
        return -1;
    }
    if (!ag__finished(s->trials[i])) return -1;
    int *idx, n = ranked(s, &idx), r = -1;
    for (int k = 0; k < n; k++)
        if (idx[k] == i) r = k + 1;
    if (n >= 0) free(idx);
    return r;
}

int ag_study_leaderboard(const ag_study *s, FILE *out, int top)
{
    if (!s || !out || top < 0) {
        ag__error("ag_study_leaderboard: %s", !s ? "study is NULL" : !out ? "out is NULL"
                                                                      : "top is negative");
        return -1;
    }
    int *idx, n = ranked(s, &idx);
    if (n < 0) return -1;
    const ag_space *sp = s->space;
    int w[AG__TUNE_MAX_PARAMS];
    fprintf(out, "%4s %5s %24s", "rank", "trial",
            s->opts.direction == AG_MAXIMIZE ? "score (max) +- std" : "score (min) +- std");
    for (int p = 0; p < sp->n; p++) {
        w[p] = (int)strlen(sp->p[p].name);
        if (w[p] < 10) w[p] = 10;
        fprintf(out, " %*s", w[p], sp->p[p].name);
    }
    fprintf(out, " %-14s %8s\n", "state", "time (s)");
    for (int k = 0; k < n && (top == 0 || k < top); k++) {
        const ag_trial *t = s->trials[idx[k]];
        char sc[64];
        if (isnan(t->score))
            snprintf(sc, sizeof sc, "-");
        else if (isnan(t->std))
            snprintf(sc, sizeof sc, "%.6g", t->score);
        else
            snprintf(sc, sizeof sc, "%.6g +- %.4f", t->score, t->std);
        fprintf(out, "%4d %5d %24s", k + 1, t->number, sc);
        for (int p = 0; p < sp->n; p++) {
            char v[80];
            ag__space_format(sp, p, t->values[p], v, sizeof v, false);
            fprintf(out, " %*s", w[p], v);
        }
        char st[32];
        if (t->state == AG_TRIAL_PRUNED)
            snprintf(st, sizeof st, "pruned at %d", reached(t));
        else
            snprintf(st, sizeof st, "%s", ag_trial_state_name(t->state));
        fprintf(out, " %-14s %8.2f\n", st, t->seconds);
    }
    if (n == 0) fprintf(out, "(no finished trial)\n");
    free(idx);
    return ferror(out) ? -1 : 0;
}

/* ---- CSV ---- */

static void put_num(FILE *f, double v)
{
    if (isnan(v))
        fputs("nan", f);
    else
        fprintf(f, "%.17g", v);
}

static void put_pairs(FILE *f, int n, const int *k, const double *v)
{
    for (int i = 0; i < n; i++) {
        fprintf(f, "%s%d:", i ? ";" : "", k[i]);
        put_num(f, v[i]);
    }
}

static void put_row(FILE *f, const ag_study *s, const ag_trial *t)
{
    /* A trial running again at a larger budget (successive halving) is written as it stood
     * after its last finished run, so a resumed search goes on from there. */
    bool rerun = t->state == AG_TRIAL_RUNNING;
    int last = t->nrung - 1;
    fprintf(f, "%d,%s,", t->number, rerun ? "pruned" : ag_trial_state_name(t->state));
    put_num(f, rerun ? t->rung_score[last] : t->score);
    fputc(',', f);
    put_num(f, rerun ? NAN : t->std);
    fprintf(f, ",%.6f,%d", t->seconds, rerun ? t->rung_budget[last] : t->budget);
    for (int p = 0; p < s->space->n; p++) {
        char v[80];
        ag__space_format(s->space, p, t->values[p], v, sizeof v, true);
        fprintf(f, ",%s", v);
    }
    fputc(',', f);
    for (int i = 0; !rerun && i < t->nfolds; i++) {
        if (i) fputc(';', f);
        put_num(f, t->folds[i]);
    }
    fputc(',', f);
    if (!rerun) put_pairs(f, t->nrep, t->rep_step, t->rep_value);
    fputc(',', f);
    put_pairs(f, t->nrung, t->rung_budget, t->rung_score);
    fputc(',', f);
    const char *m = rerun ? "" : t->message;
    if (strpbrk(m, ",\"")) { /* a quoted field, quotes doubled (messages have no line break) */
        fputc('"', f);
        for (const char *c = m; *c; c++) {
            if (*c == '"') fputc('"', f);
            fputc(*c, f);
        }
        fputc('"', f);
    } else {
        fputs(m, f);
    }
    fputc('\n', f);
}

int ag__write_csv(const ag_study *s, const char *path)
{
    size_t n = strlen(path) + 8;
    char *tmp = malloc(n);
    if (!tmp) {
        ag__error("ag_study_write_csv: out of memory");
        return -1;
    }
    snprintf(tmp, n, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        ag__error("ag_study_write_csv: cannot open '%s' for writing", tmp);
        free(tmp);
        return -1;
    }
    fputs("trial,state,score,std,seconds,budget", f);
    for (int p = 0; p < s->space->n; p++) fprintf(f, ",%s", s->space->p[p].name);
    fputs(",folds,reports,rungs,message\n", f);
    for (int i = 0; i < s->ntrials; i++) {
        const ag_trial *t = s->trials[i];
        if (ag__finished(t) || (t->state == AG_TRIAL_RUNNING && t->nrung > 0)) put_row(f, s, t);
    }
    bool bad = ferror(f) != 0;
    if (fclose(f) != 0) bad = true;
    if (bad || rename(tmp, path) != 0) {
        ag__error("ag_study_write_csv: writing '%s' failed", bad ? tmp : path);
        remove(tmp);
        free(tmp);
        return -1;
    }
    free(tmp);
    return 0;
}

int ag_study_write_csv(const ag_study *s, const char *path)
{
    if (!s || !path) {
        ag__error("ag_study_write_csv: %s is NULL", !s ? "study" : "path");
        return -1;
    }
    pthread_mutex_lock((pthread_mutex_t *)&s->lock);
    int rc = ag__write_csv(s, path);
    pthread_mutex_unlock((pthread_mutex_t *)&s->lock);
    return rc;
}
