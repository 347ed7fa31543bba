/* movl explain RUN_DIR IMAGE... [--method grad|smoothgrad|integrated_gradients] [--class K] [--out DIR]
 *              [--device SEL] [--json] [--samples N] [--noise S] [--steps N] [--seed N]
 *              [--check-grad N] [--check-step H]
 * Attribution maps of a finished run's class logit (docs/EXPLAIN.md). */
#include <errno.h>
#include <math.h>
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
        long l;
        double d;
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
        } else if (!strcmp(a, "--class")) {
            rc = parse_long(v, 0, 1 << 20, &l) ? bad_number(a, v, "a class index (0, 1, ...)") : MOVL_OK;
            o.cls = (int)l;
            i++;
        } else if (!strcmp(a, "--samples")) {
            rc = parse_long(v, 1, 100000, &l) ? bad_number(a, v, "a count in 1..100000") : MOVL_OK;
            o.samples = (int)l;
            i++;
        } else if (!strcmp(a, "--steps")) {
            rc = parse_long(v, 1, 100000, &l) ? bad_number(a, v, "a count in 1..100000") : MOVL_OK;
            o.steps = (int)l;
            i++;
        } else if (!strcmp(a, "--check-grad")) {
            rc = parse_long(v, 1, 10000, &l) ? bad_number(a, v, "a count in 1..10000") : MOVL_OK;
            o.check_grad = (int)l;
            i++;
        } else if (!strcmp(a, "--seed")) {
            rc = parse_long(v, 0, 2147483647L, &l) ? bad_number(a, v, "a seed in 0..2147483647") : MOVL_OK;
            o.seed = (uint64_t)l;
            i++;
        } else if (!strcmp(a, "--noise")) {
            rc = parse_double(v, 0, 10, &d) ? bad_number(a, v, "a number in 0..10") : MOVL_OK;
            o.noise = d;
            i++;
        } else if (!strcmp(a, "--check-step")) {
            rc = parse_double(v, 1e-6, 10, &d) ? bad_number(a, v, "a step in 1e-6..10") : MOVL_OK;
            o.check_step = d;
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
