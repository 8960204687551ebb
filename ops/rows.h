/* ops/rows.h - loops over one contiguous row that several ops share, so that they compute
 * exactly the same values (internal to ops/):
 *     AG__SUM8(T, p, lo, hi, out)     out = sum of p[lo..hi) in eight running sums, in a fixed
 *                                     pattern (ag_sum's row order, also log_softmax's backward)
 *     ag__row_shift(T, x, n)          m: the row's maximum, or 0 when it is infinite (no shift:
 *                                     exp(-inf - -inf) would be NaN); NaN if the row has one
 *     ag__row_expsum(T, x, n, m, e)   s = sum_j e^(x_j - m), in order; stores e^(x_j - m) in
 *                                     e[j] too when e is not NULL
 * (the last two: the softmax family's rows and the fused cross-entropy of ops/xent.c).
 * T is float or double (the AG_DISPATCH type); the float versions compute in float.
 */
#ifndef AG_OPS_ROWS_H
#define AG_OPS_ROWS_H

#include <stdint.h>
#include <tgmath.h>

/* Vectorisable, and more accurate than one running sum. */
#define AG__SUM8(T, P, LO, HI, OUT)                                                         \
    do {                                                                                   \
        T acc_[8] = {0, 0, 0, 0, 0, 0, 0, 0};                                              \
        int64_t j_ = (LO);                                                                 \
        for (; j_ + 8 <= (HI); j_ += 8)                                                    \
            for (int l_ = 0; l_ < 8; l_++) acc_[l_] += (P)[j_ + l_];                       \
        for (int l_ = 0; j_ < (HI); j_++, l_++) acc_[l_] += (P)[j_];                       \
        (OUT) = ((acc_[0] + acc_[1]) + (acc_[2] + acc_[3])) +                              \
                ((acc_[4] + acc_[5]) + (acc_[6] + acc_[7]));                               \
    } while (0)

#define AG__SOFTMAX_ROW(T, SFX)                                                            \
    static inline T ag__row_shift_##SFX(const T *x, int64_t n)                              \
    {                                                                                      \
        T m = -INFINITY;                                                                   \
        for (int64_t j = 0; j < n; j++)                                                    \
            if (x[j] > m || isnan(x[j])) m = x[j]; /* NaN sticks and propagates */         \
        return isinf(m) ? 0 : m;                                                           \
    }                                                                                      \
    static inline T ag__row_expsum_##SFX(const T *x, int64_t n, T m, T *e)                  \
    {                                                                                      \
        T s = 0;                                                                           \
        for (int64_t j = 0; j < n; j++) {                                                  \
            T v = exp(x[j] - m);                                                           \
            if (e) e[j] = v;                                                               \
            s += v;                                                                        \
        }                                                                                  \
        return s;                                                                          \
    }
AG__SOFTMAX_ROW(float, f32)
AG__SOFTMAX_ROW(double, f64)
#undef AG__SOFTMAX_ROW

#define ag__row_shift(T, x, n) \
    _Generic((T)0, float: ag__row_shift_f32, double: ag__row_shift_f64)(x, n)
#define ag__row_expsum(T, x, n, m, e) \
    _Generic((T)0, float: ag__row_expsum_f32, double: ag__row_expsum_f64)(x, n, m, e)

#endif
