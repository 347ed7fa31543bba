/* Optimiser updates, one work-item per parameter (runtime/adapt/optim.h has the
 * exact torch semantics). The update of each element depends only on that
 * element: deterministic. Arithmetic follows torch's operation order
 * (add_(p, alpha=wd), mul_ + add_, lerp_, addcmul_, sqrt / bc2 + eps,
 * addcdiv_) so results agree to a few ulp; no fma contraction, as torch's
 * separate operations round after each step. */
#pragma OPENCL FP_CONTRACT OFF

/* first != 0: the momentum buffer starts as g (torch at its first step). */
__kernel void sgd_step(ulong n, float lr, float momentum, float wd, int nesterov, int first,
                       __global float *param, __global const float *grad, __global float *buf)
{
    size_t i = get_global_id(0);
    if (i >= n)
        return;
    float p = param[i], g = grad[i];
    if (wd != 0.0f)
        g = g + wd * p;
    if (momentum != 0.0f) {
        float b = first ? g : momentum * buf[i] + g;
        buf[i] = b;
        g = nesterov ? g + momentum * b : b;
    }
    param[i] = p - lr * g;
}

/* step_size = lr / (1 - beta1^t), sqrt_bc2 = sqrt(1 - beta2^t) (host, double).
 * state holds m [n] then v [n]. */
__kernel void adam_step(ulong n, float step_size, float beta1, float beta2, float eps, float wd, float sqrt_bc2,
                        __global float *param, __global const float *grad, __global float *state)
{
    __global float *m = state, *v = state + n;
    size_t i = get_global_id(0);
    if (i >= n)
        return;
    float p = param[i], g = grad[i];
    if (wd != 0.0f)
        g = g + wd * p;
    float mi = m[i], vi = v[i];
    mi = mi + (1.0f - beta1) * (g - mi);
    vi = beta2 * vi + (1.0f - beta2) * (g * g);
    m[i] = mi;
    v[i] = vi;
    float denom = sqrt(vi) / sqrt_bc2 + eps;
    param[i] = p - step_size * (mi / denom);
}
