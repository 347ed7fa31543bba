/* Linear layer (forward, backward_input, backward_params) against the
 * double-precision references of ops_ref.c on both GEMM backends (own kernel
 * on every shape, CLBlast on small shapes: its first call compiles for
 * seconds on PoCL), bias/db present and absent, determinism, the backend
 * choice ($MOVL_GEMM, movl_set_gemm_backend), and finite-difference checks of
 * dx, dW and db. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "ops/linear.h"
#include "ops/ops.h"
#include "ops/ref/ops_ref.h"
#include "test_util.h"

static movl_device dev;
static char err[MOVL_ERRLEN];
static double worst_nmse; /* over every comparison, reported at the end */

static const char *backend_name(movl_gemm_backend b) { return b == MOVL_GEMM_CLBLAST ? "clblast" : "own"; }

static double *to_double(const float *a, size_t n)
{
    double *d = malloc(n * sizeof *d + 1);
    movl_ref_to_double(a, d, n);
    return d;
}

/* GEMM results differ from the double reference only by fp32 rounding of the
 * sums (NMSE ~1e-14); 5e-4 is the documented bound for GEMM-like ops. */
static void compare(test_guarded *g, const double *ref, const char *what)
{
    float *got = test_guarded_read(&dev, g), *want = malloc(g->n * sizeof *want + 1);
    movl_ref_to_float(ref, want, g->n);
    double nmse = test_nmse(want, got, g->n);
    if (nmse > worst_nmse)
        worst_nmse = nmse;
    CHECK(nmse <= 5e-4, "%s: NMSE %.3g > 5e-4", what, nmse);
    CHECK(test_guard_ok(&dev, g), "%s: canary after the output overwritten", what);
    free(got);
    free(want);
}

/* L = sum wy * (x W^T + bias), in double. */
static double linear_loss(int batch, int in, int out, const double *x, const double *W, const double *bias,
                          const double *wy, double *y)
{
    movl_ref_linear_forward(batch, in, out, x, W, bias, y);
    double s = 0;
    for (size_t i = 0; i < (size_t)batch * out; i++)
        s += wy[i] * y[i];
    return s;
}

/* Central differences of L w.r.t. random elements of v (x, W or bias),
 * against the device gradient grad. L is linear in each, so the difference is
 * exact up to double rounding. */
static void fd_check(int batch, int in, int out, double *x, double *W, double *bias, const double *wy, double *v,
                     size_t nv, const float *grad, const char *what)
{
    double *y = malloc((size_t)batch * out * sizeof *y + 1), worst = 0;
    for (int t = 0; t < 16; t++) {
        size_t i = (size_t)test_uniform(0, (float)nv) % nv;
        double keep = v[i], h = 1e-2;
        v[i] = keep + h;
        double lp = linear_loss(batch, in, out, x, W, bias, wy, y);
        v[i] = keep - h;
        double lm = linear_loss(batch, in, out, x, W, bias, wy, y);
        v[i] = keep;
        double fd = (lp - lm) / (2 * h);
        worst = fmax(worst, fabs(fd - grad[i]) / fmax(1.0, fabs(fd)));
    }
    CHECK(worst <= 1e-5, "%s: finite-difference gradient error %.3g > 1e-5", what, worst);
    free(y);
}

static void test_shape(movl_gemm_backend backend, int batch, int in, int out, int with_fd)
{
    char what[160];
    movl_set_gemm_backend(backend);
    size_t nx = (size_t)batch * in, nw = (size_t)out * in, ny = (size_t)batch * out;
    float *x = malloc(nx * sizeof *x + 1), *W = malloc(nw * sizeof *W + 1), *bias = malloc(out * sizeof *bias + 1),
          *dy = malloc(ny * sizeof *dy + 1);
    test_fill_uniform(x, nx, -1, 1);
    test_fill_uniform(W, nw, -0.1f, 0.1f);
    test_fill_uniform(bias, out, -1, 1);
    test_fill_uniform(dy, ny, -1, 1);
    double *xd = to_double(x, nx), *Wd = to_double(W, nw), *bd = to_double(bias, out), *dyd = to_double(dy, ny);
    double *yd = malloc(ny * sizeof *yd + 1), *dxd = malloc(nx * sizeof *dxd + 1), *dWd = malloc(nw * sizeof *dWd + 1),
           *dbd = malloc(out * sizeof *dbd + 1);

    test_guarded gx = test_guarded_alloc(&dev, nx), gW = test_guarded_alloc(&dev, nw),
                 gb = test_guarded_alloc(&dev, out), gdy = test_guarded_alloc(&dev, ny),
                 gy = test_guarded_alloc(&dev, ny), gdx = test_guarded_alloc(&dev, nx),
                 gdW = test_guarded_alloc(&dev, nw), gdb = test_guarded_alloc(&dev, out);
    test_guarded_upload(&dev, &gx, x);
    test_guarded_upload(&dev, &gW, W);
    test_guarded_upload(&dev, &gb, bias);
    test_guarded_upload(&dev, &gdy, dy);

    /* forward with bias, then without (into a NaN-filled output again) */
    snprintf(what, sizeof what, "linear_forward %s %dx%dx%d", backend_name(backend), batch, in, out);
    CHECK(movl_linear_forward(&dev, batch, in, out, gx.buf, gW.buf, gb.buf, gy.buf, err) == MOVL_OK, "%s: %s", what,
          err);
    movl_ref_linear_forward(batch, in, out, xd, Wd, bd, yd);
    compare(&gy, yd, what);
    float *y1 = test_guarded_read(&dev, &gy);
    test_guarded_upload(&dev, &gy, NULL);
    CHECK(movl_linear_forward(&dev, batch, in, out, gx.buf, gW.buf, gb.buf, gy.buf, err) == MOVL_OK, "%s: %s", what,
          err);
    float *y2 = test_guarded_read(&dev, &gy);
    CHECK(!memcmp(y1, y2, ny * sizeof *y1), "%s: a second run gives different bits", what);
    test_guarded_upload(&dev, &gy, NULL);
    snprintf(what, sizeof what, "linear_forward no bias %s %dx%dx%d", backend_name(backend), batch, in, out);
    CHECK(movl_linear_forward(&dev, batch, in, out, gx.buf, gW.buf, NULL, gy.buf, err) == MOVL_OK, "%s: %s", what,
          err);
    movl_ref_linear_forward(batch, in, out, xd, Wd, NULL, yd);
    compare(&gy, yd, what);

    snprintf(what, sizeof what, "linear_backward_input %s %dx%dx%d", backend_name(backend), batch, in, out);
    CHECK(movl_linear_backward_input(&dev, batch, in, out, gW.buf, gdy.buf, gdx.buf, err) == MOVL_OK, "%s: %s", what,
          err);
    movl_ref_linear_backward_input(batch, in, out, Wd, dyd, dxd);
    compare(&gdx, dxd, what);

    snprintf(what, sizeof what, "linear_backward_params %s %dx%dx%d", backend_name(backend), batch, in, out);
    CHECK(movl_linear_backward_params(&dev, batch, in, out, gx.buf, gdy.buf, gdW.buf, gdb.buf, err) == MOVL_OK,
          "%s: %s", what, err);
    movl_ref_linear_backward_params(batch, in, out, xd, dyd, dWd, dbd);
    compare(&gdW, dWd, what);
    compare(&gdb, dbd, what);
    test_guarded_upload(&dev, &gdW, NULL);
    test_guarded_upload(&dev, &gdb, NULL);
    snprintf(what, sizeof what, "linear_backward_params no db %s %dx%dx%d", backend_name(backend), batch, in, out);
    CHECK(movl_linear_backward_params(&dev, batch, in, out, gx.buf, gdy.buf, gdW.buf, NULL, err) == MOVL_OK, "%s: %s",
          what, err);
    compare(&gdW, dWd, what);
    float *db_untouched = test_guarded_read(&dev, &gdb);
    CHECK(isnan(db_untouched[0]), "%s: db written although NULL was passed", what);

    CHECK(movl_gemm_backend_for(&dev) == backend, "%s: ran on %s, not on the requested backend", what,
          backend_name(movl_gemm_backend_for(&dev)));

    if (with_fd) {
        /* Gradients of L = sum dy * y(x, W, bias): dL/dx, dL/dW, dL/dbias. */
        float *dx = test_guarded_read(&dev, &gdx), *dW = test_guarded_read(&dev, &gdW);
        CHECK(movl_linear_backward_params(&dev, batch, in, out, gx.buf, gdy.buf, gdW.buf, gdb.buf, err) == MOVL_OK,
              "%s", err);
        float *db = test_guarded_read(&dev, &gdb);
        snprintf(what, sizeof what, "linear gradients %s %dx%dx%d: dx", backend_name(backend), batch, in, out);
        fd_check(batch, in, out, xd, Wd, bd, dyd, xd, nx, dx, what);
        snprintf(what, sizeof what, "linear gradients %s %dx%dx%d: dW", backend_name(backend), batch, in, out);
        fd_check(batch, in, out, xd, Wd, bd, dyd, Wd, nw, dW, what);
        snprintf(what, sizeof what, "linear gradients %s %dx%dx%d: db", backend_name(backend), batch, in, out);
        fd_check(batch, in, out, xd, Wd, bd, dyd, bd, out, db, what);
        free(dx);
        free(dW);
        free(db);
    }

    test_guarded *all[] = {&gx, &gW, &gb, &gdy, &gy, &gdx, &gdW, &gdb};
    for (int i = 0; i < 8; i++)
        test_guarded_free(all[i]);
    void *mem[] = {x, W, bias, dy, xd, Wd, bd, dyd, yd, dxd, dWd, dbd, y1, y2, db_untouched};
    for (int i = 0; i < 15; i++)
        free(mem[i]);
}

/* $MOVL_GEMM applies when the choice is AUTO; an explicit choice wins. */
static void test_backend_choice(void)
{
    if (getenv("MOVL_GEMM")) {
        printf("MOVL_GEMM is set by the caller: environment override not tested\n");
        return;
    }
    movl_gemm_backend flip = dev.info.is_cpu ? MOVL_GEMM_CLBLAST : MOVL_GEMM_OWN;
    setenv("MOVL_GEMM", backend_name(flip), 1); /* read once, at the first query below */
    movl_set_gemm_backend(MOVL_GEMM_AUTO);
    CHECK(movl_gemm_backend_for(&dev) == flip, "MOVL_GEMM=%s does not override the automatic choice",
          backend_name(flip));
    movl_set_gemm_backend(MOVL_GEMM_OWN);
    CHECK(movl_gemm_backend_for(&dev) == MOVL_GEMM_OWN, "movl_set_gemm_backend(OWN) does not win over MOVL_GEMM");
    movl_set_gemm_backend(MOVL_GEMM_CLBLAST);
    CHECK(movl_gemm_backend_for(&dev) == MOVL_GEMM_CLBLAST,
          "movl_set_gemm_backend(CLBLAST) does not win over MOVL_GEMM");
}

int main(void)
{
    test_open_device(&dev);
    test_rng_init(test_seed());
    int small = getenv("MOVL_TEST_SMALL") && atoi(getenv("MOVL_TEST_SMALL"));
    double t0 = movl_now();
    test_backend_choice();

    /* Own kernel: every batch x in x out combination (tile edges at 4). */
    static const int batches[] = {1, 5, 32}, ins[] = {31, 512, 1280}, outs[] = {1, 2, 33, 1000};
    int nb = small ? 2 : 3, ni = small ? 1 : 3, no = small ? 3 : 4;
    for (int b = 0; b < nb; b++)
        for (int i = 0; i < ni; i++)
            for (int o = 0; o < no; o++)
                test_shape(MOVL_GEMM_OWN, batches[b], ins[i], outs[o], ins[i] <= 512 && outs[o] <= 33);
    /* Shorter than one vector along k, and 1 x 1. */
    test_shape(MOVL_GEMM_OWN, 3, 5, 7, 1);
    test_shape(MOVL_GEMM_OWN, 2, 1, 1, 1);
    printf("own GEMM: %.2f s\n", movl_now() - t0);

    /* CLBlast: small shapes (its compile dominates), covering the 1-row and
     * 1-column edges and, outside small mode, its indirect (large) path. */
    static const int clblast_shapes[][3] = {{1, 31, 2}, {5, 31, 33}, {32, 512, 1}, {32, 1280, 1000}};
    int nc = small ? 2 : 4;
    for (int s = 0; s < nc; s++) {
        double t = movl_now();
        test_shape(MOVL_GEMM_CLBLAST, clblast_shapes[s][0], clblast_shapes[s][1], clblast_shapes[s][2], s < 2);
        printf("CLBlast %dx%dx%d: %.2f s\n", clblast_shapes[s][0], clblast_shapes[s][1], clblast_shapes[s][2],
               movl_now() - t);
    }

    CHECK(movl_linear_forward(&dev, 0, 4, 4, NULL, NULL, NULL, NULL, err) == MOVL_ERR_RUN && strstr(err, "batch=0"),
          "an empty batch is rejected with a message (got '%s')", err);
    printf("worst NMSE: %.3g\ntime: %.2f s\n", worst_nmse, movl_now() - t0);
    movl_device_close(&dev);
    return test_finish();
}
