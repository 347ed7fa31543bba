/* Double-precision conv references (see conv_ref.h). */
#include "ops/ref/conv_ref.h"
#include "ops/ref/ops_ref.h"

#include <string.h>

/* Index of input tap (kh, kw) of output (oy, ox), or -1 in the padding. */
static long tap_index(const movl_conv_desc *d, int oy, int ox, int kh, int kw)
{
    int iy = oy * d->stride - d->pad_t + kh, ix = ox * d->stride - d->pad_l + kw;
    if (iy < 0 || iy >= d->h || ix < 0 || ix >= d->w)
        return -1;
    return (long)iy * d->w + ix;
}

void movl_ref_conv_forward(const movl_conv_desc *d, const double *x, const double *w, const double *bias, movl_act act,
                           double *y)
{
    int cin_g = d->cin / d->groups, cout_g = d->cout / d->groups;
    long in_plane = (long)d->h * d->w, out_plane = (long)d->oh * d->ow;
    for (int n = 0; n < d->n; n++)
        for (int co = 0; co < d->cout; co++) {
            int g = co / cout_g;
            const double *wc = w + (long)co * cin_g * d->k * d->k;
            double *yp = y + ((long)n * d->cout + co) * out_plane;
            for (int oy = 0; oy < d->oh; oy++)
                for (int ox = 0; ox < d->ow; ox++) {
                    double s = 0;
                    for (int ci = 0; ci < cin_g; ci++) {
                        const double *xp = x + ((long)n * d->cin + g * cin_g + ci) * in_plane;
                        for (int kh = 0; kh < d->k; kh++)
                            for (int kw = 0; kw < d->k; kw++) {
                                long t = tap_index(d, oy, ox, kh, kw);
                                if (t >= 0)
                                    s += xp[t] * wc[(ci * d->k + kh) * d->k + kw];
                            }
                    }
                    if (bias)
                        s += bias[co];
                    yp[(long)oy * d->ow + ox] = movl_ref_act(act, s);
                }
        }
}

void movl_ref_conv_backward_input(const movl_conv_desc *d, const double *w, const double *dy, double *dx)
{
    int cin_g = d->cin / d->groups, cout_g = d->cout / d->groups;
    long in_plane = (long)d->h * d->w, out_plane = (long)d->oh * d->ow;
    memset(dx, 0, sizeof(double) * (size_t)d->n * d->cin * in_plane);
    for (int n = 0; n < d->n; n++)
        for (int co = 0; co < d->cout; co++) {
            int g = co / cout_g;
            const double *wc = w + (long)co * cin_g * d->k * d->k;
            const double *gp = dy + ((long)n * d->cout + co) * out_plane;
            for (int oy = 0; oy < d->oh; oy++)
                for (int ox = 0; ox < d->ow; ox++) {
                    double gv = gp[(long)oy * d->ow + ox];
                    for (int ci = 0; ci < cin_g; ci++) {
                        double *xp = dx + ((long)n * d->cin + g * cin_g + ci) * in_plane;
                        for (int kh = 0; kh < d->k; kh++)
                            for (int kw = 0; kw < d->k; kw++) {
                                long t = tap_index(d, oy, ox, kh, kw);
                                if (t >= 0)
                                    xp[t] += gv * wc[(ci * d->k + kh) * d->k + kw];
                            }
                    }
                }
        }
}

void movl_ref_conv_backward_weights(const movl_conv_desc *d, const double *x, const double *dy, double *dw,
                                    double *db)
{
    int cin_g = d->cin / d->groups, cout_g = d->cout / d->groups;
    long in_plane = (long)d->h * d->w, out_plane = (long)d->oh * d->ow;
    memset(dw, 0, sizeof(double) * (size_t)d->cout * cin_g * d->k * d->k);
    if (db)
        memset(db, 0, sizeof(double) * (size_t)d->cout);
    for (int n = 0; n < d->n; n++)
        for (int co = 0; co < d->cout; co++) {
            int g = co / cout_g;
            double *wc = dw + (long)co * cin_g * d->k * d->k;
            const double *gp = dy + ((long)n * d->cout + co) * out_plane;
            for (int oy = 0; oy < d->oh; oy++)
                for (int ox = 0; ox < d->ow; ox++) {
                    double gv = gp[(long)oy * d->ow + ox];
                    if (db)
                        db[co] += gv;
                    for (int ci = 0; ci < cin_g; ci++) {
                        const double *xp = x + ((long)n * d->cin + g * cin_g + ci) * in_plane;
                        for (int kh = 0; kh < d->k; kh++)
                            for (int kw = 0; kw < d->k; kw++) {
                                long t = tap_index(d, oy, ox, kh, kw);
                                if (t >= 0)
                                    wc[(ci * d->k + kh) * d->k + kw] += gv * xp[t];
                            }
                    }
                }
        }
}

double movl_conv_macs(const movl_conv_desc *d)
{
    return (double)d->n * d->cout * d->oh * d->ow * (double)(d->cin / d->groups) * d->k * d->k;
}
