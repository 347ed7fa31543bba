/* The encoder's trained tensors (the BN-folded weight and bias of every
 * convolution; a transformer's linear weights and biases, layer-norm gains
 * and shifts, position embedding and class token), laid out in one flat array so that an optimiser updates the
 * whole backbone in one launch and a checkpoint stores it as one block.
 * Each tensor starts at an offset aligned to the device's base-address
 * alignment, so the kernels read it through a sub-buffer. Frozen encoders
 * keep the layout (names, shapes, offsets) but no buffers: a fine-tuned
 * backbone is uploaded tensor by tensor into the conv plans. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "encoder/encoder_internal.h"

/* Alignment of sub-buffer origins, in floats (CL_DEVICE_MEM_BASE_ADDR_ALIGN is in bits). */
static size_t align_floats(const movl_encoder *e)
{
    cl_uint bits = 0;
    if (!e->dev || clGetDeviceInfo(e->dev->id, CL_DEVICE_MEM_BASE_ADDR_ALIGN, sizeof bits, &bits, NULL) != CL_SUCCESS ||
        bits < 32)
        bits = 4096; /* the largest alignment common drivers ask for */
    return bits / 32;
}

static size_t round_up(size_t x, size_t a) { return (x + a - 1) / a * a; }

int enc_param_add(movl_encoder *e, int layer, int ndim, const int64_t *w_shape, size_t b_n, const char *w_name,
                  const char *b_name, char *err)
{
    if (e->nparams == e->cap_params) {
        int cap = e->cap_params ? 2 * e->cap_params : 64;
        enc_param *p = realloc(e->params, sizeof *p * (size_t)cap);
        if (!p) {
            movl_set_error(err, "out of host memory building %s", e->arch);
            return -1;
        }
        e->params = p;
        e->cap_params = cap;
    }
    size_t a = align_floats(e);
    enc_param *p = &e->params[e->nparams];
    memset(p, 0, sizeof *p);
    p->layer = layer;
    p->w_ndim = ndim;
    p->w_n = 1;
    for (int i = 0; i < ndim; i++) {
        p->w_shape[i] = w_shape[i];
        p->w_n *= (size_t)w_shape[i];
    }
    p->b_n = b_n;
    p->w_name = w_name;
    p->b_name = b_name;
    p->w_off = round_up(e->param_floats, a);
    p->b_off = round_up(p->w_off + p->w_n, a);
    e->param_floats = b_n ? p->b_off + p->b_n : p->w_off + p->w_n;
    return e->nparams++;
}

int enc_layer_tensors(movl_encoder *e, int layer, int ndim, const int64_t *w_shape, const float *w,
                      const char *w_name, size_t b_n, const float *b, const char *b_name, cl_mem *wbuf, cl_mem *bbuf,
                      char *err)
{
    int i = enc_param_add(e, layer, ndim, w_shape, b ? b_n : 0, w_name, b_name, err);
    if (i < 0)
        return -1;
    enc_param *p = &e->params[i];
    *wbuf = NULL;
    if (bbuf)
        *bbuf = NULL;
    if (e->trainable) { /* uploaded with all the others (enc_params_setup) */
        if (!(p->host_init = malloc(sizeof(float) * (p->w_n + p->b_n)))) {
            movl_set_error(err, "out of host memory building %s", e->arch);
            return -1;
        }
        memcpy(p->host_init, w, sizeof(float) * p->w_n);
        if (p->b_n)
            memcpy(p->host_init + p->w_n, b, sizeof(float) * p->b_n);
        return i;
    }
    if (!(*wbuf = enc_upload_new(e, w, p->w_n, err)) || (p->b_n && !(*bbuf = enc_upload_new(e, b, p->b_n, err))))
        return -1;
    return i;
}

static cl_mem sub_buffer(movl_encoder *e, cl_mem parent, size_t off, size_t n, char *err)
{
    cl_buffer_region r = {sizeof(float) * off, sizeof(float) * n};
    cl_int rc;
    cl_mem m = clCreateSubBuffer(parent, CL_MEM_READ_WRITE, CL_BUFFER_CREATE_TYPE_REGION, &r, &rc);
    if (rc != CL_SUCCESS) {
        movl_set_error(err, "%s: cannot create a parameter sub-buffer: %s", e->arch, movl_cl_error_name(rc));
        return NULL;
    }
    return m;
}

int enc_params_check_fits(const movl_encoder *e, double planned, char *err)
{
    double mib = 1048576.0;
    size_t bytes = sizeof(float) * e->param_floats;
    double need = (double)e->device_bytes + planned + (double)bytes * (2 + e->state_floats_per_param);
    const movl_device_info *d = &e->dev->info;
    if (need > (double)d->global_mem) {
        movl_set_error(err,
                       "%s: full fine-tuning at batch %d, size %d needs at least %.0f MiB of device memory "
                       "(activations and kernels' scratch %.0f, weights, gradients and optimiser state %.0f) but %s "
                       "has %.0f MiB; lower [train] batch_size or [encoder] size",
                       e->arch, e->max_batch, e->size, need / mib, (e->device_bytes + planned) / mib,
                       (double)bytes * (2 + e->state_floats_per_param) / mib, d->name, d->global_mem / mib);
        return MOVL_ERR_INPUT;
    }
    if (bytes > d->max_alloc) {
        movl_set_error(err, "%s: the backbone's %.0f MiB of parameters exceed %s's largest buffer (%.0f MiB)", e->arch,
                       bytes / mib, d->name, d->max_alloc / mib);
        return MOVL_ERR_INPUT;
    }
    return MOVL_OK;
}

/* Points layer l's buffers at its sub-buffers (the layer releases its references). */
static int bind(movl_encoder *e, enc_param *p, char *err)
{
    enc_layer *l = &e->layers[p->layer];
    cl_mem *w = NULL, *b = NULL;
    l->kind->param_buffers(l, &w, &b);
    cl_mem pairs[2][2] = {{w ? p->w : NULL, NULL}, {b && p->b_n ? p->b : NULL, NULL}};
    cl_mem *slots[2] = {w, b};
    for (int k = 0; k < 2; k++) {
        if (!pairs[k][0])
            continue;
        if (clRetainMemObject(pairs[k][0]) != CL_SUCCESS) {
            movl_set_error(err, "%s: cannot keep a parameter sub-buffer of '%s'", e->arch, l->name);
            return MOVL_ERR_RUN;
        }
        if (*slots[k])
            clReleaseMemObject(*slots[k]);
        *slots[k] = pairs[k][0];
    }
    return MOVL_OK;
}

int enc_params_setup(movl_encoder *e, char *err)
{
    int rc;
    float *host = calloc(e->param_floats ? e->param_floats : 1, sizeof(float));
    if (!host) {
        movl_set_error(err, "out of host memory for %s's parameters", e->arch);
        return MOVL_ERR_RUN;
    }
    for (int i = 0; i < e->nparams; i++) {
        enc_param *p = &e->params[i];
        memcpy(host + p->w_off, p->host_init, sizeof(float) * p->w_n);
        if (p->b_n)
            memcpy(host + p->b_off, p->host_init + p->w_n, sizeof(float) * p->b_n);
        free(p->host_init);
        p->host_init = NULL;
    }
    size_t bytes = sizeof(float) * e->param_floats;
    rc = MOVL_ERR_RUN;
    if ((e->param_buf = enc_alloc(e, bytes, err)) && (e->grad_buf = enc_alloc(e, bytes, err)) &&
        !movl_upload(e->dev, e->param_buf, host, bytes, err)) {
        memset(host, 0, bytes);
        rc = movl_upload(e->dev, e->grad_buf, host, bytes, err) ? MOVL_ERR_RUN : MOVL_OK;
    }
    free(host);
    for (int i = 0; i < e->nparams && rc == MOVL_OK; i++) {
        enc_param *p = &e->params[i];
        /* Gradients start as zeros so that the alignment gaps, which no kernel writes, stay 0. */
        if (!(p->w = sub_buffer(e, e->param_buf, p->w_off, p->w_n, err)) ||
            (p->b_n && !(p->b = sub_buffer(e, e->param_buf, p->b_off, p->b_n, err))) ||
            !(p->dw = sub_buffer(e, e->grad_buf, p->w_off, p->w_n, err)) ||
            (p->b_n && !(p->db = sub_buffer(e, e->grad_buf, p->b_off, p->b_n, err))))
            rc = MOVL_ERR_RUN;
        else
            rc = bind(e, p, err);
    }
    return rc == MOVL_OK ? movl_encoder_params_changed(e, err) : rc;
}

void enc_params_release(movl_encoder *e)
{
    for (int i = 0; i < e->nparams; i++) {
        enc_param *p = &e->params[i];
        cl_mem *m[4] = {&p->w, &p->b, &p->dw, &p->db};
        for (int j = 0; j < 4; j++)
            if (*m[j]) {
                clReleaseMemObject(*m[j]);
                *m[j] = NULL;
            }
        free(p->host_init);
        p->host_init = NULL;
    }
    if (e->param_buf)
        clReleaseMemObject(e->param_buf);
    if (e->grad_buf)
        clReleaseMemObject(e->grad_buf);
    e->param_buf = e->grad_buf = NULL;
    free(e->params);
    e->params = NULL;
    e->nparams = 0;
}

/* ---- public ---- */

/* Tensor i of the layout: the weight and, where there is one, the second tensor of each param. */
static int tensor_at(const movl_encoder *e, int i, const enc_param **p, int *second)
{
    for (int k = 0; k < e->nparams; k++) {
        int n = e->params[k].b_n ? 2 : 1;
        if (i < n) {
            *p = &e->params[k];
            *second = i;
            return 1;
        }
        i -= n;
    }
    return 0;
}

int movl_encoder_tensor_count(const movl_encoder *e)
{
    int n = 0;
    for (int k = 0; k < e->nparams; k++)
        n += e->params[k].b_n ? 2 : 1;
    return n;
}

int movl_encoder_tensor_info(const movl_encoder *e, int i, movl_encoder_tensor *out)
{
    const enc_param *p = NULL;
    int second = 0;
    if (i < 0 || !tensor_at(e, i, &p, &second))
        return MOVL_ERR_INPUT;
    memset(out, 0, sizeof *out);
    snprintf(out->name, sizeof out->name, "%s.%s", e->layers[p->layer].name, second ? p->b_name : p->w_name);
    out->ndim = second ? 1 : p->w_ndim;
    if (second)
        out->shape[0] = (int64_t)p->b_n;
    else
        memcpy(out->shape, p->w_shape, sizeof out->shape);
    out->offset = second ? p->b_off : p->w_off;
    out->numel = second ? p->b_n : p->w_n;
    return MOVL_OK;
}

size_t movl_encoder_param_floats(const movl_encoder *e) { return e->param_floats; }

size_t movl_encoder_param_count(const movl_encoder *e)
{
    size_t n = 0;
    for (int i = 0; i < e->nparams; i++)
        n += e->params[i].w_n + e->params[i].b_n;
    return n;
}

cl_mem movl_encoder_params(const movl_encoder *e) { return e->param_buf; }
cl_mem movl_encoder_param_grads(const movl_encoder *e) { return e->grad_buf; }

int movl_encoder_params_changed(movl_encoder *e, char *err)
{
    if (!e->trainable) {
        movl_set_error(err, "%s: the encoder was loaded frozen (no parameters to repack)", e->arch);
        return MOVL_ERR_RUN;
    }
    for (int i = 0; i < e->nparams; i++) {
        enc_param *p = &e->params[i];
        enc_layer *l = &e->layers[p->layer];
        int rc = l->kind->pack_weights ? l->kind->pack_weights(e, l, p->w, err) : MOVL_OK;
        if (rc != MOVL_OK)
            return rc;
    }
    return MOVL_OK;
}

int enc_pack_from_host(movl_encoder *e, int param, const float *w, char *err)
{
    const enc_param *p = &e->params[param];
    enc_layer *l = &e->layers[p->layer];
    cl_mem tmp = movl_buffer(e->dev, sizeof(float) * p->w_n, err);
    int rc = !tmp || movl_upload(e->dev, tmp, w, sizeof(float) * p->w_n, err) ? MOVL_ERR_RUN
                                                                              : l->kind->pack_weights(e, l, tmp, err);
    if (tmp)
        clReleaseMemObject(tmp);
    return rc;
}

/* Frozen encoders: each tensor into the layer's own buffer, or packed (a conv's weight into its plan). */
static int upload_frozen(movl_encoder *e, const float *host, char *err)
{
    for (int i = 0; i < e->nparams; i++) {
        enc_param *p = &e->params[i];
        enc_layer *l = &e->layers[p->layer];
        cl_mem *w = NULL, *b = NULL;
        l->kind->param_buffers(l, &w, &b);
        int rc = MOVL_OK;
        if (w) {
            rc = movl_upload(e->dev, *w, host + p->w_off, sizeof(float) * p->w_n, err) ? MOVL_ERR_RUN : MOVL_OK;
        } else {
            rc = enc_pack_from_host(e, i, host + p->w_off, err);
        }
        if (rc == MOVL_OK && p->b_n && movl_upload(e->dev, *b, host + p->b_off, sizeof(float) * p->b_n, err))
            rc = MOVL_ERR_RUN;
        if (rc != MOVL_OK)
            return rc;
    }
    return MOVL_OK;
}

int movl_encoder_params_upload(movl_encoder *e, const float *host, char *err)
{
    if (!e->param_buf)
        return upload_frozen(e, host, err);
    if (movl_upload(e->dev, e->param_buf, host, sizeof(float) * e->param_floats, err))
        return MOVL_ERR_RUN;
    return movl_encoder_params_changed(e, err);
}
