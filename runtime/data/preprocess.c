/* Batch preprocessing (see preprocess.h). The bilinear resize is done in two
 * separable passes with precomputed tables: first along x for the source rows
 * that are used, then along y while normalising into the output. Each output
 * value is computed as in movl_image_resize (top = a + (b - a) * fx, bottom
 * likewise, top + (bottom - top) * fy, in float) and normalised as in
 * movl_image_to_chw, so both paths give the same floats. The source
 * coordinate rule below mirrors src_coord() in image.c (private there). */
#include "data/preprocess.h"

#include <stdlib.h>
#include <string.h>

#include "core/common.h"

#define MAX_TABLES 8

/* Source taps of every destination index along one axis. */
typedef struct axis_table {
    int src, dst;
    int *i0, *i1;
    float *frac;
} axis_table;

struct movl_prep {
    int size, inner, target, offset; /* target: side of the resized image; offset: its top-left in the output */
    float mean[3], std[3], fill[3];
    axis_table tables[MAX_TABLES];
    int ntables, evict;
    float lut[256]; /* q / 255.0f, as the PNG decoder computes it */
    float *planes, *hpass, *row;
    size_t planes_cap, hpass_cap;
    unsigned char *needed;
    size_t needed_cap;
};

static int fill_table(axis_table *t, int src, int dst)
{
    t->i0 = malloc(sizeof(int) * (size_t)dst);
    t->i1 = malloc(sizeof(int) * (size_t)dst);
    t->frac = malloc(sizeof(float) * (size_t)dst);
    if (!t->i0 || !t->i1 || !t->frac)
        return -1;
    t->src = src;
    t->dst = dst;
    double scale = (double)src / dst;
    for (int i = 0; i < dst; i++) {
        double s = (i + 0.5) * scale - 0.5; /* half-pixel centres, clamped at the start as PyTorch does */
        if (s < 0)
            s = 0;
        int a = (int)s;
        if (a > src - 1)
            a = src - 1;
        t->i0[i] = a;
        t->i1[i] = a + 1 < src ? a + 1 : src - 1;
        t->frac[i] = (float)(s - a);
    }
    return 0;
}

static void free_table(axis_table *t)
{
    free(t->i0);
    free(t->i1);
    free(t->frac);
    memset(t, 0, sizeof *t);
}

static const axis_table *get_table(movl_prep *p, int src, int dst)
{
    for (int i = 0; i < p->ntables; i++)
        if (p->tables[i].src == src && p->tables[i].dst == dst)
            return &p->tables[i];
    axis_table *t;
    if (p->ntables < MAX_TABLES) {
        t = &p->tables[p->ntables++];
    } else {
        t = &p->tables[p->evict];
        p->evict = (p->evict + 1) % MAX_TABLES;
        free_table(t);
    }
    if (fill_table(t, src, dst) != 0) {
        free_table(t); /* stays as an empty slot that never matches (src 0) */
        return NULL;
    }
    return t;
}

static int grow(void **buf, size_t *cap, size_t bytes)
{
    if (bytes <= *cap)
        return 0;
    void *b = realloc(*buf, bytes);
    if (!b)
        return -1;
    *buf = b;
    *cap = bytes;
    return 0;
}

int movl_prep_create(int size, int inner, const float mean[3], const float std[3], movl_prep **out, char *err)
{
    *out = NULL;
    if (size < 1 || size > 16384 || inner < 0 || inner > size) {
        movl_set_error(err, "preprocess: size %d / inner size %d invalid (expected 1 <= inner <= size, or inner 0)",
                       size, inner);
        return MOVL_ERR_INPUT;
    }
    for (int c = 0; c < 3; c++)
        if (!(std[c] > 0)) {
            movl_set_error(err, "preprocess: std[%d] = %g must be positive", c, std[c]);
            return MOVL_ERR_INPUT;
        }
    movl_prep *p = calloc(1, sizeof *p);
    if (!p || !(p->row = malloc(sizeof(float) * (size_t)size))) {
        free(p);
        movl_set_error(err, "preprocess: out of memory");
        return MOVL_ERR_RUN;
    }
    p->size = size;
    p->inner = inner;
    p->target = inner > 0 ? inner : size;
    p->offset = (size - p->target) / 2;
    for (int c = 0; c < 3; c++) {
        p->mean[c] = mean[c];
        p->std[c] = std[c];
        p->fill[c] = (0.0f - mean[c]) / std[c];
    }
    for (int q = 0; q < 256; q++)
        p->lut[q] = q / 255.0f;
    *out = p;
    return MOVL_OK;
}

void movl_prep_free(movl_prep *p)
{
    if (!p)
        return;
    for (int i = 0; i < p->ntables; i++)
        free_table(&p->tables[i]);
    free(p->planes);
    free(p->hpass);
    free(p->row);
    free(p->needed);
    free(p);
}

/* planes: nc planes of h x w floats -> out[3][size][size]. */
static int resize_planes(movl_prep *p, int nc, int w, int h, float *out, char *err)
{
    int T = p->target, S = p->size;
    const axis_table *tx = get_table(p, w, T), *ty = tx ? get_table(p, h, T) : NULL;
    tx = ty ? get_table(p, w, T) : NULL; /* the second lookup may have evicted the first */
    if (!tx || !ty || grow((void **)&p->hpass, &p->hpass_cap, sizeof(float) * (size_t)nc * (size_t)h * (size_t)T) ||
        grow((void **)&p->needed, &p->needed_cap, (size_t)h)) {
        movl_set_error(err, "preprocess: out of memory for a %dx%d image", w, h);
        return MOVL_ERR_RUN;
    }
    /* pass 1, along x, only for the rows the y taps read */
    memset(p->needed, 0, (size_t)h);
    for (int y = 0; y < T; y++)
        p->needed[ty->i0[y]] = p->needed[ty->i1[y]] = 1;
    for (int c = 0; c < nc; c++)
        for (int y = 0; y < h; y++) {
            if (!p->needed[y])
                continue;
            const float *src = p->planes + ((size_t)c * h + y) * (size_t)w;
            float *dst = p->hpass + ((size_t)c * h + y) * (size_t)T;
            for (int x = 0; x < T; x++) {
                float a = src[tx->i0[x]], b = src[tx->i1[x]];
                dst[x] = a + (b - a) * tx->frac[x];
            }
        }
    /* pass 2, along y, normalising into every output channel fed by plane c */
    size_t plane = (size_t)S * S;
    for (int c = 0; c < nc; c++)
        for (int y = 0; y < T; y++) {
            const float *top = p->hpass + ((size_t)c * h + ty->i0[y]) * (size_t)T;
            const float *bot = p->hpass + ((size_t)c * h + ty->i1[y]) * (size_t)T;
            float fy = ty->frac[y], *restrict row = p->row;
            for (int x = 0; x < T; x++)
                row[x] = top[x] + (bot[x] - top[x]) * fy;
            for (int k = nc == 1 ? 0 : c; k < (nc == 1 ? 3 : c + 1); k++) {
                float *restrict o = out + k * plane + (size_t)(p->offset + y) * S + p->offset;
                float m = p->mean[k], sd = p->std[k];
                for (int x = 0; x < T; x++)
                    o[x] = (row[x] - m) / sd;
            }
        }
    /* border of the shrink layout */
    if (T < S)
        for (int k = 0; k < 3; k++) {
            float *o = out + k * plane, v = p->fill[k];
            for (int y = 0; y < S; y++) {
                int inside = y >= p->offset && y < p->offset + T;
                for (int x = 0; x < S; x++)
                    if (!inside || x < p->offset || x >= p->offset + T)
                        o[(size_t)y * S + x] = v;
            }
        }
    return MOVL_OK;
}

int movl_prep_batch(movl_prep *p, const movl_dataset *ds, int split, const int *idx, int count, float *out,
                    char *err)
{
    if (split < 0 || split >= MOVL_NSPLITS) {
        movl_set_error(err, "preprocess: no split %d", split);
        return MOVL_ERR_INPUT;
    }
    const movl_split *sp = &ds->split[split];
    int nc = ds->channels;
    size_t per_image = 3 * (size_t)p->size * (size_t)p->size;
    for (int b = 0; b < count; b++) {
        if (idx[b] < 0 || idx[b] >= sp->n) {
            movl_set_error(err, "preprocess: sample %d is outside split %s (%d samples)", idx[b],
                           movl_split_names[split], sp->n);
            return MOVL_ERR_INPUT;
        }
        const movl_sample *x = &sp->samples[idx[b]];
        size_t npx = (size_t)x->w * (size_t)x->h;
        if (grow((void **)&p->planes, &p->planes_cap, sizeof(float) * (size_t)nc * npx)) {
            movl_set_error(err, "preprocess: out of memory for a %dx%d image", x->w, x->h);
            return MOVL_ERR_RUN;
        }
        /* interleaved storage -> float planes */
        for (int c = 0; c < nc; c++) {
            float *dst = p->planes + (size_t)c * npx;
            if (ds->pixel_type == MOVL_PIX_U8) {
                const unsigned char *src = sp->u8 + x->offset + c;
                for (size_t i = 0; i < npx; i++)
                    dst[i] = p->lut[src[i * (size_t)nc]];
            } else {
                const float *src = sp->f32 + x->offset + c;
                for (size_t i = 0; i < npx; i++)
                    dst[i] = src[i * (size_t)nc];
            }
        }
        int rc = resize_planes(p, nc, x->w, x->h, out + (size_t)b * per_image, err);
        if (rc != MOVL_OK)
            return rc;
    }
    return MOVL_OK;
}

int movl_prep_image(movl_prep *p, const movl_image *img, float *out, char *err)
{
    size_t npx = (size_t)img->w * (size_t)img->h;
    if (img->w < 1 || img->h < 1 || grow((void **)&p->planes, &p->planes_cap, sizeof(float) * 3 * npx)) {
        movl_set_error(err, "preprocess: cannot take a %dx%d image", img->w, img->h);
        return img->w < 1 || img->h < 1 ? MOVL_ERR_INPUT : MOVL_ERR_RUN;
    }
    for (int c = 0; c < 3; c++)
        for (size_t i = 0; i < npx; i++)
            p->planes[(size_t)c * npx + i] = img->px[i * 3 + c];
    return resize_planes(p, 3, img->w, img->h, out, err);
}
