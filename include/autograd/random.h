/* autograd/random.h - a small, seeded random generator and random tensors.
 *
 * The generator (xoshiro256** seeded through splitmix64) is explicit state, so results depend only
 * on the seed, never on the thread that runs them.
 */
#ifndef AUTOGRAD_RANDOM_H
#define AUTOGRAD_RANDOM_H

#include <stdint.h>
#include "tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ag_rng { uint64_t s[4]; } ag_rng;

/* A generator seeded from `seed` (any value, 0 included). */
ag_rng ag_rng_seed(uint64_t seed);

uint64_t ag_rng_u64(ag_rng *r);             /* uniform 64-bit integer */
double ag_rng_uniform(ag_rng *r);           /* uniform in [0, 1) */
double ag_rng_normal(ag_rng *r);            /* standard normal (Box-Muller) */
uint64_t ag_rng_below(ag_rng *r, uint64_t n); /* uniform integer in [0, n), unbiased; 0 if n == 0 */

/* Tensors of independent uniform [lo, hi) or normal(mean, std) values. */
ag_tensor *ag_rand_uniform(ag_rng *r, ag_dtype dtype, int ndim, const int64_t *shape,
                           double lo, double hi);
ag_tensor *ag_rand_normal(ag_rng *r, ag_dtype dtype, int ndim, const int64_t *shape,
                          double mean, double std);

#ifdef __cplusplus
}
#endif
#endif
