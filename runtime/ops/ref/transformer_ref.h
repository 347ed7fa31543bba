/* Naive C references of the transformer ops (layer norm, GELU, row softmax,
 * batched GEMM), in double precision, same layouts and semantics as ops.h.
 * Written for clarity: one pass per formula, straight from the definitions
 * (PyTorch nn.LayerNorm, nn.GELU, torch.softmax, torch.matmul). */
#ifndef MOVL_TRANSFORMER_REF_H
#define MOVL_TRANSFORMER_REF_H

#include <stddef.h>

#include "ops/desc/op_desc.h"

/* y = (x - mean) / sqrt(var + eps) * gamma + beta per row of dim (biased variance). */
void movl_ref_layernorm_forward(int rows, int dim, double eps, const double *x, const double *gamma,
                                const double *beta, double *y);
void movl_ref_layernorm_backward_input(int rows, int dim, double eps, const double *x, const double *gamma,
                                       const double *dy, double *dx);
void movl_ref_layernorm_backward_params(int rows, int dim, double eps, const double *x, const double *dy,
                                        double *dgamma, double *dbeta);

/* y = x / max(||x||, 1e-12) per row; dx from the input x (F.normalize's gradient). */
void movl_ref_l2norm_forward(int rows, int dim, const double *x, double *y);
void movl_ref_l2norm_backward(int rows, int dim, const double *x, const double *dy, double *dx);

double movl_ref_gelu(movl_gelu kind, double x);
void movl_ref_gelu_forward(movl_gelu kind, size_t count, const double *x, double *y);
/* dx = dy * gelu'(x), from the INPUT x. */
void movl_ref_gelu_backward(movl_gelu kind, size_t count, const double *x, const double *dy, double *dx);

/* y = softmax over each row of dim of scale * x; causal: row r is query r % dim, and keys after it get
 * probability 0 (rows must then be a multiple of dim). */
void movl_ref_softmax_forward(int rows, int dim, double scale, int causal, const double *x, double *y);
/* dx = scale * y * (dy - sum_j dy * y), from the forward's output y. */
void movl_ref_softmax_backward(int rows, int dim, double scale, const double *y, const double *dy, double *dx);

/* ViT's patch rows and token embedding, and their backward (ops.h). */
void movl_ref_patchify(int n, int c, int size, int k, const double *x, double *rows);
void movl_ref_patchify_backward(int n, int c, int size, int k, const double *drows, double *dx);
void movl_ref_tokens_embed(int n, int dim, int patches, const double *patch, const double *cls, const double *pos,
                           double *tok);
void movl_ref_tokens_embed_backward(int n, int dim, int patches, const double *dtok, double *dpatch);
/* dpos[t][d] = sum_n dtok[n][t][d]; dcls[d] = sum_n dtok[n][0][d]. */
void movl_ref_tokens_embed_backward_params(int n, int dim, int patches, const double *dtok, double *dpos, double *dcls);

/* The batched GEMM of movl_gemm_batch_desc on double arrays (C read only when beta != 0). */
void movl_ref_gemm_batched(const movl_gemm_batch_desc *d, const double *A, const double *B, double *C);

#endif
