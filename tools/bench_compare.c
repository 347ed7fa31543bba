/* movl bench --compare A.json B.json ... [--png PATH]: the side-by-side table
 * of saved `movl bench --json` documents (one column per device across the
 * files; rows: measured peaks, then forward and training-step images/s per
 * encoder, size and batch) and the same figures as a grouped bar chart. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "core/common.h"
#include "core/file_io.h"
#include "plot/plot.h"

typedef struct cmp_column {
    const char *file;
    const cJSON *dev;
    char label[400];
} cmp_column;

typedef struct cmp_row {
    const char *arch;
    int size, batch;
} cmp_row;

static cJSON *read_json(const char *path, char *err)
{
    cJSON *j = movl_read_json(path, NULL, err);
    if (!j) {
        size_t n = strlen(err);
        snprintf(err + n, MOVL_ERRLEN > n ? MOVL_ERRLEN - n : 0, " (expected a file written by 'movl bench --json')");
    }
    return j;
}

static const cJSON *item(const cJSON *o, const char *key) { return cJSON_GetObjectItemCaseSensitive(o, key); }

static double number(const cJSON *o, const char *key)
{
    const cJSON *x = item(o, key);
    return cJSON_IsNumber(x) ? x->valuedouble : NAN;
}

#define MAX_WHOLE (1 << 20) /* batch and image size */

/* Checks the fields --compare reads; one line naming the file and the first missing one. */
static int validate(const cJSON *root, const char *file, char *err)
{
    const cJSON *devs = item(root, "devices");
    const char *what = NULL;
    char where[64] = "", bad_whole[96];
    if (!cJSON_IsObject(root) || !cJSON_IsArray(devs) || cJSON_GetArraySize(devs) == 0)
        what = "a non-empty array 'devices'";
    for (int d = 0; !what && d < cJSON_GetArraySize(devs); d++) {
        const cJSON *dev = cJSON_GetArrayItem(devs, d), *peak = item(dev, "peak"), *runs = item(dev, "runs");
        snprintf(where, sizeof where, "devices[%d] ", d);
        if (!cJSON_IsString(item(dev, "name")))
            what = "a string 'name'";
        else if (isnan(number(peak, "gflop_s")) || isnan(number(peak, "gb_s")))
            what = "numbers 'peak.gflop_s' and 'peak.gb_s'";
        else if (!cJSON_IsArray(runs))
            what = "an array 'runs'";
        for (int r = 0; !what && r < cJSON_GetArraySize(runs); r++) {
            const cJSON *run = cJSON_GetArrayItem(runs, r);
            static const char *const keys[] = {"batch", "size", "forward_img_s", "train_step_img_s"};
            snprintf(where, sizeof where, "devices[%d].runs[%d] ", d, r);
            if (!cJSON_IsString(item(run, "arch")))
                what = "a string 'arch'";
            for (int k = 0; !what && k < 4; k++)
                if (isnan(number(run, keys[k])))
                    what = keys[k];
            for (int k = 0; !what && k < 2; k++) { /* batch, size: read as int */
                double v = number(run, keys[k]);
                if (!(v >= 1 && v <= MAX_WHOLE && v == floor(v))) {
                    snprintf(bad_whole, sizeof bad_whole, "a whole number '%s' from 1 to %d (not %g)", keys[k],
                             MAX_WHOLE, v);
                    what = bad_whole;
                }
            }
        }
    }
    if (what)
        movl_set_error(err, "%s: not a 'movl bench --json' document: %slacks %s", file, where, what);
    return what ? MOVL_ERR_INPUT : MOVL_OK;
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static int count_label(const cmp_column *c, int n, const char *label)
{
    int k = 0;
    for (int i = 0; i < n; i++)
        k += !strcmp(c[i].label, label);
    return k;
}

/* Device names; the file's name added where names clash, a number where that is not enough. */
static void label_columns(cmp_column *c, int n)
{
    for (int i = 0; i < n; i++) {
        const char *name = item(c[i].dev, "name")->valuestring;
        int clash = 0;
        for (int j = 0; j < n; j++)
            clash |= j != i && !strcmp(name, item(c[j].dev, "name")->valuestring);
        if (clash)
            snprintf(c[i].label, sizeof c[i].label, "%.300s (%.80s)", name, base_name(c[i].file));
        else
            snprintf(c[i].label, sizeof c[i].label, "%.300s", name);
    }
    for (int i = 0; i < n; i++)
        if (count_label(c, n, c[i].label) > 1) {
            size_t len = strlen(c[i].label);
            snprintf(c[i].label + len, sizeof c[i].label - len, " #%d", i + 1);
        }
}

static const cJSON *find_run(const cJSON *dev, const cmp_row *row)
{
    const cJSON *run;
    cJSON_ArrayForEach(run, item(dev, "runs"))
    {
        if (!strcmp(item(run, "arch")->valuestring, row->arch) && (int)number(run, "size") == row->size &&
            (int)number(run, "batch") == row->batch)
            return run;
    }
    return NULL;
}

/* Every (encoder, size, batch) of any column, in order of first appearance. */
static int collect_rows(const cmp_column *c, int ncol, cmp_row **out)
{
    int n = 0, cap = 0;
    cmp_row *rows = NULL;
    for (int i = 0; i < ncol; i++) {
        const cJSON *run;
        cJSON_ArrayForEach(run, item(c[i].dev, "runs"))
        {
            cmp_row r = {item(run, "arch")->valuestring, (int)number(run, "size"), (int)number(run, "batch")};
            int seen = 0;
            for (int k = 0; k < n && !seen; k++)
                seen = !strcmp(rows[k].arch, r.arch) && rows[k].size == r.size && rows[k].batch == r.batch;
            if (seen)
                continue;
            if (n == cap) {
                cap = cap ? 2 * cap : 16;
                cmp_row *g = realloc(rows, sizeof *rows * (size_t)cap);
                if (!g) {
                    free(rows);
                    return -1;
                }
                rows = g;
            }
            rows[n++] = r;
        }
    }
    *out = rows;
    return n;
}

static double value(const cmp_column *c, const cmp_row *row, const char *key)
{
    const cJSON *run = find_run(c->dev, row);
    return run ? number(run, key) : NAN;
}

static void print_cell(double v, int width, const char *fmt)
{
    if (isnan(v))
        printf("  %*s", width, "-");
    else
        printf(fmt, width, v);
}

static int column_width(const cmp_column *c)
{
    int len = (int)strlen(c->label);
    return len > 10 ? len : 10;
}

static void print_table(const cmp_column *c, int ncol, const cmp_row *rows, int nrows)
{
    int lw = (int)strlen("peak memory GB/s");
    char label[160];
    for (int r = 0; r < nrows; r++) {
        int len = snprintf(label, sizeof label, "%s %d b%d training img/s", rows[r].arch, rows[r].size, rows[r].batch);
        lw = len > lw ? len : lw;
    }
    printf("%-*s", lw, "");
    for (int i = 0; i < ncol; i++)
        printf("  %*s", column_width(&c[i]), c[i].label);
    printf("\n");
    const char *peak_names[2] = {"peak fp32 GFLOP/s", "peak memory GB/s"}, *peak_keys[2] = {"gflop_s", "gb_s"};
    for (int p = 0; p < 2; p++) {
        printf("%-*s", lw, peak_names[p]);
        for (int i = 0; i < ncol; i++)
            print_cell(number(item(c[i].dev, "peak"), peak_keys[p]), column_width(&c[i]), "  %*.1f");
        printf("\n");
    }
    for (int r = 0; r < nrows; r++)
        for (int k = 0; k < 2; k++) {
            snprintf(label, sizeof label, "%s %d b%d %s img/s", rows[r].arch, rows[r].size, rows[r].batch,
                     k ? "training" : "forward");
            printf("%-*s", lw, label);
            for (int i = 0; i < ncol; i++) {
                double v = value(&c[i], &rows[r], k ? "train_step_img_s" : "forward_img_s");
                print_cell(v, column_width(&c[i]), "  %*.2f");
            }
            printf("\n");
        }
}

/* Three panels: training step img/s, forward img/s, measured peaks; one bar per column. */
static int write_chart(const char *path, const cmp_column *c, int ncol, const cmp_row *rows, int nrows, char *err)
{
    int ncat = nrows > 0 ? nrows : 1;
    char (*names)[96] = calloc((size_t)ncat, sizeof *names);
    const char **cats = calloc((size_t)ncat, sizeof *cats);
    double *y = calloc((size_t)ncol * (2 * ncat + 2), sizeof *y);
    movl_plot_series *series = calloc((size_t)ncol * 3, sizeof *series);
    int rc = MOVL_ERR_RUN;
    if (!names || !cats || !y || !series) {
        movl_set_error(err, "%s: out of host memory for the chart", path);
        goto done;
    }
    for (int r = 0; r < nrows; r++) {
        int other_size = 0; /* the size goes into the label only where one encoder ran at several */
        for (int k = 0; k < nrows; k++)
            other_size |= !strcmp(rows[k].arch, rows[r].arch) && rows[k].size != rows[r].size;
        if (other_size)
            snprintf(names[r], sizeof names[r], "%s/%d b%d", rows[r].arch, rows[r].size, rows[r].batch);
        else
            snprintf(names[r], sizeof names[r], "%s b%d", rows[r].arch, rows[r].batch);
        cats[r] = names[r];
    }
    static const char *const peak_cats[] = {"fp32 GFLOP/s", "memory GB/s"};
    for (int i = 0; i < ncol; i++) {
        double *train = y + (size_t)i * (2 * ncat + 2), *fwd = train + ncat, *peak = fwd + ncat;
        for (int r = 0; r < nrows; r++) {
            train[r] = value(&c[i], &rows[r], "train_step_img_s");
            fwd[r] = value(&c[i], &rows[r], "forward_img_s");
        }
        peak[0] = number(item(c[i].dev, "peak"), "gflop_s");
        peak[1] = number(item(c[i].dev, "peak"), "gb_s");
        series[i] = (movl_plot_series){c[i].label, nrows, NULL, train, NULL};
        series[ncol + i] = (movl_plot_series){c[i].label, nrows, NULL, fwd, NULL};
        series[2 * ncol + i] = (movl_plot_series){c[i].label, 2, NULL, peak, NULL};
    }
    movl_plot_panel panels[3] = {
        {.title = "training step (forward + backward to the input)", .xlabel = "encoder, batch",
         .ylabel = "images/s", .kind = MOVL_PLOT_BARS, .series = series, .nseries = ncol, .categories = cats,
         .ncats = nrows, .y_from_zero = 1},
        {.title = "forward", .xlabel = "encoder, batch", .ylabel = "images/s", .kind = MOVL_PLOT_BARS,
         .series = series + ncol, .nseries = ncol, .categories = cats, .ncats = nrows, .y_from_zero = 1},
        {.title = "measured peaks (our micro-kernels)", .xlabel = "", .ylabel = "GFLOP/s, GB/s",
         .kind = MOVL_PLOT_BARS, .series = series + 2 * ncol, .nseries = ncol, .categories = peak_cats, .ncats = 2,
         .y_from_zero = 1},
    };
    /* Wide enough for every bar of the busiest panel. */
    int w = 160 + 24 * ncat * ncol;
    w = w < 520 ? 520 : w > 1600 ? 1600 : w;
    int first = nrows > 0 ? 0 : 2; /* no runs in any file: the peaks alone */
    rc = movl_plot_write(path, panels + first, 3 - first, w, 440, err);
done:
    free(names);
    free(cats);
    free(y);
    free(series);
    return rc;
}

int bench_compare(const bench_opts *o)
{
    char err[MOVL_ERRLEN] = "";
    cJSON **docs = calloc((size_t)o->ncompare, sizeof *docs);
    cmp_column *cols = NULL;
    cmp_row *rows = NULL;
    int ncol = 0, nrows = 0, rc = docs ? MOVL_OK : MOVL_ERR_RUN;
    for (int f = 0; f < o->ncompare && rc == MOVL_OK; f++) {
        if (!(docs[f] = read_json(o->compare[f], err)))
            rc = MOVL_ERR_INPUT;
        else if ((rc = validate(docs[f], o->compare[f], err)) == MOVL_OK)
            ncol += cJSON_GetArraySize(item(docs[f], "devices"));
    }
    if (rc == MOVL_OK && !(cols = calloc((size_t)ncol, sizeof *cols))) {
        movl_set_error(err, "out of host memory");
        rc = MOVL_ERR_RUN;
    }
    if (rc == MOVL_OK) {
        int i = 0;
        for (int f = 0; f < o->ncompare; f++) {
            const cJSON *dev;
            cJSON_ArrayForEach(dev, item(docs[f], "devices"))
            {
                cols[i].file = o->compare[f];
                cols[i++].dev = dev;
            }
        }
        label_columns(cols, ncol);
        if ((nrows = collect_rows(cols, ncol, &rows)) < 0) {
            movl_set_error(err, "out of host memory");
            rc = MOVL_ERR_RUN;
        }
    }
    if (rc == MOVL_OK) {
        print_table(cols, ncol, rows, nrows);
        const char *png = o->png ? o->png : "bench_compare.png";
        if ((rc = write_chart(png, cols, ncol, rows, nrows, err)) == MOVL_OK)
            printf("\nchart: %s\n", png);
    }
    if (rc != MOVL_OK)
        fprintf(stderr, "movl bench: %s\n", err[0] ? err : "out of host memory");
    for (int f = 0; docs && f < o->ncompare; f++)
        cJSON_Delete(docs[f]);
    free(docs);
    free(cols);
    free(rows);
    return rc;
}
