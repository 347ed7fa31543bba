/* See device_json.h. */
#include "device_json.h"

#include <stdio.h>

const char *cli_device_type(const movl_device_info *d) { return d->is_gpu ? "gpu" : d->is_cpu ? "cpu" : "accelerator"; }

cJSON *cli_device_json(const movl_device_info *d)
{
    cJSON *o = cJSON_CreateObject();
    char sel[32];
    snprintf(sel, sizeof sel, "%d:%d", d->platform_index, d->device_index);
    cJSON_AddStringToObject(o, "selector", sel);
    cJSON_AddNumberToObject(o, "index", d->flat_index);
    cJSON_AddStringToObject(o, "name", d->name);
    cJSON_AddStringToObject(o, "type", cli_device_type(d));
    cJSON_AddStringToObject(o, "vendor", d->vendor);
    cJSON_AddStringToObject(o, "platform", d->platform_name);
    cJSON_AddStringToObject(o, "platform_version", d->platform_version);
    cJSON_AddStringToObject(o, "driver_version", d->driver_version);
    cJSON_AddStringToObject(o, "opencl_c_version", d->opencl_c_version);
    cJSON_AddNumberToObject(o, "compute_units", d->compute_units);
    cJSON_AddNumberToObject(o, "clock_mhz", d->clock_mhz);
    cJSON_AddNumberToObject(o, "global_mem_bytes", (double)d->global_mem);
    cJSON_AddNumberToObject(o, "max_alloc_bytes", (double)d->max_alloc);
    cJSON_AddNumberToObject(o, "local_mem_bytes", (double)d->local_mem);
    cJSON_AddBoolToObject(o, "fp16", d->has_fp16);
    cJSON_AddBoolToObject(o, "subgroups", d->has_subgroups);
    return o;
}
