/* Uncertainty of the metrics (runtime/adapt/metrics_ci.c, metrics_calibration.c),
 * no device:
 *  - the bootstrap's O(N) resample AUC against materialising every resample
 *    (the same documented draws: xoshiro256** seeded with the seed, N calls of
 *    movl_rng_below(N) per resample) and recomputing it with
 *    movl_metrics_compute's sort, percentile taken here;
 *  - properties: the interval holds the point estimate on real scores
 *    (a nearest-mean classifier on MedMNIST images), its width shrinks as
 *    1/sqrt(N) when the data is replicated, same seed same interval, coverage
 *    of a known truth over 200 synthetic repeats, undefined AUCs;
 *  - ECE and its bins against a numpy reference (tests/golden/calibration_ref.py)
 *    on the same scores, and hand-checkable cases;
 *  - the JSON fields; the time of 1000 resamples is printed (no assertion). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "adapt/metrics.h"
#include "core/common.h"
#include "core/rng.h"
#include "data/dataset.h"
#include "test_util.h"

static char err[MOVL_ERRLEN];

static int compute(const int *y, const float *p, int n, int k, movl_score_kind kind, movl_metrics *m,
                   const char *what)
{
    err[0] = 0;
    int rc = movl_metrics_compute(y, p, (size_t)n, k, kind, m, err);
    CHECK(rc == MOVL_OK, "%s: compute rc %d (%s)", what, rc, err);
    return rc == MOVL_OK;
}

static int bootstrap(movl_metrics *m, int r, uint64_t seed, const char *what)
{
    err[0] = 0;
    int rc = movl_metrics_bootstrap(m, r, seed, err);
    CHECK(rc == MOVL_OK, "%s: bootstrap rc %d (%s)", what, rc, err);
    return rc == MOVL_OK;
}

static double gauss(void)
{
    double u = (test_uniform(0, 1) + 1e-7) / (1 + 2e-7), v = test_uniform(0, 1);
    return sqrt(-2 * log(u)) * cos(6.283185307179586 * v);
}

/* Binary rows (1 - s, s). */
static void binary_row(float *row, float s)
{
    row[0] = 1.0f - s;
    row[1] = s;
}

/* ---- the O(N) bootstrap against materialised resamples ---- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* numpy.percentile's default (linear between order statistics). */
static double percentile(double *v, int n, double q)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    double h = q * (n - 1);
    int lo = (int)h;
    return lo >= n - 1 ? v[n - 1] : v[lo] + (h - lo) * (v[lo + 1] - v[lo]);
}

static void check_against_materialised(const char *what, const int *y, const float *p, int n, int k,
                                       movl_score_kind kind, int resamples, uint64_t seed)
{
    movl_metrics m;
    if (!compute(y, p, n, k, kind, &m, what) || !bootstrap(&m, resamples, seed, what))
        return;
    int *ry = malloc((size_t)n * sizeof *ry);
    float *rp = malloc((size_t)n * k * sizeof *rp);
    double *accs = malloc((size_t)resamples * sizeof *accs), *aucs = malloc((size_t)resamples * sizeof *aucs);
    int nauc = 0, skipped = 0;
    movl_rng rng;
    movl_rng_seed(&rng, seed);
    for (int r = 0; r < resamples; r++) {
        for (int d = 0; d < n; d++) {
            int i = (int)movl_rng_below(&rng, (uint64_t)n);
            ry[d] = y[i];
            memcpy(rp + (size_t)d * k, p + (size_t)i * k, (size_t)k * sizeof *rp);
        }
        movl_metrics rm;
        if (!compute(ry, rp, n, k, kind, &rm, what))
            break;
        accs[r] = rm.acc;
        /* skipped: a class averaged in the point estimate has no AUC in this resample */
        int undefined = 0;
        for (int c = k == 2 ? 1 : 0; c < k; c++)
            undefined |= !isnan(m.class_auc[c]) && isnan(rm.class_auc[c]);
        if (m.auc_defined && !undefined) {
            double sum = 0;
            int used = 0;
            for (int c = k == 2 ? 1 : 0; c < k; c++)
                if (!isnan(m.class_auc[c]))
                    sum += rm.class_auc[c], used++;
            aucs[nauc++] = sum / used;
        } else {
            skipped++;
        }
        movl_metrics_free(&rm);
    }
    double acc_lo = percentile(accs, resamples, 0.025), acc_hi = percentile(accs, resamples, 0.975);
    CHECK(fabs(m.acc_ci[0] - acc_lo) < 1e-12 && fabs(m.acc_ci[1] - acc_hi) < 1e-12,
          "%s: acc_ci [%.15g, %.15g], materialised [%.15g, %.15g]", what, m.acc_ci[0], m.acc_ci[1], acc_lo, acc_hi);
    CHECK(m.boot_skipped == skipped, "%s: %d resamples skipped, materialised %d", what, m.boot_skipped, skipped);
    if (nauc > 0) {
        double lo = percentile(aucs, nauc, 0.025), hi = percentile(aucs, nauc, 0.975);
        CHECK(fabs(m.auc_ci[0] - lo) < 1e-12 && fabs(m.auc_ci[1] - hi) < 1e-12,
              "%s: auc_ci [%.15g, %.15g], materialised [%.15g, %.15g]", what, m.auc_ci[0], m.auc_ci[1], lo, hi);
    } else {
        CHECK(isnan(m.auc_ci[0]) && isnan(m.auc_ci[1]), "%s: no resample has an AUC, auc_ci must be NaN", what);
    }
    CHECK(m.has_bootstrap && m.boot_resamples == resamples && m.boot_seed == seed, "%s: bootstrap fields", what);
    free(ry), free(rp), free(accs), free(aucs);
    movl_metrics_free(&m);
}

static void test_materialised(void)
{
    enum { N = 150 };
    int y[N];
    float p[N * 4];
    /* binary probabilities quantised to 1/8: many ties */
    for (int i = 0; i < N; i++) {
        y[i] = test_uniform(0, 1) < 0.4f;
        binary_row(p + 2 * i, floorf(fminf(test_uniform(0, 1) + 0.3f * y[i], 0.999f) * 8) / 8);
    }
    check_against_materialised("binary with ties", y, p, N, 2, MOVL_SCORES_PROBS, 300, 11);
    /* 4-class logits */
    for (int i = 0; i < N; i++) {
        y[i] = (int)(test_uniform(0, 4) * 0.999f);
        for (int c = 0; c < 4; c++)
            p[i * 4 + c] = test_uniform(-2, 2) + (c == y[i] ? 1.0f : 0.0f);
    }
    check_against_materialised("4-class logits", y, p, N, 4, MOVL_SCORES_LOGITS, 300, 12);
    /* 3 classes, class 1 absent from y (its AUC is left out), class 2 rare: some resamples lack it */
    for (int i = 0; i < N; i++) {
        y[i] = i < 4 ? 2 : 0;
        for (int c = 0; c < 3; c++)
            p[i * 3 + c] = test_uniform(0, 1);
    }
    check_against_materialised("3 classes, one absent, one rare", y, p, N, 3, MOVL_SCORES_PROBS, 300, 13);
    /* binary, one positive in 20: P(resample without it) = (19/20)^20 = 0.358 */
    int y20[20];
    float p20[40];
    for (int i = 0; i < 20; i++) {
        y20[i] = i == 7;
        binary_row(p20 + 2 * i, test_uniform(0, 1));
    }
    check_against_materialised("one positive in 20", y20, p20, 20, 2, MOVL_SCORES_PROBS, 400, 14);
    movl_metrics m;
    if (compute(y20, p20, 20, 2, MOVL_SCORES_PROBS, &m, "one positive") && bootstrap(&m, 1000, 5, "one positive")) {
        /* binomial(1000, 0.358): mean 358, sd 15.2; 290..430 is more than 4 sd either side */
        CHECK(m.boot_skipped >= 290 && m.boot_skipped <= 430, "one positive in 20: %d of 1000 skipped, expected ~358",
              m.boot_skipped);
        CHECK(isfinite(m.auc_ci[0]) && m.auc_ci[0] <= m.auc_ci[1], "one positive: auc_ci from the rest");
    }
    movl_metrics_free(&m);
}

/* ---- properties ---- */

/* Mean grey value of a MedMNIST image. */
static double image_mean(const movl_dataset *ds, int split, int i)
{
    const movl_sample *s = &ds->split[split].samples[i];
    size_t len = (size_t)s->w * s->h * ds->channels;
    double sum = 0;
    for (size_t j = 0; j < len; j++)
        sum += ds->split[split].u8[s->offset + j] / 255.0;
    return sum / len;
}

/* Real scores: a nearest-class-mean classifier on the mean grey value of
 * real MedMNIST images (class means from the train split), logits
 * -(x - mean_c)^2 / 0.002, applied to the test split. NULL without data. */
static float *real_scores(const char *path, int **labels, int *n, int *k)
{
    movl_dataset ds;
    if (access(path, R_OK) != 0 || movl_dataset_load(path, NULL, &ds, err) != MOVL_OK) {
        printf("%s not readable (%s): real-score checks skipped\n", path, err);
        return NULL;
    }
    *k = ds.num_classes;
    double mean[16] = {0};
    int count[16] = {0};
    for (int i = 0; i < ds.split[0].n; i++) {
        int c = ds.split[0].samples[i].label;
        mean[c] += image_mean(&ds, 0, i);
        count[c]++;
    }
    for (int c = 0; c < *k; c++)
        mean[c] /= count[c] ? count[c] : 1;
    *n = ds.split[2].n;
    float *p = malloc((size_t)*n * *k * sizeof *p);
    *labels = malloc((size_t)*n * sizeof **labels);
    for (int i = 0; i < *n; i++) {
        double x = image_mean(&ds, 2, i);
        (*labels)[i] = ds.split[2].samples[i].label;
        for (int c = 0; c < *k; c++)
            p[(size_t)i * *k + c] = (float)(-(x - mean[c]) * (x - mean[c]) / 0.002);
    }
    movl_dataset_free(&ds);
    return p;
}

static void test_real_scores_contain_estimate(void)
{
    const char *files[] = {"data/medmnist/pneumoniamnist.npz", "data/medmnist/retinamnist.npz"};
    for (int f = 0; f < 2; f++) {
        int *y = NULL, n = 0, k = 0;
        float *p = real_scores(files[f], &y, &n, &k);
        if (!p)
            continue;
        movl_metrics m;
        if (compute(y, p, n, k, MOVL_SCORES_LOGITS, &m, files[f]) && bootstrap(&m, 1000, 3, files[f])) {
            printf("%s (nearest mean grey value, %d test images, %d classes): acc %.4f [%.4f, %.4f], auc %.4f "
                   "[%.4f, %.4f], %d skipped\n",
                   files[f], n, k, m.acc, m.acc_ci[0], m.acc_ci[1], m.auc, m.auc_ci[0], m.auc_ci[1], m.boot_skipped);
            CHECK(m.acc_ci[0] <= m.acc && m.acc <= m.acc_ci[1] && m.acc_ci[0] < m.acc_ci[1],
                  "%s: acc %.4f outside [%.4f, %.4f]", files[f], m.acc, m.acc_ci[0], m.acc_ci[1]);
            CHECK(m.auc_ci[0] <= m.auc && m.auc <= m.auc_ci[1] && m.auc_ci[0] < m.auc_ci[1],
                  "%s: auc %.4f outside [%.4f, %.4f]", files[f], m.auc, m.auc_ci[0], m.auc_ci[1]);
            /* the normal approximation's width 2 * 1.96 * sqrt(acc (1 - acc) / n), within 25 % */
            double w = m.acc_ci[1] - m.acc_ci[0], normal = 2 * 1.96 * sqrt(m.acc * (1 - m.acc) / n);
            CHECK(fabs(w / normal - 1) < 0.25, "%s: acc_ci width %.4f, normal approximation %.4f", files[f], w,
                  normal);
        }
        movl_metrics_free(&m);
        free(p);
        free(y);
    }
}

/* Replicating the data 4 times keeps the point estimates and halves the
 * intervals (their width goes as 1/sqrt(N)). With 2000 resamples a
 * percentile is off by a few % of the width (Monte Carlo error), so the
 * ratio is checked within 0.5 +- 0.1. */
static void test_width_shrinks(void)
{
    enum { N = 300, REP = 4 };
    int *y = malloc(sizeof(int) * N * REP);
    float *p = malloc(sizeof(float) * N * REP * 2);
    for (int i = 0; i < N; i++) {
        y[i] = test_uniform(0, 1) < 0.5f;
        binary_row(p + 2 * i, 1.0f / (1.0f + expf(-(float)(gauss() + 1.2 * y[i] - 0.6))));
    }
    for (int r = 1; r < REP; r++) {
        memcpy(y + r * N, y, sizeof(int) * N);
        memcpy(p + r * N * 2, p, sizeof(float) * N * 2);
    }
    movl_metrics a, b;
    if (compute(y, p, N, 2, MOVL_SCORES_PROBS, &a, "N") && compute(y, p, N * REP, 2, MOVL_SCORES_PROBS, &b, "4N") &&
        bootstrap(&a, 2000, 21, "N") && bootstrap(&b, 2000, 21, "4N")) {
        CHECK(fabs(a.acc - b.acc) < 1e-12 && fabs(a.auc - b.auc) < 1e-12, "replicated data: same point estimates");
        double racc = (b.acc_ci[1] - b.acc_ci[0]) / (a.acc_ci[1] - a.acc_ci[0]);
        double rauc = (b.auc_ci[1] - b.auc_ci[0]) / (a.auc_ci[1] - a.auc_ci[0]);
        printf("width ratio 4N / N: acc %.3f, auc %.3f (1/sqrt(4) = 0.5)\n", racc, rauc);
        CHECK(fabs(racc - 0.5) < 0.1, "acc_ci width ratio %.3f, expected ~0.5", racc);
        CHECK(fabs(rauc - 0.5) < 0.1, "auc_ci width ratio %.3f, expected ~0.5", rauc);
    }
    movl_metrics_free(&a);
    movl_metrics_free(&b);

    /* same seed: the same interval; another seed: another one */
    movl_metrics c, d, e;
    if (compute(y, p, N, 2, MOVL_SCORES_PROBS, &c, "seed") && compute(y, p, N, 2, MOVL_SCORES_PROBS, &d, "seed") &&
        compute(y, p, N, 2, MOVL_SCORES_PROBS, &e, "seed") && bootstrap(&c, 1000, 7, "seed 7") &&
        bootstrap(&d, 1000, 7, "seed 7") && bootstrap(&e, 1000, 8, "seed 8")) {
        CHECK(memcmp(c.acc_ci, d.acc_ci, sizeof c.acc_ci) == 0 && memcmp(c.auc_ci, d.auc_ci, sizeof c.auc_ci) == 0,
              "same seed, different intervals");
        CHECK(memcmp(c.acc_ci, e.acc_ci, sizeof c.acc_ci) != 0 || memcmp(c.auc_ci, e.auc_ci, sizeof c.auc_ci) != 0,
              "seeds 7 and 8 gave identical intervals");
    }
    movl_metrics_free(&c);
    movl_metrics_free(&d);
    movl_metrics_free(&e);
    free(y);
    free(p);
}

/* Coverage of a known truth over 200 independent data sets of N = 200:
 * ACC: each sample correct with probability 0.8 (the true accuracy);
 * AUC: positives' scores N(1, 1), negatives' N(0, 1), half each, true AUC
 * Phi(1 / sqrt 2) = 0.7602. A 95 % interval covers ~190 of 200 (sd 3.1);
 * the percentile bootstrap runs ~1-2 points under nominal at this N, so
 * 176..199 (0.88..0.995) leaves more than 3 sd each way. */
static void test_coverage(void)
{
    enum { N = 200, REPEATS = 200 };
    int y[N];
    float p[2 * N];
    int cover_acc = 0, cover_auc = 0;
    double true_auc = 0.5 * erfc(-(1 / sqrt(2.0)) / sqrt(2.0));
    for (int rep = 0; rep < REPEATS; rep++) {
        for (int i = 0; i < N; i++) { /* ACC: a correct sample has score 0.9 on its label */
            y[i] = i % 2;
            int correct = test_uniform(0, 1) < 0.8f;
            binary_row(p + 2 * i, (float)(correct == y[i] ? 0.9 : 0.1));
        }
        movl_metrics m;
        if (!compute(y, p, N, 2, MOVL_SCORES_PROBS, &m, "coverage acc") || !bootstrap(&m, 1000, rep, "coverage"))
            return;
        cover_acc += m.acc_ci[0] <= 0.8 && 0.8 <= m.acc_ci[1];
        movl_metrics_free(&m);
        for (int i = 0; i < N; i++)
            p[2 * i + 1] = (float)(gauss() + y[i]), p[2 * i] = -p[2 * i + 1];
        if (!compute(y, p, N, 2, MOVL_SCORES_LOGITS, &m, "coverage auc") || !bootstrap(&m, 1000, rep, "coverage"))
            return;
        cover_auc += m.auc_ci[0] <= true_auc && true_auc <= m.auc_ci[1];
        movl_metrics_free(&m);
    }
    printf("coverage over %d repeats: acc %d, auc %d (95 %% nominal: %d)\n", REPEATS, cover_acc, cover_auc,
           REPEATS * 95 / 100);
    CHECK(cover_acc >= 176 && cover_acc <= 199, "acc_ci covered the true 0.8 in %d of %d", cover_acc, REPEATS);
    CHECK(cover_auc >= 176 && cover_auc <= 199, "auc_ci covered the true %.4f in %d of %d", true_auc, cover_auc,
          REPEATS);
}

static void test_undefined_and_errors(void)
{
    const float s[] = {0.9f, 0.6f, 0.3f};
    const int ones[] = {1, 1, 1};
    float p[6];
    for (int i = 0; i < 3; i++)
        binary_row(p + 2 * i, s[i]);
    movl_metrics m;
    if (compute(ones, p, 3, 2, MOVL_SCORES_PROBS, &m, "one class") && bootstrap(&m, 100, 1, "one class")) {
        CHECK(isnan(m.auc_ci[0]) && isnan(m.auc_ci[1]) && m.boot_skipped == 100,
              "one class: auc_ci [%g, %g], %d skipped (want NaN, 100)", m.auc_ci[0], m.auc_ci[1], m.boot_skipped);
        CHECK(isfinite(m.acc_ci[0]) && m.acc_ci[0] <= m.acc_ci[1], "one class: acc_ci still defined");
        cJSON *j = movl_metrics_to_json(&m, NULL);
        CHECK(j && cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, "auc_ci")), "one class: auc_ci is null in JSON");
        cJSON_Delete(j);
        err[0] = 0;
        CHECK(movl_metrics_bootstrap(&m, 1, 1, err) == MOVL_ERR_INPUT && strstr(err, "1 resamples"),
              "1 resample refused: '%s'", err);
    }
    movl_metrics_free(&m);
    movl_metrics empty = {0};
    CHECK(movl_metrics_bootstrap(&empty, 100, 1, err) == MOVL_ERR_INPUT, "bootstrap without compute refused");
    CHECK(movl_metrics_calibration(&empty, err) == MOVL_ERR_INPUT, "calibration without compute refused");
}

/* ---- calibration ---- */

static void check_bins(const movl_metrics *m, const int64_t *count, const char *what)
{
    for (int b = 0; b < MOVL_CAL_BINS; b++)
        CHECK(m->cal_count[b] == count[b], "%s: bin %d holds %lld, want %lld", what, b, (long long)m->cal_count[b],
              (long long)count[b]);
}

static void test_ece_by_hand(void)
{
    /* perfectly calibrated: 4 at conf 0.75 (bin 11), 3 correct; 8 at conf 0.625 (p1 = 0.375, bin 9), 5 correct */
    int y[12];
    float p[24];
    for (int i = 0; i < 4; i++)
        y[i] = i < 3, binary_row(p + 2 * i, 0.75f);
    for (int i = 4; i < 12; i++)
        y[i] = i >= 9, binary_row(p + 2 * i, 0.375f);
    movl_metrics m;
    if (compute(y, p, 12, 2, MOVL_SCORES_PROBS, &m, "calibrated") && movl_metrics_calibration(&m, err) == MOVL_OK) {
        CHECK(m.ece == 0, "perfectly calibrated: ECE %.17g, want 0", m.ece);
        int64_t want[MOVL_CAL_BINS] = {[9] = 8, [11] = 4};
        check_bins(&m, want, "calibrated");
        CHECK(m.cal_acc[11] == 0.75 && m.cal_conf[9] == 0.625 && isnan(m.cal_acc[0]), "calibrated: bin values");
    }
    movl_metrics_free(&m);
    /* overconfident: conf 0.875 on all, half correct: ECE = 0.375 */
    for (int i = 0; i < 8; i++)
        y[i] = i % 2, binary_row(p + 2 * i, 0.875f);
    if (compute(y, p, 8, 2, MOVL_SCORES_PROBS, &m, "overconfident") && movl_metrics_calibration(&m, err) == MOVL_OK)
        CHECK(m.ece == 0.375, "overconfident: ECE %.17g, want 0.375", m.ece);
    movl_metrics_free(&m);
    /* logits (0, 0): conf 1/2, bin 7 ((7/15, 8/15]); probs (0, 1): conf exactly 1, the last bin */
    const float z[] = {0, 0, 0, 0, 0, 1};
    const int yz[] = {0, 1, 1};
    if (compute(yz, z, 2, 2, MOVL_SCORES_LOGITS, &m, "logit tie") && movl_metrics_calibration(&m, err) == MOVL_OK) {
        int64_t want[MOVL_CAL_BINS] = {[7] = 2};
        check_bins(&m, want, "logit tie");
        CHECK(m.ece == 0, "logit tie: ECE %.17g (acc 1/2 at conf 1/2)", m.ece);
    }
    movl_metrics_free(&m);
    if (compute(yz + 2, z + 4, 1, 2, MOVL_SCORES_PROBS, &m, "conf 1") && movl_metrics_calibration(&m, err) == MOVL_OK) {
        int64_t want[MOVL_CAL_BINS] = {[14] = 1};
        check_bins(&m, want, "conf 1");
    }
    movl_metrics_free(&m);
}

/* Runs tests/golden/calibration_ref.py on the scores; 0 when python/numpy is missing. */
static cJSON *numpy_calibration(const int *y, const float *p, int n, int k, movl_score_kind kind)
{
    char dir[64], path[128], cmd[512];
    test_make_tmpdir(dir, sizeof dir, "test_metrics_ci");
    snprintf(path, sizeof path, "%s/scores.txt", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return NULL;
    fprintf(f, "%d %s\n", k, kind == MOVL_SCORES_LOGITS ? "logits" : "probs");
    for (int i = 0; i < n; i++) {
        fprintf(f, "%d", y[i]);
        for (int c = 0; c < k; c++)
            fprintf(f, " %.9g", (double)p[(size_t)i * k + c]);
        fputc('\n', f);
    }
    fclose(f);
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 tests/golden/calibration_ref.py %s 2>&1", path);
    FILE *py = popen(cmd, "r");
    static char out[65536];
    size_t len = py ? fread(out, 1, sizeof out - 1, py) : 0;
    out[len] = 0;
    int status = py ? pclose(py) : -1;
    test_remove_tree(dir);
    cJSON *j = status == 0 ? cJSON_Parse(out) : NULL;
    if (!j)
        printf("numpy reference unavailable (%s): skipped\n", out);
    return j;
}

static void compare_with_numpy(const char *what, const int *y, const float *p, int n, int k, movl_score_kind kind)
{
    movl_metrics m;
    if (!compute(y, p, n, k, kind, &m, what) || movl_metrics_calibration(&m, err) != MOVL_OK)
        return;
    cJSON *ref = numpy_calibration(y, p, n, k, kind);
    if (ref) {
        double ece = cJSON_GetObjectItemCaseSensitive(ref, "ece")->valuedouble;
        printf("%s: ECE %.12f, numpy %.12f\n", what, m.ece, ece);
        CHECK(fabs(m.ece - ece) < 1e-12, "%s: ECE %.17g, numpy %.17g", what, m.ece, ece);
        cJSON *cnt = cJSON_GetObjectItemCaseSensitive(ref, "count"), *acc = cJSON_GetObjectItemCaseSensitive(ref, "acc"),
              *conf = cJSON_GetObjectItemCaseSensitive(ref, "conf");
        int same = cJSON_GetArraySize(cnt) == MOVL_CAL_BINS;
        for (int b = 0; same && b < MOVL_CAL_BINS; b++) {
            cJSON *a = cJSON_GetArrayItem(acc, b), *c = cJSON_GetArrayItem(conf, b);
            same = cJSON_GetArrayItem(cnt, b)->valuedouble == (double)m.cal_count[b] &&
                   (cJSON_IsNull(a) ? isnan(m.cal_acc[b]) : fabs(a->valuedouble - m.cal_acc[b]) < 1e-12) &&
                   (cJSON_IsNull(c) ? isnan(m.cal_conf[b]) : fabs(c->valuedouble - m.cal_conf[b]) < 1e-12);
            if (!same)
                printf("  bin %d: movl %lld %.15g %.15g\n", b, (long long)m.cal_count[b], m.cal_acc[b], m.cal_conf[b]);
        }
        CHECK(same, "%s: bins differ from numpy's", what);
        cJSON_Delete(ref);
    }
    movl_metrics_free(&m);
}

static void test_ece_vs_numpy(void)
{
    enum { N = 500 };
    int y[N];
    float p[N * 5];
    for (int i = 0; i < N; i++) { /* 5-class logits of varying sharpness */
        y[i] = (int)(test_uniform(0, 5) * 0.999f);
        float t = test_uniform(0.2f, 3);
        for (int c = 0; c < 5; c++)
            p[i * 5 + c] = t * ((float)gauss() + (c == y[i] ? 1.5f : 0));
    }
    compare_with_numpy("5-class logits", y, p, N, 5, MOVL_SCORES_LOGITS);
    for (int i = 0; i < N; i++) { /* binary probabilities */
        y[i] = test_uniform(0, 1) < 0.3f;
        binary_row(p + 2 * i, test_uniform(0, 1));
    }
    compare_with_numpy("binary probabilities", y, p, N, 2, MOVL_SCORES_PROBS);
    int *ry = NULL, n = 0, k = 0;
    float *rp = real_scores("data/medmnist/retinamnist.npz", &ry, &n, &k);
    if (rp)
        compare_with_numpy("retinamnist nearest-mean logits", ry, rp, n, k, MOVL_SCORES_LOGITS);
    free(rp);
    free(ry);
}

static void test_json(void)
{
    enum { N = 40 };
    int y[N];
    float p[2 * N];
    for (int i = 0; i < N; i++)
        y[i] = i % 2, binary_row(p + 2 * i, test_uniform(0, 1));
    movl_metrics m;
    if (!compute(y, p, N, 2, MOVL_SCORES_PROBS, &m, "json"))
        return;
    cJSON *j = movl_metrics_to_json(&m, NULL);
    const char *keys[] = {"acc_ci", "auc_ci", "ece", "bootstrap", "calibration"};
    for (int i = 0; i < 5; i++)
        CHECK(j && !cJSON_GetObjectItemCaseSensitive(j, keys[i]), "json before the estimates has %s", keys[i]);
    cJSON_Delete(j);
    if (bootstrap(&m, 500, 99, "json") && movl_metrics_calibration(&m, err) == MOVL_OK) {
        j = movl_metrics_to_json(&m, NULL);
        cJSON *ci = cJSON_GetObjectItemCaseSensitive(j, "acc_ci"), *b = cJSON_GetObjectItemCaseSensitive(j, "bootstrap"),
              *cal = cJSON_GetObjectItemCaseSensitive(j, "calibration");
        CHECK(cJSON_GetArraySize(ci) == 2 && cJSON_GetArrayItem(ci, 0)->valuedouble == m.acc_ci[0] &&
                  cJSON_GetArrayItem(ci, 1)->valuedouble == m.acc_ci[1],
              "json acc_ci");
        CHECK(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "auc_ci")) == 2, "json auc_ci");
        CHECK(cJSON_GetObjectItemCaseSensitive(b, "resamples")->valuedouble == 500 &&
                  cJSON_GetObjectItemCaseSensitive(b, "seed")->valuedouble == 99 &&
                  cJSON_GetObjectItemCaseSensitive(b, "skipped")->valuedouble == m.boot_skipped,
              "json bootstrap");
        CHECK(cJSON_GetObjectItemCaseSensitive(j, "ece")->valuedouble == m.ece, "json ece");
        cJSON *cnt = cJSON_GetObjectItemCaseSensitive(cal, "count"), *acc = cJSON_GetObjectItemCaseSensitive(cal, "acc");
        int total = 0, nulls_ok = 1;
        for (int bi = 0; bi < cJSON_GetArraySize(cnt); bi++) {
            total += (int)cJSON_GetArrayItem(cnt, bi)->valuedouble;
            nulls_ok &= cJSON_IsNull(cJSON_GetArrayItem(acc, bi)) == (m.cal_count[bi] == 0);
        }
        CHECK(cJSON_GetObjectItemCaseSensitive(cal, "bins")->valuedouble == MOVL_CAL_BINS &&
                  cJSON_GetArraySize(cnt) == MOVL_CAL_BINS && total == N && nulls_ok,
              "json calibration: 15 bins, counts sum to N, null acc exactly in empty bins");
        cJSON_Delete(j);
    }
    movl_metrics_free(&m);
}

/* Figures, not assertions: 1000 resamples at the test-split sizes. */
static void time_bootstrap(void)
{
    const int sizes[2][2] = {{624, 2}, {25000, 11}};
    for (int t = 0; t < 2; t++) {
        int n = sizes[t][0], k = sizes[t][1];
        int *y = malloc(sizeof(int) * n);
        float *p = malloc(sizeof(float) * n * k);
        for (int i = 0; i < n; i++) {
            y[i] = (int)(test_uniform(0, (float)k) * 0.999f);
            for (int c = 0; c < k; c++)
                p[(size_t)i * k + c] = (float)gauss() + (c == y[i]);
        }
        movl_metrics m;
        if (compute(y, p, n, k, MOVL_SCORES_LOGITS, &m, "timing")) {
            struct timespec a, b;
            clock_gettime(CLOCK_MONOTONIC, &a);
            bootstrap(&m, 1000, 1, "timing");
            clock_gettime(CLOCK_MONOTONIC, &b);
            printf("bootstrap, 1000 resamples of N = %d, K = %d: %.3f s\n", n, k,
                   (double)(b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) * 1e-9);
        }
        movl_metrics_free(&m);
        free(y);
        free(p);
    }
}

int main(void)
{
    test_rng_init(test_seed());
    test_materialised();
    test_real_scores_contain_estimate();
    test_width_shrinks();
    test_coverage();
    test_undefined_and_errors();
    test_ece_by_hand();
    test_ece_vs_numpy();
    test_json();
    time_bootstrap();
    return test_finish();
}
