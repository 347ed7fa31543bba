/* Class-folder loader (see dataset.h): DIR/CLASS/IMAGE files, classes and files in
 * byte order of their names so that the label of a class and the order of
 * the samples never depend on the file system. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/common.h"
#include "data/dataset.h"
#include "data/dataset_internal.h"
#include "imgio/image_read.h"

typedef struct names {
    char **v;
    int n, cap;
} names;

static int names_push(names *l, const char *s)
{
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 16;
        char **grown = realloc(l->v, sizeof(char *) * (size_t)cap);
        if (!grown)
            return -1;
        l->v = grown;
        l->cap = cap;
    }
    if (!(l->v[l->n] = movl_ds_strdup(s)))
        return -1;
    l->n++;
    return 0;
}

static void names_free(names *l)
{
    for (int i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

static char *join(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    char *p = malloc(a + b + 2);
    if (p) {
        memcpy(p, dir, a);
        p[a] = '/';
        memcpy(p + a + 1, name, b + 1);
    }
    return p;
}

/* Sorted names in dir: sub-directories (want_dirs) or image entries
 * (movl_image_is_listed) that are not directories (dangling links and the like are kept so that reading them
 * reports the problem). Hidden entries are skipped. */
static int list_dir(const char *dir, int want_dirs, names *out, char *err)
{
    DIR *d = opendir(dir);
    if (!d) {
        movl_set_error(err, "%s: cannot read dataset folder (%s)", dir, strerror(errno));
        return MOVL_ERR_INPUT;
    }
    struct dirent *de;
    int rc = MOVL_OK;
    while (rc == MOVL_OK && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char *full = join(dir, de->d_name);
        if (full && !want_dirs && !movl_image_is_listed(full, de->d_name)) {
            free(full);
            continue;
        }
        struct stat st;
        int is_dir = full && stat(full, &st) == 0 && S_ISDIR(st.st_mode);
        free(full);
        if (!full || (is_dir == want_dirs && names_push(out, de->d_name) != 0)) {
            movl_set_error(err, "%s: out of memory listing the folder", dir);
            rc = MOVL_ERR_RUN;
        }
    }
    closedir(d);
    if (rc == MOVL_OK && out->n > 1)
        qsort(out->v, (size_t)out->n, sizeof(char *), movl_ds_cmp_str);
    return rc;
}

int movl_dataset_load_folder(const char *dir, const movl_dataset_opts *opts, movl_dataset *ds, char *err)
{
    memset(ds, 0, sizeof *ds);
    movl_dataset_opts o = opts ? *opts : movl_dataset_default_opts();
    int rc = movl_ds_check_fracs(dir, &o, err);
    if (rc != MOVL_OK)
        return rc;
    names classes = {0};
    if ((rc = list_dir(dir, 1, &classes, err)) != MOVL_OK) {
        names_free(&classes);
        return rc;
    }
    if (classes.n == 0) {
        movl_set_error(err, "%s: no class folders (expected one sub-folder of images per class)", dir);
        names_free(&classes);
        return MOVL_ERR_INPUT;
    }
    if (o.num_classes > 0 && o.num_classes != classes.n) {
        movl_set_error(err, "%s: %d class folder%s but num_classes is %d", dir, classes.n, classes.n == 1 ? "" : "s",
                       o.num_classes);
        names_free(&classes);
        return MOVL_ERR_INPUT;
    }
    movl_file_entry *e = NULL;
    int n = 0, cap = 0;
    for (int c = 0; c < classes.n && rc == MOVL_OK; c++) {
        char *cdir = join(dir, classes.v[c]);
        names files = {0};
        rc = cdir ? list_dir(cdir, 0, &files, err) : MOVL_ERR_RUN;
        if (!cdir)
            movl_set_error(err, "%s: out of memory", dir);
        if (rc == MOVL_OK && files.n == 0) {
            movl_set_error(err, "%s: class folder has no images (expected *.png, *.jpg, *.jpeg or DICOM files)", cdir);
            rc = MOVL_ERR_INPUT;
        }
        for (int i = 0; i < files.n && rc == MOVL_OK; i++) {
            if (n == cap) {
                cap = cap ? 2 * cap : 256;
                movl_file_entry *grown = realloc(e, sizeof *e * (size_t)cap);
                if (!grown) {
                    movl_set_error(err, "%s: out of memory listing images", dir);
                    rc = MOVL_ERR_RUN;
                    break;
                }
                e = grown;
            }
            e[n].path = join(cdir, files.v[i]);
            e[n].label = c;
            e[n].split = -1;
            e[n].line = 0;
            if (!e[n].path) {
                movl_set_error(err, "%s: out of memory listing images", dir);
                rc = MOVL_ERR_RUN;
            } else
                n++;
        }
        names_free(&files);
        free(cdir);
    }
    if (rc == MOVL_OK) {
        ds->source = movl_ds_strdup(dir);
        ds->num_classes = classes.n;
        ds->class_names = classes.v; /* handed over */
        classes.v = NULL;
        classes.n = 0;
        if (!ds->source) {
            movl_set_error(err, "%s: out of memory", dir);
            rc = MOVL_ERR_RUN;
        } else {
            rc = movl_ds_build_from_files(ds, e, n, 0, &o, err);
        }
    }
    for (int i = 0; i < n; i++)
        free(e[i].path);
    free(e);
    names_free(&classes);
    if (rc != MOVL_OK)
        movl_dataset_free(ds);
    return rc;
}
