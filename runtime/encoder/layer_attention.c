/* Layer kind "attention": the core of multi-head self-attention, from the
 * packed projections [tokens][q | k | v] (each dim = heads x dh wide) to the
 * heads' outputs [tokens][dim] (the output projection is a linear layer after
 * it). Per image and head: S = Q K^T, P = softmax(S / sqrt(dh)) (kept for the
 * backward), O = P V, as torch.nn.MultiheadAttention computes it. The heads
 * are column slices of the token rows, so every product is one batched GEMM
 * over (image, head). */
#include <math.h>

#include "core/common.h"
#include "encoder/encoder_internal.h"

static movl_gemm_operand operand(size_t offset, size_t ld, size_t stride1, size_t stride2)
{
    movl_gemm_operand o = {offset, ld, stride1, stride2};
    return o;
}

/* The column slice of `which` (0 q, 1 k, 2 v) in the packed rows, per (image, head). */
static movl_gemm_operand qkv_slice(const enc_attention_params *p, int which)
{
    size_t dh = (size_t)(p->dim / p->heads), ld = 3 * (size_t)p->dim;
    return operand((size_t)which * p->dim, ld, (size_t)p->tokens * ld, dh);
}
/* The heads' outputs [tokens][dim], head h at columns h*dh. */
static movl_gemm_operand out_slice(const enc_attention_params *p)
{
    size_t dh = (size_t)(p->dim / p->heads);
    return operand(0, (size_t)p->dim, (size_t)p->tokens * p->dim, dh);
}
/* A [tokens][tokens] matrix per (image, head), dense. */
static movl_gemm_operand square(const enc_attention_params *p)
{
    size_t t = (size_t)p->tokens;
    return operand(0, t, (size_t)p->heads * t * t, t * t);
}

static movl_gemm_batch_desc gemm(int batch, const enc_attention_params *p, int m, int n, int k, int ta, int tb,
                                 movl_gemm_operand a, movl_gemm_operand b, movl_gemm_operand c)
{
    movl_gemm_batch_desc d = {batch, p->heads, m, n, k, ta, tb, a, b, c, 1.0f, 0.0f};
    return d;
}

static float scale_of(const enc_attention_params *p) { return 1.0f / sqrtf((float)(p->dim / p->heads)); }

static int attention_forward(movl_encoder *e, enc_layer *l, int batch, char *err)
{
    const enc_attention_params *p = &l->p.attention;
    int t = p->tokens, dh = p->dim / p->heads;
    cl_mem qkv = e->tensors[l->in[0]].buf, out = e->tensors[l->out].buf;
    movl_gemm_batch_desc s = gemm(batch, p, t, t, dh, 0, 1, qkv_slice(p, 0), qkv_slice(p, 1), square(p));
    movl_gemm_batch_desc o = gemm(batch, p, t, dh, t, 0, 0, square(p), qkv_slice(p, 2), out_slice(p));
    int rc = movl_gemm_batched(e->dev, &s, qkv, qkv, p->probs, err);
    if (rc == MOVL_OK)
        rc = movl_softmax_forward(e->dev, batch * p->heads * t, t, scale_of(p), p->causal, p->probs, p->probs, err);
    if (rc == MOVL_OK)
        rc = movl_gemm_batched(e->dev, &o, p->probs, qkv, out, err);
    return rc;
}

/* dP = dO V^T, dV = P^T dO, dS = softmax backward (in place over dP, in the
 * workspace), dQ = dS K, dK = dS^T Q: every column of dqkv is written. A causal
 * mask needs nothing here: masked probabilities are 0, so are their dS. */
static int attention_backward(movl_encoder *e, enc_layer *l, int slot, int batch, cl_mem dz, cl_mem dx, char *err)
{
    (void)slot;
    const enc_attention_params *p = &l->p.attention;
    int t = p->tokens, dh = p->dim / p->heads;
    cl_mem qkv = e->tensors[l->in[0]].buf, ds = e->workspace;
    movl_gemm_batch_desc dp = gemm(batch, p, t, t, dh, 0, 1, out_slice(p), qkv_slice(p, 2), square(p));
    movl_gemm_batch_desc dv = gemm(batch, p, t, dh, t, 1, 0, square(p), out_slice(p), qkv_slice(p, 2));
    movl_gemm_batch_desc dq = gemm(batch, p, t, dh, t, 0, 0, square(p), qkv_slice(p, 1), qkv_slice(p, 0));
    movl_gemm_batch_desc dk = gemm(batch, p, t, dh, t, 1, 0, square(p), qkv_slice(p, 0), qkv_slice(p, 1));
    int rc = movl_gemm_batched(e->dev, &dp, dz, qkv, ds, err);
    if (rc == MOVL_OK)
        rc = movl_gemm_batched(e->dev, &dv, p->probs, dz, dx, err);
    if (rc == MOVL_OK)
        rc = movl_softmax_backward(e->dev, batch * p->heads * t, t, scale_of(p), p->probs, ds, ds, err);
    if (rc == MOVL_OK)
        rc = movl_gemm_batched(e->dev, &dq, ds, qkv, dx, err);
    if (rc == MOVL_OK)
        rc = movl_gemm_batched(e->dev, &dk, ds, qkv, dx, err);
    return rc;
}

static double attention_flops(const movl_encoder *e, const enc_layer *l)
{
    (void)e;
    const enc_attention_params *p = &l->p.attention;
    return 4.0 * p->tokens * p->tokens * p->dim + 5.0 * p->heads * p->tokens * p->tokens;
}

static void attention_floats_moved(const movl_encoder *e, const enc_layer *l, double *per_image, double *fixed)
{
    const enc_attention_params *p = &l->p.attention;
    *per_image = (double)e->tensors[l->in[0]].numel + (double)e->tensors[l->out].numel +
                 2.0 * p->heads * p->tokens * p->tokens;
    *fixed = 0;
}

/* The backward's dP/dS scratch, [max_batch][heads][tokens][tokens] (the probabilities' size). */
static size_t attention_workspace(const enc_layer *l) { return l->p.attention.probs_bytes; }

static void attention_release(enc_layer *l)
{
    if (l->p.attention.probs)
        clReleaseMemObject(l->p.attention.probs);
}

const enc_layer_kind enc_kind_attention = {
    .name = "attention",
    .forward = attention_forward,
    .backward_input = attention_backward,
    .flops = attention_flops,
    .floats_moved = attention_floats_moved,
    .group = "attention",
    .release = attention_release,
    .workspace_bytes = attention_workspace,
};

int enc_attention(movl_encoder *e, int in, int heads, int causal, const char *layer_name, int *out, char *err)
{
    const enc_tensor x = e->tensors[in];
    if (heads < 1 || x.c % 3 || (x.c / 3) % heads || x.w != 1) {
        movl_set_error(err, "%s: attention '%s' over %d packed features cannot split into q, k, v of %d heads",
                       e->arch, layer_name, x.c, heads);
        return MOVL_ERR_RUN;
    }
    enc_layer *l = enc_new_layer(e, ENC_ATTENTION, layer_name, in, -1, x.c / 3, x.h, 1, err);
    if (!l)
        return MOVL_ERR_INPUT;
    enc_attention_params *p = &l->p.attention;
    p->tokens = x.h;
    p->dim = x.c / 3;
    p->heads = heads;
    p->causal = causal;
    p->probs_bytes = sizeof(float) * (size_t)e->max_batch * heads * x.h * x.h;
    if (!(p->probs = enc_alloc(e, p->probs_bytes, err)))
        return MOVL_ERR_RUN;
    *out = l->out;
    return MOVL_OK;
}
