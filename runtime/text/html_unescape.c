/* HTML character references, twice over: Python's html.unescape (what
 * open_clip applies after ftfy) and ftfy's stricter fixes.unescape_html. Both
 * use the HTML5 table of text_tables.c; numeric references follow Python's
 * _replace_charref. */
#include "text/text_internal.h"

#include <string.h>

#define NAME_MAX_PY 32   /* html.unescape: [^\t\n\f <&#;]{1,32};? */
#define NAME_MAX_FTFY 24 /* ftfy: &#?[0-9A-Za-z]{1,24}; */

static int is_digit(uint32_t c) { return c >= '0' && c <= '9'; }
static int is_hex(uint32_t c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
static int is_alnum(uint32_t c) { return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static int hex_value(uint32_t c) { return is_digit(c) ? (int)(c - '0') : (int)((c | 0x20) - 'a' + 10); }

/* The number of digits v[i..n) holds (base 10 or 16), its value saturated
 * just above U+10FFFF (Python's int has no limit; all it asks is "> 0x10FFFF"). */
static size_t parse_number(const uint32_t *v, size_t i, size_t n, int base, uint32_t *num)
{
    uint32_t x = 0;
    size_t k = i;
    while (k < n && (base == 16 ? is_hex(v[k]) : is_digit(v[k]))) {
        x = x * (uint32_t)base + (uint32_t)hex_value(v[k]);
        if (x > 0x110000)
            x = 0x110000;
        k++;
    }
    *num = x;
    return k - i;
}

/* Python's _replace_charref for a numeric reference. */
static int push_charref(movl_u32s *out, uint32_t num)
{
    const movl_text_cpmap *m = movl_cpmap_find(movl_html_invalid_charrefs, movl_html_invalid_charref_count, num);
    if (m)
        return movl_u32s_push_utf8(out, m->value);
    if ((num >= 0xD800 && num <= 0xDFFF) || num > 0x10FFFF)
        return movl_u32s_push(out, 0xFFFD);
    if (movl_range_has(movl_html_invalid_codepoints, movl_html_invalid_codepoint_count, num))
        return 0;
    return movl_u32s_push(out, num);
}

static int push_range(movl_u32s *out, const uint32_t *v, size_t from, size_t to)
{
    for (size_t k = from; k < to; k++)
        if (movl_u32s_push(out, v[k]) != 0)
            return -1;
    return 0;
}

/* Names are ASCII; a codepoint outside it becomes a byte no name holds, so
 * prefixes still index by codepoint. */
static void name_bytes(const uint32_t *v, size_t len, char *buf)
{
    for (size_t k = 0; k < len; k++)
        buf[k] = v[k] < 0x80 && v[k] != 0 ? (char)v[k] : '\x01';
    buf[len] = '\0';
}

static int named_py(uint32_t c)
{
    return c != '\t' && c != '\n' && c != '\f' && c != ' ' && c != '<' && c != '&' && c != '#' && c != ';';
}

int movl_html_unescape(const movl_u32s *in, movl_u32s *out)
{
    const uint32_t *v = in->v;
    size_t n = in->n, i = 0;
    out->n = 0;
    if (movl_u32s_reserve(out, n) != 0)
        return -1;
    while (i < n) {
        if (v[i] != '&') {
            if (movl_u32s_push(out, v[i++]) != 0)
                return -1;
            continue;
        }
        size_t j = i + 1;
        if (j < n && v[j] == '#') {
            int base = 10;
            size_t d = j + 1;
            if (d < n && (v[d] == 'x' || v[d] == 'X') && d + 1 < n && is_hex(v[d + 1]))
                base = 16, d++;
            uint32_t num;
            size_t len = parse_number(v, d, n, base, &num);
            if (len == 0) { /* "&#" without digits is no reference; '#' cannot start a name */
                if (movl_u32s_push(out, v[i++]) != 0)
                    return -1;
                continue;
            }
            size_t end = d + len;
            if (end < n && v[end] == ';')
                end++;
            if (push_charref(out, num) != 0)
                return -1;
            i = end;
            continue;
        }
        size_t len = 0;
        while (j + len < n && len < NAME_MAX_PY && named_py(v[j + len]))
            len++;
        if (len == 0) {
            if (movl_u32s_push(out, v[i++]) != 0)
                return -1;
            continue;
        }
        if (j + len < n && v[j + len] == ';')
            len++;
        char name[NAME_MAX_PY + 2];
        name_bytes(v + j, len, name);
        const movl_text_entity *e = movl_entity_find(movl_html5_entities, movl_html5_entity_count, name);
        size_t x = len;
        /* Else the longest prefix of at least 2 that is a name (a legacy one without ';'). */
        while (!e && x > 2) {
            x--;
            name[x] = '\0';
            e = movl_entity_find(movl_html5_entities, movl_html5_entity_count, name);
        }
        if (e) {
            if (movl_u32s_push_utf8(out, e->value) != 0 || push_range(out, v, j + x, j + len) != 0)
                return -1;
        } else if (push_range(out, v, i, j + len) != 0) {
            return -1;
        }
        i = j + len;
    }
    return 0;
}

/* ftfy's _unescape_fixup for "&#NAME;" (name = v[from..to)): a whole decimal
 * or hexadecimal number as html.unescape reads it, unless the result holds
 * ';' (html.unescape consumed less than the match). 1 replaced, 0 kept, -1 memory. */
static int ftfy_numeric(const uint32_t *v, size_t from, size_t to, movl_u32s *out)
{
    int base = 10;
    if (v[from] == 'x' || v[from] == 'X')
        base = 16, from++;
    uint32_t num;
    if (from == to || parse_number(v, from, to, base, &num) != to - from)
        return 0;
    if (num == ';') /* decodes to the ';' itself */
        return 0;
    return push_charref(out, num) == 0 ? 1 : -1;
}

int movl_ftfy_unescape_html(const movl_u32s *in, movl_u32s *out)
{
    const uint32_t *v = in->v;
    size_t n = in->n, i = 0;
    out->n = 0;
    if (movl_u32s_reserve(out, n) != 0)
        return -1;
    while (i < n) {
        size_t j = i + 1, len = 0;
        int hash = 0;
        if (v[i] == '&') {
            if (j < n && v[j] == '#')
                hash = 1, j++;
            while (j + len < n && is_alnum(v[j + len]))
                len++;
        }
        if (len == 0 || len > NAME_MAX_FTFY || j + len >= n || v[j + len] != ';') {
            if (movl_u32s_push(out, v[i++]) != 0)
                return -1;
            continue;
        }
        size_t end = j + len + 1; /* past the ';' */
        int done = 0;
        if (!hash) {
            char name[NAME_MAX_FTFY + 2];
            name_bytes(v + j, len + 1, name);
            const movl_text_entity *e = movl_entity_find(movl_html5_entities, movl_html5_entity_count, name);
            if (!e)
                e = movl_entity_find(movl_ftfy_upper_entities, movl_ftfy_upper_entity_count, name);
            if (e) {
                if (movl_u32s_push_utf8(out, e->value) != 0)
                    return -1;
                done = 1;
            }
        } else {
            done = ftfy_numeric(v, j, j + len, out);
            if (done < 0)
                return -1;
        }
        if (!done && push_range(out, v, i, end) != 0)
            return -1;
        i = end;
    }
    return 0;
}
