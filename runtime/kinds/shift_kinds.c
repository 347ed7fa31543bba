/* Corruption and modality names, default sets, and the spec parser (see shift_kinds.h). */
#include "kinds/shift_kinds.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *const movl_shift_names[] = {
    "pixelate",      "jpeg",          "gaussian_noise", "speckle_noise",   "impulse_noise",
    "shot_noise",    "gaussian_blur", "defocus_blur",   "motion_blur",     "brightness_up",
    "brightness_down", "contrast_up", "contrast_down",  "gamma_up",        "gamma_down",
    NULL};
_Static_assert(sizeof movl_shift_names / sizeof movl_shift_names[0] == MOVL_CORR_COUNT + 1, "one name a corruption");

const char *const movl_modality_names[] = {"auto", "xray", "ultrasound", "fundus", NULL};

/* MedMNIST-C's sets for PneumoniaMNIST / ChestMNIST (X-ray), BreastMNIST
 * (ultrasound) and RetinaMNIST (fundus); -1 ends a list. */
static const int XRAY_SET[] = {MOVL_CORR_PIXELATE,      MOVL_CORR_JPEG,          MOVL_CORR_GAUSSIAN_NOISE,
                               MOVL_CORR_SPECKLE_NOISE, MOVL_CORR_IMPULSE_NOISE, MOVL_CORR_SHOT_NOISE,
                               MOVL_CORR_GAUSSIAN_BLUR, MOVL_CORR_BRIGHTNESS_UP, MOVL_CORR_BRIGHTNESS_DOWN,
                               MOVL_CORR_CONTRAST_UP,   MOVL_CORR_CONTRAST_DOWN, MOVL_CORR_GAMMA_UP,
                               MOVL_CORR_GAMMA_DOWN,    -1};
static const int ULTRASOUND_SET[] = {MOVL_CORR_PIXELATE,    MOVL_CORR_JPEG,          MOVL_CORR_SPECKLE_NOISE,
                                     MOVL_CORR_MOTION_BLUR, MOVL_CORR_BRIGHTNESS_UP, MOVL_CORR_CONTRAST_DOWN, -1};
static const int FUNDUS_SET[] = {MOVL_CORR_PIXELATE,      MOVL_CORR_JPEG,         MOVL_CORR_GAUSSIAN_NOISE,
                                 MOVL_CORR_SPECKLE_NOISE, MOVL_CORR_DEFOCUS_BLUR, MOVL_CORR_MOTION_BLUR,
                                 MOVL_CORR_BRIGHTNESS_DOWN, MOVL_CORR_CONTRAST_DOWN, -1};

int movl_shift_find(const char *name)
{
    for (int i = 0; name && movl_shift_names[i]; i++)
        if (!strcmp(name, movl_shift_names[i]))
            return i;
    return -1;
}

void movl_shift_list_names(char *buf, size_t len)
{
    size_t at = 0;
    if (len)
        buf[0] = 0;
    for (int i = 0; movl_shift_names[i] && at < len; i++) {
        int w = snprintf(buf + at, len - at, "%s%s", i ? ", " : "", movl_shift_names[i]);
        if (w < 0)
            break;
        at += (size_t)w;
    }
}

/* Case-insensitive substring test. */
static int contains(const char *s, const char *word)
{
    size_t n = strlen(word);
    for (; *s; s++)
        if (!strncasecmp(s, word, n))
            return 1;
    return 0;
}

movl_modality movl_modality_resolve(movl_modality m, const char *data_path)
{
    if (m != MOVL_MODALITY_AUTO || !data_path)
        return m;
    const char *base = strrchr(data_path, '/');
    base = base ? base + 1 : data_path;
    if (!*base) /* a folder given with a trailing slash: look at the whole path */
        base = data_path;
    if (contains(base, "pneumonia") || contains(base, "chest"))
        return MOVL_MODALITY_XRAY;
    if (contains(base, "breast"))
        return MOVL_MODALITY_ULTRASOUND;
    if (contains(base, "retina"))
        return MOVL_MODALITY_FUNDUS;
    return MOVL_MODALITY_AUTO;
}

int movl_modality_default_set(movl_modality m, int *set)
{
    const int *src = m == MOVL_MODALITY_XRAY         ? XRAY_SET
                     : m == MOVL_MODALITY_ULTRASOUND ? ULTRASOUND_SET
                     : m == MOVL_MODALITY_FUNDUS     ? FUNDUS_SET
                                                     : NULL;
    int n = 0;
    while (src && src[n] >= 0) {
        set[n] = src[n];
        n++;
    }
    return n;
}

/* Adds (c, s) unless it is already there. */
static void add_item(movl_shift_item *items, int *n, int c, int s)
{
    for (int i = 0; i < *n; i++)
        if (items[i].corruption == c && items[i].severity == s)
            return;
    items[*n].corruption = c;
    items[*n].severity = s;
    (*n)++;
}

/* Copies [b, e) into out without surrounding blanks. */
static void trim_copy(const char *b, const char *e, char *out, size_t len)
{
    while (b < e && isspace((unsigned char)*b))
        b++;
    while (e > b && isspace((unsigned char)e[-1]))
        e--;
    size_t n = (size_t)(e - b) < len - 1 ? (size_t)(e - b) : len - 1;
    memcpy(out, b, n);
    out[n] = 0;
}

int movl_shift_parse(const char *spec, movl_modality modality, movl_shift_item *items, char *err, size_t errlen)
{
    char names[400], item[128];
    int n = 0;
    for (const char *p = spec ? spec : ""; *p;) {
        const char *end = strchr(p, ',');
        if (!end)
            end = p + strlen(p);
        trim_copy(p, end, item, sizeof item);
        p = *end ? end + 1 : end;
        if (!item[0]) {
            snprintf(err, errlen, "empty item in '%s' (expected all or NAME[:SEVERITY],...)", spec);
            return -1;
        }
        if (!strcmp(item, "all")) {
            int set[MOVL_CORR_COUNT], k = movl_modality_default_set(modality, set);
            if (!k) {
                snprintf(err, errlen, "'all' needs a modality, and none is known ([data] modality = xray, "
                                      "ultrasound or fundus, or a dataset file name with pneumonia, chest, breast "
                                      "or retina)");
                return -1;
            }
            for (int i = 0; i < k; i++)
                for (int s = 1; s <= MOVL_SHIFT_SEVERITIES; s++)
                    add_item(items, &n, set[i], s);
            continue;
        }
        char whole[128];
        memcpy(whole, item, sizeof whole);
        char *colon = strchr(item, ':');
        int sev = 0;
        if (colon) {
            *colon = 0;
            char *e;
            long v = strtol(colon + 1, &e, 10);
            if (e == colon + 1 || *e || v < 1 || v > MOVL_SHIFT_SEVERITIES) {
                movl_shift_list_names(names, sizeof names);
                snprintf(err, errlen, "item '%s': severity '%s' is not one of 1..%d (expected all or NAME[:1..%d], "
                                      "NAME one of %s)",
                         whole, colon + 1, MOVL_SHIFT_SEVERITIES, MOVL_SHIFT_SEVERITIES, names);
                return -1;
            }
            sev = (int)v;
        }
        int c = movl_shift_find(item);
        if (c < 0) {
            movl_shift_list_names(names, sizeof names);
            snprintf(err, errlen, "item '%s': unknown corruption '%s' (valid: all, %s)", whole, item, names);
            return -1;
        }
        for (int s = sev ? sev : 1; s <= (sev ? sev : MOVL_SHIFT_SEVERITIES); s++)
            add_item(items, &n, c, s);
    }
    return n;
}
