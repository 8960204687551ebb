/* nn/dense.c - the fully connected layer y = act(x W^T + b), W [out, in] as in PyTorch.
 *
 * The forward pass is a composition of ops, so its gradient (and higher-order gradients) come
 * from the ops' backward rules. The affine part is one function so that a fused op can replace
 * it without touching the rest.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "nn_internal.h"

typedef struct dense_state {
    int64_t in, out;
    ag_activation act;
    double slope;
    ag_dtype dtype;
    bool bias;
    ag_init init;   /* recorded in the architecture, so a rebuilt model trains the same way */
} dense_state;

static const char *const ACT_NAMES[] = {"linear", "relu", "tanh", "sigmoid", "leaky_relu",
                                        "softmax"};
static const char *const INIT_NAMES[] = {"glorot_uniform", "glorot_normal", "he_uniform",
                                         "he_normal", "torch_default", "zeros"};
static const char *const DTYPE_NAMES[] = {"float32", "float64"};

static const char *act_name(ag_activation a)
{
    return (unsigned)a <= AG_ACT_SOFTMAX ? ACT_NAMES[a] : "invalid";
}

/* x [batch, in] -> x W^T + b  [batch, out]: the fused op (one GEMM reading W transposed while
 * packing, bias added per tile), whose backward rule gives dx = g W, dW = g^T x, db = sum g. */
static ag_tensor *dense_affine(ag_tensor *x, ag_tensor *w, ag_tensor *b)
{
    return ag_linear(x, w, b);
}

/* Applies activation `a` (shared with nothing else: layers.c has its own layer classes). */
static ag_tensor *activate(ag_tensor *y, ag_activation a, double slope)
{
    switch (a) {
    case AG_ACT_NONE: return y;
    case AG_ACT_RELU: return ag_relu(y);
    case AG_ACT_TANH: return ag_tanh(y);
    case AG_ACT_SIGMOID: return ag_sigmoid(y);
    case AG_ACT_LEAKY_RELU: return ag_leaky_relu(y, slope);
    case AG_ACT_SOFTMAX: return ag_softmax(y, -1);
    }
    return NULL;
}

static ag_tensor *dense_forward(ag_module *self, ag_tensor *x)
{
    const dense_state *st = self->state;
    char buf[AG_SHAPE_BUF + 16];
    if (x->dtype != st->dtype) {
        ag__error("ag_module_forward: Dense(%lld -> %lld) has %s weights but the input is %s "
                  "(convert it with ag_cast)", (long long)st->in, (long long)st->out,
                  ag_dtype_name(st->dtype), ag__nn_describe_tensor(x, buf, sizeof buf));
        return NULL;
    }
    bool vec = x->ndim == 1;
    if (!((vec && x->shape[0] == st->in) || (x->ndim == 2 && x->shape[1] == st->in))) {
        ag__error("ag_module_forward: Dense(%lld -> %lld) expects [batch, %lld] or [%lld], got %s",
                  (long long)st->in, (long long)st->out, (long long)st->in, (long long)st->in,
                  ag_shape_str(x, buf, sizeof buf));
        return NULL;
    }
    ag_tensor *w = self->params[0];
    ag_tensor *b = st->bias ? self->params[1] : NULL;
    ag_tensor *x2 = vec ? ag_reshape(x, 2, (int64_t[]){1, st->in}) : x;
    ag_tensor *y = activate(dense_affine(x2, w, b), st->act, st->slope);
    return vec ? ag_reshape(y, 1, (int64_t[]){st->out}) : y;
}

static void dense_describe(const ag_module *self, char *buf, size_t size)
{
    const dense_state *st = ag_module_state(self);
    if (st->act == AG_ACT_LEAKY_RELU)
        snprintf(buf, size, "units=%lld, leaky_relu(%g)%s", (long long)st->out, st->slope,
                 st->bias ? "" : ", no bias");
    else
        snprintf(buf, size, "units=%lld, %s%s", (long long)st->out, act_name(st->act),
                 st->bias ? "" : ", no bias");
}

static const ag_module_class DENSE = {"Dense", dense_forward, free, dense_describe};

ag_module *ag_dense(int64_t in_features, int64_t out_features, const ag_dense_opts *opts,
                    ag_rng *rng)
{
    static const char fn[] = "ag_dense";
    ag_dense_opts o = opts ? *opts : (ag_dense_opts){0};
    if (in_features < 1 || out_features < 1) {
        ag__error("%s: features must be positive, got %lld -> %lld", fn, (long long)in_features,
                  (long long)out_features);
        return NULL;
    }
    if ((unsigned)o.activation > AG_ACT_SOFTMAX) {
        ag__error("%s: unknown activation %d", fn, (int)o.activation);
        return NULL;
    }
    if ((unsigned)o.init > AG_INIT_ZEROS) {
        ag__error("%s: unknown initializer %d", fn, (int)o.init);
        return NULL;
    }
    if (o.dtype != AG_F32 && o.dtype != AG_F64) {
        ag__error("%s: unknown dtype %d", fn, (int)o.dtype);
        return NULL;
    }
    if (!isfinite(o.leaky_slope)) {
        ag__error("%s: leaky_slope %g is not finite", fn, o.leaky_slope);
        return NULL;
    }
    dense_state *st = malloc(sizeof *st);
    if (!st) {
        ag__error("%s: out of memory", fn);
        return NULL;
    }
    *st = (dense_state){in_features, out_features, o.activation,
                        o.leaky_slope != 0 ? o.leaky_slope : 0.01, o.dtype, !o.no_bias, o.init};
    ag_module *m = ag_module_new(&DENSE, st);
    if (!m) return NULL;
    ag_rng local = ag_rng_seed(0);
    if (!rng) rng = &local;
    /* Registered first, filled after: on any failure freeing the module frees them. */
    int rc = ag__module_add_new_param(m, "weight",
                                      ag_zeros(o.dtype, 2, (int64_t[]){out_features, in_features}));
    if (rc == 0) rc = ag_init_fill(m->params[0], o.init, in_features, out_features, rng);
    if (rc == 0 && st->bias) {
        rc = ag__module_add_new_param(m, "bias", ag_zeros(o.dtype, 1, (int64_t[]){out_features}));
        /* Keras zero-initialises the bias; PyTorch draws it like the weight. */
        if (rc == 0 && o.init == AG_INIT_TORCH_DEFAULT)
            rc = ag_init_fill(m->params[1], o.init, in_features, out_features, rng);
    }
    if (rc != 0) {
        /* most likely a weight too large to allocate: say which layer asked for it */
        char where[96];
        snprintf(where, sizeof where, "cannot make the parameters of Dense(%lld -> %lld): ",
                 (long long)in_features, (long long)out_features);
        ag__error_prefix(fn, where);
        ag_module_free(m);
        return NULL;
    }
    return m;
}

/* ---- architecture record (nn.h): the constructor's arguments, by name ---- */

static int dense_save(const ag_module *m, ag_config *c)
{
    const dense_state *st = ag_module_state(m);
    int rc = ag_config_set_int(c, "in_features", st->in);
    if (rc == 0) rc = ag_config_set_int(c, "out_features", st->out);
    if (rc == 0) rc = ag_config_set_string(c, "activation", act_name(st->act));
    if (rc == 0 && st->act == AG_ACT_LEAKY_RELU)
        rc = ag_config_set_number(c, "leaky_slope", st->slope);
    if (rc == 0) rc = ag_config_set_bool(c, "bias", st->bias);
    if (rc == 0) rc = ag_config_set_string(c, "init", INIT_NAMES[st->init]);
    if (rc == 0) rc = ag_config_set_string(c, "dtype", DTYPE_NAMES[st->dtype]);
    return rc;
}

static ag_module *dense_build(const ag_config *c, int nchildren, ag_module *const *children)
{
    if (!ag__config_no_children(c, nchildren, children)) return NULL;
    int64_t in, out;
    bool bias;
    ag_dense_opts o = {0};
    int act = -1, init = -1, dt = -1;
    if (ag_config_get_int(c, "in_features", &in) != 0 ||
        ag_config_get_int(c, "out_features", &out) != 0 ||
        (act = ag__config_pick(c, "activation", ACT_NAMES, 6)) < 0 ||
        ag_config_get_bool(c, "bias", &bias) != 0 ||
        (init = ag__config_pick(c, "init", INIT_NAMES, 6)) < 0 ||
        (dt = ag__config_pick(c, "dtype", DTYPE_NAMES, 2)) < 0 ||
        (act == AG_ACT_LEAKY_RELU && ag_config_get_number(c, "leaky_slope", &o.leaky_slope) != 0))
        return NULL;
    o.activation = (ag_activation)act;
    o.init = (ag_init)init;
    o.dtype = (ag_dtype)dt;
    o.no_bias = !bias;
    /* the weights are loaded from the file afterwards: the initial draw does not matter */
    return ag_dense(in, out, &o, NULL);
}

const ag_module_builder ag__dense_builder = {"Dense", dense_save, dense_build};
