/* movl features EXP.ini --out FILE.safetensors [-s section.key=value ...] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "core/common.h"
#include "experiment/experiment.h"
#include "train/trainer.h"

int cmd_features(int argc, char **argv)
{
    const char *ini = NULL, *out = NULL;
    const char **over = calloc((size_t)argc, sizeof *over);
    int nover = 0;
    for (int i = 1; i < argc; i++) {
        int v = i + 1 < argc;
        if (!strcmp(argv[i], "--out") && v)
            out = argv[++i];
        else if (!strcmp(argv[i], "-s") && v)
            over[nover++] = argv[++i];
        else if (cli_common_flag(argv[i]))
            ;
        else if (argv[i][0] != '-' && !ini)
            ini = argv[i];
        else {
            char msg[300];
            snprintf(msg, sizeof msg, "unexpected argument '%s'", argv[i]);
            free(over);
            return cli_usage_error("features", msg);
        }
    }
    if (!ini || !out) {
        free(over);
        return cli_usage_error("features", "give an experiment file and --out");
    }
    char err[MOVL_ERRLEN] = "";
    movl_experiment *e = calloc(1, sizeof *e);
    int rc = movl_experiment_load(ini, over, nover, 0, e, err);
    if (rc == MOVL_OK)
        rc = movl_features_run(e, out, err);
    if (rc)
        fprintf(stderr, "movl features: %s\n", err);
    free(e);
    free(over);
    return rc;
}
