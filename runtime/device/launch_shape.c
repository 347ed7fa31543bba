/* Launch-shape helpers shared by the op launchers (see ops_util.h). */
#include "device/launch_shape.h"

int movl_preferred_float_width(const movl_device *dev)
{
    /* A few devices per process at most; a lookup avoids a driver call per launch. */
    static struct {
        cl_device_id id;
        int width;
    } cache[8];
    for (int i = 0; i < 8 && cache[i].id; i++)
        if (cache[i].id == dev->id)
            return cache[i].width;
    cl_uint pref = 0;
    if (clGetDeviceInfo(dev->id, CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT, sizeof pref, &pref, NULL) != CL_SUCCESS)
        pref = 0;
    int width = (int)pref;
    for (int i = 0; i < 8; i++)
        if (!cache[i].id) {
            cache[i].id = dev->id;
            cache[i].width = width;
            break;
        }
    return width;
}

int movl_ops_vector_width(const movl_device *dev) { return movl_preferred_float_width(dev) >= 8 ? 8 : 4; }

size_t movl_ops_group_size(const movl_device *dev)
{
    size_t want = dev->info.is_cpu ? 4096 : 256, max = dev->info.max_work_group;
    return (max == 0 || max > want) ? want : max;
}
