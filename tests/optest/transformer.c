/* Transformer op cases (ViT, CLIP): layer norm, GELU, row softmax and the
 * batched GEMM, against the double references of ops/ref/transformer_ref.c,
 * with their input (and parameter) gradients by central differences. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "ops/ref/transformer_ref.h"

#define LN_EPS 1e-5f

static double *dalloc(size_t n)
{
    double *p = malloc(n * sizeof *p + 1);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    return p;
}

static void rows_label(op_run *r, const rows_row *c, const char *kind)
{
    snprintf(r->label, sizeof r->label, "%s %dx%d%s", r->op->name, c->rows, c->dim, kind);
}

/* ---- layer norm ---- */

/* One case's data: x around 3 (a one-pass variance would cancel), gamma near 1, beta and the loss weights w. */
typedef struct ln_case {
    int rows, dim;
    size_t n;
    float *x, *gamma, *beta, *w;
    double *xd, *gd, *bd, *wd;
} ln_case;

static ln_case ln_new(const rows_row *c)
{
    ln_case l = {.rows = c->rows, .dim = c->dim, .n = (size_t)c->rows * c->dim};
    l.x = random_floats(l.n, 1, 5);
    l.gamma = random_floats((size_t)c->dim, 0.5f, 1.5f);
    l.beta = random_floats((size_t)c->dim, -1, 1);
    l.w = random_floats(l.n, -1, 1);
    l.xd = to_double_new(l.x, l.n);
    l.gd = to_double_new(l.gamma, (size_t)c->dim);
    l.bd = to_double_new(l.beta, (size_t)c->dim);
    l.wd = to_double_new(l.w, l.n);
    return l;
}

static void ln_free(ln_case *l)
{
    void *mem[] = {l->x, l->gamma, l->beta, l->w, l->xd, l->gd, l->bd, l->wd};
    for (size_t i = 0; i < sizeof mem / sizeof mem[0]; i++)
        free(mem[i]);
}

/* L = sum w * layernorm(x): the rows a probe of x[i] or of gamma/beta[j] changes. */
static double ln_loss_rows(ln_case *l, int r0, int r1)
{
    double *y = dalloc((size_t)(r1 - r0) * l->dim), s = 0;
    movl_ref_layernorm_forward(r1 - r0, l->dim, LN_EPS, l->xd + (size_t)r0 * l->dim, l->gd, l->bd, y);
    for (size_t i = 0; i < (size_t)(r1 - r0) * l->dim; i++)
        s += l->wd[(size_t)r0 * l->dim + i] * y[i];
    free(y);
    return s;
}
static double ln_loss_x(void *ctx, size_t i)
{
    ln_case *l = ctx;
    int r = (int)(i / (size_t)l->dim);
    return ln_loss_rows(l, r, r + 1);
}
static double ln_loss_all(void *ctx, size_t i)
{
    (void)i;
    ln_case *l = ctx;
    return ln_loss_rows(l, 0, l->rows);
}

/* The device forward of l into y (and stats); returns the stats download. */
static float *ln_device_forward(op_run *r, ln_case *l, test_guarded *gx, test_guarded *gy, test_guarded *gs,
                                test_guarded *gg, test_guarded *gb)
{
    char err[MOVL_ERRLEN] = "";
    CHECK(movl_layernorm_forward(r->dev, l->rows, l->dim, LN_EPS, gx->buf, gg->buf, gb->buf, gy->buf, gs->buf,
                                 err) == MOVL_OK,
          "%s: forward failed: %s", r->label, err);
    return test_guarded_read(r->dev, gs);
}

typedef struct ln_launch {
    movl_device *dev;
    ln_case *l;
    cl_mem x, g, b, y, s, dy, dx;
} ln_launch;
static int launch_ln_forward(void *ctx, char *err)
{
    ln_launch *t = ctx;
    return movl_layernorm_forward(t->dev, t->l->rows, t->l->dim, LN_EPS, t->x, t->g, t->b, t->y, t->s, err);
}
static int launch_ln_backward_input(void *ctx, char *err)
{
    ln_launch *t = ctx;
    return movl_layernorm_backward_input(t->dev, t->l->rows, t->l->dim, t->x, t->g, t->s, t->dy, t->dx, err);
}
static int launch_ln_backward_params(void *ctx, char *err)
{
    ln_launch *t = ctx;
    return movl_layernorm_backward_params(t->dev, t->l->rows, t->l->dim, t->x, t->s, t->dy, t->g, t->b, err);
}

/* Runs the forward, checks y (and mean/rstd against double), then the op's own part. */
static void run_layernorm(op_run *r, const rows_row *c, int part)
{
    ln_case l = ln_new(c);
    size_t d = (size_t)c->dim;
    test_guarded gx = upload_new(r->dev, l.x, l.n), gg = upload_new(r->dev, l.gamma, d),
                 gb = upload_new(r->dev, l.beta, d), gy = test_guarded_alloc(r->dev, l.n),
                 gs = test_guarded_alloc(r->dev, 2 * (size_t)c->rows), gw = upload_new(r->dev, l.w, l.n),
                 gdx = test_guarded_alloc(r->dev, l.n), gdg = test_guarded_alloc(r->dev, d),
                 gdb = test_guarded_alloc(r->dev, d);
    rows_label(r, c, "");
    ln_launch t = {r->dev, &l, gx.buf, gg.buf, gb.buf, gy.buf, gs.buf, gw.buf, gdx.buf};
    float *stats = ln_device_forward(r, &l, &gx, &gy, &gs, &gg, &gb);
    char err[MOVL_ERRLEN] = "";
    if (part == 0 && r->eval) {
        double *y = dalloc(l.n), *sd = dalloc(2 * (size_t)c->rows);
        movl_ref_layernorm_forward(c->rows, c->dim, LN_EPS, l.xd, l.gd, l.bd, y);
        free(check_against_ref(r, &gy, y, "y"));
        for (int i = 0; i < c->rows; i++) { /* the statistics the backward reads */
            double m = 0, v = 0;
            for (size_t j = 0; j < d; j++)
                m += l.xd[i * d + j];
            m /= (double)d;
            for (size_t j = 0; j < d; j++)
                v += (l.xd[i * d + j] - m) * (l.xd[i * d + j] - m);
            sd[2 * i] = m;
            sd[2 * i + 1] = 1 / sqrt(v / (double)d + LN_EPS);
        }
        free(check_against_ref(r, &gs, sd, "mean, rstd"));
        free(y);
        free(sd);
    }
    if (part == 0 && r->perf)
        time_launch(r, launch_ln_forward, &t, "forward");
    if (part == 1 && (r->eval || r->grad)) {
        CHECK(launch_ln_backward_input(&t, err) == MOVL_OK, "%s failed: %s", r->label, err);
        float *dx = test_guarded_read(r->dev, &gdx);
        if (r->eval) {
            double *ref = dalloc(l.n);
            r->op->ref.layernorm_backward_input(c->rows, c->dim, LN_EPS, l.xd, l.gd, l.wd, ref);
            free(check_against_ref(r, &gdx, ref, "dx"));
            free(ref);
        }
        if (r->grad && (c->flags & FD)) {
            fd_probe p = {ln_loss_x, &l, l.xd, l.n, {dx}, {"dx"}, 1e-3, 1.0, 16, 16, NULL};
            check_fd(r, &p);
        }
        free(dx);
    }
    if (part == 1 && r->perf)
        time_launch(r, launch_ln_backward_input, &t, "backward_input");
    if (part == 2 && (r->eval || r->grad)) {
        t.g = gdg.buf;
        t.b = gdb.buf;
        CHECK(launch_ln_backward_params(&t, err) == MOVL_OK, "%s failed: %s", r->label, err);
        float *dg = test_guarded_read(r->dev, &gdg), *db = test_guarded_read(r->dev, &gdb);
        if (r->eval) {
            double *rg = dalloc(d), *rb = dalloc(d);
            r->op->ref.layernorm_backward_params(c->rows, c->dim, LN_EPS, l.xd, l.wd, rg, rb);
            free(check_against_ref(r, &gdg, rg, "dgamma"));
            free(check_against_ref(r, &gdb, rb, "dbeta"));
            free(rg);
            free(rb);
        }
        if (r->grad && (c->flags & FD)) {
            fd_probe p = {ln_loss_all, &l, l.gd, d, {dg}, {"dgamma"}, 1e-3, 1.0, 8, 8, NULL};
            check_fd(r, &p);
            p.v = l.bd;
            p.grad[0] = db;
            p.grad_name[0] = "dbeta";
            check_fd(r, &p);
        }
        free(dg);
        free(db);
    }
    if (part == 2 && r->perf)
        time_launch(r, launch_ln_backward_params, &t, "backward_params");
    test_guarded *all[] = {&gx, &gg, &gb, &gy, &gs, &gw, &gdx, &gdg, &gdb};
    check_canaries(r, all, 9, "inputs and outputs");
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        test_guarded_free(all[i]);
    free(stats);
    ln_free(&l);
}

void run_layernorm_forward(op_run *r, const void *row)
{
    if (!row) {
        char err[MOVL_ERRLEN] = "";
        int rc = movl_layernorm_forward(r->dev, 0, 8, LN_EPS, NULL, NULL, NULL, NULL, NULL, err);
        CHECK(rc == MOVL_ERR_RUN && strstr(err, "0 rows of 8"), "0 rows are rejected with a message (got '%s')", err);
        return;
    }
    run_layernorm(r, row, 0);
}
void run_layernorm_backward_input(op_run *r, const void *row)
{
    if (row)
        run_layernorm(r, row, 1);
}
void run_layernorm_backward_params(op_run *r, const void *row)
{
    if (row)
        run_layernorm(r, row, 2);
}

/* ---- GELU ---- */

typedef struct gelu_loss {
    movl_gelu kind;
    double *x, *w;
} gelu_loss;
static double gelu_loss_of(void *ctx, size_t i)
{
    gelu_loss *g = ctx;
    return g->w[i] * movl_ref_gelu(g->kind, g->x[i]);
}

static const char *gelu_name(movl_gelu k) { return k == MOVL_GELU_QUICK ? " quick" : " erf"; }

typedef struct gelu_launch {
    movl_device *dev;
    movl_gelu kind;
    size_t n;
    cl_mem x, dy, out;
} gelu_launch;
static int launch_gelu_forward(void *ctx, char *err)
{
    gelu_launch *t = ctx;
    return movl_gelu_forward(t->dev, t->kind, t->n, t->x, t->out, err);
}
static int launch_gelu_backward(void *ctx, char *err)
{
    gelu_launch *t = ctx;
    return movl_gelu_backward(t->dev, t->kind, t->n, t->x, t->dy, t->out, err);
}

static void run_gelu(op_run *r, const rows_row *c, int backward)
{
    size_t n = (size_t)c->rows * c->dim;
    for (int kind = MOVL_GELU_ERF; kind <= MOVL_GELU_QUICK; kind++) {
        char err[MOVL_ERRLEN] = "";
        rows_label(r, c, gelu_name((movl_gelu)kind));
        float *x = random_floats(n, -6, 6), *dy = random_floats(n, -1, 1);
        double *xd = to_double_new(x, n), *dyd = to_double_new(dy, n), *ref = dalloc(n);
        test_guarded gx = upload_new(r->dev, x, n), gdy = upload_new(r->dev, dy, n), go = test_guarded_alloc(r->dev, n);
        gelu_launch t = {r->dev, (movl_gelu)kind, n, gx.buf, gdy.buf, go.buf};
        op_launch launch = backward ? launch_gelu_backward : launch_gelu_forward;
        if (r->perf)
            time_launch(r, launch, &t, backward ? "backward" : "forward");
        if (r->eval || r->grad) {
            CHECK(launch(&t, err) == MOVL_OK, "%s failed: %s", r->label, err);
            if (backward)
                r->op->ref.gelu_backward((movl_gelu)kind, n, xd, dyd, ref);
            else
                r->op->ref.gelu_forward((movl_gelu)kind, n, xd, ref);
            float *got = check_against_ref(r, &go, ref, backward ? "dx" : "y");
            if (backward && r->grad && (c->flags & FD)) {
                gelu_loss gl = {(movl_gelu)kind, xd, dyd};
                fd_probe p = {gelu_loss_of, &gl, xd, n, {got}, {"dx"}, 1e-4, 1.0, 24, 24, NULL};
                check_fd(r, &p);
            }
            free(got);
            if (r->eval) { /* in place: y = x, dx = dy */
                t.out = backward ? gdy.buf : gx.buf;
                CHECK(launch(&t, err) == MOVL_OK, "%s in place failed: %s", r->label, err);
                free(check_against_ref(r, backward ? &gdy : &gx, ref, "in place"));
            }
        }
        test_guarded_free(&gx);
        test_guarded_free(&gdy);
        test_guarded_free(&go);
        void *mem[] = {x, dy, xd, dyd, ref};
        for (size_t i = 0; i < sizeof mem / sizeof mem[0]; i++)
            free(mem[i]);
    }
}

void run_gelu_forward(op_run *r, const void *row)
{
    if (!row) {
        char err[MOVL_ERRLEN] = "";
        int rc = movl_gelu_forward(r->dev, (movl_gelu)5, 4, NULL, NULL, err);
        CHECK(rc == MOVL_ERR_RUN && strstr(err, "GELU kind"), "an unknown GELU kind is rejected (got '%s')", err);
        return;
    }
    run_gelu(r, row, 0);
}
void run_gelu_backward(op_run *r, const void *row)
{
    if (row)
        run_gelu(r, row, 1);
}

/* ---- softmax over rows ---- */

#define SM_SCALE 0.125f /* 1 / sqrt(64): a head of 64 */

typedef struct sm_loss {
    int dim, causal;
    double *x, *w;
} sm_loss;
static double sm_loss_of(void *ctx, size_t i)
{
    sm_loss *s = ctx;
    size_t d = (size_t)s->dim, r = i / d, last = s->causal ? r % d : d - 1;
    const double *x = s->x + r * d;
    double mx = -INFINITY, z = 0, sum = 0;
    for (size_t j = 0; j <= last; j++)
        mx = fmax(mx, SM_SCALE * x[j]);
    for (size_t j = 0; j <= last; j++)
        z += exp(SM_SCALE * x[j] - mx);
    for (size_t j = 0; j <= last; j++)
        sum += s->w[r * d + j] * exp(SM_SCALE * x[j] - mx) / z;
    return sum;
}
/* Masked keys have no gradient to probe. */
static int sm_skip_masked(void *ctx, size_t i)
{
    sm_loss *s = ctx;
    size_t d = (size_t)s->dim;
    return s->causal && i % d > (i / d) % d;
}

typedef struct sm_launch {
    movl_device *dev;
    int rows, dim, causal;
    cl_mem x, y, dy, dx;
} sm_launch;
static int launch_sm_forward(void *ctx, char *err)
{
    sm_launch *t = ctx;
    return movl_softmax_forward(t->dev, t->rows, t->dim, SM_SCALE, t->causal, t->x, t->y, err);
}
static int launch_sm_backward(void *ctx, char *err)
{
    sm_launch *t = ctx;
    return movl_softmax_backward(t->dev, t->rows, t->dim, SM_SCALE, t->y, t->dy, t->dx, err);
}

static void run_softmax(op_run *r, const rows_row *c, int backward)
{
    size_t n = (size_t)c->rows * c->dim;
    for (int causal = 0; causal <= (c->rows % c->dim == 0); causal++) {
        char err[MOVL_ERRLEN] = "";
        rows_label(r, c, causal ? " causal" : "");
        float *x = random_floats(n, -20, 20), *dy = random_floats(n, -1, 1);
        double *xd = to_double_new(x, n), *dyd = to_double_new(dy, n), *y = dalloc(n), *ref = dalloc(n);
        movl_ref_softmax_forward(c->rows, c->dim, SM_SCALE, causal, xd, y);
        test_guarded gx = upload_new(r->dev, x, n), gy = test_guarded_alloc(r->dev, n),
                     gdy = upload_new(r->dev, dy, n), gdx = test_guarded_alloc(r->dev, n);
        sm_launch t = {r->dev, c->rows, c->dim, causal, gx.buf, gy.buf, gdy.buf, gdx.buf};
        CHECK(launch_sm_forward(&t, err) == MOVL_OK, "%s failed: %s", r->label, err);
        if (!backward && r->eval)
            free(check_against_ref(r, &gy, y, "y"));
        if (r->perf)
            time_launch(r, backward ? launch_sm_backward : launch_sm_forward, &t, backward ? "backward" : "forward");
        if (backward && (r->eval || r->grad)) {
            /* the device's y, as the backward of a network reads it */
            float *yf = test_guarded_read(r->dev, &gy);
            double *yfd = to_double_new(yf, n);
            CHECK(launch_sm_backward(&t, err) == MOVL_OK, "%s failed: %s", r->label, err);
            movl_ref_softmax_backward(c->rows, c->dim, SM_SCALE, yfd, dyd, ref);
            float *dx = check_against_ref(r, &gdx, ref, "dx");
            if (r->grad && (c->flags & FD)) {
                sm_loss sl = {c->dim, causal, xd, dyd};
                fd_probe p = {sm_loss_of, &sl, xd, n, {dx}, {"dx"}, 1e-4, 1e-2, 16, 64, sm_skip_masked};
                check_fd(r, &p);
            }
            if (r->eval) { /* in place: dx = dy */
                t.dx = gdy.buf;
                CHECK(launch_sm_backward(&t, err) == MOVL_OK, "%s in place failed: %s", r->label, err);
                free(check_against_ref(r, &gdy, ref, "dx in place"));
            }
            free(dx);
            free(yf);
            free(yfd);
        }
        test_guarded *all[] = {&gx, &gy, &gdy, &gdx};
        for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
            test_guarded_free(all[i]);
        void *mem[] = {x, dy, xd, dyd, y, ref};
        for (size_t i = 0; i < sizeof mem / sizeof mem[0]; i++)
            free(mem[i]);
    }
}

void run_softmax_forward(op_run *r, const void *row)
{
    if (!row) {
        char err[MOVL_ERRLEN] = "";
        int rc = movl_softmax_forward(r->dev, 10, 4, 1.0f, 1, NULL, NULL, err);
        CHECK(rc == MOVL_ERR_RUN && strstr(err, "multiple of dim"),
              "a causal softmax over a partial block is rejected (got '%s')", err);
        return;
    }
    run_softmax(r, row, 0);
}
void run_softmax_backward(op_run *r, const void *row)
{
    if (row)
        run_softmax(r, row, 1);
}

/* ---- batched GEMM ---- */

/* Operands laid out as attention's are: padded rows (ld > row length), the
 * second batch level inside the first, and an offset, so that a kernel that
 * ignores a stride or the offset reads the wrong numbers. */
static movl_gemm_operand padded(size_t rows, size_t cols, int batch2, size_t offset)
{
    movl_gemm_operand o = {offset, cols + 3, 0, 0};
    o.stride2 = rows * o.ld + 5;
    o.stride1 = (size_t)batch2 * o.stride2 + 7;
    return o;
}

static movl_gemm_batch_desc bgemm_desc(const bgemm_row *c)
{
    movl_gemm_batch_desc d = {c->batch1, c->batch2, c->m, c->n, c->k, c->trans_a, c->trans_b, {0}, {0}, {0},
                              1.25f, 0};
    d.a = c->trans_a ? padded((size_t)c->k, (size_t)c->m, c->batch2, 11) : padded((size_t)c->m, (size_t)c->k, c->batch2, 11);
    d.b = c->trans_b ? padded((size_t)c->n, (size_t)c->k, c->batch2, 2) : padded((size_t)c->k, (size_t)c->n, c->batch2, 2);
    d.c = padded((size_t)c->m, (size_t)c->n, c->batch2, 13);
    return d;
}

/* Is element i of a buffer laid out as o (rows x cols per batch) inside some batch's matrix? */
static int inside(const movl_gemm_operand *o, int batch1, int batch2, size_t rows, size_t cols, size_t i)
{
    if (i < o->offset)
        return 0;
    size_t e = i - o->offset, b1 = e / o->stride1;
    e %= o->stride1;
    size_t b2 = e / o->stride2;
    e %= o->stride2;
    return b1 < (size_t)batch1 && b2 < (size_t)batch2 && e / o->ld < rows && e % o->ld < cols;
}

typedef struct bgemm_loss {
    movl_gemm_batch_desc d;
    double *A, *B, *W, *C;
    size_t nc;
    const movl_gemm_operand *probed;
    size_t rows, cols;
} bgemm_loss;
static double bgemm_loss_of(void *ctx, size_t i)
{
    (void)i;
    bgemm_loss *l = ctx;
    memset(l->C, 0, l->nc * sizeof *l->C);
    movl_ref_gemm_batched(&l->d, l->A, l->B, l->C);
    double s = 0;
    for (size_t j = 0; j < l->nc; j++)
        s += l->W[j] * l->C[j];
    return s;
}
static int bgemm_skip_padding(void *ctx, size_t i)
{
    bgemm_loss *l = ctx;
    return !inside(l->probed, l->d.batch1, l->d.batch2, l->rows, l->cols, i);
}

typedef struct bgemm_launch {
    movl_device *dev;
    const movl_gemm_batch_desc *d;
    cl_mem a, b, c;
} bgemm_launch;
static int launch_bgemm(void *ctx, char *err)
{
    bgemm_launch *t = ctx;
    return movl_gemm_batched(t->dev, t->d, t->a, t->b, t->c, err);
}

/* dA and dB of L = sum W * C as the backward computes them, into buffers laid out as A and B. */
static void bgemm_gradients(op_run *r, const movl_gemm_batch_desc *d, cl_mem A, cl_mem B, cl_mem W, cl_mem dA,
                            cl_mem dB)
{
    char err[MOVL_ERRLEN] = "";
    movl_gemm_batch_desc g = *d;
    g.alpha = d->alpha;
    g.beta = 0;
    /* d op(A) = W op(B)^T (m x k); stored transposed when trans_a: op(B) W^T (k x m). */
    if (!d->trans_a) {
        g.m = d->m, g.n = d->k, g.k = d->n, g.trans_a = 0, g.trans_b = !d->trans_b;
        g.a = d->c, g.b = d->b, g.c = d->a;
        CHECK(movl_gemm_batched(r->dev, &g, W, B, dA, err) == MOVL_OK, "%s: dA failed: %s", r->label, err);
    } else {
        g.m = d->k, g.n = d->m, g.k = d->n, g.trans_a = d->trans_b, g.trans_b = 1;
        g.a = d->b, g.b = d->c, g.c = d->a;
        CHECK(movl_gemm_batched(r->dev, &g, B, W, dA, err) == MOVL_OK, "%s: dA failed: %s", r->label, err);
    }
    /* d op(B) = op(A)^T W (k x n); stored transposed when trans_b: W^T op(A) (n x k). */
    g = *d;
    g.beta = 0;
    if (!d->trans_b) {
        g.m = d->k, g.n = d->n, g.k = d->m, g.trans_a = !d->trans_a, g.trans_b = 0;
        g.a = d->a, g.b = d->c, g.c = d->b;
        CHECK(movl_gemm_batched(r->dev, &g, A, W, dB, err) == MOVL_OK, "%s: dB failed: %s", r->label, err);
    } else {
        g.m = d->n, g.n = d->k, g.k = d->m, g.trans_a = 1, g.trans_b = d->trans_a;
        g.a = d->c, g.b = d->a, g.c = d->b;
        CHECK(movl_gemm_batched(r->dev, &g, W, A, dB, err) == MOVL_OK, "%s: dB failed: %s", r->label, err);
    }
}

void run_gemm_batched(op_run *r, const void *row)
{
    char err[MOVL_ERRLEN] = "";
    if (!row) {
        movl_gemm_batch_desc bad = {1, 1, 4, 4, 4, 0, 0, {0, 3, 0, 0}, {0, 4, 0, 0}, {0, 4, 0, 0}, 1, 0};
        int rc = movl_gemm_batched(r->dev, &bad, NULL, NULL, NULL, err);
        CHECK(rc == MOVL_ERR_RUN && strstr(err, "leading dimensions"),
              "a leading dimension shorter than its rows is rejected (got '%s')", err);
        return;
    }
    const bgemm_row *c = row;
    movl_gemm_batch_desc d = bgemm_desc(c);
    size_t na = movl_gemm_operand_extent(&d, 'a'), nb = movl_gemm_operand_extent(&d, 'b'),
           nc = movl_gemm_operand_extent(&d, 'c');
    size_t ra = (size_t)(c->trans_a ? c->k : c->m), ca = (size_t)(c->trans_a ? c->m : c->k);
    size_t rb = (size_t)(c->trans_b ? c->n : c->k), cb = (size_t)(c->trans_b ? c->k : c->n);
    float *A = random_floats(na, -1, 1), *B = random_floats(nb, -1, 1), *C0 = random_floats(nc, -1, 1),
          *W = random_floats(nc, -1, 1);
    double *Ad = to_double_new(A, na), *Bd = to_double_new(B, nb), *Wd = to_double_new(W, nc);
    snprintf(r->label, sizeof r->label, "%s %dx%d of %dx%dx%d%s%s", r->op->name, c->batch1, c->batch2, c->m, c->n,
             c->k, c->trans_a ? " A^T" : "", c->trans_b ? " B^T" : "");
    test_guarded ga = upload_new(r->dev, A, na), gb = upload_new(r->dev, B, nb), gc = upload_new(r->dev, C0, nc);
    bgemm_launch t = {r->dev, &d, ga.buf, gb.buf, gc.buf};
    if (r->perf)
        time_launch(r, launch_bgemm, &t, "C = A B");
    if (r->eval) {
        /* beta = 0 must not read C: its matrices hold NaN, the padding between them must survive */
        double *ref = to_double_new(C0, nc);
        float *Cn = malloc(nc * sizeof *Cn + 1);
        memcpy(Cn, C0, nc * sizeof *Cn);
        for (size_t i = 0; i < nc; i++)
            if (inside(&d.c, c->batch1, c->batch2, (size_t)c->m, (size_t)c->n, i))
                Cn[i] = NAN;
        test_guarded_upload(r->dev, &gc, Cn);
        movl_ref_gemm_batched(&d, Ad, Bd, ref);
        CHECK(launch_bgemm(&t, err) == MOVL_OK, "%s failed: %s", r->label, err);
        free(check_against_ref(r, &gc, ref, "C, beta 0"));
        /* beta != 0 adds to C */
        d.beta = 0.5f;
        double *ref2 = to_double_new(C0, nc);
        test_guarded_upload(r->dev, &gc, C0);
        movl_ref_gemm_batched(&d, Ad, Bd, ref2);
        CHECK(launch_bgemm(&t, err) == MOVL_OK, "%s failed: %s", r->label, err);
        free(check_against_ref(r, &gc, ref2, "C, beta 0.5"));
        d.beta = 0;
        free(ref);
        free(ref2);
        free(Cn);
    }
    if (r->grad && (c->flags & FD)) {
        test_guarded gw = upload_new(r->dev, W, nc), gda = upload_new(r->dev, A, na), gdb = upload_new(r->dev, B, nb);
        bgemm_gradients(r, &d, ga.buf, gb.buf, gw.buf, gda.buf, gdb.buf);
        float *dA = test_guarded_read(r->dev, &gda), *dB = test_guarded_read(r->dev, &gdb);
        double *Cd = dalloc(nc);
        bgemm_loss l = {d, Ad, Bd, Wd, Cd, nc, &d.a, ra, ca};
        fd_probe p = {bgemm_loss_of, &l, Ad, na, {dA}, {"dA"}, 1e-3, 1.0, 12, 1000, bgemm_skip_padding};
        check_fd(r, &p);
        l.probed = &d.b;
        l.rows = rb;
        l.cols = cb;
        p.v = Bd;
        p.n = nb;
        p.grad[0] = dB;
        p.grad_name[0] = "dB";
        check_fd(r, &p);
        test_guarded *g3[] = {&gw, &gda, &gdb};
        check_canaries(r, g3, 3, "gradients");
        for (int i = 0; i < 3; i++)
            test_guarded_free(g3[i]);
        free(dA);
        free(dB);
        free(Cd);
    }
    test_guarded *all[] = {&ga, &gb, &gc};
    check_canaries(r, all, 3, "operands");
    for (int i = 0; i < 3; i++)
        test_guarded_free(all[i]);
    void *mem[] = {A, B, C0, W, Ad, Bd, Wd};
    for (size_t i = 0; i < sizeof mem / sizeof mem[0]; i++)
        free(mem[i]);
}

/* ---- ViT token embedding ---- */

typedef struct tok_loss {
    int n, dim, patches;
    double *patch, *cls, *pos, *w;
} tok_loss;
static double tok_loss_of(void *ctx, size_t i)
{
    (void)i;
    tok_loss *l = ctx;
    size_t nt = (size_t)l->n * (l->patches + 1) * l->dim;
    double *tok = dalloc(nt), s = 0;
    movl_ref_tokens_embed(l->n, l->dim, l->patches, l->patch, l->cls, l->pos, tok);
    for (size_t j = 0; j < nt; j++)
        s += l->w[j] * tok[j];
    free(tok);
    return s;
}

/* Exact ops: every element equal to the reference rounded to float. */
static void check_bits(op_run *r, test_guarded *g, const double *ref, const char *what)
{
    float *got = check_against_ref(r, g, ref, what);
    size_t differ = 0;
    for (size_t i = 0; i < g->n; i++)
        differ += got[i] != (float)ref[i];
    CHECK(differ == 0, "%s: %s: %zu of %zu elements differ from the reference", r->label, what, differ, g->n);
    free(got);
}

static void run_tokens(op_run *r, const tok_row *c, int backward)
{
    char err[MOVL_ERRLEN] = "";
    size_t np = (size_t)c->n * c->dim * c->patches, nt = (size_t)c->n * (c->patches + 1) * c->dim,
           npos = (size_t)(c->patches + 1) * c->dim;
    float *patch = random_floats(np, -2, 2), *cls = random_floats((size_t)c->dim, -1, 1),
          *pos = random_floats(npos, -1, 1), *w = random_floats(nt, -1, 1);
    double *pd = to_double_new(patch, np), *cd = to_double_new(cls, (size_t)c->dim), *qd = to_double_new(pos, npos),
           *wd = to_double_new(w, nt);
    snprintf(r->label, sizeof r->label, "%s n=%d dim=%d patches=%d", r->op->name, c->n, c->dim, c->patches);
    test_guarded gp = upload_new(r->dev, patch, np), gc = upload_new(r->dev, cls, (size_t)c->dim),
                 gq = upload_new(r->dev, pos, npos), gt = test_guarded_alloc(r->dev, nt), gw = upload_new(r->dev, w, nt),
                 gd = test_guarded_alloc(r->dev, np);
    if (!backward && r->eval) {
        double *ref = dalloc(nt);
        r->op->ref.tokens_embed(c->n, c->dim, c->patches, pd, cd, qd, ref);
        CHECK(movl_tokens_embed(r->dev, c->n, c->dim, c->patches, gp.buf, gc.buf, gq.buf, gt.buf, err) == MOVL_OK,
              "%s failed: %s", r->label, err);
        check_bits(r, &gt, ref, "tokens");
        free(ref);
    }
    if (backward && (r->eval || r->grad)) {
        CHECK(movl_tokens_embed_backward(r->dev, c->n, c->dim, c->patches, gw.buf, gd.buf, err) == MOVL_OK,
              "%s failed: %s", r->label, err);
        float *dp = test_guarded_read(r->dev, &gd);
        if (r->eval) {
            double *ref = dalloc(np);
            r->op->ref.tokens_embed_backward(c->n, c->dim, c->patches, wd, ref);
            check_bits(r, &gd, ref, "dpatch");
            free(ref);
        }
        if (r->grad && (c->flags & FD)) {
            tok_loss l = {c->n, c->dim, c->patches, pd, cd, qd, wd};
            fd_probe p = {tok_loss_of, &l, pd, np, {dp}, {"dpatch"}, 1e-3, 1.0, 8, 8, NULL};
            check_fd(r, &p);
        }
        free(dp);
    }
    test_guarded *all[] = {&gp, &gc, &gq, &gt, &gw, &gd};
    check_canaries(r, all, 6, "buffers");
    for (int i = 0; i < 6; i++)
        test_guarded_free(all[i]);
    void *mem[] = {patch, cls, pos, w, pd, cd, qd, wd};
    for (size_t i = 0; i < sizeof mem / sizeof mem[0]; i++)
        free(mem[i]);
}

void run_tokens_embed(op_run *r, const void *row)
{
    if (!row) {
        char err[MOVL_ERRLEN] = "";
        int rc = movl_tokens_embed(r->dev, 1, 8, 0, NULL, NULL, NULL, NULL, err);
        CHECK(rc == MOVL_ERR_RUN && strstr(err, "0 patches"), "zero patches are rejected (got '%s')", err);
        return;
    }
    run_tokens(r, row, 0);
}
void run_tokens_embed_backward(op_run *r, const void *row)
{
    if (row)
        run_tokens(r, row, 1);
}

/* The parameter gradients: dpos, dcls of L = sum w * tokens, where w plays dtok. */
void run_tokens_embed_backward_params(op_run *r, const void *row)
{
    if (!row)
        return;
    const tok_row *c = row;
    char err[MOVL_ERRLEN] = "";
    size_t np = (size_t)c->n * c->dim * c->patches, nt = (size_t)c->n * (c->patches + 1) * c->dim,
           npos = (size_t)(c->patches + 1) * c->dim;
    float *patch = random_floats(np, -2, 2), *cls = random_floats((size_t)c->dim, -1, 1),
          *pos = random_floats(npos, -1, 1), *w = random_floats(nt, -1, 1);
    double *pd = to_double_new(patch, np), *cd = to_double_new(cls, (size_t)c->dim), *qd = to_double_new(pos, npos),
           *wd = to_double_new(w, nt), *rpos = dalloc(npos), *rcls = dalloc((size_t)c->dim);
    snprintf(r->label, sizeof r->label, "%s n=%d dim=%d patches=%d", r->op->name, c->n, c->dim, c->patches);
    test_guarded gw = upload_new(r->dev, w, nt), gpos = test_guarded_alloc(r->dev, npos),
                 gcls = test_guarded_alloc(r->dev, (size_t)c->dim);
    if (r->eval || r->grad) {
        CHECK(movl_tokens_embed_backward_params(r->dev, c->n, c->dim, c->patches, gw.buf, gpos.buf, gcls.buf, err) ==
                  MOVL_OK,
              "%s failed: %s", r->label, err);
        r->op->ref.tokens_embed_backward_params(c->n, c->dim, c->patches, wd, rpos, rcls);
        float *dpos = check_against_ref(r, &gpos, rpos, "dpos"), *dcls = check_against_ref(r, &gcls, rcls, "dcls");
        if (r->grad && (c->flags & FD)) {
            tok_loss l = {c->n, c->dim, c->patches, pd, cd, qd, wd};
            fd_probe p = {tok_loss_of, &l, qd, npos, {dpos}, {"dpos"}, 1e-3, 1.0, 8, 8, NULL};
            check_fd(r, &p);
            fd_probe q = {tok_loss_of, &l, cd, (size_t)c->dim, {dcls}, {"dcls"}, 1e-3, 1.0, 8, 8, NULL};
            check_fd(r, &q);
        }
        free(dpos);
        free(dcls);
    }
    test_guarded *all[] = {&gw, &gpos, &gcls};
    check_canaries(r, all, 3, "buffers");
    for (int i = 0; i < 3; i++)
        test_guarded_free(all[i]);
    void *mem[] = {patch, cls, pos, w, pd, cd, qd, wd, rpos, rcls};
    for (size_t i = 0; i < sizeof mem / sizeof mem[0]; i++)
        free(mem[i]);
}

/* ---- ViT patch rows ---- */

typedef struct patch_loss {
    int n, c, size, k;
    double *x, *w;
} patch_loss;
static double patch_loss_of(void *ctx, size_t i)
{
    (void)i;
    patch_loss *l = ctx;
    size_t nr = (size_t)l->n * l->c * l->size * l->size;
    double *rows = dalloc(nr), s = 0;
    movl_ref_patchify(l->n, l->c, l->size, l->k, l->x, rows);
    for (size_t j = 0; j < nr; j++)
        s += l->w[j] * rows[j];
    free(rows);
    return s;
}

static void run_patches(op_run *r, const patch_row *c, int backward)
{
    char err[MOVL_ERRLEN] = "";
    size_t nx = (size_t)c->n * c->c * c->size * c->size; /* size a multiple of k: as many row elements */
    float *x = random_floats(nx, -2, 2), *w = random_floats(nx, -1, 1);
    double *xd = to_double_new(x, nx), *wd = to_double_new(w, nx), *ref = dalloc(nx);
    snprintf(r->label, sizeof r->label, "%s n=%d c=%d size=%d k=%d", r->op->name, c->n, c->c, c->size, c->k);
    test_guarded gx = upload_new(r->dev, x, nx), gw = upload_new(r->dev, w, nx), go = test_guarded_alloc(r->dev, nx);
    if (!backward && r->eval) {
        r->op->ref.patchify(c->n, c->c, c->size, c->k, xd, ref);
        CHECK(movl_patchify(r->dev, c->n, c->c, c->size, c->k, gx.buf, go.buf, err) == MOVL_OK, "%s failed: %s",
              r->label, err);
        check_bits(r, &go, ref, "rows");
    }
    if (backward && (r->eval || r->grad)) {
        CHECK(movl_patchify_backward(r->dev, c->n, c->c, c->size, c->k, gw.buf, go.buf, err) == MOVL_OK,
              "%s failed: %s", r->label, err);
        if (r->eval) {
            r->op->ref.patchify_backward(c->n, c->c, c->size, c->k, wd, ref);
            check_bits(r, &go, ref, "dx");
        }
        if (r->grad && (c->flags & FD)) {
            float *dx = test_guarded_read(r->dev, &go);
            patch_loss l = {c->n, c->c, c->size, c->k, xd, wd};
            fd_probe p = {patch_loss_of, &l, xd, nx, {dx}, {"dx"}, 1e-3, 1.0, 8, 8, NULL};
            check_fd(r, &p);
            free(dx);
        }
    }
    test_guarded *all[] = {&gx, &gw, &go};
    check_canaries(r, all, 3, "buffers");
    for (int i = 0; i < 3; i++)
        test_guarded_free(all[i]);
    void *mem[] = {x, w, xd, wd, ref};
    for (size_t i = 0; i < sizeof mem / sizeof mem[0]; i++)
        free(mem[i]);
}

void run_patchify(op_run *r, const void *row)
{
    if (!row) {
        char err[MOVL_ERRLEN] = "";
        int rc = movl_patchify(r->dev, 1, 3, 30, 16, NULL, NULL, err);
        CHECK(rc == MOVL_ERR_RUN && strstr(err, "multiple of the patch"), "a size off the patch grid is rejected "
              "(got '%s')", err);
        return;
    }
    run_patches(r, row, 0);
}
void run_patchify_backward(op_run *r, const void *row)
{
    if (row)
        run_patches(r, row, 1);
}

/* ---- L2 normalisation of rows ---- */

typedef struct l2_loss {
    int dim;
    double *x, *w;
} l2_loss;
/* L = sum over row r of w . normalize(x_r): the row of element i. */
static double l2_loss_of(void *ctx, size_t i)
{
    l2_loss *s = ctx;
    size_t d = (size_t)s->dim, r = i / d;
    double *y = dalloc(d), sum = 0;
    movl_ref_l2norm_forward(1, s->dim, s->x + r * d, y);
    for (size_t j = 0; j < d; j++)
        sum += s->w[r * d + j] * y[j];
    free(y);
    return sum;
}
/* The zero row sits on the kink of max(||x||, eps): no derivative to probe there. */
static int l2_skip_zero_row(void *ctx, size_t i)
{
    return i < (size_t)((l2_loss *)ctx)->dim;
}

typedef struct l2_launch {
    movl_device *dev;
    int rows, dim;
    cl_mem x, dy, out;
} l2_launch;
static int launch_l2_forward(void *ctx, char *err)
{
    l2_launch *t = ctx;
    return movl_l2norm_forward(t->dev, t->rows, t->dim, t->x, t->out, err);
}
static int launch_l2_backward(void *ctx, char *err)
{
    l2_launch *t = ctx;
    return movl_l2norm_backward(t->dev, t->rows, t->dim, t->x, t->dy, t->out, err);
}

static void run_l2norm(op_run *r, const rows_row *c, int backward)
{
    size_t n = (size_t)c->rows * c->dim;
    char err[MOVL_ERRLEN] = "";
    rows_label(r, c, c->rows > 1 ? " (row 0 zero)" : "");
    float *x = random_floats(n, -3, 3), *dy = random_floats(n, -1, 1);
    if (c->rows > 1)
        memset(x, 0, sizeof(float) * (size_t)c->dim);
    double *xd = to_double_new(x, n), *dyd = to_double_new(dy, n), *ref = dalloc(n);
    test_guarded gx = upload_new(r->dev, x, n), gdy = upload_new(r->dev, dy, n), go = test_guarded_alloc(r->dev, n);
    l2_launch t = {r->dev, c->rows, c->dim, gx.buf, gdy.buf, go.buf};
    op_launch launch = backward ? launch_l2_backward : launch_l2_forward;
    if (r->perf)
        time_launch(r, launch, &t, backward ? "backward" : "forward");
    if (r->eval || r->grad) {
        CHECK(launch(&t, err) == MOVL_OK, "%s failed: %s", r->label, err);
        if (backward)
            r->op->ref.l2norm_backward(c->rows, c->dim, xd, dyd, ref);
        else
            r->op->ref.l2norm_forward(c->rows, c->dim, xd, ref);
        float *got = check_against_ref(r, &go, ref, backward ? "dx" : "y");
        if (backward && r->grad && (c->flags & FD)) {
            l2_loss ll = {c->dim, xd, dyd};
            fd_probe p = {l2_loss_of, &ll, xd, n, {got}, {"dx"}, 1e-5, 1e-2, 16, 64,
                          c->rows > 1 ? l2_skip_zero_row : NULL};
            check_fd(r, &p);
        }
        free(got);
        if (backward && r->eval) { /* in place: dx = dy */
            t.out = gdy.buf;
            CHECK(launch(&t, err) == MOVL_OK, "%s in place failed: %s", r->label, err);
            free(check_against_ref(r, &gdy, ref, "dx in place"));
        }
        test_guarded *in[] = {&gx};
        check_canaries(r, in, 1, "x");
    }
    test_guarded_free(&gx);
    test_guarded_free(&gdy);
    test_guarded_free(&go);
    void *mem[] = {x, dy, xd, dyd, ref};
    for (size_t i = 0; i < sizeof mem / sizeof mem[0]; i++)
        free(mem[i]);
}

void run_l2norm_forward(op_run *r, const void *row)
{
    if (!row) {
        char err[MOVL_ERRLEN] = "";
        int rc = movl_l2norm_forward(r->dev, 0, 8, NULL, NULL, err);
        CHECK(rc == MOVL_ERR_RUN && strstr(err, "rows"), "an empty l2norm is rejected (got '%s')", err);
        return;
    }
    run_l2norm(r, row, 0);
}
void run_l2norm_backward(op_run *r, const void *row)
{
    if (row)
        run_l2norm(r, row, 1);
}
