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
    o.resize_to = t->dims.image_size; /* PNG sources: keep only what the encoder will see */
    o.read.all_frames = e->data.dicom_frames;
    if (movl_image_parse_window(e->data.window, &o.read, err) != 0)
        return MOVL_ERR_INPUT; /* checked when the experiment was loaded */
    int rc = movl_dataset_load(e->data.path, &o, &t->host.dataset, err);
    if (rc != MOVL_OK)
        return rc;
    if (e->data.max_train > 0 && (rc = movl_dataset_subsample(&t->host.dataset, MOVL_SPLIT_TRAIN, e->data.max_train,
                                                              (uint64_t)e->experiment.seed, err)))
        return rc;
    for (int s = MOVL_SPLIT_VAL; s <= MOVL_SPLIT_TEST && e->data.max_eval > 0; s++)
        if ((rc = movl_dataset_subsample(&t->host.dataset, s, e->data.max_eval, (uint64_t)e->experiment.seed + 1, err)))
            return rc;
    if (t->host.dataset.split[MOVL_SPLIT_TRAIN].n == 0 || t->host.dataset.split[MOVL_SPLIT_VAL].n == 0 ||
        t->host.dataset.split[MOVL_SPLIT_TEST].n == 0) {
        movl_set_error(err, "%s: the train, val and test splits must all be non-empty (found %d / %d / %d)",
                       e->data.path, t->host.dataset.split[0].n, t->host.dataset.split[1].n,
                       t->host.dataset.split[2].n);
        return MOVL_ERR_INPUT;
    }
    if (!t->names_only)
        movl_dataset_print_summary(&t->host.dataset, t->quiet ? stderr : stdout);
    t->dims.classes = t->host.dataset.num_classes;
    return MOVL_OK;
}

/* Floats of optimiser state per parameter (movl_opt_state_floats / n). */
static size_t state_per_param(const movl_opt_config *c)
{
    return c->kind == MOVL_OPT_ADAM ? 2 : c->momentum > 0 ? 1 : 0;
}

static int setup_prompt(trainer *t, char *err)
{
    const movl_experiment *e = t->exp;
    t->model.has_prompt = movl_method_uses_prompt(e->train.method);
    memset(&t->model.prompt_desc, 0, sizeof t->model.prompt_desc);
    t->model.prompt_desc.type = e->prompt.type;
    t->model.prompt_desc.size = t->dims.image_size;
    t->model.prompt_desc.p = e->prompt.size;
    t->model.prompt_desc.sigmoid = e->prompt.sigmoid;
    memcpy(t->model.prompt_desc.mean, t->dims.mean, sizeof t->dims.mean);
    memcpy(t->model.prompt_desc.std, t->dims.std, sizeof t->dims.std);
    if (!t->model.has_prompt)
        return MOVL_OK;
    int rc = movl_prompt_check(&t->model.prompt_desc, err);
    if (rc)
        return MOVL_ERR_INPUT;
    t->model.prompt_len = movl_prompt_param_count(&t->model.prompt_desc);
    int ok = 1;
    t->model.prompt = dev_buf(t, t->model.prompt_len, &ok, err);
    t->model.prompt_grad = dev_buf(t, t->model.prompt_len, &ok, err);
    if (!ok)
        return MOVL_ERR_RUN;
    movl_opt_config oc = group_opt_config(&e->train.prompt);
    if ((rc = movl_opt_init(&t->model.prompt_opt, &t->dev, &oc, t->model.prompt_len, err)))
        return rc;
    return movl_prompt_init_device(&t->dev, &t->model.prompt_desc, e->prompt.init, (float)e->prompt.init_std,
                                   (uint64_t)e->experiment.seed * 7919u + 17u, t->model.prompt, err);
}

static int init_head(trainer *t, head_params *h, int in, char *err)
{
    const movl_experiment *e = t->exp;
    h->k = t->dims.classes;
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
    t->model.has_probe = movl_method_uses_probe(e->train.method);
    t->model.has_map = movl_method_uses_label_map(e->train.method);
    t->model.map_text = t->model.has_map && e->head.type == MOVL_HEAD_CLIP_TEXT;
    t->model.map_fully = t->model.has_map && (e->head.type == MOVL_HEAD_FULLY || t->model.map_text);
    /* A map sends target classes to distinct source classes (fully: a
     * learned layer, but its table is still TR_MAP_MAX long). */
    int limit = t->model.map_fully || t->dims.source_classes > TR_MAP_MAX ? TR_MAP_MAX : t->dims.source_classes;
    if (t->model.has_map && t->dims.classes > limit) {
        movl_set_error(err, "%s: %d classes, but the label map of method %s handles at most %d", e->data.path,
                       t->dims.classes, movl_method_name(e->train.method), limit);
        return MOVL_ERR_INPUT;
    }
    int rc;
    if (t->model.has_probe && (rc = init_head(t, &t->model.probe, t->dims.feature_dim, err)))
        return rc;
    if (t->model.map_fully && (rc = init_head(t, &t->model.fully, t->dims.source_classes, err)))
        return rc;
    /* eval and predict read the text head from the model file */
    if (t->model.map_text && !t->inference && (rc = tr_text_head_setup(t, err)))
        return rc;
    size_t gw = (size_t)t->dims.classes *
                (size_t)(t->dims.feature_dim > t->dims.source_classes ? t->dims.feature_dim : t->dims.source_classes);
    int ok = 1;
    t->bufs.head_grad_W = dev_buf(t, gw, &ok, err);
    t->bufs.head_grad_b = dev_buf(t, (size_t)t->dims.classes, &ok, err);
    t->bufs.plain_grad_W = dev_buf(t, gw, &ok, err);
    t->bufs.plain_grad_b = dev_buf(t, (size_t)t->dims.classes, &ok, err);
    if (!ok)
        return MOVL_ERR_RUN;
    if (t->model.has_map) {
        if (!(t->model.label_map_dev = movl_buffer(&t->dev, TR_MAP_MAX * sizeof(int), err)))
            return MOVL_ERR_RUN;
        for (int i = 0; i < t->dims.classes; i++)
            t->model.label_map[i] = i; /* identity until RLM/FLM decide (fully ignores it) */
    }
    return MOVL_OK;
}

int tr_setup(trainer *t, char *err)
{
    const movl_experiment *e = t->exp;
    int rc;
    t->dims.image_size = e->encoder.size;
    t->dims.batch = e->train.batch_size;
    t->dims.eval_batch = e->eval.batch_size;
    t->best.score = -1;
    t->best.stage = t->best.epoch = -1;
    if ((rc = movl_device_open(e->device.select[0] ? e->device.select : NULL, 0, &t->dev, err)))
        return rc;
    t->dev_open = 1;
    if (movl_self_test_enabled && (rc = movl_device_self_test(&t->dev, NULL, 0, err)))
        return rc;
    tr_phase_enter(t, TR_PHASE_DATASET);
    rc = t->model_only ? MOVL_OK : load_data(t, err);
    tr_phase_enter(t, TR_PHASE_SETUP);
    if (rc)
        return rc;
    int maxb = t->dims.batch > t->dims.eval_batch ? t->dims.batch : t->dims.eval_batch;
    t->model.has_backbone = movl_method_trains_backbone(e->train.method) && !t->inference;
    movl_opt_config boc = group_opt_config(&e->train.backbone);
    movl_encoder_options eo = {t->model.has_backbone, (int)state_per_param(&boc)};
    if ((rc = movl_encoder_load_with(&t->dev, e->encoder.arch, e->encoder.weights, maxb, t->dims.image_size, &eo,
                                     &t->enc, err)))
        return rc;
    if (t->model.has_backbone &&
        (rc = movl_opt_init(&t->model.backbone_opt, &t->dev, &boc, movl_encoder_param_floats(t->enc), err)))
        return rc;
    movl_encoder_normalization(t->enc, t->dims.mean, t->dims.std);
    t->dims.feature_dim = movl_encoder_feature_dim(t->enc);
    t->dims.source_classes = movl_encoder_num_classes(t->enc);
    if ((rc = setup_prompt(t, err)) || (rc = setup_head(t, err)))
        return rc;
    int inner = t->model.has_prompt && t->model.prompt_desc.type == MOVL_PROMPT_SHRINK_PAD
                    ? t->dims.image_size - 2 * t->model.prompt_desc.p
                    : 0;
    if ((rc = movl_prep_create(t->dims.image_size, inner, t->dims.mean, t->dims.std, &t->prep, err)))
        return rc;
    size_t img = 3 * (size_t)t->dims.image_size * t->dims.image_size * (size_t)maxb;
    int ok = 1;
    t->bufs.images = dev_buf(t, img, &ok, err);
    t->bufs.prompted = dev_buf(t, img, &ok, err);
    t->bufs.prompted_grad = dev_buf(t, img, &ok, err);
    t->bufs.labels = dev_buf(t, (size_t)maxb, &ok, err);
    size_t zk = (size_t)maxb * (t->dims.classes > t->dims.source_classes ? t->dims.classes : t->dims.source_classes);
    t->bufs.logits = dev_buf(t, zk, &ok, err);
    t->bufs.logits_grad = dev_buf(t, zk, &ok, err);
    t->bufs.plain_logits = dev_buf(t, zk, &ok, err);
    t->bufs.plain_logits_grad = dev_buf(t, zk, &ok, err);
    t->bufs.plain_features = dev_buf(t, (size_t)maxb * t->dims.feature_dim, &ok, err);
    t->bufs.features_grad = dev_buf(t, (size_t)maxb * t->dims.feature_dim, &ok, err);
    t->bufs.source_logits_grad = dev_buf(t, (size_t)maxb * t->dims.source_classes, &ok, err);
    if (t->model.map_text)
        t->bufs.normed_logits = dev_buf(t, (size_t)maxb * t->dims.source_classes, &ok, err);
    t->bufs.losses = dev_buf(t, 8, &ok, err);
    t->bufs.scratch = dev_buf(t, 256, &ok, err);
    t->host.batch_images = malloc(img * sizeof(float));
    if (!ok || !t->host.batch_images)
        return MOVL_ERR_RUN;
    t->progress.patch_rng = (uint64_t)e->experiment.seed * 31u + 3u;
    return MOVL_OK;
}

void tr_free(trainer *t)
{
    tr_buffers *b = &t->bufs;
    tr_model *m = &t->model;
    cl_mem *bufs[] = {&m->prompt, &m->prompt_grad, &m->probe.W, &m->probe.b, &m->fully.W, &m->fully.b,
                      &m->label_map_dev, &b->head_grad_W, &b->head_grad_b, &b->plain_grad_W, &b->plain_grad_b,
                      &b->images, &b->prompted, &b->prompted_grad, &b->labels, &b->logits, &b->logits_grad,
                      &b->plain_logits, &b->plain_logits_grad, &b->plain_features, &b->features_grad,
                      &b->source_logits_grad, &b->normed_logits, &b->losses, &b->scratch};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        if (*bufs[i]) {
            clReleaseMemObject(*bufs[i]);
            *bufs[i] = NULL;
        }
    movl_opt_free(&m->prompt_opt);
    movl_opt_free(&m->probe.optW);
    movl_opt_free(&m->probe.optb);
    movl_opt_free(&m->fully.optW);
    movl_opt_free(&m->fully.optb);
    movl_opt_free(&m->backbone_opt);
    for (int s = 0; s < MOVL_NSPLITS; s++) {
        free(t->host.features[s]);
        t->host.features[s] = NULL;
    }
    free(t->host.batch_images);
    t->host.batch_images = NULL;
    free(t->progress.history);
    t->progress.history = NULL;
    tr_snapshot_free(&t->best.params);
    movl_prep_free(t->prep);
    t->prep = NULL;
    movl_encoder_free(t->enc);
    t->enc = NULL;
    movl_dataset_free(&t->host.dataset);
    if (t->dev_open)
        movl_device_close(&t->dev);
    t->dev_open = 0;
}
