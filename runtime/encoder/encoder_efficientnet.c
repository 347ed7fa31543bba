/* EfficientNet-Lite0..4 as in the efficientnet_lite_pytorch package (a port
 * of TensorFlow's efficientnet/lite builder): MBConv blocks without
 * squeeze-excitation, ReLU6, stem and head not scaled, TensorFlow "same"
 * padding, batch-norm eps 1e-3. Tensor names as in its state_dict. */
#include <math.h>
#include <stdio.h>

#include "core/common.h"
#include "encoder/encoder_internal.h"

#define BN_EPS 1e-3 /* GlobalParams.batch_norm_epsilon of efficientnet_lite() */

/* (width, depth) coefficients of lite0..4 (efficientnet_params). */
static const double coefficients[5][2] = {{1.0, 1.0}, {1.0, 1.1}, {1.1, 1.2}, {1.2, 1.4}, {1.4, 1.8}};

/* Stages of efficientnet_lite()'s block strings rN_kK_sS_eE_iI_oO. */
static const struct {
    int repeats, k, stride, expand, in, out;
} stages[7] = {
    {1, 3, 1, 1, 32, 16}, {2, 3, 2, 6, 16, 24},   {2, 5, 2, 6, 24, 40},  {3, 3, 2, 6, 40, 80},
    {3, 5, 1, 6, 80, 112}, {4, 5, 2, 6, 112, 192}, {1, 3, 1, 6, 192, 320},
};

/* round_filters(): scale by the width coefficient, round to a multiple of 8
 * (never below 8 and never more than 10 % down). */
static int round_filters(int filters, double width)
{
    double f = filters * width;
    int r = (int)(f + 4.0) / 8 * 8;
    if (r < 8)
        r = 8;
    if (r < 0.9 * f)
        r += 8;
    return r;
}

/* Layer, conv weight and batch-norm names of part `part` of block n. */
typedef struct part_names {
    char layer[64], conv[128], bn[128];
} part_names;

static const part_names *names(part_names *p, int n, const char *part, const char *bn)
{
    snprintf(p->layer, sizeof p->layer, "_blocks.%d.%s", n, part);
    snprintf(p->conv, sizeof p->conv, "%s.weight", p->layer);
    snprintf(p->bn, sizeof p->bn, "_blocks.%d.%s", n, bn);
    return p;
}

/* One MBConv block "_blocks.N.": [expand 1x1 + ReLU6] -> depthwise kxk + ReLU6
 * -> project 1x1, plus the block's input when `skip`. */
static int mbconv(movl_encoder *e, const movl_weights *w, int x, int n, int in, int out, int k, int stride,
                  int expand, int skip, int *y, char *err)
{
    part_names p;
    int h = x, mid = in * expand, rc;
    if (expand != 1) {
        names(&p, n, "_expand_conv", "_bn0");
        if ((rc = enc_conv_bn(e, w, h, p.conv, p.bn, mid, 1, 1, -1, 1, BN_EPS, MOVL_ACT_RELU6, p.layer, &h, err)))
            return rc;
    }
    names(&p, n, "_depthwise_conv", "_bn1");
    if ((rc = enc_conv_bn(e, w, h, p.conv, p.bn, mid, k, stride, -1, mid, BN_EPS, MOVL_ACT_RELU6, p.layer, &h, err)))
        return rc;
    names(&p, n, "_project_conv", "_bn2");
    if ((rc = enc_conv_bn(e, w, h, p.conv, p.bn, out, 1, 1, -1, 1, BN_EPS, MOVL_ACT_NONE, p.layer, &h, err)))
        return rc;
    if (!skip) {
        *y = h;
        return MOVL_OK;
    }
    char name[64];
    snprintf(name, sizeof name, "_blocks.%d.add", n);
    return enc_add(e, h, x, MOVL_ACT_NONE, name, y, err);
}

int enc_build_efficientnet_lite(movl_encoder *e, const movl_weights *w, int variant, char *err)
{
    double width = coefficients[variant][0], depth = coefficients[variant][1];
    /* The TensorFlow Lite models take (pixel - 127) / 128 on 0..255 pixels
     * (MEAN_RGB 127, STDDEV_RGB 128 in efficientnet/lite); on [0,1] pixels that
     * is mean 127/255, std 128/255. (The PyTorch port's example uses the
     * ImageNet mean/std instead; with the converted TF weights the TF values
     * classify real photos with clearly higher confidence.) */
    for (int c = 0; c < 3; c++) {
        e->mean[c] = 127.0f / 255.0f;
        e->std[c] = 128.0f / 255.0f;
    }
    int x, rc, n = 0;
    if ((rc = enc_input(e, err)) ||
        (rc = enc_conv_bn(e, w, 0, "_conv_stem.weight", "_bn0", 32, 3, 2, -1, 1, BN_EPS, MOVL_ACT_RELU6,
                          "_conv_stem", &x, err)))
        return rc;
    int in = 32; /* fix_head_stem: the stem keeps 32 channels */
    for (int s = 0; s < 7; s++) {
        int out = round_filters(stages[s].out, width);
        /* fix_head_stem: the first and the last stage keep their repeat count. */
        int repeats = (s == 0 || s == 6) ? stages[s].repeats : (int)ceil(depth * stages[s].repeats);
        for (int r = 0; r < repeats; r++, n++) {
            /* Only the repeated blocks (stride 1, in == out) add their input: the
             * package compares the first block's stride, a list, with 1. */
            int first = r == 0;
            if ((rc = mbconv(e, w, x, n, first ? in : out, out, stages[s].k, first ? stages[s].stride : 1,
                             stages[s].expand, !first, &x, err)))
                return rc;
        }
        in = out;
    }
    if ((rc = enc_conv_bn(e, w, x, "_conv_head.weight", "_bn1", 1280, 1, 1, -1, 1, BN_EPS, MOVL_ACT_RELU6,
                          "_conv_head", &x, err)) ||
        (rc = enc_gap(e, x, "avgpool", &e->t_features, err)) ||
        (rc = enc_linear(e, w, e->t_features, "_fc.weight", "_fc.bias", "_fc", &e->t_logits, err)))
        return rc;
    return MOVL_OK;
}
