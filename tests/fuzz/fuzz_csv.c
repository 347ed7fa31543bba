/* CSV manifests: header detection, quoting, labels as numbers or class names,
 * the split column. The manifest's folder holds a.png and b.png (a 2x2 PNG
 * made once), so lines naming them get as far as decoding and splitting. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/common.h"
#include "core/png_write.h"
#include "data/dataset.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    char err[MOVL_ERRLEN];
    if (!ready) {
        const unsigned char px[2 * 2 * 3] = {0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110};
        char p[400];
        for (int i = 0; i < 2; i++) {
            snprintf(p, sizeof p, "%s/%c.png", fuzz_dir(), "ab"[i]);
            if (movl_png_write_rgb(p, 2, 2, px, err) != MOVL_OK)
                return 0;
        }
        ready = 1;
    }
    const char *path = fuzz_file(data, size, ".csv");
    movl_dataset ds;
    movl_dataset_opts o = movl_dataset_default_opts();
    o.val_frac = 0.2;
    o.test_frac = 0.2;
    if (movl_dataset_load_csv(path, &o, &ds, err) == MOVL_OK)
        movl_dataset_free(&ds);
    return 0;
}
