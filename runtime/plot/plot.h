/* PNG charts drawn with cairo: line charts (with optional error bars, numeric
 * or categorical x axis) and grouped bar charts, one or more panels side by
 * side in one image. Used for training curves (run directories), sweep
 * results (metric vs swept value) and `movl bench --compare`; and the
 * reliability diagram of a run's calibration.
 * Output goes to a temporary name and is renamed into place. */
#ifndef MOVL_PLOT_H
#define MOVL_PLOT_H

typedef struct movl_plot_series {
    const char *label;   /* legend text; NULL or "" = no legend entry */
    int n;               /* number of points */
    const double *x;     /* numeric x (ignored when the panel has categories: point i sits at category i) */
    const double *y;     /* NaN values are skipped (gap in the line) */
    const double *err;   /* half-height of an error bar per point, or NULL */
} movl_plot_series;

typedef enum movl_plot_kind {
    MOVL_PLOT_LINES, /* lines with point markers */
    MOVL_PLOT_BARS,  /* grouped bars: one group per category, one bar per series */
} movl_plot_kind;

typedef struct movl_plot_panel {
    const char *title, *xlabel, *ylabel;
    movl_plot_kind kind;
    const movl_plot_series *series;
    int nseries;
    /* Categorical x axis (required for bars, optional for lines): ncats
     * names, series point i belongs to category i. ncats = 0: numeric x. */
    const char *const *categories;
    int ncats;
    int log_x;            /* numeric x on a log10 scale (values <= 0 are skipped) */
    int y_from_zero;      /* include 0 in the y range (bars always do) */
    /* Vertical dashed reference lines at these x values (e.g. where a
     * training stage starts), each with an optional label (xmark_labels may
     * be NULL); nxmarks = 0: none. Ignored on a categorical x axis. */
    const double *xmarks;
    const char *const *xmark_labels;
    int nxmarks;
} movl_plot_panel;

/* Draws npanels panels side by side, each panel_w x panel_h pixels, into a
 * PNG at path (written under a temporary name, then renamed). Returns MOVL_OK, or
 * MOVL_ERR_INPUT (no data, bad sizes) / MOVL_ERR_RUN (cairo or file error)
 * with one line in err naming path. */
int movl_plot_write(const char *path, const movl_plot_panel *panels, int npanels, int panel_w, int panel_h,
                    char *err);

/* Colour of series i (0-based) in every panel: the Okabe-Ito palette,
 * repeating after 8 series. */
void movl_plot_series_color(int i, unsigned char rgb[3]);

/* Training curves of a run directory: reads RUN_DIR/metrics.csv (header
 * stage,epoch,train_loss,val_acc,val_auc,...) and writes RUN_DIR/curves.png
 * with two panels: train loss per epoch and val ACC/AUC per epoch, epochs
 * numbered across stages (lp_init, then the main stage ...). */
int movl_plot_run_curves(const char *run_dir, char *err);

/* A reliability diagram (plot_reliability.c): nbins equal-width confidence
 * bins over [0, 1]; top, the accuracy of each bin as a bar, the gap to the
 * bin's mean confidence stacked on it (above or below), and the diagonal of
 * perfect calibration; below, the number of samples per bin. The title
 * carries the ECE. */
typedef struct movl_plot_reliability {
    const char *title;      /* e.g. "test split"; NULL = none */
    int nbins;              /* 1..100 */
    const long long *count; /* [nbins] samples per bin */
    const double *acc;      /* [nbins] accuracy per bin (NaN when empty) */
    const double *conf;     /* [nbins] mean confidence per bin (NaN when empty) */
    double ece;             /* shown in the title (NaN: not shown) */
} movl_plot_reliability;

/* Colours of the reliability diagram, for tests: accuracy bars, gap, counts. */
void movl_plot_reliability_colors(unsigned char acc[3], unsigned char gap[3], unsigned char count[3]);

/* Draws r into a width x height PNG at path (temporary name, renamed).
 * MOVL_ERR_INPUT: bad sizes, bin count, negative counts or no sample at all;
 * MOVL_ERR_RUN: cairo or file error; one line in err naming path. */
int movl_plot_reliability_write(const char *path, const movl_plot_reliability *r, int width, int height,
                                char *err);

/* Pictures side by side (plot_images.c; movl explain's attribution maps):
 * each panel a size x size RGB picture drawn k times larger with nearest-
 * neighbour sampling, k = ceil(256 / size) (1 from 256 px on), with a
 * label above it and, optionally, the boundary of a mask outlined (the
 * region a prompt acts on); a title above everything. */
typedef struct movl_plot_image_panel {
    const char *label;            /* above the panel; NULL = none */
    const unsigned char *rgb;     /* [size][size][3] */
    const unsigned char *outline; /* [size][size]: the edges between 1s and 0s (or the picture's border) are drawn;
                                     NULL = none */
} movl_plot_image_panel;

/* The PNG's size for npanels panels of size px pictures: width =
 * npanels * k * size + (npanels + 1) * 16, height = 64 + k * size + 16 (a
 * 40 px title band and a 24 px label band above the pictures). */
void movl_plot_images_size(int size, int npanels, int *width, int *height);

/* Draws the panels into a PNG at path (temporary name, renamed).
 * MOVL_ERR_INPUT: no panels, size outside 1..4096 or an image wider than
 * cairo allows; MOVL_ERR_RUN: cairo or file error; one line in err naming path. */
int movl_plot_images_write(const char *path, const char *title, int size, const movl_plot_image_panel *panels,
                           int npanels, char *err);

#endif
