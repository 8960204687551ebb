/* tests/test_elementwise_where.c - comparisons and where (ops/compare.c) with broadcasting,
 * NaN and float32, where's gradients (finite differences and by hand), and cast (ops/cast.c)
 * values and gradients.
 */
#include "elementwise_test_util.h"

/* ---- comparisons ---- */

Test(ew_cmp, values_with_broadcasting)
{
    ag_scope *sc = ag_scope_begin();
    ag_tensor *a = T64(2, 3, ((double[]){1, 2, 3, 4, 5, 6}));
    ag_tensor *b = T64_1(3, ((double[]){2, 2, 7}));
    expect_values(ag_eq(a, b), (double[]){0, 1, 0, 0, 0, 0}, 6, 0);
    expect_values(ag_ne(a, b), (double[]){1, 0, 1, 1, 1, 1}, 6, 0);
    expect_values(ag_lt(a, b), (double[]){1, 0, 1, 0, 0, 1}, 6, 0);
    expect_values(ag_le(a, b), (double[]){1, 1, 1, 0, 0, 1}, 6, 0);
    expect_values(ag_gt(a, b), (double[]){0, 0, 0, 1, 1, 0}, 6, 0);
    expect_values(ag_ge(a, b), (double[]){0, 1, 0, 1, 1, 0}, 6, 0);
    expect_shape(ag_gt(b, a), 2, (int64_t[]){2, 3});
    /* [2,1] vs [1,3] -> [2,3]; 0-d against a matrix. */
    ag_tensor *col = T64(2, 1, ((double[]){1, 3}));
    ag_tensor *row = T64(1, 3, ((double[]){0, 1, 3}));
    ag_tensor *y = ag_le(col, row);
    expect_shape(y, 2, (int64_t[]){2, 3});
    expect_values(y, (double[]){0, 1, 1, 0, 0, 1}, 6, 0);
    ag_tensor *three = ag_scalar(AG_F64, 3);
    expect_values(ag_ge(a, three), (double[]){0, 0, 1, 1, 1, 1}, 6, 0);
    expect_shape(ag_eq(three, three), 0, NULL);
    cr_assert_float_eq(ag_item(ag_eq(three, three)), 1.0, 0);
    ag_scope_end(sc);
}

Test(ew_cmp, nan_float32_and_no_gradient)
{
    ag_scope *sc = ag_scope_begin();
    ag_tensor *a = tu_tensor(AG_F32, 1, (int64_t[]){3}, (double[]){NAN, 1, -2});
    ag_tensor *b = tu_tensor(AG_F32, 1, (int64_t[]){3}, (double[]){NAN, 1, 0});
    ag_set_requires_grad(a, true);
    ag_tensor *y = ag_eq(a, b);
    cr_assert_eq(ag_get_dtype(y), AG_F32);
    expect_values(y, (double[]){0, 1, 0}, 3, 0);
    expect_values(ag_ne(a, b), (double[]){1, 0, 1}, 3, 0);
    expect_values(ag_lt(a, b), (double[]){0, 0, 1}, 3, 0);
    expect_values(ag_ge(a, b), (double[]){0, 1, 0}, 3, 0);
    /* A mask is a constant: nothing recorded even though a requires grad. */
    cr_assert(!ag_requires_grad(y));
    cr_assert(ag_is_leaf(y));
    ag_scope_end(sc);
}

/* ---- where ---- */

Test(ew_where, values_with_three_way_broadcasting)
{
    ag_scope *sc = ag_scope_begin();
    ag_tensor *cond = T64(2, 1, ((double[]){1, 0}));
    ag_tensor *a = T64_1(3, ((double[]){1, 2, 3}));
    ag_tensor *b = ag_scalar(AG_F64, 9);
    ag_tensor *y = ag_where(cond, a, b);
    expect_shape(y, 2, (int64_t[]){2, 3});
    expect_values(y, (double[]){1, 2, 3, 9, 9, 9}, 6, 0);
    /* Any nonzero (negative, NaN) counts as true. */
    ag_tensor *c2 = T64_1(4, ((double[]){-2, 0, NAN, 0.5}));
    ag_tensor *a2 = T64_1(4, ((double[]){1, 2, 3, 4}));
    expect_values(ag_where(c2, a2, b), (double[]){1, 9, 3, 4}, 4, 0);
    /* cond [4,1,3], a [2,1], b [2,3] -> [4,2,3] */
    double cv[12];
    for (int i = 0; i < 12; i++) cv[i] = (i % 5 == 0);
    ag_tensor *c3 = T64_3(4, 1, 3, cv);
    ag_tensor *a3 = T64(2, 1, ((double[]){-1, -2}));
    ag_tensor *b3 = T64(2, 3, ((double[]){10, 11, 12, 13, 14, 15}));
    y = ag_where(c3, a3, b3);
    expect_shape(y, 3, (int64_t[]){4, 2, 3});
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 2; j++)
            for (int k = 0; k < 3; k++) {
                double e = cv[i * 3 + k] ? -1 - j : 10 + j * 3 + k;
                cr_assert_eq(ag_get(y, (i * 2 + j) * 3 + k), e, "at %d,%d,%d", i, j, k);
            }
    /* float32 */
    ag_tensor *cf = tu_tensor(AG_F32, 1, (int64_t[]){2}, (double[]){0, 1});
    ag_tensor *af = tu_tensor(AG_F32, 1, (int64_t[]){2}, (double[]){1.5, 2.5});
    ag_tensor *bf = tu_tensor(AG_F32, 0, NULL, (double[]){-4});
    y = ag_where(cf, af, bf);
    cr_assert_eq(ag_get_dtype(y), AG_F32);
    expect_values(y, (double[]){-4, 2.5}, 2, 0);
    ag_scope_end(sc);
}

/* Big enough for the parallel row loop of the broadcasting plan. */
Test(ew_where, large_broadcast)
{
    ag_scope *sc = ag_scope_begin();
    int64_t rows = 300, cols = 257;
    ag_tensor *cond = ag_zeros(AG_F64, 2, (int64_t[]){rows, 1});
    for (int64_t i = 0; i < rows; i += 3) ag_set(cond, i, 1);
    ag_tensor *a = ag_arange(AG_F64, cols);
    ag_tensor *b = ag_full(AG_F64, 2, (int64_t[]){rows, cols}, -1);
    ag_tensor *y = ag_where(cond, a, b);
    cr_assert(y, "%s", ag_last_error());
    for (int64_t i = 0; i < rows; i++)
        for (int64_t j = 0; j < cols; j++)
            cr_assert_eq(ag_get(y, i * cols + j), i % 3 == 0 ? (double)j : -1.0);
    ag_scope_end(sc);
}

typedef struct wcase { shp c, a, b; } wcase;

static ag_tensor *where_fn(ag_tensor *const *in, int n, void *ctx)
{
    (void)n; (void)ctx;
    return ag_where(in[0], in[1], in[2]);
}

Test(ew_grad, where)
{
    ag_scope *sc = ag_scope_begin();
    static const wcase cases[] = {
        {{2, {2, 3}}, {2, {2, 3}}, {2, {2, 3}}},
        {{2, {2, 1}}, {1, {3}}, {0, {0}}},
        {{0, {0}}, {2, {2, 3}}, {2, {1, 3}}},
        {{3, {4, 1, 3}}, {2, {2, 1}}, {2, {2, 3}}},
        {{1, {1}}, {0, {0}}, {0, {0}}},
    };
    for (int k = 0; k < (int)(sizeof cases / sizeof cases[0]); k++) {
        double cv[64];
        for (int i = 0; i < 64; i++) cv[i] = (i * 7 + k) % 3 == 0;
        ag_tensor *in[3] = {tu_tensor(AG_F64, cases[k].c.nd, cases[k].c.s, cv),
                            leaf(300 + (uint64_t)k, cases[k].a, -2, 2, false),
                            leaf(400 + (uint64_t)k, cases[k].b, -2, 2, false)};
        expect_gradcheck(where_fn, NULL, 3, in);
        if (k == 1 || k == 3) expect_gradgradcheck(where_fn, NULL, 3, in);
    }
    ag_scope_end(sc);
}

Test(ew_where, gradient_values_and_cond_gets_none)
{
    ag_scope *sc = ag_scope_begin();
    ag_tensor *cond = T64(2, 3, ((double[]){1, 0, 0, 1, 1, 0}));
    ag_tensor *a = T64(2, 3, ((double[]){1, 2, 3, 4, 5, 6}));
    ag_tensor *b = ag_scalar(AG_F64, 0.5);
    ag_set_requires_grad(cond, true);
    ag_set_requires_grad(a, true);
    ag_set_requires_grad(b, true);
    ag_tensor *y = ag_where(cond, a, b);
    expect_values(grad_of_sum(y, a), (double[]){1, 0, 0, 1, 1, 0}, 6, 0);
    cr_assert_float_eq(ag_item(ag_grad(b)), 3.0, 0); /* three places took b */
    cr_assert_null(ag_grad(cond));
    ag_scope_end(sc);
}

/* ---- cast ---- */

Test(ew_cast, values)
{
    ag_scope *sc = ag_scope_begin();
    ag_tensor *x = T64_1(4, ((double[]){0.1, -2.5, 1e300, -1e300}));
    ag_tensor *y = ag_cast(x, AG_F32);
    cr_assert_eq(ag_get_dtype(y), AG_F32);
    expect_shape(y, 1, (int64_t[]){4});
    const float *py = ag_data_f32(y);
    cr_assert(py[0] == 0.1f && py[1] == -2.5f);
    cr_assert(isinf(py[2]) && py[2] > 0 && isinf(py[3]) && py[3] < 0);
    ag_tensor *z = ag_cast(y, AG_F64);
    cr_assert_eq(ag_get_dtype(z), AG_F64);
    cr_assert_eq(ag_get(z, 0), (double)0.1f);
    /* Same dtype: an independent copy. */
    ag_tensor *c = ag_cast(x, AG_F64);
    cr_assert(c != x && ag_data(c) != ag_data(x));
    ag_set(x, 1, 42);
    cr_assert_eq(ag_get(c, 1), -2.5);
    ag_tensor *s = ag_cast(ag_scalar(AG_F32, 0.75), AG_F64);
    expect_shape(s, 0, NULL);
    cr_assert_eq(ag_item(s), 0.75);
    ag_scope_end(sc);
}

Test(ew_cast, gradient_dtype_and_values)
{
    ag_scope *sc = ag_scope_begin();
    ag_tensor *x = T64(2, 2, ((double[]){1, 2, 3, 4}));
    ag_set_requires_grad(x, true);
    /* y = 3 * cast(x, f32): dy/dx = 3, delivered as float64. */
    ag_tensor *y = ag_mul_scalar(ag_cast(x, AG_F32), 3);
    ag_tensor *g = grad_of_sum(y, x);
    cr_assert_eq(ag_get_dtype(g), AG_F64);
    expect_values(g, (double[]){3, 3, 3, 3}, 4, 0);
    /* The other way: a float32 leaf through float64 ops. */
    ag_tensor *w = tu_tensor(AG_F32, 1, (int64_t[]){3}, (double[]){0.5, -1, 2});
    ag_set_requires_grad(w, true);
    ag_tensor *w64 = ag_cast(w, AG_F64);
    g = grad_of_sum(ag_mul(w64, w64), w);
    cr_assert_eq(ag_get_dtype(g), AG_F32);
    expect_values(g, (double[]){1, -2, 4}, 3, 0);
    /* Same dtype still records. */
    ag_tensor *c = ag_cast(x, AG_F64);
    cr_assert(ag_requires_grad(c) && !ag_is_leaf(c));
    ag_scope_end(sc);
}
