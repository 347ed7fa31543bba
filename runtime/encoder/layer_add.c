/* Layer kind "add": the residual act(a + b), written in place over a. Its
 * backward is the identity (the graph runner passes dz to both inputs). */
#include "core/common.h"
#include "encoder/encoder_internal.h"

static int add_forward(movl_encoder *e, enc_layer *l, int batch, char *err)
{
    enc_tensor *y = &e->tensors[l->out];
    return movl_add_forward(e->dev, (size_t)batch * y->numel, e->tensors[l->in[0]].buf, e->tensors[l->in[1]].buf,
                            l->act, y->buf, err);
}

static double add_flops(const movl_encoder *e, const enc_layer *l) { return (double)e->tensors[l->out].numel; }

const enc_layer_kind enc_kind_add = {
    .name = "add",
    .forward = add_forward,
    .backward_input = NULL,
    .flops = add_flops,
    .group = "eltwise",
};

int enc_add(movl_encoder *e, int a, int b, movl_act act, const char *layer_name, int *out, char *err)
{
    enc_tensor ta = e->tensors[a], tb = e->tensors[b];
    if (ta.c != tb.c || ta.h != tb.h || ta.w != tb.w) {
        movl_set_error(err, "%s: residual '%s' adds %dx%dx%d to %dx%dx%d", e->arch, layer_name, ta.c, ta.h, ta.w, tb.c,
                       tb.h, tb.w);
        return MOVL_ERR_RUN;
    }
    enc_layer *l = enc_new_layer(e, ENC_ADD, layer_name, a, b, ta.c, ta.h, ta.w, err);
    if (!l)
        return MOVL_ERR_INPUT;
    l->act = act;
    e->tensors[l->out].alias_of = a;
    *out = l->out;
    return MOVL_OK;
}
