/* 2-D convolution, forward and backward-to-input, as one "tiled correlation"
 * over a prepared input P and packed weights Wp (runtime/conv.c explains the
 * geometry):
 *
 *   out[n][g*ocg + oc][y_off + oy*y_row + ox*osx]
 *     = sum over r < rc, taps (a, b) < (KY, KX) of
 *       P[n][g*rc + r][plane (a % SS, b % SS)][oy + a / SS + roff][ox + b / SS + coff]
 *       * Wp[g][oc / MT][r][a*KX + b][oc % MT]
 *
 * Forward: P is the zero-padded input split into stride phases (plane
 * (py, px) holds padded rows py, py+S, ... and columns px, px+S, ...), taps
 * are (kh, kw) with SS = S, so every tap reads consecutive output columns from
 * consecutive memory. Backward-to-input: one launch per stride phase of dx,
 * over a zero-padded dy, with that phase's taps of the flipped kernel and
 * SS = 1 (a gather: each dx element sums its own contributions).
 *
 * Weights are packed per call (conv_pack) in exactly the order the kernel
 * reads them: one sequential stream, the MT weights of a tap side by side.
 *
 * Compile-time parameters (-D) of conv_tile, the CPU variant:
 *   MT, TC      register tile: output channels x 8*TC consecutive positions
 *   LS          work-group size (1-D)
 *   NPH         planes per dimension in P
 *   KY, KX, SS  taps and their plane split (see above)
 * No __local memory and no barriers: each work-item keeps MT x TR*TC float8
 * accumulators in registers and PoCL emits dense 256-bit FMAs from the
 * explicit vectors; the tap loops unroll completely.
 *
 * conv_tile_gpu, the GPU variant, takes the same arguments (tap geometry at
 * run time) and is a classic __local-tiled implicit GEMM. */

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

/* act: 0 none, 1 relu, 2 relu6 (written so that NaN propagates). */
inline float conv_act(float v, int act)
{
    if (act == 1)
        return v < 0.0f ? 0.0f : v;
    if (act == 2)
        return v < 0.0f ? 0.0f : (v > 6.0f ? 6.0f : v);
    return v;
}

/* Arguments shared by both variants:
 *   p_off, p_n, p_c, p_plane, p_row   prepared input: offset and strides
 *   wp_off                            packed weights: offset
 *   bias                              per output channel, or NULL
 *   y_off, y_n, y_c, y_row, osx       output offset and strides (y_row between
 *                                     grid rows, osx between grid columns)
 *   act                               fused activation (forward only)
 *   n_img, groups, rc, ocg            images, groups, reduction channels and
 *                                     output channels per group
 *   ohn, own                          output grid rows and columns
 *   roff, coff                        row/column of P read by tap 0 at oy = ox = 0
 *   nph, ky, kx, ss                   tap geometry (compile-time in conv_tile) */

/* The output grid of one image is walked as a flat sequence j = oy*p_row + ox
 * over P's row pitch, so every tap of 8 consecutive positions is one vector
 * load (j + a/SS*p_row + b/SS); positions with ox >= own are computed but
 * never stored. A work-item takes 8*TC consecutive positions; the last tile
 * of an image is shifted back to end at the last position (reads then stay
 * inside P) and stores only what the previous tile did not. Consecutive
 * work-items take consecutive channel tiles of one position tile, so they
 * share the input rows in cache. */
__kernel __attribute__((reqd_work_group_size(LS, 1, 1))) void
conv_tile(__global const float *P, int p_off, int p_n, int p_c, int p_plane, int p_row, __global const float *Wp,
          int wp_off, __global const float *bias, __global float *Y, int y_off, int y_n, int y_c, int y_row, int osx,
          int act, int n_img, int groups, int rc, int ocg, int ohn, int own, int roff, int coff, int nph, int ky,
          int kx, int ss)
{
    int len = (ohn - 1) * p_row + own;
    int tiles = (len + 8 * TC - 1) / (8 * TC);
    int oc_tiles = (ocg + MT - 1) / MT;
    int ch_tiles = groups * oc_tiles;
    int idx = (int)get_global_id(0);
    if (idx >= n_img * tiles * ch_tiles)
        return;
    int ct = idx % ch_tiles, pt = idx / ch_tiles;
    int g = ct / oc_tiles, oct = ct % oc_tiles;
    int n = pt / tiles;
    int j_min = (pt % tiles) * 8 * TC;
    int j0 = (j_min + 8 * TC > len && len >= 8 * TC) ? len - 8 * TC : j_min;

    __global const float *pin = P + p_off + n * p_n + g * rc * p_c + roff * p_row + coff + j0;
    __global const float *wq = Wp + wp_off + (g * oc_tiles + oct) * rc * (KY * KX * MT);

    float8 acc[MT][TC];
#pragma unroll
    for (int m = 0; m < MT; m++)
#pragma unroll
        for (int v = 0; v < TC; v++)
            acc[m][v] = (float8)(0.0f);

    for (int r = 0; r < rc; r++) {
        __global const float *pr = pin + r * p_c;
#pragma unroll
        for (int a = 0; a < KY; a++)
#pragma unroll
            for (int b = 0; b < KX; b++) {
                __global const float *tap = pr + ((a % SS) * NPH + b % SS) * p_plane + (a / SS) * p_row + b / SS;
                __global const float *wt = wq + (a * KX + b) * MT;
                /* Keep the smaller operand set in registers: TC + MT*TC + 1
                 * or MT + MT*TC + 1 live vectors (at most 16 with MT*TC <= 12). */
#if MT > TC
                float8 xv[TC];
#pragma unroll
                for (int v = 0; v < TC; v++)
                    xv[v] = vload8(v, tap);
#pragma unroll
                for (int m = 0; m < MT; m++) {
                    float8 wv = (float8)(wt[m]);
#pragma unroll
                    for (int v = 0; v < TC; v++)
                        acc[m][v] = fma(xv[v], wv, acc[m][v]);
                }
#else
                float8 wv[MT];
#pragma unroll
                for (int m = 0; m < MT; m++)
                    wv[m] = (float8)(wt[m]);
#pragma unroll
                for (int v = 0; v < TC; v++) {
                    float8 xv = vload8(v, tap);
#pragma unroll
                    for (int m = 0; m < MT; m++)
                        acc[m][v] = fma(xv, wv[m], acc[m][v]);
                }
#endif
            }
        wq += KY * KX * MT;
    }

    /* Epilogue: bias, activation, store the positions this item owns. */
    int oc0 = oct * MT;
    __global float *yn = Y + y_off + n * y_n + (g * ocg + oc0) * y_c;
#pragma unroll
    for (int v = 0; v < TC; v++) {
        int j = j0 + 8 * v;
        int oy = j / p_row, ox = j - oy * p_row;
        int off[8];
        int full = osx == 1 && j >= j_min && j + 8 <= len && ox + 8 <= own;
        for (int l = 0; l < 8; l++) {
            off[l] = (j + l >= j_min && j + l < len && ox < own) ? oy * y_row + ox * osx : -1;
            if (++ox == p_row) {
                ox = 0;
                oy++;
            }
        }
#pragma unroll
        for (int m = 0; m < MT; m++) {
            if (oc0 + m < ocg) {
                float8 s = acc[m][v] + (float8)(bias ? bias[g * ocg + oc0 + m] : 0.0f);
                if (act == 1)
                    s = select(s, (float8)(0.0f), s < (float8)(0.0f));
                else if (act == 2)
                    s = select(select(s, (float8)(0.0f), s < (float8)(0.0f)), (float8)(6.0f), s > (float8)(6.0f));
                __global float *yc = yn + m * y_c;
                if (full) {
                    vstore8(s, 0, yc + off[0]);
                } else {
                    float lane[8];
                    vstore8(s, 0, lane);
                    for (int l = 0; l < 8; l++)
                        if (off[l] >= 0)
                            yc[off[l]] = lane[l];
                }
            }
        }
    }
}

/* Zero-padded, stride-phase-split copy of a chunk of images of X (x or dy):
 *   P[n][c][py*nph + px][i][j] = X[n][c][s*i + py - pad_t][s*j + px - pad_l]
 * (0 outside X), P starting p_off floats into its buffer. One work-item per
 * row of P. */
__kernel void conv_prepare(__global const float *X, int x_off, int x_n, int x_c, int h, int w, __global float *P,
                           int p_off, int n_img, int c, int nph, int ph, int pw, int s, int pad_t, int pad_l)
{
    int row = (int)get_global_id(0);
    int planes = nph * nph;
    if (row >= n_img * c * planes * ph)
        return;
    int i = row % ph;
    int rest = row / ph;
    int plane = rest % planes;
    rest /= planes;
    int ch = rest % c;
    int n = rest / c;
    int py = plane / nph, px = plane % nph;
    __global float *dst = P + p_off + row * pw;
    int sy = s * i + py - pad_t;
    if (sy < 0 || sy >= h) {
        for (int j = 0; j < pw; j++)
            dst[j] = 0.0f;
        return;
    }
    __global const float *src = X + x_off + n * x_n + ch * x_c + sy * w;
    for (int j = 0; j < pw; j++) {
        int sx = s * j + px - pad_l;
        dst[j] = (sx >= 0 && sx < w) ? src[sx] : 0.0f;
    }
}

/* Packs weights W [cout][cin/groups][k][k] for one launch of conv_tile(_gpu):
 *   Wp[g][oc / mt][r][a*kx + b][oc % mt] = W[g*w_g + oc*w_oc + r*w_r + kh*k + kw]
 * with kh = kh0 + khs*a, kw = kw0 + kws*b (forward: a, b themselves; backward
 * phase: the flipped taps of the phase) and 0 for channels past ocg. One
 * work-item per (g, oc / mt, r). */
__kernel void conv_pack(__global const float *W, __global float *Wp, int wp_off, int groups, int ocg, int rc, int mt,
                        int ky, int kx, int kh0, int khs, int kw0, int kws, int k, int w_g, int w_oc, int w_r)
{
    int idx = (int)get_global_id(0);
    int oc_tiles = (ocg + mt - 1) / mt;
    if (idx >= groups * oc_tiles * rc)
        return;
    int r = idx % rc;
    int oct = idx / rc % oc_tiles;
    int g = idx / rc / oc_tiles;
    __global float *dst = Wp + wp_off + idx * ky * kx * mt;
    for (int a = 0; a < ky; a++)
        for (int b = 0; b < kx; b++)
            for (int m = 0; m < mt; m++) {
                int oc = oct * mt + m;
                *dst++ = oc < ocg ? W[g * w_g + oc * w_oc + r * w_r + (kh0 + khs * a) * k + kw0 + kws * b] : 0.0f;
            }
}

/* GPU variant: 16x16 work-items compute a 64-channel x 64-pixel tile (4x4
 * each), staging 16-deep slices of the packed weights (packed with mt = 64)
 * and of the implicit im2col matrix in __local memory. Pixels are flattened
 * over (image, oy, ox); the reduction index q runs over (r, a, b). */
#define GT 64
#define GL 16
#define GK 16
#define GW (GT / GL)

__kernel __attribute__((reqd_work_group_size(GL, GL, 1))) void
conv_tile_gpu(__global const float *P, int p_off, int p_n, int p_c, int p_plane, int p_row, __global const float *Wp,
              int wp_off, __global const float *bias, __global float *Y, int y_off, int y_n, int y_c, int y_row,
              int osx, int act, int n_img, int groups, int rc, int ocg, int ohn, int own, int roff, int coff, int nph,
              int ky, int kx, int ss)
{
    __local float As[GK][GT];
    __local float Bs[GK][GT];
    int lx = (int)get_local_id(0), ly = (int)get_local_id(1);
    int oc_tiles = (ocg + GT - 1) / GT;
    int g = (int)get_group_id(1) / oc_tiles;
    int oct = (int)get_group_id(1) % oc_tiles;
    int plane_px = ohn * own;
    int npix = n_img * plane_px;
    int pix_base = (int)get_group_id(0) * GT;
    int taps = ky * kx;
    int kq = rc * taps;
    __global const float *wq = Wp + wp_off + (g * oc_tiles + oct) * kq * GT;

    int poff[GW];
#pragma unroll
    for (int j = 0; j < GW; j++) {
        int p = pix_base + lx + GL * j;
        int pc = p < npix ? p : 0;
        int n = pc / plane_px, rem = pc % plane_px;
        poff[j] = p_off + n * p_n + g * rc * p_c + (rem / own + roff) * p_row + rem % own + coff;
    }
    float acc[GW][GW];
#pragma unroll
    for (int i = 0; i < GW; i++)
#pragma unroll
        for (int j = 0; j < GW; j++)
            acc[i][j] = 0.0f;

    for (int q0 = 0; q0 < kq; q0 += GK) {
        int q = q0 + ly;
        int qc = q < kq ? q : 0;
        int r = qc / taps, ab = qc % taps, a = ab / kx, b = ab % kx;
        int qoff = r * p_c + ((a % ss) * nph + b % ss) * p_plane + (a / ss) * p_row + b / ss;
#pragma unroll
        for (int j = 0; j < GW; j++) {
            int p = pix_base + lx + GL * j;
            Bs[ly][lx + GL * j] = (q < kq && p < npix) ? P[poff[j] + qoff] : 0.0f;
        }
#pragma unroll
        for (int i = 0; i < GW; i++)
            As[ly][lx + GL * i] = q < kq ? wq[q * GT + lx + GL * i] : 0.0f;
        barrier(CLK_LOCAL_MEM_FENCE);
#pragma unroll
        for (int kk = 0; kk < GK; kk++) {
            float av[GW], bv[GW];
#pragma unroll
            for (int i = 0; i < GW; i++)
                av[i] = As[kk][ly + GL * i];
#pragma unroll
            for (int j = 0; j < GW; j++)
                bv[j] = Bs[kk][lx + GL * j];
#pragma unroll
            for (int i = 0; i < GW; i++)
#pragma unroll
                for (int j = 0; j < GW; j++)
                    acc[i][j] = fma(av[i], bv[j], acc[i][j]);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }

#pragma unroll
    for (int i = 0; i < GW; i++) {
        int oc = oct * GT + ly + GL * i;
        if (oc >= ocg)
            continue;
        int ch = g * ocg + oc;
        float bv = bias ? bias[ch] : 0.0f;
#pragma unroll
        for (int j = 0; j < GW; j++) {
            int p = pix_base + lx + GL * j;
            if (p >= npix)
                continue;
            int n = p / plane_px, rem = p % plane_px;
            Y[y_off + n * y_n + ch * y_c + (rem / own) * y_row + (rem % own) * osx] = conv_act(acc[i][j] + bv, act);
        }
    }
}
