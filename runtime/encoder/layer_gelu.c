/* Layer kind "gelu": GELU (exact or QuickGELU) of the MLP's hidden tokens;
 * its backward reads the layer's input (GELU is not monotonic). */
#include "core/common.h"
#include "encoder/encoder_internal.h"

static int gelu_forward(movl_encoder *e, enc_layer *l, int batch, char *err)
{
    return movl_gelu_forward(e->dev, l->p.gelu.kind, (size_t)batch * e->tensors[l->out].numel,
                             e->tensors[l->in[0]].buf, e->tensors[l->out].buf, err);
}

static int gelu_backward(movl_encoder *e, enc_layer *l, int slot, int batch, cl_mem dz, cl_mem dx, char *err)
{
    (void)slot;
    return movl_gelu_backward(e->dev, l->p.gelu.kind, (size_t)batch * e->tensors[l->out].numel,
                              e->tensors[l->in[0]].buf, dz, dx, err);
}

static double gelu_flops(const movl_encoder *e, const enc_layer *l) { return 10.0 * (double)e->tensors[l->out].numel; }

const enc_layer_kind enc_kind_gelu = {
    .name = "gelu",
    .forward = gelu_forward,
    .backward_input = gelu_backward,
    .flops = gelu_flops,
    .group = "eltwise",
};

int enc_gelu(movl_encoder *e, int in, movl_gelu kind, const char *layer_name, int *out, char *err)
{
    const enc_tensor x = e->tensors[in];
    enc_layer *l = enc_new_layer(e, ENC_GELU, layer_name, in, -1, x.c, x.h, x.w, err);
    if (!l)
        return MOVL_ERR_INPUT;
    l->p.gelu.kind = kind;
    *out = l->out;
    return MOVL_OK;
}
