/* Winograd F(2x2, 3x3) for 3x3 stride-1 ungrouped convolutions (Lavin and
 * Gray, "Fast Algorithms for Convolutional Neural Networks", 2016).
 *
 * The output is cut into 2x2 tiles; tile (ty, tx) reads the 4x4 input patch
 * at padded rows 2ty.., columns 2tx.. and
 *   y_tile = A^T [ sum_c U[c] (.) V[c] ] A,  V = B^T d B,  U = G g G^T,
 * 16 multiplications per output pair of channels and tile instead of 36. The
 * sum over c, per tile element e = 4i + j, is a plain GEMM: the host runs it
 * as a grouped 1x1 convolution (16 groups, one per e) through the ordinary
 * conv plan, so it gets that kernel's register tiles and image lanes.
 *
 * Layouts (offsets in floats; T = th * tw tiles per image):
 *   U[e][k][c]              = the inner conv's weights [16K][C][1][1]
 *   V[n][e][c][ty][tx]      = its input  (16C channels of th x tw)
 *   M[n][e][k][ty][tx]      = its output (16K channels)
 * The backward-to-input is the exact adjoint of the forward, in reverse:
 *   dM = A dy_tile A^T (dy zero outside the output), dV = U^T dM (the inner
 *   conv's backward), dx = sum over the tiles covering a pixel of B dV B^T.
 * Every sum has a fixed order: deterministic, no atomics. The transforms
 * take 8 tiles of a tile row per work-item, in float8 lanes (one tile a lane):
 * the stride-2 patch columns of 8 tiles are the even and odd lanes of two
 * overlapping float16 loads (vectors built from single lanes or a splat crash
 * or confuse oclgrind's uninitialised-value checker, so none are built).
 *
 *   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]
 *   G   = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]
 *   A^T = [1 1 1 0; 0 1 -1 -1]                                             */

/* U from w[k][c][3][3] (PyTorch layout); one item per (k, c). */
__kernel void wino_weights(__global const float *w, __global float *u, int K, int C)
{
    int i = (int)get_global_id(0);
    if (i >= K * C)
        return;
    int k = i / C, c = i - k * C;
    __global const float *g = w + i * 9;
    float t[4][3]; /* G g */
    for (int j = 0; j < 3; j++) {
        float a = g[j], b = g[3 + j], d = g[6 + j];
        t[0][j] = a;
        t[1][j] = 0.5f * (a + b + d);
        t[2][j] = 0.5f * (a - b + d);
        t[3][j] = d;
    }
    for (int r = 0; r < 4; r++) { /* (G g) G^T */
        float a = t[r][0], b = t[r][1], d = t[r][2];
        float row[4] = {a, 0.5f * (a + b + d), 0.5f * (a - b + d), d};
        for (int s = 0; s < 4; s++)
            u[((r * 4 + s) * K + k) * C + c] = row[s];
    }
}

/* load_in_N(p, lo, hi): lanes j of p[j] for lo <= j < hi, else 0 (nothing
 * outside that range is read); store_in_N(v, p, lo, hi): p[j] = v[j] there only.
 * Whole vectors where the range covers them; N = 8 and 16. */
#define LANES_IN(N)                                                                                                \
    inline float##N load_in_##N(__global const float *p, int lo, int hi)                                         \
    {                                                                                                              \
        if (lo <= 0 && hi >= N)                                                                                    \
            return vload##N(0, p);                                                                                 \
        float t[N];                                                                                                \
        for (int j = 0; j < N; j++)                                                                                \
            t[j] = (j >= lo && j < hi) ? p[j] : 0.0f;                                                              \
        return vload##N(0, t);                                                                                     \
    }                                                                                                              \
    inline void store_in_##N(float##N v, __global float *p, int lo, int hi)                                       \
    {                                                                                                              \
        if (lo <= 0 && hi >= N) {                                                                                  \
            vstore##N(v, 0, p);                                                                                    \
            return;                                                                                                \
        }                                                                                                          \
        float t[N];                                                                                                \
        vstore##N(v, 0, t);                                                                                        \
        for (int j = 0; j < N; j++)                                                                                \
            if (j >= lo && j < hi)                                                                                 \
                p[j] = t[j];                                                                                       \
    }
LANES_IN(8)
LANES_IN(16)

/* Lanes (a0, b0, a1, b1, ...): the two output columns of 8 tiles in row order. */
inline float16 interleave(float8 a, float8 b)
{
    return shuffle2(a, b, (uint16)(0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15));
}

/* Tile rows split into blocks of 8 tiles: item i -> (plane, tile row, first tile). */
inline int block_of(int i, int th, int tw, int *ty, int *tx0)
{
    int blocks = (tw + 7) / 8, per = th * blocks, plane = i / per, b = i - plane * per;
    *ty = b / blocks;
    *tx0 = (b - *ty * blocks) * 8;
    return plane;
}

/* V from x; one item per (image, c, ty, 8 tiles of the row). */
__kernel void wino_input(__global const float *x, int x_off, int C, int H, int W, int pad_t, int pad_l,
                         __global float *v, int v_off, int th, int tw, int count)
{
    int i = (int)get_global_id(0);
    if (i >= count)
        return;
    int ty, tx0, nc = block_of(i, th, tw, &ty, &tx0);
    int n = nc / C, c = nc - n * C;
    int base = 2 * tx0 - pad_l; /* first input column of the block */
    __global const float *xp = x + x_off + nc * H * W;
    float8 d[4][4]; /* d[r][s]: lane j = patch (r, s) of tile tx0 + j */
    for (int r = 0; r < 4; r++) {
        int iy = 2 * ty - pad_t + r;
        /* columns base + 2j + s: the even and odd lanes of 16 columns from base, then from base + 2 */
        float16 a = (float16)(0.0f), a2 = (float16)(0.0f);
        if (iy >= 0 && iy < H) {
            __global const float *row = xp + iy * W + base;
            a = load_in_16(row, -base, W - base);
            a2 = load_in_16(row + 2, -base - 2, W - base - 2);
        }
        d[r][0] = a.even;
        d[r][1] = a.odd;
        d[r][2] = a2.even;
        d[r][3] = a2.odd;
    }
    float8 b[4][4]; /* B^T d */
    for (int s = 0; s < 4; s++) {
        b[0][s] = d[0][s] - d[2][s];
        b[1][s] = d[1][s] + d[2][s];
        b[2][s] = d[2][s] - d[1][s];
        b[3][s] = d[1][s] - d[3][s];
    }
    int tiles = th * tw, es = C * tiles, nt = tw - tx0;
    __global float *vp = v + v_off + (n * 16 * C + c) * tiles + ty * tw + tx0;
    for (int r = 0; r < 4; r++) { /* (B^T d) B */
        store_in_8(b[r][0] - b[r][2], vp + (r * 4 + 0) * es, 0, nt);
        store_in_8(b[r][1] + b[r][2], vp + (r * 4 + 1) * es, 0, nt);
        store_in_8(b[r][2] - b[r][1], vp + (r * 4 + 2) * es, 0, nt);
        store_in_8(b[r][1] - b[r][3], vp + (r * 4 + 3) * es, 0, nt);
    }
}

/* y = act(A^T M A + bias) on the outputs inside oh x ow; one item per (image, k, ty, 8 tiles). */
__kernel void wino_output(__global const float *m, int m_off, int K, int th, int tw, __global const float *bias,
                          int act, __global float *y, int y_off, int oh, int ow, int count)
{
    int i = (int)get_global_id(0);
    if (i >= count)
        return;
    int ty, tx0, nk = block_of(i, th, tw, &ty, &tx0);
    int n = nk / K, k = nk - n * K;
    int tiles = th * tw, es = K * tiles, nt = tw - tx0;
    __global const float *mp = m + m_off + (n * 16 * K + k) * tiles + ty * tw + tx0;
    float8 a[2][4]; /* A^T M */
    for (int s = 0; s < 4; s++) {
        float8 m0 = load_in_8(mp + s * es, 0, nt), m1 = load_in_8(mp + (4 + s) * es, 0, nt);
        float8 m2 = load_in_8(mp + (8 + s) * es, 0, nt), m3 = load_in_8(mp + (12 + s) * es, 0, nt);
        a[0][s] = m0 + m1 + m2;
        a[1][s] = m1 - m2 - m3;
    }
    float16 bv = (float16)(bias ? bias[k] : 0.0f);
    __global float *yp = y + y_off + nk * oh * ow + 2 * tx0;
    for (int r = 0; r < 2; r++) {
        int oy = 2 * ty + r;
        if (oy >= oh)
            break;
        float8 o0 = a[r][0] + a[r][1] + a[r][2], o1 = a[r][1] - a[r][2] - a[r][3];
        store_in_16(act_apply_float16(interleave(o0, o1) + bv, act), yp + oy * ow, 0, ow - 2 * tx0);
    }
}

/* dM = A dy_tile A^T, dy zero outside oh x ow (the adjoint of wino_output
 * without bias and activation); one item per (image, k, ty, 8 tiles). */
__kernel void wino_output_adjoint(__global const float *dy, int dy_off, int K, int oh, int ow, __global float *dm,
                                  int dm_off, int th, int tw, int count)
{
    int i = (int)get_global_id(0);
    if (i >= count)
        return;
    int ty, tx0, nk = block_of(i, th, tw, &ty, &tx0);
    int n = nk / K, k = nk - n * K;
    __global const float *gp = dy + dy_off + nk * oh * ow + 2 * tx0;
    float8 g[2][2];
    for (int r = 0; r < 2; r++) {
        int oy = 2 * ty + r;
        float16 row = oy < oh ? load_in_16(gp + oy * ow, 0, ow - 2 * tx0) : (float16)(0.0f);
        g[r][0] = row.even;
        g[r][1] = row.odd;
    }
    float8 a[4][2]; /* A g */
    for (int s = 0; s < 2; s++) {
        a[0][s] = g[0][s];
        a[1][s] = g[0][s] + g[1][s];
        a[2][s] = g[0][s] - g[1][s];
        a[3][s] = -g[1][s];
    }
    int tiles = th * tw, es = K * tiles, nt = tw - tx0;
    __global float *mp = dm + dm_off + (n * 16 * K + k) * tiles + ty * tw + tx0;
    for (int r = 0; r < 4; r++) { /* (A g) A^T */
        store_in_8(a[r][0], mp + (r * 4 + 0) * es, 0, nt);
        store_in_8(a[r][0] + a[r][1], mp + (r * 4 + 1) * es, 0, nt);
        store_in_8(a[r][0] - a[r][1], mp + (r * 4 + 2) * es, 0, nt);
        store_in_8(-a[r][1], mp + (r * 4 + 3) * es, 0, nt);
    }
}

/* dx from dV: one item per (image, c, q, 8 blocks p0..p0+7), the 2x2 blocks of
 * padded rows 2q, 2q+1 and columns 2p, 2p+1, which tiles (q, p), (q, p-1),
 * (q-1, p), (q-1, p-1) cover (their quadrants (0,0), (0,2), (2,0), (2,2) of
 * B dV B^T). Lane j holds block p0 + j; "cur" is dV at tile column p, "prev"
 * at p - 1. Pixels outside the image are padding: not written. */
__kernel void wino_input_adjoint(__global const float *dv, int dv_off, int C, int th, int tw, __global float *dx,
                                 int dx_off, int H, int W, int pad_t, int pad_l, int qh, int qw, int count)
{
    int i = (int)get_global_id(0);
    if (i >= count)
        return;
    int q, p0, nc = block_of(i, qh, qw, &q, &p0);
    int n = nc / C, c = nc - n * C;
    int tiles = th * tw, es = C * tiles;
    __global const float *vp = dv + dv_off + (n * 16 * C + c) * tiles;
    float8 acc[2][2] = {{(float8)(0.0f), (float8)(0.0f)}, {(float8)(0.0f), (float8)(0.0f)}};
    for (int dyi = 0; dyi < 2; dyi++) { /* tile row q - dyi gives its rows 2*dyi, 2*dyi + 1 */
        int ty = q - dyi;
        if (ty < 0 || ty >= th)
            continue;
        __global const float *rowp = vp + ty * tw + p0;
        float8 cur[4][4], prev[4][4];
        for (int r = 0; r < 4; r++)
            for (int s = 0; s < 4; s++) {
                __global const float *ep = rowp + (r * 4 + s) * es;
                cur[r][s] = load_in_8(ep, 0, tw - p0);
                prev[r][s] = load_in_8(ep - 1, 1 - p0, tw - p0 + 1);
            }
        for (int a = 0; a < 2; a++) {
            int r = 2 * dyi + a; /* row r of B X: X0; X1 - X2 + X3; -X0 + X1 + X2; -X3 */
            float8 rc[4], rp[4];
            for (int s = 0; s < 4; s++) {
                rc[s] = r == 0 ? cur[0][s] : r == 1 ? cur[1][s] - cur[2][s] + cur[3][s]
                      : r == 2 ? -cur[0][s] + cur[1][s] + cur[2][s] : -cur[3][s];
                rp[s] = r == 0 ? prev[0][s] : r == 1 ? prev[1][s] - prev[2][s] + prev[3][s]
                      : r == 2 ? -prev[0][s] + prev[1][s] + prev[2][s] : -prev[3][s];
            }
            /* columns of (B X) B^T: tile p gives its columns 0, 1; tile p - 1 its columns 2, 3 */
            acc[a][0] += rc[0] + (-rp[0] + rp[1] + rp[2]);
            acc[a][1] += (rc[1] - rc[2] + rc[3]) + (-rp[3]);
        }
    }
    int ix0 = 2 * p0 - pad_l;
    __global float *xp = dx + dx_off + nc * H * W + ix0;
    for (int a = 0; a < 2; a++) {
        int iy = 2 * q + a - pad_t;
        if (iy >= 0 && iy < H)
            store_in_16(interleave(acc[a][0], acc[a][1]), xp + iy * W, -ix0, W - ix0);
    }
}
