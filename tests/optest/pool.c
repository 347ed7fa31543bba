/* Max pooling (values, argmax indices, gather backward) on distinct, tied and
 * all-negative data, and global average pooling. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "ops/ref/ops_ref.h"

enum { DATA_DISTINCT, DATA_TIES, DATA_NEGATIVE };
static const char *const data_names[] = {"distinct", "ties", "negative"};

/* Distinct values 1/1024 apart (exact in fp32, so no ties and no point within
 * the finite-difference step of a tie: the step never moves an argmax); many
 * ties (values 0..2); or all negative (padding must never win). */
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

typedef struct pool_data {
    movl_device *dev;
    movl_pool_desc d;
    size_t nin, nout;
    float *x, *dy;
    double *xd, *dyd, *yd, *dxd;
    int *idx;
    test_guarded gx, gy, gidx, gdy, gdx;
} pool_data;

/* Inputs; NaN-filled outputs. */
static void pool_setup(op_run *r, const pool_row *c, int kind, pool_data *s)
{
    memset(s, 0, sizeof *s);
    s->dev = r->dev;
    movl_pool_desc_init(&s->d, c->n, c->c, c->h, c->w, c->k, c->stride, c->pad);
    snprintf(r->label, sizeof r->label, "%s %dx%dx%dx%d k%d s%d p%d -> %dx%d %s", r->op->name, c->n, c->c, c->h, c->w,
             c->k, c->stride, c->pad, s->d.oh, s->d.ow, data_names[kind]);
    s->nin = (size_t)c->n * c->c * c->h * c->w;
    s->nout = (size_t)c->n * c->c * s->d.oh * s->d.ow;
    s->x = malloc(s->nin * sizeof *s->x + 1);
    fill_pool_input(s->x, s->nin, kind);
    s->dy = random_floats(s->nout, -1, 1);
    s->xd = to_double_new(s->x, s->nin);
    s->dyd = to_double_new(s->dy, s->nout);
    s->yd = malloc(s->nout * sizeof *s->yd + 1);
    s->dxd = malloc(s->nin * sizeof *s->dxd + 1);
    s->idx = malloc(s->nout * sizeof *s->idx + 1);
    s->gx = upload_new(r->dev, s->x, s->nin);
    s->gdy = upload_new(r->dev, s->dy, s->nout);
    s->gy = test_guarded_alloc(r->dev, s->nout);
    s->gidx = test_guarded_alloc(r->dev, s->nout); /* ints, as many as floats */
    s->gdx = test_guarded_alloc(r->dev, s->nin);
}

static void pool_teardown(pool_data *s)
{
    void *mem[] = {s->x, s->dy, s->xd, s->dyd, s->yd, s->dxd, s->idx};
    for (size_t i = 0; i < sizeof mem / sizeof mem[0]; i++)
        free(mem[i]);
    test_guarded *g[] = {&s->gx, &s->gy, &s->gidx, &s->gdy, &s->gdx};
    for (size_t i = 0; i < sizeof g / sizeof g[0]; i++)
        test_guarded_free(g[i]);
}

static int launch_maxpool_forward(void *ctx, char *err)
{
    pool_data *s = ctx;
    return movl_maxpool_forward(s->dev, &s->d, s->gx.buf, s->gy.buf, s->gidx.buf, err);
}

static int launch_maxpool_backward(void *ctx, char *err)
{
    pool_data *s = ctx;
    return movl_maxpool_backward(s->dev, &s->d, s->gidx.buf, s->gdy.buf, s->gdx.buf, err);
}

void run_maxpool_forward(op_run *r, const void *row)
{
    char err[MOVL_ERRLEN] = "";
    if (!row) { /* a window made only of padding is refused, not launched */
        movl_pool_desc bad;
        movl_pool_desc_init(&bad, 1, 1, 4, 4, 3, 2, 2);
        CHECK(movl_maxpool_forward(r->dev, &bad, NULL, NULL, NULL, err) == MOVL_ERR_RUN && strstr(err, "pad"),
              "pad > k/2 is rejected with a message (got '%s')", err);
        return;
    }
    for (int kind = DATA_DISTINCT; kind <= DATA_NEGATIVE; kind++) {
        pool_data s;
        pool_setup(r, row, kind, &s);
        if (r->perf && kind == DATA_DISTINCT)
            time_launch(r, launch_maxpool_forward, &s, "forward");
        if (r->eval) {
            CHECK(launch_maxpool_forward(&s, err) == MOVL_OK, "%s: forward failed: %s", r->label, err);
            r->op->ref.maxpool_forward(&s.d, s.xd, s.yd, s.idx);
            float *y = check_against_ref(r, &s.gy, s.yd, "y");
            float *idx_raw = test_guarded_read(r->dev, &s.gidx);
            size_t wrong = 0;
            for (size_t o = 0; o < s.nout; o++) {
                int got;
                memcpy(&got, &idx_raw[o], sizeof got);
                wrong += got != s.idx[o];
            }
            CHECK(wrong == 0, "%s: %zu of %zu argmax indices differ from the first maximum", r->label, wrong, s.nout);
            CHECK(test_guard_ok(r->dev, &s.gidx), "%s: wrote past the index buffer (canary changed)", r->label);
            if (kind == DATA_NEGATIVE) {
                size_t nonneg = 0;
                for (size_t o = 0; o < s.nout; o++)
                    nonneg += !(y[o] < 0);
                CHECK(nonneg == 0, "%s: %zu outputs not negative: padding won a window", r->label, nonneg);
            }
            test_guarded *in[] = {&s.gx};
            check_canaries(r, in, 1, "input buffers");
            free(y);
            free(idx_raw);
        }
        pool_teardown(&s);
    }
}

/* L = sum dy * maxpool(x), in double; only over the plane of x[i] (planes
 * are independent), by the reference on that one plane. */
typedef struct pool_loss {
    pool_data *s;
    double *y;
    int *idx;
} pool_loss;

static double pool_loss_of(void *ctx, size_t i)
{
    pool_loss *l = ctx;
    movl_pool_desc one = l->s->d;
    one.n = one.c = 1;
    size_t plane = i / ((size_t)one.h * one.w), nout = (size_t)one.oh * one.ow;
    movl_ref_maxpool_forward(&one, l->s->xd + plane * one.h * one.w, l->y, l->idx);
    double sum = 0;
    for (size_t o = 0; o < nout; o++)
        sum += l->s->dyd[plane * nout + o] * l->y[o];
    return sum;
}

void run_maxpool_backward(op_run *r, const void *row)
{
    if (!row)
        return;
    const pool_row *c = row;
    char err[MOVL_ERRLEN] = "";
    for (int kind = DATA_DISTINCT; kind <= DATA_NEGATIVE; kind++) {
        pool_data s;
        pool_setup(r, c, kind, &s);
        /* the backward gathers through the forward's indices: the reference's */
        movl_ref_maxpool_forward(&s.d, s.xd, s.yd, s.idx);
        CHECK(movl_upload(r->dev, s.gidx.buf, s.idx, s.nout * sizeof(int), err) == MOVL_OK, "%s: %s", r->label, err);
        if (r->perf && kind == DATA_DISTINCT)
            time_launch(r, launch_maxpool_backward, &s, "backward");
        int fd = r->grad && (c->flags & FD) && kind == DATA_DISTINCT; /* ties would move the argmax */
        if (r->eval || fd) {
            CHECK(launch_maxpool_backward(&s, err) == MOVL_OK, "%s: backward failed: %s", r->label, err);
            float *dx = test_guarded_read(r->dev, &s.gdx);
            if (r->eval) {
                r->op->ref.maxpool_backward(&s.d, s.idx, s.dyd, s.dxd);
                free(check_against_ref(r, &s.gdx, s.dxd, "dx"));
                test_guarded *in[] = {&s.gidx, &s.gdy};
                check_canaries(r, in, 2, "input buffers");
            }
            if (fd) {
                pool_loss l = {&s, malloc(s.nout * sizeof(double) + 1), malloc(s.nout * sizeof(int) + 1)};
                fd_probe p = {pool_loss_of, &l, s.xd, s.nin, {dx}, {"dx"}, 1e-4, 1.0, 24, 24, NULL};
                check_fd(r, &p);
                free(l.y);
                free(l.idx);
            }
            free(dx);
        }
        pool_teardown(&s);
    }
}

typedef struct gap_data {
    movl_device *dev;
    int n, c, hw;
    size_t nin, nout;
    float *x, *dy;
    double *xd, *dyd, *yd, *dxd;
    test_guarded gx, gy, gdy, gdx;
} gap_data;

static void gap_setup(op_run *r, const gap_row *c, gap_data *s)
{
    memset(s, 0, sizeof *s);
    s->dev = r->dev;
    s->n = c->n, s->c = c->c, s->hw = c->hw;
    snprintf(r->label, sizeof r->label, "%s %dx%dx%d", r->op->name, c->n, c->c, c->hw);
    s->nin = (size_t)c->n * c->c * c->hw;
    s->nout = (size_t)c->n * c->c;
    s->x = random_floats(s->nin, -3, 3);
    s->dy = random_floats(s->nout, -1, 1);
    s->xd = to_double_new(s->x, s->nin);
    s->dyd = to_double_new(s->dy, s->nout);
    s->yd = malloc(s->nout * sizeof *s->yd + 1);
    s->dxd = malloc(s->nin * sizeof *s->dxd + 1);
    s->gx = upload_new(r->dev, s->x, s->nin);
    s->gdy = upload_new(r->dev, s->dy, s->nout);
    s->gy = test_guarded_alloc(r->dev, s->nout);
    s->gdx = test_guarded_alloc(r->dev, s->nin);
}

static void gap_teardown(gap_data *s)
{
    void *mem[] = {s->x, s->dy, s->xd, s->dyd, s->yd, s->dxd};
    for (size_t i = 0; i < sizeof mem / sizeof mem[0]; i++)
        free(mem[i]);
    test_guarded *g[] = {&s->gx, &s->gy, &s->gdy, &s->gdx};
    for (size_t i = 0; i < sizeof g / sizeof g[0]; i++)
        test_guarded_free(g[i]);
}

static int launch_gap_forward(void *ctx, char *err)
{
    gap_data *s = ctx;
    return movl_gap_forward(s->dev, s->n, s->c, s->hw, s->gx.buf, s->gy.buf, err);
}

static int launch_gap_backward(void *ctx, char *err)
{
    gap_data *s = ctx;
    return movl_gap_backward(s->dev, s->n, s->c, s->hw, s->gdy.buf, s->gdx.buf, err);
}

void run_gap_forward(op_run *r, const void *row)
{
    if (!row)
        return;
    char err[MOVL_ERRLEN] = "";
    gap_data s;
    gap_setup(r, row, &s);
    if (r->perf)
        time_launch(r, launch_gap_forward, &s, "forward");
    if (r->eval) {
        CHECK(launch_gap_forward(&s, err) == MOVL_OK, "%s: forward failed: %s", r->label, err);
        r->op->ref.gap_forward(s.n, s.c, s.hw, s.xd, s.yd);
        free(check_against_ref(r, &s.gy, s.yd, "y"));
        test_guarded *in[] = {&s.gx};
        check_canaries(r, in, 1, "input buffers");
    }
    gap_teardown(&s);
}

/* L = sum dy * gap(x), in double; only the term of x[i]'s plane, by the
 * reference on that plane. */
static double gap_loss_of(void *ctx, size_t i)
{
    gap_data *s = ctx;
    size_t plane = i / (size_t)s->hw;
    double y;
    movl_ref_gap_forward(1, 1, s->hw, s->xd + plane * s->hw, &y);
    return s->dyd[plane] * y;
}

void run_gap_backward(op_run *r, const void *row)
{
    if (!row)
        return;
    const gap_row *c = row;
    char err[MOVL_ERRLEN] = "";
    gap_data s;
    gap_setup(r, c, &s);
    if (r->perf)
        time_launch(r, launch_gap_backward, &s, "backward");
    if (r->eval || r->grad) {
        CHECK(launch_gap_backward(&s, err) == MOVL_OK, "%s: backward failed: %s", r->label, err);
        float *dx = test_guarded_read(r->dev, &s.gdx);
        if (r->eval) {
            r->op->ref.gap_backward(s.n, s.c, s.hw, s.dyd, s.dxd);
            free(check_against_ref(r, &s.gdx, s.dxd, "dx"));
            test_guarded *in[] = {&s.gdy};
            check_canaries(r, in, 1, "input buffers");
        }
        if (r->grad && (c->flags & FD)) {
            fd_probe p = {gap_loss_of, &s, s.xd, s.nin, {dx}, {"dx"}, 1e-3, 1e-3, 24, 24, NULL};
            check_fd(r, &p);
        }
        free(dx);
    }
    gap_teardown(&s);
}
