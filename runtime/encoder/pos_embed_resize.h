/* A ViT position embedding [1 + grid_in^2][dim] resized to [1 + grid_out^2][dim]
 * (torchvision's interpolate_embeddings: bicubic, align_corners = True; the
 * class token's entry unchanged). Returns 0, or -1 for a non-positive size. */
#ifndef MOVL_POS_EMBED_RESIZE_H
#define MOVL_POS_EMBED_RESIZE_H

int enc_pos_embed_resize(const float *src, int grid_in, int grid_out, int dim, float *dst);

#endif
