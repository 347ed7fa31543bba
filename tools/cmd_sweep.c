/* movl sweep EXP.ini [-s k=v ...] [--out DIR] [--devices SEL,SEL...] [--slurm [SBATCH OPTIONS...]]
 * movl sweep collect DIR
 * movl sweep run-point DIR INDEX [--device SEL]     (one point; what each local child and Slurm task runs)
 * Every point of the experiment's [sweep] section becomes one run directory
 * under the sweep directory; complete points are skipped, so running the same
 * command again continues a stopped sweep. */
#define _XOPEN_SOURCE 700 /* realpath */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "core/common.h"
#include "device/device.h"
#include "experiment/experiment.h"
#include "core/file_io.h"
#include "sweep/sweep.h"
#include "sweep_cli.h"

static int usage(const char *msg) { return cli_usage_error("sweep", msg); }

/* Paths in sweep.ini become absolute, so that points started from another
 * folder (a Slurm node's job directory) read the same files. */
static void absolutize(char *path, size_t n)
{
    char abs[PATH_MAX];
    if (path[0] && path[0] != '/' && realpath(path, abs) && strlen(abs) < n)
        memcpy(path, abs, strlen(abs) + 1);
}


/* Writes DIR/sweep.ini, or checks that the one there says the same (a
 * sweep directory belongs to one experiment: mixing two would mix results). */
static int write_or_check_ini(const movl_experiment *e, const char *ini, const char *dir, char *err)
{
    char path[PATH_MAX + 16], comment[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/sweep.ini", dir);
    snprintf(comment, sizeof comment, "sweep of %s, resolved by movl %s", ini, MOVL_VERSION);
    if (access(path, F_OK) != 0)
        return movl_experiment_write(e, path, comment, err);
    /* The experiment as it resolves now, in memory, against the file's text after its comment line. */
    char *fresh = NULL, why[MOVL_ERRLEN];
    size_t len = 0;
    FILE *mem = open_memstream(&fresh, &len);
    int rc = mem ? movl_experiment_print(e, mem, err) : MOVL_ERR_RUN;
    if (mem)
        fclose(mem);
    if (rc) {
        free(fresh);
        return rc;
    }
    char *old = movl_read_text(path, 1 << 20, NULL, why);
    const char *body = old ? strchr(old, '\n') : NULL;
    body = body ? body + 1 : NULL;
    if (!body || strcmp(body, fresh)) {
        int line = 2;
        for (const char *p = body, *q = fresh; p && *p && *p == *q; p++, q++)
            line += *p == '\n';
        movl_set_error(err,
                       "%s was made from a different experiment (differs at line %d); give --out another folder "
                       "or remove %s",
                       path, line, dir);
        rc = MOVL_ERR_INPUT;
    }
    free(old), free(fresh);
    return rc;
}

/* Each point must be a valid experiment on its own (e.g. a prompt size that
 * fits the image): checked before anything runs or is submitted. */
static int check_points(const char *ini, const char *const *over, int nover, const movl_sweep *s, char *err)
{
    const char **all = calloc((size_t)(nover + s->nkeys), sizeof *all);
    char(*kv)[MOVL_CFG_NAMELEN * 2 + 2] = calloc((size_t)s->nkeys, sizeof *kv);
    movl_experiment *e = malloc(sizeof *e);
    int rc = all && kv && e ? MOVL_OK : MOVL_ERR_RUN;
    for (int i = 0; i < nover && !rc; i++)
        all[i] = over[i];
    for (int p = 0; p < s->npoints && !rc; p++) {
        for (int k = 0; k < s->nkeys; k++) {
            movl_sweep_override(s, p, k, kv[k], sizeof kv[k]);
            all[nover + k] = kv[k];
        }
        char why[MOVL_ERRLEN];
        if ((rc = movl_experiment_load(ini, all, nover + s->nkeys, 0, e, why)))
            movl_set_error(err, "sweep point %s: %s", s->points[p].name, why);
    }
    free(all), free(kv), free(e);
    return rc;
}

typedef struct sweep_args {
    const char *ini, *out;
    const char **over;
    int nover;
    char *devices[64];
    int ndev;
    int slurm, nsbatch;
    char **sbatch_opts;
} sweep_args;

/* "--devices all": every device of every platform, as "P:D,P:D,..." (empty when none). */
static void all_devices(char *buf, size_t n)
{
    movl_device_info *list;
    int count, len = 0;
    char err[MOVL_ERRLEN];
    buf[0] = 0;
    if (movl_device_list(&list, &count, err))
        return;
    for (int i = 0; i < count && (size_t)len + 24 < n; i++)
        len += snprintf(buf + len, n - (size_t)len, "%s%d:%d", i ? "," : "", list[i].platform_index,
                        list[i].device_index);
    free(list);
}

static int parse(int argc, char **argv, sweep_args *a)
{
    static char devlist[4096];
    for (int i = 1; i < argc; i++) {
        int v = i + 1 < argc;
        if (!strcmp(argv[i], "-s") && v)
            a->over[a->nover++] = argv[++i];
        else if (!strcmp(argv[i], "--out") && v)
            a->out = argv[++i];
        else if (!strcmp(argv[i], "--devices") && v) {
            snprintf(devlist, sizeof devlist, "%s", argv[++i]);
            if (!strcmp(devlist, "all"))
                all_devices(devlist, sizeof devlist);
            for (char *t = strtok(devlist, ","); t && a->ndev < 64; t = strtok(NULL, ","))
                a->devices[a->ndev++] = t;
            if (a->ndev == 0)
                return usage("--devices expects all or a comma-separated list of device selectors (e.g. 0,1)");
        } else if (!strcmp(argv[i], "--slurm")) {
            a->slurm = 1;
            a->sbatch_opts = argv + i + 1;
            a->nsbatch = argc - i - 1;
            break;
        } else if (cli_common_flag(argv[i]))
            ;
        else if (argv[i][0] == '-' || a->ini) {
            char msg[300];
            snprintf(msg, sizeof msg, "unexpected argument '%s'", argv[i]);
            return usage(msg);
        } else
            a->ini = argv[i];
    }
    if (!a->ini)
        return usage("give an experiment file with a [sweep] section");
    if (a->slurm && a->ndev)
        return usage("--devices is for local sweeps; on Slurm each task picks a device of its node");
    return MOVL_OK;
}

/* The devices a local sweep uses: each opened once, checked, closed (children open their own). */
static int check_devices(char *const *devices, int ndev, char *err)
{
    for (int i = 0; i < ndev; i++) {
        int seen = 0;
        for (int j = 0; j < i; j++)
            seen |= !strcmp(devices[i], devices[j]);
        if (seen)
            continue;
        char name[256], summary[256];
        int rc = cli_device_check(devices[i], movl_self_test_enabled, name, sizeof name, summary, sizeof summary, err);
        if (rc)
            return rc;
        if (movl_self_test_enabled)
            printf("device %s (%s): self-test ok\n", devices[i][0] ? devices[i] : "(default)", name);
    }
    return MOVL_OK;
}

/* Collects what finished after a run; the run's own error (some points
 * failed) stays the one reported, collect's only when the run went well. */
static int collect_after(const char *absdir, const char *dir, int rc, char *err)
{
    char cerr[MOVL_ERRLEN] = "";
    int complete, crc = movl_sweep_collect(absdir, &complete, cerr);
    if (crc == MOVL_OK)
        printf("results: %s/results.md, results.csv, sweep.png\n", dir);
    else if (rc == MOVL_OK)
        memcpy(err, cerr, MOVL_ERRLEN);
    else
        fprintf(stderr, "movl sweep: %s\n", cerr);
    return rc == MOVL_OK ? crc : rc;
}

/* Slurm reads paths in #SBATCH lines unquoted and expands '%' in them. */
static int check_slurm_path(const char *what, const char *path, char *err)
{
    if (strpbrk(path, " \t\n%'\"\\")) {
        movl_set_error(err, "--slurm: %s '%s' holds a space, quote or '%%', which Slurm's #SBATCH lines cannot "
                            "carry; use --out with a plain folder name", what, path);
        return MOVL_ERR_INPUT;
    }
    return MOVL_OK;
}

static int run_sweep(int argc, char **argv)
{
    sweep_args a = {0};
    a.over = calloc((size_t)argc + 1, sizeof *a.over);
    movl_experiment *e = calloc(1, sizeof *e);
    char err[MOVL_ERRLEN] = "", dir[PATH_MAX], sbatch[PATH_MAX];
    movl_sweep s = {0};
    int rc = a.over && e ? parse(argc, argv, &a) : MOVL_ERR_RUN;
    if (rc)
        goto done;
    /* Without Slurm nothing is created: the check comes before everything else. */
    if (a.slurm && !sweep_find_sbatch(sbatch, sizeof sbatch)) {
        movl_set_error(err, "--slurm: sbatch not found on PATH (install Slurm's client commands, e.g. Debian's "
                            "slurm-client, or run the sweep here without --slurm)");
        rc = MOVL_ERR_INPUT;
        goto done;
    }
    if ((rc = movl_experiment_load(a.ini, a.over, a.nover, 0, e, err)) ||
        (rc = movl_sweep_expand(e, a.ini, &s, err)) || (rc = check_points(a.ini, a.over, a.nover, &s, err)))
        goto done;
    absolutize(e->data.path, sizeof e->data.path);
    absolutize(e->encoder.weights, sizeof e->encoder.weights);
    if (a.out)
        snprintf(dir, sizeof dir, "%s", a.out);
    else
        snprintf(dir, sizeof dir, "%s/%s", e->experiment.output_dir, e->experiment.name);
    if (!a.slurm && a.ndev == 0) {
        const char *env = getenv("MOVL_DEVICE");
        a.devices[a.ndev++] = (char *)(e->device.select[0] ? e->device.select : env && *env ? env : "");
    }
    char cwd[PATH_MAX];
    if (a.slurm && ((rc = check_slurm_path("sweep folder", dir, err)) ||
                    (rc = check_slurm_path("current folder", getcwd(cwd, sizeof cwd) ? cwd : "", err))))
        goto done;
    /* Devices are checked before the sweep directory exists: a bad one leaves nothing behind. */
    if (!a.slurm && (rc = check_devices(a.devices, a.ndev, err)))
        goto done;
    char logs[PATH_MAX + 8];
    snprintf(logs, sizeof logs, "%s/logs", dir);
    if (movl_mkdir_p(logs)) {
        movl_set_error(err, "%s: cannot create the folder (%s)", logs, strerror(errno));
        rc = MOVL_ERR_INPUT;
        goto done;
    }
    char absdir[PATH_MAX];
    if (!realpath(dir, absdir)) {
        movl_set_error(err, "%s: %s", dir, strerror(errno));
        rc = MOVL_ERR_RUN;
        goto done;
    }
    if ((rc = write_or_check_ini(e, a.ini, absdir, err)) || (rc = movl_sweep_write_points(&s, absdir, err)))
        goto done;
    printf("sweep %s: %d points (%d keys, %s)\n", absdir, s.npoints, s.nkeys,
           e->sweep.mode == MOVL_SWEEP_ZIP ? "zip" : "grid");
    fflush(stdout);
    if (a.slurm) {
        int n = 0;
        rc = sweep_submit_slurm(absdir, &s, sbatch, a.sbatch_opts, a.nsbatch, movl_self_test_enabled, &n, err);
        if (rc == MOVL_OK && n == 0)
            printf("all %d points are complete: nothing submitted\n", s.npoints);
        int complete = 0;
        for (int p = 0; p < s.npoints; p++)
            complete += movl_sweep_point_state(absdir, &s.points[p]) == MOVL_POINT_DONE;
        /* After sbatch --wait (or when nothing was left) the results are there: collect them,
         * also when some tasks failed (--wait then returns the array's failure). */
        if ((rc == MOVL_OK && complete == s.npoints) || (rc == MOVL_ERR_RUN && n > 0 && complete > 0))
            rc = collect_after(absdir, dir, rc, err);
        goto done;
    }
    rc = sweep_run_local(absdir, &s, a.devices, a.ndev, err);
    if (rc == MOVL_OK || rc == MOVL_ERR_RUN)
        rc = collect_after(absdir, dir, rc, err);
done:
    if (rc && err[0])
        fprintf(stderr, "movl sweep: %s\n", err);
    movl_sweep_free(&s);
    free(a.over);
    free(e);
    return rc;
}

static int collect(int argc, char **argv)
{
    if (argc != 3)
        return usage("collect takes one sweep directory");
    char err[MOVL_ERRLEN] = "";
    int complete = 0, rc = movl_sweep_collect(argv[2], &complete, err);
    if (rc) {
        fprintf(stderr, "movl sweep collect: %s\n", err);
        return rc;
    }
    char md[PATH_MAX + 16], *text;
    snprintf(md, sizeof md, "%s/results.md", argv[2]);
    if ((text = movl_read_text(md, 1 << 24, NULL, err))) {
        fputs(text, stdout);
        free(text);
    }
    printf("\nwritten: %s/results.csv, %s/results.md, %s/sweep.png\n", argv[2], argv[2], argv[2]);
    return MOVL_OK;
}

int cmd_sweep(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "collect"))
        return collect(argc, argv);
    if (argc >= 2 && !strcmp(argv[1], "run-point"))
        return sweep_run_point(argc, argv);
    return run_sweep(argc, argv);
}
