/* Launcher of the batched GEMM, the attention products: CLBlast's batched
 * SGEMM (one offset per matrix: the heads are column slices, so there is no
 * single batch stride) where the linear layer uses CLBlast (GPUs), else the
 * own kernel of cl/gemm_batched.cl (one program per transpose pair); the
 * same backend choice and fallback as the linear layer (ops/linear.h). The
 * descriptor is checked here so a wrong layout fails with a message instead
 * of reading out of bounds. */
#include <clblast_c.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/common.h"
#include "ops/linear.h"
#include "ops/ops.h"
#include "device/build_options.h"
#include "device/launch_shape.h"

enum { TILE_N = 4 }; /* TN of the scalar kernel, and the columns of gemm_batched_dot */

/* Every size positive and every leading dimension at least its stored row's length. */
static int valid_desc(const movl_gemm_batch_desc *d, char *err)
{
    if (d->batch1 < 1 || d->batch2 < 1 || d->m < 1 || d->n < 1 || d->k < 1) {
        movl_set_error(err, "gemm_batched: batches %d x %d of %d x %d x %d (expected all >= 1)", d->batch1,
                       d->batch2, d->m, d->n, d->k);
        return 0;
    }
    size_t cols_a = (size_t)(d->trans_a ? d->m : d->k), cols_b = (size_t)(d->trans_b ? d->k : d->n);
    if (d->a.ld < cols_a || d->b.ld < cols_b || d->c.ld < (size_t)d->n) {
        movl_set_error(err, "gemm_batched: leading dimensions %zu, %zu, %zu below the rows' %zu, %zu, %d", d->a.ld,
                       d->b.ld, d->c.ld, cols_a, cols_b, d->n);
        return 0;
    }
    return 1;
}

static cl_ulong4 operand(const movl_gemm_operand *o)
{
    cl_ulong4 v;
    v.s[0] = o->offset;
    v.s[1] = o->ld;
    v.s[2] = o->stride1;
    v.s[3] = o->stride2;
    return v;
}

/* CLBlast's batched SGEMM over every (batch1, batch2) matrix; its status (0: done, -1: out of host memory). */
static int bgemm_clblast(movl_device *dev, const movl_gemm_batch_desc *d, cl_mem A, cl_mem B, cl_mem C)
{
    size_t count = (size_t)d->batch1 * d->batch2;
    size_t *off = malloc(sizeof(size_t) * 3 * count);
    float *ab = malloc(sizeof(float) * 2 * count);
    if (!off || !ab) {
        free(off);
        free(ab);
        return -1;
    }
    for (size_t i = 0; i < count; i++) {
        size_t i1 = i / (size_t)d->batch2, i2 = i % (size_t)d->batch2;
        off[i] = d->a.offset + i1 * d->a.stride1 + i2 * d->a.stride2;
        off[count + i] = d->b.offset + i1 * d->b.stride1 + i2 * d->b.stride2;
        off[2 * count + i] = d->c.offset + i1 * d->c.stride1 + i2 * d->c.stride2;
        ab[i] = d->alpha;
        ab[count + i] = d->beta;
    }
    int status = (int)CLBlastSgemmBatched(CLBlastLayoutRowMajor, d->trans_a ? CLBlastTransposeYes : CLBlastTransposeNo,
                                          d->trans_b ? CLBlastTransposeYes : CLBlastTransposeNo, (size_t)d->m,
                                          (size_t)d->n, (size_t)d->k, ab, A, off, d->a.ld, B, off + count, d->b.ld,
                                          ab + count, C, off + 2 * count, d->c.ld, count, &dev->queue, NULL);
    free(off);
    free(ab);
    return status;
}

int movl_gemm_batched(movl_device *dev, const movl_gemm_batch_desc *d, cl_mem A, cl_mem B, cl_mem C, char *err)
{
    if (!valid_desc(d, err))
        return MOVL_ERR_RUN;
    if (movl_gemm_backend_for(dev) == MOVL_GEMM_CLBLAST) {
        int status = bgemm_clblast(dev, d, A, B, C);
        if (status == 0)
            return MOVL_OK;
        movl_gemm_clblast_failed(dev, status, "batched SGEMM");
    }
    /* the vector kernels where the shape allows (attention's products do), the scalar one otherwise */
    int vw = movl_ops_vector_width(dev);
    const char *name = "gemm_batched";
    size_t cols = TILE_N;
    if (!d->trans_a && d->trans_b)
        name = "gemm_batched_dot";
    else if (!d->trans_b && d->n % vw == 0)
        name = "gemm_batched_rows", cols = (size_t)vw;
    movl_build_options o;
    movl_options_init(&o);
    movl_options_int(&o, "TRANS_A", d->trans_a != 0);
    movl_options_int(&o, "TRANS_B", d->trans_b != 0);
    movl_options_int(&o, "VW", vw);
    cl_kernel k = movl_kernel_with_options(dev, "gemm_batched", &o, name, err);
    cl_ulong4 ao = operand(&d->a), bo = operand(&d->b), co = operand(&d->c);
    if (!k || movl_set_args(k, err, MOVL_ARG(d->m), MOVL_ARG(d->n), MOVL_ARG(d->k), MOVL_ARG(ao),
                            MOVL_ARG(bo), MOVL_ARG(co), MOVL_ARG(d->alpha), MOVL_ARG(d->beta), MOVL_ARG(A),
                            MOVL_ARG(B), MOVL_ARG(C), MOVL_ARGS_END))
        return MOVL_ERR_RUN;
    size_t global[3] = {((size_t)d->n + cols - 1) / cols, (size_t)d->batch2, (size_t)d->batch1};
    return movl_launch(dev, k, 3, global, NULL, err);
}
