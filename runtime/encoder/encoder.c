/* Public face of the frozen encoders (encoder.h): load by architecture name,
 * size the backward pass's gradient buffers, warm the kernels up, run
 * forward/backward, and report layers, FLOPs, timings and memory. */
#include "encoder/encoder.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "encoder/encoder_internal.h"

void movl_encoder_free(movl_encoder *e)
{
    if (!e)
        return;
    for (int i = 0; i < e->nlayers; i++) {
        enc_layer *l = &e->layers[i];
        if (l->kind && l->kind->release)
            l->kind->release(l);
    }
    for (int i = 1; i < e->ntensors; i++)
        if (e->tensors[i].alias_of < 0 && e->tensors[i].buf)
            clReleaseMemObject(e->tensors[i].buf);
    for (int i = 0; i < ENC_MAX_POOL; i++)
        if (e->pool[i].mem)
            clReleaseMemObject(e->pool[i].mem);
    if (e->workspace)
        clReleaseMemObject(e->workspace);
    for (int d = 0; d < 2; d++) {
        cl_event *ev = d ? e->bwd_events : e->fwd_events;
        for (int i = 0; ev && i <= e->nlayers; i++)
            if (ev[i])
                clReleaseEvent(ev[i]);
        free(ev);
    }
    enc_params_release(e);
    free(e->grad_handles);
    free(e->layers);
    free(e->tensors);
    free(e);
}

/* The backward pass's gradient buffers: as many as the worst of the three
 * ways to call backward needs (a dry run counts them), each as large as the
 * largest activation at max_batch. */
static int alloc_gradient_pool(movl_encoder *e, char *err)
{
    int rc = MOVL_OK;
    cl_mem fake = (cl_mem)e; /* dry runs only test these for NULL */
    e->npool = 0;
    for (int seeds = 1; seeds <= 3 && rc == MOVL_OK; seeds++)
        rc = enc_run_backward(e, (seeds & 1) ? fake : NULL, (seeds & 2) ? fake : NULL, fake, 1, err);
    if (rc != MOVL_OK)
        return rc;
    e->pool_floats = 0;
    for (int i = 1; i < e->ntensors; i++)
        if (e->tensors[i].numel > e->pool_floats)
            e->pool_floats = e->tensors[i].numel;
    e->pool_floats *= (size_t)e->max_batch;
    for (int i = 0; i < e->npool; i++)
        if (!(e->pool[i].mem = enc_alloc(e, sizeof(float) * e->pool_floats, err)))
            return MOVL_ERR_RUN;
    return MOVL_OK;
}

/* One forward and backward at batch 1 on zeros, with both gradients given,
 * so that every kernel (and CLBlast's GEMM) is compiled during load rather
 * than in the first step. */
static int warm_up(movl_encoder *e, char *err)
{
    size_t sizes[4] = {e->tensors[0].numel, e->tensors[0].numel, e->tensors[e->t_features].numel,
                       e->tensors[e->t_logits].numel};
    cl_mem b[4] = {NULL, NULL, NULL, NULL}; /* x, dx, dfeatures, dlogits */
    int rc = MOVL_OK;
    for (int i = 0; i < 4 && rc == MOVL_OK; i++) {
        b[i] = movl_buffer(e->dev, sizeof(float) * sizes[i], err);
        rc = b[i] ? movl_fill_zero(e->dev, b[i], sizeof(float) * sizes[i], err) : MOVL_ERR_RUN;
    }
    if (rc == MOVL_OK && (rc = movl_encoder_forward(e, 1, b[0], err)) == MOVL_OK &&
        (rc = movl_encoder_backward(e, b[2], b[3], b[1], err)) == MOVL_OK) {
        cl_int cl = clFinish(e->dev->queue);
        if (cl != CL_SUCCESS) {
            movl_set_error(err, "%s: warm-up run failed: %s", e->arch, movl_cl_error_name(cl));
            rc = MOVL_ERR_RUN;
        }
    }
    for (int i = 0; i < 4; i++)
        if (b[i])
            clReleaseMemObject(b[i]);
    e->batch = 0;
    return rc;
}

movl_encoder *enc_create(movl_device *dev, const char *name, int max_batch, int size)
{
    movl_encoder *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->dev = dev;
    snprintf(e->arch, sizeof e->arch, "%s", name);
    e->max_batch = max_batch;
    e->size = size;
    movl_conv_options_from_env(&e->conv_options);
    return e;
}

int movl_encoder_load(movl_device *dev, const char *arch, const char *weights, int max_batch, int size,
                      movl_encoder **out, char *err)
{
    return movl_encoder_load_with(dev, arch, weights, max_batch, size, NULL, out, err);
}

int movl_encoder_load_with(movl_device *dev, const char *arch, const char *weights, int max_batch, int size,
                           const movl_encoder_options *o, movl_encoder **out, char *err)
{
    *out = NULL;
    int ai = -1;
    for (int i = 0; arch && movl_encoder_archs[i]; i++)
        if (strcmp(arch, movl_encoder_archs[i]) == 0)
            ai = i;
    if (ai < 0) {
        movl_set_error(err, "unknown encoder '%s' (expected resnet18, resnet34, resnet50, efficientnet_lite0..4, "
                       "vit_b_16, vit_b_32, clip_vit_b_16, clip_vit_b_32, clip_vit_b_16_gelu or clip_vit_b_32_gelu)",
                       arch ? arch : "(null)");
        return MOVL_ERR_INPUT;
    }
    if (max_batch < 1 || size < 8 || size > 4096) {
        movl_set_error(err, "%s: batch %d and size %d are out of range (batch >= 1, size 8..4096)", arch, max_batch,
                       size);
        return MOVL_ERR_INPUT;
    }
    movl_weights *w = NULL;
    int rc = weights ? movl_weights_open(weights, &w, err) : MOVL_OK;
    if (rc != MOVL_OK)
        return rc;
    movl_encoder *e = enc_create(dev, arch, max_batch, size);
    if (!e) {
        movl_weights_close(w);
        movl_set_error(err, "out of host memory loading %s", arch);
        return MOVL_ERR_RUN;
    }
    e->trainable = o && o->trainable;
    e->state_floats_per_param = o ? o->state_floats_per_param : 0;
    e->conv_options.weight_grads = e->trainable;
    int vit = ai >= 8;
    if (vit) {
        /* 8, 9: torchvision ViT-B/16, B/32; 10, 11: CLIP B/16, B/32 with QuickGELU; 12, 13: with GELU */
        rc = enc_build_vit(e, w, ai % 2 == 0 ? 16 : 32, ai >= 12 ? 2 : ai >= 10, err);
    } else {
        rc = ai < 3 ? enc_build_resnet(e, w, ai == 0 ? 18 : ai == 1 ? 34 : 50, err)
                    : enc_build_efficientnet_lite(e, w, ai - 3, err);
    }
    if (w)
        movl_weights_close(w);
    if (rc == MOVL_OK)
        rc = enc_complete(e, err);
    if (rc != MOVL_OK) {
        movl_encoder_free(e);
        return rc;
    }
    *out = e;
    return MOVL_OK;
}

int enc_complete(movl_encoder *e, char *err)
{
    int rc = enc_finish(e, err);
    if (rc == MOVL_OK)
        rc = alloc_gradient_pool(e, err);
    if (rc == MOVL_OK && e->trainable)
        rc = enc_params_setup(e, err);
    if (rc == MOVL_OK && e->dev->profiling) {
        e->fwd_events = calloc((size_t)e->nlayers + 1, sizeof(cl_event));
        e->bwd_events = calloc((size_t)e->nlayers + 1, sizeof(cl_event));
        if (!e->fwd_events || !e->bwd_events) {
            movl_set_error(err, "out of host memory loading %s", e->arch);
            rc = MOVL_ERR_RUN;
        }
    }
    if (rc == MOVL_OK)
        rc = warm_up(e, err);
    if (rc == MOVL_OK && movl_verbose)
        fprintf(stderr, "%s: %d layers, %.2f GFLOP/image, %d gradient buffers, %.1f MiB on the device%s\n", e->arch,
                e->nlayers, movl_encoder_flops(e) * 1e-9, e->npool, e->device_bytes / 1048576.0,
                e->trainable ? " (trainable)" : "");
    return rc;
}

int movl_encoder_feature_dim(const movl_encoder *e) { return (int)e->tensors[e->t_features].numel; }
int movl_encoder_num_classes(const movl_encoder *e) { return (int)e->tensors[e->t_logits].numel; }
int movl_encoder_input_size(const movl_encoder *e) { return e->size; }

void movl_encoder_normalization(const movl_encoder *e, float mean[3], float std[3])
{
    for (int c = 0; c < 3; c++) {
        mean[c] = e->mean[c];
        std[c] = e->std[c];
    }
}

double movl_encoder_flops(const movl_encoder *e)
{
    double f = 0;
    for (int i = 0; i < e->nlayers; i++)
        f += movl_encoder_layer_flops(e, i);
    return f;
}

int movl_encoder_forward(movl_encoder *e, int batch, cl_mem x, char *err)
{
    if (batch < 1 || batch > e->max_batch || !x) {
        movl_set_error(err, "%s: forward of batch %d (loaded for 1..%d)%s", e->arch, batch, e->max_batch,
                       x ? "" : " without an input buffer");
        return MOVL_ERR_INPUT;
    }
    e->tensors[0].buf = x;
    int rc = enc_run_forward(e, batch, err);
    e->tensors[0].buf = NULL; /* the caller's: set again for the backward */
    e->input = x;
    e->batch = rc == MOVL_OK ? batch : 0;
    return rc;
}

cl_mem movl_encoder_features(const movl_encoder *e) { return e->tensors[e->t_features].buf; }
cl_mem movl_encoder_logits(const movl_encoder *e) { return e->tensors[e->t_logits].buf; }

int movl_encoder_backward(movl_encoder *e, cl_mem dfeatures, cl_mem dlogits, cl_mem dx, char *err)
{
    if (e->batch == 0 || (!dx && !e->trainable)) {
        movl_set_error(err, "%s: backward %s", e->arch, dx ? "without a forward before it" : "without a dx buffer");
        return MOVL_ERR_INPUT;
    }
    /* a first layer whose backward reads its input (the first conv's weight gradient, the text tower's
     * layer norm) reads the forward's, which the caller keeps */
    e->tensors[0].buf = e->input;
    int rc = enc_run_backward(e, dfeatures, dlogits, dx, 0, err);
    e->tensors[0].buf = NULL;
    return rc;
}

int movl_encoder_layer_count(const movl_encoder *e) { return e->nlayers; }

const char *movl_encoder_layer_name(const movl_encoder *e, int i)
{
    return i >= 0 && i < e->nlayers ? e->layers[i].name : NULL;
}

double movl_encoder_layer_flops(const movl_encoder *e, int i)
{
    if (i < 0 || i >= e->nlayers || !e->layers[i].kind->flops)
        return 0.0; /* kinds without arithmetic (copies) */
    return e->layers[i].kind->flops(e, &e->layers[i]);
}

const char *movl_encoder_layer_kind(const movl_encoder *e, int i)
{
    if (i < 0 || i >= e->nlayers)
        return NULL;
    const enc_layer_kind *k = e->layers[i].kind;
    return k->profile_group ? k->profile_group(&e->layers[i]) : k->group;
}

void movl_encoder_layer_bytes(const movl_encoder *e, int i, double *per_image, double *fixed)
{
    *per_image = *fixed = 0;
    if (i < 0 || i >= e->nlayers)
        return;
    const enc_layer *l = &e->layers[i];
    if (l->kind->floats_moved) {
        l->kind->floats_moved(e, l, per_image, fixed);
    } else { /* the default: each input and the output once, no weights */
        for (int j = 0; j < l->nin; j++)
            *per_image += (double)e->tensors[l->in[j]].numel;
        *per_image += (double)e->tensors[l->out].numel;
    }
    *per_image *= sizeof(float);
    *fixed *= sizeof(float);
}

static double event_end(cl_event ev)
{
    cl_ulong t = 0;
    if (!ev || clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_END, sizeof t, &t, NULL) != CL_SUCCESS)
        return -1.0;
    return (double)t * 1e-9;
}

double movl_encoder_layer_seconds(const movl_encoder *e, int i, int backward)
{
    cl_event *ev = backward ? e->bwd_events : e->fwd_events;
    if (!ev || i < 0 || i >= e->nlayers)
        return -1.0;
    /* Forward markers: [0] before layer 0, [i+1] after layer i. Backward runs
     * in reverse: [nlayers] before it starts, [i] after layer i. */
    double before = event_end(backward ? ev[i + 1] : ev[i]), after = event_end(backward ? ev[i] : ev[i + 1]);
    if (before < 0 || after < 0)
        return -1.0;
    return after > before ? after - before : 0.0;
}

size_t movl_encoder_device_bytes(const movl_encoder *e) { return e->device_bytes; }
