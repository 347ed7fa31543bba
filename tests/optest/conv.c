/* Conv forward, backward-to-input and weight-gradient cases: each on both
 * kernel variants (MOVL_CONV_VARIANT=cpu|gpu, and the CPU one with images in
 * its vector lanes), canaries around every buffer
 * (workspace included), the backward ones run twice for bitwise determinism,
 * chunked workspaces, and the refused descriptors. All conv calls go through
 * conv_adapter.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conv_adapter.h"
#include "device/launch_shape.h"
#include "harness.h"
#include "ops/ref/conv_ref.h"

#define CHUNK_LIMIT "6000" /* MOVL_CONV_PREP_LIMIT of CHUNKED cases: about two images of the prepared input */

/* cpu-images: the CPU kernel with images in its lanes forced on every shape
 * (MOVL_CONV_LANES=images) and the vector width the device would not get
 * (MOVL_CONV_VW: 8 where it prefers 16, else 16), so both widths run on every
 * machine; it must equal "cpu" bit for bit. The weight gradient runs it too
 * (the other width; checked against the reference like the others).
 * winograd: F(2x2, 3x3) forced (MOVL_CONV_WINOGRAD=on, CPU kernel inside) on
 * the shapes it serves (3x3, stride 1, one group), forward and backward; the
 * others run with it off, so "cpu" is always the direct kernel. */
static const char *const variants[] = {"cpu", "gpu", "cpu-images", "winograd"};
#define FWD_BWD_VARIANTS 4
#define WGRAD_VARIANTS 3 /* the weight gradient has no Winograd path */
#define CPU_IMAGES 2
#define WINOGRAD 3

static int winograd_serves(const movl_conv_desc *d) { return d->k == 3 && d->stride == 1 && d->groups == 1; }

/* Variant v runs on case d (winograd: only where it applies). */
static int variant_runs(int v, const movl_conv_desc *d) { return v != WINOGRAD || winograd_serves(d); }

typedef struct conv_data {
    movl_device *dev;
    const conv_row *c;
    movl_conv_desc d;
    size_t nx, nw, ny, ws_bytes;
    float *x, *w, *b, *dy;
    double *xd, *wd, *bd, *dyd;
    int wgrad; /* the weight gradient's case: its plans have weight_grads set */
    test_guarded gx, gw, gb, gdy, gy, gdx, gdw, gdb, gws;
} conv_data;

enum { SETUP_FORWARD, SETUP_BACKWARD, SETUP_WGRAD };

/* The case's data, shared by both variants; on the device only what the
 * forward (x, w, bias -> y), the backward (w, dy -> dx) or the weight
 * gradient (x, dy -> dw, db) uses. */
static void conv_setup(op_run *r, const conv_row *c, int mode, conv_data *s)
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
    if (mode == SETUP_WGRAD) {
        s->wgrad = 1;
        s->gx = upload_new(r->dev, s->x, s->nx);
        s->gdy = upload_new(r->dev, s->dy, s->ny);
        s->gdw = test_guarded_alloc(r->dev, s->nw);
        s->gdb = test_guarded_alloc(r->dev, d->cout);
        return;
    }
    s->gw = upload_new(r->dev, s->w, s->nw);
    if (mode == SETUP_BACKWARD) {
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
    int images = !strcmp(variant, "cpu-images"), wino = !strcmp(variant, "winograd");
    setenv("MOVL_CONV_VARIANT", images || wino ? "cpu" : variant, 1);
    setenv("MOVL_CONV_WINOGRAD", wino ? "on" : "off", 1);
    if (images) {
        setenv("MOVL_CONV_LANES", "images", 1);
        setenv("MOVL_CONV_VW", movl_preferred_float_width(r->dev) >= 16 ? "8" : "16", 1);
    }
    unsetenv("MOVL_CONV_PREP_LIMIT");
    size_t whole = conv_case_workspace_bytes_for(r->dev, d, s->wgrad);
    if (c->flags & CHUNKED)
        setenv("MOVL_CONV_PREP_LIMIT", CHUNK_LIMIT, 1);
    s->ws_bytes = conv_case_workspace_bytes_for(r->dev, d, s->wgrad);
    /* (the weight gradient's parts may get smaller with the chunks, and its slots more) */
    if ((c->flags & CHUNKED) && !s->wgrad)
        CHECK(s->ws_bytes < whole, "%s: a " CHUNK_LIMIT "-byte limit should split the batch (workspace %zu, whole batch %zu)",
              r->label, s->ws_bytes, whole);
    if (s->ws_bytes)
        s->gws = test_guarded_alloc(r->dev, (s->ws_bytes + sizeof(float) - 1) / sizeof(float));
    if (s->wgrad) {
        test_guarded_upload(r->dev, &s->gdw, NULL);
        test_guarded_upload(r->dev, &s->gdb, NULL);
    } else {
        test_guarded_upload(r->dev, s->gy.buf ? &s->gy : &s->gdx, NULL);
    }
}

static void conv_variant_end(conv_data *s)
{
    test_guarded_free(&s->gws);
    unsetenv("MOVL_CONV_VARIANT");
    unsetenv("MOVL_CONV_LANES");
    unsetenv("MOVL_CONV_VW");
    unsetenv("MOVL_CONV_WINOGRAD");
    unsetenv("MOVL_CONV_PREP_LIMIT");
}

static void conv_teardown(conv_data *s)
{
    void *mem[] = {s->x, s->w, s->b, s->dy, s->xd, s->wd, s->bd, s->dyd};
    for (size_t i = 0; i < sizeof mem / sizeof mem[0]; i++)
        free(mem[i]);
    test_guarded *g[] = {&s->gx, &s->gw, &s->gb, &s->gdy, &s->gy, &s->gdx, &s->gdw, &s->gdb};
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
    conv_setup(r, c, SETUP_FORWARD, &s);
    double *yref = NULL;
    if (r->eval) {
        yref = malloc(s.ny * sizeof *yref + 1);
        r->op->ref.conv_forward(&s.d, s.xd, s.wd, c->bias ? s.bd : NULL, c->act, yref);
    }
    float *y_cpu = NULL;
    for (int v = 0; v < FWD_BWD_VARIANTS; v++) {
        if (!variant_runs(v, &s.d))
            continue;
        char err[MOVL_ERRLEN] = "";
        conv_variant_begin(r, &s, variants[v]);
        if (r->perf)
            time_launch(r, launch_forward, &s, "forward");
        if (r->eval) {
            int rc = launch_forward(&s, err);
            CHECK(rc == MOVL_OK, "%s: forward failed: %s", r->label, err);
            float *y = check_against_ref(r, &s.gy, yref, "y");
            if (v == 0)
                y_cpu = y;
            else if (v == CPU_IMAGES) /* same sums in the same order */
                CHECK(y && y_cpu && !memcmp(y, y_cpu, s.ny * sizeof *y), "%s: y differs from the cpu variant's",
                      r->label);
            if (y != y_cpu)
                free(y);
            check_conv_canaries(r, &s);
        }
        conv_variant_end(&s);
    }
    free(y_cpu);
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
    conv_setup(r, c, SETUP_BACKWARD, &s);
    double *dxref = NULL;
    if (r->eval) {
        dxref = malloc(s.nx * sizeof *dxref + 1);
        r->op->ref.conv_backward_input(&s.d, s.wd, s.dyd, dxref);
    }
    float *dx[FWD_BWD_VARIANTS] = {NULL, NULL, NULL, NULL};
    for (int v = 0; v < FWD_BWD_VARIANTS; v++) {
        if (!variant_runs(v, &s.d))
            continue;
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
            if (v == CPU_IMAGES)
                CHECK(dx[0] && !memcmp(dx[v], dx[0], s.nx * sizeof *dx2), "%s: dx differs from the cpu variant's",
                      r->label);
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
        fd_probe p = {conv_loss_of, &l, s.xd, s.nx, {dx[0], dx[1], dx[WINOGRAD]}, {"dx [cpu]", "dx [gpu]", "dx [winograd]"},
                      1e-3, 1e-2 * scale + 1e-30, 6, 6, NULL};
        conv_label(r, &s, NULL);
        check_fd(r, &p);
        free(l.y);
    }
    for (int v = 0; v < FWD_BWD_VARIANTS; v++)
        free(dx[v]);
    free(dxref);
    conv_teardown(&s);
}

/* ---- weight gradient ---- */

/* db is asked for on the cases with a bias, NULL on the others. */
static int launch_wgrad_batch(conv_data *s, int batch, char *err)
{
    return conv_case_run_backward_weights(s->dev, &s->d, batch, 1, s->gx.buf, s->gdy.buf, s->gdw.buf,
                                          s->c->bias ? s->gdb.buf : NULL, s->gws.buf, err);
}

static int launch_wgrad(void *ctx, char *err)
{
    conv_data *s = ctx;
    return launch_wgrad_batch(s, s->d.n, err);
}

/* A plan without weight_grads, a short workspace and a batch above the plan's are refused with a message. */
static void conv_wgrad_once(op_run *r)
{
    char err[MOVL_ERRLEN] = "";
    movl_conv_desc d;
    movl_conv_desc_init(&d, 2, 4, 8, 8, 4, 3, 1, 1, 1);
    int rc = conv_case_run_backward_weights(r->dev, &d, 2, 0, NULL, NULL, NULL, NULL, NULL, err);
    CHECK(rc == MOVL_ERR_RUN && strstr(err, "weight_grads"), "plan without weight_grads: rc %d, '%s'", rc, err);
    size_t plain = conv_case_workspace_bytes_for(r->dev, &d, 0), with = conv_case_workspace_bytes_for(r->dev, &d, 1);
    CHECK(with >= plain && with > 0, "workspace with weight_grads %zu, without %zu (expected at least as large)", with,
          plain);
    err[0] = 0;
    rc = conv_case_run_backward_weights(r->dev, &d, 2, 1, NULL, NULL, NULL, NULL, NULL, err);
    CHECK(rc == MOVL_ERR_RUN && strstr(err, "workspace"), "missing workspace: rc %d, '%s'", rc, err);
    err[0] = 0;
    rc = conv_case_run_backward_weights(r->dev, &d, 3, 1, NULL, NULL, NULL, NULL, NULL, err);
    CHECK(rc == MOVL_ERR_RUN && strstr(err, "batch"), "batch above the plan's: rc %d, '%s'", rc, err);
}

/* L = sum(dy * (conv(x, w) + b)) over the whole batch in double: its
 * gradients with respect to w and b are dw and db. */
typedef struct wgrad_loss {
    conv_data *s;
    double *y;
} wgrad_loss;

static double wgrad_loss_of(void *ctx, size_t i)
{
    (void)i; /* every image depends on every weight */
    wgrad_loss *l = ctx;
    movl_ref_conv_forward(&l->s->d, l->s->xd, l->s->wd, l->s->bd, MOVL_ACT_NONE, l->y);
    double sum = 0;
    for (size_t o = 0; o < l->s->ny; o++)
        sum += l->s->dyd[o] * l->y[o];
    return sum;
}

static double max_abs(const float *a, size_t n)
{
    double m = 0;
    for (size_t i = 0; a && i < n; i++)
        m = fmax(m, fabs(a[i]));
    return m;
}

/* The gradient of the first `batch` images (batch < d.n: a plan for more images run on fewer). */
static void check_wgrad_batch(op_run *r, conv_data *s, int batch, const double *dwref, const double *dbref,
                              float **dw, float **db)
{
    char err[MOVL_ERRLEN] = "";
    test_guarded_upload(r->dev, &s->gdw, NULL);
    test_guarded_upload(r->dev, &s->gdb, NULL);
    int rc = launch_wgrad_batch(s, batch, err);
    CHECK(rc == MOVL_OK, "%s: weight gradient of %d images failed: %s", r->label, batch, err);
    *dw = check_against_ref(r, &s->gdw, dwref, batch < s->d.n ? "dw (fewer images)" : "dw");
    *db = s->c->bias ? check_against_ref(r, &s->gdb, dbref, batch < s->d.n ? "db (fewer images)" : "db") : NULL;
}

void run_conv_backward_weights(op_run *r, const void *row)
{
    if (!row) {
        conv_wgrad_once(r);
        return;
    }
    const conv_row *c = row;
    int fd = r->grad && (c->flags & FD);
    conv_data s;
    conv_setup(r, c, SETUP_WGRAD, &s);
    double *dwref = NULL, *dbref = NULL, *dwpart = NULL, *dbpart = NULL;
    movl_conv_desc fewer = s.d;
    fewer.n = s.d.n - 1;
    if (r->eval) {
        dwref = malloc(s.nw * sizeof *dwref + 1);
        dbref = malloc(s.d.cout * sizeof *dbref + 1);
        r->op->ref.conv_backward_weights(&s.d, s.xd, s.dyd, dwref, dbref);
        if (fewer.n >= 1) {
            dwpart = malloc(s.nw * sizeof *dwpart + 1);
            dbpart = malloc(s.d.cout * sizeof *dbpart + 1);
            r->op->ref.conv_backward_weights(&fewer, s.xd, s.dyd, dwpart, dbpart);
        }
    }
    /* cpu-images: for the weight gradient, the other vector width (its lanes always hold channels) */
    float *dw[WGRAD_VARIANTS] = {NULL, NULL, NULL}, *db[WGRAD_VARIANTS] = {NULL, NULL, NULL};
    for (int v = 0; v < WGRAD_VARIANTS; v++) {
        char err[MOVL_ERRLEN] = "";
        conv_variant_begin(r, &s, variants[v]);
        if (r->perf)
            time_launch(r, launch_wgrad, &s, "wgrad");
        if (r->eval && fewer.n >= 1) {
            float *a = NULL, *b = NULL;
            check_wgrad_batch(r, &s, fewer.n, dwpart, dbpart, &a, &b);
            free(a);
            free(b);
        }
        if (r->eval) {
            check_wgrad_batch(r, &s, s.d.n, dwref, dbref, &dw[v], &db[v]);
            /* again into NaN-filled outputs: bitwise identical (fixed-order sums, no atomics) */
            test_guarded_upload(r->dev, &s.gdw, NULL);
            test_guarded_upload(r->dev, &s.gdb, NULL);
            int rc = launch_wgrad(&s, err);
            float *dw2 = test_guarded_read(r->dev, &s.gdw), *db2 = test_guarded_read(r->dev, &s.gdb);
            CHECK(rc == MOVL_OK && !memcmp(dw[v], dw2, s.nw * sizeof *dw2) &&
                      (!c->bias || !memcmp(db[v], db2, s.d.cout * sizeof *db2)),
                  "%s: weight gradient is not deterministic", r->label);
            free(dw2);
            free(db2);
            check_conv_canaries(r, &s);
        } else if (fd) {
            int rc = launch_wgrad(&s, err);
            CHECK(rc == MOVL_OK, "%s: weight gradient failed: %s", r->label, err);
            dw[v] = test_guarded_read(r->dev, &s.gdw);
            db[v] = c->bias ? test_guarded_read(r->dev, &s.gdb) : NULL;
        }
        conv_variant_end(&s);
    }
    if (fd && dw[0] && dw[1]) {
        wgrad_loss l = {&s, malloc(s.ny * sizeof(double) + 1)};
        conv_label(r, &s, NULL);
        double scale = fmax(max_abs(dw[0], s.nw), max_abs(dw[1], s.nw));
        /* L is linear in w and b: in double the differences agree closely */
        fd_probe p = {wgrad_loss_of, &l, s.wd, s.nw, {dw[0], dw[1]}, {"dw [cpu]", "dw [gpu]"},
                      1e-3, 1e-2 * scale + 1e-30, 6, 6, NULL};
        check_fd(r, &p);
        if (c->bias) {
            scale = fmax(max_abs(db[0], s.d.cout), max_abs(db[1], s.d.cout));
            fd_probe q = {wgrad_loss_of, &l, s.bd, (size_t)s.d.cout, {db[0], db[1]}, {"db [cpu]", "db [gpu]"},
                          1e-3, 1e-2 * scale + 1e-30, 3, 3, NULL};
            check_fd(r, &q);
        }
        free(l.y);
    }
    for (int v = 0; v < WGRAD_VARIANTS; v++) {
        free(dw[v]);
        free(db[v]);
    }
    free(dwref);
    free(dbref);
    free(dwpart);
    free(dbpart);
    conv_teardown(&s);
}
