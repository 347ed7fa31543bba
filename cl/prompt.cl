/* Visual prompts (runtime/adapt/prompt.h has the layout of delta and the rules).
 * TYPE numbers: 0 padding, 1 shrink_pad, 2 patch, 3 random_patch, 4 full.
 * Remainders are taken as r = a - q * b after q = a / b, through div_rem
 * (common.h) for ints: never / and % on the same operands. */

/* Per-channel delta index of pixel (i, j), or -1 outside the mask. */
inline int prompt_index(int type, int S, int p, int oy, int ox, int i, int j)
{
    if (type == 0 || type == 1) {
        int top = p * S, mid = (S - 2 * p) * 2 * p;
        if (i < p)
            return i * S + j;
        if (i >= S - p)
            return top + mid + (i - (S - p)) * S + j;
        if (j < p)
            return top + (i - p) * 2 * p + j;
        if (j >= S - p)
            return top + (i - p) * 2 * p + p + (j - (S - p));
        return -1;
    }
    if (type == 2 || type == 3) {
        int r = i - oy, q = j - ox;
        return (r >= 0 && r < p && q >= 0 && q < p) ? r * p + q : -1;
    }
    return i * S + j;
}

/* Inverse of prompt_index: the pixel (i, j) of per-channel index r. */
inline int2 prompt_pixel(int type, int S, int p, int oy, int ox, int r)
{
    int i, j;
    if (type == 0 || type == 1) {
        int top = p * S, mid = (S - 2 * p) * 2 * p;
        if (r < top) {
            i = div_rem(r, S, &j);
        } else if (r - top < mid) {
            int e, q = div_rem(r - top, 2 * p, &e);
            i = p + q;
            j = e < p ? e : e + S - 2 * p;
        } else {
            i = S - p + div_rem(r - top - mid, S, &j);
        }
    } else if (type == 2 || type == 3) {
        int e, q = div_rem(r, p, &e);
        i = oy + q;
        j = ox + e;
    } else {
        i = div_rem(r, S, &j);
    }
    return (int2)(i, j);
}

inline float sigmoidf(float v) { return 1.0f / (1.0f + exp(-v)); }

/* One work-item per element of y ([batch][3][S][S]). */
__kernel void prompt_forward(int type, int S, int p, int oy, int ox, int sigmoid, ulong total, float mean0,
                             float mean1, float mean2, float std0, float std1, float std2, __global const float *x,
                             __global const float *delta, __global float *y)
{
    size_t g = get_global_id(0);
    if (g >= total)
        return;
    size_t SS = (size_t)S * S, plane = g / SS;
    int pix = (int)(g - plane * SS), j, i = div_rem(pix, S, &j);
    int c = (int)(plane - (plane / 3) * 3);
    int r = prompt_index(type, S, p, oy, ox, i, j);
    float xv = x[g];
    if (r < 0) {
        y[g] = xv;
        return;
    }
    int n_c = (type == 0 || type == 1) ? 4 * p * (S - p) : ((type == 4) ? S * S : p * p);
    float v = delta[c * n_c + r];
    if (sigmoid)
        v = sigmoidf(v);
    if (type == 1) {
        float m = c == 0 ? mean0 : (c == 1 ? mean1 : mean2), s = c == 0 ? std0 : (c == 1 ? std1 : std2);
        y[g] = (v - m) / s;
    } else {
        y[g] = xv + v;
    }
}

/* One work-item per delta element: sums dy over the batch in order b = 0, 1,
 * ... at its pixel, then applies the chain factor (1/std for shrink_pad,
 * sigmoid' when used). ddelta is overwritten. */
__kernel void prompt_backward(int type, int S, int p, int oy, int ox, int sigmoid, int batch, int nparam,
                              float scale0, float scale1, float scale2, __global const float *delta,
                              __global const float *dy, __global float *ddelta)
{
    int k = get_global_id(0);
    if (k >= nparam)
        return;
    int n_c = nparam / 3, r, c = div_rem(k, n_c, &r);
    int2 ij = prompt_pixel(type, S, p, oy, ox, r);
    size_t SS = (size_t)S * S, stride = 3 * SS, off = c * SS + (size_t)ij.x * S + ij.y;
    float sum = 0.0f;
    for (int b = 0; b < batch; b++)
        sum += dy[off + (size_t)b * stride];
    float scale = c == 0 ? scale0 : (c == 1 ? scale1 : scale2);
    if (sigmoid) {
        float s = sigmoidf(delta[k]);
        scale *= s * (1.0f - s);
    }
    ddelta[k] = sum * scale;
}
