/* The resolved config: every schema key with its effective value, as INI
 * text that movl_experiment_load reads back into an identical struct. The
 * run directory keeps it, so `movl train --resume` and `movl eval` see
 * exactly what the run used, whatever the defaults are by then. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "core/file_io.h"
#include "experiment/experiment_internal.h"

static void print_comment(FILE *f, const char *comment)
{
    while (comment && *comment) {
        size_t n = strcspn(comment, "\n");
        fprintf(f, "# %.*s\n", (int)n, comment);
        comment += n;
        if (*comment == '\n')
            comment++;
    }
}

int movl_experiment_print(const movl_experiment *exp, FILE *f, char *err)
{
    int n;
    const movl_cfg_spec *t = movl_cfg_table(&n);
    /* [sweep] only when it holds something; its mode alone is written if not the default. */
    int sweep = exp->sweep.n > 0 || exp->sweep.mode != MOVL_SWEEP_GRID;
    const char *section = NULL;
    for (int i = 0; i < n; i++) {
        if (!strcmp(t[i].section, "sweep") && !sweep)
            continue;
        if (!section || strcmp(section, t[i].section)) {
            fprintf(f, "%s[%s]\n", section ? "\n" : "", t[i].section);
            section = t[i].section;
        }
        movl_cfg_value v;
        char text[MOVL_CFG_PATHLEN + 8];
        movl_cfg_fetch(&t[i], exp, &v);
        if (movl_cfg_format_value(&t[i], &v, text, sizeof text) < 0) {
            movl_set_error(err, "[%s] %s: value cannot be written as INI text (it holds both quote characters)",
                           t[i].section, t[i].key);
            return MOVL_ERR_INPUT;
        }
        fprintf(f, "%s =%s%s\n", t[i].key, text[0] ? " " : "", text);
    }
    /* Sweep entries are strings; the same quoting applies. */
    const movl_cfg_spec raw = {.type = MOVL_CFG_STRING, .size = MOVL_SWEEP_VALUELEN};
    for (int i = 0; i < exp->sweep.n; i++) {
        movl_cfg_value v = {.s = exp->sweep.entries[i].values};
        char text[MOVL_SWEEP_VALUELEN + 8];
        if (movl_cfg_format_value(&raw, &v, text, sizeof text) < 0) {
            movl_set_error(err, "[sweep] %s: value cannot be written as INI text", exp->sweep.entries[i].key);
            return MOVL_ERR_INPUT;
        }
        fprintf(f, "%s = %s\n", exp->sweep.entries[i].key, text);
    }
    return MOVL_OK;
}

int movl_experiment_write(const movl_experiment *exp, const char *path, const char *comment, char *err)
{
    movl_out_file out;
    if (movl_out_open(&out, path, err))
        return MOVL_ERR_RUN;
    print_comment(out.f, comment);
    int rc = movl_experiment_print(exp, out.f, err);
    if (rc) {
        movl_out_abort(&out);
        return rc;
    }
    return movl_out_commit(&out, err);
}
