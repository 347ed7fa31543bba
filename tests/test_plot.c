/* PNG charts (plot.h): charts are written to a temporary folder, read back
 * with libpng and checked pixel by pixel: image size, each series' palette
 * colour inside its panel, error bars, NaN gaps, bar heights proportional
 * to the values; training curves from metrics.csv fixtures; bad input and
 * unwritable paths fail with one line naming the path and leave no file;
 * the reliability diagram: size, bar heights, the gap, counts, bad input. */
#include <cairo.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/common.h"
#include "core/image.h"
#include "plot/plot.h"
#include "test_util.h"

static char root[64];
static char err[MOVL_ERRLEN];

static const char *tmp_path(const char *name)
{
    static char ring[4][256];
    static int next;
    char *p = ring[next++ % 4];
    snprintf(p, 256, "%s/%s", root, name);
    return p;
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static int exists_tmp(const char *path)
{
    return test_temp_left(path);
}

/* Loads a chart; 0 (after a failed CHECK) when it cannot be read. */
static int load(const char *path, movl_image *img)
{
    int rc = movl_image_load_png(path, img, err);
    CHECK(rc == MOVL_OK, "%s: %s", path, err);
    return rc == MOVL_OK;
}

static int pixel_is(const movl_image *img, int x, int y, const unsigned char rgb[3])
{
    const float *px = img->px + ((size_t)y * img->w + x) * 3;
    for (int c = 0; c < 3; c++)
        if (labs(lroundf(px[c] * 255) - rgb[c]) > 3)
            return 0;
    return 1;
}

/* Pixels of series i's colour in the rectangle [x0, x1) x [y0, y1). */
static int count_colour(const movl_image *img, int series, int x0, int x1, int y0, int y1)
{
    unsigned char rgb[3];
    movl_plot_series_color(series, rgb);
    int n = 0;
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++)
            n += pixel_is(img, x, y, rgb);
    return n;
}

static int column_count(const movl_image *img, int series, int x)
{
    return count_colour(img, series, x, x + 1, 0, img->h);
}

static void test_palette(void)
{
    unsigned char a[3], b[3];
    for (int i = 0; i < 8; i++)
        for (int j = i + 1; j < 8; j++) {
            movl_plot_series_color(i, a);
            movl_plot_series_color(j, b);
            CHECK(memcmp(a, b, 3) != 0, "series %d and %d share a colour", i, j);
        }
    movl_plot_series_color(8, b);
    movl_plot_series_color(0, a);
    CHECK(!memcmp(a, b, 3), "the palette repeats after 8 series");
}

static const double xs[5] = {1, 2, 3, 4, 5};
static const double ya[5] = {0.2, 0.5, 0.4, 0.8, 0.6}, yb[5] = {0.9, 0.7, 0.75, 0.3, 0.35};
static const double yc[5] = {0.1, 0.15, 0.2, 0.25, 0.3}, errs[5] = {0.05, 0.08, 0.05, 0.1, 0.06};

static void test_lines(void)
{
    movl_plot_series two[2] = {{"first", 5, xs, ya, NULL}, {"second", 5, xs, yb, NULL}};
    movl_plot_series three[3] = {{"a", 5, xs, ya, NULL}, {"b", 5, xs, yb, NULL}, {"c", 5, xs, yc, NULL}};
    movl_plot_panel panels[2] = {
        {.title = "two series", .xlabel = "x", .ylabel = "y", .series = two, .nseries = 2},
        {.title = "three series", .xlabel = "x", .ylabel = "y", .series = three, .nseries = 3, .y_from_zero = 1},
    };
    const char *path = tmp_path("lines.png");
    int rc = movl_plot_write(path, panels, 2, 320, 240, err);
    CHECK(rc == MOVL_OK, "lines: %s", err);
    CHECK(!exists_tmp(path), "lines: temporary file left behind");
    movl_image img;
    if (!load(path, &img))
        return;
    CHECK(img.w == 640 && img.h == 240, "lines: image %dx%d, expected 640x240", img.w, img.h);
    if (img.w == 640 && img.h == 240) {
        unsigned char white[3] = {255, 255, 255};
        CHECK(pixel_is(&img, 0, 0, white) && pixel_is(&img, 639, 239, white), "lines: background is not white");
        for (int s = 0; s < 2; s++)
            CHECK(count_colour(&img, s, 0, 320, 0, 240) >= 30, "panel 1: series %d colour: %d px", s,
                  count_colour(&img, s, 0, 320, 0, 240));
        CHECK(count_colour(&img, 2, 0, 320, 0, 240) == 0, "panel 1 has series 3's colour");
        for (int s = 0; s < 3; s++)
            CHECK(count_colour(&img, s, 320, 640, 0, 240) >= 30, "panel 2: series %d colour: %d px", s,
                  count_colour(&img, s, 320, 640, 0, 240));
    }
    movl_image_free(&img);
}

/* Long category names (rotated and shortened) and a log x axis with a
 * point at x <= 0 (skipped) still give a complete chart. */
static void test_categories_and_log(void)
{
    enum { NC = 12 };
    char names[NC][64];
    const char *cats[NC];
    double y[NC], e[NC], x[NC];
    for (int i = 0; i < NC; i++) {
        snprintf(names[i], sizeof names[i], "efficientnet_lite%d_with_a_long_suffix_\xc3\xa9%d", i % 5, i);
        cats[i] = names[i];
        y[i] = 0.8 + 0.01 * i;
        e[i] = 0.01;
        x[i] = i == 0 ? 0 : pow(10.0, i - 6);
    }
    movl_plot_series cat_se = {"acc", NC, NULL, y, e}, log_se = {"acc", NC, x, y, NULL};
    movl_plot_panel panels[2] = {
        {.title = "per encoder", .series = &cat_se, .nseries = 1, .categories = cats, .ncats = NC},
        {.title = "log x", .series = &log_se, .nseries = 1, .log_x = 1},
    };
    const char *path = tmp_path("categories.png");
    int rc = movl_plot_write(path, panels, 2, 400, 300, err);
    CHECK(rc == MOVL_OK, "categories/log: %s", err);
    movl_image img;
    if (rc || !load(path, &img))
        return;
    CHECK(img.w == 800 && img.h == 300, "categories/log: image %dx%d, expected 800x300", img.w, img.h);
    if (img.w == 800)
        for (int k = 0; k < 2; k++)
            CHECK(count_colour(&img, 0, 400 * k, 400 * k + 400, 0, 300) >= 30, "panel %d: no series colour", k + 1);
    movl_image_free(&img);
}

/* One point, all-equal values and all zeros still get a range that shows them. */
static void test_degenerate_ranges(void)
{
    static const double one_x = 7, one_y = 0.25, zeros[5] = {0}, twos[5] = {2, 2, 2, 2, 2};
    movl_plot_series one = {NULL, 1, &one_x, &one_y, NULL}, zero = {NULL, 5, xs, zeros, NULL};
    movl_plot_series equal = {NULL, 5, xs, twos, NULL};
    movl_plot_panel panels[4] = {
        {.title = "one point", .series = &one, .nseries = 1},
        {.title = "zeros", .series = &zero, .nseries = 1},
        {.title = "equal", .series = &equal, .nseries = 1},
        {.title = "one point, log x", .series = &one, .nseries = 1, .log_x = 1},
    };
    const char *path = tmp_path("degenerate.png");
    int rc = movl_plot_write(path, panels, 4, 200, 150, err);
    CHECK(rc == MOVL_OK, "degenerate ranges: %s", err);
    movl_image img;
    if (rc || !load(path, &img))
        return;
    for (int k = 0; k < 4 && img.w == 800; k++)
        CHECK(count_colour(&img, 0, 200 * k, 200 * k + 200, 0, 150) >= 9, "panel '%s': series not drawn",
              panels[k].title);
    movl_image_free(&img);
}

/* Pixels of the colour rgb blended with white (antialiased edges,
 * thin strokes) at opacity >= 0.2; grey grid and text do not match. */
static int is_tint(const float *px, const unsigned char rgb[3])
{
    int c = 0;
    for (int k = 1; k < 3; k++)
        if (rgb[k] < rgb[c])
            c = k;
    double a = (255.0 - px[c] * 255) / (255.0 - rgb[c]);
    if (a < 0.2 || a > 1.02)
        return 0;
    for (int k = 0; k < 3; k++)
        if (fabs(px[k] * 255 - (255 - a * (255 - rgb[k]))) > 8)
            return 0;
    return 1;
}

static int count_tint(const movl_image *img, int series)
{
    unsigned char rgb[3];
    movl_plot_series_color(series, rgb);
    int n = 0;
    for (size_t i = 0; i < (size_t)img->w * img->h; i++)
        n += is_tint(img->px + 3 * i, rgb);
    return n;
}

/* One unlabelled series; with `frame`, a second one from (1, 0) to (5, 1)
 * fixes the y range whatever the first holds. */
static int draw_single(const char *name, const double *y, const double *e, int frame, movl_image *img)
{
    static const double fx[2] = {1, 5}, fy[2] = {0, 1};
    movl_plot_series se[2] = {{NULL, 5, xs, y, e}, {NULL, 2, fx, fy, NULL}};
    movl_plot_panel panel = {.title = name, .series = se, .nseries = frame ? 2 : 1};
    int rc = movl_plot_write(tmp_path(name), &panel, 1, 400, 300, err);
    CHECK(rc == MOVL_OK, "%s: %s", name, err);
    return rc == MOVL_OK && load(tmp_path(name), img);
}

static void test_error_bars_and_gaps(void)
{
    movl_image plain, bars;
    if (!draw_single("plain.png", ya, NULL, 1, &plain))
        return;
    if (draw_single("errbars.png", ya, errs, 1, &bars)) {
        size_t differ = 0;
        for (size_t i = 0; i < (size_t)plain.w * plain.h * 3; i++)
            differ += plain.px[i] != bars.px[i];
        CHECK(differ > 100, "error bars changed only %zu pixel values", differ);
        /* Five bars at least 2 * 0.05 of a ~250 px axis tall, plus caps. */
        int n0 = count_tint(&plain, 0), n1 = count_tint(&bars, 0);
        CHECK(n1 >= n0 + 5 * 20, "error bars add series-coloured pixels: %d -> %d", n0, n1);
        movl_image_free(&bars);
    }
    /* NaN at x = 3: the columns around the middle point have no series colour. */
    static const double flat[5] = {1, 1, 1, 1, 1}, gap[5] = {1, 1, NAN, 1, 1};
    movl_image a, b;
    if (draw_single("flat.png", flat, NULL, 0, &a)) {
        if (draw_single("gap.png", gap, NULL, 0, &b)) {
            int left = 0, right = a.w - 1;
            while (left < a.w && !column_count(&a, 0, left))
                left++;
            while (right > 0 && !column_count(&a, 0, right))
                right--;
            int mid = (left + right) / 2;
            CHECK(right - left > 200, "flat line spans columns %d..%d", left, right);
            CHECK(column_count(&a, 0, mid) > 0, "flat line: no colour at the middle column %d", mid);
            CHECK(column_count(&b, 0, mid) == 0 && column_count(&b, 0, mid - 20) == 0,
                  "NaN point: the line is not broken around column %d", mid);
            CHECK(column_count(&b, 0, left + 2) > 0 && column_count(&b, 0, right - 2) > 0,
                  "NaN point: the points beside the gap are missing");
            movl_image_free(&b);
        }
        movl_image_free(&a);
    }
    movl_image_free(&plain);
}

/* Contiguous column runs holding colour `series`: their tallest column. */
static int bar_heights(const movl_image *img, int series, int *heights, int max)
{
    int n = 0, in_bar = 0;
    for (int x = 0; x < img->w; x++) {
        int h = column_count(img, series, x);
        if (h > 0 && !in_bar && n < max)
            heights[n++] = 0;
        if (h > 0)
            heights[n - 1] = h > heights[n - 1] ? h : heights[n - 1];
        in_bar = h > 0;
    }
    return n;
}

static void test_bars(void)
{
    static const char *const cats[3] = {"small", "large", "middle"};
    static const double v1[3] = {1, 3, 2}, v2[3] = {2, 0.5, 4}, e2[3] = {0.2, 0.2, 0.2};
    movl_plot_series se[2] = {{NULL, 3, NULL, v1, NULL}, {NULL, 3, NULL, v2, e2}};
    movl_plot_panel panel = {.title = "bars", .kind = MOVL_PLOT_BARS, .series = se, .nseries = 2,
                             .categories = cats, .ncats = 3};
    const char *path = tmp_path("bars.png");
    int rc = movl_plot_write(path, &panel, 1, 500, 400, err);
    CHECK(rc == MOVL_OK, "bars: %s", err);
    movl_image img;
    if (rc || !load(path, &img))
        return;
    for (int s = 0; s < 2; s++) {
        int h[8];
        const double *v = s ? v2 : v1;
        int n = bar_heights(&img, s, h, 8);
        CHECK(n == 3, "series %d: %d bars, expected 3", s, n);
        for (int i = 1; i < n && n == 3; i++) {
            double want = v[i] / v[0], got = (double)h[i] / h[0];
            CHECK(fabs(got - want) < 0.05 * want + 2.0 / h[0], "series %d bar %d: height ratio %.3f, expected %.3f",
                  s, i, got, want);
        }
    }
    /* Within a group the second series' bar is right of the first. */
    int first0 = 0, first1 = 0;
    while (first0 < img.w && !column_count(&img, 0, first0))
        first0++;
    while (first1 < img.w && !column_count(&img, 1, first1))
        first1++;
    CHECK(first0 < first1 && first1 - first0 < 120, "group order: series 1 at %d, series 2 at %d", first0, first1);
    movl_image_free(&img);
}

static void expect_input_error(const char *what, const movl_plot_panel *panels, int npanels, int w, int h,
                               const char *fragment)
{
    const char *path = tmp_path("bad.png");
    err[0] = 0;
    int rc = movl_plot_write(path, panels, npanels, w, h, err);
    CHECK(rc == MOVL_ERR_INPUT, "%s: rc %d, expected MOVL_ERR_INPUT (%s)", what, rc, err);
    CHECK(strstr(err, path) == err, "%s: message does not start with the path: %s", what, err);
    CHECK(strstr(err, fragment) != NULL, "%s: message lacks '%s': %s", what, fragment, err);
    CHECK(!exists(path) && !exists_tmp(path), "%s: a file was written", what);
}

static void test_bad_input(void)
{
    static const double nan5[5] = {NAN, NAN, NAN, NAN, NAN};
    movl_plot_series ok = {"ok", 5, xs, ya, NULL}, empty = {"none", 0, xs, ya, NULL};
    movl_plot_series all_nan = {"nan", 5, xs, nan5, NULL};
    movl_plot_panel good = {.title = "good", .series = &ok, .nseries = 1};
    expect_input_error("no panels", &good, 0, 300, 300, "no panels");
    expect_input_error("narrow", &good, 1, 99, 300, "99x300");
    expect_input_error("tall", &good, 1, 300, 8001, "300x8001");
    movl_plot_panel no_points = {.title = "empty", .series = &empty, .nseries = 1};
    movl_plot_panel two[2] = {good, no_points};
    expect_input_error("no points", two, 2, 300, 300, "panel 2 'empty' has no points");
    movl_plot_panel nan_only = {.title = "nan", .series = &all_nan, .nseries = 1};
    expect_input_error("only NaN", &nan_only, 1, 300, 300, "has no points");
    movl_plot_panel no_series = {.title = "bare"};
    expect_input_error("no series", &no_series, 1, 300, 300, "has no points");
    movl_plot_panel bars = {.title = "bars", .kind = MOVL_PLOT_BARS, .series = &ok, .nseries = 1};
    expect_input_error("bars without categories", &bars, 1, 300, 300, "needs categories");
    /* log x: points at x <= 0 cannot be drawn */
    static const double nonpos[5] = {0, -1, -2, 0, -5};
    movl_plot_series neg = {"neg", 5, nonpos, ya, NULL};
    movl_plot_panel logx = {.title = "log", .series = &neg, .nseries = 1, .log_x = 1};
    expect_input_error("log x <= 0", &logx, 1, 300, 300, "has no points");
}

static void test_unwritable(void)
{
    movl_plot_series se = {"ok", 5, xs, ya, NULL};
    movl_plot_panel panel = {.title = "t", .series = &se, .nseries = 1};
    const char *missing = tmp_path("no_such_dir/x.png");
    int rc = movl_plot_write(missing, &panel, 1, 300, 200, err);
    char want[400];
    snprintf(want, sizeof want, "%s: cannot write (No such file or directory)", missing);
    CHECK(rc == MOVL_ERR_RUN, "missing folder: rc %d (%s)", rc, err);
    CHECK(!strcmp(err, want), "missing folder: message '%s', expected '%s'", err, want);
    /* The temporary file can be written but not renamed over a folder: it must be removed. */
    const char *dir = tmp_path("a_folder");
    CHECK(mkdir(dir, 0755) == 0, "mkdir %s", dir);
    rc = movl_plot_write(dir, &panel, 1, 300, 200, err);
    CHECK(rc == MOVL_ERR_RUN, "folder as output: rc %d (%s)", rc, err);
    CHECK(strstr(err, dir) == err && strstr(err, "cannot write"), "folder as output: message: %s", err);
    CHECK(!exists_tmp(dir), "folder as output: temporary file left behind");
    rmdir(dir);
}

/* ---- reliability diagram ---- */

static int rgb_count(const movl_image *img, const unsigned char rgb[3], int x0, int x1, int y0, int y1)
{
    int n = 0;
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++)
            n += pixel_is(img, x, y, rgb);
    return n;
}

/* Most rgb pixels in any column of [x0, x1) of the diagram area: below the
 * title and legend (y >= 60), above the counts (y < ymax). */
static int tallest_column(const movl_image *img, const unsigned char rgb[3], int x0, int x1, int ymax)
{
    int best = 0;
    for (int x = x0; x < x1; x++) {
        int h = rgb_count(img, rgb, x, x + 1, 60, ymax);
        best = h > best ? h : best;
    }
    return best;
}

static void test_reliability(void)
{
    unsigned char acc_rgb[3], gap_rgb[3], count_rgb[3];
    movl_plot_reliability_colors(acc_rgb, gap_rgb, count_rgb);
    long long count[15] = {[6] = 40, [12] = 200};
    double acc[15], conf[15];
    for (int b = 0; b < 15; b++)
        acc[b] = conf[b] = NAN;
    acc[6] = 0.4, conf[6] = 0.4; /* calibrated: no gap */
    acc[12] = 0.8, conf[12] = 0.8;
    movl_plot_reliability r = {"test split", 15, count, acc, conf, 0.0};
    const char *path = tmp_path("reliability.png");
    movl_image img = {0};
    CHECK(movl_plot_reliability_write(path, &r, 560, 600, err) == MOVL_OK, "reliability: %s", err);
    if (load(path, &img)) {
        CHECK(img.w == 560 && img.h == 600, "reliability: %dx%d, expected 560x600", img.w, img.h);
        CHECK(rgb_count(&img, gap_rgb, 0, img.w, 60, img.h) == 0, "calibrated bins: no gap drawn");
        CHECK(rgb_count(&img, count_rgb, 0, img.w, 0, img.h) > 100, "sample counts drawn");
        /* bars in bin 6 (x in [6/15, 7/15]) and bin 12: accuracy 0.4 and 0.8, heights 1 : 2 */
        int h6 = tallest_column(&img, acc_rgb, 0, img.w / 2, img.h * 7 / 10);
        int h12 = tallest_column(&img, acc_rgb, img.w / 2, img.w, img.h * 7 / 10);
        CHECK(h6 > 50 && fabs((double)h12 / h6 - 2) < 0.05, "accuracy bars %d and %d px, expected 1 : 2", h6, h12);
        CHECK(rgb_count(&img, acc_rgb, 0, img.w / 3, 60, img.h * 7 / 10) == 0, "no bar below confidence 1/3");
    }
    movl_image_free(&img);
    /* overconfident bin 12: accuracy 0.6 at confidence 0.8, the gap 0.2 stacked on the bar */
    acc[12] = 0.6;
    r.ece = 200.0 / 240 * 0.2;
    CHECK(movl_plot_reliability_write(path, &r, 560, 600, err) == MOVL_OK, "reliability gap: %s", err);
    if (load(path, &img)) {
        int bar = tallest_column(&img, acc_rgb, img.w / 2, img.w, img.h * 7 / 10);
        int gap = tallest_column(&img, gap_rgb, img.w / 2, img.w, img.h * 7 / 10);
        CHECK(bar > 50 && fabs((double)gap / bar - 1.0 / 3) < 0.05, "gap %d px on a bar of %d px, expected 1 : 3",
              gap, bar);
    }
    movl_image_free(&img);
    CHECK(!exists_tmp(path), "reliability: temporary file left");
    /* bad input and an unwritable place */
    long long none[15] = {0};
    movl_plot_reliability empty = {"t", 15, none, acc, conf, NAN};
    CHECK(movl_plot_reliability_write(path, &empty, 560, 600, err) == MOVL_ERR_INPUT && strstr(err, path) &&
              strstr(err, "without samples"),
          "no samples: '%s'", err);
    movl_plot_reliability zero = {"t", 0, count, acc, conf, NAN};
    CHECK(movl_plot_reliability_write(path, &zero, 560, 600, err) == MOVL_ERR_INPUT && strstr(err, "bins"),
          "0 bins: '%s'", err);
    CHECK(movl_plot_reliability_write(path, &r, 50, 600, err) == MOVL_ERR_INPUT && strstr(err, "50x600"),
          "tiny image: '%s'", err);
    const char *missing = tmp_path("no_such_dir/reliability.png");
    CHECK(movl_plot_reliability_write(missing, &r, 560, 600, err) == MOVL_ERR_RUN && strstr(err, missing) &&
              strstr(err, "cannot write"),
          "missing folder: '%s'", err);
}

/* A run folder under root holding metrics.csv with the given text. */
static const char *run_dir(const char *name, const char *csv)
{
    const char *dir = tmp_path(name);
    mkdir(dir, 0755);
    char path[300];
    snprintf(path, sizeof path, "%s/metrics.csv", dir);
    test_write_text(path, csv);
    return dir;
}

static void expect_curves_error(const char *name, const char *csv, int want_rc, const char *want_fmt_line)
{
    const char *dir = run_dir(name, csv);
    char png[300], want[400];
    snprintf(png, sizeof png, "%s/curves.png", dir);
    snprintf(want, sizeof want, want_fmt_line, dir);
    err[0] = 0;
    int rc = movl_plot_run_curves(dir, err);
    CHECK(rc == want_rc, "%s: rc %d, expected %d (%s)", name, rc, want_rc, err);
    CHECK(!strcmp(err, want), "%s: message '%s', expected '%s'", name, err, want);
    CHECK(!exists(png) && !exists_tmp(png), "%s: curves.png or its temporary file exists", name);
}

static void test_run_curves(void)
{
    /* Columns in another order than the trainer writes them, plus an extra one. */
    const char *dir = run_dir("run_ok", "epoch,stage,val_auc,note,val_acc,train_loss\n"
                                        "1,lp_init,0.90,x,0.80,0.50\n"
                                        "2,lp_init,0.92,x,0.84,0.40\n"
                                        "3,lp_init,0.93,x,0.85,0.35\n"
                                        "0,movl,0.93,x,0.85,nan\n"
                                        "1,movl,0.94,x,0.87,0.45\n"
                                        "2,movl,0.95,x,0.88,0.30\n"
                                        "3,movl,0.96,x,0.90,0.25\n");
    int rc = movl_plot_run_curves(dir, err);
    CHECK(rc == MOVL_OK, "run curves: %s", err);
    char png[300];
    snprintf(png, sizeof png, "%s/curves.png", dir);
    CHECK(!exists_tmp(png), "run curves: temporary file left behind");
    movl_image img;
    if (rc == MOVL_OK && load(png, &img)) {
        CHECK(img.w == 1120 && img.h == 400, "curves.png is %dx%d, expected 1120x400", img.w, img.h);
        for (int s = 0; s < 2 && img.w == 1120; s++) {
            CHECK(count_colour(&img, s, 0, 560, 0, 400) >= 30, "loss panel: stage %d colour missing", s);
            CHECK(count_colour(&img, s, 560, 1120, 0, 400) >= 30, "ACC/AUC panel: series %d colour missing", s);
        }
        movl_image_free(&img);
    }

    const char *header = "stage,epoch,train_loss,val_acc,val_auc,lr_prompt,lr_head,seconds\n";
    char csv[1024];
    snprintf(csv, sizeof csv, "%slp,1,0.3,0.8,0.9,0,0.001,10\nlp,2,0.2,0.8\n", header);
    expect_curves_error("short_row", csv, MOVL_ERR_INPUT, "%s/metrics.csv:3: expected 8 fields, got 4");
    snprintf(csv, sizeof csv, "%slp,one,0.3,0.8,0.9,0,0.001,10\n", header);
    expect_curves_error("bad_epoch", csv, MOVL_ERR_INPUT, "%s/metrics.csv:2: epoch 'one' is not a number");
    snprintf(csv, sizeof csv, "%slp,1,0.3,high,0.9,0,0.001,10\n", header);
    expect_curves_error("bad_acc", csv, MOVL_ERR_INPUT, "%s/metrics.csv:2: val_acc 'high' is not a number");
    expect_curves_error("header_only", header, MOVL_ERR_INPUT, "%s/metrics.csv: no epochs yet");
    expect_curves_error("empty", "", MOVL_ERR_INPUT, "%s/metrics.csv: empty file, expected a header line");
    expect_curves_error("no_auc", "stage,epoch,train_loss,val_acc\nlp,1,0.3,0.8\n", MOVL_ERR_INPUT,
                        "%s/metrics.csv:1: no column 'val_auc' in the header");

    char missing[300], want[400];
    snprintf(missing, sizeof missing, "%s/no_run", root);
    snprintf(want, sizeof want, "%s/metrics.csv: cannot read (No such file or directory)", missing);
    rc = movl_plot_run_curves(missing, err);
    CHECK(rc == MOVL_ERR_INPUT && !strcmp(err, want), "missing run: rc %d, '%s'", rc, err);
}

/* cairo keeps font and surface caches until exit; free them so that the leak
 * checker sees only our own allocations (fontconfig's are suppressed in
 * tests/lsan.supp: they are global to the process, like the OpenCL driver's). */
static void free_font_caches(void)
{
    cairo_debug_reset_static_data();
}

int main(void)
{
    test_make_tmpdir(root, sizeof root, "plot");
    test_palette();
    test_lines();
    test_categories_and_log();
    test_degenerate_ranges();
    test_error_bars_and_gaps();
    test_bars();
    test_bad_input();
    test_unwritable();
    test_run_curves();
    test_reliability();
    if (getenv("MOVL_TEST_KEEP"))
        printf("charts kept in %s\n", root);
    else
        test_remove_tree(root);
    free_font_caches();
    return test_finish();
}
