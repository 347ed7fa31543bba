/* Shared conventions of libmovl: exit codes, error buffers, small helpers. */
#ifndef MOVL_COMMON_H
#define MOVL_COMMON_H

#include <stddef.h>

/* Exit codes of the movl program, also used as function results:
 * 0 ok, 1 the run failed (device, driver, out of memory), 2 bad input
 * (config, image, dataset, weights file, device selector). */
enum { MOVL_OK = 0, MOVL_ERR_RUN = 1, MOVL_ERR_INPUT = 2 };

/* Every fallible function takes an error buffer of this size and writes one
 * line into it (no trailing newline) when it fails. */
#define MOVL_ERRLEN 512

/* A run folder's resume checkpoint: one safetensors file whose metadata
 * carries the progress; its presence marks a run that has started. */
#define MOVL_CHECKPOINT_FILE "resume.safetensors"
#define MOVL_CHECKPOINT_FORMAT "movl-resume-2"

/* printf-style write of one error line into err (may be NULL). */
void movl_set_error(char *err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Verbosity of diagnostic output on stderr (set by -v). */
extern int movl_verbose;
/* 0 after --no-self-test: commands that do long work skip the driver self-test. */
extern int movl_self_test_enabled;

/* Monotonic wall clock in seconds. */
double movl_now(void);

#endif
