/* Small-file I/O shared by the commands: whole files into memory (text, and
 * JSON through cJSON), files written under a temporary name and renamed
 * into place, and folder creation. One place for the limits, the error
 * lines and the clean-up. */
#ifndef MOVL_FILE_IO_H
#define MOVL_FILE_IO_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdio.h>

/* The file's bytes plus a terminating NUL (malloc'd; caller frees), or NULL
 * with one line in err: "PATH: cannot open (reason)" or "PATH: larger than
 * MAX bytes". *missing (may be NULL) is set to 1 when the file does not exist. */
char *movl_read_text(const char *path, size_t max, int *missing, char *err);

/* The parsed JSON document (cJSON_Delete it), or NULL with err as above or
 * "PATH: not valid JSON". Files up to 64 MiB. */
cJSON *movl_read_json(const char *path, int *missing, char *err);

/* Output through a temporary name: movl_tmp_open opens PATH.tmp for writing
 * (its name goes to tmp, n bytes); movl_tmp_commit closes it and renames it
 * to PATH, or removes it on any error. Both write one line into err naming
 * the file when they fail (MOVL_ERR_RUN). */
FILE *movl_tmp_open(const char *path, char *tmp, size_t n, char *err);
int movl_tmp_commit(FILE *f, const char *tmp, const char *path, char *err);

/* mkdir -p: 0, or -1 with errno set (the component that failed is lost). */
int movl_mkdir_p(const char *dir);

#endif
