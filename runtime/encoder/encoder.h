/* Pretrained encoders: an ordered list of layers built from a safetensors
 * file, with batch norm folded into the preceding convolution at load.
 * Forward gives the pooled features and the 1000 ImageNet logits; backward
 * takes a gradient on either (or both) and returns the gradient with respect
 * to the input image. Frozen by default (no weight gradient allocated); a
 * trainable encoder (full fine-tuning) also writes the gradients of its
 * BN-folded convolution weights and biases, with BN statistics frozen. */
#ifndef MOVL_ENCODER_H
#define MOVL_ENCODER_H

#include "device/device.h"
#include "kinds/encoder_archs.h"

typedef struct movl_encoder movl_encoder;


/* Loads `arch` from `weights` (safetensors, torchvision / efficientnet_lite_pytorch
 * tensor names) onto dev for batches of up to max_batch images of size x size.
 * weights == NULL gives deterministic random stand-in weights (benchmarks).
 * All kernels are built, every convolution planned and its weights packed, and
 * all buffers allocated here (never during a step); the MOVL_CONV_* overrides
 * of the planner (ops/ops.h) are read here, once.
 * Bad arch, missing or mis-shaped tensor: MOVL_ERR_INPUT naming the tensor. */
int movl_encoder_load(movl_device *dev, const char *arch, const char *weights, int max_batch, int size,
                      movl_encoder **out, char *err);

typedef struct movl_encoder_options {
    int trainable; /* allocate parameters as one flat buffer, and their gradients */
    /* Floats of optimiser state per parameter the caller will allocate (Adam 2, SGD with
     * momentum 1, else 0): counted when checking that training fits the device. */
    int state_floats_per_param;
} movl_encoder_options;
/* movl_encoder_load with options (o NULL: frozen). A trainable encoder that would not fit
 * the device's memory fails with MOVL_ERR_INPUT saying how much it needs. */
int movl_encoder_load_with(movl_device *dev, const char *arch, const char *weights, int max_batch, int size,
                           const movl_encoder_options *o, movl_encoder **out, char *err);
void movl_encoder_free(movl_encoder *e);

int movl_encoder_feature_dim(const movl_encoder *e); /* 512 for resnet18, 1280 for lite0 ... */
int movl_encoder_num_classes(const movl_encoder *e); /* 1000 */
int movl_encoder_input_size(const movl_encoder *e);  /* the size passed to load */
/* Normalisation the encoder was trained with (per RGB channel, on [0,1] pixels). */
void movl_encoder_normalization(const movl_encoder *e, float mean[3], float std[3]);
/* Forward FLOPs per image (multiply-add = 2). */
double movl_encoder_flops(const movl_encoder *e);

/* Forward over `batch` images in x ([batch][3][size][size], normalised).
 * Keeps what backward needs. Enqueues only: no host sync. */
int movl_encoder_forward(movl_encoder *e, int batch, cl_mem x, char *err);
/* Device buffers owned by the encoder, valid after forward: [batch][dim] and [batch][1000]. */
cl_mem movl_encoder_features(const movl_encoder *e);
cl_mem movl_encoder_logits(const movl_encoder *e);

/* Backward to the input of the last forward: dfeatures ([batch][dim]) and/or
 * dlogits ([batch][1000]) may be NULL; their contributions are summed.
 * dx ([batch][3][size][size]) is overwritten. Enqueues only. A trainable
 * encoder also overwrites every parameter gradient (movl_encoder_param_grads),
 * deterministically; there dx may be NULL (no input gradient). The input of
 * the forward must still hold its values (a first layer whose backward reads
 * its input reads it: the first conv's weight gradient, a layer norm). */
int movl_encoder_backward(movl_encoder *e, cl_mem dfeatures, cl_mem dlogits, cl_mem dx, char *err);

/* ---- trained tensors: BN-folded conv weights [cout][cin/groups][k][k] and biases [cout] ---- */
/* Named tensors (every encoder, frozen or not): "LAYER.weight", "LAYER.bias", in a flat
 * layout of movl_encoder_param_floats floats (offsets aligned for sub-buffers; gaps are zero). */
typedef struct movl_encoder_tensor {
    char name[80];
    int ndim;
    int64_t shape[4];
    size_t offset, numel; /* in floats, in the flat layout */
} movl_encoder_tensor;
int movl_encoder_tensor_count(const movl_encoder *e);
int movl_encoder_tensor_info(const movl_encoder *e, int i, movl_encoder_tensor *out);
size_t movl_encoder_param_floats(const movl_encoder *e);
/* Trained values, summed over tensors (gaps excluded). */
size_t movl_encoder_param_count(const movl_encoder *e);
/* Trainable encoders: the flat parameters and their gradients (NULL when frozen). After the
 * caller changes the parameters (an optimiser step), movl_encoder_params_changed repacks them
 * for the convolutions (enqueued; before the next forward). */
cl_mem movl_encoder_params(const movl_encoder *e);
cl_mem movl_encoder_param_grads(const movl_encoder *e);
int movl_encoder_params_changed(movl_encoder *e, char *err);
/* New flat parameters from the host (blocking), frozen or trainable: a frozen encoder packs
 * them into its convolutions (a fine-tuned backbone for evaluation). To read them back, download
 * movl_encoder_params (trainable encoders only). */
int movl_encoder_params_upload(movl_encoder *e, const float *host, char *err);

/* Per-layer view for profiling (bench): number of layers, each one's name and
 * forward FLOPs per image; events of the last forward/backward when the device
 * queue has profiling enabled (NULL otherwise). */
int movl_encoder_layer_count(const movl_encoder *e);
const char *movl_encoder_layer_name(const movl_encoder *e, int i);
double movl_encoder_layer_flops(const movl_encoder *e, int i);
/* Seconds spent in layer i in the last forward and backward (from OpenCL
 * profiling events; -1 when the queue was not created with profiling). Call
 * after the queue has finished. */
double movl_encoder_layer_seconds(const movl_encoder *e, int i, int backward);

/* Op kind of layer i, for grouping profiles: "conv", "depthwise_conv",
 * "pool" (max or global average), "eltwise" (residual add) or "linear". */
const char *movl_encoder_layer_kind(const movl_encoder *e, int i);
/* Bytes layer i's forward moves at fp32 if every tensor is touched once:
 * per image (inputs, outputs, max-pool argmax) and fixed (weights, bias). */
void movl_encoder_layer_bytes(const movl_encoder *e, int i, double *per_image, double *fixed);

/* Device memory held by the encoder's weights and activations, in bytes. */
size_t movl_encoder_device_bytes(const movl_encoder *e);

#endif
