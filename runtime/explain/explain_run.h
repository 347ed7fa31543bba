/* movl explain: attribution maps of a finished run's class logit for image
 * files (docs/EXPLAIN.md): per image one PNG of three panels (the image,
 * the heat map, the overlay; the prompt region outlined) and a line of
 * text, or a JSON array with the numbers behind them. */
#ifndef MOVL_EXPLAIN_RUN_H
#define MOVL_EXPLAIN_RUN_H

#include <stdint.h>

#include "explain/explain.h"

typedef struct movl_explain_run_opts {
    const char *run_dir;
    const char *device;            /* NULL: the run's [device] select */
    const char *out_dir;           /* NULL: RUN_DIR/explain */
    const char *const *images;
    int nimages;
    movl_explain_method method;
    int cls;                       /* -1: each image's predicted class */
    int samples;                   /* SmoothGrad */
    double noise;
    uint64_t seed;
    int steps;                     /* integrated gradients */
    int check_grad;                /* > 0: also this many finite-difference checks of the gradient per image */
    double check_step;             /* their step h, in normalised input units */
    int json;
} movl_explain_run_opts;

/* The options' defaults: grad, predicted class, MOVL_EXPLAIN_* settings, seed 0, no check (h 0.01). */
movl_explain_run_opts movl_explain_run_defaults(void);

/* Writes OUT_DIR/<image stem>_explain.png per image (temporary name,
 * renamed) and prints the results on stdout. Every image is read before
 * the first map is computed. MOVL_ERR_INPUT with one line naming the run,
 * image, class or setting that is wrong; MOVL_ERR_RUN when the device or
 * a file write fails. */
int movl_explain_run(const movl_explain_run_opts *o, char *err);

#endif
