/* Sweep expansion (grid order, zip, point names), points.csv round trip,
 * point states, and `collect` on hand-written summaries whose means and
 * sample standard deviations are computed here independently. No device. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sweep/sweep.h"
#include "test_util.h"

static char dir[128];

static int load(const char *sweep_text, movl_experiment *e)
{
    char ini[256], text[2048], err[MOVL_ERRLEN] = "";
    snprintf(ini, sizeof ini, "%s/x.ini", dir);
    snprintf(text, sizeof text,
             "[encoder]\narch = resnet18\nweights = w.safetensors\n[data]\npath = d.npz\n[train]\nmethod = movl\n"
             "[sweep]\n%s",
             sweep_text);
    test_write_text(ini, text);
    int rc = movl_experiment_load(ini, NULL, 0, MOVL_EXP_NO_FILE_CHECKS, e, err);
    CHECK(rc == MOVL_OK, "load: %s", err);
    return rc;
}

static void test_grid(void)
{
    movl_experiment e;
    movl_sweep s;
    char err[MOVL_ERRLEN] = "", kv[300];
    if (load("prompt.size = 10, 30\nloss.lambda = 0, 0.1, 1\nexperiment.seed = 1, 2\n", &e))
        return;
    CHECK(movl_sweep_expand(&e, "x.ini", &s, err) == MOVL_OK, "expand: %s", err);
    CHECK(s.npoints == 12 && s.nkeys == 3, "grid 2x3x2 = 12 points, got %d", s.npoints);
    /* The last key varies fastest. */
    CHECK(!strcmp(s.points[0].name, "000_size=10_lambda=0_seed=1"), "name 0: %s", s.points[0].name);
    CHECK(!strcmp(s.points[1].name, "001_size=10_lambda=0_seed=2"), "name 1: %s", s.points[1].name);
    CHECK(!strcmp(s.points[11].name, "011_size=30_lambda=1_seed=2"), "name 11: %s", s.points[11].name);
    movl_sweep_override(&s, 3, 1, kv, sizeof kv);
    CHECK(!strcmp(kv, "loss.lambda=0.1"), "override of point 3 (size 10, lambda 0.1, seed 2): %s", kv);

    /* points.csv round trip */
    CHECK(movl_sweep_write_points(&s, dir, err) == MOVL_OK, "write points: %s", err);
    movl_sweep r;
    CHECK(movl_sweep_read_points(dir, &r, err) == MOVL_OK, "read points: %s", err);
    CHECK(r.npoints == 12 && r.nkeys == 3 && !strcmp(r.keys[2], "experiment.seed"), "points read back");
    for (int p = 0; p < 12 && r.npoints == 12; p++)
        CHECK(!strcmp(r.points[p].name, s.points[p].name) && !strcmp(r.points[p].values[1], s.points[p].values[1]),
              "point %d read back", p);
    movl_sweep_free(&r);
    movl_sweep_free(&s);
}

static void test_zip_and_names(void)
{
    movl_experiment e;
    movl_sweep s;
    char err[MOVL_ERRLEN] = "";
    if (load("mode = zip\ntrain.prompt_lr = 0.1, 0.01\nloss.discrepancy = kl, feature_mse\n", &e))
        return;
    CHECK(movl_sweep_expand(&e, "x.ini", &s, err) == MOVL_OK, "expand: %s", err);
    CHECK(s.npoints == 2, "zip of 2 lists of 2 = 2 points, got %d", s.npoints);
    CHECK(s.npoints == 2 && !strcmp(s.points[1].values[0], "0.01") && !strcmp(s.points[1].values[1], "feature_mse"),
          "zip pairs the i-th values");
    movl_sweep_free(&s);
    /* Two keys with the same name in different sections keep their sections in point names. */
    if (load("train.batch_size = 16, 32\neval.batch_size = 64\n", &e))
        return;
    CHECK(movl_sweep_expand(&e, "x.ini", &s, err) == MOVL_OK, "expand: %s", err);
    CHECK(s.npoints == 2 && !strcmp(s.points[1].name, "001_train.batch_size=32_eval.batch_size=64"), "names: %s",
          s.npoints ? s.points[1].name : "-");
    movl_sweep_free(&s);
}

/* Writes DIR/NAME/summary.json with the given val/test metrics. */
static void summary(const char *name, double vacc, double vauc, double tacc, double tauc)
{
    char path[512], text[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/%s/summary.json", dir, name);
    snprintf(text, sizeof text,
             "{\"train_seconds\": 1.5, \"val\": {\"acc\": %.17g, \"auc\": %.17g}, "
             "\"test\": {\"acc\": %.17g, \"auc\": %.17g, \"balanced_acc\": 0.5, \"macro_f1\": 0.5}}",
             vacc, vauc, tacc, tauc);
    test_write_text(path, text);
}

static char *read_text(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    static char buf[16384];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

static void test_collect(void)
{
    /* 2 x 2 grid with 2 seeds, written by hand: points.csv and 7 of 8 summaries. */
    char path[512], err[MOVL_ERRLEN] = "";
    snprintf(path, sizeof path, "%s/points.csv", dir);
    test_write_text(path, "index,name,prompt.size,loss.lambda,experiment.seed\n"
                     "0,p0,10,0,1\n1,p1,10,0,2\n2,p2,10,0.5,1\n3,p3,10,0.5,2\n"
                     "4,p4,30,0,1\n5,p5,30,0,2\n6,p6,30,0.5,1\n7,p7,30,0.5,2\n");
    double tacc[8] = {0.80, 0.84, 0.70, 0.76, 0.90, 0.86, 0.60, 0};
    for (int p = 0; p < 7; p++) {
        char name[8];
        snprintf(name, sizeof name, "p%d", p);
        summary(name, 0.5 + p * 0.01, 0.6 + p * 0.01, tacc[p], 0.95 - p * 0.02);
    }
    movl_sweep s;
    CHECK(movl_sweep_read_points(dir, &s, err) == MOVL_OK, "read: %s", err);
    CHECK(movl_sweep_point_state(dir, &s.points[0]) == MOVL_POINT_DONE, "p0 done");
    CHECK(movl_sweep_point_state(dir, &s.points[7]) == MOVL_POINT_NEW, "p7 new");
    snprintf(path, sizeof path, "%s/p7", dir);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/p7/" MOVL_CHECKPOINT_FILE, dir);
    test_write_text(path, "{}");
    CHECK(movl_sweep_point_state(dir, &s.points[7]) == MOVL_POINT_PARTIAL, "p7 with a checkpoint is partial");
    movl_sweep_free(&s);

    int complete = 0;
    CHECK(movl_sweep_collect(dir, &complete, err) == MOVL_OK, "collect: %s", err);
    CHECK(complete == 7, "7 points complete, got %d", complete);
    char *csv = read_text("results.csv");
    int rows = 0;
    for (char *c = csv; c && *c; c++)
        rows += *c == '\n';
    CHECK(rows == 9, "results.csv: header + 8 rows, got %d lines", rows);
    CHECK(csv && strstr(csv, "\n7,p7,30,0.5,2,missing,"), "the unfinished point is listed as missing");
    CHECK(csv && strstr(csv, "\n1,p1,10,0,2,done,0.51,0.61,0.84,0.93,"), "a row holds the point's summary values");

    char *md = read_text("results.md");
    /* Group (10, 0): test acc 0.80, 0.84 -> mean 0.82, sample std 0.028284; its 95 % interval of the
     * mean with n - 1 = 1 degree of freedom: t = tan(pi (0.975 - 1/2)) (the Cauchy quantile, closed
     * form), half-width t * std / sqrt(2). (30, 0.5): one run, no interval. */
    char want[512], cell[4][64];
    const double means[4] = {0.505, 0.605, 0.82, 0.94}, stds[4] = {0.01 / sqrt(2), 0.01 / sqrt(2), 0.04 / sqrt(2),
                                                                   0.02 / sqrt(2)};
    for (int c = 0; c < 4; c++) {
        double half = tan(3.14159265358979323846 * 0.475) * stds[c] / sqrt(2);
        snprintf(cell[c], sizeof cell[c], "%.4f ± %.4f [%.4f, %.4f]", means[c], stds[c], means[c] - half,
                 means[c] + half);
    }
    snprintf(want, sizeof want, "| 10 | 0 | 2 | %s | %s | %s | %s |", cell[0], cell[1], cell[2], cell[3]);
    CHECK(md && strstr(md, want), "results.md row (10, 0):\n%s\nwant %s", md ? md : "(none)", want);
    CHECK(md && strstr(md, "| 30 | 0.5 | 1 | 0.5600 | 0.6600 | 0.6000 | 0.8300 |"), "one-seed row has no ± and no CI");
    CHECK(md && strstr(md, "95 % confidence interval of the mean over seeds") && strstr(md, "Student t, n − 1"),
          "results.md says what the brackets are");
    CHECK(md && strstr(md, "7 of 8 points complete"), "completion count");
    /* best by mean val AUC: (30, 0.5) has val AUC 0.66 */
    CHECK(md && strstr(md, "Best by mean val AUC: prompt.size = 30, loss.lambda = 0.5"), "best row by val AUC");
    struct stat st;
    snprintf(path, sizeof path, "%s/sweep.png", dir);
    CHECK(stat(path, &st) == 0 && st.st_size > 1000, "sweep.png written");
    snprintf(path, sizeof path, "%s/results.md", dir);
    CHECK(!test_temp_left(path), "no temp file left");

    /* A broken summary is an error naming it. */
    snprintf(path, sizeof path, "%s/p3/summary.json", dir);
    test_write_text(path, "{ not json");
    CHECK(movl_sweep_collect(dir, &complete, err) == MOVL_ERR_INPUT && strstr(err, "p3/summary.json: not valid JSON"),
          "broken summary: %s", err);
}

static void test_errors(void)
{
    movl_experiment e;
    movl_sweep s;
    char err[MOVL_ERRLEN] = "", ini[256];
    snprintf(ini, sizeof ini, "%s/plain.ini", dir);
    test_write_text(ini, "[encoder]\narch = resnet18\nweights = w\n[data]\npath = d.npz\n[train]\nmethod = lp\n");
    CHECK(movl_experiment_load(ini, NULL, 0, MOVL_EXP_NO_FILE_CHECKS, &e, err) == MOVL_OK, "plain: %s", err);
    CHECK(movl_sweep_expand(&e, ini, &s, err) == MOVL_ERR_INPUT && strstr(err, "plain.ini has no [sweep] section"),
          "no [sweep]: %s", err);
    CHECK(movl_sweep_read_points("/nonexistent", &s, err) == MOVL_ERR_INPUT &&
              strstr(err, "/nonexistent/points.csv: cannot open"),
          "not a sweep dir: %s", err);
    char path[512];
    snprintf(path, sizeof path, "%s/bad", dir);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/bad/points.csv", dir);
    test_write_text(path, "index,name,loss.lambda\n0,a,1\n2,b\n");
    snprintf(path, sizeof path, "%s/bad", dir);
    CHECK(movl_sweep_read_points(path, &s, err) == MOVL_ERR_INPUT && strstr(err, "points.csv:3: expected 3 fields"),
          "bad points.csv: %s", err);
}

/* The t density integrated from 0 to q by Simpson's rule (an independent route to the CDF). */
static double t_mass_0_to(double q, int df)
{
    double c = exp(lgamma((df + 1) / 2.0) - lgamma(df / 2.0)) / sqrt(df * 3.14159265358979323846), sum = 0;
    const int n = 20000; /* even */
    for (int i = 0; i <= n; i++) {
        double x = q * i / n, w = i == 0 || i == n ? 1 : i % 2 ? 4 : 2;
        sum += w * c * pow(1 + x * x / df, -(df + 1) / 2.0);
    }
    return sum * q / n / 3;
}

static void test_t_quantile(void)
{
    /* closed forms: df 1 (Cauchy) tan(pi (p - 1/2)); df 2: a sqrt(2 / (1 - a^2)), a = 2p - 1 */
    double t1 = movl_student_t_quantile(0.975, 1), t2 = movl_student_t_quantile(0.975, 2);
    CHECK(fabs(t1 - tan(3.14159265358979323846 * 0.475)) < 1e-9, "t(0.975, 1) = %.12g", t1);
    CHECK(fabs(t2 - 0.95 * sqrt(2 / (1 - 0.95 * 0.95))) < 1e-9, "t(0.975, 2) = %.12g", t2);
    for (int df = 3; df <= 60; df += 19) {
        double q = movl_student_t_quantile(0.975, df), mass = t_mass_0_to(q, df);
        CHECK(fabs(mass - 0.475) < 1e-9, "t(0.975, %d) = %.12g holds mass %.12g from 0 (want 0.475)", df, q, mass);
    }
    /* many degrees of freedom: the normal quantile; symmetric below 1/2 */
    CHECK(fabs(movl_student_t_quantile(0.975, 1000000) - 1.959963984540054) < 1e-5, "t(0.975, 1e6) ~ z");
    CHECK(movl_student_t_quantile(0.025, 5) == -movl_student_t_quantile(0.975, 5), "symmetric");
    CHECK(isnan(movl_student_t_quantile(0.975, 0)) && isnan(movl_student_t_quantile(1, 3)), "out of range: NaN");
}

int main(void)
{
    test_t_quantile();
    test_make_tmpdir(dir, sizeof dir, "test_sweep");
    test_grid();
    test_zip_and_names();
    test_collect();
    test_errors();
    test_remove_tree(dir);
    return test_finish();
}
