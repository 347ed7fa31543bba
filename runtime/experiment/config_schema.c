/* The experiment schema table and the per-value parsing, range checks and
 * formatting that the loader, the resolved-config writer and the sweep
 * expander share (see config_schema.h). Adding a key = one table row plus a
 * field in movl_experiment; the rules between keys live in experiment_rules.c. */
#include "experiment/config_schema.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/common.h"
#include "kinds/encoder_archs.h"
#include "kinds/shift_kinds.h"
#include "experiment/experiment.h"
#include "experiment/experiment_internal.h"

#define INF INFINITY
#define IMAX ((double)INT_MAX)
/* Offset and size of a movl_experiment field, for a table row. */
#define FIELD(f) .offset = offsetof(movl_experiment, f), .size = sizeof(((movl_experiment *)0)->f)

static const char *const FORMATS[] = {"auto", "npz", "folder", "csv", NULL};
static const char *const DICOM_FRAMES[] = {"first", "all", NULL};
static const char *const PROMPT_TYPES[] = {"padding", "shrink_pad", "patch", "random_patch", "full", NULL};
static const char *const PROMPT_INITS[] = {"zero", "normal", NULL};
static const char *const HEAD_TYPES[] = {"linear", "rlm", "flm", "ilm", "fully", "clip_text", NULL};
static const char *const HEAD_INITS[] = {"lp", "zero", "random", NULL};
/* Same order as discrepancy.h's movl_disc_kind (the struct stores the index). */
static const char *const DISCREPANCIES[] = {"none", "feature_mse", "cosine", "kl", "plain_ce", "pixel", NULL};
static const char *const METHODS[] = {"lp", "vp", "vp_lp", "movl", "lp_then_vp", "vp_then_lp", "ff", "zeroshot", NULL};
static const char *const SCHEDULES[] = {"cosine", "multistep", "constant", NULL};
static const char *const OPTIMIZERS[] = {"sgd", "adam", NULL};
static const char *const METRICS[] = {"acc", "auc", NULL};
static const char *const SWEEP_MODES[] = {"grid", "zip", NULL};

/* Enum fields are stored as int (movl_cfg_store): the enums must be int-sized. */
_Static_assert(sizeof(movl_method) == sizeof(int) && sizeof(movl_prompt_type) == sizeof(int) &&
                   sizeof(movl_disc_kind) == sizeof(int) && sizeof(movl_opt_kind) == sizeof(int) &&
                   sizeof(movl_head_type) == sizeof(int) && sizeof(movl_modality) == sizeof(int),
               "enum fields must be int-sized");
_Static_assert(MOVL_DISC_NONE == 0 && MOVL_DISC_FEATURE_MSE == 1 && MOVL_DISC_PIXEL == 5, "DISCREPANCIES order");
_Static_assert(MOVL_PROMPT_PADDING == 0 && MOVL_PROMPT_FULL == 4 && MOVL_PROMPT_INIT_NORMAL == 1, "prompt order");
_Static_assert(MOVL_OPT_SGD == 0 && MOVL_OPT_ADAM == 1, "OPTIMIZERS order");

const char *const movl_cfg_sections[] = {"experiment", "device", "encoder", "data", "prompt", "head",
                                         "loss",       "train",  "eval",    "output", "sweep", NULL};

/* The table, in the order the resolved config is written. */
static const movl_cfg_spec TABLE[] = {
    {.section = "experiment", .key = "name", .type = MOVL_CFG_STRING, .def = "",
     .help = "run name; empty = the INI file name without folder and .ini", FIELD(experiment.name)},
    {.section = "experiment", .key = "seed", .type = MOVL_CFG_INT, .def = "0", .min = 0, .max = IMAX,
     .help = "seed of shuffling, subsampling, initialisation, RLM and random_patch", FIELD(experiment.seed)},
    {.section = "experiment", .key = "output_dir", .type = MOVL_CFG_PATH, .def = "runs",
     .help = "folder that receives the run directories", FIELD(experiment.output_dir)},

    {.section = "device", .key = "select", .type = MOVL_CFG_STRING, .def = "",
     .help = "device selector (P:D, index, cpu, gpu or a name substring); empty = first GPU, else CPU",
     FIELD(device.select)},

    {.section = "encoder", .key = "arch", .type = MOVL_CFG_ENUM, .flags = MOVL_CFG_REQUIRED | MOVL_CFG_ENUM_NAME,
     .values = movl_encoder_archs, .help = "frozen backbone", FIELD(encoder.arch)},
    {.section = "encoder", .key = "weights", .type = MOVL_CFG_PATH, .flags = MOVL_CFG_REQUIRED | MOVL_CFG_MUST_EXIST,
     .help = "safetensors file of the backbone (tools/fetch_weights.sh)", FIELD(encoder.weights)},
    {.section = "encoder", .key = "size", .type = MOVL_CFG_INT, .def = "0", .min = 32, .max = 1024,
     .flags = MOVL_CFG_ZERO_OK, .help = "input size S; 0 = the arch's own (224, lite1 240 .. lite4 300)",
     FIELD(encoder.size)},

    {.section = "data", .key = "path", .type = MOVL_CFG_PATH, .flags = MOVL_CFG_REQUIRED | MOVL_CFG_MUST_EXIST,
     .help = "dataset: MedMNIST .npz, folder of class folders, or .csv manifest (images: PNG, JPEG or DICOM)",
     FIELD(data.path)},
    {.section = "data", .key = "format", .type = MOVL_CFG_ENUM, .def = "auto", .values = FORMATS,
     .help = "auto: .npz -> npz, a folder -> folder, .csv -> csv", FIELD(data.format)},
    {.section = "data", .key = "num_classes", .type = MOVL_CFG_INT, .def = "0", .min = 2, .max = 65536,
     .flags = MOVL_CFG_ZERO_OK, .help = "number of classes; 0 = infer from the data", FIELD(data.num_classes)},
    {.section = "data", .key = "val_fraction", .type = MOVL_CFG_FLOAT, .def = "0.1", .min = 0, .max = 0.9,
     .help = "share of each class held out for validation, for sources without splits (folder, csv without a "
             "split column)",
     FIELD(data.val_fraction)},
    {.section = "data", .key = "test_fraction", .type = MOVL_CFG_FLOAT, .def = "0.2", .min = 0, .max = 0.9,
     .help = "share of each class held out for test, for sources without splits", FIELD(data.test_fraction)},
    {.section = "data", .key = "max_train", .type = MOVL_CFG_INT, .def = "0", .min = 0, .max = IMAX,
     .help = "0 = all; else a class-stratified subsample of this many training images", FIELD(data.max_train)},
    {.section = "data", .key = "max_eval", .type = MOVL_CFG_INT, .def = "0", .min = 0, .max = IMAX,
     .help = "0 = all; else at most this many val and test images (stratified)", FIELD(data.max_eval)},
    {.section = "data", .key = "window", .type = MOVL_CFG_STRING, .def = "file",
     .help = "DICOM grey levels to [0, 1] after rescale slope/intercept: file (the file's first Window Center/Width, "
             "min-max without one), minmax (each image's range), or CENTER,WIDTH (e.g. 40,400 for a CT soft-tissue "
             "window)",
     FIELD(data.window)},
    {.section = "data", .key = "dicom_frames", .type = MOVL_CFG_ENUM, .def = "first", .values = DICOM_FRAMES,
     .help = "multi-frame DICOM files: the first frame only, or every frame as its own sample (in its file's split)",
     FIELD(data.dicom_frames)},
    {.section = "data", .key = "modality", .type = MOVL_CFG_ENUM, .def = "auto", .values = movl_modality_names,
     .help = "imaging modality for the shift suite's default corruptions (xray, ultrasound, fundus); auto: from the "
             "data file name (pneumonia/chest, breast, retina)",
     FIELD(data.modality)},

    {.section = "prompt", .key = "type", .type = MOVL_CFG_ENUM, .def = "padding", .values = PROMPT_TYPES,
     .help = "visual prompt (ignored by method lp)", FIELD(prompt.type)},
    {.section = "prompt", .key = "size", .type = MOVL_CFG_INT, .def = "30", .min = 1, .max = 1024,
     .help = "padding width p, patch side p, or shrink_pad border p (inner size S - 2p); unused by full; patch and "
             "random_patch on ViT/CLIP encoders default to the patch size (one token)",
     FIELD(prompt.size)},
    {.section = "prompt", .key = "init", .type = MOVL_CFG_ENUM, .def = "zero", .values = PROMPT_INITS,
     .help = "zero: step 0 equals the plain image; normal: N(0, init_std)", FIELD(prompt.init)},
    {.section = "prompt", .key = "init_std", .type = MOVL_CFG_FLOAT, .def = "0.01", .min = 0, .max = INF,
     .flags = MOVL_CFG_MIN_OPEN, .help = "standard deviation of init normal", FIELD(prompt.init_std)},
    {.section = "prompt", .key = "sigmoid", .type = MOVL_CFG_BOOL, .def = "false",
     .help = "pass the prompt parameters through a sigmoid", FIELD(prompt.sigmoid)},

    {.section = "head", .key = "type", .type = MOVL_CFG_ENUM, .def = "linear",
     .method_def = "vp:flm vp_then_lp:flm zeroshot:clip_text", .values = HEAD_TYPES,
     .help = "linear probe on pooled features, or a label map on the 1000 source logits (rlm, flm, ilm, fully; "
             "vp and vp_then_lp only), or clip_text: CLIP's zero-shot text head (clip_* encoders; vp, vp_then_lp, "
             "zeroshot)",
     FIELD(head.type)},
    {.section = "head", .key = "init", .type = MOVL_CFG_ENUM, .def = "zero", .method_def = "movl:lp",
     .values = HEAD_INITS, .help = "probe init: lp (train it on cached plain features first; vp_lp, movl), zero, random",
     FIELD(head.init)},
    {.section = "head", .key = "template", .type = MOVL_CFG_STRING, .def = "This is a photo of a {}.",
     .help = "clip_text: the text of each class, with {} for its name (once)", FIELD(head.template_text)},
    {.section = "head", .key = "classes", .type = MOVL_CFG_STRING, .def = "",
     .help = "clip_text: class names in label order, comma-separated (default: the dataset's folder or CSV names)",
     FIELD(head.classes)},
    {.section = "head", .key = "vocab", .type = MOVL_CFG_PATH, .def = MOVL_SOURCE_DIR "/data/clip/bpe_simple_vocab_16e6.txt.gz",
     .help = "clip_text: CLIP's byte-level BPE merges (open_clip's bpe_simple_vocab_16e6.txt.gz)", FIELD(head.vocab)},

    {.section = "loss", .key = "discrepancy", .type = MOVL_CFG_ENUM, .def = "none", .method_def = "movl:feature_mse",
     .values = DISCREPANCIES, .help = "MoVL's second loss term (movl only)", FIELD(loss.discrepancy)},
    {.section = "loss", .key = "lambda", .type = MOVL_CFG_FLOAT, .def = "0.1", .min = 0, .max = INF,
     .help = "weight of the discrepancy term", FIELD(loss.lambda)},
    {.section = "loss", .key = "temperature", .type = MOVL_CFG_FLOAT, .def = "1", .min = 0, .max = INF,
     .flags = MOVL_CFG_MIN_OPEN, .help = "softmax temperature of discrepancy kl", FIELD(loss.temperature)},

    {.section = "train", .key = "method", .type = MOVL_CFG_ENUM, .flags = MOVL_CFG_REQUIRED, .values = METHODS,
     .help = "what is trained (docs/METHOD.md)", FIELD(train.method)},
    {.section = "train", .key = "epochs", .type = MOVL_CFG_INT, .def = "10", .min = 1, .max = 1000000,
     .help = "epochs of prompt training (the VP or joint stage)", FIELD(train.epochs)},
    {.section = "train", .key = "batch_size", .type = MOVL_CFG_INT, .def = "32", .min = 1, .max = 4096,
     .help = "training batch size", FIELD(train.batch_size)},
    {.section = "train", .key = "lp_epochs", .type = MOVL_CFG_INT, .def = "30", .min = 1, .max = 1000000,
     .help = "epochs of probe training on cached features (method lp, init lp, LP stages)", FIELD(train.lp_epochs)},
    {.section = "train", .key = "schedule", .type = MOVL_CFG_ENUM, .def = "cosine", .values = SCHEDULES,
     .help = "learning-rate schedule after warm-up, over each stage", FIELD(train.schedule)},
    {.section = "train", .key = "warmup_steps", .type = MOVL_CFG_INT, .def = "0", .min = 0, .max = IMAX,
     .help = "steps of linear warm-up from 0", FIELD(train.warmup_steps)},
    {.section = "train", .key = "milestones", .type = MOVL_CFG_INT_LIST, .def = "", .min = 1, .max = 1000000,
     .flags = MOVL_CFG_INCREASING, .help = "multistep: epochs at which lr is multiplied by gamma",
     FIELD(train.milestones)},
    {.section = "train", .key = "gamma", .type = MOVL_CFG_FLOAT, .def = "0.1", .min = 0, .max = 1,
     .flags = MOVL_CFG_MIN_OPEN, .help = "multistep factor", FIELD(train.gamma)},
    {.section = "train", .key = "prompt_optimizer", .type = MOVL_CFG_ENUM, .def = "sgd", .values = OPTIMIZERS,
     .help = "optimiser of the prompt", FIELD(train.prompt.optimizer)},
    {.section = "train", .key = "prompt_lr", .type = MOVL_CFG_FLOAT, .def = "40", .min = 0, .max = INF,
     .flags = MOVL_CFG_MIN_OPEN, .help = "prompt learning rate (40 with sgd: Bahng et al.; ~0.01 with adam)",
     FIELD(train.prompt.lr)},
    {.section = "train", .key = "prompt_momentum", .type = MOVL_CFG_FLOAT, .def = "0.9", .min = 0, .max = 1,
     .flags = MOVL_CFG_MAX_OPEN, .help = "sgd momentum", FIELD(train.prompt.momentum)},
    {.section = "train", .key = "prompt_nesterov", .type = MOVL_CFG_BOOL, .def = "false",
     .help = "sgd with Nesterov momentum", FIELD(train.prompt.nesterov)},
    {.section = "train", .key = "prompt_weight_decay", .type = MOVL_CFG_FLOAT, .def = "0", .min = 0, .max = INF,
     .help = "L2 weight decay", FIELD(train.prompt.weight_decay)},
    {.section = "train", .key = "head_optimizer", .type = MOVL_CFG_ENUM, .def = "adam", .values = OPTIMIZERS,
     .help = "optimiser of the probe (or the fully label map)", FIELD(train.head.optimizer)},
    {.section = "train", .key = "head_lr", .type = MOVL_CFG_FLOAT, .def = "0.001", .min = 0, .max = INF,
     .flags = MOVL_CFG_MIN_OPEN, .help = "probe learning rate", FIELD(train.head.lr)},
    {.section = "train", .key = "head_momentum", .type = MOVL_CFG_FLOAT, .def = "0.9", .min = 0, .max = 1,
     .flags = MOVL_CFG_MAX_OPEN, .help = "sgd momentum", FIELD(train.head.momentum)},
    {.section = "train", .key = "head_nesterov", .type = MOVL_CFG_BOOL, .def = "false",
     .help = "sgd with Nesterov momentum", FIELD(train.head.nesterov)},
    {.section = "train", .key = "head_weight_decay", .type = MOVL_CFG_FLOAT, .def = "0", .min = 0, .max = INF,
     .help = "L2 weight decay", FIELD(train.head.weight_decay)},
    {.section = "train", .key = "backbone_optimizer", .type = MOVL_CFG_ENUM, .def = "adam", .values = OPTIMIZERS,
     .help = "optimiser of the backbone weights (method ff)", FIELD(train.backbone.optimizer)},
    {.section = "train", .key = "backbone_lr", .type = MOVL_CFG_FLOAT, .def = "0.0001", .min = 0, .max = INF,
     .flags = MOVL_CFG_MIN_OPEN, .help = "backbone learning rate (method ff)", FIELD(train.backbone.lr)},
    {.section = "train", .key = "backbone_momentum", .type = MOVL_CFG_FLOAT, .def = "0.9", .min = 0, .max = 1,
     .flags = MOVL_CFG_MAX_OPEN, .help = "sgd momentum", FIELD(train.backbone.momentum)},
    {.section = "train", .key = "backbone_nesterov", .type = MOVL_CFG_BOOL, .def = "false",
     .help = "sgd with Nesterov momentum", FIELD(train.backbone.nesterov)},
    {.section = "train", .key = "backbone_weight_decay", .type = MOVL_CFG_FLOAT, .def = "0.0005", .min = 0, .max = INF,
     .help = "L2 weight decay of the backbone (method ff)", FIELD(train.backbone.weight_decay)},

    {.section = "eval", .key = "select_metric", .type = MOVL_CFG_ENUM, .def = "auc", .values = METRICS,
     .help = "metric for model selection on the validation split", FIELD(eval.select_metric)},
    {.section = "eval", .key = "batch_size", .type = MOVL_CFG_INT, .def = "64", .min = 1, .max = 4096,
     .help = "evaluation batch size", FIELD(eval.batch_size)},
    {.section = "eval", .key = "shift", .type = MOVL_CFG_STRING, .def = "",
     .help = "shift suite on the test split at the end: empty = none, all, or NAME[:SEVERITY],...", FIELD(eval.shift)},

    {.section = "output", .key = "save_prompt_png", .type = MOVL_CFG_BOOL, .def = "true",
     .help = "write the learned prompt as PNGs (prompt.png, prompt_applied.png)", FIELD(output.save_prompt_png)},
    {.section = "output", .key = "checkpoint_every", .type = MOVL_CFG_INT, .def = "0", .min = 0, .max = IMAX,
     .help = "checkpoint every this many steps; 0 = at the end of every epoch only", FIELD(output.checkpoint_every)},

    {.section = "sweep", .key = "mode", .type = MOVL_CFG_ENUM, .def = "grid", .values = SWEEP_MODES,
     .help = "grid: every combination; zip: i-th values together (other keys: section.key = v1, v2, ...)",
     FIELD(sweep.mode)},
};

#define TABLE_N ((int)(sizeof TABLE / sizeof TABLE[0]))

const movl_cfg_spec *movl_cfg_table(int *count)
{
    if (count)
        *count = TABLE_N;
    return TABLE;
}

const movl_cfg_spec *movl_cfg_find(const char *section, const char *key)
{
    for (int i = 0; i < TABLE_N; i++)
        if (!strcasecmp(TABLE[i].section, section) && !strcasecmp(TABLE[i].key, key))
            return &TABLE[i];
    return NULL;
}

int movl_cfg_index(const movl_cfg_spec *spec) { return (int)(spec - TABLE); }

int movl_cfg_section_known(const char *section)
{
    for (int i = 0; movl_cfg_sections[i]; i++)
        if (!strcasecmp(movl_cfg_sections[i], section))
            return 1;
    return 0;
}

int movl_cfg_edit_distance(const char *a, const char *b)
{
    /* Two rows of the classic dynamic programme; names are short. */
    size_t la = strlen(a), lb = strlen(b);
    if (la > 127 || lb > 127)
        return INT_MAX;
    int prev[128], cur[128];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int subst = prev[j - 1] + (tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]));
            int del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = subst < del ? (subst < ins ? subst : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, cur, sizeof(int) * (lb + 1));
    }
    return prev[lb];
}

/* Running best candidate for a suggestion. */
typedef struct suggestion {
    const char *typed, *best;
    int best_d;
} suggestion;

static void consider(suggestion *s, const char *name)
{
    size_t lt = strlen(s->typed);
    int d = movl_cfg_edit_distance(s->typed, name);
    /* Within 2 edits (but not a rewrite of a 1-2 letter word), or a prefix of at least 3 letters. */
    int close = (d <= 2 && (size_t)d < lt) || (lt >= 3 && !strncasecmp(s->typed, name, lt));
    if (close && d < s->best_d) {
        s->best = name;
        s->best_d = d;
    }
}

const char *movl_cfg_suggest_section(const char *section)
{
    suggestion s = {section, NULL, INT_MAX};
    for (int i = 0; movl_cfg_sections[i]; i++)
        consider(&s, movl_cfg_sections[i]);
    return s.best;
}

const char *movl_cfg_suggest_key(const char *section, const char *key)
{
    suggestion s = {key, NULL, INT_MAX};
    for (int i = 0; i < TABLE_N; i++)
        if (!strcasecmp(TABLE[i].section, section))
            consider(&s, TABLE[i].key);
    return s.best;
}

const char *movl_cfg_section_of_key(const char *section, const char *key)
{
    for (int i = 0; i < TABLE_N; i++)
        if (strcasecmp(TABLE[i].section, section) && !strcasecmp(TABLE[i].key, key))
            return TABLE[i].section;
    return NULL;
}

const char *movl_cfg_suggest_value(const movl_cfg_spec *spec, const char *text)
{
    if (spec->type != MOVL_CFG_ENUM || !text[0])
        return NULL;
    suggestion s = {text, NULL, INT_MAX};
    for (int i = 0; spec->values[i]; i++)
        consider(&s, spec->values[i]);
    return s.best;
}

/* A bound as text: integers without a fraction, others in %g. */
static int bound_text(double x, char *buf, size_t len)
{
    if (x == floor(x) && fabs(x) < 1e15)
        return snprintf(buf, len, "%.0f", x);
    return snprintf(buf, len, "%g", x);
}

void movl_cfg_range_text(const movl_cfg_spec *spec, char *buf, size_t len)
{
    char lo[32], hi[32];
    bound_text(spec->min, lo, sizeof lo);
    bound_text(spec->max, hi, sizeof hi);
    const char *zero = (spec->flags & MOVL_CFG_ZERO_OK) ? "0 or " : "";
    int open_lo = (spec->flags & MOVL_CFG_MIN_OPEN) != 0, open_hi = (spec->flags & MOVL_CFG_MAX_OPEN) != 0;
    /* INT_MAX as an upper bound is "no bound" to a user. */
    int no_max = isinf(spec->max) || spec->max >= IMAX;
    if (no_max)
        snprintf(buf, len, "%s%s %s", zero, open_lo ? ">" : ">=", lo);
    else if (!open_lo && !open_hi)
        snprintf(buf, len, "%s%s to %s", zero, lo, hi);
    else
        snprintf(buf, len, "%s%s %s and %s %s", zero, open_lo ? ">" : ">=", lo, open_hi ? "<" : "<=", hi);
}

static int in_range(const movl_cfg_spec *spec, double x)
{
    if ((spec->flags & MOVL_CFG_ZERO_OK) && x == 0)
        return 1;
    if ((spec->flags & MOVL_CFG_MIN_OPEN) ? !(x > spec->min) : !(x >= spec->min))
        return 0;
    if ((spec->flags & MOVL_CFG_MAX_OPEN) ? !(x < spec->max) : !(x <= spec->max))
        return 0;
    return 1;
}

static int all_space(const char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    return *s == 0;
}

/* Whole-text integer (surrounding spaces allowed); 0 if not an integer. */
static int parse_ll(const char *s, long long *out)
{
    if (all_space(s))
        return 0;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || !all_space(end))
        return 0;
    *out = v;
    return 1;
}

static int parse_int_list(const movl_cfg_spec *spec, const char *text, movl_cfg_value *out, char *why, size_t wl)
{
    out->n = 0;
    if (all_space(text))
        return MOVL_OK;
    const char *p = text;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        char item[64];
        if (n >= sizeof item) {
            snprintf(why, wl, "has an element that is too long");
            return MOVL_ERR_INPUT;
        }
        memcpy(item, p, n);
        item[n] = 0;
        long long v;
        if (all_space(item)) {
            snprintf(why, wl, "has an empty element (expected comma-separated integers)");
            return MOVL_ERR_INPUT;
        }
        if (!parse_ll(item, &v)) {
            snprintf(why, wl, "has an element that is not an integer (expected comma-separated integers)");
            return MOVL_ERR_INPUT;
        }
        if (!in_range(spec, (double)v)) {
            char r[64];
            movl_cfg_range_text(spec, r, sizeof r);
            snprintf(why, wl, "has an element %lld out of range (expected %s)", v, r);
            return MOVL_ERR_INPUT;
        }
        if (out->n == MOVL_CFG_LIST_MAX) {
            snprintf(why, wl, "has more than %d elements", MOVL_CFG_LIST_MAX);
            return MOVL_ERR_INPUT;
        }
        if ((spec->flags & MOVL_CFG_INCREASING) && out->n > 0 && v <= out->list[out->n - 1]) {
            snprintf(why, wl, "is not strictly increasing");
            return MOVL_ERR_INPUT;
        }
        out->list[out->n++] = (int)v;
        if (!comma)
            return MOVL_OK;
        p = comma + 1;
    }
}

static int parse_bool(const char *s, long long *out)
{
    static const char *const yes[] = {"true", "yes", "on", "1"}, *const no[] = {"false", "no", "off", "0"};
    for (int i = 0; i < 4; i++) {
        if (!strcasecmp(s, yes[i])) {
            *out = 1;
            return 1;
        }
        if (!strcasecmp(s, no[i])) {
            *out = 0;
            return 1;
        }
    }
    return 0;
}

int movl_cfg_parse_value(const movl_cfg_spec *spec, const char *text, movl_cfg_value *out, char *why,
                         size_t why_len)
{
    memset(out, 0, sizeof *out);
    char r[64];
    switch (spec->type) {
    case MOVL_CFG_STRING:
    case MOVL_CFG_PATH:
        if (spec->type == MOVL_CFG_PATH && !text[0]) {
            snprintf(why, why_len, "is empty (expected a path)");
            return MOVL_ERR_INPUT;
        }
        if (strlen(text) >= spec->size) {
            snprintf(why, why_len, "is too long (at most %zu characters)", spec->size - 1);
            return MOVL_ERR_INPUT;
        }
        out->s = text;
        return MOVL_OK;
    case MOVL_CFG_INT:
        if (!parse_ll(text, &out->i)) {
            snprintf(why, why_len, "is not an integer");
            return MOVL_ERR_INPUT;
        }
        if (!in_range(spec, (double)out->i)) {
            movl_cfg_range_text(spec, r, sizeof r);
            snprintf(why, why_len, "is out of range (expected %s)", r);
            return MOVL_ERR_INPUT;
        }
        return MOVL_OK;
    case MOVL_CFG_FLOAT: {
        char *end;
        errno = 0;
        out->f = all_space(text) ? NAN : strtod(text, &end);
        if (isnan(out->f) || !all_space(end)) {
            snprintf(why, why_len, "is not a number");
            return MOVL_ERR_INPUT;
        }
        if (!isfinite(out->f)) {
            snprintf(why, why_len, "is not a finite number");
            return MOVL_ERR_INPUT;
        }
        if (!in_range(spec, out->f)) {
            movl_cfg_range_text(spec, r, sizeof r);
            snprintf(why, why_len, "is out of range (expected %s)", r);
            return MOVL_ERR_INPUT;
        }
        return MOVL_OK;
    }
    case MOVL_CFG_BOOL:
        if (!parse_bool(text, &out->i)) {
            snprintf(why, why_len, "is not a boolean (expected true or false)");
            return MOVL_ERR_INPUT;
        }
        return MOVL_OK;
    case MOVL_CFG_ENUM: {
        for (int i = 0; spec->values[i]; i++)
            if (!strcasecmp(text, spec->values[i])) {
                out->i = i;
                out->s = spec->values[i];
                return MOVL_OK;
            }
        size_t n = (size_t)snprintf(why, why_len, "is not one of: ");
        for (int i = 0; spec->values[i] && n < why_len; i++)
            n += (size_t)snprintf(why + n, why_len - n, "%s%s", i ? ", " : "", spec->values[i]);
        const char *guess = movl_cfg_suggest_value(spec, text);
        if (guess && n < why_len)
            snprintf(why + n, why_len - n, " (did you mean '%s'?)", guess);
        return MOVL_ERR_INPUT;
    }
    case MOVL_CFG_INT_LIST:
        return parse_int_list(spec, text, out, why, why_len);
    }
    snprintf(why, why_len, "has an unknown type");
    return MOVL_ERR_INPUT;
}

/* Shortest %g form that reads back as exactly x. */
static int format_double(double x, char *buf, size_t len)
{
    int n = 0;
    for (int prec = 1; prec <= 17; prec++) {
        n = snprintf(buf, len, "%.*g", prec, x);
        if (n < 0 || (size_t)n >= len)
            return -1;
        if (strtod(buf, NULL) == x)
            break;
    }
    return n;
}

int movl_cfg_format_value(const movl_cfg_spec *spec, const movl_cfg_value *v, char *buf, size_t len)
{
    int n = -1;
    switch (spec->type) {
    case MOVL_CFG_STRING:
    case MOVL_CFG_PATH: {
        const char *s = v->s ? v->s : "";
        size_t l = strlen(s);
        /* A newline or a final backslash (iniparser's line continuation) cannot be written. */
        if (strchr(s, '\n') || (l && s[l - 1] == '\\'))
            return -1;
        /* Quote when iniparser would otherwise strip or cut the value. */
        int needs = l == 0 || strpbrk(s, ";#\"'") || isspace((unsigned char)s[0]) ||
                    isspace((unsigned char)s[l - 1]);
        if (!needs)
            n = snprintf(buf, len, "%s", s);
        else if (!strchr(s, '"'))
            n = snprintf(buf, len, "\"%s\"", s);
        else if (!strchr(s, '\''))
            n = snprintf(buf, len, "'%s'", s);
        else
            return -1; /* both quote characters: not representable in iniparser's syntax */
        break;
    }
    case MOVL_CFG_INT:
        n = snprintf(buf, len, "%lld", v->i);
        break;
    case MOVL_CFG_FLOAT:
        return format_double(v->f, buf, len);
    case MOVL_CFG_BOOL:
        n = snprintf(buf, len, "%s", v->i ? "true" : "false");
        break;
    case MOVL_CFG_ENUM:
        n = snprintf(buf, len, "%s", spec->values[v->i]);
        break;
    case MOVL_CFG_INT_LIST: {
        size_t used = 0;
        if (len)
            buf[0] = 0;
        for (int i = 0; i < v->n; i++) {
            int k = snprintf(buf + used, len - used, "%s%d", i ? ", " : "", v->list[i]);
            if (k < 0 || (size_t)k >= len - used)
                return -1;
            used += (size_t)k;
        }
        return (int)used;
    }
    }
    return (n < 0 || (size_t)n >= len) ? -1 : n;
}

/* ---- storing into and reading from movl_experiment (experiment_priv.h) ---- */

void movl_cfg_store(const movl_cfg_spec *spec, const movl_cfg_value *v, movl_experiment *exp)
{
    char *field = (char *)exp + spec->offset;
    switch (spec->type) {
    case MOVL_CFG_STRING:
    case MOVL_CFG_PATH:
        snprintf(field, spec->size, "%s", v->s ? v->s : "");
        break;
    case MOVL_CFG_ENUM:
        if (spec->flags & MOVL_CFG_ENUM_NAME)
            snprintf(field, spec->size, "%s", spec->values[v->i]);
        else
            *(int *)field = (int)v->i;
        break;
    case MOVL_CFG_INT:
    case MOVL_CFG_BOOL:
        *(int *)field = (int)v->i;
        break;
    case MOVL_CFG_FLOAT:
        *(double *)field = v->f;
        break;
    case MOVL_CFG_INT_LIST: {
        movl_int_list *l = (movl_int_list *)field;
        l->n = v->n;
        memcpy(l->v, v->list, sizeof l->v);
        break;
    }
    }
}

void movl_cfg_fetch(const movl_cfg_spec *spec, const movl_experiment *exp, movl_cfg_value *v)
{
    const char *field = (const char *)exp + spec->offset;
    memset(v, 0, sizeof *v);
    switch (spec->type) {
    case MOVL_CFG_STRING:
    case MOVL_CFG_PATH:
        v->s = field;
        break;
    case MOVL_CFG_ENUM:
        if (spec->flags & MOVL_CFG_ENUM_NAME) {
            for (int i = 0; spec->values[i]; i++)
                if (!strcmp(spec->values[i], field))
                    v->i = i;
        } else {
            v->i = *(const int *)field;
        }
        v->s = spec->values[v->i];
        break;
    case MOVL_CFG_INT:
    case MOVL_CFG_BOOL:
        v->i = *(const int *)field;
        break;
    case MOVL_CFG_FLOAT:
        v->f = *(const double *)field;
        break;
    case MOVL_CFG_INT_LIST: {
        const movl_int_list *l = (const movl_int_list *)field;
        v->n = l->n;
        memcpy(v->list, l->v, sizeof v->list);
        break;
    }
    }
}

static const char *type_name(movl_cfg_type t)
{
    switch (t) {
    case MOVL_CFG_STRING: return "string";
    case MOVL_CFG_PATH: return "path";
    case MOVL_CFG_INT: return "integer";
    case MOVL_CFG_FLOAT: return "number";
    case MOVL_CFG_BOOL: return "true/false";
    case MOVL_CFG_ENUM: return "one of";
    case MOVL_CFG_INT_LIST: return "integer list";
    }
    return "?";
}

void movl_cfg_print_schema(FILE *f)
{
    const char *section = "";
    for (int i = 0; i < TABLE_N; i++) {
        const movl_cfg_spec *s = &TABLE[i];
        if (strcmp(s->section, section)) {
            fprintf(f, "%s[%s]\n", i ? "\n" : "", s->section);
            section = s->section;
        }
        fprintf(f, "# %s: %s", s->key, type_name(s->type));
        if (s->type == MOVL_CFG_ENUM)
            for (int k = 0; s->values[k]; k++)
                fprintf(f, "%s%s", k ? "|" : " ", s->values[k]);
        if (s->type == MOVL_CFG_INT || s->type == MOVL_CFG_FLOAT || s->type == MOVL_CFG_INT_LIST) {
            char r[64];
            movl_cfg_range_text(s, r, sizeof r);
            fprintf(f, ", %s", r);
        }
        if (s->flags & MOVL_CFG_REQUIRED)
            fprintf(f, ", required");
        else
            fprintf(f, ", default '%s'", s->def);
        if (s->method_def)
            fprintf(f, " (by method: %s)", s->method_def);
        if (s->flags & MOVL_CFG_MUST_EXIST)
            fprintf(f, ", must exist");
        fprintf(f, "\n#   %s\n", s->help);
    }
}
