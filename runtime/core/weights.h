/* Safetensors files: a bounds-checked reader (f32/f16/bf16 -> f32) and a writer.
 * Format: 8-byte little-endian header length N, N bytes of JSON header
 * {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {..}},
 * then the data block; offsets are relative to the data block. */
#ifndef MOVL_WEIGHTS_H
#define MOVL_WEIGHTS_H

#include <stddef.h>
#include <stdint.h>

#define MOVL_MAX_DIMS 8

typedef enum { MOVL_DTYPE_F32, MOVL_DTYPE_F16, MOVL_DTYPE_BF16 } movl_dtype;

typedef struct movl_tensor_info {
    const char *name;
    movl_dtype dtype;
    int ndim;
    int64_t shape[MOVL_MAX_DIMS];
    size_t numel;
    size_t offset; /* absolute byte offset in the file */
    size_t nbytes;
} movl_tensor_info;

typedef struct movl_weights movl_weights;

/* Opens and validates the whole file (header JSON, dtypes, shapes, every
 * offset and length against the file size, no overlaps). Returns MOVL_OK or
 * MOVL_ERR_INPUT with a one-line message naming the file. */
int movl_weights_open(const char *path, movl_weights **out, char *err);
void movl_weights_close(movl_weights *w);

const char *movl_weights_path(const movl_weights *w);
size_t movl_weights_count(const movl_weights *w);
const movl_tensor_info *movl_weights_at(const movl_weights *w, size_t i);
/* NULL when absent. */
const movl_tensor_info *movl_weights_find(const movl_weights *w, const char *name);

/* String value of `key` in the header's "__metadata__"; NULL when absent or
 * not a string. Valid until movl_weights_close. */
const char *movl_weights_metadata(const movl_weights *w, const char *key);

/* Reads tensor `name` converted to f32 into dst, which holds exactly numel
 * floats. Fails (MOVL_ERR_INPUT) when the tensor is absent or numel differs;
 * the message names the file and the tensor. */
int movl_weights_read_f32(const movl_weights *w, const char *name, float *dst, size_t numel, char *err);

/* Tensor to write: f32 data. */
typedef struct movl_tensor_out {
    const char *name;
    int ndim;
    int64_t shape[MOVL_MAX_DIMS];
    const float *data;
} movl_tensor_out;

/* Writes an f32 safetensors file through movl_out_open (temporary name, renamed).
 * metadata_json may be NULL or a JSON object of string values. */
int movl_weights_write(const char *path, const movl_tensor_out *tensors, size_t n, const char *metadata_json,
                       char *err);

#endif
