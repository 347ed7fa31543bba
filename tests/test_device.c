/* Device selection rules, kernel building, and the on-disk program cache. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/common.h"
#include "device/build_options.h"
#include "device/program_cache.h"
#include "test_util.h"

static void test_selectors(void)
{
    movl_device_info list[3];
    memset(list, 0, sizeof list);
    const char *names[] = {"pthread-haswell-AMD EPYC", "Intel(R) UHD Graphics 620", "GeForce RTX 4090"};
    const char *plats[] = {"Portable Computing Language", "Intel(R) OpenCL HD Graphics", "NVIDIA CUDA"};
    int pidx[] = {0, 1, 2}, gpu[] = {0, 1, 1};
    for (int i = 0; i < 3; i++) {
        snprintf(list[i].name, sizeof list[i].name, "%s", names[i]);
        snprintf(list[i].platform_name, sizeof list[i].platform_name, "%s", plats[i]);
        list[i].platform_index = pidx[i];
        list[i].flat_index = i;
        list[i].is_gpu = gpu[i];
        list[i].is_cpu = !gpu[i];
    }
    char err[MOVL_ERRLEN];
    unsetenv("MOVL_DEVICE");
    CHECK(movl_device_select(list, 3, NULL, err) == 1, "default is the first GPU");
    CHECK(movl_device_select(list, 1, NULL, err) == 0, "default falls back to the CPU");
    CHECK(movl_device_select(list, 3, "cpu", err) == 0, "cpu");
    CHECK(movl_device_select(list, 3, "GPU", err) == 1, "GPU, case-insensitive");
    CHECK(movl_device_select(list, 3, "2:0", err) == 2, "P:D");
    CHECK(movl_device_select(list, 3, "2", err) == 2, "flat index");
    CHECK(movl_device_select(list, 3, "rtx", err) == 2, "name part, case-insensitive");
    CHECK(movl_device_select(list, 3, "nvidia", err) == 2, "platform name part");
    CHECK(movl_device_select(list, 3, "3", err) == -1 && strstr(err, "'3' matches no OpenCL device"),
          "index out of range names the selector: %s", err);
    CHECK(movl_device_select(list, 3, "1:1", err) == -1, "P:D that does not exist");
    CHECK(movl_device_select(list, 1, "gpu", err) == -1 && strstr(err, "--device 'gpu'"), "no GPU: %s", err);
    setenv("MOVL_DEVICE", "intel", 1);
    CHECK(movl_device_select(list, 3, NULL, err) == 1, "MOVL_DEVICE applies when no selector is given");
    CHECK(movl_device_select(list, 3, "cpu", err) == 0, "an explicit selector wins over MOVL_DEVICE");
    setenv("MOVL_DEVICE", "matrox", 1);
    CHECK(movl_device_select(list, 3, NULL, err) == -1 && strstr(err, "MOVL_DEVICE 'matrox'"), "bad MOVL_DEVICE: %s",
          err);
    unsetenv("MOVL_DEVICE");
    CHECK(movl_device_select(list, 0, NULL, err) == -1 && strstr(err, "no OpenCL device"), "empty list: %s", err);
}

static void test_build_options(void)
{
    char err[MOVL_ERRLEN];
    movl_build_options o;
    movl_options_init(&o);
    CHECK(!strcmp(movl_options_text(&o, "selftest", err), ""), "no options is the empty string");
    movl_options_int(&o, "VW", 8);
    movl_options_define(&o, "TRANS_A");
    movl_options_int(&o, "STRIDE", -2);
    movl_options_flag(&o, "-cl-mad-enable");
    const char *t = movl_options_text(&o, "selftest", err);
    CHECK(t && !strcmp(t, "-DVW=8 -DTRANS_A -DSTRIDE=-2 -cl-mad-enable"), "options in order, one space apart: %s", t);

    movl_options_init(&o);
    movl_options_int(&o, "VW", 8);
    movl_options_int(&o, "2X", 1);
    movl_options_int(&o, "TC", 2);
    CHECK(!movl_options_text(&o, "linear", err) && strstr(err, "cl/linear.cl") && strstr(err, "-D2X=1") &&
              strstr(err, "not a C identifier"),
          "a bad name is refused, naming the option and the program: %s", err);
    movl_options_init(&o);
    movl_options_flag(&o, "-cl-std=CL1.2 -w");
    CHECK(!movl_options_text(&o, "conv", err) && strstr(err, "-cl-std=CL1.2 -w"), "a flag with a space: %s", err);

    /* Past MOVL_BUILD_OPTIONS_MAX: refused at the option that does not fit, never truncated. */
    movl_options_init(&o);
    char name[32];
    int added = 0;
    for (int i = 0; i < 100; i++) {
        snprintf(name, sizeof name, "OPTION_%02d", i);
        movl_options_int(&o, name, 1000 + i);
        if (!o.error[0])
            added = i + 1;
    }
    CHECK(added > 10 && added < 100 && o.len < MOVL_BUILD_OPTIONS_MAX, "options fill up to the limit (%d)", added);
    snprintf(name, sizeof name, "-DOPTION_%02d=", added);
    CHECK(!movl_options_text(&o, "conv", err) && strstr(err, name) && strstr(err, "exceed"),
          "the first option past the limit is named: %s", err);
    CHECK(movl_kernel_with_options(NULL, "conv", &o, "conv_tile", err) == NULL && strstr(err, name),
          "no kernel is built with refused options: %s", err);
}

/* Runs axpb built with `options` and checks y = scale * (a x + b). */
static int run_axpb(movl_device *dev, const char *options, float scale)
{
    char err[MOVL_ERRLEN];
    cl_kernel k = movl_kernel(dev, "selftest", options, "axpb", err);
    if (!k) {
        fprintf(stderr, "%s\n", err);
        return 0;
    }
    enum { N = 1000 };
    float x[N], y[N];
    for (int i = 0; i < N; i++)
        x[i] = (float)i * 0.5f;
    cl_mem bx = movl_buffer(dev, sizeof x, err), by = movl_buffer(dev, sizeof y, err);
    float a = 2.0f, b = -1.0f;
    int n = N;
    size_t global = N, local = 64;
    int ok = !movl_upload(dev, bx, x, sizeof x, err) &&
             !movl_set_args(k, err, MOVL_ARG(bx), MOVL_ARG(a), MOVL_ARG(b), MOVL_ARG(by), MOVL_ARG(n), MOVL_ARGS_END) &&
             !movl_launch(dev, k, 1, &global, &local, err) && !movl_download(dev, by, y, sizeof y, err);
    for (int i = 0; ok && i < N; i++)
        ok = y[i] == scale * (a * x[i] + b);
    clReleaseMemObject(bx);
    clReleaseMemObject(by);
    return ok;
}

static int count_files(const char *dir, const char *suffix)
{
    DIR *d = opendir(dir);
    int n = 0;
    if (!d)
        return 0;
    for (struct dirent *e; (e = readdir(d));) {
        size_t l = strlen(e->d_name), s = strlen(suffix);
        n += l >= s && !strcmp(e->d_name + l - s, suffix);
    }
    closedir(d);
    return n;
}

static void test_program_cache(void)
{
    char dir[64];
    test_make_tmpdir(dir, sizeof dir, "cache_test");
    setenv("MOVL_CACHE_DIR", dir, 1);
    setenv("MOVL_CACHE", "force", 1);
    movl_device dev;
    test_open_device(&dev);
    CHECK(movl_binary_cache_enabled(&dev), "MOVL_CACHE=force enables the binary cache");
    char opts[64];
    snprintf(opts, sizeof opts, "-DSCALE=3.0f -DUNIQUE=%d", (int)getpid()); /* a key nobody built before */
    movl_program_stats s0 = movl_program_get_stats();
    CHECK(run_axpb(&dev, opts, 3.0f), "kernel built from source computes");
    movl_program_stats s1 = movl_program_get_stats();
    CHECK(s1.builds_from_source == s0.builds_from_source + 1 && s1.cache_writes == s0.cache_writes + 1,
          "first build compiles and writes the cache");
    CHECK(count_files(dir, ".clbin") == 1 && count_files(dir, ".tmp") == 0, "one cache file, no temp file left");
    CHECK(run_axpb(&dev, opts, 3.0f), "same options reuse the in-memory program");
    movl_program_stats s2 = movl_program_get_stats();
    CHECK(s2.builds_from_source == s1.builds_from_source && s2.cache_hits == s1.cache_hits, "no rebuild in memory");

    movl_programs_release(&dev); /* forget the in-memory programs: next use reads the disk cache */
    CHECK(run_axpb(&dev, opts, 3.0f), "kernel loaded from the binary cache computes");
    movl_program_stats s3 = movl_program_get_stats();
    CHECK(s3.cache_hits == s2.cache_hits + 1 && s3.builds_from_source == s2.builds_from_source,
          "second process-level build is a cache hit");

    /* A corrupt cache file is rejected and the program compiled again. */
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));) {
        if (strstr(e->d_name, ".clbin")) {
            char p[512];
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            FILE *f = fopen(p, "r+b");
            if (f) {
                fseek(f, 20, SEEK_SET);
                for (int i = 0; i < 64; i++)
                    fputc(0x5A, f);
                fclose(f);
            }
        }
    }
    if (d)
        closedir(d);
    movl_programs_release(&dev);
    CHECK(run_axpb(&dev, opts, 3.0f), "corrupt cache falls back to compiling");
    movl_program_stats s4 = movl_program_get_stats();
    CHECK(s4.builds_from_source == s3.builds_from_source + 1, "corrupt cache entry leads to a compile");

    /* Different options are a different program. */
    CHECK(run_axpb(&dev, "-DSCALE=0.5f", 0.5f), "options specialise the kernel");

    setenv("MOVL_CACHE", "off", 1);
    CHECK(!movl_binary_cache_enabled(&dev), "MOVL_CACHE=off disables it");
    char err[MOVL_ERRLEN];
    CHECK(movl_kernel(&dev, "no_such_program", "", "k", err) == NULL && strstr(err, "no kernel source"),
          "unknown program: %s", err);
    CHECK(movl_kernel(&dev, "selftest", "", "no_such_kernel", err) == NULL && strstr(err, "no_such_kernel"),
          "unknown kernel: %s", err);
    CHECK(movl_kernel(&dev, "selftest", "-DSCALE=syntax(error", "axpb", err) == NULL &&
              strstr(err, "building cl/selftest.cl"),
          "build failure names the program: %s", err);
    /* PoCL's log gives file:line; cl/common.h before the program must not shift it (selftest.cl line 10). */
    if (strstr(dev.info.platform_name, "Portable Computing Language"))
        CHECK(strstr(err, "cl/selftest.cl:10:"), "build failure gives the program's file and line: %s", err);
    movl_device_close(&dev);
    unsetenv("MOVL_CACHE");
    CHECK(test_remove_tree(dir) == 0, "cleanup");
}

int main(void)
{
    test_selectors();
    test_build_options();
    test_program_cache();
    return test_finish();
}
