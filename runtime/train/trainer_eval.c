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
    int rc = movl_prep_batch(t->prep, &t->host.dataset, split, idx, n, t->host.batch_images, err);
    if (rc)
        return rc;
    int labels[4096];
    for (int i = 0; i < n; i++)
        labels[i] = t->host.dataset.split[split].samples[idx[i]].label;
    size_t img = 3 * (size_t)t->dims.image_size * t->dims.image_size * (size_t)n;
    if (movl_upload(&t->dev, t->bufs.images, t->host.batch_images, img * sizeof(float), err) ||
        movl_upload(&t->dev, t->bufs.labels, labels, (size_t)n * sizeof(int), err))
        return MOVL_ERR_RUN;
    return MOVL_OK;
}

cl_mem tr_prompted(trainer *t, int n, int oy, int ox, char *err)
{
    if (!t->model.has_prompt)
        return t->bufs.images;
    if (movl_prompt_forward(&t->dev, &t->model.prompt_desc, n, oy, ox, t->bufs.images, t->model.prompt,
                            t->bufs.prompted, err))
        return NULL;
    return t->bufs.prompted;
}

/* Evaluation uses the prompt whenever the model has one; random_patch sits at
 * the top-left corner at evaluation (training draws a position per batch). */
static int eval_uses_prompt(const trainer *t) { return t->model.has_prompt; }

int tr_cache_features(trainer *t, int split, int apply_prompt, char *err)
{
    int n = t->host.dataset.split[split].n;
    free(t->host.features[split]);
    t->host.features[split] = malloc(sizeof(float) * (size_t)n * (size_t)t->dims.feature_dim);
    if (!t->host.features[split]) {
        movl_set_error(err, "out of host memory caching %d features", n);
        return MOVL_ERR_RUN;
    }
    int idx[4096];
    for (int b0 = 0; b0 < n; b0 += t->dims.eval_batch) {
        int nb = n - b0 < t->dims.eval_batch ? n - b0 : t->dims.eval_batch;
        for (int i = 0; i < nb; i++)
            idx[i] = b0 + i;
        cl_mem in;
        if (tr_load_batch(t, split, idx, nb, err) ||
            !(in = apply_prompt ? tr_prompted(t, nb, 0, 0, err) : t->bufs.images) ||
            movl_encoder_forward(t->enc, nb, in, err) ||
            movl_download(&t->dev, movl_encoder_features(t->enc),
                          t->host.features[split] + (size_t)b0 * t->dims.feature_dim,
                          sizeof(float) * (size_t)nb * t->dims.feature_dim, err))
            return MOVL_ERR_RUN;
    }
    return MOVL_OK;
}

/* Scores of the loaded batch's features (device) through the current head into host out[n][classes]. */
static int head_scores(trainer *t, int n, cl_mem feat, cl_mem logits, float *out, char *err)
{
    if (!t->model.head_is_map) {
        if (movl_linear_forward(&t->dev, n, t->dims.feature_dim, t->dims.classes, feat, t->model.probe.W,
                                t->model.probe.b, t->bufs.logits, err))
            return MOVL_ERR_RUN;
    } else if (t->model.map_fully) {
        cl_mem src = t->model.map_text ? t->bufs.normed_logits : logits;
        if ((t->model.map_text && movl_l2norm_forward(&t->dev, n, t->dims.source_classes, logits, src, err)) ||
            movl_linear_forward(&t->dev, n, t->dims.source_classes, t->dims.classes, src, t->model.fully.W,
                                t->model.fully.b, t->bufs.logits, err))
            return MOVL_ERR_RUN;
    } else if (movl_labelmap_gather(&t->dev, n, t->dims.source_classes, t->dims.classes, logits, t->model.label_map_dev,
                                    t->bufs.logits, err)) {
        return MOVL_ERR_RUN;
    }
    return movl_download(&t->dev, t->bufs.logits, out, sizeof(float) * (size_t)n * t->dims.classes, err);
}

int tr_scores(trainer *t, int split, int use_cache, float *scores, char *err)
{
    int n = t->host.dataset.split[split].n;
    int idx[4096];
    for (int b0 = 0; b0 < n; b0 += t->dims.eval_batch) {
        int nb = n - b0 < t->dims.eval_batch ? n - b0 : t->dims.eval_batch;
        for (int i = 0; i < nb; i++)
            idx[i] = b0 + i;
        float *out = scores + (size_t)b0 * t->dims.classes;
        if (use_cache && t->host.features[split] && !t->model.head_is_map) {
            if (movl_upload(&t->dev, t->bufs.plain_features, t->host.features[split] + (size_t)b0 * t->dims.feature_dim,
                            sizeof(float) * (size_t)nb * t->dims.feature_dim, err) ||
                head_scores(t, nb, t->bufs.plain_features, NULL, out, err))
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
    cl_mem in = eval_uses_prompt(t) ? tr_prompted(t, n, 0, 0, err) : t->bufs.images;
    if (!in || movl_encoder_forward(t->enc, n, in, err) ||
        head_scores(t, n, movl_encoder_features(t->enc), movl_encoder_logits(t->enc), out, err))
        return MOVL_ERR_RUN;
    return MOVL_OK;
}

int tr_evaluate(trainer *t, int split, int use_cache, movl_metrics *m, char *err)
{
    int n = t->host.dataset.split[split].n;
    float *scores = malloc(sizeof(float) * (size_t)n * t->dims.classes);
    int *labels = malloc(sizeof(int) * (size_t)n);
    int rc = scores && labels ? tr_scores(t, split, use_cache, scores, err) : MOVL_ERR_RUN;
    if (rc == MOVL_OK) {
        for (int i = 0; i < n; i++)
            labels[i] = t->host.dataset.split[split].samples[i].label;
        rc = movl_metrics_compute(labels, scores, (size_t)n, t->dims.classes, MOVL_SCORES_LOGITS, m, err);
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
        rc = movl_labelmap_rlm(t->dims.source_classes, t->dims.classes, (uint64_t)e->experiment.seed,
                               t->model.label_map, err);
    } else {
        int n = t->host.dataset.split[MOVL_SPLIT_TRAIN].n, idx[4096];
        int64_t *counts = calloc((size_t)t->dims.source_classes * t->dims.classes, sizeof(int64_t));
        float *logits = malloc(sizeof(float) * (size_t)t->dims.eval_batch * t->dims.source_classes);
        int *labels = malloc(sizeof(int) * (size_t)t->dims.eval_batch);
        rc = counts && logits && labels ? MOVL_OK : MOVL_ERR_RUN;
        for (int b0 = 0; b0 < n && rc == MOVL_OK; b0 += t->dims.eval_batch) {
            int nb = n - b0 < t->dims.eval_batch ? n - b0 : t->dims.eval_batch;
            for (int i = 0; i < nb; i++) {
                idx[i] = b0 + i;
                labels[i] = t->host.dataset.split[MOVL_SPLIT_TRAIN].samples[b0 + i].label;
            }
            cl_mem in;
            if (tr_load_batch(t, MOVL_SPLIT_TRAIN, idx, nb, err) || !(in = tr_prompted(t, nb, 0, 0, err)) ||
                movl_encoder_forward(t->enc, nb, in, err) ||
                movl_download(&t->dev, movl_encoder_logits(t->enc), logits,
                              sizeof(float) * (size_t)nb * t->dims.source_classes, err))
                rc = MOVL_ERR_RUN;
            else
                rc = movl_labelmap_count(counts, t->dims.source_classes, t->dims.classes, nb, logits, labels, err);
        }
        if (rc == MOVL_OK)
            rc = movl_labelmap_flm(counts, t->dims.source_classes, t->dims.classes, t->model.label_map, err);
        free(counts);
        free(logits);
        free(labels);
    }
    if (rc == MOVL_OK &&
        movl_upload(&t->dev, t->model.label_map_dev, t->model.label_map, sizeof(int) * (size_t)t->dims.classes, err))
        rc = MOVL_ERR_RUN;
    return rc;
}

/* Resamples of the bootstrap intervals in summary.json and eval (docs/METHOD.md, Evaluation). */
#define TR_BOOTSTRAP_RESAMPLES 1000

int tr_add_uncertainty(const trainer *t, movl_metrics *m, char *err)
{
    int rc = movl_metrics_bootstrap(m, TR_BOOTSTRAP_RESAMPLES, (uint64_t)t->exp->experiment.seed, err);
    return rc ? rc : movl_metrics_calibration(m, err);
}
