/* The resolved config: every schema key with its effective value, as INI
 * text that movl_experiment_load reads back into an identical struct. The
 * run directory keeps it, so `movl train --resume` and `movl eval` see
 * exactly what the run used, whatever the defaults are by then. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/common.h"
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
    size_t len = strlen(path) + 16;
    char *tmp = malloc(len);
    if (!tmp) {
        movl_set_error(err, "%s: out of memory", path);
        return MOVL_ERR_RUN;
    }
    snprintf(tmp, len, "%s.tmpXXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        movl_set_error(err, "%s: cannot create (%s)", path, strerror(errno));
        free(tmp);
        return MOVL_ERR_RUN;
    }
    fchmod(fd, 0644); /* mkstemp makes it private; a config is not secret */
    FILE *f = fdopen(fd, "w");
    if (!f) {
        movl_set_error(err, "%s: cannot write (%s)", path, strerror(errno));
        close(fd);
        unlink(tmp);
        free(tmp);
        return MOVL_ERR_RUN;
    }
    print_comment(f, comment);
    int rc = movl_experiment_print(exp, f, err);
    int io = fflush(f) != 0 || ferror(f) || fsync(fileno(f)) != 0;
    int saved = errno;
    io |= fclose(f) != 0;
    if (!rc && io) {
        movl_set_error(err, "%s: write failed (%s)", path, strerror(saved));
        rc = MOVL_ERR_RUN;
    }
    if (!rc && rename(tmp, path) != 0) {
        movl_set_error(err, "%s: cannot replace (%s)", path, strerror(errno));
        rc = MOVL_ERR_RUN;
    }
    if (rc)
        unlink(tmp);
    free(tmp);
    return rc;
}
