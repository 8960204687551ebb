/* autograd/scope.c - memory scopes and who owns a new tensor.
 *
 * A scope is a list of the tensors created while it is the innermost active scope on its
 * thread; ending it drops one reference to each. Scope objects and their lists are recycled, so
 * a loop that opens one scope per step allocates nothing once warmed up.
 */
#include <stdlib.h>

#include "internal.h"

struct ag_scope {
    ag_scope *parent;
    ag_tensor **items;
    int64_t count, cap;
    bool active;
};

static _Thread_local ag_scope *spare_scopes; /* ended scopes kept for reuse (linked by parent) */

void ag__scope_add(ag_tensor *t)
{
    ag_scope *s = ag__thread()->scope;
    if (s->count == s->cap) {
        int64_t cap = s->cap ? s->cap * 2 : 64;
        ag_tensor **items = realloc(s->items, sizeof *items * (size_t)cap);
        if (!items) {
            /* Cannot record it: hand it to the caller rather than lose track of it. */
            t->caller_refs = 1;
            return;
        }
        s->items = items;
        s->cap = cap;
    }
    s->items[s->count++] = t;
    t->in_scope = true;
}

void ag__discard(ag_tensor *t)
{
    if (!t) return;
    ag_scope *s = ag__thread()->scope;
    if (t->in_scope) {
        /* A failed op's output is the newest entry of the current scope: take it back out.
         * Anywhere else, the scope frees it at its end. */
        if (!s || s->count == 0 || s->items[s->count - 1] != t) return;
        s->count--;
        t->in_scope = false;
    } else if (t->caller_refs > 0) {
        t->caller_refs--;
    }
    ag__release(t);
}

bool ag__unscope(ag_tensor *t)
{
    ag_scope *s = ag__thread()->scope;
    if (!t || !t->in_scope || !s || s->count == 0 || s->items[s->count - 1] != t) return false;
    s->count--;
    t->in_scope = false;
    t->caller_refs++; /* the scope's reference becomes the caller's */
    return true;
}

void ag__adopt(ag_tensor *t)
{
    ag_thread *ts = ag__thread();
    if (ts->engine_owned) return; /* the backward pass holds the reference */
    if (ts->scope)
        ag__scope_add(t);
    else
        t->caller_refs = 1;
}

ag_tensor *ag__scope_return(ag_scope *s, ag_tensor *y)
{
    if (y) ag_keep(y);
    ag_scope_end(s);
    if (y && ag__thread()->scope) {
        /* Turn the caller reference from ag_keep into the enclosing scope's reference. */
        y->caller_refs--;
        ag__scope_add(y);
    }
    return y;
}

ag_scope *ag_scope_begin(void)
{
    ag_thread *ts = ag__thread();
    ag_scope *s = spare_scopes;
    if (s) {
        spare_scopes = s->parent;
    } else {
        s = calloc(1, sizeof *s);
        if (!s) {
            ag__error("ag_scope_begin: out of memory");
            return NULL;
        }
    }
    s->count = 0;
    s->active = true;
    s->parent = ts->scope;
    ts->scope = s;
    return s;
}

static void end_one(ag_thread *ts, ag_scope *s)
{
    ts->scope = s->parent;
    /* Newest first: results go before the intermediates they were built from. */
    for (int64_t i = s->count - 1; i >= 0; i--) {
        ag_tensor *t = s->items[i];
        t->in_scope = false;
        ag__release(t);
    }
    s->count = 0;
    s->active = false;
    /* Keep the scope and its list for the next ag_scope_begin (ag_memory_trim frees them). */
    s->parent = spare_scopes;
    spare_scopes = s;
}

int ag_scope_end(ag_scope *s)
{
    ag_thread *ts = ag__thread();
    if (!s) {
        ag__error("ag_scope_end: scope is NULL");
        return -1;
    }
    if (!s->active) {
        ag__error("ag_scope_end: this scope has already ended (each ag_scope_begin needs exactly "
                  "one ag_scope_end)");
        return -1;
    }
    bool found = false;
    for (ag_scope *c = ts->scope; c; c = c->parent)
        if (c == s) found = true;
    if (!found) {
        ag__error("ag_scope_end: this scope is not active on this thread (scopes are per thread)");
        return -1;
    }
    int skipped = 0;
    while (ts->scope != s) {
        end_one(ts, ts->scope);
        skipped++;
    }
    end_one(ts, s);
    if (skipped) {
        ag__error("ag_scope_end: %d inner scope(s) were still open and have been ended too; end "
                  "scopes innermost first", skipped);
        return -1;
    }
    return 0;
}

int64_t ag_scope_size(const ag_scope *s)
{
    if (!s) {
        ag__error("ag_scope_size: scope is NULL");
        return -1;
    }
    return s->count;
}

void ag__scope_trim(void)
{
    while (spare_scopes) {
        ag_scope *s = spare_scopes;
        spare_scopes = s->parent;
        free(s->items);
        free(s);
    }
}
