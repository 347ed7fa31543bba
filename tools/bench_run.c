/* One encoder at one batch size for `movl bench`: images/s of the frozen
 * encoder's forward pass and of a training step (forward + linear probe +
 * softmax cross-entropy + probe gradients + backward to the input), and the
 * per-layer times of the training steps from OpenCL profiling events.
 * The encoder is loaded for this batch size, so its memory is this batch's.
 * With --ff, a full fine-tuning step follows (bench_ff.c). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "encoder/encoder.h"
#include "ops/ops.h"

typedef struct probe_bufs {
    cl_mem W, b, z, labels, loss, dz, dW, db, dfeat, dx;
    size_t bytes;
} probe_bufs;

static cl_mem alloc_counted(movl_device *dev, size_t bytes, size_t *total, char *err)
{
    *total += bytes;
    return movl_buffer(dev, bytes, err);
}

/* Probe weights, bias, logits, labels, loss and the gradients a training step writes. */
static int probe_alloc(movl_device *dev, int batch, int classes, int size, int dim, probe_bufs *p, char *err)
{
    size_t B = (size_t)batch, K = (size_t)classes, D = (size_t)dim, px = 3 * (size_t)size * size;
    memset(p, 0, sizeof *p);
    cl_mem *bufs[] = {&p->W, &p->b, &p->z, &p->labels, &p->loss, &p->dz, &p->dW, &p->db, &p->dfeat, &p->dx};
    size_t bytes[] = {K * D * 4, K * 4, B * K * 4, B * 4, B * 4, B * K * 4, K * D * 4, K * 4, B * D * 4, B * px * 4};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        if (!(*bufs[i] = alloc_counted(dev, bytes[i], &p->bytes, err)))
            return MOVL_ERR_RUN;
    float *w = malloc(K * D * 4);
    int *labels = malloc(B * sizeof(int));
    int rc = MOVL_ERR_RUN;
    if (w && labels) {
        uint32_t s = 12345;
        for (size_t i = 0; i < K * D; i++) {
            s = s * 1664525u + 1013904223u;
            w[i] = ((float)(s >> 8) / 16777216.0f - 0.5f) * 0.02f;
        }
        for (size_t i = 0; i < B; i++)
            labels[i] = (int)(i % K);
        rc = movl_upload(dev, p->W, w, K * D * 4, err) || movl_fill_zero(dev, p->b, K * 4, err) ||
                     movl_upload(dev, p->labels, labels, B * sizeof(int), err)
                 ? MOVL_ERR_RUN
                 : MOVL_OK;
    } else {
        movl_set_error(err, "out of host memory for the probe");
    }
    free(w);
    free(labels);
    return rc;
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
static int train_step(movl_device *dev, movl_encoder *enc, int B, int K, probe_bufs *p, cl_mem x, float *loss_host,
                      char *err)
{
    int D = movl_encoder_feature_dim(enc);
    cl_mem feat = movl_encoder_features(enc);
    if (movl_encoder_forward(enc, B, x, err) || movl_linear_forward(dev, B, D, K, feat, p->W, p->b, p->z, err) ||
        movl_softmax_xent(dev, B, K, p->z, p->labels, p->loss, p->dz, err) ||
        movl_linear_backward_params(dev, B, D, K, feat, p->dz, p->dW, p->db, err) ||
        movl_linear_backward_input(dev, B, D, K, p->W, p->dz, p->dfeat, err) ||
        movl_encoder_backward(enc, p->dfeat, NULL, p->dx, err))
        return MOVL_ERR_RUN;
    return movl_download(dev, p->loss, loss_host, (size_t)B * sizeof(float), err);
}

static int forward_only(movl_device *dev, movl_encoder *enc, int B, cl_mem x, char *err)
{
    float one;
    if (movl_encoder_forward(enc, B, x, err))
        return MOVL_ERR_RUN;
    return movl_download(dev, movl_encoder_logits(enc), &one, sizeof one, err);
}

/* Layer descriptions and zeroed times; FLOPs and bytes for the whole batch. */
static int describe_ops(const movl_encoder *enc, int batch, bench_run *r, char *err)
{
    r->nops = movl_encoder_layer_count(enc);
    r->ops = calloc((size_t)r->nops, sizeof *r->ops);
    if (!r->ops) {
        movl_set_error(err, "out of host memory for %d layers", r->nops);
        return MOVL_ERR_RUN;
    }
    for (int i = 0; i < r->nops; i++) {
        bench_op *op = &r->ops[i];
        double per_image, fixed;
        snprintf(op->name, sizeof op->name, "%s", movl_encoder_layer_name(enc, i));
        op->kind = movl_encoder_layer_kind(enc, i);
        op->gflop = movl_encoder_layer_flops(enc, i) * batch * 1e-9;
        movl_encoder_layer_bytes(enc, i, &per_image, &fixed);
        op->bytes = per_image * batch + fixed;
    }
    return MOVL_OK;
}

/* Adds the last step's per-layer times (the queue has finished: the step
 * ended with a blocking read). Layers without a time (no profiling) add 0. */
static void add_layer_times(const movl_encoder *enc, bench_run *r)
{
    for (int i = 0; i < r->nops; i++) {
        double f = movl_encoder_layer_seconds(enc, i, 0), b = movl_encoder_layer_seconds(enc, i, 1);
        r->ops[i].fwd_s += f > 0 ? f : 0;
        r->ops[i].bwd_s += b > 0 ? b : 0;
    }
}

int bench_run_encoder(movl_device *dev, const bench_opts *o, const char *arch, int batch, bench_run *r, char *err)
{
    memset(r, 0, sizeof *r);
    r->arch = arch;
    r->batch = batch;
    r->size = o->size ? o->size : movl_encoder_default_size(arch);
    r->iters = o->iters;
    movl_encoder *enc = NULL;
    probe_bufs p = {0};
    cl_mem x = NULL;
    size_t px = 3 * (size_t)r->size * r->size * (size_t)batch;
    float *host = malloc(px * sizeof(float)), *loss = malloc((size_t)batch * sizeof(float));
    int rc = MOVL_ERR_RUN;
    double t0 = movl_now();
    if (!host || !loss) {
        movl_set_error(err, "out of host memory for a batch of %d images of %dx%d", batch, r->size, r->size);
        goto done;
    }
    if ((rc = movl_encoder_load(dev, arch, o->weights, batch, r->size, &enc, err)) != MOVL_OK)
        goto done;
    r->load_s = movl_now() - t0;
    rc = MOVL_ERR_RUN;
    for (size_t i = 0; i < px; i++)
        host[i] = (float)((i * 2654435761u) % 1000) / 500.0f - 1.0f;
    if (!(x = movl_buffer(dev, px * sizeof(float), err)) || movl_upload(dev, x, host, px * sizeof(float), err) ||
        probe_alloc(dev, batch, o->classes, r->size, movl_encoder_feature_dim(enc), &p, err) ||
        describe_ops(enc, batch, r, err))
        goto done;
    /* Warm-up (first launches, allocations inside drivers), then timed runs. */
    if (forward_only(dev, enc, batch, x, err) || train_step(dev, enc, batch, o->classes, &p, x, loss, err))
        goto done;
    t0 = movl_now();
    for (int i = 0; i < o->iters; i++)
        if (forward_only(dev, enc, batch, x, err))
            goto done;
    r->fwd_s = (movl_now() - t0) / o->iters;
    double steps = 0;
    for (int i = 0; i < o->iters; i++) {
        double s0 = movl_now();
        if (train_step(dev, enc, batch, o->classes, &p, x, loss, err))
            goto done;
        steps += movl_now() - s0; /* reading the layer times is not part of a step */
        add_layer_times(enc, r);
    }
    r->train_s = steps / o->iters;
    for (int i = 0; i < r->nops; i++) {
        r->ops[i].fwd_s /= o->iters;
        r->ops[i].bwd_s /= o->iters;
    }
    r->gflop_per_image = movl_encoder_flops(enc) * 1e-9;
    r->device_bytes = (double)(movl_encoder_device_bytes(enc) + p.bytes + px * sizeof(float));
    rc = MOVL_OK;
done:
    if (x)
        clReleaseMemObject(x);
    probe_free(&p);
    movl_encoder_free(enc);
    free(host);
    free(loss);
    /* The frozen encoder is gone first: FF loads its own, with gradients and optimiser state. */
    if (rc == MOVL_OK && o->ff)
        rc = bench_run_ff(dev, o, r, err);
    return rc;
}

void bench_run_free(bench_run *r)
{
    free(r->ops);
    r->ops = NULL;
    r->nops = 0;
}
