/* Softmax cross-entropy with integer labels. One work-item per sample: the
 * class loop is short (k <= a few thousand) and the batch small, so a serial
 * max / sum / write pass per row is simplest and deterministic. */

/* loss[b] = logsumexp(z[b]) - z[b][label]; dz[b][j] = (softmax_j - onehot_j) * inv_batch.
 * Exponentials are taken of z - max (<= 0), so no overflow. A label outside
 * [0, k) writes NaN to loss[b] and dz[b][*] so the error surfaces. loss or dz
 * may be NULL. */
__kernel void softmax_xent(int batch, int k, float inv_batch, __global const float *z, __global const int *labels,
                           __global float *loss, __global float *dz)
{
    int b = get_global_id(0);
    if (b >= batch)
        return;
    __global const float *zr = z + (size_t)b * k;
    int label = labels[b];
    int valid = label >= 0 && label < k;
    float zmax = zr[0];
    for (int j = 1; j < k; j++)
        zmax = fmax(zmax, zr[j]);
    float sum = 0.0f;
    for (int j = 0; j < k; j++)
        sum += exp(zr[j] - zmax);
    /* log(sum) - (z_label - zmax): the difference is exact near the max, so a
     * confident prediction keeps its small loss even when |z| is large. */
    if (loss)
        loss[b] = valid ? log(sum) - (zr[valid ? label : 0] - zmax) : NAN;
    if (dz) {
        float inv_sum = 1.0f / sum;
        __global float *dr = dz + (size_t)b * k;
        for (int j = 0; j < k; j++) {
            float p = exp(zr[j] - zmax) * inv_sum;
            dr[j] = valid ? (p - (j == label ? 1.0f : 0.0f)) * inv_batch : NAN;
        }
    }
}
