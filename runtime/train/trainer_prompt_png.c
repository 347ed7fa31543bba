/* The learned prompt as pictures in the run folder: prompt.png (the prompt
 * alone) and prompt_applied.png (the first validation image as the encoder
 * sees it, prompt applied), both nearest-neighbour upscaled by a whole
 * factor so that the shorter side is at least TR_PROMPT_PNG_MIN pixels. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "core/png_write.h"
#include "train/trainer_internal.h"

#define TR_PROMPT_PNG_MIN 256

/* rgb [S][S][3] written k times larger (k = ceil(MIN / S)). */
static int write_upscaled(const char *path, int S, const unsigned char *rgb, char *err)
{
    int k = S >= TR_PROMPT_PNG_MIN ? 1 : (TR_PROMPT_PNG_MIN + S - 1) / S, W = k * S;
    unsigned char *big = malloc((size_t)W * W * 3);
    if (!big) {
        movl_set_error(err, "%s: out of host memory", path);
        return MOVL_ERR_RUN;
    }
    for (int y = 0; y < W; y++)
        for (int x = 0; x < W; x++)
            memcpy(big + ((size_t)y * W + x) * 3, rgb + ((size_t)(y / k) * S + x / k) * 3, 3);
    int rc = movl_png_write_rgb(path, W, W, big, err);
    free(big);
    return rc;
}

static unsigned char to_byte(float v) { return (unsigned char)lrintf(fminf(fmaxf(v, 0.0f), 1.0f) * 255.0f); }

/* The prompt expanded to 3 x S x S (values v) and its mask; NULL on no memory. */
static float *expand(trainer *t, const float *delta, unsigned char **mask)
{
    size_t plane = (size_t)t->dims.image_size * t->dims.image_size;
    float *img = malloc(sizeof(float) * 3 * plane);
    *mask = malloc(plane);
    if (!img || !*mask) {
        free(img);
        free(*mask);
        *mask = NULL;
        return NULL;
    }
    movl_prompt_expand(&t->model.prompt_desc, 0, 0, delta, img, *mask);
    return img;
}

int tr_save_prompt_png(trainer *t, const float *delta, const char *path, char *err)
{
    int S = t->dims.image_size;
    size_t plane = (size_t)S * S;
    unsigned char *mask, *rgb = malloc(3 * plane);
    float *img = expand(t, delta, &mask);
    int rc = MOVL_ERR_RUN;
    if (!img || !rgb) {
        movl_set_error(err, "out of host memory rendering the prompt");
    } else {
        /* Additive prompts are shown as what they add in pixel units around mid
         * grey; shrink_pad values are pixels. Unprompted pixels are black. */
        int additive = t->model.prompt_desc.type != MOVL_PROMPT_SHRINK_PAD;
        for (size_t i = 0; i < plane; i++)
            for (int c = 0; c < 3; c++) {
                float v = img[c * plane + i];
                rgb[i * 3 + (size_t)c] = mask[i] ? to_byte(additive ? 0.5f + v * t->dims.std[c] : v) : 0;
            }
        rc = write_upscaled(path, S, rgb, err);
    }
    free(img);
    free(mask);
    free(rgb);
    return rc;
}

int tr_save_prompt_applied_png(trainer *t, const float *delta, const char *path, char *err)
{
    int S = t->dims.image_size;
    size_t plane = (size_t)S * S;
    int idx = 0, rc;
    float *x = malloc(sizeof(float) * 3 * plane);
    unsigned char *mask, *rgb = malloc(3 * plane);
    float *img = expand(t, delta, &mask);
    if (!x || !img || !rgb) {
        movl_set_error(err, "out of host memory rendering the prompt");
        rc = MOVL_ERR_RUN;
    } else if ((rc = movl_prep_batch(t->prep, &t->host.dataset, MOVL_SPLIT_VAL, &idx, 1, x, err)) == MOVL_OK) {
        /* the prompt's forward rules (adapt/prompt.h), then back to pixels */
        int shrink = t->model.prompt_desc.type == MOVL_PROMPT_SHRINK_PAD;
        for (size_t i = 0; i < plane; i++)
            for (int c = 0; c < 3; c++) {
                float v = img[c * plane + i], y = x[c * plane + i], m = t->dims.mean[c], sd = t->dims.std[c];
                if (mask[i])
                    y = shrink ? (v - m) / sd : y + v;
                rgb[i * 3 + (size_t)c] = to_byte(y * sd + m);
            }
        rc = write_upscaled(path, S, rgb, err);
    }
    free(x);
    free(img);
    free(mask);
    free(rgb);
    return rc;
}
