/* Classification metrics (runtime/adapt/metrics.c), no device: hand-worked cases
 * with exact fractions, a random case against an O(N^2) pairwise AUC written
 * here, a golden case from numpy (tests/golden/metrics_golden.py), bad input,
 * and the CSV / JSON files. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "core/common.h"
#include "adapt/metrics.h"
#include "test_util.h"

static char err[MOVL_ERRLEN];

static int near(double got, double want) { return fabs(got - want) <= 1e-12; }

#define CHECK_NEAR(got, want, what)                                                                               \
    CHECK(near((got), (want)), "%s: %s = %.17g, expected %.17g", what, #got, (double)(got), (double)(want))

/* Binary rows (1 - s, s) from positive-class scores s. */
static float *binary_rows(const float *s, int n)
{
    float *p = malloc((size_t)n * 2 * sizeof *p);
    for (int i = 0; i < n; i++) {
        p[2 * i] = 1.0f - s[i];
        p[2 * i + 1] = s[i];
    }
    return p;
}

static int compute(const int *y, const float *p, int n, int k, movl_score_kind kind, movl_metrics *m,
                   const char *what)
{
    err[0] = 0;
    int rc = movl_metrics_compute(y, p, (size_t)n, k, kind, m, err);
    CHECK(rc == MOVL_OK, "%s: rc %d (%s)", what, rc, err);
    return rc == MOVL_OK;
}

/* ---- (a) hand-worked cases ---- */

/* scores [0.1, 0.4, 0.35, 0.8], labels [0, 0, 1, 1]. (pos, neg) pairs:
 * 0.35>0.1 win, 0.35<0.4 loss, 0.8 beats both: AUC = 3/4.
 * Predicted (s > 0.5): [0, 0, 0, 1] -> confusion [[2, 0], [1, 1]], acc 3/4,
 * recalls 1 and 1/2 -> balanced 3/4, F1_0 = 2*2/(4+1) = 4/5,
 * F1_1 = 2*1/(2+1) = 2/3 -> macro F1 = 11/15. */
static void test_binary_basic(void)
{
    const float s[] = {0.1f, 0.4f, 0.35f, 0.8f};
    const int y[] = {0, 0, 1, 1};
    float *p = binary_rows(s, 4);
    movl_metrics m;
    if (compute(y, p, 4, 2, MOVL_SCORES_PROBS, &m, "binary basic")) {
        CHECK_NEAR(m.auc, 0.75, "binary basic");
        CHECK(m.auc_defined == 1 && m.auc_averaged == 1 && m.auc_skipped == 0, "binary basic: auc flags %d %d %d",
              m.auc_defined, m.auc_averaged, m.auc_skipped);
        CHECK_NEAR(m.acc, 0.75, "binary basic");
        CHECK_NEAR(m.balanced_acc, 0.75, "binary basic");
        CHECK_NEAR(m.macro_f1, 11.0 / 15.0, "binary basic");
        CHECK_NEAR(m.class_f1[0], 0.8, "binary basic");
        CHECK_NEAR(m.class_f1[1], 2.0 / 3.0, "binary basic");
        const int64_t want[4] = {2, 0, 1, 1};
        CHECK(memcmp(m.confusion, want, sizeof want) == 0, "binary basic: confusion %lld %lld %lld %lld",
              (long long)m.confusion[0], (long long)m.confusion[1], (long long)m.confusion[2],
              (long long)m.confusion[3]);
        CHECK(m.n == 4 && m.k == 2 && m.classes_present == 2, "binary basic: n %lld k %d present %d",
              (long long)m.n, m.k, m.classes_present);
    }
    movl_metrics_free(&m);
    CHECK(m.class_auc == NULL && m.confusion == NULL, "free zeroes the struct");
    free(p);
}

/* Ties: scores [0.5, 0.5, 0.5, 0.2, 0.9], labels [1, 0, 0, 0, 1].
 * Positives {0.5, 0.9}, negatives {0.5, 0.5, 0.2}: 0.5 ties two negatives
 * (2 x 1/2) and beats 0.2 (1); 0.9 beats all three (3): 5/6.
 * By ranks: 0.2 -> 1, the three 0.5 -> 3 each, 0.9 -> 5; positive rank sum
 * 8, U = 8 - 2*3/2 = 5, AUC = 5/6. All scores equal -> every pair ties: 1/2. */
static void test_binary_ties(void)
{
    const float s[] = {0.5f, 0.5f, 0.5f, 0.2f, 0.9f};
    const int y[] = {1, 0, 0, 0, 1};
    float *p = binary_rows(s, 5);
    movl_metrics m;
    if (compute(y, p, 5, 2, MOVL_SCORES_PROBS, &m, "binary ties")) {
        CHECK_NEAR(m.auc, 5.0 / 6.0, "binary ties");
        /* (0.5, 0.5) rows: argmax tie -> class 0; predictions [0,0,0,0,1] */
        const int64_t want[4] = {3, 0, 1, 1};
        CHECK(memcmp(m.confusion, want, sizeof want) == 0, "binary ties: argmax ties go to class 0");
    }
    movl_metrics_free(&m);
    for (int i = 0; i < 5; i++)
        p[2 * i] = p[2 * i + 1] = 0.25f;
    if (compute(y, p, 5, 2, MOVL_SCORES_PROBS, &m, "all tied")) {
        CHECK_NEAR(m.auc, 0.5, "all tied");
        CHECK_NEAR(m.acc, 3.0 / 5.0, "all tied"); /* everything predicted 0 */
    }
    movl_metrics_free(&m);
    free(p);
}

/* K = 3, class 1 absent from y. labels [0, 0, 2, 2], rows
 *   [0.7 0.2 0.1] [0.3 0.3 0.4] [0.2 0.5 0.3] [0.1 0.1 0.8]
 * class 0 vs rest: pos {0.7, 0.3} vs neg {0.2, 0.1}: 4/4 = 1
 * class 1: no positives -> undefined, skipped
 * class 2 vs rest: pos {0.3, 0.8} vs neg {0.1, 0.4}: 3/4
 * auc = (1 + 3/4) / 2 = 7/8, 2 averaged, 1 skipped.
 * Predicted [0, 2, 1, 2]: confusion rows t0 [1 0 1], t1 [0 0 0], t2 [0 1 1];
 * acc 2/4; recalls 1/2 (c0), 1/2 (c2), c1 absent -> balanced 1/2 over 2
 * classes; F1: c0 2*1/(2+1) = 2/3, c1 0 (predicted once, never true), c2
 * 2*1/(2+2) = 1/2 -> macro F1 = (2/3 + 0 + 1/2) / 3 = 7/18. */
static void test_multiclass_absent(void)
{
    const float p[] = {0.7f, 0.2f, 0.1f, 0.3f, 0.3f, 0.4f, 0.2f, 0.5f, 0.3f, 0.1f, 0.1f, 0.8f};
    const int y[] = {0, 0, 2, 2};
    movl_metrics m;
    if (compute(y, p, 4, 3, MOVL_SCORES_PROBS, &m, "absent class")) {
        CHECK_NEAR(m.class_auc[0], 1.0, "absent class");
        CHECK(isnan(m.class_auc[1]), "absent class: class 1 AUC %g, expected NaN", m.class_auc[1]);
        CHECK_NEAR(m.class_auc[2], 0.75, "absent class");
        CHECK_NEAR(m.auc, 7.0 / 8.0, "absent class");
        CHECK(m.auc_defined == 1 && m.auc_averaged == 2 && m.auc_skipped == 1, "absent class: flags %d %d %d",
              m.auc_defined, m.auc_averaged, m.auc_skipped);
        CHECK_NEAR(m.acc, 0.5, "absent class");
        CHECK_NEAR(m.balanced_acc, 0.5, "absent class");
        CHECK(m.classes_present == 2, "absent class: %d classes present, expected 2", m.classes_present);
        CHECK(isnan(m.class_recall[1]), "absent class: recall of the absent class is NaN");
        CHECK_NEAR(m.macro_f1, 7.0 / 18.0, "absent class");
        const int64_t want[9] = {1, 0, 1, 0, 0, 0, 0, 1, 1};
        CHECK(memcmp(m.confusion, want, sizeof want) == 0, "absent class: confusion");
    }
    movl_metrics_free(&m);
}

/* All samples one class: no AUC is defined, NaN and flagged; the rest still
 * works (all predicted correctly: acc 1, balanced 1; macro F1 over K counts
 * the never-seen classes as 0). */
static void test_one_class(void)
{
    const float s[] = {0.9f, 0.6f, 0.7f};
    const int y[] = {1, 1, 1};
    float *p = binary_rows(s, 3);
    movl_metrics m;
    if (compute(y, p, 3, 2, MOVL_SCORES_PROBS, &m, "binary one class")) {
        CHECK(isnan(m.auc) && !m.auc_defined && m.auc_averaged == 0 && m.auc_skipped == 1,
              "binary one class: auc %g defined %d averaged %d skipped %d", m.auc, m.auc_defined, m.auc_averaged,
              m.auc_skipped);
        CHECK_NEAR(m.acc, 1.0, "binary one class");
        CHECK_NEAR(m.balanced_acc, 1.0, "binary one class");
        CHECK_NEAR(m.macro_f1, 0.5, "binary one class"); /* (0 + 1) / 2 */
    }
    movl_metrics_free(&m);
    free(p);

    const float q[] = {0.5f, 0.3f, 0.2f, 0.6f, 0.1f, 0.3f};
    const int z[] = {0, 0};
    if (compute(z, q, 2, 3, MOVL_SCORES_PROBS, &m, "multi one class")) {
        CHECK(isnan(m.auc) && !m.auc_defined && m.auc_averaged == 0 && m.auc_skipped == 3,
              "multi one class: auc %g defined %d averaged %d skipped %d", m.auc, m.auc_defined, m.auc_averaged,
              m.auc_skipped);
        CHECK_NEAR(m.macro_f1, 1.0 / 3.0, "multi one class");
    }
    movl_metrics_free(&m);
}

/* Perfect and inverted classifiers, binary and K = 4, random sizes. */
static void test_perfect_inverted(void)
{
    const int n = 97;
    for (int k = 2; k <= 4; k += 2) {
        int *y = malloc(n * sizeof *y);
        float *good = malloc((size_t)n * k * sizeof *good), *bad = malloc((size_t)n * k * sizeof *bad);
        for (int i = 0; i < n; i++) {
            y[i] = i % k; /* every class present */
            for (int c = 0; c < k; c++) {
                /* true class in (0.6, 1), others in (0, 0.4); inverted swaps */
                float hi = test_uniform(0.6f, 1.0f), lo = test_uniform(0.0f, 0.4f);
                good[i * k + c] = c == y[i] ? hi : lo;
                bad[i * k + c] = c == y[i] ? lo : hi;
            }
        }
        movl_metrics m;
        char what[64];
        snprintf(what, sizeof what, "perfect K=%d", k);
        if (compute(y, good, n, k, MOVL_SCORES_PROBS, &m, what)) {
            CHECK(m.auc == 1.0 && m.acc == 1.0 && m.balanced_acc == 1.0 && m.macro_f1 == 1.0,
                  "%s: auc %g acc %g bal %g f1 %g", what, m.auc, m.acc, m.balanced_acc, m.macro_f1);
        }
        movl_metrics_free(&m);
        snprintf(what, sizeof what, "inverted K=%d", k);
        if (compute(y, bad, n, k, MOVL_SCORES_PROBS, &m, what)) {
            CHECK(m.auc == 0.0 && m.acc == 0.0 && m.balanced_acc == 0.0 && m.macro_f1 == 0.0,
                  "%s: auc %g acc %g bal %g f1 %g", what, m.auc, m.acc, m.balanced_acc, m.macro_f1);
        }
        movl_metrics_free(&m);
        free(y);
        free(good);
        free(bad);
    }
}

/* Imbalanced: 90 of class 0, 10 of class 1, everything predicted 0.
 * acc 90/100 but balanced (1 + 0) / 2 = 1/2; class 1 never predicted:
 * F1_0 = 2*90/(180 + 10) = 18/19, F1_1 = 0 -> macro 9/19. With K = 3 (class 2
 * neither true nor predicted, F1 0 and counted): macro 6/19, balanced still
 * 1/2 (class 2 absent from y). */
static void test_imbalanced(void)
{
    int y[100];
    float p[300];
    for (int i = 0; i < 100; i++) {
        y[i] = i < 90 ? 0 : 1;
        p[3 * i] = 0.8f;
        p[3 * i + 1] = 0.15f;
        p[3 * i + 2] = 0.05f;
    }
    /* binary view of the same rows */
    float b[200];
    for (int i = 0; i < 100; i++) {
        b[2 * i] = 0.8f;
        b[2 * i + 1] = i < 90 ? 0.1f : 0.2f; /* ranks the positives first: AUC 1 */
    }
    movl_metrics m;
    if (compute(y, b, 100, 2, MOVL_SCORES_PROBS, &m, "imbalanced K=2")) {
        CHECK_NEAR(m.acc, 0.9, "imbalanced K=2");
        CHECK_NEAR(m.balanced_acc, 0.5, "imbalanced K=2");
        CHECK_NEAR(m.macro_f1, 9.0 / 19.0, "imbalanced K=2");
        CHECK_NEAR(m.auc, 1.0, "imbalanced K=2");
    }
    movl_metrics_free(&m);
    if (compute(y, p, 100, 3, MOVL_SCORES_PROBS, &m, "imbalanced K=3")) {
        CHECK_NEAR(m.acc, 0.9, "imbalanced K=3");
        CHECK_NEAR(m.balanced_acc, 0.5, "imbalanced K=3");
        CHECK_NEAR(m.macro_f1, 6.0 / 19.0, "imbalanced K=3");
        CHECK(m.class_f1[2] == 0.0, "imbalanced K=3: F1 of the empty class %g, expected 0", m.class_f1[2]);
        /* every row identical: all AUCs 1/2; class 2 undefined */
        CHECK_NEAR(m.auc, 0.5, "imbalanced K=3");
        CHECK(m.auc_skipped == 1, "imbalanced K=3: %d skipped, expected 1", m.auc_skipped);
    }
    movl_metrics_free(&m);
}

/* Logit scores: AUC on softmax; argmax on the raw values. Binary logits
 * (z0, z1) rank by z1 - z0, so the AUC equals the pairwise AUC of z1 - z0. The
 * result is unchanged by adding an integer to a whole row (exact here). */
static double pairwise_auc(const double *s, const int *pos, int n)
{
    double wins = 0, pairs = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            if (pos[i] && !pos[j]) {
                pairs += 1;
                wins += s[i] > s[j] ? 1.0 : s[i] == s[j] ? 0.5 : 0.0;
            }
    return pairs > 0 ? wins / pairs : NAN;
}

static void test_logits(void)
{
    const int n = 300;
    int *y = malloc(n * sizeof *y), *pos = malloc(n * sizeof *pos);
    float *z = malloc(2 * n * sizeof *z), *shifted = malloc(2 * n * sizeof *shifted);
    double *diff = malloc(n * sizeof *diff);
    for (int i = 0; i < n; i++) {
        y[i] = test_uniform(0, 1) < 0.3f;
        pos[i] = y[i];
        /* multiples of 1/64 in [-8, 8]: ties among differences happen */
        for (int c = 0; c < 2; c++)
            z[2 * i + c] = floorf(test_uniform(-8, 8) * 64) / 64 + (c == y[i] ? 1.0f : 0.0f);
        diff[i] = (double)z[2 * i + 1] - z[2 * i];
        float shift = floorf(test_uniform(-20, 20));
        shifted[2 * i] = z[2 * i] + shift;
        shifted[2 * i + 1] = z[2 * i + 1] + shift;
    }
    movl_metrics a, b;
    if (compute(y, z, n, 2, MOVL_SCORES_LOGITS, &a, "binary logits")) {
        CHECK_NEAR(a.auc, pairwise_auc(diff, pos, n), "binary logits");
        if (compute(y, shifted, n, 2, MOVL_SCORES_LOGITS, &b, "shifted logits")) {
            CHECK(a.auc == b.auc && a.acc == b.acc, "logits: row shifts change auc %.17g -> %.17g", a.auc, b.auc);
            movl_metrics_free(&b);
        }
        /* the same numbers read as probabilities rank by z1 alone */
        double *z1 = malloc(n * sizeof *z1);
        for (int i = 0; i < n; i++)
            z1[i] = z[2 * i + 1];
        if (compute(y, z, n, 2, MOVL_SCORES_PROBS, &b, "logits as probs")) {
            CHECK_NEAR(b.auc, pairwise_auc(z1, pos, n), "logits as probs");
            CHECK(a.acc == b.acc, "logits: the kind changed the accuracy");
            movl_metrics_free(&b);
        }
        free(z1);
        movl_metrics_free(&a);
    }
    /* huge logits: softmax underflows in float, log-softmax in double keeps order */
    const float big[] = {0, -1000, 0, -1001, 0, -1002, 0, -999};
    const int yb[] = {1, 0, 0, 1};
    if (compute(yb, big, 4, 2, MOVL_SCORES_LOGITS, &a, "huge logits")) {
        /* class 1 scores by z1 - z0: -1000, -1001, -1002, -999; pos {-1000, -999}
         * vs neg {-1001, -1002}: AUC 1 */
        CHECK_NEAR(a.auc, 1.0, "huge logits");
        movl_metrics_free(&a);
    }
    free(y);
    free(pos);
    free(z);
    free(shifted);
    free(diff);
}

/* ---- (b) a larger random case against the O(N^2) pairwise AUC and counts
 * written out here ---- */
static void test_random_vs_pairwise(void)
{
    const int n = 1500, k = 5;
    int *y = malloc(n * sizeof *y), *pos = malloc(n * sizeof *pos);
    float *p = malloc((size_t)n * k * sizeof *p);
    double *s = malloc(n * sizeof *s);
    for (int i = 0; i < n; i++) {
        y[i] = (int)(test_uniform(0, 1) * test_uniform(0, 1) * k) % k; /* skewed to low classes */
        for (int c = 0; c < k; c++) /* a 1/32 grid: many ties; a weak signal */
            p[i * k + c] = floorf(test_uniform(0, 1) * 32 + (c == y[i] ? 6 : 0)) / 32;
    }
    movl_metrics m;
    if (compute(y, p, n, k, MOVL_SCORES_PROBS, &m, "random")) {
        double sum = 0;
        int defined = 0;
        for (int c = 0; c < k; c++) {
            for (int i = 0; i < n; i++) {
                s[i] = p[i * k + c];
                pos[i] = y[i] == c;
            }
            double want = pairwise_auc(s, pos, n);
            CHECK(isnan(want) ? isnan(m.class_auc[c]) : near(m.class_auc[c], want),
                  "random: class %d AUC %.17g, pairwise %.17g", c, m.class_auc[c], want);
            if (!isnan(want)) {
                sum += want;
                defined++;
            }
        }
        CHECK_NEAR(m.auc, sum / defined, "random");
        CHECK(m.auc > 0.6 && m.auc < 0.99, "random: auc %g not in the range a weak signal gives", m.auc);

        /* counts straight from the samples */
        int64_t total = 0, diag = 0, *support = calloc(k, sizeof *support), *tp = calloc(k, sizeof *tp),
                *predicted = calloc(k, sizeof *predicted);
        for (int i = 0; i < n; i++) {
            int best = 0;
            for (int c = 1; c < k; c++)
                if (p[i * k + c] > p[i * k + best])
                    best = c;
            support[y[i]]++;
            predicted[best]++;
            tp[y[i]] += best == y[i];
        }
        for (int t = 0; t < k; t++) {
            int64_t row = 0, col = 0;
            for (int q = 0; q < k; q++) {
                row += m.confusion[t * k + q];
                col += m.confusion[q * k + t];
                total += m.confusion[t * k + q];
            }
            diag += m.confusion[t * k + t];
            CHECK(row == support[t] && col == predicted[t] && m.confusion[t * k + t] == tp[t],
                  "random: class %d row sum %lld (support %lld), column sum %lld (predicted %lld)", t,
                  (long long)row, (long long)support[t], (long long)col, (long long)predicted[t]);
        }
        CHECK(total == n, "random: confusion sums to %lld, expected %d", (long long)total, n);
        CHECK_NEAR(m.acc, (double)diag / n, "random");
        double rsum = 0, fsum = 0;
        int present = 0;
        for (int c = 0; c < k; c++) {
            if (support[c]) {
                rsum += (double)tp[c] / support[c];
                present++;
            }
            double prec = predicted[c] ? (double)tp[c] / predicted[c] : 0,
                   rec = support[c] ? (double)tp[c] / support[c] : 0;
            fsum += prec + rec > 0 ? 2 * prec * rec / (prec + rec) : 0;
        }
        CHECK_NEAR(m.balanced_acc, rsum / present, "random");
        CHECK_NEAR(m.macro_f1, fsum / k, "random");
        free(support);
        free(tp);
        free(predicted);
    }
    movl_metrics_free(&m);
    free(y);
    free(pos);
    free(p);
    free(s);
}

/* ---- (c) golden values from numpy: tests/golden/metrics_golden.py (its
 * output pasted here; the generator below repeats the script's) ---- */
/* golden_probs */
static const double golden_probs_acc = 0.54500000000000004, golden_probs_auc = 0.72908561598339272,
                    golden_probs_balanced_acc = 0.4934633217420103, golden_probs_macro_f1 = 0.43872221810068884;
static const double golden_probs_class_auc[4] = {0.69419191919191914, 0.66812124071234813, 0.75244200244200243,
                                                 0.80158730158730163};
static const long long golden_probs_confusion[4][4] = {{64, 18, 17, 11}, {13, 31, 10, 7}, {1, 4, 11, 2}, {2, 4, 2, 3}};
/* golden_logits */
static const double golden_logits_acc = 0.56000000000000005, golden_logits_auc = 0.70355061321249712,
                    golden_logits_balanced_acc = 0.54803675856307432, golden_logits_macro_f1 = 0.54560704905532487;
static const double golden_logits_class_auc[3] = {0.66313932980599644, 0.74707862943157066, 0.70043388039992449};
static const long long golden_logits_confusion[3][3] = {{16, 18, 8}, {6, 34, 11}, {10, 13, 34}};

static uint32_t lcg_state;
static uint32_t lcg_draw(void)
{
    lcg_state = (lcg_state * 1103515245u + 12345u) & 0x7fffffffu;
    return lcg_state >> 16;
}

static void check_golden(const char *what, const int *y, const float *p, int n, int k, movl_score_kind kind,
                         double acc, double auc, double bal, double f1, const double *class_auc,
                         const long long *confusion)
{
    movl_metrics m;
    if (!compute(y, p, n, k, kind, &m, what))
        return;
    CHECK_NEAR(m.acc, acc, what);
    CHECK_NEAR(m.auc, auc, what);
    CHECK_NEAR(m.balanced_acc, bal, what);
    CHECK_NEAR(m.macro_f1, f1, what);
    for (int c = 0; c < k; c++)
        CHECK(near(m.class_auc[c], class_auc[c]), "%s: class %d AUC %.17g, numpy %.17g", what, c, m.class_auc[c],
              class_auc[c]);
    int same = 1;
    for (int i = 0; i < k * k; i++)
        same &= m.confusion[i] == confusion[i];
    CHECK(same, "%s: confusion differs from numpy's", what);
    movl_metrics_free(&m);
}

static void test_golden(void)
{
    int y[200];
    float p[800];
    lcg_state = 12345;
    for (int i = 0; i < 200; i++) {
        uint32_t r = lcg_draw() % 10;
        y[i] = r < 5 ? 0 : r < 8 ? 1 : r < 9 ? 2 : 3;
        uint32_t bonus = lcg_draw() % 5;
        for (int c = 0; c < 4; c++)
            p[i * 4 + c] = (float)((lcg_draw() % 8 + (c == y[i] ? bonus : 0)) / 16.0);
    }
    check_golden("golden probs", y, p, 200, 4, MOVL_SCORES_PROBS, golden_probs_acc, golden_probs_auc,
                 golden_probs_balanced_acc, golden_probs_macro_f1, golden_probs_class_auc,
                 &golden_probs_confusion[0][0]);
    lcg_state = 777;
    for (int i = 0; i < 150; i++) {
        y[i] = (int)(lcg_draw() % 3);
        for (int c = 0; c < 3; c++)
            p[i * 3 + c] = (float)(((double)(lcg_draw() % 2001) - 1000) / 256.0 + (c == y[i] ? 1.5 : 0.0));
    }
    check_golden("golden logits", y, p, 150, 3, MOVL_SCORES_LOGITS, golden_logits_acc, golden_logits_auc,
                 golden_logits_balanced_acc, golden_logits_macro_f1, golden_logits_class_auc,
                 &golden_logits_confusion[0][0]);
}

/* ---- bad input ---- */
static void expect_error(const int *y, const float *p, int n, int k, int want_rc, const char *needle,
                         const char *what)
{
    movl_metrics m;
    memset(&m, 0xab, sizeof m);
    err[0] = 0;
    int rc = movl_metrics_compute(y, p, (size_t)n, k, MOVL_SCORES_PROBS, &m, err);
    CHECK(rc == want_rc, "%s: rc %d, expected %d", what, rc, want_rc);
    CHECK(strstr(err, needle) != NULL, "%s: error '%s' lacks '%s'", what, err, needle);
    CHECK(m.class_auc == NULL && m.confusion == NULL, "%s: output not cleared", what);
    movl_metrics_free(&m);
}

static void test_bad_input(void)
{
    const float p[] = {0.1f, 0.9f, 0.6f, 0.4f, 0.5f, 0.5f};
    const int y[] = {1, 0, 1};
    int bad[] = {1, 2, 0};
    expect_error(bad, p, 3, 2, MOVL_ERR_INPUT, "sample 1 is 2, expected 0..1", "label too large");
    bad[1] = -1;
    expect_error(bad, p, 3, 2, MOVL_ERR_INPUT, "sample 1 is -1", "negative label");
    expect_error(y, p, 0, 2, MOVL_ERR_INPUT, "no samples", "no samples");
    expect_error(y, p, 3, 1, MOVL_ERR_INPUT, "1 classes", "one class");
    float q[6];
    memcpy(q, p, sizeof q);
    q[3] = NAN;
    expect_error(y, q, 3, 2, MOVL_ERR_RUN, "sample 1, class 1", "NaN score");
    q[3] = INFINITY;
    expect_error(y, q, 3, 2, MOVL_ERR_RUN, "sample 1, class 1", "Inf score");
}

/* ---- files ---- */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = calloc(1, 65536);
    size_t len = fread(buf, 1, 65535, f);
    buf[len] = 0;
    fclose(f);
    return buf;
}

static int dir_has_temp(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "ls -A '%s' | grep -q '\\.tmp\\.'", dir);
    return system(cmd) == 0;
}

static void test_files(void)
{
    char dir[64];
    test_make_tmpdir(dir, sizeof dir, "test_metrics");
    /* the absent-class example: confusion rows [1 0 1] [0 0 0] [0 1 1] */
    const float p[] = {0.7f, 0.2f, 0.1f, 0.3f, 0.3f, 0.4f, 0.2f, 0.5f, 0.3f, 0.1f, 0.1f, 0.8f};
    const int y[] = {0, 0, 2, 2};
    movl_metrics m;
    if (!compute(y, p, 4, 3, MOVL_SCORES_PROBS, &m, "files"))
        return;
    char path[512];
    snprintf(path, sizeof path, "%s/confusion.csv", dir);
    CHECK(movl_metrics_write_confusion_csv(path, &m, NULL, err) == MOVL_OK, "csv: %s", err);
    char *text = slurp(path);
    CHECK(text && strcmp(text, "true\\pred,0,1,2\n0,1,0,1\n1,0,0,0\n2,0,1,1\n") == 0, "csv without names: '%s'",
          text ? text : "(missing)");
    free(text);
    const char *names[] = {"normal", "a,b", "say \"x\""};
    CHECK(movl_metrics_write_confusion_csv(path, &m, names, err) == MOVL_OK, "csv: %s", err);
    text = slurp(path);
    CHECK(text && strcmp(text, "true\\pred,normal,\"a,b\",\"say \"\"x\"\"\"\n"
                               "normal,1,0,1\n\"a,b\",0,0,0\n\"say \"\"x\"\"\",0,1,1\n") == 0,
          "csv with names (quoted, replaced the old file): '%s'", text ? text : "(missing)");
    free(text);

    /* JSON: values, NaN -> null, confusion rows, class names */
    snprintf(path, sizeof path, "%s/summary.json", dir);
    CHECK(movl_metrics_write_json(path, &m, names, err) == MOVL_OK, "json: %s", err);
    text = slurp(path);
    cJSON *j = text ? cJSON_Parse(text) : NULL;
    CHECK(j != NULL, "json: not parseable: '%s'", text ? text : "(missing)");
    if (j) {
        cJSON *acc = cJSON_GetObjectItemCaseSensitive(j, "acc"), *auc = cJSON_GetObjectItemCaseSensitive(j, "auc"),
              *bal = cJSON_GetObjectItemCaseSensitive(j, "balanced_acc"),
              *f1 = cJSON_GetObjectItemCaseSensitive(j, "macro_f1"),
              *conf = cJSON_GetObjectItemCaseSensitive(j, "confusion"),
              *cls = cJSON_GetObjectItemCaseSensitive(j, "classes");
        CHECK(cJSON_IsNumber(acc) && acc->valuedouble == 0.5, "json: acc");
        CHECK(cJSON_IsNumber(auc) && auc->valuedouble == 0.875, "json: auc");
        CHECK(cJSON_IsNumber(bal) && bal->valuedouble == 0.5, "json: balanced_acc");
        CHECK(cJSON_IsNumber(f1) && f1->valuedouble == m.macro_f1, "json: macro_f1 does not round-trip");
        CHECK(cJSON_IsArray(conf) && cJSON_GetArraySize(conf) == 3, "json: confusion is not 3 rows");
        int same = cJSON_IsArray(conf);
        for (int t = 0; same && t < 3; t++) {
            cJSON *row = cJSON_GetArrayItem(conf, t);
            same = cJSON_IsArray(row) && cJSON_GetArraySize(row) == 3;
            for (int q = 0; same && q < 3; q++)
                same = cJSON_GetArrayItem(row, q)->valuedouble == (double)m.confusion[t * 3 + q];
        }
        CHECK(same, "json: confusion values");
        CHECK(cJSON_IsArray(cls) && cJSON_GetArraySize(cls) == 3 &&
                  strcmp(cJSON_GetArrayItem(cls, 1)->valuestring, "a,b") == 0,
              "json: classes");
        cJSON_Delete(j);
    }
    free(text);
    movl_metrics_free(&m);

    const float s[] = {0.9f, 0.6f};
    const int ones[] = {1, 1};
    float *b = binary_rows(s, 2);
    if (compute(ones, b, 2, 2, MOVL_SCORES_PROBS, &m, "json NaN")) {
        cJSON *o = movl_metrics_to_json(&m, NULL);
        CHECK(o && cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, "auc")), "json: undefined auc is not null");
        CHECK(o && cJSON_GetObjectItemCaseSensitive(o, "classes") == NULL, "json: classes without names");
        CHECK(o && cJSON_GetObjectItemCaseSensitive(o, "auc_skipped")->valuedouble == 1, "json: auc_skipped");
        cJSON_Delete(o);
        /* unwritable place: error names the file, nothing is left behind */
        snprintf(path, sizeof path, "%s/missing/summary.json", dir);
        err[0] = 0;
        CHECK(movl_metrics_write_json(path, &m, NULL, err) == MOVL_ERR_RUN && strstr(err, path),
              "json into a missing folder: '%s'", err);
        snprintf(path, sizeof path, "%s/missing/confusion.csv", dir);
        err[0] = 0;
        CHECK(movl_metrics_write_confusion_csv(path, &m, NULL, err) == MOVL_ERR_RUN && strstr(err, path),
              "csv into a missing folder: '%s'", err);
    }
    movl_metrics_free(&m);
    free(b);
    CHECK(!dir_has_temp(dir), "a temp file was left in %s", dir);

    snprintf(path, sizeof path, "%s/confusion.csv", dir);
    remove(path);
    snprintf(path, sizeof path, "%s/summary.json", dir);
    remove(path);
    rmdir(dir);
}

int main(void)
{
    test_rng_init(test_seed());
    test_binary_basic();
    test_binary_ties();
    test_multiclass_absent();
    test_one_class();
    test_perfect_inverted();
    test_imbalanced();
    test_logits();
    test_random_vs_pairwise();
    test_golden();
    test_bad_input();
    test_files();
    return test_finish();
}
