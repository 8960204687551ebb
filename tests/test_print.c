/* tests/test_print.c - ag_tensor_str / ag_print / ag_fprint: the values formatted exactly as
 * PyTorch 1.13's repr formats them (expected text from tests/fixtures/print_repr.py), followed
 * by our suffixes (shape, dtype, grad_fn or requires_grad, name), and the summary of large
 * tensors. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <autograd.h>
#include "test_util.h"

/* ag_tensor_str(t) must equal body (PyTorch's text up to its suffixes) + suffix. */
static void expect_text(ag_tensor *t, const char *body, const char *suffix)
{
    char *s = ag_tensor_str(t);
    cr_assert_not_null(s, "%s", ag_last_error());
    size_t n = strlen(body);
    cr_expect(strncmp(s, body, n) == 0, "values differ from PyTorch's:\n%s\nexpected\n%s", s,
              body);
    cr_expect_str_eq(s + (strlen(s) >= n ? n : strlen(s)), suffix);
    free(s);
}

static ag_tensor *ramp(ag_dtype dt, int64_t n, double scale, int ndim, const int64_t *shape)
{
    return ag_reshape(ag_mul_scalar(ag_arange(dt, n), scale), ndim, shape);
}

Test(print, small_tensors_match_pytorch_and_carry_shape_dtype_and_history)
{
    ag_scope *s = ag_scope_begin();
    ag_tensor *w = T64(1, 3, ((double[]){0.1, -0.2, 0.3}));
    ag_set_requires_grad(w, true);
    /* the suffixes wrap at 80 columns, as PyTorch's do */
    expect_text(w, "tensor([[ 0.1000, -0.2000,  0.3000]]",
                ", shape=[1,3], dtype=float64,\n       requires_grad=true)");
    ag_tensor *y = ag_tanh(ag_mul_scalar(w, 3));
    expect_text(y, "tensor([[ 0.2913, -0.5370,  0.7163]]",
                ", shape=[1,3], dtype=float64,\n       grad_fn=<tanh>)");
    expect_text(ag_scalar(AG_F32, 3.14159), "tensor(3.1416", ", shape=[], dtype=float32)");
    expect_text(ag_arange(AG_F32, 5), "tensor([0., 1., 2., 3., 4.]",
                ", shape=[5], dtype=float32)");
    expect_text(ramp(AG_F64, 24, 1, 3, (int64_t[]){2, 3, 4}),
                "tensor([[[ 0.,  1.,  2.,  3.],\n         [ 4.,  5.,  6.,  7.],\n"
                "         [ 8.,  9., 10., 11.]],\n\n        [[12., 13., 14., 15.],\n"
                "         [16., 17., 18., 19.],\n         [20., 21., 22., 23.]]]",
                ", shape=[2,3,4], dtype=float64)");
    expect_text(ramp(AG_F32, 30, 1, 2, (int64_t[]){1, 30}),
                "tensor([[ 0.,  1.,  2.,  3.,  4.,  5.,  6.,  7.,  8.,  9., 10., 11., 12., 13.,\n"
                "         14., 15., 16., 17., 18., 19., 20., 21., 22., 23., 24., 25., 26., 27.,\n"
                "         28., 29.]]",
                ", shape=[1,30], dtype=float32)");
    ag_tensor *named = ag_zeros(AG_F32, 2, (int64_t[]){0, 3});
    ag_set_name(named, "empty");
    expect_text(named, "tensor([]", ", shape=[0,3], dtype=float32, name=\"empty\")");
    ag_scope_end(s);
}

Test(print, formats_follow_the_range_of_values)
{
    ag_scope *s = ag_scope_begin();
    expect_text(T64_1(4, ((double[]){1e-5, 1, 0, NAN})),
                "tensor([1.0000e-05, 1.0000e+00, 0.0000e+00,        nan]",
                ", shape=[4],\n       dtype=float64)");
    expect_text(tu_tensor(AG_F32, 1, (int64_t[]){4}, (double[]){1, INFINITY, -INFINITY, -2}),
                "tensor([ 1., inf, -inf, -2.]", ", shape=[4], dtype=float32)");
    expect_text(tu_tensor(AG_F32, 2, (int64_t[]){2, 2}, (double[]){1.5, -250.25, 0.001, 3}),
                "tensor([[ 1.5000e+00, -2.5025e+02],\n        [ 1.0000e-03,  3.0000e+00]]",
                ", shape=[2,2], dtype=float32)");
    ag_scope_end(s);
}

Test(print, large_tensors_are_summarised)
{
    ag_scope *s = ag_scope_begin();
    expect_text(ag_arange(AG_F32, 2000),
                "tensor([0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 1.9970e+03, 1.9980e+03,\n"
                "        1.9990e+03]",
                ", shape=[2000], dtype=float32)");
    expect_text(ramp(AG_F64, 2000, 0.001, 2, (int64_t[]){40, 50}),
                "tensor([[0.0000e+00, 1.0000e-03, 2.0000e-03,  ..., 4.7000e-02, 4.8000e-02,\n"
                "         4.9000e-02],\n"
                "        [5.0000e-02, 5.1000e-02, 5.2000e-02,  ..., 9.7000e-02, 9.8000e-02,\n"
                "         9.9000e-02],\n"
                "        [1.0000e-01, 1.0100e-01, 1.0200e-01,  ..., 1.4700e-01, 1.4800e-01,\n"
                "         1.4900e-01],\n"
                "        ...,\n"
                "        [1.8500e+00, 1.8510e+00, 1.8520e+00,  ..., 1.8970e+00, 1.8980e+00,\n"
                "         1.8990e+00],\n"
                "        [1.9000e+00, 1.9010e+00, 1.9020e+00,  ..., 1.9470e+00, 1.9480e+00,\n"
                "         1.9490e+00],\n"
                "        [1.9500e+00, 1.9510e+00, 1.9520e+00,  ..., 1.9970e+00, 1.9980e+00,\n"
                "         1.9990e+00]]",
                ", shape=[40,50], dtype=float64)");
    /* a million elements print as a few lines */
    char *big = ag_tensor_str(ag_zeros(AG_F32, 2, (int64_t[]){1000, 1000}));
    cr_assert_not_null(big);
    cr_expect_lt(strlen(big), 400u, "%s", big);
    free(big);
    ag_scope_end(s);
}

Test(print, fprint_and_print_write_the_same_text_and_a_newline)
{
    ag_scope *s = ag_scope_begin();
    ag_tensor *t = ag_arange(AG_F32, 3);
    FILE *f = tmpfile();
    cr_assert_not_null(f);
    cr_assert_eq(ag_fprint(f, t), 0);
    rewind(f);
    char buf[256] = {0};
    size_t got = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    char *want = ag_tensor_str(t);
    cr_expect_eq(got, strlen(want) + 1);
    cr_expect(strncmp(buf, want, strlen(want)) == 0 && buf[strlen(want)] == '\n', "%s", buf);
    free(want);
    /* ag_print writes to stdout: send it to /dev/null for the call, to keep the test log clean */
    fflush(stdout);
    int saved = dup(1), null = open("/dev/null", O_WRONLY);
    cr_assert(saved >= 0 && null >= 0);
    dup2(null, 1);
    int rc = ag_print(t);
    fflush(stdout);
    dup2(saved, 1);
    close(null);
    close(saved);
    cr_expect_eq(rc, 0);
    ag_scope_end(s);
}

Test(print, errors)
{
    cr_expect_null(ag_tensor_str(NULL));
    expect_error_mentions("ag_tensor_str", "NULL");
    ag_clear_error();
    cr_expect_eq(ag_print(NULL), -1);
    expect_error_mentions("ag_print", "NULL");
    ag_clear_error();
    cr_expect_eq(ag_fprint(NULL, NULL), -1);
    expect_error_mentions("ag_fprint", "out");
    /* a failed expression keeps the first error */
    ag_scope *s = ag_scope_begin();
    ag_tensor *bad = ag_matmul(ag_zeros(AG_F32, 2, (int64_t[]){2, 3}),
                               ag_zeros(AG_F32, 2, (int64_t[]){2, 3}));
    cr_expect_eq(ag_print(bad), -1);
    expect_error_mentions("ag_matmul");
    ag_scope_end(s);
}
