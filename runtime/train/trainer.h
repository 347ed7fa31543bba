/* Training runs: `movl train` (and --resume) over a validated experiment. */
#ifndef MOVL_TRAINER_H
#define MOVL_TRAINER_H

#include "core/exit_codes.h"
#include "experiment/experiment.h"

/* Trains exp in run_dir (created by the caller, config.ini written) or, with
 * resume, continues the run whose checkpoint is in run_dir. Writes
 * metrics.csv, model.safetensors, prompt.png and prompt_applied.png (prompted
 * methods), confusion.csv and summary.json there, each through a temporary name. Returns MOVL_OK, MOVL_ERR_INPUT (bad
 * data or weights), MOVL_ERR_RUN, or MOVL_INTERRUPTED. */
int movl_train_run(const movl_experiment *exp, const char *run_dir, int resume, char *err);

/* From now on SIGINT/SIGTERM request a stop instead of killing the process:
 * the run stops at its next checkpoint, or ends cleanly if it has not begun
 * (MOVL_INTERRUPTED). Called by movl_train_run; call it earlier (before creating the
 * run directory) so that no moment of the command is left unguarded. */
void movl_train_catch_stops(void);

/* movl eval: reloads a finished run (config.ini + model.safetensors) and
 * prints the metrics of one split (train, val or test) of its dataset, or of
 * data_path (another dataset with the same classes, e.g. out of
 * distribution), as text or JSON. The whole split is used (no max_eval). */
int movl_eval_run(const char *run_dir, const char *data_path, const char *split, const char *device, int json,
                  char *err);

/* movl eval --shift: the run's model on corrupted copies of a split (spec
 * "all" or "NAME[:SEVERITY],...", docs/SHIFT.md): ACC and AUC per corruption
 * and severity, per-corruption means and the overall mean shift ACC/AUC, as
 * a text table or JSON on stdout. data_path as for movl_eval_run. */
int movl_eval_shift_run(const char *run_dir, const char *data_path, const char *split, const char *spec,
                        const char *device, int json, char *err);

/* movl predict: class and probability of each image (PNG, JPEG, DICOM) under a finished run. */
int movl_predict_run(const char *run_dir, const char *device, const char *const *images, int n, int json, char *err);

/* movl features: frozen plain features of every split of exp's dataset
 * (features.SPLIT [n][dim] and labels.SPLIT [n] as floats) into one
 * safetensors file, for other tools. */
int movl_features_run(const movl_experiment *exp, const char *out_path, char *err);

#endif
