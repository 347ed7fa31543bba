/* Max pooling (values, argmax indices, gather backward) and global average
 * pooling against the double-precision references of ops_ref.c, with tie and
 * all-negative inputs, and finite-difference checks of the input gradients. */
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

static double *to_double(const float *a, size_t n)
{
    double *d = malloc(n * sizeof *d + 1);
    movl_ref_to_double(a, d, n);
    return d;
}

static void compare(test_guarded *g, const double *ref, double limit, const char *what)
{
    float *got = test_guarded_read(&dev, g), *want = malloc(g->n * sizeof *want + 1);
    movl_ref_to_float(ref, want, g->n);
    double nmse = test_nmse(want, got, g->n);
    CHECK(nmse <= limit, "%s: NMSE %.3g > %.1g", what, nmse, limit);
    CHECK(test_guard_ok(&dev, g), "%s: canary after the output overwritten", what);
    free(got);
    free(want);
}

enum { DATA_DISTINCT, DATA_TIES, DATA_NEGATIVE };

/* Distinct values 1/1024 apart (exact in fp32, so no ties and no point within
 * 1e-3 of a tie: the finite difference never moves an argmax); many ties
 * (values 0..2); or all negative (padding must never win). */
static void fill_pool_input(float *x, size_t n, int kind)
{
    if (kind == DATA_DISTINCT) {
        for (size_t i = 0; i < n; i++)
            x[i] = ((float)i - (float)(n / 2)) / 1024.0f;
        for (size_t i = n; i > 1; i--) { /* Fisher-Yates shuffle */
            size_t j = (size_t)test_uniform(0, (float)i) % i;
            float t = x[i - 1];
            x[i - 1] = x[j];
            x[j] = t;
        }
    } else if (kind == DATA_TIES) {
        for (size_t i = 0; i < n; i++)
            x[i] = floorf(test_uniform(0, 3));
    } else {
        test_fill_uniform(x, n, -9, -1);
    }
}

/* L = sum w * maxpool(x), in double. */
static double pool_loss(const movl_pool_desc *d, const double *x, const double *w, double *y, int *idx)
{
    movl_ref_maxpool_forward(d, x, y, idx);
    double s = 0;
    for (size_t o = 0; o < (size_t)d->n * d->c * d->oh * d->ow; o++)
        s += w[o] * y[o];
    return s;
}

static void fd_check_maxpool(const movl_pool_desc *d, const float *xf, const float *wf, const float *grad,
                             const char *what)
{
    size_t nin = (size_t)d->n * d->c * d->h * d->w, nout = (size_t)d->n * d->c * d->oh * d->ow;
    double *x = to_double(xf, nin), *w = to_double(wf, nout), *y = malloc(nout * sizeof *y + 1);
    int *idx = malloc(nout * sizeof *idx + 1);
    const double h = 1e-4;
    double worst = 0;
    for (int t = 0; t < 24; t++) {
        size_t i = (size_t)test_uniform(0, (float)nin) % nin;
        double keep = x[i];
        x[i] = keep + h;
        double lp = pool_loss(d, x, w, y, idx);
        x[i] = keep - h;
        double lm = pool_loss(d, x, w, y, idx);
        x[i] = keep;
        double fd = (lp - lm) / (2 * h);
        worst = fmax(worst, fabs(fd - grad[i]) / fmax(1.0, fabs(fd)));
    }
    CHECK(worst <= 1e-5, "%s: finite-difference gradient error %.3g > 1e-5", what, worst);
    free(x);
    free(w);
    free(y);
    free(idx);
}

static void test_maxpool(int n, int c, int h, int w, int k, int stride, int pad, int kind)
{
    static const char *kinds[] = {"distinct", "ties", "negative"};
    char what[160];
    movl_pool_desc d;
    movl_pool_desc_init(&d, n, c, h, w, k, stride, pad);
    size_t nin = (size_t)n * c * h * w, nout = (size_t)n * c * d.oh * d.ow;
    snprintf(what, sizeof what, "maxpool %dx%dx%dx%d k%d s%d p%d -> %dx%d %s", n, c, h, w, k, stride, pad, d.oh, d.ow,
             kinds[kind]);

    float *x = malloc(nin * sizeof *x + 1), *dy = malloc(nout * sizeof *dy + 1);
    fill_pool_input(x, nin, kind);
    test_fill_uniform(dy, nout, -1, 1);
    double *xd = to_double(x, nin), *dyd = to_double(dy, nout), *yd = malloc(nout * sizeof *yd + 1),
           *dxd = malloc(nin * sizeof *dxd + 1);
    int *idx_ref = malloc(nout * sizeof *idx_ref + 1);
    movl_ref_maxpool_forward(&d, xd, yd, idx_ref);
    movl_ref_maxpool_backward(&d, idx_ref, dyd, dxd);

    test_guarded gx = test_guarded_alloc(&dev, nin), gy = test_guarded_alloc(&dev, nout),
                 gidx = test_guarded_alloc(&dev, nout), gdy = test_guarded_alloc(&dev, nout),
                 gdx = test_guarded_alloc(&dev, nin);
    test_guarded_upload(&dev, &gx, x);
    test_guarded_upload(&dev, &gdy, dy);

    int rc = movl_maxpool_forward(&dev, &d, gx.buf, gy.buf, gidx.buf, err);
    CHECK(rc == MOVL_OK, "%s: forward failed: %s", what, err);
    compare(&gy, yd, 0, what); /* a max is exact */
    float *idx_raw = test_guarded_read(&dev, &gidx);
    size_t wrong = 0;
    for (size_t o = 0; o < nout; o++) {
        int got;
        memcpy(&got, &idx_raw[o], sizeof got);
        wrong += got != idx_ref[o];
    }
    CHECK(wrong == 0, "%s: %zu of %zu argmax indices differ from the first maximum", what, wrong, nout);
    CHECK(test_guard_ok(&dev, &gidx), "%s: canary after the index buffer overwritten", what);
    if (kind == DATA_NEGATIVE) {
        float *y = test_guarded_read(&dev, &gy);
        size_t nonneg = 0;
        for (size_t o = 0; o < nout; o++)
            nonneg += !(y[o] < 0);
        CHECK(nonneg == 0, "%s: %zu outputs not negative: padding won a window", what, nonneg);
        free(y);
    }

    rc = movl_maxpool_backward(&dev, &d, gidx.buf, gdy.buf, gdx.buf, err);
    CHECK(rc == MOVL_OK, "%s: backward failed: %s", what, err);
    compare(&gdx, dxd, 1e-7, what);
    if (kind == DATA_DISTINCT) {
        float *dx = test_guarded_read(&dev, &gdx);
        fd_check_maxpool(&d, x, dy, dx, what);
        free(dx);
    }

    test_guarded_free(&gx);
    test_guarded_free(&gy);
    test_guarded_free(&gidx);
    test_guarded_free(&gdy);
    test_guarded_free(&gdx);
    free(x);
    free(dy);
    free(xd);
    free(dyd);
    free(yd);
    free(dxd);
    free(idx_ref);
    free(idx_raw);
}

static void test_gap(int n, int c, int hw)
{
    char what[96];
    snprintf(what, sizeof what, "gap %dx%dx%d", n, c, hw);
    size_t nin = (size_t)n * c * hw, nout = (size_t)n * c;
    float *x = malloc(nin * sizeof *x + 1), *dy = malloc(nout * sizeof *dy + 1);
    test_fill_uniform(x, nin, -3, 3);
    test_fill_uniform(dy, nout, -1, 1);
    double *xd = to_double(x, nin), *dyd = to_double(dy, nout), *yd = malloc(nout * sizeof *yd + 1),
           *dxd = malloc(nin * sizeof *dxd + 1);
    movl_ref_gap_forward(n, c, hw, xd, yd);
    movl_ref_gap_backward(n, c, hw, dyd, dxd);
    test_guarded gx = test_guarded_alloc(&dev, nin), gy = test_guarded_alloc(&dev, nout),
                 gdy = test_guarded_alloc(&dev, nout), gdx = test_guarded_alloc(&dev, nin);
    test_guarded_upload(&dev, &gx, x);
    test_guarded_upload(&dev, &gdy, dy);
    CHECK(movl_gap_forward(&dev, n, c, hw, gx.buf, gy.buf, err) == MOVL_OK, "%s: forward failed: %s", what, err);
    compare(&gy, yd, 1e-7, what);
    CHECK(movl_gap_backward(&dev, n, c, hw, gdy.buf, gdx.buf, err) == MOVL_OK, "%s: backward failed: %s", what, err);
    compare(&gdx, dxd, 1e-7, what);

    /* L = sum dy * gap(x): central differences in double at random inputs. */
    float *dx = test_guarded_read(&dev, &gdx);
    const double h = 1e-3;
    double worst = 0;
    for (int t = 0; t < 24; t++) {
        size_t i = (size_t)test_uniform(0, (float)nin) % nin;
        double keep = xd[i], l[2];
        for (int s = 0; s < 2; s++) {
            xd[i] = keep + (s ? -h : h);
            movl_ref_gap_forward(n, c, hw, xd, yd);
            l[s] = 0;
            for (size_t o = 0; o < nout; o++)
                l[s] += dyd[o] * yd[o];
        }
        xd[i] = keep;
        double fd = (l[0] - l[1]) / (2 * h);
        worst = fmax(worst, fabs(fd - dx[i]) / fmax(1e-3, fabs(fd)));
    }
    CHECK(worst <= 1e-5, "%s: finite-difference gradient error %.3g > 1e-5", what, worst);

    test_guarded_free(&gx);
    test_guarded_free(&gy);
    test_guarded_free(&gdy);
    test_guarded_free(&gdx);
    free(x);
    free(dy);
    free(dx);
    free(xd);
    free(dyd);
    free(yd);
    free(dxd);
}

int main(void)
{
    test_open_device(&dev);
    test_rng_init(test_seed());
    int small = getenv("MOVL_TEST_SMALL") && atoi(getenv("MOVL_TEST_SMALL"));
    double t0 = movl_now();

    /* n, c, h, w, k, stride, pad: the ResNet stem pool (3/2/1), floor mode
     * dropping a row and column (2/2/0 on 7x7), overlapping stride 1, a 1x1
     * plane whose window is mostly padding, and a 1x1 window. */
    static const int shapes[][7] = {
        {1, 3, 7, 7, 3, 2, 1},     {1, 2, 1, 1, 3, 2, 1},     {5, 31, 7, 7, 2, 2, 0},  {1, 33, 13, 17, 3, 2, 1},
        {5, 32, 13, 17, 3, 1, 1},  {1, 31, 1, 1, 1, 1, 0},    {5, 33, 13, 17, 3, 2, 0}, {2, 64, 112, 112, 3, 2, 1},
    };
    int nshapes = small ? 3 : (int)(sizeof shapes / sizeof shapes[0]);
    for (int s = 0; s < nshapes; s++)
        for (int kind = DATA_DISTINCT; kind <= DATA_NEGATIVE; kind++) {
            const int *p = shapes[s];
            test_maxpool(p[0], p[1], p[2], p[3], p[4], p[5], p[6], kind);
        }

    static const int gaps[][3] = {{1, 3, 49}, {5, 2, 1}, {1, 31, 49}, {5, 33, 1}, {5, 32, 13 * 17}, {32, 512, 49}, {2, 1280, 16}};
    int ngaps = small ? 2 : (int)(sizeof gaps / sizeof gaps[0]);
    for (int s = 0; s < ngaps; s++)
        test_gap(gaps[s][0], gaps[s][1], gaps[s][2]);

    /* A window made only of padding is refused, not launched. */
    movl_pool_desc bad;
    movl_pool_desc_init(&bad, 1, 1, 4, 4, 3, 2, 2);
    CHECK(movl_maxpool_forward(&dev, &bad, NULL, NULL, NULL, err) == MOVL_ERR_RUN && strstr(err, "pad"),
          "pad > k/2 is rejected with a message (got '%s')", err);

    printf("time: %.2f s\n", movl_now() - t0);
    movl_device_close(&dev);
    return test_finish();
}
