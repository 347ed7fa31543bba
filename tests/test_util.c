#define _XOPEN_SOURCE 700 /* nftw */
#include "test_util.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/common.h"
#include "core/rng.h"

int test_passed, test_failed;

#define CANARY_BYTES 256
#define CANARY_BYTE 0xA5

void test_check(int ok, const char *file, int line, const char *fmt, ...)
{
    if (ok) {
        test_passed++;
        return;
    }
    test_failed++;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "FAIL %s:%d: ", file, line);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int test_finish(void)
{
    printf("%d passed, %d failed\n", test_passed, test_failed);
    return (test_failed == 0 && test_passed > 0) ? 0 : 1;
}

void test_open_device(movl_device *dev)
{
    char err[MOVL_ERRLEN];
    if (movl_device_open(NULL, 0, dev, err) != MOVL_OK) {
        fprintf(stderr, "cannot open an OpenCL device: %s\n", err);
        exit(1);
    }
    printf("device: %s (%s)\n", dev->info.name, dev->info.platform_name);
}

static uint64_t rng_state;

uint64_t test_seed(void)
{
    const char *s = getenv("MOVL_TEST_SEED");
    uint64_t seed = s ? strtoull(s, NULL, 0) : (uint64_t)time(NULL) ^ ((uint64_t)clock() << 20);
    printf("seed: %llu (replay with MOVL_TEST_SEED)\n", (unsigned long long)seed);
    return seed;
}

void test_rng_init(uint64_t seed) { rng_state = seed; }

float test_uniform(float lo, float hi)
{
    double u = movl_splitmix_uniform01(&rng_state);
    return (float)(lo + (hi - lo) * u);
}

void test_fill_uniform(float *a, size_t n, float lo, float hi)
{
    for (size_t i = 0; i < n; i++)
        a[i] = test_uniform(lo, hi);
}

double test_nmse(const float *ref, const float *got, size_t n)
{
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(ref[i]) || !isfinite(got[i]))
            return INFINITY;
        double d = (double)ref[i] - (double)got[i];
        num += d * d;
        den += (double)ref[i] * (double)ref[i];
    }
    if (den == 0)
        return num == 0 ? 0 : INFINITY;
    return num / den;
}

static void die_cl(const char *what, const char *err)
{
    fprintf(stderr, "%s: %s\n", what, err);
    exit(1);
}

test_guarded test_guarded_alloc(movl_device *dev, size_t n)
{
    char err[MOVL_ERRLEN];
    test_guarded g = {NULL, n};
    size_t bytes = n * sizeof(float) + CANARY_BYTES;
    g.buf = movl_buffer(dev, bytes, err);
    if (!g.buf)
        die_cl("alloc", err);
    unsigned char canary[CANARY_BYTES];
    memset(canary, CANARY_BYTE, sizeof canary);
    if (movl_upload_at(dev, g.buf, n * sizeof(float), canary, CANARY_BYTES, err))
        die_cl("canary", err);
    test_guarded_upload(dev, &g, NULL);
    return g;
}

void test_guarded_upload(movl_device *dev, test_guarded *g, const float *data)
{
    char err[MOVL_ERRLEN];
    float *tmp = NULL;
    if (!data) {
        tmp = malloc(g->n * sizeof(float) + 1);
        for (size_t i = 0; i < g->n; i++)
            tmp[i] = NAN;
        data = tmp;
    }
    if (g->n && movl_upload(dev, g->buf, data, g->n * sizeof(float), err))
        die_cl("upload", err);
    free(tmp);
}

void test_guarded_download(movl_device *dev, test_guarded *g, float *out)
{
    char err[MOVL_ERRLEN];
    if (g->n && movl_download(dev, g->buf, out, g->n * sizeof(float), err))
        die_cl("download", err);
}

float *test_guarded_read(movl_device *dev, test_guarded *g)
{
    float *a = malloc(g->n * sizeof *a + 1);
    if (!a) {
        fprintf(stderr, "out of host memory reading %zu floats\n", g->n);
        exit(1);
    }
    test_guarded_download(dev, g, a);
    return a;
}

int test_guard_ok(movl_device *dev, test_guarded *g)
{
    char err[MOVL_ERRLEN];
    unsigned char canary[CANARY_BYTES];
    if (movl_download_at(dev, g->buf, g->n * sizeof(float), canary, CANARY_BYTES, err))
        die_cl("canary read", err);
    for (int i = 0; i < CANARY_BYTES; i++)
        if (canary[i] != CANARY_BYTE)
            return 0;
    return 1;
}

void test_guarded_free(test_guarded *g)
{
    if (g->buf)
        clReleaseMemObject(g->buf);
    g->buf = NULL;
}

void test_make_tmpdir(char *buf, size_t n, const char *name)
{
    snprintf(buf, n, "/tmp/movl_%s_XXXXXX", name);
    if (!mkdtemp(buf)) {
        fprintf(stderr, "FAIL: cannot make a folder %s: %s\n", buf, strerror(errno));
        exit(1);
    }
}

void test_write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    int ok = f && fputs(text, f) >= 0;
    if (f && fclose(f))
        ok = 0;
    if (!ok) {
        fprintf(stderr, "FAIL: cannot write %s: %s\n", path, strerror(errno));
        exit(1);
    }
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

int test_remove_tree(const char *dir)
{
    /* depth first, links not followed */
    if (nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) == 0)
        return 0;
    fprintf(stderr, "could not remove %s: %s\n", dir, strerror(errno));
    return -1;
}

int test_temp_left(const char *path)
{
    const char *slash = strrchr(path, '/');
    char dir[4096], prefix[4096];
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
    snprintf(prefix, sizeof prefix, "%s.tmp", slash ? slash + 1 : path);
    DIR *d = opendir(dir);
    int found = 0;
    for (struct dirent *e; d && !found && (e = readdir(d));)
        found = strncmp(e->d_name, prefix, strlen(prefix)) == 0;
    if (d)
        closedir(d);
    return found;
}
