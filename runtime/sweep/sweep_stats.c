/* Student's t quantile for the confidence interval of a mean over seeds:
 * the t distribution's CDF through the regularised incomplete beta function
 * (continued fraction, modified Lentz), inverted by bisection. */
#include <math.h>

#include "sweep/sweep.h"

/* Continued fraction of I_x(a, b) (valid for x < (a + 1) / (a + b + 2)). */
static double beta_cf(double a, double b, double x)
{
    const double tiny = 1e-300;
    double c = 1, d = 1 - (a + b) * x / (a + 1);
    d = fabs(d) < tiny ? tiny : d;
    d = 1 / d;
    double h = d;
    for (int m = 1; m <= 300; m++) {
        for (int odd = 0; odd < 2; odd++) {
            double num = odd ? -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
                             : m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m));
            d = 1 + num * d;
            d = fabs(d) < tiny ? tiny : d;
            c = 1 + num / c;
            c = fabs(c) < tiny ? tiny : c;
            d = 1 / d;
            double step = c * d;
            h *= step;
            if (odd && fabs(step - 1) < 1e-15)
                return h;
        }
    }
    return h;
}

/* Regularised incomplete beta I_x(a, b), 0 <= x <= 1. */
static double inc_beta(double a, double b, double x)
{
    if (x <= 0)
        return 0;
    if (x >= 1)
        return 1;
    double front = exp(lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x));
    if (x < (a + 1) / (a + b + 2))
        return front * beta_cf(a, b, x) / a;
    return 1 - front * beta_cf(b, a, 1 - x) / b;
}

/* P(T <= t) for t >= 0 and df degrees of freedom. */
static double t_cdf(double t, double df)
{
    return 1 - 0.5 * inc_beta(df / 2, 0.5, df / (df + t * t));
}

double movl_student_t_quantile(double p, int df)
{
    if (df < 1 || !(p > 0 && p < 1))
        return NAN;
    if (p < 0.5)
        return -movl_student_t_quantile(1 - p, df);
    double lo = 0, hi = 1;
    while (t_cdf(hi, df) < p && hi < 1e300)
        hi *= 2;
    for (int i = 0; i < 200 && hi - lo > 1e-13 * hi; i++) {
        double mid = 0.5 * (lo + hi);
        if (t_cdf(mid, df) < p)
            lo = mid;
        else
            hi = mid;
    }
    return 0.5 * (lo + hi);
}
