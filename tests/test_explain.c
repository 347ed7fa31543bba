/* The attribution methods of movl explain (explain/explain.h) on models whose
 * answers are known in closed form, no device needed:
 *  - the plain gradient is the model's gradient; integrated gradients of a
 *    linear model are w * (x - x') exactly; on a smooth non-linear model the
 *    sum of attributions differs from f(x) - f(x') (completeness) by no more
 *    than the trapezoid rule's error bound, max |g''| / (12 m^2);
 *  - SmoothGrad replays bit for bit with its seed, changes with it, does not
 *    depend on the batch size, and with zero noise equals the gradient; its
 *    mean over many samples approaches the expected gradient;
 *  - the finite-difference check agrees with the gradient of a smooth model;
 *  - method names, bad settings, the heat map's channel rule and percentile
 *    scaling, the pictures' denormalisation;
 *  - movl_plot_images_write: the PNG has the documented size, the outline and
 *    the pictures are where they should be, bad input fails naming the path. */
#include <cairo.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "explain/explain.h"
#include "plot/plot.h"
#include "test_util.h"

#define C 3
#define S 6
#define NUMEL (C * S * S)
#define K 2

/* f_k(x) = sum_e w[k][e] x_e + q * sum_e sin(x_e) * v[k][e]; quadratic = 0 gives a linear model. */
typedef struct toy {
    double w[K][NUMEL], v[K][NUMEL], q;
    int calls, max_n;
} toy;

static int toy_eval(void *ctx, int n, const float *x, const int *cls, float *logits, float *grad, char *err)
{
    toy *t = ctx;
    (void)err;
    t->calls++;
    t->max_n = n > t->max_n ? n : t->max_n;
    for (int i = 0; i < n; i++) {
        const float *xi = x + (size_t)i * NUMEL;
        for (int k = 0; k < K; k++) {
            double z = 0;
            for (int e = 0; e < NUMEL; e++)
                z += t->w[k][e] * xi[e] + t->q * t->v[k][e] * sin(xi[e]);
            logits[i * K + k] = (float)z;
        }
        if (grad)
            for (int e = 0; e < NUMEL; e++) {
                int k = cls[i];
                grad[(size_t)i * NUMEL + e] = (float)(t->w[k][e] + t->q * t->v[k][e] * cos(xi[e]));
            }
    }
    return MOVL_OK;
}

static double toy_f(const toy *t, int k, const float *x)
{
    double z = 0;
    for (int e = 0; e < NUMEL; e++)
        z += t->w[k][e] * x[e] + t->q * t->v[k][e] * sin(x[e]);
    return z;
}

static void toy_init(toy *t, double q)
{
    memset(t, 0, sizeof *t);
    for (int k = 0; k < K; k++)
        for (int e = 0; e < NUMEL; e++) {
            t->w[k][e] = test_uniform(-1, 1);
            t->v[k][e] = test_uniform(-1, 1);
        }
    t->q = q;
}

static movl_explain_model model_of(toy *t, int max_batch)
{
    movl_explain_model m = {toy_eval, t, NUMEL, K, max_batch};
    return m;
}

static float x[NUMEL], base[NUMEL], attr[NUMEL], attr2[NUMEL];
static char err[MOVL_ERRLEN];

static void test_gradient_and_linear_ig(void)
{
    toy t;
    toy_init(&t, 0.0);
    movl_explain_model m = model_of(&t, 4);
    movl_explain_result r;
    movl_explain_opts o = {.method = MOVL_EXPLAIN_GRAD};
    CHECK(movl_explain_attribute(&m, x, 1, &o, attr, &r, err) == MOVL_OK, "grad: %s", err);
    double worst = 0;
    for (int e = 0; e < NUMEL; e++)
        worst = fmax(worst, fabs(attr[e] - t.w[1][e]));
    CHECK(worst < 1e-6 && r.evaluations == 1, "grad of a linear model is its weights (max error %g)", worst);
    CHECK(fabs(r.logit - toy_f(&t, 1, x)) < 1e-4, "grad: logit %g, expected %g", r.logit, toy_f(&t, 1, x));

    o = (movl_explain_opts){.method = MOVL_EXPLAIN_IG, .steps = 5, .baseline = base};
    CHECK(movl_explain_attribute(&m, x, 0, &o, attr, &r, err) == MOVL_OK, "ig: %s", err);
    worst = 0;
    for (int e = 0; e < NUMEL; e++)
        worst = fmax(worst, fabs(attr[e] - t.w[0][e] * ((double)x[e] - base[e])));
    CHECK(worst < 1e-5, "ig of a linear model is w (x - x') (max error %g)", worst);
    CHECK(r.evaluations == 6 && t.max_n <= 4, "ig: %d gradients (expected steps + 1 = 6) in batches of <= 4 (saw %d)",
          r.evaluations, t.max_n);
    double diff = toy_f(&t, 0, x) - toy_f(&t, 0, base);
    CHECK(fabs(r.attribution_sum - diff) < 1e-4 * fmax(1, fabs(diff)), "ig linear completeness: %g vs %g",
          r.attribution_sum, diff);
}

static void test_ig_completeness(void)
{
    toy t;
    toy_init(&t, 1.5);
    movl_explain_model m = model_of(&t, 7);
    double diff = toy_f(&t, 1, x) - toy_f(&t, 1, base), errs[3], scale = 0, curv = 0;
    /* the trapezoid's error on g(a) = f(x' + a (x - x')) is at most max |g''| / (12 m^2), and
     * |g''| <= q sum |v_e| (x_e - x'_e)^2 */
    for (int e = 0; e < NUMEL; e++) {
        double d = (double)x[e] - base[e];
        curv += t.q * fabs(t.v[1][e]) * d * d;
        scale += fabs(t.w[1][e] * d) + t.q * fabs(t.v[1][e] * d);
    }
    int steps[3] = {8, 16, 32};
    for (int i = 0; i < 3; i++) {
        movl_explain_opts o = {.method = MOVL_EXPLAIN_IG, .steps = steps[i], .baseline = base};
        movl_explain_result r;
        CHECK(movl_explain_attribute(&m, x, 1, &o, attr, &r, err) == MOVL_OK, "ig: %s", err);
        CHECK(fabs(r.logit - toy_f(&t, 1, x)) < 1e-4 && fabs(r.baseline_logit - toy_f(&t, 1, base)) < 1e-4,
              "ig: logits at x and x' (%g, %g)", r.logit, r.baseline_logit);
        errs[i] = fabs(r.attribution_sum - diff);
        double bound = curv / (12.0 * steps[i] * steps[i]) + 1e-5 * scale; /* + float rounding */
        CHECK(errs[i] <= bound, "ig completeness at %d steps: |sum - diff| %g above the trapezoid bound %g",
              steps[i], errs[i], bound);
    }
    printf("    ig completeness on sin: |sum - (f(x) - f(x'))| = %.2e, %.2e, %.2e at 8, 16, 32 steps "
           "(f(x) - f(x') = %.3f; bound at 32 steps %.2e)\n",
           errs[0], errs[1], errs[2], diff, curv / (12.0 * 32 * 32));
}

static void test_smoothgrad(void)
{
    toy t;
    toy_init(&t, 1.0);
    movl_explain_model m1 = model_of(&t, 1), m5 = model_of(&t, 5);
    movl_explain_result r;
    movl_explain_opts o = {.method = MOVL_EXPLAIN_SMOOTHGRAD, .samples = 12, .noise = 0.2, .seed = 9};
    CHECK(movl_explain_attribute(&m5, x, 0, &o, attr, &r, err) == MOVL_OK, "smoothgrad: %s", err);
    CHECK(r.evaluations == 12 && fabs(r.logit - toy_f(&t, 0, x)) < 1e-4,
          "smoothgrad: 12 gradients, logit of x itself (%g)", r.logit);
    CHECK(movl_explain_attribute(&m1, x, 0, &o, attr2, &r, err) == MOVL_OK, "smoothgrad: %s", err);
    CHECK(!memcmp(attr, attr2, sizeof attr), "smoothgrad: the same with batches of 1 and 5, bit for bit");
    o.seed = 10;
    CHECK(movl_explain_attribute(&m5, x, 0, &o, attr2, &r, err) == MOVL_OK, "smoothgrad: %s", err);
    CHECK(memcmp(attr, attr2, sizeof attr) != 0, "smoothgrad: another seed, other noise");
    o.noise = 0;
    CHECK(movl_explain_attribute(&m5, x, 0, &o, attr2, &r, err) == MOVL_OK, "smoothgrad: %s", err);
    movl_explain_opts g = {.method = MOVL_EXPLAIN_GRAD};
    CHECK(movl_explain_attribute(&m5, x, 0, &g, attr, &r, err) == MOVL_OK, "grad: %s", err);
    double worst = 0;
    for (int e = 0; e < NUMEL; e++)
        worst = fmax(worst, fabs(attr[e] - attr2[e]));
    CHECK(worst < 1e-6, "smoothgrad with zero noise is the gradient (max error %g)", worst);
    /* E[cos(x + e)] = cos(x) exp(-sigma^2 / 2) for e ~ N(0, sigma^2) */
    float lo = x[0], hi = x[0];
    for (int e = 1; e < NUMEL; e++)
        lo = fminf(lo, x[e]), hi = fmaxf(hi, x[e]);
    o.noise = 0.3;
    o.samples = 4000;
    CHECK(movl_explain_attribute(&m5, x, 0, &o, attr2, &r, err) == MOVL_OK, "smoothgrad: %s", err);
    double sigma = 0.3 * ((double)hi - lo), shrink = exp(-sigma * sigma / 2);
    worst = 0;
    for (int e = 0; e < NUMEL; e++)
        worst = fmax(worst, fabs(attr2[e] - (t.w[0][e] + t.q * t.v[0][e] * cos(x[e]) * shrink)));
    CHECK(worst < 0.05, "smoothgrad's mean of 4000 samples approaches the expected gradient (max error %g)", worst);
}

static void test_fd_check(void)
{
    toy t;
    toy_init(&t, 2.0);
    movl_explain_model m = model_of(&t, 3);
    movl_explain_fd fd[10];
    CHECK(movl_explain_fd_check(&m, x, 1, 10, 1e-2, 5, fd, err) == MOVL_OK, "fd check: %s", err);
    double worst = 0;
    int distinct = 1;
    for (int i = 0; i < 10; i++) {
        worst = fmax(worst, fabs(fd[i].grad - fd[i].fd));
        for (int j = 0; j < i; j++)
            distinct &= fd[i].index != fd[j].index;
    }
    CHECK(worst < 2e-3 && distinct, "fd check on a smooth model: max |grad - fd| %g, distinct elements %d", worst,
          distinct);
}

static void test_settings(void)
{
    movl_explain_method mm;
    CHECK(movl_explain_method_parse("smoothgrad", &mm, err) == MOVL_OK && mm == MOVL_EXPLAIN_SMOOTHGRAD, "parse");
    CHECK(movl_explain_method_parse("ig", &mm, err) == MOVL_OK && mm == MOVL_EXPLAIN_IG, "parse ig");
    CHECK(movl_explain_method_parse("integrated_gradients", &mm, err) == MOVL_OK && mm == MOVL_EXPLAIN_IG, "parse");
    CHECK(movl_explain_method_parse("lime", &mm, err) == MOVL_ERR_INPUT && strstr(err, "--method 'lime'"),
          "bad method named: %s", err);
    CHECK(!strcmp(movl_explain_method_name(MOVL_EXPLAIN_IG), "integrated_gradients"), "method name");
    toy t;
    toy_init(&t, 0);
    movl_explain_model m = model_of(&t, 2);
    movl_explain_result r;
    movl_explain_opts o = {.method = MOVL_EXPLAIN_IG, .steps = 0, .baseline = base};
    CHECK(movl_explain_attribute(&m, x, 0, &o, attr, &r, err) == MOVL_ERR_INPUT, "ig with 0 steps refused");
    o = (movl_explain_opts){.method = MOVL_EXPLAIN_SMOOTHGRAD, .samples = 0};
    CHECK(movl_explain_attribute(&m, x, 0, &o, attr, &r, err) == MOVL_ERR_INPUT, "smoothgrad with 0 samples refused");
    o = (movl_explain_opts){.method = MOVL_EXPLAIN_GRAD};
    CHECK(movl_explain_attribute(&m, x, K, &o, attr, &r, err) == MOVL_ERR_INPUT, "class out of range refused");
}

static void test_heat_and_pictures(void)
{
    float a[3 * S * S] = {0}, heat[S * S];
    a[0] = -2, a[S * S] = 1, a[2 * S * S] = 0.5f; /* pixel 0: channels -2, 1, 0.5 */
    a[1] = 1;                                     /* pixel 1: channel 0 only */
    a[5] = 100;                                   /* pixel 5: an outlier */
    for (int i = 6; i < S * S; i++)
        a[i] = 0.5f;
    movl_explain_heat(a, S, MOVL_EXPLAIN_GRAD, heat);
    /* grad: max |a| over channels; the 99th percentile of 36 values is the 36th (the outlier), so that one scale */
    CHECK(fabsf(heat[0] - 2.0f / 100) < 1e-6 && fabsf(heat[5] - 1) < 1e-6, "grad heat: max over channels / scale");
    movl_explain_heat(a, S, MOVL_EXPLAIN_IG, heat);
    CHECK(fabsf(heat[0] - 0.5f / 100) < 1e-6, "ig heat: |sum over channels| (%g)", heat[0]);
    float big[3 * 20 * 20] = {0}, bheat[20 * 20];
    for (int i = 0; i < 400; i++)
        big[i] = 1.0f;
    big[7] = 1000; /* 1 of 400: above the 99th percentile */
    movl_explain_heat(big, 20, MOVL_EXPLAIN_GRAD, bheat);
    CHECK(bheat[7] == 1.0f && fabsf(bheat[8] - 1.0f) < 1e-6, "an outlier pixel does not darken the rest (%g)",
          bheat[8]);

    float mean[3] = {0.5f, 0.4f, 0.3f}, std[3] = {0.2f, 0.25f, 0.5f}, img[3 * S * S];
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < S * S; i++)
            img[c * S * S + i] = ((float)i / (S * S - 1) - mean[c]) / std[c]; /* pixel value i / 35 */
    float h[S * S] = {0};
    h[S * S - 1] = 1;
    unsigned char rgb[3][S * S * 3];
    movl_explain_pictures(img, mean, std, h, S, rgb[0], rgb[1], rgb[2]);
    int ok = 1;
    for (int i = 0; i < S * S; i++)
        for (int c = 0; c < 3; c++)
            ok &= abs(rgb[0][i * 3 + c] - (int)lrintf(i / 35.0f * 255)) <= 1;
    CHECK(ok, "image picture: x * std + mean in 0..255");
    CHECK(rgb[1][0] == 0 && rgb[1][1] == 0 && rgb[1][2] == 4, "heat 0 is inferno's black (%d %d %d)", rgb[1][0],
          rgb[1][1], rgb[1][2]);
    CHECK(!memcmp(rgb[2], rgb[0], 3 * (S * S - 1)), "overlay is the image where the heat is 0");
    int last = (S * S - 1) * 3;
    CHECK(abs(rgb[2][last + 2] - (int)lrintf(0.35f * 255 + 0.65f * 164)) <= 1, "overlay blends 0.65 of the colour");
}

static void test_plot_images(void)
{
    char dir[256], path[320];
    test_make_tmpdir(dir, sizeof dir, "explain");
    snprintf(path, sizeof path, "%s/p.png", dir);
    enum { N = 20 };
    unsigned char red[N * N * 3], blue[N * N * 3], mask[N * N] = {0};
    for (int i = 0; i < N * N; i++)
        red[i * 3] = 255, red[i * 3 + 1] = red[i * 3 + 2] = 0, blue[i * 3] = blue[i * 3 + 1] = 0,
        blue[i * 3 + 2] = 255;
    for (int i = 5; i < 10; i++)
        for (int j = 5; j < 10; j++)
            mask[i * N + j] = 1;
    movl_plot_image_panel p[2] = {{"red", red, mask}, {"blue", blue, NULL}};
    CHECK(movl_plot_images_write(path, "title", N, p, 2, err) == MOVL_OK, "plot images: %s", err);
    int w, h;
    movl_plot_images_size(N, 2, &w, &h);
    int k = 13; /* ceil(256 / 20) */
    CHECK(w == 2 * k * N + 3 * 16 && h == 64 + k * N + 16, "documented size: %dx%d", w, h);
    cairo_surface_t *s = cairo_image_surface_create_from_png(path);
    int ok = cairo_surface_status(s) == CAIRO_STATUS_SUCCESS;
    CHECK(ok && cairo_image_surface_get_width(s) == w && cairo_image_surface_get_height(s) == h,
          "the PNG is %dx%d", w, h);
    if (ok) {
        unsigned char *d = cairo_image_surface_get_data(s);
        int stride = cairo_image_surface_get_stride(s);
#define PX(X, Y) (*(unsigned int *)(void *)(d + (size_t)(Y) * stride + (size_t)(X) * 4) & 0xFFFFFF)
        int y0 = 64, x0 = 16, x1 = 16 + k * N + 16;
        CHECK(PX(x0 + 2, y0 + 2) == 0xFF0000 && PX(x1 + 2, y0 + 2) == 0x0000FF, "pictures in place (%06x %06x)",
              PX(x0 + 2, y0 + 2), PX(x1 + 2, y0 + 2));
        unsigned int edge = PX(x0 + 5 * k + 3 * k, y0 + 5 * k), inner = PX(x0 + 7 * k, y0 + 7 * k);
        CHECK(edge != 0xFF0000 && inner == 0xFF0000, "the mask's edge is outlined, its inside not (%06x %06x)", edge,
              inner);
#undef PX
    }
    cairo_surface_destroy(s);
    CHECK(!test_temp_left(path), "no temporary file left");
    snprintf(path, sizeof path, "%s/none/p.png", dir);
    CHECK(movl_plot_images_write(path, "t", N, p, 2, err) == MOVL_ERR_RUN && strstr(err, path),
          "unwritable path named: %s", err);
    CHECK(movl_plot_images_write(path, "t", 0, p, 2, err) == MOVL_ERR_INPUT, "size 0 refused");
    test_remove_tree(dir);
}

int main(void)
{
    test_rng_init(test_seed());
    test_fill_uniform(x, NUMEL, -2, 2);
    test_fill_uniform(base, NUMEL, -1, 1);
    test_gradient_and_linear_ig();
    test_ig_completeness();
    test_smoothgrad();
    test_fd_check();
    test_settings();
    test_heat_and_pictures();
    test_plot_images();
    return test_finish();
}
