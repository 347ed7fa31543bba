/* Shared helpers of the C tests: seeded random data, NMSE comparison with
 * NaN/Inf rejection, canary-guarded device buffers, and a pass/fail tally
 * printed as "N passed, M failed" (ctest reads the exit code). */
#ifndef MOVL_TEST_UTIL_H
#define MOVL_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "device/device.h"

extern int test_passed, test_failed;

/* Records one check; prints a FAIL line with the message when cond is false. */
#define CHECK(cond, ...) test_check((cond) != 0, __FILE__, __LINE__, __VA_ARGS__)
void test_check(int ok, const char *file, int line, const char *fmt, ...);

/* Prints the tally and returns the exit code (0 when nothing failed and at least one check ran). */
int test_finish(void);

/* Opens the device for tests ($MOVL_DEVICE or the default); exits 1 on failure. */
void test_open_device(movl_device *dev);

/* Seeded generator (splitmix64); each run of a test uses a fresh seed unless
 * MOVL_TEST_SEED is set; the seed is printed so a failure can be replayed. */
uint64_t test_seed(void);
void test_rng_init(uint64_t seed);
float test_uniform(float lo, float hi);
void test_fill_uniform(float *a, size_t n, float lo, float hi);

/* NMSE = sum (a-b)^2 / sum a^2 (a is the reference); returns INFINITY if
 * either array holds NaN/Inf. */
double test_nmse(const float *ref, const float *got, size_t n);

/* A device buffer of n floats followed by a canary region filled with a
 * fixed byte pattern; test_guard_ok checks the pattern is intact. */
typedef struct test_guarded {
    cl_mem buf;
    size_t n;
} test_guarded;
test_guarded test_guarded_alloc(movl_device *dev, size_t n);
/* Uploads data (n floats) or, with data NULL, fills the payload with NaN. */
void test_guarded_upload(movl_device *dev, test_guarded *g, const float *data);
void test_guarded_download(movl_device *dev, test_guarded *g, float *out);
/* The payload as a new malloc'd array of g->n floats (the caller frees it). */
float *test_guarded_read(movl_device *dev, test_guarded *g);
int test_guard_ok(movl_device *dev, test_guarded *g);
void test_guarded_free(test_guarded *g);

/* Scratch files. A fixture that cannot be made ends the test (exit 1): what
 * follows would only report its absence. */
/* A fresh folder /tmp/movl_NAME_XXXXXX, its path in buf. */
void test_make_tmpdir(char *buf, size_t n, const char *name);
/* Writes text to path (created or truncated). */
void test_write_text(const char *path, const char *text);
/* Removes dir and everything under it; 0, or -1 (reported on stderr). */
int test_remove_tree(const char *dir);
/* 1 when a temporary file of path's writer (PATH.tmp...) is in its folder. */
int test_temp_left(const char *path);

#endif
