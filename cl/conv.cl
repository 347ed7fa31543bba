/* 2-D convolution, forward and backward-to-input, as one "tiled correlation"
 * over a prepared input P and packed weights Wp (runtime/ops/conv.c explains the
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
 * SS = 1 (a gather: each dx element sums its own contributions); strided
 * depthwise convs instead correlate a zero-inserted dy (conv_prepare, up > 1),
 * and convs with few input channels go through G = W^T dy and conv_col2im.
 *
 * Weights are packed per call (conv_pack) in exactly the order the kernel
 * reads them: one sequential stream, the MT weights of a tap side by side.
 *
 * Compile-time parameters (-D) of conv_tile, the CPU variant:
 *   MT, TC      register tile: output channels x VW*TC consecutive positions
 *   VW          lanes of the vectors (common.h): the device's preferred float
 *               width, 8 (AVX2) or 16 (AVX-512)
 *   LS          work-group size (1-D)
 *   NPH         planes per dimension in P
 *   KY, KX, SS  taps and their plane split (see above)
 *   TAP_GUARD   1: KY x KX are slots, only the first ky x kx (arguments) are
 *               taps (the stride phases of a backward share one build)
 * No __local memory and no barriers: each work-item keeps MT x TC float8
 * accumulators in registers and PoCL emits dense 256-bit FMAs (fma(), not
 * mad(), which PoCL leaves as a separate multiply and add) from the explicit
 * vectors; the tap loops unroll.
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
#ifndef TAP_GUARD
#define TAP_GUARD 0
#endif

/* Remainders are written as a - (a / b) * b throughout: a / and % pair
 * becomes a "freeze" instruction that oclgrind cannot interpret. */

/* Arguments shared by both variants:
 *   p_off, p_n, p_c, p_plane, p_row   prepared input: offset and strides
 *   wp_off                            packed weights: offset
 *   bias                              per output channel, or NULL
 *   y_off, y_n, y_c, y_row, osx       output offset and strides (y_row between
 *                                     grid rows, osx between grid columns)
 *   act                               fused activation (forward only; an
 *                                     ACT_ code of common.h)
 *   n_img, groups, rc, ocg            images, groups, reduction channels and
 *                                     output channels per group
 *   ohn, own                          output grid rows and columns
 *   roff, coff                        row/column of P read by tap 0 at oy = ox = 0
 *   nph, ky, kx, ss                   tap geometry (compile-time in conv_tile) */

/* The output grid of one image is walked as a flat sequence j = oy*p_row + ox
 * over P's row pitch, so every tap of VW consecutive positions is one vector
 * load (j + a/SS*p_row + b/SS); positions with ox >= own are computed but
 * never stored. A work-item takes VW*TC consecutive positions; the last tile
 * of an image is shifted back to end at the last position (reads then stay
 * inside P) and stores only what the previous tile did not. Consecutive
 * work-items take the channel tiles of one position tile (they share the
 * input rows in cache), then the next position tile of the same image and
 * group (so one-channel groups stream through their planes). */
__kernel __attribute__((reqd_work_group_size(LS, 1, 1))) void
conv_tile(__global const float *P, int p_off, int p_n, int p_c, int p_plane, int p_row, __global const float *Wp,
          int wp_off, __global const float *bias, __global float *Y, int y_off, int y_n, int y_c, int y_row, int osx,
          int act, int n_img, int groups, int rc, int ocg, int ohn, int own, int roff, int coff, int nph, int ky,
          int kx, int ss)
{
    int len = (ohn - 1) * p_row + own;
    int tiles = (len + VW * TC - 1) / (VW * TC);
    int oc_tiles = (ocg + MT - 1) / MT;
    int idx = (int)get_global_id(0);
    if (idx >= groups * n_img * tiles * oc_tiles)
        return;
    int rest = idx / oc_tiles, oct = idx - rest * oc_tiles;
    int plane = rest / tiles, tile = rest - plane * tiles;
    int g = plane / n_img, n = plane - g * n_img;
    int j_min = tile * VW * TC;
    int j0 = (j_min + VW * TC > len && len >= VW * TC) ? len - VW * TC : j_min;

    __global const float *pin = P + p_off + n * p_n + g * rc * p_c + roff * p_row + coff + j0;
    __global const float *wq = Wp + wp_off + (g * oc_tiles + oct) * rc * (KY * KX * MT);

    floatv acc[MT][TC];
#pragma unroll
    for (int m = 0; m < MT; m++)
#pragma unroll
        for (int v = 0; v < TC; v++)
            acc[m][v] = (floatv)(0.0f);

    for (int r = 0; r < rc; r++) {
        __global const float *pr = pin + r * p_c;
        /* Large kernels unroll one tap row at a time: fully unrolled, LLVM
         * schedules loads far ahead and spills them (7x7: 3x slower). */
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
                __global const float *tap = pr + ((a % SS) * NPH + b % SS) * p_plane + (a / SS) * p_row + b / SS;
                __global const float *wt = wq + (a * KX + b) * MT;
                /* Keep the smaller operand set in registers: TC + MT*TC + 1
                 * or MT + MT*TC + 1 live vectors (at most 16 with MT*TC <= 12). */
#if MT > TC
                floatv xv[TC];
#pragma unroll
                for (int v = 0; v < TC; v++)
                    xv[v] = vloadv(v, tap);
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
                    floatv xv = vloadv(v, tap);
#pragma unroll
                    for (int m = 0; m < MT; m++)
                        acc[m][v] = fma(xv, wv[m], acc[m][v]);
                }
#endif
            }
        wq += KY * KX * MT;
    }

    /* Epilogue: bias, activation, store the positions this item owns: whole
     * vectors where 8 positions lie in one output row, lane by lane at row
     * ends, tile overlaps and strided (osx > 1) outputs. */
    int oc0 = oct * MT;
    __global float *yn = Y + y_off + n * y_n + (g * ocg + oc0) * y_c;
    float bv[MT];
#pragma unroll
    for (int m = 0; m < MT; m++)
        bv[m] = (bias && oc0 + m < ocg) ? bias[g * ocg + oc0 + m] : 0.0f;
    int oy = j0 / p_row, ox = j0 - oy * p_row;
#pragma unroll
    for (int v = 0; v < TC; v++) {
        int j = j0 + VW * v;
        if (osx == 1 && j >= j_min && j + VW <= len && ox + VW <= own) {
            __global float *yv = yn + oy * y_row + ox;
#pragma unroll
            for (int m = 0; m < MT; m++)
                if (oc0 + m < ocg)
                    vstorev(act_apply_v(acc[m][v] + (floatv)(bv[m]), act), 0, yv + m * y_c);
        } else {
            int off[VW];
            for (int l = 0, ly = oy, lx = ox; l < VW; l++) {
                off[l] = (j + l >= j_min && j + l < len && lx < own) ? ly * y_row + lx * osx : -1;
                if (++lx == p_row) {
                    lx = 0;
                    ly++;
                }
            }
#pragma unroll
            for (int m = 0; m < MT; m++) {
                if (oc0 + m < ocg) {
                    float lane[VW];
                    vstorev(act_apply_v(acc[m][v] + (floatv)(bv[m]), act), 0, lane);
                    for (int l = 0; l < VW; l++)
                        if (off[l] >= 0)
                            yn[m * y_c + off[l]] = lane[l];
                }
            }
        }
        ox += VW;
        while (ox >= p_row) {
            ox -= p_row;
            oy++;
        }
    }
}

/* Zero-padded copy of a chunk of images of X (x or dy), split into stride
 * phases (s > 1, forward) or with up-1 zeros inserted between elements
 * (up > 1, backward of a depthwise conv):
 *   P[n][c][py*nph + px][i][j] = X[n][c][Y][Xc], Y = (s*i + py - pad_t) / up
 * (likewise Xc), 0 outside X or where up does not divide; P starts p_off
 * floats into its buffer. One work-item per row of P. */
__kernel void conv_prepare(__global const float *X, int x_off, int x_n, int x_c, int h, int w, __global float *P,
                           int p_off, int n_img, int c, int nph, int ph, int pw, int s, int up, int pad_t, int pad_l)
{
    int row = (int)get_global_id(0);
    int planes = nph * nph;
    if (row >= n_img * c * planes * ph)
        return;
    int rest = row / ph, i = row - rest * ph;
    int rest2 = rest / planes, plane = rest - rest2 * planes;
    int n = rest2 / c, ch = rest2 - n * c;
    int py = plane / nph, px = plane - py * nph;
    __global float *dst = P + p_off + row * pw;
    int uy = s * i + py - pad_t, sy = uy / up;
    if (uy < 0 || sy * up != uy || sy >= h) {
        for (int j = 0; j < pw; j++)
            dst[j] = 0.0f;
        return;
    }
    __global const float *src = X + x_off + n * x_n + ch * x_c + sy * w;
    if (up == 1) { /* the common case without a division per element */
        for (int j = 0, ux = px - pad_l; j < pw; j++, ux += s)
            dst[j] = (ux >= 0 && ux < w) ? src[ux] : 0.0f;
        return;
    }
    for (int j = 0; j < pw; j++) {
        int ux = s * j + px - pad_l, sx = ux / up;
        dst[j] = (ux >= 0 && sx * up == ux && sx < w) ? src[sx] : 0.0f;
    }
}

/* Packs weights W [cout][cin/groups][k][k] for one launch of conv_tile(_gpu):
 *   Wp[g][oc / mt][r][a*sx + b][oc % mt] = W[g*w_g + oc*w_oc + r*w_r + kh*k + kw]
 * for the ky x kx taps (a, b) in sy x sx slots, with kh = kh0 + khs*a,
 * kw = kw0 + kws*b (forward: a, b themselves; backward phase: the flipped
 * taps of the phase), and 0 in empty slots and for channels past ocg. One
 * work-item per (g, oc / mt, r). */
__kernel void conv_pack(__global const float *W, __global float *Wp, int wp_off, int groups, int ocg, int rc, int mt,
                        int ky, int kx, int sy, int sx, int kh0, int khs, int kw0, int kws, int k, int w_g, int w_oc,
                        int w_r)
{
    int idx = (int)get_global_id(0);
    int oc_tiles = (ocg + mt - 1) / mt;
    if (idx >= groups * oc_tiles * rc)
        return;
    int rest = idx / rc, r = idx - rest * rc;
    int g = rest / oc_tiles, oct = rest - g * oc_tiles;
    __global float *dst = Wp + wp_off + idx * sy * sx * mt;
    for (int a = 0; a < sy; a++)
        for (int b = 0; b < sx; b++)
            for (int m = 0; m < mt; m++) {
                int oc = oct * mt + m;
                *dst++ = (oc < ocg && a < ky && b < kx)
                             ? W[g * w_g + oc * w_oc + r * w_r + (kh0 + khs * a) * k + kw0 + kws * b]
                             : 0.0f;
            }
}

/* Gathers dx from G[n][c*k*k + kh*k + kw][oy][ox] (G = W^T dy): dx[n][c][ih][iw]
 * sums, in (kh, kw) order, the entries with ih = s*oy + kh - pad_t and
 * iw = s*ox + kw - pad_l. One work-item per dx row, which it owns: it zeroes
 * the row, then adds each contributing row of G (deterministic). */
__kernel void conv_col2im(__global const float *G, int g_off, __global float *X, int x_off, int n_img, int c, int h,
                          int w, int oh, int ow, int k, int s, int pad_t, int pad_l)
{
    int row = (int)get_global_id(0);
    if (row >= n_img * c * h)
        return;
    int image_ch = row / h, ih = row - image_ch * h;
    __global float *dst = X + x_off + row * w;
    for (int j = 0; j < w; j++)
        dst[j] = 0.0f;
    __global const float *gc = G + g_off + image_ch * k * k * oh * ow;
    for (int kh = 0; kh < k; kh++) {
        int ty = ih + pad_t - kh, oy = ty / s;
        if (ty < 0 || oy * s != ty || oy >= oh)
            continue;
        for (int kw = 0; kw < k; kw++) {
            __global const float *gr = gc + ((kh * k + kw) * oh + oy) * ow;
            int lo = pad_l - kw > 0 ? (pad_l - kw + s - 1) / s : 0;
            int last = w - 1 - kw + pad_l;
            int hi = last < 0 ? 0 : min(ow, last / s + 1);
            for (int ox = lo; ox < hi; ox++)
                dst[ox * s + kw - pad_l] += gr[ox];
        }
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
    int oct = (int)get_group_id(1) - g * oc_tiles;
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
        int n = pc / plane_px, rem = pc - n * plane_px;
        int oy = rem / own, ox = rem - oy * own;
        poff[j] = p_off + n * p_n + g * rc * p_c + (oy + roff) * p_row + ox + coff;
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
        int r = qc / taps, ab = qc - r * taps;
        int a = ab / kx, b = ab - a * kx;
        int ta = a / ss, tb = b / ss;
        int qoff = r * p_c + ((a - ta * ss) * nph + b - tb * ss) * p_plane + ta * p_row + tb;
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
            int n = p / plane_px, rem = p - n * plane_px;
            int oy = rem / own, ox = rem - oy * own;
            Y[y_off + n * y_n + ch * y_c + oy * y_row + ox * osx] = act_apply(acc[i][j] + bv, act);
        }
    }
}
