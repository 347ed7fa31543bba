/* One optimisation step per kind of stage (docs/METHOD.md, "Gradients").
 * Everything is enqueued; the only host sync is reading the loss at the end.
 * Each step first prepares its batch on the host (time split: data), then
 * enqueues the device work (steps). */
#include <string.h>

#include "core/common.h"
#include "adapt/discrepancy.h"
#include "adapt/labelmap.h"
#include "ops/ops.h"
#include "train/trainer_internal.h"

/* Loss slots in t->bufs.losses: 0 classification, 1 discrepancy. */
enum { SLOT_CE = 0, SLOT_DISC = 1 };

static int head_update(trainer *t, head_params *h, double lr, char *err)
{
    tr_buffers *b = &t->bufs;
    long step = t->progress.stage_step + 1;
    return movl_opt_step(&h->optW, h->W, b->head_grad_W, lr, step, err) ||
                   movl_opt_step(&h->optb, h->b, b->head_grad_b, lr, step, err)
               ? MOVL_ERR_RUN
               : MOVL_OK;
}

/* Reads the loss values (the step's one sync) and accumulates the total. */
static int finish_step(trainer *t, int with_disc, char *err)
{
    tr_buffers *b = &t->bufs;
    float loss[2] = {0, 0};
    if (movl_download(&t->dev, b->losses, loss, sizeof loss, err))
        return MOVL_ERR_RUN;
    double total = loss[SLOT_CE] + (with_disc ? t->exp->loss.lambda * loss[SLOT_DISC] : 0.0);
    t->progress.last_loss = total;
    t->progress.loss_sum += total;
    t->progress.loss_count++;
    return MOVL_OK;
}

int tr_step_probe_cached(trainer *t, const stage *s, const float *feat, const int *idx, int n, double lr_head,
                         char *err)
{
    tr_buffers *b = &t->bufs;
    (void)s;
    float *h = t->host.batch_images; /* host image scratch: 3 * image_size^2 >= 3072 > feature_dim floats per sample */
    int labels[4096];
    tr_phase_enter(t, TR_PHASE_DATA);
    for (int i = 0; i < n; i++) {
        memcpy(h + (size_t)i * t->dims.feature_dim, feat + (size_t)idx[i] * t->dims.feature_dim,
               sizeof(float) * (size_t)t->dims.feature_dim);
        labels[i] = t->host.dataset.split[MOVL_SPLIT_TRAIN].samples[idx[i]].label;
    }
    if (movl_upload(&t->dev, b->plain_features, h, sizeof(float) * (size_t)n * t->dims.feature_dim, err) ||
        movl_upload(&t->dev, b->labels, labels, sizeof(int) * (size_t)n, err))
        return MOVL_ERR_RUN;
    tr_phase_enter(t, TR_PHASE_STEPS);
    if (movl_linear_forward(&t->dev, n, t->dims.feature_dim, t->dims.classes, b->plain_features, t->model.probe.W,
                            t->model.probe.b, b->logits, err) ||
        movl_xent_mean(&t->dev, n, t->dims.classes, b->logits, b->labels, 1.0f, 0, b->logits_grad, b->losses, SLOT_CE,
                       err) ||
        movl_linear_backward_params(&t->dev, n, t->dims.feature_dim, t->dims.classes, b->plain_features, b->logits_grad,
                                    b->head_grad_W, b->head_grad_b, err) ||
        head_update(t, &t->model.probe, lr_head, err))
        return MOVL_ERR_RUN;
    return finish_step(t, 0, err);
}

/* Discrepancy terms that act on the features or the probe outputs. Called
 * after CE wrote dz (overwrite) and before the probe's backward. */
static int add_discrepancy_on_logits(trainer *t, int n, char *err)
{
    const movl_experiment *e = t->exp;
    tr_buffers *b = &t->bufs;
    float lam = (float)e->loss.lambda;
    switch (e->loss.discrepancy) {
    case MOVL_DISC_KL:
        return movl_linear_forward(&t->dev, n, t->dims.feature_dim, t->dims.classes, b->plain_features,
                                   t->model.probe.W, t->model.probe.b, b->plain_logits, err) ||
                       movl_disc_kl(&t->dev, n, t->dims.classes, (float)e->loss.temperature, b->logits, b->plain_logits,
                                    lam, 1, b->logits_grad, b->losses, SLOT_DISC, err)
                   ? MOVL_ERR_RUN
                   : MOVL_OK;
    case MOVL_DISC_PLAIN_CE:
        return movl_linear_forward(&t->dev, n, t->dims.feature_dim, t->dims.classes, b->plain_features,
                                   t->model.probe.W, t->model.probe.b, b->plain_logits, err) ||
                       movl_xent_mean(&t->dev, n, t->dims.classes, b->plain_logits, b->labels, lam, 0,
                                      b->plain_logits_grad, b->losses, SLOT_DISC, err)
                   ? MOVL_ERR_RUN
                   : MOVL_OK;
    default:
        return MOVL_OK;
    }
}

static int add_discrepancy_on_features(trainer *t, int n, cl_mem feat, char *err)
{
    const movl_experiment *e = t->exp;
    tr_buffers *b = &t->bufs;
    float lam = (float)e->loss.lambda;
    switch (e->loss.discrepancy) {
    case MOVL_DISC_FEATURE_MSE:
        return movl_disc_mse(&t->dev, (size_t)n * t->dims.feature_dim, feat, b->plain_features, lam, 1,
                             b->features_grad, b->scratch, b->losses, SLOT_DISC, err);
    case MOVL_DISC_COSINE:
        return movl_disc_cosine(&t->dev, n, t->dims.feature_dim, feat, b->plain_features, lam, 1, b->features_grad,
                                b->losses, SLOT_DISC, err);
    default:
        return MOVL_OK;
    }
}

/* Probe parameter gradients: prompted path, plus the plain path for plain_ce. */
static int probe_param_grads(trainer *t, int n, cl_mem feat, char *err)
{
    tr_buffers *b = &t->bufs;
    if (movl_linear_backward_params(&t->dev, n, t->dims.feature_dim, t->dims.classes, feat, b->logits_grad,
                                    b->head_grad_W, b->head_grad_b, err))
        return MOVL_ERR_RUN;
    if (t->exp->train.method == MOVL_METHOD_MOVL && t->exp->loss.discrepancy == MOVL_DISC_PLAIN_CE) {
        size_t nw = (size_t)t->dims.classes * t->dims.feature_dim;
        if (movl_linear_backward_params(&t->dev, n, t->dims.feature_dim, t->dims.classes, b->plain_features,
                                        b->plain_logits_grad, b->plain_grad_W, b->plain_grad_b, err) ||
            movl_add_forward(&t->dev, nw, b->head_grad_W, b->plain_grad_W, MOVL_ACT_NONE, b->head_grad_W, err) ||
            movl_add_forward(&t->dev, (size_t)t->dims.classes, b->head_grad_b, b->plain_grad_b, MOVL_ACT_NONE,
                             b->head_grad_b, err))
            return MOVL_ERR_RUN;
    }
    return MOVL_OK;
}

int tr_step_prompt(trainer *t, const stage *s, const int *idx, int n, double lr_prompt, double lr_head, char *err)
{
    const movl_experiment *e = t->exp;
    tr_buffers *b = &t->bufs;
    int movl = e->train.method == MOVL_METHOD_MOVL;
    int disc = movl && e->loss.discrepancy != MOVL_DISC_NONE;
    int oy = 0, ox = 0;
    movl_prompt_random_position(&t->model.prompt_desc, &t->progress.patch_rng, &oy, &ox);
    tr_phase_enter(t, TR_PHASE_DATA);
    int rc = tr_load_batch(t, MOVL_SPLIT_TRAIN, idx, n, err);
    if (rc)
        return rc;
    if (disc && e->loss.discrepancy != MOVL_DISC_PIXEL) {
        /* the cached plain features f(x) of this batch (no gradient into them) */
        float *h = t->host.batch_images; /* the images were uploaded already: reuse the host scratch */
        for (int i = 0; i < n; i++)
            memcpy(h + (size_t)i * t->dims.feature_dim,
                   t->host.features[MOVL_SPLIT_TRAIN] + (size_t)idx[i] * t->dims.feature_dim,
                   sizeof(float) * (size_t)t->dims.feature_dim);
        if (movl_upload(&t->dev, b->plain_features, h, sizeof(float) * (size_t)n * t->dims.feature_dim, err))
            return MOVL_ERR_RUN;
    }
    tr_phase_enter(t, TR_PHASE_STEPS);
    cl_mem in = tr_prompted(t, n, oy, ox, err);
    if (!in || movl_encoder_forward(t->enc, n, in, err))
        return MOVL_ERR_RUN;
    cl_mem feat = movl_encoder_features(t->enc), logits = movl_encoder_logits(t->enc);
    if (s->kind == STAGE_PROMPT_MAP) {
        if (t->model.map_fully) {
            /* clip_text: the fixed map reads the normalised embedding, and the gradient goes back through it */
            cl_mem src = t->model.map_text ? b->normed_logits : logits;
            int S = t->dims.source_classes;
            if ((t->model.map_text && movl_l2norm_forward(&t->dev, n, S, logits, src, err)) ||
                movl_linear_forward(&t->dev, n, S, t->dims.classes, src, t->model.fully.W, t->model.fully.b, b->logits,
                                    err) ||
                movl_xent_mean(&t->dev, n, t->dims.classes, b->logits, b->labels, 1.0f, 0, b->logits_grad, b->losses,
                               SLOT_CE, err) ||
                (s->train_head && movl_linear_backward_params(&t->dev, n, S, t->dims.classes, src, b->logits_grad,
                                                              b->head_grad_W, b->head_grad_b, err)) ||
                movl_linear_backward_input(&t->dev, n, S, t->dims.classes, t->model.fully.W, b->logits_grad,
                                           b->source_logits_grad, err) ||
                (t->model.map_text &&
                 movl_l2norm_backward(&t->dev, n, S, logits, b->source_logits_grad, b->source_logits_grad, err)))
                return MOVL_ERR_RUN;
        } else if (movl_labelmap_xent(&t->dev, n, t->dims.source_classes, t->dims.classes, logits,
                                      t->model.label_map_dev, b->labels, b->source_logits_grad, b->losses, SLOT_CE,
                                      err)) {
            return MOVL_ERR_RUN;
        }
        if (movl_encoder_backward(t->enc, NULL, b->source_logits_grad, b->prompted_grad, err))
            return MOVL_ERR_RUN;
    } else {
        if (movl_linear_forward(&t->dev, n, t->dims.feature_dim, t->dims.classes, feat, t->model.probe.W,
                                t->model.probe.b, b->logits, err) ||
            movl_xent_mean(&t->dev, n, t->dims.classes, b->logits, b->labels, 1.0f, 0, b->logits_grad, b->losses,
                           SLOT_CE, err) ||
            (disc && add_discrepancy_on_logits(t, n, err)) || (s->train_head && probe_param_grads(t, n, feat, err)) ||
            movl_linear_backward_input(&t->dev, n, t->dims.feature_dim, t->dims.classes, t->model.probe.W,
                                       b->logits_grad, b->features_grad, err) ||
            (disc && add_discrepancy_on_features(t, n, feat, err)) ||
            movl_encoder_backward(t->enc, b->features_grad, NULL, b->prompted_grad, err))
            return MOVL_ERR_RUN;
        if (disc && e->loss.discrepancy == MOVL_DISC_PIXEL &&
            movl_disc_mse(&t->dev, 3 * (size_t)t->dims.image_size * t->dims.image_size * n, b->prompted, b->images,
                          (float)e->loss.lambda, 1, b->prompted_grad, b->scratch, b->losses, SLOT_DISC, err))
            return MOVL_ERR_RUN;
    }
    long step = t->progress.stage_step + 1;
    if (s->train_prompt &&
        (movl_prompt_backward(&t->dev, &t->model.prompt_desc, n, oy, ox, t->model.prompt, b->prompted_grad,
                              t->model.prompt_grad, err) ||
         movl_opt_step(&t->model.prompt_opt, t->model.prompt, t->model.prompt_grad, lr_prompt, step, err)))
        return MOVL_ERR_RUN;
    if (s->train_head) {
        head_params *h = s->kind == STAGE_PROMPT_MAP ? &t->model.fully : &t->model.probe;
        if ((s->kind != STAGE_PROMPT_MAP || t->model.map_fully) && head_update(t, h, lr_head, err))
            return MOVL_ERR_RUN;
    }
    return finish_step(t, disc, err);
}

int tr_step_full(trainer *t, const int *idx, int n, double lr_backbone, double lr_head, char *err)
{
    tr_buffers *b = &t->bufs;
    tr_phase_enter(t, TR_PHASE_DATA);
    int rc = tr_load_batch(t, MOVL_SPLIT_TRAIN, idx, n, err);
    if (rc)
        return rc;
    tr_phase_enter(t, TR_PHASE_STEPS);
    /* The encoder's weight gradients read the input, so b->images stays untouched until backward. */
    if (movl_encoder_forward(t->enc, n, b->images, err))
        return MOVL_ERR_RUN;
    cl_mem feat = movl_encoder_features(t->enc);
    long step = t->progress.stage_step + 1;
    if (movl_linear_forward(&t->dev, n, t->dims.feature_dim, t->dims.classes, feat, t->model.probe.W,
                            t->model.probe.b, b->logits, err) ||
        movl_xent_mean(&t->dev, n, t->dims.classes, b->logits, b->labels, 1.0f, 0, b->logits_grad, b->losses, SLOT_CE,
                       err) ||
        movl_linear_backward_params(&t->dev, n, t->dims.feature_dim, t->dims.classes, feat, b->logits_grad,
                                    b->head_grad_W, b->head_grad_b, err) ||
        movl_linear_backward_input(&t->dev, n, t->dims.feature_dim, t->dims.classes, t->model.probe.W, b->logits_grad,
                                   b->features_grad, err) ||
        movl_encoder_backward(t->enc, b->features_grad, NULL, NULL, err) ||
        movl_opt_step(&t->model.backbone_opt, movl_encoder_params(t->enc), movl_encoder_param_grads(t->enc),
                      lr_backbone, step, err) ||
        movl_encoder_params_changed(t->enc, err) || head_update(t, &t->model.probe, lr_head, err))
        return MOVL_ERR_RUN;
    return finish_step(t, 0, err);
}
