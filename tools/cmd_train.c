/* movl train EXP.ini [-s section.key=value ...] [--device SEL]
 * movl train --resume RUN_DIR
 * Validates the experiment, creates its run directory (output_dir/name, or
 * name-2, name-3 ... when taken), and trains. A run stopped by Ctrl-C or
 * kill (SIGKILL too) continues with --resume and ends as an uninterrupted run
 * would; one killed before its first checkpoint starts again from its config. */
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
#include "core/file_lock.h"
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

/* One `movl train` per run folder: a second one (two --resume of one run, or
 * a resume while the run still trains) would interleave its checkpoints with
 * the first's. The lock is RUN_DIR/train.lock, held until this process exits. */
static int lock_run_dir(const char *dir, int *fd, char *err)
{
    char path[1400], why[MOVL_ERRLEN];
    snprintf(path, sizeof path, "%s/train.lock", dir);
    int busy;
    if ((*fd = movl_lock_take(path, &busy, why)) >= 0)
        return MOVL_OK;
    if (busy) {
        movl_set_error(err, "%s: another movl train is using this run folder (%s)", dir, why);
        return MOVL_ERR_BUSY;
    }
    movl_set_error(err, "%s", why);
    return MOVL_ERR_RUN;
}

/* With the run folder locked: a complete run is refused; a run killed before
 * its first checkpoint starts again from config.ini; temporary files of
 * writers that died (a SIGKILL mid-write) are removed. */
static int check_resumable(const char *dir, int *from_checkpoint, char *err)
{
    char path[1400];
    snprintf(path, sizeof path, "%s/summary.json", dir);
    if (access(path, F_OK) == 0) {
        movl_set_error(err, "%s: the run is already complete (summary.json exists)", dir);
        return MOVL_ERR_INPUT;
    }
    snprintf(path, sizeof path, "%s/" MOVL_CHECKPOINT_FILE, dir);
    *from_checkpoint = access(path, F_OK) == 0;
    cli_remove_dead_temporaries(dir);
    return MOVL_OK;
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
    int rc, lock = -1, from_checkpoint = 0;
    if (resume) {
        snprintf(dir, sizeof dir, "%s", resume);
        snprintf(cfg, sizeof cfg, "%s/config.ini", resume);
        if (access(cfg, R_OK) != 0) {
            movl_set_error(err, "%s: not a run directory (no config.ini)", resume);
            rc = MOVL_ERR_INPUT;
        } else if ((rc = lock_run_dir(dir, &lock, err)) == MOVL_OK) {
            rc = check_resumable(dir, &from_checkpoint, err);
            if (rc == MOVL_OK)
                rc = movl_experiment_load(cfg, over, nover, 0, e, err);
        }
    } else {
        rc = movl_experiment_load(ini, over, nover, 0, e, err);
        if (rc == MOVL_OK && (rc = make_run_dir(e, dir, sizeof dir, err)) == MOVL_OK &&
            (rc = lock_run_dir(dir, &lock, err)) != MOVL_OK)
            cli_remove_unstarted_run(dir, NULL);
        if (rc == MOVL_OK) {
            snprintf(cfg, sizeof cfg, "%s/config.ini", dir);
            char comment[1400];
            snprintf(comment, sizeof comment, "resolved from %s by movl %s", ini, MOVL_VERSION);
            if ((rc = movl_experiment_write(e, cfg, comment, err)))
                cli_remove_unstarted_run(dir, NULL);
        }
    }
    if (rc == MOVL_OK) {
        printf("run directory: %s\n", dir);
        if (resume && !from_checkpoint)
            printf("no checkpoint yet (stopped before the first one): the run starts from its config.ini\n");
        fflush(stdout);
        rc = movl_train_run(e, dir, from_checkpoint, err);
        if (rc == MOVL_INTERRUPTED && resume && !from_checkpoint) /* the folder stays: it is the user's */
            movl_set_error(err, "interrupted; continue with: movl train --resume %s", dir);
        if (rc != MOVL_OK && !resume)
            cli_remove_unstarted_run(dir, NULL);
        if (rc == MOVL_OK)
            printf("done: %s/summary.json\n", dir);
    }
    if (lock >= 0)
        close(lock);
    if (rc != MOVL_OK)
        fprintf(stderr, "movl train: %s\n", err);
    free(e);
    free(over);
    return rc;
}
