/* movl report RUN_DIR... : one table row per finished run (its summary.json):
 * method, test accuracy and ROC-AUC, trainable parameters, training time. */
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

static double num(const cJSON *o, const char *a, const char *b)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, a);
    if (b)
        x = cJSON_GetObjectItemCaseSensitive(x, b);
    return cJSON_IsNumber(x) ? x->valuedouble : NAN;
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
    printf("| run | method | test ACC | test AUC | trainable parameters | training time |\n");
    printf("|---|---|---:|---:|---:|---:|\n");
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
        printf("| %s | %s | %.4f | %.4f | %.0f | %.1f s |\n", argv[i], method ? method : "?", num(j, "test", "acc"),
               num(j, "test", "auc"), num(j, "trainable_params", NULL), num(j, "train_seconds", NULL));
        cJSON_Delete(j);
    }
    return rc;
}
