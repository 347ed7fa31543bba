/* Conv + batch-norm folding and shape-checked tensor reads. */
#include "encoder/bn_fold.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"

static void shape_text(char *dst, size_t n, int ndim, const int64_t *shape)
{
    size_t used = (size_t)snprintf(dst, n, "[");
    for (int i = 0; i < ndim && used < n; i++)
        used += (size_t)snprintf(dst + used, n - used, "%s%lld", i ? "," : "", (long long)shape[i]);
    if (used < n)
        snprintf(dst + used, n - used, "]");
}

/* Deterministic stand-in weights (w == NULL: benchmarks need no checkpoint):
 * a hash of the tensor name seeds the values; conv/linear weights are
 * uniform with variance 2/fan_in (He), batch-norm statistics near identity,
 * so activations stay in a realistic range through deep networks. */
static void fill_random(const char *name, int ndim, const int64_t *shape, float *dst)
{
    uint64_t h = 1469598103934665603ull;
    for (const char *c = name; *c; c++)
        h = (h ^ (unsigned char)*c) * 1099511628211ull;
    size_t n = 1, fan_in = 1;
    for (int i = 0; i < ndim; i++)
        n *= (size_t)shape[i];
    for (int i = 1; i < ndim; i++)
        fan_in *= (size_t)shape[i];
    size_t len = strlen(name);
    int is_var = len >= 11 && !strcmp(name + len - 11, "running_var");
    int is_mean = len >= 12 && !strcmp(name + len - 12, "running_mean");
    int is_bias = len >= 4 && !strcmp(name + len - 4, "bias");
    double limit = ndim >= 2 ? sqrt(6.0 / (double)fan_in) : 0.1;
    for (size_t i = 0; i < n; i++) {
        h = h * 6364136223846793005ull + 1442695040888963407ull;
        double u = (double)(h >> 11) * (1.0 / 9007199254740992.0) * 2.0 - 1.0; /* [-1, 1) */
        if (is_var)
            dst[i] = (float)(1.0 + 0.1 * u * u);
        else if (is_mean || is_bias)
            dst[i] = (float)(0.05 * u);
        else if (ndim == 1)
            dst[i] = (float)(1.0 + 0.1 * u); /* batch-norm gamma */
        else
            dst[i] = (float)(limit * u);
    }
}

int movl_read_shaped(const movl_weights *w, const char *name, int ndim, const int64_t *shape, float *dst,
                     char *err)
{
    if (!w) {
        fill_random(name, ndim, shape, dst);
        return MOVL_OK;
    }
    const movl_tensor_info *t = movl_weights_find(w, name);
    if (!t) {
        movl_set_error(err, "%s: missing tensor '%s'", movl_weights_path(w), name);
        return MOVL_ERR_INPUT;
    }
    int same = t->ndim == ndim;
    for (int i = 0; same && i < ndim; i++)
        same = t->shape[i] == shape[i];
    if (!same) {
        char got[128], want[128];
        shape_text(got, sizeof got, t->ndim, t->shape);
        shape_text(want, sizeof want, ndim, shape);
        movl_set_error(err, "%s: tensor '%s' has shape %s, expected %s", movl_weights_path(w), name, got, want);
        return MOVL_ERR_INPUT;
    }
    return movl_weights_read_f32(w, name, dst, t->numel, err);
}

int movl_read_conv_bn(const movl_weights *w, const char *conv, const char *bn, int cout, int cin_per_group, int k,
                      double eps, float *wout, float *bout, char *err)
{
    static const char *const parts[4] = {"weight", "bias", "running_mean", "running_var"};
    const int64_t wshape[4] = {cout, cin_per_group, k, k};
    const int64_t vshape[1] = {cout};
    float *bnv = malloc(sizeof(float) * 4 * (size_t)cout);
    if (!bnv) {
        movl_set_error(err, "out of host memory reading '%s'", conv);
        return MOVL_ERR_RUN;
    }
    int rc = movl_read_shaped(w, conv, 4, wshape, wout, err);
    for (int p = 0; p < 4 && rc == MOVL_OK; p++) {
        char name[256];
        snprintf(name, sizeof name, "%s.%s", bn, parts[p]);
        rc = movl_read_shaped(w, name, 1, vshape, bnv + (size_t)p * cout, err);
    }
    if (rc == MOVL_OK) {
        const float *gamma = bnv, *beta = bnv + cout, *mean = bnv + 2 * (size_t)cout, *var = bnv + 3 * (size_t)cout;
        size_t per_out = (size_t)cin_per_group * k * k;
        for (int o = 0; o < cout && rc == MOVL_OK; o++) {
            if (!(var[o] + eps > 0.0)) { /* also rejects NaN */
                movl_set_error(err, "%s: tensor '%s.running_var' holds %g at index %d, expected a value > -eps",
                               movl_weights_path(w), bn, (double)var[o], o);
                rc = MOVL_ERR_INPUT;
                break;
            }
            double s = (double)gamma[o] / sqrt((double)var[o] + eps);
            for (size_t i = 0; i < per_out; i++)
                wout[o * per_out + i] = (float)((double)wout[o * per_out + i] * s);
            bout[o] = (float)((double)beta[o] - (double)mean[o] * s);
        }
    }
    free(bnv);
    return rc;
}
