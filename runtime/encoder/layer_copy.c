/* Layer kind "copy": its output is a copy of its input, and its backward the
 * identity (NULL backward_input: the graph passes the gradient through). CLIP
 * has no ImageNet classifier; its image embedding serves as the encoder's
 * logits as well as its features, each with its own gradient. */
#include "core/common.h"
#include "encoder/encoder_internal.h"

static int copy_forward(movl_encoder *e, enc_layer *l, int batch, char *err)
{
    size_t bytes = sizeof(float) * (size_t)batch * e->tensors[l->out].numel;
    cl_int rc = clEnqueueCopyBuffer(e->dev->queue, e->tensors[l->in[0]].buf, e->tensors[l->out].buf, 0, 0, bytes, 0,
                                    NULL, NULL);
    if (rc != CL_SUCCESS) {
        movl_set_error(err, "%s: copy '%s' failed: %s", e->arch, l->name, movl_cl_error_name(rc));
        return MOVL_ERR_RUN;
    }
    return MOVL_OK;
}

const enc_layer_kind enc_kind_copy = {
    .name = "copy",
    .forward = copy_forward,
    .backward_input = NULL,
    .group = "eltwise",
};

int enc_copy(movl_encoder *e, int in, const char *layer_name, int *out, char *err)
{
    const enc_tensor x = e->tensors[in];
    enc_layer *l = enc_new_layer(e, ENC_COPY, layer_name, in, -1, x.c, x.h, x.w, err);
    if (!l)
        return MOVL_ERR_INPUT;
    *out = l->out;
    return MOVL_OK;
}
