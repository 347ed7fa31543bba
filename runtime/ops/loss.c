/* Launcher of the softmax cross-entropy loss (cl/loss.cl). */
#include <limits.h>

#include "core/common.h"
#include "ops/ops.h"

int movl_softmax_xent(movl_device *dev, int batch, int k, cl_mem z, cl_mem labels, cl_mem loss, cl_mem dz,
                      char *err)
{
    if (batch < 1 || k < 1 || (double)batch * k > INT_MAX - 1024) {
        movl_set_error(err, "softmax_xent: bad shape batch=%d classes=%d (expected positive sizes, fewer than 2^31 "
                       "logits)", batch, k);
        return MOVL_ERR_RUN;
    }
    cl_kernel kern = movl_kernel(dev, "loss", "", "softmax_xent", err);
    if (!kern)
        return MOVL_ERR_RUN;
    float inv_batch = 1.0f / (float)batch;
    if (movl_set_args(kern, err, sizeof batch, &batch, sizeof k, &k, sizeof inv_batch, &inv_batch, sizeof z, &z,
                      sizeof labels, &labels, sizeof loss, &loss, sizeof dz, &dz, (size_t)0))
        return MOVL_ERR_RUN;
    /* Few samples: small groups, so a GPU spreads them over compute units. */
    size_t global = (size_t)batch, local = 32;
    if (dev->info.max_work_group && local > dev->info.max_work_group)
        local = dev->info.max_work_group;
    return movl_launch(dev, kern, 1, &global, &local, err);
}
