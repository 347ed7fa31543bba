/* Measured roofline of a device (roofline.h): launches the micro-kernels of
 * cl/roofline.cl, sizes the timed runs, and checks every result against the
 * C reference before a number is reported. */
#include "ops/roofline.h"

#include <stdlib.h>

#include "core/common.h"
#include "device/build_options.h"
#include "ops/ref/roofline_ref.h"

/* Shape of the inputs: a < 1 and b > 0 pull every chain slowly towards
 * b / (1 - a) = 2, so values stay normal and distinct for any round count. */
static const float fma_a = 0.99951171875f, fma_b = 0.0009765625f; /* 1 - 2^-11, 2^-10 */

enum { MAX_FMA_ITERS = 1 << 24, MAX_TRIAD_LAUNCHES = 1000 };
#define TRIAD_BUFFER_MAX ((size_t)256 << 20) /* per buffer: larger than any device cache we know */

int movl_roofline_vector_width(const movl_device *dev)
{
    if (!dev->info.is_cpu)
        return 4;
    cl_uint w = 0;
    if (clGetDeviceInfo(dev->id, CL_DEVICE_NATIVE_VECTOR_WIDTH_FLOAT, sizeof w, &w, NULL) != CL_SUCCESS)
        w = 4;
    return w >= 16 ? 16 : w >= 8 ? 8 : 4;
}

static cl_kernel roofline_kernel(movl_device *dev, int vw, const char *name, char *err)
{
    movl_build_options o;
    movl_options_init(&o);
    movl_options_int(&o, "VW", vw);
    return movl_kernel_with_options(dev, "roofline", &o, name, err);
}

static int finish(movl_device *dev, const char *what, char *err)
{
    cl_int rc = clFinish(dev->queue);
    if (rc != CL_SUCCESS) {
        movl_set_error(err, "roofline: %s failed on '%s': %s", what, dev->info.name, movl_cl_error_name(rc));
        return MOVL_ERR_RUN;
    }
    return MOVL_OK;
}

/* ---- fp32 FMA throughput ---- */

/* peak_fma's buffers: vw outputs per work-item, its a and b as vectors,
 * and the table of starting values. */
typedef struct fma_bufs {
    cl_mem out, params, ramp;
    int vw, items;
} fma_bufs;

static void fma_free(fma_bufs *b)
{
    cl_mem *m[] = {&b->out, &b->params, &b->ramp};
    for (int i = 0; i < 3; i++)
        if (*m[i])
            clReleaseMemObject(*m[i]);
}

static int fma_alloc(movl_device *dev, int vw, int items, fma_bufs *b, char *err)
{
    float params[32], ramp[MOVL_FMA_RAMP_LEN];
    for (int l = 0; l < vw; l++) {
        params[l] = fma_a;
        params[vw + l] = fma_b;
    }
    for (unsigned k = 0; k < MOVL_FMA_RAMP_LEN; k++)
        ramp[k] = movl_ref_fma_ramp(k);
    *b = (fma_bufs){NULL, NULL, NULL, vw, items};
    if (!(b->out = movl_buffer(dev, sizeof(float) * (size_t)items * vw, err)) ||
        !(b->params = movl_buffer(dev, sizeof(float) * 2 * (size_t)vw, err)) ||
        !(b->ramp = movl_buffer(dev, sizeof ramp, err)) ||
        movl_upload(dev, b->params, params, sizeof(float) * 2 * (size_t)vw, err) ||
        movl_upload(dev, b->ramp, ramp, sizeof ramp, err))
        return MOVL_ERR_RUN;
    return MOVL_OK;
}

/* One launch of peak_fma, timed from enqueue to finish. */
static int run_fma(movl_device *dev, fma_bufs *b, int iters, double *seconds, char *err)
{
    cl_kernel k = roofline_kernel(dev, b->vw, "peak_fma", err);
    if (!k || movl_set_args(k, err, MOVL_ARG(b->out), MOVL_ARG(b->params), MOVL_ARG(b->ramp), MOVL_ARG(iters),
                            MOVL_ARGS_END))
        return MOVL_ERR_RUN;
    size_t global = (size_t)b->items;
    double t0 = movl_now();
    if (movl_launch(dev, k, 1, &global, NULL, err) || finish(dev, "peak_fma", err))
        return MOVL_ERR_RUN;
    *seconds = movl_now() - t0;
    return MOVL_OK;
}

/* Compares every lane of out[gid] with the reference for every gid, or for
 * the first, middle and last. */
static int check_fma(movl_device *dev, fma_bufs *b, int iters, int all, char *err)
{
    size_t n = (size_t)b->items * b->vw;
    float *got = malloc(sizeof(float) * n);
    if (!got) {
        movl_set_error(err, "roofline: out of host memory checking peak_fma");
        return MOVL_ERR_RUN;
    }
    int rc = movl_download(dev, b->out, got, sizeof(float) * n, err) ? MOVL_ERR_RUN : MOVL_OK;
    unsigned few[3] = {0, (unsigned)b->items / 2, (unsigned)b->items - 1};
    int count = all ? b->items : 3;
    for (int i = 0; i < count && rc == MOVL_OK; i++) {
        unsigned gid = all ? (unsigned)i : few[i];
        for (int l = 0; l < b->vw && rc == MOVL_OK; l++) {
            float have = got[(size_t)gid * b->vw + l], want = movl_ref_peak_fma(gid, l, iters, fma_a, fma_b);
            if (!(have == want)) {
                movl_set_error(err,
                               "roofline: peak_fma on '%s' gives %.9g at work-item %u lane %d, the C reference "
                               "%.9g (vector width %d, %d rounds): the device computes fma wrongly",
                               dev->info.name, have, gid, l, want, b->vw, iters);
                rc = MOVL_ERR_RUN;
            }
        }
    }
    free(got);
    return rc;
}

static int check_fma_small(movl_device *dev, int vw, int items, int iters, char *err)
{
    double t;
    fma_bufs b;
    int rc = fma_alloc(dev, vw, items, &b, err);
    if (rc == MOVL_OK)
        rc = run_fma(dev, &b, iters, &t, err);
    if (rc == MOVL_OK)
        rc = check_fma(dev, &b, iters, 1, err);
    fma_free(&b);
    return rc;
}

/* Enough work-items to fill every compute unit of a GPU several times over. */
static int fma_items(const movl_device *dev)
{
    long items = (long)dev->info.compute_units * 2048;
    items = items < 4096 ? 4096 : items > (1L << 20) ? (1L << 20) : items;
    return (int)(items / 256 * 256);
}

static int measure_fma(movl_device *dev, double target_s, int runs, movl_roofline *r, char *err)
{
    int iters = 64;
    double t = 0, best = 0;
    fma_bufs b;
    int rc = fma_alloc(dev, r->vector_width, fma_items(dev), &b, err);
    /* A first launch of a new shape may compile (PoCL specialises per size):
     * untimed. Then grow the round count until a launch is long enough to scale from. */
    if (rc == MOVL_OK)
        rc = run_fma(dev, &b, 1, &t, err);
    while (rc == MOVL_OK && (rc = run_fma(dev, &b, iters, &t, err)) == MOVL_OK && t < target_s / 4 &&
           iters < MAX_FMA_ITERS)
        iters = iters * 4 > MAX_FMA_ITERS ? MAX_FMA_ITERS : iters * 4;
    if (rc == MOVL_OK) {
        double scaled = iters * (target_s / (t > 0 ? t : 1e-9));
        iters = scaled > MAX_FMA_ITERS ? MAX_FMA_ITERS : scaled < 1 ? 1 : (int)scaled;
    }
    for (int i = 0; i < runs && rc == MOVL_OK; i++)
        if ((rc = run_fma(dev, &b, iters, &t, err)) == MOVL_OK && (best == 0 || t < best))
            best = t;
    if (rc == MOVL_OK)
        rc = check_fma(dev, &b, iters, 0, err);
    if (rc == MOVL_OK) {
        r->fma_items = b.items;
        r->fma_iters = iters;
        r->fma_s = best;
        r->gflop_s = 2.0 * MOVL_FMA_CHAINS * b.vw * (double)b.items * iters / best * 1e-9;
    }
    fma_free(&b);
    return rc;
}

/* ---- memory bandwidth ---- */

typedef struct triad_bufs {
    cl_mem x, y, z;
    size_t n4; /* float4 elements per buffer */
} triad_bufs;

static void triad_free(triad_bufs *b)
{
    cl_mem *m[] = {&b->x, &b->y, &b->z};
    for (int i = 0; i < 3; i++)
        if (*m[i])
            clReleaseMemObject(*m[i]);
}

static int triad_alloc(movl_device *dev, size_t n4, triad_bufs *b, char *err)
{
    size_t bytes = 16 * n4;
    *b = (triad_bufs){NULL, NULL, NULL, n4};
    if (!(b->x = movl_buffer(dev, bytes, err)) || !(b->y = movl_buffer(dev, bytes, err)) ||
        !(b->z = movl_buffer(dev, bytes, err)))
        return MOVL_ERR_RUN;
    return MOVL_OK;
}

/* x, y and the sentinel in z written by triad_init: uploading hundreds of MiB would take longer than the runs. */
static int triad_fill_on_device(movl_device *dev, triad_bufs *b, char *err)
{
    size_t global = b->n4;
    cl_kernel k = roofline_kernel(dev, 4, "triad_init", err);
    if (!k || movl_set_args(k, err, MOVL_ARG(b->x), MOVL_ARG(b->y), MOVL_ARG(b->z), MOVL_ARGS_END) ||
        movl_launch(dev, k, 1, &global, NULL, err))
        return MOVL_ERR_RUN;
    return finish(dev, "triad_init", err);
}

/* The same values uploaded from the host (small checks). oclgrind, which the
 * kernel tests run under, can lose track of data one kernel wrote for the
 * next in a reused, larger buffer and would report it uninitialised. */
static int triad_fill_from_host(movl_device *dev, triad_bufs *b, char *err)
{
    size_t n = 4 * b->n4;
    float *h = malloc(sizeof(float) * n);
    int rc = h ? MOVL_OK : MOVL_ERR_RUN;
    if (!h)
        movl_set_error(err, "roofline: out of host memory for the triad inputs");
    for (int which = 0; which < 3 && rc == MOVL_OK; which++) {
        for (size_t e = 0; e < n; e++)
            h[e] = which == 0 ? movl_ref_triad_x(e) : which == 1 ? movl_ref_triad_y(e) : -1.0f;
        rc = movl_upload(dev, which == 0 ? b->x : which == 1 ? b->y : b->z, h, sizeof(float) * n, err);
    }
    free(h);
    return rc;
}

/* `launches` back-to-back triads, timed from the first enqueue to finish. */
static int run_triad(movl_device *dev, triad_bufs *b, int launches, double *seconds, char *err)
{
    cl_kernel k = roofline_kernel(dev, 4, "triad", err);
    if (!k || movl_set_args(k, err, MOVL_ARG(b->x), MOVL_ARG(b->y), MOVL_ARG(b->z), MOVL_ARGS_END))
        return MOVL_ERR_RUN;
    size_t global = b->n4;
    double t0 = movl_now();
    for (int i = 0; i < launches; i++)
        if (movl_launch(dev, k, 1, &global, NULL, err))
            return MOVL_ERR_RUN;
    if (finish(dev, "triad", err))
        return MOVL_ERR_RUN;
    *seconds = movl_now() - t0;
    return MOVL_OK;
}

/* Every element of z against the reference (the sentinel -1 never matches). */
static int check_triad(movl_device *dev, triad_bufs *b, char *err)
{
    size_t n = 4 * b->n4;
    float *z = malloc(sizeof(float) * n);
    if (!z) {
        movl_set_error(err, "roofline: out of host memory checking triad");
        return MOVL_ERR_RUN;
    }
    int rc = movl_download(dev, b->z, z, sizeof(float) * n, err) ? MOVL_ERR_RUN : MOVL_OK;
    for (size_t e = 0; e < n && rc == MOVL_OK; e++) {
        float want = movl_ref_triad(e);
        if (!(z[e] == want)) {
            movl_set_error(err, "roofline: triad on '%s' gives %.9g at element %zu of %zu, the C reference %.9g",
                           dev->info.name, z[e], e, n, want);
            rc = MOVL_ERR_RUN;
        }
    }
    free(z);
    return rc;
}

static int check_triad_small(movl_device *dev, size_t n4, char *err)
{
    triad_bufs b;
    double t;
    int rc = triad_alloc(dev, n4, &b, err);
    if (rc == MOVL_OK)
        rc = triad_fill_from_host(dev, &b, err);
    if (rc == MOVL_OK)
        rc = run_triad(dev, &b, 1, &t, err);
    if (rc == MOVL_OK)
        rc = check_triad(dev, &b, err);
    triad_free(&b);
    return rc;
}

/* Per buffer: at most 256 MiB, an eighth of the device memory, and what one allocation may hold. */
static size_t triad_n4(const movl_device *dev)
{
    size_t bytes = TRIAD_BUFFER_MAX;
    if (dev->info.global_mem / 8 < bytes)
        bytes = (size_t)(dev->info.global_mem / 8);
    if (dev->info.max_alloc < bytes)
        bytes = (size_t)dev->info.max_alloc;
    size_t n4 = bytes / 16 / 1024 * 1024;
    return n4 ? n4 : 1024;
}

static int measure_triad(movl_device *dev, double target_s, int runs, movl_roofline *r, char *err)
{
    triad_bufs b;
    double t = 0, best = 0;
    int launches = 1;
    int rc = triad_alloc(dev, triad_n4(dev), &b, err);
    if (rc == MOVL_OK)
        rc = triad_fill_on_device(dev, &b, err);
    if (rc == MOVL_OK) /* the first launch of a new shape may compile: untimed */
        rc = run_triad(dev, &b, 1, &t, err);
    if (rc == MOVL_OK && (rc = run_triad(dev, &b, 1, &t, err)) == MOVL_OK) {
        double want = target_s / (t > 0 ? t : 1e-9);
        launches = want > MAX_TRIAD_LAUNCHES ? MAX_TRIAD_LAUNCHES : want < 1 ? 1 : (int)(want + 0.5);
    }
    for (int i = 0; i < runs && rc == MOVL_OK; i++)
        if ((rc = run_triad(dev, &b, launches, &t, err)) == MOVL_OK && (best == 0 || t < best))
            best = t;
    if (rc == MOVL_OK)
        rc = check_triad(dev, &b, err);
    if (rc == MOVL_OK) {
        r->triad_launches = launches;
        r->triad_bytes = 3.0 * 16 * (double)b.n4 * launches;
        r->triad_s = best;
        r->gb_s = r->triad_bytes / best * 1e-9;
    }
    triad_free(&b);
    return rc;
}

/* ---- public ---- */

int movl_roofline_check(movl_device *dev, int vw, int work_items, int iters, size_t n4, char *err)
{
    if (check_fma_small(dev, vw, work_items, iters, err))
        return MOVL_ERR_RUN;
    return check_triad_small(dev, n4, err);
}

int movl_roofline_measure(movl_device *dev, double target_s, int runs, movl_roofline *out, char *err)
{
    *out = (movl_roofline){0};
    out->vector_width = movl_roofline_vector_width(dev);
    if (runs < 1)
        runs = 1;
    if (movl_roofline_check(dev, out->vector_width, 256, 100, 4096, err) ||
        measure_fma(dev, target_s, runs, out, err) || measure_triad(dev, target_s, runs, out, err))
        return MOVL_ERR_RUN;
    return MOVL_OK;
}
