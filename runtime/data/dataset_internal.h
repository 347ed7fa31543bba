/* Internals shared by the dataset loaders (not part of the public API):
 * the split assignment of unsplit sources and the common image-file path used by
 * the class-folder and CSV loaders. */
#ifndef MOVL_DATASET_INTERNAL_H
#define MOVL_DATASET_INTERNAL_H

#include <stdint.h>

#include "data/dataset.h"

/* Checks val_frac / test_frac; 0 or MOVL_ERR_INPUT naming `source`. */
int movl_ds_check_fracs(const char *source, const movl_dataset_opts *o, char *err);

/* Class-stratified seeded split of n labelled items into split_of[i]
 * (MOVL_SPLIT_*): per class, round(n_c * test_frac) go to test and
 * round(n_c * val_frac) to val, at least one stays in train. */
void movl_ds_assign_splits(const int *labels, int n, int num_classes, const movl_dataset_opts *o, int *split_of);

/* One image file of a folder tree or manifest. split < 0: to be assigned; line > 0:
 * its line in the manifest (ds->source), named in errors about the image. */
typedef struct movl_file_entry {
    char *path;
    int label;
    int split;
    int line;
} movl_file_entry;

/* Builds ds from entries (ds->source, num_classes and class_names must be
 * set by the caller; class_names may be NULL): assigns the splits when
 * has_splits is 0, checks for empty splits, decodes every image (all its frames when o->read asks) into the pools
 * and packs them (grey when every image is grey, uint8 when every value is an
 * exact 8-bit level). */
int movl_ds_build_from_files(movl_dataset *ds, movl_file_entry *e, int n, int has_splits,
                            const movl_dataset_opts *o, char *err);

/* 0 if path is a regular file we can open for reading, else MOVL_ERR_INPUT
 * with "PATH: cannot read <what> (reason)". */
int movl_ds_check_readable(const char *path, const char *what, char *err);

char *movl_ds_strdup(const char *s);
int movl_ds_cmp_str(const void *a, const void *b); /* qsort on char* */

#endif
