/* autograd/function.c - user-defined differentiable functions (ag_apply_function): the user
 * computes the values, the engine records a node whose backward rule calls the user's.
 */
#include <string.h>

#include "internal.h"

#define MAX_FN_INPUTS 16

/* The engine's side of a user rule. The rule runs as ordinary user code inside a scope of its
 * own, so its intermediates are freed when it returns; each gradient it hands back (made inside
 * the rule, or borrowed such as grad_output) gets one reference for the engine. */
static int function_backward(ag_node *n, ag_tensor *y, ag_tensor *g, ag_tensor **gin)
{
    const ag_function *fn = n->p.fn;
    ag_thread *ts = ag__thread();
    int engine_owned = ts->engine_owned;
    ts->engine_owned = 0;
    ag_clear_error();
    ag_scope *sc = ag_scope_begin();
    int rc = sc ? fn->backward(fn, n->p.ctx, n->ninputs, n->inputs, y, g, gin) : -1;
    for (int i = 0; i < n->ninputs; i++) {
        if (!gin[i]) continue;
        ag__retain(gin[i]);
        if (rc == 0 && gin[i]->dtype != y->dtype) {
            ag__error("ag_apply_function: backward of '%s' returned a %s gradient for input %d "
                      "of dtype %s", fn->name, ag_dtype_name(gin[i]->dtype), i,
                      ag_dtype_name(n->inputs[i]->dtype));
            rc = -1;
        }
    }
    if (sc) ag_scope_end(sc);
    ts->engine_owned = engine_owned;
    if (rc != 0 && !ag_has_error())
        ag__error("ag_apply_function: backward of '%s' failed (returned %d)", fn->name, rc);
    return rc == 0 ? 0 : -1;
}

static const ag_op OP_FUNCTION = {"function", function_backward};

const char *ag__op_name(const ag_node *n)
{
    return n->op == &OP_FUNCTION && n->p.fn->name ? n->p.fn->name : n->op->name;
}

ag_tensor *ag_apply_function(const ag_function *fn, void *ctx, int n, ag_tensor *const *inputs,
                             ag_tensor *output)
{
    if (!fn || !fn->name || !fn->backward) {
        ag__error("ag_apply_function: the function, its name and its backward must be set");
        return NULL;
    }
    if (n < 1 || n > MAX_FN_INPUTS || !inputs) {
        ag__error("ag_apply_function: '%s' given %d inputs; 1 to %d are supported", fn->name, n,
                  MAX_FN_INPUTS);
        return NULL;
    }
    ag_tensor *all[MAX_FN_INPUTS + 1];
    memcpy(all, inputs, sizeof *all * (size_t)n);
    all[n] = output;
    if (!ag__check("ag_apply_function", n + 1, all)) return NULL;
    ag_tensor *y = ag__new_like(output);
    if (!y) return NULL;
    memcpy(y->data, output->data, (size_t)output->numel * ag_dtype_size(output->dtype));
    ag_params p = {0};
    p.fn = fn;
    p.ctx = ctx;
    return ag__finish(y, &OP_FUNCTION, n, inputs, &p);
}
