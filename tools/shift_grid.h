/* `movl shift --grid`: one image of a dataset under corruptions (rows) and
 * severities 0..5 (columns), labelled, as a PNG. */
#ifndef MOVL_SHIFT_GRID_H
#define MOVL_SHIFT_GRID_H

#include <stdint.h>

#include "kinds/shift_kinds.h"

/* Image `index` of `split` of the dataset at path (any movl dataset), each
 * row a corruption of rows[0..nrows), drawn with the seeds `movl shift`
 * uses for that image, written to png_path. */
int movl_shift_grid(const char *path, const char *png_path, int split, int index, const int *rows, int nrows,
                    movl_modality modality, uint64_t seed, char *err);

#endif
