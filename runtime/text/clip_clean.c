/* open_clip's _clean_lower: whitespace_clean(basic_clean(text)).lower(), where
 * basic_clean = ftfy.fix_text, html.unescape twice, strip. */
#include "text/text_internal.h"

/* " ".join(text.split()) (which strips as well). */
static int whitespace_clean(const movl_u32s *in, movl_u32s *out)
{
    out->n = 0;
    int pending_space = 0;
    for (size_t i = 0; i < in->n; i++) {
        uint32_t c = in->v[i];
        if (movl_py_isspace(c)) {
            pending_space = out->n > 0;
            continue;
        }
        if ((pending_space && movl_u32s_push(out, ' ') != 0) || movl_u32s_push(out, c) != 0)
            return -1;
        pending_space = 0;
    }
    return 0;
}

int movl_clip_clean(const movl_u32s *in, movl_u32s *out)
{
    movl_u32s a = {0}, b = {0};
    int rc = -1;
    if (movl_ftfy_fix_text(in, &a) == 0 && movl_html_unescape(&a, &b) == 0 && movl_html_unescape(&b, &a) == 0 &&
        whitespace_clean(&a, &b) == 0 && movl_py_lower(&b, out) == 0)
        rc = 0;
    movl_u32s_free(&a);
    movl_u32s_free(&b);
    return rc;
}
