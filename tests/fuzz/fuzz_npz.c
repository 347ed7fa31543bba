/* MedMNIST .npz files: the zip directory and members (stored or deflated),
 * the npy headers, dtypes and shapes, labels, and the split packing. */
#include <stdint.h>

#include "core/common.h"
#include "data/dataset.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file(data, size, ".npz");
    char err[MOVL_ERRLEN];
    movl_dataset ds;
    movl_dataset_opts o = movl_dataset_default_opts();
    if (movl_dataset_load_npz(path, &o, &ds, err) == MOVL_OK)
        movl_dataset_free(&ds);
    return 0;
}
