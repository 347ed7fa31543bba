/* Subcommands of the movl program; each returns the process exit code. */
#ifndef MOVL_COMMANDS_H
#define MOVL_COMMANDS_H

#include <stddef.h>

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

#endif
