/* Loss terms (discrepancy.h) against the double references of adapt_ref.c:
 * value in out[slot] and lambda-scaled gradient, overwrite and accumulate,
 * NULL outputs, odd shapes, bit-exact repeatability; the reference gradients
 * against finite differences; the pixel discrepancy of a real prompt. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapt/adapt_ref.h"
#include "core/common.h"
#include "adapt/discrepancy.h"
#include "ops/ops.h"
#include "ops/ref/ops_ref.h"
#include "adapt/prompt.h"
#include "test_util.h"

static movl_device dev;
static char err[MOVL_ERRLEN];
static int small;

/* Which term a case runs. */
typedef enum { T_MSE, T_COSINE, T_KL, T_XENT } term;
static const char *term_names[] = {"mse", "cosine", "kl", "xent"};

typedef struct shape {
    int rows, width; /* batch and dim/classes; mse uses rows * width elements */
    double temperature;
} shape;

/* The reference value and gradient (without lambda) of term t. */
static double ref_term(term t, shape s, const double *a, const double *b, const int *labels, double *grad)
{
    double v = 0;
    size_t n = (size_t)s.rows * s.width;
    switch (t) {
    case T_MSE:
        movl_ref_mse(n, a, b, &v, grad);
        break;
    case T_COSINE:
        movl_ref_cosine(s.rows, s.width, a, b, &v, grad);
        break;
    case T_KL:
        movl_ref_kl(s.rows, s.width, s.temperature, a, b, &v, grad);
        break;
    case T_XENT:
        movl_ref_xent_mean(s.rows, s.width, a, labels, &v, grad);
        break;
    }
    return v;
}

/* The device term; b is the second input (labels for xent). */
static int run_term(term t, shape s, cl_mem a, cl_mem b, cl_mem labels, float lambda, int acc, cl_mem grad,
                    cl_mem scratch, cl_mem out, int slot)
{
    switch (t) {
    case T_MSE:
        return movl_disc_mse(&dev, (size_t)s.rows * s.width, a, b, lambda, acc, grad, scratch, out, slot, err);
    case T_COSINE:
        return movl_disc_cosine(&dev, s.rows, s.width, a, b, lambda, acc, grad, out, slot, err);
    case T_KL:
        return movl_disc_kl(&dev, s.rows, s.width, (float)s.temperature, a, b, lambda, acc, grad, out, slot, err);
    default:
        return movl_xent_mean(&dev, s.rows, s.width, a, labels, lambda, acc, grad, out, slot, err);
    }
}

static void test_term(term t, shape s, float scale, int zero_row)
{
    char what[160];
    snprintf(what, sizeof what, "%s rows=%d width=%d T=%g scale=%g%s", term_names[t], s.rows, s.width,
             s.temperature, scale, zero_row ? " zero row" : "");
    size_t n = (size_t)s.rows * s.width;
    float *a = malloc(n * sizeof *a + 1), *b = malloc(n * sizeof *b + 1), *g0 = malloc(n * sizeof *g0 + 1);
    test_fill_uniform(a, n, -scale, scale);
    test_fill_uniform(b, n, -scale, scale);
    test_fill_uniform(g0, n, -1, 1);
    if (zero_row)
        memset(a, 0, (size_t)s.width * sizeof *a); /* |a| < eps in row 0 */
    int *labels = malloc((size_t)s.rows * sizeof *labels + 1);
    for (int r = 0; r < s.rows; r++)
        labels[r] = (int)test_uniform(0, (float)s.width) % s.width;
    double *ad = malloc(n * sizeof *ad + 1), *bd = malloc(n * sizeof *bd + 1), *gd = malloc(n * sizeof *gd + 1);
    movl_ref_to_double(a, ad, n);
    movl_ref_to_double(b, bd, n);
    double value = ref_term(t, s, ad, bd, labels, gd);
    float lambda = test_uniform(0.05f, 2.0f);

    test_guarded ga = test_guarded_alloc(&dev, n), gb = test_guarded_alloc(&dev, n), gg = test_guarded_alloc(&dev, n),
                 gout = test_guarded_alloc(&dev, 4), gscr = test_guarded_alloc(&dev, MOVL_REDUCE_SCRATCH_FLOATS),
                 glab = test_guarded_alloc(&dev, (size_t)s.rows);
    test_guarded_upload(&dev, &ga, a);
    test_guarded_upload(&dev, &gb, b);
    CHECK(movl_upload(&dev, glab.buf, labels, (size_t)s.rows * sizeof(int), err) == MOVL_OK, "%s", err);

    /* Overwrite: NaN-prefilled grad, value into slot 2 of 4. */
    CHECK(run_term(t, s, ga.buf, gb.buf, glab.buf, lambda, 0, gg.buf, gscr.buf, gout.buf, 2) == MOVL_OK, "%s: %s",
          what, err);
    float *out = test_guarded_read(&dev, &gout), *g = test_guarded_read(&dev, &gg), *want = malloc(n * sizeof *want + 1);
    /* cosine and KL of near-equal rows are small differences of O(1) float
     * terms: their absolute error is what is bounded there. */
    double rel = fabs(out[2] - value) / fmax(fabs(value), (t == T_COSINE || t == T_KL) ? 0.05 : 1e-3);
    CHECK(rel <= 2e-5, "%s: value %.9g, reference %.9g (rel %.3g)", what, out[2], value, rel);
    CHECK(isnan(out[0]) && isnan(out[1]) && isnan(out[3]), "%s: slots other than 2 were written", what);
    for (size_t i = 0; i < n; i++)
        want[i] = (float)(lambda * gd[i]);
    double nm = test_nmse(want, g, n);
    CHECK(nm <= 1e-9, "%s: gradient NMSE %.3g > 1e-9", what, nm);
    CHECK(test_guard_ok(&dev, &gg) && test_guard_ok(&dev, &gout) && test_guard_ok(&dev, &gscr),
          "%s: canary overwritten", what);

    /* Bit-exact on a second run. */
    CHECK(run_term(t, s, ga.buf, gb.buf, glab.buf, lambda, 0, gg.buf, gscr.buf, gout.buf, 2) == MOVL_OK, "%s: %s",
          what, err);
    float *out2 = test_guarded_read(&dev, &gout), *g2 = test_guarded_read(&dev, &gg);
    CHECK(!memcmp(out, out2, 4 * sizeof *out) && !memcmp(g, g2, n * sizeof *g), "%s: a second run differs", what);

    /* Accumulate onto g0; the inputs stay untouched. */
    test_guarded_upload(&dev, &gg, g0);
    CHECK(run_term(t, s, ga.buf, gb.buf, glab.buf, lambda, 1, gg.buf, gscr.buf, NULL, 0) == MOVL_OK, "%s: %s", what,
          err);
    float *g3 = test_guarded_read(&dev, &gg), *a2 = test_guarded_read(&dev, &ga), *b2 = test_guarded_read(&dev, &gb);
    for (size_t i = 0; i < n; i++)
        want[i] = (float)(g0[i] + lambda * gd[i]);
    nm = test_nmse(want, g3, n);
    CHECK(nm <= 1e-9, "%s: accumulated gradient NMSE %.3g > 1e-9", what, nm);
    CHECK(!memcmp(a, a2, n * sizeof *a) && !memcmp(b, b2, n * sizeof *b), "%s: an input was modified", what);

    /* Value only (grad NULL) gives the same value. */
    test_guarded_upload(&dev, &gout, NULL);
    CHECK(run_term(t, s, ga.buf, gb.buf, glab.buf, lambda, 0, NULL, gscr.buf, gout.buf, 0) == MOVL_OK, "%s: %s",
          what, err);
    float *out3 = test_guarded_read(&dev, &gout);
    CHECK(!memcmp(&out3[0], &out[2], sizeof *out), "%s: value without gradient %.9g differs from %.9g", what,
          out3[0], out[2]);

    /* The reference gradient against central differences of the reference
     * value. Element i only moves its own term (its row; for mse itself), so
     * the difference is taken on that term alone, scaled by its weight in the
     * mean: the rounding of the other terms stays out of it. Errors are
     * relative to the entry, or to 1/100 of the gradient's RMS for the tiny
     * ones (softmax tails), where the rounding of the value dominates. */
    double worst = 0, h = 1e-4, rms = 0;
    for (size_t i = 0; i < n; i++)
        rms += gd[i] * gd[i];
    rms = sqrt(rms / n);
    for (int tr = 0; tr < 16; tr++) {
        size_t i = (size_t)test_uniform(0, (float)n) % n;
        if (zero_row && t == T_COSINE && i < (size_t)s.width)
            continue; /* the clamped norm is not differentiable at 0 */
        size_t first = t == T_MSE ? i : i - i % (size_t)s.width;
        shape sub = t == T_MSE ? (shape){1, 1, 1} : (shape){1, s.width, s.temperature};
        double weight = t == T_MSE ? 1.0 / n : 1.0 / s.rows, keep = ad[i];
        ad[i] = keep + h;
        double vp = ref_term(t, sub, ad + first, bd + first, labels + first / s.width, NULL);
        ad[i] = keep - h;
        double vm = ref_term(t, sub, ad + first, bd + first, labels + first / s.width, NULL);
        ad[i] = keep;
        double fd = weight * (vp - vm) / (2 * h);
        worst = fmax(worst, fabs(fd - gd[i]) / fmax(fabs(gd[i]), 0.01 * rms));
    }
    CHECK(worst <= 1e-5, "%s: finite-difference relative error %.3g > 1e-5", what, worst);

    test_guarded *bufs[] = {&ga, &gb, &gg, &gout, &gscr, &glab};
    for (int i = 0; i < 6; i++)
        test_guarded_free(bufs[i]);
    void *mem[] = {a, b, g0, labels, ad, bd, gd, out, g, want, out2, g2, g3, a2, b2, out3};
    for (int i = 0; i < 16; i++)
        free(mem[i]);
}

/* Facts independent of the reference: KL(z, z) = 0 with zero gradient;
 * cosine of a row with itself is 0 and of its negation 2; xent_mean equals
 * the mean of movl_softmax_xent; a bad label gives NaN. */
static void test_facts(void)
{
    const int B = 3, K = 5;
    float z[15], zneg[15];
    int labels[3] = {0, 4, 2};
    test_fill_uniform(z, 15, -4, 4);
    for (int i = 0; i < 15; i++)
        zneg[i] = -z[i];
    test_guarded gz = test_guarded_alloc(&dev, 15), gn = test_guarded_alloc(&dev, 15),
                 gg = test_guarded_alloc(&dev, 15), gout = test_guarded_alloc(&dev, 4), glab = test_guarded_alloc(&dev, 3),
                 gloss = test_guarded_alloc(&dev, 3);
    test_guarded_upload(&dev, &gz, z);
    test_guarded_upload(&dev, &gn, zneg);
    movl_upload(&dev, glab.buf, labels, sizeof labels, err);
    CHECK(movl_disc_kl(&dev, B, K, 2.0f, gz.buf, gz.buf, 1, 0, gg.buf, gout.buf, 0, err) == MOVL_OK, "%s", err);
    CHECK(movl_disc_cosine(&dev, B, K, gz.buf, gz.buf, 1, 0, NULL, gout.buf, 1, err) == MOVL_OK, "%s", err);
    CHECK(movl_disc_cosine(&dev, B, K, gz.buf, gn.buf, 1, 0, NULL, gout.buf, 2, err) == MOVL_OK, "%s", err);
    CHECK(movl_xent_mean(&dev, B, K, gz.buf, glab.buf, 1, 0, NULL, gout.buf, 3, err) == MOVL_OK, "%s", err);
    CHECK(movl_softmax_xent(&dev, B, K, gz.buf, glab.buf, gloss.buf, NULL, err) == MOVL_OK, "%s", err);
    float out[4], g[15], loss[3];
    test_guarded_download(&dev, &gout, out);
    test_guarded_download(&dev, &gg, g);
    test_guarded_download(&dev, &gloss, loss);
    double gmax = 0;
    for (int i = 0; i < 15; i++)
        gmax = fmax(gmax, fabs(g[i]));
    /* Exactly: MoVL's first step (zero prompt, z~ == z) must see D = 0, dD = 0. */
    CHECK(out[0] == 0 && gmax == 0, "KL(z, z) = %g, gradient max %g (expected exactly 0)", out[0], gmax);
    CHECK(fabs(out[1]) < 1e-6 && fabs(out[2] - 2) < 1e-6, "cosine with itself %g (0), with its negation %g (2)",
          out[1], out[2]);
    double mean = (loss[0] + loss[1] + loss[2]) / 3;
    CHECK(fabs(out[3] - mean) < 1e-6 * fmax(1, mean), "xent_mean %.9g, mean of softmax_xent %.9g", out[3], mean);

    labels[1] = 5;
    movl_upload(&dev, glab.buf, labels, sizeof labels, err);
    test_guarded_upload(&dev, &gg, z);
    CHECK(movl_xent_mean(&dev, B, K, gz.buf, glab.buf, 1, 0, gg.buf, gout.buf, 3, err) == MOVL_OK, "%s", err);
    test_guarded_download(&dev, &gout, out);
    test_guarded_download(&dev, &gg, g);
    int nan_row = 1, finite_rest = 1;
    for (int j = 0; j < K; j++) {
        nan_row &= isnan(g[K + j]) != 0;
        finite_rest &= isfinite(g[j]) && isfinite(g[2 * K + j]);
    }
    CHECK(isnan(out[3]) && nan_row && finite_rest, "bad label: value %g, its row NaN %d, other rows finite %d",
          out[3], nan_row, finite_rest);

    CHECK(movl_disc_kl(&dev, B, K, 0.0f, gz.buf, gz.buf, 1, 0, gg.buf, NULL, 0, err) == MOVL_ERR_RUN &&
              strstr(err, "temperature"),
          "KL with T = 0 is rejected: '%s'", err);
    CHECK(movl_disc_mse(&dev, 15, gz.buf, gn.buf, 1, 0, gg.buf, NULL, gout.buf, 0, err) == MOVL_ERR_RUN &&
              strstr(err, "scratch"),
          "mse without scratch is rejected: '%s'", err);
    movl_disc_kind kind;
    CHECK(movl_disc_parse("feature_mse", &kind, err) == MOVL_OK && kind == MOVL_DISC_FEATURE_MSE, "parse feature_mse");
    CHECK(movl_disc_parse("mse", &kind, err) == MOVL_ERR_INPUT && strstr(err, "'mse'"), "parse 'mse': '%s'", err);
    test_guarded *bufs[] = {&gz, &gn, &gg, &gout, &glab, &gloss};
    for (int i = 0; i < 6; i++)
        test_guarded_free(bufs[i]);
}

/* pixel = mse(x~, x): for an additive prompt without sigmoid this is
 * batch * sum(delta^2) / (batch * 3 * S^2) whatever x is. */
static void test_pixel(int S, int p, int batch)
{
    movl_prompt_desc d = {MOVL_PROMPT_PADDING, S, p, 0, {0, 0, 0}, {1, 1, 1}};
    size_t np = movl_prompt_param_count(&d), nx = (size_t)batch * 3 * S * S;
    float *x = malloc(nx * sizeof *x), *delta = malloc(np * sizeof *delta);
    test_fill_uniform(x, nx, -2, 2);
    test_fill_uniform(delta, np, -1, 1);
    double want = 0;
    for (size_t i = 0; i < np; i++)
        want += (double)delta[i] * delta[i];
    want /= 3.0 * S * S;
    test_guarded gx = test_guarded_alloc(&dev, nx), gy = test_guarded_alloc(&dev, nx),
                 gd = test_guarded_alloc(&dev, np), gout = test_guarded_alloc(&dev, 1),
                 gscr = test_guarded_alloc(&dev, MOVL_REDUCE_SCRATCH_FLOATS);
    test_guarded_upload(&dev, &gx, x);
    test_guarded_upload(&dev, &gd, delta);
    CHECK(movl_prompt_forward(&dev, &d, batch, 0, 0, gx.buf, gd.buf, gy.buf, err) == MOVL_OK, "%s", err);
    CHECK(movl_disc_mse(&dev, nx, gy.buf, gx.buf, 1, 0, NULL, gscr.buf, gout.buf, 0, err) == MOVL_OK, "%s", err);
    float got;
    test_guarded_download(&dev, &gout, &got);
    CHECK(fabs(got - want) <= 1e-5 * want, "pixel S=%d p=%d batch=%d: %.9g, expected sum(delta^2)/(3S^2) = %.9g", S,
          p, batch, got, want);
    test_guarded *bufs[] = {&gx, &gy, &gd, &gout, &gscr};
    for (int i = 0; i < 5; i++)
        test_guarded_free(bufs[i]);
    free(x);
    free(delta);
}

int main(void)
{
    test_open_device(&dev);
    test_rng_init(test_seed());
    small = getenv("MOVL_TEST_SMALL") && atoi(getenv("MOVL_TEST_SMALL"));
    double t0 = movl_now();
    /* mse element counts straddle the 256 chunks x 64 work-items of the partial sums. */
    static const shape mse_full[] = {{1, 1, 1}, {1, 7, 1}, {5, 33, 1}, {3, 5461, 1}, {5, 3267, 1}, {32, 2048, 1},
                                     {5, 3 * 64 * 64, 1}},
                       mse_small[] = {{1, 1, 1}, {5, 33, 1}, {3, 700, 1}};
    int n = small ? 3 : 7;
    for (int i = 0; i < n; i++)
        test_term(T_MSE, small ? mse_small[i] : mse_full[i], 2, 0);
    static const int rows_full[] = {1, 5, 70}, rows_small[] = {1, 5};
    static const int cos_dims[] = {2, 7, 64, 513}, k_full[] = {2, 5, 33, 1000}, k_small[] = {2, 5, 33};
    for (int r = 0; r < (small ? 2 : 3); r++) {
        int rows = small ? rows_small[r] : rows_full[r];
        for (int j = 0; j < (small ? 3 : 4); j++) {
            test_term(T_COSINE, (shape){rows, cos_dims[j], 1}, 3, 0);
            int k = small ? k_small[j] : k_full[j];
            test_term(T_KL, (shape){rows, k, 1}, 3, 0);
            test_term(T_KL, (shape){rows, k, 2.5}, 3, 0);
            test_term(T_XENT, (shape){rows, k, 1}, 3, 0);
            if (!small)
                test_term(T_XENT, (shape){rows, k, 1}, 50, 0);
        }
        test_term(T_COSINE, (shape){rows, 9, 1}, 3, 1);
    }
    test_facts();
    test_pixel(7, 2, 1);
    if (!small) {
        test_pixel(33, 3, 5);
        test_pixel(224, 30, 4);
    }
    printf("time: %.2f s\n", movl_now() - t0);
    movl_device_close(&dev);
    return test_finish();
}
