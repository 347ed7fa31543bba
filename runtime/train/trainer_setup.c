/* Trainer set-up: device, dataset, encoder, parameters and every buffer a
 * step needs, all before the first step (nothing is allocated inside it). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "core/rng.h"
#include "ops/selftest.h"
#include "train/trainer_internal.h"

static cl_mem dev_buf(trainer *t, size_t floats, int *ok, char *err)
{
    if (!*ok)
        return NULL;
    cl_mem m = movl_buffer(&t->dev, floats * sizeof(float), err);
    if (!m)
        *ok = 0;
    return m;
}

/* Optimiser settings of one parameter group ([train] prompt_* or head_*). */
static movl_opt_config group_opt_config(const movl_group_config *g)
{
    movl_opt_config oc = movl_opt_defaults(g->optimizer);
    oc.weight_decay = (float)g->weight_decay;
    oc.momentum = (float)g->momentum;
    oc.nesterov = g->nesterov;
    return oc;
}

static int load_data(trainer *t, char *err)
{
    const movl_experiment *e = t->exp;
    movl_dataset_opts o = movl_dataset_default_opts();
    o.num_classes = e->data.num_classes;
    o.val_frac = e->data.val_fraction;
    o.test_frac = e->data.test_fraction;
    o.split_seed = (uint64_t)e->experiment.seed;
    o.resize_to = t->S; /* PNG sources: keep only what the encoder will see */
    int rc = movl_dataset_load(e->data.path, &o, &t->data, err);
    if (rc != MOVL_OK)
        return rc;
    if (e->data.max_train > 0 &&
        (rc = movl_dataset_subsample(&t->data, MOVL_SPLIT_TRAIN, e->data.max_train, (uint64_t)e->experiment.seed,
                                     err)))
        return rc;
    for (int s = MOVL_SPLIT_VAL; s <= MOVL_SPLIT_TEST && e->data.max_eval > 0; s++)
        if ((rc = movl_dataset_subsample(&t->data, s, e->data.max_eval, (uint64_t)e->experiment.seed + 1, err)))
            return rc;
    if (t->data.split[MOVL_SPLIT_TRAIN].n == 0 || t->data.split[MOVL_SPLIT_VAL].n == 0 ||
        t->data.split[MOVL_SPLIT_TEST].n == 0) {
        movl_set_error(err, "%s: the train, val and test splits must all be non-empty (found %d / %d / %d)",
                       e->data.path, t->data.split[0].n, t->data.split[1].n, t->data.split[2].n);
        return MOVL_ERR_INPUT;
    }
    movl_dataset_print_summary(&t->data, t->quiet ? stderr : stdout);
    t->K = t->data.num_classes;
    return MOVL_OK;
}

static int setup_prompt(trainer *t, char *err)
{
    const movl_experiment *e = t->exp;
    t->has_prompt = movl_method_uses_prompt(e->train.method);
    memset(&t->pd, 0, sizeof t->pd);
    t->pd.type = e->prompt.type;
    t->pd.size = t->S;
    t->pd.p = e->prompt.size;
    t->pd.sigmoid = e->prompt.sigmoid;
    memcpy(t->pd.mean, t->mean, sizeof t->mean);
    memcpy(t->pd.std, t->std, sizeof t->std);
    if (!t->has_prompt)
        return MOVL_OK;
    int rc = movl_prompt_check(&t->pd, err);
    if (rc)
        return MOVL_ERR_INPUT;
    t->P = movl_prompt_param_count(&t->pd);
    int ok = 1;
    t->delta = dev_buf(t, t->P, &ok, err);
    t->ddelta = dev_buf(t, t->P, &ok, err);
    if (!ok)
        return MOVL_ERR_RUN;
    movl_opt_config oc = group_opt_config(&e->train.prompt);
    if ((rc = movl_opt_init(&t->opt_prompt, &t->dev, &oc, t->P, err)))
        return rc;
    return movl_prompt_init_device(&t->dev, &t->pd, e->prompt.init, (float)e->prompt.init_std,
                                   (uint64_t)e->experiment.seed * 7919u + 17u, t->delta, err);
}

static int init_head(trainer *t, head_params *h, int in, char *err)
{
    const movl_experiment *e = t->exp;
    h->k = t->K;
    h->in = in;
    int ok = 1;
    h->W = dev_buf(t, (size_t)h->k * h->in, &ok, err);
    h->b = dev_buf(t, (size_t)h->k, &ok, err);
    if (!ok)
        return MOVL_ERR_RUN;
    movl_opt_config oc = group_opt_config(&e->train.head);
    int rc;
    if ((rc = movl_opt_init(&h->optW, &t->dev, &oc, (size_t)h->k * h->in, err)) ||
        (rc = movl_opt_init(&h->optb, &t->dev, &oc, (size_t)h->k, err)))
        return rc;
    /* zero, or a small seeded uniform (random init, PyTorch-like scale 1/sqrt(in)) */
    size_t nw = (size_t)h->k * h->in;
    float *w = calloc(nw + (size_t)h->k, sizeof(float));
    if (!w)
        return MOVL_ERR_RUN;
    if (e->head.init == MOVL_HEAD_INIT_RANDOM) {
        uint64_t s = (uint64_t)e->experiment.seed * 0x9E3779B97F4A7C15ull + (uint64_t)in;
        float a = 1.0f / sqrtf((float)h->in);
        for (size_t i = 0; i < nw + (size_t)h->k; i++)
            w[i] = a * (2.0f * (float)movl_lcg_uniform24(&s) - 1.0f);
    }
    rc = movl_upload(&t->dev, h->W, w, nw * sizeof(float), err) ||
         movl_upload(&t->dev, h->b, w + nw, (size_t)h->k * sizeof(float), err);
    free(w);
    return rc ? MOVL_ERR_RUN : MOVL_OK;
}

static int setup_head(trainer *t, char *err)
{
    const movl_experiment *e = t->exp;
    t->has_probe = movl_method_uses_probe(e->train.method);
    t->has_map = movl_method_uses_label_map(e->train.method);
    t->map_fully = t->has_map && e->head.type == MOVL_HEAD_FULLY;
    /* A map sends target classes to distinct source classes (fully: a
     * learned layer, but its table is still TR_MAP_MAX long). */
    int limit = t->map_fully || t->NSRC > TR_MAP_MAX ? TR_MAP_MAX : t->NSRC;
    if (t->has_map && t->K > limit) {
        movl_set_error(err, "%s: %d classes, but the label map of method %s handles at most %d", e->data.path, t->K,
                       movl_method_name(e->train.method), limit);
        return MOVL_ERR_INPUT;
    }
    int rc;
    if (t->has_probe && (rc = init_head(t, &t->head, t->D, err)))
        return rc;
    if (t->map_fully && (rc = init_head(t, &t->fmap, t->NSRC, err)))
        return rc;
    size_t gw = (size_t)t->K * (size_t)(t->D > t->NSRC ? t->D : t->NSRC);
    int ok = 1;
    t->dW = dev_buf(t, gw, &ok, err);
    t->db = dev_buf(t, (size_t)t->K, &ok, err);
    t->dW2 = dev_buf(t, gw, &ok, err);
    t->db2 = dev_buf(t, (size_t)t->K, &ok, err);
    if (!ok)
        return MOVL_ERR_RUN;
    if (t->has_map) {
        if (!(t->map_dev = movl_buffer(&t->dev, TR_MAP_MAX * sizeof(int), err)))
            return MOVL_ERR_RUN;
        for (int i = 0; i < t->K; i++)
            t->map[i] = i; /* identity until RLM/FLM decide (fully ignores it) */
    }
    return MOVL_OK;
}

int tr_setup(trainer *t, char *err)
{
    const movl_experiment *e = t->exp;
    int rc;
    t->S = e->encoder.size;
    t->B = e->train.batch_size;
    t->EB = e->eval.batch_size;
    t->best_score = -1;
    t->best_stage = t->best_epoch = -1;
    if ((rc = movl_device_open(e->device.select[0] ? e->device.select : NULL, 0, &t->dev, err)))
        return rc;
    t->dev_open = 1;
    if (movl_self_test_enabled && (rc = movl_device_self_test(&t->dev, NULL, 0, err)))
        return rc;
    if (!t->model_only && (rc = load_data(t, err)))
        return rc;
    int maxb = t->B > t->EB ? t->B : t->EB;
    if ((rc = movl_encoder_load(&t->dev, e->encoder.arch, e->encoder.weights, maxb, t->S, &t->enc, err)))
        return rc;
    movl_encoder_normalization(t->enc, t->mean, t->std);
    t->D = movl_encoder_feature_dim(t->enc);
    t->NSRC = movl_encoder_num_classes(t->enc);
    if ((rc = setup_prompt(t, err)) || (rc = setup_head(t, err)))
        return rc;
    int inner = t->has_prompt && t->pd.type == MOVL_PROMPT_SHRINK_PAD ? t->S - 2 * t->pd.p : 0;
    if ((rc = movl_prep_create(t->S, inner, t->mean, t->std, &t->prep, err)))
        return rc;
    size_t img = 3 * (size_t)t->S * t->S * (size_t)maxb;
    int ok = 1;
    t->x = dev_buf(t, img, &ok, err);
    t->xp = dev_buf(t, img, &ok, err);
    t->dxp = dev_buf(t, img, &ok, err);
    t->labels = dev_buf(t, (size_t)maxb, &ok, err);
    size_t zk = (size_t)maxb * (t->K > t->NSRC ? t->K : t->NSRC);
    t->z = dev_buf(t, zk, &ok, err);
    t->dz = dev_buf(t, zk, &ok, err);
    t->zplain = dev_buf(t, zk, &ok, err);
    t->dzplain = dev_buf(t, zk, &ok, err);
    t->hcache = dev_buf(t, (size_t)maxb * t->D, &ok, err);
    t->dfeat = dev_buf(t, (size_t)maxb * t->D, &ok, err);
    t->dlogits = dev_buf(t, (size_t)maxb * t->NSRC, &ok, err);
    t->lossbuf = dev_buf(t, 8, &ok, err);
    t->scratch = dev_buf(t, 256, &ok, err);
    t->hx = malloc(img * sizeof(float));
    if (!ok || !t->hx)
        return MOVL_ERR_RUN;
    t->patch_rng = (uint64_t)e->experiment.seed * 31u + 3u;
    return MOVL_OK;
}

void tr_free(trainer *t)
{
    cl_mem *bufs[] = {&t->delta, &t->ddelta, &t->head.W, &t->head.b, &t->fmap.W, &t->fmap.b, &t->dW, &t->db, &t->dW2, &t->db2,
                      &t->map_dev, &t->x, &t->xp, &t->dxp, &t->labels, &t->z, &t->dz, &t->zplain,
                      &t->dzplain, &t->hcache, &t->dfeat, &t->dlogits, &t->lossbuf, &t->scratch};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        if (*bufs[i]) {
            clReleaseMemObject(*bufs[i]);
            *bufs[i] = NULL;
        }
    movl_opt_free(&t->opt_prompt);
    movl_opt_free(&t->head.optW);
    movl_opt_free(&t->head.optb);
    movl_opt_free(&t->fmap.optW);
    movl_opt_free(&t->fmap.optb);
    for (int s = 0; s < MOVL_NSPLITS; s++) {
        free(t->feat[s]);
        t->feat[s] = NULL;
    }
    free(t->hx);
    t->hx = NULL;
    free(t->history);
    t->history = NULL;
    tr_snapshot_free(&t->best);
    movl_prep_free(t->prep);
    t->prep = NULL;
    movl_encoder_free(t->enc);
    t->enc = NULL;
    movl_dataset_free(&t->data);
    if (t->dev_open)
        movl_device_close(&t->dev);
    t->dev_open = 0;
}
