/* Whole small files into memory: text, and JSON through cJSON. One place
 * for the size limit, the error lines and the clean-up. */
#ifndef MOVL_FILE_READ_H
#define MOVL_FILE_READ_H

#include <cjson/cJSON.h>
#include <stddef.h>

/* The file's bytes plus a terminating NUL (malloc'd; caller frees), or NULL
 * with one line in err: "PATH: cannot open (reason)" or "PATH: larger than
 * MAX bytes". *missing (may be NULL) is set to 1 when the file does not exist. */
char *movl_read_text(const char *path, size_t max, int *missing, char *err);

/* The parsed JSON document (cJSON_Delete it), or NULL with err as above or
 * "PATH: not valid JSON". Files up to 64 MiB. */
cJSON *movl_read_json(const char *path, int *missing, char *err);

#endif
