/* Classification metrics on the host: accuracy, ROC-AUC, balanced accuracy,
 * macro F1 and the confusion matrix of N samples over K classes, plus their
 * CSV and JSON (summary.json) forms.
 *
 * Definitions (chosen to match scikit-learn where it has an answer):
 *   prediction    argmax of the sample's K scores, ties to the lowest index
 *                 (numpy.argmax).
 *   acc           correct / N.
 *   ROC-AUC       one-vs-rest per class c: the Mann-Whitney probability that
 *                 a random sample of class c scores higher on c than a random
 *                 sample of another class, ties counting 1/2 (= AUC from
 *                 average ranks = sklearn roc_auc_score). Class c's score is
 *                 p[i][c] as given (MOVL_SCORES_PROBS) or its softmax
 *                 probability (MOVL_SCORES_LOGITS; ranked through the
 *                 log-softmax in double, which orders exactly as softmax but
 *                 never underflows). The AUC of a class with no positives or
 *                 no negatives in y is undefined (NaN).
 *                   K = 2: auc = AUC of class 1 (the positive class).
 *                   K > 2: auc = mean of the defined one-vs-rest AUCs
 *                          (sklearn multi_class='ovr', average='macro' when
 *                          every class occurs); undefined ones are left out
 *                          and counted in auc_skipped.
 *                 When no AUC is defined (e.g. all samples of one class) auc
 *                 is NaN and auc_defined is 0.
 *   balanced_acc  mean recall over the classes present in y (sklearn
 *                 balanced_accuracy_score).
 *   macro_f1      mean over all K classes of F1 = 2TP / (2TP + FP + FN); a
 *                 class with no true and no predicted sample has F1 = 0 and
 *                 still counts (sklearn f1_score(labels=range(K),
 *                 average='macro', zero_division=0)).
 *   confusion     K x K counts, row = true class, column = predicted class.
 * Cost: O(K N log N) time (one sort per class), O(K N) memory kept for the
 * uncertainty estimates below.
 *
 * Uncertainty (optional, after movl_metrics_compute; metrics_ci.c and
 * metrics_calibration.c):
 *   acc_ci, auc_ci  95 % percentile bootstrap intervals: R resamples of the N
 *                 samples drawn with replacement (whole samples: label and
 *                 scores together) from xoshiro256** seeded with the given
 *                 seed (core/rng.h), so the same seed gives the same
 *                 interval. Each resample's ACC and AUC are computed as
 *                 above; the interval is the 2.5th and 97.5th percentile of
 *                 the R values, interpolated linearly between order
 *                 statistics (numpy.percentile's default). A resample in
 *                 which one of the one-vs-rest AUCs averaged in auc has no
 *                 positives or no negatives is left out of auc_ci and counted
 *                 in boot_skipped (so every counted resample averages the same
 *                 classes as the point estimate); auc_ci is NaN when auc is,
 *                 or when every resample is skipped. The AUC of a resample
 *                 reuses the point estimate's sort: the resample is a count
 *                 per sample, and one sweep over the sorted order with those
 *                 counts gives the same Mann-Whitney sum as sorting the
 *                 resample, O(N) per class and resample.
 *   ece           expected calibration error (Guo et al. 2017; torchmetrics'
 *                 calibration error with norm='l1'): confidence = the largest
 *                 softmax probability (MOVL_SCORES_LOGITS, in double) or the
 *                 largest given score (MOVL_SCORES_PROBS), correct = the
 *                 prediction above equals the label; MOVL_CAL_BINS equal-width
 *                 bins over [0, 1], bin b = (b/B, (b+1)/B] (bin 0 also holds
 *                 0); ECE = sum_b |B_b| / N * |acc_b - conf_b| with acc_b and
 *                 conf_b the mean correctness and confidence in bin b.
 *                 (torchmetrics >= 0.11 closes its bins on the left instead;
 *                 the two differ only for confidences exactly on a bin edge.)
 *                 cal_count / cal_acc / cal_conf are the reliability
 *                 diagram; acc and conf are NaN in an empty bin. */
#ifndef MOVL_METRICS_H
#define MOVL_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

/* Equal-width confidence bins of the calibration error. */
#define MOVL_CAL_BINS 15

/* What the scores are; matters only for ROC-AUC (argmax is the same). */
typedef enum { MOVL_SCORES_PROBS = 0, MOVL_SCORES_LOGITS = 1 } movl_score_kind;

typedef struct movl_metrics {
    int k;       /* classes */
    int64_t n;   /* samples */
    double acc;
    double auc;          /* NaN when auc_defined is 0 */
    int auc_defined;     /* 1 when auc is a number */
    int auc_averaged;    /* one-vs-rest AUCs in auc (K = 2: 1 or 0) */
    int auc_skipped;     /* undefined one-vs-rest AUCs left out (K = 2: 0 or 1) */
    double balanced_acc;
    int classes_present; /* classes occurring in y (the recalls averaged) */
    double macro_f1;
    /* Owned arrays (movl_metrics_free); per class c: */
    double *class_auc;    /* [k] one-vs-rest AUC of class c, NaN if undefined */
    double *class_recall; /* [k] TP / (TP + FN), NaN if c is absent from y */
    double *class_f1;     /* [k] as in macro_f1 */
    int64_t *confusion;   /* [k * k] confusion[t * k + p] */

    /* Bootstrap intervals: set by movl_metrics_bootstrap (has_bootstrap 1). */
    int has_bootstrap;
    int boot_resamples;   /* R */
    uint64_t boot_seed;
    int boot_skipped;     /* resamples left out of auc_ci (AUC undefined in them) */
    double acc_ci[2];     /* [lo, hi] */
    double auc_ci[2];     /* [lo, hi], NaN when undefined */
    /* Calibration: set by movl_metrics_calibration (has_calibration 1). */
    int has_calibration;
    double ece;
    int64_t cal_count[MOVL_CAL_BINS];
    double cal_acc[MOVL_CAL_BINS], cal_conf[MOVL_CAL_BINS]; /* NaN in an empty bin */

    /* What the uncertainty estimates need of each sample (owned, opaque):
     * correctness, confidence and every class's sort order. */
    struct movl_metrics_samples *samples;
} movl_metrics;

/* argmax of row[0..k-1], ties to the lowest index. */
int movl_argmax(const float *row, int k);

/* Computes every metric of n samples: labels[n] in 0..k-1, scores[n * k]
 * row-major. n >= 1, k >= 2. On success *out owns arrays (free with
 * movl_metrics_free); on failure *out holds nothing to free.
 * MOVL_ERR_INPUT: n or k out of range, a label outside 0..k-1;
 * MOVL_ERR_RUN: a non-finite score (a diverged model), out of memory. */
int movl_metrics_compute(const int *labels, const float *scores, size_t n, int k, movl_score_kind kind,
                         movl_metrics *out, char *err);

/* 95 % percentile bootstrap intervals of acc and auc (see above) from
 * resamples >= 2 resamples seeded with seed; fills m's boot_* fields, acc_ci
 * and auc_ci. MOVL_ERR_INPUT: resamples out of range or m not computed;
 * MOVL_ERR_RUN: out of memory. Time O(resamples * N * K). */
int movl_metrics_bootstrap(movl_metrics *m, int resamples, uint64_t seed, char *err);

/* ECE and the reliability diagram's bins (see above); fills m's ece and cal_*
 * fields. MOVL_ERR_INPUT when m was not computed. Time O(N). */
int movl_metrics_calibration(movl_metrics *m, char *err);

/* Frees the arrays of m and zeroes it (safe on a zeroed struct). */
void movl_metrics_free(movl_metrics *m);

/* Writes the confusion matrix as CSV: a header "true\pred,<name 0>,...", then
 * one row per true class "<name t>,<count>,...". Names are class_names[0..k-1]
 * or, with class_names NULL, the class indices; quoted as RFC 4180 when
 * needed. Written through movl_out_open: a temporary name, renamed over path. */
int movl_metrics_write_confusion_csv(const char *path, const movl_metrics *m, const char *const *class_names,
                                     char *err);

/* A new cJSON object {"n", "acc", "auc", "auc_skipped", "balanced_acc",
 * "macro_f1", "confusion": [[...], ...], and "classes": [names] when
 * class_names is given}; auc is null when undefined. After
 * movl_metrics_bootstrap also "acc_ci": [lo, hi], "auc_ci": [lo, hi] or null,
 * "bootstrap": {"resamples", "seed", "skipped"}; after
 * movl_metrics_calibration "ece" and "calibration": {"bins", "count": [...],
 * "acc": [...], "conf": [...]} (null in empty bins). NULL when out of memory.
 * The caller owns it (e.g. adds it to summary.json, or cJSON_Delete). */
cJSON *movl_metrics_to_json(const movl_metrics *m, const char *const *class_names);

/* Writes movl_metrics_to_json as a whole file (temp + rename). */
int movl_metrics_write_json(const char *path, const movl_metrics *m, const char *const *class_names, char *err);

#endif
