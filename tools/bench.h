/* Shared by the files of `movl bench` (cmd_bench.c: options and the device
 * loop; bench_run.c: timing one encoder at one batch size; bench_report.c:
 * text and JSON; bench_compare.c: --compare of saved JSON documents). */
#ifndef MOVL_BENCH_H
#define MOVL_BENCH_H

#include "core/common.h"
#include "device/device.h"
#include "ops/roofline.h"

#define BENCH_MAX_LIST 16 /* archs, batch sizes */

typedef struct bench_opts {
    const char *archs[BENCH_MAX_LIST];
    int narchs;
    int batches[BENCH_MAX_LIST];
    int nbatches;
    const char **devices; /* selectors; NULL entries never */
    int ndevices, all;
    int size; /* 0: each encoder's own */
    int iters, classes, json;
    const char *weights;
    const char **compare; /* JSON files of --compare */
    int ncompare;
    const char *png;
} bench_opts;

/* One layer of the encoder, forward + backward of the timed training steps. */
typedef struct bench_op {
    char name[64];
    const char *kind; /* movl_encoder_layer_kind: static string */
    double gflop;     /* forward, whole batch */
    double bytes;     /* forward, whole batch: inputs + weights + outputs, fp32 */
    double fwd_s, bwd_s; /* mean per training step, from profiling events */
} bench_op;

typedef struct bench_run {
    const char *arch;
    int batch, size, iters;
    double load_s, fwd_s, train_s; /* train_s, fwd_s: mean per step */
    double gflop_per_image;        /* forward */
    double device_bytes;           /* encoder + probe + input at this batch */
    int nops;
    bench_op *ops;
} bench_run;

typedef struct bench_device {
    movl_device_info info;
    char self_test[MOVL_ERRLEN]; /* summary line, or "" when skipped */
    movl_roofline peak;
    int nruns;
    bench_run *runs; /* narchs x nbatches, arch-major */
} bench_device;

/* Derived figures of one op (or a sum of ops) in a training step. */
typedef struct bench_op_stats {
    double ms;            /* forward + backward */
    double share;         /* of all ops' time */
    double gflop_s;       /* achieved: forward + backward FLOPs (backward = forward) per second */
    double flop_per_byte; /* arithmetic intensity */
    double roofline_pct;  /* achieved / min(peak GFLOP/s, intensity x peak GB/s), in % */
} bench_op_stats;

/* bench_run.c: loads opts->archs[a] at `batch` on dev and times it into *out
 * (out->ops malloc'd; bench_run_free releases them). */
int bench_run_encoder(movl_device *dev, const bench_opts *o, const char *arch, int batch, bench_run *out, char *err);
void bench_run_free(bench_run *r);

/* bench_report.c */
void bench_op_stats_of(const bench_op *op, double total_s, const movl_roofline *peak, bench_op_stats *out);
/* Sums of the run's ops per kind, in order of first appearance; returns how many (<= nops). */
int bench_op_kinds(const bench_run *r, bench_op *kinds);
void bench_print_device(const bench_device *d);
void bench_print_arch_header(const bench_run *r);
void bench_print_run(const bench_run *r);
void bench_print_ops(const bench_run *r, const movl_roofline *peak);
int bench_print_json(const bench_device *devs, int ndevs, const bench_opts *o, char *err);

/* bench_compare.c: the side-by-side table and bar chart of --compare. */
int bench_compare(const bench_opts *o);

#endif
