/* Launcher of the convolution's weight gradient (cl/conv_wgrad.cl), for
 * full fine-tuning:
 *
 *   dw[co][r] = sum over n, j of dz[n][co][j] * col[n][r][j],  r = (ci, kh, kw)
 *
 * a GEMM whose reduction runs over the batch's positions. The batch is cut
 * into parts of wgrad.per images (conv_plan_wgrad picks it so that every core
 * has work and a part's rows stay in cache); each part's sums go to their own
 * slot of the workspace and conv_wgrad_reduce adds the slots in slot order.
 * Every sum therefore has one fixed order, whatever the device's scheduling:
 * no atomics, two calls give identical bits. With one part the kernels write
 * dw and db themselves.
 *
 * Per chunk of images, x is prepared as the forward prepares it (P: zero-
 * padded, split into stride phases, so every tap is a plain shifted read; x
 * itself for unpadded stride-1 convs, the 1x1 ones above all). Grouped and
 * dense convs: conv_wgrad_dzt writes dz channels-last (dzT, a row of cout_g
 * values per position) and conv_wgrad_gemm takes VW*MT consecutive channels of
 * it as float8 vectors against NR taps of P broadcast as scalars: the
 * forward's register tile, transposed, and no im2col copy (it would be k*k
 * times x). Depthwise convs (one channel per group, where a channel tile
 * would hold one channel): dz copied to P's row pitch with zeros between rows
 * (conv_wgrad_dpad), and conv_wgrad_dw correlates the two along the
 * positions, one tap row of a channel per work-item. */
#include "core/common.h"
#include "device/build_options.h"
#include "ops/conv_internal.h"

int conv_wgrad_kernels(movl_conv_plan *p, char *err)
{
    const conv_wgrad *wg = &p->wgrad;
    movl_build_options o;
    movl_options_init(&o);
    if (wg->pointwise) {
        movl_options_int(&o, "MT", wg->mt);
        movl_options_int(&o, "NR", wg->nrt);
        if (!(p->wg_pointwise = movl_kernel_with_options(p->dev, "conv_wgrad", &o, "conv_wgrad_pointwise", err)))
            return MOVL_ERR_RUN;
    } else if (wg->rows) {
        movl_options_int(&o, "K", p->desc.k);
        movl_options_int(&o, "MT", wg->mt);
        if (!(p->wg_dw = movl_kernel_with_options(p->dev, "conv_wgrad", &o, "conv_wgrad_rows", err)) ||
            !(p->wg_dpad = movl_kernel(p->dev, "conv_wgrad", "", "conv_wgrad_dpad", err)))
            return MOVL_ERR_RUN;
    } else {
        movl_options_int(&o, "MT", wg->mt);
        movl_options_int(&o, "NR", wg->nrt);
        movl_options_int(&o, "VW", wg->vw);
        if (!(p->wg_gemm = movl_kernel_with_options(p->dev, "conv_wgrad", &o, "conv_wgrad_gemm", err)) ||
            !(p->wg_dzt = movl_kernel(p->dev, "conv_wgrad", "", "conv_wgrad_dzt", err)))
            return MOVL_ERR_RUN;
    }
    if (!(p->wg_prepare = movl_kernel(p->dev, "conv_wgrad", "", "conv_wgrad_prepare", err)) ||
        !(p->wg_db = movl_kernel(p->dev, "conv_wgrad", "", "conv_wgrad_db", err)) ||
        !(p->wg_reduce = movl_kernel(p->dev, "conv_wgrad", "", "conv_wgrad_reduce", err)))
        return MOVL_ERR_RUN;
    return MOVL_OK;
}

/* Where the parts' sums go: slots of the workspace, or (one part) dw/db. */
typedef struct wgrad_out {
    cl_mem w, b;
    int w_off, b_off, stride;
} wgrad_out;

/* P of the chunk's nb images from image n0 on: where it is (the workspace, or x itself) and its offset. */
static int launch_prepare(const movl_conv_plan *p, cl_mem x, cl_mem ws, int n0, int nb, cl_mem *P, int *p_off,
                          char *err)
{
    const movl_conv_desc *d = &p->desc;
    const conv_prep *pr = &p->wgrad.prep;
    int x_c = d->h * d->w, x_n = d->cin * x_c, x_off = n0 * x_n;
    if (!pr->copy) {
        *P = x;
        *p_off = x_off;
        return MOVL_OK;
    }
    *P = ws;
    *p_off = (int)p->wgrad.col_at;
    cl_kernel k = p->wg_prepare;
    if (movl_set_args(k, err, MOVL_ARG(x), MOVL_ARG(x_off), MOVL_ARG(d->h), MOVL_ARG(d->w), MOVL_ARG(ws),
                      MOVL_ARG(*p_off), MOVL_ARG(nb), MOVL_ARG(pr->src_c), MOVL_ARG(pr->nph), MOVL_ARG(pr->ph),
                      MOVL_ARG(pr->pw), MOVL_ARG(pr->s), MOVL_ARG(pr->pad_t), MOVL_ARG(pr->pad_l), MOVL_ARGS_END))
        return MOVL_ERR_RUN;
    size_t planes = (size_t)nb * pr->src_c, local = 16;
    return movl_launch(p->dev, k, 1, &planes, &local, err);
}

static int launch_depthwise(const movl_conv_plan *p, cl_mem P, int p_off, cl_mem dz, cl_mem ws,
                            const wgrad_out *out, int n0, int nb, char *err)
{
    const movl_conv_desc *d = &p->desc;
    const conv_wgrad *wg = &p->wgrad;
    const conv_prep *pr = &wg->prep;
    int d_off = (int)wg->d_at, dz_off = n0 * d->cout * d->oh * d->ow, nc = nb * d->cout, part0 = n0 / wg->per;
    int cin_g = d->cin / d->groups, cout_g = d->cout / d->groups;
    cl_kernel k = p->wg_dpad;
    if (movl_set_args(k, err, MOVL_ARG(dz), MOVL_ARG(dz_off), MOVL_ARG(ws), MOVL_ARG(d_off), MOVL_ARG(nc),
                      MOVL_ARG(d->oh), MOVL_ARG(d->ow), MOVL_ARG(pr->pw), MOVL_ARGS_END))
        return MOVL_ERR_RUN;
    size_t planes = (size_t)nc, local = 16;
    if (movl_launch(p->dev, k, 1, &planes, &local, err))
        return MOVL_ERR_RUN;
    k = p->wg_dw;
    if (movl_set_args(k, err, MOVL_ARG(P), MOVL_ARG(p_off), MOVL_ARG(pr->p_n), MOVL_ARG(pr->p_c),
                      MOVL_ARG(pr->p_plane), MOVL_ARG(pr->p_row), MOVL_ARG(ws), MOVL_ARG(d_off), MOVL_ARG(wg->len),
                      MOVL_ARG(out->w), MOVL_ARG(out->w_off), MOVL_ARG(out->stride), MOVL_ARG(part0),
                      MOVL_ARG(wg->per), MOVL_ARG(nb), MOVL_ARG(d->cout), MOVL_ARG(d->groups), MOVL_ARG(cin_g),
                      MOVL_ARG(cout_g), MOVL_ARG(pr->nph), MOVL_ARG(d->stride), MOVL_ARGS_END))
        return MOVL_ERR_RUN;
    size_t items = (size_t)((nb + wg->per - 1) / wg->per) * d->groups * cin_g * d->k *
                   ((cout_g + wg->mt - 1) / wg->mt);
    local = 16;
    return movl_launch(p->dev, k, 1, &items, &local, err);
}

static int launch_gemm(const movl_conv_plan *p, cl_mem P, int p_off, cl_mem dz, cl_mem ws, const wgrad_out *out,
                       int n0, int nb, char *err)
{
    const movl_conv_desc *d = &p->desc;
    const conv_wgrad *wg = &p->wgrad;
    const conv_prep *pr = &wg->prep;
    int cin_g = d->cin / d->groups, cout_g = d->cout / d->groups, ohow = d->oh * d->ow;
    int dt_off = (int)wg->d_at, dz_off = n0 * d->cout * ohow, part0 = n0 / wg->per;
    cl_kernel k = p->wg_dzt;
    if (movl_set_args(k, err, MOVL_ARG(dz), MOVL_ARG(dz_off), MOVL_ARG(ws), MOVL_ARG(dt_off), MOVL_ARG(nb),
                      MOVL_ARG(ohow), MOVL_ARG(d->cout), MOVL_ARG(d->groups), MOVL_ARG(cout_g), MOVL_ARG(wg->cpad),
                      MOVL_ARGS_END))
        return MOVL_ERR_RUN;
    size_t rows = (size_t)d->groups * nb * ohow, local = 64;
    if (movl_launch(p->dev, k, 1, &rows, &local, err))
        return MOVL_ERR_RUN;
    /* dzT and P per image, in floats: the larger one is read once */
    int r_fast = (long)ohow * wg->cpad >= (long)cin_g * pr->nph * pr->nph * pr->p_plane;
    k = p->wg_gemm;
    if (movl_set_args(k, err, MOVL_ARG(P), MOVL_ARG(p_off), MOVL_ARG(pr->p_n), MOVL_ARG(pr->p_c),
                      MOVL_ARG(pr->p_plane), MOVL_ARG(pr->p_row), MOVL_ARG(ws), MOVL_ARG(dt_off), MOVL_ARG(wg->cpad),
                      MOVL_ARG(out->w), MOVL_ARG(out->w_off), MOVL_ARG(out->stride), MOVL_ARG(part0),
                      MOVL_ARG(wg->per), MOVL_ARG(nb), MOVL_ARG(d->oh), MOVL_ARG(d->ow), MOVL_ARG(d->groups),
                      MOVL_ARG(cin_g), MOVL_ARG(cout_g), MOVL_ARG(d->k), MOVL_ARG(d->stride), MOVL_ARG(pr->nph),
                      MOVL_ARG(r_fast), MOVL_ARGS_END))
        return MOVL_ERR_RUN;
    size_t items = (size_t)((nb + wg->per - 1) / wg->per) * d->groups * (wg->cpad / (wg->vw * wg->mt)) *
                   ((wg->nr + wg->nrt - 1) / wg->nrt);
    local = 16;
    return movl_launch(p->dev, k, 1, &items, &local, err);
}

static int launch_pointwise(const movl_conv_plan *p, cl_mem x, cl_mem dz, const wgrad_out *out, int batch, char *err)
{
    const movl_conv_desc *d = &p->desc;
    const conv_wgrad *wg = &p->wgrad;
    int cin_g = d->cin / d->groups, cout_g = d->cout / d->groups, ohow = d->oh * d->ow;
    cl_kernel k = p->wg_pointwise;
    if (movl_set_args(k, err, MOVL_ARG(x), MOVL_ARG(dz), MOVL_ARG(out->w), MOVL_ARG(out->w_off),
                      MOVL_ARG(out->stride), MOVL_ARG(wg->per), MOVL_ARG(batch), MOVL_ARG(ohow), MOVL_ARG(d->cin),
                      MOVL_ARG(d->cout), MOVL_ARG(d->groups), MOVL_ARG(cin_g), MOVL_ARG(cout_g), MOVL_ARGS_END))
        return MOVL_ERR_RUN;
    size_t items = (size_t)((batch + wg->per - 1) / wg->per) * d->groups * ((cout_g + wg->mt - 1) / wg->mt) *
                   ((cin_g + wg->nrt - 1) / wg->nrt),
           local = 16;
    return movl_launch(p->dev, k, 1, &items, &local, err);
}

int movl_conv_backward_weights(const movl_conv_plan *p, int batch, cl_mem x, cl_mem dz, cl_mem dw, cl_mem db,
                               cl_mem workspace, char *err)
{
    const char *op = "conv backward weights";
    if (!p->weight_grads) {
        movl_set_error(err, "%s: the plan was created without options->weight_grads = 1 (expected it set at "
                            "movl_conv_plan_create)", op);
        return MOVL_ERR_RUN;
    }
    if (!conv_check_batch(p, batch, op, err) || !conv_check_workspace(p, workspace, op, err))
        return MOVL_ERR_RUN;
    const movl_conv_desc *d = &p->desc;
    const conv_wgrad *wg = &p->wgrad;
    int parts = (batch + wg->per - 1) / wg->per, nw = d->cout * wg->nr;
    wgrad_out out = {dw, db, 0, 0, 0};
    if (parts > 1) {
        out.w = out.b = workspace;
        out.w_off = (int)wg->part_at;
        out.b_off = (int)wg->part_at + nw;
        out.stride = (int)wg->slot;
    }
    if (wg->pointwise && launch_pointwise(p, x, dz, &out, batch, err))
        return MOVL_ERR_RUN;
    for (int n0 = 0; n0 < batch && !wg->pointwise; n0 += wg->chunk) {
        int nb = batch - n0 < wg->chunk ? batch - n0 : wg->chunk;
        cl_mem P = NULL;
        int p_off = 0;
        if (launch_prepare(p, x, workspace, n0, nb, &P, &p_off, err))
            return MOVL_ERR_RUN;
        int rc = wg->rows ? launch_depthwise(p, P, p_off, dz, workspace, &out, n0, nb, err)
                               : launch_gemm(p, P, p_off, dz, workspace, &out, n0, nb, err);
        if (rc)
            return MOVL_ERR_RUN;
    }
    size_t local = 64;
    if (db) {
        cl_kernel k = p->wg_db;
        int ohow = d->oh * d->ow;
        if (movl_set_args(k, err, MOVL_ARG(dz), MOVL_ARG(out.b), MOVL_ARG(out.b_off), MOVL_ARG(out.stride),
                          MOVL_ARG(wg->per), MOVL_ARG(batch), MOVL_ARG(d->cout), MOVL_ARG(ohow), MOVL_ARGS_END))
            return MOVL_ERR_RUN;
        size_t items = (size_t)parts * d->cout;
        if (movl_launch(p->dev, k, 1, &items, &local, err))
            return MOVL_ERR_RUN;
    }
    if (parts > 1) {
        cl_kernel k = p->wg_reduce;
        int part_at = (int)wg->part_at, stride = (int)wg->slot;
        if (movl_set_args(k, err, MOVL_ARG(workspace), MOVL_ARG(part_at), MOVL_ARG(stride), MOVL_ARG(parts),
                          MOVL_ARG(dw), MOVL_ARG(db), MOVL_ARG(nw), MOVL_ARG(d->cout), MOVL_ARGS_END))
            return MOVL_ERR_RUN;
        size_t items = (size_t)nw + (db ? d->cout : 0);
        if (movl_launch(p->dev, k, 1, &items, &local, err))
            return MOVL_ERR_RUN;
    }
    return MOVL_OK;
}
