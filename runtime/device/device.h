/* OpenCL devices: enumeration, selection, capability probe, one context and
 * one in-order queue per opened device, kernels built from the embedded cl/
 * sources (with a persistent binary cache where the driver has none). */
#ifndef MOVL_DEVICE_H
#define MOVL_DEVICE_H

#include <CL/cl.h>
#include <stddef.h>

typedef struct movl_program_entry movl_program_entry;

typedef struct movl_device_info {
    int platform_index, device_index, flat_index;
    char name[256], vendor[256], driver_version[128], device_version[128], opencl_c_version[128];
    char platform_name[256], platform_version[256];
    cl_device_type type;
    int is_cpu, is_gpu;
    cl_uint vendor_id, compute_units, clock_mhz;
    cl_ulong global_mem, local_mem, max_alloc;
    size_t max_work_group;
    int has_fp16, has_subgroups;
} movl_device_info;

typedef struct movl_device {
    movl_device_info info;
    cl_platform_id platform;
    cl_device_id id;
    cl_context ctx;
    cl_command_queue queue;
    int profiling;            /* queue created with CL_QUEUE_PROFILING_ENABLE */
    movl_program_entry *programs; /* built programs and their kernels */
    void *blas_scratch;       /* owned by the linear-op module */
} movl_device;

/* Lists every device of every platform into *out (malloc'd, caller frees).
 * Returns MOVL_OK (possibly with *count == 0 when no platform exists) or
 * MOVL_ERR_RUN. */
int movl_device_list(movl_device_info **out, int *count, char *err);

/* Picks a device by selector: "P:D", a flat index, "cpu", "gpu", or a
 * case-insensitive substring of the device or platform name. NULL or "" means
 * $MOVL_DEVICE if set, else the first GPU, else the first CPU device.
 * No platform or no match: MOVL_ERR_INPUT with a one-line message (the
 * no-platform message is followed by movl_install_hint()). */
/* Index into list of the device `selector` names (rules above), or -1 with err set. */
int movl_device_select(const movl_device_info *list, int n, const char *selector, char *err);
int movl_device_open(const char *selector, int profiling, movl_device *dev, char *err);
void movl_device_close(movl_device *dev);

/* Multi-line install checklist printed when no OpenCL platform is found. */
const char *movl_install_hint(void);

/* Symbolic name of an OpenCL error code ("CL_OUT_OF_RESOURCES"). */
const char *movl_cl_error_name(cl_int code);

/* Returns the kernel `kernel` of program `program` (a cl/ file name without
 * .cl) built with `options` (e.g. "-DTILE=4"), building the program on first
 * use and caching it (and its kernels) on the device. NULL on failure with
 * the build log's first lines in err. */
cl_kernel movl_kernel(movl_device *dev, const char *program, const char *options, const char *kernel, char *err);

/* Device buffer helpers; on failure they return NULL / non-zero and fill err. */
cl_mem movl_buffer(movl_device *dev, size_t bytes, char *err);
int movl_upload(movl_device *dev, cl_mem buf, const void *host, size_t bytes, char *err);
int movl_download(movl_device *dev, cl_mem buf, void *host, size_t bytes, char *err); /* blocking */
/* Same, at a byte offset into buf. */
int movl_upload_at(movl_device *dev, cl_mem buf, size_t offset, const void *host, size_t bytes, char *err);
int movl_download_at(movl_device *dev, cl_mem buf, size_t offset, void *host, size_t bytes, char *err);
int movl_fill_zero(movl_device *dev, cl_mem buf, size_t bytes, char *err);

/* Enqueues kernel k over a 1-, 2- or 3-D range (global sizes are rounded up to
 * multiples of local when local is non-NULL). No host sync. */
int movl_launch(movl_device *dev, cl_kernel k, int dims, const size_t *global, const size_t *local, char *err);

/* Sets kernel arguments: pairs of (size_t size, const void *pointer)
 * terminated by MOVL_ARGS_END, e.g.
 *   movl_set_args(k, err, MOVL_ARG(x), MOVL_ARG(n), MOVL_ARGS_END); */
int movl_set_args(cl_kernel k, char *err, ...);
#define MOVL_ARG(v) sizeof(v), (const void *)&(v)
#define MOVL_ARGS_END ((size_t)0)

#endif
