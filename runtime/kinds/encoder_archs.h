/* Encoder architecture names and default input sizes, without OpenCL types:
 * what the experiment schema validates against; encoder/ builds them. */
#ifndef MOVL_ENCODER_ARCHS_H
#define MOVL_ENCODER_ARCHS_H

/* Supported architectures, NULL-terminated: resnet18, resnet34, resnet50,
 * efficientnet_lite0 .. efficientnet_lite4, vit_b_16, vit_b_32, clip_vit_b_16, clip_vit_b_32 (QuickGELU:
 * OpenAI's weights), clip_vit_b_16_gelu, clip_vit_b_32_gelu (GELU: open_clip's own trainings). */
extern const char *const movl_encoder_archs[];
int movl_encoder_default_size(const char *arch); /* 224, 240 (lite1), 260, 280, 300; 0 if unknown */
int movl_encoder_patch_size(const char *arch);   /* a transformer's patch (16, 32); 0 for CNNs and unknown names */

#endif
