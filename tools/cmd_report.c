/* movl report RUN_DIR... : one table row per finished run (its summary.json):
 * method, test accuracy and ROC-AUC with their 95 % bootstrap intervals
 * ("0.846 [0.818, 0.873]"; summaries written before the intervals existed
 * show the value alone), test ECE, trainable parameters, training time. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "core/common.h"
#include "core/file_io.h"

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

/* "0.846 [0.818, 0.873]", "0.846" without an interval, "n/a" without a value. */
static void metric_cell(const cJSON *split, const char *key, char *out, size_t n)
{
    char ci_key[32];
    snprintf(ci_key, sizeof ci_key, "%s_ci", key);
    double v = num(split, key, NULL);
    const cJSON *ci = cJSON_GetObjectItemCaseSensitive(split, ci_key);
    const cJSON *lo = cJSON_GetArrayItem(ci, 0), *hi = cJSON_GetArrayItem(ci, 1);
    if (isnan(v))
        snprintf(out, n, "n/a");
    else if (cJSON_IsArray(ci) && cJSON_IsNumber(lo) && cJSON_IsNumber(hi))
        snprintf(out, n, "%.3f [%.3f, %.3f]", v, lo->valuedouble, hi->valuedouble);
    else
        snprintf(out, n, "%.3f", v);
}

int cmd_report(int argc, char **argv)
{
    int n = 0;
    for (int i = 1; i < argc; i++)
        if (!cli_common_flag(argv[i]))
            n++;
    if (n == 0) {
        fprintf(stderr, "movl report: usage: movl report RUN_DIR...\n");
        return MOVL_ERR_INPUT;
    }
    char err[MOVL_ERRLEN];
    printf("| run | method | test ACC [95 %% CI] | test AUC [95 %% CI] | test ECE | trainable parameters | "
           "training time |\n");
    printf("|---|---|---:|---:|---:|---:|---:|\n");
    int rc = MOVL_OK;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-v"))
            continue;
        cJSON *j = read_summary(argv[i], err);
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
        printf("| %s | %s | %s | %s | %s | %.0f | %.1f s |\n", argv[i], method ? method : "?", acc, auc, ece,
               num(j, "trainable_params", NULL), num(j, "train_seconds", NULL));
        cJSON_Delete(j);
    }
    return rc;
}
