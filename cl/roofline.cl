/* Micro-kernels that measure a device's roofline for `movl bench`: fp32 FMA
 * throughput and memory bandwidth. Both write results that the host compares
 * with runtime/ops/ref/roofline_ref.c, so a fast but wrong kernel is not reported.
 * VW (-D, common.h) is the vector width of one chain: explicit vectors
 * because PoCL does not vectorise a work-item loop that holds an inner loop,
 * while GPUs split them into independent scalar chains. */
#if VW != 4 && VW != 8 && VW != 16
#error VW must be 4, 8 or 16
#endif

/* Chain c of work-item gid starts at ramp[(gid * 16 + c) mod 1024 + lane],
 * ramp[k] = k / 4096: every chain and lane differs, so none can be merged.
 * The multiplier and addend come as vectors too (params[0..VW) = a,
 * params[VW..2 VW) = b), and lanes are stored, not summed: vectors built
 * from a run-time scalar and sums across lanes crash oclgrind's
 * uninitialised-value checker, which the kernel tests run under. */
#define START(c) vloadv(0, ramp + ((gid * 16u + (c)) & 1023u))
#define STEP(x) x = fma(x, va, vb)

/* Twelve independent chains of x = fma(x, a, b) per work-item: more than the
 * FMA latency times the FMA units needs (4 x 2 on current CPUs), with room
 * for the loop; 14 of the 16 AVX2 registers. `iters` rounds of all twelve.
 * Lane l of out[gid] (VW floats per work-item) = sum of the chains' lane l,
 * so no chain can be optimised away. */
kernel void peak_fma(global float *out, global const float *params, global const float *ramp, int iters)
{
    uint gid = (uint)get_global_id(0);
    floatv x0 = START(0u), x1 = START(1u), x2 = START(2u), x3 = START(3u), x4 = START(4u), x5 = START(5u);
    floatv x6 = START(6u), x7 = START(7u), x8 = START(8u), x9 = START(9u), x10 = START(10u), x11 = START(11u);
    floatv va = vloadv(0, params), vb = vloadv(1, params);
    for (int i = 0; i < iters; i++) {
        STEP(x0);
        STEP(x1);
        STEP(x2);
        STEP(x3);
        STEP(x4);
        STEP(x5);
        STEP(x6);
        STEP(x7);
        STEP(x8);
        STEP(x9);
        STEP(x10);
        STEP(x11);
    }
    floatv s = (((x0 + x1) + (x2 + x3)) + ((x4 + x5) + (x6 + x7))) + ((x8 + x9) + (x10 + x11));
    vstorev(s, gid, out);
}

/* Known inputs for the bandwidth kernel, written on the device (uploading
 * hundreds of MiB would dominate): small integers, so every triad result is
 * exact and the C reference can recompute any element. z gets a sentinel.
 * Scalar stores: see the note on vectors above. */
kernel void triad_init(global float *x, global float *y, global float *z)
{
    uint e = 4u * (uint)get_global_id(0);
    for (uint k = e; k < e + 4u; k++) {
        x[k] = (float)(k & 1023u);
        y[k] = (float)((k * 7u) & 511u);
        z[k] = -1.0f;
    }
}

/* STREAM triad z = x + s*y on float4 elements, s = TRIAD_SCALE: 12 bytes
 * moved per float (two reads, one write). */
#define TRIAD_SCALE 0.5f
kernel void triad(global const float4 *x, global const float4 *y, global float4 *z)
{
    uint i = (uint)get_global_id(0);
    z[i] = fma((float4)(TRIAD_SCALE), y[i], x[i]);
}
