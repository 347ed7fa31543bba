/* A finished run as a function of its input image (run_model.h): the logits
 * as predict computes them, and the gradient of one class's logit per image
 * through the head, the frozen encoder and the prompt. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/common.h"
#include "ops/ops.h"
#include "train/run_model.h"
#include "train/trainer_internal.h"

struct movl_run_model {
    trainer t;
    movl_experiment e;
    float *onehot; /* [max_batch][max(classes, source classes)] host scratch */
};

int movl_run_model_open(const char *run_dir, const char *device, movl_run_model **out, char *err)
{
    *out = NULL;
    char cfg[1400];
    struct stat st;
    snprintf(cfg, sizeof cfg, "%s/config.ini", run_dir);
    if (stat(run_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        movl_set_error(err, "%s: no such run folder", run_dir);
        return MOVL_ERR_INPUT;
    }
    if (stat(cfg, &st) != 0) {
        movl_set_error(err, "%s: not a run folder (no config.ini)", run_dir);
        return MOVL_ERR_INPUT;
    }
    movl_run_model *m = calloc(1, sizeof *m);
    if (!m) {
        movl_set_error(err, "out of host memory");
        return MOVL_ERR_RUN;
    }
    int rc = tr_open_run(&m->t, &m->e, run_dir, NULL, device, 0, err);
    if (rc == MOVL_OK) {
        int maxb = m->t.dims.batch > m->t.dims.eval_batch ? m->t.dims.batch : m->t.dims.eval_batch;
        int width = m->t.dims.classes > m->t.dims.source_classes ? m->t.dims.classes : m->t.dims.source_classes;
        if (!(m->onehot = malloc(sizeof(float) * (size_t)maxb * (size_t)width))) {
            movl_set_error(err, "out of host memory");
            rc = MOVL_ERR_RUN;
        }
    }
    if (rc) {
        movl_run_model_close(m);
        return rc;
    }
    *out = m;
    return MOVL_OK;
}

void movl_run_model_close(movl_run_model *m)
{
    if (!m)
        return;
    tr_free(&m->t);
    free(m->onehot);
    free(m);
}

void movl_run_model_get_info(const movl_run_model *m, movl_run_model_info *info)
{
    const trainer *t = &m->t;
    memset(info, 0, sizeof *info);
    info->size = t->dims.image_size;
    info->classes = t->dims.classes;
    info->max_batch = t->dims.batch > t->dims.eval_batch ? t->dims.batch : t->dims.eval_batch;
    memcpy(info->mean, t->dims.mean, sizeof info->mean);
    memcpy(info->std, t->dims.std, sizeof info->std);
    info->has_prompt = t->model.has_prompt;
    info->prompt = t->model.has_prompt ? movl_prompt_type_name(t->model.prompt_desc.type) : NULL;
    info->method = movl_method_name(m->e.train.method);
}

const char *movl_run_model_class_name(const movl_run_model *m, int k)
{
    const movl_dataset *d = &m->t.host.dataset;
    return d->class_names && k >= 0 && k < m->t.dims.classes ? d->class_names[k] : NULL;
}

int movl_run_model_load_image(movl_run_model *m, const char *path, float *chw, char *err)
{
    return tr_load_input(&m->t, path, chw, err);
}

void movl_run_model_prompt_mask(const movl_run_model *m, unsigned char *mask)
{
    const trainer *t = &m->t;
    size_t plane = (size_t)t->dims.image_size * t->dims.image_size;
    memset(mask, 0, plane);
    if (!t->model.has_prompt)
        return;
    for (int i = 0; i < t->dims.image_size; i++)
        for (int j = 0; j < t->dims.image_size; j++)
            mask[(size_t)i * t->dims.image_size + j] = movl_prompt_index(&t->model.prompt_desc, 0, 0, 0, i, j) >= 0;
}

/* d logits[i][cls[i]] back to the encoder's input (t->bufs.prompted_grad), after a forward through the head. */
static int class_logit_backward(trainer *t, int n, const int *cls, float *onehot, char *err)
{
    tr_buffers *b = &t->bufs;
    int K = t->dims.classes, S = t->dims.source_classes;
    if (!t->model.head_is_map || t->model.map_fully) {
        memset(onehot, 0, sizeof(float) * (size_t)n * K);
        for (int i = 0; i < n; i++)
            onehot[(size_t)i * K + cls[i]] = 1.0f;
        if (movl_upload(&t->dev, b->logits_grad, onehot, sizeof(float) * (size_t)n * K, err))
            return MOVL_ERR_RUN;
    }
    if (!t->model.head_is_map)
        return movl_linear_backward_input(&t->dev, n, t->dims.feature_dim, K, t->model.probe.W, b->logits_grad,
                                          b->features_grad, err) ||
                       movl_encoder_backward(t->enc, b->features_grad, NULL, b->prompted_grad, err)
                   ? MOVL_ERR_RUN
                   : MOVL_OK;
    if (t->model.map_fully) {
        if (movl_linear_backward_input(&t->dev, n, S, K, t->model.fully.W, b->logits_grad, b->source_logits_grad,
                                       err) ||
            (t->model.map_text && movl_l2norm_backward(&t->dev, n, S, movl_encoder_logits(t->enc),
                                                       b->source_logits_grad, b->source_logits_grad, err)))
            return MOVL_ERR_RUN;
    } else { /* an index map: target class k is source logit map[k] */
        memset(onehot, 0, sizeof(float) * (size_t)n * S);
        for (int i = 0; i < n; i++)
            onehot[(size_t)i * S + t->model.label_map[cls[i]]] = 1.0f;
        if (movl_upload(&t->dev, b->source_logits_grad, onehot, sizeof(float) * (size_t)n * S, err))
            return MOVL_ERR_RUN;
    }
    return movl_encoder_backward(t->enc, NULL, b->source_logits_grad, b->prompted_grad, err) ? MOVL_ERR_RUN : MOVL_OK;
}

int movl_run_model_eval(movl_run_model *m, int n, const float *x, const int *cls, float *logits, float *grad,
                        char *err)
{
    trainer *t = &m->t;
    int maxb = t->dims.batch > t->dims.eval_batch ? t->dims.batch : t->dims.eval_batch;
    if (n < 1 || n > maxb) {
        movl_set_error(err, "run model: %d images in one call (expected 1..%d)", n, maxb);
        return MOVL_ERR_INPUT;
    }
    for (int i = 0; grad && i < n; i++)
        if (cls[i] < 0 || cls[i] >= t->dims.classes) {
            movl_set_error(err, "run model: class %d out of range (0..%d)", cls[i], t->dims.classes - 1);
            return MOVL_ERR_INPUT;
        }
    size_t plane = (size_t)t->dims.image_size * t->dims.image_size, per = 3 * plane;
    if (movl_upload(&t->dev, t->bufs.images, x, sizeof(float) * per * (size_t)n, err))
        return MOVL_ERR_RUN;
    int rc = tr_scores_loaded(t, n, logits, err); /* forward with the prompt; the encoder keeps what backward needs */
    if (rc || !grad)
        return rc;
    if ((rc = class_logit_backward(t, n, cls, m->onehot, err)))
        return rc;
    /* without a prompt the encoder read t->bufs.images itself; dx is in prompted_grad all the same */
    if (movl_download(&t->dev, t->bufs.prompted_grad, grad, sizeof(float) * per * (size_t)n, err))
        return MOVL_ERR_RUN;
    if (t->model.has_prompt && t->model.prompt_desc.type == MOVL_PROMPT_SHRINK_PAD) {
        /* y = M ? prompt : x: the image has no say on the border */
        for (int i = 0; i < t->dims.image_size; i++)
            for (int j = 0; j < t->dims.image_size; j++)
                if (movl_prompt_index(&t->model.prompt_desc, 0, 0, 0, i, j) >= 0)
                    for (int b = 0; b < n; b++)
                        for (int c = 0; c < 3; c++)
                            grad[(size_t)b * per + c * plane + (size_t)i * t->dims.image_size + j] = 0.0f;
    }
    return MOVL_OK;
}
