/* tests/test_shape.c - reshape (a view), permute and transpose: forward values checked against
 * hand index math, gradients by finite differences (first and second order), and the error
 * messages for bad shapes, axes and arguments. Slice and concat are in test_shape_slice_concat.c.
 */
#include "shape_test_util.h"

/* ---- reshape ---- */

typedef struct { int ndim; int64_t shape[AG_MAX_DIMS]; } shape_ctx;

static ag_tensor *reshape_fn(ag_tensor *const *in, int n, void *ctx)
{
    (void)n;
    shape_ctx *c = ctx;
    return ag_reshape(in[0], c->ndim, c->shape);
}

Test(shape, reshape_infers_minus_one)
{
    ag_scope *s = ag_scope_begin();
    ag_tensor *x = iota(AG_F64, 3, (int64_t[]){2, 3, 4});
    ag_tensor *y = ag_reshape(x, 2, (int64_t[]){4, -1});
    expect_shape(y, 2, (int64_t[]){4, 6});
    for (int64_t i = 0; i < 24; i++) cr_assert_eq(ag_get(y, i), (double)i);
    expect_shape(ag_reshape(x, 1, (int64_t[]){-1}), 1, (int64_t[]){24});
    expect_shape(ag_reshape(x, 3, (int64_t[]){-1, 2, 3}), 3, (int64_t[]){4, 2, 3});
    /* a one-element tensor goes to 0-d and back */
    ag_tensor *one = T64_1(1, ((double[]){7.5}));
    ag_tensor *z = ag_reshape(one, 0, NULL);
    expect_shape(z, 0, NULL);
    cr_assert_eq(ag_item(z), 7.5);
    expect_shape(ag_reshape(z, 2, (int64_t[]){1, -1}), 2, (int64_t[]){1, 1});
    /* zero elements: fine with explicit sizes */
    ag_tensor *e = ag_zeros(AG_F64, 2, (int64_t[]){0, 3});
    expect_shape(ag_reshape(e, 3, (int64_t[]){3, 0, 5}), 3, (int64_t[]){3, 0, 5});
    ag_scope_end(s);
}

Test(shape, reshape_is_a_view_sharing_values)
{
    ag_tensor *x = T64(2, 3, ((double[]){1, 2, 3, 4, 5, 6}));
    ag_scope *s = ag_scope_begin();
    ag_tensor *y = ag_reshape(x, 2, (int64_t[]){3, 2});
    cr_assert(y, "%s", ag_last_error());
    cr_assert_eq(ag_data(y), ag_data(x), "reshape must not copy");
    ag_set(x, 4, 50.0);                      /* x[1,1] is y[2,0] */
    cr_assert_eq(ag_get(y, 4), 50.0);
    ag_tensor *z = ag_reshape(y, 1, (int64_t[]){6}); /* view of a view */
    ag_set(z, 0, -1.0);
    cr_assert_eq(ag_get(x, 0), -1.0);
    ag_scope_end(s);
    ag_tensor_free(x);
}

Test(shape, reshape_view_outlives_its_source)
{
    ag_tensor *x = T64_1(4, ((double[]){1, 2, 3, 4}));
    ag_tensor *y = ag_reshape(x, 2, (int64_t[]){2, 2});
    ag_tensor_free(x);                       /* y keeps the buffer alive */
    expect_values(y, (double[]){1, 2, 3, 4}, 4, 0);
    ag_tensor_free(y);
}

Test(shape, reshape_float32)
{
    ag_scope *s = ag_scope_begin();
    ag_tensor *x = iota(AG_F32, 2, (int64_t[]){3, 2});
    ag_tensor *y = ag_reshape(x, 2, (int64_t[]){-1, 3});
    expect_shape(y, 2, (int64_t[]){2, 3});
    cr_assert_eq(ag_get_dtype(y), AG_F32);
    expect_values(y, (double[]){0, 1, 2, 3, 4, 5}, 6, 0);
    ag_scope_end(s);
}

Test(shape, reshape_gradients)
{
    ag_scope *s = ag_scope_begin();
    shape_ctx c1 = {2, {3, 2}}, c2 = {2, {-1, 4}}, c3 = {0, {0}}, c4 = {3, {1, -1, 1}};
    ag_tensor *a = tu_param(1, 2, (int64_t[]){2, 3}, -1, 1);
    ag_tensor *b = tu_param(2, 3, (int64_t[]){2, 3, 4}, -1, 1);
    ag_tensor *c = tu_param(3, 1, (int64_t[]){1}, -1, 1);
    ag_tensor *d = tu_param(4, 0, NULL, -1, 1);
    expect_gradcheck(reshape_fn, &c1, 1, &a);
    expect_gradcheck(reshape_fn, &c2, 1, &b);
    expect_gradcheck(reshape_fn, &c3, 1, &c);
    expect_gradcheck(reshape_fn, &c4, 1, &d);
    expect_gradgradcheck(reshape_fn, &c2, 1, &b);
    expect_gradgradcheck(reshape_fn, &c3, 1, &c);
    ag_scope_end(s);
}

Test(shape, reshape_backward_values)
{
    ag_tensor *x = T64(2, 2, ((double[]){1, 2, 3, 4}));
    ag_set_requires_grad(x, true);
    ag_scope *s = ag_scope_begin();
    ag_tensor *y = ag_reshape(x, 1, (int64_t[]){4});
    ag_tensor *seed = T64_1(4, ((double[]){10, 20, 30, 40}));
    cr_assert_eq(ag_backward_ex(y, &(ag_backward_opts){.seed = seed}), 0, "%s", ag_last_error());
    expect_shape(ag_grad(x), 2, (int64_t[]){2, 2});
    expect_values(ag_grad(x), (double[]){10, 20, 30, 40}, 4, 0);
    ag_scope_end(s);
    ag_tensor_free(x);
}

Test(shape, reshape_errors)
{
    ag_scope *s = ag_scope_begin();
    ag_tensor *x = iota(AG_F64, 2, (int64_t[]){2, 3});
    ag_clear_error();
    cr_assert_null(ag_reshape(x, 2, (int64_t[]){4, 2}));
    expect_error_mentions("ag_reshape", "[2,3]", "[4,2]", "6", "8");
    ag_clear_error();
    cr_assert_null(ag_reshape(x, 2, (int64_t[]){4, -1}));
    expect_error_mentions("ag_reshape", "[2,3]", "[4,-1]");
    ag_clear_error();
    cr_assert_null(ag_reshape(x, 3, (int64_t[]){-1, 3, -1}));
    expect_error_mentions("ag_reshape", "more than one -1", "[-1,3,-1]");
    ag_clear_error();
    cr_assert_null(ag_reshape(x, 2, (int64_t[]){-2, -3}));
    expect_error_mentions("ag_reshape", "negative size -2", "[2,3]");
    ag_clear_error();
    cr_assert_null(ag_reshape(x, 9, (int64_t[]){1, 1, 1, 1, 1, 1, 1, 1, 6}));
    expect_error_mentions("ag_reshape", "ndim 9", "[2,3]");
    ag_clear_error();
    cr_assert_null(ag_reshape(x, 2, NULL));
    expect_error_mentions("ag_reshape", "NULL", "[2,3]");
    ag_tensor *e = ag_zeros(AG_F64, 1, (int64_t[]){0});
    ag_clear_error();
    cr_assert_null(ag_reshape(e, 2, (int64_t[]){0, -1}));
    expect_error_mentions("ag_reshape", "[0]", "[0,-1]", "ambiguous");
    ag_clear_error();
    cr_assert_null(ag_reshape(NULL, 1, (int64_t[]){6}));
    expect_error_mentions("ag_reshape", "NULL");
    ag_scope_end(s);
}

/* ---- permute and transpose ---- */

static ag_tensor *permute_fn(ag_tensor *const *in, int n, void *ctx)
{
    (void)n;
    return ag_permute(in[0], ctx);
}

typedef struct { int a0, a1; } axes_ctx;

static ag_tensor *transpose_fn(ag_tensor *const *in, int n, void *ctx)
{
    (void)n;
    axes_ctx *c = ctx;
    return ag_transpose(in[0], c->a0, c->a1);
}

/* y = permute(iota x of shape `shape`, perm): every element checked by index math. */
static void check_permute3(ag_dtype dt, const int64_t *shape, const int *perm)
{
    ag_scope *s = ag_scope_begin();
    ag_tensor *x = iota(dt, 3, shape);
    ag_tensor *y = ag_permute(x, perm);
    int p[3];
    for (int d = 0; d < 3; d++) p[d] = perm[d] < 0 ? perm[d] + 3 : perm[d];
    int64_t ys[3] = {shape[p[0]], shape[p[1]], shape[p[2]]};
    expect_shape(y, 3, ys);
    int64_t f = 0;
    for (int64_t a = 0; a < ys[0]; a++)
        for (int64_t b = 0; b < ys[1]; b++)
            for (int64_t c = 0; c < ys[2]; c++, f++) {
                int64_t idx[3];
                idx[p[0]] = a;
                idx[p[1]] = b;
                idx[p[2]] = c;
                double want = (double)((idx[0] * shape[1] + idx[1]) * shape[2] + idx[2]);
                cr_assert_eq(ag_get(y, f), want, "perm {%d,%d,%d} at (%lld,%lld,%lld): got %g, "
                             "want %g", perm[0], perm[1], perm[2], (long long)a, (long long)b,
                             (long long)c, ag_get(y, f), want);
            }
    ag_scope_end(s);
}

Test(shape, permute_every_perm_of_2x3x4)
{
    static const int perms[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2},
                                    {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
    for (int i = 0; i < 6; i++) check_permute3(AG_F64, (int64_t[]){2, 3, 4}, perms[i]);
    check_permute3(AG_F64, (int64_t[]){2, 3, 4}, (int[]){-1, 0, -2}); /* negative axes */
    check_permute3(AG_F32, (int64_t[]){2, 3, 4}, (int[]){2, 0, 1});
}

Test(shape, permute_large_runs_the_parallel_path)
{
    check_permute3(AG_F64, (int64_t[]){40, 33, 31}, (int[]){2, 0, 1});
    check_permute3(AG_F32, (int64_t[]){40, 33, 31}, (int[]){1, 2, 0});
}

Test(shape, permute_edge_shapes)
{
    ag_scope *s = ag_scope_begin();
    ag_tensor *z = ag_scalar(AG_F64, 3.5);
    ag_tensor *y = ag_permute(z, NULL);      /* 0-d: the empty permutation */
    expect_shape(y, 0, NULL);
    cr_assert_eq(ag_item(y), 3.5);
    ag_tensor *e = ag_zeros(AG_F64, 2, (int64_t[]){0, 3});
    expect_shape(ag_permute(e, (int[]){1, 0}), 2, (int64_t[]){3, 0});
    ag_scope_end(s);
}

Test(shape, transpose_values)
{
    ag_scope *s = ag_scope_begin();
    ag_tensor *x = T64(2, 3, ((double[]){1, 2, 3, 4, 5, 6}));
    ag_tensor *y = ag_transpose(x, 0, 1);
    expect_shape(y, 2, (int64_t[]){3, 2});
    expect_values(y, (double[]){1, 4, 2, 5, 3, 6}, 6, 0);
    expect_values(ag_transpose(x, -1, -2), (double[]){1, 4, 2, 5, 3, 6}, 6, 0);
    expect_values(ag_transpose(x, 1, 1), (double[]){1, 2, 3, 4, 5, 6}, 6, 0);
    /* [2,3,4] swapping axes 0 and 2: y[c,b,a] = x[a,b,c] */
    ag_tensor *x3 = iota(AG_F64, 3, (int64_t[]){2, 3, 4});
    ag_tensor *y3 = ag_transpose(x3, -1, 0);
    expect_shape(y3, 3, (int64_t[]){4, 3, 2});
    for (int c = 0; c < 4; c++)
        for (int b = 0; b < 3; b++)
            for (int a = 0; a < 2; a++)
                cr_assert_eq(ag_get(y3, (c * 3 + b) * 2 + a), (double)(a * 12 + b * 4 + c));
    ag_tensor *f32 = tu_tensor(AG_F32, 2, (int64_t[]){2, 2}, (double[]){1, 2, 3, 4});
    ag_tensor *f = ag_transpose(f32, 0, 1);
    cr_assert_eq(ag_get_dtype(f), AG_F32);
    expect_values(f, (double[]){1, 3, 2, 4}, 4, 0);
    ag_scope_end(s);
}

Test(shape, permute_and_transpose_gradients)
{
    ag_scope *s = ag_scope_begin();
    ag_tensor *a = tu_param(5, 3, (int64_t[]){2, 3, 4}, -1, 1);
    ag_tensor *b = tu_param(6, 2, (int64_t[]){3, 2}, -1, 1);
    ag_tensor *c = tu_param(7, 4, (int64_t[]){1, 2, 1, 3}, -1, 1);
    ag_tensor *d = tu_param(8, 1, (int64_t[]){1}, -1, 1);
    int p1[] = {2, 0, 1}, p2[] = {1, 0}, p3[] = {3, 1, 0, 2}, p4[] = {0};
    expect_gradcheck(permute_fn, p1, 1, &a);
    expect_gradcheck(permute_fn, p2, 1, &b);
    expect_gradcheck(permute_fn, p3, 1, &c);
    expect_gradcheck(permute_fn, p4, 1, &d);
    expect_gradgradcheck(permute_fn, p1, 1, &a);
    axes_ctx t1 = {0, 2}, t2 = {-1, -2}, t3 = {1, 3}, t4 = {0, 0};
    expect_gradcheck(transpose_fn, &t1, 1, &a);
    expect_gradcheck(transpose_fn, &t2, 1, &b);
    expect_gradcheck(transpose_fn, &t3, 1, &c);
    expect_gradcheck(transpose_fn, &t4, 1, &d);
    expect_gradgradcheck(transpose_fn, &t1, 1, &a);
    ag_scope_end(s);
}

Test(shape, permute_and_transpose_errors)
{
    ag_scope *s = ag_scope_begin();
    ag_tensor *x = iota(AG_F64, 3, (int64_t[]){2, 3, 4});
    ag_clear_error();
    cr_assert_null(ag_permute(x, (int[]){0, 0, 2}));
    expect_error_mentions("ag_permute", "[0,0,2]", "[2,3,4]", "axis 0", "more than once");
    ag_clear_error();
    cr_assert_null(ag_permute(x, (int[]){0, 3, 1}));
    expect_error_mentions("ag_permute", "[0,3,1]", "[2,3,4]", "out of range");
    ag_clear_error();
    cr_assert_null(ag_permute(x, (int[]){2, 0, -3 - 1}));
    expect_error_mentions("ag_permute", "-4", "[2,3,4]");
    ag_clear_error();
    cr_assert_null(ag_permute(x, NULL));
    expect_error_mentions("ag_permute", "NULL", "[2,3,4]");
    ag_clear_error();
    cr_assert_null(ag_permute(NULL, (int[]){0}));
    expect_error_mentions("ag_permute", "NULL");
    ag_clear_error();
    cr_assert_null(ag_transpose(x, 0, 3));
    expect_error_mentions("ag_transpose", "axis 3", "[2,3,4]");
    ag_clear_error();
    cr_assert_null(ag_transpose(x, -4, 1));
    expect_error_mentions("ag_transpose", "axis -4", "[2,3,4]");
    ag_clear_error();
    cr_assert_null(ag_transpose(ag_scalar(AG_F64, 1), 0, 0));
    expect_error_mentions("ag_transpose", "0-d");
    ag_clear_error();
    cr_assert_null(ag_transpose(NULL, 0, 1));
    expect_error_mentions("ag_transpose", "NULL");
    ag_scope_end(s);
}
