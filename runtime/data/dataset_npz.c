/* MedMNIST .npz loader (see dataset.h): a zip of six .npy arrays read
 * through libzip (stored or deflated members; libzip checks the CRC). The
 * image array's data becomes the split's uint8 pool as is. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>

#include "core/common.h"
#include "data/dataset.h"
#include "data/dataset_internal.h"
#include "core/npy.h"

#define KEY_LIST "train_images, train_labels, val_images, val_labels, test_images, test_labels"

typedef struct member {
    movl_npy h;
    unsigned char *data; /* h.data_offset bytes of header, then the array */
    size_t size;
} member;

static int read_exact(zip_file_t *zf, void *buf, size_t n, const char *path, const char *key, char *err)
{
    size_t got = 0;
    while (got < n) {
        zip_int64_t r = zip_fread(zf, (unsigned char *)buf + got, n - got);
        if (r < 0) {
            movl_set_error(err, "%s: key '%s': corrupt zip member (%s)", path, key, zip_file_strerror(zf));
            return MOVL_ERR_INPUT;
        }
        if (r == 0) {
            movl_set_error(err, "%s: key '%s': zip member ends after %zu of %zu bytes", path, key, got, n);
            return MOVL_ERR_INPUT;
        }
        got += (size_t)r;
    }
    return MOVL_OK;
}

/* Reads key.npy whole and parses its header. */
static int read_member(zip_t *za, const char *path, const char *key, member *m, char *err)
{
    memset(m, 0, sizeof *m);
    char name[64];
    snprintf(name, sizeof name, "%s.npy", key);
    zip_int64_t index = zip_name_locate(za, name, 0);
    if (index < 0) {
        movl_set_error(err, "%s: missing key '%s' (a MedMNIST .npz needs " KEY_LIST ")", path, key);
        return MOVL_ERR_INPUT;
    }
    zip_stat_t st;
    if (zip_stat_index(za, (zip_uint64_t)index, 0, &st) != 0 || !(st.valid & ZIP_STAT_SIZE)) {
        movl_set_error(err, "%s: key '%s': cannot stat zip member (%s)", path, key, zip_strerror(za));
        return MOVL_ERR_INPUT;
    }
    if (st.size < 10 || st.size > (zip_uint64_t)SIZE_MAX / 2) {
        movl_set_error(err, "%s: key '%s': member of %llu bytes is not a .npy array", path, key,
                       (unsigned long long)st.size);
        return MOVL_ERR_INPUT;
    }
    m->size = (size_t)st.size;
    m->data = malloc(m->size);
    if (!m->data) {
        movl_set_error(err, "%s: key '%s': out of memory for %zu bytes", path, key, m->size);
        return MOVL_ERR_RUN;
    }
    zip_file_t *zf = zip_fopen_index(za, (zip_uint64_t)index, 0);
    if (!zf) {
        movl_set_error(err, "%s: key '%s': cannot open zip member (%s)", path, key, zip_strerror(za));
        return MOVL_ERR_INPUT;
    }
    int rc = read_exact(zf, m->data, m->size, path, key, err);
    if (rc == MOVL_OK) {
        /* a member whose data passed the size but not the CRC shows it on the next read */
        unsigned char extra;
        zip_int64_t r = zip_fread(zf, &extra, 1);
        if (r != 0) {
            movl_set_error(err, "%s: key '%s': corrupt zip member (%s)", path, key,
                           r < 0 ? zip_file_strerror(zf) : "longer than its recorded size");
            rc = MOVL_ERR_INPUT;
        }
    }
    zip_fclose(zf);
    if (rc != MOVL_OK)
        return rc;
    char why[200];
    size_t prelude, dict_len;
    if (movl_npy_parse_prelude(m->data, m->size, &prelude, &dict_len, why, sizeof why) != 0 ||
        (prelude + dict_len > m->size && snprintf(why, sizeof why, "truncated .npy header") > 0) ||
        movl_npy_parse_dict((const char *)m->data + prelude, dict_len, &m->h, why, sizeof why) != 0) {
        movl_set_error(err, "%s: key '%s': %s", path, key, why);
        return MOVL_ERR_INPUT;
    }
    m->h.data_offset = prelude + dict_len;
    if (m->h.fortran_order) {
        movl_set_error(err, "%s: key '%s': fortran_order True is not supported (expected a C-order array)", path, key);
        return MOVL_ERR_INPUT;
    }
    return MOVL_OK;
}

/* The data must be exactly count * elem bytes after the header. */
static int check_data_size(const member *m, int elem, const char *path, const char *key, char *err)
{
    int64_t count = movl_npy_count(&m->h);
    size_t have = m->size - m->h.data_offset;
    if (count < 0 || (uint64_t)count > SIZE_MAX / (uint64_t)elem || have != (size_t)count * (size_t)elem) {
        char shape[128];
        movl_npy_shape_str(&m->h, shape, sizeof shape);
        movl_set_error(err, "%s: key '%s': shape %s needs %lld bytes of data, the member has %zu", path, key, shape,
                       count < 0 ? -1LL : (long long)count * elem, have);
        return MOVL_ERR_INPUT;
    }
    return MOVL_OK;
}

static int64_t read_int(const unsigned char *p, int size, int is_signed)
{
    uint64_t u = 0;
    for (int b = 0; b < size; b++)
        u |= (uint64_t)p[b] << (8 * b);
    if (is_signed && size < 8 && (u >> (8 * size - 1)) & 1)
        u |= ~0ull << (8 * size); /* sign extension */
    return (int64_t)u;
}

static int load_split(zip_t *za, const char *path, int s, const movl_dataset_opts *o, movl_dataset *ds,
                      int64_t *max_label, char *err)
{
    const char *sn = movl_split_names[s];
    char ikey[32], lkey[32], shape[128];
    snprintf(ikey, sizeof ikey, "%s_images", sn);
    snprintf(lkey, sizeof lkey, "%s_labels", sn);
    member im, lb;
    int rc = read_member(za, path, ikey, &im, err);
    if (rc == MOVL_OK)
        rc = read_member(za, path, lkey, &lb, err);
    else
        lb.data = NULL;
    if (rc != MOVL_OK)
        goto done;

    /* images: uint8 (N, H, W) or (N, H, W, 1 | 3) */
    movl_npy_shape_str(&im.h, shape, sizeof shape);
    int isz, isigned;
    if (movl_npy_int_dtype(im.h.descr, &isz, &isigned) != 0 || isz != 1 || isigned) {
        movl_set_error(err, "%s: key '%s': dtype '%s' is not supported (expected uint8, '|u1')", path, ikey,
                       im.h.descr);
        rc = MOVL_ERR_INPUT;
        goto done;
    }
    int ch = im.h.ndim == 3 ? 1 : im.h.ndim == 4 ? (int)im.h.shape[3] : 0;
    if ((ch != 1 && ch != 3) || im.h.shape[1] < 1 || im.h.shape[1] > 16384 || im.h.shape[2] < 1 ||
        im.h.shape[2] > 16384 || im.h.shape[0] > INT_MAX) {
        movl_set_error(err, "%s: key '%s': shape %s is not supported (expected (N, H, W) or (N, H, W, 3))", path, ikey,
                       shape);
        rc = MOVL_ERR_INPUT;
        goto done;
    }
    if ((rc = check_data_size(&im, 1, path, ikey, err)) != MOVL_OK)
        goto done;
    int n = (int)im.h.shape[0], h = (int)im.h.shape[1], w = (int)im.h.shape[2];
    if (n == 0) {
        movl_set_error(err, "%s: split '%s' is empty (%s has shape %s)", path, sn, ikey, shape);
        rc = MOVL_ERR_INPUT;
        goto done;
    }
    if (ds->channels && ch != ds->channels) {
        movl_set_error(err, "%s: key '%s': %d channel(s) but %s has %d", path, ikey, ch, "train_images", ds->channels);
        rc = MOVL_ERR_INPUT;
        goto done;
    }
    ds->channels = ch;

    /* labels: an integer dtype, (N,) or (N, 1) */
    movl_npy_shape_str(&lb.h, shape, sizeof shape);
    int lsz, lsigned;
    if (movl_npy_int_dtype(lb.h.descr, &lsz, &lsigned) != 0) {
        movl_set_error(err, "%s: key '%s': dtype '%s' is not supported (expected a little-endian integer type)", path,
                       lkey, lb.h.descr);
        rc = MOVL_ERR_INPUT;
        goto done;
    }
    if (lb.h.ndim == 2 && lb.h.shape[1] > 1) {
        movl_set_error(err, "%s: key '%s': multi-label labels of shape %s are not supported (expected (N,) or (N, 1))",
                       path, lkey, shape);
        rc = MOVL_ERR_INPUT;
        goto done;
    }
    if (!(lb.h.ndim == 1 || (lb.h.ndim == 2 && lb.h.shape[1] == 1))) {
        movl_set_error(err, "%s: key '%s': shape %s is not supported (expected (N,) or (N, 1))", path, lkey, shape);
        rc = MOVL_ERR_INPUT;
        goto done;
    }
    if ((rc = check_data_size(&lb, lsz, path, lkey, err)) != MOVL_OK)
        goto done;
    if (lb.h.shape[0] != n) {
        movl_set_error(err, "%s: %s has %d images but %s has %lld labels", path, ikey, n, lkey,
                       (long long)lb.h.shape[0]);
        rc = MOVL_ERR_INPUT;
        goto done;
    }

    movl_split *sp = &ds->split[s];
    sp->samples = malloc(sizeof *sp->samples * (size_t)n);
    if (!sp->samples) {
        movl_set_error(err, "%s: out of memory for %d samples", path, n);
        rc = MOVL_ERR_RUN;
        goto done;
    }
    const unsigned char *lp = lb.data + lb.h.data_offset;
    size_t per = (size_t)w * (size_t)h * (size_t)ch;
    for (int i = 0; i < n; i++) {
        int64_t v = read_int(lp + (size_t)i * (size_t)lsz, lsz, lsigned);
        if (v < 0 || v >= MOVL_MAX_CLASSES || (o->num_classes > 0 && v >= o->num_classes)) {
            if (o->num_classes > 0)
                movl_set_error(err, "%s: %s[%d] = %lld is outside the class range 0..%d (num_classes %d)", path, lkey,
                               i, (long long)v, o->num_classes - 1, o->num_classes);
            else
                movl_set_error(err, "%s: %s[%d] = %lld is not a valid class index (expected 0..%d)", path, lkey,
                               i, (long long)v, MOVL_MAX_CLASSES - 1);
            rc = MOVL_ERR_INPUT;
            goto done;
        }
        if (v > *max_label)
            *max_label = v;
        sp->samples[i].label = (int)v;
        sp->samples[i].w = w;
        sp->samples[i].h = h;
        sp->samples[i].offset = im.h.data_offset + (size_t)i * per;
    }
    /* the member buffer becomes the pool: offsets skip its .npy header */
    sp->u8 = im.data;
    im.data = NULL;
    sp->n = n;
done:
    free(im.data);
    free(lb.data);
    return rc;
}

int movl_dataset_load_npz(const char *path, const movl_dataset_opts *opts, movl_dataset *ds, char *err)
{
    memset(ds, 0, sizeof *ds);
    movl_dataset_opts o = opts ? *opts : movl_dataset_default_opts();
    int rc = movl_ds_check_readable(path, "dataset", err);
    if (rc != MOVL_OK)
        return rc;
    int code = 0;
    zip_t *za = zip_open(path, ZIP_RDONLY | ZIP_CHECKCONS, &code);
    if (!za) {
        zip_error_t ze;
        zip_error_init_with_code(&ze, code);
        movl_set_error(err, "%s: not a valid .npz (zip) archive (%s)", path, zip_error_strerror(&ze));
        zip_error_fini(&ze);
        return MOVL_ERR_INPUT;
    }
    ds->source = movl_ds_strdup(path);
    ds->pixel_type = MOVL_PIX_U8;
    int64_t max_label = -1;
    rc = ds->source ? MOVL_OK : MOVL_ERR_RUN;
    for (int s = 0; s < MOVL_NSPLITS && rc == MOVL_OK; s++)
        rc = load_split(za, path, s, &o, ds, &max_label, err);
    zip_discard(za);
    if (rc != MOVL_OK) {
        movl_dataset_free(ds);
        return rc;
    }
    ds->num_classes = o.num_classes > 0 ? o.num_classes : (int)max_label + 1;
    return MOVL_OK;
}
