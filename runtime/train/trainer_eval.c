/* Batches in, scores out: preprocessing + prompt, cached features, the
 * current head's scores on a split, metrics, and the FLM/ILM label map fit. */
#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "adapt/labelmap.h"
#include "ops/ops.h"
#include "train/trainer_internal.h"

int tr_load_batch(trainer *t, int split, const int *idx, int n, char *err)
{
    int rc = movl_prep_batch(t->prep, &t->data, split, idx, n, t->hx, err);
    if (rc)
        return rc;
    int labels[4096];
    for (int i = 0; i < n; i++)
        labels[i] = t->data.split[split].samples[idx[i]].label;
    size_t img = 3 * (size_t)t->S * t->S * (size_t)n;
    if (movl_upload(&t->dev, t->x, t->hx, img * sizeof(float), err) ||
        movl_upload(&t->dev, t->labels, labels, (size_t)n * sizeof(int), err))
        return MOVL_ERR_RUN;
    return MOVL_OK;
}

cl_mem tr_prompted(trainer *t, int n, int oy, int ox, char *err)
{
    if (!t->has_prompt)
        return t->x;
    if (movl_prompt_forward(&t->dev, &t->pd, n, oy, ox, t->x, t->delta, t->xp, err))
        return NULL;
    return t->xp;
}

/* Evaluation uses the prompt whenever the model has one; random_patch sits at
 * the top-left corner at evaluation (training draws a position per batch). */
static int eval_uses_prompt(const trainer *t) { return t->has_prompt; }

int tr_cache_features(trainer *t, int split, int apply_prompt, char *err)
{
    int n = t->data.split[split].n;
    free(t->feat[split]);
    t->feat[split] = malloc(sizeof(float) * (size_t)n * (size_t)t->D);
    if (!t->feat[split]) {
        movl_set_error(err, "out of host memory caching %d features", n);
        return MOVL_ERR_RUN;
    }
    int idx[4096];
    for (int b0 = 0; b0 < n; b0 += t->EB) {
        int nb = n - b0 < t->EB ? n - b0 : t->EB;
        for (int i = 0; i < nb; i++)
            idx[i] = b0 + i;
        cl_mem in;
        if (tr_load_batch(t, split, idx, nb, err) ||
            !(in = apply_prompt ? tr_prompted(t, nb, 0, 0, err) : t->x) ||
            movl_encoder_forward(t->enc, nb, in, err) ||
            movl_download(&t->dev, movl_encoder_features(t->enc), t->feat[split] + (size_t)b0 * t->D,
                          sizeof(float) * (size_t)nb * t->D, err))
            return MOVL_ERR_RUN;
    }
    return MOVL_OK;
}

/* Scores of the loaded batch's features (device) through the current head into host out[n][K]. */
static int head_scores(trainer *t, int n, cl_mem feat, cl_mem logits, float *out, char *err)
{
    if (!t->head_is_map) {
        if (movl_linear_forward(&t->dev, n, t->D, t->K, feat, t->head.W, t->head.b, t->z, err))
            return MOVL_ERR_RUN;
    } else if (t->map_fully) {
        if (movl_linear_forward(&t->dev, n, t->NSRC, t->K, logits, t->fmap.W, t->fmap.b, t->z, err))
            return MOVL_ERR_RUN;
    } else if (movl_labelmap_gather(&t->dev, n, t->NSRC, t->K, logits, t->map_dev, t->z, err)) {
        return MOVL_ERR_RUN;
    }
    return movl_download(&t->dev, t->z, out, sizeof(float) * (size_t)n * t->K, err);
}

int tr_scores(trainer *t, int split, int use_cache, float *scores, char *err)
{
    int n = t->data.split[split].n;
    int idx[4096];
    for (int b0 = 0; b0 < n; b0 += t->EB) {
        int nb = n - b0 < t->EB ? n - b0 : t->EB;
        for (int i = 0; i < nb; i++)
            idx[i] = b0 + i;
        float *out = scores + (size_t)b0 * t->K;
        if (use_cache && t->feat[split] && !t->head_is_map) {
            if (movl_upload(&t->dev, t->hcache, t->feat[split] + (size_t)b0 * t->D, sizeof(float) * (size_t)nb * t->D,
                            err) ||
                head_scores(t, nb, t->hcache, NULL, out, err))
                return MOVL_ERR_RUN;
            continue;
        }
        if (tr_load_batch(t, split, idx, nb, err) || tr_scores_loaded(t, nb, out, err))
            return MOVL_ERR_RUN;
    }
    return MOVL_OK;
}

int tr_scores_loaded(trainer *t, int n, float *out, char *err)
{
    cl_mem in = eval_uses_prompt(t) ? tr_prompted(t, n, 0, 0, err) : t->x;
    if (!in || movl_encoder_forward(t->enc, n, in, err) ||
        head_scores(t, n, movl_encoder_features(t->enc), movl_encoder_logits(t->enc), out, err))
        return MOVL_ERR_RUN;
    return MOVL_OK;
}

int tr_evaluate(trainer *t, int split, int use_cache, movl_metrics *m, char *err)
{
    int n = t->data.split[split].n;
    float *scores = malloc(sizeof(float) * (size_t)n * t->K);
    int *labels = malloc(sizeof(int) * (size_t)n);
    int rc = scores && labels ? tr_scores(t, split, use_cache, scores, err) : MOVL_ERR_RUN;
    if (rc == MOVL_OK) {
        for (int i = 0; i < n; i++)
            labels[i] = t->data.split[split].samples[i].label;
        rc = movl_metrics_compute(labels, scores, (size_t)n, t->K, MOVL_SCORES_LOGITS, m, err);
    }
    free(scores);
    free(labels);
    return rc;
}

int tr_fit_label_map(trainer *t, char *err)
{
    const movl_experiment *e = t->exp;
    int rc;
    if (e->head.type == MOVL_HEAD_RLM) {
        rc = movl_labelmap_rlm(t->NSRC, t->K, (uint64_t)e->experiment.seed, t->map, err);
    } else {
        int n = t->data.split[MOVL_SPLIT_TRAIN].n, idx[4096];
        int64_t *counts = calloc((size_t)t->NSRC * t->K, sizeof(int64_t));
        float *logits = malloc(sizeof(float) * (size_t)t->EB * t->NSRC);
        int *labels = malloc(sizeof(int) * (size_t)t->EB);
        rc = counts && logits && labels ? MOVL_OK : MOVL_ERR_RUN;
        for (int b0 = 0; b0 < n && rc == MOVL_OK; b0 += t->EB) {
            int nb = n - b0 < t->EB ? n - b0 : t->EB;
            for (int i = 0; i < nb; i++) {
                idx[i] = b0 + i;
                labels[i] = t->data.split[MOVL_SPLIT_TRAIN].samples[b0 + i].label;
            }
            cl_mem in;
            if (tr_load_batch(t, MOVL_SPLIT_TRAIN, idx, nb, err) || !(in = tr_prompted(t, nb, 0, 0, err)) ||
                movl_encoder_forward(t->enc, nb, in, err) ||
                movl_download(&t->dev, movl_encoder_logits(t->enc), logits, sizeof(float) * (size_t)nb * t->NSRC,
                              err))
                rc = MOVL_ERR_RUN;
            else
                rc = movl_labelmap_count(counts, t->NSRC, t->K, nb, logits, labels, err);
        }
        if (rc == MOVL_OK)
            rc = movl_labelmap_flm(counts, t->NSRC, t->K, t->map, err);
        free(counts);
        free(logits);
        free(labels);
    }
    if (rc == MOVL_OK && movl_upload(&t->dev, t->map_dev, t->map, sizeof(int) * (size_t)t->K, err))
        rc = MOVL_ERR_RUN;
    return rc;
}
