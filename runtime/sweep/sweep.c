/* Sweep points: expansion of [sweep], points.csv, and the state of a point's run. */
#include "sweep/sweep.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/common.h"
#include "core/file_io.h"

/* Splits a [sweep] value list (already validated by the loader) into trimmed items. */
static int split_values(const char *list, char items[][MOVL_CFG_NAMELEN], int max)
{
    int n = 0;
    const char *p = list;
    while (n < max) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        while (len && isspace((unsigned char)*p))
            p++, len--;
        while (len && isspace((unsigned char)p[len - 1]))
            len--;
        if (len >= MOVL_CFG_NAMELEN)
            len = MOVL_CFG_NAMELEN - 1;
        memcpy(items[n], p, len);
        items[n++][len] = 0;
        if (!end)
            break;
        p = end + 1;
    }
    return n;
}

/* The key as it appears in point names: the part after the section, unless
 * another swept key has the same part (then the whole "section.key"). */
static const char *short_key(const movl_sweep *s, int k)
{
    const char *dot = strchr(s->keys[k], '.');
    const char *shortk = dot ? dot + 1 : s->keys[k];
    for (int j = 0; j < s->nkeys; j++) {
        const char *d2 = strchr(s->keys[j], '.');
        if (j != k && d2 && !strcmp(d2 + 1, shortk))
            return s->keys[k];
    }
    return shortk;
}

/* "003_lambda=0.1_seed=2"; characters a folder name should not hold become '_'. */
static void name_point(const movl_sweep *s, int p)
{
    movl_sweep_point *pt = &s->points[p];
    int len = snprintf(pt->name, sizeof pt->name, "%03d", p);
    for (int k = 0; k < s->nkeys && len < (int)sizeof pt->name; k++)
        len += snprintf(pt->name + len, sizeof pt->name - (size_t)len, "_%s=%s", short_key(s, k), pt->values[k]);
    /* The name becomes [experiment] name, which holds at most MOVL_CFG_NAMELEN - 1 characters;
     * the index prefix keeps shortened names unique. */
    pt->name[MOVL_CFG_NAMELEN - 1] = 0;
    for (char *c = pt->name; *c; c++)
        if (!isalnum((unsigned char)*c) && !strchr("._+-=", *c))
            *c = '_';
}

int movl_sweep_expand(const movl_experiment *exp, const char *ini_path, movl_sweep *out, char *err)
{
    memset(out, 0, sizeof *out);
    if (exp->sweep.n == 0) {
        movl_set_error(err, "%s has no [sweep] section (expected e.g. [sweep] loss.lambda = 0, 0.1, 1)", ini_path);
        return MOVL_ERR_INPUT;
    }
    enum { MAXV = 64 }; /* a 512-character list holds at most 256 values; 64 is plenty per key */
    char(*values)[MAXV][MOVL_CFG_NAMELEN] = calloc(MOVL_SWEEP_MAX, sizeof *values);
    int count[MOVL_SWEEP_MAX];
    if (!values) {
        movl_set_error(err, "out of memory");
        return MOVL_ERR_RUN;
    }
    long total = 1;
    out->nkeys = exp->sweep.n;
    for (int k = 0; k < exp->sweep.n; k++) {
        snprintf(out->keys[k], MOVL_CFG_NAMELEN, "%s", exp->sweep.entries[k].key);
        count[k] = split_values(exp->sweep.entries[k].values, values[k], MAXV);
        total = exp->sweep.mode == MOVL_SWEEP_ZIP ? count[0] : total * count[k];
        if (total > 10000 || count[k] == MAXV) {
            movl_set_error(err, "%s: [sweep] has more than 10000 points or %d values for one key", ini_path, MAXV - 1);
            free(values);
            return MOVL_ERR_INPUT;
        }
    }
    out->npoints = (int)total;
    out->points = calloc((size_t)total, sizeof *out->points);
    if (!out->points) {
        movl_set_error(err, "out of memory for %ld sweep points", total);
        free(values);
        return MOVL_ERR_RUN;
    }
    for (int p = 0; p < out->npoints; p++) {
        int rest = p;
        for (int k = out->nkeys - 1; k >= 0; k--) {
            int i = exp->sweep.mode == MOVL_SWEEP_ZIP ? p : rest % count[k];
            rest /= count[k];
            snprintf(out->points[p].values[k], MOVL_CFG_NAMELEN, "%s", values[k][i]);
        }
        name_point(out, p);
    }
    free(values);
    return MOVL_OK;
}

void movl_sweep_free(movl_sweep *s)
{
    free(s->points);
    s->points = NULL;
    s->npoints = 0;
}

void movl_sweep_override(const movl_sweep *s, int p, int k, char *buf, size_t n)
{
    snprintf(buf, n, "%s=%s", s->keys[k], s->points[p].values[k]);
}

void movl_sweep_csv_point_columns(FILE *f, const movl_sweep *s, int p)
{
    if (p < 0)
        fprintf(f, "index,name");
    else
        fprintf(f, "%d,%s", p, s->points[p].name);
    for (int k = 0; k < s->nkeys; k++)
        fprintf(f, ",%s", p < 0 ? s->keys[k] : s->points[p].values[k]);
}

int movl_sweep_write_points(const movl_sweep *s, const char *dir, char *err)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/points.csv", dir);
    movl_out_file out;
    if (movl_out_open(&out, path, err))
        return MOVL_ERR_RUN;
    FILE *f = out.f;
    for (int p = -1; p < s->npoints; p++) {
        movl_sweep_csv_point_columns(f, s, p);
        fputc('\n', f);
    }
    return movl_out_commit(&out, err);
}

/* Splits a CSV line in place at commas; returns the number of fields. */
static int split_csv(char *line, char **fields, int max)
{
    int n = 0;
    line[strcspn(line, "\r\n")] = 0;
    for (char *p = line; n < max;) {
        fields[n++] = p;
        char *c = strchr(p, ',');
        if (!c)
            break;
        *c = 0;
        p = c + 1;
    }
    return n;
}

int movl_sweep_read_points(const char *dir, movl_sweep *out, char *err)
{
    memset(out, 0, sizeof *out);
    char path[1200], line[8192];
    char *f[MOVL_SWEEP_MAX + 3];
    snprintf(path, sizeof path, "%s/points.csv", dir);
    FILE *fp = fopen(path, "r");
    if (!fp) {
        movl_set_error(err, "%s: cannot open (%s); is %s a sweep directory?", path, strerror(errno), dir);
        return MOVL_ERR_INPUT;
    }
    int rc = MOVL_ERR_INPUT, n = fgets(line, sizeof line, fp) ? split_csv(line, f, MOVL_SWEEP_MAX + 3) : 0;
    if (n < 3 || n > MOVL_SWEEP_MAX + 2 || strcmp(f[0], "index") || strcmp(f[1], "name")) {
        movl_set_error(err, "%s:1: expected the header index,name,KEY,...", path);
        goto done;
    }
    out->nkeys = n - 2;
    for (int k = 0; k < out->nkeys; k++)
        snprintf(out->keys[k], MOVL_CFG_NAMELEN, "%s", f[k + 2]);
    int cap = 0;
    for (int lineno = 2; fgets(line, sizeof line, fp); lineno++) {
        if (split_csv(line, f, MOVL_SWEEP_MAX + 3) != out->nkeys + 2 || atoi(f[0]) != out->npoints) {
            movl_set_error(err, "%s:%d: expected %d fields, the first being %d", path, lineno, out->nkeys + 2,
                           out->npoints);
            goto done;
        }
        if (out->npoints == cap) {
            cap = cap ? 2 * cap : 16;
            movl_sweep_point *np = realloc(out->points, (size_t)cap * sizeof *np);
            if (!np) {
                rc = MOVL_ERR_RUN;
                movl_set_error(err, "%s: out of memory", path);
                goto done;
            }
            out->points = np;
        }
        movl_sweep_point *pt = &out->points[out->npoints++];
        snprintf(pt->name, sizeof pt->name, "%s", f[1]);
        for (int k = 0; k < out->nkeys; k++)
            snprintf(pt->values[k], MOVL_CFG_NAMELEN, "%s", f[k + 2]);
    }
    if (out->npoints == 0) {
        movl_set_error(err, "%s: no points", path);
        goto done;
    }
    rc = MOVL_OK;
done:
    fclose(fp);
    if (rc)
        movl_sweep_free(out);
    return rc;
}

movl_point_state movl_sweep_point_state(const char *dir, const movl_sweep_point *p)
{
    char path[1400];
    snprintf(path, sizeof path, "%s/%s/summary.json", dir, p->name);
    if (access(path, F_OK) == 0)
        return MOVL_POINT_DONE;
    snprintf(path, sizeof path, "%s/%s/" MOVL_CHECKPOINT_FILE, dir, p->name);
    return access(path, F_OK) == 0 ? MOVL_POINT_PARTIAL : MOVL_POINT_NEW;
}
