/* Building the encoder's graph: tensors, layers appended by the kinds'
 * builder calls (encoder/layer_*.c), and the buffers allocated once the
 * graph is complete. */
#include "encoder/encoder_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"

cl_mem enc_alloc(movl_encoder *e, size_t bytes, char *err)
{
    cl_mem m = movl_buffer(e->dev, bytes, err);
    if (m)
        e->device_bytes += bytes;
    return m;
}

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

enc_layer *enc_new_layer(movl_encoder *e, enc_kind_id kind, const char *name, int in0, int in1, int c, int h, int w,
                         char *err)
{
    if (kind < 0 || kind >= ENC_KIND_COUNT || !enc_layer_kinds[kind]) {
        movl_set_error(err, "%s: layer '%s' has an unregistered kind %d", e->arch, name, (int)kind);
        return NULL;
    }
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
    l->kind = enc_layer_kinds[kind];
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

int enc_input_tokens(movl_encoder *e, int dim, int tokens, char *err)
{
    return new_tensor(e, dim, tokens, 1, err) == 0 ? MOVL_OK : MOVL_ERR_RUN;
}

cl_mem enc_upload_new(movl_encoder *e, const float *host, size_t n, char *err)
{
    cl_mem m = enc_alloc(e, sizeof(float) * n, err);
    if (m && movl_upload(e->dev, m, host, sizeof(float) * n, err) != MOVL_OK) {
        clReleaseMemObject(m);
        return NULL;
    }
    return m;
}

int enc_finish(movl_encoder *e, char *err)
{
    for (int i = 0; i < e->nlayers; i++) {
        enc_layer *l = &e->layers[i];
        if (e->tensors[l->out].alias_of < 0)
            continue;
        /* An in-place layer (add) overwrites its first input: nothing else may
         * read it, and its producer's backward must not need it (no
         * activation, a kind whose backward reads neither output nor input). */
        enc_tensor *a = &e->tensors[l->in[0]];
        if (a->readers != 1 || a->producer < 0 || !e->layers[a->producer].kind->output_overwritable ||
            e->layers[a->producer].act != MOVL_ACT_NONE) {
            const char *from = a->producer < 0 ? "the encoder input" : e->layers[a->producer].kind->name;
            movl_set_error(err, "%s: residual '%s' cannot run in place over its first input (written by %s)", e->arch,
                           l->name, from);
            return MOVL_ERR_RUN;
        }
    }
    size_t ws = 0;
    for (int i = 0; i < e->nlayers; i++) {
        const enc_layer *l = &e->layers[i];
        size_t b = l->kind->workspace_bytes ? l->kind->workspace_bytes(l) : 0;
        ws = b > ws ? b : ws;
    }
    if (e->trainable) {
        double planned = (double)ws;
        for (int i = 1; i < e->ntensors; i++)
            if (e->tensors[i].alias_of < 0)
                planned += sizeof(float) * (double)e->max_batch * (double)e->tensors[i].numel;
        int rc = enc_params_check_fits(e, planned, err);
        if (rc != MOVL_OK)
            return rc;
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
    e->workspace_bytes = ws;
    if (e->workspace_bytes && !(e->workspace = enc_alloc(e, e->workspace_bytes, err)))
        return MOVL_ERR_RUN;
    return MOVL_OK;
}
