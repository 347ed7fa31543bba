/* NumPy .npy headers: the magic, the version, the header length and the
 * python-dict literal {'descr': ..., 'fortran_order': ..., 'shape': (...)}.
 * Only what datasets need is accepted; everything else is rejected with a
 * reason (no trailing newline) for the caller to prefix with file and key. */
#ifndef MOVL_NPY_H
#define MOVL_NPY_H

#include <stddef.h>
#include <stdint.h>

#define MOVL_NPY_MAXDIM 8
/* Longest fixed part before the dict: magic (6) + version (2) + length (4). */
#define MOVL_NPY_PRELUDE_MAX 12

typedef struct movl_npy {
    char descr[16];    /* e.g. "|u1", "<i8" */
    int fortran_order; /* 1 if the file said True */
    int ndim;
    int64_t shape[MOVL_NPY_MAXDIM];
    size_t data_offset; /* bytes from the start of the .npy to its data */
} movl_npy;

/* The fixed prelude: p holds n bytes of the file start (n >= 10; 12 lets
 * versions 2 and 3 through). On success *prelude is 10 or 12 and *dict_len
 * the length of the dict text that follows. Returns 0, or -1 with why set. */
int movl_npy_parse_prelude(const unsigned char *p, size_t n, size_t *prelude, size_t *dict_len, char *why,
                           size_t whylen);

/* Parses the dict text (len bytes, not NUL-terminated) into out (its
 * data_offset is left to the caller). Returns 0, or -1 with why set. */
int movl_npy_parse_dict(const char *dict, size_t len, movl_npy *out, char *why, size_t whylen);

/* Integer dtypes that can be read in a portable way ('|u1', '<i8', ...):
 * sets *size (bytes) and *is_signed; returns 0, or -1 if unsupported. */
int movl_npy_int_dtype(const char *descr, int *size, int *is_signed);

/* Number of elements (product of the shape; 1 for ndim 0), or -1 on overflow. */
int64_t movl_npy_count(const movl_npy *h);

/* "(4708, 28, 28)" into buf. */
void movl_npy_shape_str(const movl_npy *h, char *buf, size_t len);

#endif
