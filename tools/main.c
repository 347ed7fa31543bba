/* movl: one binary of subcommands (darknet-style). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "core/common.h"

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *help;
} commands[] = {
    {"devices", cmd_devices, "list OpenCL devices and their selectors (--json; --check runs the self-test)"},
    {"classify", cmd_classify, "top-5 ImageNet classes of images (--arch A --weights W IMAGE...)"},
    {"train", cmd_train, "adapt an encoder as an experiment file says (EXP.ini [-s k=v]; --resume RUN_DIR)"},
    {"eval", cmd_eval, "metrics of a finished run on a split or another dataset (RUN_DIR [--data P] [--split S] [--shift all|NAME[:S],...])"},
    {"shift", cmd_shift, "corrupted copy of an npz, or a picture of the corruptions (IN.npz --out O.npz --corrupt NAME:S; --grid O.png)"},
    {"predict", cmd_predict, "class and probability per image (RUN_DIR IMAGE.png...)"},
    {"features", cmd_features, "export frozen features of a dataset (EXP.ini --out F.safetensors)"},
    {"sweep", cmd_sweep, "run every point of an experiment's [sweep] (EXP.ini [--devices A,B] [--slurm ...]; collect DIR)"},
    {"report", cmd_report, "comparison table of finished runs (RUN_DIR...)"},
    {"bench", cmd_bench, "per device: measured peaks, images/s, per-op roofline (--arch A,B --batch N,M [--all] [--json]; --compare F.json...)"},
};

static void usage(FILE *f)
{
    fprintf(f, "movl %s: adapt frozen pretrained vision encoders on any OpenCL device\n\n"
               "usage: movl [-v] COMMAND [ARGS]\n\ncommands:\n", MOVL_VERSION);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "\ncommon options: --device SEL (or env MOVL_DEVICE): P:D, flat index, cpu, gpu, or a name part;\n"
               "  -v prints device, driver and kernel build times;\n"
               "  --no-self-test skips the driver self-test that train, eval, sweep and bench run first.\n"
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
    for (size_t c = 0; c < sizeof commands / sizeof commands[0]; c++)
        if (!strcmp(argv[i], commands[c].name))
            return commands[c].run(argc - i, argv + i);
    fprintf(stderr, "movl: unknown command '%s' (see movl --help)\n", argv[i]);
    return MOVL_ERR_INPUT;
}
