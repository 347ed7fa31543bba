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
    int ff; /* --ff: also time a full fine-tuning step (bench_ff.c) */
} bench_opts;

/* One layer of the encoder, forward + backward of the timed training steps. */
typedef struct bench_op {
    char name[64];
    const char *kind; /* movl_encoder_layer_kind: static string */
    double gflop;     /* forward, whole batch */
    double bytes;     /* forward, whole batch: inputs + weights + outputs, fp32 */
    double fwd_s, bwd_s; /* mean per training step, from profiling events */
    /* --ff: mean per full fine-tuning step; ff_bwd_s includes the layer's weight gradient. */
    double ff_fwd_s, ff_bwd_s;
} bench_op;

/* Parts of a full fine-tuning step, in the order they are enqueued (mean per
 * step, from profiling markers around each part). */
enum { FF_FORWARD, FF_PROBE, FF_BACKWARD, FF_ADAM, FF_REPACK, FF_PROBE_UPDATE, FF_NPARTS };

typedef struct bench_ff {
    int repeats;
    double min_s, median_s, mean_s;  /* wall time of one step (it ends with one host sync, the loss) */
    double part_s[FF_NPARTS];        /* 0 without profiling */
    double backbone_params;          /* trained floats (BN-folded conv weights and biases) */
    /* Device bytes: flat fp32 parameters, their gradients and Adam's m and v for backbone and
     * probe; the rest is activations kept for backward, the backward's gradient pool, the
     * convolutions' packed weights and scratch, the input batch and the probe's activations. */
    double param_state_bytes, other_bytes;
} bench_ff;

typedef struct bench_run {
    const char *arch;
    int batch, size, iters;
    double load_s, fwd_s, train_s; /* train_s, fwd_s: mean per step */
    double gflop_per_image;        /* forward */
    double device_bytes;           /* encoder + probe + input at this batch */
    int nops;
    bench_op *ops;
    int has_ff;
    bench_ff ff;
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
/* bench_ff.c: loads a trainable copy of r->arch at r->batch, r->size and times o->iters full
 * fine-tuning steps into r->ff and r->ops[].ff_* (r->ops already described by bench_run_encoder). */
int bench_run_ff(movl_device *dev, const bench_opts *o, bench_run *r, char *err);
/* Weight-gradient seconds of op i: its full fine-tuning backward less its frozen backward
 * (backward to the input); layer 0 reads the image, whose gradient FF skips: all of it. */
double bench_ff_wgrad_s(const bench_run *r, int i);
double bench_ff_bwd_input_s(const bench_run *r, int i);

/* bench_report.c */
void bench_op_stats_of(const bench_op *op, double total_s, const movl_roofline *peak, bench_op_stats *out);
/* Sums of the run's ops per kind, in order of first appearance; returns how many (<= nops). */
int bench_op_kinds(const bench_run *r, bench_op *kinds);
void bench_print_device(const bench_device *d);
void bench_print_arch_header(const bench_run *r);
void bench_print_run(const bench_run *r);
void bench_print_ops(const bench_run *r, const movl_roofline *peak);
/* --ff: a row per batch size (header first when with_header), and where the largest batch's step goes. */
void bench_print_ff(const bench_run *r, int with_header);
void bench_print_ff_parts(const bench_run *r);
int bench_print_json(const bench_device *devs, int ndevs, const bench_opts *o, char *err);

/* bench_compare.c: the side-by-side table and bar chart of --compare. */
int bench_compare(const bench_opts *o);

#endif
