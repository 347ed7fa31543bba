/* One image file, as a finished run reads it for predict and explain: decoded
 * with the run's [data] options (a DICOM's window; its first frame), then the
 * run's evaluation preprocessing. */
#include "core/common.h"
#include "core/image.h"
#include "imgio/image_read.h"
#include "train/trainer_internal.h"

int tr_load_input(trainer *t, const char *path, float *chw, char *err)
{
    movl_image_read_opts o = movl_image_read_default_opts();
    if (movl_image_parse_window(t->exp->data.window, &o, err) != 0)
        return MOVL_ERR_INPUT; /* checked when the run's config was loaded */
    movl_image img;
    int rc = movl_image_read(path, &o, &img, err);
    if (rc != MOVL_OK)
        return rc;
    rc = movl_prep_image(t->prep, &img, chw, err);
    movl_image_free(&img);
    return rc;
}
