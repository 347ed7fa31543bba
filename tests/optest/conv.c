/* Conv forward and backward-to-input cases: each on both kernel variants
 * (MOVL_CONV_VARIANT=cpu|gpu), canaries around every buffer (workspace
 * included), the backward run twice for bitwise determinism, chunked
 * workspaces, and the refused descriptors. All conv calls go through
 * conv_adapter.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conv_adapter.h"
#include "harness.h"
#include "ops/ref/conv_ref.h"

#define CHUNK_LIMIT "6000" /* MOVL_CONV_PREP_LIMIT of CHUNKED cases: about two images of the prepared input */

static const char *const variants[] = {"cpu", "gpu"};

typedef struct conv_data {
    movl_device *dev;
    const conv_row *c;
    movl_conv_desc d;
    size_t nx, nw, ny, ws_bytes;
    float *x, *w, *b, *dy;
    double *xd, *wd, *bd, *dyd;
    test_guarded gx, gw, gb, gdy, gy, gdx, gws;
} conv_data;

/* The case's data, shared by both variants; on the device only what the
 * forward (x, w, bias -> y) or the backward (w, dy -> dx) uses. */
static void conv_setup(op_run *r, const conv_row *c, int backward, conv_data *s)
{
    memset(s, 0, sizeof *s);
    s->dev = r->dev;
    s->c = c;
    conv_row_desc(c, &s->d);
    const movl_conv_desc *d = &s->d;
    s->nx = (size_t)d->n * d->cin * d->h * d->w;
    s->ny = (size_t)d->n * d->cout * d->oh * d->ow;
    s->nw = (size_t)d->cout * (d->cin / d->groups) * d->k * d->k;
    s->x = random_floats(s->nx, -1, 1);
    s->w = random_floats(s->nw, -1, 1);
    s->b = random_floats(d->cout, -1, 1);
    s->dy = random_floats(s->ny, -1, 1);
    s->xd = to_double_new(s->x, s->nx);
    s->wd = to_double_new(s->w, s->nw);
    s->bd = to_double_new(s->b, d->cout);
    s->dyd = to_double_new(s->dy, s->ny);
    s->gw = upload_new(r->dev, s->w, s->nw);
    if (backward) {
        s->gdy = upload_new(r->dev, s->dy, s->ny);
        s->gdx = test_guarded_alloc(r->dev, s->nx);
    } else {
        s->gx = upload_new(r->dev, s->x, s->nx);
        s->gb = upload_new(r->dev, s->b, d->cout);
        s->gy = test_guarded_alloc(r->dev, s->ny);
    }
}

/* "op [variant] shape"; variant NULL: both. */
static void conv_label(op_run *r, const conv_data *s, const char *variant)
{
    const conv_row *c = s->c;
    const movl_conv_desc *d = &s->d;
    snprintf(r->label, sizeof r->label, "%s [%s] n=%d cin=%d %dx%d cout=%d k=%d s=%d pad=%s%d,%d groups=%d act=%s bias=%d%s",
             r->op->name, variant ? variant : "cpu,gpu", c->n, c->cin, c->h, c->w, c->cout, c->k, c->stride,
             c->pad == SAME ? "same:" : "", d->pad_t, d->pad_l, c->groups, act_name(c->act), c->bias,
             (c->flags & CHUNKED) ? " chunked" : "");
}

/* One variant: its label, environment, workspace, and NaN-filled outputs. */
static void conv_variant_begin(op_run *r, conv_data *s, const char *variant)
{
    const conv_row *c = s->c;
    const movl_conv_desc *d = &s->d;
    conv_label(r, s, variant);
    setenv("MOVL_CONV_VARIANT", variant, 1);
    unsetenv("MOVL_CONV_PREP_LIMIT");
    size_t whole = conv_case_workspace_bytes(r->dev, d);
    if (c->flags & CHUNKED)
        setenv("MOVL_CONV_PREP_LIMIT", CHUNK_LIMIT, 1);
    s->ws_bytes = conv_case_workspace_bytes(r->dev, d);
    if (c->flags & CHUNKED)
        CHECK(s->ws_bytes < whole, "%s: a " CHUNK_LIMIT "-byte limit should split the batch (workspace %zu, whole batch %zu)",
              r->label, s->ws_bytes, whole);
    if (s->ws_bytes)
        s->gws = test_guarded_alloc(r->dev, (s->ws_bytes + sizeof(float) - 1) / sizeof(float));
    test_guarded_upload(r->dev, s->gy.buf ? &s->gy : &s->gdx, NULL);
}

static void conv_variant_end(conv_data *s)
{
    test_guarded_free(&s->gws);
    unsetenv("MOVL_CONV_VARIANT");
    unsetenv("MOVL_CONV_PREP_LIMIT");
}

static void conv_teardown(conv_data *s)
{
    void *mem[] = {s->x, s->w, s->b, s->dy, s->xd, s->wd, s->bd, s->dyd};
    for (size_t i = 0; i < sizeof mem / sizeof mem[0]; i++)
        free(mem[i]);
    test_guarded *g[] = {&s->gx, &s->gw, &s->gb, &s->gdy, &s->gy, &s->gdx};
    for (size_t i = 0; i < sizeof g / sizeof g[0]; i++)
        test_guarded_free(g[i]);
}

static void check_conv_canaries(op_run *r, conv_data *s)
{
    if (s->gws.buf)
        CHECK(test_guard_ok(r->dev, &s->gws), "%s: wrote past the workspace of %zu bytes", r->label, s->ws_bytes);
    test_guarded *in[] = {&s->gx, &s->gw, &s->gb, &s->gdy};
    check_canaries(r, in, 4, "input buffers");
}

static int launch_forward(void *ctx, char *err)
{
    conv_data *s = ctx;
    return conv_case_run_forward(s->dev, &s->d, s->gx.buf, s->gw.buf, s->c->bias ? s->gb.buf : NULL, s->c->act,
                                 s->gy.buf, s->gws.buf, err);
}

static int launch_backward(void *ctx, char *err)
{
    conv_data *s = ctx;
    return conv_case_run_backward(s->dev, &s->d, s->gw.buf, s->gdy.buf, s->gdx.buf, s->gws.buf, err);
}

/* Padding arithmetic of the descriptors; bad descriptors refused with a message. */
static void conv_forward_once(op_run *r)
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

    char err[MOVL_ERRLEN] = "";
    movl_conv_desc_init(&d, 1, 6, 8, 8, 4, 3, 1, 1, 4); /* 6 channels in 4 groups */
    int rc = conv_case_run_forward(r->dev, &d, NULL, NULL, NULL, MOVL_ACT_NONE, NULL, NULL, err);
    CHECK(rc == MOVL_ERR_RUN && strstr(err, "groups"), "groups not dividing channels: rc %d, '%s'", rc, err);
    movl_conv_desc_init(&d, 1, 4, 8, 8, 4, 3, 1, 1, 1);
    err[0] = 0;
    rc = conv_case_run_forward(r->dev, &d, NULL, NULL, NULL, (movl_act)7, NULL, NULL, err);
    CHECK(rc == MOVL_ERR_RUN && strstr(err, "activation"), "unknown activation: rc %d, '%s'", rc, err);
}

/* A short (missing) workspace is refused with a message. */
static void conv_backward_once(op_run *r)
{
    char err[MOVL_ERRLEN] = "";
    movl_conv_desc d;
    movl_conv_desc_init(&d, 1, 4, 8, 8, 4, 3, 1, 1, 1);
    size_t need = conv_case_workspace_bytes(r->dev, &d);
    CHECK(need > 0, "a padded 3x3 conv needs a workspace");
    int rc = conv_case_run_backward(r->dev, &d, NULL, NULL, NULL, NULL, err);
    CHECK(rc == MOVL_ERR_RUN && strstr(err, "workspace"), "missing workspace: rc %d, '%s'", rc, err);
    err[0] = 0;
    rc = conv_case_run_backward_batch(r->dev, &d, 2, NULL, NULL, NULL, NULL, err);
    CHECK(rc == MOVL_ERR_RUN && strstr(err, "batch"), "batch above the plan's: rc %d, '%s'", rc, err);
}

void run_conv_forward(op_run *r, const void *row)
{
    if (!row) {
        conv_forward_once(r);
        return;
    }
    const conv_row *c = row;
    conv_data s;
    conv_setup(r, c, 0, &s);
    double *yref = NULL;
    if (r->eval) {
        yref = malloc(s.ny * sizeof *yref + 1);
        r->op->ref.conv_forward(&s.d, s.xd, s.wd, c->bias ? s.bd : NULL, c->act, yref);
    }
    for (int v = 0; v < 2; v++) {
        char err[MOVL_ERRLEN] = "";
        conv_variant_begin(r, &s, variants[v]);
        if (r->perf)
            time_launch(r, launch_forward, &s, "forward");
        if (r->eval) {
            int rc = launch_forward(&s, err);
            CHECK(rc == MOVL_OK, "%s: forward failed: %s", r->label, err);
            free(check_against_ref(r, &s.gy, yref, "y"));
            check_conv_canaries(r, &s);
        }
        conv_variant_end(&s);
    }
    free(yref);
    conv_teardown(&s);
}

/* L = sum(dy * conv(x)) in double, whose gradient w.r.t. x is backward(dy);
 * only over the image of x[i] (images are independent). */
typedef struct conv_loss {
    conv_data *s;
    double *y;
} conv_loss;

static double conv_loss_of(void *ctx, size_t i)
{
    conv_loss *l = ctx;
    movl_conv_desc one = l->s->d;
    one.n = 1;
    size_t img = i / ((size_t)one.cin * one.h * one.w), ny = (size_t)one.cout * one.oh * one.ow;
    movl_ref_conv_forward(&one, l->s->xd + img * one.cin * one.h * one.w, l->s->wd, NULL, MOVL_ACT_NONE, l->y);
    double sum = 0;
    for (size_t o = 0; o < ny; o++)
        sum += l->s->dyd[img * ny + o] * l->y[o];
    return sum;
}

void run_conv_backward_input(op_run *r, const void *row)
{
    if (!row) {
        conv_backward_once(r);
        return;
    }
    const conv_row *c = row;
    int fd = r->grad && (c->flags & FD);
    conv_data s;
    conv_setup(r, c, 1, &s);
    double *dxref = NULL;
    if (r->eval) {
        dxref = malloc(s.nx * sizeof *dxref + 1);
        r->op->ref.conv_backward_input(&s.d, s.wd, s.dyd, dxref);
    }
    float *dx[2] = {NULL, NULL};
    for (int v = 0; v < 2; v++) {
        char err[MOVL_ERRLEN] = "";
        conv_variant_begin(r, &s, variants[v]);
        if (r->perf)
            time_launch(r, launch_backward, &s, "backward");
        if (r->eval || fd) {
            int rc = launch_backward(&s, err);
            CHECK(rc == MOVL_OK, "%s: backward failed: %s", r->label, err);
            dx[v] = test_guarded_read(r->dev, &s.gdx);
        }
        if (r->eval) {
            free(check_against_ref(r, &s.gdx, dxref, "dx"));
            /* again into a NaN-filled dx: bitwise identical (no atomics) */
            test_guarded_upload(r->dev, &s.gdx, NULL);
            int rc = launch_backward(&s, err);
            float *dx2 = test_guarded_read(r->dev, &s.gdx);
            CHECK(rc == MOVL_OK && !memcmp(dx[v], dx2, s.nx * sizeof *dx2), "%s: backward is not deterministic",
                  r->label);
            free(dx2);
            check_conv_canaries(r, &s);
        }
        conv_variant_end(&s);
    }
    if (fd) {
        double scale = 0;
        for (int v = 0; v < 2; v++)
            for (size_t i = 0; i < s.nx; i++)
                scale = fmax(scale, fabs(dx[v][i]));
        conv_loss l = {&s, malloc((size_t)s.d.cout * s.d.oh * s.d.ow * sizeof(double) + 1)};
        /* L is linear in x: in double the differences agree closely */
        fd_probe p = {conv_loss_of, &l, s.xd, s.nx, {dx[0], dx[1]}, {"dx [cpu]", "dx [gpu]"},
                      1e-3, 1e-2 * scale + 1e-30, 6, 6, NULL};
        conv_label(r, &s, NULL);
        check_fd(r, &p);
        free(l.y);
    }
    free(dx[0]);
    free(dx[1]);
    free(dxref);
    conv_teardown(&s);
}
