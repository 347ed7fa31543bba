/* Weight gradient of the 2-D convolution (runtime/ops/conv_wgrad.c explains
 * the method):
 *
 *   dw[co][r] = sum over images n and positions j of dz[n][co][j] * col[n][r][j]
 *   db[co]    = sum over images n and positions j of dz[n][co][j]
 *
 * with r = (ci, kh, kw) and col the implicit im2col of x (read from x
 * prepared as the forward prepares it: zero-padded, split into stride phases). The batch is split
 * into parts of `per` images; every kernel sums one part in a fixed order
 * and writes its own slot (out + out_off + slot * slot_stride); conv_wgrad_reduce
 * then adds the slots in slot order. With one part the slot is dw/db itself.
 * No atomics, no accumulation across launches: every output element is
 * written exactly once per call, so two calls give identical bits.
 *
 * Compile-time parameters (-D): MT, NR (register tiles: conv_wgrad_gemm VW*MT
 * channels x NR taps, conv_wgrad_pointwise MT x NR channels, conv_wgrad_rows MT
 * channels x K taps), K (the kernel size, conv_wgrad_rows), VW (common.h: the
 * lanes of conv_wgrad_gemm's channel vectors; every lane sums its own channel
 * in the same order whatever the width). */

#ifndef MT
#define MT 2
#endif
#ifndef NR
#define NR 6
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

/* P of a chunk of nb images of x: zero-padded and split into stride phases,
 *   P[p_off + ((n*c + ch)*nph*nph + py*nph + px)*ph*pw + i*pw + j]
 *     = x[x_off + (n*c + ch)*h*w + (s*i + py - pad_t)*w + s*j + px - pad_l]
 * (0 outside x), as conv_prepare (cl/conv.cl) builds it for the forward,
 * without its zero insertion: the column range that reads x is found once
 * per row, so the copy has no per-element division or test. One work-item
 * per plane of x (its phases and rows in a loop: small planes have short rows). */
__kernel void conv_wgrad_prepare(__global const float *x, int x_off, int h, int w, __global float *P, int p_off,
                                 int nb, int c, int nph, int ph, int pw, int s, int pad_t, int pad_l)
{
    int img_ch = (int)get_global_id(0);
    if (img_ch >= nb * c)
        return;
    __global const float *xp = x + x_off + img_ch * h * w;
    __global float *dst = P + p_off + img_ch * nph * nph * ph * pw;
    for (int py = 0; py < nph; py++)
        for (int px = 0; px < nph; px++) {
            int first = pad_l - px, last = w - 1 + pad_l - px;
            int lo_x = first > 0 ? (first + s - 1) / s : 0;
            int hi_x = last < 0 ? 0 : min(pw, last / s + 1);
            if (hi_x < lo_x)
                hi_x = lo_x;
            for (int i = 0; i < ph; i++, dst += pw) {
                int iy = s * i + py - pad_t;
                int lo = 0, hi = 0; /* columns j in [lo, hi) read x: 0 <= s*j + px - pad_l <= w - 1 */
                if (iy >= 0 && iy < h) {
                    lo = lo_x;
                    hi = hi_x;
                }
                for (int j = 0; j < lo; j++)
                    dst[j] = 0.0f;
                if (hi > lo) {
                    __global const float *src = xp + iy * w + px - pad_l;
                    int j = lo;
                    if (s == 1) /* contiguous: whole vectors first */
                        for (; j + 8 <= hi; j += 8)
                            vstore8(vload8(0, src + j), 0, dst + j);
                    for (; j < hi; j++)
                        dst[j] = src[s * j];
                }
                for (int j = hi; j < pw; j++)
                    dst[j] = 0.0f;
            }
        }
}

/* dz of a chunk of nb images transposed to channels-last, per group:
 *   dzT[dt_off + (g*T + t)*cpad + c] = dz[dz_off + (n*cout + g*cout_g + c)*ohow + j]
 * with t = n*ohow + j (T = nb*ohow), 0 for c from cout_g up to the row pitch
 * cpad. One work-item per row; consecutive items read consecutive positions. */
__kernel void conv_wgrad_dzt(__global const float *dz, int dz_off, __global float *dzT, int dt_off, int nb,
                             int ohow, int cout, int groups, int cout_g, int cpad)
{
    int row = (int)get_global_id(0);
    int T = nb * ohow;
    if (row >= groups * T)
        return;
    int g = row / T, t = row - g * T;
    int n = t / ohow, j = t - n * ohow;
    __global const float *src = dz + dz_off + (n * cout + g * cout_g) * ohow + j;
    __global float *dst = dzT + dt_off + row * cpad;
    for (int c = 0; c < cout_g; c++)
        dst[c] = src[c * ohow];
    for (int c = cout_g; c < cpad; c++)
        dst[c] = 0.0f;
}

/* dw of one part, for groups with several channels: a GEMM over the part's
 * positions, MT*VW consecutive channels of dzT (VW-lane vectors) against NR
 * taps r = (ci, kh, kw) of P (scalars broadcast; P is x zero-padded and split
 * into stride phases as the forward prepares it, so tap (kh, kw) of output
 * (oy, ox) is P[ci][plane (kh % s, kw % s)][oy + kh / s][ox + kw / s], no
 * bounds checks), MT x NR vector accumulators in registers: the forward's
 * tile, transposed. Work-item idx -> (part, group, tiles), the tiles of the
 * smaller operand fastest (r_fast).
 * out_w gets dw[g*cout_g + c][r] of slot part0 + part. */
__kernel void conv_wgrad_gemm(__global const float *P, int p_off, int p_n, int p_c, int p_plane, int p_row,
                              __global const float *dzT, int dt_off, int cpad, __global float *out_w, int out_off,
                              int slot_stride, int part0, int per, int nb, int oh, int ow, int groups, int cin_g,
                              int cout_g, int k, int s, int nph, int r_fast)
{
    int nr = cin_g * k * k;
    int c_tiles = (cout_g + VW * MT - 1) / (VW * MT), r_tiles = (nr + NR - 1) / NR;
    int parts = (nb + per - 1) / per;
    int idx = (int)get_global_id(0);
    if (idx >= parts * groups * r_tiles * c_tiles)
        return;
    /* r_fast: the tap tiles vary fastest, so each channel tile's rows of dzT (the larger operand) are
     * read from memory once while the items sweep P; else the other way round */
    int fast = r_fast ? r_tiles : c_tiles, slow = r_fast ? c_tiles : r_tiles;
    int rest = idx / fast, f = idx - rest * fast;
    int rest2 = rest / slow, sl = rest - rest2 * slow;
    int ct = r_fast ? sl : f, rt = r_fast ? f : sl;
    int part = rest2 / groups, g = rest2 - part * groups;
    int n0 = part * per, n1 = min(n0 + per, nb);
    int ohow = oh * ow, T = nb * ohow;

    int off[NR]; /* taps past nr read the last one, never stored */
#pragma unroll
    for (int i = 0; i < NR; i++) {
        int r = min(rt * NR + i, nr - 1);
        int ci = r / (k * k), khw = r - ci * k * k;
        int kh = khw / k, kw = khw - kh * k;
        int qh = kh / s, qw = kw / s;
        off[i] = (g * cin_g + ci) * p_c + ((kh - qh * s) * nph + kw - qw * s) * p_plane + qh * p_row + qw;
    }
    floatv acc[MT][NR];
#pragma unroll
    for (int m = 0; m < MT; m++)
#pragma unroll
        for (int i = 0; i < NR; i++)
            acc[m][i] = (floatv)(0.0f);

    for (int n = n0; n < n1; n++) {
        __global const float *pn = P + p_off + n * p_n;
        __global const float *dn = dzT + dt_off + (g * T + n * ohow) * cpad + ct * VW * MT;
        for (int oy = 0; oy < oh; oy++) {
            __global const float *prow = pn + oy * p_row;
            for (int ox = 0; ox < ow; ox++) {
                floatv dv[MT];
#pragma unroll
                for (int m = 0; m < MT; m++)
                    dv[m] = vloadv(m, dn);
                dn += cpad;
#pragma unroll
                for (int i = 0; i < NR; i++) {
                    floatv pv = (floatv)(prow[off[i] + ox]);
#pragma unroll
                    for (int m = 0; m < MT; m++)
                        acc[m][i] = fma(dv[m], pv, acc[m][i]);
                }
            }
        }
    }

    /* dw[c][r]: the NR taps of a channel are consecutive; whole tiles store without tests */
    __global float *o = out_w + out_off + (part0 + part) * slot_stride + g * cout_g * nr + rt * NR;
    int whole_r = rt * NR + NR <= nr;
#pragma unroll
    for (int m = 0; m < MT; m++) {
        int c0 = ct * VW * MT + VW * m;
        float lane[NR][VW];
#pragma unroll
        for (int i = 0; i < NR; i++)
            vstorev(acc[m][i], 0, lane[i]);
        if (whole_r && c0 + VW <= cout_g) {
#pragma unroll
            for (int l = 0; l < VW; l++)
#pragma unroll
                for (int i = 0; i < NR; i++)
                    o[(c0 + l) * nr + i] = lane[i][l];
        } else {
            for (int l = 0; l < VW; l++)
                for (int i = 0; i < NR; i++)
                    if (c0 + l < cout_g && rt * NR + i < nr)
                        o[(c0 + l) * nr + i] = lane[i][l];
        }
    }
}

/* dw of one part for unpadded stride-1 1x1 convs on planes of 8 positions or
 * more: dw[co][ci] = sum over positions of dz[n][co][j] * x[n][ci][j], both
 * read where they are (no copy: a transpose of dz would move more data than
 * the GEMM's arithmetic), float8 over consecutive positions, MT x NR
 * accumulators, the lanes summed at the end in a fixed order. A plane's last
 * positions are one vector ending at its end, dz's lanes counted before
 * masked to 0. Work-item idx -> (part, group, channel tiles). */
__kernel void conv_wgrad_pointwise(__global const float *x, __global const float *dz, __global float *out_w,
                                   int out_off, int slot_stride, int per, int batch, int ohow, int cin, int cout,
                                   int groups, int cin_g, int cout_g)
{
    int c_tiles = (cout_g + MT - 1) / MT, r_tiles = (cin_g + NR - 1) / NR;
    int parts = (batch + per - 1) / per;
    int idx = (int)get_global_id(0);
    if (idx >= parts * groups * r_tiles * c_tiles)
        return;
    /* the tiles of the smaller operand vary fastest: the larger one is read from memory once */
    int fast = cout_g >= cin_g ? r_tiles : c_tiles, slow = cout_g >= cin_g ? c_tiles : r_tiles;
    int rest = idx / fast, f = idx - rest * fast;
    int rest2 = rest / slow, sl = rest - rest2 * slow;
    int ct = cout_g >= cin_g ? sl : f, rt = cout_g >= cin_g ? f : sl;
    int part = rest2 / groups, g = rest2 - part * groups;
    int n0 = part * per, n1 = min(n0 + per, batch);
    int co[MT], ci[NR]; /* past the group: the last channel again, never stored */
#pragma unroll
    for (int m = 0; m < MT; m++)
        co[m] = g * cout_g + min(ct * MT + m, cout_g - 1);
#pragma unroll
    for (int i = 0; i < NR; i++)
        ci[i] = g * cin_g + min(rt * NR + i, cin_g - 1);
    float8 acc[MT][NR];
#pragma unroll
    for (int m = 0; m < MT; m++)
#pragma unroll
        for (int i = 0; i < NR; i++)
            acc[m][i] = (float8)(0.0f);
    int vec = ohow / 8, rem = ohow - vec * 8;
    int8 late = (int8)(0, 1, 2, 3, 4, 5, 6, 7) >= (int8)(8 - rem); /* lanes of the last vector not yet counted */
    for (int n = n0; n < n1; n++) {
        __global const float *dn = dz + n * cout * ohow;
        __global const float *xn = x + n * cin * ohow;
        for (int q = 0; q <= vec; q++) {
            if (q == vec && rem == 0)
                break;
            int j = q < vec ? 8 * q : ohow - 8;
            float8 dv[MT];
#pragma unroll
            for (int m = 0; m < MT; m++) {
                dv[m] = vload8(0, dn + co[m] * ohow + j);
                if (q == vec)
                    dv[m] = select((float8)(0.0f), dv[m], late);
            }
#pragma unroll
            for (int i = 0; i < NR; i++) {
                float8 xv = vload8(0, xn + ci[i] * ohow + j);
#pragma unroll
                for (int m = 0; m < MT; m++)
                    acc[m][i] = fma(dv[m], xv, acc[m][i]);
            }
        }
    }
    __global float *o = out_w + out_off + part * slot_stride;
#pragma unroll
    for (int m = 0; m < MT; m++)
#pragma unroll
        for (int i = 0; i < NR; i++)
            if (ct * MT + m < cout_g && rt * NR + i < cin_g)
                o[(g * cout_g + ct * MT + m) * cin_g + rt * NR + i] = lanes_sum(acc[m][i]);
}

/* D[d_off + i*len + oy*pw + ox] = dz[dz_off + i*oh*ow + oy*ow + ox] for the
 * nc planes i of a chunk: dz at the row pitch pw of the prepared input, 0 in
 * the columns ow..pw-1 between rows (len = (oh-1)*pw + ow: the last row stops
 * at ow). One work-item per plane; every element of D is written. */
__kernel void conv_wgrad_dpad(__global const float *dz, int dz_off, __global float *D, int d_off, int nc, int oh,
                              int ow, int pw)
{
    int i = (int)get_global_id(0);
    if (i >= nc)
        return;
    int len = (oh - 1) * pw + ow;
    for (int oy = 0; oy < oh; oy++) {
        __global const float *src = dz + dz_off + (i * oh + oy) * ow;
        __global float *dst = D + d_off + i * len + oy * pw;
        int ox = 0;
        for (; ox + 8 <= ow; ox += 8)
            vstore8(vload8(0, src + ox), 0, dst + ox);
        for (; ox < ow; ox++)
            dst[ox] = src[ox];
        if (oy + 1 < oh)
            for (ox = ow; ox < pw; ox++)
                dst[ox] = 0.0f;
    }
}

/* dw of one part for depthwise convs and convs with few input channels per
 * group (the stems), where the taps are too few for conv_wgrad_gemm's tile:
 * MT output channels of a group and tap row kh of input channel ci, the K
 * taps kw side by side, float8 over consecutive positions of D (dz at P's
 * row pitch, 0 between rows) against P (x zero-padded and split into stride
 * phases): tap (kh, kw) of position j reads plane ((kh % s)*nph + kw % s) at
 * j + (kh / s)*p_row + kw / s. Positions past the last whole vector are added
 * lane by lane. Work-item idx -> (part, group, ci, kh, channel tile), the
 * channel tile fastest (those items read the same rows of P). */
__kernel void conv_wgrad_rows(__global const float *P, int p_off, int p_n, int p_c, int p_plane, int p_row,
                              __global const float *D, int d_off, int len, __global float *out_w, int out_off,
                              int slot_stride, int part0, int per, int nb, int cout, int groups, int cin_g,
                              int cout_g, int nph, int s)
{
    int c_tiles = (cout_g + MT - 1) / MT;
    int parts = (nb + per - 1) / per;
    int idx = (int)get_global_id(0);
    if (idx >= parts * groups * cin_g * K * c_tiles)
        return;
    int rest = idx / c_tiles, ct = idx - rest * c_tiles;
    int rest2 = rest / K, kh = rest - rest2 * K;
    int rest3 = rest2 / cin_g, ci = rest2 - rest3 * cin_g;
    int part = rest3 / groups, g = rest3 - part * groups;
    int n0 = part * per, n1 = min(n0 + per, nb);
    int qh = kh / s, ph = kh - qh * s;
    int off[K];
#pragma unroll
    for (int kw = 0; kw < K; kw++) {
        int qw = kw / s, pw = kw - qw * s;
        off[kw] = (g * cin_g + ci) * p_c + (ph * nph + pw) * p_plane + qh * p_row + qw;
    }
    int co[MT]; /* past the group: the last channel again, never stored */
#pragma unroll
    for (int m = 0; m < MT; m++)
        co[m] = g * cout_g + min(ct * MT + m, cout_g - 1);
    float8 acc[MT][K];
    float tail[MT][K];
#pragma unroll
    for (int m = 0; m < MT; m++)
#pragma unroll
        for (int kw = 0; kw < K; kw++) {
            acc[m][kw] = (float8)(0.0f);
            tail[m][kw] = 0.0f;
        }
    int vec = len / 8;
    for (int n = n0; n < n1; n++) {
        __global const float *dn = D + d_off + n * cout * len;
        __global const float *pp = P + p_off + n * p_n;
        for (int q = 0; q < vec; q++) {
            float8 dv[MT];
#pragma unroll
            for (int m = 0; m < MT; m++)
                dv[m] = vload8(q, dn + co[m] * len);
#pragma unroll
            for (int kw = 0; kw < K; kw++) {
                float8 pv = vload8(0, pp + off[kw] + 8 * q);
#pragma unroll
                for (int m = 0; m < MT; m++)
                    acc[m][kw] = fma(pv, dv[m], acc[m][kw]);
            }
        }
        for (int j = vec * 8; j < len; j++)
#pragma unroll
            for (int m = 0; m < MT; m++) {
                float dv = dn[co[m] * len + j];
#pragma unroll
                for (int kw = 0; kw < K; kw++)
                    tail[m][kw] = fma(pp[off[kw] + j], dv, tail[m][kw]);
            }
    }
    int nr = cin_g * K * K;
    __global float *o = out_w + out_off + (part0 + part) * slot_stride + (ci * K + kh) * K;
#pragma unroll
    for (int m = 0; m < MT; m++)
        if (ct * MT + m < cout_g)
#pragma unroll
            for (int kw = 0; kw < K; kw++)
                o[co[m] * nr + kw] = lanes_sum(acc[m][kw]) + tail[m][kw];
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
