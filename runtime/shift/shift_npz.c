/* `movl shift`'s file side: a MedMNIST-style npz in, the same archive out
 * with every SPLIT_images array corrupted. Members keep their names, order,
 * compression and times, arrays their .npy headers (dtype and shape), so
 * anything that read the original reads the copy. The archive is built in
 * memory and written through core/file_io (temporary name, rename). */
#include <stdlib.h>
#include <string.h>
#include <zip.h>

#include "core/common.h"
#include "core/file_io.h"
#include "core/npy.h"
#include "shift/shift.h"

/* train_images.npy -> MOVL_SPLIT_TRAIN, ...; -1 for other members. */
static int images_split(const char *name)
{
    for (int s = 0; s < MOVL_NSPLITS; s++) {
        char want[64];
        snprintf(want, sizeof want, "%s_images.npy", movl_split_names[s]);
        if (!strcmp(name, want))
            return s;
    }
    return -1;
}

/* Corrupts the uint8 (N, H, W[, C]) array in the .npy bytes m[0..size). */
static int corrupt_array(unsigned char *m, size_t size, const char *path, const char *name, int split, int corruption,
                         int severity, movl_modality modality, uint64_t seed, char *err)
{
    char why[200], shape[128];
    size_t prelude, dict_len;
    movl_npy h;
    if (movl_npy_parse_prelude(m, size, &prelude, &dict_len, why, sizeof why) != 0 ||
        (prelude + dict_len > size && snprintf(why, sizeof why, "truncated .npy header") > 0) ||
        movl_npy_parse_dict((const char *)m + prelude, dict_len, &h, why, sizeof why) != 0) {
        movl_set_error(err, "%s: member '%s': %s", path, name, why);
        return MOVL_ERR_INPUT;
    }
    movl_npy_shape_str(&h, shape, sizeof shape);
    int c = h.ndim == 3 ? 1 : h.ndim == 4 ? (int)h.shape[3] : 0;
    if (strcmp(h.descr, "|u1") || h.fortran_order || (c != 1 && c != 3) || h.shape[1] < 1 || h.shape[2] < 1 ||
        h.shape[1] > 16384 || h.shape[2] > 16384) {
        movl_set_error(err, "%s: member '%s': dtype '%s' shape %s is not supported (expected uint8 (N, H, W) or (N, H, "
                            "W, 3) in C order)",
                       path, name, h.descr, shape);
        return MOVL_ERR_INPUT;
    }
    size_t per = (size_t)h.shape[1] * (size_t)h.shape[2] * (size_t)c, off = prelude + dict_len;
    if (h.shape[0] < 0 || (size - off) / per < (size_t)h.shape[0] || size - off != per * (size_t)h.shape[0]) {
        movl_set_error(err, "%s: member '%s': shape %s needs %zu bytes of data, the member has %zu", path, name, shape,
                       per * (size_t)h.shape[0], size - off);
        return MOVL_ERR_INPUT;
    }
    for (int64_t i = 0; i < h.shape[0]; i++) {
        movl_shift_image img = {(int)h.shape[2], (int)h.shape[1], c, m + off + (size_t)i * per, NULL};
        int rc = movl_shift_apply(&img, corruption, severity, modality,
                                  movl_shift_image_seed(seed, split, corruption, severity, i), err);
        if (rc)
            return rc;
    }
    return MOVL_OK;
}

/* Reads member i whole into a malloc'd buffer. */
static int read_member(zip_t *za, zip_uint64_t i, const zip_stat_t *st, const char *path, unsigned char **out,
                       char *err)
{
    *out = malloc(st->size ? st->size : 1);
    zip_file_t *zf = *out ? zip_fopen_index(za, i, 0) : NULL;
    zip_int64_t got = zf ? zip_fread(zf, *out, st->size) : -1;
    if (zf)
        zip_fclose(zf);
    if (got < 0 || (zip_uint64_t)got != st->size) {
        int oom = !*out;
        movl_set_error(err, "%s: member '%s' cannot be read (%s)", path, st->name, oom ? "out of memory" : zip_strerror(za));
        free(*out);
        *out = NULL;
        return oom ? MOVL_ERR_RUN : MOVL_ERR_INPUT;
    }
    return MOVL_OK;
}

int movl_shift_npz(const char *in_path, const char *out_path, int corruption, int severity, movl_modality modality,
                   uint64_t seed, char *err)
{
    int code = 0;
    zip_t *za = zip_open(in_path, ZIP_RDONLY | ZIP_CHECKCONS, &code);
    if (!za) {
        zip_error_t ze;
        zip_error_init_with_code(&ze, code);
        movl_set_error(err, "%s: cannot open as an .npz (zip) archive (%s)", in_path, zip_error_strerror(&ze));
        zip_error_fini(&ze);
        return MOVL_ERR_INPUT;
    }
    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t *buf = zip_source_buffer_create(NULL, 0, 0, &ze);
    zip_t *zo = buf ? zip_open_from_source(buf, ZIP_TRUNCATE, &ze) : NULL;
    int rc = zo ? MOVL_OK : MOVL_ERR_RUN, images = 0;
    if (!zo)
        movl_set_error(err, "%s: cannot start an archive in memory (%s)", out_path, zip_error_strerror(&ze));
    if (zo)
        zip_source_keep(buf); /* read it back after zip_close */
    else if (buf)
        zip_source_free(buf), buf = NULL;
    zip_int64_t n = zip_get_num_entries(za, 0);
    for (zip_int64_t i = 0; rc == MOVL_OK && i < n; i++) {
        zip_stat_t st;
        unsigned char *data = NULL;
        if (zip_stat_index(za, (zip_uint64_t)i, 0, &st) != 0) {
            movl_set_error(err, "%s: member %lld cannot be read (%s)", in_path, (long long)i, zip_strerror(za));
            rc = MOVL_ERR_INPUT;
            break;
        }
        if ((rc = read_member(za, (zip_uint64_t)i, &st, in_path, &data, err)))
            break;
        int split = images_split(st.name);
        if (split >= 0) {
            images++;
            rc = corrupt_array(data, st.size, in_path, st.name, split, corruption, severity, modality, seed, err);
        }
        zip_source_t *ms = rc == MOVL_OK ? zip_source_buffer(zo, data, st.size, 1) : NULL;
        zip_int64_t at = ms ? zip_file_add(zo, st.name, ms, ZIP_FL_ENC_GUESS) : -1;
        if (rc == MOVL_OK && at < 0) {
            movl_set_error(err, "%s: cannot add member '%s' (%s)", out_path, st.name, zip_strerror(zo));
            if (ms)
                zip_source_free(ms);
            else
                free(data);
            rc = MOVL_ERR_RUN;
        } else if (rc != MOVL_OK) {
            free(data);
        } else {
            zip_set_file_compression(zo, (zip_uint64_t)at, st.comp_method == ZIP_CM_STORE ? ZIP_CM_STORE : ZIP_CM_DEFLATE,
                                     0);
            if (st.valid & ZIP_STAT_MTIME)
                zip_file_set_mtime(zo, (zip_uint64_t)at, st.mtime, 0);
        }
    }
    zip_discard(za);
    if (rc == MOVL_OK && !images) {
        movl_set_error(err, "%s: no train_images, val_images or test_images member (expected a MedMNIST-style .npz)",
                       in_path);
        rc = MOVL_ERR_INPUT;
    }
    if (rc != MOVL_OK) {
        if (zo)
            zip_discard(zo);
        if (buf)
            zip_source_free(buf);
        return rc;
    }
    if (zip_close(zo) != 0) {
        movl_set_error(err, "%s: cannot build the archive (%s)", out_path, zip_strerror(zo));
        zip_discard(zo);
        zip_source_free(buf);
        return MOVL_ERR_RUN;
    }
    zip_stat_t bst;
    unsigned char *bytes = NULL;
    rc = MOVL_ERR_RUN;
    if (zip_source_stat(buf, &bst) == 0 && zip_source_open(buf) == 0) {
        bytes = malloc(bst.size ? bst.size : 1);
        if (bytes && zip_source_read(buf, bytes, bst.size) == (zip_int64_t)bst.size)
            rc = MOVL_OK;
        zip_source_close(buf);
    }
    if (rc == MOVL_OK)
        rc = movl_write_file(out_path, bytes, bst.size, err);
    else
        movl_set_error(err, "%s: cannot read back the archive built in memory", out_path);
    free(bytes);
    zip_source_free(buf);
    return rc;
}
