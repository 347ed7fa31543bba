/* Layer norm over the last dimension of rows x dim (the token features of ViT
 * and CLIP): y = (x - mean) * rstd * gamma + beta, rstd = 1 / sqrt(var + eps),
 * biased variance (nn.LayerNorm). Forward and backward-to-input run one
 * work-group of LN_WG items per row; the row sums are reduced in local memory
 * in a fixed tree order (deterministic, no atomics), and the variance is the
 * mean of centred squares (a second pass, not E[x^2] - mean^2, which cancels
 * in fp32). The parameter gradient runs one work-item per column over the rows
 * in order. */
#ifndef LN_WG
#define LN_WG 64
#endif

/* The work-group's sum of v, in a fixed order; every item gets it. */
inline float group_sum(float v, __local float *buf)
{
    int l = get_local_id(0);
    buf[l] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = LN_WG / 2; s > 0; s >>= 1) {
        if (l < s)
            buf[l] += buf[l + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    float r = buf[0];
    barrier(CLK_LOCAL_MEM_FENCE); /* buf is reused by the next sum */
    return r;
}

/* stats[2r] = mean, stats[2r + 1] = rstd of row r, for the backward. */
__kernel __attribute__((reqd_work_group_size(LN_WG, 1, 1))) void
layernorm_forward(int dim, float eps, __global const float *x, __global const float *gamma,
                  __global const float *beta, __global float *y, __global float *stats)
{
    __local float buf[LN_WG];
    size_t r = get_group_id(0);
    int l = get_local_id(0);
    __global const float *xr = x + r * dim;
    float s = 0.0f;
    for (int j = l; j < dim; j += LN_WG)
        s += xr[j];
    float mean = group_sum(s, buf) / dim, q = 0.0f;
    for (int j = l; j < dim; j += LN_WG) {
        float c = xr[j] - mean;
        q += c * c;
    }
    float rstd = 1.0f / sqrt(group_sum(q, buf) / dim + eps);
    for (int j = l; j < dim; j += LN_WG)
        y[r * dim + j] = (xr[j] - mean) * rstd * gamma[j] + beta[j];
    if (l == 0) {
        stats[2 * r] = mean;
        stats[2 * r + 1] = rstd;
    }
}

/* With xhat = (x - mean) * rstd, g = dy * gamma: dx = rstd * (g - mean(g) - xhat * mean(g * xhat)). */
__kernel __attribute__((reqd_work_group_size(LN_WG, 1, 1))) void
layernorm_backward_input(int dim, __global const float *x, __global const float *gamma,
                         __global const float *stats, __global const float *dy, __global float *dx)
{
    __local float buf[LN_WG];
    size_t r = get_group_id(0);
    int l = get_local_id(0);
    float mean = stats[2 * r], rstd = stats[2 * r + 1], sg = 0.0f, sgx = 0.0f;
    for (int j = l; j < dim; j += LN_WG) {
        float g = dy[r * dim + j] * gamma[j];
        sg += g;
        sgx += g * (x[r * dim + j] - mean) * rstd;
    }
    sg = group_sum(sg, buf) / dim;
    sgx = group_sum(sgx, buf) / dim;
    for (int j = l; j < dim; j += LN_WG) {
        float xhat = (x[r * dim + j] - mean) * rstd;
        dx[r * dim + j] = rstd * (dy[r * dim + j] * gamma[j] - sg - xhat * sgx);
    }
}

/* dgamma[j] = sum over rows of dy * xhat, dbeta[j] = sum of dy; rows in order. */
__kernel void layernorm_backward_params(int rows, int dim, __global const float *x, __global const float *stats,
                                        __global const float *dy, __global float *dgamma, __global float *dbeta)
{
    int j = get_global_id(0);
    if (j >= dim)
        return;
    float sg = 0.0f, sb = 0.0f;
    for (int r = 0; r < rows; r++) {
        float d = dy[(size_t)r * dim + j];
        sg += d * (x[(size_t)r * dim + j] - stats[2 * r]) * stats[2 * r + 1];
        sb += d;
    }
    dgamma[j] = sg;
    dbeta[j] = sb;
}

/* L2 normalisation of each row (F.normalize(x, dim=-1), eps 1e-12): CLIP's image and text embeddings
 * before their cosine logits. Same work-group tree sums as above. */
#define L2_EPS 1e-12f

__kernel __attribute__((reqd_work_group_size(LN_WG, 1, 1))) void
l2norm_forward(int dim, __global const float *x, __global float *y)
{
    __local float buf[LN_WG];
    size_t r = get_group_id(0);
    int l = get_local_id(0);
    float q = 0.0f;
    for (int j = l; j < dim; j += LN_WG)
        q += x[r * dim + j] * x[r * dim + j];
    float inv = 1.0f / fmax(sqrt(group_sum(q, buf)), L2_EPS);
    for (int j = l; j < dim; j += LN_WG)
        y[r * dim + j] = x[r * dim + j] * inv;
}

/* With n = ||x|| > eps and y = x / n: dx = (dy - y * (y . dy)) / n; below eps the map is x / eps, dx = dy / eps.
 * Each item reads dy[j] before it writes dx[j], so dx may equal dy. */
__kernel __attribute__((reqd_work_group_size(LN_WG, 1, 1))) void
l2norm_backward(int dim, __global const float *x, __global const float *dy, __global float *dx)
{
    __local float buf[LN_WG];
    size_t r = get_group_id(0);
    int l = get_local_id(0);
    float q = 0.0f, p = 0.0f;
    for (int j = l; j < dim; j += LN_WG) {
        float v = x[r * dim + j];
        q += v * v;
        p += v * dy[r * dim + j];
    }
    float n = sqrt(group_sum(q, buf)), xdy = group_sum(p, buf);
    int tiny = !(n > L2_EPS);
    float inv = 1.0f / (tiny ? L2_EPS : n), c = tiny ? 0.0f : xdy * inv * inv;
    for (int j = l; j < dim; j += LN_WG)
        dx[r * dim + j] = (dy[r * dim + j] - x[r * dim + j] * c) * inv;
}
