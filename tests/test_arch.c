/* tests/test_arch.c - a model's architecture saved with its weights and rebuilt from the file
 * alone (ag_module_save / ag_module_load_new, Keras's model.save / load_model):
 *   - every layer kind of the library (Dense with each activation, initializer, bias or not, both
 *     dtypes; the activation layers; Dropout; nested Sequentials) comes back with the same
 *     structure and predicts bit for bit the same;
 *   - a custom module round-trips once its builder is registered, and without one the weights are
 *     still saved and the loader says what is missing;
 *   - malformed or unknown records (bad JSON, wrong version, missing or mistyped fields, counts
 *     that do not add up, unknown kinds and settings, weights that do not fit) give errors naming
 *     the file and the module, never a crash.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_util.h"

static char *temp_path(void)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/ag_arch_%d_XXXXXX", (int)getpid());
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
    return path;
}

static ag_module *dense(int64_t in, int64_t out, ag_dense_opts o, uint64_t seed)
{
    ag_rng r = ag_rng_seed(seed);
    ag_module *m = ag_dense(in, out, &o, &r);
    cr_assert(m, "%s", ag_last_error());
    return m;
}

/* Every layer the library has, nested, in dtype dt. */
static ag_module *zoo(ag_dtype dt)
{
    ag_module *inner = ag_sequential(2, (ag_module *[]){
        dense(6, 6, (ag_dense_opts){.activation = AG_ACT_TANH, .no_bias = true, .dtype = dt}, 5),
        ag_leaky_relu_layer(0.3)});
    ag_module *m = ag_sequential(13, (ag_module *[]){
        dense(4, 6, (ag_dense_opts){.dtype = dt}, 1),
        dense(6, 6, (ag_dense_opts){.activation = AG_ACT_RELU, .init = AG_INIT_HE_NORMAL,
                                    .dtype = dt}, 2),
        dense(6, 6, (ag_dense_opts){.activation = AG_ACT_SIGMOID, .init = AG_INIT_TORCH_DEFAULT,
                                    .dtype = dt}, 3),
        dense(6, 6, (ag_dense_opts){.activation = AG_ACT_LEAKY_RELU, .leaky_slope = 0.2,
                                    .init = AG_INIT_GLOROT_NORMAL, .dtype = dt}, 4),
        ag_relu_layer(), ag_tanh_layer(), ag_sigmoid_layer(), ag_dropout(0.25, 18446744073709551557u),
        inner,
        dense(6, 6, (ag_dense_opts){.activation = AG_ACT_TANH, .init = AG_INIT_HE_UNIFORM,
                                    .dtype = dt}, 6),
        ag_sequential(0, NULL),
        dense(6, 5, (ag_dense_opts){.activation = AG_ACT_SOFTMAX, .dtype = dt}, 7),
        ag_softmax_layer(-1)});
    cr_assert(m, "%s", ag_last_error());
    return m;
}

static void expect_same_tree(const ag_module *a, const ag_module *b)
{
    cr_assert_str_eq(ag_module_kind(a), ag_module_kind(b));
    cr_assert_eq(ag_module_num_children(a), ag_module_num_children(b), "%s", ag_module_kind(a));
    for (int i = 0; i < ag_module_num_children(a); i++) {
        cr_expect_str_eq(ag_module_child_name(a, i), ag_module_child_name(b, i));
        expect_same_tree(ag_module_child(a, i), ag_module_child(b, i));
    }
    const ag_module_class *ca = ag_module_class_of(a), *cb = ag_module_class_of(b);
    if (ca->describe) {
        char da[128], db[128];
        ca->describe(a, da, sizeof da);
        cb->describe(b, db, sizeof db);
        cr_expect_str_eq(da, db, "%s settings", ag_module_kind(a));
    }
}

/* Outputs on the same input, byte for byte, in evaluation mode. */
static void expect_same_predictions(ag_module *a, ag_module *b, ag_dtype dt, int64_t in)
{
    ag_scope *s = ag_scope_begin();
    ag_rng r = ag_rng_seed(99);
    ag_tensor *x = ag_rand_uniform(&r, dt, 2, (int64_t[]){7, in}, -2, 2);
    cr_assert_not_null(x, "%s", ag_last_error());
    ag_tensor *ya = ag_predict(a, x, 3), *yb = ag_predict(b, x, 3);
    cr_assert(ya && yb, "%s", ag_last_error());
    cr_assert(ag_same_shape(ya, yb));
    cr_expect(memcmp(ag_data(ya), ag_data(yb), (size_t)ag_numel(ya) * ag_dtype_size(dt)) == 0,
              "predictions differ after the round trip");
    ag_scope_end(s);
}

Test(arch, every_layer_kind_round_trips_and_predicts_identically)
{
    for (int d = 0; d < 2; d++) {
        ag_dtype dt = d ? AG_F64 : AG_F32;
        ag_module *m = zoo(dt);
        char *path = temp_path();
        cr_assert_eq(ag_module_save(m, path), 0, "%s", ag_last_error());
        ag_module *back = ag_module_load_new(path);
        cr_assert_not_null(back, "%s", ag_last_error());
        expect_same_tree(m, back);
        cr_assert_eq(ag_module_num_params(back), ag_module_num_params(m));
        for (int i = 0; i < ag_module_num_params(m); i++)
            cr_expect_str_eq(ag_module_param_name(back, i), ag_module_param_name(m, i));
        expect_same_predictions(m, back, dt, 4);
        /* a rebuilt model is a model like any other: it saves the same bytes again */
        char *again = strdup(temp_path());
        cr_assert_eq(ag_module_save(back, again), 0, "%s", ag_last_error());
        ag_st_file *f1 = ag_safetensors_load(path), *f2 = ag_safetensors_load(again);
        cr_expect_str_eq(ag_st_meta(f1, "architecture"), ag_st_meta(f2, "architecture"));
        cr_expect_str_eq(ag_st_meta(f1, "format"), "pt");
        ag_st_free(f1);
        ag_st_free(f2);
        unlink(again);
        free(again);
        unlink(path);
        ag_module_free(back);
        ag_module_free(m);
    }
}

Test(arch, the_record_is_readable_json)
{
    ag_module *m = ag_sequential(2, (ag_module *[]){
        dense(100, 32, (ag_dense_opts){.activation = AG_ACT_RELU}, 1),
        dense(32, 10, (ag_dense_opts){.activation = AG_ACT_SOFTMAX}, 2)});
    char *path = temp_path();
    cr_assert_eq(ag_module_save(m, path), 0);
    ag_st_file *f = ag_safetensors_load(path);
    const char *a = ag_st_meta(f, "architecture");
    cr_assert_not_null(a);
    cr_expect(strstr(a, "{\"name\": \"\", \"kind\": \"Sequential\", \"config\": {}, "
                        "\"children\": 2}"), "%s", a);
    cr_expect(strstr(a, "{\"name\": \"1\", \"kind\": \"Dense\", \"config\": {\"in_features\": 32, "
                        "\"out_features\": 10, \"activation\": \"softmax\", \"bias\": true, "
                        "\"init\": \"glorot_uniform\", \"dtype\": \"float32\"}, \"children\": 0}"),
              "%s", a);
    ag_st_free(f);
    unlink(path);
    ag_module_free(m);
}

/* ---- a custom module: y = alpha * x^power, alpha a parameter, power a setting ---- */

typedef struct power_state { int64_t power; } power_state;

static ag_tensor *power_forward(ag_module *self, ag_tensor *x)
{
    const power_state *st = ag_module_state(self);
    ag_tensor *alpha = ag_module_param_by_name(self, "alpha");
    return ag_mul(ag_pow(x, (double)st->power), alpha);
}

static const ag_module_class POWER = {"Power", power_forward, free, NULL};
static const ag_module_class ORPHAN = {"Orphan", power_forward, free, NULL};

static ag_module *power_new(const ag_module_class *cls, int64_t power)
{
    power_state *st = malloc(sizeof *st);
    st->power = power;
    ag_module *m = ag_module_new(cls, st);
    ag_tensor *alpha = ag_full(AG_F32, 1, (int64_t[]){1}, 0.5);
    cr_assert_eq(ag_module_add_param(m, "alpha", alpha), 0, "%s", ag_last_error());
    return m;
}

static int power_save(const ag_module *m, ag_config *c)
{
    const power_state *st = ag_module_state(m);
    return ag_config_set_int(c, "power", st->power);
}

static ag_module *power_build(const ag_config *c, int n, ag_module *const *children)
{
    (void)children;
    int64_t p;
    if (n != 0 || ag_config_get_int(c, "power", &p) != 0) return NULL;
    return power_new(&POWER, p);
}

static const ag_module_builder POWER_BUILDER = {"Power", power_save, power_build};

Test(arch, a_custom_module_round_trips_once_its_builder_is_registered)
{
    cr_assert_eq(ag_module_register_builder(&POWER_BUILDER), 0, "%s", ag_last_error());
    cr_assert_eq(ag_module_register_builder(&POWER_BUILDER), 0, "registering twice is harmless");
    cr_expect_eq(ag_module_find_builder("Power"), &POWER_BUILDER);
    ag_module *m = ag_sequential(2, (ag_module *[]){dense(3, 3, (ag_dense_opts){0}, 1),
                                                    power_new(&POWER, 3)});
    ag_data_f32(ag_module_param_by_name(m, "1.alpha"))[0] = 1.25f; /* trained, say */
    char *path = temp_path();
    cr_assert_eq(ag_module_save(m, path), 0, "%s", ag_last_error());
    ag_module *back = ag_module_load_new(path);
    cr_assert_not_null(back, "%s", ag_last_error());
    expect_same_tree(m, back);
    cr_expect_eq(ag_get(ag_module_param_by_name(back, "1.alpha"), 0), 1.25);
    cr_expect_eq(((power_state *)ag_module_state(ag_module_child(back, 1)))->power, 3);
    expect_same_predictions(m, back, AG_F32, 3);
    ag_module_free(back);
    ag_module_free(m);
    unlink(path);
}

Test(arch, without_a_builder_the_weights_are_saved_and_the_loader_says_why)
{
    ag_module *m = ag_sequential(2, (ag_module *[]){dense(3, 3, (ag_dense_opts){0}, 1),
                                                    ag_sequential(1, (ag_module *[]){
                                                        power_new(&ORPHAN, 2)})});
    char *path = temp_path();
    cr_assert_eq(ag_module_save(m, path), 0, "%s", ag_last_error());
    ag_st_file *f = ag_safetensors_load(path);
    cr_expect_null(ag_st_meta(f, "architecture"));
    cr_expect_str_eq(ag_st_meta(f, "architecture_missing"),
                     "module '1.0' (Orphan) has no registered builder (ag_module_register_builder)");
    ag_st_free(f);
    cr_expect_null(ag_module_load_new(path));
    expect_error_mentions("ag_module_load_new", path, "weights but no architecture",
                          "module '1.0' (Orphan)", "ag_module_load");
    /* the weights load into a model built in code, as before */
    ag_module *same = ag_sequential(2, (ag_module *[]){dense(3, 3, (ag_dense_opts){0}, 7),
                                                       ag_sequential(1, (ag_module *[]){
                                                           power_new(&ORPHAN, 2)})});
    cr_expect_eq(ag_module_load(same, path), 0, "%s", ag_last_error());
    ag_module_free(same);
    ag_module_free(m);
    unlink(path);
}

Test(arch, registry_errors)
{
    static const ag_module_builder other_dense = {"Dense", power_save, power_build};
    static const ag_module_builder unnamed = {"", power_save, power_build};
    static const ag_module_builder no_build = {"X", power_save, NULL};
    cr_expect_eq(ag_module_register_builder(&other_dense), -1);
    expect_error_mentions("ag_module_register_builder", "'Dense' already has a builder");
    cr_expect_eq(ag_module_register_builder(NULL), -1);
    expect_error_mentions("ag_module_register_builder", "NULL");
    cr_expect_eq(ag_module_register_builder(&unnamed), -1);
    expect_error_mentions("ag_module_register_builder", "no name");
    cr_expect_eq(ag_module_register_builder(&no_build), -1);
    expect_error_mentions("ag_module_register_builder", "save and build");
    cr_expect_null(ag_module_find_builder("Conv9d"));
    cr_expect_not_null(ag_module_find_builder("Dropout"));
}

/* ---- malformed and unknown records ---- */

/* Writes the weights of a Dense(3 -> 2) under "0.weight"/"0.bias" with the given architecture
 * text (NULL: no architecture at all), and expects ag_module_load_new to fail mentioning the
 * fragments. */
static void expect_bad(const char *arch, const char *a, const char *b)
{
    ag_module *m = ag_sequential(1, (ag_module *[]){dense(3, 2, (ag_dense_opts){0}, 1)});
    const char *names[2] = {"0.weight", "0.bias"};
    ag_tensor *ts[2] = {ag_module_param(m, 0), ag_module_param(m, 1)};
    const char *meta[2] = {"architecture", arch};
    char *path = temp_path();
    cr_assert_eq(ag_safetensors_save(path, 2, names, ts, arch ? 1 : 0, meta), 0, "%s",
                 ag_last_error());
    ag_clear_error();
    ag_module *back = ag_module_load_new(path);
    cr_expect_null(back, "loaded: %s", arch);
    if (back) ag_module_free(back);
    expect_error_mentions("ag_module_load_new", path, a, b);
    unlink(path);
    ag_module_free(m);
}

#define DENSE_CFG(in, act) \
    "{\"in_features\": " in ", \"out_features\": 2, \"activation\": \"" act "\", " \
    "\"bias\": true, \"init\": \"zeros\", \"dtype\": \"float32\"}"
#define SEQ(n) "{\"name\": \"\", \"kind\": \"Sequential\", \"config\": {}, \"children\": " n "}"
#define DENSE_ENTRY(cfg) "{\"name\": \"0\", \"kind\": \"Dense\", \"config\": " cfg ", \"children\": 0}"

Test(arch, malformed_records_give_clear_errors)
{
    /* the well-formed record loads (the baseline of the cases below) */
    ag_module *m = ag_sequential(1, (ag_module *[]){dense(3, 2, (ag_dense_opts){0}, 1)});
    char *path = temp_path();
    const char *names[2] = {"0.weight", "0.bias"};
    ag_tensor *ts[2] = {ag_module_param(m, 0), ag_module_param(m, 1)};
    const char *good = "{\"version\": 1, \"modules\": [" SEQ("1") ", "
                       DENSE_ENTRY(DENSE_CFG("3", "relu")) "]}";
    const char *meta[2] = {"architecture", good};
    cr_assert_eq(ag_safetensors_save(path, 2, names, ts, 1, meta), 0);
    ag_module *back = ag_module_load_new(path);
    cr_assert_not_null(back, "%s", ag_last_error());
    ag_module_free(back);
    unlink(path);
    ag_module_free(m);

    expect_bad(NULL, "holds no architecture", "ag_module_load");
    expect_bad("{\"version\": 1, \"modules\": [", "not valid JSON", "at byte");
    expect_bad("[1, 2]", "the architecture is an array", "expected an object");
    expect_bad("{\"version\": 2, \"modules\": []}", "architecture version 2", "version 1");
    expect_bad("{\"version\": 1}", "has no 'modules'", "architecture");
    expect_bad("{\"version\": 1, \"modules\": {}}", "'modules'", "expected an array");
    expect_bad("{\"version\": 1, \"modules\": []}", "module list ends early", "child count");
    expect_bad("{\"version\": 1, \"modules\": [" SEQ("2") ", " DENSE_ENTRY(DENSE_CFG("3", "relu"))
               "]}", "module list ends early", "child count");
    expect_bad("{\"version\": 1, \"modules\": [" SEQ("1") ", " DENSE_ENTRY(DENSE_CFG("3", "relu"))
               ", " DENSE_ENTRY(DENSE_CFG("3", "relu")) "]}", "3 modules are listed",
               "uses only 2");
    expect_bad("{\"version\": 1, \"modules\": [" SEQ("99999999999") "]}", "claims 99999999999 "
               "children", "lists 1");
    expect_bad("{\"version\": 1, \"modules\": [7]}", "module entry 0 is an integer",
               "expected an object");
    expect_bad("{\"version\": 1, \"modules\": [{\"name\": \"\", \"config\": {}, \"children\": 0}]}",
               "module entry 0 has no 'kind'", "architecture");
    expect_bad("{\"version\": 1, \"modules\": [{\"name\": \"\", \"kind\": 3, \"config\": {}, "
               "\"children\": 0}]}", "'kind' of module entry 0 is an integer", "a string");
    expect_bad("{\"version\": 1, \"modules\": [{\"name\": \"\", \"kind\": \"Conv9d\", \"config\": "
               "{}, \"children\": 0}]}", "no builder for kind 'Conv9d'",
               "ag_module_register_builder");
    expect_bad("{\"version\": 1, \"modules\": [" SEQ("1") ", " DENSE_ENTRY(DENSE_CFG("3", "softmaxx"))
               "]}", "module '0' (Dense)", "'softmaxx', expected one of linear, relu");
    expect_bad("{\"version\": 1, \"modules\": [" SEQ("1") ", " DENSE_ENTRY(DENSE_CFG("\"3\"", "relu"))
               "]}", "module '0' (Dense)", "'in_features' is a string, expected an integer");
    expect_bad("{\"version\": 1, \"modules\": [" SEQ("1") ", " DENSE_ENTRY(DENSE_CFG("2.5", "relu"))
               "]}", "'in_features' is 2.5", "expected an integer");
    expect_bad("{\"version\": 1, \"modules\": [" SEQ("1") ", " DENSE_ENTRY(DENSE_CFG("-3", "relu"))
               "]}", "module '0' (Dense)", "features must be positive");
    expect_bad("{\"version\": 1, \"modules\": [" SEQ("1") ", " DENSE_ENTRY(DENSE_CFG("null", "relu"))
               "]}", "setting 'in_features'", "is null");
    expect_bad("{\"version\": 1, \"modules\": [" SEQ("1") ", "
               DENSE_ENTRY("{\"in_features\": 3}") "]}", "Dense has no setting 'out_features'",
               "module '0'");
    /* the architecture builds, but the weights in the file do not fit it */
    expect_bad("{\"version\": 1, \"modules\": [" SEQ("1") ", " DENSE_ENTRY(DENSE_CFG("4", "relu"))
               "]}", "tensor '0.weight' is float32 [2,3] in the file", "[2,4] here");
    /* a chain nested deeper than the limit is refused, not a stack overflow */
    size_t cap = 400 * 80 + 200;
    char *deep = malloc(cap);
    size_t len = (size_t)snprintf(deep, cap, "{\"version\": 1, \"modules\": [");
    for (int i = 0; i < 400; i++)
        len += (size_t)snprintf(deep + len, cap - len, "%s{\"name\": \"0\", \"kind\": "
                                "\"Sequential\", \"config\": {}, \"children\": %d}",
                                i ? ", " : "", i < 399);
    snprintf(deep + len, cap - len, "]}");
    expect_bad(deep, "nested more than 256 deep", "architecture");
    free(deep);
}

static int nan_save(const ag_module *m, ag_config *c)
{
    (void)m;
    return ag_config_set_number(c, "scale", 0.0 / 0.0);
}

static int twice_save(const ag_module *m, ag_config *c)
{
    (void)m;
    return ag_config_set_bool(c, "flag", true) == 0 && ag_config_set_int(c, "flag", 1) == 0 ? 0
                                                                                             : -1;
}

Test(arch, config_errors)
{
    cr_expect_eq(ag_config_set_int(NULL, "a", 1), -1);
    expect_error_mentions("ag_config_set_int", "config is NULL");
    cr_expect_eq(ag_config_get_number(NULL, "a", &(double){0}), -1);
    expect_error_mentions("ag_config_get_number", "config is NULL");
    cr_expect_null(ag_config_get_string(NULL, "a"));
    cr_expect(!ag_config_has(NULL, "a"));
    cr_expect_str_eq(ag_config_kind(NULL), "(NULL)");
    /* a save function that fails makes ag_module_save fail with its reason, writing nothing */
    static const ag_module_class NAN_CLASS = {"NanSave", power_forward, free, NULL};
    static const ag_module_class TWICE_CLASS = {"TwiceSave", power_forward, free, NULL};
    static const ag_module_builder NAN_BUILDER = {"NanSave", nan_save, power_build};
    static const ag_module_builder TWICE_BUILDER = {"TwiceSave", twice_save, power_build};
    cr_assert_eq(ag_module_register_builder(&NAN_BUILDER), 0);
    cr_assert_eq(ag_module_register_builder(&TWICE_BUILDER), 0);
    char *path = temp_path();
    unlink(path);
    ag_module *m = ag_sequential(1, (ag_module *[]){power_new(&NAN_CLASS, 1)});
    cr_expect_eq(ag_module_save(m, path), -1);
    expect_error_mentions("ag_module_save", "saving the settings of module '0' (NanSave)",
                          "'scale' = nan is not finite");
    cr_expect_neq(access(path, F_OK), 0, "no file is written");
    ag_module_free(m);
    m = power_new(&TWICE_CLASS, 1);
    cr_expect_eq(ag_module_save(m, path), -1);
    expect_error_mentions("ag_module_save", "module '(the root)' (TwiceSave)",
                          "already has a setting 'flag'");
    ag_module_free(m);
}
