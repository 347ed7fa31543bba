/* Seeded pseudo-random numbers: splitmix64, xoshiro256**, unbiased bounded
 * draws, a two-word hash, and the MMIX LCG of the head init. */
#include "core/rng.h"

uint64_t movl_splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

double movl_splitmix_uniform01(uint64_t *state)
{
    return (double)(movl_splitmix64(state) >> 11) * (1.0 / 9007199254740992.0);
}

/* Rejecting the lowest 2^64 mod n words leaves a multiple of n equally likely
 * words, so every residue is equally likely. An accepted word gives x % n,
 * exactly what a plain modulo gives: the two differ only when a word is
 * rejected, which has probability (2^64 mod n) / 2^64 < n / 2^64 (below
 * 2^-50 for any n movl draws with), so seeded results stay as they were. */
uint64_t movl_splitmix_below(uint64_t *state, uint64_t n)
{
    uint64_t threshold = (0 - n) % n;
    for (;;) {
        uint64_t x = movl_splitmix64(state);
        if (x >= threshold)
            return x % n;
    }
}

void movl_rng_seed(movl_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = movl_splitmix64(&seed); /* never all zero: splitmix64 is a bijection of distinct counters */
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t movl_rng_next(movl_rng *r)
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

uint64_t movl_rng_below(movl_rng *r, uint64_t n)
{
    /* Reject the lowest 2^64 mod n values so that every residue is equally likely. */
    uint64_t threshold = (0 - n) % n;
    for (;;) {
        uint64_t x = movl_rng_next(r);
        if (x >= threshold)
            return x % n;
    }
}

uint64_t movl_rng_hash2(uint64_t a, uint64_t b)
{
    uint64_t s = a;
    uint64_t h = movl_splitmix64(&s);
    s = h ^ b;
    return movl_splitmix64(&s);
}

double movl_lcg_uniform24(uint64_t *state)
{
    *state = *state * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(*state >> 40) / 16777216.0;
}
