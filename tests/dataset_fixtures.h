/* Fixtures of the dataset tests, written in C so that every case runs
 * without Python: a temporary folder, PNG files written with libpng, .npy
 * arrays and .npz (zip) archives written with libzip (stored or deflated).
 * Header-only (static functions) because the two dataset tests share it. */
#ifndef MOVL_DATASET_FIXTURES_H
#define MOVL_DATASET_FIXTURES_H

#include <dirent.h>
#include <png.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

/* Not every test uses every fixture. */
#define FX_FN static __attribute__((unused))

/* mkdtemp'd folder; fx_path() joins names under it (static buffer ring). */
static char fx_root[64];

static const char *fx_path(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
FX_FN const char *fx_path(const char *fmt, ...)
{
    static char ring[8][512];
    static int next;
    char *buf = ring[next];
    next = (next + 1) % 8;
    int k = snprintf(buf, 512, "%s/", fx_root);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + k, 512 - (size_t)k, fmt, ap);
    va_end(ap);
    return buf;
}

FX_FN void fx_make_root(void)
{
    snprintf(fx_root, sizeof fx_root, "/tmp/movl_dataset_XXXXXX");
    if (!mkdtemp(fx_root)) {
        perror("mkdtemp");
        exit(1);
    }
}

FX_FN void fx_mkdir(const char *path)
{
    if (mkdir(path, 0755) != 0) {
        perror(path);
        exit(1);
    }
}

FX_FN void fx_remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *de;
        while (d && (de = readdir(d)) != NULL) {
            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                continue;
            char sub[1024];
            snprintf(sub, sizeof sub, "%s/%s", path, de->d_name);
            fx_remove_tree(sub);
        }
        if (d)
            closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

FX_FN void fx_write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

/* A PNG of w x h pixels; samples hold w*h*channels values (palette indices
 * for PNG_COLOR_TYPE_PALETTE), written big-endian for 16-bit. */
FX_FN void fx_write_png(const char *path, int w, int h, int color_type, int bit_depth, const uint16_t *samples,
                         const png_color *palette, int npal)
{
    int ch = color_type == PNG_COLOR_TYPE_GRAY || color_type == PNG_COLOR_TYPE_PALETTE ? 1
             : color_type == PNG_COLOR_TYPE_GRAY_ALPHA                                 ? 2
             : color_type == PNG_COLOR_TYPE_RGB                                        ? 3
                                                                                       : 4;
    FILE *f = fopen(path, "wb");
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    if (!f || !png || !info || setjmp(png_jmpbuf(png))) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, bit_depth, color_type, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (palette)
        png_set_PLTE(png, info, palette, npal);
    png_write_info(png, info);
    int bpp = bit_depth == 16 ? 2 : 1;
    unsigned char *row = malloc((size_t)w * (size_t)ch * 2 + 1);
    for (int y = 0; y < h; y++) {
        for (int i = 0; i < w * ch; i++) {
            uint16_t v = samples[(size_t)y * w * ch + i];
            if (bpp == 2) {
                row[2 * i] = (unsigned char)(v >> 8);
                row[2 * i + 1] = (unsigned char)(v & 0xff);
            } else {
                row[i] = (unsigned char)v;
            }
        }
        png_write_row(png, row);
    }
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    free(row);
    fclose(f);
}

/* A w x h 8-bit grey PNG whose pixel (0, 0) is `id` and the rest a pattern. */
FX_FN void fx_write_id_png(const char *path, int w, int h, int id)
{
    uint16_t *s = malloc(sizeof(uint16_t) * (size_t)w * (size_t)h);
    for (int i = 0; i < w * h; i++)
        s[i] = (uint16_t)(i == 0 ? id : (id * 7 + i * 13) % 256);
    fx_write_png(path, w, h, PNG_COLOR_TYPE_GRAY, 8, s, NULL, 0);
    free(s);
}

/* A .npy in memory: descr, shape, data (elem-sized values). */
typedef struct fx_buf {
    unsigned char *p;
    size_t n;
} fx_buf;

FX_FN fx_buf fx_npy(const char *descr, const char *fortran, const char *shape, const void *data, size_t bytes)
{
    char dict[256];
    int k = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }", descr, fortran, shape);
    /* pad with spaces so that 10 + len is a multiple of 64, then '\n' */
    size_t len = (size_t)k + 1;
    while ((10 + len) % 64)
        len++;
    fx_buf b;
    b.n = 10 + len + bytes;
    b.p = malloc(b.n + 1);
    memcpy(b.p, "\x93NUMPY\x01\x00", 8);
    b.p[8] = (unsigned char)(len & 0xff);
    b.p[9] = (unsigned char)(len >> 8);
    memset(b.p + 10, ' ', len);
    memcpy(b.p + 10, dict, (size_t)k);
    b.p[10 + len - 1] = '\n';
    if (bytes)
        memcpy(b.p + 10 + len, data, bytes);
    return b;
}

/* Writes an archive of members (name, buffer); store = 1: uncompressed.
 * The buffers are freed. */
typedef struct fx_member {
    const char *name;
    fx_buf data;
} fx_member;

FX_FN void fx_write_zip(const char *path, fx_member *m, int n, int store)
{
    int code;
    unlink(path);
    zip_t *za = zip_open(path, ZIP_CREATE | ZIP_EXCL, &code);
    if (!za) {
        fprintf(stderr, "zip_open %s failed (%d)\n", path, code);
        exit(1);
    }
    for (int i = 0; i < n; i++) {
        zip_source_t *src = zip_source_buffer(za, m[i].data.p, m[i].data.n, 0);
        zip_int64_t idx = src ? zip_file_add(za, m[i].name, src, ZIP_FL_OVERWRITE) : -1;
        if (idx < 0 || zip_set_file_compression(za, (zip_uint64_t)idx, store ? ZIP_CM_STORE : ZIP_CM_DEFLATE, 0)) {
            fprintf(stderr, "zip add %s failed: %s\n", m[i].name, zip_strerror(za));
            exit(1);
        }
    }
    if (zip_close(za) != 0) {
        fprintf(stderr, "zip_close %s failed: %s\n", path, zip_strerror(za));
        exit(1);
    }
    for (int i = 0; i < n; i++)
        free(m[i].data.p);
}

/* Reads one member of an existing archive whole (NULL if missing). */
FX_FN fx_buf fx_read_member(const char *path, const char *name)
{
    fx_buf b = {NULL, 0};
    int code;
    zip_t *za = zip_open(path, ZIP_RDONLY, &code);
    zip_stat_t st;
    if (!za || zip_stat(za, name, 0, &st) != 0) {
        if (za)
            zip_discard(za);
        return b;
    }
    zip_file_t *zf = zip_fopen(za, name, 0);
    b.p = malloc(st.size + 1);
    b.n = zf ? (size_t)zip_fread(zf, b.p, st.size) : 0;
    if (zf)
        zip_fclose(zf);
    zip_discard(za);
    return b;
}

/* A small valid MedMNIST-like npz: n images of 4x4 per split (grey), labels
 * (N, 1) uint8 cycling over `classes`. Variants replace single members. */
FX_FN fx_buf fx_images(int n, int h, int w)
{
    unsigned char *px = malloc((size_t)n * h * w + 1);
    for (int i = 0; i < n * h * w; i++)
        px[i] = (unsigned char)(i * 31 + 7);
    char shape[64];
    snprintf(shape, sizeof shape, "(%d, %d, %d)", n, h, w);
    fx_buf b = fx_npy("|u1", "False", shape, px, (size_t)n * h * w);
    free(px);
    return b;
}

FX_FN fx_buf fx_labels(int n, int classes)
{
    unsigned char *lb = malloc((size_t)n + 1);
    for (int i = 0; i < n; i++)
        lb[i] = (unsigned char)(i % classes);
    char shape[64];
    snprintf(shape, sizeof shape, "(%d, 1)", n);
    fx_buf b = fx_npy("|u1", "False", shape, lb, (size_t)n);
    free(lb);
    return b;
}

#endif
