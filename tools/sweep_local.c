/* Local sweeps: one child process per running point (`movl sweep run-point`),
 * at most one per device slot; Ctrl-C stops them at a checkpoint. Children
 * are separate processes, not threads: each owns its OpenCL context, and a
 * crash or a bad point cannot take the others down. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"
#include "file_read.h"
#include "sweep_cli.h"
#include "trainer.h"

static volatile sig_atomic_t stop_signal = 0;

static void on_signal(int sig)
{
    stop_signal = sig;
}

int sweep_self_exe(char *buf, size_t n, char *err)
{
    ssize_t len = readlink("/proc/self/exe", buf, n - 1);
    if (len <= 0) {
        movl_set_error(err, "cannot find the movl binary (/proc/self/exe: %s)", strerror(errno));
        return MOVL_ERR_RUN;
    }
    buf[len] = 0;
    return MOVL_OK;
}

typedef struct slot {
    const char *device;
    pid_t pid; /* 0 = free */
    int point;
    double t0;
} slot;

static pid_t start_point(const char *exe, const char *dir, const movl_sweep *s, int p, const char *device)
{
    char log[PATH_MAX + 256], index[16];
    snprintf(log, sizeof log, "%s/logs/%s.log", dir, s->points[p].name);
    snprintf(index, sizeof index, "%d", p);
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    /* Child: output to the point's log (appended: a resumed point keeps its history). */
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
        close(fd);
    }
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    execl(exe, "movl", "sweep", "run-point", dir, index, "--device", device, "--no-self-test", (char *)NULL);
    fprintf(stderr, "movl sweep: cannot run %s (%s)\n", exe, strerror(errno));
    _exit(MOVL_ERR_RUN);
}

/* "test acc 0.8438, auc 0.9250" from a finished point's summary.json. */
static void point_result(const char *dir, const movl_sweep_point *p, char *out, size_t n)
{
    char path[PATH_MAX + 256], why[MOVL_ERRLEN];
    snprintf(path, sizeof path, "%s/%s/summary.json", dir, p->name);
    cJSON *j = movl_read_json(path, NULL, why), *t = cJSON_GetObjectItemCaseSensitive(j, "test");
    cJSON *acc = cJSON_GetObjectItemCaseSensitive(t, "acc"), *auc = cJSON_GetObjectItemCaseSensitive(t, "auc");
    if (cJSON_IsNumber(acc) && cJSON_IsNumber(auc))
        snprintf(out, n, "test acc %.4f, auc %.4f", acc->valuedouble, auc->valuedouble);
    else
        snprintf(out, n, "no summary");
    cJSON_Delete(j);
}

/* The last non-empty line of a point's log, for a failure report. */
static void last_log_line(const char *dir, const movl_sweep_point *p, char *out, size_t n)
{
    char path[PATH_MAX + 256], line[1024];
    snprintf(path, sizeof path, "%s/logs/%s.log", dir, p->name);
    FILE *f = fopen(path, "r");
    snprintf(out, n, "(no output)");
    while (f && fgets(line, sizeof line, f))
        if (line[0] != '\n') {
            line[strcspn(line, "\n")] = 0;
            snprintf(out, n, "%s", line);
        }
    if (f)
        fclose(f);
}

static void forward_signal(slot *slots, int ndev, int sig)
{
    for (int i = 0; i < ndev; i++)
        if (slots[i].pid > 0)
            kill(slots[i].pid, sig);
}

int sweep_run_local(const char *dir, const movl_sweep *s, char *const *devices, int ndev, char *err)
{
    char exe[PATH_MAX];
    if (sweep_self_exe(exe, sizeof exe, err))
        return MOVL_ERR_RUN;
    slot *slots = calloc((size_t)ndev, sizeof *slots);
    int *todo = calloc((size_t)s->npoints, sizeof *todo), ntodo = 0, next = 0, running = 0, started = 0;
    int done_before = 0, done_now = 0, failed = 0, stopped = 0;
    if (!slots || !todo) {
        free(slots), free(todo);
        movl_set_error(err, "out of memory");
        return MOVL_ERR_RUN;
    }
    for (int p = 0; p < s->npoints; p++)
        if (movl_sweep_point_state(dir, &s->points[p]) == MOVL_POINT_DONE)
            done_before++;
        else
            todo[ntodo++] = p;
    for (int i = 0; i < ndev; i++)
        slots[i].device = devices[i];
    if (done_before)
        printf("%d of %d points already complete: skipped\n", done_before, s->npoints);
    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    stop_signal = 0;
    int forwarded = 0;
    while (next < ntodo || running > 0) {
        for (int i = 0; i < ndev && next < ntodo && !stop_signal; i++) {
            if (slots[i].pid)
                continue;
            int p = todo[next++];
            pid_t pid = start_point(exe, dir, s, p, slots[i].device);
            if (pid < 0) {
                printf("%s: cannot start (%s)\n", s->points[p].name, strerror(errno));
                failed++;
                continue;
            }
            slots[i] = (slot){slots[i].device, pid, p, movl_now()};
            running++;
            printf("[%d/%d] %s: started on device %s\n", done_before + ++started, s->npoints,
                   s->points[p].name, slots[i].device[0] ? slots[i].device : "(default)");
            fflush(stdout);
        }
        if (stop_signal && !forwarded) {
            /* Ctrl-C reaches the children by itself; kill(1) of the parent does not. */
            forward_signal(slots, ndev, stop_signal);
            forwarded = 1;
        }
        if (running == 0)
            break;
        int status;
        pid_t pid = waitpid(-1, &status, 0);
        if (pid < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        for (int i = 0; i < ndev; i++) {
            if (slots[i].pid != pid)
                continue;
            const movl_sweep_point *pt = &s->points[slots[i].point];
            int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            char what[1100];
            if (code == 0 && movl_sweep_point_state(dir, pt) == MOVL_POINT_DONE) {
                done_now++;
                point_result(dir, pt, what, sizeof what);
                printf("  %s: done in %.0f s, %s\n", pt->name, movl_now() - slots[i].t0, what);
            } else if (code == MOVL_INTERRUPTED) {
                stopped++;
                printf("  %s: stopped at its checkpoint\n", pt->name);
            } else {
                failed++;
                last_log_line(dir, pt, what, sizeof what);
                printf("  %s: FAILED (exit %d): %s (log: %s/logs/%s.log)\n", pt->name, code, what, dir, pt->name);
            }
            fflush(stdout);
            slots[i].pid = 0;
            running--;
        }
    }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    int left = s->npoints - done_before - done_now;
    printf("%d points: %d complete before, %d now, %d failed, %d left\n", s->npoints, done_before, done_now, failed,
           left);
    free(slots), free(todo);
    if (stop_signal || stopped) {
        movl_set_error(err, "stopped with %d points left; run the same command again to continue", left);
        return MOVL_INTERRUPTED;
    }
    if (failed) {
        movl_set_error(err, "%d of %d points failed (see their logs); run the same command again to retry them",
                       failed, s->npoints);
        return MOVL_ERR_RUN;
    }
    return MOVL_OK;
}
