/* Double-precision references of the adaptation kernels (see adapt_ref.h). */
#include "adapt/adapt_ref.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int movl_ref_prompt_mask(const movl_prompt_desc *d, int oy, int ox, int i, int j)
{
    int S = d->size, p = d->p;
    switch (d->type) {
    case MOVL_PROMPT_PADDING:
    case MOVL_PROMPT_SHRINK_PAD: {
        int m = i;
        if (j < m)
            m = j;
        if (S - 1 - i < m)
            m = S - 1 - i;
        if (S - 1 - j < m)
            m = S - 1 - j;
        return m < p;
    }
    case MOVL_PROMPT_PATCH:
        return i < p && j < p;
    case MOVL_PROMPT_RANDOM_PATCH:
        return i >= oy && i < oy + p && j >= ox && j < ox + p;
    default:
        return 1;
    }
}

/* table[i*S + j] = per-channel delta index of pixel (i, j), -1 outside; returns
 * the count of masked pixels. The layout by definition: masked pixels numbered
 * in row-major order. */
static int build_table(const movl_prompt_desc *d, int oy, int ox, int *table)
{
    int S = d->size, n = 0;
    for (int i = 0; i < S; i++)
        for (int j = 0; j < S; j++)
            table[i * S + j] = movl_ref_prompt_mask(d, oy, ox, i, j) ? n++ : -1;
    return n;
}

static double sig(double v) { return 1.0 / (1.0 + exp(-v)); }

void movl_ref_prompt_forward(const movl_prompt_desc *d, int batch, int oy, int ox, const double *x,
                             const double *delta, double *y)
{
    int S = d->size;
    int *table = malloc((size_t)S * S * sizeof *table);
    int n_c = build_table(d, oy, ox, table);
    for (int b = 0; b < batch; b++)
        for (int c = 0; c < 3; c++)
            for (int q = 0; q < S * S; q++) {
                size_t o = ((size_t)b * 3 + c) * S * S + q;
                if (table[q] < 0) {
                    y[o] = x[o];
                    continue;
                }
                double v = delta[c * n_c + table[q]];
                if (d->sigmoid)
                    v = sig(v);
                y[o] = d->type == MOVL_PROMPT_SHRINK_PAD ? (v - d->mean[c]) / d->std[c] : x[o] + v;
            }
    free(table);
}

void movl_ref_prompt_backward(const movl_prompt_desc *d, int batch, int oy, int ox, const double *delta,
                              const double *dy, double *ddelta)
{
    int S = d->size;
    int *table = malloc((size_t)S * S * sizeof *table);
    int n_c = build_table(d, oy, ox, table);
    memset(ddelta, 0, (size_t)3 * n_c * sizeof *ddelta);
    for (int b = 0; b < batch; b++)
        for (int c = 0; c < 3; c++)
            for (int q = 0; q < S * S; q++) {
                if (table[q] < 0)
                    continue;
                int k = c * n_c + table[q];
                double g = dy[((size_t)b * 3 + c) * S * S + q];
                if (d->sigmoid) {
                    double s = sig(delta[k]);
                    g *= s * (1 - s);
                }
                if (d->type == MOVL_PROMPT_SHRINK_PAD)
                    g /= d->std[c];
                ddelta[k] += g;
            }
    free(table);
}

void movl_ref_mse(size_t n, const double *a, const double *b, double *value, double *grad)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) {
        double e = a[i] - b[i];
        s += e * e;
        if (grad)
            grad[i] = 2 * e / (double)n;
    }
    *value = s / (double)n;
}

void movl_ref_cosine(int batch, int dim, const double *a, const double *b, double *value, double *grad)
{
    const double eps = 1e-8;
    double total = 0;
    for (int r = 0; r < batch; r++) {
        const double *ra = a + (size_t)r * dim, *rb = b + (size_t)r * dim;
        double dot = 0, aa = 0, bb = 0;
        for (int j = 0; j < dim; j++) {
            dot += ra[j] * rb[j];
            aa += ra[j] * ra[j];
            bb += rb[j] * rb[j];
        }
        double na = sqrt(aa), nb = sqrt(bb), nac = na > eps ? na : eps, nbc = nb > eps ? nb : eps;
        double cosv = dot / (nac * nbc);
        total += 1 - cosv;
        if (grad)
            for (int j = 0; j < dim; j++) {
                /* cos = dot / (na nb): d/da_j = b_j / (na nb) - dot a_j / (na^3 nb). */
                double dcos = rb[j] / (nac * nbc) - (na >= eps ? dot * ra[j] / (nac * nac * nac * nbc) : 0);
                grad[(size_t)r * dim + j] = -dcos / batch;
            }
    }
    *value = total / batch;
}

/* log softmax of row * scale into out; the denominator as 1 (the first
 * maximum) + the rest through log1p, so a confident row keeps its tiny
 * log-probability of the winner. */
static void log_softmax(int k, const double *row, double scale, double *out)
{
    int jm = 0;
    for (int j = 1; j < k; j++)
        if (row[j] * scale > row[jm] * scale)
            jm = j;
    double m = row[jm] * scale, rest = 0;
    for (int j = 0; j < k; j++)
        if (j != jm)
            rest += exp(row[j] * scale - m);
    for (int j = 0; j < k; j++)
        out[j] = (row[j] * scale - m) - log1p(rest);
}

void movl_ref_kl(int batch, int k, double temperature, const double *zt, const double *z, double *value,
                 double *grad)
{
    double *lq = malloc((size_t)k * sizeof *lq), *lp = malloc((size_t)k * sizeof *lp), total = 0;
    for (int r = 0; r < batch; r++) {
        log_softmax(k, zt + (size_t)r * k, 1 / temperature, lq);
        log_softmax(k, z + (size_t)r * k, 1 / temperature, lp);
        for (int j = 0; j < k; j++) {
            total += exp(lp[j]) * (lp[j] - lq[j]);
            if (grad)
                grad[(size_t)r * k + j] = (exp(lq[j]) - exp(lp[j])) / temperature / batch;
        }
    }
    *value = total / batch;
    free(lq);
    free(lp);
}

void movl_ref_xent_mean(int batch, int k, const double *z, const int *labels, double *value, double *grad)
{
    double *ls = malloc((size_t)k * sizeof *ls), total = 0;
    for (int r = 0; r < batch; r++) {
        int y = labels[r], ok = y >= 0 && y < k;
        log_softmax(k, z + (size_t)r * k, 1, ls);
        total += ok ? -ls[y] : NAN;
        if (grad)
            for (int j = 0; j < k; j++)
                grad[(size_t)r * k + j] = ok ? (j == y ? expm1(ls[j]) : exp(ls[j])) / batch : NAN;
    }
    *value = total / batch;
    free(ls);
}

void movl_ref_labelmap_xent(int batch, int nsrc, int k, const double *z_src, const int *map, const int *labels,
                            double *value, double *dz_src)
{
    double *zm = calloc((size_t)batch * k, sizeof *zm), *dzm = calloc((size_t)batch * k, sizeof *dzm);
    for (int r = 0; r < batch; r++)
        for (int t = 0; t < k; t++)
            zm[(size_t)r * k + t] = z_src[(size_t)r * nsrc + map[t]];
    movl_ref_xent_mean(batch, k, zm, labels, value, dzm);
    if (dz_src) {
        memset(dz_src, 0, (size_t)batch * nsrc * sizeof *dz_src);
        for (int r = 0; r < batch; r++)
            for (int t = 0; t < k; t++)
                dz_src[(size_t)r * nsrc + map[t]] = dzm[(size_t)r * k + t];
    }
    free(zm);
    free(dzm);
}

void movl_ref_sgd_step(size_t n, const movl_opt_config *c, double lr, long step, double *param, const double *grad,
                       double *buf)
{
    for (size_t i = 0; i < n; i++) {
        double g = grad[i] + (double)c->weight_decay * param[i];
        if (c->momentum != 0) {
            buf[i] = step == 1 ? g : c->momentum * buf[i] + g;
            g = c->nesterov ? g + c->momentum * buf[i] : buf[i];
        }
        param[i] -= lr * g;
    }
}

void movl_ref_adam_step(size_t n, const movl_opt_config *c, double lr, long step, double *param,
                        const double *grad, double *m, double *v)
{
    double b1 = c->beta1, b2 = c->beta2;
    for (size_t i = 0; i < n; i++) {
        double g = grad[i] + (double)c->weight_decay * param[i];
        m[i] = b1 * m[i] + (1 - b1) * g;
        v[i] = b2 * v[i] + (1 - b2) * g * g;
        double mhat = m[i] / (1 - pow(b1, (double)step)), vhat = v[i] / (1 - pow(b2, (double)step));
        param[i] -= lr * mhat / (sqrt(vhat) + c->eps);
    }
}
