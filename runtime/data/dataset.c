/* Dataset basics (see dataset.h): choosing a loader by path, freeing, class
 * counts, the printed summary, and reading one sample back as an image. */
#include "data/dataset.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "core/common.h"
#include "data/dataset_internal.h"

const char *const movl_split_names[MOVL_NSPLITS] = {"train", "val", "test"};

movl_dataset_opts movl_dataset_default_opts(void)
{
    movl_dataset_opts o = {0, 0.1, 0.2, 0, 0, movl_image_read_default_opts()};
    return o;
}

char *movl_ds_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

int movl_ds_cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int movl_ds_check_readable(const char *path, const char *what, char *err)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        movl_set_error(err, "%s: cannot read %s (%s)", path, what, strerror(errno));
        return MOVL_ERR_INPUT;
    }
    if (S_ISDIR(st.st_mode)) {
        movl_set_error(err, "%s: cannot read %s (is a directory)", path, what);
        return MOVL_ERR_INPUT;
    }
    if (!S_ISREG(st.st_mode)) {
        movl_set_error(err, "%s: cannot read %s (not a regular file)", path, what);
        return MOVL_ERR_INPUT;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        movl_set_error(err, "%s: cannot read %s (%s)", path, what, strerror(errno));
        return MOVL_ERR_INPUT;
    }
    fclose(f);
    return MOVL_OK;
}

int movl_ds_check_fracs(const char *source, const movl_dataset_opts *o, char *err)
{
    if (!(o->val_frac >= 0 && o->val_frac < 1) || !(o->test_frac >= 0 && o->test_frac < 1) ||
        !(o->val_frac + o->test_frac < 1)) {
        movl_set_error(err, "%s: val_frac %g and test_frac %g must each be in [0, 1) with a sum below 1", source,
                       o->val_frac, o->test_frac);
        return MOVL_ERR_INPUT;
    }
    return MOVL_OK;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcasecmp(s + n - k, suffix) == 0;
}

int movl_dataset_load(const char *path, const movl_dataset_opts *opts, movl_dataset *ds, char *err)
{
    memset(ds, 0, sizeof *ds);
    struct stat st;
    if (stat(path, &st) != 0) {
        movl_set_error(err, "%s: cannot read dataset (%s)", path, strerror(errno));
        return MOVL_ERR_INPUT;
    }
    if (S_ISDIR(st.st_mode))
        return movl_dataset_load_folder(path, opts, ds, err);
    if (ends_with(path, ".npz"))
        return movl_dataset_load_npz(path, opts, ds, err);
    if (ends_with(path, ".csv"))
        return movl_dataset_load_csv(path, opts, ds, err);
    movl_set_error(err, "%s: unknown dataset kind (expected a .npz file, a .csv manifest or a folder of class folders)",
                   path);
    return MOVL_ERR_INPUT;
}

void movl_dataset_free(movl_dataset *ds)
{
    if (ds->class_names)
        for (int c = 0; c < ds->num_classes; c++)
            free(ds->class_names[c]);
    free(ds->class_names);
    free(ds->source);
    for (int s = 0; s < MOVL_NSPLITS; s++) {
        free(ds->split[s].samples);
        free(ds->split[s].u8);
        free(ds->split[s].f32);
    }
    memset(ds, 0, sizeof *ds);
}

void movl_dataset_class_counts(const movl_dataset *ds, int split, int *counts)
{
    memset(counts, 0, sizeof *counts * (size_t)ds->num_classes);
    const movl_split *sp = &ds->split[split];
    for (int i = 0; i < sp->n; i++)
        counts[sp->samples[i].label]++;
}

void movl_dataset_print_summary(const movl_dataset *ds, FILE *f)
{
    int minw = 0, maxw = 0, minh = 0, maxh = 0, any = 0;
    for (int s = 0; s < MOVL_NSPLITS; s++)
        for (int i = 0; i < ds->split[s].n; i++) {
            const movl_sample *x = &ds->split[s].samples[i];
            if (!any || x->w < minw)
                minw = x->w;
            if (!any || x->w > maxw)
                maxw = x->w;
            if (!any || x->h < minh)
                minh = x->h;
            if (!any || x->h > maxh)
                maxh = x->h;
            any = 1;
        }
    fprintf(f, "dataset %s: %d classes, %s, ", ds->source ? ds->source : "?", ds->num_classes,
            ds->channels == 1 ? "grey" : "RGB");
    if (minw == maxw && minh == maxh)
        fprintf(f, "%dx%d", maxw, maxh);
    else
        fprintf(f, "sizes %d..%d x %d..%d", minw, maxw, minh, maxh);
    fprintf(f, ", stored as %s\n", ds->pixel_type == MOVL_PIX_U8 ? "uint8" : "float");
    int *counts[MOVL_NSPLITS];
    for (int s = 0; s < MOVL_NSPLITS; s++) {
        counts[s] = calloc((size_t)ds->num_classes + 1, sizeof(int));
        if (counts[s])
            movl_dataset_class_counts(ds, s, counts[s]);
    }
    if (!counts[0] || !counts[1] || !counts[2]) {
        fprintf(f, "  (out of memory for the class table)\n");
    } else {
        fprintf(f, "  %-24s %8s %8s %8s\n", "class", "train", "val", "test");
        for (int c = 0; c < ds->num_classes; c++) {
            char name[25];
            if (ds->class_names)
                snprintf(name, sizeof name, "%d %s", c, ds->class_names[c]);
            else
                snprintf(name, sizeof name, "%d", c);
            fprintf(f, "  %-24s %8d %8d %8d\n", name, counts[0][c], counts[1][c], counts[2][c]);
        }
        fprintf(f, "  %-24s %8d %8d %8d\n", "total", ds->split[0].n, ds->split[1].n, ds->split[2].n);
    }
    for (int s = 0; s < MOVL_NSPLITS; s++)
        free(counts[s]);
}

int movl_dataset_get_image(const movl_dataset *ds, int split, int i, movl_image *out, char *err)
{
    memset(out, 0, sizeof *out);
    if (split < 0 || split >= MOVL_NSPLITS || i < 0 || i >= ds->split[split].n) {
        movl_set_error(err, "%s: no sample %d in split %s", ds->source ? ds->source : "dataset", i,
                       split >= 0 && split < MOVL_NSPLITS ? movl_split_names[split] : "?");
        return MOVL_ERR_INPUT;
    }
    const movl_sample *x = &ds->split[split].samples[i];
    size_t npx = (size_t)x->w * (size_t)x->h;
    out->px = malloc(sizeof(float) * 3 * npx);
    if (!out->px) {
        movl_set_error(err, "out of memory for a %dx%d image", x->w, x->h);
        return MOVL_ERR_RUN;
    }
    out->w = x->w;
    out->h = x->h;
    int ch = ds->channels;
    for (size_t p = 0; p < npx; p++)
        for (int c = 0; c < 3; c++) {
            size_t at = x->offset + p * (size_t)ch + (size_t)(ch == 1 ? 0 : c);
            out->px[p * 3 + c] =
                ds->pixel_type == MOVL_PIX_U8 ? ds->split[split].u8[at] / 255.0f : ds->split[split].f32[at];
        }
    return MOVL_OK;
}
