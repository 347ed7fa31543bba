/* core/rng: the streams are pinned (seeded runs, shuffles and saved label
 * maps depend on them), and the bounded draws are unbiased by rejection
 * yet return the plain modulo whenever nothing is rejected. */
#include <stdint.h>
#include <stdio.h>

#include "core/rng.h"
#include "test_util.h"

static void test_pinned_streams(void)
{
    /* splitmix64 from state 0: the reference implementation's first words */
    static const uint64_t sm[3] = {0xe220a8397b1dcdafull, 0x6e789e6aa1b965f4ull, 0x06c45d188009454full};
    uint64_t s = 0;
    for (int i = 0; i < 3; i++) {
        uint64_t x = movl_splitmix64(&s);
        CHECK(x == sm[i], "splitmix64 word %d: %016llx", i, (unsigned long long)x);
    }
    /* xoshiro256** seeded with 0: the words every shuffle so far was made with */
    static const uint64_t xo[3] = {0x99ec5f36cb75f2b4ull, 0xbf6e1f784956452aull, 0x1a5f849d4933e6e0ull};
    movl_rng r;
    movl_rng_seed(&r, 0);
    for (int i = 0; i < 3; i++) {
        uint64_t x = movl_rng_next(&r);
        CHECK(x == xo[i], "xoshiro256** word %d: %016llx", i, (unsigned long long)x);
    }
    CHECK(movl_rng_hash2(1, 2) == 0xbcd9dbb49673066bull && movl_rng_hash2(2, 1) == 0xe06dd043328bd285ull,
          "hash2 values (order matters)");
    uint64_t l = 0;
    double u = movl_lcg_uniform24(&l);
    CHECK(l == 1442695040888963407ull && u == (double)(l >> 40) / 16777216.0, "LCG step: state %llu, u %.17g",
          (unsigned long long)l, u);
}

static void test_uniform01(void)
{
    uint64_t a = 7, b = 7;
    for (int i = 0; i < 100000; i++) {
        double u = movl_splitmix_uniform01(&a);
        uint64_t x = movl_splitmix64(&b);
        CHECK(u >= 0.0 && u < 1.0 && u == (double)(x >> 11) * 0x1p-53, "draw %d: %.17g from %016llx", i, u,
              (unsigned long long)x);
        if (test_failed)
            return;
    }
}

/* For small n nothing is rejected in practice: the draw is the old x % n. */
static void test_below_is_modulo(void)
{
    uint64_t a = 12345, b = 12345;
    movl_rng ra, rb;
    movl_rng_seed(&ra, 99);
    movl_rng_seed(&rb, 99);
    int same = 1;
    for (int i = 0; i < 100000; i++) {
        uint64_t n = (uint64_t)(i % 1000) + 1;
        same &= movl_splitmix_below(&a, n) == movl_splitmix64(&b) % n;
        same &= movl_rng_below(&ra, n) == movl_rng_next(&rb) % n;
    }
    CHECK(same && a == b, "bounded draws differ from the modulo of the same words");
}

/* n = 2^63 + 1: 2^64 mod n = 2^63 - 1, so about half the words are rejected
 * and the draw must skip them, returning the first accepted word mod n. */
static void test_below_rejects(void)
{
    const uint64_t n = (1ull << 63) + 1, threshold = (1ull << 63) - 1;
    uint64_t a = 5, b = 5;
    int rejected = 0, ok = 1;
    for (int i = 0; i < 1000; i++) {
        uint64_t got = movl_splitmix_below(&a, n), x;
        while ((x = movl_splitmix64(&b)) < threshold)
            rejected++;
        ok &= got == x % n && got < n;
    }
    CHECK(ok && a == b, "splitmix draws with rejection");
    CHECK(rejected > 300 && rejected < 1700, "%d of about 1000 words rejected", rejected);
    movl_rng ra, rb;
    movl_rng_seed(&ra, 5);
    movl_rng_seed(&rb, 5);
    ok = 1;
    for (int i = 0; i < 1000; i++) {
        uint64_t got = movl_rng_below(&ra, n), x;
        while ((x = movl_rng_next(&rb)) < threshold)
            ;
        ok &= got == x % n;
    }
    CHECK(ok, "xoshiro draws with rejection");
}

int main(void)
{
    test_pinned_streams();
    test_uniform01();
    test_below_is_modulo();
    test_below_rejects();
    return test_finish();
}
