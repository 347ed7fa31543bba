/* Seeded pseudo-random numbers. Every random choice movl makes (prompt init,
 * random-patch positions, RLM label maps, shuffles, splits, subsets, the
 * head's random init) draws from here, so a run replays from its seeds. */
#ifndef MOVL_RNG_H
#define MOVL_RNG_H

#include <stdint.h>

/* splitmix64: one 64-bit word per call from a counter state (advanced). */
uint64_t movl_splitmix64(uint64_t *state);
/* Uniform double in [0, 1) with 53 bits, from one splitmix64 word. */
double movl_splitmix_uniform01(uint64_t *state);
/* Uniform in [0, n), n >= 1, without modulo bias (see rng.c). */
uint64_t movl_splitmix_below(uint64_t *state, uint64_t n);

/* xoshiro256**, seeded through splitmix64: the generator of shuffles. */
typedef struct movl_rng {
    uint64_t s[4];
} movl_rng;
void movl_rng_seed(movl_rng *r, uint64_t seed);
uint64_t movl_rng_next(movl_rng *r);
/* Uniform in [0, n), n >= 1, without modulo bias. */
uint64_t movl_rng_below(movl_rng *r, uint64_t n);

/* Mixes two words into one seed (order matters): seed and epoch, say. */
uint64_t movl_rng_hash2(uint64_t a, uint64_t b);

/* Knuth's MMIX linear congruential generator; returns the top 24 bits of
 * the advanced state as a float-exact double in [0, 1). Only the head's
 * random init uses it: kept so that runs stay bit-identical. */
double movl_lcg_uniform24(uint64_t *state);

#endif
