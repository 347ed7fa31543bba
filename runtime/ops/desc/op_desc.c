/* Output sizes and padding of the op descriptors. */
#include "ops/desc/op_desc.h"

void movl_conv_desc_init(movl_conv_desc *d, int n, int cin, int h, int w, int cout, int k, int stride, int pad,
                         int groups)
{
    d->n = n;
    d->cin = cin;
    d->h = h;
    d->w = w;
    d->cout = cout;
    d->k = k;
    d->stride = stride;
    d->groups = groups;
    d->pad_t = pad;
    d->pad_l = pad;
    d->oh = stride > 0 ? (h + 2 * pad - k) / stride + 1 : 0;
    d->ow = stride > 0 ? (w + 2 * pad - k) / stride + 1 : 0;
}

/* Output size and leading padding of TensorFlow "same" along one dimension. */
static int same_pad(int size, int k, int stride, int *out)
{
    *out = (size + stride - 1) / stride;
    int total = (*out - 1) * stride + k - size;
    return total > 0 ? total / 2 : 0;
}

void movl_conv_desc_init_same(movl_conv_desc *d, int n, int cin, int h, int w, int cout, int k, int stride, int groups)
{
    movl_conv_desc_init(d, n, cin, h, w, cout, k, stride, 0, groups);
    if (stride < 1)
        return;
    d->pad_t = same_pad(h, k, stride, &d->oh);
    d->pad_l = same_pad(w, k, stride, &d->ow);
}

void movl_pool_desc_init(movl_pool_desc *d, int n, int c, int h, int w, int k, int stride, int pad)
{
    d->n = n;
    d->c = c;
    d->h = h;
    d->w = w;
    d->k = k;
    d->stride = stride;
    d->pad = pad;
    d->oh = stride > 0 ? (h + 2 * pad - k) / stride + 1 : 0;
    d->ow = stride > 0 ? (w + 2 * pad - k) / stride + 1 : 0;
}

size_t movl_gemm_operand_extent(const movl_gemm_batch_desc *d, char which)
{
    if (d->batch1 < 1 || d->batch2 < 1 || d->m < 1 || d->n < 1 || d->k < 1)
        return 0;
    const movl_gemm_operand *o = which == 'a' ? &d->a : which == 'b' ? &d->b : &d->c;
    /* rows x cols as stored: op(A) = m x k is stored k x m when transposed */
    size_t rows = (size_t)d->m, cols = (size_t)d->n;
    if (which == 'a') {
        rows = (size_t)(d->trans_a ? d->k : d->m);
        cols = (size_t)(d->trans_a ? d->m : d->k);
    } else if (which == 'b') {
        rows = (size_t)(d->trans_b ? d->n : d->k);
        cols = (size_t)(d->trans_b ? d->k : d->n);
    }
    return o->offset + (size_t)(d->batch1 - 1) * o->stride1 + (size_t)(d->batch2 - 1) * o->stride2 +
           (rows - 1) * o->ld + cols;
}
