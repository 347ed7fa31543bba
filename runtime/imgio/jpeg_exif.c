/* EXIF orientation from a JPEG's APP1 segment: a bounded reader of the TIFF
 * header and the first IFD, nothing else of EXIF. */
#include <string.h>

#include "imgio/imgio_internal.h"

static unsigned rd16(const unsigned char *p, int big)
{
    return big ? (unsigned)p[0] << 8 | p[1] : (unsigned)p[1] << 8 | p[0];
}

static unsigned long rd32(const unsigned char *p, int big)
{
    return big ? (unsigned long)p[0] << 24 | (unsigned long)p[1] << 16 | (unsigned long)p[2] << 8 | p[3]
               : (unsigned long)p[3] << 24 | (unsigned long)p[2] << 16 | (unsigned long)p[1] << 8 | p[0];
}

int movl_exif_orientation(const unsigned char *app1, size_t len)
{
    if (len < 6 + 8 || memcmp(app1, "Exif\0\0", 6) != 0)
        return 1;
    const unsigned char *t = app1 + 6; /* the TIFF block: offsets count from here */
    size_t n = len - 6;
    int big;
    if (t[0] == 'M' && t[1] == 'M')
        big = 1;
    else if (t[0] == 'I' && t[1] == 'I')
        big = 0;
    else
        return 1;
    if (rd16(t + 2, big) != 42)
        return 1;
    unsigned long ifd = rd32(t + 4, big);
    if (ifd > n || n - ifd < 2)
        return 1;
    unsigned count = rd16(t + ifd, big);
    for (unsigned i = 0; i < count; i++) {
        size_t at = ifd + 2 + 12 * (size_t)i;
        if (at > n || n - at < 12)
            return 1;
        if (rd16(t + at, big) != 0x0112)
            continue;
        unsigned type = rd16(t + at + 2, big);
        unsigned v = type == 3 ? rd16(t + at + 8, big) : type == 4 ? (unsigned)rd32(t + at + 8, big) : 0;
        return v >= 1 && v <= 8 ? (int)v : 1;
    }
    return 1;
}
