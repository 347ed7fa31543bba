/* Softmax over each row of rows x dim, of scale * x (attention scores): one
 * work-item per row (rows = images x heads x queries: many, short), max
 * subtracted first. CAUSAL: row r is query r % dim and sees keys 0..r % dim
 * only (CLIP's text tower); the others get probability 0, so the backward
 * needs no mask. Sums in key order: deterministic. */
__kernel void softmax_forward(ulong rows, int dim, float scale, int causal, __global const float *x,
                              __global float *y)
{
    size_t r = get_global_id(0);
    if (r >= rows)
        return;
    __global const float *xr = x + r * dim;
    __global float *yr = y + r * dim;
    int last = causal ? (int)(r % dim) : dim - 1;
    float mx = -INFINITY, sum = 0.0f;
    for (int j = 0; j <= last; j++)
        mx = fmax(mx, scale * xr[j]);
    for (int j = 0; j <= last; j++) {
        float e = exp(scale * xr[j] - mx);
        yr[j] = e;
        sum += e;
    }
    float inv = 1.0f / sum;
    for (int j = 0; j <= last; j++)
        yr[j] *= inv;
    for (int j = last + 1; j < dim; j++)
        yr[j] = 0.0f;
}

/* dx = scale * y * (dy - sum_j dy * y), from the forward's output y. */
__kernel void softmax_backward(ulong rows, int dim, float scale, __global const float *y, __global const float *dy,
                               __global float *dx)
{
    size_t r = get_global_id(0);
    if (r >= rows)
        return;
    __global const float *yr = y + r * dim, *dyr = dy + r * dim;
    float dot = 0.0f;
    for (int j = 0; j < dim; j++)
        dot += dyr[j] * yr[j];
    for (int j = 0; j < dim; j++)
        dx[r * dim + j] = scale * yr[j] * (dyr[j] - dot);
}
