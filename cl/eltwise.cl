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

/* GELU (-DGELU: 0 = nn.GELU's exact x * Phi(x) through erf, 1 = CLIP's
 * QuickGELU x * sigmoid(1.702 x)). The backward takes the forward's INPUT x:
 * GELU is not monotonic, so its output does not determine the slope. */
#ifndef GELU
#define GELU 0
#endif
#define INV_SQRT_2PI_F 0.39894228040143268f

/* gelu_of_T(x) and gelu_slope_T(x) for float and floatv (the scalar ones
 * finish the last partial vector). Phi(x) = erfc(-x / sqrt 2) / 2, not
 * (1 + erf(x / sqrt 2)) / 2, which cancels to 0 in fp32 below x = -5. */
#if GELU == 1
#define GELU_FUNCTIONS(T)                                                                                          \
    inline T gelu_of_##T(T x) { return x / ((T)1.0f + exp(-1.702f * x)); }                                        \
    inline T gelu_slope_##T(T x)                                                                                   \
    {                                                                                                              \
        T s = (T)1.0f / ((T)1.0f + exp(-1.702f * x));                                                             \
        return s + 1.702f * x * s * ((T)1.0f - s);                                                                 \
    }
#else
#define GELU_FUNCTIONS(T)                                                                                          \
    inline T gelu_of_##T(T x) { return 0.5f * x * erfc(-x * M_SQRT1_2_F); }                                      \
    inline T gelu_slope_##T(T x)                                                                                   \
    {                                                                                                              \
        return 0.5f * erfc(-x * M_SQRT1_2_F) + x * exp(-0.5f * x * x) * INV_SQRT_2PI_F;                          \
    }
#endif
GELU_FUNCTIONS(float)
GELU_FUNCTIONS(floatv)

__kernel void gelu_forward(ulong count, __global const float *x, __global float *y)
{
    size_t i = get_global_id(0) * VW;
    if (i + VW <= count) {
        vstorev(gelu_of_floatv(vloadv(0, x + i)), 0, y + i);
        return;
    }
    for (; i < count; i++)
        y[i] = gelu_of_float(x[i]);
}

__kernel void gelu_backward(ulong count, __global const float *x, __global const float *dy, __global float *dx)
{
    size_t i = get_global_id(0) * VW;
    if (i + VW <= count) {
        vstorev(gelu_slope_floatv(vloadv(0, x + i)) * vloadv(0, dy + i), 0, dx + i);
        return;
    }
    for (; i < count; i++)
        dx[i] = gelu_slope_float(x[i]) * dy[i];
}
