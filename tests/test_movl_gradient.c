/* The whole MoVL loss L = CE(g(f(x~)), y) + lambda * D through the trainer's
 * own step (tr_step_prompt) and a real encoder: ResNet-18 with seeded random
 * weights (written here as safetensors) at 32 x 32, one batch of 4
 * PneumoniaMNIST images, lambda = 0.5, every discrepancy (kl at temperature
 * 2), with a padding prompt (p = 4) and again (none, feature_mse, kl) with a
 * full prompt through a sigmoid. Checked:
 *   - a step with learning rate 0 (Adam for the prompt, SGD for the head)
 *     leaves the prompt and the probe bit-identical, so repeated steps are
 *     pure loss + gradient evaluations;
 *   - the loss values the step reports (CE and D slots, their lambda-sum)
 *     equal a double host evaluation of docs/METHOD.md's definitions from the
 *     prompted features f(x~) the step computed and the cached plain f(x);
 *   - dW, db against central finite differences of that host loss in double
 *     (W does not change f, so this is exact up to rounding), entry by entry
 *     and along (dW, db) itself;
 *   - the discrepancy's own share of each gradient (its gradient minus that
 *     of discrepancy none at the same point: CE's share is the same, and it
 *     would otherwise hide a wrong D term that is small next to CE):
 *     plain_ce trains the probe on the plain path and gives no prompt
 *     gradient; kl's plain-path target is detached (held at the current W in
 *     the differences, and the undetached difference must disagree);
 *     feature_mse, cosine and pixel add nothing to dW, db; pixel adds exactly
 *     lambda * 2 delta / (3 S^2) to d delta;
 *   - d delta against central finite differences of the step's own loss
 *     (and of its lambda * D alone for D's share), i.e. through the prompt,
 *     the fp32 encoder forward and the loss kernels.
 *
 * Tolerances of the delta check. The loss is fp32 and the encoder's features
 * carry rounding of ~1e-6 relative, so a central difference with step h has a
 * rounding error of about |L| * 1e-6 / h; with h small it drowns, with h
 * large the curvature (O(h^2)) and the ReLU / max-pool kinks the perturbation
 * crosses dominate (measured: differences settle within ~5e-4 of the analytic
 * value for h from 0.04 down to 0.005, and drift beyond). So each point is
 * measured along a unit direction over all of delta (for the gradient
 * direction the expected value is |d delta| itself, the most signal) at two
 * steps, h = 0.02 and 0.01, and passes when either difference is within
 * 3e-2 * |g| + atol of the analytic value g, atol = 20 * |L| * 1e-6 / h (the
 * rounding floor with margin). A kink crossed at one step rarely spoils the
 * other the same way. Three random directions and the three largest single
 * elements are checked likewise; one outlier among those six per
 * discrepancy is tolerated (and printed: a kink, seen in ~1 of 300 points
 * with h = 0.04); the gradient direction itself must always pass. Each run
 * draws a fresh seed (printed; MOVL_TEST_SEED replays it). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "adapt/discrepancy.h"
#include "core/common.h"
#include "test_util.h"
#include "train/trainer_internal.h"
#include "core/weights.h"

#define DATA_PATH "data/medmnist/pneumoniamnist.npz"
#define LAMBDA 0.5
#define TEMPERATURE 2.0

static char err[MOVL_ERRLEN];

/* ---------- random ResNet-18 weights (torchvision names) ---------- */

typedef struct wlist {
    movl_tensor_out t[128];
    char names[128][64];
    float *data[128];
    int n;
} wlist;

static double gauss(void)
{
    double u1 = test_uniform(1e-7f, 1.0f), u2 = test_uniform(0.0f, 1.0f);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

static void add_tensor(wlist *w, const char *name, int ndim, const int64_t *shape, int kind, double scale)
{
    int i = w->n++;
    size_t n = 1;
    snprintf(w->names[i], sizeof w->names[i], "%s", name);
    w->t[i].name = w->names[i];
    w->t[i].ndim = ndim;
    for (int d = 0; d < ndim; d++)
        n *= (size_t)(w->t[i].shape[d] = shape[d]);
    float *a = malloc(n * sizeof *a);
    for (size_t j = 0; j < n; j++) /* 0: N(0, scale); 1: 1 + U(-scale, scale); 2: U(-scale, scale) */
        a[j] = kind == 0 ? (float)(scale * gauss())
                         : (float)((kind == 1 ? 1.0 : 0.0) + test_uniform((float)-scale, (float)scale));
    w->t[i].data = w->data[i] = a;
}

static void add_conv_bn(wlist *w, const char *conv, const char *bn, int cout, int cin, int k)
{
    int64_t shape[4] = {cout, cin, k, k}, c[1] = {cout};
    char name[96];
    add_tensor(w, conv, 4, shape, 0, sqrt(2.0 / (cin * k * k))); /* He init */
    snprintf(name, sizeof name, "%s.weight", bn);
    add_tensor(w, name, 1, c, 1, 0.2);
    snprintf(name, sizeof name, "%s.bias", bn);
    add_tensor(w, name, 1, c, 2, 0.2);
    snprintf(name, sizeof name, "%s.running_mean", bn);
    add_tensor(w, name, 1, c, 2, 0.2);
    snprintf(name, sizeof name, "%s.running_var", bn);
    add_tensor(w, name, 1, c, 1, 0.3);
}

static int write_resnet18(const char *path)
{
    static wlist w;
    w.n = 0;
    add_conv_bn(&w, "conv1.weight", "bn1", 64, 3, 7);
    int cin = 64;
    for (int s = 0; s < 4; s++)
        for (int b = 0; b < 2; b++) {
            int planes = 64 << s;
            char p[32], conv[96], bn[96];
            snprintf(p, sizeof p, "layer%d.%d.", s + 1, b);
            for (int j = 1; j <= 2; j++) {
                snprintf(conv, sizeof conv, "%sconv%d.weight", p, j);
                snprintf(bn, sizeof bn, "%sbn%d", p, j);
                add_conv_bn(&w, conv, bn, planes, j == 1 ? cin : planes, 3);
            }
            if (cin != planes) {
                snprintf(conv, sizeof conv, "%sdownsample.0.weight", p);
                snprintf(bn, sizeof bn, "%sdownsample.1", p);
                add_conv_bn(&w, conv, bn, planes, cin, 1);
            }
            cin = planes;
        }
    int64_t fw[2] = {1000, 512}, fb[1] = {1000};
    add_tensor(&w, "fc.weight", 2, fw, 2, 1.0 / sqrt(512.0));
    add_tensor(&w, "fc.bias", 1, fb, 2, 1.0 / sqrt(512.0));
    int rc = movl_weights_write(path, w.t, (size_t)w.n, NULL, err);
    for (int i = 0; i < w.n; i++)
        free(w.data[i]);
    return rc;
}

/* ---------- the host loss (docs/METHOD.md), in double ---------- */

typedef struct host_in {
    int n, D, K;
    const float *F, *H;   /* prompted and plain features [n][D] */
    const int *y;         /* labels */
    const double *zt;     /* kl: the detached target logits [n][K] (NULL: compute from W, b) */
    size_t P;             /* pixel: prompt values, all additive inside the image */
    const float *delta;
    int S;
} host_in;

static void logits(const host_in *h, const float *X, const double *W, const double *b, double *z)
{
    for (int i = 0; i < h->n; i++)
        for (int k = 0; k < h->K; k++) {
            double s = b[k];
            for (int d = 0; d < h->D; d++)
                s += W[(size_t)k * h->D + d] * X[(size_t)i * h->D + d];
            z[i * h->K + k] = s;
        }
}

static double xent(int n, int K, const double *z, const int *y)
{
    double sum = 0;
    for (int i = 0; i < n; i++) {
        double mx = z[i * K];
        for (int k = 1; k < K; k++)
            mx = fmax(mx, z[i * K + k]);
        double se = 0;
        for (int k = 0; k < K; k++)
            se += exp(z[i * K + k] - mx);
        sum += mx + log(se) - z[i * K + y[i]];
    }
    return sum / n;
}

static void softmax_t(int K, const double *z, double T, double *p)
{
    double mx = z[0] / T, s = 0;
    for (int k = 1; k < K; k++)
        mx = fmax(mx, z[k] / T);
    for (int k = 0; k < K; k++)
        s += p[k] = exp(z[k] / T - mx);
    for (int k = 0; k < K; k++)
        p[k] /= s;
}

/* CE and D (without lambda) of one discrepancy kind. */
static void host_loss(const host_in *h, movl_disc_kind kind, const double *W, const double *b, double *ce, double *D)
{
    double z[64] = {0}, zp[64] = {0};
    logits(h, h->F, W, b, z);
    *ce = xent(h->n, h->K, z, h->y);
    *D = 0;
    switch (kind) {
    case MOVL_DISC_FEATURE_MSE:
        for (size_t i = 0; i < (size_t)h->n * h->D; i++)
            *D += ((double)h->F[i] - h->H[i]) * ((double)h->F[i] - h->H[i]);
        *D /= (double)h->n * h->D;
        break;
    case MOVL_DISC_COSINE:
        for (int i = 0; i < h->n; i++) {
            double ab = 0, aa = 0, bb = 0;
            for (int d = 0; d < h->D; d++) {
                double a = h->F[(size_t)i * h->D + d], c = h->H[(size_t)i * h->D + d];
                ab += a * c, aa += a * a, bb += c * c;
            }
            *D += 1 - ab / (sqrt(aa) * sqrt(bb));
        }
        *D /= h->n;
        break;
    case MOVL_DISC_KL:
        if (h->zt)
            memcpy(zp, h->zt, sizeof(double) * (size_t)h->n * h->K);
        else
            logits(h, h->H, W, b, zp);
        for (int i = 0; i < h->n; i++) {
            double p[32], q[32];
            softmax_t(h->K, zp + i * h->K, TEMPERATURE, p);
            softmax_t(h->K, z + i * h->K, TEMPERATURE, q);
            for (int k = 0; k < h->K; k++)
                *D += p[k] * log(p[k] / q[k]);
        }
        *D /= h->n;
        break;
    case MOVL_DISC_PLAIN_CE:
        logits(h, h->H, W, b, zp);
        *D = xent(h->n, h->K, zp, h->y);
        break;
    case MOVL_DISC_PIXEL: /* mean over batch * 3 * S * S of (x~ - x)^2 = delta^2 where the mask is 1 */
        for (size_t i = 0; i < h->P; i++)
            *D += (double)h->delta[i] * h->delta[i];
        *D /= 3.0 * h->S * h->S;
        break;
    default:
        break;
    }
}

static double host_total(const host_in *h, movl_disc_kind kind, const double *W, const double *b)
{
    double ce, D;
    host_loss(h, kind, W, b, &ce, &D);
    return ce + (kind == MOVL_DISC_NONE ? 0.0 : LAMBDA * D);
}

/* ---------- the trainer under test ---------- */

static trainer t;
static movl_experiment exp_cfg;
static const stage joint = {STAGE_PROMPT_PROBE, 1, 1, 1, 1, "grad"};
static const int idx[4] = {0, 1, 2, 3};

/* One lr-0 step with the prompt at delta; returns its total loss, and in *D
 * (may be NULL) lambda times its discrepancy slot. */
static double step_loss(const float *delta, double *D)
{
    float slots[2];
    if (movl_upload(&t.dev, t.model.prompt, delta, sizeof(float) * t.model.prompt_len, err) ||
        tr_step_prompt(&t, &joint, idx, 4, 0.0, 0.0, err) ||
        (D && movl_download(&t.dev, t.bufs.losses, slots, sizeof slots, err))) {
        fprintf(stderr, "step failed: %s\n", err);
        exit(1);
    }
    if (D)
        *D = LAMBDA * slots[1];
    return t.progress.last_loss;
}

static double dot(const float *a, const float *b, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += (double)a[i] * b[i];
    return s;
}

/* Central differences along unit direction u at h = 0.02 and 0.01 of the
 * step's total loss (disc_only = 0) or of lambda * D (disc_only = 1); returns
 * 1 when either matches g, the analytic directional derivative. scale: the
 * size of the differenced value, for the rounding floor. */
static int fd_delta_ok(const float *delta0, const float *u, double g, double scale, int disc_only, const char *what,
                       movl_disc_kind kind)
{
    float *d = malloc(sizeof(float) * t.model.prompt_len);
    double fd[2], h0 = 0.02;
    int ok = 0;
    for (int s = 0; s < 2; s++) {
        double h = h0 / (1 << s), lp, lm, hp = 0, hm = 0, uu = 0;
        for (size_t i = 0; i < t.model.prompt_len; i++)
            d[i] = (float)(delta0[i] + h * u[i]);
        lp = step_loss(d, NULL);
        if (disc_only)
            step_loss(d, &lp);
        for (size_t i = 0; i < t.model.prompt_len; i++)
            d[i] = (float)(delta0[i] - h * u[i]);
        lm = step_loss(d, NULL);
        if (disc_only)
            step_loss(d, &lm);
        /* the perturbation actually applied is the fp32-rounded one */
        for (size_t i = 0; i < t.model.prompt_len; i++)
            if (u[i] != 0) {
                hp += ((double)(float)(delta0[i] + h * u[i]) - delta0[i]) * u[i];
                hm += ((double)delta0[i] - (float)(delta0[i] - h * u[i])) * u[i];
                uu += (double)u[i] * u[i];
            }
        fd[s] = (lp - lm) / ((hp + hm) / uu);
        double atol = 20.0 * fabs(scale) * 1e-6 / h;
        if (fabs(fd[s] - g) <= 3e-2 * fabs(g) + atol)
            ok = 1;
    }
    if (!ok || getenv("MOVL_TEST_VERBOSE"))
        printf("  %s %s: analytic %.6g, differences %.6g (h 0.02) %.6g (h 0.01)%s\n", movl_disc_name(kind), what, g,
               fd[0], fd[1], ok ? "" : "  <- mismatch");
    free(d);
    return ok;
}

/* The gradients of discrepancy none (CE only) at the same point: subtracting
 * them isolates lambda * dD, which is small next to CE's for most kinds. */
static float *g_none, *dW_none, db_none[64];

static double max_abs(const float *a, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++)
        m = fmax(m, fabs(a[i]));
    return m;
}

/* Central difference in double of the host loss along (uW, ub). */
static double host_dir(const host_in *h, movl_disc_kind kind, int disc_only, const float *W0, const float *b0,
                       const double *uW, const double *ub, double step)
{
    size_t nw = (size_t)h->K * h->D;
    double *W = malloc(sizeof(double) * nw), b[64], v[2];
    for (int s = 0; s < 2; s++) {
        double sg = s ? -step : step, ce, D;
        for (size_t i = 0; i < nw; i++)
            W[i] = W0[i] + sg * uW[i];
        for (int k = 0; k < h->K; k++)
            b[k] = b0[k] + sg * ub[k];
        host_loss(h, kind, W, b, &ce, &D);
        v[s] = (disc_only ? 0.0 : ce) + (kind == MOVL_DISC_NONE ? 0.0 : LAMBDA * D);
    }
    free(W);
    return (v[0] - v[1]) / (2 * step);
}

static void check_discrepancy(movl_disc_kind kind, const float *delta0, const float *W0, const float *b0)
{
    int K = t.dims.classes, D = t.dims.feature_dim;
    size_t nw = (size_t)K * D;
    const char *name = movl_disc_name(kind);
    exp_cfg.loss.discrepancy = kind; /* read per step; set-up does not depend on it */
    if (movl_upload(&t.dev, t.model.probe.W, W0, sizeof(float) * nw, err) ||
        movl_upload(&t.dev, t.model.probe.b, b0, sizeof(float) * K, err)) {
        fprintf(stderr, "%s\n", err);
        exit(1);
    }
    double L = step_loss(delta0, NULL);

    /* the step's outputs */
    float *g = malloc(sizeof(float) * t.model.prompt_len), *dW = malloc(sizeof(float) * nw), db[64], slots[2];
    float *F = malloc(sizeof(float) * 4 * D), *dcur = malloc(sizeof(float) * t.model.prompt_len);
    float *Wcur = malloc(sizeof(float) * nw), bcur[64];
    if (movl_download(&t.dev, t.model.prompt_grad, g, sizeof(float) * t.model.prompt_len, err) ||
        movl_download(&t.dev, t.bufs.head_grad_W, dW, sizeof(float) * nw, err) ||
        movl_download(&t.dev, t.bufs.head_grad_b, db, sizeof(float) * K, err) ||
        movl_download(&t.dev, t.bufs.losses, slots, sizeof slots, err) ||
        movl_download(&t.dev, movl_encoder_features(t.enc), F, sizeof(float) * 4 * D, err) ||
        movl_download(&t.dev, t.model.prompt, dcur, sizeof(float) * t.model.prompt_len, err) ||
        movl_download(&t.dev, t.model.probe.W, Wcur, sizeof(float) * nw, err) ||
        movl_download(&t.dev, t.model.probe.b, bcur, sizeof(float) * K, err)) {
        fprintf(stderr, "%s\n", err);
        exit(1);
    }
    CHECK(!memcmp(dcur, delta0, sizeof(float) * t.model.prompt_len) && !memcmp(Wcur, W0, sizeof(float) * nw) &&
              !memcmp(bcur, b0, sizeof(float) * K),
          "%s: a step with lr 0 changed the parameters", name);
    if (kind == MOVL_DISC_NONE) { /* the baseline for the others */
        memcpy(g_none, g, sizeof(float) * t.model.prompt_len);
        memcpy(dW_none, dW, sizeof(float) * nw);
        memcpy(db_none, db, sizeof(float) * K);
    }

    /* loss values against the host definition */
    int y[4];
    for (int i = 0; i < 4; i++)
        y[i] = t.host.dataset.split[MOVL_SPLIT_TRAIN].samples[i].label;
    host_in h = {4, D, K, F, t.host.features[MOVL_SPLIT_TRAIN], y, NULL, t.model.prompt_len, delta0, t.dims.image_size};
    double *Wd = malloc(sizeof(double) * nw), bd[64], ce, Dv;
    for (size_t i = 0; i < nw; i++)
        Wd[i] = W0[i];
    for (int k = 0; k < K; k++)
        bd[k] = b0[k];
    host_loss(&h, kind, Wd, bd, &ce, &Dv);
    CHECK(fabs(slots[0] - ce) <= 1e-5 * fabs(ce) + 1e-6, "%s: CE slot %.8g, host %.8g", name, slots[0], ce);
    if (kind != MOVL_DISC_NONE)
        CHECK(fabs(slots[1] - Dv) <= 1e-4 * fabs(Dv) + 1e-7, "%s: D slot %.8g, host %.8g", name, slots[1], Dv);
    double Lh = host_total(&h, kind, Wd, bd);
    CHECK(fabs(L - Lh) <= 1e-5 * fabs(Lh) + 1e-6, "%s: step loss %.8g, host %.8g", name, L, Lh);
    CHECK(isfinite(L) && (kind == MOVL_DISC_NONE || Dv > 1e-6), "%s: loss %g, D %g (D must not vanish)", name, L, Dv);

    /* dW, db: host differences in double; kl's target held at W0 (detached) */
    double zt[64];
    if (kind == MOVL_DISC_KL) {
        logits(&h, h.H, Wd, bd, zt);
        h.zt = zt;
    }
    double gmax = max_abs(dW, nw);
    const double hw = 1e-4;
    int bad = 0;
    for (int j = 0; j < 12 + K; j++) {
        int isb = j >= 12;
        size_t e = isb ? (size_t)(j - 12) : (size_t)(test_uniform(0, 1) * (float)nw) % nw;
        double *p = isb ? &bd[e] : &Wd[e], keep = *p;
        *p = keep + hw;
        double lp = host_total(&h, kind, Wd, bd);
        *p = keep - hw;
        double lm = host_total(&h, kind, Wd, bd);
        *p = keep;
        double fd = (lp - lm) / (2 * hw), an = isb ? db[e] : dW[e];
        if (fabs(fd - an) > 1e-3 * fabs(fd) + 1e-4 * gmax + 1e-7) {
            bad++;
            printf("  %s d%s[%zu]: analytic %.8g, differences %.8g\n", name, isb ? "b" : "W", e, an, fd);
        }
    }
    CHECK(bad == 0, "%s: %d probe gradient entries disagree with finite differences", name, bad);
    /* all of (W, b) at once: along (dW, db) itself the derivative is its norm */
    double *uW = malloc(sizeof(double) * nw), ub[64];
    double nrm = sqrt(dot(dW, dW, nw) + dot(db, db, (size_t)K));
    for (size_t i = 0; i < nw; i++)
        uW[i] = dW[i] / nrm;
    for (int k = 0; k < K; k++)
        ub[k] = db[k] / nrm;
    double fd = host_dir(&h, kind, 0, W0, b0, uW, ub, 1e-5);
    CHECK(nrm > 0 && fabs(fd - nrm) <= 1e-3 * nrm, "%s: |dW, db| %.8g, directional difference %.8g", name, nrm, fd);
    /* the discrepancy's own share of (dW, db) */
    float *gW = malloc(sizeof(float) * nw), gb[64];
    for (size_t i = 0; i < nw; i++)
        gW[i] = dW[i] - dW_none[i];
    for (int k = 0; k < K; k++)
        gb[k] = db[k] - db_none[k];
    double dn = sqrt(dot(gW, gW, nw) + dot(gb, gb, (size_t)K));
    if (kind == MOVL_DISC_KL || kind == MOVL_DISC_PLAIN_CE) {
        for (size_t i = 0; i < nw; i++)
            uW[i] = gW[i] / dn;
        for (int k = 0; k < K; k++)
            ub[k] = gb[k] / dn;
        fd = host_dir(&h, kind, 1, W0, b0, uW, ub, 1e-5);
        CHECK(dn > 0 && fabs(fd - dn) <= 1e-3 * dn, "%s: |lambda dD/d(W, b)| %.8g, directional difference %.8g",
              name, dn, fd);
        if (kind == MOVL_DISC_KL) {
            /* without the detach the difference must disagree, else the check above proves nothing */
            h.zt = NULL;
            double fd2 = host_dir(&h, kind, 1, W0, b0, uW, ub, 1e-5);
            CHECK(fabs(fd2 - dn) > 0.05 * dn, "kl: the plain path's share is not measurable (%g vs %g)", fd2, dn);
            h.zt = zt;
        }
    } else if (kind != MOVL_DISC_NONE) {
        CHECK(dn <= 1e-6 * nrm, "%s: the discrepancy adds %g to the probe gradient (expected 0)", name, dn);
    }

    /* d delta through the encoder: the whole loss */
    double gn = sqrt(dot(g, g, t.model.prompt_len));
    CHECK(gn > 0 && isfinite(gn), "%s: |d delta| = %g", name, gn);
    float *u = malloc(sizeof(float) * t.model.prompt_len);
    for (size_t i = 0; i < t.model.prompt_len; i++)
        u[i] = (float)(g[i] / gn);
    CHECK(fd_delta_ok(delta0, u, gn, L, 0, "gradient direction", kind), "%s: d delta along itself", name);
    int outliers = 0, points = 0;
    char what[64];
    for (int r = 0; r < 3; r++, points++) { /* random directions */
        for (size_t i = 0; i < t.model.prompt_len; i++)
            u[i] = (float)gauss();
        double un = sqrt(dot(u, u, t.model.prompt_len));
        for (size_t i = 0; i < t.model.prompt_len; i++)
            u[i] = (float)(u[i] / un);
        snprintf(what, sizeof what, "random direction %d", r);
        outliers += !fd_delta_ok(delta0, u, dot(g, u, t.model.prompt_len), L, 0, what, kind);
    }
    size_t top[3] = {0, 0, 0}; /* the three largest single elements */
    for (int r = 0; r < 3; r++, points++) {
        size_t best = t.model.prompt_len;
        for (size_t i = 0; i < t.model.prompt_len; i++) {
            int taken = 0;
            for (int q = 0; q < r; q++)
                taken |= top[q] == i;
            if (!taken && (best == t.model.prompt_len || fabs(g[i]) > fabs(g[best])))
                best = i;
        }
        top[r] = best;
        memset(u, 0, sizeof(float) * t.model.prompt_len);
        u[best] = 1;
        snprintf(what, sizeof what, "element %zu", best);
        outliers += !fd_delta_ok(delta0, u, g[best], L, 0, what, kind);
    }
    CHECK(outliers <= 1, "%s: %d of %d finite-difference points of d delta disagree", name, outliers, points);

    /* d delta: the discrepancy's own share, against differences of lambda * D alone */
    float *gD = malloc(sizeof(float) * t.model.prompt_len);
    for (size_t i = 0; i < t.model.prompt_len; i++)
        gD[i] = g[i] - g_none[i];
    double gDn = sqrt(dot(gD, gD, t.model.prompt_len));
    if (kind == MOVL_DISC_PLAIN_CE) {
        CHECK(gDn == 0, "plain_ce: D does not depend on the prompt, yet adds %g to d delta", gDn);
    } else if (kind != MOVL_DISC_NONE) {
        for (size_t i = 0; i < t.model.prompt_len; i++)
            u[i] = (float)(gD[i] / gDn);
        CHECK(gDn > 0 && fd_delta_ok(delta0, u, gDn, LAMBDA * Dv, 1, "lambda * dD along itself", kind),
              "%s: lambda * dD/d delta (norm %g) disagrees with differences of lambda * D", name, gDn);
    }
    if (kind == MOVL_DISC_PIXEL) { /* exactly lambda * 2 delta / (3 S^2) per element */
        double worst = 0, scale = 2.0 * LAMBDA / (3.0 * t.dims.image_size * t.dims.image_size);
        for (size_t i = 0; i < t.model.prompt_len; i++)
            worst = fmax(worst, fabs(gD[i] - scale * delta0[i]));
        CHECK(worst <= 1e-6 * max_abs(g, t.model.prompt_len) + 1e-3 * scale * max_abs(delta0, t.model.prompt_len),
              "pixel: d delta - d delta(none) differs from lambda * 2 delta / (3 S^2) by up to %g", worst);
    }
    printf("%s: loss %.6f (CE %.6f, D %.6g), |d delta| %.4g (D's share %.4g), |dW, db| %.4g (D's share %.4g), "
           "%d/%d delta points ok\n",
           name, L, ce, Dv, gn, gDn, nrm, dn, points - outliers, points);
    free(g), free(dW), free(F), free(dcur), free(Wcur), free(Wd), free(u), free(uW), free(gW), free(gD);
}

/* One prompt configuration: set-up from an INI, then each discrepancy of
 * kinds (kinds[0] must be none, the baseline the others subtract). */
static void run_config(const char *dir, const char *wpath, const char *label, const char *prompt, size_t want_p,
                       const movl_disc_kind *kinds, int nkinds)
{
    char ini[160];
    snprintf(ini, sizeof ini, "%s/grad.ini", dir);
    FILE *f = fopen(ini, "w");
    if (!f) {
        CHECK(0, "cannot write %s", ini);
        return;
    }
    fprintf(f,
            "[experiment]\nseed = 3\noutput_dir = %s/runs\n"
            "[encoder]\narch = resnet18\nweights = %s\nsize = 32\n"
            "[data]\npath = " DATA_PATH "\nmax_train = 4\nmax_eval = 4\n"
            "[prompt]\n%s\ninit = normal\ninit_std = 0.5\n"
            "[head]\ninit = random\n"
            "[loss]\ndiscrepancy = feature_mse\nlambda = %g\ntemperature = %g\n"
            "[train]\nmethod = movl\nbatch_size = 4\nepochs = 1\n"
            "prompt_optimizer = adam\nhead_optimizer = sgd\nhead_momentum = 0.9\n"
            "[eval]\nbatch_size = 4\n",
            dir, wpath, prompt, LAMBDA, TEMPERATURE);
    fclose(f);
    printf("-- prompt: %s\n", label);
    memset(&t, 0, sizeof t);
    int rc = movl_experiment_load(ini, NULL, 0, 0, &exp_cfg, err);
    CHECK(rc == MOVL_OK, "experiment: %s", err);
    t.exp = &exp_cfg;
    t.quiet = 1;
    if (rc == MOVL_OK && (rc = tr_setup(&t, err)) == MOVL_OK)
        rc = tr_cache_features(&t, MOVL_SPLIT_TRAIN, 0, err);
    CHECK(rc == MOVL_OK, "set-up: %s", err);
    if (rc == MOVL_OK) {
        CHECK(t.host.dataset.split[MOVL_SPLIT_TRAIN].n == 4 && t.dims.classes == 2 && t.dims.feature_dim == 512 &&
                  t.model.prompt_len == want_p,
              "set-up: %d train samples, K %d, D %d, P %zu", t.host.dataset.split[MOVL_SPLIT_TRAIN].n, t.dims.classes,
              t.dims.feature_dim, t.model.prompt_len);
        size_t nw = (size_t)t.dims.classes * t.dims.feature_dim;
        float *delta0 = malloc(sizeof(float) * t.model.prompt_len), *W0 = malloc(sizeof(float) * nw), b0[64];
        if (movl_download(&t.dev, t.model.prompt, delta0, sizeof(float) * t.model.prompt_len, err) ||
            movl_download(&t.dev, t.model.probe.W, W0, sizeof(float) * nw, err)) {
            fprintf(stderr, "%s\n", err);
            exit(1);
        }
        b0[0] = 0.3f, b0[1] = -0.2f; /* a non-zero bias */
        g_none = malloc(sizeof(float) * t.model.prompt_len);
        dW_none = malloc(sizeof(float) * nw);
        for (int i = 0; i < nkinds; i++)
            check_discrepancy(kinds[i], delta0, W0, b0);
        free(delta0), free(W0), free(g_none), free(dW_none);
    }
    tr_free(&t);
}

int main(void)
{
    if (access(DATA_PATH, R_OK)) {
        printf("%s missing (tools/setup.sh fetches it): skipped\n", DATA_PATH);
        return 77;
    }
    test_rng_init(test_seed());
    char dir[64], wpath[128];
    test_make_tmpdir(dir, sizeof dir, "grad");
    snprintf(wpath, sizeof wpath, "%s/resnet18.safetensors", dir);
    int rc = write_resnet18(wpath);
    CHECK(rc == MOVL_OK, "writing random resnet18 weights: %s", err);
    if (rc == MOVL_OK) {
        /* every discrepancy with the default padding prompt (12 p (S - p) values) */
        const movl_disc_kind all[] = {MOVL_DISC_NONE, MOVL_DISC_FEATURE_MSE, MOVL_DISC_COSINE,
                                      MOVL_DISC_KL,   MOVL_DISC_PLAIN_CE,    MOVL_DISC_PIXEL};
        run_config(dir, wpath, "padding, p = 4", "type = padding\nsize = 4", 12 * 4 * 28, all, 6);
        /* the full prompt through a sigmoid: the chain rule of the activation in the
         * whole pipeline (pixel is left out: its host value assumes no sigmoid) */
        const movl_disc_kind some[] = {MOVL_DISC_NONE, MOVL_DISC_FEATURE_MSE, MOVL_DISC_KL};
        run_config(dir, wpath, "full, sigmoid", "type = full\nsigmoid = true", 3 * 32 * 32, some, 3);
    }
    test_remove_tree(dir);
    return test_finish();
}
