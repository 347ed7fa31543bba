/* Launchers of the linear layer (PyTorch nn.Linear layout). The GEMMs go
 * through CLBlast or through the own kernel of cl/linear.cl; see
 * movl_gemm_backend_for() for the choice. The bias gradient is always the
 * own column-sum kernel (a deterministic reduction, no atomics). */
#include "ops/linear.h"

#include <clblast_c.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "device/build_options.h"
#include "device/launch_shape.h"

/* Per-device state, kept in dev->blas_scratch (freed by movl_device_close). */
typedef struct linear_state {
    int clblast_failed; /* CLBlast returned an error once: do not retry it */
} linear_state;

static movl_gemm_backend chosen_backend = MOVL_GEMM_AUTO;

void movl_set_gemm_backend(movl_gemm_backend b) { chosen_backend = b; }

/* $MOVL_GEMM, read once: "clblast", "own", or unset (AUTO). */
static movl_gemm_backend env_backend(void)
{
    static int read;
    static movl_gemm_backend value = MOVL_GEMM_AUTO;
    if (!read) {
        read = 1;
        const char *s = getenv("MOVL_GEMM");
        if (s && !strcmp(s, "clblast"))
            value = MOVL_GEMM_CLBLAST;
        else if (s && !strcmp(s, "own"))
            value = MOVL_GEMM_OWN;
        else if (s && *s)
            fprintf(stderr, "movl: MOVL_GEMM='%s' ignored (expected clblast or own)\n", s);
    }
    return value;
}

static linear_state *state_of(movl_device *dev)
{
    if (!dev->blas_scratch)
        dev->blas_scratch = calloc(1, sizeof(linear_state));
    return dev->blas_scratch;
}

/* A kernel of cl/linear.cl, specialised for dev's vector width; the helper
 * kernels share the program of the plain (trans_a = 0) GEMMs. */
/* 16 lanes where the device prefers them (AVX-512), as the convolutions use; else movl_ops_vector_width. */
static int linear_vw(const movl_device *dev)
{
    return movl_preferred_float_width(dev) >= 16 ? 16 : movl_ops_vector_width(dev);
}

static cl_kernel linear_kernel(movl_device *dev, int trans_a, const char *name, char *err)
{
    movl_build_options o;
    movl_options_init(&o);
    movl_options_int(&o, "VW", linear_vw(dev));
    if (trans_a)
        movl_options_int(&o, "TRANS_A", 1);
    return movl_kernel_with_options(dev, "linear", &o, name, err);
}

movl_gemm_backend movl_gemm_backend_for(movl_device *dev)
{
    movl_gemm_backend b = chosen_backend;
    if (b == MOVL_GEMM_AUTO)
        b = env_backend();
    /* CLBlast's default parameters are GPU-tuned: on PoCL its SGEMM ran at
     * 1-2 GFLOP/s (the own kernels at 15-45), and its first call compiled
     * for 20-35 s on a 2-core machine. */
    if (b == MOVL_GEMM_AUTO)
        b = dev->info.is_cpu ? MOVL_GEMM_OWN : MOVL_GEMM_CLBLAST;
    linear_state *s = state_of(dev);
    if (b == MOVL_GEMM_CLBLAST && (!s || s->clblast_failed)) /* no state: cannot remember a failure */
        b = MOVL_GEMM_OWN;
    return b;
}

void movl_gemm_clblast_failed(movl_device *dev, int status, const char *what)
{
    linear_state *s = state_of(dev);
    if (s)
        s->clblast_failed = 1;
    if (movl_verbose)
        fprintf(stderr, "movl: CLBlast %s failed on '%s' (status %d); using the own GEMM kernels from now on\n", what,
                dev->info.name, status);
}

static int check_shape(const char *op, int batch, int in, int out, char *err)
{
    if (batch < 1 || in < 1 || out < 1 || (double)batch * in > INT_MAX - 1024 ||
        (double)batch * out > INT_MAX - 1024 || (double)in * out > INT_MAX - 1024) {
        movl_set_error(err, "%s: bad shape batch=%d in=%d out=%d (expected positive sizes, matrices below 2^31 "
                       "elements)", op, batch, in, out);
        return 0;
    }
    return 1;
}

/* c[rows][cols] = bias broadcast over rows (0 without bias). */
static int broadcast_rows(movl_device *dev, int rows, int cols, cl_mem bias, cl_mem c, char *err)
{
    cl_kernel k = linear_kernel(dev, 0, "broadcast_rows", err);
    if (!k || movl_set_args(k, err, sizeof rows, &rows, sizeof cols, &cols, sizeof bias, &bias, sizeof c, &c,
                            (size_t)0))
        return MOVL_ERR_RUN;
    size_t global = (size_t)rows * cols, local = movl_ops_group_size(dev);
    return movl_launch(dev, k, 1, &global, &local, err);
}

/* The own kernels cover the three products the layer needs: A*B^T
 * (gemm_dot), A*B and A^T*B (gemm_rows). */
static int gemm_own(movl_device *dev, int ta, int tb, int m, int n, int kk, cl_mem a, cl_mem b, cl_mem bias,
                    cl_mem c, char *err)
{
    if (ta && tb) {
        movl_set_error(err, "own GEMM: A^T * B^T is not implemented (the linear layer never asks for it)");
        return MOVL_ERR_RUN;
    }
    cl_kernel k = linear_kernel(dev, ta, tb ? "gemm_dot" : "gemm_rows", err);
    if (!k)
        return MOVL_ERR_RUN;
    int tile_n = tb ? 4 : 2 * linear_vw(dev), tile_m = tb ? 2 : 4;
    if (movl_set_args(k, err, sizeof m, &m, sizeof n, &n, sizeof kk, &kk, sizeof a, &a, sizeof b, &b, sizeof bias,
                      &bias, sizeof c, &c, (size_t)0))
        return MOVL_ERR_RUN;
    size_t tiles_n = ((size_t)n + tile_n - 1) / tile_n, tiles_m = ((size_t)m + tile_m - 1) / tile_m;
    size_t local0 = 16;
    while (local0 > 1 && local0 / 2 >= tiles_m)
        local0 /= 2;
    /* gemm_rows over many rows: blocks of ROW_BLOCK row tiles along dimension 2, each block's A rows
     * (ROW_BLOCK * 4 rows of kk floats) reused by every column tile from cache (at 1600 x 3072 x 768 the 2D
     * order streamed A from memory once per column tile: 62 GFLOP/s against 90 at 400 rows) */
    enum { ROW_BLOCK = 16 };
    if (!tb && tiles_m > 2 * ROW_BLOCK && tiles_m % ROW_BLOCK == 0) {
        size_t global3[3] = {ROW_BLOCK, tiles_n, tiles_m / ROW_BLOCK}, local3[3] = {local0, 1, 1};
        return movl_launch(dev, k, 3, global3, local3, err);
    }
    size_t global[2] = {tiles_m, tiles_n}, local[2] = {local0, 1};
    return movl_launch(dev, k, 2, global, local, err);
}

/* CLBlast row-major SGEMM; returns its status (0 = success). */
static int gemm_clblast(movl_device *dev, int ta, int tb, int m, int n, int kk, cl_mem a, cl_mem b, float beta,
                        cl_mem c)
{
    size_t lda = ta ? (size_t)m : (size_t)kk, ldb = tb ? (size_t)kk : (size_t)n;
    return (int)CLBlastSgemm(CLBlastLayoutRowMajor, ta ? CLBlastTransposeYes : CLBlastTransposeNo,
                             tb ? CLBlastTransposeYes : CLBlastTransposeNo, (size_t)m, (size_t)n, (size_t)kk, 1.0f, a,
                             0, lda, b, 0, ldb, beta, c, 0, (size_t)n, &dev->queue, NULL);
}

/* c[m][n] = op(a)[m][kk] * op(b)[kk][n] (+ bias[n]), through the backend of
 * movl_gemm_backend_for(); a CLBlast error switches dev to the own kernel. */
static int gemm(movl_device *dev, int ta, int tb, int m, int n, int kk, cl_mem a, cl_mem b, cl_mem bias, cl_mem c,
                char *err)
{
    if (movl_gemm_backend_for(dev) == MOVL_GEMM_CLBLAST) {
        if (bias && broadcast_rows(dev, m, n, bias, c, err))
            return MOVL_ERR_RUN;
        int status = gemm_clblast(dev, ta, tb, m, n, kk, a, b, bias ? 1.0f : 0.0f, c);
        if (status == 0)
            return MOVL_OK;
        movl_gemm_clblast_failed(dev, status, "SGEMM");
    }
    return gemm_own(dev, ta, tb, m, n, kk, a, b, bias, c, err);
}

int movl_linear_forward(movl_device *dev, int batch, int in, int out, cl_mem x, cl_mem W, cl_mem bias, cl_mem y,
                        char *err)
{
    if (!check_shape("linear_forward", batch, in, out, err))
        return MOVL_ERR_RUN;
    /* y[batch][out] = x[batch][in] * W[out][in]^T */
    return gemm(dev, 0, 1, batch, out, in, x, W, bias, y, err);
}

int movl_linear_backward_input(movl_device *dev, int batch, int in, int out, cl_mem W, cl_mem dy, cl_mem dx,
                               char *err)
{
    if (!check_shape("linear_backward_input", batch, in, out, err))
        return MOVL_ERR_RUN;
    /* dx[batch][in] = dy[batch][out] * W[out][in] */
    return gemm(dev, 0, 0, batch, in, out, dy, W, NULL, dx, err);
}

int movl_linear_backward_params(movl_device *dev, int batch, int in, int out, cl_mem x, cl_mem dy, cl_mem dW,
                                cl_mem db, char *err)
{
    if (!check_shape("linear_backward_params", batch, in, out, err))
        return MOVL_ERR_RUN;
    /* dW[out][in] = dy[batch][out]^T * x[batch][in] */
    if (gemm(dev, 1, 0, out, in, batch, dy, x, NULL, dW, err))
        return MOVL_ERR_RUN;
    if (!db)
        return MOVL_OK;
    cl_kernel k = linear_kernel(dev, 0, "column_sum", err);
    if (!k || movl_set_args(k, err, sizeof batch, &batch, sizeof out, &out, sizeof dy, &dy, sizeof db, &db, (size_t)0))
        return MOVL_ERR_RUN;
    size_t global = (size_t)out, local = movl_ops_group_size(dev);
    return movl_launch(dev, k, 1, &global, &local, err);
}
