/* movl classify --arch A --weights W [--device D] [--size S] [--top K] [--json]
 *               [--save-tensors F.safetensors] IMAGE...
 * Top-K ImageNet classes of each image with the frozen encoder. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "core/common.h"
#include "device/device.h"
#include "encoder/encoder.h"
#include "core/image.h"
#include "core/weights.h"
#include "imgio/image_read.h"

#define MAX_CLASSES 1000

/* Reads data/imagenet_classes.txt (one name a line) from the source tree or next to the binary's data. */
static int load_class_names(char names[MAX_CLASSES][64], char *err)
{
    const char *candidates[] = {getenv("MOVL_DATA_DIR"), MOVL_SOURCE_DIR "/data", "data"};
    for (size_t c = 0; c < sizeof candidates / sizeof candidates[0]; c++) {
        if (!candidates[c])
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/imagenet_classes.txt", candidates[c]);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        int n = 0;
        char line[256];
        while (n < MAX_CLASSES && fgets(line, sizeof line, f)) {
            line[strcspn(line, "\r\n")] = 0;
            snprintf(names[n++], 64, "%.63s", line);
        }
        fclose(f);
        if (n != MAX_CLASSES) {
            movl_set_error(err, "%s: expected %d class names, found %d", path, MAX_CLASSES, n);
            return MOVL_ERR_INPUT;
        }
        return MOVL_OK;
    }
    movl_set_error(err, "cannot find imagenet_classes.txt (set MOVL_DATA_DIR to the project's data folder)");
    return MOVL_ERR_INPUT;
}

static void softmax(const float *z, int n, float *p)
{
    float m = z[0];
    for (int i = 1; i < n; i++)
        m = z[i] > m ? z[i] : m;
    double s = 0;
    for (int i = 0; i < n; i++)
        s += exp((double)z[i] - m);
    for (int i = 0; i < n; i++)
        p[i] = (float)(exp((double)z[i] - m) / s);
}

/* Indices of the k largest values, largest first (ties: lower index first). */
static void top_k(const float *p, int n, int k, int *idx)
{
    for (int j = 0; j < k; j++) {
        int best = -1;
        for (int i = 0; i < n; i++) {
            int used = 0;
            for (int t = 0; t < j; t++)
                used |= idx[t] == i;
            if (!used && (best < 0 || p[i] > p[best]))
                best = i;
        }
        idx[j] = best;
    }
}

static int usage(const char *msg)
{
    return cli_usage_error("classify", msg); /* the text: tools/command_usage.c */
}

int cmd_classify(int argc, char **argv)
{
    const char *arch = NULL, *weights = NULL, *device = NULL, *save = NULL;
    int size = 0, topk = 5, json = 0, nimg = 0;
    const char **images = calloc((size_t)argc, sizeof *images);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has_val = i + 1 < argc;
        if (!strcmp(a, "--arch") && has_val)
            arch = argv[++i];
        else if (!strcmp(a, "--weights") && has_val)
            weights = argv[++i];
        else if (!strcmp(a, "--device") && has_val)
            device = argv[++i];
        else if (!strcmp(a, "--save-tensors") && has_val)
            save = argv[++i];
        else if (!strcmp(a, "--size") && has_val)
            size = atoi(argv[++i]);
        else if (!strcmp(a, "--top") && has_val)
            topk = atoi(argv[++i]);
        else if (!strcmp(a, "--json"))
            json = 1;
        else if (cli_common_flag(a))
            ;
        else if (a[0] == '-') {
            free(images);
            char msg[300];
            snprintf(msg, sizeof msg, "unknown option or missing value: '%s'", a);
            return usage(msg);
        } else
            images[nimg++] = a;
    }
    int rc = MOVL_ERR_INPUT;
    if (!arch || !weights || nimg == 0) {
        free(images);
        return usage("--arch, --weights and at least one image are required");
    }
    if (!movl_encoder_default_size(arch)) {
        free(images);
        return usage("unknown --arch (expected resnet18, resnet34, resnet50, efficientnet_lite0..4)");
    }
    if (size == 0)
        size = movl_encoder_default_size(arch);
    if (size < 32 || size > 1024 || topk < 1 || topk > MAX_CLASSES) {
        free(images);
        return usage("--size must be 32..1024 and --top 1..1000");
    }

    char err[MOVL_ERRLEN] = "";
    static char names[MAX_CLASSES][64];
    movl_device dev;
    movl_encoder *enc = NULL;
    movl_image *crops = calloc((size_t)nimg, sizeof *crops);
    float *input = NULL, *logits = NULL;
    cl_mem x = NULL;
    int opened = 0;
    if ((rc = load_class_names(names, err)) != MOVL_OK)
        goto fail;
    /* Decode every image first: a bad file fails before any device work. */
    for (int i = 0; i < nimg; i++) {
        movl_image img;
        if ((rc = movl_image_read(images[i], NULL, &img, err)) != MOVL_OK) /* PNG, JPEG or DICOM (its own window) */
            goto fail;
        movl_image_resize_crop(&img, size + 32, size, &crops[i]);
        movl_image_free(&img);
    }
    size_t per = 3 * (size_t)size * size;
    input = malloc(per * (size_t)nimg * sizeof(float));
    logits = malloc((size_t)nimg * MAX_CLASSES * sizeof(float));
    if ((rc = movl_device_open(device, 0, &dev, err)) != MOVL_OK) {
        if (strstr(err, "no OpenCL device found"))
            fprintf(stderr, "movl classify: %s\n%s\n", err, movl_install_hint()), err[0] = 0;
        goto fail;
    }
    opened = 1;
    int batch = nimg < 8 ? nimg : 8;
    if ((rc = movl_encoder_load(&dev, arch, weights, batch, size, &enc, err)) != MOVL_OK)
        goto fail;
    float mean[3], std[3];
    movl_encoder_normalization(enc, mean, std);
    for (int i = 0; i < nimg; i++)
        movl_image_to_chw(&crops[i], mean, std, input + per * (size_t)i);
    rc = MOVL_ERR_RUN;
    if (!(x = movl_buffer(&dev, per * (size_t)batch * sizeof(float), err)))
        goto fail;
    for (int b0 = 0; b0 < nimg; b0 += batch) {
        int nb = nimg - b0 < batch ? nimg - b0 : batch;
        if (movl_upload(&dev, x, input + per * (size_t)b0, per * (size_t)nb * sizeof(float), err) ||
            movl_encoder_forward(enc, nb, x, err) ||
            movl_download(&dev, movl_encoder_logits(enc), logits + (size_t)b0 * MAX_CLASSES,
                          (size_t)nb * MAX_CLASSES * sizeof(float), err))
            goto fail;
    }
    if (save) {
        movl_tensor_out t[2] = {{"input", 4, {nimg, 3, size, size}, input}, {"logits", 2, {nimg, MAX_CLASSES}, logits}};
        if ((rc = movl_weights_write(save, t, 2, NULL, err)) != MOVL_OK)
            goto fail;
    }
    cJSON *root = json ? cJSON_CreateArray() : NULL;
    float p[MAX_CLASSES];
    int idx[MAX_CLASSES];
    for (int i = 0; i < nimg; i++) {
        softmax(logits + (size_t)i * MAX_CLASSES, MAX_CLASSES, p);
        top_k(p, MAX_CLASSES, topk, idx);
        cJSON *o = NULL, *arr = NULL;
        if (json) {
            o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "image", images[i]);
            arr = cJSON_AddArrayToObject(o, "top");
            cJSON_AddItemToArray(root, o);
        } else
            printf("%s\n", images[i]);
        for (int j = 0; j < topk; j++) {
            if (json) {
                cJSON *c = cJSON_CreateObject();
                cJSON_AddNumberToObject(c, "class", idx[j]);
                cJSON_AddStringToObject(c, "name", names[idx[j]]);
                cJSON_AddNumberToObject(c, "probability", p[idx[j]]);
                cJSON_AddItemToArray(arr, c);
            } else
                printf("  %d. %6.2f%%  %s (%d)\n", j + 1, 100.0 * p[idx[j]], names[idx[j]], idx[j]);
        }
    }
    if (json) {
        char *s = cJSON_Print(root);
        printf("%s\n", s);
        free(s);
        cJSON_Delete(root);
    }
    rc = MOVL_OK;
fail:
    if (rc != MOVL_OK && err[0])
        fprintf(stderr, "movl classify: %s\n", err);
    if (x)
        clReleaseMemObject(x);
    movl_encoder_free(enc);
    if (opened)
        movl_device_close(&dev);
    for (int i = 0; i < nimg; i++)
        movl_image_free(&crops[i]);
    free(crops);
    free(input);
    free(logits);
    free(images);
    return rc;
}
