/* Layer kind "layernorm": nn.LayerNorm over each token's features; the row
 * statistics of the forward are kept for the backward. */
#include <stdio.h>
#include <stdlib.h>

#include "core/common.h"
#include "encoder/bn_fold.h"
#include "encoder/encoder_internal.h"

static int ln_forward(movl_encoder *e, enc_layer *l, int batch, char *err)
{
    const enc_layernorm_params *p = &l->p.layernorm;
    return movl_layernorm_forward(e->dev, batch * p->rows, p->dim, p->eps, e->tensors[l->in[0]].buf, p->gamma,
                                  p->beta, e->tensors[l->out].buf, p->stats, err);
}

static int ln_backward(movl_encoder *e, enc_layer *l, int slot, int batch, cl_mem dz, cl_mem dx, char *err)
{
    (void)slot;
    const enc_layernorm_params *p = &l->p.layernorm;
    return movl_layernorm_backward_input(e->dev, batch * p->rows, p->dim, e->tensors[l->in[0]].buf, p->gamma,
                                         p->stats, dz, dx, err);
}

/* dgamma, dbeta over every row of the batch, from the forward's input and statistics. */
static int ln_backward_params(movl_encoder *e, enc_layer *l, int batch, cl_mem dz, char *err)
{
    const enc_layernorm_params *p = &l->p.layernorm;
    const enc_param *q = &e->params[p->param];
    return movl_layernorm_backward_params(e->dev, batch * p->rows, p->dim, e->tensors[l->in[0]].buf, p->stats, dz,
                                          q->dw, q->db, err);
}

static void ln_param_buffers(enc_layer *l, cl_mem **w, cl_mem **b)
{
    *w = &l->p.layernorm.gamma;
    *b = &l->p.layernorm.beta;
}

static double ln_flops(const movl_encoder *e, const enc_layer *l)
{
    return 8.0 * (double)e->tensors[l->out].numel;
}

static void ln_floats_moved(const movl_encoder *e, const enc_layer *l, double *per_image, double *fixed)
{
    *per_image = 2.0 * (double)e->tensors[l->out].numel + 2.0 * l->p.layernorm.rows;
    *fixed = 2.0 * l->p.layernorm.dim;
}

static void ln_release(enc_layer *l)
{
    cl_mem m[3] = {l->p.layernorm.gamma, l->p.layernorm.beta, l->p.layernorm.stats};
    for (int i = 0; i < 3; i++)
        if (m[i])
            clReleaseMemObject(m[i]);
}

const enc_layer_kind enc_kind_layernorm = {
    .name = "layernorm",
    .forward = ln_forward,
    .backward_input = ln_backward,
    .flops = ln_flops,
    .floats_moved = ln_floats_moved,
    .group = "norm",
    .release = ln_release,
    .backward_params = ln_backward_params,
    .param_buffers = ln_param_buffers,
};

int enc_layernorm(movl_encoder *e, const movl_weights *w, int in, const char *prefix, double eps,
                  const char *layer_name, int *out, char *err)
{
    const enc_tensor x = e->tensors[in];
    int dim = x.c, rows = x.h * x.w;
    const int64_t shape[1] = {dim};
    char name[160];
    float *h = malloc(sizeof(float) * 2 * (size_t)dim);
    if (!h) {
        movl_set_error(err, "out of host memory reading '%s'", prefix);
        return MOVL_ERR_RUN;
    }
    snprintf(name, sizeof name, "%s.weight", prefix);
    int rc = movl_read_shaped(w, name, 1, shape, h, err);
    snprintf(name, sizeof name, "%s.bias", prefix);
    if (rc == MOVL_OK)
        rc = movl_read_shaped(w, name, 1, shape, h + dim, err);
    enc_layer *l = NULL;
    if (rc == MOVL_OK && !(l = enc_new_layer(e, ENC_LAYERNORM, layer_name, in, -1, dim, x.h, x.w, err)))
        rc = MOVL_ERR_INPUT;
    if (rc == MOVL_OK) {
        enc_layernorm_params *p = &l->p.layernorm;
        p->dim = dim;
        p->rows = rows;
        p->eps = (float)eps;
        const int64_t shape1[1] = {dim};
        p->param = enc_layer_tensors(e, (int)(l - e->layers), 1, shape1, h, "weight", (size_t)dim, h + dim, "bias",
                                     &p->gamma, &p->beta, err);
        p->stats = p->param >= 0 ? enc_alloc(e, sizeof(float) * 2 * (size_t)e->max_batch * rows, err) : NULL;
        rc = p->stats ? MOVL_OK : MOVL_ERR_RUN;
        *out = l->out;
    }
    free(h);
    return rc;
}
