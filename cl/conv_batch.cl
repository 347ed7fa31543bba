/* The tiled correlation of cl/conv.cl with images, not positions, in the
 * vector lanes: for the small planes of small inputs (a 64-pixel ResNet ends
 * on 2x2 planes), where conv_tile's runs of VW*TC consecutive positions are
 * mostly padding columns and tile overlap. Same sum in the same order for
 * every output element (r, then taps (a, b)), so results equal conv_tile's
 * bit for bit.
 *
 * P is the prepared input with VW images interleaved (conv_prepare_batch):
 *   P[group of VW images][c][plane][row][column][lane]
 * and every stride argument is in floats (the host multiplies conv_prep's
 * position strides by VW). A work-item computes MT output channels x TC
 * output positions (any positions of the grid: each has its own offset) x VW
 * images, reading one aligned vector per position and tap.
 *
 * Compile-time parameters: MT, TC, LS, NPH, KY, KX, SS, TAP_GUARD as in
 * conv.cl, and VW (common.h) the lanes. */

#ifndef MT
#define MT 6
#endif
#ifndef TC
#define TC 2
#endif
#ifndef LS
#define LS 16
#endif
#ifndef NPH
#define NPH 1
#endif
#ifndef KY
#define KY 3
#endif
#ifndef KX
#define KX 3
#endif
#ifndef SS
#define SS 1
#endif
#ifndef TAP_GUARD
#define TAP_GUARD 0
#endif

/* Arguments as conv_tile's (cl/conv.cl), but p_off, p_n (one group of VW
 * images), p_c, p_plane and p_row count floats. Work-items: output channel
 * tiles fastest (they share the input vectors), then position tiles, image
 * groups and channel groups. */
__kernel __attribute__((reqd_work_group_size(LS, 1, 1))) void
conv_tile_batch(__global const float *P, int p_off, int p_n, int p_c, int p_plane, int p_row,
                __global const float *Wp, int wp_off, __global const float *bias, __global float *Y, int y_off,
                int y_n, int y_c, int y_row, int osx, int act, int n_img, int groups, int rc, int ocg, int ohn,
                int own, int roff, int coff, int nph, int ky, int kx, int ss)
{
    int npos = ohn * own;
    int tiles = (npos + TC - 1) / TC;
    int oc_tiles = (ocg + MT - 1) / MT;
    int n_groups = (n_img + VW - 1) / VW;
    int idx = (int)get_global_id(0);
    if (idx >= groups * n_groups * tiles * oc_tiles)
        return;
    int rest = idx / oc_tiles, oct = idx - rest * oc_tiles;
    int plane = rest / tiles, tile = rest - plane * tiles;
    int g = plane / n_groups, ig = plane - g * n_groups;

    /* Offsets of the tile's positions (past the grid: the last position again, not stored). */
    int at[TC];
#pragma unroll
    for (int v = 0; v < TC; v++) {
        int q = min(tile * TC + v, npos - 1);
        int oy = q / own, ox = q - oy * own;
        at[v] = (oy + roff) * p_row + (ox + coff) * VW;
    }
    __global const float *pin = P + p_off + ig * p_n + g * rc * p_c;
    __global const float *wq = Wp + wp_off + (g * oc_tiles + oct) * rc * (KY * KX * MT);

    floatv acc[MT][TC];
#pragma unroll
    for (int m = 0; m < MT; m++)
#pragma unroll
        for (int v = 0; v < TC; v++)
            acc[m][v] = (floatv)(0.0f);

    for (int r = 0; r < rc; r++) {
        __global const float *pr = pin + r * p_c;
#if KY * KX <= 16
#pragma unroll
#else
#pragma unroll 1
#endif
        for (int a = 0; a < KY; a++)
#pragma unroll
            for (int b = 0; b < KX; b++) {
#if TAP_GUARD
                if (a >= ky || b >= kx)
                    continue;
#endif
                __global const float *tap =
                    pr + ((a % SS) * NPH + b % SS) * p_plane + (a / SS) * p_row + (b / SS) * VW;
                __global const float *wt = wq + (a * KX + b) * MT;
#if MT > TC
                floatv xv[TC];
#pragma unroll
                for (int v = 0; v < TC; v++)
                    xv[v] = vloadv(0, tap + at[v]);
#pragma unroll
                for (int m = 0; m < MT; m++) {
                    floatv wv = (floatv)(wt[m]);
#pragma unroll
                    for (int v = 0; v < TC; v++)
                        acc[m][v] = fma(xv[v], wv, acc[m][v]);
                }
#else
                floatv wv[MT];
#pragma unroll
                for (int m = 0; m < MT; m++)
                    wv[m] = (floatv)(wt[m]);
#pragma unroll
                for (int v = 0; v < TC; v++) {
                    floatv xv = vloadv(0, tap + at[v]);
#pragma unroll
                    for (int m = 0; m < MT; m++)
                        acc[m][v] = fma(xv, wv[m], acc[m][v]);
                }
#endif
            }
        wq += KY * KX * MT;
    }

    /* Epilogue: bias and activation, then each lane to its own image. */
    int oc0 = oct * MT, n0 = ig * VW;
    int lanes = min(VW, n_img - n0);
    __global float *yg = Y + y_off + n0 * y_n + (g * ocg + oc0) * y_c;
#pragma unroll
    for (int v = 0; v < TC; v++) {
        int q = tile * TC + v;
        if (q >= npos)
            continue;
        int oy = q / own, ox = q - oy * own;
        __global float *yp = yg + oy * y_row + ox * osx;
#pragma unroll
        for (int m = 0; m < MT; m++) {
            if (oc0 + m >= ocg)
                continue;
            float lane[VW];
            float bv = bias ? bias[g * ocg + oc0 + m] : 0.0f;
            vstorev(act_apply_v(acc[m][v] + (floatv)(bv), act), 0, lane);
            for (int l = 0; l < lanes; l++)
                yp[m * y_c + l * y_n] = lane[l];
        }
    }
}

/* conv_prepare of cl/conv.cl into the interleaved layout: images n_img of X
 * (from x_off) zero-padded, split into stride phases or zero-inserted, lane l
 * of each position holding image l of its group (0 past n_img):
 *   P[n / VW][c][py*nph + px][i][j][n % VW] = X[n][c][Y][Xc]
 * One work-item per row of P (all VW lanes). */
__kernel void conv_prepare_batch(__global const float *X, int x_off, int x_n, int x_c, int h, int w,
                                 __global float *P, int p_off, int n_img, int c, int nph, int ph, int pw, int s,
                                 int up, int pad_t, int pad_l)
{
    int row = (int)get_global_id(0);
    int planes = nph * nph;
    int n_groups = (n_img + VW - 1) / VW;
    if (row >= n_groups * c * planes * ph)
        return;
    int rest = row / ph, i = row - rest * ph;
    int rest2 = rest / planes, plane = rest - rest2 * planes;
    int ig = rest2 / c, ch = rest2 - ig * c;
    int py = plane / nph, px = plane - py * nph;
    __global float *dst = P + p_off + row * pw * VW;
    int uy = s * i + py - pad_t, sy = uy / up;
    int row_in = uy >= 0 && sy * up == uy && sy < h;
    for (int l = 0; l < VW; l++) {
        int n = ig * VW + l;
        __global const float *src = X + x_off + n * x_n + ch * x_c + sy * w;
        for (int j = 0; j < pw; j++) {
            int ux = s * j + px - pad_l, sx = ux / up;
            dst[j * VW + l] = (n < n_img && row_in && ux >= 0 && sx * up == ux && sx < w) ? src[sx] : 0.0f;
        }
    }
}
