/* Driver self-test: small ops on the device against the C references. */
#include "ops/selftest.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "ops/ref/conv_ref.h"
#include "ops/ops.h"
#include "ops/ref/ops_ref.h"

/* fp32 results of these small sums agree with the float64 references to
 * ~1e-6 relative; a broken kernel or driver is off by orders more. */
#define SELFTEST_TOL 1e-4

typedef struct check {
    const char *name;
    double error; /* max |device - reference| / max |reference| */
} check;

typedef struct st_bufs {
    cl_mem m[8];
    int n;
} st_bufs;

static void fill(double *v, size_t n, uint32_t seed)
{
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        v[i] = (double)(seed >> 8) / 16777216.0 * 2.0 - 1.0;
    }
}

static cl_mem upload(movl_device *dev, st_bufs *b, const double *v, size_t n, char *err)
{
    float *f = malloc(n * sizeof *f);
    cl_mem m = f ? movl_buffer(dev, n * sizeof *f, err) : NULL;
    if (m) {
        b->m[b->n++] = m;
        movl_ref_to_float(v, f, n);
        if (movl_upload(dev, m, f, n * sizeof *f, err))
            m = NULL;
    }
    free(f);
    return m;
}

static cl_mem scratch(movl_device *dev, st_bufs *b, size_t bytes, char *err)
{
    cl_mem m = movl_buffer(dev, bytes ? bytes : 4, err);
    if (m)
        b->m[b->n++] = m;
    return m;
}

/* The test-only "wrong kernel": spoils one element when MOVL_SELFTEST_FAULT names this op. */
static int maybe_spoil(movl_device *dev, const char *op, cl_mem y, char *err)
{
    const char *fault = getenv("MOVL_SELFTEST_FAULT");
    if (!fault || strcmp(fault, op))
        return MOVL_OK;
    cl_kernel k = movl_kernel(dev, "selftest", "", "spoil_one", err);
    int i = 1;
    float delta = 0.5f;
    size_t g = 1;
    if (!k || movl_set_args(k, err, MOVL_ARG(y), MOVL_ARG(i), MOVL_ARG(delta), MOVL_ARGS_END) ||
        movl_launch(dev, k, 1, &g, NULL, err))
        return MOVL_ERR_RUN;
    return MOVL_OK;
}

/* Downloads n floats of y and records their error against ref. */
static int compare(movl_device *dev, cl_mem y, const double *ref, size_t n, check *c, char *err)
{
    float *f = malloc(n * sizeof *f);
    if (!f || movl_download(dev, y, f, n * sizeof *f, err)) {
        free(f);
        return MOVL_ERR_RUN;
    }
    double diff = 0, scale = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)f[i] - ref[i]);
        diff = d > diff || isnan(d) ? d : diff;
        scale = fmax(scale, fabs(ref[i]));
    }
    free(f);
    c->error = diff / (scale > 0 ? scale : 1);
    return MOVL_OK;
}

/* A 3x3 conv (stride 2, so the backward gather has gaps) forward and backward to the input. */
static int check_conv(movl_device *dev, check *fwd, check *bwd, char *err)
{
    movl_conv_desc d;
    movl_conv_desc_init(&d, 2, 8, 11, 11, 16, 3, 2, 1, 1);
    size_t nx = (size_t)d.n * d.cin * d.h * d.w, nw = (size_t)d.cout * d.cin * 9, ny = (size_t)d.n * d.cout * d.oh * d.ow;
    double *x = malloc(nx * 8), *w = malloc(nw * 8), *b = malloc(d.cout * 8), *y = malloc(ny * 8), *dx = malloc(nx * 8);
    st_bufs bufs = {0};
    movl_conv_plan *plan = NULL;
    int rc = MOVL_ERR_RUN;
    if (!x || !w || !b || !y || !dx)
        goto done;
    fill(x, nx, 1), fill(w, nw, 2), fill(b, d.cout, 3);
    cl_mem X = upload(dev, &bufs, x, nx, err), W = X ? upload(dev, &bufs, w, nw, err) : NULL;
    cl_mem B = W ? upload(dev, &bufs, b, d.cout, err) : NULL, Y = B ? scratch(dev, &bufs, ny * 4, err) : NULL;
    cl_mem DX = Y ? scratch(dev, &bufs, nx * 4, err) : NULL;
    if (!DX || movl_conv_plan_create(dev, &d, NULL, &plan, err) || movl_conv_plan_set_weights(plan, W, err))
        goto done;
    size_t ws = movl_conv_plan_workspace_bytes(plan);
    cl_mem WS = ws ? scratch(dev, &bufs, ws, err) : NULL;
    if (ws && !WS)
        goto done;
    movl_ref_conv_forward(&d, x, w, b, MOVL_ACT_RELU, y);
    if (movl_conv_forward(plan, d.n, X, B, MOVL_ACT_RELU, Y, WS, err) || maybe_spoil(dev, "conv", Y, err) ||
        compare(dev, Y, y, ny, fwd, err))
        goto done;
    /* The same y values serve as the upstream gradient. */
    movl_ref_conv_backward_input(&d, w, y, dx);
    if (movl_conv_backward_input(plan, d.n, Y, DX, WS, err) || maybe_spoil(dev, "conv_grad", DX, err) ||
        compare(dev, DX, dx, nx, bwd, err))
        goto done;
    rc = MOVL_OK;
done:
    movl_conv_plan_free(plan);
    for (int i = 0; i < bufs.n; i++)
        clReleaseMemObject(bufs.m[i]);
    free(x), free(w), free(b), free(y), free(dx);
    return rc;
}

/* GEMM through the linear op (CLBlast on GPUs), then softmax cross-entropy on its output. */
static int check_gemm_softmax(movl_device *dev, check *gemm, check *soft, char *err)
{
    enum { NB = 8, IN = 96, OUT = 10 };
    double x[NB * IN], w[OUT * IN], b[OUT], z[NB * OUT], loss[NB], dz[NB * OUT];
    int labels[NB];
    for (int i = 0; i < NB; i++)
        labels[i] = (i * 3) % OUT;
    fill(x, NB * IN, 4), fill(w, OUT * IN, 5), fill(b, OUT, 6);
    st_bufs bufs = {0};
    int rc = MOVL_ERR_RUN;
    cl_mem X = upload(dev, &bufs, x, NB * IN, err), W = X ? upload(dev, &bufs, w, OUT * IN, err) : NULL;
    cl_mem B = W ? upload(dev, &bufs, b, OUT, err) : NULL, Z = B ? scratch(dev, &bufs, NB * OUT * 4, err) : NULL;
    cl_mem L = Z ? scratch(dev, &bufs, sizeof labels, err) : NULL, LS = L ? scratch(dev, &bufs, NB * 4, err) : NULL;
    cl_mem DZ = LS ? scratch(dev, &bufs, NB * OUT * 4, err) : NULL;
    if (!DZ || movl_upload(dev, L, labels, sizeof labels, err))
        goto done;
    movl_ref_linear_forward(NB, IN, OUT, x, w, b, z);
    if (movl_linear_forward(dev, NB, IN, OUT, X, W, B, Z, err) || maybe_spoil(dev, "gemm", Z, err) ||
        compare(dev, Z, z, NB * OUT, gemm, err))
        goto done;
    movl_ref_softmax_xent(NB, OUT, z, labels, loss, dz);
    check l = {"loss", 0};
    if (movl_softmax_xent(dev, NB, OUT, Z, L, LS, DZ, err) || maybe_spoil(dev, "softmax", DZ, err) ||
        compare(dev, DZ, dz, NB * OUT, soft, err) || compare(dev, LS, loss, NB, &l, err))
        goto done;
    soft->error = fmax(soft->error, l.error);
    rc = MOVL_OK;
done:
    for (int i = 0; i < bufs.n; i++)
        clReleaseMemObject(bufs.m[i]);
    return rc;
}

int movl_device_self_test(movl_device *dev, char *summary, size_t summary_len, char *err)
{
    check c[4] = {{"conv forward", 0}, {"conv backward to the input", 0}, {"GEMM", 0}, {"softmax cross-entropy", 0}};
    char why[MOVL_ERRLEN] = "";
    if (check_conv(dev, &c[0], &c[1], why) || check_gemm_softmax(dev, &c[2], &c[3], why)) {
        movl_set_error(err, "device '%s' (%s, driver %s): self-test could not run: %s", dev->info.name,
                       dev->info.platform_name, dev->info.driver_version, why);
        return MOVL_ERR_RUN;
    }
    double worst = 0;
    for (int i = 0; i < 4; i++) {
        if (!(c[i].error < SELFTEST_TOL)) {
            movl_set_error(err,
                           "device '%s' (%s, driver %s) failed the self-test: %s differs from the C reference "
                           "by %.3g (expected < %.0e); its results cannot be trusted (--no-self-test skips this check)",
                           dev->info.name, dev->info.platform_name, dev->info.driver_version, c[i].name, c[i].error,
                           SELFTEST_TOL);
            return MOVL_ERR_DEVICE;
        }
        worst = fmax(worst, c[i].error);
    }
    if (summary)
        snprintf(summary, summary_len, "conv, conv gradient, GEMM, softmax: max relative error %.1e", worst);
    return MOVL_OK;
}
