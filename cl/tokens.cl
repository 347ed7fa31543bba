/* ViT's input side. patchify: the image [n][c][size][size] to one row per
 * patch [n][gh * gw][c * k * k] (row-major patches, each row in the conv
 * weight's [c][ky][kx] order), so the patch embedding is a linear layer over
 * the rows (stride = kernel: every pixel belongs to one patch, and the
 * backward is the inverse gather, exact). tokens_embed: the embedded patches
 * [n][patches][dim] to tokens [n][1 + patches][dim], the class token first,
 * plus the position embedding. 3-D ranges: no index division beyond the
 * patch grid's. */
/* One work-item per (patch column, patch row, image), looping over its c x k x k pixels: no index division
 * (LLVM pairs a division with its remainder through a "freeze", which oclgrind cannot run). size is a
 * multiple of k (the launcher checks), so every pixel belongs to exactly one patch. */
__kernel void patchify(int c, int size, int k, __global const float *x, __global float *rows)
{
    int px = get_global_id(0), py = get_global_id(1), g = size / k;
    size_t n = get_global_id(2);
    if (px >= g || py >= g)
        return;
    __global float *row = rows + (n * g * g + (size_t)(py * g + px)) * (size_t)(c * k * k);
    for (int ch = 0; ch < c; ch++)
        for (int ky = 0; ky < k; ky++)
            for (int kx = 0; kx < k; kx++)
                row[(ch * k + ky) * k + kx] = x[((n * c + ch) * size + (size_t)(py * k + ky)) * size + px * k + kx];
}

__kernel void patchify_backward(int c, int size, int k, __global const float *drows, __global float *dx)
{
    int px = get_global_id(0), py = get_global_id(1), g = size / k;
    size_t n = get_global_id(2);
    if (px >= g || py >= g)
        return;
    __global const float *row = drows + (n * g * g + (size_t)(py * g + px)) * (size_t)(c * k * k);
    for (int ch = 0; ch < c; ch++)
        for (int ky = 0; ky < k; ky++)
            for (int kx = 0; kx < k; kx++)
                dx[((n * c + ch) * size + (size_t)(py * k + ky)) * size + px * k + kx] = row[(ch * k + ky) * k + kx];
}

__kernel void tokens_embed(int dim, int patches, __global const float *patch, __global const float *cls,
                           __global const float *pos, __global float *tok)
{
    int d = get_global_id(0), t = get_global_id(1);
    size_t n = get_global_id(2);
    if (d >= dim || t > patches)
        return;
    float v = t == 0 ? cls[d] : patch[(n * patches + (t - 1)) * dim + d];
    tok[(n * (patches + 1) + t) * dim + d] = v + pos[(size_t)t * dim + d];
}

/* dpatch[n][p][d] = dtok[n][1 + p][d] (the class token's gradient goes to its parameter only). */
__kernel void tokens_embed_backward(int dim, int patches, __global const float *dtok, __global float *dpatch)
{
    int d = get_global_id(0), p = get_global_id(1);
    size_t n = get_global_id(2);
    if (d >= dim || p >= patches)
        return;
    dpatch[(n * patches + p) * dim + d] = dtok[(n * (patches + 1) + 1 + p) * dim + d];
}

/* Full fine-tuning: dpos[t][d] = sum over images of dtok[n][t][d], in image order (no atomics), and
 * dcls[d] = dpos[0][d] (the class token and position 0 are added to the same token). */
__kernel void tokens_embed_backward_params(int n, int dim, int tokens, __global const float *dtok,
                                           __global float *dpos, __global float *dcls)
{
    int d = get_global_id(0), t = get_global_id(1);
    if (d >= dim || t >= tokens)
        return;
    float s = 0.0f;
    for (int i = 0; i < n; i++)
        s += dtok[((size_t)i * tokens + t) * dim + d];
    dpos[(size_t)t * dim + d] = s;
    if (t == 0)
        dcls[d] = s;
}
