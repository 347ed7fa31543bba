/* What metrics.c keeps of each sample for the uncertainty estimates
 * (metrics_ci.c: bootstrap, metrics_calibration.c: ECE), and the JSON
 * pieces they add to movl_metrics_to_json. Private to adapt/. */
#ifndef MOVL_METRICS_INTERNAL_H
#define MOVL_METRICS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "adapt/metrics.h"

#define MOVL_ORDER_POSITIVE 0x80000000u
#define MOVL_ORDER_INDEX 0x7fffffffu

struct movl_metrics_samples {
    size_t n;
    int k;
    int *labels;             /* [n] */
    unsigned char *correct;  /* [n] 1 when the argmax prediction is the label */
    double *conf;            /* [n] largest softmax probability (or given score) */
    uint32_t *order;         /* [k * n] row c: the samples by ascending class-c score, each
                              * index | MOVL_ORDER_POSITIVE when its label is c (one load less
                              * per sample in the bootstrap's sweep) */
    unsigned char *tie_prev; /* [k * n] 1 where order[c][j] scores the same as order[c][j - 1] */
};

/* A number, or null for NaN/Inf (not JSON numbers); 1 on success. */
int metrics_json_number(cJSON *obj, const char *key, double v);

/* Adds acc_ci, auc_ci and bootstrap to obj; 1 on success. */
int metrics_bootstrap_to_json(cJSON *obj, const movl_metrics *m);
/* Adds ece and calibration to obj; 1 on success. */
int metrics_calibration_to_json(cJSON *obj, const movl_metrics *m);

#endif
