/* Launchers of the 2-D convolution (cl/conv.cl), forward with fused bias and
 * activation, and backward-to-input.
 *
 * Both directions run one tiled correlation kernel over a "prepared input" P
 * that turns every tap into a plain shifted read, so the kernel needs no
 * bounds checks and reads consecutive output columns from consecutive memory:
 *
 * forward   P = x zero-padded and split into stride phases: plane (py, px)
 *           holds padded rows py, py+S, ... and columns px, px+S, ...; tap
 *           (kh, kw) of output (oy, ox) reads plane (kh % S, kw % S) at
 *           (oy + kh / S, ox + kw / S).
 * backward  dx is split into stride phases; dx pixel (S*a + py, S*b + px)
 *           receives dy[a + cy - t][b + cx - u] * w[kh0 + S*t][kw0 + S*u] for
 *           the taps kh = kh0 + S*t congruent to py + pad_t modulo S (only
 *           those reach it). Per phase this is a stride-1 correlation of a
 *           zero-padded dy with the phase's taps of the flipped kernel, written
 *           to every S-th dx column: one launch per phase, each dx element
 *           summing its own contributions (no atomics, deterministic).
 *           Two special cases: strided depthwise convs (zero-inserted dy, one
 *           pass) and convs with few input channels (G = W^T dy, then a
 *           col2im gather); see plan_backward_depthwise and _col2im.
 *
 * Weights are packed per launch into the order the kernel reads them. The
 * workspace holds the packed weights, P and G, the latter two built per chunk
 * of images so the workspace stays bounded. Unpadded stride-1 convs (1x1
 * ones above all) read x itself: a plain GEMM over the flattened planes.
 *
 * Environment, for tests and benchmarks: MOVL_CONV_VARIANT=cpu|gpu picks the
 * kernel variant (default: by device type), MOVL_CONV_TILE=MT,TC the CPU
 * register tile, MOVL_CONV_PREP_LIMIT the per-chunk bytes of P and G. The
 * workspace size depends on them: set them before movl_conv_workspace_bytes. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "ops/ops.h"

/* Bound of the prepared input in the workspace: the batch is processed in
 * chunks of images that fit (at least one image). $MOVL_CONV_PREP_LIMIT
 * (bytes) overrides it, so tests can force chunking on small shapes. */
#define CONV_PREP_LIMIT ((size_t)64 << 20)
/* Largest stride handled (the backward runs up to S*S phase launches). */
#define CONV_MAX_STRIDE 4
/* Work-group size of the CPU kernel (each item computes a whole tile). */
#define CONV_CPU_LS 16
/* Tile of the GPU kernel (conv_tile_gpu): GT channels x GT pixels, GL x GL items. */
#define CONV_GPU_TILE 64
#define CONV_GPU_LOCAL 16
/* Offsets in the workspace are aligned to this many floats. */
#define CONV_ALIGN 64

/* ---- plan: variant, tiling, prepared input, launches ---- */

typedef enum { VARIANT_CPU, VARIANT_GPU } conv_variant;

typedef struct conv_tile {
    int mt, tc; /* output channels x 8*tc consecutive output positions */
} conv_tile;

/* How P is built from the source tensor (x or dy); copy 0: P is the source. */
typedef struct conv_prep {
    int copy;
    int src_c, src_h, src_w; /* source tensor, per image */
    int nph, s, up;          /* phases per dimension, stride, zero-insertion factor */
    int pad_t, pad_l;        /* leading zeros */
    int ph, pw;              /* rows and columns of one plane of P */
    int p_plane, p_row, p_c, p_n;
} conv_prep;

/* One launch of the tiled correlation (and the weight packing it reads). */
typedef struct conv_pass {
    int nph, ky, kx, ss;             /* taps */
    int sy, sx, guard;               /* compile-time tap slots of conv_tile; guard: ky, kx < sy, sx possible */
    int k;                           /* kernel size of the weights */
    int kh0, khs, kw0, kws;          /* weight tap of (a, b): kh0 + khs*a, kw0 + kws*b */
    int w_g, w_oc, w_r;              /* weight strides: group, output and reduction channel */
    int wp_off;                      /* packed weights, in floats from the workspace start */
    int y_off, y_n, y_c, y_row, osx; /* y_off excludes the chunk's image offset */
    int rc, ocg, groups, ohn, own, roff, coff;
} conv_pass;

typedef struct conv_plan {
    conv_variant variant;
    conv_tile tile;
    conv_prep prep;
    int npass;
    conv_pass pass[CONV_MAX_STRIDE * CONV_MAX_STRIDE];
    int zero_fill; /* some dx phase receives nothing: clear dx first */
    int chunk;     /* images per chunk */
    int col2im;    /* backward: the pass writes G = W^T dy to the workspace; conv_col2im gathers dx */
    size_t p_at;   /* P's offset in the workspace, in floats */
    size_t g_at;   /* G's offset (col2im), in floats */
    size_t g_n;    /* floats of G per image */
    size_t floats; /* workspace size in floats */
} conv_plan;

static conv_variant pick_variant(const movl_device *dev)
{
    const char *v = getenv("MOVL_CONV_VARIANT");
    if (v && !strcmp(v, "gpu"))
        return VARIANT_GPU;
    if (v && !strcmp(v, "cpu"))
        return VARIANT_CPU;
    return dev->info.is_cpu ? VARIANT_CPU : VARIANT_GPU;
}

static int max_i(int a, int b)
{
    return a > b ? a : b;
}
static size_t align_up(size_t v)
{
    return (v + CONV_ALIGN - 1) / CONV_ALIGN * CONV_ALIGN;
}

/* Register tile of conv_tile for ocg output channels per group and about
 * len output positions per image: MT x TC float8 accumulators, 12 of the 16
 * AVX registers, with the largest MT that wastes at most ~10% of the channel
 * tiles. With one channel per item (MT = 1, depthwise), up to 8 vectors: the
 * fewest computed positions for small planes. MOVL_CONV_TILE=MT,TC overrides
 * it (for benchmarks). */
static conv_tile pick_tile(int ocg, int len)
{
    static const conv_tile cand[] = {{6, 2}, {4, 3}, {3, 4}, {2, 6}};
    conv_tile t = {1, 8};
    for (int i = 0; i < 4; i++) {
        int padded = (ocg + cand[i].mt - 1) / cand[i].mt * cand[i].mt;
        if (padded * 10 <= ocg * 11) {
            t = cand[i];
            break;
        }
    }
    if (t.mt == 1) {
        long best = -1;
        for (int tc = 8; tc >= 1; tc /= 2) {
            long lanes = ((long)len + 8 * tc - 1) / (8 * tc) * (8 * tc);
            if (best < 0 || lanes < best) {
                best = lanes;
                t.tc = tc;
            }
        }
    }
    const char *o = getenv("MOVL_CONV_TILE");
    conv_tile f;
    if (o && sscanf(o, "%d,%d", &f.mt, &f.tc) == 2 && f.mt >= 1 && f.mt <= 16 && f.tc >= 1 && f.tc <= 8)
        t = f;
    return t;
}

/* Rows of a P plane with row pitch pw so that a pass over an ohn x own grid
 * (reading from row roff, column coff, taps reaching ry rows and rx columns
 * further) stays inside the plane, the last tile of 8*tc positions included. */
static int rows_needed(int ohn, int own, int roff, int coff, int ry, int rx, int pw, int tc)
{
    int len = (ohn - 1) * pw + own;
    int span = len > 8 * tc ? len : 8 * tc;
    long end = (long)(roff + ry) * pw + coff + rx + span;
    return (int)((end + pw - 1) / pw);
}

static void prep_strides(conv_prep *p)
{
    p->p_plane = p->ph * p->pw;
    p->p_row = p->pw;
    p->p_c = p->nph * p->nph * p->p_plane;
    p->p_n = p->src_c * p->p_c;
}

/* Packed-weight offsets of the passes, P's place and the chunk size. */
static void plan_layout(conv_plan *pl, int n)
{
    int mt = pl->variant == VARIANT_GPU ? CONV_GPU_TILE : pl->tile.mt;
    size_t at = 0;
    for (int i = 0; i < pl->npass; i++) {
        conv_pass *ps = &pl->pass[i];
        ps->wp_off = (int)at;
        at = align_up(at + (size_t)ps->groups * ((ps->ocg + mt - 1) / mt) * mt * ps->rc * ps->sy * ps->sx);
    }
    /* per image: P (when copied) and G (col2im) */
    size_t per = (pl->prep.copy ? (size_t)pl->prep.p_n : 0) + pl->g_n;
    pl->chunk = n;
    if (per) {
        const char *lim = getenv("MOVL_CONV_PREP_LIMIT");
        size_t limit = lim && atol(lim) > 0 ? (size_t)atol(lim) : CONV_PREP_LIMIT;
        size_t fit = limit / (per * sizeof(float));
        if (fit < 1)
            fit = 1;
        if (fit < (size_t)n)
            pl->chunk = (int)fit;
    }
    pl->p_at = at;
    if (pl->prep.copy)
        at = align_up(at + (size_t)pl->chunk * pl->prep.p_n);
    pl->g_at = at;
    at += (size_t)pl->chunk * pl->g_n;
    pl->floats = at;
}

static void plan_forward(const movl_device *dev, const movl_conv_desc *d, conv_plan *pl)
{
    int S = d->stride, K = d->k;
    int cin_g = d->cin / d->groups, cout_g = d->cout / d->groups;
    memset(pl, 0, sizeof *pl);
    pl->variant = pick_variant(dev);
    conv_prep *p = &pl->prep;
    conv_pass *ps = &pl->pass[0];
    pl->npass = 1;
    p->src_c = d->cin;
    p->src_h = d->h;
    p->src_w = d->w;
    p->s = S;
    p->up = 1;
    p->pad_t = d->pad_t;
    p->pad_l = d->pad_l;
    p->nph = S < K ? S : K;

    int reach = (K - 1) / S; /* rows/columns a tap reads past the output grid */
    pl->tile = pick_tile(cout_g, (d->oh - 1) * (d->ow + reach) + d->ow);
    p->copy = 1;
    if (S == 1 && d->pad_t == 0 && d->pad_l == 0 &&
        rows_needed(d->oh, d->ow, 0, 0, reach, reach, d->w, pl->tile.tc) <= d->h) {
        p->copy = 0; /* an unpadded stride-1 conv reads x itself */
        p->pw = d->w;
        p->ph = d->h;
    } else {
        p->pw = d->ow + reach;
        p->ph = rows_needed(d->oh, d->ow, 0, 0, reach, reach, p->pw, pl->tile.tc);
    }
    prep_strides(p);

    ps->nph = p->nph;
    ps->ky = ps->kx = ps->sy = ps->sx = K;
    ps->k = K;
    ps->ss = S;
    ps->kh0 = ps->kw0 = 0;
    ps->khs = ps->kws = 1;
    ps->w_g = cout_g * cin_g * K * K;
    ps->w_oc = cin_g * K * K;
    ps->w_r = K * K;
    ps->y_off = 0;
    ps->y_n = d->cout * d->oh * d->ow;
    ps->y_c = d->oh * d->ow;
    ps->osx = 1;
    ps->rc = cin_g;
    ps->ocg = cout_g;
    ps->groups = d->groups;
    ps->roff = ps->coff = 0;
    ps->ohn = d->oh;
    ps->own = d->ow;
    ps->y_row = d->ow;
    plan_layout(pl, d->n);
}

/* Backward geometry of one stride phase q along one dimension: dx positions
 * S*i + q for i < count receive taps kh0 + S*t for t < taps, and flipped tap
 * t' = taps-1-t of position i reads dy at i + t' + lead. */
typedef struct conv_phase {
    int count, kh0, taps, lead;
} conv_phase;

static conv_phase phase_geometry(int q, int size, int K, int S, int pad)
{
    conv_phase ph;
    ph.count = (size - q + S - 1) / S;
    ph.kh0 = (q + pad) % S;
    ph.taps = ph.kh0 < K ? (K - ph.kh0 + S - 1) / S : 0;
    ph.lead = ph.taps > 0 ? (q + pad - ph.kh0) / S - ph.taps + 1 : 0;
    return ph;
}

/* Backward of a strided depthwise conv: dy with S-1 zeros inserted between
 * its elements, correlated at stride 1 with the flipped kernel. S*S times
 * the multiply-adds of the phase split, but one pass of whole-vector stores
 * instead of S*S passes of scattered ones: depthwise convs are bound by
 * memory traffic, not arithmetic. */
static void plan_backward_depthwise(const movl_conv_desc *d, conv_plan *pl)
{
    int K = d->k;
    conv_prep *p = &pl->prep;
    conv_pass *ps = &pl->pass[0];
    pl->npass = 1;
    p->copy = 1;
    p->up = d->stride;
    p->pad_t = K - 1 - d->pad_t;
    p->pad_l = K - 1 - d->pad_l;
    p->pw = d->w + K - 1;
    p->ph = rows_needed(d->h, d->w, 0, 0, K - 1, K - 1, p->pw, pl->tile.tc);
    prep_strides(p);
    ps->nph = 1;
    ps->ky = ps->kx = ps->sy = ps->sx = ps->k = K;
    ps->ss = 1;
    ps->kh0 = ps->kw0 = K - 1;
    ps->khs = ps->kws = -1;
    ps->w_g = K * K;
    ps->w_oc = K * K;
    ps->w_r = K * K;
    ps->y_off = 0;
    ps->y_n = d->cin * d->h * d->w;
    ps->y_c = d->h * d->w;
    ps->y_row = d->w;
    ps->osx = 1;
    ps->rc = ps->ocg = 1;
    ps->groups = d->groups;
    ps->ohn = d->h;
    ps->own = d->w;
    ps->roff = ps->coff = 0;
    plan_layout(pl, d->n);
}

/* Backward with few input channels per group (the 3-channel stems): the
 * phase split leaves one channel tile, and every work-item streams all of
 * dy's planes alone, latency-bound. Instead G = W^T dy, a 1x1 conv from cout
 * to cin*k*k channels with the full channel reuse of a GEMM, then conv_col2im
 * gathers each dx element's k*k/S^2 entries of G. */
static void plan_backward_col2im(const movl_conv_desc *d, conv_plan *pl)
{
    int K = d->k, cin_g = d->cin / d->groups, cout_g = d->cout / d->groups;
    conv_prep *p = &pl->prep;
    conv_pass *ps = &pl->pass[0];
    pl->npass = 1;
    pl->col2im = 1;
    pl->tile = pick_tile(cin_g * K * K, d->oh * d->ow);
    p->pw = d->ow;
    p->ph = rows_needed(d->oh, d->ow, 0, 0, 0, 0, d->ow, pl->tile.tc);
    p->copy = p->ph > d->oh; /* dy itself unless a plane is smaller than one tile */
    prep_strides(p);
    ps->nph = 1;
    ps->ky = ps->kx = ps->sy = ps->sx = ps->k = 1;
    ps->ss = 1;
    ps->kh0 = ps->kw0 = ps->khs = ps->kws = 0;
    ps->w_g = cout_g * cin_g * K * K;
    ps->w_oc = 1;
    ps->w_r = cin_g * K * K;
    ps->rc = cout_g;
    ps->ocg = cin_g * K * K;
    ps->groups = d->groups;
    ps->ohn = d->oh;
    ps->own = d->ow;
    ps->roff = ps->coff = 0;
    ps->y_n = d->cin * K * K * d->oh * d->ow;
    ps->y_c = d->oh * d->ow;
    ps->y_row = d->ow;
    ps->osx = 1;
    pl->g_n = (size_t)ps->y_n;
    plan_layout(pl, d->n);
    ps->y_off = (int)pl->g_at;
}

static void plan_backward(const movl_device *dev, const movl_conv_desc *d, conv_plan *pl)
{
    int S = d->stride, K = d->k;
    int cin_g = d->cin / d->groups, cout_g = d->cout / d->groups;
    memset(pl, 0, sizeof *pl);
    pl->variant = pick_variant(dev);
    conv_prep *p = &pl->prep;
    p->src_c = d->cout;
    p->src_h = d->oh;
    p->src_w = d->ow;
    p->s = 1;
    p->up = 1;
    p->nph = 1;
    pl->tile = pick_tile(cin_g, (d->h - 1) * (d->w + K - 1) + d->w);
    if (cin_g == 1 && cout_g == 1 && S > 1) {
        plan_backward_depthwise(d, pl);
        return;
    }
    if (pl->variant == VARIANT_CPU && S > 1 && cin_g <= 4) {
        plan_backward_col2im(d, pl);
        return;
    }

    conv_phase py[CONV_MAX_STRIDE] = {{0, 0, 0, 0}}, px[CONV_MAX_STRIDE] = {{0, 0, 0, 0}};
    int pad_y = 0, pad_x = 0;
    for (int q = 0; q < S; q++) {
        py[q] = phase_geometry(q, d->h, K, S, d->pad_t);
        px[q] = phase_geometry(q, d->w, K, S, d->pad_l);
        if (py[q].taps > 0)
            pad_y = max_i(pad_y, -py[q].lead);
        if (px[q].taps > 0)
            pad_x = max_i(pad_x, -px[q].lead);
    }
    p->pad_t = pad_y;
    p->pad_l = pad_x;
    for (int a = 0; a < S; a++)
        for (int b = 0; b < S; b++) {
            if (py[a].count == 0 || px[b].count == 0)
                continue;
            if (py[a].taps == 0 || px[b].taps == 0) {
                pl->zero_fill = 1;
                continue;
            }
            conv_pass *ps = &pl->pass[pl->npass++];
            ps->nph = 1;
            ps->ky = py[a].taps;
            ps->kx = px[b].taps;
            /* CPU: the phases share one build with slots for the most taps,
             * (K + S - 1) / S; the GPU kernel takes the taps at run time */
            ps->guard = S > 1 && pl->variant == VARIANT_CPU;
            ps->sy = ps->guard ? (K + S - 1) / S : ps->ky;
            ps->sx = ps->guard ? (K + S - 1) / S : ps->kx;
            ps->ss = 1;
            ps->k = K;
            ps->kh0 = py[a].kh0 + S * (ps->ky - 1);
            ps->kw0 = px[b].kh0 + S * (ps->kx - 1);
            ps->khs = ps->kws = -S;
            ps->w_g = cout_g * cin_g * K * K;
            ps->w_oc = K * K;
            ps->w_r = cin_g * K * K;
            ps->y_off = a * d->w + b;
            ps->y_n = d->cin * d->h * d->w;
            ps->y_c = d->h * d->w;
            ps->y_row = S * d->w;
            ps->osx = S;
            ps->rc = cout_g;
            ps->ocg = cin_g;
            ps->groups = d->groups;
            ps->ohn = py[a].count;
            ps->own = px[b].count;
            ps->roff = py[a].lead + pad_y;
            ps->coff = px[b].lead + pad_x;
        }
    /* Row pitch: the widest reach of any phase; then enough rows for all. */
    p->copy = 1;
    int pw = 1;
    for (int i = 0; i < pl->npass; i++)
        pw = max_i(pw, pl->pass[i].own + pl->pass[i].kx - 1 + pl->pass[i].coff);
    if (pad_y == 0 && pad_x == 0 && pw <= d->ow) {
        p->copy = 0; /* dy itself will do if every pass stays inside it */
        for (int i = 0; i < pl->npass; i++) {
            const conv_pass *ps = &pl->pass[i];
            if (rows_needed(ps->ohn, ps->own, ps->roff, ps->coff, ps->ky - 1, ps->kx - 1, d->ow, pl->tile.tc) > d->oh)
                p->copy = 1;
        }
    }
    if (p->copy) {
        p->pw = pw;
        p->ph = 1;
        for (int i = 0; i < pl->npass; i++) {
            const conv_pass *ps = &pl->pass[i];
            p->ph = max_i(p->ph,
                          rows_needed(ps->ohn, ps->own, ps->roff, ps->coff, ps->ky - 1, ps->kx - 1, pw, pl->tile.tc));
        }
    } else {
        p->pw = d->ow;
        p->ph = d->oh;
    }
    prep_strides(p);
    plan_layout(pl, d->n);
}

/* ---- checks ---- */

static int check_desc(const movl_conv_desc *d, const char *op, char *err)
{
    int ok = d->n >= 1 && d->cin >= 1 && d->h >= 1 && d->w >= 1 && d->cout >= 1 && d->k >= 1 && d->stride >= 1 &&
             d->stride <= CONV_MAX_STRIDE && d->groups >= 1 && d->cin % d->groups == 0 && d->cout % d->groups == 0 &&
             d->pad_t >= 0 && d->pad_l >= 0 && d->pad_t < d->k && d->pad_l < d->k && d->oh >= 1 && d->ow >= 1 &&
             (d->oh - 1) * d->stride - d->pad_t < d->h && (d->ow - 1) * d->stride - d->pad_l < d->w;
    if (!ok) {
        movl_set_error(err,
                       "%s: bad shape n=%d cin=%d %dx%d cout=%d k=%d stride=%d groups=%d pad=%d,%d -> %dx%d "
                       "(expected positive sizes, stride <= %d, channels divisible by groups, pad < k, every "
                       "output window starting inside the input)",
                       op, d->n, d->cin, d->h, d->w, d->cout, d->k, d->stride, d->groups, d->pad_t, d->pad_l, d->oh,
                       d->ow, CONV_MAX_STRIDE);
        return 0;
    }
    /* The kernels index with int; P and the packed weights add some padding. */
    double in = (double)d->n * d->cin * (d->h + d->k + 16) * (d->w + d->k + 16);
    double out = (double)d->n * d->cout * (d->oh + d->k + 16) * (d->ow + d->k + 16);
    double wts = (double)(d->cout + CONV_GPU_TILE) * d->groups * (d->cin / d->groups) * d->k * d->k;
    if (in > INT_MAX / 2 || out > INT_MAX / 2 || wts > INT_MAX / 2) {
        movl_set_error(err,
                       "%s: tensor too large (n=%d cin=%d %dx%d cout=%d k=%d; expected fewer than 2^30 "
                       "elements in input, output and weights)",
                       op, d->n, d->cin, d->h, d->w, d->cout, d->k);
        return 0;
    }
    return 1;
}

size_t movl_conv_workspace_bytes(const movl_device *dev, const movl_conv_desc *d)
{
    if (!check_desc(d, "conv", NULL))
        return 0;
    conv_plan f, b;
    plan_forward(dev, d, &f);
    plan_backward(dev, d, &b);
    return (f.floats > b.floats ? f.floats : b.floats) * sizeof(float);
}

static int check_workspace(const conv_plan *pl, cl_mem workspace, const char *op, char *err)
{
    size_t need = pl->floats * sizeof(float);
    if (!need)
        return 1;
    size_t have = 0;
    if (workspace)
        clGetMemObjectInfo(workspace, CL_MEM_SIZE, sizeof have, &have, NULL);
    if (have < need) {
        movl_set_error(err,
                       "%s: workspace of %zu bytes is too small (expected at least %zu, from "
                       "movl_conv_workspace_bytes)",
                       op, have, need);
        return 0;
    }
    return 1;
}

/* ---- launches ---- */

static int launch_pack(movl_device *dev, const conv_plan *pl, const conv_pass *ps, cl_mem w, cl_mem ws, char *err)
{
    cl_kernel k = movl_kernel(dev, "conv", "", "conv_pack", err);
    if (!k)
        return MOVL_ERR_RUN;
    int mt = pl->variant == VARIANT_GPU ? CONV_GPU_TILE : pl->tile.mt;
    if (movl_set_args(k, err, sizeof w, &w, sizeof ws, &ws, sizeof ps->wp_off, &ps->wp_off, sizeof ps->groups,
                      &ps->groups, sizeof ps->ocg, &ps->ocg, sizeof ps->rc, &ps->rc, sizeof mt, &mt, sizeof ps->ky,
                      &ps->ky, sizeof ps->kx, &ps->kx, sizeof ps->sy, &ps->sy, sizeof ps->sx, &ps->sx, sizeof ps->kh0,
                      &ps->kh0, sizeof ps->khs, &ps->khs, sizeof ps->kw0, &ps->kw0, sizeof ps->kws, &ps->kws,
                      sizeof ps->k, &ps->k, sizeof ps->w_g, &ps->w_g, sizeof ps->w_oc, &ps->w_oc, sizeof ps->w_r,
                      &ps->w_r, (size_t)0))
        return MOVL_ERR_RUN;
    size_t items = (size_t)ps->groups * ((ps->ocg + mt - 1) / mt) * ps->rc, local = 64;
    return movl_launch(dev, k, 1, &items, &local, err);
}

static int launch_prepare(movl_device *dev, const conv_plan *pl, cl_mem src, int n0, int nb, cl_mem ws, char *err)
{
    const conv_prep *p = &pl->prep;
    cl_kernel k = movl_kernel(dev, "conv", "", "conv_prepare", err);
    if (!k)
        return MOVL_ERR_RUN;
    int x_c = p->src_h * p->src_w, x_n = p->src_c * x_c, x_off = n0 * x_n, p_off = (int)pl->p_at;
    if (movl_set_args(k, err, sizeof src, &src, sizeof x_off, &x_off, sizeof x_n, &x_n, sizeof x_c, &x_c,
                      sizeof p->src_h, &p->src_h, sizeof p->src_w, &p->src_w, sizeof ws, &ws, sizeof p_off, &p_off,
                      sizeof nb, &nb, sizeof p->src_c, &p->src_c, sizeof p->nph, &p->nph, sizeof p->ph, &p->ph,
                      sizeof p->pw, &p->pw, sizeof p->s, &p->s, sizeof p->up, &p->up, sizeof p->pad_t, &p->pad_t,
                      sizeof p->pad_l, &p->pad_l, (size_t)0))
        return MOVL_ERR_RUN;
    size_t rows = (size_t)nb * p->src_c * p->nph * p->nph * p->ph, local = 64;
    return movl_launch(dev, k, 1, &rows, &local, err);
}

static int launch_pass(movl_device *dev, const conv_plan *pl, const conv_pass *ps, cl_mem P, int p_off, cl_mem ws,
                       cl_mem bias, movl_act act, cl_mem y, int n0, int nb, char *err)
{
    const conv_tile *t = &pl->tile;
    int gpu = pl->variant == VARIANT_GPU;
    char opt[160];
    if (gpu)
        snprintf(opt, sizeof opt, "-DGPU_TILE=%d", CONV_GPU_TILE);
    else
        snprintf(opt, sizeof opt, "-DMT=%d -DTC=%d -DLS=%d -DNPH=%d -DKY=%d -DKX=%d -DSS=%d -DTAP_GUARD=%d", t->mt,
                 t->tc, CONV_CPU_LS, ps->nph, ps->sy, ps->sx, ps->ss, ps->guard);
    cl_kernel k = movl_kernel(dev, "conv", opt, gpu ? "conv_tile_gpu" : "conv_tile", err);
    if (!k)
        return MOVL_ERR_RUN;
    const conv_prep *p = &pl->prep;
    /* col2im: G, in the workspace, holds only this chunk */
    cl_mem out = pl->col2im ? ws : y;
    int y_off = ps->y_off + (pl->col2im ? 0 : n0 * ps->y_n), iact = (int)act;
    if (movl_set_args(k, err, sizeof P, &P, sizeof p_off, &p_off, sizeof p->p_n, &p->p_n, sizeof p->p_c, &p->p_c,
                      sizeof p->p_plane, &p->p_plane, sizeof p->p_row, &p->p_row, sizeof ws, &ws, sizeof ps->wp_off,
                      &ps->wp_off, sizeof bias, &bias, sizeof out, &out, sizeof y_off, &y_off, sizeof ps->y_n, &ps->y_n,
                      sizeof ps->y_c, &ps->y_c, sizeof ps->y_row, &ps->y_row, sizeof ps->osx, &ps->osx, sizeof iact,
                      &iact, sizeof nb, &nb, sizeof ps->groups, &ps->groups, sizeof ps->rc, &ps->rc, sizeof ps->ocg,
                      &ps->ocg, sizeof ps->ohn, &ps->ohn, sizeof ps->own, &ps->own, sizeof ps->roff, &ps->roff,
                      sizeof ps->coff, &ps->coff, sizeof ps->nph, &ps->nph, sizeof ps->ky, &ps->ky, sizeof ps->kx,
                      &ps->kx, sizeof ps->ss, &ps->ss, (size_t)0))
        return MOVL_ERR_RUN;
    if (gpu) {
        size_t pix = (size_t)nb * ps->ohn * ps->own;
        size_t chans = (size_t)ps->groups * ((ps->ocg + CONV_GPU_TILE - 1) / CONV_GPU_TILE);
        size_t global[2] = {(pix + CONV_GPU_TILE - 1) / CONV_GPU_TILE * CONV_GPU_LOCAL, chans * CONV_GPU_LOCAL};
        size_t local[2] = {CONV_GPU_LOCAL, CONV_GPU_LOCAL};
        return movl_launch(dev, k, 2, global, local, err);
    }
    size_t len = (size_t)(ps->ohn - 1) * p->p_row + ps->own;
    size_t tiles = (len + 8 * t->tc - 1) / (8 * t->tc);
    size_t items = (size_t)nb * tiles * ps->groups * ((ps->ocg + t->mt - 1) / t->mt);
    size_t local = CONV_CPU_LS;
    return movl_launch(dev, k, 1, &items, &local, err);
}

static int launch_col2im(movl_device *dev, const movl_conv_desc *d, const conv_plan *pl, cl_mem ws, cl_mem dx, int n0,
                         int nb, char *err)
{
    cl_kernel k = movl_kernel(dev, "conv", "", "conv_col2im", err);
    if (!k)
        return MOVL_ERR_RUN;
    int g_off = (int)pl->g_at, x_off = n0 * d->cin * d->h * d->w;
    if (movl_set_args(k, err, sizeof ws, &ws, sizeof g_off, &g_off, sizeof dx, &dx, sizeof x_off, &x_off, sizeof nb,
                      &nb, sizeof d->cin, &d->cin, sizeof d->h, &d->h, sizeof d->w, &d->w, sizeof d->oh, &d->oh,
                      sizeof d->ow, &d->ow, sizeof d->k, &d->k, sizeof d->stride, &d->stride, sizeof d->pad_t,
                      &d->pad_t, sizeof d->pad_l, &d->pad_l, (size_t)0))
        return MOVL_ERR_RUN;
    size_t rows = (size_t)nb * d->cin * d->h, local = 64;
    return movl_launch(dev, k, 1, &rows, &local, err);
}

static int run_plan(movl_device *dev, const movl_conv_desc *d, const conv_plan *pl, cl_mem src, cl_mem w, cl_mem bias,
                    movl_act act, cl_mem y, cl_mem ws, size_t y_bytes, char *err)
{
    if (pl->zero_fill && movl_fill_zero(dev, y, y_bytes, err))
        return MOVL_ERR_RUN;
    for (int i = 0; i < pl->npass; i++)
        if (launch_pack(dev, pl, &pl->pass[i], w, ws, err))
            return MOVL_ERR_RUN;
    for (int n0 = 0; n0 < d->n; n0 += pl->chunk) {
        int nb = d->n - n0 < pl->chunk ? d->n - n0 : pl->chunk;
        cl_mem P = src;
        int p_off = n0 * pl->prep.p_n;
        if (pl->prep.copy) {
            if (launch_prepare(dev, pl, src, n0, nb, ws, err))
                return MOVL_ERR_RUN;
            P = ws;
            p_off = (int)pl->p_at;
        }
        for (int i = 0; i < pl->npass; i++)
            if (launch_pass(dev, pl, &pl->pass[i], P, p_off, ws, bias, act, y, n0, nb, err))
                return MOVL_ERR_RUN;
        if (pl->col2im && launch_col2im(dev, d, pl, ws, y, n0, nb, err))
            return MOVL_ERR_RUN;
    }
    return MOVL_OK;
}

int movl_conv2d_forward(movl_device *dev, const movl_conv_desc *d, cl_mem x, cl_mem w, cl_mem bias, movl_act act,
                        cl_mem y, cl_mem workspace, char *err)
{
    if (!check_desc(d, "conv forward", err))
        return MOVL_ERR_RUN;
    if (act != MOVL_ACT_NONE && act != MOVL_ACT_RELU && act != MOVL_ACT_RELU6) {
        movl_set_error(err, "conv forward: unknown activation %d (expected none, relu or relu6)", (int)act);
        return MOVL_ERR_RUN;
    }
    conv_plan pl;
    plan_forward(dev, d, &pl);
    if (!check_workspace(&pl, workspace, "conv forward", err))
        return MOVL_ERR_RUN;
    return run_plan(dev, d, &pl, x, w, bias, act, y, workspace, 0, err);
}

int movl_conv2d_backward_input(movl_device *dev, const movl_conv_desc *d, cl_mem w, cl_mem dy, cl_mem dx,
                               cl_mem workspace, char *err)
{
    if (!check_desc(d, "conv backward", err))
        return MOVL_ERR_RUN;
    conv_plan pl;
    plan_backward(dev, d, &pl);
    if (!check_workspace(&pl, workspace, "conv backward", err))
        return MOVL_ERR_RUN;
    size_t dx_bytes = (size_t)d->n * d->cin * d->h * d->w * sizeof(float);
    return run_plan(dev, d, &pl, dy, w, NULL, MOVL_ACT_NONE, dx, workspace, dx_bytes, err);
}
