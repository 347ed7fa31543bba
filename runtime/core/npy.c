/* .npy header parsing (see npy.h). The dict is a tiny Python literal, so a
 * hand-written scanner is enough: quoted strings, True/False and a tuple of
 * non-negative integers, in any key order, with optional trailing commas. */
#include "core/npy.h"

#include <stdio.h>
#include <string.h>

typedef struct scanner {
    const char *p, *end;
} scanner;

static void skip_space(scanner *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

static int accept(scanner *s, char c)
{
    skip_space(s);
    if (s->p < s->end && *s->p == c) {
        s->p++;
        return 1;
    }
    return 0;
}

/* A '...' or "..." literal without escapes into buf. */
static int scan_string(scanner *s, char *buf, size_t len)
{
    skip_space(s);
    if (s->p >= s->end || (*s->p != '\'' && *s->p != '"'))
        return -1;
    char q = *s->p++;
    size_t n = 0;
    while (s->p < s->end && *s->p != q) {
        if (*s->p == '\\' || n + 1 >= len)
            return -1;
        buf[n++] = *s->p++;
    }
    if (s->p >= s->end)
        return -1;
    s->p++;
    buf[n] = 0;
    return 0;
}

static int scan_word(scanner *s, const char *w)
{
    skip_space(s);
    size_t n = strlen(w);
    if ((size_t)(s->end - s->p) >= n && memcmp(s->p, w, n) == 0) {
        s->p += n;
        return 1;
    }
    return 0;
}

static int scan_shape(scanner *s, movl_npy *h)
{
    if (!accept(s, '('))
        return -1;
    h->ndim = 0;
    for (;;) {
        if (accept(s, ')'))
            return 0;
        skip_space(s);
        if (s->p >= s->end || *s->p < '0' || *s->p > '9' || h->ndim == MOVL_NPY_MAXDIM)
            return -1;
        int64_t v = 0;
        while (s->p < s->end && *s->p >= '0' && *s->p <= '9') {
            if (v > (INT64_MAX - 9) / 10)
                return -1;
            v = v * 10 + (*s->p++ - '0');
        }
        if (s->p < s->end && *s->p == 'L') /* Python 2 longs */
            s->p++;
        h->shape[h->ndim++] = v;
        if (!accept(s, ',')) {
            /* (N) without a comma is not a tuple in Python, but numpy never writes it */
            return accept(s, ')') ? 0 : -1;
        }
    }
}

int movl_npy_parse_prelude(const unsigned char *p, size_t n, size_t *prelude, size_t *dict_len, char *why,
                           size_t whylen)
{
    if (n < 10 || memcmp(p, "\x93NUMPY", 6) != 0) {
        snprintf(why, whylen, "not a .npy array (missing the \\x93NUMPY magic)");
        return -1;
    }
    int major = p[6];
    if (major == 1) {
        *prelude = 10;
        *dict_len = (size_t)p[8] | (size_t)p[9] << 8;
    } else if (major == 2 || major == 3) {
        if (n < 12) {
            snprintf(why, whylen, "truncated .npy header");
            return -1;
        }
        *prelude = 12;
        *dict_len = (size_t)p[8] | (size_t)p[9] << 8 | (size_t)p[10] << 16 | (size_t)p[11] << 24;
    } else {
        snprintf(why, whylen, "unsupported .npy format version %d.%d (expected 1.0, 2.0 or 3.0)", major, p[7]);
        return -1;
    }
    return 0;
}

int movl_npy_parse_dict(const char *dict, size_t len, movl_npy *out, char *why, size_t whylen)
{
    memset(out, 0, sizeof *out);
    scanner s = {dict, dict + len};
    int have_descr = 0, have_order = 0, have_shape = 0;
    if (!accept(&s, '{'))
        goto bad;
    while (!accept(&s, '}')) {
        char key[32];
        if (scan_string(&s, key, sizeof key) != 0 || !accept(&s, ':'))
            goto bad;
        if (strcmp(key, "descr") == 0) {
            if (scan_string(&s, out->descr, sizeof out->descr) != 0) {
                snprintf(why, whylen, "unsupported dtype in .npy header (structured or too long descr)");
                return -1;
            }
            have_descr = 1;
        } else if (strcmp(key, "fortran_order") == 0) {
            if (scan_word(&s, "True"))
                out->fortran_order = 1;
            else if (scan_word(&s, "False"))
                out->fortran_order = 0;
            else
                goto bad;
            have_order = 1;
        } else if (strcmp(key, "shape") == 0) {
            if (scan_shape(&s, out) != 0)
                goto bad;
            have_shape = 1;
        } else {
            snprintf(why, whylen, "unexpected key '%s' in .npy header", key);
            return -1;
        }
        if (!accept(&s, ',')) {
            if (!accept(&s, '}'))
                goto bad;
            break;
        }
    }
    skip_space(&s);
    if (s.p != s.end)
        goto bad;
    if (!have_descr || !have_order || !have_shape) {
        snprintf(why, whylen, ".npy header lacks '%s'", !have_descr ? "descr" : !have_order ? "fortran_order" : "shape");
        return -1;
    }
    return 0;
bad:
    snprintf(why, whylen, "malformed .npy header dict (expected {'descr': ..., 'fortran_order': ..., 'shape': (...)})");
    return -1;
}

int movl_npy_int_dtype(const char *descr, int *size, int *is_signed)
{
    /* byte order: '|' (not applicable), '<' (little endian), '=' only for 1 byte */
    char order = descr[0];
    if (order != '|' && order != '<' && order != '=')
        return -1;
    char kind = descr[1];
    if (kind != 'u' && kind != 'i')
        return -1;
    int n = 0;
    if (strcmp(descr + 2, "1") == 0)
        n = 1;
    else if (strcmp(descr + 2, "2") == 0)
        n = 2;
    else if (strcmp(descr + 2, "4") == 0)
        n = 4;
    else if (strcmp(descr + 2, "8") == 0)
        n = 8;
    if (!n || (order != '<' && n != 1))
        return -1;
    *size = n;
    *is_signed = kind == 'i';
    return 0;
}

int64_t movl_npy_count(const movl_npy *h)
{
    int64_t n = 1;
    for (int i = 0; i < h->ndim; i++) {
        if (h->shape[i] != 0 && n > INT64_MAX / h->shape[i])
            return -1;
        n *= h->shape[i];
    }
    return n;
}

void movl_npy_shape_str(const movl_npy *h, char *buf, size_t len)
{
    size_t k = 0;
    k += (size_t)snprintf(buf, len, "(");
    for (int i = 0; i < h->ndim && k < len; i++)
        k += (size_t)snprintf(buf + k, len - k, "%s%lld", i ? ", " : "", (long long)h->shape[i]);
    if (k < len)
        snprintf(buf + k, len - k, h->ndim == 1 ? ",)" : ")");
}
