/* Labelled image datasets: up to three splits (train, val, test), each a list
 * of samples with an integer label and a compactly stored image. Sources:
 * MedMNIST .npz files, a folder of PNGs per class, or a CSV manifest. Sources
 * without splits are split here, class-stratified and seeded. Also: class
 * counts, stratified subsampling, and seeded per-epoch shuffling. Turning
 * samples into encoder input batches is in preprocess.h. */
#ifndef MOVL_DATASET_H
#define MOVL_DATASET_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/image.h"
#include "imgio/image_read.h"

/* The most classes a dataset may have (as [data] num_classes allows): a label
 * of 65536 or more in a file is an error, not a request for that many classes. */
#define MOVL_MAX_CLASSES 65536

enum { MOVL_SPLIT_TRAIN = 0, MOVL_SPLIT_VAL = 1, MOVL_SPLIT_TEST = 2, MOVL_NSPLITS = 3 };
extern const char *const movl_split_names[MOVL_NSPLITS]; /* "train", "val", "test" */

/* How a dataset stores its pixels (one type per dataset):
 * MOVL_PIX_U8: unsigned char, the value is q / 255.0f (MedMNIST; PNGs whose
 *   every value is exactly an 8-bit level);
 * MOVL_PIX_F32: float in [0, 1] (16-bit PNGs, PNGs resized at load). */
enum { MOVL_PIX_U8 = 0, MOVL_PIX_F32 = 1 };

typedef struct movl_sample {
    int label;     /* 0 .. num_classes - 1 */
    int w, h;      /* stored image size */
    size_t offset; /* first value in the split's pool: h * w * channels values, interleaved (HWC) */
} movl_sample;

typedef struct movl_split {
    int n; /* 0: the split is absent (only val/test, see the loaders) */
    movl_sample *samples;
    unsigned char *u8; /* the pool when pixel_type is MOVL_PIX_U8, else NULL */
    float *f32;        /* the pool when pixel_type is MOVL_PIX_F32, else NULL */
} movl_split;

typedef struct movl_dataset {
    char *source;       /* the path it was loaded from */
    int num_classes;
    int channels;       /* 1: grey, 3: RGB (PNGs with R = G = B everywhere are stored grey) */
    int pixel_type;     /* MOVL_PIX_U8 or MOVL_PIX_F32 */
    char **class_names; /* num_classes names (class folders, CSV class names), or NULL (npz, integer labels) */
    movl_split split[MOVL_NSPLITS];
} movl_dataset;

typedef struct movl_dataset_opts {
    /* Expected number of classes; 0 infers it (max label + 1, or the number
     * of class folders / class names). A label outside 0..num_classes-1 is
     * an error. */
    int num_classes;
    /* Sources without splits (class folders, CSV without a split column):
     * fractions of each class that go to val and test (rounded per class),
     * chosen by split_seed. Each in [0, 1), sum < 1; 0 leaves that split absent. */
    double val_frac, test_frac;
    uint64_t split_seed;
    /* Image-file sources: > 0 resizes every image to resize_to x resize_to at load
     * (bilinear, as movl_image_resize), so large PNGs do not stay in memory
     * at full size; 0 keeps the original size. */
    int resize_to;
    /* Image-file sources: how DICOM files become pixels (window, frames). */
    movl_image_read_opts read;
} movl_dataset_opts;

/* num_classes 0, val_frac 0.1, test_frac 0.2, split_seed 0, resize_to 0,
 * read movl_image_read_default_opts(). */
movl_dataset_opts movl_dataset_default_opts(void);

/* Loads by the kind of path: a directory (class folders), *.npz, *.csv.
 * opts NULL means the defaults. On failure ds is left empty (safe to free)
 * and err holds one line naming the file (and key / line) and the problem:
 * MOVL_ERR_INPUT for bad data, MOVL_ERR_RUN for out of memory. */
int movl_dataset_load(const char *path, const movl_dataset_opts *opts, movl_dataset *ds, char *err);

/* MedMNIST-style .npz: keys train_images, train_labels, val_images,
 * val_labels, test_images, test_labels (all required, none empty); images
 * uint8 (N, H, W) or (N, H, W, 3); labels an integer dtype, (N,) or (N, 1).
 * Stored or deflated zip members. */
int movl_dataset_load_npz(const char *path, const movl_dataset_opts *opts, movl_dataset *ds, char *err);

/* dir/CLASS/NAME.{png,jpg,jpeg,dcm,dicom} and extension-less DICOM files:
 * classes are the sub-folders sorted by name (bytes), files sorted within
 * each; other files are ignored; a class folder without an image is an error. Split by opts (val_frac, test_frac, split_seed). */
int movl_dataset_load_folder(const char *dir, const movl_dataset_opts *opts, movl_dataset *ds, char *err);

/* CSV manifest, one sample a line: path,label[,split]. An optional header is
 * a first line whose first field is path, file, filename or image. Paths are
 * relative to the CSV's folder unless absolute. Labels are integers, or
 * class names if any label is not an integer (classes = sorted distinct
 * names). Split is train, val (or valid, validation) or test; without the
 * column the data is split by opts. With it, train must be non-empty and
 * val/test may be absent. Fields may be double-quoted. */
int movl_dataset_load_csv(const char *csv, const movl_dataset_opts *opts, movl_dataset *ds, char *err);

void movl_dataset_free(movl_dataset *ds);

/* counts[num_classes]: samples of each class in the split. */
void movl_dataset_class_counts(const movl_dataset *ds, int split, int *counts);

/* One block: source, classes, channels, size and storage, then a row per
 * class with its count in each split and a total row. */
void movl_dataset_print_summary(const movl_dataset *ds, FILE *f);

/* Keeps at most max_n samples of a split, class-stratified (largest
 * remainder of max_n * n_class / n, every present class kept when max_n
 * allows) and chosen by seed; the kept samples stay in their original order
 * and the pool is compacted. max_n <= 0 or >= n: nothing changes. */
int movl_dataset_subsample(movl_dataset *ds, int split, int max_n, uint64_t seed, char *err);

/* Sample i of a split as a float RGB movl_image (a copy; free with
 * movl_image_free). MOVL_ERR_INPUT if out of range, MOVL_ERR_RUN if out of memory. */
int movl_dataset_get_image(const movl_dataset *ds, int split, int i, movl_image *out, char *err);

/* perm[0..n-1] = a permutation of 0..n-1 that depends only on (seed, epoch):
 * Fisher-Yates driven by xoshiro256** seeded through splitmix64 from
 * hash(seed, epoch), so a resumed run recomputes an epoch's order. */
void movl_shuffle(int n, uint64_t seed, uint64_t epoch, int *perm);

#endif
