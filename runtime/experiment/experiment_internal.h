/* Internals shared by the experiment loader (experiment.c), its cross-key
 * rules (experiment_rules.c), the schema (config_schema.c) and the writer. */
#ifndef MOVL_EXPERIMENT_PRIV_H
#define MOVL_EXPERIMENT_PRIV_H

#include "experiment/experiment.h"

/* Copies a parsed value into its movl_experiment field, and back. */
void movl_cfg_store(const movl_cfg_spec *spec, const movl_cfg_value *v, movl_experiment *exp);
void movl_cfg_fetch(const movl_cfg_spec *spec, const movl_experiment *exp, movl_cfg_value *v);

/* Where a key's effective value came from, for error messages. */
typedef enum exp_origin_kind { EXP_FROM_DEFAULT, EXP_FROM_FILE, EXP_FROM_OVERRIDE } exp_origin_kind;
typedef struct exp_origin {
    exp_origin_kind kind;
    int line;     /* EXP_FROM_FILE: 1-based line of the key */
    int override; /* EXP_FROM_OVERRIDE: index into the override list */
} exp_origin;

typedef struct exp_load_ctx {
    const char *file;
    const char *const *overrides;
    int n_overrides;
    unsigned flags;
    exp_origin *origin; /* one per schema table entry */
} exp_load_ctx;

/* "file:line:", "file:" or "-s sec.key=value:" for the key at table index i. */
void movl_exp_where(const exp_load_ctx *ctx, int i, char *buf, size_t len);
/* 1 if the key at table index i was set by the INI or an override. */
int movl_exp_is_set(const exp_load_ctx *ctx, int i);

/* Checks the rules between keys on a fully filled struct (experiment_rules.c). */
int movl_exp_check_rules(const movl_experiment *exp, const exp_load_ctx *ctx, char *err);

#endif
