/* Pieces several subcommands share: common flags, device checks, and the
 * clean-up of run folders that never started and of dead writers' temporary files. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "core/common.h"
#include "device/device.h"
#include "ops/selftest.h"

int cli_common_flag(const char *arg)
{
    if (!strcmp(arg, "-v") || !strcmp(arg, "--verbose")) {
        movl_verbose++;
        return 1;
    }
    if (!strcmp(arg, "--no-self-test")) {
        movl_self_test_enabled = 0;
        return 1;
    }
    return 0;
}

int cli_device_check(const char *selector, int self_test, char *name, size_t name_len, char *summary,
                     size_t summary_len, char *err)
{
    movl_device dev;
    int rc = movl_device_open(selector, 0, &dev, err);
    if (rc)
        return rc;
    if (name)
        snprintf(name, name_len, "%s", dev.info.name);
    if (self_test)
        rc = movl_device_self_test(&dev, summary, summary_len, err);
    movl_device_close(&dev);
    return rc;
}

int cli_remove_unstarted_run(const char *dir, char *err)
{
    char p[PATH_MAX + 512];
    snprintf(p, sizeof p, "%s/" MOVL_CHECKPOINT_FILE, dir);
    if (access(p, F_OK) == 0)
        return MOVL_OK;
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT)
            return MOVL_OK;
        movl_set_error(err, "%s: %s", dir, strerror(errno));
        return MOVL_ERR_RUN;
    }
    for (struct dirent *e; (e = readdir(d));) {
        struct stat st;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (lstat(p, &st) == 0 && S_ISREG(st.st_mode))
            remove(p);
    }
    closedir(d);
    if (rmdir(dir)) {
        movl_set_error(err, "%s: a run folder without a checkpoint that holds sub-folders; remove it (%s)", dir,
                       strerror(errno));
        return MOVL_ERR_INPUT;
    }
    return MOVL_OK;
}

/* The writer's PID of a temporary file name "NAME.tmp.PID" or "NAME.tmp.PID.N", or 0. */
static long temporary_writer(const char *name)
{
    const char *t = strstr(name, ".tmp.");
    if (!t || t == name)
        return 0;
    char *end;
    long pid = strtol(t + 5, &end, 10);
    if (pid <= 0 || end == t + 5)
        return 0;
    if (*end == '.') {
        const char *n = end + 1;
        strtol(n, &end, 10);
        if (end == n)
            return 0;
    }
    return *end ? 0 : pid;
}

void cli_remove_dead_temporaries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    char p[PATH_MAX + 512];
    for (struct dirent *e; (e = readdir(d));) {
        long pid = temporary_writer(e->d_name);
        struct stat st;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (pid && kill((pid_t)pid, 0) != 0 && errno == ESRCH && lstat(p, &st) == 0 && S_ISREG(st.st_mode))
            remove(p);
    }
    closedir(d);
}
