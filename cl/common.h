/* Prepended to every program built from cl/ (runtime/device/program_cache.c
 * passes it as the first source string, so each .cl file sees it as if it
 * were #included at its top; #line keeps build-log lines right): what the
 * kernels share. Also compiled as C by tests/test_eltwise.c, which checks the
 * activation codes against movl_act (runtime/ops/desc/op_desc.h) at build
 * time; everything else is OpenCL C only. */
#ifndef MOVL_CL_COMMON_H
#define MOVL_CL_COMMON_H

/* Activation codes, as the launchers pass them (-DACT or an int argument). */
#define ACT_NONE 0
#define ACT_RELU 1
#define ACT_RELU6 2

#ifdef __OPENCL_VERSION__

/* Token pasting that expands its arguments first (XCAT(float, VW) -> float8). */
#define CAT(a, b) a##b
#define XCAT(a, b) CAT(a, b)

/* VW (-D) is the vector width of the kernels that take it: explicit vectors
 * because PoCL does not vectorise a work-item loop across work-items by
 * itself. The launchers pass movl_ops_vector_width (device/launch_shape.h). */
#ifndef VW
#define VW 8
#endif
#define floatv XCAT(float, VW)
#define intv XCAT(int, VW)
#define vloadv XCAT(vload, VW)
#define vstorev XCAT(vstore, VW)

/* The activation of code `act` (a compile-time constant folds the branches
 * away). Written with "v < 0" so that NaN propagates, as in PyTorch. */
inline float act_apply(float v, int act)
{
    if (act == ACT_RELU)
        return v < 0.0f ? 0.0f : v;
    if (act == ACT_RELU6)
        return v < 0.0f ? 0.0f : (v > 6.0f ? 6.0f : v);
    return v;
}

/* Passes g where the activation's output y has slope 1, else 0 (the input is
 * not kept). A select rather than a product so a masked NaN stays masked. */
inline float act_grad(float y, float g, int act)
{
    if (act == ACT_RELU)
        return y > 0.0f ? g : 0.0f;
    if (act == ACT_RELU6)
        return (y > 0.0f && y < 6.0f) ? g : 0.0f;
    return g;
}

/* The same on vectors: act_apply_float8(v, act), act_grad_float8(y, g, act),
 * and for float4 and float16 (act_apply_v / act_grad_v take floatv). */
#define ACT_VECTOR_FUNCTIONS(T)                                                                                    \
    inline T act_apply_##T(T v, int act)                                                                           \
    {                                                                                                              \
        if (act == ACT_RELU)                                                                                       \
            return select(v, (T)0.0f, v < (T)0.0f);                                                                \
        if (act == ACT_RELU6) {                                                                                    \
            v = select(v, (T)0.0f, v < (T)0.0f);                                                                   \
            return select(v, (T)6.0f, v > (T)6.0f);                                                                \
        }                                                                                                          \
        return v;                                                                                                  \
    }                                                                                                              \
    inline T act_grad_##T(T y, T g, int act)                                                                       \
    {                                                                                                              \
        if (act == ACT_RELU)                                                                                       \
            return select((T)0.0f, g, y > (T)0.0f);                                                                \
        if (act == ACT_RELU6)                                                                                      \
            return select((T)0.0f, g, (y > (T)0.0f) & (y < (T)6.0f));                                              \
        return g;                                                                                                  \
    }
ACT_VECTOR_FUNCTIONS(float4)
ACT_VECTOR_FUNCTIONS(float8)
ACT_VECTOR_FUNCTIONS(float16)
#define act_apply_v XCAT(act_apply_, floatv)
#define act_grad_v XCAT(act_grad_, floatv)

/* q = a / b, and *r = a - q * b: never `/` and `%` on the same operands, as
 * LLVM rewrites that pair with a `freeze` instruction that oclgrind's
 * uninitialised-value checker (the kernel tests run under it) cannot run. */
inline int div_rem(int a, int b, int *r)
{
    int q = a / b;
    *r = a - q * b;
    return q;
}

/* Work-group size of the reductions through tree_sum (the launchers of
 * discrepancy.cl and labelmap.cl launch groups of exactly 64). */
#define LOCAL 64

/* Sum of part[0..LOCAL) (each work-item has written its own part[l]) in a
 * fixed tree, so the order of the additions is the same on every device;
 * every work-item gets the total. Ends with a barrier, so part may be reused. */
inline float tree_sum(__local float *part, int l)
{
    for (int s = LOCAL / 2; s > 0; s >>= 1) {
        barrier(CLK_LOCAL_MEM_FENCE);
        if (l < s)
            part[l] += part[l + s];
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    float total = part[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return total;
}

#endif /* __OPENCL_VERSION__ */
#endif
