/* Internals of the frozen encoders: the tensor/layer graph, the per-kind
 * layer vtable and the builder calls the architecture files (encoder_resnet.c,
 * encoder_efficientnet.c) use. Not part of the public API (see encoder.h). */
#ifndef MOVL_ENCODER_LAYERS_H
#define MOVL_ENCODER_LAYERS_H

#include <stddef.h>

#include "encoder/encoder.h"
#include "ops/ops.h"
#include "core/weights.h"

/* An activation tensor [batch][c][h][w]. Tensor 0 is the encoder input (its
 * buffer is the caller's x during a forward). */
typedef struct enc_tensor {
    int c, h, w;
    size_t numel;      /* c*h*w: one image */
    cl_mem buf;        /* [max_batch][numel]; may alias another tensor's buffer (in-place add) */
    int alias_of;      /* tensor whose buffer this one reuses, or -1 */
    int producer;      /* layer that writes it; -1 for the input */
    int readers;       /* number of layer inputs that read it */
} enc_tensor;

typedef struct enc_layer enc_layer;

/* The layer kinds, in the order of enc_layer_kinds[] (encoder_kinds.c). */
typedef enum {
    ENC_CONV,
    ENC_ADD,
    ENC_MAXPOOL,
    ENC_GAP,
    ENC_LINEAR,
    ENC_PATCHIFY,  /* ViT: the image to one row per patch */
    ENC_TOKENS,    /* ViT: embedded patches to tokens, class token, position embedding */
    ENC_LAYERNORM, /* over each token's features */
    ENC_ATTENTION, /* multi-head attention core: packed q, k, v to the heads' outputs */
    ENC_GELU,
    ENC_CLS,       /* the class token (token 0) of each image */
    ENC_COPY,      /* a copy; backward is the identity */
    ENC_KIND_COUNT
} enc_kind_id;

/* Everything the encoder does with a layer goes through its kind: each kind
 * lives in one file (encoder/layer_*.c) with its builder call, its parameters
 * (a member of enc_layer's union) and these entries, so the encoder never
 * switches on kinds. The graph runner applies the activation's backward (from
 * the layer's stored output) before backward_input, and routes and sums the
 * input gradients; backward_input writes (overwrites) the gradient with
 * respect to input `slot` given dz, the gradient with respect to the
 * pre-activation output. */
typedef struct enc_layer_kind {
    const char *name; /* "conv", "add", "maxpool", "gap", "linear" */
    int (*forward)(movl_encoder *e, enc_layer *l, int batch, char *err);
    /* NULL: the identity (a residual add passes dz to both inputs) */
    int (*backward_input)(movl_encoder *e, enc_layer *l, int slot, int batch, cl_mem dz, cl_mem dx, char *err);
    double (*flops)(const movl_encoder *e, const enc_layer *l); /* forward, per image; NULL: none (copies) */
    /* Floats a forward moves if each tensor is touched once: per image
     * (inputs, outputs, kept indices) and fixed (weights, bias). NULL: each
     * input and the output once, nothing fixed. */
    void (*floats_moved)(const movl_encoder *e, const enc_layer *l, double *per_image, double *fixed);
    /* The op family for profiles: "conv", "depthwise_conv", "pool", "eltwise", "linear", "norm",
     * "attention": group, or profile_group when it depends on the layer. */
    const char *(*profile_group)(const enc_layer *l);
    const char *group;
    size_t (*workspace_bytes)(const enc_layer *l); /* shared scratch it needs; NULL: none */
    /* Trainable encoders: writes the gradients of the layer's weights given dz
     * (overwrites them). NULL: the kind has no trained weights. */
    int (*backward_params)(movl_encoder *e, enc_layer *l, int batch, cl_mem dz, char *err);
    void (*release)(enc_layer *l);                 /* frees its parameters' buffers; NULL: it has none */
    /* Kinds with trained tensors (enc_param): where the layer keeps them. param_buffers gives the slots of
     * its weight and bias buffers (*w NULL: the weight lives packed elsewhere, and pack_weights puts a
     * plain [shape] buffer there: the conv plan); a trainable encoder points them at sub-buffers of the
     * flat parameters, a frozen one uploads into them (encoder_params.c). */
    void (*param_buffers)(enc_layer *l, cl_mem **w, cl_mem **b);
    int (*pack_weights)(movl_encoder *e, enc_layer *l, cl_mem w, char *err);
    /* 1: a residual add may overwrite this layer's output in place, because
     * its backward reads neither its output nor its input (convolutions). */
    int output_overwritable;
} enc_layer_kind;

extern const enc_layer_kind enc_kind_conv, enc_kind_add, enc_kind_maxpool, enc_kind_gap, enc_kind_linear;
extern const enc_layer_kind enc_kind_patchify, enc_kind_tokens, enc_kind_layernorm, enc_kind_attention, enc_kind_gelu,
    enc_kind_cls, enc_kind_copy;
extern const enc_layer_kind *const enc_layer_kinds[]; /* [ENC_KIND_COUNT] */

/* Parameters of each kind (the builder sets them; n of descriptors = max_batch). */
typedef struct enc_conv_params {
    movl_conv_desc desc;
    movl_conv_plan *plan; /* planned at load; holds the packed (BN-folded) weights */
    cl_mem bias;          /* frozen: its own buffer; trainable: a sub-buffer of the parameters */
    int param;            /* its entry in e->params */
} enc_conv_params;
typedef struct enc_maxpool_params {
    movl_pool_desc desc;
    cl_mem argmax; /* kept for backward */
} enc_maxpool_params;
typedef struct enc_linear_params {
    int in, out;
    int rows; /* per image: 1 (a classifier), or the tokens of a transformer */
    cl_mem weight, bias;
    int param;    /* its entry in e->params */
    int has_bias; /* the file has one (CLIP's patch embedding and projection do not: zeros, not trained) */
} enc_linear_params;
/* Token tensors are [tokens][dim] per image, stored as c = dim, h = tokens, w = 1. */
typedef struct enc_tokens_params {
    int dim, patches;
    cl_mem cls, pos; /* [dim], [patches + 1][dim] */
    int param;
} enc_tokens_params;
typedef struct enc_layernorm_params {
    int dim, rows; /* rows per image */
    float eps;
    cl_mem gamma, beta, stats; /* stats: [max_batch * rows][2] mean, rstd, kept for backward */
    int param;
} enc_layernorm_params;
typedef struct enc_attention_params {
    int tokens, dim, heads;
    int causal; /* CLIP's text tower: query i attends to keys 0..i */
    cl_mem probs; /* [max_batch][heads][tokens][tokens], kept for backward */
    size_t probs_bytes;
} enc_attention_params;
typedef struct enc_gelu_params {
    movl_gelu kind;
} enc_gelu_params;
typedef struct enc_patch_params {
    int k;
} enc_patch_params;
typedef struct enc_cls_params {
    int *token_of; /* [max_batch]: the token each image pools (CLIP text: its end token); NULL: token 0 */
} enc_cls_params;

struct enc_layer {
    const enc_layer_kind *kind;
    char name[64];
    int in[2], nin; /* input tensors */
    int out;        /* output tensor */
    movl_act act;   /* applied to the output (conv, add) */
    union {
        enc_conv_params conv;
        enc_maxpool_params maxpool;
        enc_linear_params linear;
        enc_tokens_params tokens;
        enc_layernorm_params layernorm;
        enc_attention_params attention;
        enc_gelu_params gelu;
        enc_patch_params patch;
        enc_cls_params cls;
    } p;
};

/* Handles of backward gradient buffers: a pool of max-activation-size device
 * buffers shared by reference count, plus the caller's buffers. */
typedef struct enc_grad_slot {
    cl_mem mem;
    int refs;
    int readonly; /* a caller's dfeatures / dlogits: never written */
} enc_grad_slot;

#define ENC_MAX_POOL 16

/* One layer's trained tensors in the flat parameter layout (offsets in
 * floats, each aligned for sub-buffers): a weight of w_ndim dimensions and
 * an optional second tensor of b_n floats (a bias; a class token), named
 * LAYER.w_name and LAYER.b_name. The sub-buffers exist only in a trainable
 * encoder. */
typedef struct enc_param {
    int layer;
    size_t w_off, w_n, b_off, b_n;
    int w_ndim;
    int64_t w_shape[4]; /* conv: [cout][cin/groups][k][k]; linear [out][in]; layer norm [dim]; positions [t][dim] */
    const char *w_name, *b_name;
    float *host_init; /* trainable, during load only: the weight then the second tensor, until uploaded */
    cl_mem w, b, dw, db;
} enc_param;

struct movl_encoder {
    movl_device *dev;
    char arch[32];
    int max_batch, size, batch; /* batch of the last forward (0: none yet) */
    float mean[3], std[3];

    enc_tensor *tensors;
    int ntensors, cap_tensors;
    enc_layer *layers;
    int nlayers, cap_layers;
    int t_features, t_logits; /* pooled features and classifier output */

    movl_conv_options conv_options; /* read from the environment once, at load */

    /* Trained tensors (BN-folded conv weights and biases), in every encoder so
     * that a fine-tuned backbone can be loaded; buffers only when trainable. */
    int trainable;
    int state_floats_per_param; /* optimiser state the caller adds, for the memory check */
    enc_param *params;
    int nparams, cap_params;
    size_t param_floats;       /* flat layout, alignment gaps included */
    cl_mem param_buf, grad_buf; /* [param_floats] each */
    cl_mem input;              /* the last forward's input, the caller's (backward reads it where a first layer needs it) */
    cl_mem workspace; /* shared scratch, the largest any layer needs at max_batch */
    size_t workspace_bytes;
    enc_grad_slot pool[ENC_MAX_POOL];
    int npool;
    int *grad_handles; /* [ntensors]: scratch of the backward pass */
    size_t pool_floats;
    size_t device_bytes;

    /* profiling: markers around each layer, [nlayers + 1] per direction */
    cl_event *fwd_events, *bwd_events;
};

/* ---- graph construction (encoder_build.c) ---- */
/* Appends a layer of kind `kind` reading in0 (and in1 >= 0) that writes a new
 * tensor c x h x w; NULL with err set when out of memory or the output is empty. */
enc_layer *enc_new_layer(movl_encoder *e, enc_kind_id kind, const char *name, int in0, int in1, int c, int h, int w,
                         char *err);
/* Uploads n floats to a new device buffer counted in the encoder's bytes. */
cl_mem enc_upload_new(movl_encoder *e, const float *host, size_t n, char *err);

/* ---- builder calls of the kinds (encoder/layer_*.c) ---- */
/* The input tensor (index 0), 3 x size x size. */
int enc_input(movl_encoder *e, char *err);
/* The input tensor as token rows [tokens][dim] (CLIP's text tower: embedded tokens). */
int enc_input_tokens(movl_encoder *e, int dim, int tokens, char *err);
/* conv `conv_name` with batch norm `bn_name` folded in, then act. pad >= 0:
 * symmetric PyTorch padding; pad < 0: TensorFlow "same". Output tensor in *out. */
int enc_conv_bn(movl_encoder *e, const movl_weights *w, int in, const char *conv_name, const char *bn_name, int cout,
                int k, int stride, int pad, int groups, double bn_eps, movl_act act, const char *layer_name, int *out,
                char *err);
/* act(a + b), written in place over a: a must come from a conv without
 * activation and have no other reader (checked by enc_finish). */
int enc_add(movl_encoder *e, int a, int b, movl_act act, const char *layer_name, int *out, char *err);
int enc_maxpool(movl_encoder *e, int in, int k, int stride, int pad, const char *layer_name, int *out, char *err);
int enc_gap(movl_encoder *e, int in, const char *layer_name, int *out, char *err);
/* y = x W^T + b with W [classes][features] read from `weight_name`; the number of classes comes from the file. */
int enc_linear(movl_encoder *e, const movl_weights *w, int in, const char *weight_name, const char *bias_name,
               const char *layer_name, int *out, char *err);
/* ---- transformer layers (ViT, CLIP) ---- */
/* Token rows [tokens][dim]: y = x W^T + b per token, W [out_dim][dim] from `weight_name` (a conv weight
 * [out_dim][c][k][k] with c * k * k = dim is read as that matrix: the patch embedding). */
int enc_linear_tokens(movl_encoder *e, const movl_weights *w, int in, const char *weight_name, const char *bias_name,
                      int out_dim, const char *layer_name, int *out, char *err);
/* y = x P for a file tensor P [features][out] (CLIP's visual.proj, text_projection): no bias. */
int enc_linear_proj(movl_encoder *e, const movl_weights *w, int in, const char *weight_name, const char *layer_name,
                    int *out, char *err);
/* A copy of tensor in (its backward the identity): CLIP's image embedding doubles as the encoder's logits. */
int enc_copy(movl_encoder *e, int in, const char *layer_name, int *out, char *err);
/* The image to [gh * gw][c * k * k] patch rows (size a multiple of k). */
int enc_patchify(movl_encoder *e, int in, int k, const char *layer_name, int *out, char *err);
/* Embedded patches [patches][dim] to [1 + patches][dim] tokens with class token and position embedding. */
int enc_tokens(movl_encoder *e, const movl_weights *w, int in, const char *cls_name, const char *pos_name,
               const char *layer_name, int *out, char *err);
/* Layer norm over each token's features (`prefix`.weight, `prefix`.bias). */
int enc_layernorm(movl_encoder *e, const movl_weights *w, int in, const char *prefix, double eps,
                  const char *layer_name, int *out, char *err);
/* Multi-head attention core: q, k, v packed per token [3 * dim] to the heads' outputs [dim]; causal: token i
 * attends to tokens 0..i only (CLIP's text tower). */
int enc_attention(movl_encoder *e, int in, int heads, int causal, const char *layer_name, int *out, char *err);
int enc_gelu(movl_encoder *e, int in, movl_gelu kind, const char *layer_name, int *out, char *err);
/* Token 0 of each image: [tokens][dim] to [dim]. */
int enc_cls(movl_encoder *e, int in, const char *layer_name, int *out, char *err);
/* The same with a token per image, set before each forward through *token_of ([max_batch], owned by the layer). */
int enc_pool_tokens(movl_encoder *e, int in, const char *layer_name, int **token_of, int *out, char *err);

/* Allocates the activation buffers and the shared workspace once the graph is complete. */
int enc_finish(movl_encoder *e, char *err);
/* An empty encoder named `name` on dev (the MOVL_CONV_* overrides read), or NULL out of memory (encoder.c). */
movl_encoder *enc_create(movl_device *dev, const char *name, int max_batch, int size);
/* Everything after the builder (encoder.c): enc_finish, the gradient pool, trained tensors, profiling
 * events and the warm-up run. On failure the caller frees e. */
int enc_complete(movl_encoder *e, char *err);

/* ---- trained tensors (encoder_params.c) ---- */
/* Adds layer `layer`'s weight (ndim, shape) and second tensor (b_n floats; 0: none) to the flat layout, named
 * LAYER.w_name and LAYER.b_name; returns its index or -1. */
int enc_param_add(movl_encoder *e, int layer, int ndim, const int64_t *w_shape, size_t b_n, const char *w_name,
                  const char *b_name, char *err);
/* enc_param_add for a kind with param_buffers, and the values: a frozen encoder uploads them into new buffers
 * (*wbuf, *bbuf), a trainable one keeps a copy until enc_params_setup binds sub-buffers (*wbuf = *bbuf = NULL
 * until then). b NULL: no second tensor. Returns the param index or -1. */
int enc_layer_tensors(movl_encoder *e, int layer, int ndim, const int64_t *w_shape, const float *w,
                      const char *w_name, size_t b_n, const float *b, const char *b_name, cl_mem *wbuf, cl_mem *bbuf,
                      char *err);
/* Trainable encoders: whether what is allocated so far, `planned` more bytes (activations,
 * workspace) and the parameters with their gradients and optimiser state fit the device
 * (MOVL_ERR_INPUT saying how much is needed, before anything large is allocated). */
int enc_params_check_fits(const movl_encoder *e, double planned, char *err);
/* Param `param`'s weight from the host through its kind's pack_weights (a conv's plan): a plain copy on the
 * device, released once the packing is enqueued (the queue keeps it alive until it has run). */
int enc_pack_from_host(movl_encoder *e, int param, const float *w, char *err);
/* Allocates the flat buffers and sub-buffers, uploads each param's host_init and binds the layers' buffers. Trainable only. */
int enc_params_setup(movl_encoder *e, char *err);
void enc_params_release(movl_encoder *e);

/* A device buffer counted in movl_encoder_device_bytes. */
cl_mem enc_alloc(movl_encoder *e, size_t bytes, char *err);

/* ---- architectures ---- */
int enc_build_resnet(movl_encoder *e, const movl_weights *w, int depth, char *err);
int enc_build_efficientnet_lite(movl_encoder *e, const movl_weights *w, int variant, char *err);
/* clip = 0: torchvision's ViT; 1: an OpenAI / open_clip CLIP image tower with QuickGELU (OpenAI's weights);
 * 2: the same with GELU (open_clip's own trainings, e.g. its LAION ones). */
int enc_build_vit(movl_encoder *e, const movl_weights *w, int patch, int clip, char *err);
/* CLIP's text transformer (top-level names: transformer.resblocks.N, ln_final, text_projection) over
 * embedded tokens [context][width] (tensor 0), causal, pooled at each sequence's end token (*token_of);
 * the features are the text embedding. gelu: QuickGELU for OpenAI's weights. */
int enc_build_clip_text(movl_encoder *e, const movl_weights *w, int context, int width, movl_gelu gelu,
                        int **token_of, char *err);

/* ---- graph runner (encoder_graph.c) ---- */
int enc_run_forward(movl_encoder *e, int batch, char *err);
/* dry != 0: only count the gradient buffers needed (sets e->npool); no device work. */
int enc_run_backward(movl_encoder *e, cl_mem dfeatures, cl_mem dlogits, cl_mem dx, int dry, char *err);

#endif
