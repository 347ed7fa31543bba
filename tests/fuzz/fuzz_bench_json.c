/* `movl bench --compare` on one JSON document (a file another machine wrote):
 * the JSON parse, the schema checks, the column labels, the table and the
 * chart. */
#include <stdint.h>
#include <string.h>

#include "bench.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *files[2] = {fuzz_file(data, size, ".json"), NULL};
    files[1] = files[0]; /* twice: the same device in two files gets labelled apart */
    char png[400];
    strcpy(png, fuzz_dir());
    strcat(png, "/compare.png");
    bench_opts o;
    memset(&o, 0, sizeof o);
    o.compare = files;
    o.ncompare = 1 + (int)(size % 2);
    o.png = png;
    (void)bench_compare(&o);
    return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fuzz_quiet_stdout();
    return 0;
}
