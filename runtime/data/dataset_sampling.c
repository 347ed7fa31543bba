/* Seeded choices on datasets: the generator, epoch shuffling, the split of
 * unsplit sources, and stratified subsampling. Everything depends only on
 * the seeds and the sample order, so runs and resumes are reproducible. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "core/rng.h"
#include "data/dataset.h"
#include "data/dataset_internal.h"

static void fisher_yates(int *a, int n, movl_rng *r)
{
    for (int i = n - 1; i > 0; i--) {
        int j = (int)movl_rng_below(r, (uint64_t)i + 1);
        int t = a[i];
        a[i] = a[j];
        a[j] = t;
    }
}

void movl_shuffle(int n, uint64_t seed, uint64_t epoch, int *perm)
{
    for (int i = 0; i < n; i++)
        perm[i] = i;
    movl_rng r;
    movl_rng_seed(&r, movl_rng_hash2(seed, epoch));
    fisher_yates(perm, n, &r);
}

/* qsort order of sample indices by (label, index): the per-class lists in file order. */
static const int *sort_labels;
static int by_label(const void *a, const void *b)
{
    int i = *(const int *)a, j = *(const int *)b;
    if (sort_labels[i] != sort_labels[j])
        return sort_labels[i] < sort_labels[j] ? -1 : 1;
    return (i > j) - (i < j);
}

void movl_ds_assign_splits(const int *labels, int n, int num_classes, const movl_dataset_opts *o, int *split_of)
{
    (void)num_classes; /* classes without samples get nothing; one pass over the sorted samples, not one per class */
    int *idx = malloc(sizeof(int) * ((size_t)n + 1));
    if (!idx) { /* cannot happen for any realistic n; keep everything in train rather than crash */
        for (int i = 0; i < n; i++)
            split_of[i] = MOVL_SPLIT_TRAIN;
        return;
    }
    for (int i = 0; i < n; i++)
        idx[i] = i;
    sort_labels = labels;
    qsort(idx, (size_t)n, sizeof(int), by_label);
    for (int start = 0; start < n;) {
        int c = labels[idx[start]], nc = 0;
        while (start + nc < n && labels[idx[start + nc]] == c)
            nc++;
        int *cls = idx + start;
        movl_rng r;
        movl_rng_seed(&r, movl_rng_hash2(o->split_seed, (uint64_t)c));
        fisher_yates(cls, nc, &r);
        int ntest = (int)floor(nc * o->test_frac + 0.5), nval = (int)floor(nc * o->val_frac + 0.5);
        if (ntest + nval > nc - 1) { /* keep one of every class in train: val gives way first */
            nval = nc - 1 - ntest > 0 ? nc - 1 - ntest : 0;
            if (ntest > nc - 1)
                ntest = nc - 1;
        }
        for (int k = 0; k < nc; k++)
            split_of[cls[k]] = k < ntest ? MOVL_SPLIT_TEST : k < ntest + nval ? MOVL_SPLIT_VAL : MOVL_SPLIT_TRAIN;
        start += nc;
    }
    free(idx);
}

/* Per-class quotas summing to max_n: largest remainder of max_n * n_c / n
 * (ties to the lower class), then every present class gets at least one
 * sample when max_n allows, taken from the largest quota. */
static void stratified_quotas(const int *counts, int k, int n, int max_n, int *quota)
{
    double *rem = malloc(sizeof(double) * ((size_t)k + 1));
    int given = 0;
    for (int c = 0; c < k; c++) {
        double exact = (double)max_n * counts[c] / n;
        quota[c] = (int)floor(exact);
        if (rem)
            rem[c] = exact - quota[c];
        given += quota[c];
    }
    while (given < max_n) {
        int best = -1;
        for (int c = 0; c < k; c++)
            if (quota[c] < counts[c] && (best < 0 || (rem ? rem[c] > rem[best] : 0)))
                best = c;
        if (rem)
            rem[best] = -1;
        quota[best]++;
        given++;
    }
    free(rem);
    for (int c = 0; c < k; c++) {
        if (counts[c] == 0 || quota[c] > 0)
            continue;
        int big = 0;
        for (int d = 1; d < k; d++)
            if (quota[d] > quota[big])
                big = d;
        if (quota[big] <= 1)
            break; /* max_n is below the number of present classes */
        quota[big]--;
        quota[c]++;
    }
}

int movl_dataset_subsample(movl_dataset *ds, int split, int max_n, uint64_t seed, char *err)
{
    if (split < 0 || split >= MOVL_NSPLITS) {
        movl_set_error(err, "subsample: no split %d", split);
        return MOVL_ERR_INPUT;
    }
    movl_split *sp = &ds->split[split];
    if (max_n <= 0 || max_n >= sp->n)
        return MOVL_OK;
    int k = ds->num_classes, n = sp->n;
    int *counts = calloc((size_t)k + 1, sizeof(int)), *quota = calloc((size_t)k + 1, sizeof(int));
    int *idx = malloc(sizeof(int) * (size_t)n);
    char *keep = calloc((size_t)n, 1);
    if (!counts || !quota || !idx || !keep) {
        free(counts);
        free(quota);
        free(idx);
        free(keep);
        movl_set_error(err, "out of memory subsampling %s", movl_split_names[split]);
        return MOVL_ERR_RUN;
    }
    movl_dataset_class_counts(ds, split, counts);
    stratified_quotas(counts, k, n, max_n, quota);
    for (int c = 0; c < k; c++) {
        int nc = 0;
        for (int i = 0; i < n; i++)
            if (sp->samples[i].label == c)
                idx[nc++] = i;
        movl_rng r;
        movl_rng_seed(&r, movl_rng_hash2(movl_rng_hash2(seed, (uint64_t)split), (uint64_t)c));
        /* a partial Fisher-Yates picks quota[c] distinct samples */
        for (int j = 0; j < quota[c]; j++) {
            int pick = j + (int)movl_rng_below(&r, (uint64_t)(nc - j));
            int t = idx[j];
            idx[j] = idx[pick];
            idx[pick] = t;
            keep[idx[j]] = 1;
        }
    }
    /* compact samples and pool in place: kept data only ever moves forward */
    size_t elem = ds->pixel_type == MOVL_PIX_U8 ? 1 : sizeof(float);
    unsigned char *pool = ds->pixel_type == MOVL_PIX_U8 ? sp->u8 : (unsigned char *)sp->f32;
    size_t at = 0;
    int m = 0;
    for (int i = 0; i < n; i++) {
        if (!keep[i])
            continue;
        movl_sample x = sp->samples[i];
        size_t len = (size_t)x.w * (size_t)x.h * (size_t)ds->channels;
        memmove(pool + at * elem, pool + x.offset * elem, len * elem);
        x.offset = at;
        at += len;
        sp->samples[m++] = x;
    }
    sp->n = m;
    void *shrunk = realloc(pool, at * elem + 1);
    if (shrunk) {
        if (ds->pixel_type == MOVL_PIX_U8)
            sp->u8 = shrunk;
        else
            sp->f32 = shrunk;
    }
    free(counts);
    free(quota);
    free(idx);
    free(keep);
    return MOVL_OK;
}
