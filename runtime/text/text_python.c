/* The pieces of Python's str and unicodedata the cleaning needs, with
 * Python 3.11's results: str.isspace, str.lower, normalize('NFC'). */
#include "text/text_internal.h"

#include <stdlib.h>
#include <utf8proc.h>

int movl_py_isspace(uint32_t c)
{
    /* Bidi classes WS, B, S and category Zs: stable across Unicode versions. */
    return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

static int ignorable(uint32_t c)
{
    return movl_range_has(movl_py_case_ignorable, movl_py_case_ignorable_count, c);
}

/* Python's handle_capital_sigma: U+03A3 after a cased letter (case-ignorable
 * ones skipped) and not before one becomes the final form. */
static uint32_t lower_sigma(const uint32_t *v, size_t n, size_t i)
{
    size_t j = i;
    while (j > 0 && ignorable(v[j - 1]))
        j--;
    int final = j > 0 && movl_range_has(movl_py_cased, movl_py_cased_count, v[j - 1]);
    if (final) {
        j = i + 1;
        while (j < n && ignorable(v[j]))
            j++;
        final = j == n || !movl_range_has(movl_py_cased, movl_py_cased_count, v[j]);
    }
    return final ? 0x3C2 : 0x3C3;
}

int movl_py_lower(const movl_u32s *in, movl_u32s *out)
{
    out->n = 0;
    if (movl_u32s_reserve(out, in->n) != 0)
        return -1;
    for (size_t i = 0; i < in->n; i++) {
        uint32_t c = in->v[i];
        if (c == 0x130) { /* the one full (multi-character) lower-case mapping */
            if (movl_u32s_push(out, 'i') != 0 || movl_u32s_push(out, 0x307) != 0)
                return -1;
        } else if (c == 0x3A3) {
            if (movl_u32s_push(out, lower_sigma(in->v, in->n, i)) != 0)
                return -1;
        } else if (movl_u32s_push(out, (uint32_t)utf8proc_tolower((utf8proc_int32_t)c)) != 0) {
            return -1;
        }
    }
    return 0;
}

int movl_nfc(movl_u32s *s)
{
    /* Below U+0300 nothing decomposes, combines or reorders. */
    size_t i = 0;
    while (i < s->n && s->v[i] < 0x300)
        i++;
    if (i == s->n)
        return 0;
    unsigned char *bytes = malloc(s->n * 4 + 1);
    if (!bytes)
        return -1;
    size_t len = 0;
    for (i = 0; i < s->n; i++)
        len += (size_t)movl_utf8_encode(s->v[i], bytes + len);
    utf8proc_uint8_t *nfc = NULL;
    utf8proc_ssize_t m =
        utf8proc_map(bytes, (utf8proc_ssize_t)len, &nfc, (utf8proc_option_t)(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
    free(bytes);
    if (m < 0)
        return -1; /* the input is valid, so only out of memory */
    s->n = 0;
    size_t bad;
    int rc = movl_utf8_decode((const char *)nfc, (size_t)m, s, &bad);
    free(nfc);
    return rc == 0 ? 0 : -1;
}
