/* The element walk of dicom_scan.h (PS3.5 section 7: data elements, 7.5:
 * sequences and items; A.4: encapsulated pixel data). Every element is read
 * as tag, VR (explicit syntaxes) and length; a defined length is checked
 * against the bytes left and skipped; an undefined one (0xFFFFFFFF) opens a
 * sequence, item or fragment list whose contents are walked in turn, their
 * delimiters being elements of length 0; sequences and items of defined
 * length are walked within their own bounds; fragments of encapsulated pixel
 * data are raw bytes, checked and skipped (RLE Lossless and JPEG 2000 ones
 * also checked against the image's geometry: dicom_codec_check.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <unistd.h>
#include <zlib.h>

#include "core/common.h"

#include "imgio/dicom_codec_check.h"
#include "imgio/dicom_scan.h"

static unsigned rd16(const unsigned char *p, int big)
{
    return big ? (unsigned)p[0] << 8 | p[1] : (unsigned)p[1] << 8 | p[0];
}

static uint32_t rd32(const unsigned char *p, int big)
{
    return big ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]
               : (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/* Every VR of PS3.5 6.2 (2023); files with another one are refused, since readers disagree on its length field. */
static int known_vr(const unsigned char *vr)
{
    static const char all[] = "AEASATCSDADSDTFLFDISLOLTOBODOFOLOVOWPNSHSLSQSSSTSVTMUCUIULUNURUSUTUV";
    for (size_t i = 0; i + 1 < sizeof all; i += 2)
        if (vr[0] == all[i] && vr[1] == all[i + 1])
            return 1;
    return 0;
}

/* VRs whose explicit encoding has 2 reserved bytes and a 32-bit length. */
static int long_vr(const unsigned char *vr)
{
    static const char *const v[] = {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        if (vr[0] == v[i][0] && vr[1] == v[i][1])
            return 1;
    return 0;
}

enum { WALK_OK, WALK_BAD, WALK_STOP };

typedef struct walker {
    const unsigned char *p;
    int explicit_vr, big;
    char *why;
    size_t whylen;
    int codec;                 /* CODEC_RLE, CODEC_J2K: the pixel data's fragments are checked against image */
    movl_dicom_geometry image; /* from the top-level (0028,xxxx) elements */
    long fragments;            /* of the top-level pixel data, its offset table included */
} walker;

enum { CODEC_NONE, CODEC_RLE, CODEC_J2K };

/* The codec check a transfer syntax needs. */
static int codec_of(const char *ts)
{
    static const char *const j2k[] = {"1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91", "1.2.840.10008.1.2.4.92",
                                      "1.2.840.10008.1.2.4.93", "1.2.840.10008.1.2.4.201",
                                      "1.2.840.10008.1.2.4.202", "1.2.840.10008.1.2.4.203"};
    if (!strcmp(ts, "1.2.840.10008.1.2.5"))
        return CODEC_RLE;
    for (size_t i = 0; i < sizeof j2k / sizeof j2k[0]; i++)
        if (!strcmp(ts, j2k[i]))
            return CODEC_J2K;
    return CODEC_NONE;
}

/* A top-level image attribute the codec checks need (US values; Number of Frames is an IS string). */
static void note_geometry(walker *w, unsigned element, const unsigned char *v, size_t len)
{
    movl_dicom_geometry *g = &w->image;
    if (element == 0x0008) {
        unsigned long frames = 0;
        size_t i = 0;
        while (i < len && v[i] == ' ')
            i++;
        for (; i < len && v[i] >= '0' && v[i] <= '9' && frames < 1000000; i++)
            frames = frames * 10 + (unsigned long)(v[i] - '0');
        g->frames = frames;
        return;
    }
    if (len < 2)
        return;
    unsigned value = rd16(v, w->big);
    if (element == 0x0002)
        g->samples = value;
    else if (element == 0x0010)
        g->rows = value;
    else if (element == 0x0011)
        g->columns = value;
    else if (element == 0x0100)
        g->bits_allocated = value;
}

/* A fragment of the top-level pixel data: the first is the offset table; RLE: each other one a frame
 * (their count is checked against the frames once the fragments end). */
static int check_fragment(walker *w, const unsigned char *f, size_t len)
{
    if (w->fragments++ == 0)
        return WALK_OK;
    if (w->codec == CODEC_J2K)
        return movl_j2k_fragment_check(f, len, &w->image, w->why, w->whylen) ? WALK_BAD : WALK_OK;
    if (w->fragments == 2 && movl_rle_geometry_check(&w->image, w->why, w->whylen))
        return WALK_BAD;
    return movl_rle_fragment_check(f, len, &w->image, w->why, w->whylen) ? WALK_BAD : WALK_OK;
}

/* Whether the value at q (len bytes) starts with an item tag: how an implicit-VR sequence shows itself. */
static int starts_with_item(const walker *w, const unsigned char *q, size_t len)
{
    return len >= 8 && rd16(q, w->big) == 0xFFFE && rd16(q + 2, w->big) == 0xE000;
}

/* Elements from *pos to end; meta: stop at the first group other than 0x0002 (ts receives the transfer
 * syntax); fragments: the items here are encapsulated pixel data, raw bytes. Containers of defined length
 * (sequences, items) are walked inside their own bounds, since GDCM reads what they hold element by element.
 * fragments 2: the contents of an undefined-length UN element, walked up to its own sequence delimiter. */
static int walk(walker *w, size_t *pos, size_t end, int meta, int fragments, int depth, char *ts, size_t ts_len)
{
    const unsigned char *p = w->p;
    int open = 0; /* undefined-length sequences opened in this call (until_delimiter walks) */
    long seqs = 0; /* at the top level: undefined-length sequences open */
    if (depth > 64)
        return WALK_STOP;
    while (*pos + 8 <= end) {
        size_t at = *pos;
        unsigned group = rd16(p + at, w->big && !meta), element = rd16(p + at + 2, w->big && !meta);
        if (meta && group != 0x0002)
            return WALK_OK;
        size_t head = 8;
        uint32_t len;
        int is_sq = 0, is_un = 0, explicit_vr = meta || w->explicit_vr, big = w->big && !meta;
        if (group == 0xFFFE) { /* item, item delimiter, sequence delimiter: always tag + 32-bit length */
            len = rd32(p + at + 4, big);
        } else if (explicit_vr) {
            const unsigned char *vr = p + at + 4;
            if (vr[0] < 'A' || vr[0] > 'Z' || vr[1] < 'A' || vr[1] > 'Z') {
                /* no VR where one belongs (e.g. a data set written implicit under an explicit header):
                   GDCM then retries other encodings, one of which reads lengths of up to 4 GiB out of
                   pixel bytes and allocates them, so such files are refused here */
                snprintf(w->why, w->whylen, "element (%04X,%04X) at byte %zu has no value representation, as its "
                         "transfer syntax requires", group, element, at);
                return WALK_BAD;
            }
            if (!known_vr(vr)) { /* GDCM reads these with a 32-bit length, pydicom refuses them */
                snprintf(w->why, w->whylen, "element (%04X,%04X) at byte %zu has an unknown value representation "
                         "'%c%c'", group, element, at, vr[0], vr[1]);
                return WALK_BAD;
            }
            if (long_vr(vr)) {
                if (at + 12 > end)
                    break;
                head = 12;
                len = rd32(p + at + 8, big);
                is_sq = vr[0] == 'S' && vr[1] == 'Q';
                is_un = vr[0] == 'U' && vr[1] == 'N';
            } else {
                len = rd16(p + at + 6, big);
            }
        } else {
            len = rd32(p + at + 4, big);
        }
        *pos = at + head;
        if (depth == 0 && !meta && fragments == 0) { /* the top level: item tags only inside sequences */
            if (group == 0xFFFE && seqs == 0) {
                /* GDCM then falls back to a mixed explicit/implicit reader that misreads lengths (2.7 GB) */
                snprintf(w->why, w->whylen, "item tag (FFFE,%04X) at byte %zu outside any sequence", element, at);
                return WALK_BAD;
            }
            if (group == 0xFFFE && element == 0xE0DD)
                seqs--;
            else if (group != 0xFFFE && len == 0xFFFFFFFFu && !is_un && !(group == 0x7FE0 && element == 0x0010))
                seqs++;
        }
        if (group == 0xFFFE && (element == 0xE00D || element == 0xE0DD) && len != 0) {
            /* GDCM reads a delimiter's length as a value to allocate (3 GB on a fuzzed file) */
            snprintf(w->why, w->whylen, "delimiter (FFFE,%04X) at byte %zu has length %u (expected 0)", element, at,
                     (unsigned)len);
            return WALK_BAD;
        }
        if (len == 0xFFFFFFFFu) {
            if (is_un) { /* an undefined-length UN holds implicit VR little endian, up to its sequence delimiter */
                walker inner = *w;
                inner.explicit_vr = 0;
                inner.big = 0;
                int rc = walk(&inner, pos, end, 0, 2, depth + 1, NULL, 0);
                if (rc != WALK_OK)
                    return rc;
                continue;
            }
            if (fragments == 2 && group != 0xFFFE)
                open++;
            if (group == 0x7FE0 && element == 0x0010) {
                int rc = walk(w, pos, end, 0, 1, depth + 1, NULL, 0); /* fragments up to the sequence delimiter */
                if (rc != WALK_OK)
                    return rc;
                if (w->codec == CODEC_RLE && depth == 0 && w->fragments - 1 != (long)w->image.frames) {
                    snprintf(w->why, w->whylen, "RLE pixel data holds %ld fragments for %lu frames (one per frame)",
                             w->fragments > 0 ? w->fragments - 1 : 0, w->image.frames);
                    return WALK_BAD;
                }
            }
            continue; /* a sequence or item: its elements follow, up to its delimiter */
        }
        if (group == 0xFFFE && element == 0xE0DD && fragments == 1)
            return WALK_OK; /* end of the fragments */
        if (group == 0xFFFE && element == 0xE0DD && fragments == 2 && open-- == 0)
            return WALK_OK; /* end of the UN element */
        if (len > end - *pos) {
            snprintf(w->why, w->whylen, "element (%04X,%04X) at byte %zu declares %u bytes, only %zu follow", group,
                     element, at, (unsigned)len, end - *pos);
            return WALK_BAD;
        }
        int container = fragments != 1 && group == 0xFFFE && element == 0xE000;
        if (!container && !meta && !is_un && group != 0xFFFE)
            container = is_sq || (!explicit_vr && starts_with_item(w, p + *pos, len));
        if (container) {
            size_t inner = *pos;
            int rc = walk(w, &inner, *pos + len, 0, 0, depth + 1, NULL, 0);
            if (rc != WALK_OK)
                return rc;
            if (inner != *pos + len) { /* GDCM reads that last element on, past the container's end */
                snprintf(w->why, w->whylen, "element at byte %zu crosses the end of its %s (%04X,%04X) at byte %zu",
                         inner, group == 0xFFFE ? "item" : "sequence", group, element, *pos + len);
                return WALK_BAD;
            }
        }
        if (w->codec && depth == 0 && !meta && group == 0x0028)
            note_geometry(w, element, p + *pos, len);
        if (w->codec && fragments == 1 && depth == 1 && group == 0xFFFE && element == 0xE000 &&
            check_fragment(w, p + *pos, len) != WALK_OK)
            return WALK_BAD;
        if (meta && group == 0x0002 && element == 0x0010 && ts) {
            size_t k = len < ts_len - 1 ? len : ts_len - 1;
            memcpy(ts, p + *pos, k);
            ts[k] = 0;
            while (k > 0 && (ts[k - 1] == 0 || ts[k - 1] == ' '))
                ts[--k] = 0;
        }
        *pos += len;
    }
    return WALK_OK;
}

/* A deflated data set (explicit VR little endian once inflated): inflated into memory, at most
 * DEFLATED_MAX bytes (GDCM inflates it whole too), and walked there. */
#define DEFLATED_MAX ((size_t)256 << 20)

static int scan_deflated(const unsigned char *p, size_t n, char *why, size_t whylen)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, -15) != Z_OK)
        return 0;
    size_t cap = n * 4 + 4096, len = 0;
    unsigned char *out = malloc(cap);
    int rc = Z_OK;
    z.next_in = (unsigned char *)p;
    z.avail_in = (uInt)(n < 0xFFFFFFFFu ? n : 0xFFFFFFFFu);
    while (out && rc == Z_OK) {
        if (len == cap) {
            unsigned char *grown = cap < DEFLATED_MAX ? realloc(out, cap * 2 < DEFLATED_MAX ? cap * 2 : DEFLATED_MAX) : NULL;
            if (!grown) {
                snprintf(why, whylen, "the deflated data set inflates to more than %zu MiB", DEFLATED_MAX >> 20);
                free(out);
                inflateEnd(&z);
                return -1;
            }
            cap = cap * 2 < DEFLATED_MAX ? cap * 2 : DEFLATED_MAX;
            out = grown;
        }
        z.next_out = out + len;
        z.avail_out = (uInt)(cap - len);
        rc = inflate(&z, Z_NO_FLUSH);
        len = cap - z.avail_out;
    }
    inflateEnd(&z);
    if (!out)
        return 0;
    walker w = {out, 1, 0, why, whylen, 0, {0, 0, 1, 0, 1}, 0};
    size_t pos = 0;
    /* a broken or cut stream is refused: GDCM would read what inflated before the break */
    if (rc != Z_STREAM_END) {
        snprintf(why, whylen, "the deflated data set is corrupt or truncated (zlib: %s after %zu bytes)",
                 z.msg ? z.msg : "unexpected end", len);
        free(out);
        return -1;
    }
    int bad = walk(&w, &pos, len, 0, 0, 0, NULL, 0) == WALK_BAD;
    free(out);
    return bad ? -1 : 0;
}

int movl_dicom_scan_lengths(const unsigned char *p, size_t n, char *why, size_t whylen)
{
    walker w = {p, 1, 0, why, whylen, 0, {0, 0, 1, 0, 1}, 0};
    size_t pos = 0;
    char ts[80] = "";
    if (n >= 132 && !memcmp(p + 128, "DICM", 4)) {
        pos = 132;
        /* GDCM reads a file whose meta group is missing by guessing, and one guess (big endian) misreads
           lengths of up to 4 GiB out of little-endian values and allocates them */
        if (n < 140 || rd16(p + 132, 0) != 0x0002) {
            snprintf(why, whylen, "no file meta group (0002,xxxx) after 'DICM' at byte 132, as PS3.10 requires");
            return -1;
        }
        int rc = walk(&w, &pos, n, 1, 0, 0, ts, sizeof ts); /* the meta group: explicit VR little endian */
        if (rc != WALK_OK)
            return rc == WALK_BAD ? -1 : 0;
    }
    if (!strcmp(ts, "1.2.840.10008.1.2.1.99") || !strcmp(ts, "1.2.840.10008.1.2.5.99"))
        return scan_deflated(p + pos, n - pos, why, whylen);
    if (ts[0]) {
        w.explicit_vr = strcmp(ts, "1.2.840.10008.1.2") != 0;
        w.big = !strcmp(ts, "1.2.840.10008.1.2.2");
        w.codec = codec_of(ts);
    } else { /* no meta group: explicit if a VR follows the first tag, as GDCM guesses too */
        w.explicit_vr = pos + 6 <= n && p[pos + 4] >= 'A' && p[pos + 4] <= 'Z' && p[pos + 5] >= 'A' &&
                        p[pos + 5] <= 'Z';
    }
    return walk(&w, &pos, n, 0, 0, 0, NULL, 0) == WALK_BAD ? -1 : 0;
}

int movl_dicom_scan_file(const char *path, char *err)
{
    int fd = open(path, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        movl_set_error(err, "%s: cannot open image (%s)", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return MOVL_ERR_INPUT;
    }
    if (st.st_size == 0) {
        close(fd);
        movl_set_error(err, "%s: empty file (expected a DICOM image)", path);
        return MOVL_ERR_INPUT;
    }
    void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) {
        movl_set_error(err, "%s: cannot map the file (%s)", path, strerror(errno));
        return MOVL_ERR_INPUT;
    }
    char why[200];
    int bad = movl_dicom_scan_lengths(map, (size_t)st.st_size, why, sizeof why);
    munmap(map, (size_t)st.st_size);
    if (bad) {
        movl_set_error(err, "%s: corrupt DICOM file (%s)", path, why);
        return MOVL_ERR_INPUT;
    }
    return MOVL_OK;
}
