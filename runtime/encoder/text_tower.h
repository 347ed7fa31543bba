/* CLIP's text transformer (OpenAI / open_clip checkpoints, top-level tensor
 * names): token ids to text embeddings, on the device. The token embedding
 * lookup and the position add run on the host (a gather of `context` rows per
 * text, done once per head), so the vocabulary table (49408 x width floats,
 * 101 MB for B models) never reaches the device; the blocks (causal
 * attention), the pooling at each text's end token, ln_final and
 * text_projection run as an encoder graph. Forward only is what the zero-shot
 * head uses; the graph's backward exists but is not exposed. */
#ifndef MOVL_TEXT_TOWER_H
#define MOVL_TEXT_TOWER_H

#include <stdint.h>

#include "device/device.h"

typedef struct movl_text_tower movl_text_tower;

/* Loads the text tower of a CLIP checkpoint for batches of up to max_batch texts. `arch` is the image tower's
 * name (clip_vit_b_32 ...: QuickGELU; *_gelu: GELU, as the image tower). Width, depth, context length and
 * vocabulary come from the file (token_embedding.weight, positional_embedding, transformer.resblocks.N,
 * ln_final, text_projection; logit_scale optional). A missing or mis-shaped tensor: MOVL_ERR_INPUT naming it. */
int movl_text_tower_load(movl_device *dev, const char *arch, const char *weights, int max_batch,
                         movl_text_tower **out, char *err);
void movl_text_tower_free(movl_text_tower *t);

int movl_text_tower_context(const movl_text_tower *t);   /* 77 */
int movl_text_tower_vocab(const movl_text_tower *t);     /* 49408 */
int movl_text_tower_embed_dim(const movl_text_tower *t); /* 512 for B models */
/* exp(logit_scale) of the file (CLIP's learnt temperature; 100 for OpenAI's), or 100 without the tensor. */
double movl_text_tower_logit_scale(const movl_text_tower *t);

/* Text embeddings (not normalised) of n texts: ids [n][context], eot_pos[i] the index of text i's end token
 * (the tokenizer's), into host out[n][embed]. Any n (run in batches of max_batch); blocking. An id outside the
 * vocabulary or a position outside the context: MOVL_ERR_INPUT naming the text. */
int movl_text_tower_encode(movl_text_tower *t, int n, const int32_t *ids, const int *eot_pos, float *out, char *err);

#endif
