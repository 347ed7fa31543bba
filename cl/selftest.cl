/* Tiny kernels used to check a device and the program cache work at all. */
#ifndef SCALE
#define SCALE 1.0f
#endif

__kernel void axpb(__global const float *x, const float a, const float b, __global float *y, const int n)
{
    int i = get_global_id(0);
    if (i < n)
        y[i] = SCALE * (a * x[i] + b);
}

/* Test-only fault injection of the driver self-test (MOVL_SELFTEST_FAULT):
 * a deliberately wrong kernel that spoils one element of an op's output. */
__kernel void spoil_one(__global float *y, const int i, const float delta)
{
    if (get_global_id(0) == 0)
        y[i] += delta;
}
