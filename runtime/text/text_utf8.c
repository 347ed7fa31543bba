/* The codepoint buffer and strict UTF-8 in both directions. */
#include "text/text_internal.h"

#include <stdlib.h>
#include <string.h>

int movl_u32s_reserve(movl_u32s *s, size_t n)
{
    if (n <= s->cap)
        return 0;
    size_t cap = s->cap ? s->cap : 64;
    while (cap < n) {
        if (cap > SIZE_MAX / 2 / sizeof *s->v)
            return -1;
        cap *= 2;
    }
    uint32_t *v = realloc(s->v, cap * sizeof *v);
    if (!v)
        return -1;
    s->v = v;
    s->cap = cap;
    return 0;
}

int movl_u32s_push(movl_u32s *s, uint32_t c)
{
    if (s->n == s->cap && movl_u32s_reserve(s, s->n + 1) != 0)
        return -1;
    s->v[s->n++] = c;
    return 0;
}

int movl_u32s_append(movl_u32s *s, const uint32_t *v, size_t n)
{
    if (n == 0)
        return 0;
    if (movl_u32s_reserve(s, s->n + n) != 0)
        return -1;
    memcpy(s->v + s->n, v, n * sizeof *v);
    s->n += n;
    return 0;
}

int movl_u32s_equal(const movl_u32s *a, const movl_u32s *b)
{
    return a->n == b->n && (a->n == 0 || memcmp(a->v, b->v, a->n * sizeof *a->v) == 0);
}

int movl_u32s_push_utf8(movl_u32s *s, const char *utf8)
{
    size_t bad;
    return movl_utf8_decode(utf8, strlen(utf8), s, &bad) == 0 ? 0 : -1;
}

void movl_u32s_free(movl_u32s *s)
{
    free(s->v);
    s->v = NULL;
    s->n = s->cap = 0;
}

/* Appends to out (the tables use it to append, the tokenizer on an empty buffer). */
int movl_utf8_decode(const char *str, size_t n, movl_u32s *out, size_t *bad_offset)
{
    const unsigned char *s = (const unsigned char *)str;
    if (movl_u32s_reserve(out, out->n + n) != 0) /* never more codepoints than bytes */
        return -1;
    size_t i = 0;
    while (i < n) {
        unsigned b = s[i];
        uint32_t c, min;
        size_t len;
        if (b < 0x80) {
            out->v[out->n++] = b;
            i++;
            continue;
        } else if (b >= 0xC2 && b <= 0xDF) {
            len = 2, c = b & 0x1F, min = 0x80;
        } else if (b >= 0xE0 && b <= 0xEF) {
            len = 3, c = b & 0x0F, min = 0x800;
        } else if (b >= 0xF0 && b <= 0xF4) {
            len = 4, c = b & 0x07, min = 0x10000;
        } else {
            *bad_offset = i;
            return -2;
        }
        if (n - i < len) {
            *bad_offset = i;
            return -2;
        }
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80) {
                *bad_offset = i;
                return -2;
            }
            c = (c << 6) | (s[i + k] & 0x3F);
        }
        if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) {
            *bad_offset = i;
            return -2;
        }
        out->v[out->n++] = c;
        i += len;
    }
    return 0;
}

int movl_utf8_encode(uint32_t c, unsigned char *buf)
{
    if (c < 0x80) {
        buf[0] = (unsigned char)c;
        return 1;
    }
    if (c < 0x800) {
        buf[0] = (unsigned char)(0xC0 | (c >> 6));
        buf[1] = (unsigned char)(0x80 | (c & 0x3F));
        return 2;
    }
    if (c < 0x10000) {
        buf[0] = (unsigned char)(0xE0 | (c >> 12));
        buf[1] = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
        buf[2] = (unsigned char)(0x80 | (c & 0x3F));
        return 3;
    }
    buf[0] = (unsigned char)(0xF0 | (c >> 18));
    buf[1] = (unsigned char)(0x80 | ((c >> 12) & 0x3F));
    buf[2] = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
    buf[3] = (unsigned char)(0x80 | (c & 0x3F));
    return 4;
}
