/* Local sweeps: one child process per running point (`movl sweep run-point`),
 * at most one per device slot; Ctrl-C stops them at a checkpoint. Children
 * are separate processes, not threads: each owns its OpenCL context, and a
 * crash or a bad point cannot take the others down. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/common.h"
#include "sweep_cli.h"
#include "train/trainer.h"

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

static pid_t start_point(const char *exe, const char *dir, const movl_sweep *s, int p, const char *device,
                         const sigset_t *child_mask)
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
    /* The parent waits for these signals with them blocked; the point's trainer handles them itself. */
    sigprocmask(SIG_SETMASK, child_mask, NULL);
    execl(exe, "movl", "sweep", "run-point", dir, index, "--device", device, "--no-self-test", (char *)NULL);
    fprintf(stderr, "movl sweep: cannot run %s (%s)\n", exe, strerror(errno));
    _exit(MOVL_ERR_RUN);
}

/* "test acc 0.8438, auc 0.9250" from a finished point's summary.json. */
static void point_result(const char *dir, const movl_sweep_point *p, char *out, size_t n)
{
    double m[MOVL_SWEEP_NMETRICS];
    char why[MOVL_ERRLEN];
    if (movl_sweep_read_result(dir, p, m, why) > 0)
        snprintf(out, n, "test acc %.4f, auc %.4f", m[MOVL_SWEEP_TEST_ACC], m[MOVL_SWEEP_TEST_AUC]);
    else
        snprintf(out, n, "no summary");
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

/* One line for a finished child: done (with its test metrics), stopped at a
 * checkpoint, busy elsewhere, killed, or failed with its log's last line. */
typedef struct tally {
    int done_before, done_now, failed, stopped, killed, busy;
} tally;

static void report_exit(const char *dir, const slot *sl, const movl_sweep *s, int status, tally *n)
{
    const movl_sweep_point *pt = &s->points[sl->point];
    char what[1100];
    movl_point_state st = movl_sweep_point_state(dir, pt);
    if (WIFSIGNALED(status)) {
        n->killed++;
        printf("  %s: killed by signal %d (%s)\n", pt->name, WTERMSIG(status),
               st == MOVL_POINT_PARTIAL ? "resumes from its last checkpoint" : "starts again");
    } else if (WEXITSTATUS(status) == 0 && st == MOVL_POINT_DONE) {
        n->done_now++;
        point_result(dir, pt, what, sizeof what);
        printf("  %s: done in %.0f s, %s\n", pt->name, movl_now() - sl->t0, what);
    } else if (WEXITSTATUS(status) == MOVL_INTERRUPTED) {
        n->stopped++;
        printf("  %s: stopped %s\n", pt->name,
               st == MOVL_POINT_PARTIAL ? "at its checkpoint" : "before its first checkpoint (starts again)");
    } else if (WEXITSTATUS(status) == MOVL_ERR_BUSY) {
        n->busy++;
        printf("  %s: already running in another process: skipped\n", pt->name);
    } else {
        n->failed++;
        last_log_line(dir, pt, what, sizeof what);
        printf("  %s: FAILED (exit %d): %s (log: %s/logs/%s.log)\n", pt->name, WEXITSTATUS(status), what, dir,
               pt->name);
    }
    fflush(stdout);
}

int sweep_run_local(const char *dir, const movl_sweep *s, char *const *devices, int ndev, char *err)
{
    char exe[PATH_MAX];
    if (sweep_self_exe(exe, sizeof exe, err))
        return MOVL_ERR_RUN;
    slot *slots = calloc((size_t)ndev, sizeof *slots);
    int *todo = calloc((size_t)s->npoints, sizeof *todo), ntodo = 0, next = 0, running = 0, started = 0;
    tally n = {0};
    if (!slots || !todo) {
        free(slots), free(todo);
        movl_set_error(err, "out of memory");
        return MOVL_ERR_RUN;
    }
    for (int p = 0; p < s->npoints; p++)
        if (movl_sweep_point_state(dir, &s->points[p]) == MOVL_POINT_DONE)
            n.done_before++;
        else
            todo[ntodo++] = p;
    for (int i = 0; i < ndev; i++)
        slots[i].device = devices[i];
    if (n.done_before)
        printf("%d of %d points already complete: skipped\n", n.done_before, s->npoints);
    /* Signals are blocked and taken synchronously with sigwaitinfo: no handler,
     * so no window in which a Ctrl-C or SIGTERM is seen but not acted on. */
    sigset_t wait_set, old_mask;
    sigemptyset(&wait_set);
    sigaddset(&wait_set, SIGINT);
    sigaddset(&wait_set, SIGTERM);
    sigaddset(&wait_set, SIGCHLD);
    sigprocmask(SIG_BLOCK, &wait_set, &old_mask);
    int stop_signal = 0;
    while (next < ntodo || running > 0) {
        for (int i = 0; i < ndev && next < ntodo && !stop_signal; i++) {
            if (slots[i].pid)
                continue;
            int p = todo[next++];
            pid_t pid = start_point(exe, dir, s, p, slots[i].device, &old_mask);
            if (pid < 0) {
                printf("%s: cannot start (%s)\n", s->points[p].name, strerror(errno));
                n.failed++;
                continue;
            }
            slots[i] = (slot){slots[i].device, pid, p, movl_now()};
            running++;
            printf("[%d/%d] %s: started on device %s\n", n.done_before + ++started, s->npoints,
                   s->points[p].name, slots[i].device[0] ? slots[i].device : "(default)");
            fflush(stdout);
        }
        if (running == 0)
            break;
        siginfo_t info;
        int sig = sigwaitinfo(&wait_set, &info);
        if (sig == SIGINT || sig == SIGTERM) {
            /* Ctrl-C reaches the children by itself; kill(1) of the parent does not. A second
             * signal is passed on too: the trainers treat it like the first. */
            stop_signal = sig;
            forward_signal(slots, ndev, sig);
            continue;
        }
        int status;
        pid_t pid;
        while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
            for (int i = 0; i < ndev; i++) {
                if (slots[i].pid != pid)
                    continue;
                report_exit(dir, &slots[i], s, status, &n);
                slots[i].pid = 0;
                running--;
            }
        }
    }
    sigprocmask(SIG_SETMASK, &old_mask, NULL);
    int left = s->npoints - n.done_before - n.done_now;
    printf("%d points: %d complete before, %d now, %d failed, %d left", s->npoints, n.done_before, n.done_now,
           n.failed, left);
    printf(n.busy ? " (%d running in another process)\n" : "\n", n.busy);
    fflush(stdout); /* before the error line on stderr */
    free(slots), free(todo);
    if (stop_signal || n.stopped || n.killed) {
        movl_set_error(err, "stopped with %d points left; run the same command again to continue", left);
        return MOVL_INTERRUPTED;
    }
    if (n.failed) {
        movl_set_error(err, "%d of %d points failed (see their logs); run the same command again to retry them",
                       n.failed, s->npoints);
        return MOVL_ERR_RUN;
    }
    return MOVL_OK;
}
