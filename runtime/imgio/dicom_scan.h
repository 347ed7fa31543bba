/* A bounds check of a DICOM file's element lengths before GDCM reads it: GDCM
 * allocates whatever length an element declares before reading its value, so
 * one corrupt length (up to 4 GiB) would exhaust memory. */
#ifndef MOVL_DICOM_SCAN_H
#define MOVL_DICOM_SCAN_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Walks the elements of the n bytes at p (preamble and meta group, then the
 * data set in its transfer syntax; sequences, items and encapsulated
 * fragments): 0 when every defined length fits in the bytes that follow it,
 * -1 with the offending tag and length in why (whylen bytes). A deflated
 * data set is inflated first (at most 256 MiB); an undefined-length UN
 * element is walked as the implicit VR it holds; past 64 nested containers
 * the walk stops and returns 0. An element without a VR in an explicit-VR
 * data set, or with an unknown VR, is refused (-1): GDCM's fallback readers
 * then misread lengths out of pixel bytes and allocate them. */
int movl_dicom_scan_lengths(const unsigned char *p, size_t n, char *why, size_t whylen);

/* The same check on the file at path: MOVL_OK, or MOVL_ERR_INPUT with one
 * line naming the file (unreadable, empty, or a length past its end). */
int movl_dicom_scan_file(const char *path, char *err);

#ifdef __cplusplus
}
#endif

#endif
