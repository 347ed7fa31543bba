/* CLIP's text tower (text_tower.h): host-side token embedding, the causal
 * transformer as an encoder graph, end-token pooling and projection. */
#include "encoder/text_tower.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "core/weights.h"
#include "encoder/bn_fold.h"
#include "encoder/encoder_internal.h"

struct movl_text_tower {
    movl_encoder *enc;
    int vocab, context, width, embed;
    int *token_of;          /* the pooling layer's per-text end token (owned by the layer) */
    float *token_embedding; /* host [vocab][width] */
    float *positions;       /* host [context][width] */
    float *staging;         /* host [max_batch][context][width] */
    cl_mem input;           /* [max_batch][context][width] */
    double logit_scale;
};

void movl_text_tower_free(movl_text_tower *t)
{
    if (!t)
        return;
    movl_encoder_free(t->enc);
    if (t->input)
        clReleaseMemObject(t->input);
    free(t->token_embedding);
    free(t->positions);
    free(t->staging);
    free(t);
}

/* Vocabulary, width and context from the embedding tables; the tables into host memory. */
static int read_tables(movl_text_tower *t, const movl_weights *w, char *err)
{
    const movl_tensor_info *te = movl_weights_find(w, "token_embedding.weight"),
                           *pe = movl_weights_find(w, "positional_embedding");
    const char *missing = !te ? "token_embedding.weight" : !pe ? "positional_embedding" : NULL;
    if (missing) {
        movl_set_error(err, "%s: missing tensor '%s' (CLIP's text tower; an image-only checkpoint has no text head)",
                       movl_weights_path(w), missing);
        return MOVL_ERR_INPUT;
    }
    if (te->ndim != 2 || te->shape[0] < 3 || te->shape[0] > (1 << 24) || te->shape[1] < 1 || te->shape[1] > 65536) {
        movl_set_error(err, "%s: tensor 'token_embedding.weight' should be [vocabulary][width]", movl_weights_path(w));
        return MOVL_ERR_INPUT;
    }
    t->vocab = (int)te->shape[0];
    t->width = (int)te->shape[1];
    t->context = pe->ndim == 2 && pe->shape[0] >= 2 && pe->shape[0] <= 4096 ? (int)pe->shape[0] : 0;
    const int64_t eshape[2] = {t->vocab, t->width}, pshape[2] = {t->context ? t->context : 77, t->width};
    t->token_embedding = malloc(sizeof(float) * (size_t)t->vocab * t->width);
    t->positions = malloc(sizeof(float) * (size_t)pshape[0] * t->width);
    if (!t->token_embedding || !t->positions) {
        movl_set_error(err, "out of host memory reading %s", movl_weights_path(w));
        return MOVL_ERR_RUN;
    }
    int rc = movl_read_shaped(w, "token_embedding.weight", 2, eshape, t->token_embedding, err);
    if (rc == MOVL_OK)
        rc = movl_read_shaped(w, "positional_embedding", 2, pshape, t->positions, err);
    t->logit_scale = 100.0;
    const movl_tensor_info *ls = movl_weights_find(w, "logit_scale");
    if (rc == MOVL_OK && ls) {
        float v;
        if (ls->numel != 1) {
            movl_set_error(err, "%s: tensor 'logit_scale' holds %zu values, expected 1", movl_weights_path(w),
                           (size_t)ls->numel);
            return MOVL_ERR_INPUT;
        }
        if ((rc = movl_weights_read_f32(w, "logit_scale", &v, 1, err)) == MOVL_OK)
            t->logit_scale = exp((double)v);
    }
    return rc;
}

int movl_text_tower_load(movl_device *dev, const char *arch, const char *weights, int max_batch,
                         movl_text_tower **out, char *err)
{
    *out = NULL;
    if (!arch || strncmp(arch, "clip_", 5) != 0 || !weights || max_batch < 1) {
        movl_set_error(err, "the CLIP text tower needs a clip_* encoder and its weights file (got %s, %s)",
                       arch ? arch : "(null)", weights ? weights : "no weights");
        return MOVL_ERR_INPUT;
    }
    movl_weights *w = NULL;
    int rc = movl_weights_open(weights, &w, err);
    if (rc != MOVL_OK)
        return rc;
    char name[64];
    snprintf(name, sizeof name, "%s text", arch);
    movl_text_tower *t = calloc(1, sizeof *t);
    movl_encoder *e = enc_create(dev, name, max_batch, 0);
    if (!t || !e) {
        free(t);
        free(e);
        movl_weights_close(w);
        movl_set_error(err, "out of host memory loading %s", weights);
        return MOVL_ERR_RUN;
    }
    t->enc = e;
    rc = read_tables(t, w, err);
    movl_gelu gelu = strstr(arch, "_gelu") ? MOVL_GELU_ERF : MOVL_GELU_QUICK;
    if (rc == MOVL_OK)
        rc = enc_build_clip_text(e, w, t->context, t->width, gelu, &t->token_of, err);
    movl_weights_close(w);
    if (rc == MOVL_OK)
        rc = enc_complete(e, err);
    if (rc == MOVL_OK) {
        t->embed = movl_encoder_feature_dim(e);
        size_t n = (size_t)max_batch * t->context * t->width;
        if (!(t->staging = malloc(sizeof(float) * n))) {
            movl_set_error(err, "out of host memory loading %s", weights);
            rc = MOVL_ERR_RUN;
        } else if (!(t->input = movl_buffer(dev, sizeof(float) * n, err))) {
            rc = MOVL_ERR_RUN;
        }
    }
    if (rc != MOVL_OK) {
        movl_text_tower_free(t);
        return rc;
    }
    *out = t;
    return MOVL_OK;
}

int movl_text_tower_context(const movl_text_tower *t) { return t->context; }
int movl_text_tower_vocab(const movl_text_tower *t) { return t->vocab; }
int movl_text_tower_embed_dim(const movl_text_tower *t) { return t->embed; }
double movl_text_tower_logit_scale(const movl_text_tower *t) { return t->logit_scale; }

/* x[p] = token_embedding[ids[p]] + positional_embedding[p] for one text. */
static int embed_text(const movl_text_tower *t, int text, const int32_t *ids, float *x, char *err)
{
    for (int p = 0; p < t->context; p++) {
        if (ids[p] < 0 || ids[p] >= t->vocab) {
            movl_set_error(err, "text %d: token %d at position %d is outside the vocabulary of %d", text, ids[p], p,
                           t->vocab);
            return MOVL_ERR_INPUT;
        }
        const float *e = t->token_embedding + (size_t)ids[p] * t->width, *q = t->positions + (size_t)p * t->width;
        for (int j = 0; j < t->width; j++)
            x[(size_t)p * t->width + j] = e[j] + q[j];
    }
    return MOVL_OK;
}

int movl_text_tower_encode(movl_text_tower *t, int n, const int32_t *ids, const int *eot_pos, float *out, char *err)
{
    movl_encoder *e = t->enc;
    size_t per_text = (size_t)t->context * t->width;
    for (int b0 = 0; b0 < n; b0 += e->max_batch) {
        int nb = n - b0 < e->max_batch ? n - b0 : e->max_batch;
        for (int i = 0; i < nb; i++) {
            int text = b0 + i, rc;
            if (eot_pos[text] < 0 || eot_pos[text] >= t->context) {
                movl_set_error(err, "text %d: end token at %d is outside the context of %d", text, eot_pos[text],
                               t->context);
                return MOVL_ERR_INPUT;
            }
            if ((rc = embed_text(t, text, ids + (size_t)text * t->context, t->staging + (size_t)i * per_text, err)))
                return rc;
            t->token_of[i] = eot_pos[text];
        }
        if (movl_upload(e->dev, t->input, t->staging, sizeof(float) * (size_t)nb * per_text, err) ||
            movl_encoder_forward(e, nb, t->input, err) ||
            movl_download(e->dev, movl_encoder_features(e), out + (size_t)b0 * t->embed,
                          sizeof(float) * (size_t)nb * t->embed, err))
            return MOVL_ERR_RUN;
    }
    return MOVL_OK;
}
