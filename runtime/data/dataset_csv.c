/* CSV manifest loader (see dataset.h): path,label[,split] per line. The file
 * is read whole and parsed line by line; every problem names CSV:LINE. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/common.h"
#include "data/dataset.h"
#include "data/dataset_internal.h"

#define MAX_FIELDS 4

typedef struct row {
    char *path, *label;
    int split, line;
} row;

static char *read_file(const char *path, char *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        movl_set_error(err, "%s: cannot read manifest (%s)", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    size_t r;
    while (buf && (r = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += r;
        if (cap - len - 1 == 0) {
            char *grown = realloc(buf, cap * 2);
            if (!grown) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = grown;
            cap *= 2;
        }
    }
    int bad = ferror(f);
    fclose(f);
    if (!buf || bad) {
        free(buf);
        movl_set_error(err, "%s: cannot read manifest (%s)", path, bad ? "read error" : "out of memory");
        return NULL;
    }
    buf[len] = 0;
    if (memchr(buf, 0, len)) {
        free(buf);
        movl_set_error(err, "%s: not a text file (contains NUL bytes)", path);
        return NULL;
    }
    return buf;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = 0;
    return s;
}

/* Splits one line (NUL-terminated, modified in place) into fields; a field
 * may be double-quoted with "" for a quote. Returns the count, -1 if the
 * quoting is broken, MAX_FIELDS + 1 if there are too many. */
static int split_fields(char *line, char **f)
{
    int n = 0;
    char *p = line;
    for (;;) {
        if (n == MAX_FIELDS)
            return MAX_FIELDS + 1;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '"') {
            char *w = ++p;
            f[n++] = w;
            for (;;) {
                if (!*p)
                    return -1;
                if (*p == '"' && p[1] == '"') {
                    *w++ = '"';
                    p += 2;
                } else if (*p == '"') {
                    p++;
                    break;
                } else {
                    *w++ = *p++;
                }
            }
            char *end = w;
            while (*p == ' ' || *p == '\t' || *p == '\r')
                p++;
            if (*p && *p != ',')
                return -1;
            *end = 0;
            if (!*p)
                return n;
            p++;
        } else {
            f[n++] = p;
            char *comma = strchr(p, ',');
            if (!comma) {
                f[n - 1] = trim(f[n - 1]);
                return n;
            }
            *comma = 0;
            f[n - 1] = trim(f[n - 1]);
            p = comma + 1;
        }
    }
}

static int parse_split(const char *s)
{
    if (strcasecmp(s, "train") == 0)
        return MOVL_SPLIT_TRAIN;
    if (strcasecmp(s, "val") == 0 || strcasecmp(s, "valid") == 0 || strcasecmp(s, "validation") == 0)
        return MOVL_SPLIT_VAL;
    if (strcasecmp(s, "test") == 0)
        return MOVL_SPLIT_TEST;
    return -1;
}

static int parse_int(const char *s, long *v)
{
    if (!*s)
        return 0;
    char *end;
    errno = 0;
    *v = strtol(s, &end, 10);
    return *end == 0 && errno == 0;
}

static int is_header(char **f)
{
    return strcasecmp(f[0], "path") == 0 || strcasecmp(f[0], "file") == 0 || strcasecmp(f[0], "filename") == 0 ||
           strcasecmp(f[0], "image") == 0;
}

/* dir of csv + "/" + p, or p itself when absolute or csv has no folder. */
static char *resolve(const char *csv, const char *p)
{
    const char *slash = strrchr(csv, '/');
    size_t dlen = p[0] == '/' || !slash ? 0 : (size_t)(slash - csv) + 1;
    size_t plen = strlen(p);
    char *out = malloc(dlen + plen + 1);
    if (out) {
        memcpy(out, csv, dlen);
        memcpy(out + dlen, p, plen + 1);
    }
    return out;
}

/* Labels of all rows into e[].label: integers, or indices into the sorted
 * distinct names (then ds->class_names). */
static int assign_labels(movl_dataset *ds, const char *csv, row *rows, int n, const movl_dataset_opts *o,
                         movl_file_entry *e, char *err)
{
    int all_int = 1;
    long maxv = -1;
    for (int i = 0; i < n && all_int; i++) {
        long v = 0;
        if (!parse_int(rows[i].label, &v))
            all_int = 0;
        else if (v > maxv)
            maxv = v;
    }
    if (all_int) {
        for (int i = 0; i < n; i++) {
            long v = 0;
            parse_int(rows[i].label, &v);
            if (v < 0 || v >= MOVL_MAX_CLASSES || (o->num_classes > 0 && v >= o->num_classes)) {
                if (o->num_classes > 0)
                    movl_set_error(err, "%s:%d: label %ld is outside the class range 0..%d (num_classes %d)", csv,
                                   rows[i].line, v, o->num_classes - 1, o->num_classes);
                else
                    movl_set_error(err, "%s:%d: label %ld is not a valid class index (expected 0..%d)", csv,
                                   rows[i].line, v, MOVL_MAX_CLASSES - 1);
                return MOVL_ERR_INPUT;
            }
            e[i].label = (int)v;
        }
        ds->num_classes = o->num_classes > 0 ? o->num_classes : (int)maxv + 1;
        return MOVL_OK;
    }
    /* class names: sorted distinct labels */
    char **sorted = malloc(sizeof(char *) * (size_t)n);
    if (!sorted) {
        movl_set_error(err, "%s: out of memory", csv);
        return MOVL_ERR_RUN;
    }
    for (int i = 0; i < n; i++)
        sorted[i] = rows[i].label;
    qsort(sorted, (size_t)n, sizeof(char *), movl_ds_cmp_str);
    int k = 0;
    for (int i = 0; i < n; i++)
        if (i == 0 || strcmp(sorted[i], sorted[k - 1]) != 0)
            sorted[k++] = sorted[i];
    if (o->num_classes > 0 && k != o->num_classes) {
        movl_set_error(err, "%s: %d class names (from '%s' to '%s') but num_classes is %d", csv, k, sorted[0],
                       sorted[k - 1], o->num_classes);
        free(sorted);
        return MOVL_ERR_INPUT;
    }
    ds->class_names = calloc((size_t)k, sizeof(char *));
    int rc = ds->class_names ? MOVL_OK : MOVL_ERR_RUN;
    for (int c = 0; c < k && rc == MOVL_OK; c++)
        if (!(ds->class_names[c] = movl_ds_strdup(sorted[c])))
            rc = MOVL_ERR_RUN;
    ds->num_classes = k; /* also when rc fails: frees the names allocated so far */
    for (int i = 0; i < n && rc == MOVL_OK; i++) {
        char **hit = bsearch(&rows[i].label, sorted, (size_t)k, sizeof(char *), movl_ds_cmp_str);
        e[i].label = (int)(hit - sorted);
    }
    free(sorted);
    if (rc != MOVL_OK)
        movl_set_error(err, "%s: out of memory", csv);
    return rc;
}

int movl_dataset_load_csv(const char *csv, const movl_dataset_opts *opts, movl_dataset *ds, char *err)
{
    memset(ds, 0, sizeof *ds);
    movl_dataset_opts o = opts ? *opts : movl_dataset_default_opts();
    int rc = movl_ds_check_fracs(csv, &o, err);
    if (rc == MOVL_OK)
        rc = movl_ds_check_readable(csv, "manifest", err);
    if (rc != MOVL_OK)
        return rc;
    char *text = read_file(csv, err);
    if (!text)
        return MOVL_ERR_INPUT;
    /* rows point into text */
    row *rows = NULL;
    int n = 0, cap = 0, ncols = 0, first_line = 0, lineno = 0;
    char *p = text;
    while (rc == MOVL_OK && *p) {
        char *line = p, *nl = strchr(p, '\n');
        if (nl) {
            *nl = 0;
            p = nl + 1;
        } else {
            p += strlen(p);
        }
        lineno++;
        if (!*trim(line))
            continue;
        char *f[MAX_FIELDS];
        int k = split_fields(line, f);
        if (k < 0) {
            movl_set_error(err, "%s:%d: unbalanced double quotes", csv, lineno);
            rc = MOVL_ERR_INPUT;
            break;
        }
        if (k < 2 || k > 3) {
            movl_set_error(err, "%s:%d: expected 2 or 3 fields (path,label[,split]), found %s", csv, lineno,
                           k > 3 ? "more" : "1");
            rc = MOVL_ERR_INPUT;
            break;
        }
        if (n == 0 && !first_line && is_header(f)) {
            first_line = lineno; /* a header line */
            continue;
        }
        if (!ncols) {
            ncols = k;
            first_line = lineno;
        } else if (k != ncols) {
            movl_set_error(err, "%s:%d: %d fields but line %d has %d (every line is path,label or every line is "
                           "path,label,split)", csv, lineno, k, first_line, ncols);
            rc = MOVL_ERR_INPUT;
            break;
        }
        if (!*f[0] || !*f[1]) {
            movl_set_error(err, "%s:%d: empty %s", csv, lineno, !*f[0] ? "path" : "label");
            rc = MOVL_ERR_INPUT;
            break;
        }
        int split = -1;
        if (k == 3 && (split = parse_split(f[2])) < 0) {
            movl_set_error(err, "%s:%d: split '%s' is not train, val or test", csv, lineno, f[2]);
            rc = MOVL_ERR_INPUT;
            break;
        }
        if (n == cap) {
            cap = cap ? 2 * cap : 256;
            row *grown = realloc(rows, sizeof *rows * (size_t)cap);
            if (!grown) {
                movl_set_error(err, "%s: out of memory", csv);
                rc = MOVL_ERR_RUN;
                break;
            }
            rows = grown;
        }
        rows[n++] = (row){f[0], f[1], split, lineno};
    }
    if (rc == MOVL_OK && n == 0) {
        movl_set_error(err, "%s: no samples (expected lines of path,label[,split])", csv);
        rc = MOVL_ERR_INPUT;
    }
    movl_file_entry *e = rc == MOVL_OK ? calloc((size_t)n, sizeof *e) : NULL;
    if (rc == MOVL_OK && !e) {
        movl_set_error(err, "%s: out of memory", csv);
        rc = MOVL_ERR_RUN;
    }
    if (rc == MOVL_OK && !(ds->source = movl_ds_strdup(csv))) {
        movl_set_error(err, "%s: out of memory", csv);
        rc = MOVL_ERR_RUN;
    }
    if (rc == MOVL_OK)
        rc = assign_labels(ds, csv, rows, n, &o, e, err);
    for (int i = 0; i < n && rc == MOVL_OK; i++) {
        e[i].split = rows[i].split;
        e[i].line = rows[i].line;
        if (!(e[i].path = resolve(csv, rows[i].path))) {
            movl_set_error(err, "%s: out of memory", csv);
            rc = MOVL_ERR_RUN;
        }
    }
    if (rc == MOVL_OK)
        rc = movl_ds_build_from_files(ds, e, n, ncols == 3, &o, err);
    if (e)
        for (int i = 0; i < n; i++)
            free(e[i].path);
    free(e);
    free(rows);
    free(text);
    if (rc != MOVL_OK)
        movl_dataset_free(ds);
    return rc;
}
