/* Host launchers of the frozen-encoder ops. Tensors are fp32, NCHW, dense.
 * Every op has a forward and a backward-to-input; input-gradient kernels
 * gather (each input element sums its own contributions): deterministic,
 * no float atomics. Launchers only enqueue on dev->queue: no host sync.
 * All return MOVL_OK or MOVL_ERR_RUN with a message in err. */
#ifndef MOVL_OPS_H
#define MOVL_OPS_H

#include "device/device.h"
#include "ops/desc/op_desc.h"

/* ---- 2-D convolution ---- */
/* Bytes of scratch the conv launchers need for this shape (0 if none); the
 * caller passes a buffer of at least this size (NULL when 0). */
size_t movl_conv_workspace_bytes(const movl_device *dev, const movl_conv_desc *d);

/* y = act(conv(x, w) + bias); bias may be NULL. */
int movl_conv2d_forward(movl_device *dev, const movl_conv_desc *d, cl_mem x, cl_mem w, cl_mem bias, movl_act act,
                        cl_mem y, cl_mem workspace, char *err);
/* dx = d(conv)/dx^T dy, where dy is the gradient w.r.t. the conv output BEFORE
 * activation (apply movl_act_backward first). dx is overwritten. */
int movl_conv2d_backward_input(movl_device *dev, const movl_conv_desc *d, cl_mem w, cl_mem dy, cl_mem dx,
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

/* ---- loss ---- */
/* Softmax cross-entropy over k classes with integer labels: loss[b] =
 * -log softmax(z[b])[label[b]]; dz[b][j] = (softmax(z[b])[j] - onehot) / batch
 * (gradient of the batch mean). */
int movl_softmax_xent(movl_device *dev, int batch, int k, cl_mem z, cl_mem labels, cl_mem loss, cl_mem dz,
                      char *err);

#endif
