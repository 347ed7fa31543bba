/* Layer kind "linear": y = x W^T + b, the encoder's own classifier (one row
 * per image) or a transformer's per-token projection (one row per token). */
#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "encoder/bn_fold.h"
#include "encoder/encoder_internal.h"

static int linear_forward(movl_encoder *e, enc_layer *l, int batch, char *err)
{
    const enc_linear_params *p = &l->p.linear;
    return movl_linear_forward(e->dev, batch * p->rows, p->in, p->out, e->tensors[l->in[0]].buf, p->weight, p->bias,
                               e->tensors[l->out].buf, err);
}

static int linear_backward(movl_encoder *e, enc_layer *l, int slot, int batch, cl_mem dz, cl_mem dx, char *err)
{
    (void)slot;
    const enc_linear_params *p = &l->p.linear;
    return movl_linear_backward_input(e->dev, batch * p->rows, p->in, p->out, p->weight, dz, dx, err);
}

/* dW = dz^T x over every row of the batch, db = the column sums of dz (a file without a bias trains none). */
static int linear_backward_params(movl_encoder *e, enc_layer *l, int batch, cl_mem dz, char *err)
{
    const enc_linear_params *p = &l->p.linear;
    if (p->param < 0)
        return MOVL_OK; /* the source classifier */
    const enc_param *q = &e->params[p->param];
    return movl_linear_backward_params(e->dev, batch * p->rows, p->in, p->out, e->tensors[l->in[0]].buf, dz, q->dw,
                                       p->has_bias ? q->db : NULL, err);
}

static void linear_param_buffers(enc_layer *l, cl_mem **w, cl_mem **b)
{
    *w = &l->p.linear.weight;
    *b = &l->p.linear.bias;
}

static double linear_flops(const movl_encoder *e, const enc_layer *l)
{
    (void)e;
    return 2.0 * l->p.linear.rows * l->p.linear.in * l->p.linear.out;
}

static void linear_floats_moved(const movl_encoder *e, const enc_layer *l, double *per_image, double *fixed)
{
    *per_image = (double)e->tensors[l->in[0]].numel + (double)e->tensors[l->out].numel;
    *fixed = (double)l->p.linear.in * l->p.linear.out + l->p.linear.out;
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
    .group = "linear",
    .release = linear_release,
    .backward_params = linear_backward_params,
    .param_buffers = linear_param_buffers,
    .output_overwritable = 1, /* its backward reads W only: a residual add may write over its output */
};

/* A linear layer over `rows` rows of `features` per image; out_dim 0: the file's row count (a classifier).
 * transposed: the file holds W^T [features][out] (CLIP's projections, applied as x @ P); bias_name NULL: no
 * bias (zeros). */
static int linear_layer(movl_encoder *e, const movl_weights *w, int in, int rows, int features, int out_dim,
                        int transposed, const char *weight_name, const char *bias_name, const char *layer_name,
                        int *out, char *err)
{
    const movl_tensor_info *ti = w ? movl_weights_find(w, weight_name) : NULL;
    int file_out = ti && ti->ndim == 2 && ti->shape[transposed] > 0 && ti->shape[transposed] < (1 << 20)
                       ? (int)ti->shape[transposed]
                       : 1000;
    int classes = out_dim > 0 ? out_dim : file_out;
    const int64_t wshape[2] = {transposed ? features : classes, transposed ? classes : features}, bshape[1] = {classes};
    size_t nw = (size_t)classes * features;
    /* the matrix [out][in], the bias, and for a transposed file its rows as stored */
    float *hw = malloc(sizeof(float) * (nw + (size_t)classes + (transposed ? nw : 0)));
    if (!hw) {
        movl_set_error(err, "out of host memory reading '%s'", weight_name);
        return MOVL_ERR_RUN;
    }
    float *bias = hw + nw, *stored = bias + classes;
    /* A conv weight [out][c][k][k] over patch rows of c * k * k is the same matrix (the patch embedding). */
    int conv = ti && ti->ndim == 4 && ti->shape[0] == classes && ti->shape[1] * ti->shape[2] * ti->shape[3] == features;
    const int64_t cshape[4] = {classes, conv ? ti->shape[1] : 0, conv ? ti->shape[2] : 0, conv ? ti->shape[3] : 0};
    int rc = conv ? movl_read_shaped(w, weight_name, 4, cshape, hw, err)
                  : movl_read_shaped(w, weight_name, 2, wshape, transposed ? stored : hw, err);
    if (rc == MOVL_OK && transposed && !conv)
        for (int i = 0; i < features; i++)
            for (int o = 0; o < classes; o++)
                hw[(size_t)o * features + i] = stored[(size_t)i * classes + o];
    if (rc == MOVL_OK && bias_name)
        rc = movl_read_shaped(w, bias_name, 1, bshape, bias, err);
    else if (rc == MOVL_OK)
        memset(bias, 0, sizeof(float) * (size_t)classes);
    enc_layer *l = NULL;
    if (rc == MOVL_OK) {
        /* a classifier's output is [classes]; a token projection's [rows][classes] (c = features, h = tokens) */
        l = rows == 1 ? enc_new_layer(e, ENC_LINEAR, layer_name, in, -1, classes, 1, 1, err)
                      : enc_new_layer(e, ENC_LINEAR, layer_name, in, -1, classes, rows, 1, err);
        rc = l ? MOVL_OK : MOVL_ERR_RUN;
    }
    if (rc == MOVL_OK) {
        enc_linear_params *p = &l->p.linear;
        p->in = features;
        p->out = classes;
        p->rows = rows;
        p->has_bias = bias_name != NULL;
        const int64_t shape[2] = {classes, features};
        if (out_dim > 0 || transposed) { /* a part of the features: a trained tensor in full fine-tuning */
            p->param = enc_layer_tensors(e, (int)(l - e->layers), 2, shape, hw, "weight", (size_t)classes,
                                         p->has_bias ? bias : NULL, "bias", &p->weight, &p->bias, err);
            rc = p->param >= 0 ? MOVL_OK : MOVL_ERR_RUN;
        } else { /* the source classifier: after the features, never trained (the probe replaces it) */
            p->param = -1;
            rc = (p->weight = enc_upload_new(e, hw, nw, err)) ? MOVL_OK : MOVL_ERR_RUN;
        }
        /* without a bias in the file: zeros of its own, never trained; the classifier's own bias */
        if (rc == MOVL_OK && (!p->has_bias || p->param < 0) && !(p->bias = enc_upload_new(e, bias, (size_t)classes, err)))
            rc = MOVL_ERR_RUN;
        *out = l->out;
    }
    free(hw);
    return rc;
}

int enc_linear(movl_encoder *e, const movl_weights *w, int in, const char *weight_name, const char *bias_name,
               const char *layer_name, int *out, char *err)
{
    return linear_layer(e, w, in, 1, (int)e->tensors[in].numel, 0, 0, weight_name, bias_name, layer_name, out, err);
}

int enc_linear_tokens(movl_encoder *e, const movl_weights *w, int in, const char *weight_name, const char *bias_name,
                      int out_dim, const char *layer_name, int *out, char *err)
{
    const enc_tensor *x = &e->tensors[in];
    return linear_layer(e, w, in, x->h, x->c, out_dim, 0, weight_name, bias_name, layer_name, out, err);
}

int enc_linear_proj(movl_encoder *e, const movl_weights *w, int in, const char *weight_name, const char *layer_name,
                    int *out, char *err)
{
    return linear_layer(e, w, in, 1, (int)e->tensors[in].numel, 0, 1, weight_name, NULL, layer_name, out, err);
}
