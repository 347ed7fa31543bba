/* Weight gradient of the 2-D convolution (runtime/ops/conv_wgrad.c explains
 * the method):
 *
 *   dw[co][r] = sum over images n and positions j of dz[n][co][j] * col[n][r][j]
 *   db[co]    = sum over images n and positions j of dz[n][co][j]
 *
 * with r = (ci, kh, kw) and col the implicit im2col of x. The batch is split
 * into parts of `per` images; every kernel sums one part in a fixed order
 * and writes its own slot (out + out_off + slot * slot_stride); conv_wgrad_reduce
 * then adds the slots in slot order. With one part the slot is dw/db itself.
 * No atomics, no accumulation across launches: every output element is
 * written exactly once per call, so two calls give identical bits.
 *
 * Compile-time parameters (-D): MT, NV (conv_wgrad_gemm's register tile: MT
 * output channels x 8*NV reduction columns), K (conv_wgrad_dw's taps per row). */

#ifndef MT
#define MT 6
#endif
#ifndef NV
#define NV 2
#endif
#ifndef K
#define K 3
#endif

/* The sum of a vector's lanes in a fixed order (through memory: oclgrind's
 * uninitialised-value checker crashes on the .lo/.hi swizzles). */
inline float lanes_sum(float8 v)
{
    float l[8];
    vstore8(v, 0, l);
    return ((l[0] + l[4]) + (l[2] + l[6])) + ((l[1] + l[5]) + (l[3] + l[7]));
}

/* Transposed im2col of a chunk of nb images, one row per (group, position):
 *   colT[col_off + (g*T + t)*npad + r] = x[n][g*cin_g + ci][oy*s - pad_t + kh][ox*s - pad_l + kw]
 * with t = n*oh*ow + oy*ow + ox (T = nb*oh*ow), r = (ci*k + kh)*k + kw < cin_g*k*k,
 * 0 in the padding and for r past cin_g*k*k (up to the row pitch npad).
 * One work-item per row: it reads scattered x and writes one contiguous row. */
__kernel void conv_wgrad_cols(__global const float *x, int x_off, int cin, int h, int w, __global float *colT,
                              int col_off, int nb, int groups, int cin_g, int k, int s, int pad_t, int pad_l, int oh,
                              int ow, int npad)
{
    int row = (int)get_global_id(0);
    int ohow = oh * ow, T = nb * ohow;
    if (row >= groups * T)
        return;
    int g = row / T, t = row - g * T;
    int n = t / ohow, j = t - n * ohow;
    int oy = j / ow, ox = j - oy * ow;
    __global const float *xg = x + x_off + (n * cin + g * cin_g) * h * w;
    __global float *dst = colT + col_off + row * npad;
    int r = 0;
    for (int ci = 0; ci < cin_g; ci++)
        for (int kh = 0; kh < k; kh++) {
            int iy = oy * s - pad_t + kh;
            for (int kw = 0; kw < k; kw++) {
                int ix = ox * s - pad_l + kw;
                dst[r++] = (iy >= 0 && iy < h && ix >= 0 && ix < w) ? xg[(ci * h + iy) * w + ix] : 0.0f;
            }
        }
    for (; r < npad; r++)
        dst[r] = 0.0f;
}

/* dw of one part, for groups with several channels: a GEMM over the part's
 * positions t, dz scalars broadcast against 8*NV consecutive columns of colT,
 * MT x NV float8 accumulators in registers (no horizontal sums). Work-item
 * idx -> (part, group, column tile, channel tile), the channel tile fastest:
 * consecutive items read the same columns of colT (shared in cache).
 * dz starts dz_off floats in (the chunk's first image); out_w gets
 * dw[g*cout_g + co][r] of slot part0 + part. */
__kernel void conv_wgrad_gemm(__global const float *dz, int dz_off, __global const float *colT, int col_off,
                              int npad, __global float *out_w, int out_off, int slot_stride, int part0, int per,
                              int nb, int ohow, int cout, int groups, int cout_g, int nr)
{
    int m_tiles = (cout_g + MT - 1) / MT, v_tiles = (nr + 8 * NV - 1) / (8 * NV);
    int parts = (nb + per - 1) / per;
    int idx = (int)get_global_id(0);
    if (idx >= parts * groups * v_tiles * m_tiles)
        return;
    int rest = idx / m_tiles, mt = idx - rest * m_tiles;
    int rest2 = rest / v_tiles, vt = rest - rest2 * v_tiles;
    int part = rest2 / groups, g = rest2 - part * groups;
    int n0 = part * per, n1 = min(n0 + per, nb);
    int T = nb * ohow;

    float8 acc[MT][NV];
#pragma unroll
    for (int m = 0; m < MT; m++)
#pragma unroll
        for (int v = 0; v < NV; v++)
            acc[m][v] = (float8)(0.0f);
    int co0 = g * cout_g + mt * MT;
    int rows[MT]; /* channel tiles past cout_g read the last channel, never stored */
#pragma unroll
    for (int m = 0; m < MT; m++)
        rows[m] = min(co0 + m, g * cout_g + cout_g - 1) * ohow;

    for (int n = n0; n < n1; n++) {
        __global const float *dn = dz + dz_off + n * cout * ohow;
        __global const float *cn = colT + col_off + (g * T + n * ohow) * npad + vt * 8 * NV;
        for (int j = 0; j < ohow; j++) {
            float8 b[NV];
#pragma unroll
            for (int v = 0; v < NV; v++)
                b[v] = vload8(v, cn + j * npad);
#pragma unroll
            for (int m = 0; m < MT; m++) {
                float8 a = (float8)(dn[rows[m] + j]);
#pragma unroll
                for (int v = 0; v < NV; v++)
                    acc[m][v] = fma(b[v], a, acc[m][v]);
            }
        }
    }

    __global float *o = out_w + out_off + (part0 + part) * slot_stride;
#pragma unroll
    for (int m = 0; m < MT; m++) {
        int co = mt * MT + m;
        if (co >= cout_g)
            continue;
#pragma unroll
        for (int v = 0; v < NV; v++) {
            float lane[8];
            vstore8(acc[m][v], 0, lane);
            int r0 = vt * 8 * NV + 8 * v;
            for (int l = 0; l < 8; l++)
                if (r0 + l < nr)
                    o[(g * cout_g + co) * nr + r0 + l] = lane[l];
        }
    }
}

/* D[d_off + i*len + oy*pw + ox] = dz[dz_off + i*oh*ow + oy*ow + ox] for the
 * nc planes i of a chunk: dz at the row pitch pw of the prepared input, 0 in
 * the columns ow..pw-1 between rows (len = (oh-1)*pw + ow: the last row stops
 * at ow). One work-item per row; every element of D is written. */
__kernel void conv_wgrad_dpad(__global const float *dz, int dz_off, __global float *D, int d_off, int nc, int oh,
                              int ow, int pw)
{
    int row = (int)get_global_id(0);
    if (row >= nc * oh)
        return;
    int i = row / oh, oy = row - i * oh;
    int len = (oh - 1) * pw + ow;
    __global const float *src = dz + dz_off + (i * oh + oy) * ow;
    __global float *dst = D + d_off + i * len + oy * pw;
    for (int ox = 0; ox < ow; ox++)
        dst[ox] = src[ox];
    if (oy + 1 < oh)
        for (int ox = ow; ox < pw; ox++)
            dst[ox] = 0.0f;
}

/* dw of one part for depthwise convs (one channel per group): channel c, tap
 * row kh, the K taps kw side by side, float8 over consecutive positions of D
 * (dz at P's row pitch, 0 between rows) against P (x zero-padded and split
 * into stride phases, as the forward prepares it): tap (kh, kw) of position
 * j reads plane ((kh % s)*nph + kw % s) at j + (kh / s)*p_row + kw / s.
 * Positions past the last whole vector are added lane by lane. One
 * work-item per (part, c, kh). */
__kernel void conv_wgrad_dw(__global const float *P, int p_off, int p_n, int p_c, int p_plane, int p_row,
                            __global const float *D, int d_off, int len, __global float *out_w, int out_off,
                            int slot_stride, int part0, int per, int nb, int c, int nph, int s)
{
    int parts = (nb + per - 1) / per;
    int idx = (int)get_global_id(0);
    if (idx >= parts * c * K)
        return;
    int rest = idx / K, kh = idx - rest * K;
    int part = rest / c, ch = rest - part * c;
    int n0 = part * per, n1 = min(n0 + per, nb);
    int qh = kh / s, ph = kh - qh * s;
    int off[K];
#pragma unroll
    for (int kw = 0; kw < K; kw++) {
        int qw = kw / s, pw = kw - qw * s;
        off[kw] = (ph * nph + pw) * p_plane + qh * p_row + qw;
    }
    float8 acc[K];
    float tail[K];
#pragma unroll
    for (int kw = 0; kw < K; kw++) {
        acc[kw] = (float8)(0.0f);
        tail[kw] = 0.0f;
    }
    int vec = len / 8;
    for (int n = n0; n < n1; n++) {
        __global const float *dp = D + d_off + (n * c + ch) * len;
        __global const float *pp = P + p_off + n * p_n + ch * p_c;
        for (int q = 0; q < vec; q++) {
            float8 dv = vload8(q, dp);
#pragma unroll
            for (int kw = 0; kw < K; kw++)
                acc[kw] = fma(vload8(0, pp + off[kw] + 8 * q), dv, acc[kw]);
        }
        for (int j = vec * 8; j < len; j++) {
            float dv = dp[j];
#pragma unroll
            for (int kw = 0; kw < K; kw++)
                tail[kw] = fma(pp[off[kw] + j], dv, tail[kw]);
        }
    }
    __global float *o = out_w + out_off + (part0 + part) * slot_stride + (ch * K + kh) * K;
#pragma unroll
    for (int kw = 0; kw < K; kw++)
        o[kw] = lanes_sum(acc[kw]) + tail[kw];
}

/* db of every part of the batch: out_b[out_off + part*slot_stride + co] = sum
 * over the part's images and positions of dz[n][co] (float8 lanes, then the
 * lanes and the remainder in a fixed order). One work-item per (part, co). */
__kernel void conv_wgrad_db(__global const float *dz, __global float *out_b, int out_off, int slot_stride, int per,
                            int batch, int cout, int ohow)
{
    int parts = (batch + per - 1) / per;
    int idx = (int)get_global_id(0);
    if (idx >= parts * cout)
        return;
    int part = idx / cout, co = idx - part * cout;
    int n0 = part * per, n1 = min(n0 + per, batch);
    float8 acc = (float8)(0.0f);
    float tail = 0.0f;
    int vec = ohow / 8;
    for (int n = n0; n < n1; n++) {
        __global const float *p = dz + (n * cout + co) * ohow;
        for (int q = 0; q < vec; q++)
            acc += vload8(q, p);
        for (int j = vec * 8; j < ohow; j++)
            tail += p[j];
    }
    out_b[out_off + part * slot_stride + co] = lanes_sum(acc) + tail;
}

/* dw[i] (i < nw) and db[i - nw] (i < nw + nb_c, db not NULL) = sum of the
 * parts' slots in slot order. One work-item per element. */
__kernel void conv_wgrad_reduce(__global const float *ws, int part_at, int slot_stride, int parts,
                                __global float *dw, __global float *db, int nw, int nb_c)
{
    int i = (int)get_global_id(0);
    if (i >= nw + (db ? nb_c : 0))
        return;
    __global const float *src = ws + part_at + i;
    float s = 0.0f;
    for (int p = 0; p < parts; p++)
        s += src[p * slot_stride];
    if (i < nw)
        dw[i] = s;
    else
        db[i - nw] = s;
}
