/* Layer kind "linear": the encoder's own classifier, y = x W^T + b. */
#include <stdlib.h>

#include "core/common.h"
#include "encoder/bn_fold.h"
#include "encoder/encoder_internal.h"

static int linear_forward(movl_encoder *e, enc_layer *l, int batch, char *err)
{
    const enc_linear_params *p = &l->p.linear;
    return movl_linear_forward(e->dev, batch, p->in, p->out, e->tensors[l->in[0]].buf, p->weight, p->bias,
                               e->tensors[l->out].buf, err);
}

static int linear_backward(movl_encoder *e, enc_layer *l, int slot, int batch, cl_mem dz, cl_mem dx, char *err)
{
    (void)slot;
    const enc_linear_params *p = &l->p.linear;
    return movl_linear_backward_input(e->dev, batch, p->in, p->out, p->weight, dz, dx, err);
}

static double linear_flops(const movl_encoder *e, const enc_layer *l)
{
    (void)e;
    return 2.0 * l->p.linear.in * l->p.linear.out;
}

static void linear_floats_moved(const movl_encoder *e, const enc_layer *l, double *per_image, double *fixed)
{
    *per_image = (double)e->tensors[l->in[0]].numel + (double)e->tensors[l->out].numel;
    *fixed = (double)l->p.linear.in * l->p.linear.out + l->p.linear.out;
}

static const char *linear_group(const enc_layer *l)
{
    (void)l;
    return "linear";
}

static void linear_release(enc_layer *l)
{
    if (l->p.linear.weight)
        clReleaseMemObject(l->p.linear.weight);
    if (l->p.linear.bias)
        clReleaseMemObject(l->p.linear.bias);
}

const enc_layer_kind enc_kind_linear = {
    .name = "linear",
    .forward = linear_forward,
    .backward_input = linear_backward,
    .flops = linear_flops,
    .floats_moved = linear_floats_moved,
    .profile_group = linear_group,
    .release = linear_release,
};

int enc_linear(movl_encoder *e, const movl_weights *w, int in, const char *weight_name, const char *bias_name,
               const char *layer_name, int *out, char *err)
{
    int features = (int)e->tensors[in].numel;
    const movl_tensor_info *ti = w ? movl_weights_find(w, weight_name) : NULL;
    int classes = ti && ti->ndim == 2 && ti->shape[0] > 0 && ti->shape[0] < (1 << 20) ? (int)ti->shape[0] : 1000;
    const int64_t wshape[2] = {classes, features}, bshape[1] = {classes};
    float *hw = malloc(sizeof(float) * ((size_t)classes * features + (size_t)classes));
    if (!hw) {
        movl_set_error(err, "out of host memory reading '%s'", weight_name);
        return MOVL_ERR_RUN;
    }
    int rc = movl_read_shaped(w, weight_name, 2, wshape, hw, err);
    if (rc == MOVL_OK)
        rc = movl_read_shaped(w, bias_name, 1, bshape, hw + (size_t)classes * features, err);
    enc_layer *l = NULL;
    if (rc == MOVL_OK) {
        l = enc_new_layer(e, ENC_LINEAR, layer_name, in, -1, classes, 1, 1, err);
        rc = l ? MOVL_OK : MOVL_ERR_RUN;
    }
    if (rc == MOVL_OK) {
        enc_linear_params *p = &l->p.linear;
        p->in = features;
        p->out = classes;
        p->weight = enc_upload_new(e, hw, (size_t)classes * features, err);
        p->bias = p->weight ? enc_upload_new(e, hw + (size_t)classes * features, (size_t)classes, err) : NULL;
        rc = p->bias ? MOVL_OK : MOVL_ERR_RUN;
        *out = l->out;
    }
    free(hw);
    return rc;
}
