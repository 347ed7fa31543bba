#include "harness.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/ref/conv_ref.h"
#include "ops/ref/ops_ref.h"

void conv_row_desc(const conv_row *c, movl_conv_desc *d)
{
    if (c->pad == SAME)
        movl_conv_desc_init_same(d, c->n, c->cin, c->h, c->w, c->cout, c->k, c->stride, c->groups);
    else
        movl_conv_desc_init(d, c->n, c->cin, c->h, c->w, c->cout, c->k, c->stride, c->pad, c->groups);
}

double conv_row_macs(const conv_row *c)
{
    movl_conv_desc d;
    conv_row_desc(c, &d);
    return movl_conv_macs(&d);
}

double conv_row_out(const conv_row *c)
{
    movl_conv_desc d;
    conv_row_desc(c, &d);
    return (double)d.n * d.cout * d.oh * d.ow;
}

double pool_row_out(const pool_row *c)
{
    movl_pool_desc d;
    movl_pool_desc_init(&d, c->n, c->c, c->h, c->w, c->k, c->stride, c->pad);
    return (double)d.n * d.c * d.oh * d.ow;
}

const char *act_name(movl_act a)
{
    return a == MOVL_ACT_RELU ? "relu" : a == MOVL_ACT_RELU6 ? "relu6" : "none";
}

static void *alloc_or_die(size_t bytes)
{
    void *p = malloc(bytes + 1);
    if (!p) {
        fprintf(stderr, "out of host memory (%zu bytes)\n", bytes);
        exit(1);
    }
    return p;
}

double *to_double_new(const float *a, size_t n)
{
    double *d = alloc_or_die(n * sizeof *d);
    movl_ref_to_double(a, d, n);
    return d;
}

float *to_float_new(const double *a, size_t n)
{
    float *f = alloc_or_die(n * sizeof *f);
    movl_ref_to_float(a, f, n);
    return f;
}

float *random_floats(size_t n, float lo, float hi)
{
    float *a = alloc_or_die(n * sizeof *a);
    test_fill_uniform(a, n, lo, hi);
    return a;
}

test_guarded upload_new(movl_device *dev, const float *data, size_t n)
{
    test_guarded g = test_guarded_alloc(dev, n);
    test_guarded_upload(dev, &g, data);
    return g;
}

float *check_output(op_run *r, test_guarded *g, const double *ref, double limit, const char *what)
{
    float *got = test_guarded_read(r->dev, g), *want = to_float_new(ref, g->n);
    double nmse = test_nmse(want, got, g->n);
    if (nmse > r->worst_nmse)
        r->worst_nmse = nmse;
    CHECK(nmse <= limit, "%s: %s NMSE %.3g against %s (expected <= %.3g)", r->label, what, nmse, r->op->ref_name, limit);
    CHECK(test_guard_ok(r->dev, g), "%s: %s: wrote past the output (canary changed)", r->label, what);
    free(want);
    return got;
}

float *check_against_ref(op_run *r, test_guarded *g, const double *ref, const char *what)
{
    return check_output(r, g, ref, r->op->nmse, what);
}

void check_canaries(op_run *r, test_guarded *const *g, int n, const char *what)
{
    int bad = 0;
    for (int i = 0; i < n; i++)
        if (g[i]->buf && !test_guard_ok(r->dev, g[i]))
            bad++;
    CHECK(bad == 0, "%s: %s: %d buffer canaries changed", r->label, what, bad);
}

void check_fd(op_run *r, const fd_probe *p)
{
    double worst[FD_MAX_GRADS] = {0};
    int checked = 0;
    for (int t = 0; t < p->tries && checked < p->points; t++) {
        size_t i = (size_t)test_uniform(0, (float)p->n) % p->n;
        if (p->skip && p->skip(p->ctx, i))
            continue;
        double keep = p->v[i];
        p->v[i] = keep + p->h;
        double lp = p->loss(p->ctx, i);
        p->v[i] = keep - p->h;
        double lm = p->loss(p->ctx, i);
        p->v[i] = keep;
        double fd = (lp - lm) / (2 * p->h);
        for (int g = 0; g < FD_MAX_GRADS; g++)
            if (p->grad[g])
                worst[g] = fmax(worst[g], fabs(fd - p->grad[g][i]) / fmax(fabs(fd), p->floor));
        checked++;
    }
    for (int g = 0; g < FD_MAX_GRADS; g++)
        if (p->grad[g])
            CHECK(checked > 0 && worst[g] <= r->op->fd_error,
                  "%s: %s: finite-difference gradient error %.3g (expected <= %.3g, %d points)", r->label,
                  p->grad_name[g], worst[g], r->op->fd_error, checked);
}

void time_launch(op_run *r, op_launch launch, void *ctx, const char *what)
{
    char err[MOVL_ERRLEN];
    if (launch(ctx, err) != MOVL_OK || clFinish(r->dev->queue) != CL_SUCCESS) {
        printf("perf %s %s: launch failed: %s\n", r->label, what, err);
        return;
    }
    int calls = 0;
    double t0 = movl_now(), t = 0;
    while (calls < 3 || t < 0.2) {
        if (launch(ctx, err) != MOVL_OK)
            break;
        clFinish(r->dev->queue);
        calls++;
        t = movl_now() - t0;
    }
    double per = t / (calls ? calls : 1);
    printf("perf %-60s %-10s %9.3f ms %8.2f GFLOP/s\n", r->label, what, per * 1e3,
           r->op->flops(r->row) / per * 1e-9);
}
