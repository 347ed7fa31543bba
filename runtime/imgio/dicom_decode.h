/* DICOM pixel data through GDCM (dicom_gdcm.cpp, the one C++ file): every
 * transfer syntax GDCM decodes (uncompressed little/big endian, implicit VR,
 * deflate, RLE, JPEG baseline/extended/lossless, JPEG-LS, JPEG 2000) into the
 * stored values, plus the attributes the modality and VOI transforms need
 * (dicom_window.c). No windowing happens here. */
#ifndef MOVL_DICOM_DECODE_H
#define MOVL_DICOM_DECODE_H

#ifdef __cplusplus
extern "C" {
#endif

enum { MOVL_VOI_LINEAR = 0, MOVL_VOI_LINEAR_EXACT = 1, MOVL_VOI_SIGMOID = 2 };

typedef struct movl_dicom_pixels {
    int w, h, frames;        /* frames kept (1 unless every frame was asked for) */
    int frames_in_file;
    int spp;                 /* 1: grey, 3: RGB (YBR converted, palette applied) */
    int monochrome1;         /* grey where the lowest value is white */
    int bits_stored, is_signed;
    double slope, intercept; /* modality LUT: value = slope * stored + intercept (1, 0 when absent) */
    int has_window;          /* the file's first Window Center/Width pair */
    double center, width;
    int voi_function;        /* MOVL_VOI_*: VOI LUT Function (linear when absent) */
    char photometric[20];    /* as in the file, for messages */
    double *v;               /* frames * h * w * spp stored values, interleaved, sign and bit depth applied */
} movl_dicom_pixels;

/* Decodes path's pixel data (all_frames 0: the first frame only). Not DICOM,
 * no pixel data, an unsupported or corrupt encoding: MOVL_ERR_INPUT with one
 * line naming the file; out of memory: MOVL_ERR_RUN. On failure *out is empty. */
int movl_dicom_decode(const char *path, int all_frames, movl_dicom_pixels *out, char *err);
void movl_dicom_free(movl_dicom_pixels *p);

#ifdef __cplusplus
}
#endif

#endif
