/* nn/layers.c - parameter-free layers: ReLU, Tanh, Sigmoid, LeakyReLU, Softmax and Dropout.
 *
 * Each forward is one op (or, for dropout, a multiplication by a constant mask), so gradients
 * come from the ops. Dropout draws its mask from its own generator, so a seed fixes the masks of a
 * whole training run.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn_internal.h"

typedef enum layer_kind { L_RELU, L_TANH, L_SIGMOID, L_LEAKY, L_SOFTMAX, L_DROPOUT } layer_kind;

typedef struct layer_state {
    layer_kind kind;
    double slope;   /* LeakyReLU */
    int axis;       /* Softmax */
    double p;       /* Dropout */
    uint64_t seed;
    ag_rng rng;
} layer_state;

/* Inverted dropout: y = x * mask, mask = 0 with probability p, else 1/(1-p). The mask is a
 * constant (no graph), so dy/dx = mask comes from ag_mul. */
static ag_tensor *dropout(layer_state *st, ag_tensor *x)
{
    ag_tensor *mask = ag__new_like(x);
    if (!mask) return NULL;
    double keep = 1.0 / (1.0 - st->p);
    int64_t n = mask->numel;
    AG_DISPATCH(mask->dtype, T, {
        T *m = mask->data;
        for (int64_t i = 0; i < n; i++) m[i] = ag_rng_uniform(&st->rng) < st->p ? (T)0 : (T)keep;
    });
    return ag_mul(x, mask);
}

static ag_tensor *layer_forward(ag_module *self, ag_tensor *x)
{
    layer_state *st = self->state;
    switch (st->kind) {
    case L_RELU: return ag_relu(x);
    case L_TANH: return ag_tanh(x);
    case L_SIGMOID: return ag_sigmoid(x);
    case L_LEAKY: return ag_leaky_relu(x, st->slope);
    case L_SOFTMAX: return ag_softmax(x, st->axis);
    case L_DROPOUT:
        /* Identity when evaluating or with p = 0: the input itself is the output. */
        return self->training && st->p > 0 ? dropout(st, x) : x;
    }
    return NULL;
}

static void layer_describe(const ag_module *self, char *buf, size_t size)
{
    const layer_state *st = ag_module_state(self);
    switch (st->kind) {
    case L_LEAKY: snprintf(buf, size, "slope=%g", st->slope); break;
    case L_SOFTMAX: snprintf(buf, size, "axis=%d", st->axis); break;
    case L_DROPOUT: snprintf(buf, size, "p=%g", st->p); break;
    default: snprintf(buf, size, "%s", ""); break;
    }
}

static const ag_module_class CLASSES[] = {
    {"ReLU", layer_forward, free, layer_describe},
    {"Tanh", layer_forward, free, layer_describe},
    {"Sigmoid", layer_forward, free, layer_describe},
    {"LeakyReLU", layer_forward, free, layer_describe},
    {"Softmax", layer_forward, free, layer_describe},
    {"Dropout", layer_forward, free, layer_describe},
};

static ag_module *make(const char *fn, layer_state s)
{
    layer_state *st = malloc(sizeof *st);
    if (!st) {
        ag__error("%s: out of memory", fn);
        return NULL;
    }
    *st = s;
    return ag_module_new(&CLASSES[s.kind], st);
}

ag_module *ag_relu_layer(void) { return make("ag_relu_layer", (layer_state){.kind = L_RELU}); }
ag_module *ag_tanh_layer(void) { return make("ag_tanh_layer", (layer_state){.kind = L_TANH}); }

ag_module *ag_sigmoid_layer(void)
{
    return make("ag_sigmoid_layer", (layer_state){.kind = L_SIGMOID});
}

ag_module *ag_leaky_relu_layer(double slope)
{
    if (!isfinite(slope)) {
        ag__error("ag_leaky_relu_layer: slope %g is not finite", slope);
        return NULL;
    }
    /* 0 picks the usual default, as in ag_dense_opts (a slope of 0 is ag_relu_layer). */
    return make("ag_leaky_relu_layer",
                (layer_state){.kind = L_LEAKY, .slope = slope != 0 ? slope : 0.01});
}

ag_module *ag_softmax_layer(int axis)
{
    return make("ag_softmax_layer", (layer_state){.kind = L_SOFTMAX, .axis = axis});
}

ag_module *ag_dropout(double p, uint64_t seed)
{
    if (!(p >= 0 && p < 1)) {
        ag__error("ag_dropout: p = %g is out of range (need 0 <= p < 1)", p);
        return NULL;
    }
    return make("ag_dropout", (layer_state){.kind = L_DROPOUT, .p = p, .seed = seed,
                                            .rng = ag_rng_seed(seed)});
}

/* ---- architecture records (nn.h): the constructors' arguments ---- */

static int layer_save(const ag_module *m, ag_config *c)
{
    const layer_state *st = ag_module_state(m);
    switch (st->kind) {
    case L_LEAKY: return ag_config_set_number(c, "slope", st->slope);
    case L_SOFTMAX: return ag_config_set_int(c, "axis", st->axis);
    case L_DROPOUT: {
        /* the seed, not the generator's position: a rebuilt layer draws its masks afresh. As a
         * string: a 64-bit seed does not survive a trip through a JSON number. */
        char seed[24];
        snprintf(seed, sizeof seed, "%llu", (unsigned long long)st->seed);
        return ag_config_set_number(c, "p", st->p) == 0 &&
                       ag_config_set_string(c, "seed", seed) == 0 ? 0 : -1;
    }
    default: return 0;
    }
}

static ag_module *layer_build(const ag_config *c, int nchildren, ag_module *const *children)
{
    if (!ag__config_no_children(c, nchildren, children)) return NULL;
    const char *kind = ag_config_kind(c);
    double v;
    int64_t i;
    if (strcmp(kind, "ReLU") == 0) return ag_relu_layer();
    if (strcmp(kind, "Tanh") == 0) return ag_tanh_layer();
    if (strcmp(kind, "Sigmoid") == 0) return ag_sigmoid_layer();
    if (strcmp(kind, "LeakyReLU") == 0)
        return ag_config_get_number(c, "slope", &v) == 0 ? ag_leaky_relu_layer(v) : NULL;
    if (strcmp(kind, "Softmax") == 0) {
        if (ag_config_get_int(c, "axis", &i) != 0) return NULL;
        if (i < -AG_MAX_DIMS || i >= AG_MAX_DIMS) {
            ag__error("ag_softmax_layer: axis %lld is out of range", (long long)i);
            return NULL;
        }
        return ag_softmax_layer((int)i);
    }
    const char *seed = NULL;
    if (ag_config_get_number(c, "p", &v) != 0 || !(seed = ag_config_get_string(c, "seed")))
        return NULL;
    char *end;
    errno = 0;
    unsigned long long s = strtoull(seed, &end, 10);
    if (errno || end == seed || *end || seed[0] == '-') {
        ag__error("ag_dropout: Dropout setting 'seed' is '%.40s', not a 64-bit unsigned integer",
                  seed);
        return NULL;
    }
    return ag_dropout(v, (uint64_t)s);
}

const ag_module_builder ag__relu_builder = {"ReLU", layer_save, layer_build};
const ag_module_builder ag__tanh_builder = {"Tanh", layer_save, layer_build};
const ag_module_builder ag__sigmoid_builder = {"Sigmoid", layer_save, layer_build};
const ag_module_builder ag__leaky_relu_builder = {"LeakyReLU", layer_save, layer_build};
const ag_module_builder ag__softmax_builder = {"Softmax", layer_save, layer_build};
const ag_module_builder ag__dropout_builder = {"Dropout", layer_save, layer_build};
