/* movl report RUN_DIR... : one table row per finished run (its summary.json):
 * method, test accuracy and ROC-AUC with their 95 % bootstrap intervals
 * ("0.846 [0.818, 0.873]"; summaries written before the intervals existed
 * show the value alone), test ECE, trainable parameters, training time.
 *
 * movl report --group [--csv] RUN_DIR... : the runs grouped over seeds, one
 * table per dataset and input size, one row per method variant (method, plus
 * the discrepancy of movl and the label map of vp / vp_then_lp, read from the
 * run's config.ini): test ACC and AUC as mean ± std over the seeds with the
 * 95 % Student t interval of the mean (one seed: the run's bootstrap
 * interval), the mean shift ACC / AUC, trainable parameters, mean training
 * time, number of seeds. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "core/common.h"
#include "core/file_io.h"
#include "experiment/experiment.h"
#include "sweep/sweep.h"

static cJSON *read_summary(const char *dir, char *err)
{
    char path[1200];
    int missing;
    snprintf(path, sizeof path, "%s/summary.json", dir);
    cJSON *j = movl_read_json(path, &missing, err);
    if (!j && missing)
        movl_set_error(err, "%s: no summary.json (the run did not finish; resume it with movl train --resume)", dir);
    return j;
}

/* o.a (or o.a.b) as a number; NaN when absent or not a number (e.g. null). */
static double num(const cJSON *o, const char *a, const char *b)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, a);
    if (b)
        x = cJSON_GetObjectItemCaseSensitive(x, b);
    return cJSON_IsNumber(x) ? x->valuedouble : NAN;
}

/* split.KEY_ci as lo, hi; 0 when absent. */
static int interval(const cJSON *split, const char *key, double *lo, double *hi)
{
    char ci_key[32];
    snprintf(ci_key, sizeof ci_key, "%s_ci", key);
    const cJSON *ci = cJSON_GetObjectItemCaseSensitive(split, ci_key);
    const cJSON *l = cJSON_GetArrayItem(ci, 0), *h = cJSON_GetArrayItem(ci, 1);
    if (!cJSON_IsArray(ci) || !cJSON_IsNumber(l) || !cJSON_IsNumber(h))
        return 0;
    *lo = l->valuedouble, *hi = h->valuedouble;
    return 1;
}

/* "0.846 [0.818, 0.873]", "0.846" without an interval, "n/a" without a value. */
static void metric_cell(const cJSON *split, const char *key, char *out, size_t n)
{
    double v = num(split, key, NULL), lo, hi;
    if (isnan(v))
        snprintf(out, n, "n/a");
    else if (interval(split, key, &lo, &hi))
        snprintf(out, n, "%.3f [%.3f, %.3f]", v, lo, hi);
    else
        snprintf(out, n, "%.3f", v);
}

static int report_runs(int n, char **dirs)
{
    char err[MOVL_ERRLEN];
    printf("| run | method | test ACC [95 %% CI] | test AUC [95 %% CI] | test ECE | trainable parameters | "
           "training time |\n");
    printf("|---|---|---:|---:|---:|---:|---:|\n");
    int rc = MOVL_OK;
    for (int i = 0; i < n; i++) {
        cJSON *j = read_summary(dirs[i], err);
        if (!j) {
            fprintf(stderr, "movl report: %s\n", err);
            rc = MOVL_ERR_INPUT;
            continue;
        }
        const char *method = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "method"));
        const cJSON *test = cJSON_GetObjectItemCaseSensitive(j, "test");
        char acc[64], auc[64], ece[32] = "n/a";
        metric_cell(test, "acc", acc, sizeof acc);
        metric_cell(test, "auc", auc, sizeof auc);
        if (!isnan(num(test, "ece", NULL)))
            snprintf(ece, sizeof ece, "%.3f", num(test, "ece", NULL));
        printf("| %s | %s | %s | %s | %s | %.0f | %.1f s |\n", dirs[i], method ? method : "?", acc, auc, ece,
               num(j, "trainable_params", NULL), num(j, "train_seconds", NULL));
        cJSON_Delete(j);
    }
    return rc;
}

/* ---- --group ---- */

/* What a row of the grouped table averages: per run, in this order. */
enum { G_ACC, G_AUC, G_SHIFT_ACC, G_SHIFT_AUC, G_PARAMS, G_SECONDS, G_N };

typedef struct run_group {
    char dataset[256];  /* data file name without folder and extension */
    int size;           /* input size in pixels */
    char method[96];    /* "movl (feature_mse)", "vp (flm)", "lp", ... */
    int n;              /* runs (seeds) */
    double sum[G_N], sumsq[G_N];
    int count[G_N];     /* runs that had the value */
    double lo[2], hi[2]; /* bootstrap interval of ACC, AUC of the first run (for one seed) */
    int have_ci[2];
    movl_experiment *cfg; /* the first run's config without name, seed, folder, device (NULL: none) */
    const char *first;    /* the first run's folder */
    int warned;
} run_group;

/* The study's name of a run's method: the discrepancy tells movl variants
 * apart and the label map vp ones; both live in the run's config.ini, not in
 * summary.json. Returns that config with the keys that may differ between
 * seeds of one setting cleared (NULL, and the method alone as the name,
 * without a loadable config.ini). */
static movl_experiment *method_label(const char *dir, const char *method, char *out, size_t n)
{
    char cfg[1200], err[MOVL_ERRLEN];
    snprintf(cfg, sizeof cfg, "%s/config.ini", dir);
    snprintf(out, n, "%s", method);
    movl_experiment *e = malloc(sizeof *e);
    if (!e || movl_experiment_load(cfg, NULL, 0, MOVL_EXP_NO_FILE_CHECKS, e, err)) {
        free(e);
        return NULL;
    }
    if (e->train.method == MOVL_METHOD_MOVL)
        snprintf(out, n, "%s (%s)", method, movl_experiment_enum_name("loss", "discrepancy", (int)e->loss.discrepancy));
    else if (movl_method_uses_label_map(e->train.method))
        snprintf(out, n, "%s (%s)", method, movl_experiment_enum_name("head", "type", (int)e->head.type));
    memset(&e->experiment, 0, sizeof e->experiment);
    memset(&e->device, 0, sizeof e->device);
    memset(&e->sweep, 0, sizeof e->sweep);
    return e;
}

static void dataset_name(const char *path, char *out, size_t n)
{
    const char *slash = strrchr(path, '/');
    snprintf(out, n, "%s", slash ? slash + 1 : path);
    char *dot = strrchr(out, '.');
    if (dot && dot != out)
        *dot = 0;
}

/* Adds run dir's summary to its group (a new one at the end when none
 * matches, so tables and rows keep the order of the command line). */
static int add_run(run_group *g, int *ng, const char *dir, char *err)
{
    cJSON *j = read_summary(dir, err);
    if (!j)
        return MOVL_ERR_INPUT;
    const char *method = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "method"));
    const char *data = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "data"));
    const cJSON *test = cJSON_GetObjectItemCaseSensitive(j, "test");
    if (!method || isnan(num(test, "acc", NULL))) {
        movl_set_error(err, "%s/summary.json: no method or no test.acc", dir);
        cJSON_Delete(j);
        return MOVL_ERR_INPUT;
    }
    run_group key = {.size = (int)num(j, "size", NULL)};
    dataset_name(data ? data : "?", key.dataset, sizeof key.dataset);
    movl_experiment *cfg = method_label(dir, method, key.method, sizeof key.method);
    int i = 0;
    while (i < *ng && (strcmp(g[i].dataset, key.dataset) || g[i].size != key.size || strcmp(g[i].method, key.method)))
        i++;
    if (i == *ng) {
        key.cfg = cfg, key.first = dir, cfg = NULL;
        g[(*ng)++] = key;
    }
    run_group *r = &g[i];
    /* A row stands for one setting over seeds: say so when it mixes settings. */
    if (cfg && r->cfg && memcmp(cfg, r->cfg, sizeof *cfg) && !r->warned) {
        fprintf(stderr, "movl report: note: %s and %s differ in more than the seed, yet share the row %s, %d px, %s\n",
                r->first, dir, r->dataset, r->size, r->method);
        r->warned = 1;
    }
    free(cfg);
    double v[G_N] = {num(test, "acc", NULL),         num(test, "auc", NULL),
                     num(j, "shift", "mean_acc"),    num(j, "shift", "mean_auc"),
                     num(j, "trainable_params", NULL), num(j, "train_seconds", NULL)};
    if (r->n == 0)
        for (int m = 0; m < 2; m++)
            r->have_ci[m] = interval(test, m ? "auc" : "acc", &r->lo[m], &r->hi[m]);
    r->n++;
    for (int m = 0; m < G_N; m++)
        if (!isnan(v[m]))
            r->sum[m] += v[m], r->sumsq[m] += v[m] * v[m], r->count[m]++;
    cJSON_Delete(j);
    return MOVL_OK;
}

static double g_mean(const run_group *r, int m) { return r->count[m] ? r->sum[m] / r->count[m] : NAN; }

/* Sample standard deviation (n - 1); NaN for fewer than two values. */
static double g_std(const run_group *r, int m)
{
    int k = r->count[m];
    if (k < 2)
        return NAN;
    double mean = r->sum[m] / k, var = (r->sumsq[m] - k * mean * mean) / (k - 1);
    return sqrt(var > 0 ? var : 0);
}

/* The 95 % interval of the mean: Student t over the seeds, or with one seed
 * the run's own bootstrap interval. 0 when there is none. */
static int g_interval(const run_group *r, int m, double *lo, double *hi)
{
    int k = r->count[m];
    if (k >= 2) {
        double half = movl_student_t_quantile(0.975, k - 1) * g_std(r, m) / sqrt(k);
        *lo = g_mean(r, m) - half, *hi = g_mean(r, m) + half;
        return 1;
    }
    if (k == 1 && m < 2 && r->have_ci[m]) {
        *lo = r->lo[m], *hi = r->hi[m];
        return 1;
    }
    return 0;
}

/* "0.846 ± 0.012 [0.818, 0.873]" (several seeds), "0.846 [0.818, 0.873]"
 * (one), "0.846" (no interval), "n/a". */
static void g_cell(const run_group *r, int m, int with_ci, char *out, size_t n)
{
    double mean = g_mean(r, m), sd = g_std(r, m), lo, hi;
    int len = 0;
    if (isnan(mean)) {
        snprintf(out, n, "n/a");
        return;
    }
    len += snprintf(out + len, n - (size_t)len, "%.3f", mean);
    if (!isnan(sd))
        len += snprintf(out + len, n - (size_t)len, " ± %.3f", sd);
    if (with_ci && g_interval(r, m, &lo, &hi))
        snprintf(out + len, n - (size_t)len, " [%.3f, %.3f]", lo, hi);
}

static void print_markdown(const run_group *g, int ng)
{
    int first = 1;
    for (int i = 0; i < ng; i++) {
        int k = 0;
        while (k < i && (strcmp(g[k].dataset, g[i].dataset) || g[k].size != g[i].size))
            k++;
        if (k < i)
            continue; /* this table was printed with group k */
        printf("%s### %s, %d px\n\n", first ? "" : "\n", g[i].dataset, g[i].size);
        first = 0;
        printf("| method | seeds | test ACC [95 %% CI] | test AUC [95 %% CI] | shift ACC | shift AUC | "
               "trainable parameters | training time |\n");
        printf("|---|---:|---:|---:|---:|---:|---:|---:|\n");
        for (int r = i; r < ng; r++) {
            if (strcmp(g[r].dataset, g[i].dataset) || g[r].size != g[i].size)
                continue;
            char c[4][96];
            g_cell(&g[r], G_ACC, 1, c[0], sizeof c[0]);
            g_cell(&g[r], G_AUC, 1, c[1], sizeof c[1]);
            g_cell(&g[r], G_SHIFT_ACC, 0, c[2], sizeof c[2]);
            g_cell(&g[r], G_SHIFT_AUC, 0, c[3], sizeof c[3]);
            printf("| %s | %d | %s | %s | %s | %s | %.0f | %.1f s |\n", g[r].method, g[r].n, c[0], c[1], c[2], c[3],
                   g_mean(&g[r], G_PARAMS), g_mean(&g[r], G_SECONDS));
        }
    }
}

/* A number for CSV: empty when undefined. */
static void csv_num(double v) { isnan(v) ? printf(",") : printf(",%.6g", v); }

static void print_csv(const run_group *g, int ng)
{
    printf("dataset,size,method,seeds,test_acc_mean,test_acc_std,test_acc_lo,test_acc_hi,test_auc_mean,test_auc_std,"
           "test_auc_lo,test_auc_hi,shift_acc_mean,shift_acc_std,shift_auc_mean,shift_auc_std,trainable_params,"
           "train_seconds_mean\n");
    for (int i = 0; i < ng; i++) {
        printf("%s,%d,%s,%d", g[i].dataset, g[i].size, g[i].method, g[i].n);
        for (int m = G_ACC; m <= G_AUC; m++) {
            double lo = NAN, hi = NAN;
            g_interval(&g[i], m, &lo, &hi);
            csv_num(g_mean(&g[i], m)), csv_num(g_std(&g[i], m)), csv_num(lo), csv_num(hi);
        }
        for (int m = G_SHIFT_ACC; m <= G_SHIFT_AUC; m++)
            csv_num(g_mean(&g[i], m)), csv_num(g_std(&g[i], m));
        csv_num(g_mean(&g[i], G_PARAMS)), csv_num(g_mean(&g[i], G_SECONDS));
        printf("\n");
    }
}

static int report_groups(int n, char **dirs, int csv)
{
    char err[MOVL_ERRLEN];
    run_group *g = calloc((size_t)n, sizeof *g);
    if (!g) {
        fprintf(stderr, "movl report: out of memory\n");
        return MOVL_ERR_RUN;
    }
    int ng = 0, rc = MOVL_OK;
    for (int i = 0; i < n; i++) {
        if (add_run(g, &ng, dirs[i], err)) {
            fprintf(stderr, "movl report: %s\n", err);
            rc = MOVL_ERR_INPUT;
        }
    }
    csv ? print_csv(g, ng) : print_markdown(g, ng);
    for (int i = 0; i < ng; i++)
        free(g[i].cfg);
    free(g);
    return rc;
}

int cmd_report(int argc, char **argv)
{
    int n = 0, group = 0, csv = 0;
    /* The run folders, in command-line order (argv outlives this call). */
    char **dirs = argc > 1 ? calloc((size_t)argc, sizeof *dirs) : NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--group"))
            group = 1;
        else if (!strcmp(argv[i], "--csv"))
            csv = 1;
        else if (cli_common_flag(argv[i]))
            continue;
        else if (!strncmp(argv[i], "--", 2)) {
            fprintf(stderr, "movl report: unknown option '%s' (expected --group, --csv)\n", argv[i]);
            free(dirs);
            return MOVL_ERR_INPUT;
        } else if (dirs)
            dirs[n++] = argv[i];
    }
    if (n == 0 || (csv && !group)) {
        cli_usage_error("report", csv && !group ? "--csv goes with --group" : "give one or more run folders");
        free(dirs);
        return MOVL_ERR_INPUT;
    }
    int rc = group ? report_groups(n, dirs, csv) : report_runs(n, dirs);
    free(dirs);
    return rc;
}
