/* Class-folder datasets: up to 6 class names (the input's lines) as folders,
 * each holding one small PNG and, when the name allows, a file of the same
 * name; names with '/' and the like are what the file system refuses anyway
 * and are dropped. Covers listing, sorting, extension checks and splitting. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/common.h"
#include "core/png_write.h"
#include "data/dataset.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char root[400], cmd[500], err[MOVL_ERRLEN];
    snprintf(root, sizeof root, "%s/classes", fuzz_dir());
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0 || mkdir(root, 0700) != 0)
        return 0;
    const unsigned char px[2 * 2 * 3] = {0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110};
    size_t at = 0;
    for (int c = 0; c < 6 && at < size; c++) {
        const uint8_t *end = memchr(data + at, '\n', size - at);
        size_t len = end ? (size_t)(end - (data + at)) : size - at;
        char name[200];
        if (len > 0 && len < sizeof name && !memchr(data + at, '/', len) && !memchr(data + at, 0, len)) {
            memcpy(name, data + at, len);
            name[len] = 0;
            char dir[700], file[1000];
            snprintf(dir, sizeof dir, "%s/%s", root, name);
            if (mkdir(dir, 0700) == 0) {
                for (int i = 0; i < 3; i++) {
                    snprintf(file, sizeof file, "%s/%d.png", dir, i);
                    (void)movl_png_write_rgb(file, 2, 2, px, err);
                }
                snprintf(file, sizeof file, "%s/%s", dir, name); /* an extension-less file named like the class */
                FILE *f = fopen(file, "wb");
                if (f) {
                    fwrite(data, 1, size < 200 ? size : 200, f);
                    fclose(f);
                }
            }
        }
        at += len + 1;
    }
    movl_dataset ds;
    movl_dataset_opts o = movl_dataset_default_opts();
    o.val_frac = 0.3;
    o.test_frac = 0.3;
    if (movl_dataset_load_folder(root, &o, &ds, err) == MOVL_OK) {
        movl_dataset_print_summary(&ds, stdout);
        movl_dataset_free(&ds);
    }
    return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fuzz_quiet_stdout();
    return 0;
}
