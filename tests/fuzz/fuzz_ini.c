/* Experiment files: the INI text up to the first NUL byte, then up to 8
 * NUL-separated "-s" overrides ("section.key=value"); [sweep] sections
 * included. A config that loads is printed again (the resolved-config writer). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/common.h"
#include "experiment/experiment.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    size_t ini_len = nul ? (size_t)(nul - data) : size;
    const char *path = fuzz_file(data, ini_len, ".ini");
    static char rest[4096];
    size_t rest_len = nul ? size - ini_len - 1 : 0;
    if (rest_len >= sizeof rest)
        rest_len = sizeof rest - 1;
    if (rest_len)
        memcpy(rest, nul + 1, rest_len);
    rest[rest_len] = 0;
    const char *overrides[8];
    int n = 0;
    for (size_t at = 0; nul && at < rest_len && n < 8; at += strlen(rest + at) + 1)
        overrides[n++] = rest + at;
    static movl_experiment e;
    char err[MOVL_ERRLEN];
    if (movl_experiment_load(path, overrides, n, MOVL_EXP_NO_FILE_CHECKS, &e, err) == MOVL_OK) {
        FILE *devnull = fopen("/dev/null", "w");
        if (devnull) {
            (void)movl_experiment_print(&e, devnull, err);
            fclose(devnull);
        }
    }
    return 0;
}
