/* Loss terms with a device-side mean (runtime/adapt/discrepancy.h). Every
 * reduction uses work-groups of exactly LOCAL work-items and tree_sum
 * (common.h), so the order of the additions, and thus the result, is the
 * same on every device. Gradients: grad = (accumulate ? grad : 0) + gscale *
 * dD-term, where the launcher folds lambda and the 1/count of the mean into
 * gscale. grad and out may be NULL. */

inline void add_grad(__global float *grad, size_t i, int accumulate, float g)
{
    grad[i] = accumulate ? grad[i] + g : g;
}

/* Squared difference, stage 1: group g owns elements [g*chunk, (g+1)*chunk)
 * (work-item l takes every LOCAL-th from l, so loads are contiguous across
 * the group), writes the gradient and its partial sum to partial[g]. */
__kernel __attribute__((reqd_work_group_size(LOCAL, 1, 1))) void
mse_partial(ulong n, ulong chunk, float gscale, int accumulate, __global const float *a, __global const float *b,
            __global float *grad, __global float *partial)
{
    __local float part[LOCAL];
    int l = get_local_id(0);
    size_t g = get_group_id(0), start = g * chunk, end = min((size_t)(start + chunk), (size_t)n);
    float s = 0.0f;
    for (size_t i = start + l; i < end; i += LOCAL) {
        float d = a[i] - b[i];
        s += d * d;
        if (grad)
            add_grad(grad, i, accumulate, gscale * d);
    }
    part[l] = s;
    float total = tree_sum(part, l);
    if (l == 0)
        partial[g] = total;
}

/* Stage 2 (one group): out[slot] = scale * sum of the np partial sums. */
__kernel __attribute__((reqd_work_group_size(LOCAL, 1, 1))) void
sum_partials(int np, float scale, __global const float *partial, __global float *out, int slot)
{
    __local float part[LOCAL];
    int l = get_local_id(0);
    float s = 0.0f;
    for (int i = l; i < np; i += LOCAL)
        s += partial[i];
    part[l] = s;
    float total = tree_sum(part, l);
    if (l == 0)
        out[slot] = total * scale;
}

#define COS_EPS 1e-8f

/* One group walks the samples in order; per sample the group reduces <a,b>,
 * |a|^2, |b|^2 over the row, then writes the row's gradient. */
__kernel __attribute__((reqd_work_group_size(LOCAL, 1, 1))) void
cosine_disc(int batch, int dim, float gscale, int accumulate, __global const float *a, __global const float *b,
            __global float *grad, __global float *out, int slot)
{
    __local float part[LOCAL];
    int l = get_local_id(0);
    float total = 0.0f;
    for (int r = 0; r < batch; r++) {
        __global const float *ra = a + (size_t)r * dim, *rb = b + (size_t)r * dim;
        float sd = 0.0f, sa = 0.0f, sb = 0.0f;
        for (int j = l; j < dim; j += LOCAL) {
            float av = ra[j], bv = rb[j];
            sd += av * bv;
            sa += av * av;
            sb += bv * bv;
        }
        part[l] = sd;
        float dot = tree_sum(part, l);
        part[l] = sa;
        float na = sqrt(tree_sum(part, l));
        part[l] = sb;
        float nb = sqrt(tree_sum(part, l));
        float nac = fmax(na, COS_EPS), nbc = fmax(nb, COS_EPS), inv = 1.0f / (nac * nbc), cosv = dot * inv;
        total += 1.0f - cosv;
        if (grad) {
            /* d(1 - cos)/da = -(b / (na nb) - cos a / na^2); na is a constant below eps. */
            float ca = na >= COS_EPS ? cosv / (nac * nac) : 0.0f;
            for (int j = l; j < dim; j += LOCAL)
                add_grad(grad, (size_t)r * dim + j, accumulate, -gscale * (rb[j] * inv - ca * ra[j]));
        }
    }
    if (out && l == 0)
        out[slot] = total / (float)batch;
}

/* Softmax denominator of row[0..k) * scale as max + logrest, logrest = log
 * sum exp(. - max): log-probabilities are then (v - max) - logrest, exact
 * near the max even when |v| is large. The sum is 1 (the first maximum) +
 * the rest, taken with log1p, so a confident row keeps its tiny loss and
 * gradient. (Scalars, not a float2: oclgrind's uninitialised-value check
 * crashes on the vector code two float2 results turn into.) */
inline float row_max(__global const float *row, int k, float scale, float *logrest)
{
    int jm = 0;
    float m = row[0] * scale;
    for (int j = 1; j < k; j++)
        if (row[j] * scale > m) {
            m = row[j] * scale;
            jm = j;
        }
    float rest = 0.0f;
    for (int j = 0; j < k; j++)
        if (j != jm)
            rest += exp(row[j] * scale - m);
    *logrest = log1p(rest);
    return m;
}

/* One group; work-item l takes samples l, l + LOCAL, ... (k is small). p =
 * softmax(z_plain / T), q = softmax(z_prompted / T); KL = sum p (log p - log q). */
__kernel __attribute__((reqd_work_group_size(LOCAL, 1, 1))) void
kl_disc(int batch, int k, float inv_t, float gscale, int accumulate, __global const float *zt,
        __global const float *z, __global float *grad, __global float *out, int slot)
{
    __local float part[LOCAL];
    int l = get_local_id(0);
    float s = 0.0f;
    for (int r = l; r < batch; r += LOCAL) {
        __global const float *ra = zt + (size_t)r * k, *rc = z + (size_t)r * k;
        float la, lc, ma = row_max(ra, k, inv_t, &la), mc = row_max(rc, k, inv_t, &lc);
        /* log p - log q = (z - z~) / T - off, formed from the differences so
         * that near-equal rows (MoVL's first steps) keep their precision:
         * z~ == z gives exactly 0. q - p = p * expm1(log q - log p). */
        float off = (mc - ma) + (lc - la), kl = 0.0f;
        for (int j = 0; j < k; j++) {
            float d = (rc[j] - ra[j]) * inv_t - off, p = exp((rc[j] * inv_t - mc) - lc);
            kl += p * d;
            if (grad)
                add_grad(grad, (size_t)r * k + j, accumulate, gscale * (p * expm1(-d)));
        }
        s += kl;
    }
    part[l] = s;
    float total = tree_sum(part, l);
    if (out && l == 0)
        out[slot] = total / (float)batch;
}

/* Mean softmax cross-entropy; same walk as kl_disc. A label outside [0, k)
 * gives NaN for the value and the row's gradient. */
__kernel __attribute__((reqd_work_group_size(LOCAL, 1, 1))) void
xent_mean(int batch, int k, float gscale, int accumulate, __global const float *z, __global const int *labels,
          __global float *grad, __global float *out, int slot)
{
    __local float part[LOCAL];
    int l = get_local_id(0);
    float s = 0.0f;
    for (int r = l; r < batch; r += LOCAL) {
        __global const float *row = z + (size_t)r * k;
        int y = labels[r], valid = y >= 0 && y < k;
        float lrest, m = row_max(row, k, 1.0f, &lrest);
        s += valid ? lrest - (row[valid ? y : 0] - m) : NAN;
        if (grad)
            for (int j = 0; j < k; j++) {
                /* p - 1 through expm1: exact for a confident correct row. */
                float a = (row[j] - m) - lrest, g = j == y ? expm1(a) : exp(a);
                add_grad(grad, (size_t)r * k + j, accumulate, valid ? gscale * g : NAN);
            }
    }
    part[l] = s;
    float total = tree_sum(part, l);
    if (out && l == 0)
        out[slot] = total / (float)batch;
}
