#include "device/program_cache.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "device/cl_sources.h"
#include "core/common.h"
#include "core/file_io.h"

/* Bump when the cache file layout or the meaning of build options changes. */
#define CACHE_FORMAT_VERSION 1
static const char cache_magic[8] = {'M', 'O', 'V', 'L', 'B', 'I', 'N', '1'};

typedef struct kernel_entry {
    char *name;
    cl_kernel kernel;
    struct kernel_entry *next;
} kernel_entry;

struct movl_program_entry {
    char *program, *options;
    cl_program prog;
    kernel_entry *kernels;
    movl_program_entry *next;
};

static movl_program_stats stats;

movl_program_stats movl_program_get_stats(void) { return stats; }

static char *dupstr(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

void movl_programs_release(movl_device *dev)
{
    movl_program_entry *p = dev->programs;
    while (p) {
        kernel_entry *k = p->kernels;
        while (k) {
            kernel_entry *kn = k->next;
            clReleaseKernel(k->kernel);
            free(k->name);
            free(k);
            k = kn;
        }
        movl_program_entry *pn = p->next;
        if (p->prog)
            clReleaseProgram(p->prog);
        free(p->program);
        free(p->options);
        free(p);
        p = pn;
    }
    dev->programs = NULL;
}

static const char *find_text(const movl_cl_source *table, const char *name)
{
    for (const movl_cl_source *s = table; s->name; s++)
        if (!strcmp(s->name, name))
            return s->text;
    return NULL;
}

/* The strings a program is built from, in order: cl/common.h, then the
 * program's own file, each after a #line that names it, so that a build log
 * gives the file and line of an error as in the cl folder. */
#define PRELUDE_HEADER "common.h"
enum { SOURCE_PARTS = 4 };
typedef struct program_source {
    const char *part[SOURCE_PARTS];
    char header_line[64], program_line[160];
} program_source;

static int assemble_source(const char *program, program_source *src, char *err)
{
    const char *text = find_text(movl_cl_sources, program);
    if (!text) {
        movl_set_error(err, "no kernel source cl/%s.cl is embedded in this build", program);
        return MOVL_ERR_INPUT;
    }
    const char *header = find_text(movl_cl_headers, PRELUDE_HEADER);
    if (!header) {
        movl_set_error(err, "no kernel header cl/%s is embedded in this build", PRELUDE_HEADER);
        return MOVL_ERR_INPUT;
    }
    snprintf(src->header_line, sizeof src->header_line, "#line 1 \"cl/%s\"\n", PRELUDE_HEADER);
    /* The newline ends the header's last line should it have none. */
    int n = snprintf(src->program_line, sizeof src->program_line, "\n#line 1 \"cl/%s.cl\"\n", program);
    if (n < 0 || (size_t)n >= sizeof src->program_line) {
        movl_set_error(err, "kernel program name '%s' is too long", program);
        return MOVL_ERR_INPUT;
    }
    src->part[0] = src->header_line;
    src->part[1] = header;
    src->part[2] = src->program_line;
    src->part[3] = text;
    return MOVL_OK;
}

int movl_binary_cache_enabled(const movl_device *dev)
{
    const char *mode = getenv("MOVL_CACHE");
    if (mode && !strcmp(mode, "off"))
        return 0;
    if (mode && !strcmp(mode, "force"))
        return 1;
    /* PoCL and NVIDIA cache compiled programs themselves; asking them for
     * binaries only costs an extra compile. */
    if (strstr(dev->info.platform_name, "Portable Computing Language") || strstr(dev->info.platform_name, "NVIDIA") ||
        strstr(dev->info.platform_name, "Oclgrind"))
        return 0;
    return 1;
}

const char *movl_binary_cache_dir(void)
{
    static char dir[1024];
    const char *env = getenv("MOVL_CACHE_DIR");
    if (env && *env)
        snprintf(dir, sizeof dir, "%s", env);
    else if ((env = getenv("XDG_CACHE_HOME")) && *env)
        snprintf(dir, sizeof dir, "%s/movl", env);
    else if ((env = getenv("HOME")) && *env)
        snprintf(dir, sizeof dir, "%s/.cache/movl", env);
    else
        snprintf(dir, sizeof dir, "/tmp/movl-cache");
    return dir;
}

/* FNV-1a over several strings; two different offsets give 128 bits of key. */
static uint64_t fnv1a(uint64_t h, const char *s)
{
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ull;
    }
    h ^= 0xff; /* separator so ("ab","c") != ("a","bc") */
    h *= 0x100000001b3ull;
    return h;
}

/* The key hashes every string of the source (so a change of cl/common.h
 * reaches every program), the options and the driver. */
static void cache_path(const movl_device *dev, const program_source *src, const char *options, char *out, size_t n)
{
    char version[32];
    snprintf(version, sizeof version, "%d", CACHE_FORMAT_VERSION);
    const char *build[] = {options, dev->info.name, dev->info.driver_version, dev->info.platform_version,
                           dev->info.platform_name, version};
    uint64_t a = 0xcbf29ce484222325ull, b = 0x84222325cbf29ce4ull;
    for (size_t i = 0; i < SOURCE_PARTS; i++) {
        a = fnv1a(a, src->part[i]);
        b = fnv1a(b, src->part[i]);
    }
    for (size_t i = 0; i < sizeof build / sizeof build[0]; i++) {
        a = fnv1a(a, build[i]);
        b = fnv1a(b, build[i]);
    }
    snprintf(out, n, "%s/%016llx%016llx.clbin", movl_binary_cache_dir(), (unsigned long long)a,
             (unsigned long long)b);
}

static cl_program load_cached(movl_device *dev, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char magic[8];
    uint64_t len = 0;
    unsigned char *bin = NULL;
    cl_program prog = NULL;
    if (fread(magic, 1, 8, f) != 8 || memcmp(magic, cache_magic, 8) || fread(&len, sizeof len, 1, f) != 1 ||
        len == 0 || len > (1ull << 30))
        goto done;
    bin = malloc(len);
    if (!bin || fread(bin, 1, len, f) != len)
        goto done;
    size_t blen = len;
    const unsigned char *bins[1] = {bin};
    cl_int status, rc;
    prog = clCreateProgramWithBinary(dev->ctx, 1, &dev->id, &blen, bins, &status, &rc);
    if (rc != CL_SUCCESS || status != CL_SUCCESS) {
        if (prog)
            clReleaseProgram(prog);
        prog = NULL;
    }
done:
    free(bin);
    fclose(f);
    if (!prog)
        stats.cache_rejects++;
    return prog;
}

/* Best effort: any failure leaves no file behind and is otherwise ignored. */
static void store_cached(movl_device *dev, cl_program prog, const char *path)
{
    size_t len = 0;
    if (clGetProgramInfo(prog, CL_PROGRAM_BINARY_SIZES, sizeof len, &len, NULL) != CL_SUCCESS || len == 0)
        return;
    unsigned char *bin = malloc(len);
    unsigned char *bins[1] = {bin};
    if (!bin || clGetProgramInfo(prog, CL_PROGRAM_BINARIES, sizeof bins, bins, NULL) != CL_SUCCESS) {
        free(bin);
        return;
    }
    if (movl_mkdir_p(movl_binary_cache_dir()) == 0) {
        char ignored[MOVL_ERRLEN];
        movl_out_file out;
        if (movl_out_open(&out, path, ignored) == MOVL_OK) {
            uint64_t l64 = len;
            int ok = fwrite(cache_magic, 1, 8, out.f) == 8 && fwrite(&l64, sizeof l64, 1, out.f) == 1 &&
                     fwrite(bin, 1, len, out.f) == len;
            if (!ok)
                movl_out_abort(&out);
            else if (movl_out_commit(&out, ignored) == MOVL_OK)
                stats.cache_writes++;
        }
    }
    (void)dev;
    free(bin);
}

static int build(movl_device *dev, cl_program prog, const char *program, const char *options, char *err)
{
    cl_int rc = clBuildProgram(prog, 1, &dev->id, options, NULL, NULL);
    if (rc == CL_SUCCESS)
        return MOVL_OK;
    size_t log_len = 0;
    clGetProgramBuildInfo(prog, dev->id, CL_PROGRAM_BUILD_LOG, 0, NULL, &log_len);
    char *log = calloc(log_len + 1, 1);
    if (log)
        clGetProgramBuildInfo(prog, dev->id, CL_PROGRAM_BUILD_LOG, log_len, log, NULL);
    if (log && movl_verbose)
        fprintf(stderr, "movl: build log of cl/%s.cl:\n%s\n", program, log);
    /* One line: the first line of the log that says "error". */
    const char *line = log ? strstr(log, "error") : NULL;
    char first[300] = "";
    if (line) {
        size_t n = strcspn(line, "\n");
        snprintf(first, sizeof first, "%.*s", (int)(n < 290 ? n : 290), line);
    }
    movl_set_error(err, "building cl/%s.cl [%s] for '%s' failed: %s%s%s", program, options, dev->info.name,
                   movl_cl_error_name(rc), *first ? ": " : "", first);
    free(log);
    return MOVL_ERR_RUN;
}

static movl_program_entry *get_program(movl_device *dev, const char *program, const char *options, char *err)
{
    for (movl_program_entry *p = dev->programs; p; p = p->next)
        if (!strcmp(p->program, program) && !strcmp(p->options, options))
            return p;
    program_source source;
    if (assemble_source(program, &source, err) != MOVL_OK)
        return NULL;
    double t0 = movl_now();
    const char *how = "compiled";
    cl_program prog = NULL;
    char path[1100] = "";
    int use_cache = movl_binary_cache_enabled(dev);
    if (use_cache) {
        cache_path(dev, &source, options, path, sizeof path);
        prog = load_cached(dev, path);
        if (prog && build(dev, prog, program, options, err) == MOVL_OK) {
            how = "cache hit";
            stats.cache_hits++;
        } else if (prog) {
            clReleaseProgram(prog);
            prog = NULL;
            stats.cache_rejects++;
        }
    }
    if (!prog) {
        cl_int rc;
        prog = clCreateProgramWithSource(dev->ctx, SOURCE_PARTS, source.part, NULL, &rc);
        if (rc != CL_SUCCESS) {
            movl_set_error(err, "cannot create program cl/%s.cl: %s", program, movl_cl_error_name(rc));
            return NULL;
        }
        if (build(dev, prog, program, options, err) != MOVL_OK) {
            clReleaseProgram(prog);
            return NULL;
        }
        stats.builds_from_source++;
        if (use_cache) {
            store_cached(dev, prog, path);
            how = "cache miss, compiled";
        } else {
            how = "compiled, no binary cache for this driver";
        }
    }
    if (movl_verbose)
        fprintf(stderr, "movl: program cl/%s.cl [%s] ready in %.1f ms (%s)\n", program, options,
                1e3 * (movl_now() - t0), how);
    movl_program_entry *e = calloc(1, sizeof *e);
    e->program = dupstr(program);
    e->options = dupstr(options);
    e->prog = prog;
    e->next = dev->programs;
    dev->programs = e;
    return e;
}

cl_kernel movl_kernel(movl_device *dev, const char *program, const char *options, const char *kernel, char *err)
{
    if (!options)
        options = "";
    movl_program_entry *p = get_program(dev, program, options, err);
    if (!p)
        return NULL;
    for (kernel_entry *k = p->kernels; k; k = k->next)
        if (!strcmp(k->name, kernel))
            return k->kernel;
    cl_int rc;
    cl_kernel k = clCreateKernel(p->prog, kernel, &rc);
    if (rc != CL_SUCCESS) {
        movl_set_error(err, "no kernel '%s' in cl/%s.cl [%s]: %s", kernel, program, options, movl_cl_error_name(rc));
        return NULL;
    }
    kernel_entry *e = calloc(1, sizeof *e);
    e->name = dupstr(kernel);
    e->kernel = k;
    e->next = p->kernels;
    p->kernels = e;
    return k;
}
