/* Temporary files for the harnesses: one folder per process under TMPDIR
 * (libFuzzer's -fork/-jobs run several processes at once), removed at exit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_util.h"

static char dir[256];

static void remove_dir(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "fuzz: could not remove %s\n", dir);
}

const char *fuzz_dir(void)
{
    if (!dir[0]) {
        const char *tmp = getenv("TMPDIR");
        snprintf(dir, sizeof dir, "%s/movl-fuzz-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(dir)) {
            perror("fuzz: mkdtemp");
            abort();
        }
        atexit(remove_dir);
    }
    return dir;
}

const char *fuzz_file(const uint8_t *data, size_t size, const char *suffix)
{
    static char path[8][300];
    static const char *suffixes[8];
    int slot = 0;
    while (slot < 7 && suffixes[slot] && strcmp(suffixes[slot], suffix) != 0)
        slot++;
    suffixes[slot] = suffix;
    snprintf(path[slot], sizeof path[slot], "%s/input%d%s", fuzz_dir(), slot, suffix);
    FILE *f = fopen(path[slot], "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0) {
        perror("fuzz: writing the input file");
        abort();
    }
    return path[slot];
}

void fuzz_quiet_stdout(void)
{
    if (!freopen("/dev/null", "w", stdout))
        abort();
}
