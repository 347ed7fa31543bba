/* Reading any supported image file: PNG (core/image.h), JPEG (jpeg_read.c)
 * and DICOM (dicom_decode.h + dicom_window.c), told apart by their first
 * bytes, never by the name alone. Every reader returns float RGB in [0, 1]
 * (grey repeated into the three channels). */
#ifndef MOVL_IMAGE_READ_H
#define MOVL_IMAGE_READ_H

#include "core/image.h"

enum { MOVL_IMG_UNKNOWN = 0, MOVL_IMG_PNG, MOVL_IMG_JPEG, MOVL_IMG_DICOM };

/* How DICOM grey values become [0, 1] (after the modality LUT): the file's
 * first Window Center/Width (min-max when it has none), min-max of each
 * frame, or a window the user gives. */
enum { MOVL_WINDOW_FILE = 0, MOVL_WINDOW_MINMAX = 1, MOVL_WINDOW_FIXED = 2 };

typedef struct movl_image_read_opts {
    int window;           /* MOVL_WINDOW_* */
    double center, width; /* MOVL_WINDOW_FIXED; width > 0 */
    int all_frames;       /* DICOM multi-frame files: every frame (1) or the first (0) */
} movl_image_read_opts;

/* The file's window, first frame only. */
movl_image_read_opts movl_image_read_default_opts(void);

/* Parses a [data] window value: "file", "minmax" or "CENTER,WIDTH" (width > 0)
 * into o. 0, or -1 with what was expected in err (the caller names the key). */
int movl_image_parse_window(const char *text, movl_image_read_opts *o, char *err);

/* The format by the file's first bytes (PNG signature, JPEG SOI marker,
 * DICOM "DICM" after the 128-byte preamble); a file that has none of them
 * but is named *.dcm / *.dicom counts as DICOM (files without the preamble).
 * MOVL_IMG_UNKNOWN when unreadable or none of these. */
int movl_image_format(const char *path);

/* Whether a folder entry named `name` (full path `path`) is an image to load:
 * *.png, *.jpg, *.jpeg, *.dcm, *.dicom (any case), or a name without an
 * extension whose content starts like DICOM (DICOMDIR index files excluded). */
int movl_image_is_listed(const char *path, const char *name);

/* Decodes every frame the options ask for into a new array *frames of *n
 * images (free with movl_image_frames_free). PNG and JPEG have one frame.
 * Bad or unsupported files: MOVL_ERR_INPUT, one line naming the file. */
int movl_image_read_frames(const char *path, const movl_image_read_opts *o, movl_image **frames, int *n, char *err);
void movl_image_frames_free(movl_image *frames, int n);

/* The first frame only (predict, classify, explain). */
int movl_image_read(const char *path, const movl_image_read_opts *o, movl_image *out, char *err);

/* jpeg_read.c: a baseline or progressive JPEG, grey or YCbCr/RGB, with its
 * EXIF orientation applied; CMYK/YCCK and truncated files are refused. */
int movl_image_load_jpeg(const char *path, movl_image *out, char *err);

#endif
