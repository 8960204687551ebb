/* autograd/error.c - per-thread state and the error convention.
 *
 * Each thread has its own grad mode, scope stack and last error message, so threads training
 * separate models never see each other's state.
 */
#include <stdarg.h>
#include <stdio.h>

#include "internal.h"

static _Thread_local ag_thread thread_state;

ag_thread *ag__thread(void) { return &thread_state; }

void ag__error(const char *fmt, ...)
{
    ag_thread *ts = &thread_state;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ts->error, sizeof ts->error, fmt, ap);
    va_end(ap);
    ts->has_error = true;
}

void ag_set_error(const char *fmt, ...)
{
    ag_thread *ts = &thread_state;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ts->error, sizeof ts->error, fmt ? fmt : "(no message)", ap);
    va_end(ap);
    ts->has_error = true;
}

const char *ag_last_error(void) { return thread_state.has_error ? thread_state.error : ""; }

bool ag_has_error(void) { return thread_state.has_error; }

void ag_clear_error(void)
{
    thread_state.has_error = false;
    thread_state.error[0] = '\0';
}

void ag__error_prepend(const char *fmt, ...)
{
    char old[sizeof ag__thread()->error], head[256];
    snprintf(old, sizeof old, "%s", ag_last_error());
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);
    ag__error("%s%s", head, old);
}

void ag__error_prefix(const char *fn, const char *prefix)
{
    char old[sizeof ag__thread()->error];
    snprintf(old, sizeof old, "%s", ag_last_error());
    size_t n = strlen(fn);
    const char *rest = old;
    if (strncmp(old, fn, n) == 0 && strncmp(old + n, ": ", 2) == 0) rest = old + n + 2;
    ag__error("%s: %s%s", fn, prefix, rest);
}

char *ag__shape_str(int ndim, const int64_t *shape, char *buf, size_t size)
{
    size_t len = 0;
    if (size == 0) return buf;
    buf[0] = '\0';
    len += (size_t)snprintf(buf + len, size - len, "[");
    for (int d = 0; d < ndim && len < size; d++)
        len += (size_t)snprintf(buf + len, size - len, d ? ",%lld" : "%lld", (long long)shape[d]);
    if (len < size) snprintf(buf + len, size - len, "]");
    return buf;
}

char *ag_shape_str(const ag_tensor *t, char *buf, size_t size)
{
    if (!buf || size == 0) return buf;
    if (!t) {
        snprintf(buf, size, "(null)");
        return buf;
    }
    return ag__shape_str(t->ndim, t->shape, buf, size);
}

bool ag__check(const char *fn, int n, ag_tensor *const *ts)
{
    for (int i = 0; i < n; i++) {
        if (!ts[i]) {
            /* Keep the message of the failure that produced this NULL: it is the root cause. */
            if (!thread_state.has_error)
                ag__error("%s: argument %d is NULL", fn, i + 1);
            return false;
        }
    }
    for (int i = 1; i < n; i++) {
        if (ts[i]->dtype != ts[0]->dtype) {
            char a[AG_SHAPE_BUF], b[AG_SHAPE_BUF];
            ag__error("%s: dtype mismatch: %s %s vs %s %s (convert one with ag_cast)", fn,
                      ag_dtype_name(ts[0]->dtype), ag_shape_str(ts[0], a, sizeof a),
                      ag_dtype_name(ts[i]->dtype), ag_shape_str(ts[i], b, sizeof b));
            return false;
        }
    }
    return true;
}

bool ag__axis(const char *fn, const ag_tensor *x, int axis, int *out)
{
    int nd = x->ndim;
    if (axis < -nd || axis >= nd || nd == 0) {
        char s[AG_SHAPE_BUF];
        if (nd == 0)
            ag__error("%s: axis %d given for a 0-d tensor (it has no axes)", fn, axis);
        else
            ag__error("%s: axis %d out of range for shape %s (valid: %d..%d)", fn, axis,
                      ag_shape_str(x, s, sizeof s), -nd, nd - 1);
        return false;
    }
    *out = axis < 0 ? axis + nd : axis;
    return true;
}
