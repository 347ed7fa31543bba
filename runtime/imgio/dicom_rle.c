/* The RLE checks of dicom_codec_check.h. A fragment is a 64-byte header (segment
 * count, then 15 segment offsets, little endian) and the segments, each a
 * PackBits stream of one byte plane: a byte n of 0..127 copies the next n + 1
 * bytes, -127..-1 repeats the next byte 1 - n times, -128 does nothing. The
 * runs are walked, not decoded: every step reads at least one byte, so the
 * cost is the fragment's length whatever the geometry claims. */
#include <stdint.h>
#include <stdio.h>

#include "imgio/dicom_codec_check.h"

#define RLE_HEADER 64
#define RLE_MAX_DECODED ((uint64_t)1 << 30) /* as the decoder's cap (dicom_gdcm.cpp) */

static uint32_t rd32le(const unsigned char *p)
{
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

int movl_rle_geometry_check(const movl_dicom_geometry *g, char *why, size_t whylen)
{
    if (g->rows < 1 || g->rows > 65535 || g->columns < 1 || g->columns > 65535) {
        snprintf(why, whylen, "RLE pixel data of %u x %u pixels (rows and columns must come first, 1 to 65535)",
                 g->rows, g->columns);
        return -1;
    }
    if ((g->samples != 1 && g->samples != 3) ||
        (g->bits_allocated != 8 && g->bits_allocated != 16 && g->bits_allocated != 32)) {
        snprintf(why, whylen, "RLE pixel data with %u samples of %u bits (expected 1 or 3 samples of 8, 16 or 32)",
                 g->samples, g->bits_allocated);
        return -1;
    }
    uint64_t decoded = (uint64_t)g->rows * g->columns * g->samples * (g->bits_allocated / 8) * g->frames;
    if (g->frames < 1 || decoded > RLE_MAX_DECODED) {
        snprintf(why, whylen, "RLE pixel data of %lu frames of %u x %u pixels (expected 1 or more, at most 1 GiB)",
                 g->frames, g->rows, g->columns);
        return -1;
    }
    return 0;
}

/* The runs from f[at] until want bytes are out: the byte after the last one read, or 0 when a run reads past
 * n or ends past want (GDCM would write that overshoot past its buffer). */
static size_t segment_end(const unsigned char *f, size_t n, size_t at, uint64_t want)
{
    uint64_t out = 0;
    while (out < want) {
        if (at >= n)
            return 0;
        int c = (signed char)f[at++];
        uint64_t k = c >= 0 ? (uint64_t)c + 1 : c == -128 ? 0 : (uint64_t)(1 - c);
        size_t in = c >= 0 ? (size_t)k : c == -128 ? 0 : 1;
        if (in > n - at || out + k > want)
            return 0;
        at += in;
        out += k;
    }
    return at;
}

int movl_rle_fragment_check(const unsigned char *f, size_t n, const movl_dicom_geometry *g, char *why, size_t whylen)
{
    unsigned want_segments = g->samples * (g->bits_allocated / 8);
    if (n < RLE_HEADER) {
        snprintf(why, whylen, "an RLE fragment of %zu bytes, shorter than its 64-byte header", n);
        return -1;
    }
    uint32_t segments = rd32le(f);
    if (segments != want_segments) {
        snprintf(why, whylen, "an RLE header names %u segments, %u samples of %u bits need %u", (unsigned)segments,
                 g->samples, g->bits_allocated, want_segments);
        return -1;
    }
    uint64_t plane = (uint64_t)g->rows * g->columns;
    for (unsigned s = 0; s < segments; s++) {
        uint32_t off = rd32le(f + 4 + 4 * s);
        if ((s == 0 && off != RLE_HEADER) || off < RLE_HEADER || off >= n) {
            snprintf(why, whylen, "RLE segment %u starts at byte %u of a %zu-byte fragment (expected %s)", s + 1,
                     (unsigned)off, n, s == 0 ? "64" : "inside it, after the header");
            return -1;
        }
        if (!segment_end(f, n, off, plane)) {
            snprintf(why, whylen, "RLE segment %u does not decode to %u x %u bytes inside its fragment (corrupt "
                     "or truncated runs)", s + 1, g->columns, g->rows);
            return -1;
        }
    }
    return 0;
}
