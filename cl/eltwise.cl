/* Elementwise ops: activation forward/backward and the residual add.
 * ACT (-D) picks the activation: 0 none, 1 relu, 2 relu6. Each work-item
 * handles VW consecutive elements with vector loads (PoCL does not vectorise
 * these kernels across work-items by itself); the last work-item finishes a
 * partial vector element by element. No `restrict`: the launchers allow
 * y == x, dx == dy and y == a or b (each work-item reads before it writes). */
#ifndef ACT
#define ACT 0
#endif
#ifndef VW
#define VW 8
#endif

#define CAT(a, b) a##b
#define XCAT(a, b) CAT(a, b)
#define floatv XCAT(float, VW)
#define vloadv XCAT(vload, VW)
#define vstorev XCAT(vstore, VW)

/* Written with "v < 0" so that NaN propagates, as in PyTorch. */
inline float act_apply(float v)
{
#if ACT == 1
    return v < 0.0f ? 0.0f : v;
#elif ACT == 2
    return v < 0.0f ? 0.0f : (v > 6.0f ? 6.0f : v);
#else
    return v;
#endif
}

inline floatv act_apply_v(floatv v)
{
#if ACT == 1
    return select(v, (floatv)0.0f, v < (floatv)0.0f);
#elif ACT == 2
    v = select(v, (floatv)0.0f, v < (floatv)0.0f);
    return select(v, (floatv)6.0f, v > (floatv)6.0f);
#else
    return v;
#endif
}

/* Passes g where the activation's output y has slope 1, else 0 (the input
 * is not kept). A select rather than a product so a masked NaN stays masked. */
inline float act_grad(float y, float g)
{
#if ACT == 1
    return y > 0.0f ? g : 0.0f;
#elif ACT == 2
    return (y > 0.0f && y < 6.0f) ? g : 0.0f;
#else
    return g;
#endif
}

inline floatv act_grad_v(floatv y, floatv g)
{
#if ACT == 1
    return select((floatv)0.0f, g, y > (floatv)0.0f);
#elif ACT == 2
    return select((floatv)0.0f, g, (y > (floatv)0.0f) & (y < (floatv)6.0f));
#else
    return g;
#endif
}

__kernel void act_forward(ulong count, __global const float *x, __global float *y)
{
    size_t i = get_global_id(0) * VW;
    if (i + VW <= count) {
        vstorev(act_apply_v(vloadv(0, x + i)), 0, y + i);
        return;
    }
    for (; i < count; i++)
        y[i] = act_apply(x[i]);
}

__kernel void act_backward(ulong count, __global const float *y, __global const float *dy, __global float *dx)
{
    size_t i = get_global_id(0) * VW;
    if (i + VW <= count) {
        vstorev(act_grad_v(vloadv(0, y + i), vloadv(0, dy + i)), 0, dx + i);
        return;
    }
    for (; i < count; i++)
        dx[i] = act_grad(y[i], dy[i]);
}

__kernel void add_forward(ulong count, __global const float *a, __global const float *b, __global float *y)
{
    size_t i = get_global_id(0) * VW;
    if (i + VW <= count) {
        vstorev(act_apply_v(vloadv(0, a + i) + vloadv(0, b + i)), 0, y + i);
        return;
    }
    for (; i < count; i++)
        y[i] = act_apply(a[i] + b[i]);
}
