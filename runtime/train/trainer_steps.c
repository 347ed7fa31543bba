/* One optimisation step per kind of stage (docs/METHOD.md, "Gradients").
 * Everything is enqueued; the only host sync is reading the loss at the end. */
#include <string.h>

#include "core/common.h"
#include "adapt/discrepancy.h"
#include "adapt/labelmap.h"
#include "ops/ops.h"
#include "train/trainer_internal.h"

/* Loss slots in t->lossbuf: 0 classification, 1 discrepancy. */
enum { SLOT_CE = 0, SLOT_DISC = 1 };

static int head_update(trainer *t, head_params *h, double lr, char *err)
{
    long step = t->stage_step + 1;
    return movl_opt_step(&h->optW, h->W, t->dW, lr, step, err) || movl_opt_step(&h->optb, h->b, t->db, lr, step, err)
               ? MOVL_ERR_RUN
               : MOVL_OK;
}

/* Reads the loss values (the step's one sync) and accumulates the total. */
static int finish_step(trainer *t, int with_disc, char *err)
{
    float loss[2] = {0, 0};
    if (movl_download(&t->dev, t->lossbuf, loss, sizeof loss, err))
        return MOVL_ERR_RUN;
    double total = loss[SLOT_CE] + (with_disc ? t->exp->loss.lambda * loss[SLOT_DISC] : 0.0);
    t->last_loss = total;
    t->loss_sum += total;
    t->loss_count++;
    return MOVL_OK;
}

int tr_step_probe_cached(trainer *t, const stage *s, const float *feat, const int *idx, int n, double lr_head,
                         char *err)
{
    (void)s;
    float *h = t->hx; /* host image scratch, larger than n * D floats since 3 * S * S >= 3072 > D */
    int labels[4096];
    for (int i = 0; i < n; i++) {
        memcpy(h + (size_t)i * t->D, feat + (size_t)idx[i] * t->D, sizeof(float) * (size_t)t->D);
        labels[i] = t->data.split[MOVL_SPLIT_TRAIN].samples[idx[i]].label;
    }
    if (movl_upload(&t->dev, t->hcache, h, sizeof(float) * (size_t)n * t->D, err) ||
        movl_upload(&t->dev, t->labels, labels, sizeof(int) * (size_t)n, err) ||
        movl_linear_forward(&t->dev, n, t->D, t->K, t->hcache, t->head.W, t->head.b, t->z, err) ||
        movl_xent_mean(&t->dev, n, t->K, t->z, t->labels, 1.0f, 0, t->dz, t->lossbuf, SLOT_CE, err) ||
        movl_linear_backward_params(&t->dev, n, t->D, t->K, t->hcache, t->dz, t->dW, t->db, err) ||
        head_update(t, &t->head, lr_head, err))
        return MOVL_ERR_RUN;
    return finish_step(t, 0, err);
}

/* Discrepancy terms that act on the features or the probe outputs. Called
 * after CE wrote dz (overwrite) and before the probe's backward. */
static int add_discrepancy_on_logits(trainer *t, int n, char *err)
{
    const movl_experiment *e = t->exp;
    float lam = (float)e->loss.lambda;
    switch (e->loss.discrepancy) {
    case MOVL_DISC_KL:
        return movl_linear_forward(&t->dev, n, t->D, t->K, t->hcache, t->head.W, t->head.b, t->zplain, err) ||
                       movl_disc_kl(&t->dev, n, t->K, (float)e->loss.temperature, t->z, t->zplain, lam, 1, t->dz,
                                    t->lossbuf, SLOT_DISC, err)
                   ? MOVL_ERR_RUN
                   : MOVL_OK;
    case MOVL_DISC_PLAIN_CE:
        return movl_linear_forward(&t->dev, n, t->D, t->K, t->hcache, t->head.W, t->head.b, t->zplain, err) ||
                       movl_xent_mean(&t->dev, n, t->K, t->zplain, t->labels, lam, 0, t->dzplain, t->lossbuf,
                                      SLOT_DISC, err)
                   ? MOVL_ERR_RUN
                   : MOVL_OK;
    default:
        return MOVL_OK;
    }
}

static int add_discrepancy_on_features(trainer *t, int n, cl_mem feat, char *err)
{
    const movl_experiment *e = t->exp;
    float lam = (float)e->loss.lambda;
    switch (e->loss.discrepancy) {
    case MOVL_DISC_FEATURE_MSE:
        return movl_disc_mse(&t->dev, (size_t)n * t->D, feat, t->hcache, lam, 1, t->dfeat, t->scratch, t->lossbuf,
                             SLOT_DISC, err);
    case MOVL_DISC_COSINE:
        return movl_disc_cosine(&t->dev, n, t->D, feat, t->hcache, lam, 1, t->dfeat, t->lossbuf, SLOT_DISC, err);
    default:
        return MOVL_OK;
    }
}

/* Probe parameter gradients: prompted path, plus the plain path for plain_ce. */
static int probe_param_grads(trainer *t, int n, cl_mem feat, char *err)
{
    if (movl_linear_backward_params(&t->dev, n, t->D, t->K, feat, t->dz, t->dW, t->db, err))
        return MOVL_ERR_RUN;
    if (t->exp->train.method == MOVL_METHOD_MOVL && t->exp->loss.discrepancy == MOVL_DISC_PLAIN_CE) {
        size_t nw = (size_t)t->K * t->D;
        if (movl_linear_backward_params(&t->dev, n, t->D, t->K, t->hcache, t->dzplain, t->dW2, t->db2, err) ||
            movl_add_forward(&t->dev, nw, t->dW, t->dW2, MOVL_ACT_NONE, t->dW, err) ||
            movl_add_forward(&t->dev, (size_t)t->K, t->db, t->db2, MOVL_ACT_NONE, t->db, err))
            return MOVL_ERR_RUN;
    }
    return MOVL_OK;
}

int tr_step_prompt(trainer *t, const stage *s, const int *idx, int n, double lr_prompt, double lr_head, char *err)
{
    const movl_experiment *e = t->exp;
    int movl = e->train.method == MOVL_METHOD_MOVL;
    int disc = movl && e->loss.discrepancy != MOVL_DISC_NONE;
    int oy = 0, ox = 0;
    movl_prompt_random_position(&t->pd, &t->patch_rng, &oy, &ox);
    int rc = tr_load_batch(t, MOVL_SPLIT_TRAIN, idx, n, err);
    if (rc)
        return rc;
    if (disc && e->loss.discrepancy != MOVL_DISC_PIXEL) {
        /* the cached plain features f(x) of this batch (no gradient into them) */
        float *h = t->hx; /* the images were uploaded already: reuse the host scratch */
        for (int i = 0; i < n; i++)
            memcpy(h + (size_t)i * t->D, t->feat[MOVL_SPLIT_TRAIN] + (size_t)idx[i] * t->D,
                   sizeof(float) * (size_t)t->D);
        if (movl_upload(&t->dev, t->hcache, h, sizeof(float) * (size_t)n * t->D, err))
            return MOVL_ERR_RUN;
    }
    cl_mem in = tr_prompted(t, n, oy, ox, err);
    if (!in || movl_encoder_forward(t->enc, n, in, err))
        return MOVL_ERR_RUN;
    cl_mem feat = movl_encoder_features(t->enc), logits = movl_encoder_logits(t->enc);
    if (s->kind == STAGE_PROMPT_MAP) {
        if (t->map_fully) {
            if (movl_linear_forward(&t->dev, n, t->NSRC, t->K, logits, t->fmap.W, t->fmap.b, t->z, err) ||
                movl_xent_mean(&t->dev, n, t->K, t->z, t->labels, 1.0f, 0, t->dz, t->lossbuf, SLOT_CE, err) ||
                movl_linear_backward_params(&t->dev, n, t->NSRC, t->K, logits, t->dz, t->dW, t->db, err) ||
                movl_linear_backward_input(&t->dev, n, t->NSRC, t->K, t->fmap.W, t->dz, t->dlogits, err))
                return MOVL_ERR_RUN;
        } else if (movl_labelmap_xent(&t->dev, n, t->NSRC, t->K, logits, t->map_dev, t->labels, t->dlogits,
                                      t->lossbuf, SLOT_CE, err)) {
            return MOVL_ERR_RUN;
        }
        if (movl_encoder_backward(t->enc, NULL, t->dlogits, t->dxp, err))
            return MOVL_ERR_RUN;
    } else {
        if (movl_linear_forward(&t->dev, n, t->D, t->K, feat, t->head.W, t->head.b, t->z, err) ||
            movl_xent_mean(&t->dev, n, t->K, t->z, t->labels, 1.0f, 0, t->dz, t->lossbuf, SLOT_CE, err) ||
            (disc && add_discrepancy_on_logits(t, n, err)) ||
            (s->train_head && probe_param_grads(t, n, feat, err)) ||
            movl_linear_backward_input(&t->dev, n, t->D, t->K, t->head.W, t->dz, t->dfeat, err) ||
            (disc && add_discrepancy_on_features(t, n, feat, err)) ||
            movl_encoder_backward(t->enc, t->dfeat, NULL, t->dxp, err))
            return MOVL_ERR_RUN;
        if (disc && e->loss.discrepancy == MOVL_DISC_PIXEL &&
            movl_disc_mse(&t->dev, 3 * (size_t)t->S * t->S * n, t->xp, t->x, (float)e->loss.lambda, 1, t->dxp,
                          t->scratch, t->lossbuf, SLOT_DISC, err))
            return MOVL_ERR_RUN;
    }
    long step = t->stage_step + 1;
    if (s->train_prompt &&
        (movl_prompt_backward(&t->dev, &t->pd, n, oy, ox, t->delta, t->dxp, t->ddelta, err) ||
         movl_opt_step(&t->opt_prompt, t->delta, t->ddelta, lr_prompt, step, err)))
        return MOVL_ERR_RUN;
    if (s->train_head) {
        head_params *h = s->kind == STAGE_PROMPT_MAP ? &t->fmap : &t->head;
        if ((s->kind != STAGE_PROMPT_MAP || t->map_fully) && head_update(t, h, lr_head, err))
            return MOVL_ERR_RUN;
    }
    return finish_step(t, disc, err);
}
