/* tests/test_index.c - index_select and gather with int64 indices: forward values by hand index
 * math, gradients that accumulate at repeated indices (index_add / scatter_add), finite-
 * difference gradient checks, and errors that name the offending index. */
#include <stdlib.h>

#include "test_util.h"

typedef struct { int axis; const int64_t *index; int64_t n; } index_ctx;

static ag_tensor *index_select_fn(ag_tensor *const *in, int n, void *ctx)
{
    (void)n;
    index_ctx *c = ctx;
    return ag_index_select(in[0], c->axis, c->index, c->n);
}

static ag_tensor *gather_fn(ag_tensor *const *in, int n, void *ctx)
{
    (void)n;
    index_ctx *c = ctx;
    return ag_gather(in[0], c->axis, c->index, c->n);
}

/* ---- index_select ---- */

Test(index, index_select_rows_and_columns)
{
    ag_scope *s = ag_scope_begin();
    ag_tensor *x = T64(4, 3, ((double[]){0, 1, 2, 10, 11, 12, 20, 21, 22, 30, 31, 32}));
    ag_tensor *y = ag_index_select(x, 0, (int64_t[]){2, 0, 2}, 3);
    expect_shape(y, 2, (int64_t[]){3, 3});
    expect_values(y, (double[]){20, 21, 22, 0, 1, 2, 20, 21, 22}, 9, 0);
    ag_tensor *z = ag_index_select(x, -1, (int64_t[]){1, 1, 0, 2}, 4);
    expect_shape(z, 2, (int64_t[]){4, 4});
    expect_values(z, (double[]){1, 1, 0, 2, 11, 11, 10, 12, 21, 21, 20, 22, 31, 31, 30, 32}, 16, 0);
    expect_shape(ag_index_select(x, 0, NULL, 0), 2, (int64_t[]){0, 3}); /* no indices */
    /* [2,3,2] along the middle axis */
    ag_tensor *x3 = T64_3(2, 3, 2, ((double[]){0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}));
    ag_tensor *y3 = ag_index_select(x3, 1, (int64_t[]){2, 1}, 2);
    expect_shape(y3, 3, (int64_t[]){2, 2, 2});
    expect_values(y3, (double[]){4, 5, 2, 3, 10, 11, 8, 9}, 8, 0);
    ag_tensor *f = ag_index_select(tu_tensor(AG_F32, 1, (int64_t[]){3}, (double[]){5, 6, 7}), 0,
                                   (int64_t[]){2, 2, 1, 0}, 4);
    cr_assert_eq(ag_get_dtype(f), AG_F32);
    expect_values(f, (double[]){7, 7, 6, 5}, 4, 0);
    ag_scope_end(s);
}

Test(index, index_select_repeated_indices_accumulate_the_gradient)
{
    ag_tensor *x = T64(4, 2, ((double[]){1, 2, 3, 4, 5, 6, 7, 8}));
    ag_set_requires_grad(x, true);
    ag_scope *s = ag_scope_begin();
    ag_tensor *y = ag_index_select(x, 0, (int64_t[]){1, 3, 1, 1}, 4);
    ag_tensor *seed = T64(4, 2, ((double[]){1, 2, 10, 20, 100, 200, 1000, 2000}));
    cr_assert_eq(ag_backward_ex(y, &(ag_backward_opts){.seed = seed}), 0, "%s", ag_last_error());
    /* row 1 receives seed rows 0, 2, 3; row 3 receives seed row 1 */
    expect_values(ag_grad(x), (double[]){0, 0, 1101, 2202, 0, 0, 10, 20}, 8, 0);
    ag_scope_end(s);
    ag_tensor_free(x);
}

Test(index, index_select_large_backward_runs_the_parallel_path)
{
    ag_scope *s = ag_scope_begin();
    ag_tensor *x = ag_zeros(AG_F64, 2, (int64_t[]){5, 20000});
    ag_set_requires_grad(x, true);
    int64_t idx[] = {3, 3, 1, 3};
    ag_tensor *y = ag_index_select(x, 0, idx, 4);
    ag_tensor *seed = ag_ones(AG_F64, 2, (int64_t[]){4, 20000});
    ag_tensor *g[1];
    cr_assert_eq(ag_grad_of(y, 1, &x, g, &(ag_backward_opts){.seed = seed}), 0, "%s",
                 ag_last_error());
    for (int64_t r = 0; r < 5; r++)
        for (int64_t j = 0; j < 20000; j += 999)
            cr_assert_eq(ag_get(g[0], r * 20000 + j), r == 3 ? 3.0 : r == 1 ? 1.0 : 0.0);
    cr_assert_eq(ag_get(g[0], 3 * 20000 + 19999), 3.0);
    ag_scope_end(s);
}

Test(index, index_select_gradients)
{
    ag_scope *s = ag_scope_begin();
    ag_tensor *a = tu_param(31, 2, (int64_t[]){4, 3}, -1, 1);
    ag_tensor *b = tu_param(32, 2, (int64_t[]){2, 5}, -1, 1);
    ag_tensor *c = tu_param(33, 3, (int64_t[]){3, 2, 4}, -1, 1);
    ag_tensor *d = tu_param(34, 1, (int64_t[]){1}, -1, 1);
    index_ctx c1 = {0, (int64_t[]){2, 0, 2}, 3}, c2 = {1, (int64_t[]){4, 4, 0, 1}, 4};
    index_ctx c3 = {-1, (int64_t[]){3}, 1}, c4 = {0, (int64_t[]){0, 0, 0}, 3};
    expect_gradcheck(index_select_fn, &c1, 1, &a);
    expect_gradcheck(index_select_fn, &c2, 1, &b);
    expect_gradcheck(index_select_fn, &c3, 1, &c);
    expect_gradcheck(index_select_fn, &c4, 1, &d);
    expect_gradgradcheck(index_select_fn, &c2, 1, &b);
    expect_gradgradcheck(index_select_fn, &c4, 1, &d);
    ag_scope_end(s);
}

Test(index, index_select_errors)
{
    ag_scope *s = ag_scope_begin();
    ag_tensor *x = ag_zeros(AG_F64, 2, (int64_t[]){4, 3});
    ag_clear_error();
    cr_assert_null(ag_index_select(x, 0, (int64_t[]){0, 3, 5, 9}, 4));
    expect_error_mentions("ag_index_select", "index[2] = 5", "axis 0", "[4,3]", "0..3");
    ag_clear_error();
    cr_assert_null(ag_index_select(x, 1, (int64_t[]){0, -1}, 2));
    expect_error_mentions("ag_index_select", "index[1] = -1", "axis 1", "[4,3]", "0..2");
    ag_clear_error();
    cr_assert_null(ag_index_select(x, 2, (int64_t[]){0}, 1));
    expect_error_mentions("ag_index_select", "axis 2", "[4,3]");
    ag_clear_error();
    cr_assert_null(ag_index_select(x, 0, NULL, 2));
    expect_error_mentions("ag_index_select", "index is NULL", "[4,3]");
    ag_clear_error();
    cr_assert_null(ag_index_select(x, 0, (int64_t[]){0}, -1));
    expect_error_mentions("ag_index_select", "-1", "negative", "[4,3]");
    ag_clear_error();
    cr_assert_null(ag_index_select(NULL, 0, (int64_t[]){0}, 1));
    expect_error_mentions("ag_index_select", "NULL");
    ag_tensor *e = ag_zeros(AG_F64, 2, (int64_t[]){0, 3});
    ag_clear_error();
    cr_assert_null(ag_index_select(e, 0, (int64_t[]){0}, 1));
    expect_error_mentions("ag_index_select", "index[0] = 0", "size 0", "[0,3]");
    ag_scope_end(s);
}

/* ---- gather ---- */

Test(index, gather_picks_each_rows_target_class)
{
    /* The cross-entropy use case: logits [N=3, C=4], one class per row. */
    ag_tensor *x = T64(3, 4, ((double[]){0.1, 0.2, 0.3, 0.4,
                                         1.1, 1.2, 1.3, 1.4,
                                         2.1, 2.2, 2.3, 2.4}));
    ag_set_requires_grad(x, true);
    ag_scope *s = ag_scope_begin();
    int64_t target[3] = {2, 0, 3};
    ag_tensor *y = ag_gather(x, 1, target, 1);
    expect_shape(y, 2, (int64_t[]){3, 1});
    expect_values(y, (double[]){0.3, 1.1, 2.4}, 3, 0);
    /* d/dx sum(picked) is the one-hot matrix of the targets */
    cr_assert_eq(ag_backward(ag_sum_all(y)), 0, "%s", ag_last_error());
    expect_values(ag_grad(x), (double[]){0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 1}, 12, 0);
    ag_tensor *f = ag_gather(tu_tensor(AG_F32, 2, (int64_t[]){2, 2}, (double[]){1, 2, 3, 4}), -1,
                             (int64_t[]){1, 0}, 1);
    cr_assert_eq(ag_get_dtype(f), AG_F32);
    expect_values(f, (double[]){2, 3}, 2, 0);
    ag_scope_end(s);
    ag_tensor_free(x);
}

Test(index, gather_3d_on_axis_0)
{
    /* x [3,2,2] (value = flat index), index [2,2,2]: y[j,a,b] = x[index[j,a,b], a, b] */
    ag_scope *s = ag_scope_begin();
    ag_tensor *x = T64_3(3, 2, 2, ((double[]){0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}));
    int64_t idx[8] = {2, 0, 1, 1, 0, 2, 2, 0};
    ag_tensor *y = ag_gather(x, 0, idx, 2);
    expect_shape(y, 3, (int64_t[]){2, 2, 2});
    for (int j = 0; j < 2; j++)
        for (int a = 0; a < 2; a++)
            for (int b = 0; b < 2; b++) {
                int f = (j * 2 + a) * 2 + b;
                cr_assert_eq(ag_get(y, f), (double)((idx[f] * 2 + a) * 2 + b), "at %d", f);
            }
    ag_scope_end(s);
}

Test(index, gather_repeated_positions_accumulate)
{
    ag_tensor *x = T64(2, 3, ((double[]){1, 2, 3, 4, 5, 6}));
    ag_set_requires_grad(x, true);
    ag_scope *s = ag_scope_begin();
    ag_tensor *y = ag_gather(x, 1, (int64_t[]){0, 2, 0, 1, 1, 1}, 3);
    expect_values(y, (double[]){1, 3, 1, 5, 5, 5}, 6, 0);
    ag_tensor *seed = T64(2, 3, ((double[]){1, 10, 100, 1000, 10000, 100000}));
    cr_assert_eq(ag_backward_ex(y, &(ag_backward_opts){.seed = seed}), 0, "%s", ag_last_error());
    expect_values(ag_grad(x), (double[]){101, 0, 10, 0, 111000, 0}, 6, 0);
    ag_scope_end(s);
    ag_tensor_free(x);
}

Test(index, gather_large_runs_the_parallel_path)
{
    ag_scope *s = ag_scope_begin();
    int64_t n = 40000;
    ag_tensor *x = ag_zeros(AG_F64, 2, (int64_t[]){n, 2});
    double *px = ag_data_f64(x);
    int64_t *idx = malloc(sizeof(int64_t) * (size_t)n);
    for (int64_t i = 0; i < n; i++) {
        px[2 * i] = (double)i;
        px[2 * i + 1] = -(double)i;
        idx[i] = i % 2;
    }
    ag_set_requires_grad(x, true);
    ag_tensor *y = ag_gather(x, 1, idx, 1);
    expect_shape(y, 2, (int64_t[]){n, 1});
    for (int64_t i = 0; i < n; i++) cr_assert_eq(ag_get(y, i), i % 2 ? -(double)i : (double)i);
    cr_assert_eq(ag_backward(ag_sum_all(y)), 0, "%s", ag_last_error());
    for (int64_t i = 0; i < 2 * n; i++)
        cr_assert_eq(ag_get(ag_grad(x), i), (i % 2) == ((i / 2) % 2) ? 1.0 : 0.0);
    free(idx);
    ag_scope_end(s);
}

Test(index, gather_gradients)
{
    ag_scope *s = ag_scope_begin();
    ag_tensor *a = tu_param(41, 2, (int64_t[]){3, 4}, -1, 1);
    ag_tensor *b = tu_param(42, 3, (int64_t[]){3, 2, 2}, -1, 1);
    ag_tensor *c = tu_param(43, 2, (int64_t[]){2, 3}, -1, 1);
    ag_tensor *d = tu_param(44, 2, (int64_t[]){1, 1}, -1, 1);
    index_ctx c1 = {1, (int64_t[]){2, 0, 3}, 1};
    index_ctx c2 = {0, (int64_t[]){2, 0, 1, 1, 0, 2, 2, 0}, 2};
    index_ctx c3 = {0, (int64_t[]){1, 1, 0, 0, 1, 1, 1, 0, 1}, 3};   /* repeats */
    index_ctx c4 = {-1, (int64_t[]){0}, 1};
    expect_gradcheck(gather_fn, &c1, 1, &a);
    expect_gradcheck(gather_fn, &c2, 1, &b);
    expect_gradcheck(gather_fn, &c3, 1, &c);
    expect_gradcheck(gather_fn, &c4, 1, &d);
    expect_gradgradcheck(gather_fn, &c1, 1, &a);
    expect_gradgradcheck(gather_fn, &c3, 1, &c);
    ag_scope_end(s);
}

Test(index, gather_errors)
{
    ag_scope *s = ag_scope_begin();
    ag_tensor *x = ag_zeros(AG_F64, 2, (int64_t[]){3, 4});
    ag_clear_error();
    cr_assert_null(ag_gather(x, 1, (int64_t[]){2, 4, 0}, 1));
    expect_error_mentions("ag_gather", "index[1] = 4", "axis 1", "[3,4]", "0..3");
    ag_clear_error();
    cr_assert_null(ag_gather(x, 0, (int64_t[]){0, 1, 2, 0, -2, 0, 0, 0}, 2));
    expect_error_mentions("ag_gather", "index[4] = -2", "axis 0", "[3,4]", "0..2");
    ag_clear_error();
    cr_assert_null(ag_gather(x, -3, (int64_t[]){0}, 1));
    expect_error_mentions("ag_gather", "axis -3", "[3,4]");
    ag_clear_error();
    cr_assert_null(ag_gather(x, 1, NULL, 1));
    expect_error_mentions("ag_gather", "index is NULL", "3 indices", "[3,4]");
    ag_clear_error();
    cr_assert_null(ag_gather(x, 1, (int64_t[]){0}, -1));
    expect_error_mentions("ag_gather", "negative", "[3,4]");
    ag_clear_error();
    cr_assert_null(ag_gather(NULL, 1, (int64_t[]){0}, 1));
    expect_error_mentions("ag_gather", "NULL");
    ag_scope_end(s);
}
