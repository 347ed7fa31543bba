/* Linear layer cases on the GEMM back-end of each row (movl_set_gemm_backend
 * own or CLBlast): bias / db present and absent, determinism, the back-end
 * actually used, and the choice rules ($MOVL_GEMM, movl_set_gemm_backend). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "ops/linear.h"
#include "ops/ref/ops_ref.h"

static const char *backend_name(movl_gemm_backend b) { return b == MOVL_GEMM_CLBLAST ? "clblast" : "own"; }

typedef struct linear_data {
    movl_device *dev;
    const linear_row *c;
    size_t nx, nw, ny;
    float *x, *W, *bias, *dy;
    double *xd, *Wd, *bd, *dyd;
    test_guarded gx, gW, gb, gdy, gy, gdx, gdW, gdb;
    int with_bias; /* forward bias / backward db passed */
} linear_data;

/* Which device buffers an op reads and writes (the others stay unallocated). */
enum { USE_X = 1, USE_W = 2, USE_B = 4, USE_DY = 8, USE_Y = 16, USE_DX = 32, USE_DW = 64, USE_DB = 128 };

static void linear_setup(op_run *r, const linear_row *c, int use, linear_data *s)
{
    memset(s, 0, sizeof *s);
    s->dev = r->dev;
    s->c = c;
    s->with_bias = 1;
    snprintf(r->label, sizeof r->label, "%s %s %dx%dx%d", r->op->name, backend_name(c->backend), c->batch, c->in,
             c->out);
    movl_set_gemm_backend(c->backend);
    s->nx = (size_t)c->batch * c->in, s->nw = (size_t)c->out * c->in, s->ny = (size_t)c->batch * c->out;
    /* host data of the op's inputs only, unless finite differences need all of L's */
    int host = (r->grad && (c->flags & FD)) ? USE_X | USE_W | USE_B | USE_DY : use;
    if (host & USE_X)
        s->x = random_floats(s->nx, -1, 1), s->xd = to_double_new(s->x, s->nx);
    if (host & USE_W)
        s->W = random_floats(s->nw, -0.1f, 0.1f), s->Wd = to_double_new(s->W, s->nw);
    if (host & USE_B)
        s->bias = random_floats(c->out, -1, 1), s->bd = to_double_new(s->bias, c->out);
    if (host & USE_DY)
        s->dy = random_floats(s->ny, -1, 1), s->dyd = to_double_new(s->dy, s->ny);
    if (use & USE_X)
        s->gx = upload_new(r->dev, s->x, s->nx);
    if (use & USE_W)
        s->gW = upload_new(r->dev, s->W, s->nw);
    if (use & USE_B)
        s->gb = upload_new(r->dev, s->bias, c->out);
    if (use & USE_DY)
        s->gdy = upload_new(r->dev, s->dy, s->ny);
    if (use & USE_Y)
        s->gy = test_guarded_alloc(r->dev, s->ny);
    if (use & USE_DX)
        s->gdx = test_guarded_alloc(r->dev, s->nx);
    if (use & USE_DW)
        s->gdW = test_guarded_alloc(r->dev, s->nw);
    if (use & USE_DB)
        s->gdb = test_guarded_alloc(r->dev, c->out);
}

static void linear_teardown(op_run *r, linear_data *s)
{
    CHECK(movl_gemm_backend_for(r->dev) == s->c->backend, "%s: ran on %s, not on the requested backend", r->label,
          backend_name(movl_gemm_backend_for(r->dev)));
    test_guarded *in[] = {&s->gx, &s->gW, &s->gb, &s->gdy};
    check_canaries(r, in, 4, "input buffers");
    void *mem[] = {s->x, s->W, s->bias, s->dy, s->xd, s->Wd, s->bd, s->dyd};
    for (size_t i = 0; i < sizeof mem / sizeof mem[0]; i++)
        free(mem[i]);
    test_guarded *g[] = {&s->gx, &s->gW, &s->gb, &s->gdy, &s->gy, &s->gdx, &s->gdW, &s->gdb};
    for (size_t i = 0; i < sizeof g / sizeof g[0]; i++)
        test_guarded_free(g[i]);
}

static int launch_forward(void *ctx, char *err)
{
    linear_data *s = ctx;
    return movl_linear_forward(s->dev, s->c->batch, s->c->in, s->c->out, s->gx.buf, s->gW.buf,
                               s->with_bias ? s->gb.buf : NULL, s->gy.buf, err);
}

static int launch_backward_input(void *ctx, char *err)
{
    linear_data *s = ctx;
    return movl_linear_backward_input(s->dev, s->c->batch, s->c->in, s->c->out, s->gW.buf, s->gdy.buf, s->gdx.buf,
                                      err);
}

static int launch_backward_params(void *ctx, char *err)
{
    linear_data *s = ctx;
    return movl_linear_backward_params(s->dev, s->c->batch, s->c->in, s->c->out, s->gx.buf, s->gdy.buf, s->gdW.buf,
                                       s->with_bias ? s->gdb.buf : NULL, err);
}

/* $MOVL_GEMM applies when the choice is AUTO; an explicit choice wins. Runs
 * before any other linear op of the process: $MOVL_GEMM is read once. */
static void check_backend_choice(op_run *r)
{
    if (getenv("MOVL_GEMM")) {
        printf("MOVL_GEMM is set by the caller: environment override not tested\n");
        return;
    }
    movl_gemm_backend flip = r->dev->info.is_cpu ? MOVL_GEMM_CLBLAST : MOVL_GEMM_OWN;
    setenv("MOVL_GEMM", backend_name(flip), 1);
    movl_set_gemm_backend(MOVL_GEMM_AUTO);
    CHECK(movl_gemm_backend_for(r->dev) == flip, "MOVL_GEMM=%s does not override the automatic choice",
          backend_name(flip));
    movl_set_gemm_backend(MOVL_GEMM_OWN);
    CHECK(movl_gemm_backend_for(r->dev) == MOVL_GEMM_OWN, "movl_set_gemm_backend(OWN) does not win over MOVL_GEMM");
    movl_set_gemm_backend(MOVL_GEMM_CLBLAST);
    CHECK(movl_gemm_backend_for(r->dev) == MOVL_GEMM_CLBLAST,
          "movl_set_gemm_backend(CLBLAST) does not win over MOVL_GEMM");
}

void run_linear_forward(op_run *r, const void *row)
{
    char err[MOVL_ERRLEN] = "";
    if (!row) {
        check_backend_choice(r);
        CHECK(movl_linear_forward(r->dev, 0, 4, 4, NULL, NULL, NULL, NULL, err) == MOVL_ERR_RUN &&
                  strstr(err, "batch=0"),
              "an empty batch is rejected with a message (got '%s')", err);
        return;
    }
    const linear_row *c = row;
    linear_data s;
    linear_setup(r, c, USE_X | USE_W | USE_B | USE_Y, &s);
    if (r->perf)
        time_launch(r, launch_forward, &s, "forward");
    if (r->eval) {
        double *yd = malloc(s.ny * sizeof *yd + 1);
        CHECK(launch_forward(&s, err) == MOVL_OK, "%s: %s", r->label, err);
        r->op->ref.linear_forward(c->batch, c->in, c->out, s.xd, s.Wd, s.bd, yd);
        float *y1 = check_against_ref(r, &s.gy, yd, "y");
        test_guarded_upload(r->dev, &s.gy, NULL);
        CHECK(launch_forward(&s, err) == MOVL_OK, "%s: %s", r->label, err);
        float *y2 = test_guarded_read(r->dev, &s.gy);
        CHECK(!memcmp(y1, y2, s.ny * sizeof *y1), "%s: a second run gives different bits", r->label);
        /* without bias, into a NaN-filled output again */
        test_guarded_upload(r->dev, &s.gy, NULL);
        s.with_bias = 0;
        CHECK(launch_forward(&s, err) == MOVL_OK, "%s: %s", r->label, err);
        r->op->ref.linear_forward(c->batch, c->in, c->out, s.xd, s.Wd, NULL, yd);
        free(check_against_ref(r, &s.gy, yd, "y without bias"));
        free(y1);
        free(y2);
        free(yd);
    }
    linear_teardown(r, &s);
}

/* L = sum dy * (x W^T + bias), in double: linear in x, W and bias, so the
 * differences are exact up to double rounding. Only the terms that depend
 * on v[i] are computed, by the reference on a slice: row b of y for x[b][*],
 * column o for W[o][*] and bias[o]. */
typedef struct linear_loss {
    linear_data *s;
    const double *v; /* xd, Wd or bd */
    double *y;
} linear_loss;

static double linear_loss_of(void *ctx, size_t i)
{
    linear_loss *l = ctx;
    const linear_data *s = l->s;
    const linear_row *c = s->c;
    double sum = 0;
    if (l->v == s->xd) {
        size_t b = i / (size_t)c->in;
        movl_ref_linear_forward(1, c->in, c->out, s->xd + b * c->in, s->Wd, s->bd, l->y);
        for (int o = 0; o < c->out; o++)
            sum += s->dyd[b * c->out + o] * l->y[o];
    } else {
        size_t o = l->v == s->Wd ? i / (size_t)c->in : i;
        movl_ref_linear_forward(c->batch, c->in, 1, s->xd, s->Wd + o * c->in, s->bd + o, l->y);
        for (int b = 0; b < c->batch; b++)
            sum += s->dyd[(size_t)b * c->out + o] * l->y[b];
    }
    return sum;
}

static void linear_fd(op_run *r, linear_data *s, double *v, size_t n, const float *grad, const char *what)
{
    linear_loss l = {s, v, malloc(s->ny * sizeof(double) + 1)};
    fd_probe p = {linear_loss_of, &l, v, n, {grad}, {what}, 1e-2, 1.0, 16, 16, NULL};
    check_fd(r, &p);
    free(l.y);
}

void run_linear_backward_input(op_run *r, const void *row)
{
    if (!row)
        return;
    const linear_row *c = row;
    char err[MOVL_ERRLEN] = "";
    linear_data s;
    linear_setup(r, c, USE_W | USE_DY | USE_DX, &s);
    if (r->perf)
        time_launch(r, launch_backward_input, &s, "backward");
    if (r->eval || (r->grad && (c->flags & FD))) {
        CHECK(launch_backward_input(&s, err) == MOVL_OK, "%s: %s", r->label, err);
        float *dx = test_guarded_read(r->dev, &s.gdx);
        if (r->eval) {
            double *dxd = malloc(s.nx * sizeof *dxd + 1);
            r->op->ref.linear_backward_input(c->batch, c->in, c->out, s.Wd, s.dyd, dxd);
            free(check_against_ref(r, &s.gdx, dxd, "dx"));
            free(dxd);
        }
        if (r->grad && (c->flags & FD))
            linear_fd(r, &s, s.xd, s.nx, dx, "dx");
        free(dx);
    }
    linear_teardown(r, &s);
}

void run_linear_backward_params(op_run *r, const void *row)
{
    if (!row)
        return;
    const linear_row *c = row;
    char err[MOVL_ERRLEN] = "";
    linear_data s;
    linear_setup(r, c, USE_X | USE_DY | USE_DW | USE_DB, &s);
    if (r->perf)
        time_launch(r, launch_backward_params, &s, "backward");
    if (r->eval || (r->grad && (c->flags & FD))) {
        CHECK(launch_backward_params(&s, err) == MOVL_OK, "%s: %s", r->label, err);
        float *dW = test_guarded_read(r->dev, &s.gdW), *db = test_guarded_read(r->dev, &s.gdb);
        if (r->eval) {
            double *dWd = malloc(s.nw * sizeof *dWd + 1), *dbd = malloc(c->out * sizeof *dbd + 1);
            r->op->ref.linear_backward_params(c->batch, c->in, c->out, s.xd, s.dyd, dWd, dbd);
            free(check_against_ref(r, &s.gdW, dWd, "dW"));
            free(check_against_ref(r, &s.gdb, dbd, "db"));
            /* without db, into NaN-filled outputs: dW written, db left alone */
            test_guarded_upload(r->dev, &s.gdW, NULL);
            test_guarded_upload(r->dev, &s.gdb, NULL);
            s.with_bias = 0;
            CHECK(launch_backward_params(&s, err) == MOVL_OK, "%s: %s", r->label, err);
            free(check_against_ref(r, &s.gdW, dWd, "dW without db"));
            float *db_untouched = test_guarded_read(r->dev, &s.gdb);
            CHECK(isnan(db_untouched[0]), "%s: db written although NULL was passed", r->label);
            CHECK(test_guard_ok(r->dev, &s.gdb), "%s: wrote past db (canary changed)", r->label);
            free(db_untouched);
            free(dWd);
            free(dbd);
        }
        if (r->grad && (c->flags & FD)) {
            linear_fd(r, &s, s.Wd, s.nw, dW, "dW");
            linear_fd(r, &s, s.bd, c->out, db, "db");
        }
        free(dW);
        free(db);
    }
    linear_teardown(r, &s);
}
