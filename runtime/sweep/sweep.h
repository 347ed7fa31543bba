/* Sweeps: the points of an experiment's [sweep] section (grid product or
 * zip), the sweep directory that holds one run directory per point, and the
 * collection of their results into tables and a plot.
 *
 * A sweep directory holds:
 *   sweep.ini    the resolved experiment (with its [sweep] section) every point starts from
 *   points.csv   index,name,KEY1,KEY2,...: one row per point with its values
 *   NAME/        the run directory of each point (as `movl train` makes it)
 *   logs/NAME.log  each point's console output
 * and, after `movl sweep collect`, results.csv, results.md and sweep.png. */
#ifndef MOVL_SWEEP_H
#define MOVL_SWEEP_H

#include <stdio.h>

#include "experiment/experiment.h"

#define MOVL_SWEEP_NAMELEN 200
#define MOVL_SWEEP_SEED_KEY "experiment.seed"

typedef struct movl_sweep_point {
    char name[MOVL_SWEEP_NAMELEN];                    /* "003_lambda=0.1_seed=2": folder of the run */
    char values[MOVL_SWEEP_MAX][MOVL_CFG_NAMELEN];    /* value of each key, in key order */
} movl_sweep_point;

typedef struct movl_sweep {
    int nkeys;
    char keys[MOVL_SWEEP_MAX][MOVL_CFG_NAMELEN];      /* "section.key" */
    int npoints;
    movl_sweep_point *points;                         /* malloc'd */
} movl_sweep;

/* Expands exp's [sweep] into points: every combination (grid; the last key
 * varies fastest) or the i-th value of every key together (zip). No [sweep]
 * section: MOVL_ERR_INPUT "EXP has no [sweep] section". */
int movl_sweep_expand(const movl_experiment *exp, const char *ini_path, movl_sweep *out, char *err);
void movl_sweep_free(movl_sweep *s);

/* The -s override "key=value" of key k of point p, into buf. */
void movl_sweep_override(const movl_sweep *s, int p, int k, char *buf, size_t n);

/* The leading CSV columns of points.csv and results.csv (index, name, one
 * per swept key), no newline: the header for p = -1, else point p's row.
 * Values never hold commas (they come from comma-separated lists). */
void movl_sweep_csv_point_columns(FILE *f, const movl_sweep *s, int p);

/* points.csv of a sweep directory: write (temp + rename) and read back. */
int movl_sweep_write_points(const movl_sweep *s, const char *dir, char *err);
int movl_sweep_read_points(const char *dir, movl_sweep *out, char *err);

/* State of a point's run directory. */
typedef enum movl_point_state {
    MOVL_POINT_NEW,      /* no run directory (or one that never got past set-up) */
    MOVL_POINT_PARTIAL,  /* a checkpoint: continue with --resume */
    MOVL_POINT_DONE,     /* summary.json exists */
} movl_point_state;
movl_point_state movl_sweep_point_state(const char *dir, const movl_sweep_point *p);

/* The metrics read from a point's summary.json, in results.csv's column order. */
enum {
    MOVL_SWEEP_VAL_ACC,
    MOVL_SWEEP_VAL_AUC,
    MOVL_SWEEP_TEST_ACC,
    MOVL_SWEEP_TEST_AUC,
    MOVL_SWEEP_TEST_BACC,
    MOVL_SWEEP_TEST_F1,
    MOVL_SWEEP_SECONDS,
    MOVL_SWEEP_NMETRICS
};
extern const char *const movl_sweep_metric_names[MOVL_SWEEP_NMETRICS]; /* "val_acc", ... */

/* A point's metrics (NaN where summary.json lacks one): 1, or 0 when the
 * point has no summary.json yet, or -1 with one line in err when it cannot
 * be read or has no test accuracy. */
int movl_sweep_read_result(const char *dir, const movl_sweep_point *p, double m[MOVL_SWEEP_NMETRICS], char *err);

/* The p-quantile of Student's t distribution with df >= 1 degrees of
 * freedom (sweep_stats.c; NaN outside 0 < p < 1 or df < 1), e.g.
 * movl_student_t_quantile(0.975, n - 1) for a 95 % interval of a mean of n. */
double movl_student_t_quantile(double p, int df);

/* movl sweep collect: reads every point's summary.json and writes
 * DIR/results.csv (one row per point), DIR/results.md (mean +- sample std
 * over experiment.seed per point of the other keys, and the 95 % interval of
 * the mean over seeds: mean +- t(0.975, n - 1) * std / sqrt(n), Student t
 * with n - 1 degrees of freedom; none with one seed) and DIR/sweep.png (test
 * ACC and AUC against the first swept key other than the seed, one line per
 * combination of the rest, error bars = std). Points without a summary are
 * listed as missing; none at all is MOVL_ERR_INPUT. *complete receives the
 * number of points with results. */
int movl_sweep_collect(const char *dir, int *complete, char *err);

#endif
