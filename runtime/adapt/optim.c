/* SGD / Adam launchers (cl/optim.cl), their device state, and the host
 * learning-rate schedules (see optim.h). */
#include "adapt/optim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "device/launch_shape.h"

movl_opt_config movl_opt_defaults(movl_opt_kind kind)
{
    movl_opt_config c;
    memset(&c, 0, sizeof c);
    c.kind = kind;
    c.beta1 = 0.9f;
    c.beta2 = 0.999f;
    c.eps = 1e-8f;
    return c;
}

int movl_opt_kind_parse(const char *name, movl_opt_kind *out, char *err)
{
    if (name && !strcmp(name, "sgd")) {
        *out = MOVL_OPT_SGD;
        return MOVL_OK;
    }
    if (name && !strcmp(name, "adam")) {
        *out = MOVL_OPT_ADAM;
        return MOVL_OK;
    }
    movl_set_error(err, "unknown optimizer '%s' (expected sgd or adam)", name ? name : "");
    return MOVL_ERR_INPUT;
}

/* 0 <= v < 1 and finite. */
static int unit(float v) { return v >= 0 && v < 1; }

int movl_opt_check(const movl_opt_config *c, char *err)
{
    if (c->kind != MOVL_OPT_SGD && c->kind != MOVL_OPT_ADAM) {
        movl_set_error(err, "optimizer: unknown kind %d (expected sgd or adam)", (int)c->kind);
        return MOVL_ERR_INPUT;
    }
    if (!(c->weight_decay >= 0) || !isfinite(c->weight_decay)) {
        movl_set_error(err, "optimizer: weight_decay %g (expected a finite value >= 0)", c->weight_decay);
        return MOVL_ERR_INPUT;
    }
    if (c->kind == MOVL_OPT_SGD) {
        if (!unit(c->momentum)) {
            movl_set_error(err, "optimizer sgd: momentum %g (expected 0 <= momentum < 1)", c->momentum);
            return MOVL_ERR_INPUT;
        }
        if (c->nesterov && c->momentum == 0) {
            movl_set_error(err, "optimizer sgd: nesterov needs momentum > 0");
            return MOVL_ERR_INPUT;
        }
    } else {
        if (!unit(c->beta1) || !unit(c->beta2)) {
            movl_set_error(err, "optimizer adam: betas %g, %g (expected each in [0, 1))", c->beta1, c->beta2);
            return MOVL_ERR_INPUT;
        }
        if (!(c->eps > 0) || !isfinite(c->eps)) {
            movl_set_error(err, "optimizer adam: eps %g (expected a finite value > 0)", c->eps);
            return MOVL_ERR_INPUT;
        }
    }
    return MOVL_OK;
}

size_t movl_opt_state_floats(const movl_optimizer *o)
{
    if (o->cfg.kind == MOVL_OPT_ADAM)
        return 2 * o->n;
    return o->cfg.momentum != 0 ? o->n : 0;
}

int movl_opt_init(movl_optimizer *o, movl_device *dev, const movl_opt_config *cfg, size_t n, char *err)
{
    memset(o, 0, sizeof *o);
    if (movl_opt_check(cfg, err))
        return MOVL_ERR_INPUT;
    if (n < 1) {
        movl_set_error(err, "optimizer: %zu parameters (expected >= 1)", n);
        return MOVL_ERR_RUN;
    }
    o->dev = dev;
    o->cfg = *cfg;
    o->n = n;
    size_t floats = movl_opt_state_floats(o);
    if (!floats)
        return MOVL_OK;
    o->state = movl_buffer(dev, floats * sizeof(float), err);
    /* Zeros uploaded from the host rather than clEnqueueFillBuffer: oclgrind
     * counts only the first pattern of a fill as initialised, and this runs
     * once per training, not per step. */
    float *zeros = calloc(floats, sizeof *zeros);
    if (!zeros && o->state)
        movl_set_error(err, "optimizer: out of host memory for %zu state values", floats);
    int bad = !o->state || !zeros || movl_upload(dev, o->state, zeros, floats * sizeof(float), err);
    free(zeros);
    if (bad) {
        movl_opt_free(o);
        return MOVL_ERR_RUN;
    }
    return MOVL_OK;
}

void movl_opt_free(movl_optimizer *o)
{
    if (o->state)
        clReleaseMemObject(o->state);
    o->state = NULL;
}

static int launch(movl_optimizer *o, cl_kernel k, char *err)
{
    size_t global = o->n, local = movl_ops_group_size(o->dev);
    return movl_launch(o->dev, k, 1, &global, &local, err);
}

int movl_opt_step(movl_optimizer *o, cl_mem param, cl_mem grad, double lr, long step, char *err)
{
    if (step < 1 || !isfinite(lr)) {
        movl_set_error(err, "optimizer step: step %ld lr %g (expected step >= 1, finite lr)", step, lr);
        return MOVL_ERR_RUN;
    }
    cl_ulong n = o->n;
    float wd = o->cfg.weight_decay;
    if (o->cfg.kind == MOVL_OPT_SGD) {
        cl_kernel k = movl_kernel(o->dev, "optim", "", "sgd_step", err);
        if (!k)
            return MOVL_ERR_RUN;
        float flr = (float)lr, mom = o->cfg.momentum;
        int nesterov = o->cfg.nesterov != 0, first = step == 1;
        cl_mem buf = o->state;
        if (movl_set_args(k, err, MOVL_ARG(n), MOVL_ARG(flr), MOVL_ARG(mom), MOVL_ARG(wd), MOVL_ARG(nesterov),
                          MOVL_ARG(first), MOVL_ARG(param), MOVL_ARG(grad), MOVL_ARG(buf), MOVL_ARGS_END))
            return MOVL_ERR_RUN;
        return launch(o, k, err);
    }
    cl_kernel k = movl_kernel(o->dev, "optim", "", "adam_step", err);
    if (!k)
        return MOVL_ERR_RUN;
    double b1 = o->cfg.beta1, b2 = o->cfg.beta2;
    float step_size = (float)(lr / (1.0 - pow(b1, (double)step)));
    float sqrt_bc2 = (float)sqrt(1.0 - pow(b2, (double)step));
    float fb1 = o->cfg.beta1, fb2 = o->cfg.beta2, eps = o->cfg.eps;
    if (movl_set_args(k, err, MOVL_ARG(n), MOVL_ARG(step_size), MOVL_ARG(fb1), MOVL_ARG(fb2), MOVL_ARG(eps),
                      MOVL_ARG(wd), MOVL_ARG(sqrt_bc2), MOVL_ARG(param), MOVL_ARG(grad), MOVL_ARG(o->state),
                      MOVL_ARGS_END))
        return MOVL_ERR_RUN;
    return launch(o, k, err);
}

int movl_opt_state_download(movl_optimizer *o, float *host, char *err)
{
    size_t floats = movl_opt_state_floats(o);
    if (!floats)
        return MOVL_OK;
    return movl_download(o->dev, o->state, host, floats * sizeof(float), err) ? MOVL_ERR_RUN : MOVL_OK;
}

int movl_opt_state_upload(movl_optimizer *o, const float *host, char *err)
{
    size_t floats = movl_opt_state_floats(o);
    if (!floats)
        return MOVL_OK;
    return movl_upload(o->dev, o->state, host, floats * sizeof(float), err) ? MOVL_ERR_RUN : MOVL_OK;
}

/* Linear warm-up shared by both schedules: base * (t + 1) / warmup. */
static double warmup_lr(double base, long step, long warmup) { return base * (double)(step + 1) / (double)warmup; }

double movl_lr_cosine(double base, long step, long warmup, long total)
{
    if (step < 0)
        step = 0;
    if (step < warmup)
        return warmup_lr(base, step, warmup);
    if (total <= warmup)
        return base;
    if (step >= total)
        return 0.0;
    const double pi = 3.14159265358979323846;
    return 0.5 * (1.0 + cos(pi * (double)(step - warmup) / (double)(total - warmup))) * base;
}

double movl_lr_multistep(double base, long step, long warmup, const long *milestones, int n_milestones,
                         double gamma)
{
    if (step < 0)
        step = 0;
    if (step < warmup)
        return warmup_lr(base, step, warmup);
    double lr = base;
    for (int i = 0; i < n_milestones; i++)
        if (step >= milestones[i])
            lr *= gamma;
    return lr;
}
