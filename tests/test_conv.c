/* Convolution forward and backward-to-input, every kernel variant, against
 * the double-precision C reference on random data and odd shapes; canaries
 * around every device output (and the workspace); NaN-filled outputs so
 * unwritten elements fail; finite differences of L = sum(r * conv(x));
 * determinism; rejected bad arguments. MOVL_TEST_SMALL=1 runs only the
 * smallest shapes (for oclgrind). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "ops/ref/conv_ref.h"
#include "ops/ops.h"
#include "test_util.h"

#define SAME (-1) /* TensorFlow "same" padding instead of a PyTorch pad */

typedef struct conv_case {
    int n, cin, h, w, cout, k, stride, pad, groups;
    movl_act act;
    int bias, small, fd, chunked; /* chunked: at most two images per workspace chunk */
} conv_case;

static const conv_case cases[] = {
    /* n cin  h   w cout k s pad  groups act            bias small fd chunked */
    {1, 3, 7, 7, 5, 3, 1, 1, 1, MOVL_ACT_NONE, 1, 1, 1, 0},
    {2, 4, 9, 11, 6, 3, 2, 1, 1, MOVL_ACT_RELU, 1, 1, 1, 0},
    {1, 4, 5, 6, 4, 3, 1, 1, 4, MOVL_ACT_RELU6, 1, 1, 1, 0},
    {1, 6, 7, 7, 4, 1, 1, 0, 2, MOVL_ACT_NONE, 0, 1, 1, 0},
    {1, 3, 8, 9, 4, 5, 2, SAME, 1, MOVL_ACT_RELU, 1, 1, 1, 0},
    {5, 31, 13, 17, 33, 3, 1, 1, 1, MOVL_ACT_RELU, 1, 0, 0, 0},
    {1, 32, 13, 17, 32, 3, 2, 1, 1, MOVL_ACT_RELU6, 1, 0, 1, 0},
    {5, 33, 7, 7, 31, 5, 1, 2, 1, MOVL_ACT_NONE, 1, 0, 0, 0},
    {1, 3, 23, 29, 16, 7, 2, 3, 1, MOVL_ACT_RELU, 1, 0, 1, 0},
    {5, 32, 1, 1, 33, 1, 1, 0, 1, MOVL_ACT_NONE, 1, 0, 0, 0},
    {2, 32, 13, 17, 64, 1, 2, 0, 1, MOVL_ACT_NONE, 0, 0, 1, 0},
    {2, 33, 14, 15, 33, 3, 2, SAME, 33, MOVL_ACT_RELU6, 1, 0, 1, 0},
    {2, 24, 13, 17, 24, 5, 2, SAME, 24, MOVL_ACT_RELU6, 1, 0, 1, 0},
    {2, 16, 13, 17, 16, 5, 1, SAME, 16, MOVL_ACT_NONE, 1, 0, 0, 0},
    {1, 8, 12, 12, 10, 3, 1, SAME, 2, MOVL_ACT_RELU, 1, 0, 1, 0},
    {3, 31, 1, 1, 17, 3, 1, 1, 1, MOVL_ACT_RELU, 1, 0, 0, 0},
    {2, 40, 16, 16, 24, 1, 1, 0, 1, MOVL_ACT_NONE, 1, 0, 0, 0},
    {1, 5, 10, 10, 7, 4, 2, SAME, 1, MOVL_ACT_NONE, 1, 0, 1, 0},
    {2, 6, 11, 9, 5, 3, 3, 1, 1, MOVL_ACT_NONE, 1, 0, 1, 0},
    {1, 64, 7, 7, 64, 3, 1, 1, 64, MOVL_ACT_RELU6, 1, 0, 0, 0},
    {1, 16, 56, 56, 24, 3, 1, 1, 1, MOVL_ACT_RELU, 1, 0, 0, 0},
    {2, 5, 9, 12, 7, 3, 1, 0, 1, MOVL_ACT_NONE, 1, 1, 1, 0},  /* unpadded: forward reads x itself */
    {1, 5, 6, 7, 4, 3, 1, 2, 1, MOVL_ACT_RELU, 1, 0, 1, 0},   /* pad k-1: backward reads dy itself */
    {5, 7, 11, 10, 9, 3, 2, 1, 1, MOVL_ACT_RELU, 1, 0, 0, 1}, /* chunks of images */
    {5, 12, 11, 10, 12, 5, 2, SAME, 12, MOVL_ACT_NONE, 1, 0, 0, 1},
};

static const char *act_name(movl_act a)
{
    return a == MOVL_ACT_RELU ? "relu" : a == MOVL_ACT_RELU6 ? "relu6" : "none";
}

static void describe(const conv_case *c, const movl_conv_desc *d, char *buf, size_t len)
{
    snprintf(buf, len, "n=%d cin=%d %dx%d cout=%d k=%d s=%d pad=%s%d,%d groups=%d act=%s bias=%d", c->n, c->cin, c->h,
             c->w, c->cout, c->k, c->stride, c->pad == SAME ? "same:" : "", d->pad_t, d->pad_l, c->groups,
             act_name(c->act), c->bias);
}

static void desc_of(const conv_case *c, movl_conv_desc *d)
{
    if (c->pad == SAME)
        movl_conv_desc_init_same(d, c->n, c->cin, c->h, c->w, c->cout, c->k, c->stride, c->groups);
    else
        movl_conv_desc_init(d, c->n, c->cin, c->h, c->w, c->cout, c->k, c->stride, c->pad, c->groups);
}

static double *to_double(const float *src, size_t n)
{
    double *d = malloc(n * sizeof *d);
    for (size_t i = 0; i < n; i++)
        d[i] = src[i];
    return d;
}

static float *to_float(const double *src, size_t n)
{
    float *f = malloc(n * sizeof *f);
    for (size_t i = 0; i < n; i++)
        f[i] = (float)src[i];
    return f;
}

static test_guarded upload_new(movl_device *dev, const float *data, size_t n)
{
    test_guarded g = test_guarded_alloc(dev, n);
    test_guarded_upload(dev, &g, data);
    return g;
}

/* Sum(r * conv(x)) in double, the loss whose gradient is backward(r). */
static double loss_of(const movl_conv_desc *d, const double *x, const double *w, const double *r, double *y)
{
    movl_ref_conv_forward(d, x, w, NULL, MOVL_ACT_NONE, y);
    double s = 0;
    size_t ny = (size_t)d->n * d->cout * d->oh * d->ow;
    for (size_t i = 0; i < ny; i++)
        s += r[i] * y[i];
    return s;
}

/* Central differences of the reference loss at a few random inputs vs the
 * device gradient dx (L is linear in x, so in double they agree closely). */
static void check_fd(const movl_conv_desc *d, const double *x, const double *w, const double *r, const float *dx,
                     const char *label)
{
    size_t nx = (size_t)d->n * d->cin * d->h * d->w, ny = (size_t)d->n * d->cout * d->oh * d->ow;
    double *xp = malloc(nx * sizeof *xp), *y = malloc(ny * sizeof *y);
    memcpy(xp, x, nx * sizeof *xp);
    double scale = 0;
    for (size_t i = 0; i < nx; i++)
        scale = fmax(scale, fabs(dx[i]));
    const double h = 1e-3;
    double worst = 0;
    for (int p = 0; p < 6; p++) {
        size_t i = (size_t)test_uniform(0, (float)nx);
        if (i >= nx)
            i = nx - 1;
        xp[i] = x[i] + h;
        double lp = loss_of(d, xp, w, r, y);
        xp[i] = x[i] - h;
        double lm = loss_of(d, xp, w, r, y);
        xp[i] = x[i];
        double fd = (lp - lm) / (2 * h);
        double rel = fabs(fd - dx[i]) / fmax(fabs(fd), 1e-2 * scale + 1e-30);
        worst = fmax(worst, rel);
    }
    CHECK(worst < 1e-3, "%s: finite-difference relative error %.3g (expected < 1e-3)", label, worst);
    free(xp);
    free(y);
}

static void run_case(movl_device *dev, const conv_case *c, const char *variant)
{
    char err[MOVL_ERRLEN], label[256], shape[200];
    movl_conv_desc d;
    desc_of(c, &d);
    describe(c, &d, shape, sizeof shape);
    snprintf(label, sizeof label, "[%s] %s%s", variant, shape, c->chunked ? " chunked" : "");
    movl_conv_options opt = {0};
    opt.variant = !strcmp(variant, "gpu") ? MOVL_CONV_VARIANT_GPU : MOVL_CONV_VARIANT_CPU;
    if (c->chunked) /* room for about two images of the prepared input */
        opt.prep_limit = 6000;

    size_t nx = (size_t)d.n * d.cin * d.h * d.w, ny = (size_t)d.n * d.cout * d.oh * d.ow;
    size_t nw = (size_t)d.cout * (d.cin / d.groups) * d.k * d.k;
    float *x = malloc(nx * sizeof *x), *w = malloc(nw * sizeof *w), *b = malloc(d.cout * sizeof *b);
    float *dy = malloc(ny * sizeof *dy), *y = malloc(ny * sizeof *y), *dx = malloc(nx * sizeof *dx);
    test_fill_uniform(x, nx, -1, 1);
    test_fill_uniform(w, nw, -1, 1);
    test_fill_uniform(b, d.cout, -1, 1);
    test_fill_uniform(dy, ny, -1, 1);

    test_guarded gx = upload_new(dev, x, nx), gw = upload_new(dev, w, nw), gb = upload_new(dev, b, d.cout);
    test_guarded gdy = upload_new(dev, dy, ny), gy = test_guarded_alloc(dev, ny), gdx = test_guarded_alloc(dev, nx);
    movl_conv_plan *plan = NULL;
    int rc = movl_conv_plan_create(dev, &d, &opt, &plan, err);
    CHECK(rc == MOVL_OK, "%s: plan failed: %s", label, err);
    if (rc != MOVL_OK)
        exit(1);
    rc = movl_conv_plan_set_weights(plan, gw.buf, err);
    CHECK(rc == MOVL_OK, "%s: weight packing failed: %s", label, err);
    size_t ws_bytes = movl_conv_plan_workspace_bytes(plan);
    if (c->chunked) {
        movl_conv_options whole_opt = opt;
        whole_opt.prep_limit = 0;
        movl_conv_plan *whole_plan = NULL;
        rc = movl_conv_plan_create(dev, &d, &whole_opt, &whole_plan, err);
        size_t whole = rc == MOVL_OK ? movl_conv_plan_workspace_bytes(whole_plan) : 0;
        movl_conv_plan_free(whole_plan);
        CHECK(ws_bytes < whole, "%s: a 6000-byte limit should split the batch (workspace %zu, whole batch %zu)", label,
              ws_bytes, whole);
    }
    test_guarded gws = {NULL, 0};
    if (ws_bytes)
        gws = test_guarded_alloc(dev, (ws_bytes + sizeof(float) - 1) / sizeof(float));

    /* forward */
    rc = movl_conv_forward(plan, d.n, gx.buf, c->bias ? gb.buf : NULL, c->act, gy.buf, gws.buf, err);
    CHECK(rc == MOVL_OK, "%s: forward failed: %s", label, err);
    test_guarded_download(dev, &gy, y);
    double *xd = to_double(x, nx), *wd = to_double(w, nw), *bd = to_double(b, d.cout), *dyd = to_double(dy, ny);
    double *yref = malloc(ny * sizeof *yref), *dxref = malloc(nx * sizeof *dxref);
    movl_ref_conv_forward(&d, xd, wd, c->bias ? bd : NULL, c->act, yref);
    float *yref_f = to_float(yref, ny);
    double e = test_nmse(yref_f, y, ny);
    CHECK(e < 1e-9, "%s: forward NMSE %.3g (expected < 1e-9)", label, e);
    CHECK(test_guard_ok(dev, &gy), "%s: forward wrote past the output", label);

    /* backward to input, twice: bitwise identical (no atomics) */
    rc = movl_conv_backward_input(plan, d.n, gdy.buf, gdx.buf, gws.buf, err);
    CHECK(rc == MOVL_OK, "%s: backward failed: %s", label, err);
    test_guarded_download(dev, &gdx, dx);
    movl_ref_conv_backward_input(&d, wd, dyd, dxref);
    float *dxref_f = to_float(dxref, nx);
    e = test_nmse(dxref_f, dx, nx);
    CHECK(e < 1e-9, "%s: backward NMSE %.3g (expected < 1e-9)", label, e);
    CHECK(test_guard_ok(dev, &gdx), "%s: backward wrote past dx", label);
    float *dx2 = malloc(nx * sizeof *dx2);
    test_guarded_upload(dev, &gdx, NULL);
    rc = movl_conv_backward_input(plan, d.n, gdy.buf, gdx.buf, gws.buf, err);
    test_guarded_download(dev, &gdx, dx2);
    CHECK(rc == MOVL_OK && !memcmp(dx, dx2, nx * sizeof *dx), "%s: backward is not deterministic", label);
    if (gws.buf)
        CHECK(test_guard_ok(dev, &gws), "%s: wrote past the workspace of %zu bytes", label, ws_bytes);
    CHECK(test_guard_ok(dev, &gx) && test_guard_ok(dev, &gdy), "%s: an input buffer's canary changed", label);

    if (c->fd)
        check_fd(&d, xd, wd, dyd, dx, label);

    movl_conv_plan_free(plan);
    free(dx2);
    free(yref_f);
    free(dxref_f);
    free(xd);
    free(wd);
    free(bd);
    free(dyd);
    free(yref);
    free(dxref);
    free(x);
    free(w);
    free(b);
    free(dy);
    free(y);
    free(dx);
    test_guarded_free(&gx);
    test_guarded_free(&gw);
    test_guarded_free(&gb);
    test_guarded_free(&gdy);
    test_guarded_free(&gy);
    test_guarded_free(&gdx);
    test_guarded_free(&gws);
}

/* Padding arithmetic of the descriptors. */
static void check_desc_init(void)
{
    movl_conv_desc d;
    movl_conv_desc_init(&d, 2, 3, 224, 224, 64, 7, 2, 3, 1);
    CHECK(d.oh == 112 && d.ow == 112 && d.pad_t == 3 && d.pad_l == 3, "7x7/2 pad 3 on 224: got %dx%d pad %d,%d", d.oh,
          d.ow, d.pad_t, d.pad_l);
    movl_conv_desc_init_same(&d, 1, 32, 112, 112, 32, 3, 2, 32);
    CHECK(d.oh == 56 && d.ow == 56 && d.pad_t == 0 && d.pad_l == 0, "same 3x3/2 on 112: got %dx%d pad %d,%d", d.oh,
          d.ow, d.pad_t, d.pad_l);
    movl_conv_desc_init_same(&d, 1, 32, 113, 57, 32, 5, 2, 32);
    CHECK(d.oh == 57 && d.ow == 29 && d.pad_t == 2 && d.pad_l == 2, "same 5x5/2 on 113x57: got %dx%d pad %d,%d", d.oh,
          d.ow, d.pad_t, d.pad_l);
    movl_conv_desc_init_same(&d, 1, 16, 14, 14, 16, 5, 1, 16);
    CHECK(d.oh == 14 && d.ow == 14 && d.pad_t == 2 && d.pad_l == 2, "same 5x5/1 on 14: got %dx%d pad %d,%d", d.oh, d.ow,
          d.pad_t, d.pad_l);
}

/* Bad descriptors and a short workspace are refused with a message. */
static void check_errors(movl_device *dev)
{
    char err[MOVL_ERRLEN] = "";
    movl_conv_desc d;
    movl_conv_desc_init(&d, 1, 6, 8, 8, 4, 3, 1, 1, 4); /* 6 channels in 4 groups */
    movl_conv_plan *plan = NULL;
    int rc = movl_conv_plan_create(dev, &d, NULL, &plan, err);
    CHECK(rc == MOVL_ERR_INPUT && strstr(err, "groups") && !plan, "groups not dividing channels: rc %d, '%s'", rc, err);
    movl_conv_desc_init(&d, 1, 4, 8, 8, 4, 3, 1, 1, 1);
    err[0] = 0;
    rc = movl_conv_plan_create(dev, &d, NULL, &plan, err);
    CHECK(rc == MOVL_OK, "plan of a 3x3 conv: '%s'", err);
    if (rc != MOVL_OK)
        return;
    rc = movl_conv_forward(plan, 1, NULL, NULL, (movl_act)7, NULL, NULL, err);
    CHECK(rc == MOVL_ERR_RUN && strstr(err, "activation"), "unknown activation: rc %d, '%s'", rc, err);
    size_t need = movl_conv_plan_workspace_bytes(plan);
    CHECK(need > 0, "a padded 3x3 conv needs a workspace");
    err[0] = 0;
    rc = movl_conv_backward_input(plan, 1, NULL, NULL, NULL, err);
    CHECK(rc == MOVL_ERR_RUN && strstr(err, "workspace"), "missing workspace: rc %d, '%s'", rc, err);
    err[0] = 0;
    rc = movl_conv_backward_input(plan, 2, NULL, NULL, NULL, err);
    CHECK(rc == MOVL_ERR_RUN && strstr(err, "batch"), "batch above the plan's: rc %d, '%s'", rc, err);
    movl_conv_plan_free(plan);
}

int main(void)
{
    movl_device dev;
    test_open_device(&dev);
    test_rng_init(test_seed());
    const char *small_env = getenv("MOVL_TEST_SMALL");
    int small = small_env && atoi(small_env) != 0;
    check_desc_init();
    check_errors(&dev);
    static const char *variants[] = {"cpu", "gpu"};
    for (size_t v = 0; v < 2; v++)
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
            if (!small || cases[i].small)
                run_case(&dev, &cases[i], variants[v]);
    unsetenv("MOVL_CONV_VARIANT");
    unsetenv("MOVL_CONV_PREP_LIMIT");
    movl_device_close(&dev);
    return test_finish();
}
