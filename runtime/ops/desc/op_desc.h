/* Shapes of the encoder ops, without OpenCL types: the convolution, pooling
 * and batched-GEMM descriptors and the activation codes. Shared by the device
 * launchers (ops/), the C references (ops/ref/) and the encoder builders. */
#ifndef MOVL_OP_DESC_H
#define MOVL_OP_DESC_H

#include <stddef.h>

/* Activation applied in an op's epilogue. The codes are also the values of
 * the kernels' ACT argument (cl/common.h). */
typedef enum { MOVL_ACT_NONE = 0, MOVL_ACT_RELU = 1, MOVL_ACT_RELU6 = 2 } movl_act;

/* ---- 2-D convolution (weights [cout][cin/groups][k][k], PyTorch layout) ---- */
typedef struct movl_conv_desc {
    int n, cin, h, w;     /* input */
    int cout, k, stride, groups;
    int pad_t, pad_l;     /* top/left padding; bottom/right follow from oh, ow */
    int oh, ow;           /* output size */
} movl_conv_desc;

/* PyTorch-style symmetric zero padding `pad`. */
void movl_conv_desc_init(movl_conv_desc *d, int n, int cin, int h, int w, int cout, int k, int stride, int pad,
                         int groups);
/* TensorFlow "same": oh = ceil(h / stride), total padding max((oh-1)*stride + k - h, 0), top/left gets
 * total/2, bottom/right the rest (as Conv2dStaticSamePadding in the EfficientNet-Lite code). */
void movl_conv_desc_init_same(movl_conv_desc *d, int n, int cin, int h, int w, int cout, int k, int stride,
                              int groups);

/* ---- max pooling ---- */
typedef struct movl_pool_desc {
    int n, c, h, w, k, stride, pad, oh, ow;
} movl_pool_desc;
/* PyTorch MaxPool2d(k, stride, pad) output size, floor mode. */
void movl_pool_desc_init(movl_pool_desc *d, int n, int c, int h, int w, int k, int stride, int pad);

/* ---- transformer ops (ViT, CLIP) ---- */
/* GELU of nn.GELU() (exact: x * Phi(x), Phi the normal CDF through erf) or CLIP's
 * QuickGELU (x * sigmoid(1.702 x), OpenAI's weights). */
typedef enum { MOVL_GELU_ERF = 0, MOVL_GELU_QUICK = 1 } movl_gelu;

/* C[b1][b2] = alpha * op(A[b1][b2]) * op(B[b1][b2]) + beta * C[b1][b2] for every b1 < batch1, b2 < batch2:
 * op(A) is m x k, op(B) k x n, C m x n, all row-major in floats. Element (i, p) of op(A) is
 * A[a.offset + b1 * a.stride1 + b2 * a.stride2 + (trans_a ? p * a.ld + i : i * a.ld + p)], and the same for
 * B (k x n) and C (no transpose). Two batch levels because attention's heads are column slices of the
 * token rows (Q of image n, head h starts at n * T * 3D + h * d, rows T apart). beta = 0 never reads C. */
typedef struct movl_gemm_operand {
    size_t offset, ld, stride1, stride2; /* in floats */
} movl_gemm_operand;
typedef struct movl_gemm_batch_desc {
    int batch1, batch2, m, n, k;
    int trans_a, trans_b;
    movl_gemm_operand a, b, c;
    float alpha, beta;
} movl_gemm_batch_desc;
/* Floats each operand must hold to cover every element the GEMM touches (0 if a dimension is 0). */
size_t movl_gemm_operand_extent(const movl_gemm_batch_desc *d, char which);

#endif
