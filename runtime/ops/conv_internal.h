/* Internals of the convolution: the geometry of its passes (conv_plan.c,
 * host arithmetic only) and the plan object that conv.c builds from it once
 * per layer and runs every step. */
#ifndef MOVL_CONV_INTERNAL_H
#define MOVL_CONV_INTERNAL_H

#include <stddef.h>

#include "ops/ops.h"

/* Largest stride handled (the backward runs up to S*S phase launches). */
#define CONV_MAX_STRIDE 4
/* Work-group size of the CPU kernel (each item computes a whole tile). */
#define CONV_CPU_LS 16
/* Tile of the GPU kernel (conv_tile_gpu): GT channels x GT pixels, GL x GL items. */
#define CONV_GPU_TILE 64
#define CONV_GPU_LOCAL 16

typedef enum { VARIANT_CPU, VARIANT_GPU } conv_variant;

typedef struct conv_tile {
    int mt, tc; /* output channels x vw*tc consecutive output positions */
    int vw;     /* lanes per vector (VW of conv_tile) */
} conv_tile;

/* How P is built from the source tensor (x or dy); copy 0: P is the source. */
typedef struct conv_prep {
    int copy;
    int src_c, src_h, src_w; /* source tensor, per image */
    int nph, s, up;          /* phases per dimension, stride, zero-insertion factor */
    int pad_t, pad_l;        /* leading zeros */
    int ph, pw;              /* rows and columns of one plane of P */
    int p_plane, p_row, p_c, p_n;
} conv_prep;

/* One launch of the tiled correlation (and the weight packing it reads). */
typedef struct conv_pass {
    int nph, ky, kx, ss;             /* taps */
    int sy, sx, guard;               /* compile-time tap slots of conv_tile; guard: ky, kx < sy, sx possible */
    int k;                           /* kernel size of the weights */
    int kh0, khs, kw0, kws;          /* weight tap of (a, b): kh0 + khs*a, kw0 + kws*b */
    int w_g, w_oc, w_r;              /* weight strides: group, output and reduction channel */
    int wp_off;                      /* packed weights, in floats from the start of the plan's weight buffer */
    int y_off, y_n, y_c, y_row, osx; /* y_off excludes the chunk's image offset */
    int rc, ocg, groups, ohn, own, roff, coff;
} conv_pass;

typedef struct conv_geometry {
    conv_variant variant;
    conv_tile tile;
    conv_prep prep;
    int npass;
    conv_pass pass[CONV_MAX_STRIDE * CONV_MAX_STRIDE];
    int zero_fill; /* some dx phase receives nothing: clear dx first */
    int batch_lanes; /* CPU: images in the vector lanes (conv_tile_batch over an interleaved P) */
    int chunk;     /* images per chunk */
    int col2im;    /* backward: the pass writes G = W^T dy to the workspace; conv_col2im gathers dx */
    size_t w_floats; /* packed weights of the passes (in the plan's weight buffer) */
    size_t p_at;   /* P's offset in the workspace, in floats */
    size_t g_at;   /* G's offset (col2im), in floats */
    size_t g_n;    /* floats of G per image */
    size_t floats; /* workspace size in floats (P and G; the weights live in the plan) */
} conv_geometry;

/* The weight gradient's plan (conv_wgrad.c): the batch in parts of `per`
 * images, each summed into its own slot of the workspace (cout*nr + cout
 * floats: dw, then db) and the slots added in order; one part writes dw/db
 * itself. P is x prepared as the forward does (zero-padded, stride phases;
 * x itself when unpadded at stride 1). Depthwise convs correlate D (dz at P's
 * row pitch) with P; the others run a GEMM of dzT (dz channels-last) with
 * P's taps. P and D or dzT are built per chunk of images in the workspace. */
typedef struct conv_wgrad {
    int rows;        /* conv_wgrad_rows: depthwise, or <= 4 input channels per group and < 160 taps */
    int pointwise;   /* unpadded stride-1 1x1 on larger planes: x and dz read in place (no chunks) */
    int mt, nrt;     /* register tile: gemm vw*mt channels x nrt taps; pointwise mt x nrt; rows mt x k */
    int vw;          /* gemm: lanes of its channel vectors (8, or 16 where the device prefers them) */
    int nr, cpad;    /* taps cin_g*k*k; dzT row pitch (cout_g rounded up to vw*mt) */
    int per;         /* images per part */
    int chunk;       /* images per chunk of P and D or dzT (a multiple of per) */
    int len;         /* rows: positions of D per plane, (oh-1)*pw + ow */
    conv_prep prep;  /* P */
    int parts;       /* parts of a full batch (slots of the workspace) */
    size_t slot;     /* floats per slot: cout*nr + cout */
    size_t col_at;   /* P (when copied), in floats into the workspace */
    size_t d_at;     /* D or dzT */
    size_t part_at;  /* the slots (when parts > 1) */
    size_t floats;   /* workspace the weight gradient needs */
} conv_wgrad;

/* Forward and backward-to-input geometry of d for the variant the options
 * and the device type pick (is_cpu). Pure arithmetic: no device work. */
void conv_plan_forward(int is_cpu, const movl_conv_options *o, const movl_conv_desc *d, conv_geometry *g);
void conv_plan_backward(int is_cpu, const movl_conv_options *o, const movl_conv_desc *d, conv_geometry *g);
/* Places the passes' packed weights from float offset w_base on (g->w_floats
 * set to what they take) and P and G in the workspace (g->floats). */
void conv_plan_place(conv_geometry *g, size_t w_base, int n, const movl_conv_options *o);
/* The weight gradient's geometry of d (d->n: the largest batch). */
void conv_plan_wgrad(int is_cpu, const movl_conv_options *o, const movl_conv_desc *d, conv_wgrad *wg);

/* The Winograd F(2x2, 3x3) path (conv_winograd.c, cl/conv_winograd.cl): the
 * input and output transforms around a grouped 1x1 conv (16 groups, one per
 * tile element) that an inner plan runs, per chunk of images. One inner plan
 * serves both directions: its forward is M = U V, its backward dV = U^T dM. */
typedef struct conv_winograd {
    int th, tw;           /* 2x2 output tiles per image: rows, columns */
    int qh, qw;           /* 2x2 blocks of padded input the backward's gather covers */
    int tile_items, gather_items; /* work-items per plane: rows of th x tw tiles and of qh x qw blocks, 8 a work-item */
    int chunk;            /* images per chunk of V and M */
    movl_conv_plan *gemm; /* the grouped 1x1 conv over th x tw planes, 16C -> 16K channels */
    cl_mem u;             /* transformed weights, the inner plan's [16K][C][1][1] */
    size_t v_at, m_at, inner_at, floats; /* workspace: V (or dV), M (or dM), the inner plan's; in floats */
    cl_kernel weights, input, output, output_adjoint, input_adjoint;
} conv_winograd;

/* One convolution layer, planned once (movl_conv_plan_create). */
struct movl_conv_plan {
    movl_device *dev;
    movl_conv_desc desc; /* n: the largest batch */
    conv_geometry fwd, bwd;
    cl_kernel pack, prepare, col2im;
    cl_kernel fwd_prepare_batch, bwd_prepare_batch; /* for geometries with batch_lanes (their tile's vw) */
    cl_kernel fwd_pass, bwd_pass[CONV_MAX_STRIDE * CONV_MAX_STRIDE];
    cl_mem weights;       /* packed weights: forward passes, then backward passes */
    size_t weight_bytes;
    size_t workspace_bytes;
    conv_winograd *wino; /* forward and backward-to-input by Winograd (then fwd/bwd above are unused) */
    int weight_grads; /* options->weight_grads: wgrad and its kernels are set */
    conv_wgrad wgrad;
    cl_kernel wg_prepare, wg_dzt, wg_gemm, wg_pointwise, wg_dpad, wg_dw, wg_db, wg_reduce;
};

/* Checks shared by the launchers (conv.c, conv_wgrad.c): 1 if fine, else 0 with err set (op names the call). */
int conv_check_batch(const movl_conv_plan *p, int batch, const char *op, char *err);
int conv_check_workspace(const movl_conv_plan *p, cl_mem workspace, const char *op, char *err);

/* The direct forward (no bias, no activation) and backward-to-input with the
 * source, the result and the workspace starting at float offsets (the
 * Winograd path runs its inner plan over parts of its own workspace). */
int conv_forward_at(const movl_conv_plan *p, int batch, cl_mem x, int x_at, cl_mem y, int y_at, cl_mem ws, int ws_at,
                    char *err);
int conv_backward_at(const movl_conv_plan *p, int batch, cl_mem dy, int dy_at, cl_mem dx, int dx_at, cl_mem ws,
                     int ws_at, char *err);

/* Winograd (conv_winograd.c): whether options o pick it for d on this device
 * type; its plan (into p->wino; p->desc set), weights, launches, release. */
int conv_winograd_wanted(int is_cpu, const movl_conv_options *o, const movl_conv_desc *d);
int conv_winograd_create(movl_conv_plan *p, const movl_conv_options *o, char *err);
int conv_winograd_set_weights(movl_conv_plan *p, cl_mem w, char *err);
int conv_winograd_forward(const movl_conv_plan *p, int batch, cl_mem x, cl_mem bias, movl_act act, cl_mem y,
                          cl_mem ws, char *err);
int conv_winograd_backward(const movl_conv_plan *p, int batch, cl_mem dy, cl_mem dx, cl_mem ws, char *err);
void conv_winograd_free(conv_winograd *w);

/* Builds the weight gradient's kernels into p (at plan creation, when asked for). */
int conv_wgrad_kernels(movl_conv_plan *p, char *err);

#endif
