/* tests/test_shape_slice_concat.c - slice and concat: forward values checked against hand index
 * math (Python slice semantics), the parallel paths, backward scattering, gradients by finite
 * differences, and the error messages (also for broadcast_to and sum_to).
 */
#include "shape_test_util.h"

/* ---- slice ---- */

typedef struct { int axis; int64_t start, stop, step; } slice_ctx;

static ag_tensor *slice_fn(ag_tensor *const *in, int n, void *ctx)
{
    (void)n;
    slice_ctx *c = ctx;
    return ag_slice(in[0], c->axis, c->start, c->stop, c->step);
}

/* Slices iota [10] and compares with the expected list (n values). */
static void check_slice1(int64_t start, int64_t stop, int64_t step, const double *want, int64_t n)
{
    ag_scope *s = ag_scope_begin();
    ag_tensor *y = ag_slice(iota(AG_F64, 1, (int64_t[]){10}), 0, start, stop, step);
    cr_assert(y, "slice %lld:%lld:%lld failed: %s", (long long)start, (long long)stop,
              (long long)step, ag_last_error());
    expect_shape(y, 1, (int64_t[]){n});
    if (n) expect_values(y, want, n, 0);
    ag_scope_end(s);
}

Test(shape, slice_python_semantics)
{
    check_slice1(2, 8, 2, (double[]){2, 4, 6}, 3);
    check_slice1(0, 10, 1, (double[]){0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, 10);
    check_slice1(-3, 10, 1, (double[]){7, 8, 9}, 3);              /* negative start */
    check_slice1(1, -1, 3, (double[]){1, 4, 7}, 3);               /* negative stop, step 3 */
    check_slice1(-100, 3, 1, (double[]){0, 1, 2}, 3);             /* clipped start */
    check_slice1(8, 100, 1, (double[]){8, 9}, 2);                 /* clipped stop */
    check_slice1(-2, INT64_MAX, 5, (double[]){8}, 1);
    check_slice1(INT64_MIN, INT64_MAX, 4, (double[]){0, 4, 8}, 3);
    check_slice1(5, 2, 1, NULL, 0);                               /* empty: stop < start */
    check_slice1(10, 20, 1, NULL, 0);                             /* empty: past the end */
    check_slice1(-1, -3, 2, NULL, 0);
    check_slice1(3, 3, 1, NULL, 0);
}

Test(shape, slice_inner_axes)
{
    ag_scope *s = ag_scope_begin();
    ag_tensor *x = iota(AG_F64, 2, (int64_t[]){3, 4});
    ag_tensor *y = ag_slice(x, 1, 1, 4, 2);      /* columns 1, 3 */
    expect_shape(y, 2, (int64_t[]){3, 2});
    expect_values(y, (double[]){1, 3, 5, 7, 9, 11}, 6, 0);
    ag_tensor *r = ag_slice(x, -2, -2, 3, 1);    /* rows 1, 2 */
    expect_shape(r, 2, (int64_t[]){2, 4});
    expect_values(r, (double[]){4, 5, 6, 7, 8, 9, 10, 11}, 8, 0);
    expect_shape(ag_slice(x, 1, 2, 2, 1), 2, (int64_t[]){3, 0});
    /* [2,3,4] along the middle axis, step 2: rows 0 and 2 of each block */
    ag_tensor *x3 = iota(AG_F32, 3, (int64_t[]){2, 3, 4});
    ag_tensor *y3 = ag_slice(x3, 1, 0, 3, 2);
    expect_shape(y3, 3, (int64_t[]){2, 2, 4});
    cr_assert_eq(ag_get_dtype(y3), AG_F32);
    for (int a = 0; a < 2; a++)
        for (int j = 0; j < 2; j++)
            for (int c = 0; c < 4; c++)
                cr_assert_eq(ag_get(y3, (a * 2 + j) * 4 + c), (double)(a * 12 + 2 * j * 4 + c));
    ag_scope_end(s);
}

Test(shape, slice_large_runs_the_parallel_path)
{
    ag_scope *s = ag_scope_begin();
    ag_tensor *x = iota(AG_F64, 2, (int64_t[]){300, 400});
    ag_tensor *y = ag_slice(x, 1, 5, 400, 3);    /* 132 columns */
    expect_shape(y, 2, (int64_t[]){300, 132});
    for (int64_t r = 0; r < 300; r++)
        for (int64_t j = 0; j < 132; j++)
            cr_assert_eq(ag_get(y, r * 132 + j), (double)(r * 400 + 5 + 3 * j));
    ag_scope_end(s);
}

Test(shape, slice_backward_scatters_into_zeros)
{
    ag_tensor *x = T64_1(5, ((double[]){1, 2, 3, 4, 5}));
    ag_set_requires_grad(x, true);
    ag_scope *s = ag_scope_begin();
    ag_tensor *y = ag_slice(x, 0, 1, 5, 2);      /* x[1], x[3] */
    expect_values(y, (double[]){2, 4}, 2, 0);
    ag_tensor *seed = T64_1(2, ((double[]){10, 20}));
    cr_assert_eq(ag_backward_ex(y, &(ag_backward_opts){.seed = seed}), 0, "%s", ag_last_error());
    expect_values(ag_grad(x), (double[]){0, 10, 0, 20, 0}, 5, 0);
    /* an empty slice sends back zeros */
    ag_zero_grad(x);
    ag_tensor *e = ag_slice(x, 0, 4, 1, 1);
    ag_tensor *eseed = ag_zeros(AG_F64, 1, (int64_t[]){0});
    cr_assert_eq(ag_backward_ex(e, &(ag_backward_opts){.seed = eseed}), 0, "%s", ag_last_error());
    expect_values(ag_grad(x), (double[]){0, 0, 0, 0, 0}, 5, 0);
    ag_scope_end(s);
    ag_tensor_free(x);
}

Test(shape, slice_gradients)
{
    ag_scope *s = ag_scope_begin();
    ag_tensor *a = tu_param(9, 1, (int64_t[]){10}, -1, 1);
    ag_tensor *b = tu_param(10, 2, (int64_t[]){3, 4}, -1, 1);
    ag_tensor *c = tu_param(11, 3, (int64_t[]){2, 3, 4}, -1, 1);
    ag_tensor *d = tu_param(12, 1, (int64_t[]){1}, -1, 1);
    slice_ctx c1 = {0, 2, 8, 2}, c2 = {1, -3, -1, 1}, c3 = {-1, 0, 100, 3}, c4 = {0, 0, 1, 1};
    slice_ctx c5 = {1, 0, 3, 2};
    expect_gradcheck(slice_fn, &c1, 1, &a);
    expect_gradcheck(slice_fn, &c2, 1, &b);
    expect_gradcheck(slice_fn, &c3, 1, &c);
    expect_gradcheck(slice_fn, &c5, 1, &c);
    expect_gradcheck(slice_fn, &c4, 1, &d);
    expect_gradgradcheck(slice_fn, &c1, 1, &a);
    expect_gradgradcheck(slice_fn, &c3, 1, &c);
    ag_scope_end(s);
}

Test(shape, slice_errors)
{
    ag_scope *s = ag_scope_begin();
    ag_tensor *x = iota(AG_F64, 2, (int64_t[]){3, 4});
    ag_clear_error();
    cr_assert_null(ag_slice(x, 1, 0, 4, 0));
    expect_error_mentions("ag_slice", "step 0", ">= 1", "[3,4]");
    ag_clear_error();
    cr_assert_null(ag_slice(x, 0, 3, 0, -1));
    expect_error_mentions("ag_slice", "step -1", "[3,4]");
    ag_clear_error();
    cr_assert_null(ag_slice(x, 2, 0, 1, 1));
    expect_error_mentions("ag_slice", "axis 2", "[3,4]");
    ag_clear_error();
    cr_assert_null(ag_slice(ag_scalar(AG_F64, 1), 0, 0, 1, 1));
    expect_error_mentions("ag_slice", "0-d");
    ag_clear_error();
    cr_assert_null(ag_slice(NULL, 0, 0, 1, 1));
    expect_error_mentions("ag_slice", "NULL");
    ag_scope_end(s);
}

/* ---- concat ---- */

typedef struct { int axis; } concat_ctx;

static ag_tensor *concat_fn(ag_tensor *const *in, int n, void *ctx)
{
    return ag_concat(n, in, ((concat_ctx *)ctx)->axis);
}

Test(shape, concat_two_on_axis_0_and_1)
{
    ag_scope *s = ag_scope_begin();
    ag_tensor *a = T64(2, 3, ((double[]){1, 2, 3, 4, 5, 6}));
    ag_tensor *b = T64(1, 3, ((double[]){7, 8, 9}));
    ag_tensor *y = ag_concat(2, (ag_tensor *[]){a, b}, 0);
    expect_shape(y, 2, (int64_t[]){3, 3});
    expect_values(y, (double[]){1, 2, 3, 4, 5, 6, 7, 8, 9}, 9, 0);
    ag_tensor *c = T64(2, 1, ((double[]){-1, -2}));
    ag_tensor *z = ag_concat(2, (ag_tensor *[]){c, a}, 1);
    expect_shape(z, 2, (int64_t[]){2, 4});
    expect_values(z, (double[]){-1, 1, 2, 3, -2, 4, 5, 6}, 8, 0);
    ag_tensor *w = ag_concat(2, (ag_tensor *[]){a, c}, -1);
    expect_values(w, (double[]){1, 2, 3, -1, 4, 5, 6, -2}, 8, 0);
    ag_tensor *one = ag_concat(1, (ag_tensor *[]){a}, 0);   /* a single tensor: a copy */
    expect_values(one, (double[]){1, 2, 3, 4, 5, 6}, 6, 0);
    ag_tensor *f1 = tu_tensor(AG_F32, 1, (int64_t[]){2}, (double[]){1, 2});
    ag_tensor *f2 = tu_tensor(AG_F32, 1, (int64_t[]){1}, (double[]){3});
    ag_tensor *f = ag_concat(2, (ag_tensor *[]){f1, f2}, 0);
    cr_assert_eq(ag_get_dtype(f), AG_F32);
    expect_values(f, (double[]){1, 2, 3}, 3, 0);
    ag_scope_end(s);
}

/* Concatenates four iota-like tensors [2, 3, k_i] (values 100*i + flat index) along `axis`
 * (which must be the last axis, given as 2 or -1) or along axis 0/1 with the sizes moved there,
 * and checks every element by locating its source tensor by hand. */
static void check_concat4(int axis)
{
    ag_scope *s = ag_scope_begin();
    int ax = axis < 0 ? axis + 3 : axis;
    int64_t k[4] = {1, 2, 1, 3}, total = 7;
    ag_tensor *xs[4];
    int64_t shapes[4][3];
    for (int i = 0; i < 4; i++) {
        int64_t sh[3] = {2, 3, 4};
        sh[ax] = k[i];
        memcpy(shapes[i], sh, sizeof sh);
        double v[64];
        for (int j = 0; j < sh[0] * sh[1] * sh[2]; j++) v[j] = 100 * i + j;
        xs[i] = tu_tensor(AG_F64, 3, sh, v);
    }
    ag_tensor *y = ag_concat(4, xs, axis);
    int64_t ys[3] = {2, 3, 4};
    ys[ax] = total;
    expect_shape(y, 3, ys);
    int64_t f = 0;
    for (int64_t a = 0; a < ys[0]; a++)
        for (int64_t b = 0; b < ys[1]; b++)
            for (int64_t c = 0; c < ys[2]; c++, f++) {
                int64_t idx[3] = {a, b, c}, pos = idx[ax];
                int i = 0;
                while (pos >= k[i]) pos -= k[i++];
                idx[ax] = pos;
                const int64_t *sh = shapes[i];
                double want = 100 * i + (idx[0] * sh[1] + idx[1]) * sh[2] + idx[2];
                cr_assert_eq(ag_get(y, f), want, "axis %d at %lld: got %g want %g", axis,
                             (long long)f, ag_get(y, f), want);
            }
    ag_scope_end(s);
}

Test(shape, concat_four_on_each_axis)
{
    check_concat4(0);
    check_concat4(1);
    check_concat4(-1);
}

Test(shape, concat_backward_hands_out_slices)
{
    ag_tensor *a = T64_1(2, ((double[]){1, 2}));
    ag_tensor *b = T64_1(1, ((double[]){3}));
    ag_tensor *c = T64_1(3, ((double[]){4, 5, 6}));
    ag_set_requires_grad(a, true);
    ag_set_requires_grad(c, true);                 /* b needs no gradient */
    ag_scope *s = ag_scope_begin();
    ag_tensor *y = ag_concat(3, (ag_tensor *[]){a, b, c}, 0);
    ag_tensor *seed = T64_1(6, ((double[]){10, 20, 30, 40, 50, 60}));
    cr_assert_eq(ag_backward_ex(y, &(ag_backward_opts){.seed = seed}), 0, "%s", ag_last_error());
    expect_values(ag_grad(a), (double[]){10, 20}, 2, 0);
    cr_assert_null(ag_grad(b));
    expect_values(ag_grad(c), (double[]){40, 50, 60}, 3, 0);
    ag_scope_end(s);
    ag_tensor_free(a);
    ag_tensor_free(b);
    ag_tensor_free(c);
}

Test(shape, concat_gradients)
{
    ag_scope *s = ag_scope_begin();
    concat_ctx c0 = {0}, c1 = {1}, cl = {-1};
    ag_tensor *two[2] = {tu_param(13, 2, (int64_t[]){2, 3}, -1, 1),
                         tu_param(14, 2, (int64_t[]){1, 3}, -1, 1)};
    ag_tensor *three[3] = {tu_param(15, 2, (int64_t[]){2, 1}, -1, 1),
                           tu_param(16, 2, (int64_t[]){2, 2}, -1, 1),
                           tu_param(17, 2, (int64_t[]){2, 3}, -1, 1)};
    ag_tensor *four[4] = {tu_param(18, 3, (int64_t[]){2, 1, 2}, -1, 1),
                          tu_param(19, 3, (int64_t[]){2, 1, 1}, -1, 1),
                          tu_param(20, 3, (int64_t[]){2, 1, 3}, -1, 1),
                          tu_param(21, 3, (int64_t[]){2, 1, 1}, -1, 1)};
    ag_tensor *ones[2] = {tu_param(22, 1, (int64_t[]){1}, -1, 1),
                          tu_param(23, 1, (int64_t[]){1}, -1, 1)};
    expect_gradcheck(concat_fn, &c0, 2, two);
    expect_gradcheck(concat_fn, &c1, 3, three);
    expect_gradcheck(concat_fn, &cl, 4, four);
    expect_gradcheck(concat_fn, &c0, 2, ones);
    expect_gradgradcheck(concat_fn, &cl, 4, four);
    expect_gradgradcheck(concat_fn, &c0, 2, two);
    ag_scope_end(s);
}

Test(shape, concat_errors)
{
    ag_scope *s = ag_scope_begin();
    ag_tensor *a = ag_zeros(AG_F64, 2, (int64_t[]){2, 3});
    ag_tensor *b = ag_zeros(AG_F64, 2, (int64_t[]){3, 4});
    ag_tensor *v = ag_zeros(AG_F64, 1, (int64_t[]){3});
    ag_tensor *f = ag_zeros(AG_F32, 2, (int64_t[]){2, 3});
    ag_clear_error();
    cr_assert_null(ag_concat(2, (ag_tensor *[]){a, b}, 0));
    expect_error_mentions("ag_concat", "xs[1]", "[3,4]", "[2,3]", "axis 0");
    ag_clear_error();
    cr_assert_null(ag_concat(2, (ag_tensor *[]){a, v}, 0));
    expect_error_mentions("ag_concat", "[3]", "[2,3]", "number of dimensions");
    ag_clear_error();
    cr_assert_null(ag_concat(2, (ag_tensor *[]){a, f}, 0));
    expect_error_mentions("ag_concat", "float64", "float32", "[2,3]");
    ag_clear_error();
    cr_assert_null(ag_concat(2, (ag_tensor *[]){a, a}, 2));
    expect_error_mentions("ag_concat", "axis 2", "[2,3]");
    ag_clear_error();
    cr_assert_null(ag_concat(0, (ag_tensor *[]){a}, 0));
    expect_error_mentions("ag_concat", "n = 0");
    ag_clear_error();
    cr_assert_null(ag_concat(2, NULL, 0));
    expect_error_mentions("ag_concat", "xs NULL");
    ag_clear_error();
    cr_assert_null(ag_concat(3, (ag_tensor *[]){a, a, NULL}, 0));
    expect_error_mentions("ag_concat", "xs[2] is NULL");
    ag_clear_error();
    cr_assert_null(ag_concat(2, (ag_tensor *[]){ag_scalar(AG_F64, 1), ag_scalar(AG_F64, 2)}, 0));
    expect_error_mentions("ag_concat", "0-d");
    ag_scope_end(s);
}

Test(shape, broadcast_to_and_sum_to_errors)
{
    ag_scope *s = ag_scope_begin();
    ag_tensor *a = ag_zeros(AG_F64, 2, (int64_t[]){1, 4});
    ag_clear_error();
    cr_assert_null(ag_broadcast_to(a, 2, (int64_t[]){3, 5}));
    expect_error_mentions("ag_broadcast_to", "[1,4]", "[3,5]");
    ag_clear_error();
    cr_assert_null(ag_broadcast_to(a, 1, (int64_t[]){4}));
    expect_error_mentions("ag_broadcast_to", "[1,4]", "[4]");
    /* Sizes stretched from 1 or new leading ones are checked by broadcast_to itself. */
    ag_clear_error();
    cr_assert_null(ag_broadcast_to(a, 2, (int64_t[]){-3, 4}));
    expect_error_mentions("ag_broadcast_to", "[1,4]", "[-3,4]", "negative");
    ag_clear_error();
    cr_assert_null(ag_broadcast_to(a, 3, (int64_t[]){-1, 1, 4}));
    expect_error_mentions("ag_broadcast_to", "[1,4]", "[-1,1,4]", "negative");
    ag_clear_error();
    cr_assert_null(ag_broadcast_to(a, 3, (int64_t[]){INT64_MAX / 2, INT64_MAX / 2, 4}));
    expect_error_mentions("ag_broadcast_to", "[1,4]", "too large");
    ag_clear_error();
    cr_assert_null(ag_broadcast_to(a, 2, NULL));
    expect_error_mentions("ag_broadcast_to", "[1,4]", "invalid shape");
    ag_clear_error();
    cr_assert_null(ag_broadcast_to(a, 9, (int64_t[]){1, 1, 1, 1, 1, 1, 1, 1, 4}));
    expect_error_mentions("ag_broadcast_to", "[1,4]");
    ag_clear_error();
    cr_assert_null(ag_broadcast_to(NULL, 1, (int64_t[]){4}));
    expect_error_mentions("ag_broadcast_to", "NULL");

    ag_tensor *b = ag_zeros(AG_F64, 2, (int64_t[]){3, 4});
    ag_clear_error();
    cr_assert_null(ag_sum_to(b, 1, (int64_t[]){3}));
    expect_error_mentions("ag_sum_to", "[3,4]", "[3]");
    ag_clear_error();
    cr_assert_null(ag_sum_to(b, 2, (int64_t[]){-1, 4}));
    expect_error_mentions("ag_sum_to", "[3,4]", "[-1,4]");
    ag_clear_error();
    cr_assert_null(ag_sum_to(b, 3, (int64_t[]){1, 3, 4}));
    expect_error_mentions("ag_sum_to", "[3,4]", "[1,3,4]");
    ag_clear_error();
    cr_assert_null(ag_sum_to(b, -1, NULL));
    expect_error_mentions("ag_sum_to", "[3,4]", "invalid shape");
    ag_scope_end(s);
}

Test(shape, concat_too_large_is_an_error_not_an_overflow)
{
    /* Empty tensors may have huge sizes; their joined size must still fit. */
    ag_scope *s = ag_scope_begin();
    int64_t big = (int64_t)1 << 58;
    ag_tensor *e = ag_zeros(AG_F64, 2, (int64_t[]){big, 0});
    cr_assert_not_null(e, "%s", ag_last_error());
    ag_tensor *xs[40];
    for (int i = 0; i < 40; i++) xs[i] = e;
    ag_clear_error();
    cr_assert_null(ag_concat(40, xs, 0));
    expect_error_mentions("ag_concat", "too large", "[288230376151711744,0]");
    ag_scope_end(s);
}
