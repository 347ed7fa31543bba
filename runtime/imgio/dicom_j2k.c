/* The JPEG 2000 check of dicom_codec_check.h (ITU-T T.800 annex A.5.1: the
 * SIZ marker; annex I.4: JP2 boxes). A codestream starts with SOC (FF4F) and
 * SIZ (FF51): Lsiz, Rsiz, then Xsiz, Ysiz, XOsiz, YOsiz, XTsiz, YTsiz, XTOsiz,
 * YTOsiz (32-bit), Csiz (16-bit), all big endian. OpenJPEG sizes its tile and
 * component arrays from these before it reads a tile, so a corrupt SIZ makes
 * it allocate hundreds of megabytes for a few kilobytes of file. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "imgio/dicom_codec_check.h"

#define J2K_MAX_TILES 4096 /* real encoders use one tile or a grid of a few hundred */

static uint32_t rd32be(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The codestream inside a JP2 file (the contents of its jp2c box), or NULL. */
static const unsigned char *jp2_codestream(const unsigned char *f, size_t n, size_t *len)
{
    size_t at = 0;
    while (n - at >= 8) {
        uint64_t box = rd32be(f + at), head = 8;
        if (box == 1) { /* a 64-bit length follows the type */
            if (n - at < 16)
                return NULL;
            box = (uint64_t)rd32be(f + at + 8) << 32 | rd32be(f + at + 12);
            head = 16;
        } else if (box == 0) { /* the last box: to the end */
            box = n - at;
        }
        if (box < head || box > n - at)
            return NULL;
        if (!memcmp(f + at + 4, "jp2c", 4)) {
            *len = (size_t)(box - head);
            return f + at + head;
        }
        at += (size_t)box;
    }
    return NULL;
}

static uint64_t ceil_div(uint64_t a, uint64_t b)
{
    return (a + b - 1) / b;
}

int movl_j2k_fragment_check(const unsigned char *f, size_t n, const movl_dicom_geometry *g, char *why, size_t whylen)
{
    static const unsigned char jp2_signature[12] = {0, 0, 0, 12, 'j', 'P', ' ', ' ', 13, 10, 0x87, 10};
    const unsigned char *c = f;
    size_t len = n;
    if (n >= 12 && !memcmp(f, jp2_signature, 12)) {
        c = jp2_codestream(f, n, &len);
        if (!c) {
            snprintf(why, whylen, "a JP2 fragment without a readable codestream box");
            return -1;
        }
    } else if (n < 2 || c[0] != 0xFF || c[1] != 0x4F) {
        return 0; /* the rest of a frame begun in an earlier fragment */
    }
    if (len < 4 + 40 || c[2] != 0xFF || c[3] != 0x51) {
        snprintf(why, whylen, "a JPEG 2000 codestream without a whole SIZ marker after its start");
        return -1;
    }
    const unsigned char *s = c + 6; /* past SOC, the SIZ marker and Lsiz */
    uint32_t x = rd32be(s + 2), y = rd32be(s + 6), xo = rd32be(s + 10), yo = rd32be(s + 14);
    uint32_t xt = rd32be(s + 18), yt = rd32be(s + 22), xto = rd32be(s + 26), yto = rd32be(s + 30);
    unsigned comps = (unsigned)s[34] << 8 | s[35];
    if (x <= xo || y <= yo || x - xo != g->columns || y - yo != g->rows || comps != g->samples) {
        snprintf(why, whylen, "a JPEG 2000 codestream of %lu x %lu pixels with %u components in an image of %u x %u "
                 "with %u samples", x > xo ? (unsigned long)(x - xo) : 0UL, y > yo ? (unsigned long)(y - yo) : 0UL,
                 comps, g->columns, g->rows, g->samples);
        return -1;
    }
    if (xt == 0 || yt == 0 || xto > xo || yto > yo ||
        ceil_div((uint64_t)x - xto, xt) * ceil_div((uint64_t)y - yto, yt) > J2K_MAX_TILES) {
        snprintf(why, whylen, "a JPEG 2000 codestream with tiles of %lu x %lu pixels (at most %d tiles, inside the "
                 "image)", (unsigned long)xt, (unsigned long)yt, J2K_MAX_TILES);
        return -1;
    }
    return 0;
}
