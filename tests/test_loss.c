/* Softmax cross-entropy against the double-precision reference of ops_ref.c:
 * loss and dz on odd shapes, huge logits (stability), bad labels (NaN),
 * NULL outputs, and dz against finite differences of the mean loss. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "ops/ops.h"
#include "ops/ref/ops_ref.h"
#include "test_util.h"

static movl_device dev;
static char err[MOVL_ERRLEN];

/* Elementwise against the double reference, within the error bound of the
 * float kernel: exp/log1p/division a few ulp each, the row sum of k positive
 * terms up to k roundings, and exp's argument z - zmax rounded once (relative
 * error |z - zmax| * u, at most ~88 u while exp is a normal float). Results
 * below FLT_MIN may be flushed to zero. A normwise (NMSE) check is not
 * enough here: a confident row's loss and gradient are tiny and must still
 * be right (they were lost to rounding next to 1 before log1p). */
static double tolerance(int k) { return (k + 16 + 88) * 0x1p-24; }

static void check_close(const float *got, const double *want, size_t n, double rtol, const char *what,
                        const char *output)
{
    size_t bad = 0, worst_i = 0;
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - want[i]), lim = rtol * fabs(want[i]) + FLT_MIN;
        if (!(d <= lim))
            bad++;
        if (!(d / lim <= worst))
            worst = d / lim, worst_i = i;
    }
    CHECK(bad == 0, "%s: %zu of %zu %s outside the bound; worst [%zu] %.9g vs %.9g", what, bad, n, output, worst_i,
          got[worst_i], want[worst_i]);
}

static void compare(test_guarded *g, const double *ref, int k, const char *what, const char *output)
{
    float *got = test_guarded_read(&dev, g);
    check_close(got, ref, g->n, tolerance(k), what, output);
    CHECK(test_guard_ok(&dev, g), "%s: canary after the %s overwritten", what, output);
    free(got);
}

static double mean_loss(int batch, int k, const double *z, const int *labels, double *loss)
{
    movl_ref_softmax_xent(batch, k, z, labels, loss, NULL);
    double s = 0;
    for (int b = 0; b < batch; b++)
        s += loss[b];
    return s / batch;
}

/* z scaled by `scale` (1000 tests stability); bad_label puts an invalid label
 * in the last sample. */
static void test_xent(int batch, int k, float scale, int bad_label)
{
    char what[128];
    snprintf(what, sizeof what, "softmax_xent %dx%d scale %g%s", batch, k, scale, bad_label ? " bad label" : "");
    size_t nz = (size_t)batch * k;
    float *z = malloc(nz * sizeof *z + 1);
    test_fill_uniform(z, nz, -scale, scale);
    int *labels = malloc(batch * sizeof *labels + 1);
    for (int b = 0; b < batch; b++)
        labels[b] = (int)test_uniform(0, (float)k) % k;
    if (bad_label)
        labels[batch - 1] = (batch & 1) ? k : -1;
    double *zd = malloc(nz * sizeof *zd + 1), *lossd = malloc(batch * sizeof *lossd + 1),
           *dzd = malloc(nz * sizeof *dzd + 1);
    movl_ref_to_double(z, zd, nz);
    movl_ref_softmax_xent(batch, k, zd, labels, lossd, dzd);

    test_guarded gz = test_guarded_alloc(&dev, nz), glab = test_guarded_alloc(&dev, batch),
                 gloss = test_guarded_alloc(&dev, batch), gdz = test_guarded_alloc(&dev, nz);
    test_guarded_upload(&dev, &gz, z);
    CHECK(movl_upload(&dev, glab.buf, labels, batch * sizeof(int), err) == MOVL_OK, "%s", err);

    CHECK(movl_softmax_xent(&dev, batch, k, gz.buf, glab.buf, gloss.buf, gdz.buf, err) == MOVL_OK, "%s: %s", what,
          err);
    float *loss = test_guarded_read(&dev, &gloss), *dz = test_guarded_read(&dev, &gdz);
    if (bad_label) {
        /* The bad row is NaN in both outputs; the others are still right. */
        CHECK(isnan(loss[batch - 1]), "%s: loss of a bad label is %g, expected NaN", what, loss[batch - 1]);
        size_t nan_dz = 0;
        for (int j = 0; j < k; j++)
            nan_dz += isnan(dz[(size_t)(batch - 1) * k + j]) != 0;
        CHECK(nan_dz == (size_t)k, "%s: %zu of %d dz of a bad label are NaN", what, nan_dz, k);
        check_close(loss, lossd, (size_t)batch - 1, tolerance(k), what, "losses of valid rows");
        check_close(dz, dzd, (size_t)(batch - 1) * k, tolerance(k), what, "dz of valid rows");
        CHECK(test_guard_ok(&dev, &gloss) && test_guard_ok(&dev, &gdz), "%s: canary overwritten", what);
    } else {
        compare(&gloss, lossd, k, what, "losses");
        compare(&gdz, dzd, k, what, "dz");
        /* Each dz row sums to 0 (softmax sums to 1); loss is >= 0. */
        double worst_row = 0;
        for (int b = 0; b < batch; b++) {
            double s = 0;
            for (int j = 0; j < k; j++)
                s += dz[(size_t)b * k + j];
            worst_row = fmax(worst_row, fabs(s) * batch);
            CHECK(loss[b] >= 0 && isfinite(loss[b]), "%s: loss[%d] = %g", what, b, loss[b]);
        }
        CHECK(worst_row <= 1e-5, "%s: a dz row sums to %.3g * 1/batch, expected 0", what, worst_row);
    }

    /* dz against central differences of the mean loss at random logits. */
    if (!bad_label && scale <= 10) {
        double worst = 0, h = 1e-4;
        for (int t = 0; t < 24; t++) {
            size_t i = (size_t)test_uniform(0, (float)nz) % nz;
            double keep = zd[i];
            zd[i] = keep + h;
            double lp = mean_loss(batch, k, zd, labels, lossd);
            zd[i] = keep - h;
            double lm = mean_loss(batch, k, zd, labels, lossd);
            zd[i] = keep;
            double fd = (lp - lm) / (2 * h);
            worst = fmax(worst, fabs(fd - dz[i]) * batch);
        }
        CHECK(worst <= 1e-5, "%s: finite-difference gradient error %.3g * 1/batch > 1e-5", what, worst);
    }

    /* Either output may be NULL; the other is still written. */
    test_guarded_upload(&dev, &gloss, NULL);
    test_guarded_upload(&dev, &gdz, NULL);
    CHECK(movl_softmax_xent(&dev, batch, k, gz.buf, glab.buf, gloss.buf, NULL, err) == MOVL_OK, "%s: %s", what, err);
    CHECK(movl_softmax_xent(&dev, batch, k, gz.buf, glab.buf, NULL, gdz.buf, err) == MOVL_OK, "%s: %s", what, err);
    float *loss2 = test_guarded_read(&dev, &gloss), *dz2 = test_guarded_read(&dev, &gdz);
    CHECK(!memcmp(loss, loss2, batch * sizeof *loss) && !memcmp(dz, dz2, nz * sizeof *dz),
          "%s: results with a NULL output differ from the full run", what);

    test_guarded_free(&gz);
    test_guarded_free(&glab);
    test_guarded_free(&gloss);
    test_guarded_free(&gdz);
    void *mem[] = {z, labels, zd, lossd, dzd, loss, dz, loss2, dz2};
    for (int i = 0; i < 9; i++)
        free(mem[i]);
}

/* A confident row, z = (30, 0) with label 0: loss = log1p(e^-30) = 9.36e-14
 * and dz = (-9.36e-14, 9.36e-14), to float precision. A kernel that forms
 * log(1 + r) or softmax - 1 directly returns 0 for all three. */
static void test_confident(void)
{
    const float z[2] = {30, 0};
    const int label = 0;
    const double r = exp(-30.0), want[3] = {log1p(r), -r / (1 + r), r / (1 + r)};
    test_guarded gz = test_guarded_alloc(&dev, 2), glab = test_guarded_alloc(&dev, 1),
                 gloss = test_guarded_alloc(&dev, 1), gdz = test_guarded_alloc(&dev, 2);
    test_guarded_upload(&dev, &gz, z);
    CHECK(movl_upload(&dev, glab.buf, &label, sizeof label, err) == MOVL_OK, "%s", err);
    CHECK(movl_softmax_xent(&dev, 1, 2, gz.buf, glab.buf, gloss.buf, gdz.buf, err) == MOVL_OK, "confident: %s", err);
    float got[3];
    test_guarded_download(&dev, &gloss, got);
    test_guarded_download(&dev, &gdz, got + 1);
    for (int i = 0; i < 3; i++)
        CHECK(fabs(got[i] - want[i]) <= 1e-5 * fabs(want[i]), "confident row, output %d: %.6g, expected %.6g", i,
              got[i], want[i]);
    test_guarded_free(&gz);
    test_guarded_free(&glab);
    test_guarded_free(&gloss);
    test_guarded_free(&gdz);
}

int main(void)
{
    test_open_device(&dev);
    test_rng_init(test_seed());
    int small = getenv("MOVL_TEST_SMALL") && atoi(getenv("MOVL_TEST_SMALL"));
    double t0 = movl_now();
    static const int batches[] = {1, 5, 32}, ks[] = {1, 2, 10, 1000};
    int nb = small ? 2 : 3, nk = small ? 3 : 4;
    for (int b = 0; b < nb; b++)
        for (int k = 0; k < nk; k++) {
            test_xent(batches[b], ks[k], 5, 0);
            test_xent(batches[b], ks[k], 1000, 0);
            test_xent(batches[b], ks[k], 5, 1);
        }
    test_confident();
    CHECK(movl_softmax_xent(&dev, 4, 0, NULL, NULL, NULL, NULL, err) == MOVL_ERR_RUN && strstr(err, "classes=0"),
          "zero classes are rejected with a message (got '%s')", err);
    printf("time: %.2f s\n", movl_now() - t0);
    movl_device_close(&dev);
    return test_finish();
}
