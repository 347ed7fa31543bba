/* 95 % percentile bootstrap intervals of ACC and ROC-AUC (the definition is
 * in metrics.h). A resample is a count per sample (how often it was drawn);
 * its AUC is one sweep over the point estimate's sort order with those
 * counts as weights, so no resample is sorted. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "adapt/metrics.h"
#include "adapt/metrics_internal.h"
#include "core/common.h"
#include "core/rng.h"

#define MAX_RESAMPLES 1000000

/* Mann-Whitney AUC of class c with sample i counted w[i] times: the sweep of
 * auc_sorted (metrics.c) over tie groups of the kept order, with weights.
 * Doubled wins in 64-bit integers (at most 2 N^2, exact for N < 2^31). NaN
 * without positives or negatives. */
static double weighted_auc(const struct movl_metrics_samples *s, int c, const uint32_t *w)
{
    const uint32_t *order = s->order + (size_t)c * s->n;
    const unsigned char *tie = s->tie_prev + (size_t)c * s->n;
    uint64_t twice_wins = 0, neg_below = 0, npos = 0, nneg = 0, p = 0, q = 0;
    for (size_t j = 0; j < s->n; j++) {
        if (!tie[j]) { /* a new tie group: close the previous one */
            twice_wins += 2 * p * neg_below + p * q;
            neg_below += q;
            npos += p;
            nneg += q;
            p = q = 0;
        }
        /* branch-free: whether a sample is positive is a coin flip in score order */
        uint64_t wi = w[order[j] & MOVL_ORDER_INDEX], pos = order[j] >> 31;
        p += wi * pos;
        q += wi * (1 - pos);
    }
    twice_wins += 2 * p * neg_below + p * q;
    npos += p;
    nneg += q;
    if (npos == 0 || nneg == 0)
        return NAN;
    return (double)twice_wins / (2.0 * (double)npos * (double)nneg);
}

/* The AUC of a resample as the point estimate averages it: class 1 when
 * k = 2, else the mean over the classes whose AUC was defined on all
 * samples. NaN when one of them is undefined in the resample. */
static double resample_auc(const movl_metrics *m, const uint32_t *w)
{
    const struct movl_metrics_samples *s = m->samples;
    double sum = 0;
    int used = 0;
    for (int c = m->k == 2 ? 1 : 0; c < m->k; c++) {
        if (isnan(m->class_auc[c]))
            continue;
        double a = weighted_auc(s, c, w);
        if (isnan(a))
            return NAN;
        sum += a;
        used++;
    }
    return used ? sum / used : NAN;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The q-quantile of v[n] (sorted here), linear between order statistics:
 * position q * (n - 1), numpy.percentile's default. */
static double quantile(double *v, int n, double q)
{
    double h = q * (n - 1);
    int lo = (int)floor(h);
    if (lo >= n - 1)
        return v[n - 1];
    return v[lo] + (h - lo) * (v[lo + 1] - v[lo]);
}

static void interval(double *v, int n, double ci[2])
{
    if (n == 0) {
        ci[0] = ci[1] = NAN;
        return;
    }
    qsort(v, (size_t)n, sizeof *v, by_value);
    ci[0] = quantile(v, n, 0.025);
    ci[1] = quantile(v, n, 0.975);
}

int movl_metrics_bootstrap(movl_metrics *m, int resamples, uint64_t seed, char *err)
{
    if (!m->samples) {
        movl_set_error(err, "metrics bootstrap: no samples (call movl_metrics_compute first)");
        return MOVL_ERR_INPUT;
    }
    if (resamples < 2 || resamples > MAX_RESAMPLES) {
        movl_set_error(err, "metrics bootstrap: %d resamples, expected 2..%d", resamples, MAX_RESAMPLES);
        return MOVL_ERR_INPUT;
    }
    const struct movl_metrics_samples *s = m->samples;
    size_t n = s->n;
    uint32_t *w = malloc(n * sizeof *w);
    double *accs = malloc((size_t)resamples * sizeof *accs), *aucs = malloc((size_t)resamples * sizeof *aucs);
    if (!w || !accs || !aucs) {
        free(w), free(accs), free(aucs);
        movl_set_error(err, "metrics bootstrap: out of memory for %d resamples of %zu samples", resamples, n);
        return MOVL_ERR_RUN;
    }
    movl_rng rng;
    movl_rng_seed(&rng, seed);
    int nauc = 0, skipped = 0;
    for (int r = 0; r < resamples; r++) {
        memset(w, 0, n * sizeof *w);
        for (size_t d = 0; d < n; d++)
            w[movl_rng_below(&rng, n)]++;
        uint64_t correct = 0;
        for (size_t i = 0; i < n; i++)
            correct += (uint64_t)w[i] * s->correct[i];
        accs[r] = (double)correct / (double)n;
        if (m->auc_defined) {
            double a = resample_auc(m, w);
            if (isnan(a))
                skipped++;
            else
                aucs[nauc++] = a;
        }
    }
    interval(accs, resamples, m->acc_ci);
    interval(aucs, nauc, m->auc_ci);
    m->has_bootstrap = 1;
    m->boot_resamples = resamples;
    m->boot_seed = seed;
    m->boot_skipped = m->auc_defined ? skipped : resamples;
    free(w), free(accs), free(aucs);
    return MOVL_OK;
}

/* [lo, hi], or null when either end is undefined. */
static int add_interval(cJSON *obj, const char *key, const double ci[2])
{
    if (!isfinite(ci[0]) || !isfinite(ci[1]))
        return cJSON_AddNullToObject(obj, key) != NULL;
    cJSON *a = cJSON_AddArrayToObject(obj, key);
    for (int i = 0; a && i < 2; i++) {
        cJSON *v = cJSON_CreateNumber(ci[i]);
        if (!v || !cJSON_AddItemToArray(a, v)) {
            cJSON_Delete(v);
            return 0;
        }
    }
    return a != NULL;
}

int metrics_bootstrap_to_json(cJSON *obj, const movl_metrics *m)
{
    int ok = add_interval(obj, "acc_ci", m->acc_ci) && add_interval(obj, "auc_ci", m->auc_ci);
    cJSON *b = ok ? cJSON_AddObjectToObject(obj, "bootstrap") : NULL;
    ok = b && metrics_json_number(b, "resamples", m->boot_resamples);
    ok = ok && metrics_json_number(b, "seed", (double)m->boot_seed);
    return ok && metrics_json_number(b, "skipped", m->boot_skipped);
}
