/* movl explain over a finished run (explain_run.h): opens the run as
 * predict does, reads every image, then per image the class, the
 * attribution, its PNG and its record (text line or JSON). */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "core/file_io.h"
#include "explain/explain_run.h"
#include "plot/plot.h"
#include "train/run_model.h"

#define NPANELS 3

movl_explain_run_opts movl_explain_run_defaults(void)
{
    movl_explain_run_opts o;
    memset(&o, 0, sizeof o);
    o.method = MOVL_EXPLAIN_GRAD;
    o.cls = -1;
    o.samples = MOVL_EXPLAIN_SAMPLES;
    o.noise = MOVL_EXPLAIN_NOISE;
    o.steps = MOVL_EXPLAIN_STEPS;
    o.check_step = 0.01;
    return o;
}

static int model_eval(void *ctx, int n, const float *x, const int *cls, float *logits, float *grad, char *err)
{
    return movl_run_model_eval(ctx, n, x, cls, logits, grad, err);
}

/* OUT_DIR/<stem>_explain.png: the file name without its folder and last extension. */
static void out_name(const char *dir, const char *image, char *out, size_t n)
{
    const char *base = strrchr(image, '/');
    base = base ? base + 1 : image;
    const char *dot = strrchr(base, '.');
    int len = dot && dot != base ? (int)(dot - base) : (int)strlen(base);
    snprintf(out, n, "%s/%.*s_explain.png", dir, len, base);
}

/* Two images with one output name would overwrite each other's map. */
static int check_names(char (*names)[4200], const movl_explain_run_opts *o, char *err)
{
    for (int i = 0; i < o->nimages; i++)
        for (int j = 0; j < i; j++)
            if (!strcmp(names[i], names[j])) {
                movl_set_error(err, "%s and %s would both be explained into %s (give them different names)",
                               o->images[j], o->images[i], names[i]);
                return MOVL_ERR_INPUT;
            }
    return MOVL_OK;
}

static int check_settings(const movl_explain_run_opts *o, char *err)
{
    if (o->nimages < 1 || !o->run_dir) {
        movl_set_error(err, "give a run folder and at least one image");
        return MOVL_ERR_INPUT;
    }
    if (!movl_explain_method_name(o->method)) {
        movl_set_error(err, "unknown method %d", (int)o->method);
        return MOVL_ERR_INPUT;
    }
    if (o->samples < 1 || o->samples > 100000) {
        movl_set_error(err, "--samples %d is out of range (expected 1..100000)", o->samples);
        return MOVL_ERR_INPUT;
    }
    if (!(o->noise >= 0 && o->noise <= 10)) {
        movl_set_error(err, "--noise %g is out of range (expected 0..10)", o->noise);
        return MOVL_ERR_INPUT;
    }
    if (o->steps < 1 || o->steps > 100000) {
        movl_set_error(err, "--steps %d is out of range (expected 1..100000)", o->steps);
        return MOVL_ERR_INPUT;
    }
    if (o->check_grad < 0 || o->check_grad > 10000 || !(o->check_step > 0 && o->check_step <= 10)) {
        movl_set_error(err, "--check-grad %d / --check-step %g out of range (expected 0..10000 and (0, 10])",
                       o->check_grad, o->check_step);
        return MOVL_ERR_INPUT;
    }
    return MOVL_OK;
}

static const char *method_title(const movl_explain_run_opts *o, char *buf, size_t n)
{
    if (o->method == MOVL_EXPLAIN_SMOOTHGRAD)
        snprintf(buf, n, "SmoothGrad (%d samples, noise %g)", o->samples, o->noise);
    else if (o->method == MOVL_EXPLAIN_IG)
        snprintf(buf, n, "integrated gradients (%d steps, black baseline)", o->steps);
    else
        snprintf(buf, n, "gradient");
    return buf;
}

static const char *heat_label(movl_explain_method m)
{
    return m == MOVL_EXPLAIN_IG           ? "|attribution| (sum over channels)"
           : m == MOVL_EXPLAIN_SMOOTHGRAD ? "|mean gradient| (max over channels)"
                                          : "|gradient| (max over channels)";
}

/* Softmax probabilities of one row of logits. */
static void softmax(const float *z, int k, double *p)
{
    double mx = z[0], sum = 0;
    for (int i = 1; i < k; i++)
        mx = z[i] > mx ? z[i] : mx;
    for (int i = 0; i < k; i++)
        sum += p[i] = exp((double)z[i] - mx);
    for (int i = 0; i < k; i++)
        p[i] /= sum;
}

/* Per-image working memory. */
typedef struct work {
    float *x, *attr, *heat, *logits, *baseline;
    double *prob;
    unsigned char *rgb[NPANELS], *mask;
    movl_explain_fd *fd;
} work;

static int work_alloc(work *w, int S, int K, int nfd, char *err)
{
    size_t plane = (size_t)S * S;
    w->x = malloc(sizeof(float) * 3 * plane);
    w->attr = malloc(sizeof(float) * 3 * plane);
    w->baseline = malloc(sizeof(float) * 3 * plane);
    w->heat = malloc(sizeof(float) * plane);
    w->logits = malloc(sizeof(float) * (size_t)K);
    w->prob = malloc(sizeof(double) * (size_t)K);
    w->mask = malloc(plane);
    w->fd = nfd > 0 ? malloc(sizeof(movl_explain_fd) * (size_t)nfd) : NULL;
    int ok = w->x && w->attr && w->baseline && w->heat && w->logits && w->prob && w->mask && (nfd == 0 || w->fd);
    for (int p = 0; p < NPANELS; p++)
        ok = (w->rgb[p] = malloc(3 * plane)) && ok;
    if (!ok)
        movl_set_error(err, "out of host memory for %d px images", S);
    return ok ? MOVL_OK : MOVL_ERR_RUN;
}

static void work_free(work *w)
{
    free(w->x);
    free(w->attr);
    free(w->baseline);
    free(w->heat);
    free(w->logits);
    free(w->prob);
    free(w->mask);
    free(w->fd);
    for (int p = 0; p < NPANELS; p++)
        free(w->rgb[p]);
}

/* One image: its class, attribution, PNG and record (added to arr, or printed). */
static int explain_one(movl_run_model *rm, const movl_run_model_info *info, const movl_explain_model *em,
                       const movl_explain_run_opts *o, const char *image, const char *png, work *w, cJSON *arr,
                       char *err)
{
    int S = info->size, K = info->classes, rc;
    size_t plane = (size_t)S * S;
    if ((rc = movl_run_model_load_image(rm, image, w->x, err)))
        return rc;
    int dummy = 0;
    if ((rc = movl_run_model_eval(rm, 1, w->x, &dummy, w->logits, NULL, err)))
        return rc;
    softmax(w->logits, K, w->prob);
    int pred = 0;
    for (int k = 1; k < K; k++)
        pred = w->logits[k] > w->logits[pred] ? k : pred;
    int k = o->cls >= 0 ? o->cls : pred;
    movl_explain_opts eo = {o->method, o->samples, o->noise, o->seed, o->steps, w->baseline};
    movl_explain_result r;
    if ((rc = movl_explain_attribute(em, w->x, k, &eo, w->attr, &r, err)))
        return rc;
    if (o->check_grad > 0 &&
        (rc = movl_explain_fd_check(em, w->x, k, o->check_grad, o->check_step, o->seed + 1, w->fd, err)))
        return rc;
    movl_explain_heat(w->attr, S, o->method, w->heat);
    movl_explain_pictures(w->x, info->mean, info->std, w->heat, S, w->rgb[0], w->rgb[1], w->rgb[2]);
    movl_run_model_prompt_mask(rm, w->mask);
    const char *name = movl_run_model_class_name(rm, k);
    char title[600], mt[128], cname[300];
    if (name && *name)
        snprintf(cname, sizeof cname, "%s (%d)", name, k);
    else
        snprintf(cname, sizeof cname, "%d", k);
    snprintf(title, sizeof title, "class %s, p = %.2f, %s", cname, w->prob[k], method_title(o, mt, sizeof mt));
    const unsigned char *outline = info->has_prompt ? w->mask : NULL;
    char image_label[96];
    snprintf(image_label, sizeof image_label, info->has_prompt ? "image (%s prompt outlined)" : "image",
             info->prompt ? info->prompt : "");
    movl_plot_image_panel panels[NPANELS] = {
        {image_label, w->rgb[0], outline},
        {heat_label(o->method), w->rgb[1], outline},
        {"overlay", w->rgb[2], outline},
    };
    if ((rc = movl_plot_images_write(png, title, S, panels, NPANELS, err)))
        return rc;
    int width, height;
    movl_plot_images_size(S, NPANELS, &width, &height);
    double diff = r.logit - r.baseline_logit;
    double rel = fabs(r.attribution_sum - diff) / (fabs(diff) > 0 ? fabs(diff) : 1.0);
    if (!arr) {
        printf("%s\t%s\tp=%.4f\t%s\t%s", image, cname, w->prob[k], movl_explain_method_name(o->method), png);
        if (o->method == MOVL_EXPLAIN_IG)
            printf("\tsum of attributions %.6g, logit(x) - logit(baseline) %.6g (relative error %.3g)",
                   r.attribution_sum, diff, rel);
        printf("\n");
        return MOVL_OK;
    }
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "image", image);
    cJSON_AddStringToObject(j, "png", png);
    cJSON_AddNumberToObject(j, "width", width);
    cJSON_AddNumberToObject(j, "height", height);
    cJSON_AddNumberToObject(j, "size", S);
    cJSON_AddNumberToObject(j, "class", k);
    if (name)
        cJSON_AddStringToObject(j, "name", name);
    cJSON_AddNumberToObject(j, "probability", w->prob[k]);
    cJSON_AddNumberToObject(j, "predicted", pred);
    cJSON_AddNumberToObject(j, "predicted_probability", w->prob[pred]);
    cJSON_AddStringToObject(j, "method", movl_explain_method_name(o->method));
    cJSON_AddNumberToObject(j, "logit", r.logit);
    cJSON_AddNumberToObject(j, "attribution_sum", r.attribution_sum);
    cJSON_AddNumberToObject(j, "evaluations", r.evaluations);
    if (o->method == MOVL_EXPLAIN_SMOOTHGRAD) {
        cJSON_AddNumberToObject(j, "samples", o->samples);
        cJSON_AddNumberToObject(j, "noise", o->noise);
        cJSON_AddNumberToObject(j, "seed", (double)o->seed);
    }
    if (o->method == MOVL_EXPLAIN_IG) {
        cJSON_AddNumberToObject(j, "steps", o->steps);
        cJSON_AddStringToObject(j, "baseline", "black");
        cJSON *c = cJSON_AddObjectToObject(j, "completeness");
        cJSON_AddNumberToObject(c, "sum_attributions", r.attribution_sum);
        cJSON_AddNumberToObject(c, "logit_input", r.logit);
        cJSON_AddNumberToObject(c, "logit_baseline", r.baseline_logit);
        cJSON_AddNumberToObject(c, "difference", diff);
        cJSON_AddNumberToObject(c, "relative_error", rel);
    }
    double asum = 0;
    for (size_t e = 0; e < 3 * plane; e++)
        asum += fabs(w->attr[e]);
    cJSON_AddNumberToObject(j, "attribution_abs_sum", asum);
    if (o->check_grad > 0) {
        cJSON *g = cJSON_AddArrayToObject(j, "gradient_check");
        for (int i = 0; i < o->check_grad; i++) {
            cJSON *e = cJSON_CreateObject();
            size_t idx = w->fd[i].index;
            cJSON_AddNumberToObject(e, "channel", (double)(idx / plane));
            cJSON_AddNumberToObject(e, "y", (double)(idx % plane / (size_t)S));
            cJSON_AddNumberToObject(e, "x", (double)(idx % (size_t)S));
            cJSON_AddNumberToObject(e, "grad", w->fd[i].grad);
            cJSON_AddNumberToObject(e, "fd", w->fd[i].fd);
            cJSON_AddItemToArray(g, e);
        }
        cJSON_AddNumberToObject(j, "check_step", o->check_step);
    }
    cJSON_AddItemToArray(arr, j);
    return MOVL_OK;
}

int movl_explain_run(const movl_explain_run_opts *o, char *err)
{
    int rc = check_settings(o, err);
    if (rc)
        return rc;
    char dir[4000];
    snprintf(dir, sizeof dir, "%s", o->out_dir ? o->out_dir : "");
    if (!o->out_dir)
        snprintf(dir, sizeof dir, "%s/explain", o->run_dir);
    char(*names)[4200] = calloc((size_t)o->nimages, sizeof *names);
    if (!names) {
        movl_set_error(err, "out of host memory");
        return MOVL_ERR_RUN;
    }
    for (int i = 0; i < o->nimages; i++)
        out_name(dir, o->images[i], names[i], sizeof names[i]);
    movl_run_model *rm = NULL;
    if ((rc = check_names(names, o, err)) || (rc = movl_run_model_open(o->run_dir, o->device, &rm, err))) {
        free(names);
        return rc;
    }
    movl_run_model_info info;
    movl_run_model_get_info(rm, &info);
    work w = {0};
    if (o->cls >= info.classes) {
        movl_set_error(err, "--class %d is out of range: the run has %d classes (0..%d)", o->cls, info.classes,
                       info.classes - 1);
        rc = MOVL_ERR_INPUT;
    }
    if (rc == MOVL_OK)
        rc = work_alloc(&w, info.size, info.classes, o->check_grad, err);
    /* every image is read before the first map: a bad one fails the command before any work */
    for (int i = 0; rc == MOVL_OK && i < o->nimages; i++)
        rc = movl_run_model_load_image(rm, o->images[i], w.x, err);
    if (rc == MOVL_OK && movl_mkdir_p(dir)) {
        movl_set_error(err, "%s: cannot create the output folder (%s)", dir, strerror(errno));
        rc = MOVL_ERR_INPUT;
    }
    size_t plane = (size_t)info.size * info.size;
    for (int c = 0; rc == MOVL_OK && c < 3; c++) /* black, as the encoder sees it */
        for (size_t e = 0; e < plane; e++)
            w.baseline[c * plane + e] = (0.0f - info.mean[c]) / info.std[c];
    movl_explain_model em = {model_eval, rm, 3 * plane, info.classes, info.max_batch};
    cJSON *arr = o->json ? cJSON_CreateArray() : NULL;
    for (int i = 0; rc == MOVL_OK && i < o->nimages; i++) {
        rc = explain_one(rm, &info, &em, o, o->images[i], names[i], &w, arr, err);
        fflush(stdout);
    }
    if (rc == MOVL_OK && arr) {
        char *s = cJSON_Print(arr);
        printf("%s\n", s);
        free(s);
    }
    cJSON_Delete(arr);
    work_free(&w);
    movl_run_model_close(rm);
    free(names);
    return rc;
}
