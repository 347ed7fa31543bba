/* Softmax cross-entropy with integer labels. One work-item per sample: the
 * class loop is short (k <= a few thousand) and the batch small, so a serial
 * max / sum / write pass per row is simplest and deterministic. */

/* loss[b] = logsumexp(z[b]) - z[b][label]; dz[b][j] = (softmax_j - onehot_j) * inv_batch.
 * Exponentials are taken of z - max (<= 0), so no overflow. The max term
 * (exp(0) = 1) is kept out of the sum: with r = the sum of the others,
 * logsumexp - zmax = log1p(r) and 1 - softmax_max = r / (1 + r), so a
 * confident row keeps its small loss and gradient to float precision instead
 * of losing them to rounding next to 1. A label outside [0, k) writes NaN to
 * loss[b] and dz[b][*] so the error surfaces. loss or dz may be NULL. */
__kernel void softmax_xent(int batch, int k, float inv_batch, __global const float *z, __global const int *labels,
                           __global float *loss, __global float *dz)
{
    int b = get_global_id(0);
    if (b >= batch)
        return;
    __global const float *zr = z + (size_t)b * k;
    int label = labels[b];
    int valid = label >= 0 && label < k;
    int top = 0;
    for (int j = 1; j < k; j++)
        top = zr[j] > zr[top] ? j : top;
    float zmax = zr[top], rest = 0.0f;
    for (int j = 0; j < k; j++)
        rest += j == top ? 0.0f : exp(zr[j] - zmax);
    if (loss)
        loss[b] = valid ? log1p(rest) + (zmax - zr[valid ? label : 0]) : NAN;
    if (dz) {
        float inv_sum = 1.0f / (1.0f + rest);
        __global float *dr = dz + (size_t)b * k;
        for (int j = 0; j < k; j++) {
            float p = j == top ? inv_sum : exp(zr[j] - zmax) * inv_sum;
            float d = j != label ? p : j == top ? -rest * inv_sum : p - 1.0f;
            dr[j] = valid ? d * inv_batch : NAN;
        }
    }
}
