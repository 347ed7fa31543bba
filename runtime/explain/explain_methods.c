/* Plain gradient, SmoothGrad and integrated gradients over the model
 * callback (explain.h): the images a method needs go through the model in
 * batches of at most max_batch, in a fixed order, and the gradients are
 * summed in double precision in that order, so a result replays exactly. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "core/rng.h"
#include "explain/explain.h"
#include "explain/explain_internal.h"

static const char *const names[] = {"grad", "smoothgrad", "integrated_gradients"};

const char *movl_explain_method_name(movl_explain_method m)
{
    return (unsigned)m < sizeof names / sizeof names[0] ? names[m] : NULL;
}

int movl_explain_method_parse(const char *name, movl_explain_method *out, char *err)
{
    for (int i = 0; i < (int)(sizeof names / sizeof names[0]); i++)
        if (name && !strcmp(name, names[i])) {
            *out = (movl_explain_method)i;
            return MOVL_OK;
        }
    if (name && !strcmp(name, "ig")) {
        *out = MOVL_EXPLAIN_IG;
        return MOVL_OK;
    }
    movl_set_error(err, "--method '%s' is not a method (expected grad, smoothgrad or integrated_gradients)",
                   name ? name : "");
    return MOVL_ERR_INPUT;
}

/* One normal draw (Box-Muller on two uniforms; the second value of the pair is dropped). */
static double normal(uint64_t *s)
{
    double u1 = movl_splitmix_uniform01(s), u2 = movl_splitmix_uniform01(s);
    return sqrt(-2.0 * log(1.0 - u1)) * cos(6.283185307179586 * u2);
}

int ex_check_opts(const movl_explain_model *m, int k, const movl_explain_opts *o, char *err)
{
    if (!m || !m->eval || m->numel == 0 || m->max_batch < 1 || k < 0 || k >= m->classes) {
        movl_set_error(err, "explain: class %d of %d, or no model", k, m ? m->classes : 0);
        return MOVL_ERR_INPUT;
    }
    if (o->method == MOVL_EXPLAIN_SMOOTHGRAD && (o->samples < 1 || !(o->noise >= 0) || !isfinite(o->noise))) {
        movl_set_error(err, "smoothgrad: %d samples, noise %g (expected samples >= 1, noise >= 0)", o->samples,
                       o->noise);
        return MOVL_ERR_INPUT;
    }
    if (o->method == MOVL_EXPLAIN_IG && (o->steps < 1 || !o->baseline)) {
        movl_set_error(err, "integrated gradients: %d steps%s (expected steps >= 1 and a baseline)", o->steps,
                       o->baseline ? "" : ", no baseline");
        return MOVL_ERR_INPUT;
    }
    if (!movl_explain_method_name(o->method)) {
        movl_set_error(err, "explain: unknown method %d", (int)o->method);
        return MOVL_ERR_INPUT;
    }
    return MOVL_OK;
}

/* Image j of a method's sequence: SmoothGrad's noisy copies (the stream s
 * advances), the integrated-gradients path; its weight into *w. */
static void make_image(const movl_explain_opts *o, const float *x, size_t numel, int j, double sigma, uint64_t *s,
                       float *out, double *w)
{
    if (o->method == MOVL_EXPLAIN_SMOOTHGRAD) {
        for (size_t e = 0; e < numel; e++)
            out[e] = (float)(x[e] + sigma * normal(s));
        *w = 1.0 / o->samples;
    } else if (o->method == MOVL_EXPLAIN_IG) {
        int m = o->steps;
        if (j == 0)
            memcpy(out, o->baseline, sizeof(float) * numel);
        else if (j == m)
            memcpy(out, x, sizeof(float) * numel);
        else
            for (size_t e = 0; e < numel; e++)
                out[e] = (float)(o->baseline[e] + (double)j / m * ((double)x[e] - o->baseline[e]));
        *w = j == 0 || j == m ? 0.5 / m : 1.0 / m;
    } else {
        memcpy(out, x, sizeof(float) * numel);
        *w = 1.0;
    }
}

int movl_explain_attribute(const movl_explain_model *m, const float *x, int k, const movl_explain_opts *o,
                           float *attr, movl_explain_result *r, char *err)
{
    int rc = ex_check_opts(m, k, o, err);
    if (rc)
        return rc;
    size_t numel = m->numel;
    int total = o->method == MOVL_EXPLAIN_SMOOTHGRAD ? o->samples : o->method == MOVL_EXPLAIN_IG ? o->steps + 1 : 1;
    double sigma = 0;
    if (o->method == MOVL_EXPLAIN_SMOOTHGRAD) {
        float lo = x[0], hi = x[0];
        for (size_t e = 1; e < numel; e++)
            lo = x[e] < lo ? x[e] : lo, hi = x[e] > hi ? x[e] : hi;
        sigma = o->noise * ((double)hi - lo);
    }
    ex_batch b = {0};
    double *acc = calloc(numel, sizeof(double));
    rc = acc ? ex_batch_alloc(m, &b, err) : MOVL_ERR_RUN;
    if (!acc)
        movl_set_error(err, "out of host memory for %zu values", numel);
    uint64_t s = o->seed;
    r->logit = r->baseline_logit = NAN;
    for (int j0 = 0; rc == MOVL_OK && j0 < total; j0 += m->max_batch) {
        int nb = total - j0 < m->max_batch ? total - j0 : m->max_batch;
        for (int i = 0; i < nb; i++) {
            make_image(o, x, numel, j0 + i, sigma, &s, b.x + (size_t)i * numel, &b.w[i]);
            b.cls[i] = k;
        }
        if ((rc = m->eval(m->ctx, nb, b.x, b.cls, b.logits, b.grad, err)))
            break;
        for (int i = 0; i < nb; i++) {
            const float *g = b.grad + (size_t)i * numel;
            for (size_t e = 0; e < numel; e++)
                acc[e] += b.w[i] * g[e];
            double z = b.logits[(size_t)i * m->classes + k];
            int j = j0 + i;
            if (o->method == MOVL_EXPLAIN_IG && j == 0)
                r->baseline_logit = z;
            if (o->method == MOVL_EXPLAIN_IG ? j == o->steps : o->method == MOVL_EXPLAIN_GRAD)
                r->logit = z;
        }
    }
    if (rc == MOVL_OK && o->method == MOVL_EXPLAIN_SMOOTHGRAD) {
        /* z_k(x) itself, not a noisy copy's */
        memcpy(b.x, x, sizeof(float) * numel);
        b.cls[0] = k;
        if ((rc = m->eval(m->ctx, 1, b.x, b.cls, b.logits, NULL, err)) == MOVL_OK)
            r->logit = b.logits[k];
    }
    if (rc == MOVL_OK) {
        double sum = 0;
        for (size_t e = 0; e < numel; e++) {
            double a = o->method == MOVL_EXPLAIN_IG ? ((double)x[e] - o->baseline[e]) * acc[e] : acc[e];
            attr[e] = (float)a;
            sum += a;
        }
        r->attribution_sum = sum;
        r->evaluations = total;
    }
    ex_batch_free(&b);
    free(acc);
    return rc;
}
