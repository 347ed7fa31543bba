/* Subcommands of the movl program; each returns the process exit code. */
#ifndef MOVL_COMMANDS_H
#define MOVL_COMMANDS_H

#include <stddef.h>
#include <stdio.h>

int cmd_devices(int argc, char **argv);
int cmd_classify(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_features(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_shift(int argc, char **argv);
int cmd_explain(int argc, char **argv);

/* The command table (command_usage.c): entry points and one usage text per command, for --help
 * and for usage errors. */
int cli_command_count(void);
const char *cli_command_name(int i);    /* in the order movl --help lists them */
const char *cli_command_summary(int i); /* its line in movl --help */
/* Runs command (argv[0]) with its arguments, or prints its usage on stdout when --help or -h is
 * among them (MOVL_OK); *found = 0 when there is no such command. */
int cli_command_run(const char *command, int argc, char **argv, int *found);
/* The command's usage text ("usage: movl COMMAND ...", then its options) into f. */
void cli_usage(const char *command, FILE *f);
/* "movl COMMAND: MSG" (when msg is not empty) and the usage on stderr; returns MOVL_ERR_INPUT. */
int cli_usage_error(const char *command, const char *msg);
/* 1 when an argument of the command is --help or -h (not the value of -s, nor one passed on to
 * another program, e.g. after sweep's --slurm). */
int cli_help_requested(const char *command, int argc, char **argv);

/* Shared option scanning: "-v" anywhere after the command raises verbosity,
 * "--no-self-test" turns the driver self-test off. */
int cli_common_flag(const char *arg);

/* Opens the device `selector` names, runs the driver self-test on it (when
 * self_test) and closes it: MOVL_OK with the device's name and the test's
 * summary line (either may be NULL), else the open or self-test error code
 * (MOVL_ERR_DEVICE for a wrong result) with one line in err. */
int cli_device_check(const char *selector, int self_test, char *name, size_t name_len, char *summary,
                     size_t summary_len, char *err);

/* Empties and removes a run folder that never reached a checkpoint (no
 * checkpoint file): what a run stopped or failing during set-up left, temporary
 * files included. Only plain files go; a sub-folder is someone else's data
 * (MOVL_ERR_INPUT). A folder with a checkpoint, or none at all: MOVL_OK. */
int cli_remove_unstarted_run(const char *dir, char *err);
/* Removes DIR's temporary files (NAME.tmp.PID, NAME.tmp.PID.N: core/file_io.h) whose writer PID is no
 * longer running: what a SIGKILL mid-write leaves. Call it only while holding the folder's lock. */
void cli_remove_dead_temporaries(const char *dir);

#endif
