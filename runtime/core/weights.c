/* Safetensors reader and writer (see weights.h). The reader validates the
 * whole header at open time, so that a later read can only fail if the file
 * changes underneath us; data is decoded little-endian byte by byte, which
 * keeps the code independent of the host byte order. */
#include "core/weights.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "core/common.h"
#include "core/file_io.h"

/* A header larger than this is not a weights file we want to parse. */
#define MAX_HEADER_BYTES (100u * 1024u * 1024u)
/* Largest integer a JSON number (a double) holds exactly. */
#define MAX_JSON_INT 9007199254740992.0
/* Chunk of raw bytes decoded at a time by the reader and writer. */
#define IO_CHUNK 65536

struct movl_weights {
    char *path;
    FILE *f;
    size_t count;
    movl_tensor_info *tensors; /* names owned (allocated with the struct) */
    size_t data_start;         /* absolute offset of the data block */
    size_t data_size;
    cJSON *metadata;           /* the "__metadata__" object, or NULL */
};

static const char *dtype_name(movl_dtype d)
{
    switch (d) {
    case MOVL_DTYPE_F32: return "F32";
    case MOVL_DTYPE_F16: return "F16";
    case MOVL_DTYPE_BF16: return "BF16";
    }
    return "?";
}

static size_t dtype_size(movl_dtype d) { return d == MOVL_DTYPE_F32 ? 4 : 2; }

static int parse_dtype(const char *s, movl_dtype *out)
{
    if (strcmp(s, "F32") == 0)
        *out = MOVL_DTYPE_F32;
    else if (strcmp(s, "F16") == 0)
        *out = MOVL_DTYPE_F16;
    else if (strcmp(s, "BF16") == 0)
        *out = MOVL_DTYPE_BF16;
    else
        return 0;
    return 1;
}

static uint32_t f32_bits(float x)
{
    uint32_t u;
    memcpy(&u, &x, 4);
    return u;
}

static float bits_f32(uint32_t u)
{
    float x;
    memcpy(&x, &u, 4);
    return x;
}

/* IEEE half -> single, exact for every input: subnormal halves become normal
 * singles, infinities stay infinite, NaN keeps sign and payload. */
static float f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t mant = h & 0x3ffu;
    if (exp == 0x1f)
        return bits_f32(sign | 0x7f800000u | (mant << 13));
    if (exp == 0) {
        if (mant == 0)
            return bits_f32(sign);
        /* subnormal: value mant * 2^-24; shift the leading 1 into the
         * implicit bit position and lower the exponent accordingly */
        int e = -14;
        while (!(mant & 0x400u)) {
            mant <<= 1;
            e--;
        }
        mant &= 0x3ffu;
        return bits_f32(sign | ((uint32_t)(e + 127) << 23) | (mant << 13));
    }
    return bits_f32(sign | ((exp - 15 + 127) << 23) | (mant << 13));
}

static float bf16_to_f32(uint16_t h) { return bits_f32((uint32_t)h << 16); }

/* "[2, 3, 4]" into buf (truncated if needed). */
static const char *shape_str(const int64_t *shape, int ndim, char *buf, size_t len)
{
    size_t pos = 0;
    pos += (size_t)snprintf(buf, len, "[");
    for (int i = 0; i < ndim && pos < len; i++)
        pos += (size_t)snprintf(buf + pos, len - pos, i ? ", %lld" : "%lld", (long long)shape[i]);
    if (pos < len)
        snprintf(buf + pos, len - pos, "]");
    return buf;
}

/* Copy of s for an error message: control characters (which cJSON accepts
 * inside strings) become '?', so the message stays on one line. */
static const char *printable(const char *s, char *buf, size_t len)
{
    size_t i = 0;
    for (; s[i] && i + 1 < len; i++)
        buf[i] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
    buf[i] = '\0';
    return buf;
}

static int has_control_chars(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 1;
    return 0;
}

/* A JSON number that is a non-negative integer exactly representable. */
static int json_size(const cJSON *v, size_t *out)
{
    if (!cJSON_IsNumber(v))
        return 0;
    double d = v->valuedouble;
    if (!(d >= 0.0 && d <= MAX_JSON_INT) || (double)(uint64_t)d != d)
        return 0;
    if ((uint64_t)d > (uint64_t)SIZE_MAX)
        return 0;
    *out = (size_t)(uint64_t)d;
    return 1;
}

static int mul_overflows(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > SIZE_MAX / a)
        return 1;
    *out = a * b;
    return 0;
}

/* Validates one header entry into t (name set by the caller). */
static int parse_entry(const char *path, const cJSON *item, movl_tensor_info *t, size_t data_size, char *err)
{
    const char *name = t->name;
    if (!cJSON_IsObject(item)) {
        movl_set_error(err, "%s: tensor '%s': header entry is not a JSON object", path, name);
        return MOVL_ERR_INPUT;
    }
    const cJSON *dtype = cJSON_GetObjectItemCaseSensitive(item, "dtype");
    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(item, "shape");
    const cJSON *offs = cJSON_GetObjectItemCaseSensitive(item, "data_offsets");
    if (!cJSON_IsString(dtype)) {
        movl_set_error(err, "%s: tensor '%s': missing string \"dtype\"", path, name);
        return MOVL_ERR_INPUT;
    }
    if (!parse_dtype(dtype->valuestring, &t->dtype)) {
        char dbuf[32];
        movl_set_error(err, "%s: tensor '%s' has unsupported dtype '%s' (supported: F32, F16, BF16)", path, name,
                       printable(dtype->valuestring, dbuf, sizeof dbuf));
        return MOVL_ERR_INPUT;
    }
    if (!cJSON_IsArray(shape)) {
        movl_set_error(err, "%s: tensor '%s': missing array \"shape\"", path, name);
        return MOVL_ERR_INPUT;
    }
    int ndim = cJSON_GetArraySize(shape);
    if (ndim > MOVL_MAX_DIMS) {
        movl_set_error(err, "%s: tensor '%s' has %d dimensions, at most %d are supported", path, name, ndim,
                       MOVL_MAX_DIMS);
        return MOVL_ERR_INPUT;
    }
    t->ndim = ndim;
    size_t numel = 1;
    int overflow = 0;
    for (int i = 0; i < ndim; i++) {
        size_t dim;
        if (!json_size(cJSON_GetArrayItem(shape, i), &dim) || dim > (size_t)INT64_MAX) {
            movl_set_error(err, "%s: tensor '%s': shape[%d] is not a non-negative integer", path, name, i);
            return MOVL_ERR_INPUT;
        }
        t->shape[i] = (int64_t)dim;
        overflow |= mul_overflows(numel, dim, &numel);
    }
    char sbuf[160];
    size_t need = 0;
    if (overflow || mul_overflows(numel, dtype_size(t->dtype), &need)) {
        movl_set_error(err, "%s: tensor '%s': shape %s is too large", path, name, shape_str(t->shape, ndim, sbuf, sizeof sbuf));
        return MOVL_ERR_INPUT;
    }
    size_t begin, end;
    if (!cJSON_IsArray(offs) || cJSON_GetArraySize(offs) != 2 || !json_size(cJSON_GetArrayItem(offs, 0), &begin) ||
        !json_size(cJSON_GetArrayItem(offs, 1), &end)) {
        movl_set_error(err, "%s: tensor '%s': \"data_offsets\" must be [begin, end] of non-negative integers", path,
                       name);
        return MOVL_ERR_INPUT;
    }
    if (begin > end) {
        movl_set_error(err, "%s: tensor '%s': data_offsets [%zu, %zu] have begin after end", path, name, begin, end);
        return MOVL_ERR_INPUT;
    }
    if (end - begin != need) {
        movl_set_error(err, "%s: tensor '%s': data_offsets [%zu, %zu] span %zu bytes but shape %s of %s needs %zu bytes",
                       path, name, begin, end, end - begin, shape_str(t->shape, ndim, sbuf, sizeof sbuf),
                       dtype_name(t->dtype), need);
        return MOVL_ERR_INPUT;
    }
    if (end > data_size) {
        movl_set_error(err,
                       "%s: tensor '%s': data_offsets [%zu, %zu] reach past the end of the data block (%zu bytes): "
                       "file truncated or offsets wrong",
                       path, name, begin, end, data_size);
        return MOVL_ERR_INPUT;
    }
    t->numel = numel;
    t->offset = begin; /* relative for now; made absolute after all checks */
    t->nbytes = need;
    return MOVL_OK;
}

static int cmp_by_offset(const void *a, const void *b)
{
    const movl_tensor_info *x = *(const movl_tensor_info *const *)a;
    const movl_tensor_info *y = *(const movl_tensor_info *const *)b;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* No two non-empty tensors may share a byte (empty ones occupy nothing). */
static int check_overlaps(const char *path, movl_tensor_info *t, size_t n, char *err)
{
    if (n < 2)
        return MOVL_OK;
    const movl_tensor_info **order = malloc(n * sizeof *order);
    if (!order) {
        movl_set_error(err, "%s: out of memory sorting %zu tensors", path, n);
        return MOVL_ERR_RUN;
    }
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (t[i].nbytes)
            order[m++] = &t[i];
    qsort(order, m, sizeof *order, cmp_by_offset);
    int rc = MOVL_OK;
    for (size_t i = 1; i < m; i++) {
        const movl_tensor_info *a = order[i - 1], *b = order[i];
        if (b->offset < a->offset + a->nbytes) {
            movl_set_error(err, "%s: tensors '%s' [%zu, %zu] and '%s' [%zu, %zu] overlap in the data block", path,
                           a->name, a->offset, a->offset + a->nbytes, b->name, b->offset, b->offset + b->nbytes);
            rc = MOVL_ERR_INPUT;
            break;
        }
    }
    free(order);
    return rc;
}

/* Parses and validates the header JSON into w->tensors. */
static int parse_header(movl_weights *w, const char *hdr, size_t hlen, char *err)
{
    const char *path = w->path;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(hdr, hlen, &end, 0);
    if (!root) {
        const char *at = cJSON_GetErrorPtr();
        size_t pos = (at && at >= hdr && at <= hdr + hlen) ? (size_t)(at - hdr) : 0;
        movl_set_error(err, "%s: header is not valid JSON (parse error near byte %zu of %zu)", path, pos, hlen);
        return MOVL_ERR_INPUT;
    }
    for (const char *p = end; p && p < hdr + hlen; p++) {
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
            movl_set_error(err, "%s: header is not valid JSON (unexpected bytes after the object at byte %zu)", path,
                           (size_t)(p - hdr));
            cJSON_Delete(root);
            return MOVL_ERR_INPUT;
        }
    }
    if (!cJSON_IsObject(root)) {
        movl_set_error(err, "%s: header JSON is not an object", path);
        cJSON_Delete(root);
        return MOVL_ERR_INPUT;
    }
    size_t n = 0, names_len = 0;
    for (const cJSON *it = root->child; it; it = it->next) {
        if (strcmp(it->string, "__metadata__") == 0)
            continue;
        n++;
        names_len += strlen(it->string) + 1;
    }
    /* one allocation for the infos and their names */
    w->tensors = calloc(1, n * sizeof *w->tensors + names_len + 1);
    if (!w->tensors) {
        movl_set_error(err, "%s: out of memory for %zu tensor entries", path, n);
        cJSON_Delete(root);
        return MOVL_ERR_RUN;
    }
    char *names = (char *)(w->tensors + n);
    int rc = MOVL_OK;
    for (const cJSON *it = root->child; it && rc == MOVL_OK; it = it->next) {
        if (strcmp(it->string, "__metadata__") == 0)
            continue;
        movl_tensor_info *t = &w->tensors[w->count];
        size_t len = strlen(it->string) + 1;
        memcpy(names, it->string, len);
        t->name = names;
        names += len;
        if (has_control_chars(t->name)) {
            char nbuf[128];
            movl_set_error(err, "%s: tensor name '%s' contains control characters", path,
                           printable(t->name, nbuf, sizeof nbuf));
            rc = MOVL_ERR_INPUT;
        }
        for (size_t j = 0; rc == MOVL_OK && j < w->count; j++) {
            if (strcmp(w->tensors[j].name, t->name) == 0) {
                movl_set_error(err, "%s: tensor name '%s' appears twice in the header", path, t->name);
                rc = MOVL_ERR_INPUT;
            }
        }
        if (rc == MOVL_OK)
            rc = parse_entry(path, it, t, w->data_size, err);
        w->count++;
    }
    cJSON *meta = cJSON_GetObjectItemCaseSensitive(root, "__metadata__");
    if (rc == MOVL_OK && meta && cJSON_IsObject(meta))
        w->metadata = cJSON_DetachItemViaPointer(root, meta);
    cJSON_Delete(root);
    if (rc == MOVL_OK)
        rc = check_overlaps(path, w->tensors, w->count, err);
    if (rc == MOVL_OK)
        for (size_t i = 0; i < w->count; i++)
            w->tensors[i].offset += w->data_start;
    return rc;
}

int movl_weights_open(const char *path, movl_weights **out, char *err)
{
    *out = NULL;
    movl_weights *w = calloc(1, sizeof *w);
    char *hdr = NULL;
    if (!w || !(w->path = strdup(path))) {
        free(w);
        movl_set_error(err, "%s: out of memory opening the weights file", path);
        return MOVL_ERR_RUN;
    }
    int rc = MOVL_ERR_INPUT;
    w->f = fopen(path, "rb");
    if (!w->f) {
        movl_set_error(err, "%s: cannot open weights file: %s", path, strerror(errno));
        goto fail;
    }
    struct stat st;
    if (fstat(fileno(w->f), &st) != 0 || !S_ISREG(st.st_mode)) {
        movl_set_error(err, "%s: not a regular file", path);
        goto fail;
    }
    size_t fsize = (size_t)st.st_size;
    unsigned char lenbuf[8];
    if (fsize < 8 || fread(lenbuf, 1, 8, w->f) != 8) {
        movl_set_error(err, "%s: file is %zu bytes, too short for the 8-byte safetensors header length", path, fsize);
        goto fail;
    }
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--)
        hlen = (hlen << 8) | lenbuf[i];
    if (hlen > fsize - 8) {
        movl_set_error(err, "%s: header length %llu is larger than the rest of the file (%zu bytes): truncated or not "
                       "a safetensors file", path, (unsigned long long)hlen, fsize - 8);
        goto fail;
    }
    if (hlen > MAX_HEADER_BYTES) {
        movl_set_error(err, "%s: header length %llu exceeds the limit of %u bytes", path, (unsigned long long)hlen,
                       MAX_HEADER_BYTES);
        goto fail;
    }
    hdr = malloc(hlen + 1);
    if (!hdr) {
        movl_set_error(err, "%s: out of memory for a header of %llu bytes", path, (unsigned long long)hlen);
        rc = MOVL_ERR_RUN;
        goto fail;
    }
    if (fread(hdr, 1, hlen, w->f) != hlen) {
        movl_set_error(err, "%s: short read of the %llu-byte header", path, (unsigned long long)hlen);
        goto fail;
    }
    hdr[hlen] = '\0';
    w->data_start = 8 + (size_t)hlen;
    w->data_size = fsize - w->data_start;
    rc = parse_header(w, hdr, (size_t)hlen, err);
    if (rc != MOVL_OK)
        goto fail;
    free(hdr);
    *out = w;
    return MOVL_OK;
fail:
    free(hdr);
    movl_weights_close(w);
    return rc;
}

void movl_weights_close(movl_weights *w)
{
    if (!w)
        return;
    if (w->f)
        fclose(w->f);
    free(w->tensors);
    free(w->path);
    cJSON_Delete(w->metadata);
    free(w);
}

const char *movl_weights_metadata(const movl_weights *w, const char *key)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(w->metadata, key));
}

const char *movl_weights_path(const movl_weights *w) { return w->path; }

size_t movl_weights_count(const movl_weights *w) { return w->count; }

const movl_tensor_info *movl_weights_at(const movl_weights *w, size_t i)
{
    return i < w->count ? &w->tensors[i] : NULL;
}

const movl_tensor_info *movl_weights_find(const movl_weights *w, const char *name)
{
    for (size_t i = 0; i < w->count; i++)
        if (strcmp(w->tensors[i].name, name) == 0)
            return &w->tensors[i];
    return NULL;
}

int movl_weights_read_f32(const movl_weights *w, const char *name, float *dst, size_t numel, char *err)
{
    const movl_tensor_info *t = movl_weights_find(w, name);
    if (!t) {
        movl_set_error(err, "%s: tensor '%s' not found (the file has %zu tensors)", w->path, name, w->count);
        return MOVL_ERR_INPUT;
    }
    if (t->numel != numel) {
        char sbuf[160];
        movl_set_error(err, "%s: tensor '%s' has %zu elements (shape %s), expected %zu", w->path, name, t->numel,
                       shape_str(t->shape, t->ndim, sbuf, sizeof sbuf), numel);
        return MOVL_ERR_INPUT;
    }
    if (numel == 0)
        return MOVL_OK;
    unsigned char *buf = malloc(IO_CHUNK);
    if (!buf) {
        movl_set_error(err, "%s: out of memory reading tensor '%s'", w->path, name);
        return MOVL_ERR_RUN;
    }
    int rc = MOVL_OK;
    if (fseeko(w->f, (off_t)t->offset, SEEK_SET) != 0) {
        movl_set_error(err, "%s: cannot seek to tensor '%s' at byte %zu: %s", w->path, name, t->offset,
                       strerror(errno));
        rc = MOVL_ERR_INPUT;
    }
    size_t esize = dtype_size(t->dtype), done = 0;
    while (rc == MOVL_OK && done < numel) {
        size_t k = numel - done < IO_CHUNK / esize ? numel - done : IO_CHUNK / esize;
        if (fread(buf, esize, k, w->f) != k) {
            movl_set_error(err, "%s: short read of tensor '%s' at element %zu of %zu (file changed since it was opened?)",
                           w->path, name, done, numel);
            rc = MOVL_ERR_INPUT;
            break;
        }
        const unsigned char *p = buf;
        for (size_t i = 0; i < k; i++, p += esize) {
            if (t->dtype == MOVL_DTYPE_F32) {
                uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
                dst[done + i] = bits_f32(u);
            } else {
                uint16_t h = (uint16_t)(p[0] | p[1] << 8);
                dst[done + i] = t->dtype == MOVL_DTYPE_F16 ? f16_to_f32(h) : bf16_to_f32(h);
            }
        }
        done += k;
    }
    free(buf);
    return rc;
}

/* Builds the header JSON for the tensors (MOVL_ERR_INPUT on a bad tensor
 * description or metadata). Returns the printed JSON in *json. */
static int build_header(const char *path, const movl_tensor_out *tensors, size_t n, const char *metadata_json,
                        char **json, char *err)
{
    *json = NULL;
    cJSON *root = cJSON_CreateObject();
    if (!root) {
        movl_set_error(err, "%s: out of memory building the header", path);
        return MOVL_ERR_RUN;
    }
    int rc = MOVL_OK;
    size_t offset = 0;
    for (size_t i = 0; i < n && rc == MOVL_OK; i++) {
        const movl_tensor_out *t = &tensors[i];
        if (!t->name || strcmp(t->name, "__metadata__") == 0 || cJSON_GetObjectItemCaseSensitive(root, t->name)) {
            movl_set_error(err, "%s: tensor %zu has %s name '%s'", path, i, t->name ? "a reserved or repeated" : "no",
                           t->name ? t->name : "");
            rc = MOVL_ERR_INPUT;
            break;
        }
        if (t->ndim < 0 || t->ndim > MOVL_MAX_DIMS) {
            movl_set_error(err, "%s: tensor '%s' has %d dimensions, expected 0..%d", path, t->name, t->ndim,
                           MOVL_MAX_DIMS);
            rc = MOVL_ERR_INPUT;
            break;
        }
        size_t numel = 1;
        int bad = 0;
        for (int d = 0; d < t->ndim; d++)
            bad |= t->shape[d] < 0 || (double)t->shape[d] > MAX_JSON_INT ||
                   mul_overflows(numel, (size_t)t->shape[d], &numel);
        size_t nbytes = 0;
        bad |= mul_overflows(numel, 4, &nbytes) || offset + nbytes < offset || (double)(offset + nbytes) > MAX_JSON_INT;
        if (bad || (numel && !t->data)) {
            char sbuf[160];
            movl_set_error(err, "%s: tensor '%s' has an invalid shape %s or no data", path, t->name,
                           shape_str(t->shape, t->ndim, sbuf, sizeof sbuf));
            rc = MOVL_ERR_INPUT;
            break;
        }
        cJSON *e = cJSON_AddObjectToObject(root, t->name);
        cJSON *shape = e ? cJSON_AddArrayToObject(e, "shape") : NULL;
        cJSON *offs = shape ? cJSON_AddArrayToObject(e, "data_offsets") : NULL;
        int ok = offs && cJSON_AddStringToObject(e, "dtype", "F32");
        for (int d = 0; ok && d < t->ndim; d++)
            ok = cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)t->shape[d]));
        ok = ok && cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)offset)) &&
             cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)(offset + nbytes)));
        if (!ok) {
            movl_set_error(err, "%s: out of memory building the header", path);
            rc = MOVL_ERR_RUN;
        }
        offset += nbytes;
    }
    if (rc == MOVL_OK && metadata_json) {
        cJSON *meta = cJSON_Parse(metadata_json);
        int ok = cJSON_IsObject(meta);
        for (const cJSON *it = ok ? meta->child : NULL; it; it = it->next)
            ok &= cJSON_IsString(it);
        if (!ok) {
            movl_set_error(err, "%s: metadata is not a JSON object of string values", path);
            cJSON_Delete(meta);
            rc = MOVL_ERR_INPUT;
        } else {
            cJSON_AddItemToObject(root, "__metadata__", meta);
        }
    }
    if (rc == MOVL_OK && !(*json = cJSON_PrintUnformatted(root))) {
        movl_set_error(err, "%s: out of memory printing the header", path);
        rc = MOVL_ERR_RUN;
    }
    cJSON_Delete(root);
    return rc;
}

static int write_data(FILE *f, const movl_tensor_out *tensors, size_t n)
{
    unsigned char buf[IO_CHUNK];
    for (size_t i = 0; i < n; i++) {
        size_t numel = 1;
        for (int d = 0; d < tensors[i].ndim; d++)
            numel *= (size_t)tensors[i].shape[d];
        for (size_t done = 0; done < numel;) {
            size_t k = numel - done < IO_CHUNK / 4 ? numel - done : IO_CHUNK / 4;
            for (size_t j = 0; j < k; j++) {
                uint32_t u = f32_bits(tensors[i].data[done + j]);
                buf[4 * j] = (unsigned char)u;
                buf[4 * j + 1] = (unsigned char)(u >> 8);
                buf[4 * j + 2] = (unsigned char)(u >> 16);
                buf[4 * j + 3] = (unsigned char)(u >> 24);
            }
            if (fwrite(buf, 4, k, f) != k)
                return 0;
            done += k;
        }
    }
    return 1;
}

int movl_weights_write(const char *path, const movl_tensor_out *tensors, size_t n, const char *metadata_json,
                       char *err)
{
    char *json = NULL;
    int rc = build_header(path, tensors, n, metadata_json, &json, err);
    if (rc != MOVL_OK)
        return rc;
    /* header padded with spaces so that the data block starts 8-aligned */
    size_t jlen = strlen(json), hlen = (jlen + 7) / 8 * 8;
    movl_out_file out;
    if (movl_out_open(&out, path, err)) {
        free(json);
        return MOVL_ERR_RUN;
    }
    FILE *f = out.f;
    unsigned char lenbuf[8];
    for (int i = 0; i < 8; i++)
        lenbuf[i] = (unsigned char)((uint64_t)hlen >> (8 * i));
    int ok = fwrite(lenbuf, 1, 8, f) == 8 && fwrite(json, 1, jlen, f) == jlen;
    for (size_t i = jlen; ok && i < hlen; i++)
        ok = fputc(' ', f) != EOF;
    ok = ok && write_data(f, tensors, n);
    rc = ok ? movl_out_commit(&out, err) : movl_out_fail(&out, err);
    free(json);
    return rc;
}
