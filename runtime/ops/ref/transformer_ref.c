/* The transformer ops in double, straight from their definitions. */
#include "ops/ref/transformer_ref.h"

#include <math.h>

static void row_stats(int dim, double eps, const double *x, double *mean, double *rstd)
{
    double m = 0, v = 0;
    for (int j = 0; j < dim; j++)
        m += x[j];
    m /= dim;
    for (int j = 0; j < dim; j++)
        v += (x[j] - m) * (x[j] - m);
    *mean = m;
    *rstd = 1 / sqrt(v / dim + eps);
}

void movl_ref_layernorm_forward(int rows, int dim, double eps, const double *x, const double *gamma,
                                const double *beta, double *y)
{
    for (int r = 0; r < rows; r++) {
        const double *xr = x + (size_t)r * dim;
        double m, s;
        row_stats(dim, eps, xr, &m, &s);
        for (int j = 0; j < dim; j++)
            y[(size_t)r * dim + j] = (xr[j] - m) * s * gamma[j] + beta[j];
    }
}

/* With xhat = (x - mean) * rstd and g = dy * gamma:
 * dx = rstd * (g - mean_j(g) - xhat * mean_j(g * xhat)). */
void movl_ref_layernorm_backward_input(int rows, int dim, double eps, const double *x, const double *gamma,
                                       const double *dy, double *dx)
{
    for (int r = 0; r < rows; r++) {
        const double *xr = x + (size_t)r * dim, *dyr = dy + (size_t)r * dim;
        double m, s, sg = 0, sgx = 0;
        row_stats(dim, eps, xr, &m, &s);
        for (int j = 0; j < dim; j++) {
            double g = dyr[j] * gamma[j];
            sg += g;
            sgx += g * (xr[j] - m) * s;
        }
        for (int j = 0; j < dim; j++) {
            double xhat = (xr[j] - m) * s;
            dx[(size_t)r * dim + j] = s * (dyr[j] * gamma[j] - sg / dim - xhat * sgx / dim);
        }
    }
}

void movl_ref_layernorm_backward_params(int rows, int dim, double eps, const double *x, const double *dy,
                                        double *dgamma, double *dbeta)
{
    for (int j = 0; j < dim; j++)
        dgamma[j] = dbeta[j] = 0;
    for (int r = 0; r < rows; r++) {
        const double *xr = x + (size_t)r * dim;
        double m, s;
        row_stats(dim, eps, xr, &m, &s);
        for (int j = 0; j < dim; j++) {
            dgamma[j] += dy[(size_t)r * dim + j] * (xr[j] - m) * s;
            dbeta[j] += dy[(size_t)r * dim + j];
        }
    }
}

double movl_ref_gelu(movl_gelu kind, double x)
{
    if (kind == MOVL_GELU_QUICK)
        return x / (1 + exp(-1.702 * x));
    return 0.5 * x * erfc(-x / sqrt(2.0));
}

void movl_ref_gelu_forward(movl_gelu kind, size_t count, const double *x, double *y)
{
    for (size_t i = 0; i < count; i++)
        y[i] = movl_ref_gelu(kind, x[i]);
}

void movl_ref_gelu_backward(movl_gelu kind, size_t count, const double *x, const double *dy, double *dx)
{
    const double pi = 3.14159265358979323846;
    for (size_t i = 0; i < count; i++) {
        double v = x[i], d;
        if (kind == MOVL_GELU_QUICK) {
            double sg = 1 / (1 + exp(-1.702 * v));
            d = sg + 1.702 * v * sg * (1 - sg);
        } else {
            d = 0.5 * erfc(-v / sqrt(2.0)) + v * exp(-0.5 * v * v) / sqrt(2 * pi);
        }
        dx[i] = dy[i] * d;
    }
}

void movl_ref_softmax_forward(int rows, int dim, double scale, int causal, const double *x, double *y)
{
    for (int r = 0; r < rows; r++) {
        const double *xr = x + (size_t)r * dim;
        double *yr = y + (size_t)r * dim;
        int last = causal ? r % dim : dim - 1; /* the last key this query sees */
        double mx = -INFINITY, sum = 0;
        for (int j = 0; j <= last; j++)
            mx = fmax(mx, scale * xr[j]);
        for (int j = 0; j < dim; j++) {
            yr[j] = j <= last ? exp(scale * xr[j] - mx) : 0;
            sum += yr[j];
        }
        for (int j = 0; j < dim; j++)
            yr[j] /= sum;
    }
}

void movl_ref_softmax_backward(int rows, int dim, double scale, const double *y, const double *dy, double *dx)
{
    for (int r = 0; r < rows; r++) {
        const double *yr = y + (size_t)r * dim, *dyr = dy + (size_t)r * dim;
        double dot = 0;
        for (int j = 0; j < dim; j++)
            dot += dyr[j] * yr[j];
        for (int j = 0; j < dim; j++)
            dx[(size_t)r * dim + j] = scale * yr[j] * (dyr[j] - dot);
    }
}

void movl_ref_gemm_batched(const movl_gemm_batch_desc *d, const double *A, const double *B, double *C)
{
    for (int b1 = 0; b1 < d->batch1; b1++)
        for (int b2 = 0; b2 < d->batch2; b2++) {
            const double *a = A + d->a.offset + b1 * d->a.stride1 + b2 * d->a.stride2;
            const double *b = B + d->b.offset + b1 * d->b.stride1 + b2 * d->b.stride2;
            double *c = C + d->c.offset + b1 * d->c.stride1 + b2 * d->c.stride2;
            for (int i = 0; i < d->m; i++)
                for (int j = 0; j < d->n; j++) {
                    double s = 0;
                    for (int p = 0; p < d->k; p++)
                        s += (d->trans_a ? a[p * d->a.ld + i] : a[i * d->a.ld + p]) *
                             (d->trans_b ? b[j * d->b.ld + p] : b[p * d->b.ld + j]);
                    double *cij = c + i * d->c.ld + j;
                    *cij = d->alpha * s + (d->beta != 0 ? d->beta * *cij : 0);
                }
        }
}

void movl_ref_tokens_embed(int n, int dim, int patches, const double *patch, const double *cls, const double *pos,
                           double *tok)
{
    int t = patches + 1;
    for (int i = 0; i < n; i++)
        for (int k = 0; k < t; k++)
            for (int d = 0; d < dim; d++) {
                double v = k == 0 ? cls[d] : patch[((size_t)i * patches + (k - 1)) * dim + d];
                tok[((size_t)i * t + k) * dim + d] = v + pos[(size_t)k * dim + d];
            }
}

void movl_ref_tokens_embed_backward(int n, int dim, int patches, const double *dtok, double *dpatch)
{
    int t = patches + 1;
    for (int i = 0; i < n; i++)
        for (int p = 0; p < patches; p++)
            for (int d = 0; d < dim; d++)
                dpatch[((size_t)i * patches + p) * dim + d] = dtok[((size_t)i * t + 1 + p) * dim + d];
}

/* Where pixel (ch, y, x) of an image lands in its patch rows (row-major patches, [ch][ky][kx] within a row),
 * as an offset from the image's first row; written from the image's side, where the kernel writes from
 * the patch's. */
static size_t patch_offset(int c, int size, int k, int ch, int y, int x)
{
    int g = size / k, p = (y / k) * g + x / k;
    return (size_t)p * c * k * k + (size_t)ch * k * k + (size_t)(y % k) * k + x % k;
}

void movl_ref_patchify(int n, int c, int size, int k, const double *x, double *rows)
{
    size_t plane = (size_t)c * size * size;
    for (int i = 0; i < n; i++)
        for (int ch = 0; ch < c; ch++)
            for (int y = 0; y < size; y++)
                for (int xx = 0; xx < size; xx++)
                    rows[i * plane + patch_offset(c, size, k, ch, y, xx)] = x[i * plane + ((size_t)ch * size + y) * size + xx];
}

void movl_ref_patchify_backward(int n, int c, int size, int k, const double *drows, double *dx)
{
    size_t plane = (size_t)c * size * size;
    for (int i = 0; i < n; i++)
        for (int ch = 0; ch < c; ch++)
            for (int y = 0; y < size; y++)
                for (int xx = 0; xx < size; xx++)
                    dx[i * plane + ((size_t)ch * size + y) * size + xx] = drows[i * plane + patch_offset(c, size, k, ch, y, xx)];
}

#define L2_EPS 1e-12

static double row_norm(int dim, const double *x)
{
    double q = 0;
    for (int j = 0; j < dim; j++)
        q += x[j] * x[j];
    return sqrt(q);
}

void movl_ref_l2norm_forward(int rows, int dim, const double *x, double *y)
{
    for (int r = 0; r < rows; r++) {
        const double *xr = x + (size_t)r * dim;
        double n = fmax(row_norm(dim, xr), L2_EPS);
        for (int j = 0; j < dim; j++)
            y[(size_t)r * dim + j] = xr[j] / n;
    }
}

/* d(x_j / n)/dx_i = delta_ij / n - x_i x_j / n^3 for n > eps; 1 / eps * delta_ij below. */
void movl_ref_l2norm_backward(int rows, int dim, const double *x, const double *dy, double *dx)
{
    for (int r = 0; r < rows; r++) {
        const double *xr = x + (size_t)r * dim, *d = dy + (size_t)r * dim;
        double n = row_norm(dim, xr), dot = 0;
        for (int j = 0; j < dim; j++)
            dot += xr[j] * d[j];
        for (int i = 0; i < dim; i++)
            dx[(size_t)r * dim + i] = n > L2_EPS ? d[i] / n - xr[i] * dot / (n * n * n) : d[i] / L2_EPS;
    }
}

void movl_ref_tokens_embed_backward_params(int n, int dim, int patches, const double *dtok, double *dpos, double *dcls)
{
    int tokens = patches + 1;
    for (int t = 0; t < tokens; t++)
        for (int d = 0; d < dim; d++) {
            double s = 0;
            for (int i = 0; i < n; i++)
                s += dtok[((size_t)i * tokens + t) * dim + d];
            dpos[(size_t)t * dim + d] = s;
        }
    for (int d = 0; d < dim; d++) {
        double s = 0;
        for (int i = 0; i < n; i++)
            s += dtok[(size_t)i * tokens * dim + d];
        dcls[d] = s;
    }
}
