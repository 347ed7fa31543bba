/* Using a finished run: evaluation on any split or dataset, predictions for
 * images, and exporting frozen features. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/common.h"
#include "train/trainer.h"
#include "train/trainer_internal.h"
#include "core/weights.h"

/* Class count of a model file: the length of its head's bias, checked
 * against its "classes" metadata when both are there; 0 when neither is, -1
 * (err set) when they disagree or the metadata is not a class count. */
static long model_classes(const movl_weights *w, char *err)
{
    const char *heads[] = {"probe.bias", "map.fully.bias", "map.index"}, *c = movl_weights_metadata(w, "classes");
    long from_head = 0, from_meta = 0;
    for (int i = 0; i < 3 && !from_head; i++) {
        const movl_tensor_info *b = movl_weights_find(w, heads[i]);
        from_head = b ? (long)b->numel : 0;
    }
    if (c) {
        char *end;
        from_meta = strtol(c, &end, 10);
        if (*end || end == c || from_meta < 1 || from_meta > 65536 || (from_head && from_head != from_meta)) {
            movl_set_error(err, "%s: metadata classes = '%s' is not the class count of its head (%ld)",
                           movl_weights_path(w), c, from_head);
            return -1;
        }
    }
    return from_head ? from_head : from_meta;
}

/* Class names from a model file's "class_names" metadata into t->host.dataset
 * (freed with it); 0 when it has none that fit its K classes. */
static int model_class_names(trainer *t, const movl_weights *w)
{
    const char *text = movl_weights_metadata(w, "class_names");
    cJSON *names = text ? cJSON_Parse(text) : NULL;
    int ok = cJSON_GetArraySize(names) == t->dims.classes &&
             (t->host.dataset.class_names = calloc((size_t)t->dims.classes, sizeof(char *)));
    if (ok) {
        t->host.dataset.num_classes = t->dims.classes;
        for (int k = 0; k < t->dims.classes; k++) {
            const char *nm = cJSON_GetStringValue(cJSON_GetArrayItem(names, k));
            t->host.dataset.class_names[k] = strdup(nm ? nm : "");
        }
    }
    cJSON_Delete(names);
    return ok;
}

/* Loads run_dir's config (with overrides) and model into a ready trainer.
 * Without need_data (predict) the run's dataset is not read: the class count
 * and names come from model.safetensors, so a model can be used on a
 * machine that never had its training data. */
int tr_open_run(trainer *t, movl_experiment *e, const char *run_dir, const char *data_path, const char *device,
                int need_data, char *err)
{
    char cfg[1400], model[1400], over[4][1200];
    const char *ov[4];
    int n = 0;
    unsigned flags = need_data ? 0 : MOVL_EXP_NO_FILE_CHECKS;
    snprintf(cfg, sizeof cfg, "%s/config.ini", run_dir);
    snprintf(model, sizeof model, "%s/model.safetensors", run_dir);
    snprintf(over[n], sizeof over[n], "data.max_eval=0");
    ov[n] = over[n], n++;
    if (data_path) {
        snprintf(over[n], sizeof over[n], "data.path=%s", data_path);
        ov[n] = over[n], n++;
    }
    if (device) {
        snprintf(over[n], sizeof over[n], "device.select=%s", device);
        ov[n] = over[n], n++;
    }
    int rc = movl_experiment_load(cfg, ov, n, flags, e, err);
    if (rc)
        return rc;
    t->exp = e;
    t->quiet = 1;
    t->inference = 1; /* a fine-tuned backbone is loaded from the model file, never trained here */
    snprintf(t->run_dir, sizeof t->run_dir, "%s", run_dir);
    movl_weights *w = NULL;
    if ((rc = movl_weights_open(model, &w, err)))
        return rc;
    long classes = model_classes(w, err);
    if (classes < 0)
        rc = MOVL_ERR_INPUT;
    else if (!need_data && classes == 0) {
        movl_set_error(err, "%s: the model file does not say how many classes it has", model);
        rc = MOVL_ERR_INPUT;
    } else if (!need_data) {
        t->dims.classes = (int)classes;
        /* Models from before class names were stored: take them from the
         * run's dataset while it is there, as before. */
        need_data = !model_class_names(t, w) && access(e->data.path, F_OK) == 0;
        t->model_only = !need_data;
        t->names_only = need_data;
    }
    movl_weights_close(w);
    if (rc)
        return rc;
    if (need_data && classes > 0 && e->data.num_classes == 0) {
        /* Infer nothing: the data must match the model's class count. */
        snprintf(over[n], sizeof over[n], "data.num_classes=%ld", classes);
        ov[n] = over[n], n++;
        if ((rc = movl_experiment_load(cfg, ov, n, 0, e, err)))
            return rc;
    }
    if ((rc = tr_setup(t, err)) || (rc = tr_load_model(t, model, err)))
        return rc;
    /* The head a finished run predicts with: the label map for vp, the probe otherwise. */
    t->model.head_is_map = e->train.method == MOVL_METHOD_VP || e->train.method == MOVL_METHOD_ZEROSHOT;
    return MOVL_OK;
}

int tr_parse_split(const char *name, int *split, char *err)
{
    for (int i = 0; i < MOVL_NSPLITS; i++)
        if (name && !strcmp(name, movl_split_names[i])) {
            *split = i;
            return MOVL_OK;
        }
    movl_set_error(err, "--split '%s' is not a split (expected train, val or test)", name ? name : "");
    return MOVL_ERR_INPUT;
}

int movl_eval_run(const char *run_dir, const char *data_path, const char *split, const char *device, int json,
                  char *err)
{
    int sp;
    if (tr_parse_split(split, &sp, err))
        return MOVL_ERR_INPUT;
    trainer t;
    memset(&t, 0, sizeof t);
    movl_experiment *e = calloc(1, sizeof *e);
    if (!e) {
        movl_set_error(err, "out of memory");
        return MOVL_ERR_RUN;
    }
    int rc = tr_open_run(&t, e, run_dir, data_path, device, 1, err);
    movl_metrics m = {0};
    if (rc == MOVL_OK)
        rc = tr_evaluate(&t, sp, 0, &m, err);
    if (rc == MOVL_OK) /* the same intervals as the run's summary.json */
        rc = tr_add_uncertainty(&t, &m, err);
    if (rc == MOVL_OK) {
        if (json) {
            cJSON *j = movl_metrics_to_json(&m, (const char *const *)t.host.dataset.class_names);
            cJSON_AddStringToObject(j, "run", run_dir);
            cJSON_AddStringToObject(j, "data", e->data.path);
            cJSON_AddStringToObject(j, "split", split);
            char *s = cJSON_Print(j);
            printf("%s\n", s);
            free(s);
            cJSON_Delete(j);
        } else {
            char auc[64] = "n/a";
            if (m.auc_defined && isfinite(m.auc_ci[0]))
                snprintf(auc, sizeof auc, "%.4f [%.4f, %.4f]", m.auc, m.auc_ci[0], m.auc_ci[1]);
            else if (m.auc_defined)
                snprintf(auc, sizeof auc, "%.4f", m.auc);
            printf("%s on %s [%s], %lld images: acc %.4f [%.4f, %.4f], auc %s, balanced acc %.4f, macro F1 %.4f, "
                   "ECE %.4f (95 %% bootstrap intervals, %d resamples, seed %d)\n",
                   run_dir, e->data.path, split, (long long)m.n, m.acc, m.acc_ci[0], m.acc_ci[1], auc,
                   m.balanced_acc, m.macro_f1, m.ece, m.boot_resamples, e->experiment.seed);
        }
    }
    movl_metrics_free(&m);
    tr_free(&t);
    free(e);
    return rc;
}

int movl_predict_run(const char *run_dir, const char *device, const char *const *images, int n, int json, char *err)
{
    trainer t;
    memset(&t, 0, sizeof t);
    movl_experiment *e = calloc(1, sizeof *e);
    int rc = tr_open_run(&t, e, run_dir, NULL, device, 0, err);
    size_t per = 3 * (size_t)t.dims.image_size * t.dims.image_size;
    float *scores = malloc(sizeof(float) * (size_t)(t.dims.eval_batch > 0 ? t.dims.eval_batch : 1) *
                           (size_t)(t.dims.classes > 0 ? t.dims.classes : 1));
    cJSON *arr = json ? cJSON_CreateArray() : NULL;
    for (int b0 = 0; rc == MOVL_OK && b0 < n; b0 += t.dims.eval_batch) {
        int nb = n - b0 < t.dims.eval_batch ? n - b0 : t.dims.eval_batch;
        for (int i = 0; i < nb && rc == MOVL_OK; i++) {
            rc = tr_load_input(&t, images[b0 + i], t.host.batch_images + per * (size_t)i, err);
        }
        if (rc == MOVL_OK &&
            movl_upload(&t.dev, t.bufs.images, t.host.batch_images, sizeof(float) * per * (size_t)nb, err))
            rc = MOVL_ERR_RUN;
        if (rc == MOVL_OK)
            rc = tr_scores_loaded(&t, nb, scores, err);
        for (int i = 0; i < nb && rc == MOVL_OK; i++) {
            const float *z = scores + (size_t)i * t.dims.classes;
            int best = 0;
            double mx = z[0], sum = 0;
            for (int k = 1; k < t.dims.classes; k++)
                if (z[k] > z[best])
                    best = k, mx = z[k];
            for (int k = 0; k < t.dims.classes; k++)
                sum += exp((double)z[k] - mx);
            double p = 1.0 / sum;
            const char *name = t.host.dataset.class_names ? t.host.dataset.class_names[best] : NULL;
            if (json) {
                cJSON *o = cJSON_CreateObject();
                cJSON_AddStringToObject(o, "image", images[b0 + i]);
                cJSON_AddNumberToObject(o, "class", best);
                if (name)
                    cJSON_AddStringToObject(o, "name", name);
                cJSON_AddNumberToObject(o, "probability", p);
                cJSON *scores_json = cJSON_AddArrayToObject(o, "scores"); /* the head's logits, every class */
                for (int k = 0; k < t.dims.classes; k++)
                    cJSON_AddItemToArray(scores_json, cJSON_CreateNumber(z[k]));
                cJSON_AddItemToArray(arr, o);
            } else {
                printf("%s\t%d%s%s\t%.4f\n", images[b0 + i], best, name ? " " : "", name ? name : "", p);
            }
        }
    }
    if (json && rc == MOVL_OK) {
        char *s = cJSON_Print(arr);
        printf("%s\n", s);
        free(s);
    }
    cJSON_Delete(arr);
    free(scores);
    tr_free(&t);
    free(e);
    return rc;
}

int movl_features_run(const movl_experiment *exp, const char *out_path, char *err)
{
    trainer t;
    memset(&t, 0, sizeof t);
    t.exp = exp;
    t.inference = 1; /* the pretrained backbone's features */
    int rc = tr_setup(&t, err);
    movl_tensor_out out[2 * MOVL_NSPLITS];
    char names[2 * MOVL_NSPLITS][32];
    float *labels[MOVL_NSPLITS] = {0};
    int n = 0;
    for (int s = 0; s < MOVL_NSPLITS && rc == MOVL_OK; s++) {
        int ns = t.host.dataset.split[s].n;
        if (!ns)
            continue;
        if ((rc = tr_cache_features(&t, s, 0, err)))
            break;
        labels[s] = malloc(sizeof(float) * (size_t)ns);
        if (!labels[s]) {
            rc = MOVL_ERR_RUN;
            break;
        }
        for (int i = 0; i < ns; i++)
            labels[s][i] = (float)t.host.dataset.split[s].samples[i].label;
        snprintf(names[n], sizeof names[n], "features.%s", movl_split_names[s]);
        out[n] = (movl_tensor_out){names[n], 2, {ns, t.dims.feature_dim}, t.host.features[s]};
        n++;
        snprintf(names[n], sizeof names[n], "labels.%s", movl_split_names[s]);
        out[n] = (movl_tensor_out){names[n], 1, {ns}, labels[s]};
        n++;
    }
    if (rc == MOVL_OK) {
        cJSON *mj = cJSON_CreateObject();
        char size[16];
        snprintf(size, sizeof size, "%d", t.dims.image_size);
        cJSON_AddStringToObject(mj, "arch", exp->encoder.arch);
        cJSON_AddStringToObject(mj, "size", size);
        cJSON_AddStringToObject(mj, "data", exp->data.path);
        char *meta = cJSON_PrintUnformatted(mj);
        cJSON_Delete(mj);
        rc = movl_weights_write(out_path, out, (size_t)n, meta, err);
        free(meta);
        if (rc == MOVL_OK)
            printf("wrote %s: %d features per image\n", out_path, t.dims.feature_dim);
    }
    for (int s = 0; s < MOVL_NSPLITS; s++)
        free(labels[s]);
    tr_free(&t);
    return rc;
}
