/* tests/test_loss_api.c - loss behaviour beyond the numbers: the shapes each reduction gives,
 * extreme logits staying finite, ownership of the result (caller or scope; intermediates freed),
 * no-grad mode, and the error messages.
 */
#include "loss_test_util.h"

/* ---- shapes, extreme inputs, ownership ---- */

Test(loss_shapes, reductions_give_scalars_or_per_element_losses)
{
    ag_scope *sc = ag_scope_begin();
    ag_tensor *p = tu_param(1, 3, (int64_t[]){2, 3, 2}, -1, 1);
    ag_tensor *q = tu_param(2, 3, (int64_t[]){2, 3, 2}, 0, 1);
    ag_loss_opts none = {.reduction = AG_REDUCE_NONE}, sum = {.reduction = AG_REDUCE_SUM};
    for (int k = LOSS_MSE; k <= LOSS_BCE; k++) {
        if (k == LOSS_CE) continue;
        expect_shape(call_loss(k, p, q, &none), 3, (int64_t[]){2, 3, 2});
        expect_shape(call_loss(k, p, q, &sum), 0, NULL);
        expect_shape(call_loss(k, p, q, NULL), 0, NULL);
    }
    ag_tensor *x = tu_param(3, 2, (int64_t[]){4, 3}, -1, 1);
    expect_shape(ag_cross_entropy(x, index_targets(4, 3, 0), &none), 1, (int64_t[]){4});
    expect_shape(ag_cross_entropy(x, tu_param(4, 2, (int64_t[]){4, 3}, 0, 1), &none), 1,
                 (int64_t[]){4});
    expect_shape(ag_cross_entropy(x, index_targets(4, 3, 0), &sum), 0, NULL);
    /* an empty batch: mean is 0/0 (NaN, as PyTorch), sum 0, none [0] */
    ag_tensor *e = ag_zeros(AG_F64, 2, (int64_t[]){0, 3});
    ag_tensor *ey = ag_zeros(AG_F64, 1, (int64_t[]){0});
    cr_assert(isnan(ag_item(ag_cross_entropy(e, ey, NULL))));
    cr_assert_eq(ag_item(ag_cross_entropy(e, ey, &sum)), 0.0);
    expect_shape(ag_cross_entropy(e, ey, &none), 1, (int64_t[]){0});
    ag_scope_end(sc);
}

/* +-1000 in both dtypes: finite values and gradients (the fixtures also check the numbers). */
Test(loss_shapes, extreme_logits_stay_finite_in_both_dtypes)
{
    for (int d = 0; d < 2; d++) {
        ag_dtype dt = d ? AG_F32 : AG_F64;
        ag_scope *sc = ag_scope_begin();
        ag_tensor *x = tu_tensor(dt, 2, (int64_t[]){2, 3},
                                 (double[]){1000, -1000, 0, -1000, -1000, 1000});
        ag_set_requires_grad(x, true);
        ag_tensor *y = tu_tensor(dt, 1, (int64_t[]){2}, (double[]){1, 0});
        ag_tensor *t = tu_tensor(dt, 2, (int64_t[]){2, 3}, (double[]){0, 1, 0.5, 1, 0, 0});
        ag_tensor *ce = ag_cross_entropy(x, y, &(ag_loss_opts){.label_smoothing = 0.1});
        ag_tensor *bce = ag_bce_with_logits(x, t, NULL);
        /* CE: row 0 loses about 2000; BCE: four confidently wrong logits cost 1000 each, and
         * x = 0 against t = 0.5 costs log 2 */
        cr_assert(isfinite(ag_item(ce)) && ag_item(ce) > 900, "ce %g", ag_item(ce));
        cr_assert(fabs(ag_item(bce) - (4000 + log(2.0)) / 6) < 1e-3, "bce %g", ag_item(bce));
        cr_assert_eq(ag_backward(ag_add(ce, bce)), 0, "%s", ag_last_error());
        for (int i = 0; i < 6; i++) cr_assert(isfinite(ag_get(ag_grad(x), i)), "grad %d", i);
        ag_scope_end(sc);
    }
}

Test(loss_memory, result_belongs_to_the_caller_or_the_scope_and_intermediates_are_freed)
{
    int64_t base = ag_memory_get_stats().live_tensors;
    ag_tensor *x = tu_param(5, 2, (int64_t[]){3, 4}, -1, 1);
    ag_tensor *y = index_targets(3, 4, 0);
    ag_tensor *w = ag_ones(AG_F64, 1, (int64_t[]){4});
    ag_set_requires_grad(w, true); /* a setting: no gradient reaches it */
    /* outside a scope: the caller frees the result; the graph keeps what backward needs */
    ag_loss_opts o = {.class_weights = w, .label_smoothing = 0.1};
    ag_tensor *l = ag_cross_entropy(x, y, &o);
    cr_assert(l, "%s", ag_last_error());
    cr_assert_eq(ag_backward(l), 0, "%s", ag_last_error());
    cr_assert(ag_grad(x));
    cr_assert_null(ag_grad(w), "class weights received a gradient");
    ag_clear_error();
    ag_tensor_free(l);
    cr_assert(!ag_has_error(), "%s", ag_last_error());
    /* inside a scope: exactly one new tensor (the result) belongs to it */
    ag_scope *sc = ag_scope_begin();
    for (int k = LOSS_MSE; k <= LOSS_BCE; k++) {
        int64_t before = ag_scope_size(sc);
        ag_tensor *t = k == LOSS_CE ? y : x;
        cr_assert(call_loss(k, x, t, NULL), "%s", ag_last_error());
        cr_assert_eq(ag_scope_size(sc), before + 1, "kind %d left %lld tensors in the scope", k,
                     (long long)(ag_scope_size(sc) - before));
    }
    ag_scope_end(sc);
    ag_tensor_free(x);
    ag_tensor_free(y);
    ag_tensor_free(w);
    cr_assert_eq(ag_memory_get_stats().live_tensors, base, "leaked %lld tensors",
                 (long long)(ag_memory_get_stats().live_tensors - base));
}

Test(loss_memory, no_grad_mode_records_nothing)
{
    ag_scope *sc = ag_scope_begin();
    ag_tensor *x = tu_param(6, 2, (int64_t[]){2, 3}, -1, 1);
    bool prev = ag_set_grad_enabled(false);
    ag_tensor *l = ag_cross_entropy(x, index_targets(2, 3, 0), NULL);
    ag_set_grad_enabled(prev);
    cr_assert(l && !ag_requires_grad(l));
    ag_scope_end(sc);
}

/* ---- errors ---- */

/* The call fails, leaks nothing, and its message names every fragment. */
#define EXPECT_FAIL(call, ...)                                                             \
    do {                                                                                   \
        ag_clear_error();                                                                  \
        int64_t live_ = ag_memory_get_stats().live_tensors;                                \
        cr_assert_null((call), "%s succeeded", #call);                                     \
        cr_assert_eq(ag_memory_get_stats().live_tensors, live_, "%s leaked tensors", #call); \
        expect_error_mentions(__VA_ARGS__);                                                \
    } while (0)

Test(loss_errors, null_dtype_and_shape_mismatches)
{
    ag_scope *sc = ag_scope_begin();
    ag_tensor *a = ag_zeros(AG_F64, 2, (int64_t[]){4, 3});
    ag_tensor *b = ag_zeros(AG_F64, 2, (int64_t[]){3, 4});
    ag_tensor *f = ag_zeros(AG_F32, 2, (int64_t[]){4, 3});
    EXPECT_FAIL(ag_mse_loss(NULL, a, NULL), "ag_mse_loss", "pred is NULL");
    EXPECT_FAIL(ag_l1_loss(a, NULL, NULL), "ag_l1_loss", "target is NULL");
    EXPECT_FAIL(ag_cross_entropy(NULL, a, NULL), "ag_cross_entropy", "logits is NULL");
    EXPECT_FAIL(ag_bce_with_logits(a, NULL, NULL), "ag_bce_with_logits", "target is NULL");
    EXPECT_FAIL(ag_mse_loss(a, b, NULL), "ag_mse_loss", "[3,4]", "[4,3]");
    EXPECT_FAIL(ag_l1_loss(a, f, NULL), "ag_l1_loss", "float64", "float32", "[4,3]");
    EXPECT_FAIL(ag_bce_with_logits(a, b, NULL), "ag_bce_with_logits", "[3,4]", "[4,3]");
    EXPECT_FAIL(ag_bce_with_logits(f, a, NULL), "ag_bce_with_logits", "float32", "float64");
    EXPECT_FAIL(ag_cross_entropy(a, f, NULL), "ag_cross_entropy", "float64", "float32");
    /* a NULL from a failed inner op keeps that op's message */
    ag_clear_error();
    cr_assert_null(ag_mse_loss(ag_matmul(a, a), a, NULL));
    expect_error_mentions("ag_matmul", "[4,3]");
    ag_scope_end(sc);
}

Test(loss_errors, cross_entropy_shapes_and_targets)
{
    ag_scope *sc = ag_scope_begin();
    ag_tensor *x = ag_zeros(AG_F64, 2, (int64_t[]){4, 5});
    ag_tensor *y = T64_1(4, ((double[]){0, 1, 4, 2}));
    ag_tensor *x1 = ag_zeros(AG_F64, 1, (int64_t[]){5}), *y1 = T64_1(1, ((double[]){0}));
    ag_tensor *x3 = ag_zeros(AG_F64, 3, (int64_t[]){2, 4, 5});
    ag_tensor *x0 = ag_zeros(AG_F64, 2, (int64_t[]){4, 0});
    ag_tensor *short_y = T64_1(3, ((double[]){0, 1, 2}));
    ag_tensor *narrow = ag_zeros(AG_F64, 2, (int64_t[]){4, 3});
    ag_tensor *too_big = T64_1(4, ((double[]){0, 1, 5, 2}));
    ag_tensor *negative = T64_1(4, ((double[]){0, -1, 1, 2}));
    ag_tensor *fraction = T64_1(4, ((double[]){0, 1, 2, 1.5}));
    ag_tensor *nan = T64_1(4, ((double[]){NAN, 1, 2, 3}));
    ag_tensor *huge = T64_1(4, ((double[]){0, 1, 2, 1e300}));
    EXPECT_FAIL(ag_cross_entropy(x1, y1, NULL), "ag_cross_entropy", "[5]", "2-D");
    EXPECT_FAIL(ag_cross_entropy(x3, y, NULL), "ag_cross_entropy", "[2,4,5]", "2-D");
    EXPECT_FAIL(ag_cross_entropy(x0, y, NULL), "ag_cross_entropy", "[4,0]", "no classes");
    EXPECT_FAIL(ag_cross_entropy(x, short_y, NULL), "ag_cross_entropy", "target [3]",
                "logits [4,5]");
    EXPECT_FAIL(ag_cross_entropy(x, narrow, NULL), "ag_cross_entropy", "target [4,3]",
                "logits [4,5]");
    EXPECT_FAIL(ag_cross_entropy(x, too_big, NULL), "ag_cross_entropy", "target[2] = 5", "[4,5]",
                "0..4");
    EXPECT_FAIL(ag_cross_entropy(x, negative, NULL), "ag_cross_entropy", "target[1] = -1");
    EXPECT_FAIL(ag_cross_entropy(x, fraction, NULL), "ag_cross_entropy", "target[3] = 1.5",
                "whole number");
    EXPECT_FAIL(ag_cross_entropy(x, nan, NULL), "ag_cross_entropy", "target[0] = nan");
    EXPECT_FAIL(ag_cross_entropy(x, huge, NULL), "ag_cross_entropy", "target[3] = 1e+300");
    ag_scope_end(sc);
}

Test(loss_errors, options)
{
    ag_scope *sc = ag_scope_begin();
    ag_tensor *x = ag_zeros(AG_F64, 2, (int64_t[]){4, 5});
    ag_tensor *y = T64_1(4, ((double[]){0, 1, 4, 2}));
    ag_tensor *w4 = ag_ones(AG_F64, 1, (int64_t[]){4});
    ag_tensor *w5f = ag_ones(AG_F32, 1, (int64_t[]){5});
    ag_tensor *w15 = ag_ones(AG_F64, 2, (int64_t[]){1, 5});
    ag_tensor *w5 = ag_ones(AG_F64, 1, (int64_t[]){5});
    EXPECT_FAIL(ag_cross_entropy(x, y, &(ag_loss_opts){.class_weights = w4}), "ag_cross_entropy",
                "class_weights [4]", "[5]", "[4,5]");
    EXPECT_FAIL(ag_cross_entropy(x, y, &(ag_loss_opts){.class_weights = w15}),
                "ag_cross_entropy", "class_weights [1,5]");
    EXPECT_FAIL(ag_cross_entropy(x, y, &(ag_loss_opts){.class_weights = w5f}),
                "ag_cross_entropy", "class_weights [5]", "float32", "float64");
    EXPECT_FAIL(ag_cross_entropy(x, y, &(ag_loss_opts){.label_smoothing = -0.1}),
                "ag_cross_entropy", "label_smoothing -0.1");
    EXPECT_FAIL(ag_cross_entropy(x, y, &(ag_loss_opts){.label_smoothing = 1.0}),
                "ag_cross_entropy", "label_smoothing 1");
    EXPECT_FAIL(ag_cross_entropy(x, y, &(ag_loss_opts){.label_smoothing = NAN}),
                "ag_cross_entropy", "label_smoothing nan");
    EXPECT_FAIL(ag_cross_entropy(x, y, &(ag_loss_opts){.pos_weight = w5}), "ag_cross_entropy",
                "pos_weight");
    EXPECT_FAIL(ag_cross_entropy(x, y, &(ag_loss_opts){.reduction = (ag_reduction)7}),
                "ag_cross_entropy", "reduction 7");
    EXPECT_FAIL(ag_mse_loss(x, x, &(ag_loss_opts){.reduction = (ag_reduction)-1}), "ag_mse_loss",
                "reduction -1");
    EXPECT_FAIL(ag_mse_loss(x, x, &(ag_loss_opts){.class_weights = w5}), "ag_mse_loss",
                "class_weights");
    EXPECT_FAIL(ag_l1_loss(x, x, &(ag_loss_opts){.label_smoothing = 0.1}), "ag_l1_loss",
                "label_smoothing");
    EXPECT_FAIL(ag_bce_with_logits(x, x, &(ag_loss_opts){.label_smoothing = 0.1}),
                "ag_bce_with_logits", "label_smoothing");
    /* pos_weight must broadcast to the target without enlarging it */
    EXPECT_FAIL(ag_bce_with_logits(x, x, &(ag_loss_opts){.pos_weight = w4}),
                "ag_bce_with_logits", "pos_weight [4]", "target [4,5]");
    ag_tensor *w245 = ag_ones(AG_F64, 3, (int64_t[]){2, 4, 5});
    EXPECT_FAIL(ag_bce_with_logits(x, x, &(ag_loss_opts){.pos_weight = w245}),
                "ag_bce_with_logits", "pos_weight [2,4,5]", "target [4,5]");
    EXPECT_FAIL(ag_bce_with_logits(x, x, &(ag_loss_opts){.pos_weight = w5f}),
                "ag_bce_with_logits", "pos_weight [5]", "float32");
    /* the accepted forms */
    cr_assert(ag_bce_with_logits(x, x, &(ag_loss_opts){.pos_weight = w5}), "%s", ag_last_error());
    cr_assert(ag_bce_with_logits(x, x, &(ag_loss_opts){.pos_weight = ag_ones(
                  AG_F64, 2, (int64_t[]){4, 1})}), "%s", ag_last_error());
    cr_assert(ag_cross_entropy(x, y, &(ag_loss_opts){.label_smoothing = 0.999}), "%s",
              ag_last_error());
    ag_scope_end(sc);
}
