/* Training curves of a run directory: RUN_DIR/metrics.csv (columns found by
 * header name) to RUN_DIR/curves.png, train loss in one panel and
 * validation ACC/AUC in the other, epochs numbered across stages. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "plot/plot.h"

enum { COL_STAGE, COL_EPOCH, COL_LOSS, COL_ACC, COL_AUC, NCOLS };
static const char *const col_names[NCOLS] = {"stage", "epoch", "train_loss", "val_acc", "val_auc"};

typedef struct run_rows {
    int n, cap;
    char **stage;
    double *epoch, *loss, *acc, *auc, *x;
} run_rows;

static void rows_free(run_rows *r)
{
    for (int i = 0; i < r->n; i++)
        free(r->stage[i]);
    free(r->stage);
    free(r->epoch);
    free(r->loss);
    free(r->acc);
    free(r->auc);
    free(r->x);
}

static int rows_grow(run_rows *r)
{
    if (r->n < r->cap)
        return 1;
    int cap = r->cap ? 2 * r->cap : 64;
    double **cols[5] = {&r->epoch, &r->loss, &r->acc, &r->auc, &r->x};
    for (int k = 0; k < 5; k++) {
        double *p = realloc(*cols[k], (size_t)cap * sizeof **cols[k]);
        if (!p)
            return 0;
        *cols[k] = p;
    }
    char **s = realloc(r->stage, (size_t)cap * sizeof *s);
    if (!s)
        return 0;
    r->stage = s;
    r->cap = cap;
    return 1;
}

/* Splits line in place at commas; returns the field count (fields beyond max are counted, not stored). */
static int split_fields(char *line, char **fields, int max)
{
    line[strcspn(line, "\r\n")] = 0;
    int n = 0;
    for (char *p = line;; p++) {
        char *end = p + strcspn(p, ",");
        int last = *end == 0;
        *end = 0;
        if (n < max)
            fields[n] = p;
        n++;
        if (last)
            return n;
        p = end;
    }
}

static int parse_number(const char *s, double *out)
{
    char *end;
    errno = 0;
    *out = strtod(s, &end);
    return end != s && *end == 0 && errno != ERANGE;
}

#define MAX_FIELDS 64

static int parse_row(const char *path, int lineno, char *line, const int *col, int nfields, run_rows *r,
                     char *err)
{
    char *f[MAX_FIELDS];
    int n = split_fields(line, f, MAX_FIELDS);
    if (n != nfields) {
        movl_set_error(err, "%s:%d: expected %d fields, got %d", path, lineno, nfields, n);
        return MOVL_ERR_INPUT;
    }
    double v[NCOLS];
    for (int k = COL_EPOCH; k < NCOLS; k++)
        if (k == COL_LOSS && !f[col[k]][0])
            v[k] = NAN; /* epoch 0 of a stage: validation before any training step, so no loss */
        else if (!parse_number(f[col[k]], &v[k])) {
            movl_set_error(err, "%s:%d: %s '%s' is not a number", path, lineno, col_names[k], f[col[k]]);
            return MOVL_ERR_INPUT;
        }
    if (!(v[COL_EPOCH] >= 0 && v[COL_EPOCH] <= 1e7 && v[COL_EPOCH] == floor(v[COL_EPOCH]))) {
        movl_set_error(err, "%s:%d: epoch '%s', expected a whole number >= 0", path, lineno, f[col[COL_EPOCH]]);
        return MOVL_ERR_INPUT;
    }
    char *stage = rows_grow(r) ? strdup(f[col[COL_STAGE]]) : NULL;
    if (!stage) {
        movl_set_error(err, "%s: out of memory", path);
        return MOVL_ERR_RUN;
    }
    r->stage[r->n] = stage;
    r->epoch[r->n] = v[COL_EPOCH];
    r->loss[r->n] = v[COL_LOSS];
    r->acc[r->n] = v[COL_ACC];
    r->auc[r->n] = v[COL_AUC];
    r->n++;
    return MOVL_OK;
}

static int parse_header(const char *path, char *line, int *col, int *nfields, char *err)
{
    char *f[MAX_FIELDS];
    int n = split_fields(line, f, MAX_FIELDS);
    if (n > MAX_FIELDS) {
        movl_set_error(err, "%s:1: %d columns, expected at most %d", path, n, MAX_FIELDS);
        return MOVL_ERR_INPUT;
    }
    for (int k = 0; k < NCOLS; k++) {
        col[k] = -1;
        for (int i = 0; i < n && col[k] < 0; i++)
            if (!strcmp(f[i], col_names[k]))
                col[k] = i;
        if (col[k] < 0) {
            movl_set_error(err, "%s:1: no column '%s' in the header", path, col_names[k]);
            return MOVL_ERR_INPUT;
        }
    }
    *nfields = n;
    return MOVL_OK;
}

static int read_metrics(const char *path, run_rows *r, char *err)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        movl_set_error(err, "%s: cannot read (%s)", path, strerror(errno));
        return MOVL_ERR_INPUT;
    }
    char *line = NULL;
    size_t cap = 0;
    int rc = MOVL_OK, lineno = 0, col[NCOLS], nfields = 0;
    while (!rc && getline(&line, &cap, f) >= 0) {
        lineno++;
        if (lineno == 1)
            rc = parse_header(path, line, col, &nfields, err);
        else if (line[strspn(line, " \t\r\n")] != 0) /* blank lines are skipped */
            rc = parse_row(path, lineno, line, col, nfields, r, err);
    }
    if (!rc && ferror(f)) {
        movl_set_error(err, "%s: cannot read (%s)", path, strerror(errno));
        rc = MOVL_ERR_INPUT;
    }
    if (!rc && lineno == 0) {
        movl_set_error(err, "%s: empty file, expected a header line", path);
        rc = MOVL_ERR_INPUT;
    } else if (!rc && r->n == 0) {
        movl_set_error(err, "%s: no epochs yet", path);
        rc = MOVL_ERR_INPUT;
    }
    free(line);
    fclose(f);
    return rc;
}

/* x = epoch + the last epoch of every earlier stage; a stage is a run of
 * consecutive rows with the same name. Returns the number of stages. */
static int number_epochs(run_rows *r, int *stage_start)
{
    int nstages = 0;
    double offset = 0, last = 0;
    for (int i = 0; i < r->n; i++) {
        if (i == 0 || strcmp(r->stage[i], r->stage[i - 1])) {
            offset += last;
            last = 0;
            stage_start[nstages++] = i;
        }
        last = fmax(last, r->epoch[i]);
        r->x[i] = offset + r->epoch[i];
    }
    stage_start[nstages] = r->n;
    return nstages;
}

static int draw_curves(const char *png, run_rows *r, char *err)
{
    int *start = malloc(((size_t)r->n + 1) * sizeof *start);
    movl_plot_series *loss = malloc((size_t)r->n * sizeof *loss);
    double *marks = malloc((size_t)r->n * sizeof *marks);
    const char **mark_labels = malloc((size_t)r->n * sizeof *mark_labels);
    int rc = MOVL_ERR_RUN;
    if (!start || !loss || !marks || !mark_labels) {
        movl_set_error(err, "%s: out of memory", png);
        goto done;
    }
    int nstages = number_epochs(r, start);
    for (int s = 0; s < nstages; s++) {
        int i = start[s];
        loss[s] = (movl_plot_series){.label = r->stage[i], .n = start[s + 1] - i, .x = r->x + i, .y = r->loss + i};
        marks[s] = r->x[i] - r->epoch[i]; /* where the stage's epoch 0 sits */
        mark_labels[s] = r->stage[i];
    }
    movl_plot_series val[2] = {
        {.label = "val ACC", .n = r->n, .x = r->x, .y = r->acc},
        {.label = "val AUC", .n = r->n, .x = r->x, .y = r->auc},
    };
    const char *xlabel = nstages > 1 ? "epoch (all stages)" : "epoch";
    movl_plot_panel panels[2] = {
        {.title = "train loss", .xlabel = xlabel, .ylabel = "loss", .series = loss,
         .nseries = nstages, .y_from_zero = 1, .xmarks = marks + 1, .xmark_labels = mark_labels + 1,
         .nxmarks = nstages - 1},
        {.title = "validation ACC / AUC", .xlabel = xlabel, .ylabel = "ACC, AUC", .series = val,
         .nseries = 2, .xmarks = marks + 1, .xmark_labels = mark_labels + 1, .nxmarks = nstages - 1},
    };
    /* Early in a run a panel may have nothing finite yet (epoch 0 has no
     * train loss): draw the panels that do. */
    movl_plot_panel drawn[2];
    int ndrawn = 0;
    for (int k = 0; k < 2; k++) {
        int finite = 0;
        for (int i = 0; i < r->n; i++)
            finite |= k == 0 ? isfinite(r->loss[i]) : isfinite(r->acc[i]) || isfinite(r->auc[i]);
        if (finite)
            drawn[ndrawn++] = panels[k];
    }
    if (ndrawn == 0) {
        movl_set_error(err, "%s: no finite train loss, val_acc or val_auc yet", png);
        rc = MOVL_ERR_INPUT;
    } else
        rc = movl_plot_write(png, drawn, ndrawn, 560, 400, err);
done:
    free(start);
    free(loss);
    free(marks);
    free(mark_labels);
    return rc;
}

int movl_plot_run_curves(const char *run_dir, char *err)
{
    size_t len = strlen(run_dir) + 16;
    char *csv = malloc(len), *png = malloc(len);
    int rc = MOVL_ERR_RUN;
    run_rows rows = {0};
    if (!csv || !png) {
        movl_set_error(err, "%s: out of memory", run_dir);
        goto done;
    }
    const char *sep = len > 16 && run_dir[len - 17] == '/' ? "" : "/";
    snprintf(csv, len, "%s%smetrics.csv", run_dir, sep);
    snprintf(png, len, "%s%scurves.png", run_dir, sep);
    rc = read_metrics(csv, &rows, err);
    if (!rc)
        rc = draw_curves(png, &rows, err);
done:
    rows_free(&rows);
    free(csv);
    free(png);
    return rc;
}
