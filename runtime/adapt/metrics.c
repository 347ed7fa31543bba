/* Classification metrics (see metrics.h for the exact definitions). */
#include "adapt/metrics.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapt/metrics_internal.h"
#include "core/common.h"
#include "core/file_io.h"

int movl_argmax(const float *row, int k)
{
    int best = 0;
    for (int c = 1; c < k; c++)
        if (row[c] > row[best]) /* strict: the first of equal maxima wins */
            best = c;
    return best;
}

static void samples_free(struct movl_metrics_samples *s)
{
    if (!s)
        return;
    free(s->labels);
    free(s->correct);
    free(s->conf);
    free(s->order);
    free(s->tie_prev);
    free(s);
}

/* The per-sample record, with labels, correctness and confidence filled
 * (the sort orders are filled by compute_auc); NULL when out of memory. */
static struct movl_metrics_samples *samples_new(const int *labels, const float *scores, size_t n, int k,
                                                movl_score_kind kind)
{
    struct movl_metrics_samples *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->n = n;
    s->k = k;
    s->labels = malloc(n * sizeof *s->labels);
    s->correct = malloc(n);
    s->conf = malloc(n * sizeof *s->conf);
    s->order = malloc(n * (size_t)k * sizeof *s->order);
    s->tie_prev = malloc(n * (size_t)k);
    if (!s->labels || !s->correct || !s->conf || !s->order || !s->tie_prev) {
        samples_free(s);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        const float *row = scores + i * (size_t)k;
        int pred = movl_argmax(row, k);
        s->labels[i] = labels[i];
        s->correct[i] = pred == labels[i];
        if (kind == MOVL_SCORES_LOGITS) {
            /* max softmax = 1 / sum_j exp(z_j - max) */
            double sum = 0;
            for (int c = 0; c < k; c++)
                sum += exp((double)row[c] - (double)row[pred]);
            s->conf[i] = 1.0 / sum;
        } else {
            s->conf[i] = row[pred];
        }
    }
    return s;
}

void movl_metrics_free(movl_metrics *m)
{
    if (!m)
        return;
    samples_free(m->samples);
    free(m->class_auc);
    free(m->class_recall);
    free(m->class_f1);
    free(m->confusion);
    memset(m, 0, sizeof *m);
}

/* One sample as seen by a one-vs-rest AUC. */
typedef struct ranked {
    double score;
    int positive;
    uint32_t index; /* the sample, for the bootstrap's sort order */
} ranked;

static int by_score(const void *a, const void *b)
{
    double x = ((const ranked *)a)->score, y = ((const ranked *)b)->score;
    return (x > y) - (x < y);
}

/* Mann-Whitney AUC of items[n] (sorted here): the fraction of
 * (positive, negative) pairs where the positive scores higher, ties counting
 * 1/2. Sweeping the sorted scores group by group of equal score, a group with
 * p positives and q negatives contributes p * (negatives below) + p * q / 2.
 * Counted doubled in integers, so the result is exact up to the final
 * division. NaN when there are no positives or no negatives. */
static double auc_sorted(ranked *items, size_t n)
{
    qsort(items, n, sizeof *items, by_score);
    uint64_t twice_wins = 0, neg_below = 0, npos = 0, nneg = 0;
    for (size_t i = 0; i < n;) {
        uint64_t p = 0, q = 0;
        size_t j = i;
        for (; j < n && items[j].score == items[i].score; j++) {
            if (items[j].positive)
                p++;
            else
                q++;
        }
        twice_wins += 2 * p * neg_below + p * q;
        neg_below += q;
        npos += p;
        nneg += q;
        i = j;
    }
    if (npos == 0 || nneg == 0)
        return NAN;
    return (double)twice_wins / (2.0 * (double)npos * (double)nneg);
}

/* Per sample log(sum_j exp(z_j - max)) and max, so that class c's
 * log-softmax is (z_c - max) - lse. */
static void log_softmax_parts(const float *scores, size_t n, int k, double *max, double *lse)
{
    for (size_t i = 0; i < n; i++) {
        const float *z = scores + i * (size_t)k;
        double m = z[0];
        for (int c = 1; c < k; c++)
            if (z[c] > m)
                m = z[c];
        double s = 0;
        for (int c = 0; c < k; c++)
            s += exp((double)z[c] - m);
        max[i] = m;
        lse[i] = log(s);
    }
}

static int check_input(const int *labels, const float *scores, size_t n, int k, char *err)
{
    if (k < 2) {
        movl_set_error(err, "metrics: %d classes, expected at least 2", k);
        return MOVL_ERR_INPUT;
    }
    if (n == 0) {
        movl_set_error(err, "metrics: no samples");
        return MOVL_ERR_INPUT;
    }
    for (size_t i = 0; i < n; i++) {
        if (labels[i] < 0 || labels[i] >= k) {
            movl_set_error(err, "metrics: label of sample %zu is %d, expected 0..%d", i, labels[i], k - 1);
            return MOVL_ERR_INPUT;
        }
        for (int c = 0; c < k; c++) {
            if (!isfinite(scores[i * (size_t)k + c])) {
                movl_set_error(err, "metrics: score of sample %zu, class %d is %g (the model diverged?)", i, c,
                               (double)scores[i * (size_t)k + c]);
                return MOVL_ERR_RUN;
            }
        }
    }
    return MOVL_OK;
}

/* Fills class_auc and the AUC summary fields. */
static int compute_auc(const int *labels, const float *scores, size_t n, int k, movl_score_kind kind,
                       movl_metrics *m, struct movl_metrics_samples *keep, char *err)
{
    ranked *items = malloc(n * sizeof *items);
    double *max = NULL, *lse = NULL;
    if (kind == MOVL_SCORES_LOGITS) {
        max = malloc(n * sizeof *max);
        lse = malloc(n * sizeof *lse);
    }
    if (!items || (kind == MOVL_SCORES_LOGITS && (!max || !lse))) {
        free(items);
        free(max);
        free(lse);
        movl_set_error(err, "metrics: out of memory for %zu samples", n);
        return MOVL_ERR_RUN;
    }
    if (kind == MOVL_SCORES_LOGITS)
        log_softmax_parts(scores, n, k, max, lse);
    for (int c = 0; c < k; c++) {
        for (size_t i = 0; i < n; i++) {
            double s = scores[i * (size_t)k + c];
            items[i].score = kind == MOVL_SCORES_LOGITS ? (s - max[i]) - lse[i] : s;
            items[i].positive = labels[i] == c;
            items[i].index = (uint32_t)i;
        }
        m->class_auc[c] = auc_sorted(items, n);
        /* the sorted order, kept so that a bootstrap resample needs no sort */
        for (size_t j = 0; j < n; j++) {
            keep->order[(size_t)c * n + j] = items[j].index | (items[j].positive ? MOVL_ORDER_POSITIVE : 0);
            keep->tie_prev[(size_t)c * n + j] = j > 0 && items[j].score == items[j - 1].score;
        }
    }
    free(items);
    free(max);
    free(lse);

    /* binary: the positive class alone; multi-class: mean of the defined ones */
    int first = k == 2 ? 1 : 0;
    double sum = 0;
    for (int c = first; c < k; c++) {
        if (isnan(m->class_auc[c])) {
            m->auc_skipped++;
        } else {
            sum += m->class_auc[c];
            m->auc_averaged++;
        }
    }
    m->auc_defined = m->auc_averaged > 0;
    m->auc = m->auc_defined ? sum / m->auc_averaged : NAN;
    return MOVL_OK;
}

/* accuracy, recalls, F1s from the confusion matrix */
static void compute_from_confusion(movl_metrics *m)
{
    int k = m->k;
    int64_t correct = 0;
    double recall_sum = 0, f1_sum = 0;
    for (int c = 0; c < k; c++) {
        int64_t tp = m->confusion[(size_t)c * k + c], true_c = 0, pred_c = 0;
        for (int j = 0; j < k; j++) {
            true_c += m->confusion[(size_t)c * k + j];
            pred_c += m->confusion[(size_t)j * k + c];
        }
        correct += tp;
        if (true_c > 0) {
            m->class_recall[c] = (double)tp / (double)true_c;
            recall_sum += m->class_recall[c];
            m->classes_present++;
        } else {
            m->class_recall[c] = NAN;
        }
        /* 2TP + FP + FN = true_c + pred_c; zero means the class never occurs */
        int64_t denom = true_c + pred_c;
        m->class_f1[c] = denom > 0 ? 2.0 * (double)tp / (double)denom : 0.0;
        f1_sum += m->class_f1[c];
    }
    m->acc = (double)correct / (double)m->n;
    m->balanced_acc = recall_sum / m->classes_present; /* n >= 1: some class is present */
    m->macro_f1 = f1_sum / k;
}

int movl_metrics_compute(const int *labels, const float *scores, size_t n, int k, movl_score_kind kind,
                         movl_metrics *out, char *err)
{
    memset(out, 0, sizeof *out);
    int rc = check_input(labels, scores, n, k, err);
    if (rc != MOVL_OK)
        return rc;
    movl_metrics m = {0};
    m.k = k;
    m.n = (int64_t)n;
    m.class_auc = malloc((size_t)k * sizeof *m.class_auc);
    m.class_recall = malloc((size_t)k * sizeof *m.class_recall);
    m.class_f1 = malloc((size_t)k * sizeof *m.class_f1);
    m.confusion = calloc((size_t)k * k, sizeof *m.confusion);
    if (!m.class_auc || !m.class_recall || !m.class_f1 || !m.confusion) {
        movl_metrics_free(&m);
        movl_set_error(err, "metrics: out of memory for %d classes", k);
        return MOVL_ERR_RUN;
    }
    for (size_t i = 0; i < n; i++)
        m.confusion[(size_t)labels[i] * k + movl_argmax(scores + i * (size_t)k, k)]++;
    compute_from_confusion(&m);
    if (n > MOVL_ORDER_INDEX || !(m.samples = samples_new(labels, scores, n, k, kind))) {
        movl_metrics_free(&m);
        movl_set_error(err, "metrics: out of memory for %zu samples", n);
        return MOVL_ERR_RUN;
    }
    rc = compute_auc(labels, scores, n, k, kind, &m, m.samples, err);
    if (rc != MOVL_OK) {
        movl_metrics_free(&m);
        return rc;
    }
    *out = m;
    return MOVL_OK;
}

/* ---- files: through movl_out_open, so a reader never sees a half-written
 * file ---- */

/* Puts the file in place when every write succeeded (ok), else removes it. */
static int finish(movl_out_file *out, int ok, char *err)
{
    return ok ? movl_out_commit(out, err) : movl_out_fail(out, err);
}

/* One CSV field, quoted (with doubled quotes) when it holds a separator,
 * quote or line break. */
static int csv_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n"))
        return fputs(s, f) >= 0;
    if (fputc('"', f) == EOF)
        return 0;
    for (; *s; s++) {
        if (*s == '"' && fputc('"', f) == EOF)
            return 0;
        if (fputc(*s, f) == EOF)
            return 0;
    }
    return fputc('"', f) != EOF;
}

static int csv_class_name(FILE *f, const char *const *class_names, int c)
{
    if (class_names && class_names[c])
        return csv_field(f, class_names[c]);
    return fprintf(f, "%d", c) > 0;
}

int movl_metrics_write_confusion_csv(const char *path, const movl_metrics *m, const char *const *class_names,
                                     char *err)
{
    movl_out_file out;
    if (movl_out_open(&out, path, err))
        return MOVL_ERR_RUN;
    FILE *f = out.f;
    int ok = fputs("true\\pred", f) >= 0;
    for (int c = 0; ok && c < m->k; c++)
        ok = fputc(',', f) != EOF && csv_class_name(f, class_names, c);
    ok = ok && fputc('\n', f) != EOF;
    for (int t = 0; ok && t < m->k; t++) {
        ok = csv_class_name(f, class_names, t);
        for (int p = 0; ok && p < m->k; p++)
            ok = fprintf(f, ",%lld", (long long)m->confusion[(size_t)t * m->k + p]) > 0;
        ok = ok && fputc('\n', f) != EOF;
    }
    return finish(&out, ok, err);
}

/* NaN/Inf are not JSON numbers: they become null. */
int metrics_json_number(cJSON *obj, const char *key, double v)
{
    return isfinite(v) ? cJSON_AddNumberToObject(obj, key, v) != NULL : cJSON_AddNullToObject(obj, key) != NULL;
}

cJSON *movl_metrics_to_json(const movl_metrics *m, const char *const *class_names)
{
    cJSON *obj = cJSON_CreateObject();
    int ok = obj != NULL;
    ok = ok && metrics_json_number(obj, "n", (double)m->n);
    ok = ok && metrics_json_number(obj, "acc", m->acc);
    ok = ok && metrics_json_number(obj, "auc", m->auc_defined ? m->auc : NAN);
    ok = ok && metrics_json_number(obj, "auc_skipped", m->auc_skipped);
    ok = ok && metrics_json_number(obj, "balanced_acc", m->balanced_acc);
    ok = ok && metrics_json_number(obj, "macro_f1", m->macro_f1);
    cJSON *rows = ok ? cJSON_AddArrayToObject(obj, "confusion") : NULL;
    ok = ok && rows;
    for (int t = 0; ok && t < m->k; t++) {
        cJSON *row = cJSON_CreateArray();
        ok = row && cJSON_AddItemToArray(rows, row);
        if (!ok)
            cJSON_Delete(row);
        for (int p = 0; ok && p < m->k; p++) {
            cJSON *v = cJSON_CreateNumber((double)m->confusion[(size_t)t * m->k + p]);
            ok = v && cJSON_AddItemToArray(row, v);
            if (!ok)
                cJSON_Delete(v);
        }
    }
    if (ok && class_names) {
        cJSON *names = cJSON_AddArrayToObject(obj, "classes");
        ok = names != NULL;
        for (int c = 0; ok && c < m->k; c++) {
            cJSON *s = cJSON_CreateString(class_names[c] ? class_names[c] : "");
            ok = s && cJSON_AddItemToArray(names, s);
            if (!ok)
                cJSON_Delete(s);
        }
    }
    ok = ok && (!m->has_bootstrap || metrics_bootstrap_to_json(obj, m));
    ok = ok && (!m->has_calibration || metrics_calibration_to_json(obj, m));
    if (!ok) {
        cJSON_Delete(obj);
        return NULL;
    }
    return obj;
}

int movl_metrics_write_json(const char *path, const movl_metrics *m, const char *const *class_names, char *err)
{
    cJSON *obj = movl_metrics_to_json(m, class_names);
    char *text = obj ? cJSON_Print(obj) : NULL;
    cJSON_Delete(obj);
    if (!text) {
        movl_set_error(err, "%s: out of memory", path);
        return MOVL_ERR_RUN;
    }
    movl_out_file out;
    if (movl_out_open(&out, path, err)) {
        cJSON_free(text);
        return MOVL_ERR_RUN;
    }
    size_t len = strlen(text);
    int ok = fwrite(text, 1, len, out.f) == len && fputc('\n', out.f) != EOF;
    cJSON_free(text);
    return finish(&out, ok, err);
}
