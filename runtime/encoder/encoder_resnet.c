/* torchvision ResNet-18/34/50 (v1.5: the stride of a bottleneck sits on its
 * 3x3 conv), tensor names as in torchvision's state_dict. Every conv is
 * followed by a batch norm (eps 1e-5) folded into it; each residual add is
 * fused with the ReLU after it. */
#include <stdio.h>

#include "core/common.h"
#include "encoder/encoder_internal.h"

#define BN_EPS 1e-5

/* conv `prefix`convN + bn `prefix`bnN. */
static int conv_bn(movl_encoder *e, const movl_weights *w, int in, const char *prefix, int n, int cout, int k,
                   int stride, movl_act act, int *out, char *err)
{
    char name[64], conv[128], bn[128];
    snprintf(name, sizeof name, "%sconv%d", prefix, n);
    snprintf(conv, sizeof conv, "%s.weight", name);
    snprintf(bn, sizeof bn, "%sbn%d", prefix, n);
    return enc_conv_bn(e, w, in, conv, bn, cout, k, stride, k / 2, 1, BN_EPS, act, name, out, err);
}

/* One residual block named e.g. "layer2.0." reading tensor x. */
static int block(movl_encoder *e, const movl_weights *w, int x, const char *prefix, int planes, int stride,
                 int bottleneck, int *out, char *err)
{
    int expansion = bottleneck ? 4 : 1, h, rc;
    if (bottleneck) {
        if ((rc = conv_bn(e, w, x, prefix, 1, planes, 1, 1, MOVL_ACT_RELU, &h, err)) ||
            (rc = conv_bn(e, w, h, prefix, 2, planes, 3, stride, MOVL_ACT_RELU, &h, err)) ||
            (rc = conv_bn(e, w, h, prefix, 3, planes * 4, 1, 1, MOVL_ACT_NONE, &h, err)))
            return rc;
    } else {
        if ((rc = conv_bn(e, w, x, prefix, 1, planes, 3, stride, MOVL_ACT_RELU, &h, err)) ||
            (rc = conv_bn(e, w, h, prefix, 2, planes, 3, 1, MOVL_ACT_NONE, &h, err)))
            return rc;
    }
    int skip = x;
    if (stride != 1 || e->tensors[x].c != planes * expansion) {
        char name[64], conv[128], bn[128];
        snprintf(name, sizeof name, "%sdownsample", prefix);
        snprintf(conv, sizeof conv, "%s.0.weight", name);
        snprintf(bn, sizeof bn, "%s.1", name);
        if ((rc = enc_conv_bn(e, w, x, conv, bn, planes * expansion, 1, stride, 0, 1, BN_EPS, MOVL_ACT_NONE, name,
                              &skip, err)))
            return rc;
    }
    char name[64];
    snprintf(name, sizeof name, "%sadd_relu", prefix);
    return enc_add(e, h, skip, MOVL_ACT_RELU, name, out, err);
}

int enc_build_resnet(movl_encoder *e, const movl_weights *w, int depth, char *err)
{
    static const int blocks18[4] = {2, 2, 2, 2}, blocks34_50[4] = {3, 4, 6, 3};
    const int *blocks = depth == 18 ? blocks18 : blocks34_50;
    int bottleneck = depth == 50, x, rc;
    /* ImageNet statistics, as in torchvision's transforms for these weights. */
    const float mean[3] = {0.485f, 0.456f, 0.406f}, std[3] = {0.229f, 0.224f, 0.225f};
    for (int c = 0; c < 3; c++) {
        e->mean[c] = mean[c];
        e->std[c] = std[c];
    }
    if ((rc = enc_input(e, err)) ||
        (rc = enc_conv_bn(e, w, 0, "conv1.weight", "bn1", 64, 7, 2, 3, 1, BN_EPS, MOVL_ACT_RELU, "conv1", &x, err)) ||
        (rc = enc_maxpool(e, x, 3, 2, 1, "maxpool", &x, err)))
        return rc;
    for (int stage = 0; stage < 4; stage++)
        for (int b = 0; b < blocks[stage]; b++) {
            char prefix[32];
            snprintf(prefix, sizeof prefix, "layer%d.%d.", stage + 1, b);
            int stride = (stage > 0 && b == 0) ? 2 : 1;
            if ((rc = block(e, w, x, prefix, 64 << stage, stride, bottleneck, &x, err)))
                return rc;
        }
    if ((rc = enc_gap(e, x, "avgpool", &e->t_features, err)) ||
        (rc = enc_linear(e, w, e->t_features, "fc.weight", "fc.bias", "fc", &e->t_logits, err)))
        return rc;
    return MOVL_OK;
}
