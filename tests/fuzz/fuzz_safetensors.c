/* safetensors files (encoder weights, model.safetensors, the resume checkpoint):
 * the header JSON, dtypes, shapes and offsets, then every tensor read as f32
 * and the metadata keys the trainer looks up. */
#include <stdint.h>
#include <stdlib.h>

#include "core/common.h"
#include "core/weights.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file(data, size, ".safetensors");
    char err[MOVL_ERRLEN];
    movl_weights *w;
    if (movl_weights_open(path, &w, err) != MOVL_OK)
        return 0;
    static const char *const keys[] = {"format", "classes", "class_names", "progress", "method", "arch"};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
        (void)movl_weights_metadata(w, keys[k]);
    for (size_t i = 0; i < movl_weights_count(w); i++) {
        const movl_tensor_info *t = movl_weights_at(w, i);
        if (t->numel > (1u << 20))
            continue;
        float *dst = malloc(sizeof(float) * (t->numel + 1));
        if (dst)
            (void)movl_weights_read_f32(w, t->name, dst, t->numel, err);
        free(dst);
    }
    movl_weights_close(w);
    return 0;
}
