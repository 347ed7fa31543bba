/* Subcommands of the movl program; each returns the process exit code. */
#ifndef MOVL_COMMANDS_H
#define MOVL_COMMANDS_H

int cmd_devices(int argc, char **argv);
int cmd_classify(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_features(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_sweep(int argc, char **argv);

/* Shared option scanning: "-v" anywhere after the command raises verbosity. */
int cli_common_flag(const char *arg);

#endif
