/* Launchers of ViT's input side (cl/tokens.cl): patch rows and the token embedding. */
#include "core/common.h"
#include "ops/ops.h"

static int valid(int n, int dim, int patches, const char *op, char *err)
{
    if (n >= 1 && dim >= 1 && patches >= 1)
        return 1;
    movl_set_error(err, "%s: %d images of %d patches x %d features (expected all >= 1)", op, n, patches, dim);
    return 0;
}

int movl_tokens_embed(movl_device *dev, int n, int dim, int patches, cl_mem patch, cl_mem cls, cl_mem pos, cl_mem tok,
                      char *err)
{
    if (!valid(n, dim, patches, "tokens_embed", err))
        return MOVL_ERR_RUN;
    cl_kernel k = movl_kernel(dev, "tokens", "", "tokens_embed", err);
    if (!k || movl_set_args(k, err, MOVL_ARG(dim), MOVL_ARG(patches), MOVL_ARG(patch), MOVL_ARG(cls), MOVL_ARG(pos),
                            MOVL_ARG(tok), MOVL_ARGS_END))
        return MOVL_ERR_RUN;
    size_t global[3] = {(size_t)dim, (size_t)patches + 1, (size_t)n};
    return movl_launch(dev, k, 3, global, NULL, err);
}

int movl_tokens_embed_backward(movl_device *dev, int n, int dim, int patches, cl_mem dtok, cl_mem dpatch, char *err)
{
    if (!valid(n, dim, patches, "tokens_embed_backward", err))
        return MOVL_ERR_RUN;
    cl_kernel k = movl_kernel(dev, "tokens", "", "tokens_embed_backward", err);
    if (!k || movl_set_args(k, err, MOVL_ARG(dim), MOVL_ARG(patches), MOVL_ARG(dtok), MOVL_ARG(dpatch), MOVL_ARGS_END))
        return MOVL_ERR_RUN;
    size_t global[3] = {(size_t)dim, (size_t)patches, (size_t)n};
    return movl_launch(dev, k, 3, global, NULL, err);
}

int movl_tokens_embed_backward_params(movl_device *dev, int n, int dim, int patches, cl_mem dtok, cl_mem dpos,
                                      cl_mem dcls, char *err)
{
    if (!valid(n, dim, patches, "tokens_embed_backward_params", err))
        return MOVL_ERR_RUN;
    cl_kernel k = movl_kernel(dev, "tokens", "", "tokens_embed_backward_params", err);
    int tokens = patches + 1;
    if (!k || movl_set_args(k, err, MOVL_ARG(n), MOVL_ARG(dim), MOVL_ARG(tokens), MOVL_ARG(dtok), MOVL_ARG(dpos),
                            MOVL_ARG(dcls), MOVL_ARGS_END))
        return MOVL_ERR_RUN;
    size_t global[2] = {(size_t)dim, (size_t)tokens};
    return movl_launch(dev, k, 2, global, NULL, err);
}

static int valid_patches(int n, int c, int size, int k, const char *op, char *err)
{
    if (n >= 1 && c >= 1 && k >= 1 && size >= k && size % k == 0)
        return 1;
    movl_set_error(err, "%s: %d images of %d x %d x %d in patches of %d (expected a size that is a multiple of the "
                   "patch)", op, n, c, size, size, k);
    return 0;
}

static int launch_patches(movl_device *dev, const char *name, int n, int c, int size, int k, cl_mem in, cl_mem out,
                          char *err)
{
    if (!valid_patches(n, c, size, k, name, err))
        return MOVL_ERR_RUN;
    cl_kernel kern = movl_kernel(dev, "tokens", "", name, err);
    if (!kern || movl_set_args(kern, err, MOVL_ARG(c), MOVL_ARG(size), MOVL_ARG(k), MOVL_ARG(in), MOVL_ARG(out),
                               MOVL_ARGS_END))
        return MOVL_ERR_RUN;
    size_t g = (size_t)(size / k), global[3] = {g, g, (size_t)n};
    return movl_launch(dev, kern, 3, global, NULL, err);
}

int movl_patchify(movl_device *dev, int n, int c, int size, int k, cl_mem x, cl_mem rows, char *err)
{
    return launch_patches(dev, "patchify", n, c, size, k, x, rows, err);
}

int movl_patchify_backward(movl_device *dev, int n, int c, int size, int k, cl_mem drows, cl_mem dx, char *err)
{
    return launch_patches(dev, "patchify_backward", n, c, size, k, drows, dx, err);
}
