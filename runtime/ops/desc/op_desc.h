/* Shapes of the encoder ops, without OpenCL types: the convolution and
 * pooling descriptors and the activation codes. Shared by the device
 * launchers (ops/), the C references (ops/ref/) and the encoder builders. */
#ifndef MOVL_OP_DESC_H
#define MOVL_OP_DESC_H

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

#endif
