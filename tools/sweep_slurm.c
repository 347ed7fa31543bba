/* Sweeps on Slurm: one job array, one task per point that is not complete;
 * each task runs `movl sweep run-point DIR $SLURM_ARRAY_TASK_ID`. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/common.h"
#include "core/file_io.h"
#include "sweep_cli.h"

int sweep_find_sbatch(char *buf, size_t n)
{
    const char *path = getenv("PATH");
    if (!path)
        return 0;
    char copy[8192];
    snprintf(copy, sizeof copy, "%s", path);
    for (char *d = strtok(copy, ":"); d; d = strtok(NULL, ":")) {
        snprintf(buf, n, "%s/sbatch", *d ? d : ".");
        if (access(buf, X_OK) == 0)
            return 1;
    }
    return 0;
}

/* "0-3,5,7-9": the array indices of the points left, as ranges. */
static int array_spec(const char *dir, const movl_sweep *s, char *out, size_t n)
{
    int count = 0, len = 0;
    out[0] = 0;
    for (int p = 0; p < s->npoints; p++) {
        if (movl_sweep_point_state(dir, &s->points[p]) == MOVL_POINT_DONE)
            continue;
        int q = p;
        while (q + 1 < s->npoints && movl_sweep_point_state(dir, &s->points[q + 1]) != MOVL_POINT_DONE)
            q++;
        len += snprintf(out + len, (size_t)len < n ? n - (size_t)len : 0, q > p ? "%s%d-%d" : "%s%d", len ? "," : "",
                        p, q);
        count += q - p + 1;
        p = q;
    }
    return (size_t)len < n ? count : -1;
}

/* Single quotes for sh, so paths with spaces survive. */
static void sh_quote(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; *s; s++)
        if (*s == '\'')
            fputs("'\\''", f);
        else
            fputc(*s, f);
    fputc('\'', f);
}

static int write_job_script(const char *dir, const char *array, int self_test, char *path, size_t n, char *err)
{
    char exe[PATH_MAX], cwd[PATH_MAX];
    if (sweep_self_exe(exe, sizeof exe, err))
        return MOVL_ERR_RUN;
    if (!getcwd(cwd, sizeof cwd)) {
        movl_set_error(err, "cannot read the current folder (%s)", strerror(errno));
        return MOVL_ERR_RUN;
    }
    snprintf(path, n, "%s/slurm_job.sh", dir);
    movl_out_file out;
    if (movl_out_open(&out, path, err))
        return MOVL_ERR_RUN;
    FILE *f = out.f;
    /* Executable, so that a user can also run it by hand. */
    if (fchmod(fileno(f), 0755)) {
        movl_set_error(err, "%s: cannot make it executable (%s)", path, strerror(errno));
        movl_out_abort(&out);
        return MOVL_ERR_RUN;
    }
    /* Options given to sbatch on its command line override these #SBATCH lines. */
    fprintf(f, "#!/bin/sh\n# Written by movl sweep: one array task per sweep point.\n");
    fprintf(f, "#SBATCH --job-name=movl-sweep\n#SBATCH --array=%s\n", array);
    fprintf(f, "#SBATCH --output=%s/logs/slurm-%%A_%%a.out\n#SBATCH --chdir=%s\n", dir, cwd);
    fprintf(f, "exec ");
    sh_quote(f, exe);
    fprintf(f, " sweep run-point ");
    sh_quote(f, dir);
    fprintf(f, " \"$SLURM_ARRAY_TASK_ID\"%s\n", self_test ? "" : " --no-self-test");
    return movl_out_commit(&out, err);
}

int sweep_submit_slurm(const char *dir, const movl_sweep *s, const char *sbatch, char *const *sbatch_opts,
                       int nopts, int self_test, int *submitted, char *err)
{
    char array[8192], script[PATH_MAX + 32];
    int count = array_spec(dir, s, array, sizeof array);
    *submitted = 0;
    if (count < 0) {
        movl_set_error(err, "too many separate ranges of points left for one --array option");
        return MOVL_ERR_RUN;
    }
    if (count == 0)
        return MOVL_OK;
    int rc = write_job_script(dir, array, self_test, script, sizeof script, err);
    if (rc)
        return rc;
    char **argv = calloc((size_t)nopts + 4, sizeof *argv);
    int pipefd[2];
    if (!argv || pipe(pipefd)) {
        free(argv);
        movl_set_error(err, "cannot start sbatch (%s)", strerror(errno));
        return MOVL_ERR_RUN;
    }
    int ac = 0;
    argv[ac++] = "sbatch";
    argv[ac++] = "--parsable";
    for (int i = 0; i < nopts; i++)
        argv[ac++] = sbatch_opts[i];
    argv[ac++] = script;
    printf("submitting %d points to Slurm: %s --parsable", count, sbatch);
    for (int i = 0; i < nopts; i++)
        printf(" %s", sbatch_opts[i]);
    printf(" %s\n", script);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(pipefd[1], 1);
        close(pipefd[0]);
        close(pipefd[1]);
        execv(sbatch, argv);
        _exit(MOVL_ERR_EXEC);
    }
    close(pipefd[1]);
    char out[256] = "";
    ssize_t got = pid > 0 ? read(pipefd[0], out, sizeof out - 1) : -1;
    out[got > 0 ? got : 0] = 0;
    out[strcspn(out, ";\n")] = 0; /* --parsable: "JOBID" or "JOBID;CLUSTER" */
    close(pipefd[0]);
    int status = 0;
    /* sbatch --wait (an sbatch option the user may pass) blocks here until the array ends. */
    while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    free(argv);
    if (pid < 0 || !WIFEXITED(status) || (WEXITSTATUS(status) != 0 && !out[0])) {
        movl_set_error(err, "sbatch failed (exit %d; its message is above)", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        return MOVL_ERR_RUN;
    }
    printf("submitted Slurm job array %s: %d points; logs in %s/logs, results: movl sweep collect %s\n", out, count,
           dir, dir);
    *submitted = count;
    if (WEXITSTATUS(status) != 0) {
        /* With --wait, sbatch's exit code is the array's: some task failed. */
        movl_set_error(err, "Slurm job array %s ended with exit code %d (see %s/logs)", out, WEXITSTATUS(status), dir);
        return MOVL_ERR_RUN;
    }
    return MOVL_OK;
}
