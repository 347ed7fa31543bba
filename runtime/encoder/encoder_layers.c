/* The encoder's layer kinds (conv with folded BN, residual add, max pool,
 * global average pool, linear) and the builder calls that append them to the
 * graph, reading and checking their weights. */
#include "encoder/encoder_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encoder/bn_fold.h"
#include "core/common.h"

cl_mem enc_alloc(movl_encoder *e, size_t bytes, char *err)
{
    cl_mem m = movl_buffer(e->dev, bytes, err);
    if (m)
        e->device_bytes += bytes;
    return m;
}

static enc_tensor *T(movl_encoder *e, int i) { return &e->tensors[i]; }

/* ---- layer kinds ---- */

/* The workspace was sized at max_batch; a launcher asking more for a smaller batch is a bug we report. */
static int workspace_fits(movl_encoder *e, const enc_layer *l, const movl_conv_desc *d, char *err)
{
    size_t need = movl_conv_workspace_bytes(e->dev, d);
    if (need <= e->workspace_bytes)
        return 1;
    movl_set_error(err, "%s: conv '%s' needs %zu workspace bytes at batch %d, %zu were allocated", e->arch, l->name,
                   need, d->n, e->workspace_bytes);
    return 0;
}

static int conv_forward(movl_encoder *e, enc_layer *l, int batch, char *err)
{
    movl_conv_desc d = l->conv;
    d.n = batch;
    if (!workspace_fits(e, l, &d, err))
        return MOVL_ERR_RUN;
    return movl_conv2d_forward(e->dev, &d, T(e, l->in[0])->buf, l->weight, l->bias, l->act, T(e, l->out)->buf,
                               e->workspace, err);
}

static int conv_backward(movl_encoder *e, enc_layer *l, int slot, int batch, cl_mem dz, cl_mem dx, char *err)
{
    (void)slot;
    movl_conv_desc d = l->conv;
    d.n = batch;
    if (!workspace_fits(e, l, &d, err))
        return MOVL_ERR_RUN;
    return movl_conv2d_backward_input(e->dev, &d, l->weight, dz, dx, e->workspace, err);
}

static double conv_flops(const movl_encoder *e, const enc_layer *l)
{
    (void)e;
    const movl_conv_desc *d = &l->conv;
    return 2.0 * d->cout * d->oh * d->ow * (double)(d->cin / d->groups) * d->k * d->k;
}

static int add_forward(movl_encoder *e, enc_layer *l, int batch, char *err)
{
    enc_tensor *y = T(e, l->out);
    return movl_add_forward(e->dev, (size_t)batch * y->numel, T(e, l->in[0])->buf, T(e, l->in[1])->buf, l->act,
                            y->buf, err);
}

static double elementwise_flops(const movl_encoder *e, const enc_layer *l)
{
    return (double)e->tensors[l->out].numel;
}

static int maxpool_forward(movl_encoder *e, enc_layer *l, int batch, char *err)
{
    movl_pool_desc d = l->pool;
    d.n = batch;
    return movl_maxpool_forward(e->dev, &d, T(e, l->in[0])->buf, T(e, l->out)->buf, l->idx, err);
}

static int maxpool_backward(movl_encoder *e, enc_layer *l, int slot, int batch, cl_mem dz, cl_mem dx, char *err)
{
    (void)slot;
    movl_pool_desc d = l->pool;
    d.n = batch;
    return movl_maxpool_backward(e->dev, &d, l->idx, dz, dx, err);
}

static double maxpool_flops(const movl_encoder *e, const enc_layer *l)
{
    return (double)e->tensors[l->out].numel * l->pool.k * l->pool.k;
}

static int gap_forward(movl_encoder *e, enc_layer *l, int batch, char *err)
{
    enc_tensor *x = T(e, l->in[0]);
    return movl_gap_forward(e->dev, batch, x->c, x->h * x->w, x->buf, T(e, l->out)->buf, err);
}

static int gap_backward(movl_encoder *e, enc_layer *l, int slot, int batch, cl_mem dz, cl_mem dx, char *err)
{
    (void)slot;
    enc_tensor *x = T(e, l->in[0]);
    return movl_gap_backward(e->dev, batch, x->c, x->h * x->w, dz, dx, err);
}

static double gap_flops(const movl_encoder *e, const enc_layer *l)
{
    return (double)e->tensors[l->in[0]].numel;
}

static int linear_forward(movl_encoder *e, enc_layer *l, int batch, char *err)
{
    return movl_linear_forward(e->dev, batch, l->lin_in, l->lin_out, T(e, l->in[0])->buf, l->weight, l->bias,
                               T(e, l->out)->buf, err);
}

static int linear_backward(movl_encoder *e, enc_layer *l, int slot, int batch, cl_mem dz, cl_mem dx, char *err)
{
    (void)slot;
    return movl_linear_backward_input(e->dev, batch, l->lin_in, l->lin_out, l->weight, dz, dx, err);
}

static double linear_flops(const movl_encoder *e, const enc_layer *l)
{
    (void)e;
    return 2.0 * l->lin_in * l->lin_out;
}

static const enc_layer_ops conv_ops = {conv_forward, conv_backward, conv_flops};
static const enc_layer_ops add_ops = {add_forward, NULL, elementwise_flops};
static const enc_layer_ops maxpool_ops = {maxpool_forward, maxpool_backward, maxpool_flops};
static const enc_layer_ops gap_ops = {gap_forward, gap_backward, gap_flops};
static const enc_layer_ops linear_ops = {linear_forward, linear_backward, linear_flops};

/* ---- graph construction ---- */

static int new_tensor(movl_encoder *e, int c, int h, int w, char *err)
{
    if (e->ntensors == e->cap_tensors) {
        int cap = e->cap_tensors ? 2 * e->cap_tensors : 64;
        enc_tensor *t = realloc(e->tensors, sizeof *t * (size_t)cap);
        if (!t) {
            movl_set_error(err, "out of host memory building %s", e->arch);
            return -1;
        }
        e->tensors = t;
        e->cap_tensors = cap;
    }
    enc_tensor *t = &e->tensors[e->ntensors];
    memset(t, 0, sizeof *t);
    t->c = c;
    t->h = h;
    t->w = w;
    t->numel = (size_t)c * h * w;
    t->alias_of = -1;
    t->producer = -1;
    return e->ntensors++;
}

/* Appends a layer reading in0 (and in1 >= 0) that writes a new tensor c x h x w. */
static enc_layer *new_layer(movl_encoder *e, enc_kind kind, const enc_layer_ops *ops, const char *name, int in0,
                            int in1, int c, int h, int w, char *err)
{
    if (h < 1 || w < 1) {
        movl_set_error(err, "input size %d is too small for %s: layer '%s' would have an empty output", e->size,
                       e->arch, name);
        return NULL;
    }
    if (e->nlayers == e->cap_layers) {
        int cap = e->cap_layers ? 2 * e->cap_layers : 64;
        enc_layer *l = realloc(e->layers, sizeof *l * (size_t)cap);
        if (!l) {
            movl_set_error(err, "out of host memory building %s", e->arch);
            return NULL;
        }
        e->layers = l;
        e->cap_layers = cap;
    }
    int out = new_tensor(e, c, h, w, err);
    if (out < 0)
        return NULL;
    enc_layer *l = &e->layers[e->nlayers];
    memset(l, 0, sizeof *l);
    l->ops = ops;
    l->kind = kind;
    snprintf(l->name, sizeof l->name, "%s", name);
    l->in[0] = in0;
    l->in[1] = in1;
    l->nin = in1 >= 0 ? 2 : 1;
    l->out = out;
    e->tensors[out].producer = e->nlayers;
    e->tensors[in0].readers++;
    if (in1 >= 0)
        e->tensors[in1].readers++;
    e->nlayers++;
    return l;
}

int enc_input(movl_encoder *e, char *err)
{
    return new_tensor(e, 3, e->size, e->size, err) == 0 ? MOVL_OK : MOVL_ERR_RUN;
}

/* Uploads n floats to a new device buffer. */
static cl_mem upload_new(movl_encoder *e, const float *host, size_t n, char *err)
{
    cl_mem m = enc_alloc(e, sizeof(float) * n, err);
    if (m && movl_upload(e->dev, m, host, sizeof(float) * n, err) != MOVL_OK) {
        clReleaseMemObject(m);
        return NULL;
    }
    return m;
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
    enc_layer *l = new_layer(e, ENC_CONV, &conv_ops, layer_name, in, -1, cout, d.oh, d.ow, err);
    if (!l)
        return MOVL_ERR_INPUT;
    l->conv = d;
    l->act = act;
    size_t nw = (size_t)cout * (x.c / groups) * k * k;
    float *hw = malloc(sizeof(float) * (nw + (size_t)cout));
    if (!hw) {
        movl_set_error(err, "out of host memory reading '%s'", conv_name);
        return MOVL_ERR_RUN;
    }
    int rc = movl_read_conv_bn(w, conv_name, bn_name, cout, x.c / groups, k, bn_eps, hw, hw + nw, err);
    if (rc == MOVL_OK) {
        l->weight = upload_new(e, hw, nw, err);
        l->bias = l->weight ? upload_new(e, hw + nw, (size_t)cout, err) : NULL;
        rc = l->bias ? MOVL_OK : MOVL_ERR_RUN;
    }
    free(hw);
    *out = l->out;
    return rc;
}

int enc_add(movl_encoder *e, int a, int b, movl_act act, const char *layer_name, int *out, char *err)
{
    enc_tensor ta = e->tensors[a], tb = e->tensors[b];
    if (ta.c != tb.c || ta.h != tb.h || ta.w != tb.w) {
        movl_set_error(err, "%s: residual '%s' adds %dx%dx%d to %dx%dx%d", e->arch, layer_name, ta.c, ta.h, ta.w, tb.c,
                       tb.h, tb.w);
        return MOVL_ERR_RUN;
    }
    enc_layer *l = new_layer(e, ENC_ADD, &add_ops, layer_name, a, b, ta.c, ta.h, ta.w, err);
    if (!l)
        return MOVL_ERR_INPUT;
    l->act = act;
    e->tensors[l->out].alias_of = a;
    *out = l->out;
    return MOVL_OK;
}

int enc_maxpool(movl_encoder *e, int in, int k, int stride, int pad, const char *layer_name, int *out, char *err)
{
    enc_tensor x = e->tensors[in];
    movl_pool_desc d;
    movl_pool_desc_init(&d, e->max_batch, x.c, x.h, x.w, k, stride, pad);
    enc_layer *l = new_layer(e, ENC_MAXPOOL, &maxpool_ops, layer_name, in, -1, x.c, d.oh, d.ow, err);
    if (!l)
        return MOVL_ERR_INPUT;
    l->pool = d;
    l->idx = enc_alloc(e, sizeof(int) * (size_t)e->max_batch * e->tensors[l->out].numel, err);
    *out = l->out;
    return l->idx ? MOVL_OK : MOVL_ERR_RUN;
}

int enc_gap(movl_encoder *e, int in, const char *layer_name, int *out, char *err)
{
    enc_layer *l = new_layer(e, ENC_GAP, &gap_ops, layer_name, in, -1, e->tensors[in].c, 1, 1, err);
    if (!l)
        return MOVL_ERR_INPUT;
    *out = l->out;
    return MOVL_OK;
}

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
        l = new_layer(e, ENC_LINEAR, &linear_ops, layer_name, in, -1, classes, 1, 1, err);
        rc = l ? MOVL_OK : MOVL_ERR_RUN;
    }
    if (rc == MOVL_OK) {
        l->lin_in = features;
        l->lin_out = classes;
        l->weight = upload_new(e, hw, (size_t)classes * features, err);
        l->bias = l->weight ? upload_new(e, hw + (size_t)classes * features, (size_t)classes, err) : NULL;
        rc = l->bias ? MOVL_OK : MOVL_ERR_RUN;
        *out = l->out;
    }
    free(hw);
    return rc;
}

int enc_finish(movl_encoder *e, char *err)
{
    for (int i = 0; i < e->nlayers; i++) {
        enc_layer *l = &e->layers[i];
        if (l->kind != ENC_ADD)
            continue;
        /* The add overwrites its first input: nothing else may read it, and
         * its producer's backward must not need it (no activation). */
        enc_tensor *a = &e->tensors[l->in[0]];
        if (a->readers != 1 || a->producer < 0 || e->layers[a->producer].kind != ENC_CONV ||
            e->layers[a->producer].act != MOVL_ACT_NONE) {
            movl_set_error(err, "%s: residual '%s' cannot run in place over its first input", e->arch, l->name);
            return MOVL_ERR_RUN;
        }
    }
    for (int i = 1; i < e->ntensors; i++) {
        enc_tensor *t = &e->tensors[i];
        if (t->alias_of >= 0)
            t->buf = e->tensors[t->alias_of].buf; /* aliases point at earlier, already allocated tensors */
        else if (!(t->buf = enc_alloc(e, sizeof(float) * (size_t)e->max_batch * t->numel, err)))
            return MOVL_ERR_RUN;
    }
    if (!(e->grad_handles = malloc(sizeof(int) * (size_t)e->ntensors))) {
        movl_set_error(err, "out of host memory building %s", e->arch);
        return MOVL_ERR_RUN;
    }
    e->workspace_bytes = 0;
    for (int i = 0; i < e->nlayers; i++)
        if (e->layers[i].kind == ENC_CONV) {
            size_t b = movl_conv_workspace_bytes(e->dev, &e->layers[i].conv);
            if (b > e->workspace_bytes)
                e->workspace_bytes = b;
        }
    if (e->workspace_bytes && !(e->workspace = enc_alloc(e, e->workspace_bytes, err)))
        return MOVL_ERR_RUN;
    return MOVL_OK;
}
