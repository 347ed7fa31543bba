/* Shared by the explain module's files: scratch for batches of images
 * through the model callback, and the settings check. */
#ifndef MOVL_EXPLAIN_INTERNAL_H
#define MOVL_EXPLAIN_INTERNAL_H

#include "explain/explain.h"

typedef struct ex_batch {
    float *x, *grad, *logits; /* [max_batch][numel], [max_batch][numel], [max_batch][classes] */
    double *w;                /* a weight per image */
    int *cls;
} ex_batch;

/* MOVL_OK, or MOVL_ERR_RUN with err set (what was allocated is freed by ex_batch_free). */
int ex_batch_alloc(const movl_explain_model *m, ex_batch *b, char *err);
void ex_batch_free(ex_batch *b);

/* The model, class k and the method's settings: MOVL_ERR_INPUT with one line when bad. */
int ex_check_opts(const movl_explain_model *m, int k, const movl_explain_opts *o, char *err);

#endif
