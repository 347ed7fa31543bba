/* Label mapping: FLM / RLM on the host, count accumulation, and the launchers
 * of cl/labelmap.cl (see labelmap.h). */
#include "adapt/labelmap.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "core/rng.h"

int movl_labelmap_check(const int *map, int nsrc, int k, char *err)
{
    if (k < 1 || nsrc < 1 || k > nsrc) {
        movl_set_error(err, "label map: %d target classes over %d source classes (expected 1 <= K <= sources)", k,
                       nsrc);
        return MOVL_ERR_INPUT;
    }
    unsigned char *seen = calloc((size_t)nsrc, 1);
    if (!seen) {
        movl_set_error(err, "label map: out of host memory");
        return MOVL_ERR_INPUT;
    }
    int rc = MOVL_OK;
    for (int t = 0; t < k && rc == MOVL_OK; t++) {
        if (map[t] < 0 || map[t] >= nsrc) {
            movl_set_error(err, "label map: entry %d is source class %d (expected 0..%d)", t, map[t], nsrc - 1);
            rc = MOVL_ERR_INPUT;
        } else if (seen[map[t]]) {
            movl_set_error(err, "label map: entry %d repeats source class %d (expected distinct classes)", t, map[t]);
            rc = MOVL_ERR_INPUT;
        } else {
            seen[map[t]] = 1;
        }
    }
    free(seen);
    return rc;
}

int movl_labelmap_flm(const int64_t *counts, int nsrc, int k, int *map, char *err)
{
    if (k < 1 || nsrc < 1 || k > nsrc) {
        movl_set_error(err, "FLM: %d target classes over %d source classes (expected 1 <= K <= sources)", k, nsrc);
        return MOVL_ERR_INPUT;
    }
    unsigned char *row_used = calloc((size_t)nsrc, 1), *col_used = calloc((size_t)k, 1);
    if (!row_used || !col_used) {
        free(row_used);
        free(col_used);
        movl_set_error(err, "FLM: out of host memory");
        return MOVL_ERR_INPUT;
    }
    for (int round = 0; round < k; round++) {
        /* Strict '>' in row-major order keeps the first of equal entries. */
        int best_s = -1, best_t = -1;
        int64_t best = 0;
        for (int s = 0; s < nsrc; s++) {
            if (row_used[s])
                continue;
            const int64_t *row = counts + (size_t)s * k;
            for (int t = 0; t < k; t++)
                if (!col_used[t] && (best_s < 0 || row[t] > best)) {
                    best = row[t];
                    best_s = s;
                    best_t = t;
                }
        }
        map[best_t] = best_s;
        row_used[best_s] = 1;
        col_used[best_t] = 1;
    }
    free(row_used);
    free(col_used);
    return MOVL_OK;
}

int movl_labelmap_rlm(int nsrc, int k, uint64_t seed, int *map, char *err)
{
    if (k < 1 || nsrc < 1 || k > nsrc) {
        movl_set_error(err, "RLM: %d target classes over %d source classes (expected 1 <= K <= sources)", k, nsrc);
        return MOVL_ERR_INPUT;
    }
    int *perm = malloc((size_t)nsrc * sizeof *perm);
    if (!perm) {
        movl_set_error(err, "RLM: out of host memory");
        return MOVL_ERR_INPUT;
    }
    for (int s = 0; s < nsrc; s++)
        perm[s] = s;
    uint64_t state = seed;
    for (int t = 0; t < k; t++) {
        /* Swap a uniform pick of perm[t..nsrc) into place t. */
        int j = t + (int)movl_splitmix_below(&state, (uint64_t)(nsrc - t));
        int tmp = perm[t];
        perm[t] = perm[j];
        perm[j] = tmp;
        map[t] = perm[t];
    }
    free(perm);
    return MOVL_OK;
}

int movl_labelmap_count(int64_t *counts, int nsrc, int k, int batch, const float *logits, const int *labels,
                        char *err)
{
    for (int b = 0; b < batch; b++)
        if (labels[b] < 0 || labels[b] >= k) {
            movl_set_error(err, "label map counts: sample %d has label %d (expected 0..%d)", b, labels[b], k - 1);
            return MOVL_ERR_INPUT;
        }
    for (int b = 0; b < batch; b++) {
        const float *row = logits + (size_t)b * nsrc;
        int top = 0;
        for (int s = 1; s < nsrc; s++)
            if (row[s] > row[top])
                top = s;
        counts[(size_t)top * k + labels[b]]++;
    }
    return MOVL_OK;
}

static int check_shape(const char *op, int batch, int nsrc, int k, char *err)
{
    if (batch < 1 || nsrc < 1 || k < 1 || k > nsrc || (double)batch * nsrc > INT_MAX - 1024) {
        movl_set_error(err, "%s: bad shape batch=%d sources=%d classes=%d (expected positive sizes, classes <= "
                       "sources, fewer than 2^31 logits)", op, batch, nsrc, k);
        return 0;
    }
    return 1;
}

int movl_labelmap_gather(movl_device *dev, int batch, int nsrc, int k, cl_mem z_src, cl_mem map, cl_mem z_out,
                         char *err)
{
    if (!check_shape("labelmap_gather", batch, nsrc, k, err))
        return MOVL_ERR_RUN;
    cl_kernel kern = movl_kernel(dev, "labelmap", "", "labelmap_gather", err);
    if (!kern)
        return MOVL_ERR_RUN;
    if (movl_set_args(kern, err, MOVL_ARG(batch), MOVL_ARG(nsrc), MOVL_ARG(k), MOVL_ARG(z_src), MOVL_ARG(map),
                      MOVL_ARG(z_out), MOVL_ARGS_END))
        return MOVL_ERR_RUN;
    size_t global = (size_t)batch * k, local = 64;
    return movl_launch(dev, kern, 1, &global, &local, err);
}

int movl_labelmap_xent(movl_device *dev, int batch, int nsrc, int k, cl_mem z_src, cl_mem map, cl_mem labels,
                       cl_mem dz_src, cl_mem out, int slot, char *err)
{
    if (!check_shape("labelmap_xent", batch, nsrc, k, err))
        return MOVL_ERR_RUN;
    if (out && slot < 0) {
        movl_set_error(err, "labelmap_xent: output slot %d (expected >= 0)", slot);
        return MOVL_ERR_RUN;
    }
    if (!out && !dz_src)
        return MOVL_OK;
    cl_kernel kern = movl_kernel(dev, "labelmap", "", "labelmap_xent", err);
    if (!kern)
        return MOVL_ERR_RUN;
    float inv_batch = (float)(1.0 / batch);
    if (movl_set_args(kern, err, MOVL_ARG(batch), MOVL_ARG(nsrc), MOVL_ARG(k), MOVL_ARG(inv_batch), MOVL_ARG(z_src),
                      MOVL_ARG(map), MOVL_ARG(labels), MOVL_ARG(dz_src), MOVL_ARG(out), MOVL_ARG(slot),
                      MOVL_ARGS_END))
        return MOVL_ERR_RUN;
    size_t global = 64, local = 64;
    return movl_launch(dev, kern, 1, &global, &local, err);
}
