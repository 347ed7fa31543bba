/* One description of an OpenCL device for both `movl devices --json` and
 * `movl bench --json`, so scripts read the same keys from either. */
#ifndef MOVL_DEVICE_JSON_H
#define MOVL_DEVICE_JSON_H

#include <cjson/cJSON.h>

#include "device/device.h"

/* "gpu", "cpu" or "accelerator". */
const char *cli_device_type(const movl_device_info *d);

/* A new object: selector (P:D), index, name, type, vendor, platform,
 * platform_version, driver_version, opencl_c_version, compute_units,
 * clock_mhz, global_mem_bytes, max_alloc_bytes, local_mem_bytes, fp16,
 * subgroups. NULL when out of memory. */
cJSON *cli_device_json(const movl_device_info *d);

#endif
