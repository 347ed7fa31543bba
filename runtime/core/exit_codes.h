/* Every exit code of the movl program, in one place. They double as
 * function results (MOVL_OK, MOVL_ERR_*), so a command returns what its
 * work returned. Macros, so that shell-facing code and #if can use them. */
#ifndef MOVL_EXIT_CODES_H
#define MOVL_EXIT_CODES_H

/* Success. */
#define MOVL_OK 0
/* The run failed: device, driver, file system, out of memory. */
#define MOVL_ERR_RUN 1
/* Bad input: config, image, dataset, weights file, device selector, arguments. */
#define MOVL_ERR_INPUT 2
/* The device gave wrong results in the driver self-test. */
#define MOVL_ERR_DEVICE 3
/* Another process holds the lock: movl sweep run-point on a point being run, movl train on a run folder
 * being trained (sysexits' EX_TEMPFAIL). */
#define MOVL_ERR_BUSY 75
/* A forked child could not exec its program (the shell's "cannot run" code). */
#define MOVL_ERR_EXEC 127
/* Stopped by SIGINT/SIGTERM (128 + SIGINT, as a shell reports it); a started run has its checkpoint. */
#define MOVL_INTERRUPTED 130

#endif
