/* Real weights on real photographs: EfficientNet-Lite0 with its ImageNet
 * weights (weights/efficientnet_lite0.safetensors, from tools/fetch_weights.sh)
 * classifies real photographs shipped in tests/data/photos (sources and
 * licences in its README.md: scikit-image's chelsea, coffee and rocket,
 * scikit-learn's flower). The C side decodes the PNGs, resizes (shorter side 256), crops 224 and normalises;
 * tests/golden/make_golden.py does the same in PyTorch. Checks: the C input
 * equals PyTorch's, the logits agree, the top-1 class is PyTorch's and one of
 * the expected ImageNet classes.
 * Fails without the weights (the README's test command fetches them); skips
 * (77) only when /usr/bin/python3 has no torch. Photo folder: $MOVL_PHOTO_DIR,
 * else tests/data/photos. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/common.h"
#include "encoder/encoder.h"
#include "core/image.h"
#include "test_util.h"
#include "core/weights.h"

#define SKIP_CODE 77
#define RESIZE 256
#define SIZE 224

typedef struct photo {
    const char *file;
    int expected[3]; /* acceptable top-1 ImageNet classes, -1 padded */
} photo;

static const photo photos[] = {
    {"chelsea.png", {281, 282, 285}}, /* tabby, tiger cat, Egyptian cat */
    {"coffee.png", {967, 968, 504}},  /* espresso, cup, coffee mug */
    {"rocket.png", {657, 744, 812}},  /* missile, projectile, space shuttle */
    {"flower.png", {985, -1, -1}},    /* daisy */
};
#define NPHOTOS ((int)(sizeof photos / sizeof photos[0]))

static const char *photo_dirs[] = {MOVL_SOURCE_DIR "/tests/data/photos"};

/* Full path of a photo, or NULL when none of the folders has it. */
static const char *find_photo(const char *file, char *path, size_t n)
{
    const char *env = getenv("MOVL_PHOTO_DIR");
    for (int i = -1; i < (int)(sizeof photo_dirs / sizeof photo_dirs[0]); i++) {
        const char *dir = i < 0 ? env : photo_dirs[i];
        if (!dir)
            continue;
        snprintf(path, n, "%s/%s", dir, file);
        if (access(path, R_OK) == 0)
            return path;
    }
    return NULL;
}

static int skip(const char *why)
{
    printf("SKIP: %s\n", why);
    return SKIP_CODE;
}

static int argmax(const float *v, int n)
{
    int best = 0;
    for (int i = 1; i < n; i++)
        if (v[i] > v[best])
            best = i;
    return best;
}

int main(void)
{
    char weights[1024], tmpdir[64], paths[NPHOTOS][1024], cmd[8192];
    const char *wdir = getenv("MOVL_WEIGHTS_DIR");
    snprintf(weights, sizeof weights, "%s/efficientnet_lite0.safetensors", wdir ? wdir : MOVL_SOURCE_DIR "/weights");
    if (access(weights, R_OK) != 0) {
        fprintf(stderr, "FAIL: no %s (run tools/fetch_weights.sh)\n", weights);
        return 1;
    }
    for (int i = 0; i < NPHOTOS; i++)
        if (!find_photo(photos[i].file, paths[i], sizeof paths[i])) {
            fprintf(stderr, "FAIL: photo %s not found (tests/data/photos or $MOVL_PHOTO_DIR)\n", photos[i].file);
            return 1;
        }
    test_make_tmpdir(tmpdir, sizeof tmpdir, "test_real");
    const char *python = getenv("MOVL_PYTHON") ? getenv("MOVL_PYTHON") : "/usr/bin/python3";
    int used = snprintf(cmd, sizeof cmd, "%s %s/tests/golden/make_golden.py real %s %d %d %s", python,
                        MOVL_SOURCE_DIR, weights, RESIZE, SIZE, tmpdir);
    for (int i = 0; i < NPHOTOS; i++)
        used += snprintf(cmd + used, sizeof cmd - (size_t)used, " %s", paths[i]);
    fflush(stdout);
    int st = system(cmd);
    st = st == -1 || !WIFEXITED(st) ? -1 : WEXITSTATUS(st);
    char ref_path[128];
    snprintf(ref_path, sizeof ref_path, "%s/real.safetensors", tmpdir);
    if (st == SKIP_CODE) {
        rmdir(tmpdir);
        return skip("the Python interpreter has no torch/torchvision (set MOVL_PYTHON to one that has)");
    }
    CHECK(st == 0, "make_golden.py real failed with status %d", st);

    movl_device dev;
    test_open_device(&dev);
    char err[MOVL_ERRLEN];
    movl_encoder *e = NULL;
    movl_weights *ref = NULL;
    int rc = st == 0 ? movl_encoder_load(&dev, "efficientnet_lite0", weights, NPHOTOS, SIZE, &e, err) : MOVL_ERR_RUN;
    CHECK(rc == MOVL_OK, "load: %s", err);
    if (rc == MOVL_OK)
        rc = movl_weights_open(ref_path, &ref, err);
    CHECK(rc == MOVL_OK, "reference: %s", err);
    size_t plane = 3 * (size_t)SIZE * SIZE;
    float *x = malloc(sizeof(float) * plane * NPHOTOS), *xref = malloc(sizeof(float) * plane * NPHOTOS);
    float *zref = malloc(sizeof(float) * 1000 * NPHOTOS), *z = malloc(sizeof(float) * 1000 * NPHOTOS);
    if (rc == MOVL_OK) {
        float mean[3], std[3];
        movl_encoder_normalization(e, mean, std);
        for (int i = 0; i < NPHOTOS && rc == MOVL_OK; i++) {
            char png[1100];
            if (strstr(photos[i].file, ".png"))
                snprintf(png, sizeof png, "%s", paths[i]);
            else /* written by make_golden.py */
                snprintf(png, sizeof png, "%s/%d.png", tmpdir, i);
            movl_image img, crop;
            rc = movl_image_load_png(png, &img, err);
            CHECK(rc == MOVL_OK, "%s: %s", photos[i].file, err);
            if (rc != MOVL_OK)
                break;
            movl_image_resize_crop(&img, RESIZE, SIZE, &crop);
            movl_image_to_chw(&crop, mean, std, x + i * plane);
            movl_image_free(&img);
            movl_image_free(&crop);
        }
    }
    if (rc == MOVL_OK) {
        CHECK(movl_weights_read_f32(ref, "input", xref, plane * NPHOTOS, err) == MOVL_OK &&
                  movl_weights_read_f32(ref, "logits", zref, 1000 * (size_t)NPHOTOS, err) == MOVL_OK,
              "reference: %s", err);
        double rel_x = sqrt(test_nmse(xref, x, plane * NPHOTOS));
        printf("preprocessing: C vs PyTorch input rel L2 %.2e\n", rel_x);
        CHECK(rel_x < 1e-5, "C preprocessing differs from PyTorch's: rel L2 %.3e", rel_x);

        cl_mem bx = movl_buffer(&dev, sizeof(float) * plane * NPHOTOS, err);
        rc = bx ? movl_upload(&dev, bx, x, sizeof(float) * plane * NPHOTOS, err) : MOVL_ERR_RUN;
        rc = rc ? rc : movl_encoder_forward(e, NPHOTOS, bx, err);
        rc = rc ? rc : movl_download(&dev, movl_encoder_logits(e), z, sizeof(float) * 1000 * NPHOTOS, err);
        CHECK(rc == MOVL_OK, "forward: %s", err);
        if (bx)
            clReleaseMemObject(bx);
    }
    for (int i = 0; rc == MOVL_OK && i < NPHOTOS; i++) {
        const float *zi = z + 1000 * (size_t)i, *ri = zref + 1000 * (size_t)i;
        int top = argmax(zi, 1000), top_ref = argmax(ri, 1000);
        double rel = sqrt(test_nmse(ri, zi, 1000));
        int expected = 0;
        for (int k = 0; k < 3; k++)
            expected |= photos[i].expected[k] == top;
        printf("  %-12s top-1 %d (PyTorch %d), logits rel L2 %.2e\n", photos[i].file, top, top_ref, rel);
        CHECK(top == top_ref, "%s: top-1 %d, PyTorch says %d", photos[i].file, top, top_ref);
        CHECK(expected, "%s: top-1 class %d is not one of the expected classes", photos[i].file, top);
        CHECK(rel < 1e-3, "%s: logits differ from PyTorch's by %.3e (relative L2)", photos[i].file, rel);
    }
    free(x);
    free(xref);
    free(z);
    free(zref);
    movl_weights_close(ref);
    movl_encoder_free(e);
    movl_device_close(&dev);
    unlink(ref_path);
    for (int i = 0; i < NPHOTOS; i++) {
        char png[128];
        snprintf(png, sizeof png, "%s/%d.png", tmpdir, i);
        unlink(png);
    }
    rmdir(tmpdir);
    return test_finish();
}
