/* The commands of movl in one table: their entry points, and their usage
 * texts: `movl --help` lists the summaries, `movl COMMAND --help` (or -h)
 * prints the usage on stdout, and each command's usage error prints the same
 * text on stderr, so the two never drift apart. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "core/common.h"

typedef struct command_usage {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary; /* one line for movl --help */
    const char *usage;   /* lines starting "usage: movl NAME" / "       movl NAME", then the options */
    const char *stop;    /* an argument after which the rest is passed on unread (NULL: none) */
} command_usage;

static const command_usage usages[] = {
    {"devices", cmd_devices, "list OpenCL devices and their selectors (--json; --check runs the self-test)",
     "usage: movl devices [--json] [--check]\n"
     "  --json   one JSON object per device\n"
     "  --check  also run the driver self-test on every device (exit 3 when one fails)\n",
     NULL},
    {"classify", cmd_classify, "top-5 ImageNet classes of images (--arch A --weights W IMAGE...)",
     "usage: movl classify --arch ARCH --weights FILE.safetensors [--device SEL] [--size S] [--top K] [--json]\n"
     "                     [--save-tensors OUT.safetensors] IMAGE...\n"
     "  IMAGE is a PNG, JPEG or DICOM file; ARCH: resnet18, resnet34, resnet50, efficientnet_lite0..4\n",
     NULL},
    {"train", cmd_train, "adapt an encoder as an experiment file says (EXP.ini [-s k=v]; --resume RUN_DIR)",
     "usage: movl train EXP.ini [-s section.key=value ...] [--device SEL]\n"
     "       movl train --resume RUN_DIR [--device SEL]\n",
     NULL},
    {"eval", cmd_eval,
     "metrics of a finished run on a split or another dataset (RUN_DIR [--data P] [--split S] [--shift ...])",
     "usage: movl eval RUN_DIR [--data PATH] [--split test|val|train] [--device SEL] [--json]\n"
     "                 [--shift all|NAME[:SEVERITY],...]\n",
     NULL},
    {"shift", cmd_shift,
     "corrupted copy of an npz, or a picture of the corruptions (IN.npz --out O.npz --corrupt NAME:S; --grid O.png)",
     "usage: movl shift IN.npz --out OUT.npz --corrupt NAME:SEVERITY [--seed N] [--modality M]\n"
     "       movl shift DATASET --grid OUT.png [--corrupt all|NAME[:S],...] [--split test] [--index I] [--seed N]\n"
     "                  [--modality M]\n",
     NULL},
    {"predict", cmd_predict, "class and probability per image (RUN_DIR IMAGE...)",
     "usage: movl predict RUN_DIR [--device SEL] [--json] IMAGE...\n"
     "  IMAGE is a PNG, JPEG or DICOM file\n",
     NULL},
    {"explain", cmd_explain,
     "attribution maps of a run's class logit per image (RUN_DIR IMAGE... [--method M] [--class K])",
     "usage: movl explain RUN_DIR IMAGE... [--method grad|smoothgrad|integrated_gradients] [--class K] [--out DIR]\n"
     "                    [--device SEL] [--json] [--samples N] [--noise S] [--steps N] [--seed N]\n"
     "                    [--check-grad N] [--check-step H]\n"
     "  IMAGE is a PNG, JPEG or DICOM file; writes DIR/<image stem>_explain.png (DIR: RUN_DIR/explain)\n"
     "  --method M      grad (default): |d logit / d image|, max over channels; smoothgrad: its mean over\n"
     "                  noisy copies; integrated_gradients: from the black image (docs/EXPLAIN.md)\n"
     "  --class K       the class whose logit is explained (default: the predicted class)\n"
     "  --samples N     smoothgrad: noisy copies (default 25)\n"
     "  --noise S       smoothgrad: noise sigma as a fraction of the image's value range (default 0.15)\n"
     "  --seed N        smoothgrad: seed of the noise (default 0)\n"
     "  --steps N       integrated_gradients: trapezoid steps, N + 1 gradients (default 64)\n"
     "  --check-grad N  also compare the gradient with central finite differences at N elements (--json)\n"
     "  --check-step H  the finite differences' step in normalised input units (default 0.01)\n",
     NULL},
    {"features", cmd_features, "export frozen features of a dataset (EXP.ini --out F.safetensors)",
     "usage: movl features EXP.ini --out FILE.safetensors [-s section.key=value ...]\n", NULL},
    {"sweep", cmd_sweep,
     "run every point of an experiment's [sweep] (EXP.ini [--devices A,B] [--slurm ...]; collect DIR)",
     "usage: movl sweep EXP.ini [-s section.key=value ...] [--out DIR] [--devices all|SEL,SEL...]\n"
     "       movl sweep EXP.ini [-s ...] [--out DIR] --slurm [SBATCH OPTIONS...]\n"
     "       movl sweep collect DIR\n"
     "       movl sweep run-point DIR INDEX [--device SEL]\n",
     "--slurm"},
    {"report", cmd_report, "comparison table of finished runs (RUN_DIR...; --group [--csv] over seeds)",
     "usage: movl report RUN_DIR...\n"
     "       movl report --group [--csv] RUN_DIR...   (grouped over seeds)\n",
     NULL},
    {"bench", cmd_bench,
     "per device: measured peaks, images/s, per-op roofline "
     "(--arch A,B --batch N,M [--all] [--json]; --compare F.json...)",
     "usage: movl bench [--device SEL[,SEL...]]... | --all  [--arch A[,B...]] [--batch N[,M...]] [--size S]\n"
     "                  [--iters K] [--classes C] [--weights W] [--ff] [--json] [--no-self-test]\n"
     "       movl bench --compare A.json B.json ... [--png PATH]\n",
     NULL},
};

#define NUSAGES (int)(sizeof usages / sizeof usages[0])

static const command_usage *find(const char *name)
{
    for (int i = 0; i < NUSAGES; i++)
        if (name && !strcmp(usages[i].name, name))
            return &usages[i];
    return NULL;
}

int cli_command_count(void) { return NUSAGES; }
const char *cli_command_name(int i) { return i >= 0 && i < NUSAGES ? usages[i].name : NULL; }
const char *cli_command_summary(int i) { return i >= 0 && i < NUSAGES ? usages[i].summary : NULL; }

int cli_command_run(const char *command, int argc, char **argv, int *found)
{
    const command_usage *u = find(command);
    *found = u != NULL;
    if (!u)
        return MOVL_ERR_INPUT;
    if (cli_help_requested(command, argc, argv)) {
        fputs(u->usage, stdout);
        return MOVL_OK;
    }
    return u->run(argc, argv);
}

void cli_usage(const char *command, FILE *f)
{
    const command_usage *u = find(command);
    if (u)
        fputs(u->usage, f);
}

int cli_usage_error(const char *command, const char *msg)
{
    if (msg && *msg)
        fprintf(stderr, "movl %s: %s\n", command, msg);
    cli_usage(command, stderr);
    return MOVL_ERR_INPUT;
}

int cli_help_requested(const char *command, int argc, char **argv)
{
    const command_usage *u = find(command);
    for (int i = 1; i < argc; i++) {
        if (u && u->stop && !strcmp(argv[i], u->stop))
            return 0;
        if (!strcmp(argv[i], "-s")) { /* its value may be anything */
            i++;
            continue;
        }
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
            return 1;
    }
    return 0;
}
