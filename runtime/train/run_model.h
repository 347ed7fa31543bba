/* A finished run's model as a function of its input image, for attribution
 * maps (movl explain, docs/EXPLAIN.md): the class logits of preprocessed
 * images under the run's learned prompt and head, as `movl predict` computes
 * them, and the gradient of one class's logit with respect to the image the
 * prompt is applied to (the encoder's backward to its input, then back
 * through the prompt). No OpenCL type appears here. */
#ifndef MOVL_RUN_MODEL_H
#define MOVL_RUN_MODEL_H

#include "core/exit_codes.h"

typedef struct movl_run_model movl_run_model;

typedef struct movl_run_model_info {
    int size;               /* S: an image is [3][S][S] floats, normalised with mean/std */
    int classes;            /* K */
    int max_batch;          /* images per movl_run_model_eval call */
    float mean[3], std[3];  /* the encoder's normalisation (pixel = x * std + mean) */
    int has_prompt;
    const char *prompt;     /* the prompt's type name ("padding", ...), NULL without a prompt */
    const char *method;     /* the run's [train] method */
} movl_run_model_info;

/* Opens run_dir (config.ini + model.safetensors; no dataset needed) on the
 * device `device` selects (NULL: the run's). MOVL_ERR_INPUT with one line
 * naming the run folder or file when it is not a finished run. */
int movl_run_model_open(const char *run_dir, const char *device, movl_run_model **out, char *err);
void movl_run_model_close(movl_run_model *m);
void movl_run_model_get_info(const movl_run_model *m, movl_run_model_info *info);
/* The name of class k from the model file, NULL when the run has none. */
const char *movl_run_model_class_name(const movl_run_model *m, int k);

/* The image file at path as the run reads it for predict: decoded,
 * resized and normalised into chw [3][S][S]. Unreadable or bad file:
 * MOVL_ERR_INPUT naming it. */
int movl_run_model_load_image(movl_run_model *m, const char *path, float *chw, char *err);

/* mask [S][S]: 1 where the run's prompt acts as in evaluation (random_patch
 * at the top-left corner), 0 elsewhere; all 0 without a prompt. */
void movl_run_model_prompt_mask(const movl_run_model *m, unsigned char *mask);

/* logits [n][K] of the images x [n][3][S][S] (1 <= n <= max_batch) with
 * the prompt applied. With grad (may be NULL), also the gradient of
 * logits[i][cls[i]] with respect to image i, into grad [n][3][S][S]: the
 * additive prompts pass it unchanged, shrink_pad replaces the border, so
 * there it is 0. */
int movl_run_model_eval(movl_run_model *m, int n, const float *x, const int *cls, float *logits, float *grad,
                        char *err);

#endif
