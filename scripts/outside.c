/* A program outside the source tree, built against the installed library with
 * `cc prog.c $(pkg-config --cflags --libs autograd)` by `make install-check`. */
#include <autograd.h>
#include <stdio.h>

int main(void)
{
    ag_tensor *w = ag_tensor_from(AG_F64, 1, (int64_t[]){2}, (double[]){0.5, -1.0});
    ag_set_requires_grad(w, true);
    ag_scope *s = ag_scope_begin();
    ag_tensor *loss = ag_sum_all(ag_tanh(ag_mul(w, w)));
    if (!loss || ag_backward(loss) != 0) {
        fprintf(stderr, "error: %s\n", ag_last_error());
        return 1;
    }
    printf("autograd %s: loss %.6f, grad [%.6f, %.6f]\n", AG_VERSION, ag_item(loss),
           ag_get(ag_grad(w), 0), ag_get(ag_grad(w), 1));
    ag_scope_end(s);
    ag_tensor_free(w);
    return 0;
}
