/* Layer kind "cls": each image's class token (token 0 of [tokens][dim]), a
 * strided copy; the backward puts the gradient back in token 0 and zeros in
 * the others. With a token per image (CLIP's text tower pools each sequence
 * at its end token) one row copy per image. Buffer copies only, no kernel. */
#include <stdlib.h>

#include "core/common.h"
#include "encoder/encoder_internal.h"

static int copy_failed(movl_encoder *e, cl_int rc, char *err)
{
    movl_set_error(err, "%s: class-token copy failed: %s", e->arch, movl_cl_error_name(rc));
    return MOVL_ERR_RUN;
}

/* Copies `batch` rows of dim floats, src rows src_pitch floats apart, into rows dst_pitch apart. */
static int copy_rows(movl_encoder *e, int batch, int dim, cl_mem src, size_t src_pitch, cl_mem dst, size_t dst_pitch,
                     char *err)
{
    const size_t origin[3] = {0, 0, 0}, region[3] = {sizeof(float) * (size_t)dim, (size_t)batch, 1};
    cl_int rc = clEnqueueCopyBufferRect(e->dev->queue, src, dst, origin, origin, region, sizeof(float) * src_pitch, 0,
                                        sizeof(float) * dst_pitch, 0, 0, NULL, NULL);
    return rc == CL_SUCCESS ? MOVL_OK : copy_failed(e, rc, err);
}

/* Image b's token token_of[b] <-> row b of the pooled [batch][dim]; to_tokens: the backward's direction. */
static int copy_picked(movl_encoder *e, const enc_layer *l, int batch, cl_mem tokens, cl_mem pooled, int to_tokens,
                       char *err)
{
    const enc_tensor *x = &e->tensors[l->in[0]];
    size_t row = sizeof(float) * (size_t)x->c;
    for (int b = 0; b < batch; b++) {
        size_t at = sizeof(float) * ((size_t)b * x->numel + (size_t)l->p.cls.token_of[b] * x->c), to = row * b;
        cl_int rc = to_tokens ? clEnqueueCopyBuffer(e->dev->queue, pooled, tokens, to, at, row, 0, NULL, NULL)
                              : clEnqueueCopyBuffer(e->dev->queue, tokens, pooled, at, to, row, 0, NULL, NULL);
        if (rc != CL_SUCCESS)
            return copy_failed(e, rc, err);
    }
    return MOVL_OK;
}

static int cls_forward(movl_encoder *e, enc_layer *l, int batch, char *err)
{
    const enc_tensor *x = &e->tensors[l->in[0]];
    if (l->p.cls.token_of)
        return copy_picked(e, l, batch, x->buf, e->tensors[l->out].buf, 0, err);
    return copy_rows(e, batch, x->c, x->buf, x->numel, e->tensors[l->out].buf, (size_t)x->c, err);
}

static int cls_backward(movl_encoder *e, enc_layer *l, int slot, int batch, cl_mem dz, cl_mem dx, char *err)
{
    (void)slot;
    const enc_tensor *x = &e->tensors[l->in[0]];
    int rc = movl_fill_zero(e->dev, dx, sizeof(float) * (size_t)batch * x->numel, err);
    if (rc == MOVL_OK && l->p.cls.token_of)
        return copy_picked(e, l, batch, dx, dz, 1, err);
    return rc ? rc : copy_rows(e, batch, x->c, dz, (size_t)x->c, dx, x->numel, err);
}

/* Only the class token is read: the output's size twice, not the whole token tensor. */
static void cls_floats_moved(const movl_encoder *e, const enc_layer *l, double *per_image, double *fixed)
{
    *per_image = 2.0 * (double)e->tensors[l->out].numel;
    *fixed = 0;
}

static void cls_release(enc_layer *l) { free(l->p.cls.token_of); }

const enc_layer_kind enc_kind_cls = {
    .name = "cls",
    .forward = cls_forward,
    .backward_input = cls_backward,
    .floats_moved = cls_floats_moved,
    .group = "pool",
    .release = cls_release,
};

int enc_cls(movl_encoder *e, int in, const char *layer_name, int *out, char *err)
{
    enc_layer *l = enc_new_layer(e, ENC_CLS, layer_name, in, -1, e->tensors[in].c, 1, 1, err);
    if (!l)
        return MOVL_ERR_INPUT;
    *out = l->out;
    return MOVL_OK;
}

int enc_pool_tokens(movl_encoder *e, int in, const char *layer_name, int **token_of, int *out, char *err)
{
    int rc = enc_cls(e, in, layer_name, out, err);
    if (rc != MOVL_OK)
        return rc;
    enc_layer *l = &e->layers[e->nlayers - 1];
    if (!(l->p.cls.token_of = calloc((size_t)e->max_batch, sizeof(int)))) {
        movl_set_error(err, "out of host memory building %s", e->arch);
        return MOVL_ERR_RUN;
    }
    *token_of = l->p.cls.token_of;
    return MOVL_OK;
}
