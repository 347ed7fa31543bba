/* ftfy 6.3.1's fix_text with its default TextFixerConfig, less the mojibake
 * repair (fix_encoding; see clip_tokenizer.h). The order of the steps and
 * the loop to a fixed point are fix_and_explain's. */
#include "text/text_internal.h"

#include <string.h>
#include <utf8proc.h>

/* fix_text's max_decode_length: longer lines are fixed in pieces of this many codepoints. */
#define FTFY_MAX_SEGMENT 1000000

/* Each codepoint of a table's UTF-8 replacement through the next step. */
static int push_utf8_then(movl_u32s *out, const char *utf8, int (*next)(movl_u32s *, uint32_t))
{
    movl_u32s tmp = {0};
    if (movl_u32s_push_utf8(&tmp, utf8) != 0)
        return -1;
    int rc = 0;
    for (size_t k = 0; k < tmp.n && rc == 0; k++)
        rc = next(out, tmp.v[k]);
    movl_u32s_free(&tmp);
    return rc;
}

/* uncurl_quotes: [\u02bc\u2018-\u201b] -> ', [\u201c-\u201f] -> " */
static int push_uncurled(movl_u32s *out, uint32_t c)
{
    if (c == 0x2BC || (c >= 0x2018 && c <= 0x201B))
        c = '\'';
    else if (c >= 0x201C && c <= 0x201F)
        c = '"';
    return movl_u32s_push(out, c);
}

/* fix_character_width (str.translate with WIDTH_MAP), then uncurl_quotes. */
static int push_width(movl_u32s *out, uint32_t c)
{
    const movl_text_cpmap *m = movl_cpmap_find(movl_ftfy_width_map, movl_ftfy_width_count, c);
    return m ? push_utf8_then(out, m->value, push_uncurled) : push_uncurled(out, c);
}

/* fix_latin_ligatures, then the width and quote steps. */
static int push_ligature(movl_u32s *out, uint32_t c)
{
    const movl_text_cpmap *m = movl_cpmap_find(movl_ftfy_ligatures, movl_ftfy_ligature_count, c);
    return m ? push_utf8_then(out, m->value, push_width) : push_width(out, c);
}

/* fix_c1_controls, fix_latin_ligatures, fix_character_width, uncurl_quotes:
 * each maps single characters, so their composition can go character by
 * character. */
static int fix_chars(const movl_u32s *in, movl_u32s *out)
{
    out->n = 0;
    for (size_t i = 0; i < in->n; i++) {
        uint32_t c = in->v[i];
        if (c >= 0x80 && c <= 0x9F)
            c = movl_ftfy_c1_map[c - 0x80];
        if (push_ligature(out, c) != 0)
            return -1;
    }
    return 0;
}

/* fix_line_breaks: \r\n, \r, U+2028, U+2029, U+0085 -> \n. */
static int fix_line_breaks(const movl_u32s *in, movl_u32s *out)
{
    out->n = 0;
    for (size_t i = 0; i < in->n; i++) {
        uint32_t c = in->v[i];
        if (c == '\r' && i + 1 < in->n && in->v[i + 1] == '\n')
            continue;
        if (c == '\r' || c == 0x2028 || c == 0x2029 || c == 0x85)
            c = '\n';
        if (movl_u32s_push(out, c) != 0)
            return -1;
    }
    return 0;
}

/* Python re's \d on str: Unicode decimal digits as of Python 3.11 (Unicode
 * 14.0), i.e. utf8proc's Nd less the two sets Unicode 15.0 added. */
static int py_re_digit(uint32_t c)
{
    if ((c >= 0x11F50 && c <= 0x11F59) || (c >= 0x1E4F0 && c <= 0x1E4F9))
        return 0;
    return utf8proc_category((utf8proc_int32_t)c) == UTF8PROC_CATEGORY_ND;
}

/* remove_terminal_escapes: \033\[((?:\d|;)*)([a-zA-Z]) */
static int remove_terminal_escapes(const movl_u32s *in, movl_u32s *out)
{
    out->n = 0;
    for (size_t i = 0; i < in->n; i++) {
        if (in->v[i] == 0x1B && i + 1 < in->n && in->v[i + 1] == '[') {
            size_t k = i + 2;
            while (k < in->n && (in->v[k] == ';' || py_re_digit(in->v[k])))
                k++;
            if (k < in->n && ((in->v[k] | 0x20) >= 'a' && (in->v[k] | 0x20) <= 'z')) {
                i = k;
                continue;
            }
        }
        if (movl_u32s_push(out, in->v[i]) != 0)
            return -1;
    }
    return 0;
}

/* remove_control_chars: C0 controls but \t \n \f \r, DEL, U+206A..U+206F,
 * U+FEFF, U+FFF9..U+FFFC. */
static int remove_control_chars(const movl_u32s *in, movl_u32s *out)
{
    out->n = 0;
    for (size_t i = 0; i < in->n; i++) {
        uint32_t c = in->v[i];
        int drop = (c <= 0x08) || c == 0x0B || (c >= 0x0E && c <= 0x1F) || c == 0x7F || (c >= 0x206A && c <= 0x206F) ||
                   c == 0xFEFF || (c >= 0xFFF9 && c <= 0xFFFC);
        if (!drop && movl_u32s_push(out, c) != 0)
            return -1;
    }
    return 0;
}

static void swap(movl_u32s *a, movl_u32s *b)
{
    movl_u32s t = *a;
    *a = *b;
    *b = t;
}

/* fix_and_explain on one segment (seg), appended to out. */
static int fix_segment(const uint32_t *seg, size_t n, int unescape, movl_u32s *out)
{
    movl_u32s cur = {0}, next = {0}, orig = {0};
    int rc = -1;
    if (movl_u32s_append(&cur, seg, n) != 0)
        goto done;
    for (;;) {
        /* No bound, as in ftfy: after the first pass only removals are left
         * to do (entities, and escapes or CRLFs that removed controls joined),
         * so every further pass shortens the text or is the last. */
        orig.n = 0;
        if (movl_u32s_append(&orig, cur.v, cur.n) != 0)
            goto done;
        if (unescape) {
            if (movl_ftfy_unescape_html(&cur, &next) != 0)
                goto done;
            swap(&cur, &next);
        }
        if (fix_chars(&cur, &next) != 0)
            goto done;
        swap(&cur, &next);
        if (fix_line_breaks(&cur, &next) != 0)
            goto done;
        swap(&cur, &next);
        if (remove_terminal_escapes(&cur, &next) != 0)
            goto done;
        swap(&cur, &next);
        if (remove_control_chars(&cur, &next) != 0)
            goto done;
        swap(&cur, &next);
        if (movl_nfc(&cur) != 0)
            goto done;
        if (movl_u32s_equal(&cur, &orig))
            break;
    }
    if (movl_u32s_append(out, cur.v, cur.n) != 0)
        goto done;
    rc = 0;
done:
    movl_u32s_free(&cur);
    movl_u32s_free(&next);
    movl_u32s_free(&orig);
    return rc;
}

int movl_ftfy_fix_text(const movl_u32s *in, movl_u32s *out)
{
    out->n = 0;
    int unescape = 1; /* "auto": off from the first segment with a '<' on, as fix_text's config stays replaced */
    size_t pos = 0;
    while (pos < in->n) {
        size_t end = pos;
        while (end < in->n && end - pos < FTFY_MAX_SEGMENT && in->v[end] != '\n')
            end++;
        if (end < in->n && end - pos < FTFY_MAX_SEGMENT)
            end++; /* the segment keeps its '\n' */
        for (size_t k = pos; k < end && unescape; k++)
            if (in->v[k] == '<')
                unescape = 0;
        if (fix_segment(in->v + pos, end - pos, unescape, out) != 0)
            return -1;
        pos = end;
    }
    return 0;
}
