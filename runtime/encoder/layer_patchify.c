/* Layer kind "patchify" (ViT): the image to one row per patch, [gh * gw][c * k * k];
 * the patch embedding that follows is a linear layer over the rows (the conv of
 * kernel = stride = k, as a GEMM). */
#include "core/common.h"
#include "encoder/encoder_internal.h"

static int patchify_forward(movl_encoder *e, enc_layer *l, int batch, char *err)
{
    const enc_tensor *x = &e->tensors[l->in[0]];
    return movl_patchify(e->dev, batch, x->c, x->h, l->p.patch.k, x->buf, e->tensors[l->out].buf, err);
}

static int patchify_backward(movl_encoder *e, enc_layer *l, int slot, int batch, cl_mem dz, cl_mem dx, char *err)
{
    (void)slot;
    const enc_tensor *x = &e->tensors[l->in[0]];
    return movl_patchify_backward(e->dev, batch, x->c, x->h, l->p.patch.k, dz, dx, err);
}

const enc_layer_kind enc_kind_patchify = {
    .name = "patchify",
    .forward = patchify_forward,
    .backward_input = patchify_backward,
    .group = "eltwise",
};

int enc_patchify(movl_encoder *e, int in, int k, const char *layer_name, int *out, char *err)
{
    const enc_tensor x = e->tensors[in];
    if (k < 1 || x.h != x.w || x.h % k) {
        movl_set_error(err, "%s: input size %d is not a multiple of the patch size %d", e->arch, x.h, k);
        return MOVL_ERR_INPUT;
    }
    int g = x.h / k;
    enc_layer *l = enc_new_layer(e, ENC_PATCHIFY, layer_name, in, -1, x.c * k * k, g * g, 1, err);
    if (!l)
        return MOVL_ERR_INPUT;
    l->p.patch.k = k;
    *out = l->out;
    return MOVL_OK;
}
