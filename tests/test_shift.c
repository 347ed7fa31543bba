/* The shift suite's corruptions (runtime/shift) on real MedMNIST images:
 * determinism (same seed, same bytes; another seed, other noise; the order of
 * the images does not matter), severity 0 is the identity, the change grows
 * with severity, the intensity corruptions move the statistic they name,
 * 8-bit and float storage agree, the JPEG round trip uses the quality's
 * IJG tables, and the spec parser's errors. Prints the mean absolute change
 * per corruption and severity (docs/SHIFT.md quotes it). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

#include "core/common.h"
#include "core/image.h"
#include "data/dataset.h"
#include "kinds/shift_kinds.h"
#include "shift/shift.h"
#include "test_util.h"

#define NIMG 16 /* test images per dataset */

typedef struct real_set {
    const char *path;
    movl_modality modality;
    movl_dataset ds;
    int w, h, c;
    unsigned char *px; /* NIMG images, HWC */
} real_set;

static real_set SETS[] = {
    {.path = "data/medmnist/pneumoniamnist.npz", .modality = MOVL_MODALITY_XRAY},
    {.path = "data/medmnist/breastmnist.npz", .modality = MOVL_MODALITY_ULTRASOUND},
    {.path = "data/medmnist/retinamnist.npz", .modality = MOVL_MODALITY_FUNDUS},
};
#define NSETS ((int)(sizeof SETS / sizeof SETS[0]))

static int load_sets(void)
{
    for (int i = 0; i < NSETS; i++) {
        char err[MOVL_ERRLEN];
        real_set *s = &SETS[i];
        if (movl_dataset_load_npz(s->path, NULL, &s->ds, err)) {
            fprintf(stderr, "%s\n", err);
            return 0;
        }
        const movl_split *t = &s->ds.split[MOVL_SPLIT_TEST];
        s->w = t->samples[0].w, s->h = t->samples[0].h, s->c = s->ds.channels;
        size_t per = (size_t)s->w * s->h * s->c;
        s->px = malloc(per * NIMG);
        for (int k = 0; k < NIMG; k++)
            memcpy(s->px + per * k, t->u8 + t->samples[k].offset, per);
    }
    return 1;
}

static int is_random(int c)
{
    return c == MOVL_CORR_GAUSSIAN_NOISE || c == MOVL_CORR_SPECKLE_NOISE || c == MOVL_CORR_IMPULSE_NOISE ||
           c == MOVL_CORR_SHOT_NOISE || c == MOVL_CORR_MOTION_BLUR;
}

/* The NIMG images of set s corrupted with (c, sev, seed) into out. */
static void corrupt_all(const real_set *s, int c, int sev, uint64_t seed, unsigned char *out)
{
    size_t per = (size_t)s->w * s->h * s->c;
    memcpy(out, s->px, per * NIMG);
    for (int k = 0; k < NIMG; k++) {
        char err[MOVL_ERRLEN] = "";
        movl_shift_image img = {s->w, s->h, s->c, out + per * k, NULL};
        int rc = movl_shift_apply(&img, c, sev, s->modality, movl_shift_image_seed(seed, MOVL_SPLIT_TEST, c, sev, k), err);
        CHECK(rc == MOVL_OK, "%s %s:%d: rc %d %s", s->path, movl_shift_names[c], sev, rc, err);
    }
}

static double mean_abs(const unsigned char *a, const unsigned char *b, size_t n)
{
    double d = 0;
    for (size_t i = 0; i < n; i++)
        d += abs((int)a[i] - (int)b[i]);
    return d / n / 255.0;
}

static void stats(const unsigned char *a, size_t n, double *mean, double *sd)
{
    double s = 0, s2 = 0;
    for (size_t i = 0; i < n; i++)
        s += a[i], s2 += (double)a[i] * a[i];
    *mean = s / n / 255.0;
    *sd = sqrt(fmax(0, s2 / n - (s / n) * (s / n))) / 255.0;
}

/* Every corruption on every set: determinism, identity at 0, growth with severity, direction. */
static void test_corruptions(void)
{
    printf("mean |change| (0..1) of %d test images per severity 1..5:\n", NIMG);
    for (int si = 0; si < NSETS; si++) {
        real_set *s = &SETS[si];
        size_t n = (size_t)s->w * s->h * s->c * NIMG;
        unsigned char *a = malloc(n), *b = malloc(n);
        double m0, sd0;
        stats(s->px, n, &m0, &sd0);
        for (int c = 0; c < MOVL_CORR_COUNT; c++) {
            corrupt_all(s, c, 0, 1, a);
            CHECK(!memcmp(a, s->px, n), "%s %s:0 is not the identity", s->path, movl_shift_names[c]);
            double prev = 0, d[6] = {0};
            printf("  %-10s %-16s", movl_modality_names[s->modality], movl_shift_names[c]);
            for (int sev = 1; sev <= MOVL_SHIFT_SEVERITIES; sev++) {
                corrupt_all(s, c, sev, 7, a);
                corrupt_all(s, c, sev, 7, b);
                CHECK(!memcmp(a, b, n), "%s %s:%d: same seed, different bytes", s->path, movl_shift_names[c], sev);
                if (is_random(c)) {
                    corrupt_all(s, c, sev, 8, b);
                    CHECK(memcmp(a, b, n), "%s %s:%d: another seed, same bytes", s->path, movl_shift_names[c], sev);
                }
                d[sev] = mean_abs(a, s->px, n);
                printf(" %.4f", d[sev]);
                /* Monotone up to 0.5 levels of rounding; pixelate at 28 px within 15 %: its sizes
                 * (int)(28 f) alternate between whole and fractional block widths (docs/SHIFT.md). */
                double slack = c == MOVL_CORR_PIXELATE ? 0.15 * prev : 0.5 / 255;
                CHECK(d[sev] >= prev - slack, "%s %s: change %.5f at severity %d < %.5f at %d", s->path,
                      movl_shift_names[c], d[sev], sev, prev, sev - 1);
                prev = d[sev];
                double m, sd;
                stats(a, n, &m, &sd);
                if (c == MOVL_CORR_BRIGHTNESS_UP || c == MOVL_CORR_GAMMA_DOWN)
                    CHECK(m > m0, "%s %s:%d: mean %.4f not above %.4f", s->path, movl_shift_names[c], sev, m, m0);
                if (c == MOVL_CORR_BRIGHTNESS_DOWN || c == MOVL_CORR_GAMMA_UP)
                    CHECK(m < m0, "%s %s:%d: mean %.4f not below %.4f", s->path, movl_shift_names[c], sev, m, m0);
                if (c == MOVL_CORR_CONTRAST_UP)
                    CHECK(sd > sd0, "%s %s:%d: sd %.4f not above %.4f", s->path, movl_shift_names[c], sev, sd, sd0);
                if (c == MOVL_CORR_CONTRAST_DOWN)
                    CHECK(sd < sd0, "%s %s:%d: sd %.4f not below %.4f", s->path, movl_shift_names[c], sev, sd, sd0);
            }
            printf("\n");
            /* Over the five severities the change must grow for real (the Gaussian blur's
             * sigma, 0.1..0.25 px at 28 px, changes no 8-bit level: tested at 224 px). */
            if (c != MOVL_CORR_GAUSSIAN_BLUR)
                CHECK(d[5] > d[1], "%s %s: change at 5 (%.5f) not above 1 (%.5f)", s->path, movl_shift_names[c], d[5], d[1]);
        }
        free(a);
        free(b);
    }
}

/* At MedMNIST-C's own 224 px (the images resized bilinearly) every
 * deterministic corruption changes more at each severity. */
static void test_224(void)
{
    printf("at 224 px (%d images resized):\n", 4);
    for (int si = 0; si < NSETS; si++) {
        real_set *s = &SETS[si];
        int W = 224, c = s->c;
        size_t per = (size_t)W * W * c;
        unsigned char *big = malloc(per * 4), *a = malloc(per * 4);
        for (int k = 0; k < 4; k++) {
            movl_image src = {s->w, s->h, malloc(sizeof(float) * 3 * s->w * s->h)}, dst;
            for (int i = 0; i < s->w * s->h; i++)
                for (int ch = 0; ch < 3; ch++)
                    src.px[i * 3 + ch] = s->px[(size_t)k * s->w * s->h * c + (size_t)i * c + (c == 3 ? ch : 0)] / 255.0f;
            movl_image_resize(&src, W, W, &dst);
            for (int i = 0; i < W * W; i++)
                for (int ch = 0; ch < c; ch++)
                    big[per * k + (size_t)i * c + ch] = (unsigned char)lrintf(dst.px[i * 3 + ch] * 255.0f);
            movl_image_free(&src);
            movl_image_free(&dst);
        }
        for (int cr = 0; cr < MOVL_CORR_COUNT; cr++) {
            if (is_random(cr))
                continue;
            double prev = 0;
            printf("  %-10s %-16s", movl_modality_names[s->modality], movl_shift_names[cr]);
            for (int sev = 1; sev <= MOVL_SHIFT_SEVERITIES; sev++) {
                memcpy(a, big, per * 4);
                for (int k = 0; k < 4; k++) {
                    char err[MOVL_ERRLEN] = "";
                    movl_shift_image img = {W, W, c, a + per * k, NULL};
                    movl_shift_apply(&img, cr, sev, s->modality, 0, err);
                }
                double d = mean_abs(a, big, per * 4);
                printf(" %.4f", d);
                CHECK(d > prev, "%s at 224 px %s: change %.5f at severity %d not above %.5f", s->path,
                      movl_shift_names[cr], d, sev, prev);
                prev = d;
            }
            printf("\n");
        }
        free(big);
        free(a);
    }
}

/* movl_shift_split == image by image with the per-image seed, in any order;
 * float storage gives the 8-bit result within rounding. */
static void test_split_and_float(void)
{
    real_set *s = &SETS[2]; /* RGB */
    movl_split *t = &s->ds.split[MOVL_SPLIT_TEST];
    size_t per = (size_t)s->w * s->h * s->c;
    unsigned char *want = malloc(per * NIMG);
    int saved_n = t->n;
    t->n = NIMG; /* the first NIMG images only */
    for (int c = 0; c < MOVL_CORR_COUNT; c++) {
        char err[MOVL_ERRLEN] = "";
        for (int k = NIMG - 1; k >= 0; k--) { /* backwards: the order must not matter */
            memcpy(want + per * k, s->px + per * k, per);
            movl_shift_image img = {s->w, s->h, s->c, want + per * k, NULL};
            movl_shift_apply(&img, c, 3, s->modality, movl_shift_image_seed(5, MOVL_SPLIT_TEST, c, 3, k), err);
        }
        int rc = movl_shift_split(&s->ds, MOVL_SPLIT_TEST, c, 3, s->modality, 5, err);
        CHECK(rc == MOVL_OK, "split %s: %s", movl_shift_names[c], err);
        int same = 1;
        for (int k = 0; k < NIMG; k++) {
            same &= !memcmp(t->u8 + t->samples[k].offset, want + per * k, per);
            memcpy(t->u8 + t->samples[k].offset, s->px + per * k, per); /* restore */
        }
        CHECK(same, "movl_shift_split %s differs from image-by-image", movl_shift_names[c]);

        /* float storage of the same images */
        float *f = malloc(sizeof(float) * per);
        int worst = 0;
        for (int k = 0; k < NIMG; k++) {
            for (size_t i = 0; i < per; i++)
                f[i] = s->px[per * k + i] / 255.0f;
            movl_shift_image img = {s->w, s->h, s->c, NULL, f};
            movl_shift_apply(&img, c, 3, s->modality, movl_shift_image_seed(5, MOVL_SPLIT_TEST, c, 3, k), err);
            for (size_t i = 0; i < per; i++) {
                int d = abs((int)lrintf(f[i] * 255.0f) - (int)want[per * k + i]);
                worst = d > worst ? d : worst;
            }
        }
        CHECK(worst <= 1, "%s: float storage differs from 8-bit by %d levels", movl_shift_names[c], worst);
        free(f);
    }
    t->n = saved_n;
    free(want);
}

/* The IJG luminance table (JPEG Annex K) scaled as libjpeg's jpeg_quality_scaling, baseline-clamped. */
static int ijg_luma(int i, int q)
{
    static const int base[64] = {16, 11, 10, 16, 24,  40,  51,  61,  12, 12, 14, 19, 26,  58,  60,  55,
                                 14, 13, 16, 24, 40,  57,  69,  56,  14, 17, 22, 29, 51,  87,  80,  62,
                                 18, 22, 37, 56, 68,  109, 103, 77,  24, 35, 55, 64, 81,  104, 113, 92,
                                 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99};
    int scale = q < 50 ? 5000 / q : 200 - 2 * q;
    int v = (base[i] * scale + 50) / 100;
    return v < 1 ? 1 : v > 255 ? 255 : v;
}

static void test_jpeg_quality(void)
{
    const int qs[] = {50, 30, 15, 10, 7, 5};
    for (int si = 0; si < NSETS; si += 2) { /* grey and RGB */
        real_set *s = &SETS[si];
        for (int qi = 0; qi < 6; qi++) {
            unsigned char *buf = NULL;
            unsigned long n = 0;
            char err[MOVL_ERRLEN] = "";
            int rc = movl_shift_jpeg_encode(s->px, s->w, s->h, s->c, qs[qi], &buf, &n, err);
            CHECK(rc == MOVL_OK && n > 0, "jpeg encode q %d: %s", qs[qi], err);
            struct jpeg_decompress_struct di;
            struct jpeg_error_mgr em;
            di.err = jpeg_std_error(&em);
            jpeg_create_decompress(&di);
            jpeg_mem_src(&di, buf, n);
            jpeg_read_header(&di, TRUE);
            int bad = 0;
            for (int i = 0; i < 64; i++)
                bad += di.quant_tbl_ptrs[0]->quantval[i] != ijg_luma(i, qs[qi]);
            CHECK(!bad, "%s q %d: %d luminance table entries differ from IJG quality scaling", s->path, qs[qi], bad);
            CHECK(di.num_components == s->c, "components %d", di.num_components);
            if (s->c == 3)
                CHECK(di.comp_info[0].h_samp_factor == 2 && di.comp_info[0].v_samp_factor == 2, "not 4:2:0");
            jpeg_destroy_decompress(&di);
            free(buf);
        }
    }
    /* the corruption's output is what libjpeg decodes from that stream, so a lower quality loses more */
    real_set *s = &SETS[0];
    size_t n = (size_t)s->w * s->h * s->c;
    double prev = 0;
    for (int qi = 0; qi < 6; qi++) {
        unsigned char *img = malloc(n);
        memcpy(img, s->px, n);
        char err[MOVL_ERRLEN] = "";
        /* through the public corruption at the matching X-ray severities 1..5 */
        if (qi < 5) {
            movl_shift_image im = {s->w, s->h, s->c, img, NULL};
            movl_shift_apply(&im, MOVL_CORR_JPEG, qi + 1, MOVL_MODALITY_XRAY, 0, err);
            double d = mean_abs(img, s->px, n);
            CHECK(d > prev, "jpeg severity %d change %.5f not above %.5f", qi + 1, d, prev);
            prev = d;
        }
        free(img);
    }
}

static void test_parser(void)
{
    movl_shift_item it[MOVL_SHIFT_MAX_ITEMS];
    char err[MOVL_ERRLEN];
    int n = movl_shift_parse("jpeg, gaussian_noise:3,jpeg:2", MOVL_MODALITY_AUTO, it, err, sizeof err);
    CHECK(n == 6 && it[0].corruption == MOVL_CORR_JPEG && it[4].severity == 5 && it[5].corruption ==
          MOVL_CORR_GAUSSIAN_NOISE && it[5].severity == 3, "parse list: n %d", n);
    CHECK(movl_shift_parse("", MOVL_MODALITY_AUTO, it, err, sizeof err) == 0, "empty spec");
    n = movl_shift_parse("all", MOVL_MODALITY_ULTRASOUND, it, err, sizeof err);
    CHECK(n == 6 * 5 && it[0].corruption == MOVL_CORR_PIXELATE && it[29].corruption == MOVL_CORR_CONTRAST_DOWN,
          "all ultrasound: %d", n);
    CHECK(movl_shift_parse("all", MOVL_MODALITY_XRAY, it, err, sizeof err) == 13 * 5, "all xray");
    CHECK(movl_shift_parse("all", MOVL_MODALITY_FUNDUS, it, err, sizeof err) == 8 * 5, "all fundus");
    struct {
        const char *spec, *want;
    } bad[] = {
        {"all", "'all' needs a modality"},
        {"jpeg:0", "item 'jpeg:0': severity '0' is not one of 1..5"},
        {"jpeg:6", "item 'jpeg:6': severity '6' is not one of 1..5"},
        {"jpeg:x", "item 'jpeg:x': severity 'x'"},
        {"pixelate,fog:1", "item 'fog:1': unknown corruption 'fog' (valid: all, pixelate, jpeg, gaussian_noise"},
        {"jpeg,,pixelate", "empty item"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = 0;
        CHECK(movl_shift_parse(bad[i].spec, MOVL_MODALITY_AUTO, it, err, sizeof err) < 0, "'%s' accepted", bad[i].spec);
        CHECK(strstr(err, bad[i].want) && !strchr(err, '\n'), "'%s': error '%s' lacks '%s'", bad[i].spec, err,
              bad[i].want);
    }
    movl_shift_parse("blur", MOVL_MODALITY_AUTO, it, err, sizeof err);
    CHECK(strstr(err, "contrast_down, gamma_up, gamma_down)") != NULL, "unknown name lists every name: '%s'", err);
    CHECK(movl_modality_resolve(MOVL_MODALITY_AUTO, "x/pneumoniamnist.npz") == MOVL_MODALITY_XRAY, "pneumonia");
    CHECK(movl_modality_resolve(MOVL_MODALITY_AUTO, "ChestMNIST_224.npz") == MOVL_MODALITY_XRAY, "chest");
    CHECK(movl_modality_resolve(MOVL_MODALITY_AUTO, "/d/breastmnist.npz") == MOVL_MODALITY_ULTRASOUND, "breast");
    CHECK(movl_modality_resolve(MOVL_MODALITY_AUTO, "retinamnist.npz") == MOVL_MODALITY_FUNDUS, "retina");
    CHECK(movl_modality_resolve(MOVL_MODALITY_AUTO, "/retina/dermamnist.npz") == MOVL_MODALITY_AUTO, "folder name ignored");
    CHECK(movl_modality_resolve(MOVL_MODALITY_FUNDUS, "pneumonia.npz") == MOVL_MODALITY_FUNDUS, "explicit wins");
}

int main(void)
{
    if (!load_sets()) {
        printf("MedMNIST data missing (tools/setup.sh): skipped\n");
        return 77;
    }
    test_parser();
    test_corruptions();
    test_224();
    test_split_and_float();
    test_jpeg_quality();
    for (int i = 0; i < NSETS; i++) {
        movl_dataset_free(&SETS[i].ds);
        free(SETS[i].px);
    }
    return test_finish();
}
