/* The op tests drive one conv call at a time with the options in the
 * environment (MOVL_CONV_VARIANT, MOVL_CONV_PREP_LIMIT, set per case), so
 * each call here makes a plan for d, packs w into it, runs and frees it.
 * The encoder instead plans once at load; planning per call is fine for a test. */
#include "conv_adapter.h"

#include <stddef.h>

#include "core/common.h"

static int make_plan_for(movl_device *dev, const movl_conv_desc *d, cl_mem w, int weight_grads,
                         movl_conv_plan **plan, char *err)
{
    movl_conv_options o;
    movl_conv_options_from_env(&o);
    o.weight_grads = weight_grads;
    if (movl_conv_plan_create(dev, d, &o, plan, err))
        return MOVL_ERR_RUN;
    if (w && movl_conv_plan_set_weights(*plan, w, err)) {
        movl_conv_plan_free(*plan);
        *plan = NULL;
        return MOVL_ERR_RUN;
    }
    return MOVL_OK;
}

static int make_plan(movl_device *dev, const movl_conv_desc *d, cl_mem w, movl_conv_plan **plan, char *err)
{
    return make_plan_for(dev, d, w, 0, plan, err);
}

size_t conv_case_workspace_bytes_for(movl_device *dev, const movl_conv_desc *d, int weight_grads)
{
    char err[MOVL_ERRLEN];
    movl_conv_plan *p = NULL;
    size_t bytes =
        make_plan_for(dev, d, NULL, weight_grads, &p, err) == MOVL_OK ? movl_conv_plan_workspace_bytes(p) : 0;
    movl_conv_plan_free(p);
    return bytes;
}

size_t conv_case_workspace_bytes(movl_device *dev, const movl_conv_desc *d)
{
    return conv_case_workspace_bytes_for(dev, d, 0);
}

int conv_case_run_forward(movl_device *dev, const movl_conv_desc *d, cl_mem x, cl_mem w, cl_mem bias, movl_act act,
                          cl_mem y, cl_mem workspace, char *err)
{
    movl_conv_plan *p = NULL;
    int rc = make_plan(dev, d, w, &p, err);
    if (rc == MOVL_OK)
        rc = movl_conv_forward(p, d->n, x, bias, act, y, workspace, err);
    movl_conv_plan_free(p);
    return rc;
}

int conv_case_run_backward(movl_device *dev, const movl_conv_desc *d, cl_mem w, cl_mem dy, cl_mem dx, cl_mem workspace,
                           char *err)
{
    return conv_case_run_backward_batch(dev, d, d->n, w, dy, dx, workspace, err);
}

int conv_case_run_backward_batch(movl_device *dev, const movl_conv_desc *d, int batch, cl_mem w, cl_mem dy, cl_mem dx,
                                 cl_mem workspace, char *err)
{
    movl_conv_plan *p = NULL;
    int rc = make_plan(dev, d, w, &p, err);
    if (rc == MOVL_OK)
        rc = movl_conv_backward_input(p, batch, dy, dx, workspace, err);
    movl_conv_plan_free(p);
    return rc;
}

int conv_case_run_backward_weights(movl_device *dev, const movl_conv_desc *d, int batch, int weight_grads, cl_mem x,
                                   cl_mem dz, cl_mem dw, cl_mem db, cl_mem workspace, char *err)
{
    movl_conv_plan *p = NULL;
    int rc = make_plan_for(dev, d, NULL, weight_grads, &p, err);
    if (rc == MOVL_OK)
        rc = movl_conv_backward_weights(p, batch, x, dz, dw, db, workspace, err);
    movl_conv_plan_free(p);
    return rc;
}
