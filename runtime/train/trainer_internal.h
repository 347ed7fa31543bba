/* The state of one training run, shared by the trainer's files:
 * trainer_setup.c (device, data, encoder, buffers), trainer_steps.c (one
 * optimisation step per kind of stage), trainer_eval.c (features, scores,
 * metrics), trainer_checkpoint.c (checkpoints and resume), trainer_prompt_png.c
 * (the prompt's pictures), trainer.c (stages, epochs, model selection, the run
 * directory); run_commands.c and run_model.c use finished runs. */
#ifndef MOVL_TRAINER_INTERNAL_H
#define MOVL_TRAINER_INTERNAL_H

#include <cjson/cJSON.h>
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
    STAGE_FULL,         /* every backbone weight + the probe through the encoder (ff) */
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
    float *backbone;                /* ff: the encoder's flat parameters (movl_encoder_param_floats) */
    int map[TR_MAP_MAX];
    int valid;
} snapshot;

/* Sizes fixed at set-up by the experiment and the encoder. */
typedef struct tr_dims {
    int image_size;       /* side of the encoder's square input */
    int batch;            /* training batch */
    int eval_batch;       /* batch of evaluation and feature caching */
    int classes;          /* target classes */
    int feature_dim;      /* width of the encoder's features */
    int source_classes;   /* the encoder's own classes (its logits) */
    float mean[3], std[3]; /* the encoder's input normalisation */
} tr_dims;

/* The trained parameters: prompt and head (a linear probe on features
 * and/or a label map on the source logits: an index map, or the trainable
 * 'fully' layer; vp_then_lp has both). */
typedef struct tr_model {
    int has_prompt;
    movl_prompt_desc prompt_desc;
    size_t prompt_len;    /* floats in the prompt */
    cl_mem prompt, prompt_grad;
    movl_optimizer prompt_opt;
    int has_probe, has_map, map_fully;
    int map_text;         /* the fully map is CLIP's fixed text head, over the L2-normalised image embedding */
    int head_is_map;      /* which head the current stage (and evaluation) uses */
    head_params probe;    /* [classes][feature_dim] */
    head_params fully;    /* the fully map: [classes][source_classes] */
    int label_map[TR_MAP_MAX];
    cl_mem label_map_dev;
    int has_backbone;             /* ff: the encoder's weights are trained (and saved) */
    movl_optimizer backbone_opt;  /* over the encoder's flat parameters */
} tr_model;

/* Device buffers of one step, sized for the larger of the two batches. */
typedef struct tr_buffers {
    cl_mem images, labels;             /* the loaded batch */
    cl_mem prompted, prompted_grad;    /* the encoder's input (prompt applied) and its gradient */
    cl_mem logits, logits_grad;        /* head outputs [n][classes] and the loss gradient */
    cl_mem plain_logits, plain_logits_grad; /* the same on the plain path (discrepancy terms) */
    cl_mem plain_features;             /* features of the unprompted batch (or cached features) */
    cl_mem features_grad;              /* gradient into the encoder's features */
    cl_mem source_logits_grad;         /* gradient into the encoder's logits (label-map stages) */
    cl_mem normed_logits;              /* clip_text: the normalised image embedding [n][source_classes] */
    cl_mem head_grad_W, head_grad_b;   /* parameter gradients, sized for the larger head */
    cl_mem plain_grad_W, plain_grad_b; /* the plain path's share (plain_ce) */
    cl_mem losses;                     /* the step's loss slots */
    cl_mem scratch;
} tr_buffers;

/* Host-side data: the dataset, a batch of images, cached features. */
typedef struct tr_host {
    movl_dataset dataset;
    float *batch_images;                /* host batch of images (also reused as scratch) */
    float *features[MOVL_NSPLITS];      /* cached features [n][feature_dim] per split (NULL when not computed) */
    int features_prompted;              /* computed through the current prompt */
} tr_host;

/* Where the run is: stage, epoch, step, the loss so far. */
typedef struct tr_progress {
    int stage, epoch, step_in_epoch;
    long global_step, stage_step;
    double loss_sum;
    long loss_count;
    double last_loss;     /* loss of the last step (CE + lambda * discrepancy) */
    uint64_t patch_rng;   /* random-patch positions (splitmix64 state) */
    char *history;        /* metrics.csv body rows so far */
} tr_progress;

/* The best evaluation so far and its parameters (model selection). */
typedef struct tr_best {
    double score;
    int stage, epoch;
    snapshot params;
} tr_best;

/* Where a run's wall time goes (summary.json "time_split", movl train -v).
 * Exactly one phase runs at a time, so the phases add up to the wall time. */
typedef enum tr_phase {
    TR_PHASE_SETUP,      /* device, self-test, kernel build, weights, buffers */
    TR_PHASE_DATASET,    /* reading and decoding the dataset */
    TR_PHASE_CACHE,      /* frozen-feature caching and label-map fits (passes over a split) */
    TR_PHASE_DATA,       /* a training step's batch: preprocessing, gathering cached features, uploads */
    TR_PHASE_STEPS,      /* a training step's device work: enqueue up to the step's one host sync */
    TR_PHASE_VAL,        /* per-epoch validation and model selection */
    TR_PHASE_CHECKPOINT, /* resume checkpoints */
    TR_PHASE_TEST,       /* the selected model on val and test, bootstrap intervals, calibration */
    TR_PHASE_SHIFT,      /* the shift suite ([eval] shift) */
    TR_PHASE_OUTPUT,     /* model, PNGs, plots, confusion.csv, summary.json */
    TR_NPHASES
} tr_phase;

typedef struct tr_timing {
    double interval_start; /* start of the training time not yet added to train_seconds */
    double train_seconds;  /* training time so far, resumes included */
    double phase_seconds[TR_NPHASES]; /* closed phases, earlier sessions (resumes) included */
    double earlier_wall;   /* wall seconds of earlier sessions, from the checkpoint */
    int sessions;          /* this one and the earlier ones */
    double session_start;
    tr_phase phase;        /* the running phase, since phase_start */
    double phase_start;
} tr_timing;

/* Test hooks (environment variables). */
typedef struct tr_hooks {
    FILE *trace;          /* MOVL_TRACE: one JSON line per step */
    long stop_after;      /* MOVL_STOP_AFTER_STEPS: stop as if signalled after this many steps */
    int events_on, events_fd; /* MOVL_EVENTS: a log of phase changes, "PHASE STAGE STEP SECONDS" per line, each
                               * written at once, so that a test killing the process knows where it stopped */
} tr_hooks;

typedef struct trainer {
    const movl_experiment *exp;
    char run_dir[1300];
    int quiet;            /* eval/predict: logs go to stderr so stdout stays machine-readable */
    int model_only;       /* predict: no dataset; classes (and class names) preset from the model file */
    int inference;        /* eval/predict/features: the encoder is loaded frozen whatever the method */
    int names_only;       /* predict/explain: the dataset is read only for its class names (no summary printed) */
    movl_device dev;
    int dev_open;
    movl_encoder *enc;
    movl_prep *prep;      /* plain or shrink layout, as the prompt needs */
    tr_dims dims;
    tr_model model;
    tr_buffers bufs;
    tr_host host;
    tr_progress progress;
    tr_best best;
    tr_timing timing;
    tr_hooks hooks;
} trainer;

/* trainer_setup.c */
int tr_setup(trainer *t, char *err);
void tr_free(trainer *t);

/* trainer_steps.c: one step on batch idx[0..n); adds the loss to t->progress.loss_sum. */
int tr_step_probe_cached(trainer *t, const stage *s, const float *feat, const int *idx, int n, double lr_head,
                         char *err);
int tr_step_prompt(trainer *t, const stage *s, const int *idx, int n, double lr_prompt, double lr_head,
                   char *err);
/* ff: the backbone and the probe through the encoder on plain images. */
int tr_step_full(trainer *t, const int *idx, int n, double lr_backbone, double lr_head, char *err);

/* trainer_eval.c */
/* Uploads the preprocessed images idx[0..n) of a split into t->bufs.images and their labels. */
int tr_load_batch(trainer *t, int split, const int *idx, int n, char *err);
/* The encoder input for the loaded batch: t->bufs.prompted = prompt(t->bufs.images) at (oy, ox) when
 * the prompt is in use, else t->bufs.images itself. */
cl_mem tr_prompted(trainer *t, int n, int oy, int ox, char *err);
/* Features of every sample of a split into t->host.features[split] (through the prompt when apply_prompt). */
int tr_cache_features(trainer *t, int split, int apply_prompt, char *err);
/* Scores [n][classes] of a split under the current parameters (cached features when present). */
int tr_scores(trainer *t, int split, int use_cache, float *scores, char *err);
int tr_evaluate(trainer *t, int split, int use_cache, movl_metrics *m, char *err);
/* A split's 95 % bootstrap intervals of ACC and AUC (1000 resamples seeded with [experiment] seed,
 * so a run's summary and movl eval give the same ones) and its calibration, added to m. */
int tr_add_uncertainty(const trainer *t, movl_metrics *m, char *err);
/* Scores [n][classes] of the images already uploaded into t->bufs.images. */
int tr_scores_loaded(trainer *t, int n, float *out, char *err);
/* FLM / ILM: count top-1 source predictions on the train split with the current prompt. */
int tr_fit_label_map(trainer *t, char *err);
/* clip_text: CLIP's text embeddings of the class prompts into the fully map (trainer_text_head.c). */
int tr_text_head_setup(trainer *t, char *err);

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
/* trainer_prompt_png.c: a prompt snapshot as a PNG (additive prompts around mid grey, shrink_pad as
 * pixels, unprompted pixels black), and the first validation image with it applied, as the encoder
 * sees it; both upscaled (nearest neighbour, a whole factor) to at least 256 px a side. */
int tr_save_prompt_png(trainer *t, const float *delta, const char *path, char *err);
int tr_save_prompt_applied_png(trainer *t, const float *delta, const char *path, char *err);

/* trainer_timing.c: the time split, measured with the monotonic clock at
 * phase boundaries only (no device sync of its own: a step ends with its
 * loss read, evaluation and checkpoints with downloads). */
void tr_timing_start(trainer *t);
/* Closes the running phase and starts p; returns the phase that ran. */
tr_phase tr_phase_enter(trainer *t, tr_phase p);
/* The current phase to the MOVL_EVENTS log, if any (tr_phase_enter writes each change). */
void tr_phase_event(const trainer *t);
/* Phase seconds as of now (the running phase included) into sec; returns the wall seconds. */
double tr_timing_now(const trainer *t, double sec[TR_NPHASES]);
/* The split as of now (the running phase included) as {"setup_s": ..., ..., "wall_s", "sessions"}. */
cJSON *tr_timing_json(const trainer *t);
/* Adds a checkpoint's split (written by tr_timing_json) to the running one;
 * a checkpoint without one adds nothing. MOVL_ERR_INPUT naming path for a bad one. */
int tr_timing_resume(trainer *t, const cJSON *split, const char *path, char *err);
/* The split as of now, one line per phase; since: NULL for the whole run,
 * else the phase seconds at an epoch's start (only what changed since is printed, on one line). */
void tr_timing_print(const trainer *t, const double *since, const char *title, FILE *f);

/* run_commands.c: loads run_dir's config (with data_path and device
 * overrides; the whole of every split) and model into a ready trainer t;
 * e receives the experiment (t->exp points to it). Without need_data the
 * dataset is not read (predict). */
int tr_open_run(trainer *t, movl_experiment *e, const char *run_dir, const char *data_path, const char *device,
                int need_data, char *err);
/* The split named `name` (train, val, test) into *split; MOVL_ERR_INPUT naming --split otherwise. */
int tr_parse_split(const char *name, int *split, char *err);
/* run_input.c: the image file at path as the run's encoder input (3 x
 * image_size^2 CHW floats into chw): decoded with the run's [data] options,
 * then its evaluation preprocessing. Unreadable or bad file: MOVL_ERR_INPUT naming it. */
int tr_load_input(trainer *t, const char *path, float *chw, char *err);

/* trainer_shift.c: the shift suite on a split of the trainer's dataset.
 * spec: "all" or "NAME[:SEVERITY],..." (kinds/shift_kinds.h; "all" needs
 * the experiment's [data] modality or a dataset file name that tells it).
 * Each (corruption, severity) corrupts the stored pixels of the split
 * (seed 0, the images `movl shift` writes), evaluates the unchanged model
 * through the usual preprocessing, and the clean split is restored before
 * returning, also on failure. *out: a new cJSON object (the caller deletes
 * it): split, modality, seed, clean {acc, auc}, corruptions [{name,
 * severities [{severity, acc, auc}], mean_acc, mean_auc}], mean_acc,
 * mean_auc (the mean of the corruptions' means; an undefined AUC is null
 * and left out of the means). MOVL_ERR_INPUT for a bad spec. */
int tr_shift_evaluate(trainer *t, int split, const char *spec, cJSON **out, char *err);

#endif
