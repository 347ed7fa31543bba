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
 * Cost: O(K N log N) time (one sort per class), O(N) extra memory. */
#ifndef MOVL_METRICS_H
#define MOVL_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

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
 * class_names is given}; auc is null when undefined. NULL when out of memory.
 * The caller owns it (e.g. adds it to summary.json, or cJSON_Delete). */
cJSON *movl_metrics_to_json(const movl_metrics *m, const char *const *class_names);

/* Writes movl_metrics_to_json as a whole file (temp + rename). */
int movl_metrics_write_json(const char *path, const movl_metrics *m, const char *const *class_names, char *err);

#endif
