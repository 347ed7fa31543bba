/* Visual prompts: layout and parameter counts, forward and backward of every
 * type (with and without the sigmoid) against the double reference of
 * adapt_ref.c on odd sizes, the reference gradient against finite
 * differences, in-place forward, init, rendering, and bad descs. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapt/adapt_ref.h"
#include "core/common.h"
#include "ops/ref/ops_ref.h"
#include "adapt/prompt.h"
#include "test_util.h"

static movl_device dev;
static char err[MOVL_ERRLEN];

static size_t expected_count(const movl_prompt_desc *d)
{
    size_t S = (size_t)d->size, p = (size_t)d->p;
    switch (d->type) {
    case MOVL_PROMPT_PADDING:
    case MOVL_PROMPT_SHRINK_PAD:
        return 3 * (S * S - (S - 2 * p) * (S - 2 * p)); /* = 12 p (S - p) */
    case MOVL_PROMPT_PATCH:
    case MOVL_PROMPT_RANDOM_PATCH:
        return 3 * p * p;
    default:
        return 3 * S * S;
    }
}

/* movl_prompt_index against the layout by definition (masked pixels counted
 * in row-major order, per channel). */
static void check_layout(const movl_prompt_desc *d, int oy, int ox, const char *what)
{
    int S = d->size;
    long n_c = (long)(movl_prompt_param_count(d) / 3), bad = 0;
    for (int c = 0; c < 3; c++) {
        long next = 0;
        for (int i = 0; i < S; i++)
            for (int j = 0; j < S; j++) {
                long want = movl_ref_prompt_mask(d, oy, ox, i, j) ? c * n_c + next++ : -1;
                bad += movl_prompt_index(d, oy, ox, c, i, j) != want;
            }
        bad += next != n_c;
    }
    CHECK(bad == 0, "%s: %ld layout mismatches", what, bad);
}

/* Sum of w * y(delta) in double: the scalar whose gradient the backward gives when dy = w. */
static double probe_loss(const movl_prompt_desc *d, int batch, int oy, int ox, const double *x, const double *delta,
                         const double *w, double *y, size_t n)
{
    movl_ref_prompt_forward(d, batch, oy, ox, x, delta, y);
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += w[i] * y[i];
    return s;
}

static void test_case(movl_prompt_type type, int S, int p, int batch, int sigmoid)
{
    movl_prompt_desc d = {type, S, p, sigmoid, {0.485f, 0.456f, 0.406f}, {0.229f, 0.224f, 0.225f}};
    if (type == MOVL_PROMPT_SHRINK_PAD)
        for (int c = 0; c < 3; c++) {
            d.mean[c] = test_uniform(0.2f, 0.6f);
            d.std[c] = test_uniform(0.1f, 0.4f);
        }
    char what[160];
    snprintf(what, sizeof what, "%s S=%d p=%d batch=%d%s", movl_prompt_type_name(type), S, p, batch,
             sigmoid ? " sigmoid" : "");
    CHECK(movl_prompt_check(&d, err) == MOVL_OK, "%s: %s", what, err);
    size_t np = movl_prompt_param_count(&d), nx = (size_t)batch * 3 * S * S;
    CHECK(np == expected_count(&d), "%s: %zu parameters, expected %zu", what, np, expected_count(&d));
    if (type == MOVL_PROMPT_PADDING || type == MOVL_PROMPT_SHRINK_PAD)
        CHECK(np == (size_t)12 * p * (S - p), "%s: %zu parameters, expected 12p(S-p)", what, np);
    int oy = 0, ox = 0;
    if (type == MOVL_PROMPT_RANDOM_PATCH) {
        oy = (int)test_uniform(0, (float)(S - p + 1)) % (S - p + 1);
        ox = (int)test_uniform(0, (float)(S - p + 1)) % (S - p + 1);
    }
    check_layout(&d, oy, ox, what);

    float *x = malloc(nx * sizeof *x + 1), *delta = malloc(np * sizeof *delta + 1), *dy = malloc(nx * sizeof *dy + 1);
    test_fill_uniform(x, nx, -2, 2);
    test_fill_uniform(delta, np, -3, 3);
    test_fill_uniform(dy, nx, -1, 1);
    double *xd = malloc(nx * sizeof *xd + 1), *dd = malloc(np * sizeof *dd + 1), *dyd = malloc(nx * sizeof *dyd + 1),
           *yd = malloc(nx * sizeof *yd + 1), *gd = malloc(np * sizeof *gd + 1);
    movl_ref_to_double(x, xd, nx);
    movl_ref_to_double(delta, dd, np);
    movl_ref_to_double(dy, dyd, nx);
    movl_ref_prompt_forward(&d, batch, oy, ox, xd, dd, yd);
    movl_ref_prompt_backward(&d, batch, oy, ox, dd, dyd, gd);

    test_guarded gx = test_guarded_alloc(&dev, nx), gdelta = test_guarded_alloc(&dev, np),
                 gy = test_guarded_alloc(&dev, nx), gdy = test_guarded_alloc(&dev, nx),
                 gg = test_guarded_alloc(&dev, np);
    test_guarded_upload(&dev, &gx, x);
    test_guarded_upload(&dev, &gdelta, delta);
    test_guarded_upload(&dev, &gdy, dy);

    /* Forward: against the reference, and bit-exact x outside the mask. */
    CHECK(movl_prompt_forward(&dev, &d, batch, oy, ox, gx.buf, gdelta.buf, gy.buf, err) == MOVL_OK, "%s: %s", what,
          err);
    float *y = test_guarded_read(&dev, &gy), *yref = malloc(nx * sizeof *yref + 1);
    movl_ref_to_float(yd, yref, nx);
    double nm = test_nmse(yref, y, nx);
    CHECK(nm <= 1e-10, "%s: forward NMSE %.3g > 1e-10", what, nm);
    size_t outside_bad = 0;
    for (size_t o = 0; o < nx; o++) {
        size_t q = o % ((size_t)S * S);
        if (!movl_ref_prompt_mask(&d, oy, ox, (int)(q / S), (int)(q % S)) && memcmp(&y[o], &x[o], sizeof *y))
            outside_bad++;
    }
    CHECK(outside_bad == 0, "%s: %zu unmasked elements changed", what, outside_bad);
    CHECK(test_guard_ok(&dev, &gy), "%s: forward canary overwritten", what);

    /* Backward. */
    CHECK(movl_prompt_backward(&dev, &d, batch, oy, ox, gdelta.buf, gdy.buf, gg.buf, err) == MOVL_OK, "%s: %s", what,
          err);
    float *g = test_guarded_read(&dev, &gg), *gref = malloc(np * sizeof *gref + 1);
    movl_ref_to_float(gd, gref, np);
    nm = test_nmse(gref, g, np);
    CHECK(nm <= 1e-10, "%s: backward NMSE %.3g > 1e-10", what, nm);
    CHECK(test_guard_ok(&dev, &gg), "%s: backward canary overwritten", what);

    /* The reference gradient against central differences of sum(dy * y). */
    double worst = 0, h = 1e-4;
    for (int t = 0; t < 12; t++) {
        size_t k = (size_t)test_uniform(0, (float)np) % np;
        double keep = dd[k];
        dd[k] = keep + h;
        double lp = probe_loss(&d, batch, oy, ox, xd, dd, dyd, yd, nx);
        dd[k] = keep - h;
        double lm = probe_loss(&d, batch, oy, ox, xd, dd, dyd, yd, nx);
        dd[k] = keep;
        double fd = (lp - lm) / (2 * h), scale = fmax(1.0, fabs(gd[k]));
        worst = fmax(worst, fabs(fd - gd[k]) / scale);
    }
    CHECK(worst <= 1e-6, "%s: finite-difference error %.3g > 1e-6", what, worst);

    /* In place (y == x) gives the same result. */
    CHECK(movl_prompt_forward(&dev, &d, batch, oy, ox, gx.buf, gdelta.buf, gx.buf, err) == MOVL_OK, "%s: %s", what,
          err);
    float *yin = test_guarded_read(&dev, &gx);
    CHECK(!memcmp(y, yin, nx * sizeof *y), "%s: in-place forward differs", what);

    /* Without the sigmoid the backward never reads delta: NULL is allowed. */
    if (!sigmoid) {
        test_guarded_upload(&dev, &gg, NULL);
        CHECK(movl_prompt_backward(&dev, &d, batch, oy, ox, NULL, gdy.buf, gg.buf, err) == MOVL_OK, "%s: %s", what,
              err);
        float *g2 = test_guarded_read(&dev, &gg);
        CHECK(!memcmp(g, g2, np * sizeof *g), "%s: backward with delta NULL differs", what);
        free(g2);
    }

    /* Rendering: v where masked, 0 elsewhere; the mask marks np/3 pixels. */
    float *img = malloc((size_t)3 * S * S * sizeof *img + 1);
    unsigned char *mask = malloc((size_t)S * S + 1);
    movl_prompt_expand(&d, oy, ox, delta, img, mask);
    size_t masked = 0, render_bad = 0;
    for (int i = 0; i < S * S; i++)
        masked += mask[i];
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < S; i++)
            for (int j = 0; j < S; j++) {
                long k = movl_prompt_index(&d, oy, ox, c, i, j);
                double v = k < 0 ? 0 : (sigmoid ? 1 / (1 + exp(-(double)delta[k])) : delta[k]);
                render_bad += fabs(img[((size_t)c * S + i) * S + j] - v) > 1e-6 || (k >= 0) != mask[i * S + j];
            }
    CHECK(masked * 3 == np && render_bad == 0, "%s: render: %zu masked pixels, %zu wrong values", what, masked,
          render_bad);

    test_guarded *bufs[] = {&gx, &gdelta, &gy, &gdy, &gg};
    for (int i = 0; i < 5; i++)
        test_guarded_free(bufs[i]);
    void *mem[] = {x, delta, dy, xd, dd, dyd, yd, gd, y, yref, g, gref, yin, img, mask};
    for (int i = 0; i < 15; i++)
        free(mem[i]);
}

static void test_init(void)
{
    movl_prompt_desc d = {MOVL_PROMPT_FULL, 64, 0, 0, {0, 0, 0}, {1, 1, 1}};
    size_t n = movl_prompt_param_count(&d);
    float *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    movl_prompt_init_host(&d, MOVL_PROMPT_INIT_ZERO, 1, 7, a);
    size_t nonzero = 0;
    for (size_t i = 0; i < n; i++)
        nonzero += a[i] != 0;
    CHECK(nonzero == 0, "zero init: %zu non-zero values", nonzero);
    movl_prompt_init_host(&d, MOVL_PROMPT_INIT_NORMAL, 0.5f, 7, a);
    movl_prompt_init_host(&d, MOVL_PROMPT_INIT_NORMAL, 0.5f, 7, b);
    CHECK(!memcmp(a, b, n * sizeof *a), "normal init: the same seed gives different values");
    double s = 0, s2 = 0;
    for (size_t i = 0; i < n; i++) {
        s += a[i];
        s2 += (double)a[i] * a[i];
    }
    double mean = s / n, sd = sqrt(s2 / n - mean * mean);
    /* n = 12288: the mean's standard error is 0.5 / 111 = 0.0045. */
    CHECK(fabs(mean) < 0.025 && fabs(sd - 0.5) < 0.025, "normal init: mean %.4f std %.4f (expected 0, 0.5)", mean,
          sd);
    movl_prompt_init_host(&d, MOVL_PROMPT_INIT_NORMAL, 0.5f, 8, b);
    CHECK(memcmp(a, b, n * sizeof *a) != 0, "normal init: seeds 7 and 8 give the same values");

    /* Device init uploads the host values. */
    test_guarded g = test_guarded_alloc(&dev, n);
    CHECK(movl_prompt_init_device(&dev, &d, MOVL_PROMPT_INIT_NORMAL, 0.5f, 7, g.buf, err) == MOVL_OK, "%s", err);
    test_guarded_download(&dev, &g, b);
    CHECK(!memcmp(a, b, n * sizeof *a) && test_guard_ok(&dev, &g), "device init differs from host init");
    test_guarded_free(&g);

    /* Random positions cover the range and stay inside it. */
    movl_prompt_desc r = {MOVL_PROMPT_RANDOM_PATCH, 9, 4, 0, {0, 0, 0}, {1, 1, 1}};
    uint64_t st = 42;
    int seen[6] = {0}, outside = 0;
    for (int t = 0; t < 200; t++) {
        int oy, ox;
        movl_prompt_random_position(&r, &st, &oy, &ox);
        outside += oy < 0 || oy > 5 || ox < 0 || ox > 5;
        if (!outside)
            seen[oy] = seen[ox] = 1;
    }
    int covered = 0;
    for (int i = 0; i < 6; i++)
        covered += seen[i];
    CHECK(!outside && covered == 6, "random positions: %d outside, %d of 6 rows/columns seen", outside, covered);
    free(a);
    free(b);
}

static void test_bad(void)
{
    movl_prompt_desc d = {MOVL_PROMPT_PADDING, 7, 4, 0, {0, 0, 0}, {1, 1, 1}};
    CHECK(movl_prompt_check(&d, err) == MOVL_ERR_INPUT && strstr(err, "width 4"), "padding p=4 on S=7: '%s'", err);
    CHECK(movl_prompt_param_count(&d) == 0, "an invalid desc has 0 parameters");
    d.p = 0;
    CHECK(movl_prompt_check(&d, err) == MOVL_ERR_INPUT, "padding p=0 is rejected");
    d.type = MOVL_PROMPT_PATCH;
    d.p = 8;
    CHECK(movl_prompt_check(&d, err) == MOVL_ERR_INPUT && strstr(err, "side 8"), "patch p=8 on S=7: '%s'", err);
    d.type = MOVL_PROMPT_SHRINK_PAD;
    d.p = 2;
    d.std[1] = 0;
    CHECK(movl_prompt_check(&d, err) == MOVL_ERR_INPUT && strstr(err, "std"), "shrink_pad std 0: '%s'", err);
    movl_prompt_type t;
    CHECK(movl_prompt_type_parse("random_patch", &t, err) == MOVL_OK && t == MOVL_PROMPT_RANDOM_PATCH,
          "parse random_patch");
    CHECK(movl_prompt_type_parse("pad", &t, err) == MOVL_ERR_INPUT && strstr(err, "'pad'"), "parse 'pad': '%s'",
          err);
    movl_prompt_desc r = {MOVL_PROMPT_RANDOM_PATCH, 7, 3, 0, {0, 0, 0}, {1, 1, 1}};
    CHECK(movl_prompt_forward(&dev, &r, 1, 5, 0, NULL, NULL, NULL, err) == MOVL_ERR_RUN && strstr(err, "(5, 0)"),
          "random_patch at row 5 of 7 with side 3 is rejected: '%s'", err);
}

int main(void)
{
    test_open_device(&dev);
    test_rng_init(test_seed());
    int small = getenv("MOVL_TEST_SMALL") && atoi(getenv("MOVL_TEST_SMALL"));
    double t0 = movl_now();
    static const int sizes[] = {7, 28, 33, 64}, small_sizes[] = {7, 12};
    static const int batches[] = {1, 5};
    int ns = small ? 2 : 4;
    for (int si = 0; si < ns; si++) {
        int S = small ? small_sizes[si] : sizes[si];
        int ps[3] = {1, 3, S / 2 - 1};
        for (int type = 0; type < 5; type++)
            for (int pi = 0; pi < 3; pi++) {
                if (type == MOVL_PROMPT_FULL && pi > 0)
                    continue; /* p unused */
                if (small && pi == 1)
                    continue;
                for (int b = 0; b < 2; b++)
                    for (int sig = 0; sig < 2; sig++)
                        test_case((movl_prompt_type)type, S, ps[pi], batches[b], sig);
            }
    }
    /* Extremes: a border covering the whole image, a patch as large as it. */
    test_case(MOVL_PROMPT_PADDING, 6, 3, 2, 0);
    test_case(MOVL_PROMPT_RANDOM_PATCH, 5, 5, 2, 1);
    test_init();
    test_bad();
    printf("time: %.2f s\n", movl_now() - t0);
    movl_device_close(&dev);
    return test_finish();
}
