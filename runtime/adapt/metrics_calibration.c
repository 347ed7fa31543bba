/* Expected calibration error and the reliability diagram's bins (the
 * definition is in metrics.h): MOVL_CAL_BINS equal-width bins of the
 * confidence, closed on the right as in Guo et al. 2017. */
#include <math.h>

#include "adapt/metrics.h"
#include "adapt/metrics_internal.h"
#include "core/common.h"

/* The bin b with b/B < conf <= (b+1)/B; conf <= 0 goes to bin 0, conf > 1
 * (unnormalised scores) to the last. Edges are b / B as computed here, the
 * first guess from conf * B corrected against them. */
static int bin_of(double conf)
{
    const int nb = MOVL_CAL_BINS;
    int b = (int)ceil(conf * nb) - 1;
    b = b < 0 ? 0 : b >= nb ? nb - 1 : b;
    while (b > 0 && conf <= (double)b / nb)
        b--;
    while (b < nb - 1 && conf > (double)(b + 1) / nb)
        b++;
    return b;
}

int movl_metrics_calibration(movl_metrics *m, char *err)
{
    const struct movl_metrics_samples *s = m->samples;
    if (!s) {
        movl_set_error(err, "metrics calibration: no samples (call movl_metrics_compute first)");
        return MOVL_ERR_INPUT;
    }
    double correct[MOVL_CAL_BINS] = {0}, conf[MOVL_CAL_BINS] = {0};
    for (int b = 0; b < MOVL_CAL_BINS; b++)
        m->cal_count[b] = 0;
    for (size_t i = 0; i < s->n; i++) {
        int b = bin_of(s->conf[i]);
        m->cal_count[b]++;
        correct[b] += s->correct[i];
        conf[b] += s->conf[i];
    }
    double ece = 0;
    for (int b = 0; b < MOVL_CAL_BINS; b++) {
        int64_t c = m->cal_count[b];
        m->cal_acc[b] = c ? correct[b] / (double)c : NAN;
        m->cal_conf[b] = c ? conf[b] / (double)c : NAN;
        if (c)
            ece += (double)c / (double)s->n * fabs(m->cal_acc[b] - m->cal_conf[b]);
    }
    m->ece = ece;
    m->has_calibration = 1;
    return MOVL_OK;
}

/* An array of the bins' values, null where a bin is empty. */
static int add_bins(cJSON *obj, const char *key, const double *v, const int64_t *count)
{
    cJSON *a = cJSON_AddArrayToObject(obj, key);
    for (int b = 0; a && b < MOVL_CAL_BINS; b++) {
        double x = count ? (double)count[b] : v[b];
        cJSON *item = isfinite(x) ? cJSON_CreateNumber(x) : cJSON_CreateNull();
        if (!item || !cJSON_AddItemToArray(a, item)) {
            cJSON_Delete(item);
            return 0;
        }
    }
    return a != NULL;
}

int metrics_calibration_to_json(cJSON *obj, const movl_metrics *m)
{
    int ok = metrics_json_number(obj, "ece", m->ece);
    cJSON *c = ok ? cJSON_AddObjectToObject(obj, "calibration") : NULL;
    ok = c && metrics_json_number(c, "bins", MOVL_CAL_BINS);
    ok = ok && add_bins(c, "count", NULL, m->cal_count);
    ok = ok && add_bins(c, "acc", m->cal_acc, NULL);
    return ok && add_bins(c, "conf", m->cal_conf, NULL);
}
