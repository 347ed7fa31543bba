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
