/* Loading an experiment: iniparser reads the values; a light scan of the
 * file's lines finds the line of each section and key (iniparser keeps none)
 * and catches duplicate keys and keys outside a section; then every name and
 * value is checked against the schema, -s overrides are applied, defaults
 * filled in, placeholders resolved and the cross-key rules checked. The first
 * error in file order is reported, as one line. */
#include "experiment/experiment.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <iniparser.h>

#include "core/common.h"
#include "kinds/encoder_archs.h"
#include "experiment/experiment_internal.h"

/* ---- iniparser's own messages (it prints to stderr by default) ---- */

static char ini_msg[512];

static int capture_ini_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ini_msg, sizeof ini_msg, fmt, ap);
    va_end(ap);
    return 0;
}

/* ---- line scan: where each section and key is ---- */

typedef struct scan_entry {
    char section[MOVL_CFG_NAMELEN];
    char key[MOVL_CFG_NAMELEN]; /* "" for a section header */
    int line;
} scan_entry;

typedef struct line_scan {
    scan_entry *e;
    int n, cap;
} line_scan;

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = 0;
    return s;
}

static void lower(char *s)
{
    for (; *s; s++)
        *s = (char)tolower((unsigned char)*s);
}

static int scan_find(const line_scan *sc, const char *section, const char *key)
{
    for (int i = 0; i < sc->n; i++)
        if (!strcmp(sc->e[i].section, section) && !strcmp(sc->e[i].key, key))
            return sc->e[i].line;
    return 0;
}

static int scan_add(line_scan *sc, const char *section, const char *key, int line)
{
    if (sc->n == sc->cap) {
        int cap = sc->cap ? 2 * sc->cap : 64;
        scan_entry *e = realloc(sc->e, sizeof *e * (size_t)cap);
        if (!e)
            return 0;
        sc->e = e;
        sc->cap = cap;
    }
    scan_entry *e = &sc->e[sc->n++];
    snprintf(e->section, sizeof e->section, "%s", section);
    snprintf(e->key, sizeof e->key, "%s", key);
    e->line = line;
    return 1;
}

/* Records the first line of every section header and key (names lowercased,
 * as iniparser stores them); rejects what iniparser would silently accept
 * but is surely a mistake: a key before any section, a key set twice. */
static int scan_lines(const char *path, line_scan *sc, char *err)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        movl_set_error(err, "%s: cannot open experiment file (%s)", path, strerror(errno));
        return MOVL_ERR_INPUT;
    }
    char buf[4096], section[MOVL_CFG_NAMELEN] = "";
    int lineno = 0, continued = 0, rc = MOVL_OK;
    while (rc == MOVL_OK && fgets(buf, sizeof buf, f)) {
        lineno++;
        int was_continued = continued;
        /* A line ending in a backslash continues on the next one (iniparser). */
        char *t = trim(buf);
        continued = t[0] && t[strlen(t) - 1] == '\\';
        if (was_continued || !t[0] || t[0] == ';' || t[0] == '#')
            continue;
        if (t[0] == '[') {
            char *close = strchr(t, ']');
            if (!close)
                continue; /* iniparser reports the syntax error */
            *close = 0;
            char *name = trim(t + 1);
            lower(name);
            snprintf(section, sizeof section, "%s", name);
            if (!scan_find(sc, section, "") && !scan_add(sc, section, "", lineno))
                rc = MOVL_ERR_RUN;
            continue;
        }
        char *eq = strchr(t, '=');
        if (!eq)
            continue;
        *eq = 0;
        char *key = trim(t);
        lower(key);
        if (!section[0]) {
            movl_set_error(err, "%s:%d: key '%s' is outside any section (put it under a [section] header)", path,
                           lineno, key);
            rc = MOVL_ERR_INPUT;
            break;
        }
        int first = scan_find(sc, section, key);
        if (first) {
            movl_set_error(err, "%s:%d: duplicate key '%s' in [%s] (first set on line %d)", path, lineno, key,
                           section, first);
            rc = MOVL_ERR_INPUT;
            break;
        }
        if (!scan_add(sc, section, key, lineno))
            rc = MOVL_ERR_RUN;
    }
    fclose(f);
    if (rc == MOVL_ERR_RUN)
        movl_set_error(err, "%s: out of memory", path);
    return rc;
}

/* ---- error locations ---- */

void movl_exp_where(const exp_load_ctx *ctx, int i, char *buf, size_t len)
{
    const exp_origin *o = &ctx->origin[i];
    if (o->kind == EXP_FROM_OVERRIDE)
        snprintf(buf, len, "-s %s:", ctx->overrides[o->override]);
    else if (o->kind == EXP_FROM_FILE && o->line > 0)
        snprintf(buf, len, "%s:%d:", ctx->file, o->line);
    else
        snprintf(buf, len, "%s:", ctx->file);
}

int movl_exp_is_set(const exp_load_ctx *ctx, int i) { return ctx->origin[i].kind != EXP_FROM_DEFAULT; }

/* Keeps the error of the smallest line (line 0 = unknown, sorts last). */
typedef struct first_error {
    int line, have;
    char msg[MOVL_ERRLEN];
} first_error;

static void note_error(first_error *fe, int line, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static void note_error(first_error *fe, int line, const char *fmt, ...)
{
    int key = line > 0 ? line : 1 << 30, best = fe->line > 0 ? fe->line : 1 << 30;
    if (fe->have && key >= best)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(fe->msg, sizeof fe->msg, fmt, ap);
    va_end(ap);
    fe->line = line;
    fe->have = 1;
}

/* "file:12:" or "file:" */
static void file_loc(char *buf, size_t len, const char *file, int line)
{
    if (line > 0)
        snprintf(buf, len, "%s:%d:", file, line);
    else
        snprintf(buf, len, "%s:", file);
}

/* ---- [sweep] entries: "section.key = v1, v2, ..." ---- */

/* Checks one sweep entry; on failure writes a reason that follows "[sweep] ". */
static int check_sweep_entry(const char *name, const char *values, char *why, size_t wl)
{
    char sec[MOVL_CFG_NAMELEN], key[MOVL_CFG_NAMELEN];
    const char *dot = strchr(name, '.');
    if (!dot || dot == name || !dot[1] || strlen(name) >= sizeof sec) {
        snprintf(why, wl, "unknown key '%s' in [sweep] (expected mode, or section.key = v1, v2, ...)", name);
        return MOVL_ERR_INPUT;
    }
    snprintf(sec, sizeof sec, "%.*s", (int)(dot - name), name);
    snprintf(key, sizeof key, "%s", dot + 1);
    if (!movl_cfg_section_known(sec) || !strcmp(sec, "sweep")) {
        const char *g = movl_cfg_suggest_section(sec);
        if (g && strcmp(g, "sweep"))
            snprintf(why, wl, "unknown section '%s' in [sweep] key '%s' (did you mean '%s.%s'?)", sec, name, g, key);
        else
            snprintf(why, wl, "unknown section '%s' in [sweep] key '%s'", sec, name);
        return MOVL_ERR_INPUT;
    }
    const movl_cfg_spec *spec = movl_cfg_find(sec, key);
    if (!spec) {
        const char *g = movl_cfg_suggest_key(sec, key);
        if (g)
            snprintf(why, wl, "unknown key '%s' in [sweep] (did you mean '%s.%s'?)", name, sec, g);
        else
            snprintf(why, wl, "unknown key '%s' in [sweep] (no key '%s' in [%s])", name, key, sec);
        return MOVL_ERR_INPUT;
    }
    if (spec->type == MOVL_CFG_INT_LIST) {
        snprintf(why, wl, "%s cannot be swept (a list-valued key)", name);
        return MOVL_ERR_INPUT;
    }
    /* The sweep names its points' run folders and places them; devices come from --devices or Slurm. */
    if (!strcmp(sec, "experiment") && (!strcmp(key, "name") || !strcmp(key, "output_dir"))) {
        snprintf(why, wl, "%s cannot be swept (the sweep names and places its points' run folders; use --out)", name);
        return MOVL_ERR_INPUT;
    }
    if (!strcmp(sec, "device")) {
        snprintf(why, wl, "%s cannot be swept (give devices with movl sweep --devices, or let Slurm pick)", name);
        return MOVL_ERR_INPUT;
    }
    if (strlen(values) >= MOVL_SWEEP_VALUELEN) {
        snprintf(why, wl, "%s has too long a value list (at most %d characters)", name, MOVL_SWEEP_VALUELEN - 1);
        return MOVL_ERR_INPUT;
    }
    char copy[MOVL_SWEEP_VALUELEN];
    snprintf(copy, sizeof copy, "%s", values);
    char *p = copy;
    for (;;) {
        char *comma = strchr(p, ',');
        if (comma)
            *comma = 0;
        char *item = trim(p);
        movl_cfg_value v;
        char r[256];
        if (!item[0]) {
            snprintf(why, wl, "%s has an empty value (expected %s = v1, v2, ...)", name, name);
            return MOVL_ERR_INPUT;
        }
        if (movl_cfg_parse_value(spec, item, &v, r, sizeof r)) {
            snprintf(why, wl, "%s value '%s' %s", name, item, r);
            return MOVL_ERR_INPUT;
        }
        if (strlen(item) >= MOVL_CFG_NAMELEN) {
            snprintf(why, wl, "%s value '%.40s...' is too long for a sweep (at most %d characters)", name, item,
                     MOVL_CFG_NAMELEN - 1);
            return MOVL_ERR_INPUT;
        }
        /* A repeated value would be two identical points that collect counts as two seeds. */
        for (const char *q = copy; q < item;) {
            const char *e = q + strlen(q);
            char prev[MOVL_SWEEP_VALUELEN];
            snprintf(prev, sizeof prev, "%s", q);
            if (e < item && !strcmp(trim(prev), item)) {
                snprintf(why, wl, "%s lists the value '%s' twice", name, item);
                return MOVL_ERR_INPUT;
            }
            q = e + 1;
        }
        if (!comma)
            return MOVL_OK;
        p = comma + 1;
    }
}

static int count_values(const char *values)
{
    int n = 1;
    for (; *values; values++)
        n += *values == ',';
    return n;
}

/* ---- checking names and values of the file ---- */

/* Checks [section] key = value from the file (or an override: loc is then
 * the override's "-s ...:" prefix); on failure records the error. */
static void check_entry(first_error *fe, int line, const char *loc, const char *sec, const char *key,
                        const char *value)
{
    char why[MOVL_ERRLEN];
    if (!strcmp(sec, "sweep") && strcmp(key, "mode")) {
        if (check_sweep_entry(key, value, why, sizeof why))
            note_error(fe, line, "%s %s", loc, why);
        return;
    }
    const movl_cfg_spec *spec = movl_cfg_find(sec, key);
    if (!spec) {
        const char *g = movl_cfg_suggest_key(sec, key), *other = movl_cfg_section_of_key(sec, key);
        if (g)
            note_error(fe, line, "%s unknown key '%s' in [%s] (did you mean '%s'?)", loc, key, sec, g);
        else if (other)
            note_error(fe, line, "%s unknown key '%s' in [%s] (it belongs in [%s])", loc, key, sec, other);
        else
            note_error(fe, line, "%s unknown key '%s' in [%s]", loc, key, sec);
        return;
    }
    movl_cfg_value v;
    if (movl_cfg_parse_value(spec, value, &v, why, sizeof why))
        note_error(fe, line, "%s [%s] %s = %s %s", loc, sec, key, value, why);
}

static void check_unknown_section(first_error *fe, int line, const char *loc, const char *sec)
{
    const char *g = movl_cfg_suggest_section(sec);
    if (g)
        note_error(fe, line, "%s unknown section [%s] (did you mean [%s]?)", loc, sec, g);
    else
        note_error(fe, line, "%s unknown section [%s]", loc, sec);
}

/* Walks every section and key iniparser found; returns the first error in file order. */
static int check_file(dictionary *d, const line_scan *sc, exp_load_ctx *ctx, char *err)
{
    first_error fe = {0};
    char loc[MOVL_CFG_PATHLEN + 32];
    int nsec = iniparser_getnsec(d);
    for (int s = 0; s < nsec; s++) {
        const char *sec = iniparser_getsecname(d, s);
        int sline = scan_find(sc, sec, "");
        if (!movl_cfg_section_known(sec)) {
            file_loc(loc, sizeof loc, ctx->file, sline);
            check_unknown_section(&fe, sline, loc, sec);
            continue;
        }
        int nk = iniparser_getsecnkeys(d, sec);
        if (nk <= 0)
            continue;
        const char **keys = malloc(sizeof *keys * (size_t)nk);
        if (!keys) {
            movl_set_error(err, "%s: out of memory", ctx->file);
            return MOVL_ERR_RUN;
        }
        iniparser_getseckeys(d, sec, keys);
        for (int k = 0; k < nk; k++) {
            const char *key = strchr(keys[k], ':') + 1;
            const char *value = iniparser_getstring(d, keys[k], "");
            int line = scan_find(sc, sec, key);
            file_loc(loc, sizeof loc, ctx->file, line);
            check_entry(&fe, line, loc, sec, key, value);
            const movl_cfg_spec *spec = movl_cfg_find(sec, key);
            if (spec) {
                exp_origin *o = &ctx->origin[movl_cfg_index(spec)];
                o->kind = EXP_FROM_FILE;
                o->line = line;
            }
        }
        free(keys);
    }
    if (fe.have) {
        movl_set_error(err, "%s", fe.msg);
        return MOVL_ERR_INPUT;
    }
    return MOVL_OK;
}

/* ---- -s section.key=value ---- */

static int apply_override(dictionary *d, exp_load_ctx *ctx, int idx, char *err)
{
    const char *text = ctx->overrides[idx];
    char buf[MOVL_CFG_PATHLEN + 2 * MOVL_CFG_NAMELEN];
    if (strlen(text) >= sizeof buf) {
        movl_set_error(err, "-s %.64s...: override too long", text);
        return MOVL_ERR_INPUT;
    }
    snprintf(buf, sizeof buf, "%s", text);
    char *eq = strchr(buf, '=');
    char *dot = eq ? memchr(buf, '.', (size_t)(eq - buf)) : NULL;
    if (!eq || !dot) {
        movl_set_error(err, "-s %s: bad override (expected section.key=value, e.g. -s loss.lambda=0.5)", text);
        return MOVL_ERR_INPUT;
    }
    *eq = 0;
    *dot = 0;
    char *sec = trim(buf), *key = trim(dot + 1), *value = trim(eq + 1);
    lower(sec);
    lower(key);
    /* Matching quotes around the value are removed, as in the INI. */
    size_t vl = strlen(value);
    if (vl >= 2 && (value[0] == '"' || value[0] == '\'') && value[vl - 1] == value[0]) {
        value[vl - 1] = 0;
        value++;
    }
    if (!sec[0] || !key[0]) {
        movl_set_error(err, "-s %s: bad override (expected section.key=value, e.g. -s loss.lambda=0.5)", text);
        return MOVL_ERR_INPUT;
    }
    char loc[MOVL_CFG_PATHLEN + 2 * MOVL_CFG_NAMELEN + 8];
    snprintf(loc, sizeof loc, "-s %s:", text);
    first_error fe = {0};
    if (!movl_cfg_section_known(sec))
        check_unknown_section(&fe, 0, loc, sec);
    else
        check_entry(&fe, 0, loc, sec, key, value);
    if (fe.have) {
        movl_set_error(err, "%s", fe.msg);
        return MOVL_ERR_INPUT;
    }
    char full[2 * MOVL_CFG_NAMELEN + 2];
    snprintf(full, sizeof full, "%s:%s", sec, key);
    /* iniparser lists a key under its section only if the section exists. */
    if (!iniparser_find_entry(d, sec) && iniparser_set(d, sec, NULL)) {
        movl_set_error(err, "-s %s: out of memory", text);
        return MOVL_ERR_RUN;
    }
    if (iniparser_set(d, full, value)) {
        movl_set_error(err, "-s %s: out of memory", text);
        return MOVL_ERR_RUN;
    }
    const movl_cfg_spec *spec = movl_cfg_find(sec, key);
    if (spec) {
        exp_origin *o = &ctx->origin[movl_cfg_index(spec)];
        o->kind = EXP_FROM_OVERRIDE;
        o->override = idx;
    }
    return MOVL_OK;
}

/* ---- filling the struct ---- */

static int method_index(const char *name)
{
    const movl_cfg_spec *spec = movl_cfg_find("train", "method");
    for (int i = 0; spec->values[i]; i++)
        if (!strcasecmp(spec->values[i], name))
            return i;
    return -1;
}

/* The method-dependent default of spec ("movl:lp vp:flm"), or NULL. */
static const char *method_default(const movl_cfg_spec *spec, const char *method, char *buf, size_t len)
{
    if (!spec->method_def)
        return NULL;
    const char *p = spec->method_def;
    size_t ml = strlen(method);
    while (*p) {
        while (*p == ' ')
            p++;
        size_t wl = strcspn(p, " ");
        const char *colon = memchr(p, ':', wl);
        if (colon && (size_t)(colon - p) == ml && !strncmp(p, method, ml)) {
            snprintf(buf, len, "%.*s", (int)(wl - ml - 1), colon + 1);
            return buf;
        }
        p += wl;
    }
    return NULL;
}

static int missing_required(dictionary *d, const line_scan *sc, const exp_load_ctx *ctx, char *err)
{
    int n;
    const movl_cfg_spec *t = movl_cfg_table(&n);
    for (int i = 0; i < n; i++) {
        if (!(t[i].flags & MOVL_CFG_REQUIRED) || ctx->origin[i].kind != EXP_FROM_DEFAULT)
            continue;
        char loc[MOVL_CFG_PATHLEN + 32], expect[MOVL_ERRLEN / 2];
        (void)d;
        file_loc(loc, sizeof loc, ctx->file, scan_find(sc, t[i].section, ""));
        if (t[i].type == MOVL_CFG_ENUM) {
            size_t k = (size_t)snprintf(expect, sizeof expect, "one of: ");
            for (int v = 0; t[i].values[v] && k < sizeof expect; v++)
                k += (size_t)snprintf(expect + k, sizeof expect - k, "%s%s", v ? ", " : "", t[i].values[v]);
        } else {
            snprintf(expect, sizeof expect, "a %s", t[i].type == MOVL_CFG_PATH ? "path" : "value");
        }
        movl_set_error(err, "%s missing required key '%s' in [%s] (expected %s)", loc, t[i].key, t[i].section,
                       expect);
        return MOVL_ERR_INPUT;
    }
    return MOVL_OK;
}

/* Every key's effective text: the INI/override value, else the
 * method-dependent default, else the default. Parses and stores it. */
static int fill(dictionary *d, const exp_load_ctx *ctx, movl_experiment *out, char *err)
{
    int n;
    const movl_cfg_spec *t = movl_cfg_table(&n);
    const char *method = iniparser_getstring(d, "train:method", "");
    int m = method_index(method);
    if (m < 0) {
        movl_set_error(err, "%s: internal error: method '%s' passed validation", ctx->file, method);
        return MOVL_ERR_RUN;
    }
    method = movl_cfg_find("train", "method")->values[m]; /* canonical spelling */
    for (int i = 0; i < n; i++) {
        char full[2 * MOVL_CFG_NAMELEN + 2], mdef[64];
        snprintf(full, sizeof full, "%s:%s", t[i].section, t[i].key);
        const char *text = iniparser_getstring(d, full, NULL);
        if (!text)
            text = method_default(&t[i], method, mdef, sizeof mdef);
        if (!text)
            text = t[i].def;
        movl_cfg_value v;
        char why[MOVL_ERRLEN / 2], loc[MOVL_CFG_PATHLEN + 64];
        if (movl_cfg_parse_value(&t[i], text, &v, why, sizeof why)) {
            /* Values from the file were checked already; this is a bad default. */
            movl_exp_where(ctx, i, loc, sizeof loc);
            movl_set_error(err, "%s [%s] %s = %s %s", loc, t[i].section, t[i].key, text, why);
            return MOVL_ERR_INPUT;
        }
        movl_cfg_store(&t[i], &v, out);
    }
    return MOVL_OK;
}

static int collect_sweep(dictionary *d, const line_scan *sc, exp_load_ctx *ctx, movl_experiment *out, char *err)
{
    int nk = iniparser_getsecnkeys(d, "sweep");
    if (nk <= 0)
        return MOVL_OK;
    const char **keys = malloc(sizeof *keys * (size_t)nk);
    if (!keys) {
        movl_set_error(err, "%s: out of memory", ctx->file);
        return MOVL_ERR_RUN;
    }
    iniparser_getseckeys(d, "sweep", keys);
    int rc = MOVL_OK, first_count = -1;
    const char *first_key = NULL;
    for (int k = 0; k < nk && rc == MOVL_OK; k++) {
        const char *key = strchr(keys[k], ':') + 1;
        if (!strcmp(key, "mode"))
            continue;
        const char *values = iniparser_getstring(d, keys[k], "");
        if (out->sweep.n == MOVL_SWEEP_MAX) {
            movl_set_error(err, "%s:%d: [sweep] has more than %d keys", ctx->file, scan_find(sc, "sweep", key),
                           MOVL_SWEEP_MAX);
            rc = MOVL_ERR_INPUT;
            break;
        }
        snprintf(out->sweep.entries[out->sweep.n].key, MOVL_CFG_NAMELEN, "%s", key);
        snprintf(out->sweep.entries[out->sweep.n].values, MOVL_SWEEP_VALUELEN, "%s", values);
        out->sweep.n++;
        int c = count_values(values);
        if (out->sweep.mode == MOVL_SWEEP_ZIP && first_count >= 0 && c != first_count) {
            char loc[MOVL_CFG_PATHLEN + 64];
            movl_exp_where(ctx, movl_cfg_index(movl_cfg_find("sweep", "mode")), loc, sizeof loc);
            movl_set_error(err, "%s [sweep] mode = zip needs value lists of equal length ('%s' has %d, '%s' has %d)",
                           loc, first_key, first_count, key, c);
            rc = MOVL_ERR_INPUT;
        }
        if (first_count < 0) {
            first_count = c;
            first_key = key;
        }
    }
    free(keys);
    return rc;
}

/* ---- placeholders and files ---- */

static void file_stem(const char *path, char *out, size_t len)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strlen(base);
    if (n > 4 && !strcasecmp(base + n - 4, ".ini"))
        n -= 4;
    snprintf(out, len, "%.*s", (int)n, base);
}

static int has_ext(const char *path, const char *ext)
{
    size_t n = strlen(path), e = strlen(ext);
    return n > e && !strcasecmp(path + n - e, ext);
}

static int resolve(movl_experiment *exp, const exp_load_ctx *ctx, char *err)
{
    char loc[MOVL_CFG_PATHLEN + 64];
    if (!exp->experiment.name[0])
        file_stem(ctx->file, exp->experiment.name, sizeof exp->experiment.name);
    if (!exp->encoder.size)
        exp->encoder.size = movl_encoder_default_size(exp->encoder.arch);
    /* On a transformer a patch prompt of one token (the patch, on the grid at the fixed corner) is the natural
     * unit: the default follows the patch size unless [prompt] size is set. Padding keeps Bahng's 30 (his
     * CLIP ViT-B/32 recipe). */
    int patch = movl_encoder_patch_size(exp->encoder.arch);
    if (patch && !movl_exp_is_set(ctx, movl_cfg_index(movl_cfg_find("prompt", "size"))) &&
        (exp->prompt.type == MOVL_PROMPT_PATCH || exp->prompt.type == MOVL_PROMPT_RANDOM_PATCH))
        exp->prompt.size = patch;

    int ipath = movl_cfg_index(movl_cfg_find("data", "path"));
    int ifmt = movl_cfg_index(movl_cfg_find("data", "format"));
    struct stat st;
    int exists = stat(exp->data.path, &st) == 0;
    int stat_errno = errno;
    if (exp->data.format == MOVL_DATA_AUTO) {
        if (has_ext(exp->data.path, ".npz"))
            exp->data.format = MOVL_DATA_NPZ;
        else if (has_ext(exp->data.path, ".csv"))
            exp->data.format = MOVL_DATA_CSV;
        else if ((exists && S_ISDIR(st.st_mode)) || (!exists && (ctx->flags & MOVL_EXP_NO_FILE_CHECKS)))
            exp->data.format = MOVL_DATA_FOLDER;
        else if (exists) {
            movl_exp_where(ctx, ipath, loc, sizeof loc);
            movl_set_error(err,
                           "%s cannot infer [data] format of '%s' (expected a .npz or .csv file or a folder; "
                           "or set [data] format)",
                           loc, exp->data.path);
            return MOVL_ERR_INPUT;
        }
    }
    if (ctx->flags & MOVL_EXP_NO_FILE_CHECKS)
        return MOVL_OK;

    if (!exists) {
        movl_exp_where(ctx, ipath, loc, sizeof loc);
        movl_set_error(err, "%s [data] path = %s cannot be read (%s)", loc, exp->data.path, strerror(stat_errno));
        return MOVL_ERR_INPUT;
    }
    int want_dir = exp->data.format == MOVL_DATA_FOLDER;
    if (want_dir != !!S_ISDIR(st.st_mode)) {
        int i = movl_exp_is_set(ctx, ifmt) ? ifmt : ipath;
        movl_exp_where(ctx, i, loc, sizeof loc);
        movl_set_error(err, "%s [data] path = %s is %s, but [data] format = %s expects %s", loc, exp->data.path,
                       S_ISDIR(st.st_mode) ? "a folder" : "not a folder",
                       movl_experiment_enum_name("data", "format", (int)exp->data.format),
                       want_dir ? "a folder of class folders" : "a file");
        return MOVL_ERR_INPUT;
    }
    int iw = movl_cfg_index(movl_cfg_find("encoder", "weights"));
    int wok = stat(exp->encoder.weights, &st) == 0;
    if (!wok || S_ISDIR(st.st_mode)) {
        const char *why = wok ? "a folder, expected a safetensors file" : strerror(errno);
        movl_exp_where(ctx, iw, loc, sizeof loc);
        movl_set_error(err, "%s [encoder] weights = %s cannot be read (%s; tools/fetch_weights.sh downloads them)",
                       loc, exp->encoder.weights, why);
        return MOVL_ERR_INPUT;
    }
    return MOVL_OK;
}

/* ---- the entry point ---- */

int movl_experiment_load(const char *path, const char *const *overrides, int n_overrides, unsigned flags,
                         movl_experiment *out, char *err)
{
    int n;
    movl_cfg_table(&n);
    memset(out, 0, sizeof *out);
    exp_origin *origin = calloc((size_t)n, sizeof *origin);
    line_scan sc = {0};
    dictionary *d = NULL;
    exp_load_ctx ctx = {path, overrides, n_overrides, flags, origin};
    int rc = MOVL_ERR_RUN;
    if (!origin) {
        movl_set_error(err, "%s: out of memory", path);
        goto done;
    }
    FILE *f = fopen(path, "r");
    if (!f) {
        movl_set_error(err, "%s: cannot open experiment file (%s)", path, strerror(errno));
        rc = MOVL_ERR_INPUT;
        goto done;
    }
    fclose(f);
    ini_msg[0] = 0;
    iniparser_set_error_callback(capture_ini_error);
    d = iniparser_load(path);
    iniparser_set_error_callback(NULL);
    if (!d) {
        /* iniparser: "syntax error in FILE (LINE):\n-> TEXT" or "input line too long in FILE (LINE)" */
        char *paren = strrchr(ini_msg, '(');
        int line = paren ? atoi(paren + 1) : 0;
        char *nl = strchr(ini_msg, '\n');
        const char *text = nl && nl[1] == '-' && nl[2] == '>' ? trim(nl + 3) : NULL;
        if (strstr(ini_msg, "too long"))
            movl_set_error(err, "%s:%d: line too long (at most 1023 characters)", path, line);
        else if (text && line > 0)
            movl_set_error(err, "%s:%d: syntax error: '%s' (expected [section] or key = value)", path, line, text);
        else
            movl_set_error(err, "%s: cannot parse experiment file", path);
        rc = MOVL_ERR_INPUT;
        goto done;
    }
    rc = scan_lines(path, &sc, err);
    if (!rc)
        rc = check_file(d, &sc, &ctx, err);
    for (int i = 0; i < n_overrides && !rc; i++)
        rc = apply_override(d, &ctx, i, err);
    if (!rc)
        rc = missing_required(d, &sc, &ctx, err);
    if (!rc)
        rc = fill(d, &ctx, out, err);
    if (!rc)
        rc = collect_sweep(d, &sc, &ctx, out, err);
    if (!rc)
        rc = resolve(out, &ctx, err);
    if (!rc)
        rc = movl_exp_check_rules(out, &ctx, err);
done:
    if (d)
        iniparser_freedict(d);
    free(sc.e);
    free(origin);
    return rc;
}

/* ---- names ---- */

const char *movl_experiment_enum_name(const char *section, const char *key, int value)
{
    const movl_cfg_spec *spec = movl_cfg_find(section, key);
    if (!spec || spec->type != MOVL_CFG_ENUM || value < 0)
        return "?";
    for (int i = 0; spec->values[i]; i++)
        if (i == value)
            return spec->values[i];
    return "?";
}

const char *movl_method_name(movl_method m) { return movl_experiment_enum_name("train", "method", (int)m); }

int movl_method_uses_prompt(movl_method m)
{
    return m != MOVL_METHOD_LP && m != MOVL_METHOD_FF && m != MOVL_METHOD_ZEROSHOT;
}
int movl_method_uses_probe(movl_method m) { return m != MOVL_METHOD_VP && m != MOVL_METHOD_ZEROSHOT; }
int movl_method_uses_label_map(movl_method m)
{
    return m == MOVL_METHOD_VP || m == MOVL_METHOD_VP_THEN_LP || m == MOVL_METHOD_ZEROSHOT;
}
int movl_method_trains_backbone(movl_method m) { return m == MOVL_METHOD_FF; }

char **movl_head_class_names(const char *list, int *count)
{
    int n = 1;
    for (const char *c = list; *c; c++)
        n += *c == ',';
    char **names = calloc((size_t)n, sizeof *names);
    const char *c = list;
    for (int i = 0; names && i < n; i++) {
        const char *end = strchr(c, ',');
        size_t len = end ? (size_t)(end - c) : strlen(c);
        while (len && (*c == ' ' || *c == '\t'))
            c++, len--;
        while (len && (c[len - 1] == ' ' || c[len - 1] == '\t'))
            len--;
        if (!(names[i] = malloc(len + 1))) {
            movl_names_free(names, i);
            return NULL;
        }
        memcpy(names[i], c, len);
        names[i][len] = 0;
        c = end ? end + 1 : c + len;
    }
    *count = n;
    return names;
}

void movl_names_free(char **names, int n)
{
    for (int i = 0; names && i < n; i++)
        free(names[i]);
    free(names);
}
