/* Pieces of `movl sweep` (tools/cmd_sweep.c): running the points locally
 * over one or more devices, and submitting them as a Slurm job array. */
#ifndef MOVL_SWEEP_CLI_H
#define MOVL_SWEEP_CLI_H

#include "sweep/sweep.h"

/* Absolute path of the running movl binary (children and Slurm tasks run it). */
int sweep_self_exe(char *buf, size_t n, char *err);

/* Runs every point that is not complete, at most one at a time per entry of
 * devices (a selector may repeat to run two points on one device), each as
 * `movl sweep run-point DIR I --device SEL` with its output in
 * DIR/logs/NAME.log. Returns MOVL_OK when every point is complete,
 * MOVL_ERR_RUN if some failed, MOVL_INTERRUPTED when stopped by a signal. */
int sweep_run_local(const char *dir, const movl_sweep *s, char *const *devices, int ndev, char *err);

/* movl sweep run-point DIR INDEX [--device SEL] (tools/sweep_point.c). Exit
 * code MOVL_ERR_BUSY when another process is running that point. */
int sweep_run_point(int argc, char **argv);

/* Where sbatch is on PATH (into buf), or 0 when it is not. */
int sweep_find_sbatch(char *buf, size_t n);

/* Writes DIR/slurm_job.sh for the points that are not complete and submits
 * it with `sbatch --parsable OPTIONS... DIR/slurm_job.sh`. *submitted
 * receives the number of points in the array (0: nothing left to do). */
int sweep_submit_slurm(const char *dir, const movl_sweep *s, const char *sbatch, char *const *sbatch_opts,
                       int nopts, int self_test, int *submitted, char *err);

#endif
