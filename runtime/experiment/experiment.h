/* Experiments: an INI file (configs/NAME.ini) read through iniparser, checked
 * against the schema (config_schema.h) and the method rules, and turned into a
 * validated struct before any work starts. Every field below is the effective
 * value: defaults filled in, method-dependent defaults resolved, "auto"/0
 * placeholders replaced (data format, encoder size, experiment name).
 *
 * Relative paths (weights, data, output_dir) are relative to the CURRENT
 * WORKING DIRECTORY, not to the INI file's folder: run movl from the repo root.
 *
 * Errors are one line, MOVL_ERR_INPUT, naming the file, the line and the key:
 *   configs/x.ini:12: unknown key 'lamda' in [loss] (did you mean 'lambda'?)
 *   -s loss.lamda=0.1: unknown key 'lamda' in [loss] (did you mean 'lambda'?)
 */
#ifndef MOVL_EXPERIMENT_H
#define MOVL_EXPERIMENT_H

#include "core/common.h"
#include "experiment/config_schema.h"
#include "kinds/adapt_kinds.h"
#include "kinds/shift_kinds.h"

#define MOVL_CFG_NAMELEN 128  /* experiment name, device selector, arch, sweep key */
#define MOVL_CFG_PATHLEN 1024 /* paths */
#define MOVL_SWEEP_MAX 16     /* keys in a [sweep] section */
#define MOVL_SWEEP_VALUELEN 512

/* Enum values are the index of the name in the schema's value list, so the
 * order here must match runtime/experiment/config_schema.c. The prompt, optimiser and
 * discrepancy enums are those of prompt.h, optim.h and discrepancy.h (the
 * schema's lists follow their order; tests/test_experiment.c checks it). */
typedef enum movl_method {
    MOVL_METHOD_LP,         /* probe on cached plain features */
    MOVL_METHOD_VP,         /* prompt + label map on the source logits */
    MOVL_METHOD_VP_LP,      /* prompt + probe jointly, CE only */
    MOVL_METHOD_MOVL,       /* prompt + probe jointly, CE + lambda * discrepancy, probe init by LP */
    MOVL_METHOD_LP_THEN_VP, /* stage 1: LP (lp_epochs); stage 2: prompt through the frozen probe (epochs) */
    MOVL_METHOD_VP_THEN_LP, /* stage 1: VP with a label map (epochs); stage 2: LP on prompted features (lp_epochs) */
    MOVL_METHOD_FF,         /* full fine-tuning: every backbone weight + the probe (epochs), BN statistics frozen */
    MOVL_METHOD_ZEROSHOT,   /* nothing trained: evaluate CLIP's text head as it is */
} movl_method;

typedef enum movl_data_format { MOVL_DATA_AUTO, MOVL_DATA_NPZ, MOVL_DATA_FOLDER, MOVL_DATA_CSV } movl_data_format;
typedef enum movl_head_type {
    MOVL_HEAD_LINEAR,
    MOVL_HEAD_RLM,
    MOVL_HEAD_FLM,
    MOVL_HEAD_ILM,
    MOVL_HEAD_FULLY,
    MOVL_HEAD_CLIP_TEXT, /* a fixed map: cosine of the image embedding with CLIP text embeddings of the class names */
} movl_head_type;
typedef enum movl_head_init { MOVL_HEAD_INIT_LP, MOVL_HEAD_INIT_ZERO, MOVL_HEAD_INIT_RANDOM } movl_head_init;
typedef enum movl_schedule { MOVL_SCHED_COSINE, MOVL_SCHED_MULTISTEP, MOVL_SCHED_CONSTANT } movl_schedule;
typedef enum movl_metric { MOVL_METRIC_ACC, MOVL_METRIC_AUC } movl_metric;
typedef enum movl_sweep_mode { MOVL_SWEEP_GRID, MOVL_SWEEP_ZIP } movl_sweep_mode;

typedef struct movl_int_list {
    int n;
    int v[MOVL_CFG_LIST_MAX];
} movl_int_list;

/* One parameter group's optimiser ([train] prompt_* or head_* keys); Adam's
 * betas and eps are optim.h's defaults (movl_opt_defaults). */
typedef struct movl_group_config {
    movl_opt_kind optimizer;
    double lr;
    double momentum; /* SGD only */
    int nesterov;    /* SGD only, needs momentum > 0 */
    double weight_decay;
} movl_group_config;

/* Fields are grouped by INI section; [s] k lives in exp.s.k unless noted. */
typedef struct movl_experiment {
    struct {
        char name[MOVL_CFG_NAMELEN];       /* default: the INI file name without folder and .ini */
        int seed;                          /* >= 0; seeds shuffling, init, RLM, random_patch */
        char output_dir[MOVL_CFG_PATHLEN]; /* runs go to output_dir/name... (default "runs") */
    } experiment;
    struct {
        char select[MOVL_CFG_NAMELEN]; /* device selector (device.h syntax); "" = default device */
    } device;
    struct {
        char arch[MOVL_CFG_NAMELEN];     /* resnet18 .. efficientnet_lite4 (movl_encoder_archs) */
        char weights[MOVL_CFG_PATHLEN];  /* safetensors file */
        int size;                        /* input size S; 0 in the INI = movl_encoder_default_size(arch) */
    } encoder;
    struct {
        char path[MOVL_CFG_PATHLEN];
        movl_data_format format; /* never AUTO after loading: .npz, .csv or a folder */
        int num_classes;         /* 0 = infer from the data */
        double val_fraction;     /* share of each class for val, for sources without splits (folder, csv) */
        double test_fraction;    /* share of each class for test, likewise; val + test < 1 */
        int max_train;           /* 0 = all; else a class-stratified subsample of this size */
        int max_eval;            /* 0 = all; cap on the val and test splits */
        char window[MOVL_CFG_NAMELEN]; /* DICOM VOI window: file, minmax or CENTER,WIDTH (imgio/image_read.h) */
        int dicom_frames;        /* 0: first frame of multi-frame DICOM files, 1: every frame */
        movl_modality modality;  /* for the shift suite's defaults; AUTO stays AUTO (movl_modality_resolve
                                    reads it from path's file name where needed) */
    } data;
    struct {
        movl_prompt_type type;
        int size; /* padding width p, patch side p, or shrink_pad border p (inner s = S - 2p) */
        movl_prompt_init init;
        double init_std; /* for init normal */
        int sigmoid;     /* prompt values through a sigmoid */
    } prompt;
    struct {
        movl_head_type type; /* default: flm for vp and vp_then_lp, linear otherwise */
        movl_head_init init; /* default: lp for movl, zero otherwise */
        /* clip_text: the prompt of class c is template with "{}" replaced by class c's name */
        char template_text[MOVL_SWEEP_VALUELEN];
        char classes[MOVL_CFG_PATHLEN]; /* comma-separated names; "" = the dataset's (class folders, CSV) */
        char vocab[MOVL_CFG_PATHLEN];   /* CLIP's BPE merges (default: the file shipped in data/clip/) */
    } head;
    struct {
        movl_disc_kind discrepancy; /* default: feature_mse for movl, none otherwise */
        double lambda;
        double temperature; /* for kl */
    } loss;
    struct {
        movl_method method;
        int epochs;     /* epochs of prompt training (the VP or joint stage) */
        int batch_size; /* training batch */
        int lp_epochs;  /* epochs of probe training on cached features (lp, init lp, LP stages) */
        movl_schedule schedule;
        int warmup_steps;
        movl_int_list milestones; /* epochs (of the stage) where multistep multiplies lr by gamma */
        double gamma;
        movl_group_config prompt; /* [train] prompt_optimizer, prompt_lr, prompt_momentum, ... */
        movl_group_config head;   /* [train] head_optimizer, head_lr, ... (probe, or the fully map) */
        movl_group_config backbone; /* [train] backbone_optimizer, backbone_lr, ... (method ff) */
    } train;
    struct {
        movl_metric select_metric; /* model selection on the validation split */
        int batch_size;
        char shift[MOVL_SWEEP_VALUELEN]; /* corruptions for the shift suite at the end: "", "all" or NAME[:S],... */
    } eval;
    struct {
        int save_prompt_png;
        int checkpoint_every; /* steps; 0 = at the end of every epoch only */
    } output;
    /* [sweep], stored raw for the sweep expander: each key is "section.key"
     * (checked against the schema), values its comma-separated list (each
     * element checked). A sweep point is loaded as the same INI plus
     * "-s section.key=value" overrides, so every rule is checked per point. */
    struct {
        movl_sweep_mode mode; /* grid (all combinations) or zip (i-th values together) */
        int n;
        struct {
            char key[MOVL_CFG_NAMELEN];
            char values[MOVL_SWEEP_VALUELEN];
        } entries[MOVL_SWEEP_MAX];
    } sweep;
} movl_experiment;

/* movl_experiment_load flags */
enum {
    /* Skip the existence checks of [encoder] weights and [data] path (tests,
     * `movl check` of a config on a machine without the data). */
    MOVL_EXP_NO_FILE_CHECKS = 1u << 0,
};

/* Reads the INI at path, applies the overrides ("section.key=value", as given
 * to -s; n_overrides may be 0 with overrides NULL) and validates everything.
 * On success *out holds the resolved experiment (it is zeroed first, so two
 * loads of equal configs compare equal with memcmp). On bad input returns
 * MOVL_ERR_INPUT with one line in err; *out is then unspecified.
 * Not thread-safe (iniparser's error callback is global). */
int movl_experiment_load(const char *path, const char *const *overrides, int n_overrides, unsigned flags,
                         movl_experiment *out, char *err);

/* Writes the resolved config (every key of the schema with its effective
 * value, section by section, plus [sweep] if it has entries) as INI text to
 * path, through a temporary file and rename, so path is either the old file or
 * the complete new one. comment (may be NULL) is written first as "# " lines.
 * Loading the written file gives a struct equal to exp. */
int movl_experiment_write(const movl_experiment *exp, const char *path, const char *comment, char *err);
/* The same INI text to an open stream (e.g. stdout for `movl check`). */
int movl_experiment_print(const movl_experiment *exp, FILE *f, char *err);

/* Names of enum values, for logs and reports ("movl", "feature_mse", ...). */
const char *movl_method_name(movl_method m);
const char *movl_experiment_enum_name(const char *section, const char *key, int value);

/* Derived facts the trainer needs, from the method table (docs/METHOD.md). */
int movl_method_uses_prompt(movl_method m);   /* all but lp, ff and zeroshot */
int movl_method_uses_probe(movl_method m);    /* a linear probe on pooled features: all but vp and zeroshot */
int movl_method_uses_label_map(movl_method m); /* head.type is a label map: vp, vp_then_lp, zeroshot */
int movl_method_trains_backbone(movl_method m); /* ff */

/* [head] classes as names: split at commas, each trimmed of spaces and tabs (may be empty: the rules refuse
 * that). malloc'd, *count names; NULL when out of memory. */
char **movl_head_class_names(const char *list, int *count);
void movl_names_free(char **names, int n);

#endif
