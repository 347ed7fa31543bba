/* movl_clip_tokenize: clean the text, split it with open_clip's pattern
 * (clip_tokenizer.h, step 3), BPE each piece, frame with sot/eot and cut to
 * the context as SimpleTokenizer.__call__ does. */
#include "text/clip_tokenizer.h"
#include "text/text_internal.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "core/common.h"

enum { CL_SKIP, CL_LETTER, CL_NUMBER, CL_OTHER };

/* What the pattern's classes say of c: \p{L}, \p{N}, [^\s\p{L}\p{N}], or
 * none (\s, and U+0345, which IGNORECASE folds to the letter U+03B9, so it
 * is neither in [\p{L}] nor in its complement as the regex module decides). */
static int char_class(uint32_t c)
{
    if (c == 0x345 || (movl_py_isspace(c) && !(c >= 0x1C && c <= 0x1F)))
        return CL_SKIP;
    switch (utf8proc_category((utf8proc_int32_t)c)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
        return CL_LETTER;
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
        return CL_NUMBER;
    default:
        return CL_OTHER;
    }
}

/* c equals the ASCII character lit under IGNORECASE (simple case folding:
 * only U+017F LONG S folds onto one of the letters the pattern spells). */
static int ci_equal(uint32_t c, char lit)
{
    if (c == (unsigned char)lit)
        return 1;
    if (lit >= 'a' && lit <= 'z' && c == (uint32_t)(lit - 'a' + 'A'))
        return 1;
    return lit == 's' && c == 0x17F;
}

static size_t match_literal(const uint32_t *v, size_t n, size_t i, const char *lit)
{
    size_t k = 0;
    for (; lit[k]; k++)
        if (i + k >= n || !ci_equal(v[i + k], lit[k]))
            return 0;
    return k;
}

/* The length of the pattern's match at v[i] (0: none, the character is skipped). */
static size_t match_at(const uint32_t *v, size_t n, size_t i)
{
    static const char *const specials[] = {"<start_of_text>", "<end_of_text>"};
    static const char *const contractions[] = {"'s", "'t", "'re", "'ve", "'m", "'ll", "'d"};
    size_t len;
    for (size_t s = 0; s < 2; s++)
        if ((len = match_literal(v, n, i, specials[s])) != 0)
            return len;
    for (size_t s = 0; s < sizeof contractions / sizeof *contractions; s++)
        if ((len = match_literal(v, n, i, contractions[s])) != 0)
            return len;
    int cl = char_class(v[i]);
    if (cl == CL_NUMBER)
        return 1;
    if (cl == CL_SKIP)
        return 0;
    len = 1;
    while (i + len < n && char_class(v[i + len]) == cl)
        len++;
    return len;
}

/* True when the piece is exactly a special token's text (SimpleTokenizer's
 * cache holds those, so they skip BPE: "<ſtart_of_text>" does not). */
static int special_id(const movl_clip_tokenizer *t, const uint32_t *v, size_t len)
{
    static const char *const names[] = {"<start_of_text>", "<end_of_text>"};
    for (int s = 0; s < 2; s++) {
        size_t k = 0;
        while (k < len && names[s][k] && v[k] == (unsigned char)names[s][k])
            k++;
        if (k == len && !names[s][k])
            return s == 0 ? t->sot : t->eot;
    }
    return -1;
}

typedef struct scratch {
    unsigned char *bytes, *stale;
    int32_t *word, *rank;
    size_t cap; /* bytes of a piece they all hold */
} scratch;

static int scratch_fit(scratch *s, size_t n)
{
    if (n <= s->cap)
        return 0;
    size_t cap = n < 256 ? 256 : n;
    unsigned char *b = realloc(s->bytes, cap);
    if (b)
        s->bytes = b;
    unsigned char *st = realloc(s->stale, cap);
    if (st)
        s->stale = st;
    int32_t *w = realloc(s->word, cap * sizeof *w);
    if (w)
        s->word = w;
    int32_t *r = realloc(s->rank, cap * sizeof *r);
    if (r)
        s->rank = r;
    if (!b || !st || !w || !r)
        return -1;
    s->cap = cap;
    return 0;
}

/* Tokens of text into ids[1..], at most ctx - 1 of them in all (sot included);
 * *count gets how many ids are filled, stopping as soon as the context is full. */
static int encode(const movl_clip_tokenizer *t, const movl_u32s *text, int32_t *ids, int ctx, int *count)
{
    scratch s = {0};
    int filled = 1, rc = 0;
    for (size_t i = 0; i < text->n && filled < ctx;) {
        size_t len = match_at(text->v, text->n, i);
        if (len == 0) {
            i++;
            continue;
        }
        int special = special_id(t, text->v + i, len);
        if (special >= 0) {
            ids[filled++] = special;
        } else {
            if (scratch_fit(&s, 4 * len) != 0) {
                rc = -1;
                break;
            }
            size_t nb = 0;
            for (size_t k = 0; k < len; k++)
                nb += (size_t)movl_utf8_encode(text->v[i + k], s.bytes + nb);
            size_t nw = movl_clip_bpe(t, s.bytes, nb, s.word, s.rank, s.stale);
            for (size_t k = 0; k < nw && filled < ctx; k++)
                ids[filled++] = s.word[k];
        }
        i += len;
    }
    free(s.bytes);
    free(s.stale);
    free(s.word);
    free(s.rank);
    *count = filled;
    return rc;
}

int movl_clip_tokenize(const movl_clip_tokenizer *t, const char *text, int ctx, int32_t *ids, int *eot_pos, char *err)
{
    if (ctx < 1) {
        movl_set_error(err, "tokenizer: context length %d, must be at least 1", ctx);
        return MOVL_ERR_INPUT;
    }
    if (!text) {
        movl_set_error(err, "tokenizer: no text (NULL)");
        return MOVL_ERR_INPUT;
    }
    movl_u32s raw = {0}, clean = {0};
    size_t bad = 0;
    int rc = movl_utf8_decode(text, strlen(text), &raw, &bad);
    if (rc == -2) {
        movl_set_error(err, "tokenizer: text is not valid UTF-8 (byte offset %zu)", bad);
        movl_u32s_free(&raw);
        return MOVL_ERR_INPUT;
    }
    int count = 0;
    if (rc == 0)
        rc = movl_clip_clean(&raw, &clean);
    movl_u32s_free(&raw);
    if (rc == 0) {
        ids[0] = t->sot;
        rc = encode(t, &clean, ids, ctx, &count);
    }
    movl_u32s_free(&clean);
    if (rc != 0) {
        movl_set_error(err, "tokenizer: out of memory");
        return MOVL_ERR_RUN;
    }
    /* [sot] + tokens + [eot]; when that is longer than ctx, its first ctx
     * with the last one set to eot. */
    if (count < ctx)
        ids[count++] = t->eot;
    else
        ids[ctx - 1] = t->eot;
    for (int k = count; k < ctx; k++)
        ids[k] = 0;
    if (eot_pos) {
        int k = 0;
        while (ids[k] != t->eot)
            k++;
        *eot_pos = k;
    }
    return MOVL_OK;
}
