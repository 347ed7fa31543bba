/* Bad dataset inputs, each built here in C (npz members with libzip, PNGs
 * with libpng): every load must fail with MOVL_ERR_INPUT, a one-line message
 * naming the file and containing the expected fragment, and an empty
 * dataset left behind. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "data/dataset.h"
#include "dataset_fixtures.h"
#include "test_util.h"

static char err[MOVL_ERRLEN];

static void expect_bad(int (*load)(const char *, const movl_dataset_opts *, movl_dataset *, char *),
                       const char *path, const movl_dataset_opts *o, const char *fragment, const char *names)
{
    movl_dataset ds;
    memset(&ds, 0x5a, sizeof ds);
    err[0] = 0;
    int rc = load(path, o, &ds, err);
    if (getenv("MOVL_TEST_VERBOSE"))
        printf("%s\n", err);
    CHECK(rc == MOVL_ERR_INPUT, "%s: rc %d (want MOVL_ERR_INPUT), message: %s", path, rc, err);
    CHECK(strstr(err, fragment) != NULL, "%s: message lacks '%s': %s", path, fragment, err);
    CHECK(strstr(err, names) != NULL, "message does not name '%s': %s", names, err);
    CHECK(!strchr(err, '\n'), "message is one line: %s", err);
    movl_dataset zero;
    memset(&zero, 0, sizeof zero);
    CHECK(memcmp(&ds, &zero, sizeof ds) == 0, "%s: dataset not left empty", path);
    if (rc == MOVL_OK)
        movl_dataset_free(&ds);
}

enum { TRAIN_IMG, TRAIN_LB, VAL_IMG, VAL_LB, TEST_IMG, TEST_LB, NKEYS };
static const char *key_names[NKEYS] = {"train_images.npy", "train_labels.npy", "val_images.npy",
                                       "val_labels.npy",   "test_images.npy",  "test_labels.npy"};

/* A valid small npz (6 / 4 / 4 grey 4x4 images, 2 classes) with member
 * `key` replaced by `repl` (repl.p NULL: the member is left out). */
static const char *npz_variant(const char *name, int key, fx_buf repl, int store)
{
    const int n[3] = {6, 4, 4};
    fx_member m[NKEYS];
    int count = 0;
    for (int k = 0; k < NKEYS; k++) {
        fx_buf b = k == key ? repl : (k % 2 == 0 ? fx_images(n[k / 2], 4, 4) : fx_labels(n[k / 2], 2));
        if (!b.p)
            continue;
        m[count].name = key_names[k];
        m[count++].data = b;
    }
    const char *path = fx_path("%s", name);
    fx_write_zip(path, m, count, store);
    return path;
}

static void test_bad_npz(void)
{
    movl_dataset_opts o = movl_dataset_default_opts();
    const char *p;
    fx_buf none = {NULL, 0};

    /* a valid one first, so that the failures below are about the change */
    p = npz_variant("good.npz", -1, none, 0);
    movl_dataset ds;
    CHECK(movl_dataset_load(p, NULL, &ds, err) == MOVL_OK && ds.split[0].n == 6 && ds.num_classes == 2,
          "the base npz loads: %s", err);
    movl_dataset_free(&ds);

    p = npz_variant("count.npz", TRAIN_LB, fx_labels(5, 2), 0);
    expect_bad(movl_dataset_load, p, NULL, "train_images has 6 images but train_labels has 5 labels", p);

    p = npz_variant("range.npz", VAL_LB, fx_labels(4, 3), 0); /* val_labels[2] = 2 */
    o.num_classes = 2;
    expect_bad(movl_dataset_load, p, &o, "val_labels[2] = 2 is outside the class range 0..1 (num_classes 2)", p);
    o.num_classes = 0;
    CHECK(movl_dataset_load(p, &o, &ds, err) == MOVL_OK && ds.num_classes == 3, "inferred num_classes 3: %s", err);
    movl_dataset_free(&ds);

    long long neg[4] = {0, 1, -1, 0};
    p = npz_variant("negative.npz", TEST_LB, fx_npy("<i8", "False", "(4,)", neg, sizeof neg), 0);
    expect_bad(movl_dataset_load, p, NULL, "test_labels[2] = -1 is not a valid class index", p);

    p = npz_variant("empty.npz", VAL_IMG, fx_npy("|u1", "False", "(0, 4, 4)", NULL, 0), 0);
    expect_bad(movl_dataset_load, p, NULL, "split 'val' is empty (val_images has shape (0, 4, 4))", p);

    p = npz_variant("missing.npz", TEST_LB, none, 0);
    expect_bad(movl_dataset_load, p, NULL, "missing key 'test_labels'", p);

    unsigned char multi[18] = {0};
    p = npz_variant("multi.npz", TRAIN_LB, fx_npy("|u1", "False", "(6, 3)", multi, sizeof multi), 0);
    expect_bad(movl_dataset_load, p, NULL, "multi-label labels of shape (6, 3) are not supported", p);

    float fimg[6 * 16] = {0};
    p = npz_variant("dtype.npz", TRAIN_IMG, fx_npy("<f4", "False", "(6, 4, 4)", fimg, sizeof fimg), 0);
    expect_bad(movl_dataset_load, p, NULL, "key 'train_images': dtype '<f4' is not supported (expected uint8", p);

    int be[4] = {0};
    p = npz_variant("bigendian.npz", VAL_LB, fx_npy(">i4", "False", "(4,)", be, sizeof be), 0);
    expect_bad(movl_dataset_load, p, NULL, "key 'val_labels': dtype '>i4' is not supported", p);

    unsigned char px[96] = {0};
    p = npz_variant("fortran.npz", TRAIN_IMG, fx_npy("|u1", "True", "(6, 4, 4)", px, sizeof px), 0);
    expect_bad(movl_dataset_load, p, NULL, "fortran_order True is not supported", p);

    p = npz_variant("short.npz", TRAIN_IMG, fx_npy("|u1", "False", "(6, 4, 4)", px, 50), 0);
    expect_bad(movl_dataset_load, p, NULL, "shape (6, 4, 4) needs 96 bytes of data, the member has 50", p);

    p = npz_variant("shape.npz", TRAIN_IMG, fx_npy("|u1", "False", "(6, 16)", px, sizeof px), 0);
    expect_bad(movl_dataset_load, p, NULL, "shape (6, 16) is not supported (expected (N, H, W) or (N, H, W, 3))", p);

    fx_buf junk = {malloc(32), 32};
    memcpy(junk.p, "this is not a numpy array at all", 32);
    p = npz_variant("magic.npz", TEST_IMG, junk, 0);
    expect_bad(movl_dataset_load, p, NULL, "key 'test_images': not a .npy array", p);

    fx_buf dict = fx_npy("|u1", "False", "(4, 4, 4", px, 64); /* unclosed tuple */
    p = npz_variant("dict.npz", TEST_IMG, dict, 0);
    expect_bad(movl_dataset_load, p, NULL, "malformed .npy header dict", p);

    /* corrupt archives: not a zip, a truncated zip, a flipped data byte (CRC) */
    fx_write_text(fx_path("garbage.npz"), "PK\x03\x04 but nothing of a zip follows");
    expect_bad(movl_dataset_load, fx_path("garbage.npz"), NULL, "not a valid .npz (zip) archive", "garbage.npz");
    FILE *in = fopen(MOVL_SOURCE_DIR "/data/medmnist/breastmnist.npz", "rb"),
         *out = fopen(fx_path("truncated.npz"), "wb");
    char buf[4096];
    for (int i = 0; i < 40; i++) /* the first 160 kB of 560 kB */
        fwrite(buf, 1, fread(buf, 1, sizeof buf, in), out);
    fclose(in);
    fclose(out);
    expect_bad(movl_dataset_load, fx_path("truncated.npz"), NULL, "not a valid .npz (zip) archive", "truncated.npz");

    p = npz_variant("crc.npz", -1, none, 1); /* stored: the pixels are in the file as is */
    FILE *f = fopen(p, "r+b");
    unsigned char all[8192];
    size_t n = fread(all, 1, sizeof all, f);
    unsigned char *hit = NULL; /* the train_images header */
    for (size_t i = 0; i + 9 <= n && !hit; i++)
        if (memcmp(all + i, "(6, 4, 4)", 9) == 0)
            hit = all + i;
    CHECK(hit != NULL, "found the stored train_images header");
    if (hit) {
        long at = (long)(hit - all) + 64; /* inside the pixel data that follows the 128-byte header */
        fseek(f, at, SEEK_SET);
        fputc(all[at] ^ 0xff, f);
    }
    fclose(f);
    expect_bad(movl_dataset_load, p, NULL, "key 'train_images': corrupt zip member", p);

    mkdir(fx_path("dir.npz"), 0755);
    expect_bad(movl_dataset_load_npz, fx_path("dir.npz"), NULL, "cannot read dataset (is a directory)", "dir.npz");
    expect_bad(movl_dataset_load, fx_path("nothing.npz"), NULL, "cannot read dataset (No such file", "nothing.npz");
    fx_write_text(fx_path("data.txt"), "x");
    expect_bad(movl_dataset_load, fx_path("data.txt"), NULL, "unknown dataset kind", "data.txt");
}

static void test_bad_folders(void)
{
    movl_dataset_opts o = movl_dataset_default_opts();
    o.val_frac = o.test_frac = 0;

    fx_mkdir(fx_path("noclass"));
    fx_write_id_png(fx_path("noclass/loose.png"), 2, 2, 1);
    expect_bad(movl_dataset_load, fx_path("noclass"), &o, "no class folders", "noclass");

    fx_mkdir(fx_path("emptyclass"));
    fx_mkdir(fx_path("emptyclass/a"));
    fx_mkdir(fx_path("emptyclass/b"));
    fx_write_id_png(fx_path("emptyclass/a/1.png"), 2, 2, 1);
    fx_write_text(fx_path("emptyclass/b/readme.txt"), "no images here");
    expect_bad(movl_dataset_load, fx_path("emptyclass"), &o, "class folder has no images", "emptyclass/b");

    fx_mkdir(fx_path("dangling"));
    fx_mkdir(fx_path("dangling/a"));
    fx_write_id_png(fx_path("dangling/a/1.png"), 2, 2, 1);
    CHECK(symlink("/nonexistent/movl/x.png", fx_path("dangling/a/2.png")) == 0, "symlink");
    expect_bad(movl_dataset_load, fx_path("dangling"), &o, "cannot read image (No such file or directory)",
               "dangling/a/2.png");

    fx_mkdir(fx_path("trunc"));
    fx_mkdir(fx_path("trunc/a"));
    uint16_t s[64 * 64];
    for (int i = 0; i < 64 * 64; i++)
        s[i] = (uint16_t)(i * 7919 % 251);
    fx_write_png(fx_path("trunc/a/full.png"), 64, 64, PNG_COLOR_TYPE_GRAY, 8, s, NULL, 0);
    FILE *in = fopen(fx_path("trunc/a/full.png"), "rb"), *out = fopen(fx_path("trunc/a/half.png"), "wb");
    char buf[8192];
    size_t n = fread(buf, 1, sizeof buf, in);
    fwrite(buf, 1, n / 2, out);
    fclose(in);
    fclose(out);
    expect_bad(movl_dataset_load, fx_path("trunc"), &o, "corrupt or truncated PNG", "trunc/a/half.png");

    fx_mkdir(fx_path("notpng"));
    fx_mkdir(fx_path("notpng/a"));
    fx_write_text(fx_path("notpng/a/fake.png"), "GIF89a, not a PNG");
    expect_bad(movl_dataset_load, fx_path("notpng"), &o, "not a PNG, JPEG or DICOM file", "notpng/a/fake.png");

    /* one class folder where three classes are expected */
    o.num_classes = 3;
    expect_bad(movl_dataset_load, fx_path("dangling"), &o, "1 class folder but num_classes is 3", "dangling");
    o.num_classes = 0;

    /* too few images for the asked val fraction */
    o.val_frac = 0.1;
    fx_mkdir(fx_path("tiny"));
    fx_mkdir(fx_path("tiny/a"));
    fx_write_id_png(fx_path("tiny/a/1.png"), 2, 2, 1);
    fx_write_id_png(fx_path("tiny/a/2.png"), 2, 2, 2);
    expect_bad(movl_dataset_load, fx_path("tiny"), &o, "split 'val' is empty", "tiny");
    o.val_frac = 0.6;
    o.test_frac = 0.5;
    expect_bad(movl_dataset_load, fx_path("tiny"), &o, "must each be in [0, 1) with a sum below 1", "tiny");
}

static void test_bad_csv(void)
{
    movl_dataset_opts o = movl_dataset_default_opts();
    o.val_frac = o.test_frac = 0;
    fx_mkdir(fx_path("c"));
    fx_write_id_png(fx_path("c/1.png"), 2, 2, 1);
    fx_write_id_png(fx_path("c/2.png"), 2, 2, 2);
    struct {
        const char *text, *fragment;
        int num_classes;
    } cases[] = {
        {"path,label\nc/1.png,0\nc,1\n", "bad1.csv:3: ", 0},
        {"path,label\nc/1.png,0\nc,1\n", "c: cannot read image (is a directory)", 0},
        {"c/1.png,0,train\nc/2.png,1,training\n", "bad3.csv:2: split 'training' is not train, val or test", 0},
        {"c/1.png,0\nc/2.png,5\n", "bad4.csv:2: label 5 is outside the class range 0..1 (num_classes 2)", 2},
        {"c/1.png,-1\nc/2.png,0\n", "bad5.csv:1: label -1 is not a valid class index", 0},
        {"c/1.png,0\nc/2.png,1,train\n", "bad6.csv:2: 3 fields but line 1 has 2", 0},
        {"c/1.png\n", "bad7.csv:1: expected 2 or 3 fields", 0},
        {"\"c/1.png,0\n", "bad8.csv:1: unbalanced double quotes", 0},
        {"", "bad9.csv: no samples", 0},
        {"path,label,split\n", "bad10.csv: no samples", 0},
        {"c/1.png,0,test\nc/2.png,1,val\n", "bad11.csv: split 'train' is empty", 0},
        {"c/1.png,cat\nc/2.png,dog\nc/2.png,emu\n", "bad12.csv: 3 class names (from 'cat' to 'emu') but num_classes is 2",
         2},
        {"c/1.png,0\nc/nope.png,1\n", "bad13.csv:2: ", 0},
        {"c/1.png,0\n,1\n", "bad14.csv:2: empty path", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char name[32];
        snprintf(name, sizeof name, "bad%zu.csv", i + 1);
        fx_write_text(fx_path("%s", name), cases[i].text);
        o.num_classes = cases[i].num_classes;
        expect_bad(movl_dataset_load, fx_path("%s", name), &o, cases[i].fragment, name);
    }
    expect_bad(movl_dataset_load, fx_path("bad13.csv"), &o, "c/nope.png: cannot read image (No such file", "bad13");
    expect_bad(movl_dataset_load_csv, fx_path("absent.csv"), &o, "cannot read manifest (No such file", "absent.csv");
}

int main(void)
{
    fx_make_root();
    test_bad_npz();
    test_bad_folders();
    test_bad_csv();
    fx_remove_tree(fx_root);
    return test_finish();
}
