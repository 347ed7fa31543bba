/* Layer kind "maxpool": max over each window, the argmax kept for backward. */
#include "core/common.h"
#include "encoder/encoder_internal.h"

static int maxpool_forward(movl_encoder *e, enc_layer *l, int batch, char *err)
{
    movl_pool_desc d = l->p.maxpool.desc;
    d.n = batch;
    return movl_maxpool_forward(e->dev, &d, e->tensors[l->in[0]].buf, e->tensors[l->out].buf, l->p.maxpool.argmax,
                                err);
}

static int maxpool_backward(movl_encoder *e, enc_layer *l, int slot, int batch, cl_mem dz, cl_mem dx, char *err)
{
    (void)slot;
    movl_pool_desc d = l->p.maxpool.desc;
    d.n = batch;
    return movl_maxpool_backward(e->dev, &d, l->p.maxpool.argmax, dz, dx, err);
}

static double maxpool_flops(const movl_encoder *e, const enc_layer *l)
{
    return (double)e->tensors[l->out].numel * l->p.maxpool.desc.k * l->p.maxpool.desc.k;
}

static void maxpool_floats_moved(const movl_encoder *e, const enc_layer *l, double *per_image, double *fixed)
{
    double out = (double)e->tensors[l->out].numel;
    *per_image = (double)e->tensors[l->in[0]].numel + out + out; /* the argmax index too */
    *fixed = 0;
}

static const char *maxpool_group(const enc_layer *l)
{
    (void)l;
    return "pool";
}

static void maxpool_release(enc_layer *l)
{
    if (l->p.maxpool.argmax)
        clReleaseMemObject(l->p.maxpool.argmax);
}

const enc_layer_kind enc_kind_maxpool = {
    .name = "maxpool",
    .forward = maxpool_forward,
    .backward_input = maxpool_backward,
    .flops = maxpool_flops,
    .floats_moved = maxpool_floats_moved,
    .profile_group = maxpool_group,
    .release = maxpool_release,
};

int enc_maxpool(movl_encoder *e, int in, int k, int stride, int pad, const char *layer_name, int *out, char *err)
{
    enc_tensor x = e->tensors[in];
    movl_pool_desc d;
    movl_pool_desc_init(&d, e->max_batch, x.c, x.h, x.w, k, stride, pad);
    enc_layer *l = enc_new_layer(e, ENC_MAXPOOL, layer_name, in, -1, x.c, d.oh, d.ow, err);
    if (!l)
        return MOVL_ERR_INPUT;
    l->p.maxpool.desc = d;
    l->p.maxpool.argmax = enc_alloc(e, sizeof(int) * (size_t)e->max_batch * e->tensors[l->out].numel, err);
    *out = l->out;
    return l->p.maxpool.argmax ? MOVL_OK : MOVL_ERR_RUN;
}
