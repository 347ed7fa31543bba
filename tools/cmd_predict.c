/* movl predict RUN_DIR [--device SEL] [--json] IMAGE... */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "core/common.h"
#include "train/trainer.h"

int cmd_predict(int argc, char **argv)
{
    const char *run = NULL, *device = NULL;
    const char **images = calloc((size_t)argc, sizeof *images);
    int json = 0, n = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--device") && i + 1 < argc)
            device = argv[++i];
        else if (!strcmp(argv[i], "--json"))
            json = 1;
        else if (cli_common_flag(argv[i]))
            ;
        else if (argv[i][0] == '-') {
            fprintf(stderr, "movl predict: unknown option '%s'\n", argv[i]);
            free(images);
            return MOVL_ERR_INPUT;
        } else if (!run)
            run = argv[i];
        else
            images[n++] = argv[i];
    }
    if (!run || n == 0) {
        cli_usage_error("predict", "give a run folder and at least one image"); /* tools/command_usage.c */
        free(images);
        return MOVL_ERR_INPUT;
    }
    char err[MOVL_ERRLEN] = "";
    int rc = movl_predict_run(run, device, images, n, json, err);
    if (rc)
        fprintf(stderr, "movl predict: %s\n", err);
    free(images);
    return rc;
}
