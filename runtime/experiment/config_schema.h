/* The experiment INI schema: one table of every [section] key with its type,
 * default, range, allowed values and help text (runtime/experiment/config_schema.c).
 * Public so that other modules (the sweep expander, `movl help config`) can
 * look a key up and check a value exactly as the experiment loader does. */
#ifndef MOVL_CONFIG_SCHEMA_H
#define MOVL_CONFIG_SCHEMA_H

#include <stddef.h>
#include <stdio.h>

/* Longest int list ([train] milestones). */
#define MOVL_CFG_LIST_MAX 16

typedef enum movl_cfg_type {
    MOVL_CFG_STRING,
    MOVL_CFG_PATH,     /* a file or folder name, relative to the current directory */
    MOVL_CFG_INT,
    MOVL_CFG_FLOAT,
    MOVL_CFG_BOOL,     /* true/false, yes/no, on/off, 1/0 (any case) */
    MOVL_CFG_ENUM,     /* one of spec->values (any case) */
    MOVL_CFG_INT_LIST, /* comma-separated integers, possibly empty */
} movl_cfg_type;

/* spec->flags */
enum {
    MOVL_CFG_REQUIRED = 1u << 0,   /* no default: the INI (or an override) must set it */
    MOVL_CFG_MIN_OPEN = 1u << 1,   /* value > min instead of >= min */
    MOVL_CFG_MAX_OPEN = 1u << 2,   /* value < max instead of <= max */
    MOVL_CFG_ZERO_OK = 1u << 3,    /* 0 is accepted outside [min, max] (means "default"/"all") */
    MOVL_CFG_MUST_EXIST = 1u << 4, /* path: must name an existing file or folder */
    MOVL_CFG_INCREASING = 1u << 5, /* int list: strictly increasing */
    MOVL_CFG_ENUM_NAME = 1u << 6,  /* enum stored as its name (char array) instead of its index */
};

typedef struct movl_cfg_spec {
    const char *section, *key;
    movl_cfg_type type;
    /* Default value as INI text; NULL for required keys. */
    const char *def;
    /* Defaults that depend on [train] method, as "method:value" words
     * separated by spaces (e.g. "movl:lp"); NULL if none. Checked before def. */
    const char *method_def;
    double min, max; /* numeric range (ints, floats, int-list elements) */
    unsigned flags;
    const char *const *values; /* enum: allowed values, NULL-terminated */
    const char *help;
    /* Where the loader stores the value in movl_experiment, and the size of
     * that field (char arrays: capacity including the terminating NUL). */
    size_t offset, size;
} movl_cfg_spec;

/* A parsed value; which member is meaningful depends on the spec's type. */
typedef struct movl_cfg_value {
    long long i;   /* int, bool (0/1), enum (index into spec->values) */
    double f;      /* float */
    const char *s; /* string, path, enum name: points into the parsed text or spec->values */
    int n;         /* int list: number of elements in list[] */
    int list[MOVL_CFG_LIST_MAX];
} movl_cfg_value;

/* The whole table (count entries) and the known section names (NULL-terminated;
 * includes "sweep", which has no keys of its own in the table except "mode"). */
const movl_cfg_spec *movl_cfg_table(int *count);
extern const char *const movl_cfg_sections[];

/* The spec of [section] key, or NULL. Names are compared case-insensitively. */
const movl_cfg_spec *movl_cfg_find(const char *section, const char *key);
int movl_cfg_index(const movl_cfg_spec *spec); /* position in the table */
int movl_cfg_section_known(const char *section);

/* Closest known name to a misspelt one ("did you mean ..."): NULL unless it is
 * within 2 edits (Levenshtein) or the typed name is a prefix of it. */
const char *movl_cfg_suggest_section(const char *section);
const char *movl_cfg_suggest_key(const char *section, const char *key);
/* A section other than `section` that has exactly this key (the key was put
 * in the wrong section), or NULL. */
const char *movl_cfg_section_of_key(const char *section, const char *key);
/* Closest allowed value of an enum spec, under the same rule, or NULL. */
const char *movl_cfg_suggest_value(const movl_cfg_spec *spec, const char *text);

/* Parses and range-checks one value (text as iniparser returns it: trimmed,
 * quotes removed). Existence of paths is NOT checked here (the loader does it).
 * On failure returns MOVL_ERR_INPUT and writes the reason into why, phrased to
 * follow "[section] key = text", e.g. "is out of range (expected > 0)". */
int movl_cfg_parse_value(const movl_cfg_spec *spec, const char *text, movl_cfg_value *out, char *why,
                         size_t why_len);

/* Formats a value as INI text that parses back to exactly the same value
 * (floats in the shortest form that round-trips). Returns the length, or -1
 * if it does not fit in buf. */
int movl_cfg_format_value(const movl_cfg_spec *spec, const movl_cfg_value *v, char *buf, size_t len);

/* Human-readable range of a numeric spec, e.g. "> 0", "0 to 0.9", "0 or 32 to 1024". */
void movl_cfg_range_text(const movl_cfg_spec *spec, char *buf, size_t len);

/* Writes the schema (every key, type, default, range, help) as INI comments. */
void movl_cfg_print_schema(FILE *f);

/* Levenshtein distance between two names (case-insensitive), for suggestions. */
int movl_cfg_edit_distance(const char *a, const char *b);

#endif
