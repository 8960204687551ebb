/* tests/test_elementwise_errors.c - error messages of the elementwise ops: NULL inputs, bad
 * parameters, shape and dtype mismatches, and nested failures keeping the first message.
 */
#include "test_util.h"

/* ---- errors ---- */

typedef ag_tensor *(*unary_op)(ag_tensor *);
static ag_tensor *leaky01(ag_tensor *x) { return ag_leaky_relu(x, 0.1); }
static ag_tensor *clamp01(ag_tensor *x) { return ag_clamp(x, 0, 1); }
static ag_tensor *cast32(ag_tensor *x) { return ag_cast(x, AG_F32); }

Test(ew_err, null_inputs)
{
    static const struct { unary_op f; const char *name; } un[] = {
        {ag_tanh, "ag_tanh"}, {ag_sigmoid, "ag_sigmoid"}, {ag_relu, "ag_relu"},
        {leaky01, "ag_leaky_relu"}, {ag_softplus, "ag_softplus"}, {clamp01, "ag_clamp"},
        {cast32, "ag_cast"},
    };
    for (int i = 0; i < (int)(sizeof un / sizeof un[0]); i++) {
        ag_clear_error();
        cr_assert_null(un[i].f(NULL));
        expect_error_mentions(un[i].name, "NULL");
    }
    static const struct { ag_tensor *(*f)(ag_tensor *, ag_tensor *); const char *name; } bin[] = {
        {ag_eq, "ag_eq"}, {ag_ne, "ag_ne"}, {ag_lt, "ag_lt"},
        {ag_le, "ag_le"}, {ag_gt, "ag_gt"}, {ag_ge, "ag_ge"},
    };
    ag_scope *sc = ag_scope_begin();
    ag_tensor *a = ag_zeros(AG_F64, 1, (int64_t[]){2});
    for (int i = 0; i < (int)(sizeof bin / sizeof bin[0]); i++) {
        ag_clear_error();
        cr_assert_null(bin[i].f(a, NULL));
        expect_error_mentions(bin[i].name, "argument 2", "NULL");
    }
    ag_clear_error();
    cr_assert_null(ag_where(a, a, NULL));
    expect_error_mentions("ag_where", "argument 3", "NULL");
    ag_scope_end(sc);
}

Test(ew_err, nested_failure_keeps_first_message)
{
    ag_scope *sc = ag_scope_begin();
    ag_tensor *x = ag_zeros(AG_F64, 2, (int64_t[]){2, 3});
    ag_clear_error();
    cr_assert_null(ag_sigmoid(ag_tanh(ag_clamp(x, 2, 1))));
    expect_error_mentions("ag_clamp", "[2,3]");
    cr_assert_null(strstr(ag_last_error(), "ag_tanh"));
    ag_scope_end(sc);
}

Test(ew_err, bad_parameters)
{
    ag_scope *sc = ag_scope_begin();
    ag_tensor *x = ag_zeros(AG_F64, 2, (int64_t[]){2, 3});
    ag_clear_error();
    cr_assert_null(ag_clamp(x, 2, 1));
    expect_error_mentions("ag_clamp", "lo = 2", "hi = 1", "[2,3]");
    ag_clear_error();
    cr_assert_null(ag_clamp(x, NAN, 1));
    expect_error_mentions("ag_clamp", "nan", "[2,3]");
    ag_clear_error();
    cr_assert_null(ag_clamp(x, 0, NAN));
    expect_error_mentions("ag_clamp", "nan");
    ag_clear_error();
    cr_assert_null(ag_leaky_relu(x, INFINITY));
    expect_error_mentions("ag_leaky_relu", "inf", "[2,3]");
    ag_clear_error();
    cr_assert_null(ag_cast(x, (ag_dtype)7));
    expect_error_mentions("ag_cast", "7", "[2,3]");
    ag_scope_end(sc);
}

Test(ew_err, shapes_and_dtypes)
{
    ag_scope *sc = ag_scope_begin();
    ag_tensor *a = ag_zeros(AG_F64, 2, (int64_t[]){2, 3});
    ag_tensor *b = ag_zeros(AG_F64, 1, (int64_t[]){4});
    ag_tensor *f = ag_zeros(AG_F32, 1, (int64_t[]){3});
    ag_clear_error();
    cr_assert_null(ag_lt(a, b));
    expect_error_mentions("ag_lt", "[2,3]", "[4]");
    ag_clear_error();
    cr_assert_null(ag_eq(a, f));
    expect_error_mentions("ag_eq", "float64", "float32", "[2,3]", "[3]");
    ag_clear_error();
    cr_assert_null(ag_add(a, b));
    expect_error_mentions("ag_add", "[2,3]", "[4]");
    ag_clear_error();
    cr_assert_null(ag_div(f, a));
    expect_error_mentions("ag_div", "float32", "float64");
    /* where: all three shapes named, whichever pair fails. */
    ag_tensor *c = ag_zeros(AG_F64, 2, (int64_t[]){2, 1});
    ag_tensor *s = ag_scalar(AG_F64, 1);
    ag_clear_error();
    cr_assert_null(ag_where(c, a, b));
    expect_error_mentions("ag_where", "cond [2,1]", "a [2,3]", "b [4]");
    ag_clear_error();
    cr_assert_null(ag_where(b, a, s));
    expect_error_mentions("ag_where", "[4]", "[2,3]", "[]");
    /* cond must share the dtype of a and b. */
    ag_clear_error();
    cr_assert_null(ag_where(f, a, a));
    expect_error_mentions("ag_where", "float32", "float64");
    ag_clear_error();
    cr_assert_null(ag_where(a, a, f));
    expect_error_mentions("ag_where", "float64", "float32", "[3]");
    ag_scope_end(sc);
}

Test(ew_err, pow_checks_its_input_first)
{
    ag_scope *sc = ag_scope_begin();
    ag_tensor *x = ag_zeros(AG_F64, 2, (int64_t[]){2, 3});
    ag_clear_error();
    cr_assert_null(ag_pow(x, NAN));
    expect_error_mentions("ag_pow", "nan", "[2,3]");
    /* A NULL input keeps the earlier error, even with a bad exponent. */
    ag_clear_error();
    cr_assert_null(ag_pow(ag_clamp(x, 2, 1), INFINITY));
    expect_error_mentions("ag_clamp", "[2,3]");
    cr_assert_null(strstr(ag_last_error(), "ag_pow"));
    ag_clear_error();
    cr_assert_null(ag_pow(NULL, 2));
    expect_error_mentions("ag_pow", "NULL");
    ag_scope_end(sc);
}
