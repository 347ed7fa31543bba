/* The state of one training run, shared by the trainer's files:
 * trainer_setup.c (device, data, encoder, buffers), trainer_steps.c (one
 * optimisation step per kind of stage), trainer_eval.c (features, scores,
 * metrics), trainer_checkpoint.c (checkpoints and resume), trainer.c (stages,
 * epochs, model selection, the run directory). */
#ifndef MOVL_TRAINER_INTERNAL_H
#define MOVL_TRAINER_INTERNAL_H

#include <stdint.h>
#include <stdio.h>

#include "data/dataset.h"
#include "device/device.h"
#include "encoder/encoder.h"
#include "experiment/experiment.h"
#include "adapt/metrics.h"
#include "adapt/optim.h"
#include "data/preprocess.h"
#include "adapt/prompt.h"

/* What a stage trains, and how the head reads the encoder. */
typedef enum {
    STAGE_PROBE_CACHED, /* probe on cached features (lp, LP init, LP stages) */
    STAGE_PROMPT_PROBE, /* prompt (+ probe unless frozen) through the encoder: vp_lp, movl, lp_then_vp */
    STAGE_PROMPT_MAP,   /* prompt (+ fully map) on the source logits: vp, vp_then_lp stage 1 */
} stage_kind;

typedef struct stage {
    stage_kind kind;
    int epochs;
    int train_prompt, train_head; /* which parameter groups move */
    int use_prompt;               /* the head sees prompted images (cached features included) */
    const char *name;             /* for logs and metrics.csv */
} stage;

/* The trained parameters; host copies serve model selection and checkpoints. */
typedef struct head_params {
    int in, k;       /* W is [k][in]: in = feature dim (probe) or 1000 (fully map) */
    cl_mem W, b;
    movl_optimizer optW, optb;
} head_params;

/* A label map sends each of at most this many target classes to a source class. */
#define TR_MAP_MAX 1000

typedef struct snapshot {
    float *delta, *W, *b, *fW, *fb; /* prompt, probe, fully map */
    int map[TR_MAP_MAX];
    int valid;
} snapshot;

typedef struct trainer {
    const movl_experiment *exp;
    char run_dir[1300];
    movl_device dev;
    int dev_open;
    movl_dataset data;
    movl_encoder *enc;
    movl_prep *prep; /* plain or shrink layout, as the prompt needs */
    int S, B, EB, K, D, NSRC;
    float mean[3], std[3];

    /* prompt */
    int has_prompt;
    movl_prompt_desc pd;
    size_t P;
    cl_mem delta, ddelta;
    movl_optimizer opt_prompt;

    /* head: a linear probe on features and/or a label map on the source
     * logits (index map, or the trainable 'fully' layer); vp_then_lp has both */
    int has_probe, has_map, map_fully;
    int head_is_map; /* which one the current stage (and evaluation) uses */
    head_params head; /* the probe: [K][D] */
    head_params fmap; /* the fully map: [K][1000] */
    cl_mem dW, db, dW2, db2; /* parameter gradients, sized for the larger head (2: plain path of plain_ce) */
    int map[TR_MAP_MAX];
    cl_mem map_dev;

    /* per-batch device buffers */
    cl_mem x, xp, dxp, labels, z, dz, zplain, dzplain, hcache, dfeat, dlogits, lossbuf, scratch;
    float *hx; /* host batch of images */

    /* cached features [n][D] per split (NULL when not computed) */
    float *feat[MOVL_NSPLITS];
    int feat_prompted; /* computed through the current prompt */

    /* progress */
    int stage_index, epoch, step_in_epoch;
    long global_step, stage_step;
    double loss_sum;
    long loss_count;
    uint64_t patch_rng;
    double best_score;
    int best_stage, best_epoch;
    snapshot best;
    char *history; /* metrics.csv body rows so far */
    double t_start, t_train;
    double last_loss;  /* loss of the last step (CE + lambda * D) */
    FILE *trace;       /* MOVL_TRACE: one JSON line per step */
    long stop_after;   /* MOVL_STOP_AFTER_STEPS: test hook */
    int quiet;         /* eval/predict: logs go to stderr so stdout stays machine-readable */
    int model_only;    /* predict: no dataset; K (and class names) preset from the model file */
} trainer;

/* trainer_setup.c */
int tr_setup(trainer *t, char *err);
void tr_free(trainer *t);

/* trainer_steps.c: one step on batch idx[0..n); adds the loss to t->loss_sum. */
int tr_step_probe_cached(trainer *t, const stage *s, const float *feat, const int *idx, int n, double lr_head,
                         char *err);
int tr_step_prompt(trainer *t, const stage *s, const int *idx, int n, double lr_prompt, double lr_head,
                   char *err);

/* trainer_eval.c */
/* Uploads the preprocessed images idx[0..n) of a split into t->x and their labels. */
int tr_load_batch(trainer *t, int split, const int *idx, int n, char *err);
/* The encoder input for the loaded batch: t->xp = prompt(t->x) at (oy, ox) when
 * the prompt is in use, else t->x itself. */
cl_mem tr_prompted(trainer *t, int n, int oy, int ox, char *err);
/* Features of every sample of a split into t->feat[split] (through the prompt when apply_prompt). */
int tr_cache_features(trainer *t, int split, int apply_prompt, char *err);
/* Scores [n][K] of a split under the current parameters (cached features when present). */
int tr_scores(trainer *t, int split, int use_cache, float *scores, char *err);
int tr_evaluate(trainer *t, int split, int use_cache, movl_metrics *m, char *err);
/* Scores [n][K] of the images already uploaded into t->x. */
int tr_scores_loaded(trainer *t, int n, float *out, char *err);
/* FLM / ILM: count top-1 source predictions on the train split with the current prompt. */
int tr_fit_label_map(trainer *t, char *err);

/* trainer_checkpoint.c */
int tr_snapshot_take(trainer *t, snapshot *s, char *err);
int tr_snapshot_restore(trainer *t, const snapshot *s, char *err);
void tr_snapshot_free(snapshot *s);
/* The model (prompt, head, label map) as safetensors. */
int tr_save_model(trainer *t, const snapshot *s, const char *path, char *err);
/* Loads a model file written by tr_save_model into the current parameters. */
int tr_load_model(trainer *t, const char *path, char *err);
/* Everything needed to continue: parameters, optimiser state, progress, best snapshot. */
int tr_save_resume(trainer *t, char *err);
int tr_load_resume(trainer *t, char *err);
/* Writes a prompt snapshot as a PNG (3 x S x S, values mapped to 0..255). */
int tr_save_prompt_png(trainer *t, const float *delta, const char *path, char *err);

#endif
