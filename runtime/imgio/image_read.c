/* Format detection and the one entry point over the PNG, JPEG and DICOM readers. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/common.h"
#include "imgio/dicom_decode.h"
#include "imgio/dicom_window.h"
#include "imgio/image_read.h"

movl_image_read_opts movl_image_read_default_opts(void)
{
    movl_image_read_opts o = {MOVL_WINDOW_FILE, 0, 0, 0};
    return o;
}

int movl_image_parse_window(const char *text, movl_image_read_opts *o, char *err)
{
    if (!strcmp(text, "file")) {
        o->window = MOVL_WINDOW_FILE;
        return 0;
    }
    if (!strcmp(text, "minmax")) {
        o->window = MOVL_WINDOW_MINMAX;
        return 0;
    }
    char *end;
    double c = strtod(text, &end);
    if (end != text && *end == ',') {
        const char *w_text = end + 1;
        double w = strtod(w_text, &end);
        if (end != w_text && *end == 0 && w > 0 && c == c) {
            o->window = MOVL_WINDOW_FIXED;
            o->center = c;
            o->width = w;
            return 0;
        }
    }
    movl_set_error(err, "'%s' is not a window (expected file, minmax or CENTER,WIDTH with WIDTH > 0, e.g. 40,400)",
                   text);
    return -1;
}

static int has_ext(const char *name, const char *ext)
{
    size_t n = strlen(name), e = strlen(ext);
    return n > e && strcasecmp(name + n - e, ext) == 0;
}

/* The first 132 bytes' verdict; 0 when none of the signatures is there. */
static int sniff(const char *path)
{
    unsigned char b[132];
    FILE *f = fopen(path, "rb");
    if (!f)
        return MOVL_IMG_UNKNOWN;
    size_t n = fread(b, 1, sizeof b, f);
    fclose(f);
    if (n >= 8 && !memcmp(b, "\x89PNG\r\n\x1a\n", 8))
        return MOVL_IMG_PNG;
    if (n >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF)
        return MOVL_IMG_JPEG;
    if (n >= 132 && !memcmp(b + 128, "DICM", 4))
        return MOVL_IMG_DICOM;
    return MOVL_IMG_UNKNOWN;
}

int movl_image_format(const char *path)
{
    int kind = sniff(path);
    if (kind == MOVL_IMG_UNKNOWN) {
        const char *base = strrchr(path, '/');
        base = base ? base + 1 : path;
        if (has_ext(base, ".dcm") || has_ext(base, ".dicom"))
            kind = MOVL_IMG_DICOM;
    }
    return kind;
}

int movl_image_is_listed(const char *path, const char *name)
{
    static const char *const exts[] = {".png", ".jpg", ".jpeg", ".dcm", ".dicom"};
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++)
        if (has_ext(name, exts[i]))
            return 1;
    if (strchr(name, '.') || !strcasecmp(name, "DICOMDIR"))
        return 0;
    return sniff(path) == MOVL_IMG_DICOM;
}

void movl_image_frames_free(movl_image *frames, int n)
{
    for (int i = 0; frames && i < n; i++)
        movl_image_free(&frames[i]);
    free(frames);
}

static int read_dicom(const char *path, const movl_image_read_opts *o, movl_image **frames, int *n, char *err)
{
    movl_dicom_pixels p;
    int rc = movl_dicom_decode(path, o->all_frames, &p, err);
    if (rc != MOVL_OK)
        return rc;
    movl_image *v = calloc((size_t)p.frames, sizeof *v);
    if (!v) {
        movl_dicom_free(&p);
        movl_set_error(err, "%s: out of memory for %d frames", path, p.frames);
        return MOVL_ERR_RUN;
    }
    for (int f = 0; f < p.frames && rc == MOVL_OK; f++)
        if ((rc = movl_dicom_frame_image(&p, f, o, &v[f], err)) != MOVL_OK) {
            char inner[MOVL_ERRLEN];
            snprintf(inner, sizeof inner, "%s", err);
            movl_set_error(err, "%s: %s", path, inner);
        }
    int count = p.frames;
    movl_dicom_free(&p);
    if (rc != MOVL_OK) {
        movl_image_frames_free(v, count);
        return rc;
    }
    *frames = v;
    *n = count;
    return MOVL_OK;
}

int movl_image_read_frames(const char *path, const movl_image_read_opts *o, movl_image **frames, int *n, char *err)
{
    movl_image_read_opts defaults = movl_image_read_default_opts();
    if (!o)
        o = &defaults;
    *frames = NULL;
    *n = 0;
    int kind = movl_image_format(path);
    if (kind == MOVL_IMG_DICOM)
        return read_dicom(path, o, frames, n, err);
    if (kind == MOVL_IMG_UNKNOWN) {
        FILE *f = fopen(path, "rb");
        if (!f) {
            movl_set_error(err, "%s: cannot open image (%s)", path, strerror(errno));
            return MOVL_ERR_INPUT;
        }
        fclose(f);
        movl_set_error(err, "%s: not a PNG, JPEG or DICOM file (its first bytes match none of them)", path);
        return MOVL_ERR_INPUT;
    }
    movl_image *v = calloc(1, sizeof *v);
    if (!v) {
        movl_set_error(err, "%s: out of memory", path);
        return MOVL_ERR_RUN;
    }
    int rc = kind == MOVL_IMG_PNG ? movl_image_load_png(path, v, err) : movl_image_load_jpeg(path, v, err);
    if (rc != MOVL_OK) {
        free(v);
        return rc;
    }
    *frames = v;
    *n = 1;
    return MOVL_OK;
}

int movl_image_read(const char *path, const movl_image_read_opts *o, movl_image *out, char *err)
{
    movl_image_read_opts first = o ? *o : movl_image_read_default_opts();
    first.all_frames = 0;
    movl_image *frames;
    int n, rc = movl_image_read_frames(path, &first, &frames, &n, err);
    if (rc != MOVL_OK)
        return rc;
    *out = frames[0];
    free(frames);
    return MOVL_OK;
}
