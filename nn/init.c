/* nn/init.c - weight initializers (Glorot/Xavier, He/Kaiming, PyTorch's nn.Linear default, zeros).
 *
 * Values are drawn one after another from the given generator, in row-major order, so a seed
 * determines the weights whatever the thread count.
 */
#include <math.h>

#include "nn_internal.h"

static const char *init_name(ag_init init)
{
    static const char *const names[] = {"Glorot uniform", "Glorot normal", "He uniform",
                                        "He normal", "torch default", "zeros"};
    return (unsigned)init <= AG_INIT_ZEROS ? names[init] : "invalid";
}

int ag_init_fill(ag_tensor *t, ag_init init, int64_t fan_in, int64_t fan_out, ag_rng *rng)
{
    static const char fn[] = "ag_init_fill";
    if (!t) {
        if (!ag_has_error()) ag__error("%s: tensor is NULL", fn);
        return -1;
    }
    if ((unsigned)init > AG_INIT_ZEROS) {
        ag__error("%s: unknown initializer %d", fn, (int)init);
        return -1;
    }
    if (t->node) {
        ag__error("%s: the tensor was produced by op '%s'; only leaves can be initialised", fn,
                  ag__op_name(t->node));
        return -1;
    }
    /* Glorot needs fan_in + fan_out > 0, He and torch need fan_in > 0 (tested without adding,
     * so that huge fans cannot overflow). */
    bool uses_out = init == AG_INIT_GLOROT_UNIFORM || init == AG_INIT_GLOROT_NORMAL;
    if (init != AG_INIT_ZEROS &&
        (fan_in < 0 || fan_out < 0 || (fan_in == 0 && (!uses_out || fan_out == 0)))) {
        ag__error("%s: %s needs positive fans, got fan_in %lld, fan_out %lld", fn,
                  init_name(init), (long long)fan_in, (long long)fan_out);
        return -1;
    }
    ag_rng local = ag_rng_seed(0);
    if (!rng) rng = &local;

    double fi = (double)fan_in, fo = (double)fan_out, a = 0, sd = 0;
    bool normal = false;
    switch (init) {
    case AG_INIT_GLOROT_UNIFORM: a = sqrt(6.0 / (fi + fo)); break;
    case AG_INIT_GLOROT_NORMAL: sd = sqrt(2.0 / (fi + fo)); normal = true; break;
    case AG_INIT_HE_UNIFORM: a = sqrt(6.0 / fi); break;
    case AG_INIT_HE_NORMAL: sd = sqrt(2.0 / fi); normal = true; break;
    case AG_INIT_TORCH_DEFAULT: a = 1.0 / sqrt(fi); break;
    case AG_INIT_ZEROS: break;
    }
    int64_t n = t->numel;
    AG_DISPATCH(t->dtype, T, {
        T *p = t->data;
        for (int64_t i = 0; i < n; i++) {
            double v = 0;
            if (init == AG_INIT_ZEROS) v = 0;
            else if (normal) v = sd * ag_rng_normal(rng);
            else v = a * (2.0 * ag_rng_uniform(rng) - 1.0);
            p[i] = (T)v;
        }
    });
    return 0;
}
