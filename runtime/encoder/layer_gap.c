/* Layer kind "gap": global average pooling of each channel plane. */
#include "core/common.h"
#include "encoder/encoder_internal.h"

static int gap_forward(movl_encoder *e, enc_layer *l, int batch, char *err)
{
    enc_tensor *x = &e->tensors[l->in[0]];
    return movl_gap_forward(e->dev, batch, x->c, x->h * x->w, x->buf, e->tensors[l->out].buf, err);
}

static int gap_backward(movl_encoder *e, enc_layer *l, int slot, int batch, cl_mem dz, cl_mem dx, char *err)
{
    (void)slot;
    enc_tensor *x = &e->tensors[l->in[0]];
    return movl_gap_backward(e->dev, batch, x->c, x->h * x->w, dz, dx, err);
}

static double gap_flops(const movl_encoder *e, const enc_layer *l) { return (double)e->tensors[l->in[0]].numel; }

const enc_layer_kind enc_kind_gap = {
    .name = "gap",
    .forward = gap_forward,
    .backward_input = gap_backward,
    .flops = gap_flops,
    .group = "pool",
};

int enc_gap(movl_encoder *e, int in, const char *layer_name, int *out, char *err)
{
    enc_layer *l = enc_new_layer(e, ENC_GAP, layer_name, in, -1, e->tensors[in].c, 1, 1, err);
    if (!l)
        return MOVL_ERR_INPUT;
    *out = l->out;
    return MOVL_OK;
}
