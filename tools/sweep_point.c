/* movl sweep run-point DIR INDEX [--device SEL]: trains one point of a sweep
 * folder (fresh, or continued from its checkpoint, or nothing when complete).
 * What each local child process and each Slurm array task runs. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "core/common.h"
#include "core/file_lock.h"
#include "device/device.h"
#include "sweep/sweep.h"
#include "sweep_cli.h"

static int usage(const char *msg)
{
    fprintf(stderr, "movl sweep run-point: %s\n", msg);
    return cli_usage_error("sweep", NULL);
}

/* The device of a Slurm task that was given none: with several GPUs on the
 * node and none bound to the task by Slurm (no --gres), tasks spread over
 * them by array index; otherwise movl's default (first GPU, else CPU). */
static const char *task_device(char *buf, size_t n)
{
    const char *task = getenv("SLURM_ARRAY_TASK_ID");
    const char *bound[] = {"CUDA_VISIBLE_DEVICES", "ROCR_VISIBLE_DEVICES", "ZE_AFFINITY_MASK", "SLURM_JOB_GPUS"};
    if (!task || (getenv("MOVL_DEVICE") && *getenv("MOVL_DEVICE")))
        return NULL;
    for (size_t i = 0; i < sizeof bound / sizeof bound[0]; i++)
        if (getenv(bound[i]))
            return NULL;
    movl_device_info *list;
    int count, ngpu = 0;
    char err[MOVL_ERRLEN];
    if (movl_device_list(&list, &count, err))
        return NULL;
    for (int i = 0; i < count; i++)
        ngpu += list[i].is_gpu;
    const char *sel = NULL;
    if (ngpu > 1) {
        int want = atoi(task) % ngpu;
        for (int i = 0; i < count && !sel; i++)
            if (list[i].is_gpu && want-- == 0) {
                snprintf(buf, n, "%d:%d", list[i].platform_index, list[i].device_index);
                sel = buf;
            }
    }
    free(list);
    return sel;
}

/* One process per point at a time: a second sweep on the same folder (or a
 * Slurm array resubmitted while the first still runs) must not train the same
 * run folder twice. The lock lives as long as this process (fd left open). */
static int lock_point(const char *dir, const char *name, int *busy, char *err)
{
    char p[PATH_MAX + 512];
    snprintf(p, sizeof p, "%s/logs/%s.lock", dir, name);
    return movl_lock_take(p, busy, err);
}

int sweep_run_point(int argc, char **argv)
{
    const char *device = NULL;
    char err[MOVL_ERRLEN] = "", devbuf[32];
    if (argc < 4)
        return usage("takes a sweep directory and a point index");
    for (int i = 4; i < argc; i++) {
        if (!strcmp(argv[i], "--device") && i + 1 < argc)
            device = argv[++i];
        else if (!cli_common_flag(argv[i])) {
            char msg[300];
            snprintf(msg, sizeof msg, "unexpected argument '%s'", argv[i]);
            return usage(msg);
        }
    }
    const char *dir = argv[2];
    char *end;
    long idx = strtol(argv[3], &end, 10);
    movl_sweep s;
    int rc = movl_sweep_read_points(dir, &s, err);
    if (rc == MOVL_OK && (*end || end == argv[3] || idx < 0 || idx >= s.npoints)) {
        movl_set_error(err, "point index '%s' is not one of 0..%d of %s/points.csv", argv[3], s.npoints - 1, dir);
        rc = MOVL_ERR_INPUT;
    }
    if (rc) {
        fprintf(stderr, "movl sweep run-point: %s\n", err);
        movl_sweep_free(&s);
        return rc;
    }
    const movl_sweep_point *p = &s.points[idx];
    int busy;
    int lock = lock_point(dir, p->name, &busy, err);
    if (lock < 0 && busy) {
        printf("%s: already running in another process (%s)\n", p->name, err);
        movl_sweep_free(&s);
        return MOVL_ERR_BUSY;
    }
    if (lock < 0) {
        fprintf(stderr, "movl sweep run-point: %s\n", err);
        movl_sweep_free(&s);
        return MOVL_ERR_RUN;
    }
    if (!device)
        device = task_device(devbuf, sizeof devbuf);
    movl_point_state st = movl_sweep_point_state(dir, p);
    char target[PATH_MAX + 256], outdir[PATH_MAX + 64], name[MOVL_SWEEP_NAMELEN + 32], ini[PATH_MAX + 16];
    char kv[MOVL_SWEEP_MAX][MOVL_CFG_NAMELEN * 2 + 2];
    char *av[16 + 2 * MOVL_SWEEP_MAX];
    int ac = 0;
    av[ac++] = "train";
    if (st == MOVL_POINT_DONE) {
        printf("%s: already complete\n", p->name);
        movl_sweep_free(&s);
        close(lock);
        return MOVL_OK;
    } else if (st == MOVL_POINT_PARTIAL) {
        snprintf(target, sizeof target, "%s/%s", dir, p->name);
        av[ac++] = "--resume", av[ac++] = target;
    } else {
        snprintf(target, sizeof target, "%s/%s", dir, p->name);
        if ((rc = cli_remove_unstarted_run(target, err))) {
            fprintf(stderr, "movl sweep run-point: %s\n", err);
            movl_sweep_free(&s);
            close(lock);
            return rc;
        }
        snprintf(ini, sizeof ini, "%s/sweep.ini", dir);
        snprintf(outdir, sizeof outdir, "experiment.output_dir=%s", dir);
        snprintf(name, sizeof name, "experiment.name=%s", p->name);
        av[ac++] = ini;
        for (int k = 0; k < s.nkeys; k++) {
            movl_sweep_override(&s, (int)idx, k, kv[k], sizeof kv[k]);
            av[ac++] = "-s", av[ac++] = kv[k];
        }
        /* Last, so that they win: the run folder is the sweep's to name. */
        av[ac++] = "-s", av[ac++] = outdir, av[ac++] = "-s", av[ac++] = name;
    }
    if (device && *device)
        av[ac++] = "--device", av[ac++] = (char *)device;
    av[ac] = NULL;
    rc = cmd_train(ac, av);
    movl_sweep_free(&s);
    close(lock);
    return rc;
}

