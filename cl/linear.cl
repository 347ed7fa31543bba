/* The own GEMM of the linear layer (fallback for CLBlast, default on CPUs):
 * C[M][N] = op(A)[M][K] * op(B)[K][N] (+ bias[N]), row-major and dense;
 * gemm_rows takes B stored K x N (A stored M x K, or K x M with TRANS_A),
 * gemm_dot takes B stored N x K (A stored M x K).
 * Each work-item computes a register tile with explicit vector loads along
 * the dimension that is contiguous in memory: PoCL does not vectorise across
 * work-items through an inner loop, so the vectors must be in the code. VW
 * (-D, common.h) is 8 or 4 floats, from the device's preferred vector width.
 * No __local memory, no barriers. Dimension 0 runs over row tiles of C, so neighbouring
 * work-items and work-groups stream the same columns of B (the large operand,
 * W) while it is in cache. The sum order is fixed and fma is correctly
 * rounded: results are deterministic, and equal on devices with the same VW.
 * Loads clamp their row and column to the matrix; stores are guarded. */
#ifndef TRANS_A
#define TRANS_A 0
#endif

#if TRANS_A
#define LOAD_A(m, k) a[(size_t)(k) * M + (m)]
#else
#define LOAD_A(m, k) a[(size_t)(m) * K + (k)]
#endif

/* Horizontal sums of four vectors in a fixed order: lane j of the result is
 * ((sj.0 + sj.2) + (sj.1 + sj.3)) after folding 8 lanes to 4. Written with
 * shuffle2 on whole vectors: left to itself the compiler transposes scalar
 * lane sums with partly undefined shuffle masks, which crash oclgrind. */
inline float4 fold4(floatv v)
{
#if VW == 16
    float8 h = v.lo + v.hi;
    return h.lo + h.hi;
#elif VW == 8
    return v.lo + v.hi;
#else
    return v;
#endif
}

inline float4 hsum4(floatv s0, floatv s1, floatv s2, floatv s3)
{
    float4 a0 = fold4(s0), a1 = fold4(s1), a2 = fold4(s2), a3 = fold4(s3);
    float4 p = shuffle2(a0, a1, (uint4)(0, 4, 1, 5)) + shuffle2(a0, a1, (uint4)(2, 6, 3, 7));
    float4 q = shuffle2(a2, a3, (uint4)(0, 4, 1, 5)) + shuffle2(a2, a3, (uint4)(2, 6, 3, 7));
    return shuffle2(p, q, (uint4)(0, 1, 4, 5)) + shuffle2(p, q, (uint4)(2, 3, 6, 7));
}

/* B stored K x N (not transposed): a 4 x 2VW tile, each row of B loaded as two
 * vectors (a whole 64-byte line when VW = 8) and scaled by broadcast elements
 * of A. Used for A*B and A^T*B. */
__kernel void gemm_rows(int M, int N, int K, __global const float *a, __global const float *b,
                        __global const float *bias, __global float *c)
{
    /* dimension 2 (when launched in 3D) runs over blocks of row tiles: all column tiles of one block run
     * before the next, while its rows of A are in cache */
    int m0 = (int)(get_global_id(2) * get_global_size(0) + get_global_id(0)) * 4, n0 = get_global_id(1) * (2 * VW);
    if (n0 >= N || m0 >= M)
        return;
    int m1 = min(m0 + 1, M - 1), m2 = min(m0 + 2, M - 1), m3 = min(m0 + 3, M - 1);
    int rows = min(4, M - m0);
    if (n0 + 2 * VW <= N) {
        floatv p0 = 0.0f, p1 = 0.0f, p2 = 0.0f, p3 = 0.0f, q0 = 0.0f, q1 = 0.0f, q2 = 0.0f, q3 = 0.0f;
        for (int k = 0; k < K; k++) {
            __global const float *br = b + (size_t)k * N + n0;
            floatv bp = vloadv(0, br), bq = vloadv(1, br);
            floatv a0 = (floatv)LOAD_A(m0, k), a1 = (floatv)LOAD_A(m1, k), a2 = (floatv)LOAD_A(m2, k),
                   a3 = (floatv)LOAD_A(m3, k);
            p0 = fma(a0, bp, p0);
            q0 = fma(a0, bq, q0);
            p1 = fma(a1, bp, p1);
            q1 = fma(a1, bq, q1);
            p2 = fma(a2, bp, p2);
            q2 = fma(a2, bq, q2);
            p3 = fma(a3, bp, p3);
            q3 = fma(a3, bq, q3);
        }
        floatv bb0 = bias ? vloadv(0, bias + n0) : (floatv)0.0f, bb1 = bias ? vloadv(1, bias + n0) : (floatv)0.0f;
        __global float *cr = c + (size_t)m0 * N + n0;
        vstorev(p0 + bb0, 0, cr);
        vstorev(q0 + bb1, 1, cr);
        if (rows > 1) {
            vstorev(p1 + bb0, 0, cr + N);
            vstorev(q1 + bb1, 1, cr + N);
        }
        if (rows > 2) {
            vstorev(p2 + bb0, 0, cr + 2 * (size_t)N);
            vstorev(q2 + bb1, 1, cr + 2 * (size_t)N);
        }
        if (rows > 3) {
            vstorev(p3 + bb0, 0, cr + 3 * (size_t)N);
            vstorev(q3 + bb1, 1, cr + 3 * (size_t)N);
        }
        return;
    }
    /* Last, partial column tile: one column at a time. */
    for (int n = n0; n < N; n++) {
        float acc[4] = {0.0f, 0.0f, 0.0f, 0.0f};
        for (int k = 0; k < K; k++) {
            float bk = b[(size_t)k * N + n];
            acc[0] = fma(LOAD_A(m0, k), bk, acc[0]);
            acc[1] = fma(LOAD_A(m1, k), bk, acc[1]);
            acc[2] = fma(LOAD_A(m2, k), bk, acc[2]);
            acc[3] = fma(LOAD_A(m3, k), bk, acc[3]);
        }
        float bn = bias ? bias[n] : 0.0f;
        for (int i = 0; i < rows; i++)
            c[(size_t)(m0 + i) * N + n] = acc[i] + bn;
    }
}

/* A stored M x K, B stored N x K (A*B^T, the linear forward): both operands
 * are contiguous along k, so each work-item keeps vector partial dot products
 * of a 2 x 4 tile, reduces them at the end, then adds the k tail. */
__kernel void gemm_dot(int M, int N, int K, __global const float *a, __global const float *b,
                       __global const float *bias, __global float *c)
{
    int m0 = get_global_id(0) * 2, n0 = get_global_id(1) * 4;
    if (n0 >= N || m0 >= M)
        return;
    __global const float *a0 = a + (size_t)m0 * K, *a1 = a + (size_t)min(m0 + 1, M - 1) * K;
    __global const float *b0 = b + (size_t)n0 * K, *b1 = b + (size_t)min(n0 + 1, N - 1) * K,
                         *b2 = b + (size_t)min(n0 + 2, N - 1) * K, *b3 = b + (size_t)min(n0 + 3, N - 1) * K;
    floatv s00 = 0.0f, s01 = 0.0f, s02 = 0.0f, s03 = 0.0f, s10 = 0.0f, s11 = 0.0f, s12 = 0.0f, s13 = 0.0f;
    int k = 0;
    for (; k + VW <= K; k += VW) {
        floatv x0 = vloadv(0, a0 + k), x1 = vloadv(0, a1 + k);
        floatv w0 = vloadv(0, b0 + k), w1 = vloadv(0, b1 + k), w2 = vloadv(0, b2 + k), w3 = vloadv(0, b3 + k);
        s00 = fma(x0, w0, s00);
        s01 = fma(x0, w1, s01);
        s02 = fma(x0, w2, s02);
        s03 = fma(x0, w3, s03);
        s10 = fma(x1, w0, s10);
        s11 = fma(x1, w1, s11);
        s12 = fma(x1, w2, s12);
        s13 = fma(x1, w3, s13);
    }
    float4 r0 = hsum4(s00, s01, s02, s03), r1 = hsum4(s10, s11, s12, s13);
    for (; k < K; k++) {
        float4 w = (float4)(b0[k], b1[k], b2[k], b3[k]);
        r0 = fma((float4)a0[k], w, r0);
        r1 = fma((float4)a1[k], w, r1);
    }
    if (bias) {
        float4 bb = (float4)(bias[n0], bias[min(n0 + 1, N - 1)], bias[min(n0 + 2, N - 1)], bias[min(n0 + 3, N - 1)]);
        r0 += bb;
        r1 += bb;
    }
    float4 rows[2] = {r0, r1};
    for (int i = 0; i < 2 && m0 + i < M; i++) {
        __global float *cr = c + (size_t)(m0 + i) * N + n0;
        cr[0] = rows[i].s0;
        if (n0 + 1 < N)
            cr[1] = rows[i].s1;
        if (n0 + 2 < N)
            cr[2] = rows[i].s2;
        if (n0 + 3 < N)
            cr[3] = rows[i].s3;
    }
}

/* y[r][col] = bias[col] (0 when bias is NULL): the C operand that CLBlast
 * then accumulates into with beta = 1. One work-item per element. */
__kernel void broadcast_rows(int rows, int cols, __global const float *bias, __global float *y)
{
    int i = get_global_id(0);
    if (i >= rows * cols)
        return;
    y[i] = bias ? bias[i % cols] : 0.0f;
}

/* dst[col] = sum over r of src[r][col], r ascending (bias gradient). */
__kernel void column_sum(int rows, int cols, __global const float *src, __global float *dst)
{
    int j = get_global_id(0);
    if (j >= cols)
        return;
    float sum = 0.0f;
    for (int r = 0; r < rows; r++)
        sum += src[(size_t)r * cols + j];
    dst[j] = sum;
}
