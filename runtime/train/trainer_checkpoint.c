/* Snapshots of the trained parameters (model selection), the model file
 * and the resume checkpoint: one safetensors
 * file (MOVL_CHECKPOINT_FILE) with every tensor and, in its metadata, the
 * progress as JSON, written through a temporary name and renamed, so a kill
 * at any moment leaves either the previous checkpoint or the new one. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/common.h"
#include "core/file_io.h"
#include "train/trainer_internal.h"
#include "core/weights.h"

#define TR_TENSOR_NAME 128 /* "best.backbone.LAYER.weight" */

static float *download_new(trainer *t, cl_mem m, size_t n, char *err)
{
    float *h = malloc(sizeof(float) * (n ? n : 1));
    if (!h || movl_download(&t->dev, m, h, sizeof(float) * n, err)) {
        free(h);
        return NULL;
    }
    return h;
}

void tr_snapshot_free(snapshot *s)
{
    free(s->delta);
    free(s->W);
    free(s->b);
    free(s->fW);
    free(s->fb);
    free(s->backbone);
    s->delta = s->W = s->b = s->fW = s->fb = s->backbone = NULL;
    s->valid = 0;
}

int tr_snapshot_take(trainer *t, snapshot *s, char *err)
{
    tr_snapshot_free(s);
    if ((t->model.has_prompt && !(s->delta = download_new(t, t->model.prompt, t->model.prompt_len, err))) ||
        (t->model.has_probe &&
         (!(s->W = download_new(t, t->model.probe.W, (size_t)t->dims.classes * t->dims.feature_dim, err)) ||
          !(s->b = download_new(t, t->model.probe.b, (size_t)t->dims.classes, err)))) ||
        (t->model.map_fully &&
         (!(s->fW = download_new(t, t->model.fully.W, (size_t)t->dims.classes * t->dims.source_classes, err)) ||
          !(s->fb = download_new(t, t->model.fully.b, (size_t)t->dims.classes, err)))) ||
        (t->model.has_backbone && !(s->backbone = download_new(t, movl_encoder_params(t->enc),
                                                            movl_encoder_param_floats(t->enc), err)))) {
        tr_snapshot_free(s);
        return MOVL_ERR_RUN;
    }
    memcpy(s->map, t->model.label_map, sizeof s->map);
    s->valid = 1;
    return MOVL_OK;
}

int tr_snapshot_restore(trainer *t, const snapshot *s, char *err)
{
    if (!s->valid)
        return MOVL_OK;
    if ((s->delta && movl_upload(&t->dev, t->model.prompt, s->delta, sizeof(float) * t->model.prompt_len, err)) ||
        (s->W && movl_upload(&t->dev, t->model.probe.W, s->W,
                             sizeof(float) * (size_t)t->dims.classes * t->dims.feature_dim, err)) ||
        (s->b && movl_upload(&t->dev, t->model.probe.b, s->b, sizeof(float) * (size_t)t->dims.classes, err)) ||
        (s->fW && movl_upload(&t->dev, t->model.fully.W, s->fW,
                              sizeof(float) * (size_t)t->dims.classes * t->dims.source_classes, err)) ||
        (s->fb && movl_upload(&t->dev, t->model.fully.b, s->fb, sizeof(float) * (size_t)t->dims.classes, err)) ||
        (s->backbone && movl_encoder_params_upload(t->enc, s->backbone, err)))
        return MOVL_ERR_RUN;
    memcpy(t->model.label_map, s->map, sizeof t->model.label_map);
    if (t->model.has_map &&
        movl_upload(&t->dev, t->model.label_map_dev, t->model.label_map, sizeof(int) * (size_t)t->dims.classes, err))
        return MOVL_ERR_RUN;
    return MOVL_OK;
}

/* Tensors a snapshot can add: prompt, probe (2), fully map (2), map index, and the backbone's. */
static int snapshot_tensor_cap(const trainer *t) { return 6 + movl_encoder_tensor_count(t->enc); }

/* Tensor name buffers of the files written here. */
typedef char tensor_name[TR_TENSOR_NAME];

/* Appends the snapshot's tensors with a name prefix; map entries are stored as floats. */
static int add_snapshot(trainer *t, const snapshot *s, const char *prefix, movl_tensor_out *out, int n,
                        tensor_name *names, float *mapf)
{
#define ADD(nm, nd, s0, s1, ptr)                                                                                     \
    do {                                                                                                           \
        snprintf(names[n], sizeof names[n], "%s%s", prefix, nm);                                                   \
        out[n] = (movl_tensor_out){names[n], nd, {s0, s1}, ptr};                                                   \
        n++;                                                                                                       \
    } while (0)
    for (int i = 0; s->backbone && i < movl_encoder_tensor_count(t->enc); i++) {
        movl_encoder_tensor ti;
        movl_encoder_tensor_info(t->enc, i, &ti);
        snprintf(names[n], sizeof names[n], "%sbackbone.%s", prefix, ti.name);
        out[n] = (movl_tensor_out){names[n], ti.ndim, {0}, s->backbone + ti.offset};
        memcpy(out[n].shape, ti.shape, sizeof ti.shape);
        n++;
    }
    if (s->delta)
        ADD("prompt.delta", 1, (int64_t)t->model.prompt_len, 0, s->delta);
    if (s->W) {
        ADD("probe.weight", 2, t->dims.classes, t->dims.feature_dim, s->W);
        ADD("probe.bias", 1, t->dims.classes, 0, s->b);
    }
    if (s->fW) {
        ADD("map.fully.weight", 2, t->dims.classes, t->dims.source_classes, s->fW);
        ADD("map.fully.bias", 1, t->dims.classes, 0, s->fb);
    }
    if (t->model.has_map && !t->model.map_fully) {
        for (int i = 0; i < t->dims.classes; i++)
            mapf[i] = (float)s->map[i];
        ADD("map.index", 1, t->dims.classes, 0, mapf);
    }
#undef ADD
    return n;
}

/* Safetensors headers are UTF-8 JSON; a class folder's name is whatever
 * bytes the file system holds, so names that are not UTF-8 stay out. */
static int valid_utf8(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        int n = *p < 0x80 ? 0 : (*p & 0xE0) == 0xC0 ? 1 : (*p & 0xF0) == 0xE0 ? 2 : (*p & 0xF8) == 0xF0 ? 3 : -1;
        if (n < 0 || (n == 1 && *p < 0xC2) || (n == 3 && *p > 0xF4))
            return 0;
        unsigned cp = n ? *p & (0x3F >> n) : *p;
        for (int i = 1; i <= n; i++) {
            if ((p[i] & 0xC0) != 0x80)
                return 0;
            cp = cp << 6 | (p[i] & 0x3F);
        }
        /* overlong 3/4-byte forms, surrogates, beyond U+10FFFF */
        if ((n == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)))
            return 0;
        p += n + 1;
    }
    return 1;
}

int tr_save_model(trainer *t, const snapshot *s, const char *path, char *err)
{
    int cap = snapshot_tensor_cap(t);
    movl_tensor_out *out = malloc(sizeof *out * (size_t)cap);
    tensor_name *names = malloc(sizeof *names * (size_t)cap);
    float mapf[TR_MAP_MAX];
    if (!out || !names) {
        free(out);
        free(names);
        movl_set_error(err, "%s: out of host memory writing the model", path);
        return MOVL_ERR_RUN;
    }
    int n = add_snapshot(t, s, "", out, 0, names, mapf);
    /* Enough to use the model without its dataset (movl predict): the class
     * count and, when the dataset named them, the class names (a JSON array
     * in a string: safetensors metadata holds strings only). */
    cJSON *meta = cJSON_CreateObject();
    char num[32];
    cJSON_AddStringToObject(meta, "format", "movl-model-1");
    cJSON_AddStringToObject(meta, "arch", t->exp->encoder.arch);
    snprintf(num, sizeof num, "%d", t->dims.image_size);
    cJSON_AddStringToObject(meta, "size", num);
    snprintf(num, sizeof num, "%d", t->dims.classes);
    cJSON_AddStringToObject(meta, "classes", num);
    cJSON_AddStringToObject(meta, "method", movl_method_name(t->exp->train.method));
    if (s->backbone) /* what the backbone.* tensors are (docs/METHOD.md, full fine-tuning) */
        cJSON_AddStringToObject(meta, "backbone", "conv weights and biases with batch norm folded in");
    int names_ok = t->host.dataset.class_names != NULL;
    for (int k = 0; names_ok && k < t->dims.classes; k++)
        names_ok = valid_utf8(t->host.dataset.class_names[k]);
    if (names_ok) {
        cJSON *names = cJSON_CreateArray();
        for (int k = 0; k < t->dims.classes; k++)
            cJSON_AddItemToArray(names, cJSON_CreateString(t->host.dataset.class_names[k]));
        char *text = cJSON_PrintUnformatted(names);
        cJSON_Delete(names);
        if (text)
            cJSON_AddStringToObject(meta, "class_names", text);
        free(text);
    }
    char *mtext = cJSON_PrintUnformatted(meta);
    cJSON_Delete(meta);
    int rc = mtext ? movl_weights_write(path, out, (size_t)n, mtext, err) : MOVL_ERR_RUN;
    if (!mtext)
        movl_set_error(err, "%s: out of memory writing the model metadata", path);
    free(mtext);
    free(out);
    free(names);
    return rc;
}

static void run_path(const trainer *t, const char *file, char *out, size_t n)
{
    snprintf(out, n, "%s/%s", t->run_dir, file);
}

/* The counters and history that go with the tensors, as a JSON text. */
static char *progress_json(const trainer *t)
{
    cJSON *j = cJSON_CreateObject();
    char rng[32];
    snprintf(rng, sizeof rng, "%llu", (unsigned long long)t->progress.patch_rng);
    cJSON_AddNumberToObject(j, "stage_index", t->progress.stage);
    cJSON_AddNumberToObject(j, "epoch", t->progress.epoch);
    cJSON_AddNumberToObject(j, "step_in_epoch", t->progress.step_in_epoch);
    cJSON_AddNumberToObject(j, "global_step", (double)t->progress.global_step);
    cJSON_AddNumberToObject(j, "stage_step", (double)t->progress.stage_step);
    cJSON_AddNumberToObject(j, "loss_sum", t->progress.loss_sum);
    cJSON_AddNumberToObject(j, "loss_count", (double)t->progress.loss_count);
    cJSON_AddStringToObject(j, "patch_rng", rng);
    cJSON_AddNumberToObject(j, "best_score", t->best.score);
    cJSON_AddNumberToObject(j, "best_stage", t->best.stage);
    cJSON_AddNumberToObject(j, "best_epoch", t->best.epoch);
    cJSON_AddNumberToObject(j, "train_seconds", t->timing.train_seconds);
    cJSON_AddBoolToObject(j, "best_valid", t->best.params.valid);
    cJSON_AddStringToObject(j, "history", t->progress.history ? t->progress.history : "");
    cJSON_AddItemToObject(j, "time_split", tr_timing_json(t));
    char *text = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    if (!text)
        return NULL;
    /* safetensors metadata holds strings only: the progress goes in as one. */
    cJSON *meta = cJSON_CreateObject();
    cJSON_AddStringToObject(meta, "format", MOVL_CHECKPOINT_FORMAT);
    cJSON_AddStringToObject(meta, "progress", text);
    free(text);
    if (t->model.has_backbone) {
        /* Where each backbone tensor starts in the flat layout that "opt.backbone" follows (m, then v): the
         * offsets depend on the device's alignment, so a reader (the PyTorch twin) need not guess it. */
        cJSON *offs = cJSON_CreateObject();
        for (int i = 0; i < movl_encoder_tensor_count(t->enc); i++) {
            movl_encoder_tensor ti;
            movl_encoder_tensor_info(t->enc, i, &ti);
            cJSON_AddNumberToObject(offs, ti.name, (double)ti.offset);
        }
        text = cJSON_PrintUnformatted(offs);
        cJSON_Delete(offs);
        if (!text) {
            cJSON_Delete(meta);
            return NULL;
        }
        cJSON_AddStringToObject(meta, "backbone_offsets", text);
        free(text);
    }
    text = cJSON_PrintUnformatted(meta);
    cJSON_Delete(meta);
    return text;
}

/* The optimisers whose state a checkpoint holds, and the tensor names it goes under. */
#define TR_OPT_GROUPS 6
static const char *const opt_names[TR_OPT_GROUPS] = {"opt.prompt",       "opt.probe.weight", "opt.probe.bias",
                                                     "opt.fully.weight", "opt.fully.bias",   "opt.backbone"};
static void optimizer_table(trainer *t, movl_optimizer **opts)
{
    movl_optimizer *o[TR_OPT_GROUPS] = {&t->model.prompt_opt, &t->model.probe.optW, &t->model.probe.optb,
                                        &t->model.fully.optW, &t->model.fully.optb, &t->model.backbone_opt};
    memcpy(opts, o, sizeof o);
}

int tr_save_resume(trainer *t, char *err)
{
    snapshot cur = {0};
    int rc = tr_snapshot_take(t, &cur, err);
    if (rc)
        return rc;
    int cap = 2 * snapshot_tensor_cap(t) + TR_OPT_GROUPS;
    movl_tensor_out *out = malloc(sizeof *out * (size_t)cap);
    tensor_name *names = malloc(sizeof *names * (size_t)cap);
    float mapf[2][TR_MAP_MAX];
    if (!out || !names) {
        free(out);
        free(names);
        tr_snapshot_free(&cur);
        movl_set_error(err, "out of host memory writing the checkpoint");
        return MOVL_ERR_RUN;
    }
    int n = add_snapshot(t, &cur, "", out, 0, names, mapf[0]);
    n = add_snapshot(t, &t->best.params, "best.", out, n, names, mapf[1]);
    /* optimiser states */
    movl_optimizer *opts[TR_OPT_GROUPS];
    optimizer_table(t, opts);
    float *ostate[TR_OPT_GROUPS] = {0};
    for (int i = 0; i < TR_OPT_GROUPS && rc == MOVL_OK; i++) {
        size_t k = opts[i]->state ? movl_opt_state_floats(opts[i]) : 0;
        if (!k)
            continue;
        ostate[i] = malloc(sizeof(float) * k);
        if (!ostate[i] || movl_opt_state_download(opts[i], ostate[i], err)) {
            rc = MOVL_ERR_RUN;
            break;
        }
        snprintf(names[n], sizeof names[n], "%s", opt_names[i]);
        out[n] = (movl_tensor_out){names[n], 1, {(int64_t)k}, ostate[i]};
        n++;
    }
    char path[1400], *meta = rc == MOVL_OK ? progress_json(t) : NULL;
    run_path(t, MOVL_CHECKPOINT_FILE, path, sizeof path);
    if (rc == MOVL_OK && !meta) {
        movl_set_error(err, "%s: out of memory writing the progress record", path);
        rc = MOVL_ERR_RUN;
    }
    if (rc == MOVL_OK)
        rc = movl_weights_write(path, out, (size_t)n, meta, err);
    free(meta);
    for (int i = 0; i < TR_OPT_GROUPS; i++)
        free(ostate[i]);
    free(out);
    free(names);
    tr_snapshot_free(&cur);
    return rc;
}

static int read_tensor(const movl_weights *w, const char *name, float *dst, size_t n, char *err)
{
    return movl_weights_read_f32(w, name, dst, n, err);
}

/* The backbone tensors under prefix into a new flat array (gaps zero). A
 * checkpoint's "best." snapshot may lack them (no epoch had ended); a model
 * file or the current state of an ff run must have them all. */
static int restore_backbone(trainer *t, const movl_weights *w, const char *prefix, snapshot *s, char *err)
{
    int nt = movl_encoder_tensor_count(t->enc);
    char nm[TR_TENSOR_NAME];
    movl_encoder_tensor ti;
    movl_encoder_tensor_info(t->enc, 0, &ti);
    snprintf(nm, sizeof nm, "%sbackbone.%s", prefix, ti.name);
    if (!movl_weights_find(w, nm) && !strcmp(prefix, "best."))
        return MOVL_OK;
    if (!(s->backbone = calloc(movl_encoder_param_floats(t->enc) + 1, sizeof(float)))) {
        movl_set_error(err, "out of host memory reading the backbone");
        return MOVL_ERR_RUN;
    }
    int rc = MOVL_OK;
    for (int i = 0; i < nt && rc == MOVL_OK; i++) {
        movl_encoder_tensor_info(t->enc, i, &ti);
        snprintf(nm, sizeof nm, "%sbackbone.%s", prefix, ti.name);
        rc = read_tensor(w, nm, s->backbone + ti.offset, ti.numel, err); /* names the file and the tensor */
    }
    return rc;
}

static int restore_snapshot(trainer *t, const movl_weights *w, const char *prefix, snapshot *s, char *err)
{
    char nm[96];
    tr_snapshot_free(s);
    int rc = MOVL_OK;
#define GET(field, name, count)                                                                                     \
    if (rc == MOVL_OK) {                                                                                             \
        snprintf(nm, sizeof nm, "%s%s", prefix, name);                                                              \
        if (movl_weights_find(w, nm)) {                                                                             \
            s->field = malloc(sizeof(float) * (count));                                                             \
            rc = s->field ? read_tensor(w, nm, s->field, count, err) : MOVL_ERR_RUN;                                 \
        }                                                                                                           \
    }
    GET(delta, "prompt.delta", t->model.prompt_len)
    GET(W, "probe.weight", (size_t)t->dims.classes * t->dims.feature_dim)
    GET(b, "probe.bias", (size_t)t->dims.classes)
    GET(fW, "map.fully.weight", (size_t)t->dims.classes * t->dims.source_classes)
    GET(fb, "map.fully.bias", (size_t)t->dims.classes)
#undef GET
    if (rc == MOVL_OK && movl_method_trains_backbone(t->exp->train.method))
        rc = restore_backbone(t, w, prefix, s, err);
    snprintf(nm, sizeof nm, "%smap.index", prefix);
    float mapf[TR_MAP_MAX];
    memcpy(s->map, t->model.label_map, sizeof s->map);
    if (rc == MOVL_OK && movl_weights_find(w, nm) &&
        (rc = read_tensor(w, nm, mapf, (size_t)t->dims.classes, err)) == MOVL_OK)
        for (int i = 0; i < t->dims.classes; i++)
            s->map[i] = (int)mapf[i];
    s->valid = rc == MOVL_OK;
    return rc;
}

/* A number of the progress record within [lo, hi]; otherwise 0, and *bad
 * names the first key that was not. */
static double progress_number(const cJSON *j, const char *key, double lo, double hi, const char **bad)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    double x = cJSON_IsNumber(v) ? v->valuedouble : NAN;
    if (x >= lo && x <= hi)
        return x;
    if (!*bad)
        *bad = key;
    return 0;
}

/* Counters and history from the checkpoint's progress record; returns
 * whether the best snapshot was valid, or -1 (err set) on a bad record. */
static int read_progress(trainer *t, const movl_weights *w, const char *path, char *err)
{
    const char *format = movl_weights_metadata(w, "format"), *text = movl_weights_metadata(w, "progress");
    cJSON *j = text ? cJSON_Parse(text) : NULL;
    if (!format || strcmp(format, MOVL_CHECKPOINT_FORMAT) || !cJSON_IsObject(j)) {
        movl_set_error(err,
                       "%s: not a movl checkpoint of format %s (no valid progress record, e.g. written by an older "
                       "movl); remove the run folder %s and start the run again",
                       path, MOVL_CHECKPOINT_FORMAT, t->run_dir);
        cJSON_Delete(j);
        return -1;
    }
    /* Every counter present, finite and in range: the casts below are then defined. */
    const char *bad = NULL;
    t->progress.stage = (int)progress_number(j, "stage_index", 0, 2, &bad);
    t->progress.epoch = (int)progress_number(j, "epoch", 0, 1e9, &bad);
    t->progress.step_in_epoch = (int)progress_number(j, "step_in_epoch", 0, 1e9, &bad);
    t->progress.global_step = (long)progress_number(j, "global_step", 0, 1e15, &bad);
    t->progress.stage_step = (long)progress_number(j, "stage_step", 0, 1e15, &bad);
    t->progress.loss_sum = progress_number(j, "loss_sum", -HUGE_VAL, HUGE_VAL, &bad);
    t->progress.loss_count = (long)progress_number(j, "loss_count", 0, 1e15, &bad);
    t->best.score = progress_number(j, "best_score", -1, 1, &bad);
    t->best.stage = (int)progress_number(j, "best_stage", -1, 2, &bad);
    t->best.epoch = (int)progress_number(j, "best_epoch", -1, 1e9, &bad);
    t->timing.train_seconds = progress_number(j, "train_seconds", 0, HUGE_VAL, &bad);
    if (bad) {
        movl_set_error(err, "%s: progress record key '%s' is missing or out of range", path, bad);
        cJSON_Delete(j);
        return -1;
    }
    if (tr_timing_resume(t, cJSON_GetObjectItemCaseSensitive(j, "time_split"), path, err)) {
        cJSON_Delete(j);
        return -1;
    }
    const char *rng = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "patch_rng"));
    const char *hist = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "history"));
    int best_valid = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "best_valid"));
    t->progress.patch_rng = rng ? strtoull(rng, NULL, 10) : 0;
    free(t->progress.history);
    t->progress.history = strdup(hist ? hist : "");
    cJSON_Delete(j);
    return best_valid;
}

/* The backbone's optimiser state ("opt.backbone": per-slot copies of the flat
 * layout, Adam: m then v) into this device's layout. The writer's offsets
 * (metadata "backbone_offsets") follow its device's base-address alignment, so
 * a checkpoint written on another device has its tensors at other offsets and
 * another total; each tensor's floats are moved from the writer's offset to
 * ours, padding stays zero. */
static int read_backbone_state(trainer *t, const movl_weights *w, const char *path, size_t k, float *st, char *err)
{
    const movl_tensor_info *info = movl_weights_find(w, "opt.backbone");
    size_t n_cur = movl_encoder_param_floats(t->enc), slots = k / n_cur, n_file = info->numel / slots;
    cJSON *offs = cJSON_Parse(movl_weights_metadata(w, "backbone_offsets"));
    float *file = NULL;
    int rc = MOVL_OK;
    if (!cJSON_IsObject(offs) || info->numel % slots) {
        movl_set_error(err, "%s: metadata 'backbone_offsets' is not an object of offsets, or 'opt.backbone' holds %zu "
                       "floats (expected a multiple of %zu)", path, info->numel, slots);
        rc = MOVL_ERR_INPUT;
    } else if (!(file = malloc(sizeof(float) * info->numel))) {
        movl_set_error(err, "out of host memory reading the backbone's optimiser state");
        rc = MOVL_ERR_RUN;
    } else {
        rc = read_tensor(w, "opt.backbone", file, info->numel, err);
    }
    memset(st, 0, sizeof(float) * k);
    for (int i = 0; rc == MOVL_OK && i < movl_encoder_tensor_count(t->enc); i++) {
        movl_encoder_tensor ti;
        movl_encoder_tensor_info(t->enc, i, &ti);
        const cJSON *o = cJSON_GetObjectItemCaseSensitive(offs, ti.name);
        double off = cJSON_IsNumber(o) ? o->valuedouble : -1;
        if (!(off >= 0 && off == floor(off) && off + (double)ti.numel <= (double)n_file)) {
            movl_set_error(err, "%s: metadata 'backbone_offsets' lacks tensor '%s' or puts it outside 'opt.backbone' "
                           "(%zu floats per slot)", path, ti.name, n_file);
            rc = MOVL_ERR_INPUT;
            break;
        }
        for (size_t s = 0; s < slots; s++)
            memcpy(st + s * n_cur + ti.offset, file + s * n_file + (size_t)off, sizeof(float) * ti.numel);
    }
    free(file);
    cJSON_Delete(offs);
    return rc;
}

int tr_load_resume(trainer *t, char *err)
{
    char path[1400];
    run_path(t, MOVL_CHECKPOINT_FILE, path, sizeof path);
    if (access(path, F_OK) != 0) {
        movl_set_error(err, "%s: no resume state (the run never reached its first checkpoint)", path);
        return MOVL_ERR_INPUT;
    }
    movl_weights *w = NULL;
    int rc = movl_weights_open(path, &w, err);
    if (rc)
        return rc;
    int best_valid = read_progress(t, w, path, err);
    snapshot cur = {0};
    if (best_valid < 0)
        rc = MOVL_ERR_INPUT;
    if (rc == MOVL_OK)
        rc = restore_snapshot(t, w, "", &cur, err);
    if (rc == MOVL_OK)
        rc = tr_snapshot_restore(t, &cur, err);
    if (rc == MOVL_OK)
        rc = restore_snapshot(t, w, "best.", &t->best.params, err);
    t->best.params.valid = rc == MOVL_OK && best_valid > 0;
    movl_optimizer *opts[TR_OPT_GROUPS];
    optimizer_table(t, opts);
    for (int i = 0; i < TR_OPT_GROUPS && rc == MOVL_OK; i++) {
        size_t k = opts[i]->state ? movl_opt_state_floats(opts[i]) : 0;
        if (!k || !movl_weights_find(w, opt_names[i]))
            continue;
        float *st = malloc(sizeof(float) * k);
        if (!st)
            rc = MOVL_ERR_RUN;
        else if (opts[i] == &t->model.backbone_opt && movl_weights_metadata(w, "backbone_offsets"))
            rc = read_backbone_state(t, w, path, k, st, err);
        else
            rc = read_tensor(w, opt_names[i], st, k, err);
        if (rc == MOVL_OK && movl_opt_state_upload(opts[i], st, err))
            rc = MOVL_ERR_RUN;
        free(st);
    }
    tr_snapshot_free(&cur);
    movl_weights_close(w);
    return rc;
}

int tr_load_model(trainer *t, const char *path, char *err)
{
    movl_weights *w = NULL;
    int rc = movl_weights_open(path, &w, err);
    if (rc)
        return rc;
    snapshot s = {0};
    rc = restore_snapshot(t, w, "", &s, err);
    if (rc == MOVL_OK &&
        ((t->model.has_prompt && !s.delta) || (t->model.has_probe && !s.W) || (t->model.map_fully && !s.fW) ||
         (movl_method_trains_backbone(t->exp->train.method) && !s.backbone))) {
        movl_set_error(err, "%s: the model file lacks tensors its config.ini needs", path);
        rc = MOVL_ERR_INPUT;
    }
    if (rc == MOVL_OK)
        rc = tr_snapshot_restore(t, &s, err);
    tr_snapshot_free(&s);
    movl_weights_close(w);
    return rc;
}
