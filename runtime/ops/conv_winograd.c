/* Winograd F(2x2, 3x3) for 3x3 stride-1 ungrouped convolutions (the math and
 * layouts: cl/conv_winograd.cl). Per chunk of images:
 *
 * forward   V = wino_input(x); M = inner conv forward of V (a grouped 1x1
 *           conv: 16 groups of C -> K over the th x tw tile grid, weights U);
 *           y = wino_output(M) with bias and activation
 * backward  dM = wino_output_adjoint(dy); dV = inner conv backward of dM
 *           (U^T dM); dx = wino_input_adjoint(dV)
 *
 * 2.25x fewer multiplications than the direct kernel, for 4x the input and
 * output size in V and M: it pays where the GEMM's work per V and M float
 * (about C*K/(C+K) multiply-adds) outweighs their trips through memory, i.e.
 * with many channels. The weight gradient (FF) stays direct. */
#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "ops/conv_internal.h"

/* Automatic choice (CPUs): both channel counts and both output sides at least
 * these. Measured on PoCL (docs/PERFORMANCE.md, "Winograd"): only ResNet's
 * 512-channel 7x7 layers gained (1.2x); at 64-256 channels, or 512 on 4x4 and
 * smaller planes, the inner 1x1 GEMM (57-98 GFLOP/s against the direct 3x3
 * kernel's 130-145) and the transforms cost more than the 2.25x they save. */
#define WINO_MIN_CHANNELS 512
#define WINO_MIN_SIDE 6
/* Bytes of V and M per chunk of images (a few images at a time stay in the last-level cache on CPUs). */
#define WINO_CHUNK_LIMIT (16u << 20)
/* Tiles (transforms) or 2x2 blocks (the gather) per work-item: the float8 lanes of cl/conv_winograd.cl. */
#define WINO_LANES 8
/* Keeps offsets in int range (the kernels index with int). */
#define WINO_MAX_FLOATS ((size_t)1 << 30)

static size_t align_floats(size_t v) { return (v + 63) / 64 * 64; }

int conv_winograd_wanted(int is_cpu, const movl_conv_options *o, const movl_conv_desc *d)
{
    int eligible = d->k == 3 && d->stride == 1 && d->groups == 1;
    if (!eligible || o->winograd == MOVL_CONV_WINOGRAD_OFF)
        return 0;
    if (o->winograd == MOVL_CONV_WINOGRAD_ON)
        return 1;
    /* auto: CPUs only, where it was measured; the GPU tile kernel has not been compared with it */
    return is_cpu && o->variant != MOVL_CONV_VARIANT_GPU && d->cin >= WINO_MIN_CHANNELS &&
           d->cout >= WINO_MIN_CHANNELS && d->oh >= WINO_MIN_SIDE && d->ow >= WINO_MIN_SIDE;
}

int conv_winograd_create(movl_conv_plan *p, const movl_conv_options *o, char *err)
{
    const movl_conv_desc *d = &p->desc;
    conv_winograd *w = calloc(1, sizeof *w);
    if (!w) {
        movl_set_error(err, "conv: out of host memory");
        return MOVL_ERR_RUN;
    }
    p->wino = w;
    w->th = (d->oh + 1) / 2;
    w->tw = (d->ow + 1) / 2;
    w->qh = (d->h + d->pad_t + 1) / 2;
    w->qw = (d->w + d->pad_l + 1) / 2;
    w->tile_items = w->th * ((w->tw + WINO_LANES - 1) / WINO_LANES);
    w->gather_items = w->qh * ((w->qw + WINO_LANES - 1) / WINO_LANES);
    size_t tiles = (size_t)w->th * w->tw, v_n = 16 * (size_t)d->cin * tiles, m_n = 16 * (size_t)d->cout * tiles;
    size_t limit = o->prep_limit > 0 ? o->prep_limit : WINO_CHUNK_LIMIT;
    size_t fit = limit / ((v_n + m_n) * sizeof(float));
    w->chunk = fit < 1 ? 1 : fit < (size_t)d->n ? (int)fit : d->n;
    movl_conv_desc inner;
    movl_conv_desc_init(&inner, w->chunk, 16 * d->cin, w->th, w->tw, 16 * d->cout, 1, 1, 0, 16);
    movl_conv_options io = *o;
    io.winograd = MOVL_CONV_WINOGRAD_OFF;
    io.weight_grads = 0;
    io.prep_limit = 0;
    int rc = movl_conv_plan_create(p->dev, &inner, &io, &w->gemm, err);
    if (rc)
        return rc;
    w->v_at = 0;
    w->m_at = align_floats(w->chunk * v_n);
    w->inner_at = align_floats(w->m_at + w->chunk * m_n);
    w->floats = w->inner_at + movl_conv_plan_workspace_bytes(w->gemm) / sizeof(float);
    if (w->floats > WINO_MAX_FLOATS) {
        movl_set_error(err, "conv (Winograd): workspace of %zu floats is too large (expected below 2^30)", w->floats);
        return MOVL_ERR_RUN;
    }
    movl_device *dev = p->dev;
    int ok = (w->u = movl_buffer(dev, 16 * (size_t)d->cout * d->cin * sizeof(float), err)) != NULL &&
             (w->weights = movl_kernel(dev, "conv_winograd", "", "wino_weights", err)) &&
             (w->input = movl_kernel(dev, "conv_winograd", "", "wino_input", err)) &&
             (w->output = movl_kernel(dev, "conv_winograd", "", "wino_output", err)) &&
             (w->output_adjoint = movl_kernel(dev, "conv_winograd", "", "wino_output_adjoint", err)) &&
             (w->input_adjoint = movl_kernel(dev, "conv_winograd", "", "wino_input_adjoint", err));
    return ok ? MOVL_OK : MOVL_ERR_RUN;
}

void conv_winograd_free(conv_winograd *w)
{
    if (!w)
        return;
    movl_conv_plan_free(w->gemm);
    if (w->u)
        clReleaseMemObject(w->u);
    free(w);
}

static int enqueue(const movl_conv_plan *p, cl_kernel k, int count, char *err)
{
    size_t items = (size_t)count, local = 64;
    return movl_launch(p->dev, k, 1, &items, &local, err);
}

int conv_winograd_set_weights(movl_conv_plan *p, cl_mem wts, char *err)
{
    conv_winograd *w = p->wino;
    int K = p->desc.cout, C = p->desc.cin;
    if (movl_set_args(w->weights, err, MOVL_ARG(wts), MOVL_ARG(w->u), MOVL_ARG(K), MOVL_ARG(C), MOVL_ARGS_END) ||
        enqueue(p, w->weights, K * C, err))
        return MOVL_ERR_RUN;
    return movl_conv_plan_set_weights(w->gemm, w->u, err);
}

int conv_winograd_forward(const movl_conv_plan *p, int batch, cl_mem x, cl_mem bias, movl_act act, cl_mem y,
                          cl_mem ws, char *err)
{
    const movl_conv_desc *d = &p->desc;
    const conv_winograd *w = p->wino;
    int v_at = (int)w->v_at, m_at = (int)w->m_at, inner_at = (int)w->inner_at;
    int iact = (int)act;
    for (int n0 = 0; n0 < batch; n0 += w->chunk) {
        int nb = batch - n0 < w->chunk ? batch - n0 : w->chunk;
        int x_off = n0 * d->cin * d->h * d->w, y_off = n0 * d->cout * d->oh * d->ow;
        int in_count = nb * d->cin * w->tile_items, out_count = nb * d->cout * w->tile_items;
        if (movl_set_args(w->input, err, MOVL_ARG(x), MOVL_ARG(x_off), MOVL_ARG(d->cin), MOVL_ARG(d->h),
                          MOVL_ARG(d->w), MOVL_ARG(d->pad_t), MOVL_ARG(d->pad_l), MOVL_ARG(ws), MOVL_ARG(v_at),
                          MOVL_ARG(w->th), MOVL_ARG(w->tw), MOVL_ARG(in_count), MOVL_ARGS_END) ||
            enqueue(p, w->input, in_count, err) ||
            conv_forward_at(w->gemm, nb, ws, v_at, ws, m_at, ws, inner_at, err) ||
            movl_set_args(w->output, err, MOVL_ARG(ws), MOVL_ARG(m_at), MOVL_ARG(d->cout), MOVL_ARG(w->th),
                          MOVL_ARG(w->tw), MOVL_ARG(bias), MOVL_ARG(iact), MOVL_ARG(y), MOVL_ARG(y_off),
                          MOVL_ARG(d->oh), MOVL_ARG(d->ow), MOVL_ARG(out_count), MOVL_ARGS_END) ||
            enqueue(p, w->output, out_count, err))
            return MOVL_ERR_RUN;
    }
    return MOVL_OK;
}

int conv_winograd_backward(const movl_conv_plan *p, int batch, cl_mem dy, cl_mem dx, cl_mem ws, char *err)
{
    const movl_conv_desc *d = &p->desc;
    const conv_winograd *w = p->wino;
    int v_at = (int)w->v_at, m_at = (int)w->m_at, inner_at = (int)w->inner_at;
    for (int n0 = 0; n0 < batch; n0 += w->chunk) {
        int nb = batch - n0 < w->chunk ? batch - n0 : w->chunk;
        int dx_off = n0 * d->cin * d->h * d->w, dy_off = n0 * d->cout * d->oh * d->ow;
        int adj_count = nb * d->cout * w->tile_items, gather_count = nb * d->cin * w->gather_items;
        if (movl_set_args(w->output_adjoint, err, MOVL_ARG(dy), MOVL_ARG(dy_off), MOVL_ARG(d->cout), MOVL_ARG(d->oh),
                          MOVL_ARG(d->ow), MOVL_ARG(ws), MOVL_ARG(m_at), MOVL_ARG(w->th), MOVL_ARG(w->tw),
                          MOVL_ARG(adj_count), MOVL_ARGS_END) ||
            enqueue(p, w->output_adjoint, adj_count, err) ||
            conv_backward_at(w->gemm, nb, ws, m_at, ws, v_at, ws, inner_at, err) ||
            movl_set_args(w->input_adjoint, err, MOVL_ARG(ws), MOVL_ARG(v_at), MOVL_ARG(d->cin), MOVL_ARG(w->th),
                          MOVL_ARG(w->tw), MOVL_ARG(dx), MOVL_ARG(dx_off), MOVL_ARG(d->h), MOVL_ARG(d->w),
                          MOVL_ARG(d->pad_t), MOVL_ARG(d->pad_l), MOVL_ARG(w->qh), MOVL_ARG(w->qw),
                          MOVL_ARG(gather_count), MOVL_ARGS_END) ||
            enqueue(p, w->input_adjoint, gather_count, err))
            return MOVL_ERR_RUN;
    }
    return MOVL_OK;
}
