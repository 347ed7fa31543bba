/* Elementwise cases (activation forward/backward, residual add), in place
 * and out of place. These ops are exact in fp32 (selects and one correctly
 * rounded add), so beyond the table's NMSE bound every element must equal
 * the reference rounded to float, bit for bit. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "ops/ref/ops_ref.h"
#include "../../cl/common.h" /* compiled as C it holds only the activation codes */

/* The kernels take the launchers' movl_act values as ACT codes: a drift fails the build. */
_Static_assert(ACT_NONE == MOVL_ACT_NONE && ACT_RELU == MOVL_ACT_RELU && ACT_RELU6 == MOVL_ACT_RELU6,
               "cl/common.h ACT_* must equal movl_act of runtime/ops/desc/op_desc.h");

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

static void check_exact(op_run *r, test_guarded *g, const double *ref, const char *what)
{
    float *got = check_against_ref(r, g, ref, what);
    size_t differ = 0;
    for (size_t i = 0; i < g->n; i++) {
        float want = (float)ref[i];
        differ += memcmp(&got[i], &want, sizeof want) != 0;
    }
    CHECK(differ == 0, "%s: %s: %zu of %zu elements differ from the reference", r->label, what, differ, g->n);
    free(got);
}

static void set_label(op_run *r, const elt_row *c, const char *variant)
{
    snprintf(r->label, sizeof r->label, "%s %s n=%zu%s", r->op->name, act_name(c->act), c->count, variant);
}

static int near_kink(movl_act act, double v)
{
    if (act == MOVL_ACT_NONE)
        return 0;
    return fabs(v) < 1e-2 || (act == MOVL_ACT_RELU6 && fabs(v - 6) < 1e-2);
}

typedef struct elt_launch {
    movl_device *dev;
    movl_act act;
    size_t n;
    cl_mem a, b, y;
} elt_launch;

static int launch_act_forward(void *ctx, char *err)
{
    elt_launch *l = ctx;
    return movl_act_forward(l->dev, l->act, l->n, l->a, l->y, err);
}
static int launch_act_backward(void *ctx, char *err)
{
    elt_launch *l = ctx;
    return movl_act_backward(l->dev, l->act, l->n, l->a, l->b, l->y, err);
}
static int launch_add_forward(void *ctx, char *err)
{
    elt_launch *l = ctx;
    return movl_add_forward(l->dev, l->n, l->a, l->b, l->act, l->y, err);
}

void run_act_forward(op_run *r, const void *row)
{
    char err[MOVL_ERRLEN] = "";
    if (!row) { /* bad input is reported, not launched */
        int rc = movl_act_forward(r->dev, (movl_act)7, 4, NULL, NULL, err);
        CHECK(rc == MOVL_ERR_RUN && strstr(err, "activation"),
              "an unknown activation is rejected with a message (got '%s')", err);
        return;
    }
    const elt_row *c = row;
    size_t n = c->count;
    float *x = random_floats(n, -8, 8);
    plant_tail(x, n);
    test_guarded gx = upload_new(r->dev, x, n), gy = test_guarded_alloc(r->dev, n);
    elt_launch l = {r->dev, c->act, n, gx.buf, NULL, gy.buf};
    set_label(r, c, "");
    if (r->perf)
        time_launch(r, launch_act_forward, &l, "forward");
    if (r->eval) {
        double *xd = to_double_new(x, n), *yd = malloc(n * sizeof *yd + 1);
        r->op->ref.act_forward(c->act, n, xd, yd);
        CHECK(launch_act_forward(&l, err) == MOVL_OK, "%s failed: %s", r->label, err);
        check_exact(r, &gy, yd, "y");
        set_label(r, c, " in place");
        l.y = gx.buf;
        CHECK(launch_act_forward(&l, err) == MOVL_OK, "%s failed: %s", r->label, err);
        check_exact(r, &gx, yd, "y");
        free(xd);
        free(yd);
    }
    test_guarded_free(&gx);
    test_guarded_free(&gy);
    free(x);
}

/* L = sum w * f(v) in double, f the act (or act(a + b)); only term i
 * depends on v[i], so only that one is computed, by the reference on the
 * one element. */
typedef struct elt_loss {
    movl_act act;
    double *a, *b, *w; /* b NULL: the activation alone */
} elt_loss;

static double elt_loss_of(void *ctx, size_t i)
{
    elt_loss *l = ctx;
    double y;
    if (l->b)
        movl_ref_add_forward(1, l->a + i, l->b + i, l->act, &y);
    else
        movl_ref_act_forward(l->act, 1, l->a + i, &y);
    return l->w[i] * y;
}

static int elt_skip_kink(void *ctx, size_t i)
{
    elt_loss *l = ctx;
    return near_kink(l->act, l->a[i] + (l->b ? l->b[i] : 0));
}

void run_act_backward(op_run *r, const void *row)
{
    if (!row)
        return;
    char err[MOVL_ERRLEN] = "";
    const elt_row *c = row;
    size_t n = c->count;
    float *x = random_floats(n, -8, 8), *dy = random_floats(n, -1, 1);
    plant_tail(x, n);
    double *xd = to_double_new(x, n), *dyd = to_double_new(dy, n), *yd = malloc(n * sizeof *yd + 1),
           *dxd = malloc(n * sizeof *dxd + 1);
    /* the backward reads the forward's output y: the reference's, exact in float */
    movl_ref_act_forward(c->act, n, xd, yd);
    float *y = to_float_new(yd, n);
    test_guarded gy = upload_new(r->dev, y, n), gdy = upload_new(r->dev, dy, n), gdx = test_guarded_alloc(r->dev, n);
    elt_launch l = {r->dev, c->act, n, gy.buf, gdy.buf, gdx.buf};
    set_label(r, c, "");
    if (r->perf)
        time_launch(r, launch_act_backward, &l, "backward");
    if (r->eval || r->grad) {
        CHECK(launch_act_backward(&l, err) == MOVL_OK, "%s failed: %s", r->label, err);
        float *dx = test_guarded_read(r->dev, &gdx);
        if (r->eval) {
            r->op->ref.act_backward(c->act, n, yd, dyd, dxd);
            check_exact(r, &gdx, dxd, "dx");
        }
        if (r->grad && (c->flags & FD)) {
            elt_loss ls = {c->act, xd, NULL, dyd};
            fd_probe p = {elt_loss_of, &ls, xd, n, {dx}, {"dx"}, 1e-3, 1.0, 24, 64, elt_skip_kink};
            check_fd(r, &p);
        }
        if (r->eval) { /* in place: dx == dy */
            set_label(r, c, " in place");
            l.y = gdy.buf;
            CHECK(launch_act_backward(&l, err) == MOVL_OK, "%s failed: %s", r->label, err);
            check_exact(r, &gdy, dxd, "dx");
        }
        free(dx);
    }
    test_guarded_free(&gy);
    test_guarded_free(&gdy);
    test_guarded_free(&gdx);
    void *mem[] = {x, dy, y, xd, dyd, yd, dxd};
    for (size_t i = 0; i < sizeof mem / sizeof mem[0]; i++)
        free(mem[i]);
}

void run_add_forward(op_run *r, const void *row)
{
    if (!row)
        return;
    char err[MOVL_ERRLEN] = "";
    const elt_row *c = row;
    size_t n = c->count;
    float *a = random_floats(n, -5, 5), *b = random_floats(n, -4, 4), *w = random_floats(n, -1, 1);
    plant_tail(a, n);
    for (size_t j = 0; j < 7 && j < n; j++)
        b[n - 1 - j] = 0.0f; /* so a + b keeps the planted regions */
    double *ad = to_double_new(a, n), *bd = to_double_new(b, n), *wd = to_double_new(w, n),
           *yd = malloc(n * sizeof *yd + 1);
    r->op->ref.add_forward(n, ad, bd, c->act, yd);
    test_guarded ga = upload_new(r->dev, a, n), gb = upload_new(r->dev, b, n), gy = test_guarded_alloc(r->dev, n);
    elt_launch l = {r->dev, c->act, n, ga.buf, gb.buf, gy.buf};
    set_label(r, c, "");
    if (r->perf)
        time_launch(r, launch_add_forward, &l, "forward");
    if (r->eval || r->grad) {
        CHECK(launch_add_forward(&l, err) == MOVL_OK, "%s failed: %s", r->label, err);
        if (r->eval)
            check_exact(r, &gy, yd, "y");
    }
    if (r->grad && (c->flags & FD)) {
        /* The residual add passes act's gradient unchanged to both inputs. It
         * is taken from the fp32 output the device keeps: a + b just below 6
         * in double can round to 6.0f, where relu6's slope is 0. */
        set_label(r, c, " gradient");
        double *yf = malloc(n * sizeof *yf + 1), *gd = malloc(n * sizeof *gd + 1);
        for (size_t i = 0; i < n; i++)
            yf[i] = (double)(float)yd[i];
        movl_ref_act_backward(c->act, n, yf, wd, gd);
        test_guarded gw = upload_new(r->dev, w, n), gg = test_guarded_alloc(r->dev, n);
        CHECK(movl_act_backward(r->dev, c->act, n, gy.buf, gw.buf, gg.buf, err) == MOVL_OK, "%s failed: %s", r->label,
              err);
        check_exact(r, &gg, gd, "da = db");
        float *g = test_guarded_read(r->dev, &gg);
        elt_loss ls = {c->act, ad, bd, wd};
        fd_probe p = {elt_loss_of, &ls, ad, n, {g}, {"da"}, 1e-3, 1.0, 12, 32, elt_skip_kink};
        check_fd(r, &p);
        p.v = bd;
        p.grad_name[0] = "db";
        check_fd(r, &p);
        free(g);
        free(yf);
        free(gd);
        test_guarded_free(&gw);
        test_guarded_free(&gg);
    }
    if (r->eval) {
        set_label(r, c, " into b");
        l.y = gb.buf;
        CHECK(launch_add_forward(&l, err) == MOVL_OK, "%s failed: %s", r->label, err);
        check_exact(r, &gb, yd, "y");
        set_label(r, c, " into a");
        test_guarded_upload(r->dev, &gb, b);
        l.y = ga.buf;
        CHECK(launch_add_forward(&l, err) == MOVL_OK, "%s failed: %s", r->label, err);
        check_exact(r, &ga, yd, "y");
    }
    test_guarded_free(&ga);
    test_guarded_free(&gb);
    test_guarded_free(&gy);
    void *mem[] = {a, b, w, ad, bd, wd, yd};
    for (size_t i = 0; i < sizeof mem / sizeof mem[0]; i++)
        free(mem[i]);
}
