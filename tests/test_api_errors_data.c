/* tests/test_api_errors_data.c - every public function of data.h, io.h and fit.h given NULL,
 * zero, negative or NaN arguments, or a dataset struct filled in by hand without tensors: it must
 * return its error value, record a message that starts with its own name, and leave the
 * live-tensor count where it was (one row per call, see api_test_util.h).
 */
#include <stdio.h>
#include <unistd.h>

#include "api_test_util.h"

Test(api_errors, data)
{
    ag_dataset *ds = small_dataset(), *a = NULL, *b = NULL;
    ag_dataset hollow = {NULL, NULL, 0};
    ag_tensor *x = fx(), *y = fx(), *xb = NULL, *yb = NULL, *mean = NULL, *sd = NULL;
    ag_tensor *row = tu_tensor(AG_F32, 1, (int64_t[]){2}, (double[]){0, 1});
    ag_tensor *empty = ag_zeros(AG_F32, 2, (int64_t[]){0, 2});
    ag_batcher *bt = ag_batcher_new(ds, 2, false, 0, false);
    cr_assert(bt, "%s", ag_last_error());
    FAILS("ag_dataset_new", ag_dataset_new(NULL, y, 0) == NULL);
    FAILS("ag_dataset_new", ag_dataset_new(x, NULL, 0) == NULL);
    FAILS("ag_dataset_new", ag_dataset_new(x, x, 0) == NULL);
    FAILS("ag_dataset_new", ag_dataset_new(x, y, -1) == NULL);
    FAILS("ag_dataset_new", ag_dataset_new(x, row, 0) == NULL);
    FAILS("ag_dataset_size", ag_dataset_size(NULL) < 0);
    FAILS("ag_dataset_size", ag_dataset_size(&hollow) < 0);
    FAILS("ag_dataset_subset", ag_dataset_subset(NULL, (int64_t[]){0}, 1) == NULL);
    FAILS("ag_dataset_subset", ag_dataset_subset(&hollow, (int64_t[]){0}, 1) == NULL);
    FAILS("ag_dataset_subset", ag_dataset_subset(ds, NULL, 1) == NULL);
    FAILS("ag_dataset_subset", ag_dataset_subset(ds, (int64_t[]){0}, -1) == NULL);
    FAILS("ag_dataset_subset", ag_dataset_subset(ds, (int64_t[]){4}, 1) == NULL);
    FAILS("ag_dataset_split", ag_dataset_split(NULL, 0.5, false, 0, &a, &b) < 0 && !a && !b);
    FAILS("ag_dataset_split", ag_dataset_split(ds, 0, false, 0, &a, &b) < 0);
    FAILS("ag_dataset_split", ag_dataset_split(ds, NAN, true, 0, &a, &b) < 0);
    FAILS("ag_dataset_split", ag_dataset_split(ds, 0.5, false, 0, NULL, &b) < 0);
    FAILS("ag_dataset_cast", ag_dataset_cast(NULL, AG_F64) == NULL);
    FAILS("ag_dataset_cast", ag_dataset_cast(ds, (ag_dtype)3) == NULL);
    FAILS("ag_batcher_new", ag_batcher_new(NULL, 1, false, 0, false) == NULL);
    FAILS("ag_batcher_new", ag_batcher_new(&hollow, 1, false, 0, false) == NULL);
    FAILS("ag_batcher_new", ag_batcher_new(ds, 0, false, 0, false) == NULL);
    FAILS("ag_batcher_new", ag_batcher_new(ds, 5, false, 0, true) == NULL);
    FAILS("ag_batcher_next", ag_batcher_next(NULL, &xb, &yb) < 0 && !xb && !yb);
    FAILS("ag_batcher_next", ag_batcher_next(bt, NULL, &yb) < 0);
    FAILS("ag_batcher_seek_epoch", ag_batcher_seek_epoch(NULL, 0) < 0);
    FAILS("ag_batcher_seek_epoch", ag_batcher_seek_epoch(bt, -1) < 0);
    FAILS("ag_batcher_epoch", ag_batcher_epoch(NULL) < 0);
    FAILS("ag_batcher_num_batches", ag_batcher_num_batches(NULL) < 0);
    FAILS("ag_one_hot", ag_one_hot(NULL, 3) == NULL);
    FAILS("ag_one_hot", ag_one_hot(row, 0) == NULL);
    FAILS("ag_one_hot", ag_one_hot(x, 3) == NULL);
    FAILS("ag_one_hot", ag_one_hot(row, 1) == NULL);
    FAILS("ag_standardize_fit", ag_standardize_fit(NULL, &mean, &sd) < 0 && !mean && !sd);
    FAILS("ag_standardize_fit", ag_standardize_fit(x, NULL, &sd) < 0);
    FAILS("ag_standardize_fit", ag_standardize_fit(empty, &mean, &sd) < 0);
    FAILS("ag_standardize_fit", ag_standardize_fit(row, &mean, &sd) < 0);
    FAILS("ag_standardize_apply", ag_standardize_apply(NULL, row, row) == NULL);
    FAILS("ag_standardize_apply", ag_standardize_apply(x, NULL, row) == NULL);
    FAILS("ag_standardize_apply", ag_standardize_apply(x, row, row) == NULL); /* std 0 */
    FAILS("ag_standardize_apply", ag_standardize_apply(x, x, row) == NULL);
    FAILS("ag_load_csv", ag_load_csv(NULL, NULL) == NULL);
    FAILS("ag_load_csv", ag_load_csv("/nonexistent/a.csv", NULL) == NULL);
    FAILS("ag_load_csv", ag_load_csv("a.csv", &(ag_csv_opts){.dtype = (ag_dtype)4}) == NULL);
    FAILS("ag_load_csv", ag_load_csv("a.csv", &(ag_csv_opts){.delimiter = '\n'}) == NULL);
    FAILS("ag_load_csv", ag_load_csv("/dev/null", NULL) == NULL);
    FAILS("ag_load_idx", ag_load_idx(NULL, AG_F32, 1) == NULL);
    FAILS("ag_load_idx", ag_load_idx("/nonexistent.idx", AG_F32, 1) == NULL);
    FAILS("ag_load_idx", ag_load_idx("a.idx", (ag_dtype)-1, 1) == NULL);
    FAILS("ag_load_idx", ag_load_idx("a.idx", AG_F32, NAN) == NULL);
    FAILS("ag_load_idx", ag_load_idx("/dev/null", AG_F32, 1) == NULL);
    FAILS("ag_load_idx_dataset", ag_load_idx_dataset(NULL, NULL, AG_F32) == NULL);
    FAILS("ag_load_idx_dataset", ag_load_idx_dataset("a", "b", (ag_dtype)2) == NULL);
    FAILS("ag_load_mnist", ag_load_mnist(NULL, AG_F32, &a, NULL) == -1 && a == NULL);
    FAILS("ag_load_fashion_mnist", ag_load_fashion_mnist("/nonexistent", AG_F32, &a, NULL) == -1);
    FAILS("ag_resize_images", ag_resize_images(NULL, 1, 1, 1, 1) == NULL);
    FAILS("ag_resize_images", ag_resize_images(x, 0, 2, 1, 1) == NULL);
    FAILS("ag_resize_images", ag_resize_images(x, 1, 2, 1, -1) == NULL);
    FAILS("ag_resize_images", ag_resize_images(x, 2, 2, 1, 1) == NULL);
    FAILS("ag_make_spirals", ag_make_spirals(0, 2, 0, 0, AG_F32) == NULL);
    FAILS("ag_make_spirals", ag_make_spirals(10, 0, 0, 0, AG_F32) == NULL);
    FAILS("ag_make_spirals", ag_make_spirals(10, 2, NAN, 0, AG_F32) == NULL);
    FAILS("ag_make_spirals", ag_make_spirals(10, 2, 0, 0, (ag_dtype)9) == NULL);
    FAILS("ag_make_blobs", ag_make_blobs(0, 2, 2, 1, 1, 0, AG_F32) == NULL);
    FAILS("ag_make_blobs", ag_make_blobs(10, 0, 2, 1, 1, 0, AG_F32) == NULL);
    FAILS("ag_make_blobs", ag_make_blobs(10, 2, -2, 1, 1, 0, AG_F32) == NULL);
    FAILS("ag_make_blobs", ag_make_blobs(10, 2, 2, -1, 1, 0, AG_F32) == NULL);
    FAILS("ag_make_blobs", ag_make_blobs(10, 2, 2, 1, NAN, 0, AG_F32) == NULL);
    FAILS("ag_make_regression", ag_make_regression(0, 1, 0, 0, AG_F32, NULL, NULL) == NULL);
    FAILS("ag_make_regression", ag_make_regression(10, -1, 0, 0, AG_F32, NULL, NULL) == NULL);
    FAILS("ag_make_regression", ag_make_regression(10, 1, INFINITY, 0, AG_F32, NULL, NULL) == NULL);
    HARMLESS((ag_batcher_free(NULL), 0));
    HARMLESS((ag_dataset_free(NULL), 0));
    ag_batcher_free(bt);
    ag_dataset_free(ds);
    ag_tensor *ts[] = {x, y, row, empty};
    for (int i = 0; i < 4; i++) ag_tensor_free(ts[i]);
}

Test(api_errors, io)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/ag_test_api_errors_%d.safetensors", (int)getpid());
    ag_module *m = ag_dense(2, 1, NULL, NULL);
    cr_assert(m && ag_module_save(m, path) == 0, "%s", ag_last_error());
    ag_st_file *f = ag_safetensors_load(path);
    cr_assert(f, "%s", ag_last_error());
    ag_tensor *t = fx(), *null_t[1] = {NULL};
    const char *names[1] = {"a"}, *null_name[1] = {NULL};
    FAILS("ag_safetensors_save", ag_safetensors_save(NULL, 0, NULL, NULL, 0, NULL) < 0);
    FAILS("ag_safetensors_save", ag_safetensors_save(path, -1, NULL, NULL, 0, NULL) < 0);
    FAILS("ag_safetensors_save", ag_safetensors_save(path, 1, NULL, &t, 0, NULL) < 0);
    FAILS("ag_safetensors_save", ag_safetensors_save(path, 1, names, NULL, 0, NULL) < 0);
    FAILS("ag_safetensors_save", ag_safetensors_save(path, 1, null_name, &t, 0, NULL) < 0);
    FAILS("ag_safetensors_save", ag_safetensors_save(path, 1, names, null_t, 0, NULL) < 0);
    FAILS("ag_safetensors_save", ag_safetensors_save(path, 0, NULL, NULL, 1, NULL) < 0);
    FAILS("ag_safetensors_save", ag_safetensors_save(path, 0, NULL, NULL, -1, NULL) < 0);
    FAILS("ag_safetensors_save", ag_safetensors_save(path, 0, NULL, NULL, 1, null_name) < 0);
    FAILS("ag_safetensors_load", ag_safetensors_load(NULL) == NULL);
    FAILS("ag_safetensors_load", ag_safetensors_load("/nonexistent.safetensors") == NULL);
    FAILS("ag_safetensors_load", ag_safetensors_load("/dev/null") == NULL);
    FAILS("ag_safetensors_load", ag_safetensors_load("/tmp") == NULL);
    FAILS("ag_st_count", ag_st_count(NULL) < 0);
    FAILS("ag_st_name", ag_st_name(NULL, 0) == NULL);
    FAILS("ag_st_name", ag_st_name(f, 2) == NULL);
    FAILS("ag_st_tensor", ag_st_tensor(NULL, 0) == NULL);
    FAILS("ag_st_tensor", ag_st_tensor(f, -1) == NULL);
    FAILS("ag_st_get", ag_st_get(NULL, "bias") == NULL);
    FAILS("ag_st_get", ag_st_get(f, NULL) == NULL);
    FAILS("ag_st_get", ag_st_get(f, "nope") == NULL);
    FAILS("ag_st_meta", ag_st_meta(NULL, "format") == NULL);
    FAILS("ag_st_meta", ag_st_meta(f, NULL) == NULL);
    FAILS("ag_module_save", ag_module_save(NULL, path) < 0);
    FAILS("ag_module_save", ag_module_save(m, NULL) < 0);
    FAILS("ag_module_load", ag_module_load(NULL, path) < 0);
    FAILS("ag_module_load", ag_module_load(m, NULL) < 0);
    FAILS("ag_module_load_new", ag_module_load_new(NULL) == NULL);
    FAILS("ag_module_load_new", ag_module_load_new("/nonexistent.safetensors") == NULL);
    FAILS("ag_module_register_builder", ag_module_register_builder(NULL) < 0);
    FAILS("ag_checkpoint_save", ag_checkpoint_save(NULL, m, NULL, 0, NULL) < 0);
    FAILS("ag_checkpoint_save", ag_checkpoint_save(path, NULL, NULL, 0, NULL) < 0);
    FAILS("ag_checkpoint_save", ag_checkpoint_save(path, m, NULL, -1, NULL) < 0);
    FAILS("ag_checkpoint_save", ag_checkpoint_save(path, m, NULL, 1, NULL) < 0);
    const char *null_key[2] = {NULL, "v"};
    FAILS("ag_checkpoint_save", ag_checkpoint_save(path, m, NULL, 1, null_key) < 0);
    FAILS("ag_checkpoint_load", ag_checkpoint_load(NULL, m, NULL, NULL) < 0);
    FAILS("ag_checkpoint_load", ag_checkpoint_load(path, NULL, NULL, NULL) < 0);
    FAILS("ag_checkpoint_load", ag_checkpoint_load(path, m, NULL, NULL) < 0); /* no "model." */
    HARMLESS((ag_st_free(NULL), 0));
    cr_expect_null(ag_st_meta(f, "absent"), "an absent key is NULL");
    ag_st_free(f);
    remove(path);
    ag_module_free(m);
    ag_tensor_free(t);
}

static ag_tensor *no_loss(ag_tensor *pred, ag_tensor *target, void *ctx)
{
    (void)pred, (void)target, (void)ctx;
    return NULL;
}

Test(api_errors, fit)
{
    ag_module *m = ag_dense(2, 2, NULL, NULL);
    ag_optimizer *o = ag_sgd_new(ag_module_num_params(m), ag_module_params(m), NULL);
    ag_trainer *t = ag_compile(m, o, AG_LOSS_CROSS_ENTROPY, AG_METRIC_ACCURACY);
    cr_assert(t, "%s", ag_last_error());
    ag_dataset *ds = small_dataset(), hollow = {NULL, NULL, 0};
    ag_fit_opts fo = ag_fit_defaults();
    fo.verbose = AG_VERBOSE_SILENT;
    ag_history *h = ag_fit(t, ds, &fo);
    cr_assert(h, "%s", ag_last_error());
    ag_tensor *x = fx(), *row = tu_tensor(AG_F32, 1, (int64_t[]){2}, (double[]){0, 1});
    int64_t out[4];
    double loss;
    ag_fit_opts bad[] = {{.epochs = -1, .batch_size = 1}, {.epochs = 1, .batch_size = 0},
                         {.epochs = 1, .batch_size = 1, .validation_split = NAN},
                         {.epochs = 1, .batch_size = 1, .verbose = (ag_verbosity)9},
                         {.epochs = 1, .batch_size = 1, .ncallbacks = 1},
                         {.epochs = 1, .batch_size = 1, .initial_epoch = 2},
                         {.epochs = 1, .batch_size = 1, .validation_data = &hollow}};
    FAILS("ag_compile", ag_compile(NULL, o, AG_LOSS_MSE, 0) == NULL);
    FAILS("ag_compile", ag_compile(m, NULL, AG_LOSS_MSE, 0) == NULL);
    FAILS("ag_compile", ag_compile(m, o, (ag_loss_kind)99, 0) == NULL);
    FAILS("ag_compile", ag_compile(m, o, (ag_loss_kind)-1, 0) == NULL);
    FAILS("ag_compile", ag_compile(m, o, AG_LOSS_MSE, 0x80) == NULL);
    FAILS("ag_trainer_set_loss_opts", ag_trainer_set_loss_opts(NULL, NULL) < 0);
    FAILS("ag_trainer_set_loss_opts",
          ag_trainer_set_loss_opts(t, &(ag_loss_opts){.reduction = AG_REDUCE_SUM}) < 0);
    FAILS("ag_trainer_set_loss_fn", ag_trainer_set_loss_fn(NULL, no_loss, NULL) < 0);
    FAILS("ag_trainer_set_loss_fn", ag_trainer_set_loss_fn(t, NULL, NULL) < 0);
    FAILS("ag_history_epochs", ag_history_epochs(NULL) < 0);
    FAILS("ag_history_first_epoch", ag_history_first_epoch(NULL) < 0);
    FAILS("ag_history_num_columns", ag_history_num_columns(NULL) < 0);
    FAILS("ag_history_column_name", ag_history_column_name(NULL, 0) == NULL);
    FAILS("ag_history_column_name", ag_history_column_name(h, 99) == NULL);
    FAILS("ag_history_get", isnan(ag_history_get(NULL, "loss", 0)));
    FAILS("ag_history_get", isnan(ag_history_get(h, NULL, 0)));
    FAILS("ag_history_get", isnan(ag_history_get(h, "nope", 0)));
    FAILS("ag_history_get", isnan(ag_history_get(h, "loss", -1)));
    FAILS("ag_history_last", isnan(ag_history_last(NULL, "loss")));
    FAILS("ag_history_write_csv", ag_history_write_csv(NULL, "/tmp/x.csv") < 0);
    FAILS("ag_history_write_csv", ag_history_write_csv(h, NULL) < 0);
    FAILS("ag_history_write_csv", ag_history_write_csv(h, "/nonexistent/h.csv") < 0);
    FAILS("ag_early_stopping", ag_early_stopping(NULL, -1, 0, false, false) == NULL);
    FAILS("ag_early_stopping", ag_early_stopping(NULL, 1, NAN, false, false) == NULL);
    FAILS("ag_early_stopping", ag_early_stopping("", 1, 0, false, false) == NULL);
    FAILS("ag_model_checkpoint", ag_model_checkpoint(NULL, NULL, false, false) == NULL);
    FAILS("ag_model_checkpoint", ag_model_checkpoint("", NULL, false, false) == NULL);
    FAILS("ag_callback_new", ag_callback_new(NULL, NULL) == NULL);
    FAILS("ag_fit", ag_fit(NULL, ds, &fo) == NULL);
    FAILS("ag_fit", ag_fit(t, NULL, &fo) == NULL);
    FAILS("ag_fit", ag_fit(t, &hollow, &fo) == NULL);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        FAILS("ag_fit", ag_fit(t, ds, &bad[i]) == NULL);
    FAILS("ag_evaluate", ag_evaluate(NULL, ds, 1, &loss, NULL) < 0);
    FAILS("ag_evaluate", ag_evaluate(t, NULL, 1, &loss, NULL) < 0);
    FAILS("ag_evaluate", ag_evaluate(t, &hollow, 1, &loss, NULL) < 0);
    FAILS("ag_evaluate", ag_evaluate(t, ds, 0, &loss, NULL) < 0);
    FAILS("ag_predict", ag_predict(NULL, x, 1) == NULL);
    FAILS("ag_predict", ag_predict(m, NULL, 1) == NULL);
    FAILS("ag_predict", ag_predict(m, x, 0) == NULL);
    FAILS("ag_argmax_rows", ag_argmax_rows(NULL, out) < 0);
    FAILS("ag_argmax_rows", ag_argmax_rows(x, NULL) < 0);
    FAILS("ag_argmax_rows", ag_argmax_rows(row, out) < 0);
    cr_assert_eq(ag_trainer_set_loss_fn(t, no_loss, NULL), 0);
    FAILS("ag_fit", ag_fit(t, ds, &fo) == NULL);
    HARMLESS(ag_history_diverged(NULL));
    HARMLESS(ag_history_stopped_early(NULL));
    HARMLESS((ag_history_free(NULL), 0));
    HARMLESS((ag_callback_free(NULL), 0));
    HARMLESS((ag_trainer_free(NULL), 0));
    ag_history_free(h);
    ag_tensor_free(x);
    ag_tensor_free(row);
    ag_dataset_free(ds);
    ag_trainer_free(t);
    ag_optim_free(o);
    ag_module_free(m);
}
