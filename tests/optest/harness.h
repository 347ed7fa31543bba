/* The op test harness (tests/test_ops.c): the case rows and op definitions of
 * optest/cases.def, the run context of one op, and the checks every op uses
 * (NMSE against the reference with NaN-filled outputs and canaries, finite
 * differences in double, timing). */
#ifndef MOVL_OPTEST_HARNESS_H
#define MOVL_OPTEST_HARNESS_H

#include <stddef.h>

#include "core/common.h"
#include "ops/ops.h"
#include "test_util.h"

enum { SMALL = 1, FD = 2, CHUNKED = 4 }; /* case flags */
enum { SAME = -1 };                      /* conv pad: TensorFlow "same" */

/* One row of each case table of cases.def. */
typedef struct conv_row {
    int n, cin, h, w, cout, k, stride, pad, groups;
    movl_act act;
    int bias, flags;
} conv_row;
typedef struct elt_row {
    movl_act act;
    size_t count;
    int flags;
} elt_row;
typedef struct pool_row {
    int n, c, h, w, k, stride, pad, flags;
} pool_row;
typedef struct gap_row {
    int n, c, hw, flags;
} gap_row;
typedef struct linear_row {
    movl_gemm_backend backend;
    int batch, in, out, flags;
} linear_row;
typedef struct rows_row { /* token rows: layer norm, GELU, softmax */
    int rows, dim, flags;
} rows_row;
typedef struct bgemm_row {
    int batch1, batch2, m, n, k, trans_a, trans_b, flags;
} bgemm_row;
typedef struct tok_row { /* ViT token embedding */
    int n, dim, patches, flags;
} tok_row;
typedef struct patch_row { /* ViT patch rows */
    int n, c, size, k, flags;
} patch_row;

typedef enum {
    SHAPE_conv,
    SHAPE_elt,
    SHAPE_pool,
    SHAPE_gap,
    SHAPE_linear,
    SHAPE_rows,
    SHAPE_bgemm,
    SHAPE_tok,
    SHAPE_patch
} shape_kind;

/* The reference of each op, typed, so the table's reference column is checked
 * by the compiler (the member is named after the op). */
typedef union op_reference {
    void (*conv_forward)(const movl_conv_desc *, const double *, const double *, const double *, movl_act, double *);
    void (*conv_backward_input)(const movl_conv_desc *, const double *, const double *, double *);
    void (*conv_backward_weights)(const movl_conv_desc *, const double *, const double *, double *, double *);
    void (*act_forward)(movl_act, size_t, const double *, double *);
    void (*act_backward)(movl_act, size_t, const double *, const double *, double *);
    void (*add_forward)(size_t, const double *, const double *, movl_act, double *);
    void (*maxpool_forward)(const movl_pool_desc *, const double *, double *, int *);
    void (*maxpool_backward)(const movl_pool_desc *, const int *, const double *, double *);
    void (*gap_forward)(int, int, int, const double *, double *);
    void (*gap_backward)(int, int, int, const double *, double *);
    void (*linear_forward)(int, int, int, const double *, const double *, const double *, double *);
    void (*linear_backward_input)(int, int, int, const double *, const double *, double *);
    void (*linear_backward_params)(int, int, int, const double *, const double *, double *, double *);
    void (*layernorm_forward)(int, int, double, const double *, const double *, const double *, double *);
    void (*layernorm_backward_input)(int, int, double, const double *, const double *, const double *, double *);
    void (*layernorm_backward_params)(int, int, double, const double *, const double *, double *, double *);
    void (*gelu_forward)(movl_gelu, size_t, const double *, double *);
    void (*gelu_backward)(movl_gelu, size_t, const double *, const double *, double *);
    void (*softmax_forward)(int, int, double, int, const double *, double *);
    void (*softmax_backward)(int, int, double, const double *, const double *, double *);
    void (*l2norm_forward)(int, int, const double *, double *);
    void (*l2norm_backward)(int, int, const double *, const double *, double *);
    void (*gemm_batched)(const movl_gemm_batch_desc *, const double *, const double *, double *);
    void (*tokens_embed)(int, int, int, const double *, const double *, const double *, double *);
    void (*tokens_embed_backward)(int, int, int, const double *, double *);
    void (*tokens_embed_backward_params)(int, int, int, const double *, double *, double *);
    void (*patchify)(int, int, int, int, const double *, double *);
    void (*patchify_backward)(int, int, int, int, const double *, double *);
} op_reference;

typedef struct op_run op_run;

/* One OP row of cases.def. */
typedef struct op_def {
    const char *name;
    shape_kind shape;
    op_reference ref;
    const char *ref_name;
    double nmse, fd_error;
    double (*flops)(const void *row);
    /* One case in the modes of r; with row NULL, the checks the op makes
     * once, without a case (descriptor arithmetic, bad arguments refused). */
    void (*run)(op_run *r, const void *row);
} op_def;

/* One op being run over its cases. */
struct op_run {
    movl_device *dev;
    const op_def *op;
    int eval, grad, perf; /* modes */
    const void *row;      /* the case being run */
    char label[256];      /* "op [case]", prefix of every message */
    double worst_nmse;    /* over the op's comparisons, printed at the end */
};

/* Shape helpers the flops column uses. */
double conv_row_macs(const conv_row *c);
double conv_row_out(const conv_row *c);
double pool_row_out(const pool_row *c);
void conv_row_desc(const conv_row *c, movl_conv_desc *d);

const char *act_name(movl_act a);
double *to_double_new(const float *a, size_t n);
float *to_float_new(const double *a, size_t n);
float *random_floats(size_t n, float lo, float hi);
/* A guarded device buffer holding data (n floats). */
test_guarded upload_new(movl_device *dev, const float *data, size_t n);

/* Downloads g and checks it against ref (rounded to float): NMSE within
 * limit (NaN/Inf, e.g. an unwritten NaN-filled element, always fails) and
 * the canary after it intact. Returns the download (the caller frees it). */
float *check_output(op_run *r, test_guarded *g, const double *ref, double limit, const char *what);
/* check_output with the op's own bound (r->op->nmse). */
float *check_against_ref(op_run *r, test_guarded *g, const double *ref, const char *what);
/* The canary after each of the n buffers is intact (inputs and scratch). */
void check_canaries(op_run *r, test_guarded *const *g, int n, const char *what);

/* Central differences of a loss L computed in double on the reference,
 * against device gradients dL/dv (one per kernel variant) at random
 * elements of v: error |fd - grad| / max(|fd|, floor). loss(ctx, i) may
 * leave out the terms of L that do not depend on v[i] (they cancel in the
 * difference). Draws up to `tries` elements and checks up to `points` of
 * them, passing over those skip() refuses (kinks, ties); checks the worst
 * error of each gradient against the op's fd_error, and that some point
 * was checked. */
#define FD_MAX_GRADS 3
typedef struct fd_probe {
    double (*loss)(void *ctx, size_t i);
    void *ctx;
    double *v;
    size_t n;
    const float *grad[FD_MAX_GRADS];      /* unused ones NULL */
    const char *grad_name[FD_MAX_GRADS]; /* e.g. "dx [cpu]" */
    double h, floor;
    int points, tries;
    int (*skip)(void *ctx, size_t i); /* NULL: none */
} fd_probe;
void check_fd(op_run *r, const fd_probe *p);

/* perf mode: times launch(ctx) (after a warm-up call) over at least 3 calls
 * and ~0.2 s, and prints ms and GFLOP/s for the current case. */
typedef int (*op_launch)(void *ctx, char *err);
void time_launch(op_run *r, op_launch launch, void *ctx, const char *what);

/* The runners of the OP rows (tests/optest/<family>.c). */
#define OP(name, shape, reference, nmse, fd_error, flops) void run_##name(op_run *r, const void *row);
#include "cases.def"

#endif
