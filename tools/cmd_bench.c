/* movl bench --arch A [--batch N] [--size S] [--device D] [--weights W]
 *            [--iters K] [--classes C] [--json]
 * Images/s of the frozen encoder's forward pass and of a training step
 * (forward + linear probe + softmax cross-entropy + probe gradients +
 * backward to the input), GFLOP/s, per-layer times from OpenCL profiling
 * events, and device memory. A benchmark prints figures; it asserts nothing. */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "common.h"
#include "device.h"
#include "encoder.h"
#include "ops.h"

typedef struct bench_opts {
    const char *arch, *weights, *device;
    int batch, size, iters, classes, json;
} bench_opts;

typedef struct probe_bufs {
    cl_mem W, b, z, labels, loss, dz, dW, db, dfeat, dx;
    size_t bytes;
} probe_bufs;

static cl_mem alloc_counted(movl_device *dev, size_t bytes, size_t *total, char *err)
{
    *total += bytes;
    return movl_buffer(dev, bytes, err);
}

static int probe_alloc(movl_device *dev, const bench_opts *o, int dim, probe_bufs *p, char *err)
{
    size_t B = (size_t)o->batch, K = (size_t)o->classes, D = (size_t)dim, px = 3 * (size_t)o->size * o->size;
    memset(p, 0, sizeof *p);
    if (!(p->W = alloc_counted(dev, K * D * 4, &p->bytes, err)) || !(p->b = alloc_counted(dev, K * 4, &p->bytes, err)) ||
        !(p->z = alloc_counted(dev, B * K * 4, &p->bytes, err)) ||
        !(p->labels = alloc_counted(dev, B * 4, &p->bytes, err)) ||
        !(p->loss = alloc_counted(dev, B * 4, &p->bytes, err)) || !(p->dz = alloc_counted(dev, B * K * 4, &p->bytes, err)) ||
        !(p->dW = alloc_counted(dev, K * D * 4, &p->bytes, err)) || !(p->db = alloc_counted(dev, K * 4, &p->bytes, err)) ||
        !(p->dfeat = alloc_counted(dev, B * D * 4, &p->bytes, err)) ||
        !(p->dx = alloc_counted(dev, B * px * 4, &p->bytes, err)))
        return MOVL_ERR_RUN;
    float *w = malloc(K * D * 4);
    int *labels = malloc(B * sizeof(int));
    uint32_t s = 12345;
    for (size_t i = 0; i < K * D; i++) {
        s = s * 1664525u + 1013904223u;
        w[i] = ((float)(s >> 8) / 16777216.0f - 0.5f) * 0.02f;
    }
    for (size_t i = 0; i < B; i++)
        labels[i] = (int)(i % K);
    int rc = movl_upload(dev, p->W, w, K * D * 4, err) || movl_fill_zero(dev, p->b, K * 4, err) ||
             movl_upload(dev, p->labels, labels, B * sizeof(int), err);
    free(w);
    free(labels);
    return rc ? MOVL_ERR_RUN : MOVL_OK;
}

static void probe_free(probe_bufs *p)
{
    cl_mem *m[] = {&p->W, &p->b, &p->z, &p->labels, &p->loss, &p->dz, &p->dW, &p->db, &p->dfeat, &p->dx};
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
        if (*m[i])
            clReleaseMemObject(*m[i]);
}

/* One training step of a linear probe with the prompt gradient: everything
 * MoVL does per batch except the optimiser update. One host sync (the loss). */
static int train_step(movl_device *dev, movl_encoder *enc, const bench_opts *o, probe_bufs *p, cl_mem x,
                      float *loss_host, char *err)
{
    int B = o->batch, K = o->classes, D = movl_encoder_feature_dim(enc);
    cl_mem feat = movl_encoder_features(enc);
    if (movl_encoder_forward(enc, B, x, err) || movl_linear_forward(dev, B, D, K, feat, p->W, p->b, p->z, err) ||
        movl_softmax_xent(dev, B, K, p->z, p->labels, p->loss, p->dz, err) ||
        movl_linear_backward_params(dev, B, D, K, feat, p->dz, p->dW, p->db, err) ||
        movl_linear_backward_input(dev, B, D, K, p->W, p->dz, p->dfeat, err) ||
        movl_encoder_backward(enc, p->dfeat, NULL, p->dx, err))
        return MOVL_ERR_RUN;
    return movl_download(dev, p->loss, loss_host, (size_t)B * sizeof(float), err);
}

static int forward_only(movl_device *dev, movl_encoder *enc, const bench_opts *o, cl_mem x, char *err)
{
    float one;
    if (movl_encoder_forward(enc, o->batch, x, err))
        return MOVL_ERR_RUN;
    return movl_download(dev, movl_encoder_logits(enc), &one, sizeof one, err);
}

static int parse(int argc, char **argv, bench_opts *o)
{
    *o = (bench_opts){NULL, NULL, NULL, 32, 0, 5, 2, 0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int v = i + 1 < argc;
        if (!strcmp(a, "--arch") && v)
            o->arch = argv[++i];
        else if (!strcmp(a, "--weights") && v)
            o->weights = argv[++i];
        else if (!strcmp(a, "--device") && v)
            o->device = argv[++i];
        else if (!strcmp(a, "--batch") && v)
            o->batch = atoi(argv[++i]);
        else if (!strcmp(a, "--size") && v)
            o->size = atoi(argv[++i]);
        else if (!strcmp(a, "--iters") && v)
            o->iters = atoi(argv[++i]);
        else if (!strcmp(a, "--classes") && v)
            o->classes = atoi(argv[++i]);
        else if (!strcmp(a, "--json"))
            o->json = 1;
        else if (!cli_common_flag(a)) {
            fprintf(stderr, "movl bench: unknown option or missing value '%s'\n", a);
            return MOVL_ERR_INPUT;
        }
    }
    if (!o->arch || !movl_encoder_default_size(o->arch)) {
        fprintf(stderr, "movl bench: --arch must be one of resnet18, resnet34, resnet50, efficientnet_lite0..4\n");
        return MOVL_ERR_INPUT;
    }
    if (!o->size)
        o->size = movl_encoder_default_size(o->arch);
    if (o->batch < 1 || o->batch > 1024 || o->size < 32 || o->size > 1024 || o->iters < 1 || o->classes < 2) {
        fprintf(stderr, "movl bench: expected --batch 1..1024, --size 32..1024, --iters >= 1, --classes >= 2\n");
        return MOVL_ERR_INPUT;
    }
    return MOVL_OK;
}

int cmd_bench(int argc, char **argv)
{
    bench_opts o;
    int rc = parse(argc, argv, &o);
    if (rc)
        return rc;
    char err[MOVL_ERRLEN] = "";
    movl_device dev;
    movl_encoder *enc = NULL;
    probe_bufs p = {0};
    cl_mem x = NULL;
    float *host = NULL, *loss = NULL;
    int opened = 0;
    /* Profiling events cost little; the per-layer table needs them. */
    if ((rc = movl_device_open(o.device, 1, &dev, err)) != MOVL_OK)
        goto done;
    opened = 1;
    double t_load = movl_now();
    if ((rc = movl_encoder_load(&dev, o.arch, o.weights, o.batch, o.size, &enc, err)) != MOVL_OK)
        goto done;
    t_load = movl_now() - t_load;
    rc = MOVL_ERR_RUN;
    size_t px = 3 * (size_t)o.size * o.size * (size_t)o.batch;
    host = malloc(px * sizeof(float));
    loss = malloc((size_t)o.batch * sizeof(float));
    for (size_t i = 0; i < px; i++)
        host[i] = (float)((i * 2654435761u) % 1000) / 500.0f - 1.0f;
    if (!(x = movl_buffer(&dev, px * sizeof(float), err)) || movl_upload(&dev, x, host, px * sizeof(float), err) ||
        probe_alloc(&dev, &o, movl_encoder_feature_dim(enc), &p, err))
        goto done;

    /* Warm-up (first launches, allocations inside drivers), then timed runs. */
    if (forward_only(&dev, enc, &o, x, err) || train_step(&dev, enc, &o, &p, x, loss, err))
        goto done;
    double t0 = movl_now();
    for (int i = 0; i < o.iters; i++)
        if (forward_only(&dev, enc, &o, x, err))
            goto done;
    double t_fwd = (movl_now() - t0) / o.iters;
    t0 = movl_now();
    for (int i = 0; i < o.iters; i++)
        if (train_step(&dev, enc, &o, &p, x, loss, err))
            goto done;
    double t_train = (movl_now() - t0) / o.iters;
    clFinish(dev.queue);

    double flops = movl_encoder_flops(enc) * o.batch;
    /* Backward to the input costs about what the forward costs (no weight gradients). */
    double fwd_img_s = o.batch / t_fwd, train_img_s = o.batch / t_train;
    size_t enc_bytes = movl_encoder_device_bytes(enc), total_bytes = enc_bytes + p.bytes + px * sizeof(float);
    int nl = movl_encoder_layer_count(enc);
    if (o.json) {
        cJSON *r = cJSON_CreateObject();
        cJSON_AddStringToObject(r, "device", dev.info.name);
        cJSON_AddStringToObject(r, "platform", dev.info.platform_name);
        cJSON_AddStringToObject(r, "driver", dev.info.driver_version);
        cJSON_AddStringToObject(r, "arch", o.arch);
        cJSON_AddNumberToObject(r, "batch", o.batch);
        cJSON_AddNumberToObject(r, "size", o.size);
        cJSON_AddNumberToObject(r, "iters", o.iters);
        cJSON_AddNumberToObject(r, "load_s", t_load);
        cJSON_AddNumberToObject(r, "forward_img_s", fwd_img_s);
        cJSON_AddNumberToObject(r, "train_step_img_s", train_img_s);
        cJSON_AddNumberToObject(r, "forward_gflop_s", flops / t_fwd * 1e-9);
        cJSON_AddNumberToObject(r, "train_step_gflop_s", 2 * flops / t_train * 1e-9);
        cJSON_AddNumberToObject(r, "gflop_per_image", movl_encoder_flops(enc) * 1e-9);
        cJSON_AddNumberToObject(r, "device_bytes", (double)total_bytes);
        cJSON *layers = cJSON_AddArrayToObject(r, "layers");
        for (int i = 0; i < nl; i++) {
            cJSON *l = cJSON_CreateObject();
            cJSON_AddStringToObject(l, "name", movl_encoder_layer_name(enc, i));
            cJSON_AddNumberToObject(l, "gflop", movl_encoder_layer_flops(enc, i) * o.batch * 1e-9);
            cJSON_AddNumberToObject(l, "forward_ms", 1e3 * movl_encoder_layer_seconds(enc, i, 0));
            cJSON_AddNumberToObject(l, "backward_ms", 1e3 * movl_encoder_layer_seconds(enc, i, 1));
            cJSON_AddItemToArray(layers, l);
        }
        char *s = cJSON_Print(r);
        printf("%s\n", s);
        free(s);
        cJSON_Delete(r);
    } else {
        printf("device   %s (%s, driver %s)\n", dev.info.name, dev.info.platform_name, dev.info.driver_version);
        printf("encoder  %s, batch %d, %dx%d, %.2f GFLOP/image forward, load %.1f s\n", o.arch, o.batch, o.size,
               o.size, movl_encoder_flops(enc) * 1e-9, t_load);
        printf("forward        %8.2f img/s  %7.1f GFLOP/s\n", fwd_img_s, flops / t_fwd * 1e-9);
        printf("training step  %8.2f img/s  %7.1f GFLOP/s (forward + probe + backward to the input)\n", train_img_s,
               2 * flops / t_train * 1e-9);
        printf("device memory  %.0f MiB (encoder weights and activations %.0f MiB)\n", total_bytes / 1048576.0,
               enc_bytes / 1048576.0);
        printf("\nper layer, last training step (OpenCL profiling events):\n");
        printf("  %-28s %9s %9s %9s %9s\n", "layer", "GFLOP", "fwd ms", "bwd ms", "fwd GF/s");
        double sf = 0, sb = 0;
        for (int i = 0; i < nl; i++) {
            double f = movl_encoder_layer_seconds(enc, i, 0), b = movl_encoder_layer_seconds(enc, i, 1);
            double g = movl_encoder_layer_flops(enc, i) * o.batch * 1e-9;
            sf += f > 0 ? f : 0;
            sb += b > 0 ? b : 0;
            printf("  %-28s %9.3f %9.2f %9.2f %9.1f\n", movl_encoder_layer_name(enc, i), g, 1e3 * f, 1e3 * b,
                   f > 0 ? g / f : 0);
        }
        printf("  %-28s %9s %9.1f %9.1f\n", "sum", "", 1e3 * sf, 1e3 * sb);
    }
    rc = MOVL_OK;
done:
    if (rc != MOVL_OK && err[0])
        fprintf(stderr, "movl bench: %s\n", err);
    if (x)
        clReleaseMemObject(x);
    probe_free(&p);
    movl_encoder_free(enc);
    if (opened)
        movl_device_close(&dev);
    free(host);
    free(loss);
    return rc;
}
