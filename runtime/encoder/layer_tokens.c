/* Layer kind "tokens" (ViT): the embedded patches [gh * gw][dim] become
 * [1 + gh * gw][dim] token rows, the class token first, plus the position
 * embedding, resized at load when the input size gives another patch grid
 * than the checkpoint's. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/common.h"
#include "core/weights.h"
#include "encoder/bn_fold.h"
#include "encoder/encoder_internal.h"
#include "encoder/pos_embed_resize.h"

static int tokens_forward(movl_encoder *e, enc_layer *l, int batch, char *err)
{
    const enc_tokens_params *p = &l->p.tokens;
    return movl_tokens_embed(e->dev, batch, p->dim, p->patches, e->tensors[l->in[0]].buf, p->cls, p->pos,
                             e->tensors[l->out].buf, err);
}

static int tokens_backward(movl_encoder *e, enc_layer *l, int slot, int batch, cl_mem dz, cl_mem dx, char *err)
{
    (void)slot;
    return movl_tokens_embed_backward(e->dev, batch, l->p.tokens.dim, l->p.tokens.patches, dz, dx, err);
}

static int tokens_backward_params(movl_encoder *e, enc_layer *l, int batch, cl_mem dz, char *err)
{
    const enc_param *q = &e->params[l->p.tokens.param];
    return movl_tokens_embed_backward_params(e->dev, batch, l->p.tokens.dim, l->p.tokens.patches, dz, q->dw, q->db,
                                             err);
}

/* The trained tensors: the position embedding ("pos_embedding", [tokens][dim]) and the class token. */
static void tokens_param_buffers(enc_layer *l, cl_mem **w, cl_mem **b)
{
    *w = &l->p.tokens.pos;
    *b = &l->p.tokens.cls;
}

static double tokens_flops(const movl_encoder *e, const enc_layer *l)
{
    return (double)e->tensors[l->out].numel;
}

static void tokens_floats_moved(const movl_encoder *e, const enc_layer *l, double *per_image, double *fixed)
{
    *per_image = (double)e->tensors[l->in[0]].numel + (double)e->tensors[l->out].numel;
    *fixed = (double)e->tensors[l->out].numel + l->p.tokens.dim;
}

static void tokens_release(enc_layer *l)
{
    if (l->p.tokens.cls)
        clReleaseMemObject(l->p.tokens.cls);
    if (l->p.tokens.pos)
        clReleaseMemObject(l->p.tokens.pos);
}

const enc_layer_kind enc_kind_tokens = {
    .name = "tokens",
    .forward = tokens_forward,
    .backward_input = tokens_backward,
    .flops = tokens_flops,
    .floats_moved = tokens_floats_moved,
    .group = "eltwise",
    .release = tokens_release,
    .backward_params = tokens_backward_params,
    .param_buffers = tokens_param_buffers,
};

/* The position embedding for `tokens` positions into dst: as stored ([1][tokens][dim] in torchvision,
 * [tokens][dim] in CLIP), or resized from the checkpoint's own square grid (torchvision's
 * interpolate_embeddings) when the input size gives another grid. */
static int read_positions(movl_encoder *e, const movl_weights *w, const char *pos_name, int tokens, int dim,
                          float *dst, char *err)
{
    const movl_tensor_info *pi = w ? movl_weights_find(w, pos_name) : NULL;
    int nd = pi && pi->ndim == 2 ? 2 : 3;
    int64_t stored = pi && pi->ndim >= 2 ? pi->shape[pi->ndim - 2] : tokens;
    const int64_t pshape3[3] = {1, tokens, dim}, pshape2[2] = {tokens, dim};
    if (!pi || (pi->ndim != 2 && pi->ndim != 3) || stored == tokens) /* names a missing or mis-shaped tensor */
        return movl_read_shaped(w, pos_name, nd, nd == 2 ? pshape2 : pshape3, dst, err);
    int grid_in = (int)lround(sqrt((double)(stored - 1))), grid_out = (int)lround(sqrt((double)(tokens - 1)));
    if (stored < 2 || (int64_t)grid_in * grid_in != stored - 1 || (nd == 3 && pi->shape[0] != 1) ||
        pi->shape[nd - 1] != dim) {
        movl_set_error(err, "%s: tensor '%s' holds %lld positions of %lld, expected 1 + a square grid of %d",
                       movl_weights_path(w), pos_name, (long long)stored, (long long)pi->shape[nd - 1], dim);
        return MOVL_ERR_INPUT;
    }
    const int64_t sshape3[3] = {1, stored, dim}, sshape2[2] = {stored, dim};
    float *src = malloc(sizeof(float) * (size_t)stored * dim);
    if (!src) {
        movl_set_error(err, "out of host memory reading '%s'", pos_name);
        return MOVL_ERR_RUN;
    }
    int rc = movl_read_shaped(w, pos_name, nd, nd == 2 ? sshape2 : sshape3, src, err);
    if (rc == MOVL_OK) {
        enc_pos_embed_resize(src, grid_in, grid_out, dim, dst);
        if (movl_verbose)
            fprintf(stderr, "%s: position embedding resized from %dx%d to %dx%d patches (input size %d)\n", e->arch,
                    grid_in, grid_in, grid_out, grid_out, e->size);
    }
    free(src);
    return rc;
}

int enc_tokens(movl_encoder *e, const movl_weights *w, int in, const char *cls_name, const char *pos_name,
               const char *layer_name, int *out, char *err)
{
    const enc_tensor x = e->tensors[in];
    int dim = x.c, patches = x.h, tokens = patches + 1;
    /* the class token: [1][1][dim] (torchvision) or [dim] (CLIP) */
    const movl_tensor_info *ci = w ? movl_weights_find(w, cls_name) : NULL;
    const int64_t cshape3[3] = {1, 1, dim}, cshape1[1] = {dim};
    int cls_1d = ci && ci->ndim == 1;
    float *h = malloc(sizeof(float) * (size_t)(tokens + 1) * dim);
    if (!h) {
        movl_set_error(err, "out of host memory reading '%s'", pos_name);
        return MOVL_ERR_RUN;
    }
    int rc = movl_read_shaped(w, cls_name, cls_1d ? 1 : 3, cls_1d ? cshape1 : cshape3, h, err);
    if (rc == MOVL_OK)
        rc = read_positions(e, w, pos_name, tokens, dim, h + dim, err);
    enc_layer *l = NULL;
    if (rc == MOVL_OK && !(l = enc_new_layer(e, ENC_TOKENS, layer_name, in, -1, dim, tokens, 1, err)))
        rc = MOVL_ERR_INPUT;
    if (rc == MOVL_OK) {
        enc_tokens_params *p = &l->p.tokens;
        p->dim = dim;
        p->patches = patches;
        const int64_t shape[2] = {tokens, dim};
        p->param = enc_layer_tensors(e, (int)(l - e->layers), 2, shape, h + dim, "pos_embedding", (size_t)dim, h,
                                     "class_token", &p->pos, &p->cls, err);
        rc = p->param >= 0 ? MOVL_OK : MOVL_ERR_RUN;
        *out = l->out;
    }
    free(h);
    return rc;
}
