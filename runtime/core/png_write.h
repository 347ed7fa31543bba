/* Writing 8-bit RGB PNG files (the learned prompt, plots) through libpng,
 * to a temporary name that is renamed into place. */
#ifndef MOVL_PNG_WRITE_H
#define MOVL_PNG_WRITE_H

/* rgb holds h rows of w*3 bytes. */
int movl_png_write_rgb(const char *path, int w, int h, const unsigned char *rgb, char *err);

#endif
