/* Launchers of the 2-D convolution (cl/conv.cl), forward with fused bias and
 * activation, and backward-to-input (the weight gradient, planned only when
 * asked for, is in conv_wgrad.c).
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
 * Everything a shape needs is decided once, in movl_conv_plan_create (the
 * geometry in conv_plan.c): variant, tiles, passes, kernels. The weights are
 * frozen, so they are packed once into the plan's own buffer, in the order
 * the kernel reads them (movl_conv_plan_set_weights packs again after a
 * change). The workspace holds only P and G, built per chunk of images so it
 * stays bounded. Unpadded stride-1 convs (1x1 ones above all) read x itself:
 * a plain GEMM over the flattened planes.
 *
 * On CPUs the kernel's vectors have the device's preferred float width (16
 * lanes on AVX-512, else 8), and the lanes hold either consecutive output
 * positions of one image (conv_tile) or, where that would compute at least
 * 10% more (small planes: row padding and the overlapping last run), one
 * position of consecutive images (conv_tile_batch, cl/conv_batch.cl, over P
 * with the images interleaved). Both sum every output in the same order, so
 * the choice never changes a result.
 *
 * 3x3 stride-1 ungrouped convs may instead run Winograd F(2x2, 3x3)
 * (conv_winograd.c): transforms around a grouped 1x1 conv run by an inner
 * plan; chosen automatically only where it was measured to pay (CPUs, 512+
 * channels on 6x6+ planes), forced with MOVL_CONV_WINOGRAD=on|off.
 *
 * Options for tests and benchmarks (movl_conv_options, from the environment
 * at encoder load): MOVL_CONV_VARIANT=cpu|gpu picks the kernel variant
 * (default: by device type), MOVL_CONV_TILE=MT,TC the CPU register tile,
 * MOVL_CONV_VW=8|16 its vector width, MOVL_CONV_LANES=positions|images what
 * its lanes hold, MOVL_CONV_WINOGRAD=on|off the Winograd path,
 * MOVL_CONV_PREP_LIMIT the per-chunk bytes of P and G (and of Winograd's V and M). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "device/build_options.h"
#include "device/launch_shape.h"
#include "ops/conv_internal.h"

void movl_conv_options_from_env(movl_conv_options *o)
{
    memset(o, 0, sizeof *o);
    const char *v = getenv("MOVL_CONV_VARIANT");
    if (v && !strcmp(v, "gpu"))
        o->variant = MOVL_CONV_VARIANT_GPU;
    else if (v && !strcmp(v, "cpu"))
        o->variant = MOVL_CONV_VARIANT_CPU;
    const char *t = getenv("MOVL_CONV_TILE");
    int mt, tc;
    if (t && sscanf(t, "%d,%d", &mt, &tc) == 2 && mt >= 1 && mt <= 16 && tc >= 1 && tc <= 8) {
        o->tile_mt = mt;
        o->tile_tc = tc;
    }
    const char *vw = getenv("MOVL_CONV_VW");
    if (vw && (!strcmp(vw, "8") || !strcmp(vw, "16")))
        o->vw = atoi(vw);
    const char *lanes = getenv("MOVL_CONV_LANES");
    if (lanes && !strcmp(lanes, "positions"))
        o->lanes = MOVL_CONV_LANES_POSITIONS;
    else if (lanes && !strcmp(lanes, "images"))
        o->lanes = MOVL_CONV_LANES_IMAGES;
    const char *wino = getenv("MOVL_CONV_WINOGRAD");
    if (wino && !strcmp(wino, "on"))
        o->winograd = MOVL_CONV_WINOGRAD_ON;
    else if (wino && !strcmp(wino, "off"))
        o->winograd = MOVL_CONV_WINOGRAD_OFF;
    const char *lim = getenv("MOVL_CONV_PREP_LIMIT");
    if (lim && atol(lim) > 0)
        o->prep_limit = (size_t)atol(lim);
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

int conv_check_workspace(const movl_conv_plan *p, cl_mem workspace, const char *op, char *err)
{
    size_t need = p->workspace_bytes;
    if (!need)
        return 1;
    size_t have = 0;
    if (workspace)
        clGetMemObjectInfo(workspace, CL_MEM_SIZE, sizeof have, &have, NULL);
    if (have < need) {
        movl_set_error(err,
                       "%s: workspace of %zu bytes is too small (expected at least %zu, from "
                       "movl_conv_plan_workspace_bytes)",
                       op, have, need);
        return 0;
    }
    return 1;
}

/* ---- plan ---- */

static int upload_zeros(movl_device *dev, cl_mem buf, size_t bytes, char *err)
{
    void *z = calloc(1, bytes);
    if (!z) {
        movl_set_error(err, "conv: out of host memory");
        return MOVL_ERR_RUN;
    }
    int rc = movl_upload(dev, buf, z, bytes, err);
    free(z);
    return rc;
}

static cl_kernel pass_kernel(movl_device *dev, const conv_geometry *g, const conv_pass *ps, char *err)
{
    movl_build_options o;
    movl_options_init(&o);
    if (g->variant == VARIANT_GPU) {
        movl_options_int(&o, "GPU_TILE", CONV_GPU_TILE);
        return movl_kernel_with_options(dev, "conv", &o, "conv_tile_gpu", err);
    }
    /* the CPU kernel's register tile and tap slots are compile-time constants */
    movl_options_int(&o, "MT", g->tile.mt);
    movl_options_int(&o, "TC", g->tile.tc);
    movl_options_int(&o, "VW", g->tile.vw);
    movl_options_int(&o, "LS", CONV_CPU_LS);
    movl_options_int(&o, "NPH", ps->nph);
    movl_options_int(&o, "KY", ps->sy);
    movl_options_int(&o, "KX", ps->sx);
    movl_options_int(&o, "SS", ps->ss);
    movl_options_int(&o, "TAP_GUARD", ps->guard);
    if (g->batch_lanes)
        return movl_kernel_with_options(dev, "conv_batch", &o, "conv_tile_batch", err);
    return movl_kernel_with_options(dev, "conv", &o, "conv_tile", err);
}

static cl_kernel prepare_batch_kernel(movl_device *dev, int vw, char *err)
{
    movl_build_options o;
    movl_options_init(&o);
    movl_options_int(&o, "VW", vw);
    return movl_kernel_with_options(dev, "conv_batch", &o, "conv_prepare_batch", err);
}

/* The direct path's kernels and its packed-weight buffer (both directions): 1 if built, else 0 with err set. */
static int direct_kernels(movl_conv_plan *p, char *err)
{
    movl_device *dev = p->dev;
    p->weight_bytes = (p->fwd.w_floats + p->bwd.w_floats) * sizeof(float);
    int ok = (p->pack = movl_kernel(dev, "conv", "", "conv_pack", err)) &&
             (p->prepare = movl_kernel(dev, "conv", "", "conv_prepare", err)) &&
             (p->col2im = movl_kernel(dev, "conv", "", "conv_col2im", err)) &&
             (!p->fwd.batch_lanes || (p->fwd_prepare_batch = prepare_batch_kernel(dev, p->fwd.tile.vw, err))) &&
             (!p->bwd.batch_lanes || (p->bwd_prepare_batch = prepare_batch_kernel(dev, p->bwd.tile.vw, err))) &&
             (p->fwd_pass = pass_kernel(dev, &p->fwd, &p->fwd.pass[0], err));
    for (int i = 0; ok && i < p->bwd.npass; i++)
        ok = (p->bwd_pass[i] = pass_kernel(dev, &p->bwd, &p->bwd.pass[i], err)) != NULL;
    /* Zeroed once from the host so that every float is defined, the alignment gaps between passes too:
     * cleared with clEnqueueFillBuffer instead, oclgrind reports uninitialised weight reads in conv_tile
     * (results were right either way; the old per-launch packing went to a host-written workspace). */
    return ok && (p->weights = movl_buffer(dev, p->weight_bytes, err)) != NULL &&
           upload_zeros(dev, p->weights, p->weight_bytes, err) == MOVL_OK;
}

int movl_conv_plan_create(movl_device *dev, const movl_conv_desc *d, const movl_conv_options *o, movl_conv_plan **out,
                          char *err)
{
    *out = NULL;
    if (!check_desc(d, "conv", err))
        return MOVL_ERR_INPUT;
    /* vector lanes of the CPU kernels: 16 where the device prefers them (AVX-512), else 8 */
    movl_conv_options resolved;
    if (o)
        resolved = *o;
    else
        memset(&resolved, 0, sizeof resolved);
    if (resolved.vw != 8 && resolved.vw != 16)
        resolved.vw = movl_preferred_float_width(dev) >= 16 ? 16 : 8;
    o = &resolved;
    movl_conv_plan *p = calloc(1, sizeof *p);
    if (!p) {
        movl_set_error(err, "conv: out of host memory");
        return MOVL_ERR_RUN;
    }
    p->dev = dev;
    p->desc = *d;
    conv_plan_forward(dev->info.is_cpu, o, d, &p->fwd);
    conv_plan_backward(dev->info.is_cpu, o, d, &p->bwd);
    conv_plan_place(&p->fwd, 0, d->n, o);
    conv_plan_place(&p->bwd, p->fwd.w_floats, d->n, o);
    size_t ws = p->fwd.floats > p->bwd.floats ? p->fwd.floats : p->bwd.floats;
    p->weight_grads = o->weight_grads == 1;
    if (p->weight_grads) { /* one workspace serves all three directions, one after the other */
        conv_plan_wgrad(dev->info.is_cpu, o, d, &p->wgrad);
        if (p->wgrad.floats > ws)
            ws = p->wgrad.floats;
    }
    int ok;
    if (conv_winograd_wanted(dev->info.is_cpu, o, d)) {
        ok = conv_winograd_create(p, o, err) == MOVL_OK;
        if (ok && p->wino->floats > ws)
            ws = p->wino->floats;
    } else {
        ok = direct_kernels(p, err);
    }
    p->workspace_bytes = ws * sizeof(float);
    if (ok && p->weight_grads)
        ok = conv_wgrad_kernels(p, err) == MOVL_OK;
    if (!ok) {
        movl_conv_plan_free(p);
        return MOVL_ERR_RUN;
    }
    *out = p;
    return MOVL_OK;
}

void movl_conv_plan_free(movl_conv_plan *p)
{
    if (!p)
        return;
    if (p->weights)
        clReleaseMemObject(p->weights);
    conv_winograd_free(p->wino);
    free(p); /* the kernels belong to the device's program cache */
}

size_t movl_conv_plan_workspace_bytes(const movl_conv_plan *p) { return p->workspace_bytes; }
size_t movl_conv_plan_device_bytes(const movl_conv_plan *p)
{
    if (!p->wino) /* Winograd: U, and U packed by its inner plan */
        return p->weight_bytes;
    return 16 * (size_t)p->desc.cout * p->desc.cin * sizeof(float) + movl_conv_plan_device_bytes(p->wino->gemm);
}
const movl_conv_desc *movl_conv_plan_desc(const movl_conv_plan *p) { return &p->desc; }

/* ---- launches ---- */

static int launch_pack(const movl_conv_plan *p, const conv_geometry *g, const conv_pass *ps, cl_mem w, char *err)
{
    cl_kernel k = p->pack;
    cl_mem wp = p->weights;
    int mt = g->variant == VARIANT_GPU ? CONV_GPU_TILE : g->tile.mt;
    if (movl_set_args(k, err, MOVL_ARG(w), MOVL_ARG(wp), MOVL_ARG(ps->wp_off), MOVL_ARG(ps->groups),
                      MOVL_ARG(ps->ocg), MOVL_ARG(ps->rc), MOVL_ARG(mt), MOVL_ARG(ps->ky), MOVL_ARG(ps->kx),
                      MOVL_ARG(ps->sy), MOVL_ARG(ps->sx), MOVL_ARG(ps->kh0), MOVL_ARG(ps->khs), MOVL_ARG(ps->kw0),
                      MOVL_ARG(ps->kws), MOVL_ARG(ps->k), MOVL_ARG(ps->w_g), MOVL_ARG(ps->w_oc), MOVL_ARG(ps->w_r),
                      MOVL_ARGS_END))
        return MOVL_ERR_RUN;
    size_t items = (size_t)ps->groups * ((ps->ocg + mt - 1) / mt) * ps->rc, local = 64;
    return movl_launch(p->dev, k, 1, &items, &local, err);
}

int movl_conv_plan_set_weights(movl_conv_plan *p, cl_mem w, char *err)
{
    if (p->wino)
        return conv_winograd_set_weights(p, w, err);
    const conv_geometry *dirs[2] = {&p->fwd, &p->bwd};
    for (int d = 0; d < 2; d++)
        for (int i = 0; i < dirs[d]->npass; i++)
            if (launch_pack(p, dirs[d], &dirs[d]->pass[i], w, err))
                return MOVL_ERR_RUN;
    return MOVL_OK;
}

static int launch_prepare(const movl_conv_plan *p, const conv_geometry *g, cl_mem src, int src_at, int n0, int nb,
                          cl_mem ws, int ws_at, char *err)
{
    const conv_prep *pr = &g->prep;
    cl_kernel k = !g->batch_lanes ? p->prepare : g == &p->fwd ? p->fwd_prepare_batch : p->bwd_prepare_batch;
    int x_c = pr->src_h * pr->src_w, x_n = pr->src_c * x_c, x_off = src_at + n0 * x_n, p_off = (int)g->p_at + ws_at;
    if (movl_set_args(k, err, MOVL_ARG(src), MOVL_ARG(x_off), MOVL_ARG(x_n), MOVL_ARG(x_c), MOVL_ARG(pr->src_h),
                      MOVL_ARG(pr->src_w), MOVL_ARG(ws), MOVL_ARG(p_off), MOVL_ARG(nb), MOVL_ARG(pr->src_c),
                      MOVL_ARG(pr->nph), MOVL_ARG(pr->ph), MOVL_ARG(pr->pw), MOVL_ARG(pr->s), MOVL_ARG(pr->up),
                      MOVL_ARG(pr->pad_t), MOVL_ARG(pr->pad_l), MOVL_ARGS_END))
        return MOVL_ERR_RUN;
    size_t images = g->batch_lanes ? (size_t)(nb + g->tile.vw - 1) / g->tile.vw : (size_t)nb; /* or groups */
    size_t rows = images * pr->src_c * pr->nph * pr->nph * pr->ph, local = 64;
    return movl_launch(p->dev, k, 1, &rows, &local, err);
}

static int launch_pass(const movl_conv_plan *p, const conv_geometry *g, const conv_pass *ps, cl_kernel k, cl_mem P,
                       int p_off, cl_mem ws, int ws_at, cl_mem bias, movl_act act, cl_mem y, int y_at, int n0, int nb,
                       char *err)
{
    const conv_tile *t = &g->tile;
    const conv_prep *pr = &g->prep;
    cl_mem wp = p->weights;
    /* col2im: G, in the workspace, holds only this chunk */
    cl_mem out = g->col2im ? ws : y;
    int y_off = ps->y_off + (g->col2im ? ws_at : y_at + n0 * ps->y_n), iact = (int)act;
    /* interleaved P: strides in floats, p_n between groups of vw images */
    int f = g->batch_lanes ? t->vw : 1;
    int p_n = pr->p_n * f, p_c = pr->p_c * f, p_plane = pr->p_plane * f, p_row = pr->p_row * f;
    if (movl_set_args(k, err, MOVL_ARG(P), MOVL_ARG(p_off), MOVL_ARG(p_n), MOVL_ARG(p_c),
                      MOVL_ARG(p_plane), MOVL_ARG(p_row), MOVL_ARG(wp), MOVL_ARG(ps->wp_off), MOVL_ARG(bias),
                      MOVL_ARG(out), MOVL_ARG(y_off), MOVL_ARG(ps->y_n), MOVL_ARG(ps->y_c), MOVL_ARG(ps->y_row),
                      MOVL_ARG(ps->osx), MOVL_ARG(iact), MOVL_ARG(nb), MOVL_ARG(ps->groups), MOVL_ARG(ps->rc),
                      MOVL_ARG(ps->ocg), MOVL_ARG(ps->ohn), MOVL_ARG(ps->own), MOVL_ARG(ps->roff), MOVL_ARG(ps->coff),
                      MOVL_ARG(ps->nph), MOVL_ARG(ps->ky), MOVL_ARG(ps->kx), MOVL_ARG(ps->ss), MOVL_ARGS_END))
        return MOVL_ERR_RUN;
    if (g->variant == VARIANT_GPU) {
        size_t pix = (size_t)nb * ps->ohn * ps->own;
        size_t chans = (size_t)ps->groups * ((ps->ocg + CONV_GPU_TILE - 1) / CONV_GPU_TILE);
        size_t global[2] = {(pix + CONV_GPU_TILE - 1) / CONV_GPU_TILE * CONV_GPU_LOCAL, chans * CONV_GPU_LOCAL};
        size_t local[2] = {CONV_GPU_LOCAL, CONV_GPU_LOCAL};
        return movl_launch(p->dev, k, 2, global, local, err);
    }
    size_t items = (size_t)ps->groups * ((ps->ocg + t->mt - 1) / t->mt);
    if (g->batch_lanes) {
        size_t positions = (size_t)ps->ohn * ps->own;
        items *= (positions + t->tc - 1) / t->tc * ((nb + t->vw - 1) / t->vw);
    } else {
        size_t len = (size_t)(ps->ohn - 1) * pr->p_row + ps->own;
        items *= (len + t->vw * t->tc - 1) / (t->vw * t->tc) * nb;
    }
    size_t local = CONV_CPU_LS;
    return movl_launch(p->dev, k, 1, &items, &local, err);
}

static int launch_col2im(const movl_conv_plan *p, const conv_geometry *g, cl_mem ws, int ws_at, cl_mem dx, int dx_at,
                         int n0, int nb, char *err)
{
    const movl_conv_desc *d = &p->desc;
    cl_kernel k = p->col2im;
    int g_off = (int)g->g_at + ws_at, x_off = dx_at + n0 * d->cin * d->h * d->w;
    if (movl_set_args(k, err, MOVL_ARG(ws), MOVL_ARG(g_off), MOVL_ARG(dx), MOVL_ARG(x_off), MOVL_ARG(nb),
                      MOVL_ARG(d->cin), MOVL_ARG(d->h), MOVL_ARG(d->w), MOVL_ARG(d->oh), MOVL_ARG(d->ow),
                      MOVL_ARG(d->k), MOVL_ARG(d->stride), MOVL_ARG(d->pad_t), MOVL_ARG(d->pad_l), MOVL_ARGS_END))
        return MOVL_ERR_RUN;
    size_t rows = (size_t)nb * d->cin * d->h, local = 64;
    return movl_launch(p->dev, k, 1, &rows, &local, err);
}

/* Source, result and workspace from float offsets src_at, y_at, ws_at (0 but for Winograd's inner plan). */
static int run(const movl_conv_plan *p, const conv_geometry *g, const cl_kernel *pass_kernels, int batch, cl_mem src,
               int src_at, cl_mem bias, movl_act act, cl_mem y, int y_at, cl_mem ws, int ws_at, size_t y_bytes,
               char *err)
{
    if (g->zero_fill) {
        if (y_at) { /* movl_fill_zero clears from the start; no offset run needs it (1x1 convs) */
            movl_set_error(err, "conv: a run at an offset into its result cannot clear it first");
            return MOVL_ERR_RUN;
        }
        if (movl_fill_zero(p->dev, y, y_bytes, err))
            return MOVL_ERR_RUN;
    }
    for (int n0 = 0; n0 < batch; n0 += g->chunk) {
        int nb = batch - n0 < g->chunk ? batch - n0 : g->chunk;
        cl_mem P = src;
        int p_off = src_at + n0 * g->prep.p_n;
        if (g->prep.copy) {
            if (launch_prepare(p, g, src, src_at, n0, nb, ws, ws_at, err))
                return MOVL_ERR_RUN;
            P = ws;
            p_off = (int)g->p_at + ws_at;
        }
        for (int i = 0; i < g->npass; i++)
            if (launch_pass(p, g, &g->pass[i], pass_kernels[i], P, p_off, ws, ws_at, bias, act, y, y_at, n0, nb, err))
                return MOVL_ERR_RUN;
        if (g->col2im && launch_col2im(p, g, ws, ws_at, y, y_at, n0, nb, err))
            return MOVL_ERR_RUN;
    }
    return MOVL_OK;
}

int conv_forward_at(const movl_conv_plan *p, int batch, cl_mem x, int x_at, cl_mem y, int y_at, cl_mem ws, int ws_at,
                    char *err)
{
    return run(p, &p->fwd, &p->fwd_pass, batch, x, x_at, NULL, MOVL_ACT_NONE, y, y_at, ws, ws_at, 0, err);
}

int conv_backward_at(const movl_conv_plan *p, int batch, cl_mem dy, int dy_at, cl_mem dx, int dx_at, cl_mem ws,
                     int ws_at, char *err)
{
    const movl_conv_desc *d = &p->desc;
    size_t dx_bytes = (size_t)batch * d->cin * d->h * d->w * sizeof(float);
    return run(p, &p->bwd, p->bwd_pass, batch, dy, dy_at, NULL, MOVL_ACT_NONE, dx, dx_at, ws, ws_at, dx_bytes, err);
}

int conv_check_batch(const movl_conv_plan *p, int batch, const char *op, char *err)
{
    if (batch >= 1 && batch <= p->desc.n)
        return 1;
    movl_set_error(err, "%s: batch %d is outside the plan's 1..%d", op, batch, p->desc.n);
    return 0;
}

int movl_conv_forward(const movl_conv_plan *p, int batch, cl_mem x, cl_mem bias, movl_act act, cl_mem y,
                      cl_mem workspace, char *err)
{
    if (act != MOVL_ACT_NONE && act != MOVL_ACT_RELU && act != MOVL_ACT_RELU6) {
        movl_set_error(err, "conv forward: unknown activation %d (expected none, relu or relu6)", (int)act);
        return MOVL_ERR_RUN;
    }
    if (!conv_check_batch(p, batch, "conv forward", err) || !conv_check_workspace(p, workspace, "conv forward", err))
        return MOVL_ERR_RUN;
    if (p->wino)
        return conv_winograd_forward(p, batch, x, bias, act, y, workspace, err);
    return run(p, &p->fwd, &p->fwd_pass, batch, x, 0, bias, act, y, 0, workspace, 0, 0, err);
}

int movl_conv_backward_input(const movl_conv_plan *p, int batch, cl_mem dy, cl_mem dx, cl_mem workspace, char *err)
{
    if (!conv_check_batch(p, batch, "conv backward", err) || !conv_check_workspace(p, workspace, "conv backward", err))
        return MOVL_ERR_RUN;
    if (p->wino)
        return conv_winograd_backward(p, batch, dy, dx, workspace, err);
    return conv_backward_at(p, batch, dy, 0, dx, 0, workspace, 0, err);
}
