/* torchvision's Vision Transformer (vit_b_16, vit_b_32 and the same layout at
 * other widths), tensor names as in its state_dict: a patch convolution
 * (conv_proj, with bias; run as patch rows times its weight matrix), the class token and position embedding, pre-LN
 * encoder blocks (ln_1, self_attention with packed in_proj, ln_2, mlp.0 / GELU
 * / mlp.3), the final encoder.ln on the class token, heads.head. Width, depth
 * and MLP size come from the weights file; heads = width / 64, as in every
 * published ViT (B: 768 / 12, L: 1024 / 16, H: 1280 / 16). */
#include <stdio.h>
#include <string.h>

#include "core/common.h"
#include "core/weights.h"
#include "encoder/encoder_internal.h"

#define LN_EPS 1e-6 /* torchvision's ViT: partial(nn.LayerNorm, eps=1e-6) */
#define HEAD_DIM 64

/* Dimension `axis` of tensor `name`, or `fallback` without weights (random stand-ins) or tensor. */
static int dim_of(const movl_weights *w, const char *name, int axis, int fallback)
{
    const movl_tensor_info *t = w ? movl_weights_find(w, name) : NULL;
    return t && axis < t->ndim && t->shape[axis] > 0 && t->shape[axis] < (1 << 20) ? (int)t->shape[axis] : fallback;
}

/* The number of encoder blocks in the file (12 without weights). */
static int count_blocks(const movl_weights *w)
{
    if (!w)
        return 12;
    int n = 0;
    char name[96];
    for (;; n++) {
        snprintf(name, sizeof name, "encoder.layers.encoder_layer_%d.ln_1.weight", n);
        if (!movl_weights_find(w, name))
            return n;
    }
}

/* MLP linear `i` (1 or 2) of block prefix: "mlp.0"/"mlp.3" (torchvision >= 0.13), or "mlp.linear_1"/"mlp.linear_2". */
static void mlp_name(const movl_weights *w, const char *prefix, int i, const char *part, char *out, size_t n)
{
    char probe[128];
    snprintf(probe, sizeof probe, "%smlp.linear_%d.weight", prefix, i);
    if (w && movl_weights_find(w, probe))
        snprintf(out, n, "%smlp.linear_%d.%s", prefix, i, part);
    else
        snprintf(out, n, "%smlp.%d.%s", prefix, i == 1 ? 0 : 3, part);
}

static int block(movl_encoder *e, const movl_weights *w, int x, int i, int mlp, int *out, char *err)
{
    char prefix[64], name[128], wn[160], bn[160];
    snprintf(prefix, sizeof prefix, "encoder.layers.encoder_layer_%d.", i);
    int dim = e->tensors[x].c, h, rc;
    snprintf(name, sizeof name, "%sln_1", prefix);
    if ((rc = enc_layernorm(e, w, x, name, LN_EPS, name, &h, err)))
        return rc;
    snprintf(name, sizeof name, "%sself_attention.in_proj", prefix);
    snprintf(wn, sizeof wn, "%sself_attention.in_proj_weight", prefix);
    snprintf(bn, sizeof bn, "%sself_attention.in_proj_bias", prefix);
    if ((rc = enc_linear_tokens(e, w, h, wn, bn, 3 * dim, name, &h, err)))
        return rc;
    snprintf(name, sizeof name, "%sself_attention", prefix);
    if ((rc = enc_attention(e, h, dim / HEAD_DIM, name, &h, err)))
        return rc;
    snprintf(name, sizeof name, "%sself_attention.out_proj", prefix);
    snprintf(wn, sizeof wn, "%s.weight", name);
    snprintf(bn, sizeof bn, "%s.bias", name);
    if ((rc = enc_linear_tokens(e, w, h, wn, bn, dim, name, &h, err)))
        return rc;
    snprintf(name, sizeof name, "%sadd_1", prefix);
    if ((rc = enc_add(e, h, x, MOVL_ACT_NONE, name, &x, err)))
        return rc;
    snprintf(name, sizeof name, "%sln_2", prefix);
    if ((rc = enc_layernorm(e, w, x, name, LN_EPS, name, &h, err)))
        return rc;
    mlp_name(w, prefix, 1, "weight", wn, sizeof wn);
    mlp_name(w, prefix, 1, "bias", bn, sizeof bn);
    snprintf(name, sizeof name, "%smlp.0", prefix);
    if ((rc = enc_linear_tokens(e, w, h, wn, bn, mlp, name, &h, err)))
        return rc;
    snprintf(name, sizeof name, "%smlp.gelu", prefix);
    if ((rc = enc_gelu(e, h, MOVL_GELU_ERF, name, &h, err)))
        return rc;
    mlp_name(w, prefix, 2, "weight", wn, sizeof wn);
    mlp_name(w, prefix, 2, "bias", bn, sizeof bn);
    snprintf(name, sizeof name, "%smlp.3", prefix);
    if ((rc = enc_linear_tokens(e, w, h, wn, bn, dim, name, &h, err)))
        return rc;
    snprintf(name, sizeof name, "%sadd_2", prefix);
    return enc_add(e, h, x, MOVL_ACT_NONE, name, out, err);
}

int enc_build_vit(movl_encoder *e, const movl_weights *w, int patch, char *err)
{
    const float mean[3] = {0.485f, 0.456f, 0.406f}, std[3] = {0.229f, 0.224f, 0.225f};
    for (int c = 0; c < 3; c++) {
        e->mean[c] = mean[c];
        e->std[c] = std[c];
    }
    if (e->size % patch) {
        movl_set_error(err, "%s: input size %d is not a multiple of the patch size %d", e->arch, e->size, patch);
        return MOVL_ERR_INPUT;
    }
    int dim = dim_of(w, "conv_proj.weight", 0, 768), blocks = count_blocks(w);
    if (dim % HEAD_DIM || blocks < 1) {
        movl_set_error(err, "%s: %s has width %d and %d encoder blocks (expected a multiple of %d and >= 1)", e->arch,
                       w ? movl_weights_path(w) : "(random weights)", dim, blocks, HEAD_DIM);
        return MOVL_ERR_INPUT;
    }
    int mlp = dim_of(w, "encoder.layers.encoder_layer_0.mlp.0.weight", 0,
                     dim_of(w, "encoder.layers.encoder_layer_0.mlp.linear_1.weight", 0, 4 * dim));
    int x, rc;
    if ((rc = enc_input(e, err)) || (rc = enc_patchify(e, 0, patch, "patches", &x, err)) ||
        (rc = enc_linear_tokens(e, w, x, "conv_proj.weight", "conv_proj.bias", dim, "conv_proj", &x, err)) ||
        (rc = enc_tokens(e, w, x, "class_token", "encoder.pos_embedding", "tokens", &x, err)))
        return rc;
    for (int i = 0; i < blocks; i++)
        if ((rc = block(e, w, x, i, mlp, &x, err)))
            return rc;
    /* encoder.ln normalises each token on its own, so it runs on the class token only */
    if ((rc = enc_cls(e, x, "class_token_out", &x, err)) ||
        (rc = enc_layernorm(e, w, x, "encoder.ln", LN_EPS, "encoder.ln", &e->t_features, err)) ||
        (rc = enc_linear(e, w, e->t_features, "heads.head.weight", "heads.head.bias", "heads.head", &e->t_logits, err)))
        return rc;
    return MOVL_OK;
}
