/* Elementwise ops: activation forward/backward and the residual add.
 * ACT (-D) picks the activation (ACT_NONE, ACT_RELU or ACT_RELU6 of
 * common.h). Each work-item handles VW consecutive elements with vector loads
 * (PoCL does not vectorise these kernels across work-items by itself); the
 * last work-item finishes a partial vector element by element. No `restrict`: the launchers allow
 * y == x, dx == dy and y == a or b (each work-item reads before it writes). */
#ifndef ACT
#define ACT ACT_NONE
#endif

__kernel void act_forward(ulong count, __global const float *x, __global float *y)
{
    size_t i = get_global_id(0) * VW;
    if (i + VW <= count) {
        vstorev(act_apply_v(vloadv(0, x + i), ACT), 0, y + i);
        return;
    }
    for (; i < count; i++)
        y[i] = act_apply(x[i], ACT);
}

__kernel void act_backward(ulong count, __global const float *y, __global const float *dy, __global float *dx)
{
    size_t i = get_global_id(0) * VW;
    if (i + VW <= count) {
        vstorev(act_grad_v(vloadv(0, y + i), vloadv(0, dy + i), ACT), 0, dx + i);
        return;
    }
    for (; i < count; i++)
        dx[i] = act_grad(y[i], dy[i], ACT);
}

__kernel void add_forward(ulong count, __global const float *a, __global const float *b, __global float *y)
{
    size_t i = get_global_id(0) * VW;
    if (i + VW <= count) {
        vstorev(act_apply_v(vloadv(0, a + i) + vloadv(0, b + i), ACT), 0, y + i);
        return;
    }
    for (; i < count; i++)
        y[i] = act_apply(a[i] + b[i], ACT);
}
