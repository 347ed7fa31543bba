/* Vision Transformers, from two checkpoint layouts:
 * - torchvision's ViT (vit_b_16, vit_b_32): conv_proj (with bias), class_token,
 *   encoder.pos_embedding, pre-LN blocks encoder.layers.encoder_layer_N
 *   (ln_1, self_attention.in_proj / out_proj, ln_2, mlp.0 / GELU / mlp.3, or
 *   mlp.linear_1 / linear_2 in older files), encoder.ln on the class token,
 *   heads.head (ImageNet logits); LayerNorm eps 1e-6.
 * - CLIP's image tower, OpenAI / open_clip names under "visual." (clip_vit_b_16,
 *   clip_vit_b_32): conv1 (no bias), class_embedding, positional_embedding,
 *   ln_pre, transformer.resblocks.N (ln_1, attn.in_proj / out_proj, ln_2,
 *   mlp.c_fc / QuickGELU / mlp.c_proj), ln_post on the class token, then
 *   x @ proj: the image embedding, which is also the encoder's "logits" (CLIP
 *   has no classifier); LayerNorm eps 1e-5. QuickGELU as in OpenAI's weights, GELU
 *   for open_clip's own trainings (the _gelu archs: the files do not say which).
 * The patch convolution runs as patch rows times its weight matrix. Width,
 * depth and MLP size come from the weights file; heads = width / 64, as in
 * every published ViT and CLIP tower (B: 768 / 12, L: 1024 / 16). */
#include <stdio.h>
#include <string.h>

#include "core/common.h"
#include "core/weights.h"
#include "encoder/encoder_internal.h"

#define HEAD_DIM 64

/* The tensor names and choices of one layout (names relative to `prefix`; a block's relative to `block`). */
typedef struct vit_layout {
    const char *prefix, *patch, *patch_bias, *cls, *pos, *ln_pre;
    const char *block; /* printf format with the block index */
    const char *ln_1, *qkv_weight, *qkv_bias, *out_proj, *ln_2, *fc1, *fc2, *fc1_old, *fc2_old;
    const char *ln_final, *head, *proj; /* head: a classifier (weight, bias); proj: x @ P */
    movl_gelu gelu;
    double eps;
    float mean[3], std[3];
} vit_layout;

static const vit_layout torchvision_vit = {
    "", "conv_proj.weight", "conv_proj.bias", "class_token", "encoder.pos_embedding", NULL,
    "encoder.layers.encoder_layer_%d.",
    "ln_1", "self_attention.in_proj_weight", "self_attention.in_proj_bias", "self_attention.out_proj", "ln_2",
    "mlp.0", "mlp.3", "mlp.linear_1", "mlp.linear_2",
    "encoder.ln", "heads.head", NULL,
    MOVL_GELU_ERF, 1e-6,
    {0.485f, 0.456f, 0.406f}, {0.229f, 0.224f, 0.225f}, /* ImageNet, torchvision's transforms for these weights */
};

static const vit_layout clip_vit = {
    "visual.", "conv1.weight", NULL, "class_embedding", "positional_embedding", "ln_pre",
    "transformer.resblocks.%d.",
    "ln_1", "attn.in_proj_weight", "attn.in_proj_bias", "attn.out_proj", "ln_2",
    "mlp.c_fc", "mlp.c_proj", NULL, NULL,
    "ln_post", NULL, "proj",
    MOVL_GELU_QUICK, 1e-5,
    {0.48145466f, 0.4578275f, 0.40821073f}, {0.26862954f, 0.26130258f, 0.27577711f}, /* OPENAI_DATASET_MEAN/STD */
};

/* CLIP's text transformer: the same blocks at the top level of the checkpoint, causal; LayerNorm eps 1e-5. */
static const vit_layout clip_text = {
    "", NULL, NULL, NULL, "positional_embedding", NULL,
    "transformer.resblocks.%d.",
    "ln_1", "attn.in_proj_weight", "attn.in_proj_bias", "attn.out_proj", "ln_2",
    "mlp.c_fc", "mlp.c_proj", NULL, NULL,
    "ln_final", NULL, "text_projection",
    MOVL_GELU_QUICK, 1e-5,
    {0, 0, 0}, {1, 1, 1},
};

/* Dimension `axis` of tensor `name`, or `fallback` without weights (random stand-ins) or tensor. */
static int dim_of(const movl_weights *w, const char *name, int axis, int fallback)
{
    const movl_tensor_info *t = w ? movl_weights_find(w, name) : NULL;
    return t && axis < t->ndim && t->shape[axis] > 0 && t->shape[axis] < (1 << 20) ? (int)t->shape[axis] : fallback;
}

/* "<prefix><block i><part><suffix>" into out. */
static void block_name(const vit_layout *L, int i, const char *part, const char *suffix, char *out, size_t n)
{
    char block[64];
    snprintf(block, sizeof block, L->block, i);
    snprintf(out, n, "%s%s%s%s", L->prefix, block, part, suffix);
}

/* "<prefix><part><suffix>" into out ("" for a part the layout does not have). */
static void top_name(const vit_layout *L, const char *part, const char *suffix, char *out, size_t n)
{
    if (part)
        snprintf(out, n, "%s%s%s", L->prefix, part, suffix);
    else if (n)
        out[0] = 0;
}

/* The number of blocks in the file (12 without weights). */
static int count_blocks(const vit_layout *L, const movl_weights *w)
{
    if (!w)
        return 12;
    char name[160];
    for (int n = 0;; n++) {
        block_name(L, n, L->ln_1, ".weight", name, sizeof name);
        if (!movl_weights_find(w, name))
            return n;
    }
}

/* MLP linear fc (fc1 or fc2) of block i, falling back to the old spelling when the file has it. */
static const char *mlp_part(const vit_layout *L, const movl_weights *w, int i, int second)
{
    const char *now = second ? L->fc2 : L->fc1, *old = second ? L->fc2_old : L->fc1_old;
    char probe[160];
    if (old && w) {
        block_name(L, i, old, ".weight", probe, sizeof probe);
        if (movl_weights_find(w, probe))
            return old;
    }
    return now;
}

/* A linear layer over tokens named `part` of block i (part.weight, part.bias). */
static int block_linear(movl_encoder *e, const vit_layout *L, const movl_weights *w, int i, int x, const char *part,
                        int out_dim, int *out, char *err)
{
    char name[160], wn[176], bn[176];
    block_name(L, i, part, "", name, sizeof name);
    snprintf(wn, sizeof wn, "%s.weight", name);
    snprintf(bn, sizeof bn, "%s.bias", name);
    return enc_linear_tokens(e, w, x, wn, bn, out_dim, name, out, err);
}

static int block(movl_encoder *e, const vit_layout *L, const movl_weights *w, int x, int i, int mlp, int causal,
                 int *out, char *err)
{
    char name[160], wn[176], bn[176];
    int dim = e->tensors[x].c, h, rc;
    block_name(L, i, L->ln_1, "", name, sizeof name);
    if ((rc = enc_layernorm(e, w, x, name, L->eps, name, &h, err)))
        return rc;
    block_name(L, i, L->qkv_weight, "", wn, sizeof wn);
    block_name(L, i, L->qkv_bias, "", bn, sizeof bn);
    block_name(L, i, "attn.qkv", "", name, sizeof name);
    if ((rc = enc_linear_tokens(e, w, h, wn, bn, 3 * dim, name, &h, err)))
        return rc;
    block_name(L, i, "attn", "", name, sizeof name);
    if ((rc = enc_attention(e, h, dim / HEAD_DIM, causal, name, &h, err)) ||
        (rc = block_linear(e, L, w, i, h, L->out_proj, dim, &h, err)))
        return rc;
    block_name(L, i, "add_1", "", name, sizeof name);
    if ((rc = enc_add(e, h, x, MOVL_ACT_NONE, name, &x, err)))
        return rc;
    block_name(L, i, L->ln_2, "", name, sizeof name);
    if ((rc = enc_layernorm(e, w, x, name, L->eps, name, &h, err)) ||
        (rc = block_linear(e, L, w, i, h, mlp_part(L, w, i, 0), mlp, &h, err)))
        return rc;
    block_name(L, i, "mlp.gelu", "", name, sizeof name);
    if ((rc = enc_gelu(e, h, L->gelu, name, &h, err)) ||
        (rc = block_linear(e, L, w, i, h, mlp_part(L, w, i, 1), dim, &h, err)))
        return rc;
    block_name(L, i, "add_2", "", name, sizeof name);
    return enc_add(e, h, x, MOVL_ACT_NONE, name, out, err);
}

int enc_build_vit(movl_encoder *e, const movl_weights *w, int patch, int clip, char *err)
{
    vit_layout clip_gelu = clip_vit;
    clip_gelu.gelu = MOVL_GELU_ERF;
    const vit_layout *L = clip == 2 ? &clip_gelu : clip ? &clip_vit : &torchvision_vit;
    for (int c = 0; c < 3; c++) {
        e->mean[c] = L->mean[c];
        e->std[c] = L->std[c];
    }
    /* the checkpoint's names of the layout's top-level tensors (prefix + part + suffix) */
    char patch_w[160], patch_b[160], cls[160], pos[160], ln_pre[160], ln_final[160], proj[160], head_w[160],
        head_b[160], mlp_w[176];
    top_name(L, L->patch, "", patch_w, sizeof patch_w);
    top_name(L, L->patch_bias, "", patch_b, sizeof patch_b);
    top_name(L, L->cls, "", cls, sizeof cls);
    top_name(L, L->pos, "", pos, sizeof pos);
    top_name(L, L->ln_pre, "", ln_pre, sizeof ln_pre);
    top_name(L, L->ln_final, "", ln_final, sizeof ln_final);
    top_name(L, L->proj, "", proj, sizeof proj);
    top_name(L, L->head, ".weight", head_w, sizeof head_w);
    top_name(L, L->head, ".bias", head_b, sizeof head_b);
    int dim = dim_of(w, patch_w, 0, 768), blocks = count_blocks(L, w);
    if (dim % HEAD_DIM || blocks < 1) {
        movl_set_error(err, "%s: %s has width %d and %d blocks (expected a multiple of %d and >= 1; '%s' names them)",
                       e->arch, w ? movl_weights_path(w) : "(random weights)", dim, blocks, HEAD_DIM, patch_w);
        return MOVL_ERR_INPUT;
    }
    block_name(L, 0, mlp_part(L, w, 0, 0), ".weight", mlp_w, sizeof mlp_w);
    int mlp = dim_of(w, mlp_w, 0, 4 * dim), x, rc;
    if ((rc = enc_input(e, err)) || (rc = enc_patchify(e, 0, patch, "patches", &x, err)) ||
        (rc = enc_linear_tokens(e, w, x, patch_w, L->patch_bias ? patch_b : NULL, dim, "patch_embed", &x, err)) ||
        (rc = enc_tokens(e, w, x, cls, pos, "tokens", &x, err)))
        return rc;
    if (L->ln_pre && (rc = enc_layernorm(e, w, x, ln_pre, L->eps, ln_pre, &x, err)))
        return rc;
    for (int i = 0; i < blocks; i++)
        if ((rc = block(e, L, w, x, i, mlp, 0, &x, err)))
            return rc;
    /* the final norm normalises each token on its own, so it runs on the class token only */
    if ((rc = enc_cls(e, x, "class_token_out", &x, err)) ||
        (rc = enc_layernorm(e, w, x, ln_final, L->eps, ln_final, &x, err)))
        return rc;
    if (L->proj) { /* CLIP: the image embedding is the features, and stands in for the logits */
        if ((rc = enc_linear_proj(e, w, x, proj, proj, &e->t_features, err)))
            return rc;
        return enc_copy(e, e->t_features, "logits", &e->t_logits, err);
    }
    e->t_features = x;
    return enc_linear(e, w, e->t_features, head_w, head_b, L->head, &e->t_logits, err);
}

int enc_build_clip_text(movl_encoder *e, const movl_weights *w, int context, int width, movl_gelu gelu,
                        int **token_of, char *err)
{
    vit_layout L = clip_text;
    L.gelu = gelu;
    int blocks = count_blocks(&L, w), x, rc;
    if (width % HEAD_DIM || blocks < 1) {
        movl_set_error(err, "%s: the text tower of %s has width %d and %d blocks (expected a multiple of %d and >= 1)",
                       e->arch, movl_weights_path(w), width, blocks, HEAD_DIM);
        return MOVL_ERR_INPUT;
    }
    char name[160];
    block_name(&L, 0, mlp_part(&L, w, 0, 0), ".weight", name, sizeof name);
    int mlp = dim_of(w, name, 0, 4 * width);
    if ((rc = enc_input_tokens(e, width, context, err)))
        return rc;
    x = 0;
    for (int i = 0; i < blocks; i++)
        if ((rc = block(e, &L, w, x, i, mlp, 1, &x, err)))
            return rc;
    /* as for the image towers: the final norm runs on the pooled token only */
    if ((rc = enc_pool_tokens(e, x, "end_token", token_of, &x, err)) ||
        (rc = enc_layernorm(e, w, x, L.ln_final, L.eps, L.ln_final, &x, err)) ||
        (rc = enc_linear_proj(e, w, x, L.proj, L.proj, &e->t_features, err)))
        return rc;
    return enc_copy(e, e->t_features, "logits", &e->t_logits, err); /* the graph wants two outputs */
}
