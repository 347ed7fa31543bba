/* The shift suite's vocabulary without any image code: corruption names,
 * imaging modalities and their default corruption sets (after MedMNIST-C,
 * docs/SHIFT.md), and the parser of a shift spec, so that the experiment
 * loader can validate [eval] shift and shift/ can apply what it names. */
#ifndef MOVL_SHIFT_KINDS_H
#define MOVL_SHIFT_KINDS_H

#include <stddef.h>

/* Corruptions, in the order of movl_shift_names (and of docs/SHIFT.md). */
typedef enum movl_corruption {
    MOVL_CORR_PIXELATE,
    MOVL_CORR_JPEG,
    MOVL_CORR_GAUSSIAN_NOISE,
    MOVL_CORR_SPECKLE_NOISE,
    MOVL_CORR_IMPULSE_NOISE,
    MOVL_CORR_SHOT_NOISE,
    MOVL_CORR_GAUSSIAN_BLUR,
    MOVL_CORR_DEFOCUS_BLUR,
    MOVL_CORR_MOTION_BLUR,
    MOVL_CORR_BRIGHTNESS_UP,
    MOVL_CORR_BRIGHTNESS_DOWN,
    MOVL_CORR_CONTRAST_UP,
    MOVL_CORR_CONTRAST_DOWN,
    MOVL_CORR_GAMMA_UP,
    MOVL_CORR_GAMMA_DOWN,
    MOVL_CORR_COUNT
} movl_corruption;

#define MOVL_SHIFT_SEVERITIES 5 /* severities 1..5; 0 is the clean image */

/* Imaging modalities; AUTO = from the dataset's file name. Order of movl_modality_names. */
typedef enum movl_modality {
    MOVL_MODALITY_AUTO,
    MOVL_MODALITY_XRAY,
    MOVL_MODALITY_ULTRASOUND,
    MOVL_MODALITY_FUNDUS,
    MOVL_MODALITY_COUNT
} movl_modality;

/* MOVL_CORR_COUNT names then NULL: "pixelate", "jpeg", ... */
extern const char *const movl_shift_names[];
/* "auto", "xray", "ultrasound", "fundus", NULL */
extern const char *const movl_modality_names[];

/* Index of a corruption name (exact, lower case), or -1. */
int movl_shift_find(const char *name);

/* Every valid name, comma-separated, into buf (for error lines). */
void movl_shift_list_names(char *buf, size_t len);

/* A concrete modality: m itself unless AUTO, else from the dataset path's
 * file name (case-insensitive): "pneumonia" or "chest" -> XRAY, "breast" ->
 * ULTRASOUND, "retina" -> FUNDUS; AUTO when none matches. */
movl_modality movl_modality_resolve(movl_modality m, const char *data_path);

/* The default corruption set of a concrete modality (what "all" means):
 * fills set[] (at most MOVL_CORR_COUNT) and returns its size; 0 for AUTO. */
int movl_modality_default_set(movl_modality m, int *set);

/* One corrupted evaluation: a corruption at a severity 1..5. */
typedef struct movl_shift_item {
    int corruption; /* movl_corruption */
    int severity;   /* 1..5 */
} movl_shift_item;

#define MOVL_SHIFT_MAX_ITEMS (MOVL_CORR_COUNT * MOVL_SHIFT_SEVERITIES)

/* Parses a spec: "all" (the modality's default set, every severity) or
 * "NAME[:SEVERITY],..." (no severity = all five). Items come out in spec
 * order, a repeated (name, severity) once. modality is used for "all" only
 * (it must then be concrete). "" gives 0 items. Returns the item count
 * (>= 0), or -1 with one line in err naming the bad item: an unknown name
 * (and the valid ones), a severity outside 1..5, or "all" without a modality. */
int movl_shift_parse(const char *spec, movl_modality modality, movl_shift_item *items, char *err, size_t errlen);

#endif
