/* The finite-difference check of the plain gradient (explain.h,
 * movl_explain_fd_check): central differences of the class logit on a few
 * seeded elements of the image, next to the gradient the model computes. */
#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "core/rng.h"
#include "explain/explain.h"
#include "explain/explain_internal.h"

int movl_explain_fd_check(const movl_explain_model *m, const float *x, int k, int count, double h, uint64_t seed,
                          movl_explain_fd *out, char *err)
{
    movl_explain_opts o = {.method = MOVL_EXPLAIN_GRAD};
    if (count < 1 || !(h > 0)) {
        movl_set_error(err, "finite differences: %d elements, step %g (expected >= 1 and > 0)", count, h);
        return MOVL_ERR_INPUT;
    }
    int rc = ex_check_opts(m, k, &o, err);
    if (rc)
        return rc;
    size_t numel = m->numel;
    float *g = malloc(sizeof(float) * numel);
    ex_batch b = {0};
    movl_explain_result r;
    rc = g ? ex_batch_alloc(m, &b, err) : MOVL_ERR_RUN;
    if (rc == MOVL_OK)
        rc = movl_explain_attribute(m, x, k, &o, g, &r, err);
    uint64_t s = seed;
    for (int i = 0; rc == MOVL_OK && i < count; i++) {
        size_t e;
        for (int tries = 0;; tries++) { /* distinct elements while there are enough */
            e = (size_t)movl_splitmix_below(&s, numel);
            int seen = 0;
            for (int q = 0; q < i && !seen; q++)
                seen = out[q].index == e;
            if (!seen || (size_t)count > numel || tries > 1000)
                break;
        }
        out[i].index = e;
        out[i].grad = g[e];
    }
    /* 2 images per element: x + h e, x - h e */
    int total = 2 * count;
    double *zs = rc == MOVL_OK ? malloc(sizeof(double) * (size_t)total) : NULL;
    if (rc == MOVL_OK && !zs) {
        movl_set_error(err, "out of host memory");
        rc = MOVL_ERR_RUN;
    }
    for (int j0 = 0; rc == MOVL_OK && j0 < total; j0 += m->max_batch) {
        int nb = total - j0 < m->max_batch ? total - j0 : m->max_batch;
        for (int i = 0; i < nb; i++) {
            int j = j0 + i;
            float *xi = b.x + (size_t)i * numel;
            memcpy(xi, x, sizeof(float) * numel);
            size_t e = out[j / 2].index;
            xi[e] = (float)(x[e] + (j % 2 ? -h : h));
            b.cls[i] = k;
        }
        if ((rc = m->eval(m->ctx, nb, b.x, b.cls, b.logits, NULL, err)))
            break;
        for (int i = 0; i < nb; i++)
            zs[j0 + i] = b.logits[(size_t)i * m->classes + k];
    }
    for (int i = 0; rc == MOVL_OK && i < count; i++) {
        /* the step actually taken in float */
        size_t e = out[i].index;
        double hp = (double)(float)(x[e] + h) - x[e], hm = x[e] - (double)(float)(x[e] - h);
        out[i].fd = (zs[2 * i] - zs[2 * i + 1]) / (hp + hm);
    }
    free(zs);
    free(g);
    ex_batch_free(&b);
    return rc;
}
