/* Geometry of the convolution's passes: which kernel variant, register
 * tile, prepared input P (padding, stride phases) and launches a shape needs,
 * and where packed weights, P and G go. Host arithmetic only; conv.c turns
 * it into a plan once per layer (see the top of conv.c for the method). */
#include <string.h>

#include "ops/conv_internal.h"

/* Bound of the prepared input in the workspace: the batch is processed in
 * chunks of images that fit (at least one image). The options' prep_limit
 * ($MOVL_CONV_PREP_LIMIT, bytes) overrides it, so tests can force chunking. */
#define CONV_PREP_LIMIT ((size_t)64 << 20)
/* Offsets in the workspace are aligned to this many floats. */
#define CONV_ALIGN 64

static conv_variant pick_variant(int is_cpu, const movl_conv_options *o)
{
    if (o->variant == MOVL_CONV_VARIANT_GPU)
        return VARIANT_GPU;
    if (o->variant == MOVL_CONV_VARIANT_CPU)
        return VARIANT_CPU;
    return is_cpu ? VARIANT_CPU : VARIANT_GPU;
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
 * len output positions per image: MT x TC vector accumulators (12 of the 16
 * AVX2 registers with 8 lanes, 24 of the 32 AVX-512 ones with 16), with the
 * largest MT that wastes at most ~10% of the channel tiles. With one channel
 * per item (MT = 1, depthwise), 8 lanes and up to 8 vectors: the fewest
 * computed positions for small planes. The options' tile (from
 * MOVL_CONV_TILE=MT,TC, for benchmarks) overrides it. */
static conv_tile pick_tile(int ocg, int len, const movl_conv_options *o)
{
    static const int cand8[][2] = {{6, 2}, {4, 3}, {3, 4}, {2, 6}};
    static const int cand16[][2] = {{8, 3}, {6, 4}, {4, 6}, {3, 8}};
    conv_tile t = {1, 8, o->vw == 16 ? 16 : 8}; /* conv_plan_create resolves vw 0 to the device's */
    const int(*cand)[2] = t.vw == 16 ? cand16 : cand8;
    for (int i = 0; i < 4; i++) {
        int padded = (ocg + cand[i][0] - 1) / cand[i][0] * cand[i][0];
        if (padded * 10 <= ocg * 11) {
            t.mt = cand[i][0];
            t.tc = cand[i][1];
            break;
        }
    }
    if (t.mt == 1) {
        /* one channel per item (depthwise, memory-bound): 8 lanes even where 16 fit
         * (bench_conv 32 dw, GFLOP/s 8 vs 16 lanes: 9.3/8.6 at --px 64, 10.9/9.4 at 128, 11.9/12.6 at 224) */
        t.vw = 8;
        long best = -1;
        for (int tc = 8; tc >= 1; tc /= 2) {
            long lanes = ((long)len + t.vw * tc - 1) / (t.vw * tc) * (t.vw * tc);
            if (best < 0 || lanes < best) {
                best = lanes;
                t.tc = tc;
            }
        }
    }
    if (o->tile_mt >= 1 && o->tile_mt <= 16 && o->tile_tc >= 1 && o->tile_tc <= 8) {
        t.mt = o->tile_mt;
        t.tc = o->tile_tc;
    }
    return t;
}

/* Rows of a P plane with row pitch pw so that a pass over an ohn x own grid
 * (reading from row roff, column coff, taps reaching ry rows and rx columns
 * further) stays inside the plane, the last run of `lanes` positions included. */
static int rows_needed(int ohn, int own, int roff, int coff, int ry, int rx, int pw, int lanes)
{
    int len = (ohn - 1) * pw + own;
    int span = len > lanes ? len : lanes;
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

void conv_plan_place(conv_geometry *pl, size_t w_base, int n, const movl_conv_options *o)
{
    int mt = pl->variant == VARIANT_GPU ? CONV_GPU_TILE : pl->tile.mt;
    size_t at = w_base;
    for (int i = 0; i < pl->npass; i++) {
        conv_pass *ps = &pl->pass[i];
        ps->wp_off = (int)at;
        at = align_up(at + (size_t)ps->groups * ((ps->ocg + mt - 1) / mt) * mt * ps->rc * ps->sy * ps->sx);
    }
    pl->w_floats = at - w_base;
    /* per image: P (when copied) and G (col2im), in chunks of images that fit the limit */
    size_t per = (pl->prep.copy ? (size_t)pl->prep.p_n : 0) + pl->g_n;
    pl->chunk = n;
    if (per) {
        size_t limit = o->prep_limit > 0 ? o->prep_limit : CONV_PREP_LIMIT;
        size_t fit = limit / (per * sizeof(float));
        if (fit < 1)
            fit = 1;
        if (fit < (size_t)n)
            pl->chunk = (int)fit;
    }
    /* interleaved P: groups of vw images, the last one of a chunk zero-filled; whole groups per chunk where they fit */
    int vw = pl->tile.vw;
    if (pl->batch_lanes && pl->chunk < n && pl->chunk >= vw)
        pl->chunk = pl->chunk / vw * vw;
    size_t p_images = pl->batch_lanes ? (size_t)(pl->chunk + vw - 1) / vw * vw : (size_t)pl->chunk;
    at = 0;
    pl->p_at = at;
    if (pl->prep.copy)
        at = align_up(at + p_images * pl->prep.p_n);
    pl->g_at = at;
    at += (size_t)pl->chunk * pl->g_n;
    pl->floats = at;
    if (pl->col2im)
        pl->pass[0].y_off = (int)pl->g_at; /* the pass writes G */
}

/* Output positions a pass computes per image with positions in the lanes
 * (runs of vw*tc over the flat grid of P's row pitch), and with images in the
 * lanes per image (tc positions of the grid, n images rounded up to vw). */
static double computed_positions(const conv_pass *ps, int p_row, const conv_tile *t)
{
    long len = (long)(ps->ohn - 1) * p_row + ps->own, run = (long)t->vw * t->tc;
    return (double)((len + run - 1) / run * run);
}
static double computed_batch_lanes(const conv_pass *ps, int n, const conv_tile *t)
{
    long pos = (long)ps->ohn * ps->own;
    return (double)((pos + t->tc - 1) / t->tc * t->tc) * ((n + t->vw - 1) / t->vw * t->vw) / n;
}

/* CPU: images in the lanes (conv_tile_batch) when the position runs would
 * compute at least 10% more than it (small planes: row padding, overlapping
 * last runs), or when the options ask. P is then always an interleaved copy,
 * exactly as large as the passes read. */
static void choose_lanes(conv_geometry *pl, int n, const movl_conv_options *o)
{
    if (pl->variant != VARIANT_CPU || pl->col2im || o->lanes == MOVL_CONV_LANES_POSITIONS)
        return;
    /* positions per item: the most the register tile holds (8 with one channel)
     * that computes at most 10% past the plane, else the fewest past it */
    conv_tile t = pl->tile;
    if (o->tile_mt < 1) {
        long pos = (long)pl->pass[0].ohn * pl->pass[0].own, best = -1;
        for (int tc = t.mt == 1 ? 8 : t.tc; tc >= 1; tc--) {
            long computed = (pos + tc - 1) / tc * tc;
            if (computed * 10 <= pos * 11) {
                t.tc = tc;
                break;
            }
            if (best < 0 || computed < best) {
                best = computed;
                t.tc = tc;
            }
        }
    }
    double flat = 0, lanes = 0;
    for (int i = 0; i < pl->npass; i++) {
        flat += computed_positions(&pl->pass[i], pl->prep.p_row, &pl->tile);
        lanes += computed_batch_lanes(&pl->pass[i], n, &t);
    }
    if (o->lanes != MOVL_CONV_LANES_IMAGES && lanes * 1.1 > flat)
        return;
    conv_prep p = pl->prep;
    p.copy = 1;
    p.pw = p.ph = 1;
    for (int i = 0; i < pl->npass; i++) {
        const conv_pass *ps = &pl->pass[i];
        p.pw = max_i(p.pw, ps->own + ps->coff + (ps->kx - 1) / ps->ss);
        p.ph = max_i(p.ph, ps->ohn + ps->roff + (ps->ky - 1) / ps->ss);
    }
    prep_strides(&p);
    /* a chunk of P holds whole groups of vw images: not when the limit allows fewer */
    size_t limit = o->prep_limit > 0 ? o->prep_limit : CONV_PREP_LIMIT;
    if ((size_t)t.vw * p.p_n * sizeof(float) > limit && n > 1)
        return;
    pl->batch_lanes = 1;
    pl->tile = t;
    pl->prep = p;
}

void conv_plan_forward(int is_cpu, const movl_conv_options *o, const movl_conv_desc *d, conv_geometry *pl)
{
    int S = d->stride, K = d->k;
    int cin_g = d->cin / d->groups, cout_g = d->cout / d->groups;
    memset(pl, 0, sizeof *pl);
    pl->variant = pick_variant(is_cpu, o);
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
    pl->tile = pick_tile(cout_g, (d->oh - 1) * (d->ow + reach) + d->ow, o);
    p->copy = 1;
    if (S == 1 && d->pad_t == 0 && d->pad_l == 0 &&
        rows_needed(d->oh, d->ow, 0, 0, reach, reach, d->w, pl->tile.vw * pl->tile.tc) <= d->h) {
        p->copy = 0; /* an unpadded stride-1 conv reads x itself */
        p->pw = d->w;
        p->ph = d->h;
    } else {
        p->pw = d->ow + reach;
        p->ph = rows_needed(d->oh, d->ow, 0, 0, reach, reach, p->pw, pl->tile.vw * pl->tile.tc);
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
    choose_lanes(pl, d->n, o);
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
static void plan_backward_depthwise(const movl_conv_desc *d, conv_geometry *pl)
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
    p->ph = rows_needed(d->h, d->w, 0, 0, K - 1, K - 1, p->pw, pl->tile.vw * pl->tile.tc);
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
}

/* Backward with few input channels per group (the 3-channel stems): the
 * phase split leaves one channel tile, and every work-item streams all of
 * dy's planes alone, latency-bound. Instead G = W^T dy, a 1x1 conv from cout
 * to cin*k*k channels with the full channel reuse of a GEMM, then conv_col2im
 * gathers each dx element's k*k/S^2 entries of G. */
static void plan_backward_col2im(const movl_conv_desc *d, const movl_conv_options *o, conv_geometry *pl)
{
    int K = d->k, cin_g = d->cin / d->groups, cout_g = d->cout / d->groups;
    conv_prep *p = &pl->prep;
    conv_pass *ps = &pl->pass[0];
    pl->npass = 1;
    pl->col2im = 1;
    pl->tile = pick_tile(cin_g * K * K, d->oh * d->ow, o);
    p->pw = d->ow;
    p->ph = rows_needed(d->oh, d->ow, 0, 0, 0, 0, d->ow, pl->tile.vw * pl->tile.tc);
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
}

void conv_plan_backward(int is_cpu, const movl_conv_options *o, const movl_conv_desc *d, conv_geometry *pl)
{
    int S = d->stride, K = d->k;
    int cin_g = d->cin / d->groups, cout_g = d->cout / d->groups;
    memset(pl, 0, sizeof *pl);
    pl->variant = pick_variant(is_cpu, o);
    conv_prep *p = &pl->prep;
    p->src_c = d->cout;
    p->src_h = d->oh;
    p->src_w = d->ow;
    p->s = 1;
    p->up = 1;
    p->nph = 1;
    pl->tile = pick_tile(cin_g, (d->h - 1) * (d->w + K - 1) + d->w, o);
    if (cin_g == 1 && cout_g == 1 && S > 1) {
        plan_backward_depthwise(d, pl);
        choose_lanes(pl, d->n, o);
        return;
    }
    if (pl->variant == VARIANT_CPU && S > 1 && cin_g <= 4) {
        plan_backward_col2im(d, o, pl);
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
            if (rows_needed(ps->ohn, ps->own, ps->roff, ps->coff, ps->ky - 1, ps->kx - 1, d->ow, pl->tile.vw * pl->tile.tc) > d->oh)
                p->copy = 1;
        }
    }
    if (p->copy) {
        p->pw = pw;
        p->ph = 1;
        for (int i = 0; i < pl->npass; i++) {
            const conv_pass *ps = &pl->pass[i];
            p->ph = max_i(p->ph,
                          rows_needed(ps->ohn, ps->own, ps->roff, ps->coff, ps->ky - 1, ps->kx - 1, pw, pl->tile.vw * pl->tile.tc));
        }
    } else {
        p->pw = d->ow;
        p->ph = d->oh;
    }
    prep_strides(p);
    choose_lanes(pl, d->n, o);
}

/* Weight gradient: bytes of partial sums the parts may take (more images per
 * part beyond it), bytes of a part's operand that the consecutive work-items
 * share on CPUs (it stays in the 1 MiB L2 while they sweep it: for the GEMMs
 * the smaller operand, for the row kernel a few rows), and the work-items
 * wanted before parts stop being split. */
#define WGRAD_SLOT_LIMIT ((size_t)32 << 20)
#define WGRAD_CACHE ((long)512 << 10)
#define WGRAD_ITEMS 256

/* vw*MT channels x NR taps of conv_wgrad_gemm: 12 vector accumulators, MT
 * channel vectors and one broadcast tap (15 or 16 of the 16 AVX registers;
 * with 16 lanes, of 32), the largest MT that wastes at most ~10% of the
 * channel vectors, else the one that wastes fewest; NR no more than the taps. */
static void pick_wgrad_tile(int cout_g, int nr, int is_gpu, int vw, conv_wgrad *wg)
{
    static const int cand[] = {3, 2, 1};
    int best = -1;
    wg->vw = is_gpu ? 8 : vw;
    int lanes = wg->vw;
    wg->mt = 1;
    for (int i = 0; i < 3; i++) {
        int padded = (cout_g + lanes * cand[i] - 1) / (lanes * cand[i]) * (lanes * cand[i]);
        if (padded * 10 <= cout_g * 11) {
            wg->mt = cand[i];
            break;
        }
        if (best < 0 || padded < best) {
            best = padded;
            wg->mt = cand[i];
        }
    }
    wg->nrt = 12 / wg->mt;
    if (is_gpu) { /* many small items rather than a few register-heavy ones */
        wg->mt = 1;
        wg->nrt = 4;
    }
    if (wg->nrt > nr)
        wg->nrt = nr;
    wg->cpad = (cout_g + lanes * wg->mt - 1) / (lanes * wg->mt) * (lanes * wg->mt);
}

void conv_plan_wgrad(int is_cpu, const movl_conv_options *o, const movl_conv_desc *d, conv_wgrad *wg)
{
    int K = d->k, S = d->stride, cin_g = d->cin / d->groups, cout_g = d->cout / d->groups;
    int is_gpu = pick_variant(is_cpu, o) == VARIANT_GPU;
    memset(wg, 0, sizeof *wg);
    wg->nr = cin_g * K * K;
    wg->slot = (size_t)d->cout * wg->nr + d->cout;
    /* rows: depthwise, and few input channels per group (the stems: too few taps for a GEMM tile, and
     * the GEMM's channels-last copy of dz would move more than it saves: 7x7 stem at 64 px 25 -> 14 ms) */
    wg->rows = (cin_g == 1 && cout_g == 1) || (cin_g <= 4 && wg->nr < 160);
    /* P: x zero-padded and split into stride phases, rows and columns reaching
     * `reach` past the output grid; an unpadded stride-1 conv reads x itself */
    conv_prep *p = &wg->prep;
    int reach = (K - 1) / S;
    p->copy = !(S == 1 && d->pad_t == 0 && d->pad_l == 0);
    p->src_c = d->cin;
    p->src_h = d->h;
    p->src_w = d->w;
    p->s = S;
    p->up = 1;
    p->nph = S < K ? S : K;
    p->pad_t = d->pad_t;
    p->pad_l = d->pad_l;
    p->pw = p->copy ? d->ow + reach : d->w;
    p->ph = p->copy ? d->oh + reach : d->h;
    prep_strides(p);
    size_t per_image = p->copy ? (size_t)p->p_n : 0;
    long ohow = (long)d->oh * d->ow, p_group = (long)cin_g * p->nph * p->nph * p->p_plane, tiles, shared;
    /* pointwise: at least 64 positions per plane, so the masked last vector is a small share */
    wg->pointwise = K == 1 && !p->copy && d->oh * d->ow >= 64 && !(cin_g == 1 && cout_g == 1);
    if (wg->pointwise)
        wg->rows = 0;
    if (wg->pointwise) {
        per_image = 0;
        wg->mt = 3;
        wg->nrt = cin_g < 4 ? cin_g : 4;
        tiles = (long)d->groups * ((cout_g + wg->mt - 1) / wg->mt) * ((cin_g + wg->nrt - 1) / wg->nrt);
        shared = ohow * (cin_g < cout_g ? cin_g : cout_g) * (long)sizeof(float);
    } else if (wg->rows) {
        wg->len = (d->oh - 1) * p->pw + d->ow;
        /* MT x K float8 accumulators, MT channel vectors and one tap: at most 13 registers */
        wg->mt = K <= 3 ? 3 : K <= 5 ? 2 : 1;
        if (wg->mt > cout_g)
            wg->mt = cout_g;
        per_image += (size_t)d->cout * wg->len;
        shared = (long)wg->len * 32 * (long)sizeof(float);
        tiles = (long)d->groups * cin_g * K * ((cout_g + wg->mt - 1) / wg->mt);
    } else {
        /* the parts below are chosen from the 8-lane tile whatever vw, so that the order of the
         * sums, and the bits of dw, do not depend on the vector width (unless the memory limit
         * below splits the parts further) */
        conv_wgrad w8;
        pick_wgrad_tile(cout_g, wg->nr, is_gpu, 8, &w8);
        pick_wgrad_tile(cout_g, wg->nr, is_gpu, o->vw == 16 ? 16 : 8, wg);
        per_image += (size_t)d->groups * d->oh * d->ow * wg->cpad;
        tiles = (long)d->groups * (w8.cpad / (8 * w8.mt)) * ((wg->nr + w8.nrt - 1) / w8.nrt);
        shared = (ohow * w8.cpad < p_group ? ohow * w8.cpad : p_group) * (long)sizeof(float);
    }
    /* Halve the images per part until there is work enough for every core
     * and (CPU) a part's positions fit the cache, while the slots stay bounded. */
    int n = d->n, per = n;
    while (per > 1) {
        long parts = (n + per - 1) / per;
        if (tiles * parts >= (is_gpu ? 16 * WGRAD_ITEMS : WGRAD_ITEMS) && (is_gpu || per * shared <= WGRAD_CACHE))
            break;
        int next = (per + 1) / 2;
        if ((size_t)((n + next - 1) / next) * wg->slot * sizeof(float) > WGRAD_SLOT_LIMIT)
            break;
        per = next;
    }
    size_t limit = o->prep_limit > 0 ? o->prep_limit : CONV_PREP_LIMIT;
    size_t fit = per_image ? limit / (per_image * sizeof(float)) : (size_t)n; /* pointwise: nothing to prepare */
    if (fit < 1)
        fit = 1;
    if (fit < (size_t)per)
        per = (int)fit;
    wg->per = per;
    wg->chunk = (int)(fit / per * per);
    if (wg->chunk > n)
        wg->chunk = n;
    wg->parts = (n + per - 1) / per;
    wg->col_at = 0;
    wg->d_at = p->copy ? align_up((size_t)wg->chunk * p->p_n) : 0;
    size_t d_per = wg->pointwise ? 0 : wg->rows ? (size_t)d->cout * wg->len : (size_t)d->groups * d->oh * d->ow * wg->cpad;
    wg->part_at = align_up(wg->d_at + (size_t)wg->chunk * d_per);
    wg->floats = wg->part_at + (wg->parts > 1 ? (size_t)wg->parts * wg->slot : 0);
}
