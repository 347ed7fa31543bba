/* Roofline micro-kernels (cl/roofline.cl): the C reference against values
 * worked out by hand, the kernels against the reference bit for bit at every
 * vector width and at odd sizes, and the bookkeeping of a real measurement
 * (skipped under MOVL_TEST_SMALL: oclgrind would take minutes). Timings are
 * printed, never asserted. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/common.h"
#include "ops/roofline.h"
#include "ops/ref/roofline_ref.h"
#include "test_util.h"

static movl_device dev;
static char err[MOVL_ERRLEN];

/* Sums the reference must give in cases whose value is known in closed form. */
static void test_reference(void)
{
    /* No rounds: lane l of chain c of work-item 0 starts at (c + l) / 4096;
     * lane 2: (0+...+11 + 12 * 2) / 4096 = 90 / 4096. */
    float r = movl_ref_peak_fma(0, 2, 0, 0.5f, 0.25f);
    CHECK(r == 90.0f / 4096.0f, "reference, no rounds: %.9g, expected 90/4096", r);
    CHECK(movl_ref_fma_ramp(1039) == 1039.0f / 4096.0f, "ramp[1039] = %.9g", movl_ref_fma_ramp(1039));
    /* a = 0, b = 1: every chain is 1 after the first round, 12 chains per lane. */
    r = movl_ref_peak_fma(12345, 5, 3, 0.0f, 1.0f);
    CHECK(r == 12.0f, "reference, a = 0, b = 1: %.9g, expected 12", r);
    /* Work-item 64 starts where work-item 0 does (starts repeat every 1024 / 16 work-items). */
    CHECK(movl_ref_peak_fma(64, 3, 50, 0.9f, 0.1f) == movl_ref_peak_fma(0, 3, 50, 0.9f, 0.1f),
          "reference: work-items 0 and 64 differ");
    CHECK(movl_ref_peak_fma(1, 3, 50, 0.9f, 0.1f) != movl_ref_peak_fma(0, 3, 50, 0.9f, 0.1f),
          "reference: work-items 0 and 1 agree (their chains start apart)");
    /* x = 0.5 x + 0.25 from (c + 1) / 4096 (work-item 0, chain c, lane 1) after
     * 2 rounds: (c + 1) / 16384 + 0.375, exactly; the sum over chains c = 0..11
     * is 78 / 16384 + 4.5. */
    r = movl_ref_peak_fma(0, 1, 2, 0.5f, 0.25f);
    CHECK(r == 78.0f / 16384.0f + 4.5f, "reference, 2 rounds of 0.5 x + 0.25: %.9g, expected %.9g", r,
          78.0f / 16384.0f + 4.5f);
    /* Element 1025: x = 1025 mod 1024 = 1, y = 7175 mod 512 = 7, z = 1 + 0.5 * 7. */
    CHECK(movl_ref_triad(1025) == 4.5f, "reference triad at 1025: %.9g, expected 4.5",
          movl_ref_triad(1025));
}

/* Every vector width (the CPU's own width and the GPUs' 4 always; 16 where
 * it is the device's own width or under oclgrind's emulation), at one
 * work-item, a prime count and a few hundred, with 0, 1 and 100 rounds. */
static void test_kernels(int small)
{
    const int items[] = {1, 37, 256}, iters[] = {0, 1, 100};
    const size_t n4[] = {1, 1000, 4096};
    int own = movl_roofline_vector_width(&dev);
    for (int vw = 4; vw <= 16; vw *= 2) {
        /* PoCL warns about float16 arguments on CPUs without 512-bit vectors. */
        if (vw == 16 && own != 16 && dev.info.is_cpu && !small)
            continue;
        for (int i = 0; i < 3; i++) {
            int rc = movl_roofline_check(&dev, vw, items[i], iters[i], n4[i], err);
            CHECK(rc == MOVL_OK, "vw %d, %d work-items x %d rounds, %zu float4: %s", vw, items[i], iters[i], n4[i],
                  err);
        }
    }
}

static void test_measure(void)
{
    movl_roofline r;
    double t0 = movl_now();
    int rc = movl_roofline_measure(&dev, 0.02, 2, &r, err);
    CHECK(rc == MOVL_OK, "measure: %s", err);
    if (rc != MOVL_OK)
        return;
    printf("measured on '%s': %.1f GFLOP/s (vector width %d, %d x %d rounds), %.1f GB/s (%d launches) in %.2f s\n",
           dev.info.name, r.gflop_s, r.vector_width, r.fma_items, r.fma_iters, r.gb_s, r.triad_launches,
           movl_now() - t0);
    CHECK(r.vector_width == movl_roofline_vector_width(&dev), "vector width %d", r.vector_width);
    CHECK(isfinite(r.gflop_s) && r.gflop_s > 0 && r.fma_s > 0 && r.fma_iters >= 1 && r.fma_items >= 4096,
          "FMA peak: %g GFLOP/s from %d x %d rounds in %g s", r.gflop_s, r.fma_items, r.fma_iters, r.fma_s);
    double flop = 2.0 * MOVL_FMA_CHAINS * r.vector_width * (double)r.fma_items * r.fma_iters;
    CHECK(fabs(r.gflop_s - flop / r.fma_s * 1e-9) <= 1e-9 * r.gflop_s, "GFLOP/s is not FLOP / time");
    CHECK(isfinite(r.gb_s) && r.gb_s > 0 && r.triad_s > 0 && r.triad_launches >= 1,
          "bandwidth: %g GB/s from %d launches in %g s", r.gb_s, r.triad_launches, r.triad_s);
    CHECK(fabs(r.gb_s - r.triad_bytes / r.triad_s * 1e-9) <= 1e-9 * r.gb_s, "GB/s is not bytes / time");
}

int main(void)
{
    test_open_device(&dev);
    int small = getenv("MOVL_TEST_SMALL") && atoi(getenv("MOVL_TEST_SMALL"));
    test_reference();
    test_kernels(small);
    if (!small)
        test_measure();
    movl_device_close(&dev);
    return test_finish();
}
