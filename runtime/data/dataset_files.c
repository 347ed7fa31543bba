/* Datasets made of image files (class folders, CSV manifests): split
 * assignment, decoding through imgio (PNG, JPEG, DICOM; a multi-frame DICOM
 * read with all_frames gives one sample per frame, all in its file's split,
 * so frames of one study never straddle train and test), and packing. Images are
 * decoded to float RGB first; once all are loaded the pools shrink to one
 * channel if every image is grey, and to uint8 if every value is exactly an
 * 8-bit level (value == q / 255.0f), so 8-bit sources cost a byte per pixel
 * while 16-bit ones keep their precision. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "data/dataset.h"
#include "data/dataset_internal.h"
#include "imgio/image_read.h"

typedef struct pool {
    float *px;
    size_t len, cap; /* floats */
} pool;

static int pool_append(pool *p, const float *src, size_t n)
{
    if (p->len + n > p->cap) {
        size_t cap = p->cap ? p->cap : 1 << 16;
        while (cap < p->len + n)
            cap *= 2;
        float *grown = realloc(p->px, cap * sizeof(float));
        if (!grown)
            return -1;
        p->px = grown;
        p->cap = cap;
    }
    memcpy(p->px + p->len, src, n * sizeof(float));
    p->len += n;
    return 0;
}

static int is_grey(const float *px, size_t npx)
{
    for (size_t i = 0; i < npx; i++)
        if (px[3 * i] != px[3 * i + 1] || px[3 * i] != px[3 * i + 2])
            return 0;
    return 1;
}

static int is_8bit(const float *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!(v[i] >= 0 && v[i] <= 1))
            return 0;
        int q = (int)lrintf(v[i] * 255.0f);
        if ((float)q / 255.0f != v[i])
            return 0;
    }
    return 1;
}

/* The image's pixels into the pool as a new sample of sp (resized first when o asks). */
static int add_sample(movl_split *sp, int *cap, pool *p, movl_image *img, int label, const movl_dataset_opts *o,
                      int *grey, int *bit8, const char *path, char *err)
{
    if (o->resize_to > 0 && (img->w != o->resize_to || img->h != o->resize_to)) {
        movl_image small;
        movl_image_resize(img, o->resize_to, o->resize_to, &small);
        if (!small.px) {
            movl_set_error(err, "%s: out of memory resizing", path);
            return MOVL_ERR_RUN;
        }
        movl_image_free(img);
        *img = small;
    }
    size_t npx = (size_t)img->w * (size_t)img->h;
    if (sp->n == *cap) {
        int grown_cap = 2 * *cap + 16;
        movl_sample *grown = realloc(sp->samples, sizeof *grown * (size_t)grown_cap);
        if (!grown) {
            movl_set_error(err, "%s: out of memory after %d images", path, sp->n);
            return MOVL_ERR_RUN;
        }
        sp->samples = grown;
        *cap = grown_cap;
    }
    if (pool_append(p, img->px, 3 * npx) != 0) {
        movl_set_error(err, "%s: out of memory after %d images", path, sp->n);
        return MOVL_ERR_RUN;
    }
    *grey = *grey && is_grey(img->px, npx);
    *bit8 = *bit8 && is_8bit(img->px, 3 * npx);
    movl_sample *x = &sp->samples[sp->n++];
    x->label = label;
    x->w = img->w;
    x->h = img->h;
    x->offset = p->len - 3 * npx;
    return MOVL_OK;
}

/* Decodes the entries of split s into ds->split[s] (float RGB pool). */
static int load_split(movl_dataset *ds, int s, const movl_file_entry *e, int n, int count, const movl_dataset_opts *o,
                      int *grey, int *bit8, char *err)
{
    movl_split *sp = &ds->split[s];
    int cap = count;
    sp->samples = malloc(sizeof *sp->samples * ((size_t)cap + 1));
    if (!sp->samples) {
        movl_set_error(err, "%s: out of memory for %d samples", ds->source, count);
        return MOVL_ERR_RUN;
    }
    pool p = {0};
    int rc = MOVL_OK;
    for (int i = 0; i < n && rc == MOVL_OK; i++) {
        if (e[i].split != s)
            continue;
        movl_image *frames = NULL;
        int nf = 0;
        rc = movl_ds_check_readable(e[i].path, "image", err);
        if (rc == MOVL_OK)
            rc = movl_image_read_frames(e[i].path, &o->read, &frames, &nf, err);
        for (int f = 0; f < nf && rc == MOVL_OK; f++)
            rc = add_sample(sp, &cap, &p, &frames[f], e[i].label, o, grey, bit8, e[i].path, err);
        movl_image_frames_free(frames, nf);
        if (rc != MOVL_OK && e[i].line > 0 && err) {
            char inner[MOVL_ERRLEN];
            snprintf(inner, sizeof inner, "%s", err);
            movl_set_error(err, "%s:%d: %s", ds->source, e[i].line, inner);
        }
    }
    sp->f32 = p.px;
    return rc;
}

/* RGB -> grey in place (offsets divide by 3), then float -> uint8 if exact. */
static int pack_split(movl_dataset *ds, movl_split *sp, int grey, int bit8)
{
    size_t total = 0;
    for (int i = 0; i < sp->n; i++) {
        movl_sample *x = &sp->samples[i];
        size_t npx = (size_t)x->w * (size_t)x->h;
        if (grey) {
            for (size_t p = 0; p < npx; p++)
                sp->f32[total + p] = sp->f32[x->offset + 3 * p];
            x->offset = total;
            total += npx;
        } else {
            total += 3 * npx;
        }
    }
    if (bit8) {
        unsigned char *u8 = malloc(total + 1);
        if (!u8)
            return -1;
        for (size_t i = 0; i < total; i++)
            u8[i] = (unsigned char)lrintf(sp->f32[i] * 255.0f);
        free(sp->f32);
        sp->f32 = NULL;
        sp->u8 = u8;
    } else if (grey) {
        float *shrunk = realloc(sp->f32, total * sizeof(float) + 1);
        if (shrunk)
            sp->f32 = shrunk;
    }
    (void)ds;
    return 0;
}

int movl_ds_build_from_files(movl_dataset *ds, movl_file_entry *e, int n, int has_splits,
                            const movl_dataset_opts *o, char *err)
{
    if (!has_splits) {
        int *labels = calloc((size_t)n + 1, sizeof(int)), *split_of = calloc((size_t)n + 1, sizeof(int));
        if (!labels || !split_of) {
            free(labels);
            free(split_of);
            movl_set_error(err, "%s: out of memory", ds->source);
            return MOVL_ERR_RUN;
        }
        for (int i = 0; i < n; i++)
            labels[i] = e[i].label;
        movl_ds_assign_splits(labels, n, ds->num_classes, o, split_of);
        for (int i = 0; i < n; i++)
            e[i].split = split_of[i];
        free(labels);
        free(split_of);
    }
    int count[MOVL_NSPLITS] = {0};
    for (int i = 0; i < n; i++)
        count[e[i].split]++;
    if (count[MOVL_SPLIT_TRAIN] == 0) {
        movl_set_error(err, "%s: split 'train' is empty (%d images, none in train)", ds->source, n);
        return MOVL_ERR_INPUT;
    }
    const double frac[MOVL_NSPLITS] = {0, o->val_frac, o->test_frac};
    for (int s = MOVL_SPLIT_VAL; s <= MOVL_SPLIT_TEST && !has_splits; s++)
        if (frac[s] > 0 && count[s] == 0) {
            movl_set_error(err,
                           "%s: split '%s' is empty (%s_frac %g of %d images rounds to none in every class; "
                           "add images or set %s_frac to 0)",
                           ds->source, movl_split_names[s], movl_split_names[s], frac[s], n, movl_split_names[s]);
            return MOVL_ERR_INPUT;
        }
    int grey = 1, bit8 = 1;
    for (int s = 0; s < MOVL_NSPLITS; s++) {
        if (count[s] == 0)
            continue;
        int rc = load_split(ds, s, e, n, count[s], o, &grey, &bit8, err);
        if (rc != MOVL_OK)
            return rc;
    }
    ds->channels = grey ? 1 : 3;
    ds->pixel_type = bit8 ? MOVL_PIX_U8 : MOVL_PIX_F32;
    for (int s = 0; s < MOVL_NSPLITS; s++)
        if (count[s] && pack_split(ds, &ds->split[s], grey, bit8) != 0) {
            movl_set_error(err, "%s: out of memory packing images", ds->source);
            return MOVL_ERR_RUN;
        }
    return MOVL_OK;
}
