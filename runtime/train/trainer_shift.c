/* The shift suite on a trained model (docs/SHIFT.md): every (corruption,
 * severity) of a spec corrupts the stored pixels of one split in place, the
 * unchanged model is evaluated through the usual batch path (so the corrupted
 * images are preprocessed exactly like clean ones), and the clean pixels are
 * put back. Results as cJSON, and `movl eval --shift`'s table. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "shift/shift.h"
#include "train/trainer.h"
#include "train/trainer_internal.h"

/* The benchmark's images are the same for every run: one fixed seed (as `movl shift`'s default). */
#define SHIFT_SEED 0

/* Values in the split's pool that its samples use (the pool may start with a header). */
static size_t pool_extent(const movl_dataset *ds, int split)
{
    const movl_split *sp = &ds->split[split];
    size_t end = 0;
    for (int i = 0; i < sp->n; i++) {
        const movl_sample *s = &sp->samples[i];
        size_t e = s->offset + (size_t)s->w * s->h * ds->channels;
        end = e > end ? e : end;
    }
    return end;
}

static void *pool_of(movl_dataset *ds, int split)
{
    return ds->pixel_type == MOVL_PIX_U8 ? (void *)ds->split[split].u8 : (void *)ds->split[split].f32;
}

static void add_metric(cJSON *o, const char *key, double v, int defined)
{
    if (defined && isfinite(v))
        cJSON_AddNumberToObject(o, key, v);
    else
        cJSON_AddNullToObject(o, key);
}

/* Running means of ACC and (defined) AUC. */
typedef struct mean2 {
    double acc, auc;
    int n_acc, n_auc;
} mean2;

static void mean_add(mean2 *m, double acc, double auc, int auc_defined)
{
    m->acc += acc, m->n_acc++;
    if (auc_defined && isfinite(auc))
        m->auc += auc, m->n_auc++;
}

static void mean_put(cJSON *o, const mean2 *m)
{
    add_metric(o, "mean_acc", m->n_acc ? m->acc / m->n_acc : NAN, m->n_acc > 0);
    add_metric(o, "mean_auc", m->n_auc ? m->auc / m->n_auc : NAN, m->n_auc > 0);
}

int tr_shift_evaluate(trainer *t, int split, const char *spec, cJSON **out, char *err)
{
    *out = NULL;
    movl_dataset *ds = &t->host.dataset;
    if (split < 0 || split >= MOVL_NSPLITS || !ds->split[split].n) {
        movl_set_error(err, "shift: split %d of %s is empty or absent", split, ds->source ? ds->source : "the dataset");
        return MOVL_ERR_INPUT;
    }
    movl_modality modality = movl_modality_resolve(t->exp->data.modality, t->exp->data.path);
    movl_shift_item items[MOVL_SHIFT_MAX_ITEMS];
    char why[MOVL_ERRLEN];
    int n = movl_shift_parse(spec, modality, items, why, sizeof why);
    if (n <= 0) {
        movl_set_error(err, "shift '%.100s': %.380s", spec ? spec : "", n < 0 ? why : "names no corruption");
        return MOVL_ERR_INPUT;
    }
    size_t bytes = pool_extent(ds, split) * (ds->pixel_type == MOVL_PIX_U8 ? 1 : sizeof(float));
    void *clean = malloc(bytes ? bytes : 1);
    if (!clean) {
        movl_set_error(err, "shift: out of host memory for a clean copy of %zu bytes", bytes);
        return MOVL_ERR_RUN;
    }
    memcpy(clean, pool_of(ds, split), bytes);

    cJSON *root = cJSON_CreateObject(), *list = cJSON_CreateArray();
    cJSON_AddStringToObject(root, "split", movl_split_names[split]);
    cJSON_AddStringToObject(root, "modality", movl_modality_names[modality]);
    cJSON_AddNumberToObject(root, "seed", SHIFT_SEED);
    cJSON_AddNumberToObject(root, "images", ds->split[split].n);
    movl_metrics m = {0};
    int rc = tr_evaluate(t, split, 0, &m, err);
    if (rc == MOVL_OK) {
        cJSON *c = cJSON_AddObjectToObject(root, "clean");
        add_metric(c, "acc", m.acc, 1);
        add_metric(c, "auc", m.auc, m.auc_defined);
    }
    movl_metrics_free(&m);
    cJSON_AddItemToObject(root, "corruptions", list);
    mean2 overall = {0};
    int dirty = 0;
    for (int i = 0; i < n && rc == MOVL_OK;) {
        int c = items[i].corruption;
        cJSON *entry = cJSON_CreateObject(), *sevs = cJSON_CreateArray();
        cJSON_AddItemToArray(list, entry);
        cJSON_AddStringToObject(entry, "name", movl_shift_names[c]);
        cJSON_AddItemToObject(entry, "severities", sevs);
        mean2 per = {0};
        /* consecutive items of the same corruption form one entry */
        for (; i < n && items[i].corruption == c && rc == MOVL_OK; i++) {
            if (dirty)
                memcpy(pool_of(ds, split), clean, bytes);
            dirty = 1;
            rc = movl_shift_split(ds, split, c, items[i].severity, modality, SHIFT_SEED, err);
            if (rc == MOVL_OK)
                rc = tr_evaluate(t, split, 0, &m, err);
            if (rc == MOVL_OK) {
                cJSON *o = cJSON_CreateObject();
                cJSON_AddNumberToObject(o, "severity", items[i].severity);
                add_metric(o, "acc", m.acc, 1);
                add_metric(o, "auc", m.auc, m.auc_defined);
                cJSON_AddItemToArray(sevs, o);
                mean_add(&per, m.acc, m.auc, m.auc_defined);
                if (!t->quiet || movl_verbose)
                    fprintf(stderr, "shift %s:%d acc %.4f auc %.4f\n", movl_shift_names[c], items[i].severity, m.acc,
                            m.auc_defined ? m.auc : NAN);
            }
            movl_metrics_free(&m);
        }
        mean_put(entry, &per);
        if (per.n_acc)
            mean_add(&overall, per.acc / per.n_acc, per.n_auc ? per.auc / per.n_auc : NAN, per.n_auc > 0);
    }
    memcpy(pool_of(ds, split), clean, bytes); /* the clean split, whatever happened */
    free(clean);
    if (rc != MOVL_OK) {
        cJSON_Delete(root);
        return rc;
    }
    mean_put(root, &overall);
    *out = root;
    return MOVL_OK;
}

static double num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* The text table: one line per corruption and severity, the corruption's mean, the overall mean. */
static void print_table(const cJSON *r, const char *run_dir, const char *data)
{
    const cJSON *clean = cJSON_GetObjectItemCaseSensitive(r, "clean");
    printf("%s on %s [%s], %d images, modality %s, seed %d\n", run_dir, data,
           cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "split")), (int)num(r, "images"),
           cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "modality")), (int)num(r, "seed"));
    printf("%-18s %-9s %7s %7s\n", "corruption", "severity", "acc", "auc");
    printf("%-18s %-9s %7.4f %7.4f\n", "clean", "0", num(clean, "acc"), num(clean, "auc"));
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(r, "corruptions"))
    {
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "name"));
        const cJSON *s;
        cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(c, "severities"))
        {
            char sev[8];
            snprintf(sev, sizeof sev, "%d", (int)num(s, "severity"));
            printf("%-18s %-9s %7.4f %7.4f\n", name, sev, num(s, "acc"), num(s, "auc"));
        }
        printf("%-18s %-9s %7.4f %7.4f\n", name, "mean", num(c, "mean_acc"), num(c, "mean_auc"));
    }
    printf("%-18s %-9s %7.4f %7.4f\n", "mean shift", "", num(r, "mean_acc"), num(r, "mean_auc"));
}

int movl_eval_shift_run(const char *run_dir, const char *data_path, const char *split, const char *spec,
                        const char *device, int json, char *err)
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
    cJSON *r = NULL;
    if (rc == MOVL_OK)
        rc = tr_shift_evaluate(&t, sp, spec, &r, err);
    if (rc == MOVL_OK) {
        if (json) {
            cJSON_AddStringToObject(r, "run", run_dir);
            cJSON_AddStringToObject(r, "data", e->data.path);
            char *s = cJSON_Print(r);
            printf("%s\n", s);
            free(s);
        } else {
            print_table(r, run_dir, e->data.path);
        }
    }
    cJSON_Delete(r);
    tr_free(&t);
    free(e);
    return rc;
}
