/* CLIP's zero-shot text head ([head] type = clip_text; docs/METHOD.md,
 * "CLIP's text head"): each class name into the template, CLIP's BPE tokens,
 * the text tower on the device, once at set-up; the normalised embeddings
 * times CLIP's logit scale become the fixed map W [classes][embed], and the
 * class scores are W times the normalised image embedding (the map's
 * forward and backward in trainer_steps.c and trainer_eval.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "encoder/text_tower.h"
#include "text/clip_tokenizer.h"
#include "train/trainer_internal.h"

#define TEXT_BATCH 32

/* The class names of the text prompts: [head] classes, else the dataset's. A dataset without names
 * takes those of [head] classes (summary, confusion matrix, predict). */
static int class_names(trainer *t, char ***out, int *own, char *err)
{
    const movl_experiment *e = t->exp;
    int k = t->dims.classes, n = 0;
    *own = 0;
    if (!e->head.classes[0]) {
        if (!t->host.dataset.class_names) {
            movl_set_error(err, "[head] classes: %s has no class names (its labels are integers): list the %d names "
                                "in label order, comma-separated", e->data.path, k);
            return MOVL_ERR_INPUT;
        }
        *out = t->host.dataset.class_names;
        return MOVL_OK;
    }
    char **names = movl_head_class_names(e->head.classes, &n);
    if (!names) {
        movl_set_error(err, "out of host memory");
        return MOVL_ERR_RUN;
    }
    if (n != k) {
        movl_names_free(names, n);
        movl_set_error(err, "[head] classes names %d classes, but %s has %d", n, e->data.path, k);
        return MOVL_ERR_INPUT;
    }
    if (!t->host.dataset.class_names) {
        t->host.dataset.class_names = names; /* handed over: freed with the dataset */
    } else {
        *own = 1;
    }
    *out = names;
    return MOVL_OK;
}

/* "template" with its "{}" replaced by name, into a new string. */
static char *fill_template(const char *tmpl, const char *name)
{
    const char *hole = strstr(tmpl, "{}");
    size_t a = (size_t)(hole - tmpl), n = strlen(tmpl) - 2 + strlen(name) + 1;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%.*s%s%s", (int)a, tmpl, name, hole + 2);
    return s;
}

/* W[k] = scale * text_k / |text_k| (in double, rounded once). */
static void normalise_rows(const float *emb, int k, int dim, double scale, float *w)
{
    for (int c = 0; c < k; c++) {
        const float *r = emb + (size_t)c * dim;
        double q = 0;
        for (int j = 0; j < dim; j++)
            q += (double)r[j] * r[j];
        double inv = scale / fmax(sqrt(q), 1e-12);
        for (int j = 0; j < dim; j++)
            w[(size_t)c * dim + j] = (float)(r[j] * inv);
    }
}

static int embed_prompts(trainer *t, char **names, float *w, char *err)
{
    const movl_experiment *e = t->exp;
    int k = t->dims.classes, rc;
    movl_clip_tokenizer *tok = NULL;
    movl_text_tower *tower = NULL;
    char why[MOVL_ERRLEN];
    if ((rc = movl_clip_tokenizer_load(e->head.vocab, &tok, why))) {
        movl_set_error(err, "[head] vocab: %s", why);
        return rc;
    }
    if ((rc = movl_text_tower_load(&t->dev, e->encoder.arch, e->encoder.weights, k < TEXT_BATCH ? k : TEXT_BATCH,
                                   &tower, err))) {
        movl_clip_tokenizer_free(tok);
        return rc;
    }
    int ctx = movl_text_tower_context(tower), dim = movl_text_tower_embed_dim(tower);
    int32_t *ids = malloc(sizeof(int32_t) * (size_t)k * ctx);
    int *eot = malloc(sizeof(int) * (size_t)k);
    float *emb = malloc(sizeof(float) * (size_t)k * dim);
    rc = ids && eot && emb ? MOVL_OK : MOVL_ERR_RUN;
    if (rc == MOVL_OK && dim != t->dims.source_classes) {
        movl_set_error(err, "%s: the text embedding has %d dimensions, the image embedding %d", e->encoder.weights,
                       dim, t->dims.source_classes);
        rc = MOVL_ERR_INPUT;
    } else if (rc == MOVL_OK && movl_clip_tokenizer_vocab_size(tok) > movl_text_tower_vocab(tower)) {
        movl_set_error(err, "%s: the text tower knows %d tokens, the vocabulary %s has %d", e->encoder.weights,
                       movl_text_tower_vocab(tower), e->head.vocab, movl_clip_tokenizer_vocab_size(tok));
        rc = MOVL_ERR_INPUT;
    }
    for (int c = 0; c < k && rc == MOVL_OK; c++) {
        char *text = fill_template(e->head.template_text, names[c]);
        if (!text) {
            rc = MOVL_ERR_RUN;
            break;
        }
        if ((rc = movl_clip_tokenize(tok, text, ctx, ids + (size_t)c * ctx, &eot[c], why)))
            movl_set_error(err, "[head] class %d ('%s'): %s", c, names[c], why);
        else if (movl_verbose)
            fprintf(stderr, "clip_text: class %d: \"%s\" (%d tokens)\n", c, text, eot[c] + 1);
        free(text);
    }
    if (rc == MOVL_OK)
        rc = movl_text_tower_encode(tower, k, ids, eot, emb, err);
    if (rc == MOVL_OK) {
        double scale = movl_text_tower_logit_scale(tower);
        normalise_rows(emb, k, dim, scale, w);
        if (movl_verbose)
            fprintf(stderr, "clip_text: %d classes, template \"%s\", logit scale %.4g\n", k, e->head.template_text,
                    scale);
    }
    free(ids);
    free(eot);
    free(emb);
    movl_text_tower_free(tower);
    movl_clip_tokenizer_free(tok);
    return rc;
}

int tr_text_head_setup(trainer *t, char *err)
{
    char **names = NULL;
    int own = 0, k = t->dims.classes, dim = t->dims.source_classes;
    int rc = class_names(t, &names, &own, err);
    if (rc != MOVL_OK)
        return rc;
    float *w = calloc((size_t)k * dim + (size_t)k, sizeof(float));
    rc = w ? embed_prompts(t, names, w, err) : MOVL_ERR_RUN;
    if (rc == MOVL_OK &&
        (movl_upload(&t->dev, t->model.fully.W, w, sizeof(float) * (size_t)k * dim, err) ||
         movl_upload(&t->dev, t->model.fully.b, w + (size_t)k * dim, sizeof(float) * (size_t)k, err)))
        rc = MOVL_ERR_RUN;
    free(w);
    if (own)
        movl_names_free(names, k);
    return rc;
}
