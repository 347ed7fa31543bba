/* The encoder architectures an experiment may name, and their input sizes. */
#include "kinds/encoder_archs.h"

#include <string.h>

const char *const movl_encoder_archs[] = {"resnet18",           "resnet34",           "resnet50",
                                          "efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2",
                                          "efficientnet_lite3", "efficientnet_lite4", "vit_b_16",
                                          "vit_b_32",           "clip_vit_b_16",      "clip_vit_b_32",
                                          "clip_vit_b_16_gelu", "clip_vit_b_32_gelu", NULL};

static const int default_sizes[] = {224, 224, 224, 224, 240, 260, 280, 300, 224, 224, 224, 224, 224, 224};

static int arch_index(const char *arch)
{
    for (int i = 0; arch && movl_encoder_archs[i]; i++)
        if (strcmp(arch, movl_encoder_archs[i]) == 0)
            return i;
    return -1;
}

int movl_encoder_default_size(const char *arch)
{
    int i = arch_index(arch);
    return i < 0 ? 0 : default_sizes[i];
}

int movl_encoder_patch_size(const char *arch)
{
    int i = arch_index(arch);
    if (i < 0 || strncmp(arch, "resnet", 6) == 0 || strncmp(arch, "efficientnet", 12) == 0)
        return 0;
    return strstr(arch, "_b_16") ? 16 : 32;
}
