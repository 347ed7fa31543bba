/* Whole small files into memory. */
#include "core/file_io.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

FILE *movl_tmp_open(const char *path, char *tmp, size_t n, char *err)
{
    snprintf(tmp, n, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        movl_set_error(err, "%s: cannot write (%s)", tmp, strerror(errno));
    return f;
}

int movl_tmp_commit(FILE *f, const char *tmp, const char *path, char *err)
{
    int failed = ferror(f);
    if (fclose(f) || failed || rename(tmp, path)) {
        movl_set_error(err, "%s: cannot write (%s)", path, failed ? "write error" : strerror(errno));
        remove(tmp);
        return MOVL_ERR_RUN;
    }
    return MOVL_OK;
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
