/* movl: one binary of subcommands (darknet-style; the table is in command_usage.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "core/common.h"

static void usage(FILE *f)
{
    fprintf(f, "movl %s: adapt frozen pretrained vision encoders on any OpenCL device\n\n"
               "usage: movl [-v] COMMAND [ARGS]\n\ncommands:\n", MOVL_VERSION);
    for (int i = 0; i < cli_command_count(); i++)
        fprintf(f, "  %-10s %s\n", cli_command_name(i), cli_command_summary(i));
    fprintf(f, "\ncommon options: --device SEL (or env MOVL_DEVICE): P:D, flat index, cpu, gpu, or a name part;\n"
               "  -v prints device, driver and kernel build times;\n"
               "  --no-self-test skips the driver self-test that train, eval, sweep and bench run first;\n"
               "  movl COMMAND --help (or -h) prints that command's usage.\n"
               "exit codes: %d ok, %d run failed, %d bad input, %d device failed the self-test, %d interrupted\n",
            MOVL_OK, MOVL_ERR_RUN, MOVL_ERR_INPUT, MOVL_ERR_DEVICE, MOVL_INTERRUPTED);
}

int main(int argc, char **argv)
{
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose"))
            movl_verbose++;
        else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return MOVL_OK;
        } else if (!strcmp(argv[i], "--version")) {
            printf("movl %s\n", MOVL_VERSION);
            return MOVL_OK;
        } else {
            fprintf(stderr, "movl: unknown option '%s' (see movl --help)\n", argv[i]);
            return MOVL_ERR_INPUT;
        }
    }
    if (i >= argc) {
        usage(stderr);
        return MOVL_ERR_INPUT;
    }
    int found;
    int rc = cli_command_run(argv[i], argc - i, argv + i, &found);
    if (found)
        return rc;
    fprintf(stderr, "movl: unknown command '%s' (see movl --help)\n", argv[i]);
    return MOVL_ERR_INPUT;
}
