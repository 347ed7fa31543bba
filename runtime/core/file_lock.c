/* Lock files: flock plus the holder's PID, for the message another process prints. */
#include "core/file_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "core/common.h"

int movl_lock_take(const char *path, int *busy, char *err)
{
    if (busy)
        *busy = 0;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        movl_set_error(err, "%s: cannot lock (%s)", path, strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int why = errno;
        char text[32] = "";
        ssize_t n = why == EWOULDBLOCK ? pread(fd, text, sizeof text - 1, 0) : -1;
        close(fd);
        if (why != EWOULDBLOCK) {
            movl_set_error(err, "%s: cannot lock (%s)", path, strerror(why));
            return -1;
        }
        text[n > 0 ? n : 0] = 0;
        long pid = strtol(text, NULL, 10);
        if (busy)
            *busy = 1;
        if (pid > 0)
            movl_set_error(err, "%s: held by another movl process (pid %ld)", path, pid);
        else
            movl_set_error(err, "%s: held by another movl process", path);
        return -1;
    }
    /* The PID is for messages only: the lock itself is the flock, so a failed write changes nothing. */
    char text[32];
    int n = snprintf(text, sizeof text, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, text, (size_t)n, 0) != n)
        errno = 0;
    return fd;
}
