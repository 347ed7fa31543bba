/* Attribution maps of a classifier's logit with respect to its input image
 * (docs/EXPLAIN.md): plain gradient, SmoothGrad and integrated gradients,
 * over any model that gives logits and input gradients (a callback), so
 * the methods are tested on functions whose answers are known; their
 * heat maps and the three pictures movl explain draws. No OpenCL. */
#ifndef MOVL_EXPLAIN_H
#define MOVL_EXPLAIN_H

#include <stddef.h>
#include <stdint.h>

typedef enum movl_explain_method {
    MOVL_EXPLAIN_GRAD,       /* d z_k / d x at x */
    MOVL_EXPLAIN_SMOOTHGRAD, /* the mean of d z_k / d x over noisy copies of x */
    MOVL_EXPLAIN_IG,         /* integrated gradients from a baseline image */
} movl_explain_method;

/* "grad", "smoothgrad", "integrated_gradients". */
const char *movl_explain_method_name(movl_explain_method m);
/* Name -> method ("ig" is accepted for integrated_gradients); MOVL_ERR_INPUT
 * with "--method 'X' is not a method (expected grad, smoothgrad or integrated_gradients)". */
int movl_explain_method_parse(const char *name, movl_explain_method *out, char *err);

/* The model: logits [n][classes] of images x [n][numel] (1 <= n <= max_batch)
 * and, when grad is not NULL, d logits[i][cls[i]] / d x_i into grad [n][numel].
 * Returns MOVL_OK or an exit code with one line in err. */
typedef int (*movl_explain_eval_fn)(void *ctx, int n, const float *x, const int *cls, float *logits, float *grad,
                                    char *err);
typedef struct movl_explain_model {
    movl_explain_eval_fn eval;
    void *ctx;
    size_t numel;  /* floats per image */
    int classes;
    int max_batch; /* >= 1 */
} movl_explain_model;

/* Defaults of the methods' settings (movl explain's options). */
#define MOVL_EXPLAIN_SAMPLES 25  /* SmoothGrad: noisy copies */
#define MOVL_EXPLAIN_NOISE 0.15  /* SmoothGrad: sigma as a fraction of the image's value range */
#define MOVL_EXPLAIN_STEPS 64    /* integrated gradients: trapezoid intervals (steps + 1 gradients) */

typedef struct movl_explain_opts {
    movl_explain_method method;
    int samples;           /* SmoothGrad: N >= 1 */
    double noise;          /* SmoothGrad: sigma = noise * (max x - min x), noise >= 0 */
    uint64_t seed;         /* SmoothGrad: the noise stream (the same for every image) */
    int steps;             /* integrated gradients: m >= 1 */
    const float *baseline; /* integrated gradients: x' (numel floats) */
} movl_explain_opts;

typedef struct movl_explain_result {
    double logit;            /* z_k(x) */
    double baseline_logit;   /* integrated gradients: z_k(x') (NaN otherwise) */
    double attribution_sum;  /* the sum of every attribution */
    int evaluations;         /* gradients computed */
} movl_explain_result;

/* The attribution of class k's logit at image x into attr [numel]:
 *   grad        attr = g(x), g = d z_k / d x;
 *   smoothgrad  attr = (1/N) sum_n g(x + e_n), e_n ~ N(0, sigma^2) per element,
 *               drawn from splitmix64(seed) with Box-Muller;
 *   IG          attr = (x - x') * sum_{j=0..m} w_j g(x' + (j/m)(x - x')),
 *               trapezoid weights w_0 = w_m = 1/(2m), w_j = 1/m otherwise,
 *               so that sum(attr) ~ z_k(x) - z_k(x') (completeness).
 * Bad settings: MOVL_ERR_INPUT; the model's own errors pass through. */
int movl_explain_attribute(const movl_explain_model *m, const float *x, int k, const movl_explain_opts *o,
                           float *attr, movl_explain_result *r, char *err);

/* The finite-difference check of the plain gradient: for count elements
 * drawn from splitmix64(seed) (distinct when count <= numel), the gradient
 * of z_k at x and the central difference (z_k(x + h e) - z_k(x - h e)) / 2h. */
typedef struct movl_explain_fd {
    size_t index;    /* element of x */
    double grad, fd; /* d z_k / d x[index], and its central difference */
} movl_explain_fd;
int movl_explain_fd_check(const movl_explain_model *m, const float *x, int k, int count, double h, uint64_t seed,
                          movl_explain_fd *out, char *err);

/* The heat map [size][size] of an attribution [3][size][size]: the largest
 * |attr| over the channels (grad, smoothgrad), or |sum of the channels|
 * (integrated gradients: a pixel's share of the logit difference), scaled
 * by its 99th percentile (its maximum when that is 0) and clipped to [0, 1]. */
void movl_explain_heat(const float *attr, int size, movl_explain_method m, float *heat);

/* The three pictures of movl explain, [size][size][3] each: the image x
 * ([3][size][size], normalised: pixel = x * std + mean, clipped to [0, 1]),
 * the heat map in the inferno colour map (black 0, yellow-white 1), and
 * the overlay: image and colour blended with weight 0.65 * heat. */
void movl_explain_pictures(const float *x, const float mean[3], const float std[3], const float *heat, int size,
                           unsigned char *image_rgb, unsigned char *heat_rgb, unsigned char *overlay_rgb);

#endif
