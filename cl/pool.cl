/* Max pooling (with argmax indices) and global average pooling, NCHW.
 * Backward kernels gather: each input element sums its own contributions in
 * a fixed order, so results are deterministic.
 * The max-pool kernels give each work-item VW neighbouring columns of one row
 * (dimension 0: column blocks, dimension 1: rows over n, c, y) and work on
 * int/float vectors with clamped addresses and selects instead of branches:
 * PoCL does not vectorise a window loop across work-items by itself. Flat
 * indices are split with div_rem (common.h). VW (-D, common.h) is 8 or 4. */

/* STRIDE is the pool stride, a compile-time constant (-DSTRIDE) so that the
 * per-lane divisions of the backward window search become shifts or
 * multiplies (x86 has no vector integer division). The launcher passes the
 * same value as the argument `stride`. */
#ifndef STRIDE
#define STRIDE stride
#endif

#if VW == 8
#define LANES ((int8)(0, 1, 2, 3, 4, 5, 6, 7))
#define GATHER(type, p, i) ((type)(p[(i).s0], p[(i).s1], p[(i).s2], p[(i).s3], p[(i).s4], p[(i).s5], p[(i).s6], p[(i).s7]))
#else
#define LANES ((int4)(0, 1, 2, 3))
#define GATHER(type, p, i) ((type)(p[(i).s0], p[(i).s1], p[(i).s2], p[(i).s3]))
#endif

/* Stores the first n (< VW) lanes of v at p. */
#define STORE_PARTIAL(v, p, n)                                                                                     \
    do {                                                                                                           \
        if ((n) > 0) (p)[0] = (v).s0;                                                                              \
        if ((n) > 1) (p)[1] = (v).s1;                                                                              \
        if ((n) > 2) (p)[2] = (v).s2;                                                                              \
        STORE_PARTIAL_HI(v, p, n);                                                                                 \
    } while (0)
#if VW == 8
#define STORE_PARTIAL_HI(v, p, n)                                                                                  \
    do {                                                                                                           \
        if ((n) > 3) (p)[3] = (v).s3;                                                                              \
        if ((n) > 4) (p)[4] = (v).s4;                                                                              \
        if ((n) > 5) (p)[5] = (v).s5;                                                                              \
        if ((n) > 6) (p)[6] = (v).s6;                                                                              \
    } while (0)
#else
#define STORE_PARTIAL_HI(v, p, n) ((void)0)
#endif

/* Output columns ox0 .. ox0+VW-1 of output row `row`. Padding never wins:
 * only in-bounds elements compete. The first maximum in row-major window
 * order wins (strict >); a NaN wins as in PyTorch so it propagates. */
__kernel void maxpool_forward(int rows, int h, int w, int oh, int ow, int k, int stride, int pad,
                              __global const float *x, __global float *y, __global int *idx)
{
    int ox0 = get_global_id(0) * VW, row = get_global_id(1);
    if (ox0 >= ow || row >= rows)
        return;
    int oy, plane = div_rem(row, oh, &oy);
    __global const float *xp = x + (size_t)plane * h * w;
    int y0 = oy * STRIDE - pad;
    intv x0 = (ox0 + LANES) * STRIDE - pad;
    floatv best = -INFINITY;
    intv besti = -1;
    for (int ky = 0; ky < k; ky++) {
        int iy = y0 + ky, cy = clamp(iy, 0, h - 1);
        intv row_ok = (intv)(iy == cy ? -1 : 0);
        for (int kx = 0; kx < k; kx++) {
            /* min/max, not clamp: oclgrind mis-evaluates clamp(intN, int, int). */
            intv ix = x0 + kx, cx = min(max(ix, (intv)0), (intv)(w - 1)), at = cy * w + cx;
            floatv v = GATHER(floatv, xp, at);
            intv take = row_ok & (ix == cx) & ((besti < 0) | (v > best) | isnan(v));
            best = select(best, v, take);
            besti = select(besti, at, take);
        }
    }
    size_t o = (size_t)row * ow + ox0;
    if (ox0 + VW <= ow) {
        vstorev(best, 0, y + o);
        vstorev(besti, 0, idx + o);
    } else {
        STORE_PARTIAL(best, y + o, ow - ox0);
        STORE_PARTIAL(besti, idx + o, ow - ox0);
    }
}

/* Input columns ix0 .. ix0+VW-1 of input row `row`: each visits the windows
 * that contain it (oy in [ceil((iy+pad-k+1)/stride), floor((iy+pad)/stride)],
 * the same for ox; at most ceil(k/stride) of each) and adds dy where that
 * window's argmax is this element, in (oy, ox) order. */
__kernel void maxpool_backward(int rows, int h, int w, int oh, int ow, int k, int stride, int pad,
                               __global const int *idx, __global const float *dy, __global float *dx)
{
    int ix0 = get_global_id(0) * VW, row = get_global_id(1);
    if (ix0 >= w || row >= rows)
        return;
    int iy, plane = div_rem(row, h, &iy);
    intv ix = ix0 + LANES;
    intv self = iy * w + ix;
    int ty = iy + pad - k + 1;
    int oy_lo = ty <= 0 ? 0 : (ty + STRIDE - 1) / STRIDE;
    int oy_hi = min((iy + pad) / STRIDE, oh - 1);
    intv tx = ix + pad - k + 1;
    intv ox_lo = select((tx + STRIDE - 1) / STRIDE, (intv)0, tx <= 0);
    intv ox_hi = min((ix + pad) / STRIDE, (intv)(ow - 1));
    int reach = (k + STRIDE - 1) / STRIDE; /* windows per axis that can contain a point */
    __global const int *ip = idx + (size_t)plane * oh * ow;
    __global const float *gp = dy + (size_t)plane * oh * ow;
    floatv sum = 0.0f;
    for (int oy = oy_lo; oy <= oy_hi; oy++)
        for (int t = 0; t < reach; t++) {
            intv ox = ox_lo + t;
            intv ok = ox <= ox_hi;
            intv o = oy * ow + min(ox, (intv)(ow - 1));
            intv hit = ok & (GATHER(intv, ip, o) == self);
            sum += select((floatv)0.0f, GATHER(floatv, gp, o), hit);
        }
    __global float *out = dx + (size_t)row * w + ix0;
    if (ix0 + VW <= w)
        vstorev(sum, 0, out);
    else
        STORE_PARTIAL(sum, out, w - ix0);
}

/* One work-item per (n, c) plane; inv_hw = 1/hw from the host. */
__kernel void gap_forward(int nc, int hw, float inv_hw, __global const float *x, __global float *y)
{
    int p = get_global_id(0);
    if (p >= nc)
        return;
    __global const float *xp = x + (size_t)p * hw;
    float sum = 0.0f;
    for (int i = 0; i < hw; i++)
        sum += xp[i];
    y[p] = sum * inv_hw;
}

/* One work-item per input element. */
__kernel void gap_backward(int nc, int hw, float inv_hw, __global const float *dy, __global float *dx)
{
    int i = get_global_id(0);
    if (i >= nc * hw)
        return;
    dx[i] = dy[i / hw] * inv_hw;
}
