/* Checks of compressed pixel data before GDCM decodes it, where GDCM or the
 * codec it calls trusts what a header says:
 * - RLE Lossless (PS3.5 annex G, dicom_rle.c): GDCM 3.0 divides by the RLE
 *   header's segment count, reads segment offsets past its 15 slots, and lets
 *   the last run of a segment write past the frame's buffer;
 * - JPEG 2000 (dicom_j2k.c): OpenJPEG allocates per tile and component what
 *   the SIZ marker declares before it reads any of them. */
#ifndef MOVL_DICOM_CODEC_CHECK_H
#define MOVL_DICOM_CODEC_CHECK_H

#include <stddef.h>

/* The image geometry a frame must decode to, from the data set's
 * (0028,xxxx) elements. */
typedef struct movl_dicom_geometry {
    unsigned rows, columns, samples, bits_allocated;
    unsigned long frames; /* Number of Frames, 1 when absent */
} movl_dicom_geometry;

/* Whether the geometry can be RLE-coded at all: 1..65535 rows and columns, 1
 * or 3 samples of 8, 16 or 32 bits, at most 1 GiB decoded; 0 or -1 with the
 * reason in why. */
int movl_rle_geometry_check(const movl_dicom_geometry *g, char *why, size_t whylen);

/* The n bytes at f, one frame's fragment: the header names exactly
 * samples * bits_allocated / 8 segments, each offset lies inside the
 * fragment (the first at byte 64), and every segment's runs decode to exactly
 * rows * columns bytes without reading past the fragment's end. 0, or -1 with
 * the reason in why. */
int movl_rle_fragment_check(const unsigned char *f, size_t n, const movl_dicom_geometry *g, char *why, size_t whylen);

/* The n bytes at f, a fragment of JPEG 2000 pixel data: when it starts a
 * codestream (SOC, or a JP2 signature box and then its codestream box), its
 * SIZ marker declares the geometry's columns, rows and samples and at most
 * 4096 tiles. A fragment that continues a frame passes. 0, or -1 with the
 * reason in why. */
int movl_j2k_fragment_check(const unsigned char *f, size_t n, const movl_dicom_geometry *g, char *why, size_t whylen);

#endif
