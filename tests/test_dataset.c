/* Datasets: the shipped MedMNIST files (split sizes, class counts, pixels),
 * a stored-zip copy, class folders and CSV manifests of PNGs written here
 * (8/16-bit, grey, RGB, palette, alpha), seeded splits, subsampling and
 * shuffling, and batch preprocessing against movl_image_resize +
 * movl_image_to_chw. No OpenCL device is needed. Bad inputs are in
 * test_dataset_bad.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/common.h"
#include "data/dataset.h"
#include "dataset_fixtures.h"
#include "core/image.h"
#include "data/preprocess.h"
#include "test_util.h"

#define MEDMNIST MOVL_SOURCE_DIR "/data/medmnist/"

static char err[MOVL_ERRLEN];
static const float imagenet_mean[3] = {0.485f, 0.456f, 0.406f}, imagenet_std[3] = {0.229f, 0.224f, 0.225f};

static int px_u8(const movl_dataset *ds, int s, int i, int y, int x, int c)
{
    const movl_sample *p = &ds->split[s].samples[i];
    return ds->split[s].u8[p->offset + ((size_t)y * p->w + x) * ds->channels + c];
}

static void check_counts(const movl_dataset *ds, int s, const int *want, const char *name)
{
    int got[8] = {0};
    movl_dataset_class_counts(ds, s, got);
    for (int c = 0; c < ds->num_classes; c++)
        CHECK(got[c] == want[c], "%s %s: class %d has %d samples, want %d", name, movl_split_names[s], c, got[c],
              want[c]);
}

static movl_dataset load_ok(const char *path, const movl_dataset_opts *o)
{
    movl_dataset ds;
    int rc = movl_dataset_load(path, o, &ds, err);
    CHECK(rc == MOVL_OK, "load %s: rc %d: %s", path, rc, err);
    return ds;
}

/* Pixel and label values below were read independently with numpy
 * (/usr/bin/python3: np.load(path)[key][index, y, x(, c)]) and pasted here. */
static void test_medmnist(void)
{
    movl_dataset ds = load_ok(MEDMNIST "pneumoniamnist.npz", NULL);
    CHECK(ds.num_classes == 2 && ds.channels == 1 && ds.pixel_type == MOVL_PIX_U8, "pneumonia: %d classes, %d ch",
          ds.num_classes, ds.channels);
    CHECK(ds.split[0].n == 4708 && ds.split[1].n == 524 && ds.split[2].n == 624, "pneumonia sizes %d/%d/%d",
          ds.split[0].n, ds.split[1].n, ds.split[2].n);
    check_counts(&ds, 0, (int[]){1214, 3494}, "pneumonia");
    check_counts(&ds, 1, (int[]){135, 389}, "pneumonia");
    check_counts(&ds, 2, (int[]){234, 390}, "pneumonia");
    CHECK(ds.split[0].samples[0].w == 28 && ds.split[0].samples[0].h == 28, "pneumonia image size");
    struct {
        int s, i, y, x, v, label;
    } pn[] = {{0, 0, 0, 0, 92, 1},    {0, 0, 14, 14, 209, 1}, {0, 4707, 27, 27, 135, 0},
              {1, 100, 5, 20, 134, 1}, {2, 623, 13, 7, 95, 0}, {0, 4000, 20, 3, 73, 0}};
    for (size_t k = 0; k < sizeof pn / sizeof pn[0]; k++) {
        CHECK(px_u8(&ds, pn[k].s, pn[k].i, pn[k].y, pn[k].x, 0) == pn[k].v, "pneumonia %s[%d](%d,%d) = %d, want %d",
              movl_split_names[pn[k].s], pn[k].i, pn[k].y, pn[k].x, px_u8(&ds, pn[k].s, pn[k].i, pn[k].y, pn[k].x, 0),
              pn[k].v);
        CHECK(ds.split[pn[k].s].samples[pn[k].i].label == pn[k].label, "pneumonia label of %s[%d]",
              movl_split_names[pn[k].s], pn[k].i);
    }
    /* the summary names every count */
    char *text = NULL;
    size_t len = 0;
    FILE *mf = open_memstream(&text, &len);
    movl_dataset_print_summary(&ds, mf);
    fclose(mf);
    CHECK(strstr(text, "2 classes, grey, 28x28, stored as uint8") && strstr(text, "1214") &&
              strstr(text, "3494") && strstr(text, "4708") && strstr(text, "389") && strstr(text, "624"),
          "summary:\n%s", text);
    free(text);
    movl_dataset_free(&ds);

    ds = load_ok(MEDMNIST "breastmnist.npz", NULL); /* labels of shape (N,) */
    CHECK(ds.num_classes == 2 && ds.channels == 1, "breast: %d classes", ds.num_classes);
    CHECK(ds.split[0].n == 546 && ds.split[1].n == 78 && ds.split[2].n == 156, "breast sizes");
    check_counts(&ds, 0, (int[]){147, 399}, "breast");
    check_counts(&ds, 1, (int[]){21, 57}, "breast");
    check_counts(&ds, 2, (int[]){42, 114}, "breast");
    CHECK(px_u8(&ds, 0, 0, 10, 10, 0) == 144 && px_u8(&ds, 1, 77, 0, 27, 0) == 164 && px_u8(&ds, 2, 155, 27, 0, 0) == 22,
          "breast pixels");
    CHECK(ds.split[0].samples[0].label == 1 && ds.split[2].samples[155].label == 1, "breast labels");
    movl_dataset_free(&ds);

    ds = load_ok(MEDMNIST "retinamnist.npz", NULL);
    CHECK(ds.num_classes == 5 && ds.channels == 3, "retina: %d classes, %d channels", ds.num_classes, ds.channels);
    CHECK(ds.split[0].n == 1080 && ds.split[1].n == 120 && ds.split[2].n == 400, "retina sizes");
    check_counts(&ds, 0, (int[]){486, 128, 206, 194, 66}, "retina");
    check_counts(&ds, 1, (int[]){54, 12, 28, 20, 6}, "retina");
    check_counts(&ds, 2, (int[]){174, 46, 92, 68, 20}, "retina");
    CHECK(px_u8(&ds, 0, 0, 14, 14, 0) == 139 && px_u8(&ds, 0, 0, 14, 14, 1) == 101 && px_u8(&ds, 0, 0, 14, 14, 2) == 54,
          "retina train[0](14,14) RGB");
    CHECK(px_u8(&ds, 2, 399, 3, 25, 1) == 2 && ds.split[2].samples[399].label == 4, "retina test[399]");
    CHECK(px_u8(&ds, 1, 60, 27, 27, 2) == 8 && ds.split[1].samples[60].label == 0, "retina val[60]");
    movl_image img;
    CHECK(movl_dataset_get_image(&ds, 0, 0, &img, err) == MOVL_OK && img.w == 28 &&
              img.px[(14 * 28 + 14) * 3 + 1] == 101 / 255.0f,
          "retina get_image");
    movl_image_free(&img);
    movl_dataset_free(&ds);

    /* expected num_classes larger than the labels need is fine */
    movl_dataset_opts o = movl_dataset_default_opts();
    o.num_classes = 3;
    ds = load_ok(MEDMNIST "breastmnist.npz", &o);
    CHECK(ds.num_classes == 3, "breast with num_classes 3: %d", ds.num_classes);
    movl_dataset_free(&ds);
}

static int same_dataset(const movl_dataset *a, const movl_dataset *b)
{
    if (a->num_classes != b->num_classes || a->channels != b->channels || a->pixel_type != b->pixel_type)
        return 0;
    for (int s = 0; s < MOVL_NSPLITS; s++) {
        if (a->split[s].n != b->split[s].n)
            return 0;
        for (int i = 0; i < a->split[s].n; i++) {
            const movl_sample *x = &a->split[s].samples[i], *y = &b->split[s].samples[i];
            size_t n = (size_t)x->w * x->h * a->channels;
            if (x->label != y->label || x->w != y->w || x->h != y->h)
                return 0;
            if (a->pixel_type == MOVL_PIX_U8 ? memcmp(a->split[s].u8 + x->offset, b->split[s].u8 + y->offset, n)
                                             : memcmp(a->split[s].f32 + x->offset, b->split[s].f32 + y->offset,
                                                      n * sizeof(float)))
                return 0;
        }
    }
    return 1;
}

/* The shipped files are deflated; a stored (uncompressed) copy loads the same. */
static void test_stored_zip(void)
{
    const char *src = MEDMNIST "pneumoniamnist.npz";
    const char *keys[6] = {"train_images.npy", "train_labels.npy", "val_images.npy",
                           "val_labels.npy",   "test_images.npy",  "test_labels.npy"};
    fx_member m[6];
    for (int i = 0; i < 6; i++) {
        m[i].name = keys[i];
        m[i].data = fx_read_member(src, keys[i]);
    }
    const char *stored = fx_path("stored.npz");
    fx_write_zip(stored, m, 6, 1);
    int code;
    zip_t *za = zip_open(stored, ZIP_RDONLY, &code);
    zip_stat_t st;
    CHECK(za && zip_stat(za, "train_images.npy", 0, &st) == 0 && st.comp_method == ZIP_CM_STORE,
          "the copy is a stored zip");
    if (za)
        zip_discard(za);
    movl_dataset a = load_ok(src, NULL), b = load_ok(stored, NULL);
    CHECK(same_dataset(&a, &b), "stored and deflated npz load the same");
    movl_dataset_free(&a);
    movl_dataset_free(&b);
}

/* Every sample equals movl_image_load_png of its file (resized if asked). */
static void check_against_png(const movl_dataset *ds, int s, int i, const char *path, int resize_to)
{
    movl_image want, got;
    if (movl_image_load_png(path, &want, err) != MOVL_OK) {
        CHECK(0, "reference decode of %s: %s", path, err);
        return;
    }
    if (resize_to) {
        movl_image r;
        movl_image_resize(&want, resize_to, resize_to, &r);
        movl_image_free(&want);
        want = r;
    }
    CHECK(movl_dataset_get_image(ds, s, i, &got, err) == MOVL_OK, "get_image: %s", err);
    int same = got.w == want.w && got.h == want.h &&
               memcmp(got.px, want.px, sizeof(float) * 3 * (size_t)want.w * want.h) == 0;
    CHECK(same, "%s: stored %dx%d differs from the decoded %dx%d", path, got.w, got.h, want.w, want.h);
    movl_image_free(&want);
    movl_image_free(&got);
}

static void test_png_folders(void)
{
    /* tree8: only grey 8-bit content -> 1 channel, uint8 storage */
    fx_mkdir(fx_path("tree8"));
    fx_mkdir(fx_path("tree8/b_dog"));
    fx_mkdir(fx_path("tree8/a_cat"));
    fx_mkdir(fx_path("tree8/a_cat/nested")); /* ignored */
    fx_write_text(fx_path("tree8/a_cat/notes.txt"), "not an image");
    fx_write_text(fx_path("tree8/README"), "not a class");
    fx_write_id_png(fx_path("tree8/a_cat/2.png"), 5, 4, 2);
    fx_write_id_png(fx_path("tree8/a_cat/10.png"), 5, 4, 10);
    fx_write_id_png(fx_path("tree8/a_cat/1.png"), 3, 3, 1);
    png_color grey_pal[4] = {{0, 0, 0}, {60, 60, 60}, {200, 200, 200}, {255, 255, 255}};
    uint16_t idx[12] = {0, 1, 2, 3, 3, 2, 1, 0, 1, 1, 2, 2};
    fx_write_png(fx_path("tree8/b_dog/pal.png"), 4, 3, PNG_COLOR_TYPE_PALETTE, 8, idx, grey_pal, 4);
    uint16_t ga[8] = {10, 255, 20, 0, 30, 128, 40, 255}; /* grey + alpha: alpha is dropped */
    fx_write_png(fx_path("tree8/b_dog/ga.PNG"), 2, 2, PNG_COLOR_TYPE_GRAY_ALPHA, 8, ga, NULL, 0);

    movl_dataset_opts o = movl_dataset_default_opts();
    o.val_frac = o.test_frac = 0;
    movl_dataset ds = load_ok(fx_path("tree8"), &o);
    CHECK(ds.num_classes == 2 && ds.class_names && strcmp(ds.class_names[0], "a_cat") == 0 &&
              strcmp(ds.class_names[1], "b_dog") == 0,
          "tree8 classes sorted");
    CHECK(ds.channels == 1 && ds.pixel_type == MOVL_PIX_U8, "tree8 stored grey uint8 (%d ch, type %d)", ds.channels,
          ds.pixel_type);
    CHECK(ds.split[0].n == 5 && ds.split[1].n == 0 && ds.split[2].n == 0, "tree8 all in train: %d", ds.split[0].n);
    const char *order[5] = {"tree8/a_cat/1.png", "tree8/a_cat/10.png", "tree8/a_cat/2.png", "tree8/b_dog/ga.PNG",
                            "tree8/b_dog/pal.png"};
    for (int i = 0; i < 5 && i < ds.split[0].n; i++) {
        CHECK(ds.split[0].samples[i].label == (i < 3 ? 0 : 1), "tree8 label %d", i);
        check_against_png(&ds, 0, i, fx_path("%s", order[i]), 0);
    }
    CHECK(px_u8(&ds, 0, 4, 0, 3, 0) == 255 && px_u8(&ds, 0, 4, 1, 0, 0) == 255 && px_u8(&ds, 0, 3, 1, 1, 0) == 40,
          "tree8 palette / grey-alpha values");
    movl_dataset_free(&ds);

    /* treemix: 16-bit, RGB, RGBA, colour palette -> 3 channels, float storage */
    fx_mkdir(fx_path("treemix"));
    fx_mkdir(fx_path("treemix/x"));
    fx_mkdir(fx_path("treemix/y"));
    uint16_t g16[35];
    for (int i = 0; i < 35; i++)
        g16[i] = (uint16_t)(12345 + 1000 * i);
    fx_write_png(fx_path("treemix/x/g16.png"), 5, 7, PNG_COLOR_TYPE_GRAY, 16, g16, NULL, 0);
    uint16_t rgb[6 * 6 * 3];
    for (int i = 0; i < 6 * 6 * 3; i++)
        rgb[i] = (uint16_t)((i * 37) % 256);
    fx_write_png(fx_path("treemix/x/rgb.png"), 6, 6, PNG_COLOR_TYPE_RGB, 8, rgb, NULL, 0);
    uint16_t rgba[4 * 4 * 4];
    for (int i = 0; i < 4 * 4 * 4; i++)
        rgba[i] = (uint16_t)((i * 53 + 11) % 256);
    fx_write_png(fx_path("treemix/y/rgba.png"), 4, 4, PNG_COLOR_TYPE_RGB_ALPHA, 8, rgba, NULL, 0);
    png_color pal[3] = {{255, 0, 0}, {0, 255, 0}, {10, 20, 30}};
    uint16_t pidx[9] = {0, 1, 2, 2, 1, 0, 0, 0, 2};
    fx_write_png(fx_path("treemix/y/pal.png"), 3, 3, PNG_COLOR_TYPE_PALETTE, 8, pidx, pal, 3);
    ds = load_ok(fx_path("treemix"), &o);
    CHECK(ds.channels == 3 && ds.pixel_type == MOVL_PIX_F32 && ds.split[0].n == 4, "treemix: %d ch, type %d, n %d",
          ds.channels, ds.pixel_type, ds.split[0].n);
    const char *mix[4] = {"treemix/x/g16.png", "treemix/x/rgb.png", "treemix/y/pal.png", "treemix/y/rgba.png"};
    for (int i = 0; i < 4 && i < ds.split[0].n; i++)
        check_against_png(&ds, 0, i, fx_path("%s", mix[i]), 0);
    /* 16-bit precision is kept: sample 0 is the 5x7 grey16 image */
    const movl_sample *g = &ds.split[0].samples[0];
    CHECK(g->w == 5 && g->h == 7 && ds.split[0].f32[g->offset + 3 * 6 + 1] == (float)(12345 + 6000) / 65535.0f,
          "16-bit value kept");
    movl_dataset_free(&ds);

    /* resize at load */
    o.resize_to = 8;
    ds = load_ok(fx_path("treemix"), &o);
    for (int i = 0; i < 4 && i < ds.split[0].n; i++)
        check_against_png(&ds, 0, i, fx_path("%s", mix[i]), 8);
    movl_dataset_free(&ds);
}

static void test_csv(void)
{
    /* with a split column, a header, a quoted field, an absolute path and CRLF lines */
    char text[2048];
    snprintf(text, sizeof text,
             "path,label,split\r\n"
             "treemix/x/g16.png,2,train\r\n"
             "\"treemix/x/rgb.png\",0,val\r\n"
             "\r\n"
             "%s/treemix/y/pal.png, 1 ,TEST\r\n"
             "treemix/y/rgba.png,0,train\r\n",
             fx_root);
    fx_write_text(fx_path("m1.csv"), text);
    movl_dataset ds = load_ok(fx_path("m1.csv"), NULL);
    CHECK(ds.num_classes == 3 && !ds.class_names, "m1: %d classes (inferred as max label + 1)", ds.num_classes);
    CHECK(ds.split[0].n == 2 && ds.split[1].n == 1 && ds.split[2].n == 1, "m1 split sizes %d/%d/%d", ds.split[0].n,
          ds.split[1].n, ds.split[2].n);
    if (ds.split[0].n == 2 && ds.split[2].n == 1) {
        CHECK(ds.split[0].samples[0].label == 2 && ds.split[0].samples[1].label == 0 &&
                  ds.split[2].samples[0].label == 1,
              "m1 labels");
        check_against_png(&ds, 0, 1, fx_path("treemix/y/rgba.png"), 0);
        check_against_png(&ds, 2, 0, fx_path("treemix/y/pal.png"), 0);
    }
    movl_dataset_free(&ds);

    /* class names, no header, no split column: split by seed */
    fx_mkdir(fx_path("flat"));
    FILE *f = fopen(fx_path("m2.csv"), "w");
    for (int i = 0; i < 30; i++) {
        fx_write_id_png(fx_path("flat/%02d.png", i), 3, 3, i);
        fprintf(f, "flat/%02d.png,%s\n", i, i % 3 == 0 ? "pneu" : "norm");
    }
    fclose(f);
    movl_dataset_opts o = movl_dataset_default_opts();
    o.val_frac = 0.1;
    o.test_frac = 0.2;
    ds = load_ok(fx_path("m2.csv"), &o);
    CHECK(ds.num_classes == 2 && ds.class_names && strcmp(ds.class_names[0], "norm") == 0 &&
              strcmp(ds.class_names[1], "pneu") == 0,
          "m2 class names sorted");
    /* norm: 20 -> test 4, val 2, train 14; pneu: 10 -> test 2, val 1, train 7 */
    check_counts(&ds, 0, (int[]){14, 7}, "m2");
    check_counts(&ds, 1, (int[]){2, 1}, "m2");
    check_counts(&ds, 2, (int[]){4, 2}, "m2");
    for (int s = 0; s < 3; s++)
        for (int i = 0; i < ds.split[s].n; i++) {
            int id = px_u8(&ds, s, i, 0, 0, 0);
            CHECK(ds.split[s].samples[i].label == (id % 3 == 0 ? 1 : 0), "m2 label of image %d", id);
        }
    movl_dataset_free(&ds);
}

/* ids[s][i] = the id pixel of every sample (images written by fx_write_id_png). */
static void split_ids(const movl_dataset *ds, int ids[3][64])
{
    for (int s = 0; s < 3; s++)
        for (int i = 0; i < ds->split[s].n && i < 64; i++)
            ids[s][i] = px_u8(ds, s, i, 0, 0, 0);
}

static void test_seeded_split(void)
{
    fx_mkdir(fx_path("ids"));
    fx_mkdir(fx_path("ids/c0"));
    fx_mkdir(fx_path("ids/c1"));
    for (int i = 0; i < 50; i++)
        fx_write_id_png(fx_path("ids/c%d/%03d.png", i < 20 ? 0 : 1, i), 4, 4, i);
    movl_dataset_opts o = movl_dataset_default_opts();
    o.val_frac = 0.1;
    o.test_frac = 0.2;
    o.split_seed = 7;
    movl_dataset a = load_ok(fx_path("ids"), &o), b = load_ok(fx_path("ids"), &o);
    o.split_seed = 8;
    movl_dataset c = load_ok(fx_path("ids"), &o);
    CHECK(same_dataset(&a, &b), "same seed, same split");
    CHECK(!same_dataset(&a, &c), "another seed, another split");
    check_counts(&a, 0, (int[]){14, 21}, "ids");
    check_counts(&a, 1, (int[]){2, 3}, "ids");
    check_counts(&a, 2, (int[]){4, 6}, "ids");
    int ids[3][64], seen[50] = {0}, sorted = 1;
    split_ids(&a, ids);
    for (int s = 0; s < 3; s++)
        for (int i = 0; i < a.split[s].n; i++) {
            seen[ids[s][i]]++;
            if (i && ids[s][i] <= ids[s][i - 1])
                sorted = 0;
            CHECK(a.split[s].samples[i].label == (ids[s][i] < 20 ? 0 : 1), "ids: label of %d", ids[s][i]);
        }
    int disjoint = 1;
    for (int i = 0; i < 50; i++)
        disjoint &= seen[i] == 1;
    CHECK(disjoint, "splits are disjoint and cover every image");
    CHECK(sorted, "samples keep the file order within a split");
    movl_dataset_free(&a);
    movl_dataset_free(&b);
    movl_dataset_free(&c);
}

static void test_shuffle(void)
{
    enum { N = 1000 };
    static int p1[N], p2[N], p3[N], p4[N];
    movl_shuffle(N, 42, 3, p1);
    movl_shuffle(N, 42, 3, p2);
    movl_shuffle(N, 42, 4, p3);
    movl_shuffle(N, 43, 3, p4);
    int seen[N] = {0}, perm = 1, fixed = 0;
    for (int i = 0; i < N; i++) {
        if (p1[i] < 0 || p1[i] >= N || seen[p1[i]]++)
            perm = 0;
        fixed += p1[i] == i;
    }
    CHECK(perm, "shuffle gives a permutation");
    CHECK(fixed < 10, "shuffle moves things (%d fixed points of 1000)", fixed);
    CHECK(memcmp(p1, p2, sizeof p1) == 0, "same seed and epoch, same order");
    CHECK(memcmp(p1, p3, sizeof p1) != 0, "another epoch, another order");
    CHECK(memcmp(p1, p4, sizeof p1) != 0, "another seed, another order");
    int one = -1;
    movl_shuffle(1, 1, 1, &one);
    movl_shuffle(0, 1, 1, NULL);
    CHECK(one == 0, "shuffle of one element");
}

static void test_subsample(void)
{
    movl_dataset full = load_ok(MEDMNIST "pneumoniamnist.npz", NULL);
    movl_dataset a = load_ok(MEDMNIST "pneumoniamnist.npz", NULL), b = load_ok(MEDMNIST "pneumoniamnist.npz", NULL),
                 c = load_ok(MEDMNIST "pneumoniamnist.npz", NULL);
    CHECK(movl_dataset_subsample(&a, MOVL_SPLIT_TRAIN, 100, 3, err) == MOVL_OK, "subsample: %s", err);
    movl_dataset_subsample(&b, MOVL_SPLIT_TRAIN, 100, 3, err);
    movl_dataset_subsample(&c, MOVL_SPLIT_TRAIN, 100, 4, err);
    CHECK(a.split[0].n == 100, "subsample keeps 100: %d", a.split[0].n);
    check_counts(&a, 0, (int[]){26, 74}, "subsample 100"); /* 25.79 + 74.21: the larger remainder rounds up */
    CHECK(same_dataset(&a, &b), "same seed, same subsample");
    CHECK(!same_dataset(&a, &c), "another seed, another subsample");
    CHECK(a.split[1].n == 524 && a.split[2].n == 624, "other splits untouched");
    /* kept images are original images, in their original order (greedy match on bytes) */
    int j = 0, ordered = 1;
    for (int i = 0; i < a.split[0].n && ordered; i++) {
        const movl_sample *x = &a.split[0].samples[i];
        while (j < full.split[0].n &&
               (full.split[0].samples[j].label != x->label ||
                memcmp(full.split[0].u8 + full.split[0].samples[j].offset, a.split[0].u8 + x->offset, 28 * 28)))
            j++;
        ordered = j < full.split[0].n;
        j++;
    }
    CHECK(ordered, "subsample keeps original images in order");
    movl_dataset_free(&a);
    movl_dataset_free(&b);
    movl_dataset_free(&c);
    movl_dataset_free(&full);

    movl_dataset r = load_ok(MEDMNIST "retinamnist.npz", NULL);
    movl_dataset_subsample(&r, MOVL_SPLIT_TRAIN, 10, 1, err);
    check_counts(&r, 0, (int[]){4, 1, 2, 2, 1}, "retina subsample 10");
    movl_dataset_subsample(&r, MOVL_SPLIT_VAL, 4, 1, err); /* 54/12/28/20/6 of 120: quotas 1.8 .4 .93 .67 .2 */
    check_counts(&r, 1, (int[]){1, 1, 1, 1, 0}, "retina val subsample 4"); /* then class 1 takes one from class 0 */
    movl_dataset_free(&r);
}

/* Straightforward reference: get_image -> movl_image_resize -> movl_image_to_chw. */
static void ref_prep(const movl_dataset *ds, int s, int i, int size, float *out)
{
    movl_image img, r;
    movl_dataset_get_image(ds, s, i, &img, err);
    movl_image_resize(&img, size, size, &r);
    movl_image_to_chw(&r, imagenet_mean, imagenet_std, out);
    movl_image_free(&img);
    movl_image_free(&r);
}

static void check_prep(const movl_dataset *ds, int s, const int *idx, int count, int size, const char *what)
{
    size_t per = 3 * (size_t)size * size;
    float *got = malloc(sizeof(float) * per * count), *want = malloc(sizeof(float) * per * count);
    for (size_t k = 0; k < per * count; k++)
        got[k] = NAN;
    movl_prep *p;
    CHECK(movl_prep_create(size, 0, imagenet_mean, imagenet_std, &p, err) == MOVL_OK, "prep_create: %s", err);
    CHECK(movl_prep_batch(p, ds, s, idx, count, got, err) == MOVL_OK, "prep_batch: %s", err);
    for (int b = 0; b < count; b++)
        ref_prep(ds, s, idx[b], size, want + b * per);
    double nmse = test_nmse(want, got, per * count);
    CHECK(nmse < 1e-10, "%s: preprocess NMSE %.3g against resize + to_chw", what, nmse);
    movl_prep_free(p);
    free(got);
    free(want);
}

static void test_preprocess(void)
{
    movl_dataset pn = load_ok(MEDMNIST "pneumoniamnist.npz", NULL), rt = load_ok(MEDMNIST "retinamnist.npz", NULL);
    int idx[5] = {0, 17, 4707, 3, 17};
    check_prep(&pn, MOVL_SPLIT_TRAIN, idx, 5, 224, "pneumonia 28->224");
    check_prep(&pn, MOVL_SPLIT_TRAIN, idx, 5, 19, "pneumonia 28->19 (down)");
    check_prep(&rt, MOVL_SPLIT_TEST, idx, 2, 240, "retina 28->240");

    /* float storage, non-square sources (the 16-bit tree of test_png_folders) */
    movl_dataset_opts o = movl_dataset_default_opts();
    o.val_frac = o.test_frac = 0;
    movl_dataset mix = load_ok(fx_path("treemix"), &o);
    int all[4] = {0, 1, 2, 3};
    check_prep(&mix, MOVL_SPLIT_TRAIN, all, 4, 9, "PNG float 5x7 etc -> 9");
    check_prep(&mix, MOVL_SPLIT_TRAIN, all, 4, 3, "PNG float -> 3");
    movl_dataset_free(&mix);

    /* movl_prep_image on a decoded PNG */
    movl_image img;
    movl_image_load_png(fx_path("treemix/x/rgb.png"), &img, err);
    float got[3 * 11 * 11], want[3 * 11 * 11];
    movl_prep *p;
    movl_prep_create(11, 0, imagenet_mean, imagenet_std, &p, err);
    CHECK(movl_prep_image(p, &img, got, err) == MOVL_OK, "prep_image: %s", err);
    movl_image r;
    movl_image_resize(&img, 11, 11, &r);
    movl_image_to_chw(&r, imagenet_mean, imagenet_std, want);
    CHECK(test_nmse(want, got, 3 * 11 * 11) < 1e-10, "prep_image against resize + to_chw");
    movl_image_free(&r);
    movl_image_free(&img);
    movl_prep_free(p);

    /* shrink layout: the inner square equals a plain preprocessing at the inner
     * size, offset (S - s) / 2; the border is the normalised zero pixel */
    for (int t = 0; t < 2; t++) {
        int S = t ? 225 : 224, s = t ? 160 : 168, off = (S - s) / 2;
        size_t per = 3 * (size_t)S * S, inner = 3 * (size_t)s * s;
        float *shr = malloc(sizeof(float) * per * 2), *pl = malloc(sizeof(float) * inner * 2);
        for (size_t k = 0; k < per * 2; k++)
            shr[k] = NAN;
        movl_prep *ps, *pp;
        movl_prep_create(S, s, imagenet_mean, imagenet_std, &ps, err);
        movl_prep_create(s, 0, imagenet_mean, imagenet_std, &pp, err);
        int two[2] = {5, 1000};
        CHECK(movl_prep_batch(ps, &rt, MOVL_SPLIT_TRAIN, two, 2, shr, err) == MOVL_OK, "shrink batch: %s", err);
        movl_prep_batch(pp, &rt, MOVL_SPLIT_TRAIN, two, 2, pl, err);
        int bad_inner = 0, bad_border = 0;
        for (int b = 0; b < 2; b++)
            for (int c = 0; c < 3; c++) {
                float fill = (0.0f - imagenet_mean[c]) / imagenet_std[c];
                for (int y = 0; y < S; y++)
                    for (int x = 0; x < S; x++) {
                        float v = shr[b * per + ((size_t)c * S + y) * S + x];
                        if (y >= off && y < off + s && x >= off && x < off + s)
                            bad_inner += v != pl[b * inner + ((size_t)c * s + y - off) * s + x - off];
                        else
                            bad_border += v != fill;
                    }
            }
        CHECK(!bad_inner && !bad_border, "shrink %d in %d: %d inner, %d border values wrong", s, S, bad_inner,
              bad_border);
        movl_prep_free(ps);
        movl_prep_free(pp);
        free(shr);
        free(pl);
    }

    /* speed: 32 images 28 -> 224, best of 5 */
    int batch[32];
    for (int i = 0; i < 32; i++)
        batch[i] = i * 131;
    float *out = malloc(sizeof(float) * 32 * 3 * 224 * 224);
    movl_prep_create(224, 0, imagenet_mean, imagenet_std, &p, err);
    for (int k = 0; k < 2; k++) {
        movl_dataset *ds = k ? &rt : &pn;
        double best = 1e9;
        for (int rep = 0; rep < 5; rep++) {
            double t0 = movl_now();
            movl_prep_batch(p, ds, MOVL_SPLIT_TRAIN, batch, 32, out, err);
            double dt = movl_now() - t0;
            best = dt < best ? dt : best;
        }
        printf("preprocess 32 x %s 28x28 -> 3x224x224: %.2f ms\n", k ? "RGB" : "grey", best * 1e3);
#if defined(NDEBUG) && !defined(__SANITIZE_ADDRESS__)
        CHECK(best < 0.1, "preprocessing 32 images took %.1f ms", best * 1e3); /* a few ms expected; slack for load */
#endif
    }
    movl_prep_free(p);
    free(out);

    /* bad arguments */
    CHECK(movl_prep_create(224, 300, imagenet_mean, imagenet_std, &p, err) == MOVL_ERR_INPUT && !p, "inner > size");
    float zero_std[3] = {1, 0, 1};
    CHECK(movl_prep_create(224, 0, imagenet_mean, zero_std, &p, err) == MOVL_ERR_INPUT, "std 0 rejected");
    movl_prep_create(8, 0, imagenet_mean, imagenet_std, &p, err);
    int oob = 524;
    float small[3 * 8 * 8];
    CHECK(movl_prep_batch(p, &pn, MOVL_SPLIT_VAL, &oob, 1, small, err) == MOVL_ERR_INPUT && strstr(err, "outside"),
          "index out of range: %s", err);
    movl_prep_free(p);
    movl_dataset_free(&pn);
    movl_dataset_free(&rt);
}

int main(void)
{
    fx_make_root();
    test_medmnist();
    test_stored_zip();
    test_png_folders();
    test_csv();
    test_seeded_split();
    test_shuffle();
    test_subsample();
    test_preprocess();
    fx_remove_tree(fx_root);
    return test_finish();
}
