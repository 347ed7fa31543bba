/* Test helper for tests/imageio/imageio_test.py: writes what movl's image
 * readers make of a file as a .npy, so Python can compare it with pydicom and
 * Pillow.
 *   imgio_dump raw FILE OUT.npy             DICOM stored values, float64 (frames, h, w, spp);
 *                                           prints the decode's attributes as one JSON line
 *   imgio_dump image FILE OUT.npy [WINDOW] [all]
 *                                           display values in [0, 1], float32 (frames, h, w, 3);
 *                                           WINDOW: file (default), minmax or CENTER,WIDTH
 * Errors: the reader's one-line message on stderr and its exit code. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "imgio/dicom_decode.h"
#include "imgio/image_read.h"

static int write_npy(const char *path, const char *descr, const int *shape, int ndim, const void *data, size_t bytes)
{
    char dims[128] = "", header[256];
    for (int i = 0; i < ndim; i++)
        snprintf(dims + strlen(dims), sizeof dims - strlen(dims), "%d,%s", shape[i], i + 1 < ndim ? " " : "");
    int n = snprintf(header, sizeof header, "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", descr, dims);
    int pad = 64 - (10 + n + 1) % 64;
    FILE *f = fopen(path, "wb");
    if (!f)
        return 1;
    unsigned short len = (unsigned short)(n + pad + 1);
    fwrite("\x93NUMPY\x01\x00", 1, 8, f);
    fputc(len & 0xff, f);
    fputc(len >> 8, f);
    fwrite(header, 1, (size_t)n, f);
    for (int i = 0; i < pad; i++)
        fputc(' ', f);
    fputc('\n', f);
    fwrite(data, 1, bytes, f);
    return fclose(f) != 0;
}

int main(int argc, char **argv)
{
    char err[MOVL_ERRLEN] = "";
    if (argc < 4) {
        fprintf(stderr, "usage: imgio_dump raw|image FILE OUT.npy [WINDOW] [all]\n");
        return 2;
    }
    if (!strcmp(argv[1], "raw")) {
        movl_dicom_pixels p;
        int rc = movl_dicom_decode(argv[2], 1, &p, err);
        if (rc != MOVL_OK) {
            fprintf(stderr, "%s\n", err);
            return rc;
        }
        int shape[4] = {p.frames, p.h, p.w, p.spp};
        write_npy(argv[3], "<f8", shape, 4, p.v, sizeof(double) * (size_t)p.frames * p.h * p.w * p.spp);
        printf("{\"frames\": %d, \"spp\": %d, \"monochrome1\": %d, \"bits_stored\": %d, \"signed\": %d, "
               "\"slope\": %.17g, \"intercept\": %.17g, \"has_window\": %d, \"center\": %.17g, \"width\": %.17g, "
               "\"voi_function\": %d, \"photometric\": \"%s\"}\n",
               p.frames, p.spp, p.monochrome1, p.bits_stored, p.is_signed, p.slope, p.intercept, p.has_window,
               p.center, p.width, p.voi_function, p.photometric);
        movl_dicom_free(&p);
        return 0;
    }
    movl_image_read_opts o = movl_image_read_default_opts();
    if (argc > 4 && movl_image_parse_window(argv[4], &o, err) != 0) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }
    o.all_frames = argc > 5 && !strcmp(argv[5], "all");
    movl_image *frames;
    int n, rc = movl_image_read_frames(argv[2], &o, &frames, &n, err);
    if (rc != MOVL_OK) {
        fprintf(stderr, "%s\n", err);
        return rc;
    }
    size_t per = 3 * (size_t)frames[0].w * (size_t)frames[0].h;
    float *all = malloc(sizeof(float) * per * (size_t)n);
    for (int i = 0; i < n; i++)
        memcpy(all + per * (size_t)i, frames[i].px, sizeof(float) * per);
    int shape[4] = {n, frames[0].h, frames[0].w, 3};
    write_npy(argv[3], "<f4", shape, 4, all, sizeof(float) * per * (size_t)n);
    free(all);
    movl_image_frames_free(frames, n);
    return 0;
}
