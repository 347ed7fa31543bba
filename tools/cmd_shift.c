/* movl shift IN.npz --out OUT.npz --corrupt NAME:S [--seed N] [--modality M]
 * movl shift DATASET --grid OUT.png [--corrupt SPEC] [--split S] [--index I] [--seed N] [--modality M]
 * The shift suite's corruptions (docs/SHIFT.md) on a dataset file: a
 * corrupted copy of a MedMNIST-style npz, or a picture of one image under
 * every corruption (rows) and severity 0..5 (columns). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "shift_grid.h"
#include "core/common.h"
#include "kinds/shift_kinds.h"
#include "shift/shift.h"


static int parse_u64(const char *s, unsigned long long *v)
{
    char *e;
    if (!s[0] || s[0] == '-')
        return -1;
    *v = strtoull(s, &e, 10);
    return *e ? -1 : 0;
}

int cmd_shift(int argc, char **argv)
{
    const char *in = NULL, *out = NULL, *grid = NULL, *spec = NULL, *split = "test", *mod = "auto";
    unsigned long long seed = 0, index = 0;
    for (int i = 1; i < argc; i++) {
        int v = i + 1 < argc;
        if (!strcmp(argv[i], "--out") && v)
            out = argv[++i];
        else if (!strcmp(argv[i], "--grid") && v)
            grid = argv[++i];
        else if (!strcmp(argv[i], "--corrupt") && v)
            spec = argv[++i];
        else if (!strcmp(argv[i], "--split") && v)
            split = argv[++i];
        else if (!strcmp(argv[i], "--modality") && v)
            mod = argv[++i];
        else if ((!strcmp(argv[i], "--seed") || !strcmp(argv[i], "--index")) && v) {
            int is_seed = !strcmp(argv[i], "--seed");
            if (parse_u64(argv[i + 1], is_seed ? &seed : &index) || (!is_seed && index > 2147483647ull)) {
                fprintf(stderr, "movl shift: %s '%s' is not a non-negative integer\n", argv[i], argv[i + 1]);
                return MOVL_ERR_INPUT;
            }
            i++;
        } else if (cli_common_flag(argv[i]))
            ;
        else if (argv[i][0] != '-' && !in)
            in = argv[i];
        else {
            char msg[300];
            snprintf(msg, sizeof msg, "unexpected argument '%s'", argv[i]);
            return cli_usage_error("shift", msg);
        }
    }
    if (!in || !out == !grid) {
        return cli_usage_error("shift", !in ? "missing the dataset" : "give one of --out and --grid");
    }
    int m = -1;
    for (int k = 0; movl_modality_names[k]; k++)
        if (!strcmp(mod, movl_modality_names[k]))
            m = k;
    if (m < 0) {
        fprintf(stderr, "movl shift: --modality '%s' is not one of auto, xray, ultrasound, fundus\n", mod);
        return MOVL_ERR_INPUT;
    }
    movl_modality modality = movl_modality_resolve((movl_modality)m, in);
    int sp = -1;
    for (int k = 0; k < MOVL_NSPLITS; k++)
        if (!strcmp(split, movl_split_names[k]))
            sp = k;
    if (sp < 0) {
        fprintf(stderr, "movl shift: --split '%s' is not a split (expected train, val or test)\n", split);
        return MOVL_ERR_INPUT;
    }
    char err[MOVL_ERRLEN] = "";
    movl_shift_item items[MOVL_SHIFT_MAX_ITEMS];
    int n;
    if (out) {
        n = spec ? movl_shift_parse(spec, modality, items, err, sizeof err) : 0;
        if (n != 1 || !strchr(spec, ':')) {
            char names[400];
            movl_shift_list_names(names, sizeof names);
            if (n >= 0)
                snprintf(err, sizeof err, "expected one NAME:SEVERITY (e.g. jpeg:3), NAME one of %s", names);
            fprintf(stderr, "movl shift: --corrupt %s: %s\n", spec ? spec : "(missing)", err);
            return MOVL_ERR_INPUT;
        }
        int rc = movl_shift_npz(in, out, items[0].corruption, items[0].severity, modality, seed, err);
        if (rc) {
            fprintf(stderr, "movl shift: %s\n", err);
            return rc;
        }
        printf("wrote %s: %s at severity %d (%s parameters, seed %llu)\n", out, movl_shift_names[items[0].corruption],
               items[0].severity, movl_modality_names[modality == MOVL_MODALITY_AUTO ? MOVL_MODALITY_XRAY : modality],
               seed);
        return MOVL_OK;
    }
    n = movl_shift_parse(spec ? spec : modality == MOVL_MODALITY_AUTO ? "" : "all", modality, items, err, sizeof err);
    if (n < 0) {
        fprintf(stderr, "movl shift: --corrupt %s: %s\n", spec, err);
        return MOVL_ERR_INPUT;
    }
    int rows[MOVL_CORR_COUNT], nrows = 0;
    if (n == 0) /* no modality known and no spec: every corruption */
        for (int c = 0; c < MOVL_CORR_COUNT; c++)
            rows[nrows++] = c;
    for (int k = 0; k < n; k++) {
        int seen = 0;
        for (int r = 0; r < nrows; r++)
            seen |= rows[r] == items[k].corruption;
        if (!seen)
            rows[nrows++] = items[k].corruption;
    }
    int rc = movl_shift_grid(in, grid, sp, (int)index, rows, nrows, modality, seed, err);
    if (rc)
        fprintf(stderr, "movl shift: %s\n", err);
    else
        printf("wrote %s: %d corruptions x severities 0..5 of %s image %llu\n", grid, nrows, split, index);
    return rc;
}
