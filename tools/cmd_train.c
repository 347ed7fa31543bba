/* movl train EXP.ini [-s section.key=value ...] [--device SEL]
 * movl train --resume RUN_DIR
 * Validates the experiment, creates its run directory (output_dir/name, or
 * name-2, name-3 ... when taken), and trains. A run stopped by Ctrl-C or
 * kill continues with --resume and ends as an uninterrupted run would. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "core/common.h"
#include "experiment/experiment.h"
#include "core/file_io.h"
#include "train/trainer.h"

/* Creates a fresh run directory; out receives its path. */
static int make_run_dir(const movl_experiment *e, char *out, size_t n, char *err)
{
    if (movl_mkdir_p(e->experiment.output_dir)) {
        movl_set_error(err, "[experiment] output_dir = %s: cannot create it (%s)", e->experiment.output_dir,
                       strerror(errno));
        return MOVL_ERR_INPUT;
    }
    for (int i = 1; i < 10000; i++) {
        if (i == 1)
            snprintf(out, n, "%s/%s", e->experiment.output_dir, e->experiment.name);
        else
            snprintf(out, n, "%s/%s-%d", e->experiment.output_dir, e->experiment.name, i);
        if (mkdir(out, 0755) == 0)
            return MOVL_OK;
        if (errno != EEXIST)
            break;
    }
    movl_set_error(err, "%s: cannot create the run directory (%s)", out, strerror(errno));
    return MOVL_ERR_RUN;
}

static int usage(const char *msg) { return cli_usage_error("train", msg); }

int cmd_train(int argc, char **argv)
{
    movl_train_catch_stops();
    const char *ini = NULL, *resume = NULL;
    const char **over = calloc((size_t)argc + 1, sizeof *over);
    char devsel[300];
    int nover = 0, nset = 0;
    for (int i = 1; i < argc; i++) {
        int v = i + 1 < argc;
        if (!strcmp(argv[i], "-s") && v) {
            over[nover++] = argv[++i];
            nset++;
        }
        else if (!strcmp(argv[i], "--resume") && v)
            resume = argv[++i];
        else if (!strcmp(argv[i], "--device") && v) {
            snprintf(devsel, sizeof devsel, "device.select=%s", argv[++i]);
            over[nover++] = devsel;
        } else if (cli_common_flag(argv[i]))
            ;
        else if (argv[i][0] == '-' || ini) {
            free(over);
            char msg[300];
            snprintf(msg, sizeof msg, "unexpected argument '%s'", argv[i]);
            return usage(msg);
        } else
            ini = argv[i];
    }
    if (!!ini == !!resume) {
        free(over);
        return usage("give an experiment file or --resume RUN_DIR");
    }
    if (resume && nset) {
        /* config.ini must keep describing the run: only the device may change. */
        free(over);
        return usage("--resume continues a run as its config.ini says: -s is not allowed (only --device)");
    }
    char err[MOVL_ERRLEN] = "", cfg[1400], dir[1300];
    movl_experiment *e = calloc(1, sizeof *e);
    int rc;
    if (resume) {
        snprintf(dir, sizeof dir, "%s", resume);
        snprintf(cfg, sizeof cfg, "%s/config.ini", resume);
        char done[1400];
        snprintf(done, sizeof done, "%s/summary.json", resume);
        if (access(cfg, R_OK) != 0) {
            movl_set_error(err, "%s: not a run directory (no config.ini)", resume);
            rc = MOVL_ERR_INPUT;
        } else if (access(done, F_OK) == 0) {
            movl_set_error(err, "%s: the run is already complete (summary.json exists)", resume);
            rc = MOVL_ERR_INPUT;
        } else {
            rc = movl_experiment_load(cfg, over, nover, 0, e, err);
        }
    } else {
        rc = movl_experiment_load(ini, over, nover, 0, e, err);
        if (rc == MOVL_OK && (rc = make_run_dir(e, dir, sizeof dir, err)) == MOVL_OK) {
            snprintf(cfg, sizeof cfg, "%s/config.ini", dir);
            char comment[1400];
            snprintf(comment, sizeof comment, "resolved from %s by movl %s", ini, MOVL_VERSION);
            if ((rc = movl_experiment_write(e, cfg, comment, err)))
                cli_remove_unstarted_run(dir, NULL);
        }
    }
    if (rc == MOVL_OK) {
        printf("run directory: %s\n", dir);
        fflush(stdout);
        rc = movl_train_run(e, dir, resume != NULL, err);
        if (rc != MOVL_OK && !resume)
            cli_remove_unstarted_run(dir, NULL);
        if (rc == MOVL_OK)
            printf("done: %s/summary.json\n", dir);
    }
    if (rc != MOVL_OK)
        fprintf(stderr, "movl train: %s\n", err);
    free(e);
    free(over);
    return rc;
}
