/* Elementwise ops (activation forward/backward, residual add) against the
 * double-precision references of ops_ref.c, in place and out of place, plus
 * finite-difference checks of every input gradient. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "ops/ops.h"
#include "ops/ref/ops_ref.h"
#include "test_util.h"
#include "../cl/common.h" /* compiled as C it holds only the activation codes */

/* The kernels take the launchers' movl_act values as ACT codes: a drift fails the build. */
_Static_assert(ACT_NONE == MOVL_ACT_NONE && ACT_RELU == MOVL_ACT_RELU && ACT_RELU6 == MOVL_ACT_RELU6,
               "cl/common.h ACT_* must equal movl_act of runtime/ops/desc/op_desc.h");

static movl_device dev;
static char err[MOVL_ERRLEN];

static const char *act_name(movl_act a) { return a == MOVL_ACT_RELU ? "relu" : a == MOVL_ACT_RELU6 ? "relu6" : "none"; }

static float *random_floats(size_t n, float lo, float hi)
{
    float *a = malloc(n * sizeof *a + 1);
    test_fill_uniform(a, n, lo, hi);
    return a;
}

/* The last elements are handled by the kernels' scalar tail: give them one
 * value from every region of relu6 (below 0, between, above 6), whatever the
 * random draw, so both code paths see every case. */
static void plant_tail(float *x, size_t n)
{
    static const float regions[] = {-7.0f, -0.5f, 0.5f, 3.0f, 5.9f, 7.5f, 6.3f};
    const size_t nr = sizeof regions / sizeof regions[0];
    for (size_t j = 0; j < nr && j < n; j++)
        x[n - 1 - j] = regions[nr - 1 - j];
}

static double *to_double(const float *a, size_t n)
{
    double *d = malloc(n * sizeof *d + 1);
    movl_ref_to_double(a, d, n);
    return d;
}

/* Downloads g and compares it with the reference; these ops are exact in
 * fp32 (selects and one correctly rounded add), so the result must match the
 * reference rounded to float bit for bit; NMSE is the documented bound. */
static void expect_equal(test_guarded *g, const double *ref, const char *what)
{
    size_t n = g->n;
    float *got = malloc(n * sizeof *got + 1), *want = malloc(n * sizeof *want + 1);
    test_guarded_download(&dev, g, got);
    movl_ref_to_float(ref, want, n);
    double nmse = test_nmse(want, got, n);
    size_t differ = 0;
    for (size_t i = 0; i < n; i++)
        differ += memcmp(&got[i], &want[i], sizeof(float)) != 0;
    CHECK(nmse <= 1e-7, "%s: NMSE %.3g > 1e-7", what, nmse);
    CHECK(differ == 0, "%s: %zu of %zu elements differ from the reference", what, differ, n);
    CHECK(test_guard_ok(&dev, g), "%s: canary after the output overwritten", what);
    free(got);
    free(want);
}

static void yf_round(double *v) { *v = (double)(float)*v; }

static void run_ok(int rc, const char *what) { CHECK(rc == MOVL_OK, "%s failed: %s", what, err); }

static int near_kink(movl_act act, double v)
{
    if (act == MOVL_ACT_NONE)
        return 0;
    return fabs(v) < 1e-2 || (act == MOVL_ACT_RELU6 && fabs(v - 6) < 1e-2);
}

/* L = sum w * act(x) in double; only x[i] changes between calls, but the
 * whole sum is recomputed to keep the check independent of that knowledge. */
static double loss_act(movl_act act, size_t n, const double *x, const double *w, double *tmp)
{
    movl_ref_act_forward(act, n, x, tmp);
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += w[i] * tmp[i];
    return s;
}

static double loss_add(movl_act act, size_t n, const double *a, const double *b, const double *w, double *tmp)
{
    movl_ref_add_forward(n, a, b, act, tmp);
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += w[i] * tmp[i];
    return s;
}

/* Central differences of L at up to 24 random elements of x (skipping
 * kinks), against the device gradient (float). */
#define FD_H 1e-3
static void fd_check_act(movl_act act, size_t n, const float *xf, const float *wf, const float *grad, const char *what)
{
    double *x = to_double(xf, n), *w = to_double(wf, n), *tmp = malloc(n * sizeof *tmp + 1);
    double worst = 0;
    int checked = 0;
    for (int t = 0; t < 64 && checked < 24; t++) {
        size_t i = (size_t)test_uniform(0, (float)n) % n;
        if (near_kink(act, x[i]))
            continue;
        double keep = x[i];
        x[i] = keep + FD_H;
        double lp = loss_act(act, n, x, w, tmp);
        x[i] = keep - FD_H;
        double lm = loss_act(act, n, x, w, tmp);
        x[i] = keep;
        double fd = (lp - lm) / (2 * FD_H), e = fabs(fd - grad[i]) / fmax(1.0, fabs(fd));
        worst = fmax(worst, e);
        checked++;
    }
    CHECK(checked > 0 && worst <= 1e-6, "%s: finite-difference gradient error %.3g > 1e-6 (%d points)", what, worst,
          checked);
    free(x);
    free(w);
    free(tmp);
}

static void fd_check_add(movl_act act, size_t n, const float *af, const float *bf, const float *wf, const float *grad,
                         const char *what)
{
    double *a = to_double(af, n), *b = to_double(bf, n), *w = to_double(wf, n), *tmp = malloc(n * sizeof *tmp + 1);
    double worst = 0;
    int checked = 0;
    for (int t = 0; t < 64 && checked < 24; t++) {
        size_t i = (size_t)test_uniform(0, (float)n) % n;
        if (near_kink(act, a[i] + b[i]))
            continue;
        /* The gradient w.r.t. a and w.r.t. b is the same tensor. */
        double *v = (t & 1) ? b : a, keep = v[i];
        v[i] = keep + FD_H;
        double lp = loss_add(act, n, a, b, w, tmp);
        v[i] = keep - FD_H;
        double lm = loss_add(act, n, a, b, w, tmp);
        v[i] = keep;
        double fd = (lp - lm) / (2 * FD_H), e = fabs(fd - grad[i]) / fmax(1.0, fabs(fd));
        worst = fmax(worst, e);
        checked++;
    }
    CHECK(checked > 0 && worst <= 1e-6, "%s: finite-difference gradient error %.3g > 1e-6 (%d points)", what, worst,
          checked);
    free(a);
    free(b);
    free(w);
    free(tmp);
}

static void test_act(movl_act act, size_t n)
{
    char what[128];
    float *x = random_floats(n, -8, 8), *dy = random_floats(n, -1, 1);
    plant_tail(x, n);
    double *xd = to_double(x, n), *dyd = to_double(dy, n), *yd = malloc(n * sizeof *yd + 1),
           *dxd = malloc(n * sizeof *dxd + 1);
    movl_ref_act_forward(act, n, xd, yd);
    movl_ref_act_backward(act, n, yd, dyd, dxd);
    test_guarded gx = test_guarded_alloc(&dev, n), gy = test_guarded_alloc(&dev, n), gdy = test_guarded_alloc(&dev, n),
                 gdx = test_guarded_alloc(&dev, n);
    test_guarded_upload(&dev, &gx, x);
    test_guarded_upload(&dev, &gdy, dy);

    snprintf(what, sizeof what, "act_forward %s n=%zu", act_name(act), n);
    run_ok(movl_act_forward(&dev, act, n, gx.buf, gy.buf, err), what);
    expect_equal(&gy, yd, what);

    snprintf(what, sizeof what, "act_backward %s n=%zu", act_name(act), n);
    run_ok(movl_act_backward(&dev, act, n, gy.buf, gdy.buf, gdx.buf, err), what);
    expect_equal(&gdx, dxd, what);
    float *dx = malloc(n * sizeof *dx + 1);
    test_guarded_download(&dev, &gdx, dx);
    snprintf(what, sizeof what, "act gradient %s n=%zu", act_name(act), n);
    fd_check_act(act, n, x, dy, dx, what);

    /* In place: y == x, then dx == dy. */
    snprintf(what, sizeof what, "act_forward in place %s n=%zu", act_name(act), n);
    run_ok(movl_act_forward(&dev, act, n, gx.buf, gx.buf, err), what);
    expect_equal(&gx, yd, what);
    snprintf(what, sizeof what, "act_backward in place %s n=%zu", act_name(act), n);
    run_ok(movl_act_backward(&dev, act, n, gx.buf, gdy.buf, gdy.buf, err), what);
    expect_equal(&gdy, dxd, what);

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

static void test_add(movl_act act, size_t n)
{
    char what[128];
    float *a = random_floats(n, -5, 5), *b = random_floats(n, -4, 4), *w = random_floats(n, -1, 1);
    plant_tail(a, n);
    for (size_t j = 0; j < 7 && j < n; j++)
        b[n - 1 - j] = 0.0f; /* so a + b keeps the planted regions */
    double *ad = to_double(a, n), *bd = to_double(b, n), *wd = to_double(w, n), *yd = malloc(n * sizeof *yd + 1),
           *gd = malloc(n * sizeof *gd + 1);
    movl_ref_add_forward(n, ad, bd, act, yd);
    /* The gradient is taken from the fp32 output the device keeps: a + b just
     * below 6 in double can round to 6.0f, where relu6's slope is 0. */
    for (size_t i = 0; i < n; i++)
        yf_round(&yd[i]);
    movl_ref_act_backward(act, n, yd, wd, gd);
    test_guarded ga = test_guarded_alloc(&dev, n), gb = test_guarded_alloc(&dev, n), gy = test_guarded_alloc(&dev, n),
                 gw = test_guarded_alloc(&dev, n), gg = test_guarded_alloc(&dev, n);
    test_guarded_upload(&dev, &ga, a);
    test_guarded_upload(&dev, &gb, b);
    test_guarded_upload(&dev, &gw, w);

    snprintf(what, sizeof what, "add_forward %s n=%zu", act_name(act), n);
    run_ok(movl_add_forward(&dev, n, ga.buf, gb.buf, act, gy.buf, err), what);
    expect_equal(&gy, yd, what);

    /* The residual add passes act's gradient unchanged to both inputs. */
    snprintf(what, sizeof what, "add gradient %s n=%zu", act_name(act), n);
    run_ok(movl_act_backward(&dev, act, n, gy.buf, gw.buf, gg.buf, err), what);
    expect_equal(&gg, gd, what);
    float *g = malloc(n * sizeof *g + 1);
    test_guarded_download(&dev, &gg, g);
    fd_check_add(act, n, a, b, w, g, what);

    snprintf(what, sizeof what, "add_forward into b %s n=%zu", act_name(act), n);
    run_ok(movl_add_forward(&dev, n, ga.buf, gb.buf, act, gb.buf, err), what);
    expect_equal(&gb, yd, what);
    snprintf(what, sizeof what, "add_forward into a %s n=%zu", act_name(act), n);
    test_guarded_upload(&dev, &gb, b);
    run_ok(movl_add_forward(&dev, n, ga.buf, gb.buf, act, ga.buf, err), what);
    expect_equal(&ga, yd, what);

    test_guarded_free(&ga);
    test_guarded_free(&gb);
    test_guarded_free(&gy);
    test_guarded_free(&gw);
    test_guarded_free(&gg);
    free(a);
    free(b);
    free(w);
    free(g);
    free(ad);
    free(bd);
    free(wd);
    free(yd);
    free(gd);
}

int main(void)
{
    test_open_device(&dev);
    test_rng_init(test_seed());
    int small = getenv("MOVL_TEST_SMALL") && atoi(getenv("MOVL_TEST_SMALL"));
    /* 1 element, a prime, 31 x 7 x 7, 5 x 33 x 13 x 17, and a large odd size. */
    const size_t sizes[] = {1, 7, 31 * 49, 5 * 33 * 13 * 17, (1u << 20) + 3};
    int nsizes = small ? 3 : 5;
    const movl_act acts[] = {MOVL_ACT_NONE, MOVL_ACT_RELU, MOVL_ACT_RELU6};
    double t0 = movl_now();
    for (int a = 0; a < 3; a++)
        for (int s = 0; s < nsizes; s++) {
            test_act(acts[a], sizes[s]);
            test_add(acts[a], sizes[s]);
        }
    /* Bad input is reported, not launched. */
    CHECK(movl_act_forward(&dev, (movl_act)7, 4, NULL, NULL, err) == MOVL_ERR_RUN && strstr(err, "activation"),
          "an unknown activation is rejected with a message (got '%s')", err);
    printf("time: %.2f s\n", movl_now() - t0);
    movl_device_close(&dev);
    return test_finish();
}
