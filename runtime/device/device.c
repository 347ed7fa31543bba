/* OpenCL platform/device enumeration, selection and per-device context. */
#include "device/device.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/common.h"
#include "device/program_cache.h"

const char *movl_install_hint(void)
{
    return "No OpenCL platform was found. Checklist:\n"
           "  1. Install the ICD loader and a driver, e.g. on Debian/Ubuntu:\n"
           "       CPU (any x86/ARM):  sudo apt-get install ocl-icd-libopencl1 pocl-opencl-icd\n"
           "       Intel GPU:          sudo apt-get install intel-opencl-icd\n"
           "       AMD GPU:            ROCm's rocm-opencl-runtime (or mesa-opencl-icd)\n"
           "       NVIDIA GPU:         the proprietary driver's nvidia-opencl-icd package\n"
           "  2. Check that /etc/OpenCL/vendors/ holds a .icd file naming the driver library\n"
           "     (or that OCL_ICD_VENDORS points to such a folder).\n"
           "  3. Check that your user may access the GPU (groups 'render' and 'video').\n"
           "  4. Run 'clinfo -l' (Debian package clinfo): it must list at least one device.";
}

static void get_str(cl_device_id d, cl_device_info what, char *dst, size_t n)
{
    dst[0] = 0;
    if (clGetDeviceInfo(d, what, n, dst, NULL) != CL_SUCCESS)
        dst[0] = 0;
    dst[n - 1] = 0;
}

static void probe_device(cl_platform_id p, cl_device_id d, movl_device_info *info)
{
    char plat_name[256] = "", plat_version[256] = "";
    clGetPlatformInfo(p, CL_PLATFORM_NAME, sizeof plat_name, plat_name, NULL);
    clGetPlatformInfo(p, CL_PLATFORM_VERSION, sizeof plat_version, plat_version, NULL);
    plat_name[255] = plat_version[255] = 0;
    snprintf(info->platform_name, sizeof info->platform_name, "%s", plat_name);
    snprintf(info->platform_version, sizeof info->platform_version, "%s", plat_version);
    get_str(d, CL_DEVICE_NAME, info->name, sizeof info->name);
    get_str(d, CL_DEVICE_VENDOR, info->vendor, sizeof info->vendor);
    get_str(d, CL_DRIVER_VERSION, info->driver_version, sizeof info->driver_version);
    get_str(d, CL_DEVICE_VERSION, info->device_version, sizeof info->device_version);
    get_str(d, CL_DEVICE_OPENCL_C_VERSION, info->opencl_c_version, sizeof info->opencl_c_version);
    clGetDeviceInfo(d, CL_DEVICE_TYPE, sizeof info->type, &info->type, NULL);
    info->is_cpu = (info->type & CL_DEVICE_TYPE_CPU) != 0;
    info->is_gpu = (info->type & CL_DEVICE_TYPE_GPU) != 0;
    clGetDeviceInfo(d, CL_DEVICE_VENDOR_ID, sizeof info->vendor_id, &info->vendor_id, NULL);
    clGetDeviceInfo(d, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof info->compute_units, &info->compute_units, NULL);
    clGetDeviceInfo(d, CL_DEVICE_MAX_CLOCK_FREQUENCY, sizeof info->clock_mhz, &info->clock_mhz, NULL);
    clGetDeviceInfo(d, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof info->global_mem, &info->global_mem, NULL);
    clGetDeviceInfo(d, CL_DEVICE_LOCAL_MEM_SIZE, sizeof info->local_mem, &info->local_mem, NULL);
    clGetDeviceInfo(d, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof info->max_alloc, &info->max_alloc, NULL);
    clGetDeviceInfo(d, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof info->max_work_group, &info->max_work_group, NULL);
    size_t ext_len = 0;
    clGetDeviceInfo(d, CL_DEVICE_EXTENSIONS, 0, NULL, &ext_len);
    char *ext = calloc(ext_len + 1, 1);
    if (ext && clGetDeviceInfo(d, CL_DEVICE_EXTENSIONS, ext_len, ext, NULL) == CL_SUCCESS) {
        info->has_fp16 = strstr(ext, "cl_khr_fp16") != NULL;
        info->has_subgroups = strstr(ext, "cl_khr_subgroups") != NULL || strstr(ext, "cl_intel_subgroups") != NULL;
    }
    free(ext);
}

int movl_device_list(movl_device_info **out, int *count, char *err)
{
    *out = NULL;
    *count = 0;
    cl_uint np = 0;
    cl_int rc = clGetPlatformIDs(0, NULL, &np);
    if (rc == -1001 /* CL_PLATFORM_NOT_FOUND_KHR */ || np == 0)
        return MOVL_OK; /* no platform: an empty list, the caller explains */
    if (rc != CL_SUCCESS) {
        movl_set_error(err, "clGetPlatformIDs failed: %s", movl_cl_error_name(rc));
        return MOVL_ERR_RUN;
    }
    cl_platform_id *plats = calloc(np, sizeof *plats);
    clGetPlatformIDs(np, plats, NULL);
    int cap = 0, n = 0;
    movl_device_info *list = NULL;
    for (cl_uint p = 0; p < np; p++) {
        cl_uint nd = 0;
        if (clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, 0, NULL, &nd) != CL_SUCCESS || nd == 0)
            continue;
        cl_device_id *devs = calloc(nd, sizeof *devs);
        clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, nd, devs, NULL);
        for (cl_uint d = 0; d < nd; d++) {
            if (n == cap) {
                cap = cap ? 2 * cap : 8;
                list = realloc(list, (size_t)cap * sizeof *list);
            }
            memset(&list[n], 0, sizeof list[n]);
            probe_device(plats[p], devs[d], &list[n]);
            list[n].platform_index = (int)p;
            list[n].device_index = (int)d;
            list[n].flat_index = n;
            n++;
        }
        free(devs);
    }
    free(plats);
    *out = list;
    *count = n;
    return MOVL_OK;
}

static int contains_nocase(const char *hay, const char *needle)
{
    size_t nl = strlen(needle);
    for (const char *h = hay; *h; h++) {
        size_t i = 0;
        while (i < nl && h[i] && tolower((unsigned char)h[i]) == tolower((unsigned char)needle[i]))
            i++;
        if (i == nl)
            return 1;
    }
    return nl == 0;
}

static int all_digits(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return 0;
    return 1;
}

/* Index into list of the device the selector names, or -1. */
static int match_selector(const movl_device_info *list, int n, const char *sel)
{
    int p, d;
    char tail;
    if (sscanf(sel, "%d:%d%c", &p, &d, &tail) == 2) {
        for (int i = 0; i < n; i++)
            if (list[i].platform_index == p && list[i].device_index == d)
                return i;
        return -1;
    }
    if (all_digits(sel)) {
        long i = strtol(sel, NULL, 10);
        return i < n ? (int)i : -1;
    }
    if (!strcasecmp(sel, "gpu") || !strcasecmp(sel, "cpu")) {
        int want_gpu = !strcasecmp(sel, "gpu");
        for (int i = 0; i < n; i++)
            if (want_gpu ? list[i].is_gpu : list[i].is_cpu)
                return i;
        return -1;
    }
    for (int i = 0; i < n; i++)
        if (contains_nocase(list[i].name, sel) || contains_nocase(list[i].platform_name, sel) ||
            contains_nocase(list[i].vendor, sel))
            return i;
    return -1;
}

int movl_device_select(const movl_device_info *list, int n, const char *selector, char *err)
{
    const char *from = "--device";
    if (!selector || !*selector) {
        selector = getenv("MOVL_DEVICE");
        from = "MOVL_DEVICE";
    }
    if (n == 0) {
        movl_set_error(err, "no OpenCL device found (no platform or no device; see the checklist below)");
        return -1;
    }
    if (!selector || !*selector) {
        for (int i = 0; i < n; i++)
            if (list[i].is_gpu)
                return i;
        for (int i = 0; i < n; i++)
            if (list[i].is_cpu)
                return i;
        return 0;
    }
    int i = match_selector(list, n, selector);
    if (i < 0)
        movl_set_error(err,
                       "%s '%s' matches no OpenCL device (expected P:D, a flat index below %d, cpu, gpu, or a "
                       "part of a device name; run 'movl devices' to list them)",
                       from, selector, n);
    return i;
}

int movl_device_open(const char *selector, int profiling, movl_device *dev, char *err)
{
    memset(dev, 0, sizeof *dev);
    movl_device_info *list;
    int n;
    if (movl_device_list(&list, &n, err) != MOVL_OK)
        return MOVL_ERR_RUN;
    int i = movl_device_select(list, n, selector, err);
    if (i < 0) {
        free(list);
        return MOVL_ERR_INPUT;
    }
    dev->info = list[i];
    free(list);

    cl_uint np = 0;
    clGetPlatformIDs(0, NULL, &np);
    cl_platform_id *plats = calloc(np, sizeof *plats);
    clGetPlatformIDs(np, plats, NULL);
    dev->platform = plats[dev->info.platform_index];
    free(plats);
    cl_uint nd = 0;
    clGetDeviceIDs(dev->platform, CL_DEVICE_TYPE_ALL, 0, NULL, &nd);
    cl_device_id *devs = calloc(nd, sizeof *devs);
    clGetDeviceIDs(dev->platform, CL_DEVICE_TYPE_ALL, nd, devs, NULL);
    dev->id = devs[dev->info.device_index];
    free(devs);

    cl_int rc;
    cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)dev->platform, 0};
    dev->ctx = clCreateContext(props, 1, &dev->id, NULL, NULL, &rc);
    if (rc != CL_SUCCESS) {
        movl_set_error(err, "cannot create an OpenCL context on '%s': %s", dev->info.name, movl_cl_error_name(rc));
        return MOVL_ERR_RUN;
    }
    dev->profiling = profiling;
    dev->queue =
        clCreateCommandQueue(dev->ctx, dev->id, profiling ? CL_QUEUE_PROFILING_ENABLE : 0, &rc);
    if (rc != CL_SUCCESS) {
        movl_set_error(err, "cannot create a command queue on '%s': %s", dev->info.name, movl_cl_error_name(rc));
        clReleaseContext(dev->ctx);
        dev->ctx = NULL;
        return MOVL_ERR_RUN;
    }
    if (movl_verbose)
        fprintf(stderr, "movl: device %d:%d '%s' (%s), driver %s, %s\n", dev->info.platform_index,
                dev->info.device_index, dev->info.name, dev->info.platform_name, dev->info.driver_version,
                dev->info.opencl_c_version);
    return MOVL_OK;
}

void movl_device_close(movl_device *dev)
{
    movl_programs_release(dev);
    if (dev->blas_scratch)
        free(dev->blas_scratch);
    dev->blas_scratch = NULL;
    if (dev->queue) {
        clFinish(dev->queue);
        clReleaseCommandQueue(dev->queue);
    }
    if (dev->ctx)
        clReleaseContext(dev->ctx);
    dev->queue = NULL;
    dev->ctx = NULL;
}

cl_mem movl_buffer(movl_device *dev, size_t bytes, char *err)
{
    cl_int rc;
    if (bytes == 0)
        bytes = 4; /* OpenCL rejects empty buffers; keep callers simple */
    cl_mem m = clCreateBuffer(dev->ctx, CL_MEM_READ_WRITE, bytes, NULL, &rc);
    if (rc != CL_SUCCESS) {
        movl_set_error(err, "cannot allocate %zu bytes on '%s': %s", bytes, dev->info.name, movl_cl_error_name(rc));
        return NULL;
    }
    return m;
}

int movl_upload_at(movl_device *dev, cl_mem buf, size_t offset, const void *host, size_t bytes, char *err)
{
    /* Blocking so the caller may free `host` at once. */
    cl_int rc = clEnqueueWriteBuffer(dev->queue, buf, CL_TRUE, offset, bytes, host, 0, NULL, NULL);
    if (rc != CL_SUCCESS) {
        movl_set_error(err, "upload of %zu bytes failed: %s", bytes, movl_cl_error_name(rc));
        return MOVL_ERR_RUN;
    }
    return MOVL_OK;
}

int movl_download_at(movl_device *dev, cl_mem buf, size_t offset, void *host, size_t bytes, char *err)
{
    cl_int rc = clEnqueueReadBuffer(dev->queue, buf, CL_TRUE, offset, bytes, host, 0, NULL, NULL);
    if (rc != CL_SUCCESS) {
        movl_set_error(err, "download of %zu bytes failed: %s", bytes, movl_cl_error_name(rc));
        return MOVL_ERR_RUN;
    }
    return MOVL_OK;
}

int movl_upload(movl_device *dev, cl_mem buf, const void *host, size_t bytes, char *err)
{
    return movl_upload_at(dev, buf, 0, host, bytes, err);
}

int movl_download(movl_device *dev, cl_mem buf, void *host, size_t bytes, char *err)
{
    return movl_download_at(dev, buf, 0, host, bytes, err);
}

int movl_fill_zero(movl_device *dev, cl_mem buf, size_t bytes, char *err)
{
    const float zero = 0.0f;
    cl_int rc = clEnqueueFillBuffer(dev->queue, buf, &zero, sizeof zero, 0, bytes, 0, NULL, NULL);
    if (rc != CL_SUCCESS) {
        movl_set_error(err, "fill of %zu bytes failed: %s", bytes, movl_cl_error_name(rc));
        return MOVL_ERR_RUN;
    }
    return MOVL_OK;
}

int movl_launch(movl_device *dev, cl_kernel k, int dims, const size_t *global, const size_t *local, char *err)
{
    size_t g[3];
    for (int i = 0; i < dims; i++) {
        g[i] = global[i];
        if (local && local[i] && g[i] % local[i])
            g[i] += local[i] - g[i] % local[i];
        if (g[i] == 0)
            return MOVL_OK; /* nothing to do: an empty range is an error in OpenCL */
    }
    cl_int rc = clEnqueueNDRangeKernel(dev->queue, k, (cl_uint)dims, NULL, g, local, 0, NULL, NULL);
    if (rc != CL_SUCCESS) {
        char name[128] = "?";
        clGetKernelInfo(k, CL_KERNEL_FUNCTION_NAME, sizeof name, name, NULL);
        name[127] = 0;
        movl_set_error(err, "launch of kernel '%s' failed: %s", name, movl_cl_error_name(rc));
        return MOVL_ERR_RUN;
    }
    return MOVL_OK;
}

int movl_set_args(cl_kernel k, char *err, ...)
{
    va_list ap;
    va_start(ap, err);
    for (cl_uint i = 0;; i++) {
        size_t size = va_arg(ap, size_t);
        if (size == 0)
            break;
        const void *ptr = va_arg(ap, const void *);
        cl_int rc = clSetKernelArg(k, i, size, ptr);
        if (rc != CL_SUCCESS) {
            char name[128] = "?";
            clGetKernelInfo(k, CL_KERNEL_FUNCTION_NAME, sizeof name, name, NULL);
            name[127] = 0;
            movl_set_error(err, "setting argument %u of kernel '%s' failed: %s", i, name, movl_cl_error_name(rc));
            va_end(ap);
            return MOVL_ERR_RUN;
        }
    }
    va_end(ap);
    return MOVL_OK;
}
