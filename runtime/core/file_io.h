/* Small-file I/O shared by the commands: whole files into memory (text, and
 * JSON through cJSON), the one writer of output files (temporary name,
 * fsync, rename into place), and folder creation. One place for the limits, the error
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

/* Every file movl writes goes through this writer, so that a reader (or a
 * run killed half way) never sees a half-written file: the bytes go to a
 * temporary file beside the target, named PATH.tmp.PID (PATH.tmp.PID.N when
 * that exists), so two processes writing the same file never share one;
 * commit flushes and fsyncs it, renames it over PATH and fsyncs the folder.
 * On any error the temporary file is removed and err gets one line naming
 * PATH: "PATH: cannot write (reason)". Functions return MOVL_OK or
 * MOVL_ERR_RUN. */
typedef struct movl_out_file {
    FILE *f;          /* write the contents here */
    const char *path; /* the target; the caller's string, kept until commit or abort */
    char tmp[4200];   /* the temporary name */
} movl_out_file;

int movl_out_open(movl_out_file *o, const char *path, char *err);
/* Checks the stream for write errors, then puts the file in place. */
int movl_out_commit(movl_out_file *o, char *err);
/* Closes and removes the temporary file; err is left alone, for callers
 * that report their own reason (a bad value, an encoder error). */
void movl_out_abort(movl_out_file *o);
/* Abort after a failed write: also writes "PATH: cannot write (REASON)",
 * the reason from errno, so call it right after the write that failed. */
int movl_out_fail(movl_out_file *o, char *err);

/* The whole file in one call: n bytes to PATH through the writer above. */
int movl_write_file(const char *path, const void *bytes, size_t n, char *err);

/* mkdir -p: 0, or -1 with errno set (the component that failed is lost). */
int movl_mkdir_p(const char *dir);

#endif
