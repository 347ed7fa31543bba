/* `movl bench --ff`: one encoder at one batch size, loaded trainable, timed
 * over complete full fine-tuning steps, the same pieces as the trainer's
 * tr_step_full (runtime/train/trainer_steps.c): forward, linear probe,
 * mean cross-entropy, probe gradients, backward with the weight gradients
 * of every BN-folded conv (no input gradient), Adam over the flat backbone
 * buffer, repacking the weights for the convolutions, Adam on the probe.
 * Random data and stand-in weights; one host sync per step (the loss).
 * Profiling markers between the parts give where the step's time goes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapt/discrepancy.h"
#include "adapt/optim.h"
#include "bench.h"
#include "encoder/encoder.h"
#include "ops/ops.h"

/* The trainer's defaults for method ff (backbone_* group): Adam, lr 1e-4, weight decay 5e-4. */
#define FF_LR 1e-4
#define FF_WEIGHT_DECAY 5e-4f

typedef struct ff_bufs {
    cl_mem x, W, b, z, labels, loss, dz, dW, db, dfeat;
    size_t probe_param_bytes, activation_bytes; /* W, b, dW, db / the rest */
    movl_optimizer opt_backbone, opt_W, opt_b;
    int nopt;
} ff_bufs;

static void ff_free(ff_bufs *f)
{
    cl_mem *m[] = {&f->x, &f->W, &f->b, &f->z, &f->labels, &f->loss, &f->dz, &f->dW, &f->db, &f->dfeat};
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
        if (*m[i])
            clReleaseMemObject(*m[i]);
    movl_optimizer *o[] = {&f->opt_backbone, &f->opt_W, &f->opt_b};
    for (int i = 0; i < f->nopt; i++)
        movl_opt_free(o[i]);
}

static int upload_random(movl_device *dev, cl_mem m, size_t n, float scale, uint32_t seed, char *err)
{
    float *h = malloc(n * sizeof(float));
    if (!h) {
        movl_set_error(err, "out of host memory for %zu floats", n);
        return MOVL_ERR_RUN;
    }
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        h[i] = ((float)(seed >> 8) / 16777216.0f - 0.5f) * scale;
    }
    int rc = movl_upload(dev, m, h, n * sizeof(float), err) ? MOVL_ERR_RUN : MOVL_OK;
    free(h);
    return rc;
}

/* Input batch, probe, its gradients and the three Adam states (backbone, probe W, probe b). */
static int ff_alloc(movl_device *dev, movl_encoder *enc, int batch, int classes, int size, ff_bufs *f, char *err)
{
    size_t B = (size_t)batch, K = (size_t)classes, D = (size_t)movl_encoder_feature_dim(enc);
    size_t px = B * 3 * (size_t)size * size;
    memset(f, 0, sizeof *f);
    cl_mem *bufs[] = {&f->W, &f->b, &f->dW, &f->db, &f->x, &f->z, &f->labels, &f->loss, &f->dz, &f->dfeat};
    size_t bytes[] = {K * D * 4, K * 4, K * D * 4, K * 4, px * 4, B * K * 4, B * 4, 2 * 4, B * K * 4, B * D * 4};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) {
        if (!(*bufs[i] = movl_buffer(dev, bytes[i], err)))
            return MOVL_ERR_RUN;
        *(i < 4 ? &f->probe_param_bytes : &f->activation_bytes) += bytes[i];
    }
    int *labels = malloc(B * sizeof(int));
    if (!labels) {
        movl_set_error(err, "out of host memory for %d labels", batch);
        return MOVL_ERR_RUN;
    }
    for (size_t i = 0; i < B; i++)
        labels[i] = (int)(i % K);
    int rc = movl_upload(dev, f->labels, labels, B * sizeof(int), err);
    free(labels);
    if (rc || upload_random(dev, f->x, px, 2.0f, 777u, err) || upload_random(dev, f->W, K * D, 0.02f, 12345u, err) ||
        movl_fill_zero(dev, f->b, K * 4, err))
        return MOVL_ERR_RUN;
    movl_opt_config c = movl_opt_defaults(MOVL_OPT_ADAM);
    c.weight_decay = FF_WEIGHT_DECAY;
    movl_optimizer *o[] = {&f->opt_backbone, &f->opt_W, &f->opt_b};
    size_t n[] = {movl_encoder_param_floats(enc), K * D, K};
    for (int i = 0; i < 3; i++) {
        if (movl_opt_init(o[i], dev, &c, n[i], err) != MOVL_OK)
            return MOVL_ERR_RUN;
        f->nopt++;
    }
    return MOVL_OK;
}

/* A marker whose end time separates two parts of the step (profiling queues only). */
static int mark(movl_device *dev, cl_event *ev, char *err)
{
    if (!dev->profiling)
        return MOVL_OK;
    cl_int rc = clEnqueueMarkerWithWaitList(dev->queue, 0, NULL, ev);
    if (rc != CL_SUCCESS) {
        movl_set_error(err, "cannot enqueue a profiling marker: %s", movl_cl_error_name(rc));
        return MOVL_ERR_RUN;
    }
    return MOVL_OK;
}

static double end_time(cl_event ev)
{
    cl_ulong t = 0;
    if (!ev || clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_END, sizeof t, &t, NULL) != CL_SUCCESS)
        return -1.0;
    return (double)t * 1e-9;
}

/* One full fine-tuning step, enqueued like tr_step_full, markers ev[0..FF_NPARTS]
 * around its parts; ends with the one blocking read (the loss). */
static int ff_step(movl_device *dev, movl_encoder *enc, int B, int K, ff_bufs *f, long step, cl_event *ev,
                   char *err)
{
    int D = movl_encoder_feature_dim(enc);
    cl_mem feat = movl_encoder_features(enc);
    float loss;
    if (mark(dev, &ev[0], err) || movl_encoder_forward(enc, B, f->x, err) || mark(dev, &ev[1], err) ||
        movl_linear_forward(dev, B, D, K, feat, f->W, f->b, f->z, err) ||
        movl_xent_mean(dev, B, K, f->z, f->labels, 1.0f, 0, f->dz, f->loss, 0, err) ||
        movl_linear_backward_params(dev, B, D, K, feat, f->dz, f->dW, f->db, err) ||
        movl_linear_backward_input(dev, B, D, K, f->W, f->dz, f->dfeat, err) || mark(dev, &ev[2], err) ||
        movl_encoder_backward(enc, f->dfeat, NULL, NULL, err) || mark(dev, &ev[3], err) ||
        movl_opt_step(&f->opt_backbone, movl_encoder_params(enc), movl_encoder_param_grads(enc), FF_LR, step, err) ||
        mark(dev, &ev[4], err) || movl_encoder_params_changed(enc, err) || mark(dev, &ev[5], err) ||
        movl_opt_step(&f->opt_W, f->W, f->dW, FF_LR, step, err) ||
        movl_opt_step(&f->opt_b, f->b, f->db, FF_LR, step, err) || mark(dev, &ev[6], err))
        return MOVL_ERR_RUN;
    return movl_download(dev, f->loss, &loss, sizeof loss, err);
}

/* Adds the finished step's part and per-layer times; releases the markers. */
static void add_step_times(const movl_encoder *enc, cl_event *ev, bench_run *r)
{
    for (int p = 0; p < FF_NPARTS; p++) {
        double a = end_time(ev[p]), b = end_time(ev[p + 1]);
        r->ff.part_s[p] += a >= 0 && b > a ? b - a : 0;
    }
    for (int p = 0; p <= FF_NPARTS; p++)
        if (ev[p]) {
            clReleaseEvent(ev[p]);
            ev[p] = NULL;
        }
    for (int i = 0; i < r->nops; i++) {
        double f = movl_encoder_layer_seconds(enc, i, 0), b = movl_encoder_layer_seconds(enc, i, 1);
        r->ops[i].ff_fwd_s += f > 0 ? f : 0;
        r->ops[i].ff_bwd_s += b > 0 ? b : 0;
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int bench_run_ff(movl_device *dev, const bench_opts *o, bench_run *r, char *err)
{
    movl_encoder_options eo = {.trainable = 1, .state_floats_per_param = 2};
    movl_encoder *enc = NULL;
    ff_bufs f;
    memset(&f, 0, sizeof f);
    cl_event ev[FF_NPARTS + 1] = {0};
    double *steps = malloc((size_t)o->iters * sizeof *steps);
    int rc = movl_encoder_load_with(dev, r->arch, o->weights, r->batch, r->size, &eo, &enc, err);
    if (rc == MOVL_OK && !steps) {
        movl_set_error(err, "out of host memory");
        rc = MOVL_ERR_RUN;
    }
    if (rc == MOVL_OK && movl_encoder_layer_count(enc) != r->nops) {
        movl_set_error(err, "%s: the trainable encoder has %d layers, the frozen one %d", r->arch,
                       movl_encoder_layer_count(enc), r->nops);
        rc = MOVL_ERR_RUN;
    }
    if (rc == MOVL_OK)
        rc = ff_alloc(dev, enc, r->batch, o->classes, r->size, &f, err);
    /* Warm-up step (first launches), then the timed ones; Adam's step count goes on. */
    long step = 1;
    if (rc == MOVL_OK)
        rc = ff_step(dev, enc, r->batch, o->classes, &f, step++, ev, err);
    for (int p = 0; p <= FF_NPARTS; p++)
        if (ev[p]) {
            clReleaseEvent(ev[p]);
            ev[p] = NULL;
        }
    for (int i = 0; i < o->iters && rc == MOVL_OK; i++) {
        double t0 = movl_now();
        rc = ff_step(dev, enc, r->batch, o->classes, &f, step++, ev, err);
        steps[i] = movl_now() - t0; /* reading the profiling events is not part of a step */
        if (rc == MOVL_OK)
            add_step_times(enc, ev, r);
    }
    if (rc == MOVL_OK) {
        bench_ff *ff = &r->ff;
        ff->repeats = o->iters;
        for (int i = 0; i < o->iters; i++)
            ff->mean_s += steps[i] / o->iters;
        qsort(steps, (size_t)o->iters, sizeof *steps, cmp_double);
        ff->min_s = steps[0];
        ff->median_s = o->iters % 2 ? steps[o->iters / 2] : 0.5 * (steps[o->iters / 2 - 1] + steps[o->iters / 2]);
        for (int p = 0; p < FF_NPARTS; p++)
            ff->part_s[p] /= o->iters;
        for (int i = 0; i < r->nops; i++) {
            r->ops[i].ff_fwd_s /= o->iters;
            r->ops[i].ff_bwd_s /= o->iters;
        }
        /* The encoder counts its flat parameters and gradients among its device bytes. */
        double flat = 4.0 * (double)movl_encoder_param_floats(enc);
        double adam = 4.0 * (double)(movl_opt_state_floats(&f.opt_backbone) + movl_opt_state_floats(&f.opt_W) +
                                     movl_opt_state_floats(&f.opt_b));
        ff->backbone_params = (double)movl_encoder_param_count(enc);
        ff->param_state_bytes = 2 * flat + adam + (double)f.probe_param_bytes;
        ff->other_bytes = (double)movl_encoder_device_bytes(enc) - 2 * flat + (double)f.activation_bytes;
        r->has_ff = 1;
    }
    for (int p = 0; p <= FF_NPARTS; p++)
        if (ev[p])
            clReleaseEvent(ev[p]);
    ff_free(&f);
    movl_encoder_free(enc);
    free(steps);
    return rc;
}

static int has_weights(const bench_op *op) { return !strcmp(op->kind, "conv") || !strcmp(op->kind, "depthwise_conv"); }

/* The FF backward of a conv = its backward to the input (as the frozen step
 * measured it, at most the FF time) + its weight gradient; ops without weights
 * have no weight gradient. */
double bench_ff_bwd_input_s(const bench_run *r, int i)
{
    const bench_op *op = &r->ops[i];
    if (!has_weights(op))
        return op->ff_bwd_s;
    if (i == 0)
        return 0; /* the stem's input is the image: FF asks for no input gradient */
    return op->bwd_s < op->ff_bwd_s ? op->bwd_s : op->ff_bwd_s;
}

double bench_ff_wgrad_s(const bench_run *r, int i) { return r->ops[i].ff_bwd_s - bench_ff_bwd_input_s(r, i); }
