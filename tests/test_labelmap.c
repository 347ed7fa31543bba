/* Label mapping (labelmap.h): FLM on hand-made count matrices with ties
 * (expected maps worked out by hand below), ILM as FLM on the next epoch's
 * counts, RLM, count accumulation, map checks; on the device the gather and
 * the mapped cross-entropy against the double reference of adapt_ref.c, its
 * gradient against finite differences. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapt/adapt_ref.h"
#include "core/common.h"
#include "adapt/labelmap.h"
#include "ops/ref/ops_ref.h"
#include "test_util.h"

static movl_device dev;
static char err[MOVL_ERRLEN];

static int same_map(const int *a, const int *b, int k)
{
    return !memcmp(a, b, (size_t)k * sizeof *a);
}

static void flm_case(const char *name, const int64_t *counts, int nsrc, int k, const int *want)
{
    int map[8];
    CHECK(movl_labelmap_flm(counts, nsrc, k, map, err) == MOVL_OK, "%s: %s", name, err);
    char got[64] = "", expected[64] = "";
    for (int t = 0; t < k; t++) {
        snprintf(got + strlen(got), sizeof got - strlen(got), " %d", map[t]);
        snprintf(expected + strlen(expected), sizeof expected - strlen(expected), " %d", want[t]);
    }
    CHECK(same_map(map, want, k), "%s: map {%s }, expected {%s }", name, got, expected);
}

static void test_flm(void)
{
    /* Greedy beats per-column argmax: both columns prefer s0.
     *        t0 t1
     *   s0 [  9  8 ]   round 1: 9 at (s0,t0) -> map[0] = 0, drop s0 and t0
     *   s1 [  1  2 ]   round 2: column t1 over s1, s2: 8 at s2 -> map[1] = 2
     *   s2 [  3  8 ]                                               */
    static const int64_t a[] = {9, 8, 1, 2, 3, 8};
    flm_case("greedy", a, 3, 2, (const int[]){0, 2});

    /* Ties: the first in row-major order wins.
     *        t0 t1 t2
     *   s0 [  4  4  0 ]   round 1: 4 at (0,0) first -> map[0] = 0
     *   s1 [  4  4  0 ]   round 2: rows 1, 2, cols 1, 2: 4 at (1,1) -> map[1] = 1
     *   s2 [  0  0  0 ]   round 3: row 2, col 2: 0 -> map[2] = 2     */
    static const int64_t b[] = {4, 4, 0, 4, 4, 0, 0, 0, 0};
    flm_case("ties", b, 3, 3, (const int[]){0, 1, 2});

    /* Ties off the diagonal.
     *        t0 t1 t2
     *   s0 [  0  0  6 ]   round 1: first 6 in row-major order is (0,2) -> map[2] = 0
     *   s1 [  6  0  0 ]   round 2: rows 1..3, cols 0, 1: (1,0) -> map[0] = 1
     *   s2 [  0  6  6 ]   round 3: rows 2, 3, col 1: (2,1) -> map[1] = 2
     *   s3 [  6  6  0 ]                                               */
    static const int64_t c[] = {0, 0, 6, 6, 0, 0, 0, 6, 6, 6, 6, 0};
    flm_case("ties off-diagonal", c, 4, 3, (const int[]){1, 2, 0});

    /* All zero: every round takes the first free (row, column) pair. */
    static const int64_t z[15] = {0};
    flm_case("all zero", z, 5, 3, (const int[]){0, 1, 2});

    /* A later large entry in a used row is skipped.
     *        t0 t1
     *   s0 [  5  9 ]   round 1: 9 at (0,1) -> map[1] = 0, drop s0 and t1
     *   s1 [  1  0 ]   round 2: column t0 over s1, s2: 2 at s2 -> map[0] = 2
     *   s2 [  2  9 ]   ((2,1) = 9 ties round 1 but comes later)     */
    static const int64_t d[] = {5, 9, 1, 0, 2, 9};
    flm_case("used row", d, 3, 2, (const int[]){2, 0});

    /* K = nsrc: a permutation. */
    static const int64_t e[] = {1, 3, 2, 3, 2, 1, 2, 1, 3};
    /* round 1: 3 at (0,1) -> map[1] = 0; round 2: rows 1, 2, cols 0, 2:
     * (1,0)=3 -> map[0] = 1; round 3: (2,2) -> map[2] = 2 */
    flm_case("square", e, 3, 3, (const int[]){1, 0, 2});

    int map[4];
    CHECK(movl_labelmap_flm(a, 3, 4, map, err) == MOVL_ERR_INPUT && strstr(err, "4 target classes"),
          "FLM with K > sources is rejected: '%s'", err);
}

/* Counts from logits (top-1 ties to the first index), then FLM; ILM is the
 * same two calls on the next epoch's predictions. */
static void test_count_and_ilm(void)
{
    /* Epoch 1, nsrc 3, K 2:
     *   [1 3 3] label 0 -> top 1 (first of the tied maxima): D[1][0]++
     *   [5 5 5] label 1 -> top 0: D[0][1]++
     *   [-1 -2 0] label 1 -> top 2: D[2][1]++
     *   [0 9 1] label 0 -> top 1: D[1][0]++
     * D = [[0 1] [2 0] [0 1]] -> round 1: 2 at (1,0) -> map[0] = 1; round 2:
     * rows 0, 2, col 1: 1 at (0,1) first -> map[1] = 0. */
    const float l1[] = {1, 3, 3, 5, 5, 5, -1, -2, 0, 0, 9, 1};
    const int y1[] = {0, 1, 1, 0};
    int64_t counts[6] = {0};
    CHECK(movl_labelmap_count(counts, 3, 2, 4, l1, y1, err) == MOVL_OK, "%s", err);
    static const int64_t want_counts[] = {0, 1, 2, 0, 0, 1};
    CHECK(!memcmp(counts, want_counts, sizeof counts), "counts after epoch 1");
    flm_case("epoch 1", counts, 3, 2, (const int[]){1, 0});

    /* Epoch 2 (ILM: counted afresh with the new prompt):
     *   [0 0 7] label 0, [1 0 4] label 0 -> D[2][0] = 2
     *   [3 1 2] label 1 -> D[0][1] = 1;  [2 8 1] label 1 -> D[1][1] = 1
     * D = [[0 1] [0 1] [2 0]] -> map[0] = 2; then col 1 over rows 0, 1:
     * (0,1) = 1 first -> map[1] = 0. */
    const float l2[] = {0, 0, 7, 1, 0, 4, 3, 1, 2, 2, 8, 1};
    const int y2[] = {0, 0, 1, 1};
    memset(counts, 0, sizeof counts);
    CHECK(movl_labelmap_count(counts, 3, 2, 4, l2, y2, err) == MOVL_OK, "%s", err);
    flm_case("epoch 2 (ILM)", counts, 3, 2, (const int[]){2, 0});

    const int bad[] = {0, 2, 0, 0};
    CHECK(movl_labelmap_count(counts, 3, 2, 4, l2, bad, err) == MOVL_ERR_INPUT && strstr(err, "sample 1"),
          "a label outside [0, K) is rejected: '%s'", err);
}

static void test_rlm(void)
{
    int a[1000], b[1000];
    CHECK(movl_labelmap_rlm(1000, 1000, 99, a, err) == MOVL_OK, "%s", err);
    CHECK(movl_labelmap_check(a, 1000, 1000, err) == MOVL_OK, "RLM with K = sources is a permutation: %s", err);
    CHECK(movl_labelmap_rlm(1000, 5, 99, b, err) == MOVL_OK && same_map(a, b, 5),
          "RLM: the first K draws do not depend on K");
    CHECK(movl_labelmap_rlm(1000, 5, 100, b, err) == MOVL_OK && !same_map(a, b, 5), "RLM: seeds 99 and 100 agree");
    /* Uniform over the sources: 3000 seeds, K = 1 of 10: each ~300. */
    int hist[10] = {0}, lo = 3000, hi = 0;
    for (int s = 0; s < 3000; s++) {
        movl_labelmap_rlm(10, 1, (uint64_t)s, a, err);
        hist[a[0]]++;
    }
    for (int i = 0; i < 10; i++) {
        lo = hist[i] < lo ? hist[i] : lo;
        hi = hist[i] > hi ? hist[i] : hi;
    }
    CHECK(lo > 200 && hi < 400, "RLM draws per source class range %d..%d (expected ~300)", lo, hi);
    CHECK(movl_labelmap_rlm(3, 4, 1, a, err) == MOVL_ERR_INPUT, "RLM with K > sources is rejected");

    const int dup[] = {3, 1, 3}, out[] = {0, 10};
    CHECK(movl_labelmap_check(dup, 10, 3, err) == MOVL_ERR_INPUT && strstr(err, "entry 2 repeats"),
          "duplicate source class: '%s'", err);
    CHECK(movl_labelmap_check(out, 10, 2, err) == MOVL_ERR_INPUT && strstr(err, "entry 1"),
          "out-of-range source class: '%s'", err);
}

static void test_device(int batch, int nsrc, int k, float scale)
{
    char what[128];
    snprintf(what, sizeof what, "labelmap batch=%d sources=%d K=%d scale=%g", batch, nsrc, k, scale);
    size_t nz = (size_t)batch * nsrc;
    float *z = malloc(nz * sizeof *z + 1);
    test_fill_uniform(z, nz, -scale, scale);
    int *map = malloc((size_t)k * sizeof *map + 1), *labels = malloc((size_t)batch * sizeof *labels + 1);
    movl_labelmap_rlm(nsrc, k, (uint64_t)(test_uniform(0, 1e9f)), map, err);
    for (int b = 0; b < batch; b++)
        labels[b] = (int)test_uniform(0, (float)k) % k;
    double *zd = malloc(nz * sizeof *zd + 1), *dzd = malloc(nz * sizeof *dzd + 1), value;
    movl_ref_to_double(z, zd, nz);
    movl_ref_labelmap_xent(batch, nsrc, k, zd, map, labels, &value, dzd);

    test_guarded gz = test_guarded_alloc(&dev, nz), gmap = test_guarded_alloc(&dev, (size_t)k),
                 glab = test_guarded_alloc(&dev, (size_t)batch), gdz = test_guarded_alloc(&dev, nz),
                 gout = test_guarded_alloc(&dev, 3), gzo = test_guarded_alloc(&dev, (size_t)batch * k);
    test_guarded_upload(&dev, &gz, z);
    movl_upload(&dev, gmap.buf, map, (size_t)k * sizeof(int), err);
    movl_upload(&dev, glab.buf, labels, (size_t)batch * sizeof(int), err);

    /* Gather: exact copies. */
    CHECK(movl_labelmap_gather(&dev, batch, nsrc, k, gz.buf, gmap.buf, gzo.buf, err) == MOVL_OK, "%s: %s", what,
          err);
    float *zo = test_guarded_read(&dev, &gzo);
    size_t bad = 0;
    for (int b = 0; b < batch; b++)
        for (int t = 0; t < k; t++)
            bad += memcmp(&zo[(size_t)b * k + t], &z[(size_t)b * nsrc + map[t]], sizeof *z) != 0;
    CHECK(bad == 0 && test_guard_ok(&dev, &gzo), "%s: gather: %zu wrong values", what, bad);

    /* Cross-entropy: value in slot 1, dz_src over a NaN-prefilled buffer. */
    CHECK(movl_labelmap_xent(&dev, batch, nsrc, k, gz.buf, gmap.buf, glab.buf, gdz.buf, gout.buf, 1, err) == MOVL_OK,
          "%s: %s", what, err);
    float *out = test_guarded_read(&dev, &gout), *dz = test_guarded_read(&dev, &gdz), *want = malloc(nz * sizeof *want + 1);
    CHECK(fabs(out[1] - value) <= 2e-5 * fmax(fabs(value), 1e-3), "%s: value %.9g, reference %.9g", what, out[1],
          value);
    CHECK(isnan(out[0]) && isnan(out[2]), "%s: slots other than 1 written", what);
    movl_ref_to_float(dzd, want, nz);
    double nm = test_nmse(want, dz, nz);
    CHECK(nm <= 1e-9, "%s: dz_src NMSE %.3g > 1e-9", what, nm);
    size_t off_map = 0;
    for (size_t i = 0; i < nz; i++)
        off_map += dzd[i] == 0 && dz[i] != 0;
    CHECK(off_map == 0, "%s: %zu unmapped source logits have a non-zero gradient", what, off_map);
    CHECK(test_guard_ok(&dev, &gdz) && test_guard_ok(&dev, &gout), "%s: canary overwritten", what);

    /* Either output alone gives the same numbers. */
    test_guarded_upload(&dev, &gdz, NULL);
    CHECK(movl_labelmap_xent(&dev, batch, nsrc, k, gz.buf, gmap.buf, glab.buf, gdz.buf, NULL, 0, err) == MOVL_OK &&
              movl_labelmap_xent(&dev, batch, nsrc, k, gz.buf, gmap.buf, glab.buf, NULL, gout.buf, 0, err) == MOVL_OK,
          "%s: %s", what, err);
    float *dz2 = test_guarded_read(&dev, &gdz), *out2 = test_guarded_read(&dev, &gout);
    CHECK(!memcmp(dz, dz2, nz * sizeof *dz) && !memcmp(&out2[0], &out[1], sizeof *out),
          "%s: results with a NULL output differ", what);

    /* The reference gradient against central differences (per sample: a
     * logit only moves its own row's loss, weighted 1/batch). */
    double worst = 0, h = 1e-4;
    for (int tr = 0; tr < 16; tr++) {
        int b = (int)test_uniform(0, (float)batch) % batch, t = (int)test_uniform(0, (float)k) % k;
        size_t i = (size_t)b * nsrc + map[t];
        double keep = zd[i], vp, vm;
        zd[i] = keep + h;
        movl_ref_labelmap_xent(1, nsrc, k, zd + (size_t)b * nsrc, map, labels + b, &vp, NULL);
        zd[i] = keep - h;
        movl_ref_labelmap_xent(1, nsrc, k, zd + (size_t)b * nsrc, map, labels + b, &vm, NULL);
        zd[i] = keep;
        double fd = (vp - vm) / (2 * h) / batch;
        worst = fmax(worst, fabs(fd - dzd[i]) / fmax(fabs(dzd[i]), 1e-4 / batch));
    }
    CHECK(worst <= 1e-5, "%s: finite-difference relative error %.3g > 1e-5", what, worst);

    /* A bad label: NaN value and NaN row; a bad map entry: everything NaN. */
    labels[batch - 1] = k;
    movl_upload(&dev, glab.buf, labels, (size_t)batch * sizeof(int), err);
    movl_labelmap_xent(&dev, batch, nsrc, k, gz.buf, gmap.buf, glab.buf, gdz.buf, gout.buf, 0, err);
    float *dz3 = test_guarded_read(&dev, &gdz), *out3 = test_guarded_read(&dev, &gout);
    size_t nan_row = 0, nan_other = 0;
    for (size_t i = 0; i < nz; i++) {
        if (i >= (size_t)(batch - 1) * nsrc)
            nan_row += isnan(dz3[i]) != 0;
        else
            nan_other += isnan(dz3[i]) != 0;
    }
    CHECK(isnan(out3[0]) && nan_row == (size_t)nsrc && nan_other == 0,
          "%s: bad label: value %g, %zu NaN in its row, %zu elsewhere", what, out3[0], nan_row, nan_other);
    map[0] = nsrc;
    movl_upload(&dev, gmap.buf, map, (size_t)k * sizeof(int), err);
    movl_labelmap_xent(&dev, batch, nsrc, k, gz.buf, gmap.buf, glab.buf, gdz.buf, gout.buf, 0, err);
    movl_labelmap_gather(&dev, batch, nsrc, k, gz.buf, gmap.buf, gzo.buf, err);
    float *dz4 = test_guarded_read(&dev, &gdz), *out4 = test_guarded_read(&dev, &gout), *zo4 = test_guarded_read(&dev, &gzo);
    size_t nan_all = 0;
    for (size_t i = 0; i < nz; i++)
        nan_all += isnan(dz4[i]) != 0;
    CHECK(isnan(out4[0]) && nan_all == nz && isnan(zo4[0]) && test_guard_ok(&dev, &gdz),
          "%s: bad map entry: value %g, %zu of %zu gradients NaN", what, out4[0], nan_all, nz);

    test_guarded *bufs[] = {&gz, &gmap, &glab, &gdz, &gout, &gzo};
    for (int i = 0; i < 6; i++)
        test_guarded_free(bufs[i]);
    void *mem[] = {z, map, labels, zd, dzd, zo, out, dz, want, dz2, out2, dz3, out3, dz4, out4, zo4};
    for (int i = 0; i < 16; i++)
        free(mem[i]);
}

int main(void)
{
    test_open_device(&dev);
    test_rng_init(test_seed());
    int small = getenv("MOVL_TEST_SMALL") && atoi(getenv("MOVL_TEST_SMALL"));
    double t0 = movl_now();
    test_flm();
    test_count_and_ilm();
    test_rlm();
    static const int batches[] = {1, 5, 70}, ks[] = {2, 5, 33}, srcs[] = {1000, 40};
    for (int b = 0; b < (small ? 2 : 3); b++)
        for (int k = 0; k < 3; k++)
            for (int s = 0; s < 2; s++) {
                if (small && srcs[s] == 1000 && batches[b] > 1)
                    continue;
                test_device(batches[b], srcs[s], ks[k], 4);
                if (!small)
                    test_device(batches[b], srcs[s], ks[k], 40);
            }
    CHECK(movl_labelmap_xent(&dev, 2, 10, 11, NULL, NULL, NULL, NULL, NULL, 0, err) == MOVL_ERR_RUN &&
              strstr(err, "classes=11"),
          "K > sources is rejected: '%s'", err);
    printf("time: %.2f s\n", movl_now() - t0);
    movl_device_close(&dev);
    return test_finish();
}
