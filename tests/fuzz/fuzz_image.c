/* PNG, JPEG and DICOM files through the one image entry point (format by the
 * first bytes; ".dcm" lets preamble-less DICOM through), every frame and all
 * three window modes, so the decoders, the EXIF reader and the VOI code run. */
#include <stdint.h>

#include "core/common.h"
#include "fuzz_util.h"
#include "imgio/image_read.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file(data, size, ".dcm");
    char err[MOVL_ERRLEN];
    movl_image_read_opts o = movl_image_read_default_opts();
    o.all_frames = 1;
    o.window = size % 3; /* file, minmax, fixed: chosen by the input so all three get coverage */
    o.center = 40;
    o.width = 400;
    movl_image *frames;
    int n;
    if (movl_image_read_frames(path, &o, &frames, &n, err) == MOVL_OK)
        movl_image_frames_free(frames, n);
    return 0;
}
