/* Double-precision reference implementations (see ops_ref.h). */
#include "ops/ref/ops_ref.h"

#include <math.h>
#include <string.h>

double movl_ref_act(movl_act act, double v)
{
    if (act == MOVL_ACT_RELU)
        return v < 0 ? 0 : v;
    if (act == MOVL_ACT_RELU6)
        return v < 0 ? 0 : (v > 6 ? 6 : v);
    return v;
}

void movl_ref_act_forward(movl_act act, size_t count, const double *x, double *y)
{
    for (size_t i = 0; i < count; i++)
        y[i] = movl_ref_act(act, x[i]);
}

void movl_ref_act_backward(movl_act act, size_t count, const double *y, const double *dy, double *dx)
{
    for (size_t i = 0; i < count; i++) {
        int pass = 1;
        if (act == MOVL_ACT_RELU)
            pass = y[i] > 0;
        else if (act == MOVL_ACT_RELU6)
            pass = y[i] > 0 && y[i] < 6;
        dx[i] = pass ? dy[i] : 0;
    }
}

void movl_ref_add_forward(size_t count, const double *a, const double *b, movl_act act, double *y)
{
    for (size_t i = 0; i < count; i++)
        y[i] = movl_ref_act(act, a[i] + b[i]);
}

void movl_ref_maxpool_forward(const movl_pool_desc *d, const double *x, double *y, int *idx)
{
    for (int p = 0; p < d->n * d->c; p++) {
        const double *xp = x + (size_t)p * d->h * d->w;
        for (int oy = 0; oy < d->oh; oy++)
            for (int ox = 0; ox < d->ow; ox++) {
                double best = -INFINITY;
                int besti = -1;
                for (int ky = 0; ky < d->k; ky++)
                    for (int kx = 0; kx < d->k; kx++) {
                        int iy = oy * d->stride - d->pad + ky, ix = ox * d->stride - d->pad + kx;
                        if (iy < 0 || iy >= d->h || ix < 0 || ix >= d->w)
                            continue; /* padding never wins */
                        double v = xp[iy * d->w + ix];
                        if (besti < 0 || v > best || isnan(v)) {
                            best = v;
                            besti = iy * d->w + ix;
                        }
                    }
                size_t o = ((size_t)p * d->oh + oy) * d->ow + ox;
                y[o] = best;
                idx[o] = besti;
            }
    }
}

void movl_ref_maxpool_backward(const movl_pool_desc *d, const int *idx, const double *dy, double *dx)
{
    size_t plane_in = (size_t)d->h * d->w, plane_out = (size_t)d->oh * d->ow;
    memset(dx, 0, (size_t)d->n * d->c * plane_in * sizeof *dx);
    for (size_t p = 0; p < (size_t)d->n * d->c; p++)
        for (size_t o = 0; o < plane_out; o++)
            if (idx[p * plane_out + o] >= 0)
                dx[p * plane_in + (size_t)idx[p * plane_out + o]] += dy[p * plane_out + o];
}

void movl_ref_gap_forward(int n, int c, int hw, const double *x, double *y)
{
    for (size_t p = 0; p < (size_t)n * c; p++) {
        double s = 0;
        for (int i = 0; i < hw; i++)
            s += x[p * hw + i];
        y[p] = s / hw;
    }
}

void movl_ref_gap_backward(int n, int c, int hw, const double *dy, double *dx)
{
    for (size_t p = 0; p < (size_t)n * c; p++)
        for (int i = 0; i < hw; i++)
            dx[p * hw + i] = dy[p] / hw;
}

void movl_ref_linear_forward(int batch, int in, int out, const double *x, const double *W, const double *bias,
                             double *y)
{
    for (int b = 0; b < batch; b++)
        for (int o = 0; o < out; o++) {
            double s = bias ? bias[o] : 0;
            for (int i = 0; i < in; i++)
                s += x[(size_t)b * in + i] * W[(size_t)o * in + i];
            y[(size_t)b * out + o] = s;
        }
}

void movl_ref_linear_backward_input(int batch, int in, int out, const double *W, const double *dy, double *dx)
{
    for (int b = 0; b < batch; b++)
        for (int i = 0; i < in; i++) {
            double s = 0;
            for (int o = 0; o < out; o++)
                s += dy[(size_t)b * out + o] * W[(size_t)o * in + i];
            dx[(size_t)b * in + i] = s;
        }
}

void movl_ref_linear_backward_params(int batch, int in, int out, const double *x, const double *dy, double *dW,
                                     double *db)
{
    for (int o = 0; o < out; o++) {
        for (int i = 0; i < in; i++) {
            double s = 0;
            for (int b = 0; b < batch; b++)
                s += dy[(size_t)b * out + o] * x[(size_t)b * in + i];
            dW[(size_t)o * in + i] = s;
        }
        if (db) {
            double s = 0;
            for (int b = 0; b < batch; b++)
                s += dy[(size_t)b * out + o];
            db[o] = s;
        }
    }
}

void movl_ref_softmax_xent(int batch, int k, const double *z, const int *labels, double *loss, double *dz)
{
    /* The max term is kept out of the sum as in the kernel (log1p, r/(1+r)):
     * in double, too, 1 + r rounds away a small r and with it the loss of a
     * confident row. */
    for (int b = 0; b < batch; b++) {
        const double *zr = z + (size_t)b * k;
        int label = labels[b], valid = label >= 0 && label < k, top = 0;
        for (int j = 1; j < k; j++)
            top = zr[j] > zr[top] ? j : top;
        double zmax = zr[top], rest = 0;
        for (int j = 0; j < k; j++)
            rest += j == top ? 0 : exp(zr[j] - zmax);
        if (loss)
            loss[b] = valid ? log1p(rest) + (zmax - zr[label]) : NAN;
        if (dz)
            for (int j = 0; j < k; j++) {
                double p = (j == top ? 1 : exp(zr[j] - zmax)) / (1 + rest);
                double d = j != label ? p : j == top ? -rest / (1 + rest) : p - 1;
                dz[(size_t)b * k + j] = valid ? d / batch : NAN;
            }
    }
}

void movl_ref_to_double(const float *src, double *dst, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = src[i];
}

void movl_ref_to_float(const double *src, float *dst, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = (float)src[i];
}
