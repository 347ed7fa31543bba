/* Host launchers of the frozen-encoder ops. Tensors are fp32, NCHW, dense.
 * Every op has a forward and a backward-to-input; input-gradient kernels
 * gather (each input element sums its own contributions): deterministic,
 * no float atomics. Launchers only enqueue on dev->queue: no host sync.
 * All return MOVL_OK or MOVL_ERR_RUN with a message in err. */
#ifndef MOVL_OPS_H
#define MOVL_OPS_H

#include "device/device.h"
#include "ops/desc/op_desc.h"

/* ---- 2-D convolution: planned once per layer, run every step ---- */
/* Choices a caller may force (tests, benchmarks); zero everywhere = automatic. */
typedef enum { MOVL_CONV_VARIANT_AUTO = 0, MOVL_CONV_VARIANT_CPU, MOVL_CONV_VARIANT_GPU } movl_conv_variant;
/* What the lanes of the CPU kernel's vectors hold: consecutive output
 * positions of one image, or one position of consecutive images (small planes). */
typedef enum { MOVL_CONV_LANES_AUTO, MOVL_CONV_LANES_POSITIONS, MOVL_CONV_LANES_IMAGES } movl_conv_lanes;
/* Winograd F(2x2, 3x3) for 3x3 stride-1 ungrouped convs: auto (CPUs, shapes where it pays), on (every
 * such shape, any device), off. Its sums differ from the direct kernel's by rounding only. */
typedef enum { MOVL_CONV_WINOGRAD_AUTO, MOVL_CONV_WINOGRAD_ON, MOVL_CONV_WINOGRAD_OFF } movl_conv_winograd;

typedef struct movl_conv_options {
    movl_conv_variant variant; /* kernel family; auto: by device type */
    int tile_mt, tile_tc;      /* CPU register tile (both >= 1), else chosen per shape */
    size_t prep_limit;         /* bytes of prepared input per chunk of images; 0: 64 MiB */
    int weight_grads; /* 1: also plan movl_conv_backward_weights (kernels, workspace) */
    int vw;           /* lanes of the CPU kernel's vectors (8 or 16); 0: the device's preferred width */
    movl_conv_lanes lanes; /* what the CPU kernel's lanes hold; auto: by shape */
    movl_conv_winograd winograd;
} movl_conv_options;
/* The options from the environment, read once at encoder load: MOVL_CONV_VARIANT=cpu|gpu,
 * MOVL_CONV_TILE=MT,TC, MOVL_CONV_VW=8|16, MOVL_CONV_LANES=positions|images,
 * MOVL_CONV_WINOGRAD=on|off, MOVL_CONV_PREP_LIMIT=bytes (unset or malformed: automatic). */
void movl_conv_options_from_env(movl_conv_options *o);

/* A convolution of shape d (d->n = the largest batch it will run) planned on dev:
 * variant, tiles, prepared-input layout, passes, kernels (built here), packed
 * weights and workspace size, all fixed at creation; a step only enqueues.
 * Bad shape: MOVL_ERR_INPUT naming it; kernel build or allocation: MOVL_ERR_RUN.
 * o may be NULL (automatic). The plan must be freed before dev is closed. */
typedef struct movl_conv_plan movl_conv_plan;
int movl_conv_plan_create(movl_device *dev, const movl_conv_desc *d, const movl_conv_options *o, movl_conv_plan **out,
                          char *err);
void movl_conv_plan_free(movl_conv_plan *p);
/* Packs w ([cout][cin/groups][k][k], PyTorch layout) into the plan's own
 * buffer in the order the kernels read it, for both directions (enqueued).
 * Once after create, and again whenever w changes. */
int movl_conv_plan_set_weights(movl_conv_plan *p, cl_mem w, char *err);
/* Scratch bytes a forward or backward of this plan needs (0 if none): the caller
 * passes a buffer at least this large (NULL when 0); layers may share one. */
size_t movl_conv_plan_workspace_bytes(const movl_conv_plan *p);
/* Device bytes the plan holds itself (its packed weights). */
size_t movl_conv_plan_device_bytes(const movl_conv_plan *p);
const movl_conv_desc *movl_conv_plan_desc(const movl_conv_plan *p);

/* y = act(conv(x, w) + bias) over batch <= d->n images; bias may be NULL. */
int movl_conv_forward(const movl_conv_plan *p, int batch, cl_mem x, cl_mem bias, movl_act act, cl_mem y,
                      cl_mem workspace, char *err);
/* dx = d(conv)/dx^T dy, where dy is the gradient w.r.t. the conv output BEFORE
 * activation (apply movl_act_backward first). dx is overwritten. */
int movl_conv_backward_input(const movl_conv_plan *p, int batch, cl_mem dy, cl_mem dx, cl_mem workspace,
                             char *err);
/* dw[cout][cin/groups][k][k] = sum over the batch's images and output positions of
 * dz[n][co][oy][ox] * x[n][g*cin_g + ci][oy*s - pad_t + kh][ox*s - pad_l + kw] (zero outside),
 * db[co] = sum over images and positions of dz[n][co] (db may be NULL). dz is the gradient with respect to
 * the conv output BEFORE activation. dw and db are overwritten. Deterministic: every sum in a fixed order
 * (partial sums per image chunk, then a fixed-order reduction; no atomics), so two calls give identical bits.
 * Needs a plan created with options->weight_grads = 1 (else MOVL_ERR_RUN naming it); the workspace passed must
 * be at least movl_conv_plan_workspace_bytes(p) (which includes this op's scratch when weight_grads is set).
 * Enqueues only. */
int movl_conv_backward_weights(const movl_conv_plan *p, int batch, cl_mem x, cl_mem dz, cl_mem dw, cl_mem db,
                               cl_mem workspace, char *err);

/* ---- elementwise ---- */
/* y = act(x); y may equal x. */
int movl_act_forward(movl_device *dev, movl_act act, size_t count, cl_mem x, cl_mem y, char *err);
/* dx = dy * act'(y), from the activation's OUTPUT y (relu: y > 0; relu6: 0 < y < 6). dx may equal dy. */
int movl_act_backward(movl_device *dev, movl_act act, size_t count, cl_mem y, cl_mem dy, cl_mem dx, char *err);
/* y = act(a + b) (residual add); y may equal a or b. */
int movl_add_forward(movl_device *dev, size_t count, cl_mem a, cl_mem b, movl_act act, cl_mem y, char *err);

/* ---- max pooling and global average pooling ---- */
/* y = max over each window (padding never wins); argmax (first maximum in
 * row-major window order, as an int index into the input plane) goes to idx. */
int movl_maxpool_forward(movl_device *dev, const movl_pool_desc *d, cl_mem x, cl_mem y, cl_mem idx, char *err);
/* dx[i] = sum of dy over the windows whose argmax is i. dx is overwritten. */
int movl_maxpool_backward(movl_device *dev, const movl_pool_desc *d, cl_mem idx, cl_mem dy, cl_mem dx, char *err);
/* y[n][c] = mean over the h*w plane of x[n][c]. */
int movl_gap_forward(movl_device *dev, int n, int c, int hw, cl_mem x, cl_mem y, char *err);
/* dx[n][c][*] = dy[n][c] / hw. */
int movl_gap_backward(movl_device *dev, int n, int c, int hw, cl_mem dy, cl_mem dx, char *err);

/* ---- linear layer: y[b][o] = sum_i x[b][i] * W[o][i] + bias[o] (PyTorch nn.Linear) ---- */
int movl_linear_forward(movl_device *dev, int batch, int in, int out, cl_mem x, cl_mem W, cl_mem bias, cl_mem y,
                        char *err);
/* dx[b][i] = sum_o dy[b][o] * W[o][i]. */
int movl_linear_backward_input(movl_device *dev, int batch, int in, int out, cl_mem W, cl_mem dy, cl_mem dx,
                               char *err);
/* dW[o][i] = sum_b dy[b][o] * x[b][i]; db[o] = sum_b dy[b][o] (db may be NULL). Overwrites. */
int movl_linear_backward_params(movl_device *dev, int batch, int in, int out, cl_mem x, cl_mem dy, cl_mem dW,
                                cl_mem db, char *err);

/* Which GEMM the linear layer uses: CLBlast, or our own kernel (the fallback,
 * and the default on CPU devices where CLBlast's GPU-tuned kernels are slow). */
typedef enum { MOVL_GEMM_AUTO = 0, MOVL_GEMM_CLBLAST, MOVL_GEMM_OWN } movl_gemm_backend;
void movl_set_gemm_backend(movl_gemm_backend b);

/* ---- transformer ops (ViT, CLIP); tensors rows x dim, row-major ---- */
/* Layer norm over each row (nn.LayerNorm(dim, eps)): y = (x - mean) * rstd * gamma + beta, biased variance;
 * stats (2 * rows floats) receives mean and rstd per row for the backward. */
int movl_layernorm_forward(movl_device *dev, int rows, int dim, float eps, cl_mem x, cl_mem gamma, cl_mem beta,
                           cl_mem y, cl_mem stats, char *err);
/* dx from dy, x and the forward's stats (dx is overwritten; it may not equal dy or x). */
int movl_layernorm_backward_input(movl_device *dev, int rows, int dim, cl_mem x, cl_mem gamma, cl_mem stats,
                                  cl_mem dy, cl_mem dx, char *err);
/* dgamma[j] = sum over rows of dy * xhat, dbeta[j] = sum of dy (overwritten; rows summed in order). */
int movl_layernorm_backward_params(movl_device *dev, int rows, int dim, cl_mem x, cl_mem stats, cl_mem dy,
                                   cl_mem dgamma, cl_mem dbeta, char *err);
/* y = x / max(||x||, 1e-12) per row (F.normalize; CLIP's embeddings before cosine logits; y may not equal x).
 * Backward from the INPUT x: dx = (dy - y (y . dy)) / ||x|| (dx may equal dy, not x). */
int movl_l2norm_forward(movl_device *dev, int rows, int dim, cl_mem x, cl_mem y, char *err);
int movl_l2norm_backward(movl_device *dev, int rows, int dim, cl_mem x, cl_mem dy, cl_mem dx, char *err);
/* y = gelu(x) (y may equal x); dx = dy * gelu'(x) from the INPUT x (dx may equal dy). */
int movl_gelu_forward(movl_device *dev, movl_gelu kind, size_t count, cl_mem x, cl_mem y, char *err);
int movl_gelu_backward(movl_device *dev, movl_gelu kind, size_t count, cl_mem x, cl_mem dy, cl_mem dx, char *err);
/* y = softmax of scale * x over each row (y may equal x); causal: row r is query r % dim and keys after it
 * get 0 (rows a multiple of dim). dx = scale * y * (dy - sum(dy * y)) from the output y (dx may equal dy). */
int movl_softmax_forward(movl_device *dev, int rows, int dim, float scale, int causal, cl_mem x, cl_mem y,
                         char *err);
int movl_softmax_backward(movl_device *dev, int rows, int dim, float scale, cl_mem y, cl_mem dy, cl_mem dx,
                          char *err);
/* ViT's patches: rows[n][p][ch * k * k + ky * k + kx] = x[n][ch][py * k + ky][px * k + kx], p = py * (size / k)
 * + px (size a multiple of k): the patch embedding is then a linear layer over the rows. The backward is the
 * inverse copy (every pixel is in one patch). */
int movl_patchify(movl_device *dev, int n, int c, int size, int k, cl_mem x, cl_mem rows, char *err);
int movl_patchify_backward(movl_device *dev, int n, int c, int size, int k, cl_mem drows, cl_mem dx, char *err);
/* ViT's token embedding: tok[n][0][:] = cls + pos[0]; tok[n][1 + p][:] = patch[n][p][:] + pos[1 + p], from the
 * embedded patches [n][patches][dim]. Backward: dpatch[n][p][:] = dtok[n][1 + p][:]. */
int movl_tokens_embed(movl_device *dev, int n, int dim, int patches, cl_mem patch, cl_mem cls, cl_mem pos, cl_mem tok,
                      char *err);
int movl_tokens_embed_backward(movl_device *dev, int n, int dim, int patches, cl_mem dtok, cl_mem dpatch, char *err);
/* Full fine-tuning: dpos[t][:] = sum over the n images of dtok[n][t][:] (in image order), dcls = dpos[0]. */
int movl_tokens_embed_backward_params(movl_device *dev, int n, int dim, int patches, cl_mem dtok, cl_mem dpos,
                                      cl_mem dcls, char *err);
/* The batched GEMM of d (ops/desc/op_desc.h); C may not overlap A or B. */
int movl_gemm_batched(movl_device *dev, const movl_gemm_batch_desc *d, cl_mem A, cl_mem B, cl_mem C, char *err);

/* ---- loss ---- */
/* Softmax cross-entropy over k classes with integer labels: loss[b] =
 * -log softmax(z[b])[label[b]]; dz[b][j] = (softmax(z[b])[j] - onehot) / batch
 * (gradient of the batch mean). */
int movl_softmax_xent(movl_device *dev, int batch, int k, cl_mem z, cl_mem labels, cl_mem loss, cl_mem dz,
                      char *err);

#endif
