/* Shared conventions of libmovl: exit codes, error buffers, small helpers. */
#ifndef MOVL_COMMON_H
#define MOVL_COMMON_H

#include <stddef.h>

#include "core/exit_codes.h"

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
