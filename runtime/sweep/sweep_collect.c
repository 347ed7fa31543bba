/* movl sweep collect: every point's summary.json into results.csv, a
 * Markdown table of mean +- std over seeds (with the Student t interval of
 * the mean), and a plot. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "core/file_io.h"
#include "plot/plot.h"
#include "sweep/sweep.h"

const char *const movl_sweep_metric_names[MOVL_SWEEP_NMETRICS] = {
    "val_acc", "val_auc", "test_acc", "test_auc", "test_balanced_acc", "test_macro_f1", "train_seconds"};

typedef struct point_result {
    int have;
    double m[MOVL_SWEEP_NMETRICS];
    int group;
} point_result;

typedef struct group {
    int first;  /* a point of the group (for its key values) */
    int n;
    double mean[MOVL_SWEEP_NMETRICS], std[MOVL_SWEEP_NMETRICS];
} group;

static double json_num(const cJSON *o, const char *a, const char *b)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, a);
    if (b)
        x = cJSON_GetObjectItemCaseSensitive(x, b);
    return cJSON_IsNumber(x) ? x->valuedouble : NAN;
}

int movl_sweep_read_result(const char *dir, const movl_sweep_point *p, double m[MOVL_SWEEP_NMETRICS], char *err)
{
    char path[1400];
    int missing;
    snprintf(path, sizeof path, "%s/%s/summary.json", dir, p->name);
    cJSON *j = movl_read_json(path, &missing, err);
    if (!j && missing)
        err[0] = 0; /* not run yet: not an error */
    if (!j)
        return missing ? 0 : -1;
    m[MOVL_SWEEP_VAL_ACC] = json_num(j, "val", "acc");
    m[MOVL_SWEEP_VAL_AUC] = json_num(j, "val", "auc");
    m[MOVL_SWEEP_TEST_ACC] = json_num(j, "test", "acc");
    m[MOVL_SWEEP_TEST_AUC] = json_num(j, "test", "auc");
    m[MOVL_SWEEP_TEST_BACC] = json_num(j, "test", "balanced_acc");
    m[MOVL_SWEEP_TEST_F1] = json_num(j, "test", "macro_f1");
    m[MOVL_SWEEP_SECONDS] = json_num(j, "train_seconds", NULL);
    cJSON_Delete(j);
    if (isnan(m[MOVL_SWEEP_TEST_ACC])) {
        movl_set_error(err, "%s: no test.acc", path);
        return -1;
    }
    return 1;
}

static int seed_key(const movl_sweep *s)
{
    for (int k = 0; k < s->nkeys; k++)
        if (!strcmp(s->keys[k], MOVL_SWEEP_SEED_KEY))
            return k;
    return -1;
}

/* Same values on every key except the seed. */
static int same_group(const movl_sweep *s, int a, int b, int skip)
{
    for (int k = 0; k < s->nkeys; k++)
        if (k != skip && strcmp(s->points[a].values[k], s->points[b].values[k]))
            return 0;
    return 1;
}

static int make_groups(const movl_sweep *s, point_result *r, group *g)
{
    int ng = 0, sk = seed_key(s);
    for (int p = 0; p < s->npoints; p++) {
        if (!r[p].have)
            continue;
        int i = 0;
        while (i < ng && !same_group(s, g[i].first, p, sk))
            i++;
        if (i == ng)
            g[ng++] = (group){.first = p};
        r[p].group = i;
        g[i].n++;
        for (int m = 0; m < MOVL_SWEEP_NMETRICS; m++)
            g[i].mean[m] += r[p].m[m];
    }
    for (int i = 0; i < ng; i++)
        for (int m = 0; m < MOVL_SWEEP_NMETRICS; m++)
            g[i].mean[m] /= g[i].n;
    for (int p = 0; p < s->npoints; p++)
        for (int m = 0; r[p].have && m < MOVL_SWEEP_NMETRICS; m++)
            g[r[p].group].std[m] += pow(r[p].m[m] - g[r[p].group].mean[m], 2);
    /* Sample standard deviation (n - 1); one seed has none. */
    for (int i = 0; i < ng; i++)
        for (int m = 0; m < MOVL_SWEEP_NMETRICS; m++)
            g[i].std[m] = g[i].n > 1 ? sqrt(g[i].std[m] / (g[i].n - 1)) : NAN;
    return ng;
}

static int write_csv(const char *dir, const movl_sweep *s, const point_result *r, char *err)
{
    char path[1300];
    snprintf(path, sizeof path, "%s/results.csv", dir);
    movl_out_file out;
    if (movl_out_open(&out, path, err))
        return MOVL_ERR_RUN;
    FILE *f = out.f;
    movl_sweep_csv_point_columns(f, s, -1);
    fprintf(f, ",status");
    for (int m = 0; m < MOVL_SWEEP_NMETRICS; m++)
        fprintf(f, ",%s", movl_sweep_metric_names[m]);
    fputc('\n', f);
    for (int p = 0; p < s->npoints; p++) {
        movl_sweep_csv_point_columns(f, s, p);
        fprintf(f, ",%s", r[p].have ? "done" : "missing");
        for (int m = 0; m < MOVL_SWEEP_NMETRICS; m++)
            if (r[p].have && !isnan(r[p].m[m]))
                fprintf(f, ",%.6g", r[p].m[m]);
            else
                fprintf(f, ",");
        fputc('\n', f);
    }
    return movl_out_commit(&out, err);
}

/* A value in a Markdown table cell: '|' would end the cell. */
static void md_value(FILE *f, const char *v)
{
    fputc(' ', f);
    for (; *v; v++) {
        if (*v == '|')
            fputc('\\', f);
        fputc(*v, f);
    }
    fprintf(f, " |");
}

/* "mean ± std [lo, hi]" with the 95 % Student t interval of the mean over
 * the group's seeds; one seed: the value alone. */
static void md_cell(FILE *f, const group *g, int m)
{
    if (isnan(g->mean[m])) {
        fprintf(f, " n/a |");
    } else if (g->n > 1) {
        double half = movl_student_t_quantile(0.975, g->n - 1) * g->std[m] / sqrt(g->n);
        fprintf(f, " %.4f ± %.4f [%.4f, %.4f] |", g->mean[m], g->std[m], g->mean[m] - half, g->mean[m] + half);
    } else {
        fprintf(f, " %.4f |", g->mean[m]);
    }
}

static int write_md(const char *dir, const movl_sweep *s, const group *g, int ng, int complete, char *err)
{
    char path[1300];
    snprintf(path, sizeof path, "%s/results.md", dir);
    movl_out_file out;
    if (movl_out_open(&out, path, err))
        return MOVL_ERR_RUN;
    FILE *f = out.f;
    int sk = seed_key(s), best = 0;
    fprintf(f, "# Sweep %s\n\n%d of %d points complete. ", dir, complete, s->npoints);
    if (sk >= 0)
        fprintf(f,
                "Each row: mean ± sample standard deviation over %s (n runs), then in brackets the 95 %% "
                "confidence interval of the mean over seeds, mean ± t(0.975, n − 1) · std / √n (Student t, n − 1 "
                "degrees of freedom); a row of one seed shows its value alone.\n\n",
                MOVL_SWEEP_SEED_KEY);
    else
        fprintf(f, "One run per row (no %s in [sweep]).\n\n", MOVL_SWEEP_SEED_KEY);
    fprintf(f, "|");
    for (int k = 0; k < s->nkeys; k++)
        if (k != sk)
            md_value(f, s->keys[k]);
    fprintf(f, " n | val ACC | val AUC | test ACC | test AUC |\n|");
    for (int k = 0; k < s->nkeys + 4 - (sk >= 0); k++)
        fprintf(f, "---|");
    fprintf(f, "---|\n");
    for (int i = 0; i < ng; i++) {
        fprintf(f, "|");
        for (int k = 0; k < s->nkeys; k++)
            if (k != sk)
                md_value(f, s->points[g[i].first].values[k]);
        fprintf(f, " %d |", g[i].n);
        md_cell(f, &g[i], MOVL_SWEEP_VAL_ACC);
        md_cell(f, &g[i], MOVL_SWEEP_VAL_AUC);
        md_cell(f, &g[i], MOVL_SWEEP_TEST_ACC);
        md_cell(f, &g[i], MOVL_SWEEP_TEST_AUC);
        fputc('\n', f);
        if (g[i].mean[MOVL_SWEEP_VAL_AUC] > g[best].mean[MOVL_SWEEP_VAL_AUC])
            best = i;
    }
    /* Choose on validation, report test: picking the best test row would overfit the test set. */
    fprintf(f, "\nBest by mean val AUC:");
    for (int k = 0, first = 1; k < s->nkeys; k++)
        if (k != sk) {
            fprintf(f, "%s %s = %s", first ? "" : ",", s->keys[k], s->points[g[best].first].values[k]);
            first = 0;
        }
    fprintf(f, " (test ACC %.4f, test AUC %.4f).\n", g[best].mean[MOVL_SWEEP_TEST_ACC],
            g[best].mean[MOVL_SWEEP_TEST_AUC]);
    return movl_out_commit(&out, err);
}

/* Same values on every key except x and the seed: the same line of the plot. */
static int same_series(const movl_sweep *s, int a, int b, int xkey, int skip)
{
    for (int k = 0; k < s->nkeys; k++)
        if (k != xkey && k != skip && strcmp(s->points[a].values[k], s->points[b].values[k]))
            return 0;
    return 1;
}

/* x axis of the plot: numeric, numeric on log10, or the values as categories. */
typedef struct x_axis {
    int key, categorical, log_x, ncats;
    const char *cats[64];
} x_axis;

static void choose_x(const movl_sweep *s, const group *g, int ng, x_axis *x)
{
    int sk = seed_key(s);
    memset(x, 0, sizeof *x);
    x->key = sk == 0 && s->nkeys > 1 ? 1 : 0;
    double lo = INFINITY, hi = -INFINITY, minpos = INFINITY;
    int numeric = 1;
    for (int i = 0; i < ng; i++) {
        const char *v = s->points[g[i].first].values[x->key];
        char *end;
        double d = strtod(v, &end);
        numeric &= end != v && !*end;
        lo = fmin(lo, d), hi = fmax(hi, d);
        minpos = d > 0 ? fmin(minpos, d) : minpos;
        int c = 0;
        while (c < x->ncats && strcmp(x->cats[c], v))
            c++;
        if (c == x->ncats && x->ncats < 64)
            x->cats[x->ncats++] = v;
    }
    /* Values over more than two decades (0, 0.01, 0.1, 1) read best evenly spaced. */
    if (!numeric || (hi / minpos >= 100 && lo <= 0))
        x->categorical = 1;
    else if (hi / minpos >= 100)
        x->log_x = 1;
}

static int write_plot(const char *dir, const movl_sweep *s, const group *g, int ng, char *err)
{
    x_axis x;
    choose_x(s, g, ng, &x);
    int sk = seed_key(s);
    /* One series per combination of the keys that are neither x nor the seed. */
    int *series_of = calloc((size_t)ng, sizeof *series_of), *first = calloc((size_t)ng, sizeof *first), ns = 0;
    double *buf = calloc((size_t)ng * 6 * ng + 1, sizeof *buf);
    char(*labels)[512] = calloc((size_t)ng, sizeof *labels);
    movl_plot_series *acc = calloc((size_t)ng, sizeof *acc), *auc = calloc((size_t)ng, sizeof *auc);
    int rc = MOVL_ERR_RUN;
    if (!series_of || !first || !buf || !labels || !acc || !auc)
        goto done;
    for (int i = 0; i < ng; i++) {
        int j = 0;
        while (j < ns && !same_series(s, g[first[j]].first, g[i].first, x.key, sk))
            j++;
        if (j == ns)
            first[ns++] = i;
        series_of[i] = j;
    }
    for (int j = 0; j < ns; j++) {
        double *xs = buf + (size_t)j * 6 * ng, *ya = xs + ng, *ea = ya + ng, *yu = ea + ng, *eu = yu + ng;
        int n = 0, len = 0;
        labels[j][0] = 0;
        for (int k = 0; k < s->nkeys; k++)
            if (k != x.key && k != sk)
                len += snprintf(labels[j] + len, len < 500 ? 512 - (size_t)len : 0, "%s%s=%s", len ? ", " : "",
                                s->keys[k], s->points[g[first[j]].first].values[k]);
        /* Categorical: point i must sit at category i, so fill every category (NaN where absent). */
        int npts = x.categorical ? x.ncats : 0;
        for (int c = 0; c < npts; c++)
            ya[c] = yu[c] = NAN, ea[c] = eu[c] = 0, xs[c] = c;
        for (int i = 0; i < ng; i++) {
            if (series_of[i] != j)
                continue;
            const char *v = s->points[g[i].first].values[x.key];
            int at = n;
            if (x.categorical)
                for (at = 0; at < x.ncats && strcmp(x.cats[at], v); at++)
                    ;
            else
                xs[n] = strtod(v, NULL);
            ya[at] = g[i].mean[MOVL_SWEEP_TEST_ACC], yu[at] = g[i].mean[MOVL_SWEEP_TEST_AUC];
            ea[at] = isnan(g[i].std[MOVL_SWEEP_TEST_ACC]) ? 0 : g[i].std[MOVL_SWEEP_TEST_ACC];
            eu[at] = isnan(g[i].std[MOVL_SWEEP_TEST_AUC]) ? 0 : g[i].std[MOVL_SWEEP_TEST_AUC];
            n++;
        }
        /* A line joins points in x order, whatever order the [sweep] list had. */
        for (int a = 1; !x.categorical && a < n; a++)
            for (int b = a; b > 0 && xs[b - 1] > xs[b]; b--) {
                double *cols[5] = {xs, ya, ea, yu, eu};
                for (int c = 0; c < 5; c++) {
                    double t = cols[c][b];
                    cols[c][b] = cols[c][b - 1], cols[c][b - 1] = t;
                }
            }
        int count = x.categorical ? x.ncats : n;
        acc[j] = (movl_plot_series){labels[j], count, xs, ya, sk >= 0 ? ea : NULL};
        auc[j] = (movl_plot_series){labels[j], count, xs, yu, sk >= 0 ? eu : NULL};
    }
    char ylab_acc[160], ylab_auc[160];
    snprintf(ylab_acc, sizeof ylab_acc, "test ACC%s", sk >= 0 ? " (mean ± std over seeds)" : "");
    snprintf(ylab_auc, sizeof ylab_auc, "test AUC%s", sk >= 0 ? " (mean ± std over seeds)" : "");
    movl_plot_panel panels[2] = {
        {.title = "test accuracy", .ylabel = ylab_acc},
        {.title = "test AUC", .ylabel = ylab_auc},
    };
    for (int i = 0; i < 2; i++) {
        panels[i].xlabel = s->keys[x.key];
        panels[i].kind = MOVL_PLOT_LINES;
        panels[i].series = i ? auc : acc;
        panels[i].nseries = ns;
        panels[i].categories = x.categorical ? x.cats : NULL;
        panels[i].ncats = x.categorical ? x.ncats : 0;
        panels[i].log_x = x.log_x;
    }
    char path[1200];
    snprintf(path, sizeof path, "%s/sweep.png", dir);
    rc = movl_plot_write(path, panels, 2, 560, 420, err);
done:
    if (rc && !err[0])
        movl_set_error(err, "%s/sweep.png: out of memory", dir);
    free(series_of), free(first), free(buf), free(labels), free(acc), free(auc);
    return rc;
}

int movl_sweep_collect(const char *dir, int *complete, char *err)
{
    movl_sweep s;
    int rc = movl_sweep_read_points(dir, &s, err);
    *complete = 0;
    if (rc)
        return rc;
    point_result *r = calloc((size_t)s.npoints, sizeof *r);
    group *g = calloc((size_t)s.npoints, sizeof *g);
    rc = MOVL_ERR_RUN;
    if (!r || !g) {
        movl_set_error(err, "%s: out of memory", dir);
        goto done;
    }
    for (int p = 0; p < s.npoints; p++) {
        int got = movl_sweep_read_result(dir, &s.points[p], r[p].m, err);
        r[p].have = got > 0;
        if (got < 0) {
            rc = MOVL_ERR_INPUT;
            goto done;
        }
        *complete += got;
    }
    if (*complete == 0) {
        movl_set_error(err, "%s: none of the %d points has finished (no summary.json yet)", dir, s.npoints);
        rc = MOVL_ERR_INPUT;
        goto done;
    }
    int ng = make_groups(&s, r, g);
    if ((rc = write_csv(dir, &s, r, err)) || (rc = write_md(dir, &s, g, ng, *complete, err)) ||
        (rc = write_plot(dir, &s, g, ng, err)))
        goto done;
    rc = MOVL_OK;
done:
    free(r);
    free(g);
    movl_sweep_free(&s);
    return rc;
}
