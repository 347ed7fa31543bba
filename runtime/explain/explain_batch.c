/* Scratch for batches of images through the model callback (explain_internal.h). */
#include <stdlib.h>

#include "core/common.h"
#include "explain/explain_internal.h"

int ex_batch_alloc(const movl_explain_model *m, ex_batch *b, char *err)
{
    size_t nb = (size_t)m->max_batch;
    b->x = malloc(sizeof(float) * nb * m->numel);
    b->grad = malloc(sizeof(float) * nb * m->numel);
    b->logits = malloc(sizeof(float) * nb * (size_t)m->classes);
    b->w = malloc(sizeof(double) * nb);
    b->cls = malloc(sizeof(int) * nb);
    if (b->x && b->grad && b->logits && b->w && b->cls)
        return MOVL_OK;
    movl_set_error(err, "out of host memory for %d images of %zu values", m->max_batch, m->numel);
    return MOVL_ERR_RUN;
}

void ex_batch_free(ex_batch *b)
{
    free(b->x);
    free(b->grad);
    free(b->logits);
    free(b->w);
    free(b->cls);
}
