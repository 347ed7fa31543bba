/* Label mapping on the source logits (runtime/adapt/labelmap.h): the K mapped
 * logits of each sample are z_src[b][map[t]]. LOCAL and tree_sum: common.h. */

/* One work-item per mapped logit. A map entry outside [0, nsrc) gives NaN. */
__kernel void labelmap_gather(int batch, int nsrc, int k, __global const float *z_src, __global const int *map,
                              __global float *z_out)
{
    int g = get_global_id(0);
    if (g >= batch * k)
        return;
    int t, b = div_rem(g, k, &t), s = map[t];
    z_out[g] = (s >= 0 && s < nsrc) ? z_src[(size_t)b * nsrc + s] : NAN;
}

/* One group; work-item l takes samples l, l + LOCAL, ... in order, and owns
 * their dz_src rows (zeros, then the K mapped entries: the map's entries are
 * distinct, so no entry is written twice). The mean goes through tree_sum. */
__kernel __attribute__((reqd_work_group_size(LOCAL, 1, 1))) void
labelmap_xent(int batch, int nsrc, int k, float inv_batch, __global const float *z_src, __global const int *map,
              __global const int *labels, __global float *dz_src, __global float *out, int slot)
{
    __local float part[LOCAL];
    int l = get_local_id(0);
    int map_ok = 1;
    for (int t = 0; t < k; t++)
        map_ok &= map[t] >= 0 && map[t] < nsrc;
    float sum = 0.0f;
    for (int r = l; r < batch; r += LOCAL) {
        __global const float *row = z_src + (size_t)r * nsrc;
        int y = labels[r], ok = map_ok && y >= 0 && y < k;
        /* As discrepancy.cl's row_logsumexp: 1 (the first maximum) + the
         * rest through log1p, p - 1 through expm1, so confident rows keep
         * their tiny loss and gradient. */
        float m = 0.0f, rest = 0.0f;
        int tm = 0;
        if (map_ok) {
            m = row[map[0]];
            for (int t = 1; t < k; t++)
                if (row[map[t]] > m) {
                    m = row[map[t]];
                    tm = t;
                }
            for (int t = 0; t < k; t++)
                if (t != tm)
                    rest += exp(row[map[t]] - m);
        }
        float logs = log1p(rest);
        sum += ok ? logs - (row[map[y]] - m) : NAN;
        if (dz_src) {
            __global float *dr = dz_src + (size_t)r * nsrc;
            for (int j = 0; j < nsrc; j++)
                dr[j] = ok ? 0.0f : NAN;
            if (ok)
                for (int t = 0; t < k; t++) {
                    float a = (row[map[t]] - m) - logs;
                    dr[map[t]] = (t == y ? expm1(a) : exp(a)) * inv_batch;
                }
        }
    }
    part[l] = sum;
    float total = tree_sum(part, l);
    if (out && l == 0)
        out[slot] = total / (float)batch;
}
