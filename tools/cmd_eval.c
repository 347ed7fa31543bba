/* movl eval RUN_DIR [--data PATH] [--split test|val|train] [--device SEL] [--json]
 *           [--shift all|NAME[:SEVERITY],...]   (the shift suite, docs/SHIFT.md) */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "core/common.h"
#include "train/trainer.h"

int cmd_eval(int argc, char **argv)
{
    const char *run = NULL, *data = NULL, *split = "test", *device = NULL, *shift = NULL;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        int v = i + 1 < argc;
        if (!strcmp(argv[i], "--data") && v)
            data = argv[++i];
        else if (!strcmp(argv[i], "--split") && v)
            split = argv[++i];
        else if (!strcmp(argv[i], "--shift") && v)
            shift = argv[++i];
        else if (!strcmp(argv[i], "--device") && v)
            device = argv[++i];
        else if (!strcmp(argv[i], "--json"))
            json = 1;
        else if (cli_common_flag(argv[i]))
            ;
        else if (argv[i][0] != '-' && !run)
            run = argv[i];
        else {
            char msg[300];
            snprintf(msg, sizeof msg, "unexpected argument '%s'", argv[i]);
            return cli_usage_error("eval", msg);
        }
    }
    if (!run) {
        return cli_usage_error("eval", "missing RUN_DIR");
    }
    char err[MOVL_ERRLEN] = "";
    int rc = shift ? movl_eval_shift_run(run, data, split, shift, device, json, err)
                   : movl_eval_run(run, data, split, device, json, err);
    if (rc)
        fprintf(stderr, "movl eval: %s\n", err);
    return rc;
}
