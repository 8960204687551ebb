/* tests/test_tensor.c - tensor creation, inspection and their error paths; per-thread state. */
#include <pthread.h>

#include "test_util.h"

Test(tensor, creation_and_inspection)
{
    ag_scope *s = ag_scope_begin();
    ag_tensor *t = ag_tensor_from(AG_F32, 2, (int64_t[]){2, 3}, (float[]){1, 2, 3, 4, 5, 6});
    cr_assert_eq(ag_ndim(t), 2);
    cr_assert_eq(ag_dim(t, 0), 2);
    cr_assert_eq(ag_dim(t, -1), 3);
    cr_assert_eq(ag_numel(t), 6);
    cr_assert_eq(ag_get_dtype(t), AG_F32);
    cr_assert_float_eq(ag_get(t, 4), 5.0, 0);
    cr_assert_eq(ag_set(t, 4, -1.5), 0);
    cr_assert_float_eq(ag_data_f32(t)[4], -1.5f, 0);
    char buf[32];
    cr_assert_str_eq(ag_shape_str(t, buf, sizeof buf), "[2,3]");
    cr_assert_str_eq(ag_shape_str(ag_scalar(AG_F64, 1), buf, sizeof buf), "[]");
    expect_values(ag_full(AG_F64, 1, (int64_t[]){3}, 2.5), (double[]){2.5, 2.5, 2.5}, 3, 0);
    expect_values(ag_arange(AG_F64, 4), (double[]){0, 1, 2, 3}, 4, 0);
    expect_values(ag_ones_like(t), (double[]){1, 1, 1, 1, 1, 1}, 6, 0);
    cr_assert_eq(ag_numel(ag_zeros(AG_F64, 2, (int64_t[]){0, 5})), 0, "empty tensors are allowed");
    double out[6];
    cr_assert_eq(ag_to_f64(t, out, 6), 0);
    cr_assert_float_eq(out[5], 6.0, 0);
    cr_assert_str_eq(ag_dtype_name(AG_F64), "float64");
    cr_assert_eq(ag_dtype_size(AG_F32), 4);
    ag_set_name(t, "weights");
    cr_assert_str_eq(ag_name(t), "weights");
    ag_scope_end(s);
}

Test(tensor, copy_is_independent_and_detached)
{
    ag_tensor *x = T64_1(2, ((double[]){1, 2}));
    ag_set_requires_grad(x, true);
    ag_tensor *c = ag_copy(x);
    cr_assert(!ag_requires_grad(c));
    ag_set(c, 0, 9);
    cr_assert_float_eq(ag_get(x, 0), 1.0, 0);
    ag_tensor_free(c);
    ag_tensor_free(x);
}

Test(tensor, creation_errors_name_the_function_and_values)
{
    ag_clear_error();
    cr_assert_null(ag_zeros(AG_F64, 9, (int64_t[]){1, 1, 1, 1, 1, 1, 1, 1, 1}));
    expect_error_mentions("ag_zeros", "ndim 9", "0..8");
    ag_clear_error();
    cr_assert_null(ag_zeros(AG_F64, 2, (int64_t[]){2, -3}));
    expect_error_mentions("ag_zeros", "negative", "[2,-3]");
    ag_clear_error();
    cr_assert_null(ag_full((ag_dtype)7, 1, (int64_t[]){2}, 0));
    expect_error_mentions("ag_full", "invalid dtype 7");
    ag_clear_error();
    cr_assert_null(ag_tensor_from(AG_F64, 1, (int64_t[]){2}, NULL));
    expect_error_mentions("ag_tensor_from", "data is NULL");
    ag_clear_error();
    cr_assert_null(ag_tensor_from(AG_F64, 2, NULL, (double[]){1}));
    expect_error_mentions("ag_tensor_from", "shape is NULL");
    ag_clear_error();
    cr_assert_null(ag_arange(AG_F64, -1));
    expect_error_mentions("ag_arange", "-1");
}

Test(tensor, accessor_errors)
{
    ag_tensor *t = T64(2, 2, ((double[]){1, 2, 3, 4}));
    ag_clear_error();
    cr_assert(isnan(ag_item(t)));
    expect_error_mentions("ag_item", "[2,2]", "4 elements");
    ag_clear_error();
    cr_assert(isnan(ag_get(t, 4)));
    expect_error_mentions("ag_get", "index 4", "[2,2]");
    ag_clear_error();
    cr_assert_eq(ag_set(t, -1, 0), -1);
    expect_error_mentions("ag_set", "index -1");
    ag_clear_error();
    cr_assert_null(ag_data_f32(t));
    expect_error_mentions("ag_data_f32", "float64");
    ag_clear_error();
    cr_assert_eq(ag_dim(t, 2), -1);
    expect_error_mentions("ag_dim", "axis 2", "[2,2]");
    double small[2];
    ag_clear_error();
    cr_assert_eq(ag_to_f64(t, small, 2), -1);
    expect_error_mentions("ag_to_f64", "2 doubles", "[2,2]");
    ag_clear_error();
    cr_assert_eq(ag_numel(NULL), -1);
    expect_error_mentions("ag_numel", "NULL");
    ag_tensor_free(t);
    ag_tensor_free(NULL); /* ignored */
}

Test(tensor, nested_failure_reports_the_first_error_once)
{
    ag_scope *s = ag_scope_begin();
    ag_tensor *a = ag_zeros(AG_F64, 2, (int64_t[]){3, 4});
    ag_tensor *b = ag_zeros(AG_F64, 2, (int64_t[]){5, 2});
    ag_clear_error();
    ag_tensor *y = ag_sum_all(ag_tanh(ag_exp(ag_matmul(a, b))));
    cr_assert_null(y);
    expect_error_mentions("ag_matmul", "[3,4]", "[5,2]");
    ag_clear_error();
    cr_assert_null(ag_exp(NULL));
    expect_error_mentions("ag_exp", "NULL");
    ag_scope_end(s);
}

Test(tensor, dtype_mixing_is_an_error)
{
    ag_scope *s = ag_scope_begin();
    ag_tensor *a = ag_zeros(AG_F64, 1, (int64_t[]){3});
    ag_tensor *b = ag_zeros(AG_F32, 1, (int64_t[]){3});
    ag_clear_error();
    cr_assert_null(ag_add(a, b));
    expect_error_mentions("ag_add", "float64", "float32", "ag_cast");
    ag_scope_end(s);
}

static void *other_thread(void *arg)
{
    (void)arg;
    /* A fresh thread: no error, grad mode on, no scope, whatever the main thread did. */
    bool clean = !ag_has_error() && ag_is_grad_enabled();
    ag_scope *s = ag_scope_begin();
    ag_tensor *y = ag_exp(ag_scalar(AG_F64, 0));
    clean = clean && y && ag_item(y) == 1.0;
    ag_scope_end(s);
    ag_memory_trim();
    return (void *)(intptr_t)clean;
}

Test(tensor, error_and_grad_mode_are_per_thread)
{
    ag_clear_error();
    ag_item(NULL);
    cr_assert(ag_has_error());
    ag_set_grad_enabled(false);
    pthread_t th;
    void *ok;
    pthread_create(&th, NULL, other_thread, NULL);
    pthread_join(th, &ok);
    cr_assert(ok, "the other thread saw this thread's state");
    cr_assert(ag_has_error());
    cr_assert(!ag_is_grad_enabled());
    ag_set_grad_enabled(true);
}
