/* Batched GEMM with two batch levels (movl_gemm_batch_desc of
 * runtime/ops/desc/op_desc.h): attention's scores Q K^T, its output P V and
 * their gradients, per image (b1) and head (b2). Each operand is
 * (offset, ld, stride1, stride2) in floats, as one ulong4. TRANS_A / TRANS_B
 * (-D) build one program per transpose pair, so the inner loop has no branch.
 * Each work-item computes TN columns of C, TM rows at a time, each over the
 * whole k in order (deterministic); edge blocks clamp their loads to the last
 * row/column (in bounds, never stored) instead of branching per element. */
#ifndef TRANS_A
#define TRANS_A 0
#endif
#ifndef TRANS_B
#define TRANS_B 0
#endif
#define TM 4
#define TN 4
#if TRANS_A
#define A_AT(i, p) a[(size_t)(p) * lda + (i)]
#else
#define A_AT(i, p) a[(size_t)(i) * lda + (p)]
#endif
#if TRANS_B
#define B_AT(p, j) b[(size_t)(j) * ldb + (p)]
#else
#define B_AT(p, j) b[(size_t)(p) * ldb + (j)]
#endif

/* Where batch entry (b1, b2) of an operand starts: offset + b1 * stride1 + b2 * stride2. */
inline size_t entry(ulong4 o, size_t b1, size_t b2) { return o.s0 + b1 * o.s2 + b2 * o.s3; }

__kernel void gemm_batched(int m, int n, int k, ulong4 ao, ulong4 bo, ulong4 co, float alpha, float beta,
                           __global const float *A, __global const float *B, __global float *C)
{
    /* One range dimension per batch level (a flat batch index would need a division and its remainder, which
     * LLVM pairs through a "freeze" that oclgrind cannot run); the m tiles are a loop. */
    int j0 = get_global_id(0) * TN;
    size_t b2 = get_global_id(1), b1 = get_global_id(2);
    if (j0 >= n)
        return;
    __global const float *a = A + entry(ao, b1, b2), *b = B + entry(bo, b1, b2);
    __global float *c = C + entry(co, b1, b2);
    size_t lda = ao.s1, ldb = bo.s1, ldc = co.s1;
    int jj[TN];
    for (int u = 0; u < TN; u++)
        jj[u] = min(j0 + u, n - 1);
    for (int i0 = 0; i0 < m; i0 += TM) {
        int ii[TM];
        for (int t = 0; t < TM; t++)
            ii[t] = min(i0 + t, m - 1);
        float acc[TM][TN];
        for (int t = 0; t < TM; t++)
            for (int u = 0; u < TN; u++)
                acc[t][u] = 0.0f;
        for (int p = 0; p < k; p++) {
            float av[TM], bv[TN];
            for (int t = 0; t < TM; t++)
                av[t] = A_AT(ii[t], p);
            for (int u = 0; u < TN; u++)
                bv[u] = B_AT(p, jj[u]);
            for (int t = 0; t < TM; t++)
                for (int u = 0; u < TN; u++)
                    acc[t][u] = fma(av[t], bv[u], acc[t][u]);
        }
        for (int t = 0; t < TM && i0 + t < m; t++)
            for (int u = 0; u < TN && j0 + u < n; u++) {
                __global float *cij = c + (size_t)(i0 + t) * ldc + (j0 + u);
                *cij = beta != 0.0f ? alpha * acc[t][u] + beta * *cij : alpha * acc[t][u];
            }
    }
}

/* The two shapes of attention, with explicit vectors along the contiguous dimension (PoCL does not
 * vectorise the scalar kernel above: its loads stride across work-items). VW (-D, common.h) floats. */

/* A sum of a vector's lanes in a fixed order. */
inline float lane_sum(floatv v)
{
#if VW == 16
    float8 h = v.lo + v.hi;
    float4 q = h.lo + h.hi;
#elif VW == 8
    float4 q = v.lo + v.hi;
#else
    float4 q = v;
#endif
    return (q.x + q.z) + (q.y + q.w);
}

/* C = A B^T with A [m][k] and B [n][k] (TRANS_A 0, TRANS_B 1: the scores Q K^T, dP = dO V^T): dot products
 * along k, 2 rows x 4 columns per step, VW lanes of k at a time, the tail of k scalar. */
__kernel void gemm_batched_dot(int m, int n, int k, ulong4 ao, ulong4 bo, ulong4 co, float alpha, float beta,
                               __global const float *A, __global const float *B, __global float *C)
{
    int j0 = get_global_id(0) * 4;
    size_t b2 = get_global_id(1), b1 = get_global_id(2);
    if (j0 >= n)
        return;
    __global const float *a = A + entry(ao, b1, b2), *b = B + entry(bo, b1, b2);
    __global float *c = C + entry(co, b1, b2);
    size_t lda = ao.s1, ldb = bo.s1, ldc = co.s1;
    __global const float *br[4];
    for (int u = 0; u < 4; u++)
        br[u] = b + (size_t)min(j0 + u, n - 1) * ldb;
    int kv = k / VW * VW;
    for (int i0 = 0; i0 < m; i0 += 2) {
        __global const float *ar0 = a + (size_t)i0 * lda, *ar1 = a + (size_t)min(i0 + 1, m - 1) * lda;
        floatv s[2][4];
        for (int u = 0; u < 4; u++)
            s[0][u] = s[1][u] = 0.0f;
        for (int p = 0; p < kv; p += VW) {
            floatv x0 = vloadv(0, ar0 + p), x1 = vloadv(0, ar1 + p);
            for (int u = 0; u < 4; u++) {
                floatv y = vloadv(0, br[u] + p);
                s[0][u] = fma(x0, y, s[0][u]);
                s[1][u] = fma(x1, y, s[1][u]);
            }
        }
        float acc[2][4];
        for (int u = 0; u < 4; u++) {
            acc[0][u] = lane_sum(s[0][u]);
            acc[1][u] = lane_sum(s[1][u]);
        }
        for (int p = kv; p < k; p++)
            for (int u = 0; u < 4; u++) {
                acc[0][u] = fma(ar0[p], br[u][p], acc[0][u]);
                acc[1][u] = fma(ar1[p], br[u][p], acc[1][u]);
            }
        for (int t = 0; t < 2 && i0 + t < m; t++)
            for (int u = 0; u < 4 && j0 + u < n; u++) {
                __global float *cij = c + (size_t)(i0 + t) * ldc + (j0 + u);
                *cij = beta != 0.0f ? alpha * acc[t][u] + beta * *cij : alpha * acc[t][u];
            }
    }
}

/* C = op(A) B with B [k][n] stored by rows (TRANS_B 0: P V, dV = P^T dO, dQ = dS K, dK = dS^T Q) and n a
 * multiple of VW: VW columns x 4 rows per item and step, a row of B as one vector. */
__kernel void gemm_batched_rows(int m, int n, int k, ulong4 ao, ulong4 bo, ulong4 co, float alpha, float beta,
                                __global const float *A, __global const float *B, __global float *C)
{
    int j0 = get_global_id(0) * VW;
    size_t b2 = get_global_id(1), b1 = get_global_id(2);
    if (j0 >= n)
        return;
    __global const float *a = A + entry(ao, b1, b2), *b = B + entry(bo, b1, b2) + j0;
    __global float *c = C + entry(co, b1, b2) + j0;
    size_t lda = ao.s1, ldb = bo.s1, ldc = co.s1;
    for (int i0 = 0; i0 < m; i0 += 4) {
        int ii[4];
        for (int t = 0; t < 4; t++)
            ii[t] = min(i0 + t, m - 1);
        floatv s[4];
        for (int t = 0; t < 4; t++)
            s[t] = 0.0f;
        for (int p = 0; p < k; p++) {
            floatv y = vloadv(0, b + (size_t)p * ldb);
            for (int t = 0; t < 4; t++)
                s[t] = fma((floatv)A_AT(ii[t], p), y, s[t]);
        }
        for (int t = 0; t < 4 && i0 + t < m; t++) {
            __global float *ci = c + (size_t)(i0 + t) * ldc;
            vstorev(beta != 0.0f ? alpha * s[t] + beta * vloadv(0, ci) : alpha * s[t], 0, ci);
        }
    }
}
