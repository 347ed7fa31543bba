/* Convolution benchmark (not a test): times forward and backward-to-input of
 * the ResNet-18 and EfficientNet-Lite0 conv shapes and prints GFLOP/s per
 * shape and per network (each shape weighted by how often the network has
 * it). Usage: bench_conv [--wgrad] [--px N] [batch] [filter-substring];
 * --wgrad times the weight gradient (dw and db) instead, --px scales the
 * planes to N-pixel images (default 224); env MOVL_CONV_VARIANT and
 * MOVL_CONV_TILE=MT,TC are honoured by the launchers. Times are the fastest
 * of several calls; cGF/s divides by process CPU time per compute unit, an
 * estimate for an idle machine when other jobs share it. PyTorch twin:
 * tests/bench_conv_torch.py. Build: link with the runtime library (it is not
 * a test_*.c, so CMake does not pick it up). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/common.h"
#include "ops/ref/conv_ref.h"
#include "ops/ops.h"

typedef struct bench_shape {
    const char *net, *name;
    int count, cin, hw, cout, k, stride, groups, same;
} bench_shape;

static const bench_shape shapes[] = {
    {"resnet18", "stem 3-64 7x7/2 224", 1, 3, 224, 64, 7, 2, 1, 0},
    {"resnet18", "64-64 3x3 56", 4, 64, 56, 64, 3, 1, 1, 0},
    {"resnet18", "64-128 3x3/2 56", 1, 64, 56, 128, 3, 2, 1, 0},
    {"resnet18", "64-128 1x1/2 56", 1, 64, 56, 128, 1, 2, 1, 0},
    {"resnet18", "128-128 3x3 28", 3, 128, 28, 128, 3, 1, 1, 0},
    {"resnet18", "128-256 3x3/2 28", 1, 128, 28, 256, 3, 2, 1, 0},
    {"resnet18", "128-256 1x1/2 28", 1, 128, 28, 256, 1, 2, 1, 0},
    {"resnet18", "256-256 3x3 14", 3, 256, 14, 256, 3, 1, 1, 0},
    {"resnet18", "256-512 3x3/2 14", 1, 256, 14, 512, 3, 2, 1, 0},
    {"resnet18", "256-512 1x1/2 14", 1, 256, 14, 512, 1, 2, 1, 0},
    {"resnet18", "512-512 3x3 7", 3, 512, 7, 512, 3, 1, 1, 0},
    {"effnet-lite0", "stem 3-32 3x3/2 224", 1, 3, 224, 32, 3, 2, 1, 1},
    {"effnet-lite0", "dw32 3x3 112", 1, 32, 112, 32, 3, 1, 32, 1},
    {"effnet-lite0", "32-16 1x1 112", 1, 32, 112, 16, 1, 1, 1, 1},
    {"effnet-lite0", "16-96 1x1 112", 1, 16, 112, 96, 1, 1, 1, 1},
    {"effnet-lite0", "dw96 3x3/2 112", 1, 96, 112, 96, 3, 2, 96, 1},
    {"effnet-lite0", "96-24 1x1 56", 1, 96, 56, 24, 1, 1, 1, 1},
    {"effnet-lite0", "24-144 1x1 56", 2, 24, 56, 144, 1, 1, 1, 1},
    {"effnet-lite0", "dw144 3x3 56", 1, 144, 56, 144, 3, 1, 144, 1},
    {"effnet-lite0", "144-24 1x1 56", 1, 144, 56, 24, 1, 1, 1, 1},
    {"effnet-lite0", "dw144 5x5/2 56", 1, 144, 56, 144, 5, 2, 144, 1},
    {"effnet-lite0", "144-40 1x1 28", 1, 144, 28, 40, 1, 1, 1, 1},
    {"effnet-lite0", "40-240 1x1 28", 2, 40, 28, 240, 1, 1, 1, 1},
    {"effnet-lite0", "dw240 5x5 28", 1, 240, 28, 240, 5, 1, 240, 1},
    {"effnet-lite0", "240-40 1x1 28", 1, 240, 28, 40, 1, 1, 1, 1},
    {"effnet-lite0", "dw240 3x3/2 28", 1, 240, 28, 240, 3, 2, 240, 1},
    {"effnet-lite0", "240-80 1x1 14", 1, 240, 14, 80, 1, 1, 1, 1},
    {"effnet-lite0", "80-480 1x1 14", 3, 80, 14, 480, 1, 1, 1, 1},
    {"effnet-lite0", "dw480 3x3 14", 2, 480, 14, 480, 3, 1, 480, 1},
    {"effnet-lite0", "480-80 1x1 14", 2, 480, 14, 80, 1, 1, 1, 1},
    {"effnet-lite0", "dw480 5x5 14", 1, 480, 14, 480, 5, 1, 480, 1},
    {"effnet-lite0", "480-112 1x1 14", 1, 480, 14, 112, 1, 1, 1, 1},
    {"effnet-lite0", "112-672 1x1 14", 3, 112, 14, 672, 1, 1, 1, 1},
    {"effnet-lite0", "dw672 5x5 14", 2, 672, 14, 672, 5, 1, 672, 1},
    {"effnet-lite0", "672-112 1x1 14", 2, 672, 14, 112, 1, 1, 1, 1},
    {"effnet-lite0", "dw672 5x5/2 14", 1, 672, 14, 672, 5, 2, 672, 1},
    {"effnet-lite0", "672-192 1x1 7", 1, 672, 7, 192, 1, 1, 1, 1},
    {"effnet-lite0", "192-1152 1x1 7", 4, 192, 7, 1152, 1, 1, 1, 1},
    {"effnet-lite0", "dw1152 5x5 7", 3, 1152, 7, 1152, 5, 1, 1152, 1},
    {"effnet-lite0", "1152-192 1x1 7", 3, 1152, 7, 192, 1, 1, 1, 1},
    {"effnet-lite0", "dw1152 3x3 7", 1, 1152, 7, 1152, 3, 1, 1152, 1},
    {"effnet-lite0", "1152-320 1x1 7", 1, 1152, 7, 320, 1, 1, 1, 1},
    {"effnet-lite0", "320-1280 1x1 7", 1, 320, 7, 1280, 1, 1, 1, 1},
};

static void die(const char *what, const char *err)
{
    fprintf(stderr, "bench_conv: %s: %s\n", what, err);
    exit(1);
}

static cl_mem filled(movl_device *dev, size_t n, char *err)
{
    float *h = malloc(n * sizeof *h);
    for (size_t i = 0; i < n; i++)
        h[i] = (float)((i * 2654435761u) % 1000) / 1000.0f - 0.5f;
    cl_mem b = movl_buffer(dev, n * sizeof *h, err);
    if (!b || movl_upload(dev, b, h, n * sizeof *h, err))
        die("upload", err);
    free(h);
    return b;
}

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Process CPU seconds per call of the last time_op, divided by the number of
 * compute units: on a machine shared with other jobs, an estimate of the wall
 * time on an idle machine (PoCL's threads sleep when idle). */
static double last_cpu;
/* The median of the timed calls of the last time_op (the minimum is returned). */
static double last_median;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Seconds per call: one warm-up, then the fastest of up to 20 calls within
 * about a second (the minimum is the least disturbed by other jobs). */
static double time_op(movl_device *dev, int backward, const movl_conv_plan *plan, cl_mem x, cl_mem b, cl_mem y,
                      cl_mem ws, cl_mem dw)
{
    char err[MOVL_ERRLEN];
    double best = 1e30, start = 0, c0 = 0, times[21];
    int reps = 0;
    for (int rep = 0; rep <= 20; rep++) {
        double t0 = movl_now();
        int n = movl_conv_plan_desc(plan)->n;
        int rc = backward == 2 ? movl_conv_backward_weights(plan, n, x, y, dw, b, ws, err)
                 : backward    ? movl_conv_backward_input(plan, n, y, x, ws, err)
                               : movl_conv_forward(plan, n, x, b, MOVL_ACT_RELU, y, ws, err);
        if (rc)
            die("conv", err);
        clFinish(dev->queue);
        double t = movl_now() - t0;
        if (rep == 0) {
            start = movl_now();
            c0 = cpu_now();
            continue;
        }
        times[reps++] = t;
        if (t < best)
            best = t;
        if (movl_now() - start > 1.0 && rep >= 3)
            break;
    }
    last_cpu = (cpu_now() - c0) / reps / (dev->info.compute_units ? dev->info.compute_units : 1);
    qsort(times, (size_t)reps, sizeof times[0], cmp_double);
    last_median = times[reps / 2];
    return best;
}

int main(int argc, char **argv)
{
    int wgrad = 0, px = 224, batch = 32, positional = 0;
    const char *filter = NULL;
    for (int a = 1; a < argc; a++) {
        if (!strcmp(argv[a], "--wgrad"))
            wgrad = 1;
        else if (!strcmp(argv[a], "--px") && a + 1 < argc)
            px = atoi(argv[++a]);
        else if (positional++ == 0)
            batch = atoi(argv[a]);
        else
            filter = argv[a];
    }
    if (batch < 1 || px < 8) {
        fprintf(stderr, "bench_conv: expected [--wgrad] [--px N >= 8] [batch >= 1] [filter]\n");
        return 2;
    }
    char err[MOVL_ERRLEN];
    movl_device dev;
    if (movl_device_open(NULL, 0, &dev, err))
        die("device", err);
    printf("device: %s, batch %d, %d px%s\n", dev.info.name, batch, px, wgrad ? ", weight gradient" : "");
    printf("ms and GF/s: fastest call (wall); cGF/s: from process CPU time / compute units\n");
    if (wgrad)
        printf("%-14s %-24s %5s %5s %8s %8s %8s %8s\n", "net", "shape", "count", "plane", "min ms", "med ms", "GF/s",
               "cGF/s");
    else
        printf("%-14s %-24s %5s %8s %8s %8s %8s %8s %8s\n", "net", "shape", "count", "fwd ms", "GF/s", "cGF/s",
               "bwd ms", "GF/s", "cGF/s");
    const char *nets[] = {"resnet18", "effnet-lite0"};
    double net_median[2] = {0, 0}, net_time[2] = {0, 0}, net_cpu[2] = {0, 0}, net_flop[2] = {0, 0};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        const bench_shape *s = &shapes[i];
        if (filter && !strstr(s->name, filter) && !strstr(s->net, filter))
            continue;
        movl_conv_desc d;
        int hw = s->hw * px / 224 > 0 ? s->hw * px / 224 : 1;
        if (s->same)
            movl_conv_desc_init_same(&d, batch, s->cin, hw, hw, s->cout, s->k, s->stride, s->groups);
        else
            movl_conv_desc_init(&d, batch, s->cin, hw, hw, s->cout, s->k, s->stride, s->k / 2, s->groups);
        size_t nx = (size_t)batch * s->cin * hw * hw, ny = (size_t)batch * s->cout * d.oh * d.ow;
        size_t nw = (size_t)s->cout * (s->cin / s->groups) * s->k * s->k;
        cl_mem x = filled(&dev, nx, err), w = filled(&dev, nw, err), b = filled(&dev, s->cout, err);
        cl_mem y = filled(&dev, ny, err);
        movl_conv_options opt;
        movl_conv_options_from_env(&opt);
        opt.weight_grads = wgrad;
        movl_conv_plan *plan = NULL;
        if (movl_conv_plan_create(&dev, &d, &opt, &plan, err) || movl_conv_plan_set_weights(plan, w, err))
            die("conv plan", err);
        size_t wsb = movl_conv_plan_workspace_bytes(plan);
        cl_mem ws = wsb ? movl_buffer(&dev, wsb, err) : NULL;
        if (wsb && !ws)
            die("workspace", err);
        double flop = 2 * movl_conv_macs(&d);
        int ni = strcmp(s->net, nets[0]) ? 1 : 0;
        if (wgrad) {
            double tw = time_op(&dev, 2, plan, x, b, y, ws, w), cw = last_cpu;
            printf("%-14s %-24s %5d %5d %8.3f %8.3f %8.1f %8.1f\n", s->net, s->name, s->count, hw, tw * 1e3,
                   last_median * 1e3, flop / tw * 1e-9, flop / cw * 1e-9);
            net_median[ni] += s->count * last_median;
            net_time[ni] += s->count * tw;
            net_cpu[ni] += s->count * cw;
            net_flop[ni] += s->count * flop;
        } else {
            double tf = time_op(&dev, 0, plan, x, b, y, ws, w), cf = last_cpu;
            double tb = time_op(&dev, 1, plan, x, b, y, ws, w), cb = last_cpu;
            printf("%-14s %-24s %5d %8.2f %8.1f %8.1f %8.2f %8.1f %8.1f\n", s->net, s->name, s->count, tf * 1e3,
                   flop / tf * 1e-9, flop / cf * 1e-9, tb * 1e3, flop / tb * 1e-9, flop / cb * 1e-9);
            net_time[ni] += s->count * (tf + tb);
            net_cpu[ni] += s->count * (cf + cb);
            net_flop[ni] += s->count * 2 * flop;
        }
        fflush(stdout);
        clReleaseMemObject(x);
        clReleaseMemObject(w);
        movl_conv_plan_free(plan);
        clReleaseMemObject(b);
        clReleaseMemObject(y);
        if (ws)
            clReleaseMemObject(ws);
    }
    for (int i = 0; i < 2; i++)
        if (wgrad && net_time[i] > 0)
            printf("%s weight gradient, sum of medians: %.3f s per batch\n", nets[i], net_median[i]);
    for (int i = 0; i < 2; i++)
        if (net_time[i] > 0)
            printf("%s convs %s: %.3f s per batch, %.1f GFLOP/s, %.1f img/s (from CPU time: %.1f GFLOP/s, "
                   "%.1f img/s)\n",
                   nets[i], wgrad ? "weight gradient" : "fwd+bwd-input", net_time[i], net_flop[i] / net_time[i] * 1e-9, batch / net_time[i],
                   net_flop[i] / net_cpu[i] * 1e-9, batch / net_cpu[i]);
    movl_device_close(&dev);
    return 0;
}
