/* autograd/random.c - xoshiro256** generator (seeded by splitmix64) and random tensors.
 * Explicit state: the same seed gives the same numbers on every thread and every run. */
#include <math.h>

#include "internal.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

ag_rng ag_rng_seed(uint64_t seed)
{
    ag_rng r;
    for (int i = 0; i < 4; i++) r.s[i] = splitmix64(&seed);
    return r;
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t ag_rng_u64(ag_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double ag_rng_uniform(ag_rng *r) { return (double)(ag_rng_u64(r) >> 11) * 0x1.0p-53; }

double ag_rng_normal(ag_rng *r)
{
    /* Box-Muller; 1 - u keeps the log argument in (0, 1]. */
    double u = 1.0 - ag_rng_uniform(r), v = ag_rng_uniform(r);
    return sqrt(-2.0 * log(u)) * cos(2.0 * 3.14159265358979323846 * v);
}

uint64_t ag_rng_below(ag_rng *r, uint64_t n)
{
    if (n == 0) return 0;
    /* Rejection of the short last bucket keeps every value equally likely. */
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do x = ag_rng_u64(r);
    while (x >= limit);
    return x % n;
}

static ag_tensor *rand_tensor(const char *fn, ag_rng *r, ag_dtype dtype, int ndim,
                              const int64_t *shape, double a, double b, bool normal)
{
    if (!r) {
        ag__error("%s: generator is NULL (make one with ag_rng_seed)", fn);
        return NULL;
    }
    if (!(a <= b) && !normal) {
        ag__error("%s: need lo <= hi, got [%g, %g)", fn, a, b);
        return NULL;
    }
    if (normal && !(b >= 0)) {
        ag__error("%s: std %g is negative", fn, b);
        return NULL;
    }
    ag_tensor *t = ag_zeros(dtype, ndim, shape);
    if (!t) return NULL;
    AG_DISPATCH(dtype, T, T *p = t->data;
                for (int64_t i = 0; i < t->numel; i++)
                    p[i] = (T)(normal ? a + b * ag_rng_normal(r) : a + (b - a) * ag_rng_uniform(r)););
    return t;
}

ag_tensor *ag_rand_uniform(ag_rng *r, ag_dtype dtype, int ndim, const int64_t *shape, double lo,
                           double hi)
{
    return rand_tensor("ag_rand_uniform", r, dtype, ndim, shape, lo, hi, false);
}

ag_tensor *ag_rand_normal(ag_rng *r, ag_dtype dtype, int ndim, const int64_t *shape, double mean,
                          double std)
{
    return rand_tensor("ag_rand_normal", r, dtype, ndim, shape, mean, std, true);
}
