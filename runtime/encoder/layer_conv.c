/* Layer kind "conv": a convolution with batch norm folded in at load, its
 * bias and activation fused into the kernel's epilogue. Planned once here
 * (ops/ops.h: variant, tiles, kernels, packed weights); a step only enqueues. */
#include <stdlib.h>

#include "core/common.h"
#include "encoder/bn_fold.h"
#include "encoder/encoder_internal.h"

static enc_tensor *T(movl_encoder *e, int i) { return &e->tensors[i]; }

static int conv_forward(movl_encoder *e, enc_layer *l, int batch, char *err)
{
    return movl_conv_forward(l->p.conv.plan, batch, T(e, l->in[0])->buf, l->p.conv.bias, l->act, T(e, l->out)->buf,
                             e->workspace, err);
}

static int conv_backward(movl_encoder *e, enc_layer *l, int slot, int batch, cl_mem dz, cl_mem dx, char *err)
{
    (void)slot;
    return movl_conv_backward_input(l->p.conv.plan, batch, dz, dx, e->workspace, err);
}

static int conv_backward_params(movl_encoder *e, enc_layer *l, int batch, cl_mem dz, char *err)
{
    const enc_param *p = &e->params[l->p.conv.param];
    cl_mem x = l->in[0] == 0 ? e->input : T(e, l->in[0])->buf;
    return movl_conv_backward_weights(l->p.conv.plan, batch, x, dz, p->dw, p->db, e->workspace, err);
}

static double conv_flops(const movl_encoder *e, const enc_layer *l)
{
    (void)e;
    const movl_conv_desc *d = &l->p.conv.desc;
    return 2.0 * d->cout * d->oh * d->ow * (double)(d->cin / d->groups) * d->k * d->k;
}

static void conv_floats_moved(const movl_encoder *e, const enc_layer *l, double *per_image, double *fixed)
{
    const movl_conv_desc *d = &l->p.conv.desc;
    *per_image = (double)e->tensors[l->in[0]].numel + (double)e->tensors[l->out].numel;
    *fixed = (double)d->cout * (d->cin / d->groups) * d->k * d->k + d->cout;
}

static const char *conv_group(const enc_layer *l)
{
    const movl_conv_desc *d = &l->p.conv.desc;
    return d->groups > 1 && d->groups == d->cin ? "depthwise_conv" : "conv";
}

static size_t conv_workspace(const enc_layer *l) { return movl_conv_plan_workspace_bytes(l->p.conv.plan); }

static void conv_release(enc_layer *l)
{
    movl_conv_plan_free(l->p.conv.plan);
    if (l->p.conv.bias)
        clReleaseMemObject(l->p.conv.bias);
}

/* The weight lives packed in the plan; the bias in its own buffer or a sub-buffer. */
static void conv_param_buffers(enc_layer *l, cl_mem **w, cl_mem **b)
{
    *w = NULL;
    *b = &l->p.conv.bias;
}

static int conv_pack_weights(movl_encoder *e, enc_layer *l, cl_mem w, char *err)
{
    (void)e;
    return movl_conv_plan_set_weights(l->p.conv.plan, w, err);
}

const enc_layer_kind enc_kind_conv = {
    .name = "conv",
    .forward = conv_forward,
    .backward_input = conv_backward,
    .flops = conv_flops,
    .floats_moved = conv_floats_moved,
    .profile_group = conv_group,
    .workspace_bytes = conv_workspace,
    .backward_params = conv_backward_params,
    .release = conv_release,
    .param_buffers = conv_param_buffers,
    .pack_weights = conv_pack_weights,
    .output_overwritable = 1,
};

static int plan_conv(movl_encoder *e, enc_layer *l, char *err)
{
    int rc = movl_conv_plan_create(e->dev, &l->p.conv.desc, &e->conv_options, &l->p.conv.plan, err);
    if (rc != MOVL_OK)
        return rc == MOVL_ERR_INPUT ? MOVL_ERR_RUN : rc;
    e->device_bytes += movl_conv_plan_device_bytes(l->p.conv.plan);
    return MOVL_OK;
}

int enc_conv_bn(movl_encoder *e, const movl_weights *w, int in, const char *conv_name, const char *bn_name, int cout,
                int k, int stride, int pad, int groups, double bn_eps, movl_act act, const char *layer_name, int *out,
                char *err)
{
    enc_tensor x = e->tensors[in];
    if (groups < 1 || x.c % groups || cout % groups) {
        movl_set_error(err, "%s: conv '%s' has %d groups for %d -> %d channels", e->arch, layer_name, groups, x.c, cout);
        return MOVL_ERR_RUN;
    }
    movl_conv_desc d;
    if (pad >= 0)
        movl_conv_desc_init(&d, e->max_batch, x.c, x.h, x.w, cout, k, stride, pad, groups);
    else
        movl_conv_desc_init_same(&d, e->max_batch, x.c, x.h, x.w, cout, k, stride, groups);
    enc_layer *l = enc_new_layer(e, ENC_CONV, layer_name, in, -1, cout, d.oh, d.ow, err);
    if (!l)
        return MOVL_ERR_INPUT;
    l->p.conv.desc = d;
    l->act = act;
    int64_t shape[4] = {cout, x.c / groups, k, k};
    if ((l->p.conv.param = enc_param_add(e, (int)(l - e->layers), 4, shape, (size_t)cout, "weight", "bias", err)) < 0)
        return MOVL_ERR_RUN;
    size_t nw = (size_t)cout * (x.c / groups) * k * k;
    float *hw = malloc(sizeof(float) * (nw + (size_t)cout));
    if (!hw) {
        movl_set_error(err, "out of host memory reading '%s'", conv_name);
        return MOVL_ERR_RUN;
    }
    int rc = movl_read_conv_bn(w, conv_name, bn_name, cout, x.c / groups, k, bn_eps, hw, hw + nw, err);
    if (rc == MOVL_OK)
        rc = plan_conv(e, l, err);
    if (rc == MOVL_OK && e->trainable) { /* uploaded with all the others (enc_params_setup) */
        e->params[l->p.conv.param].host_init = hw;
        hw = NULL;
    } else if (rc == MOVL_OK && (rc = enc_pack_from_host(e, l->p.conv.param, hw, err)) == MOVL_OK) {
        l->p.conv.bias = enc_upload_new(e, hw + nw, (size_t)cout, err);
        rc = l->p.conv.bias ? MOVL_OK : MOVL_ERR_RUN;
    }
    free(hw);
    *out = l->out;
    return rc;
}
