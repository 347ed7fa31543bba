/* movl explain RUN_DIR IMAGE... [--method grad|smoothgrad|integrated_gradients] [--class K] [--out DIR]
 *              [--device SEL] [--json] [--samples N] [--noise S] [--steps N] [--seed N]
 *              [--check-grad N] [--check-step H]
 * Attribution maps of a finished run's class logit (docs/EXPLAIN.md). */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "core/common.h"
#include "explain/explain_run.h"

static int bad_number(const char *opt, const char *v, const char *want)
{
    char msg[400];
    snprintf(msg, sizeof msg, "%s '%s' is not %s", opt, v, want);
    fprintf(stderr, "movl explain: %s\n", msg);
    return MOVL_ERR_INPUT;
}

static int parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!*s || *end || errno || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int parse_double(const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || *end || errno || !isfinite(v) || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

/* The numeric options, each with its range and the words of its error: 1 when A is one of them (its value V
 * parsed into O, *rc set), 0 otherwise. */
static int numeric_option(movl_explain_run_opts *o, const char *a, const char *v, int *rc)
{
    enum { COUNT, SEED, REAL };
    static const struct {
        const char *name;
        double lo, hi;
        int kind;
        size_t at; /* the field of movl_explain_run_opts */
        const char *want;
    } opts[] = {
        {"--class", 0, 1 << 20, COUNT, offsetof(movl_explain_run_opts, cls), "a class index (0, 1, ...)"},
        {"--samples", 1, 100000, COUNT, offsetof(movl_explain_run_opts, samples), "a count in 1..100000"},
        {"--steps", 1, 100000, COUNT, offsetof(movl_explain_run_opts, steps), "a count in 1..100000"},
        {"--check-grad", 1, 10000, COUNT, offsetof(movl_explain_run_opts, check_grad), "a count in 1..10000"},
        {"--seed", 0, 2147483647.0, SEED, offsetof(movl_explain_run_opts, seed), "a seed in 0..2147483647"},
        {"--noise", 0, 10, REAL, offsetof(movl_explain_run_opts, noise), "a number in 0..10"},
        {"--check-step", 1e-6, 10, REAL, offsetof(movl_explain_run_opts, check_step), "a step in 1e-6..10"},
    };
    for (size_t k = 0; k < sizeof opts / sizeof opts[0]; k++) {
        if (strcmp(a, opts[k].name))
            continue;
        long l = 0;
        double d = 0;
        int bad = opts[k].kind == REAL ? parse_double(v, opts[k].lo, opts[k].hi, &d)
                                       : parse_long(v, (long)opts[k].lo, (long)opts[k].hi, &l);
        *rc = bad ? bad_number(a, v, opts[k].want) : MOVL_OK;
        char *field = (char *)o + opts[k].at;
        if (opts[k].kind == COUNT)
            *(int *)field = (int)l;
        else if (opts[k].kind == SEED)
            *(uint64_t *)field = (uint64_t)l;
        else
            *(double *)field = d;
        return 1;
    }
    return 0;
}

int cmd_explain(int argc, char **argv)
{
    movl_explain_run_opts o = movl_explain_run_defaults();
    const char **images = calloc((size_t)argc, sizeof *images);
    int n = 0, rc = MOVL_OK;
    if (!images)
        return MOVL_ERR_RUN;
    for (int i = 1; i < argc && rc == MOVL_OK; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        char err[MOVL_ERRLEN];
        if (!strcmp(a, "--json"))
            o.json = 1;
        else if (cli_common_flag(a))
            ;
        else if (a[0] == '-' && !v) {
            char msg[300];
            snprintf(msg, sizeof msg, "unknown option or missing value '%s'", a);
            rc = cli_usage_error("explain", msg);
        } else if (!strcmp(a, "--method")) {
            if (movl_explain_method_parse(v, &o.method, err)) {
                fprintf(stderr, "movl explain: %s\n", err);
                rc = MOVL_ERR_INPUT;
            }
            i++;
        } else if (numeric_option(&o, a, v, &rc)) {
            i++;
        } else if (!strcmp(a, "--out")) {
            o.out_dir = v;
            i++;
        } else if (!strcmp(a, "--device")) {
            o.device = v;
            i++;
        } else if (a[0] == '-') {
            char msg[300];
            snprintf(msg, sizeof msg, "unknown option '%s'", a);
            rc = cli_usage_error("explain", msg);
        } else if (!o.run_dir)
            o.run_dir = a;
        else
            images[n++] = a;
    }
    if (rc == MOVL_OK && (!o.run_dir || n == 0))
        rc = cli_usage_error("explain", o.run_dir ? "give at least one image" : "give a run folder and images");
    if (rc == MOVL_OK) {
        char err[MOVL_ERRLEN] = "";
        o.images = images;
        o.nimages = n;
        rc = movl_explain_run(&o, err);
        if (rc)
            fprintf(stderr, "movl explain: %s\n", err);
    }
    free(images);
    return rc;
}
