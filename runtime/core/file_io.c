/* Whole small files into memory; the one writer of output files. */
#include "core/file_io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/common.h"

char *movl_read_text(const char *path, size_t max, int *missing, char *err)
{
    if (missing)
        *missing = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (missing)
            *missing = errno == ENOENT;
        movl_set_error(err, "%s: cannot open (%s)", path, strerror(errno));
        return NULL;
    }
    /* Read in chunks rather than trusting ftell: pipes and /proc files have no size. */
    size_t cap = 4096, len = 0, got;
    char *text = malloc(cap + 1);
    while (text && (got = fread(text + len, 1, cap - len, f)) > 0) {
        len += got;
        if (len > max)
            break;
        if (len == cap) {
            char *grown = realloc(text, (cap *= 2) + 1);
            if (!grown)
                free(text);
            text = grown;
        }
    }
    int failed = ferror(f);
    fclose(f);
    if (!text || failed || len > max) {
        if (!text)
            movl_set_error(err, "%s: out of memory", path);
        else if (failed)
            movl_set_error(err, "%s: read error", path);
        else
            movl_set_error(err, "%s: larger than %zu bytes", path, max);
        free(text);
        return NULL;
    }
    text[len] = 0;
    return text;
}

cJSON *movl_read_json(const char *path, int *missing, char *err)
{
    char *text = movl_read_text(path, (size_t)64 << 20, missing, err);
    if (!text)
        return NULL;
    cJSON *j = cJSON_Parse(text);
    free(text);
    if (!j)
        movl_set_error(err, "%s: not valid JSON", path);
    return j;
}

int movl_out_open(movl_out_file *o, const char *path, char *err)
{
    o->f = NULL;
    o->path = path;
    long pid = (long)getpid();
    /* O_EXCL: a name left by a dead process of the same PID, or one this
     * process has open for the same target, is skipped, never shared. */
    for (int n = 0; n < 100; n++) {
        int len = n ? snprintf(o->tmp, sizeof o->tmp, "%s.tmp.%ld.%d", path, pid, n)
                    : snprintf(o->tmp, sizeof o->tmp, "%s.tmp.%ld", path, pid);
        if (len < 0 || (size_t)len >= sizeof o->tmp) {
            movl_set_error(err, "%s: cannot write (%s)", path, strerror(ENAMETOOLONG));
            return MOVL_ERR_RUN;
        }
        /* 0666 less the umask: the same permissions as fopen would give */
        int fd = open(o->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno == EEXIST)
            continue;
        if (fd < 0) {
            movl_set_error(err, "%s: cannot write (%s)", path, strerror(errno));
            return MOVL_ERR_RUN;
        }
        o->f = fdopen(fd, "wb");
        if (!o->f) {
            movl_set_error(err, "%s: cannot write (%s)", path, strerror(errno));
            close(fd);
            unlink(o->tmp);
            return MOVL_ERR_RUN;
        }
        errno = 0; /* so that a later write error's reason is its own */
        return MOVL_OK;
    }
    movl_set_error(err, "%s: cannot write (%s)", path, strerror(EEXIST));
    return MOVL_ERR_RUN;
}

/* The rename is durable only once the folder holding the entry is synced. */
static int sync_folder(const char *path)
{
    const char *slash = strrchr(path, '/');
    char dir[4200];
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    /* EINVAL: a file system that cannot sync folders; nothing more to do there */
    int rc = fsync(fd) != 0 && errno != EINVAL ? -1 : 0;
    int saved = errno;
    close(fd);
    errno = saved;
    return rc;
}

int movl_out_commit(movl_out_file *o, char *err)
{
    int failed = ferror(o->f);
    errno = 0;
    int io = failed || fflush(o->f) != 0 || fsync(fileno(o->f)) != 0;
    int saved = errno;
    if (fclose(o->f) != 0 && !io) {
        io = 1;
        saved = errno;
    }
    o->f = NULL;
    if (!io && rename(o->tmp, o->path) != 0) {
        io = 1;
        saved = errno;
    }
    if (io) {
        movl_set_error(err, "%s: cannot write (%s)", o->path, saved ? strerror(saved) : "write error");
        unlink(o->tmp);
        return MOVL_ERR_RUN;
    }
    if (sync_folder(o->path) != 0) {
        movl_set_error(err, "%s: cannot write (syncing its folder: %s)", o->path, strerror(errno));
        return MOVL_ERR_RUN;
    }
    return MOVL_OK;
}

void movl_out_abort(movl_out_file *o)
{
    if (o->f)
        fclose(o->f);
    o->f = NULL;
    unlink(o->tmp);
}

int movl_out_fail(movl_out_file *o, char *err)
{
    int saved = errno; /* from the write that failed */
    movl_out_abort(o);
    movl_set_error(err, "%s: cannot write (%s)", o->path, saved ? strerror(saved) : "write error");
    return MOVL_ERR_RUN;
}

int movl_write_file(const char *path, const void *bytes, size_t n, char *err)
{
    movl_out_file o;
    if (movl_out_open(&o, path, err))
        return MOVL_ERR_RUN;
    if (n && fwrite(bytes, 1, n, o.f) != n)
        return movl_out_fail(&o, err);
    return movl_out_commit(&o, err);
}

int movl_mkdir_p(const char *dir)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s", dir) >= (int)sizeof tmp) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir(tmp, 0755) && errno != EEXIST)
                return -1;
            *p = '/';
        }
    return mkdir(tmp, 0755) && errno != EEXIST ? -1 : 0;
}
