/* tests/test_api_errors.c - every public function of nn.h, loss.h and optim.h given NULL, zero,
 * negative or NaN arguments: it must return its error value (NULL, -1, NaN), record a message
 * that starts with its own name, and leave the live-tensor count where it was (one row per call,
 * see api_test_util.h). data.h, io.h and fit.h are in test_api_errors_data.c.
 */
#include <stdio.h>

#include "api_test_util.h"

Test(api_errors, nn)
{
    ag_module *m = ag_dense(2, 3, NULL, NULL), *relu = ag_relu_layer();
    ag_module *seq = ag_sequential(0, NULL);
    cr_assert(m && relu && seq, "%s", ag_last_error());
    ag_tensor *t = fx(), *x = fx();
    FILE *out = tmpfile();
    cr_assert(out);
    FAILS("ag_module_new", ag_module_new(NULL, NULL) == NULL);
    FAILS("ag_module_new", ag_module_new(&(ag_module_class){.name = "X"}, NULL) == NULL);
    FAILS("ag_module_add_param", ag_module_add_param(NULL, "w", t) < 0);
    FAILS("ag_module_add_param", ag_module_add_param(relu, NULL, t) < 0);
    FAILS("ag_module_add_param", ag_module_add_param(relu, "", t) < 0);
    FAILS("ag_module_add_param", ag_module_add_param(relu, "a.b", t) < 0);
    FAILS("ag_module_add_param", ag_module_add_param(relu, "w", NULL) < 0);
    FAILS("ag_module_add_child", ag_module_add_child(NULL, "c", relu) < 0);
    FAILS("ag_module_add_child", ag_module_add_child(seq, NULL, relu) < 0);
    FAILS("ag_module_add_child", ag_module_add_child(seq, "c", NULL) < 0);
    FAILS("ag_module_add_child", ag_module_add_child(seq, "c", seq) < 0);
    FAILS("ag_module_forward", ag_module_forward(NULL, x) == NULL);
    FAILS("ag_module_forward", ag_module_forward(m, NULL) == NULL);
    FAILS("ag_module_kind", ag_module_kind(NULL) == NULL);
    FAILS("ag_module_state", ag_module_state(NULL) == NULL);
    FAILS("ag_module_class_of", ag_module_class_of(NULL) == NULL);
    FAILS("ag_module_num_children", ag_module_num_children(NULL) < 0);
    FAILS("ag_module_child", ag_module_child(NULL, 0) == NULL);
    FAILS("ag_module_child", ag_module_child(m, 0) == NULL);
    FAILS("ag_module_child_name", ag_module_child_name(NULL, 0) == NULL);
    FAILS("ag_module_child_name", ag_module_child_name(m, -1) == NULL);
    FAILS("ag_module_num_params", ag_module_num_params(NULL) < 0);
    FAILS("ag_module_params", ag_module_params(NULL) == NULL);
    FAILS("ag_module_param", ag_module_param(NULL, 0) == NULL);
    FAILS("ag_module_param", ag_module_param(m, 2) == NULL);
    FAILS("ag_module_param_name", ag_module_param_name(NULL, 0) == NULL);
    FAILS("ag_module_param_name", ag_module_param_name(m, -1) == NULL);
    FAILS("ag_module_param_by_name", ag_module_param_by_name(NULL, "weight") == NULL);
    FAILS("ag_module_param_by_name", ag_module_param_by_name(m, NULL) == NULL);
    FAILS("ag_module_param_by_name", ag_module_param_by_name(m, "") == NULL);
    FAILS("ag_module_param_by_name", ag_module_param_by_name(m, "0.weight") == NULL);
    FAILS("ag_module_count_weights", ag_module_count_weights(NULL) < 0);
    FAILS("ag_module_zero_grad", ag_module_zero_grad(NULL) < 0);
    FAILS("ag_module_summary", ag_module_summary(NULL, m, 1, (int64_t[]){2}) < 0);
    FAILS("ag_module_summary", ag_module_summary(out, NULL, 1, (int64_t[]){2}) < 0);
    FAILS("ag_module_summary", ag_module_summary(out, m, -1, NULL) < 0);
    FAILS("ag_module_summary", ag_module_summary(out, m, 1, NULL) < 0);
    FAILS("ag_module_summary", ag_module_summary(out, m, 1, (int64_t[]){0}) < 0);
    FAILS("ag_module_summary", ag_module_summary(out, m, 1, (int64_t[]){-3}) < 0);
    FAILS("ag_module_summary", ag_module_summary(out, m, 1, (int64_t[]){5}) < 0);
    int64_t too_many[AG_MAX_DIMS] = {1, 1, 1, 1, 1, 1, 1, 1};
    FAILS("ag_module_summary", ag_module_summary(out, m, AG_MAX_DIMS, too_many) < 0);
    FAILS("ag_init_fill", ag_init_fill(NULL, AG_INIT_ZEROS, 1, 1, NULL) < 0);
    FAILS("ag_init_fill", ag_init_fill(t, (ag_init)99, 1, 1, NULL) < 0);
    FAILS("ag_init_fill", ag_init_fill(t, (ag_init)-1, 1, 1, NULL) < 0);
    FAILS("ag_init_fill", ag_init_fill(t, AG_INIT_GLOROT_UNIFORM, 0, 0, NULL) < 0);
    FAILS("ag_init_fill", ag_init_fill(t, AG_INIT_HE_NORMAL, 0, 5, NULL) < 0);
    FAILS("ag_init_fill", ag_init_fill(t, AG_INIT_TORCH_DEFAULT, -1, 1, NULL) < 0);
    FAILS("ag_dense", ag_dense(0, 1, NULL, NULL) == NULL);
    FAILS("ag_dense", ag_dense(1, -1, NULL, NULL) == NULL);
    FAILS("ag_dense", ag_dense(1, 1, &(ag_dense_opts){.activation = (ag_activation)9}, NULL) ==
                          NULL);
    FAILS("ag_dense", ag_dense(1, 1, &(ag_dense_opts){.init = (ag_init)-2}, NULL) == NULL);
    FAILS("ag_dense", ag_dense(1, 1, &(ag_dense_opts){.dtype = (ag_dtype)5}, NULL) == NULL);
    FAILS("ag_dense", ag_dense(1, 1, &(ag_dense_opts){.leaky_slope = NAN}, NULL) == NULL);
    FAILS("ag_leaky_relu_layer", ag_leaky_relu_layer(NAN) == NULL);
    FAILS("ag_leaky_relu_layer", ag_leaky_relu_layer(-INFINITY) == NULL);
    FAILS("ag_dropout", ag_dropout(-0.1, 0) == NULL);
    FAILS("ag_dropout", ag_dropout(1.0, 0) == NULL);
    FAILS("ag_dropout", ag_dropout(NAN, 0) == NULL);
    FAILS("ag_sequential", ag_sequential(-1, NULL) == NULL);
    FAILS("ag_sequential", ag_sequential(2, NULL) == NULL);
    FAILS("ag_sequential", ag_sequential(1, (ag_module *[]){NULL}) == NULL);
    FAILS("ag_sequential_add", ag_sequential_add(NULL, relu) < 0);
    FAILS("ag_sequential_add", ag_sequential_add(m, relu) < 0);
    FAILS("ag_sequential_add", ag_sequential_add(seq, NULL) < 0);
    FAILS("ag_module_train", (ag_module_train(NULL, true), true));
    HARMLESS(ag_module_is_training(NULL));
    HARMLESS((ag_module_free(NULL), 0));
    fclose(out);
    ag_tensor_free(t);
    ag_tensor_free(x);
    ag_module_free(m);
    ag_module_free(relu);
    ag_module_free(seq);
}

Test(api_errors, loss)
{
    ag_tensor *a = fx(), *b = fx(), *d = tu_tensor(AG_F64, 2, (int64_t[]){4, 2}, (double[8]){0});
    ag_tensor *idx = tu_tensor(AG_F32, 1, (int64_t[]){4}, (double[]){0, 1, 1, 0});
    ag_loss_opts bad_reduction = {.reduction = (ag_reduction)7};
    ag_loss_opts nan_smooth = {.label_smoothing = NAN};
    ag_loss_opts weights = {.class_weights = b}, pos = {.pos_weight = b};
    FAILS("ag_mse_loss", ag_mse_loss(NULL, a, NULL) == NULL);
    FAILS("ag_mse_loss", ag_mse_loss(a, NULL, NULL) == NULL);
    FAILS("ag_mse_loss", ag_mse_loss(a, d, NULL) == NULL);
    FAILS("ag_mse_loss", ag_mse_loss(a, idx, NULL) == NULL);
    FAILS("ag_mse_loss", ag_mse_loss(a, b, &bad_reduction) == NULL);
    FAILS("ag_mse_loss", ag_mse_loss(a, b, &weights) == NULL);
    FAILS("ag_l1_loss", ag_l1_loss(NULL, a, NULL) == NULL);
    FAILS("ag_l1_loss", ag_l1_loss(a, b, &pos) == NULL);
    FAILS("ag_cross_entropy", ag_cross_entropy(NULL, idx, NULL) == NULL);
    FAILS("ag_cross_entropy", ag_cross_entropy(a, NULL, NULL) == NULL);
    FAILS("ag_cross_entropy", ag_cross_entropy(idx, idx, NULL) == NULL);
    FAILS("ag_cross_entropy", ag_cross_entropy(a, idx, &nan_smooth) == NULL);
    FAILS("ag_cross_entropy", ag_cross_entropy(a, idx, &weights) == NULL);
    FAILS("ag_cross_entropy", ag_cross_entropy(a, idx, &pos) == NULL);
    FAILS("ag_categorical_cross_entropy", ag_categorical_cross_entropy(NULL, idx, NULL) == NULL);
    FAILS("ag_categorical_cross_entropy", ag_categorical_cross_entropy(a, NULL, NULL) == NULL);
    FAILS("ag_categorical_cross_entropy", ag_categorical_cross_entropy(idx, idx, NULL) == NULL);
    FAILS("ag_categorical_cross_entropy",
          ag_categorical_cross_entropy(a, idx, &nan_smooth) == NULL);
    FAILS("ag_categorical_cross_entropy", ag_categorical_cross_entropy(a, idx, &pos) == NULL);
    FAILS("ag_bce_with_logits", ag_bce_with_logits(NULL, a, NULL) == NULL);
    FAILS("ag_bce_with_logits", ag_bce_with_logits(a, d, NULL) == NULL);
    FAILS("ag_bce_with_logits", ag_bce_with_logits(a, b, &bad_reduction) == NULL);
    FAILS("ag_bce_with_logits", ag_bce_with_logits(a, b, &nan_smooth) == NULL);
    ag_tensor *ts[] = {a, b, d, idx};
    for (int i = 0; i < 4; i++) ag_tensor_free(ts[i]);
}

Test(api_errors, optim)
{
    ag_tensor *p = fx();
    ag_set_requires_grad(p, true);
    ag_optimizer *o = ag_gd_new(1, &p, 0.1);
    cr_assert(o, "%s", ag_last_error());
    ag_scheduler *plateau = ag_sched_plateau(o, 0.1, 10, 1e-4, 0, 0);
    cr_assert(plateau, "%s", ag_last_error());
    ag_tensor *null_param[1] = {NULL};
    const char *name = "x";
    FAILS("ag_gd_new", ag_gd_new(0, &p, 0.1) == NULL);
    FAILS("ag_gd_new", ag_gd_new(1, NULL, 0.1) == NULL);
    FAILS("ag_gd_new", ag_gd_new(1, null_param, 0.1) == NULL);
    FAILS("ag_gd_new", ag_gd_new(1, &p, -1) == NULL);
    FAILS("ag_gd_new", ag_gd_new(1, &p, NAN) == NULL);
    FAILS("ag_sgd_new", ag_sgd_new(-1, &p, NULL) == NULL);
    FAILS("ag_sgd_new", ag_sgd_new(1, &p, &(ag_sgd_opts){.lr = 0.1, .momentum = NAN}) == NULL);
    FAILS("ag_adam_new", ag_adam_new(0, NULL, NULL) == NULL);
    FAILS("ag_adamw_new", ag_adamw_new(1, null_param, NULL) == NULL);
    FAILS("ag_rmsprop_new", ag_rmsprop_new(0, &p, NULL) == NULL);
    FAILS("ag_optim_step", ag_optim_step(NULL) < 0);
    FAILS("ag_optim_zero_grad", ag_optim_zero_grad(NULL) < 0);
    FAILS("ag_optim_get_lr", isnan(ag_optim_get_lr(NULL)));
    FAILS("ag_optim_set_lr", ag_optim_set_lr(NULL, 0.1) < 0);
    FAILS("ag_optim_set_lr", ag_optim_set_lr(o, NAN) < 0);
    FAILS("ag_optim_set_lr", ag_optim_set_lr(o, -INFINITY) < 0);
    FAILS("ag_optim_name", ag_optim_name(NULL) == NULL);
    FAILS("ag_optim_num_params", ag_optim_num_params(NULL) < 0);
    FAILS("ag_optim_param", ag_optim_param(NULL, 0) == NULL);
    FAILS("ag_optim_param", ag_optim_param(o, 1) == NULL);
    FAILS("ag_optim_steps", ag_optim_steps(NULL) < 0);
    FAILS("ag_optim_set_steps", ag_optim_set_steps(NULL, 0) < 0);
    FAILS("ag_optim_set_steps", ag_optim_set_steps(o, -1) < 0);
    FAILS("ag_optim_num_state", ag_optim_num_state(NULL) < 0);
    FAILS("ag_optim_state", ag_optim_state(NULL, 0, &name) == NULL && name == NULL);
    FAILS("ag_optim_state", ag_optim_state(o, -1, NULL) == NULL);
    FAILS("ag_sched_step_lr", ag_sched_step_lr(NULL, 1, 0.5) == NULL);
    FAILS("ag_sched_step_lr", ag_sched_step_lr(o, 0, 0.5) == NULL);
    FAILS("ag_sched_step_lr", ag_sched_step_lr(o, 1, NAN) == NULL);
    FAILS("ag_sched_exponential", ag_sched_exponential(NULL, 0.5) == NULL);
    FAILS("ag_sched_exponential", ag_sched_exponential(o, 0) == NULL);
    FAILS("ag_sched_cosine", ag_sched_cosine(NULL, 1, 0) == NULL);
    FAILS("ag_sched_cosine", ag_sched_cosine(o, 0, 0) == NULL);
    FAILS("ag_sched_cosine", ag_sched_cosine(o, 1, NAN) == NULL);
    FAILS("ag_sched_linear", ag_sched_linear(NULL, 0.5, 1, 1) == NULL);
    FAILS("ag_sched_linear", ag_sched_linear(o, 0, 1, 1) == NULL);
    FAILS("ag_sched_linear", ag_sched_linear(o, 0.5, NAN, 1) == NULL);
    FAILS("ag_sched_linear", ag_sched_linear(o, 0.5, 1, 0) == NULL);
    FAILS("ag_sched_plateau", ag_sched_plateau(NULL, 0.1, 10, 1e-4, 0, 0) == NULL);
    FAILS("ag_sched_plateau", ag_sched_plateau(o, 1, 10, 1e-4, 0, 0) == NULL);
    FAILS("ag_sched_plateau", ag_sched_plateau(o, 0.1, -1, 1e-4, 0, 0) == NULL);
    FAILS("ag_sched_plateau", ag_sched_plateau(o, 0.1, 10, NAN, 0, 0) == NULL);
    FAILS("ag_sched_plateau", ag_sched_plateau(o, 0.1, 10, 1e-4, -1, 0) == NULL);
    FAILS("ag_sched_plateau", ag_sched_plateau(o, 0.1, 10, 1e-4, 0, -1) == NULL);
    FAILS("ag_sched_step", ag_sched_step(NULL) < 0);
    FAILS("ag_sched_step", ag_sched_step(plateau) < 0);
    FAILS("ag_sched_step_metric", ag_sched_step_metric(NULL, 0) < 0);
    FAILS("ag_sched_epoch", ag_sched_epoch(NULL) < 0);
    FAILS("ag_clip_grad_norm", ag_clip_grad_norm(-1, NULL, 1) < 0);
    FAILS("ag_clip_grad_norm", ag_clip_grad_norm(1, NULL, 1) < 0);
    FAILS("ag_clip_grad_norm", ag_clip_grad_norm(1, null_param, 1) < 0);
    FAILS("ag_clip_grad_norm", ag_clip_grad_norm(1, &p, NAN) < 0);
    FAILS("ag_clip_grad_value", ag_clip_grad_value(-1, NULL, 1) < 0);
    FAILS("ag_clip_grad_value", ag_clip_grad_value(1, null_param, 1) < 0);
    FAILS("ag_clip_grad_value", ag_clip_grad_value(1, &p, -1) < 0);
    HARMLESS(ag_sched_needs_metric(NULL));
    HARMLESS((ag_sched_free(NULL), 0));
    HARMLESS((ag_optim_free(NULL), 0));
    cr_expect_eq(ag_clip_grad_norm(0, NULL, 1), 0, "an empty list has norm 0");
    cr_expect_eq(ag_clip_grad_value(0, NULL, 1), 0);
    ag_sched_free(plateau);
    ag_optim_free(o);
    ag_tensor_free(p);
}
