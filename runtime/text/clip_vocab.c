/* Loading the CLIP merges file into the vocabulary ids and the merge table,
 * as open_clip's SimpleTokenizer.__init__ builds them: the vocabulary is the
 * 256 byte symbols, the same with "</w>", one entry per merge (the two
 * symbols joined) and the special tokens; a string's id is its last entry
 * (dict(zip(vocab, range))), and a pair's rank its last merge line. */
#include "text/clip_tokenizer.h"
#include "text/text_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/common.h"

#define MAX_FILE_BYTES (64u << 20) /* the shipped file is 3.2 MB unpacked */
#define STR_SLOTS (1u << 17)       /* > 2 x the 49408 strings */
#define PAIR_SLOTS (1u << 17)      /* > 2 x the 48894 merges */

/* ---- reading ---- */

/* The whole file, unpacked when it is gzip (zlib reads plain files as they are). */
static int read_file(const char *path, char **data, size_t *len, char *err)
{
    gzFile f = gzopen(path, "rb");
    if (!f) {
        movl_set_error(err, "%s: cannot open (%s)", path, errno ? strerror(errno) : "out of memory");
        return errno ? MOVL_ERR_INPUT : MOVL_ERR_RUN;
    }
    size_t cap = 1u << 20, n = 0;
    char *buf = malloc(cap);
    int rc = MOVL_OK;
    while (buf) {
        if (n == cap) {
            if (cap >= MAX_FILE_BYTES) {
                movl_set_error(err, "%s: larger than %u bytes unpacked", path, MAX_FILE_BYTES);
                rc = MOVL_ERR_INPUT;
                break;
            }
            char *grown = realloc(buf, cap * 2);
            if (!grown)
                break;
            buf = grown;
            cap *= 2;
        }
        int got = gzread(f, buf + n, (unsigned)(cap - n));
        if (got <= 0) {
            int zerr;
            const char *msg = gzerror(f, &zerr);
            size_t plen = strlen(path);
            if (strncmp(msg, path, plen) == 0 && strncmp(msg + plen, ": ", 2) == 0)
                msg += plen + 2; /* zlib puts the path first; ours is already there */
            if (got < 0 || (zerr != Z_OK && zerr != Z_STREAM_END)) {
                if (zerr == Z_ERRNO)
                    movl_set_error(err, "%s: cannot read (%s)", path, strerror(errno));
                else
                    movl_set_error(err, "%s: not a valid gzip file (%s)", path, msg);
                rc = zerr == Z_MEM_ERROR ? MOVL_ERR_RUN : MOVL_ERR_INPUT;
            }
            break;
        }
        n += (size_t)got;
    }
    gzclose(f);
    if (!buf) {
        movl_set_error(err, "%s: out of memory", path);
        return MOVL_ERR_RUN;
    }
    if (rc != MOVL_OK) {
        free(buf);
        return rc;
    }
    *data = buf;
    *len = n;
    return MOVL_OK;
}

/* ---- the string -> id map, used while loading ---- */

typedef struct str_slot {
    uint32_t off, len; /* into the arena */
    int32_t id;        /* -1: empty */
} str_slot;

typedef struct builder {
    str_slot *slots;
    char *arena;
    size_t arena_n, arena_cap;
    int distinct;
} builder;

static uint64_t hash_bytes(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

static size_t str_find(const builder *b, const char *s, size_t n)
{
    size_t i = (size_t)hash_bytes(s, n) & (STR_SLOTS - 1);
    while (b->slots[i].id >= 0 && !(b->slots[i].len == n && memcmp(b->arena + b->slots[i].off, s, n) == 0))
        i = (i + 1) & (STR_SLOTS - 1);
    return i;
}

/* Room for n more bytes at the arena's end; 0 or -1. */
static int arena_reserve(builder *b, size_t n)
{
    if (b->arena_n + n <= b->arena_cap)
        return 0;
    size_t cap = b->arena_cap ? b->arena_cap : 1u << 16;
    while (cap < b->arena_n + n)
        cap *= 2;
    char *a = realloc(b->arena, cap);
    if (!a)
        return -1;
    b->arena = a;
    b->arena_cap = cap;
    return 0;
}

/* Gives the string at the arena's end (n bytes, not yet kept) the id; keeps
 * it when new. Returns its slot. The table never fills: at most 49408 strings. */
static size_t str_set_tail(builder *b, size_t n, int32_t id)
{
    const char *s = b->arena + b->arena_n;
    size_t i = str_find(b, s, n);
    if (b->slots[i].id < 0) {
        b->slots[i].off = (uint32_t)b->arena_n;
        b->slots[i].len = (uint32_t)n;
        b->arena_n += n;
        b->distinct++;
    }
    b->slots[i].id = id;
    return i;
}

static int str_add(builder *b, const char *s, size_t n, int32_t id, size_t *slot)
{
    if (arena_reserve(b, n) != 0)
        return -1;
    memcpy(b->arena + b->arena_n, s, n);
    *slot = str_set_tail(b, n, id);
    return 0;
}

/* bytes_to_unicode(): printable Latin-1 bytes stand for themselves, the
 * others (controls, space, U+00AD...) for U+0100 upwards; vocab order is
 * the printable ones first. bytes[i] is the byte of symbol i. */
static void byte_order(unsigned char bytes[256], uint32_t chars[256])
{
    int n = 0, extra = 0;
    for (int b = 0; b < 256; b++)
        if ((b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF))
            bytes[n] = (unsigned char)b, chars[n++] = (uint32_t)b;
    for (int b = 0; b < 256; b++)
        if (!((b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF)))
            bytes[n] = (unsigned char)b, chars[n++] = 256u + (uint32_t)extra++;
}

/* ---- the merge table ---- */

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    return x ^ (x >> 33);
}

size_t movl_clip_pair_slot(const movl_clip_tokenizer *t, uint64_t key)
{
    size_t i = (size_t)mix64(key) & t->pair_mask;
    while (t->pair_key[i] != MOVL_CLIP_PAIR_EMPTY && t->pair_key[i] != key)
        i = (i + 1) & t->pair_mask;
    return i;
}

/* A symbol for an error line: at most 40 bytes, control bytes as '?'. */
static const char *printable(const char *s, size_t n, char *buf)
{
    size_t k = n < 40 ? n : 40;
    for (size_t i = 0; i < k; i++)
        buf[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7F ? '?' : s[i];
    strcpy(buf + k, n > 40 ? "..." : "");
    return buf;
}

static int is_field_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Splits line [s, e) into its whitespace-separated fields (at most 3 noted). */
static int split_fields(const char *s, const char *e, const char **f, size_t *flen)
{
    int n = 0;
    while (s < e) {
        while (s < e && is_field_space(*s))
            s++;
        if (s == e)
            break;
        const char *start = s;
        while (s < e && !is_field_space(*s))
            s++;
        if (n < 3)
            f[n] = start, flen[n] = (size_t)(s - start);
        n++;
    }
    return n;
}

/* The merge lines into b (ids 512 + k) and the table; MOVL_OK or an error. */
static int add_merges(movl_clip_tokenizer *t, builder *b, const char *path, const char *data, size_t len, char *err)
{
    /* Slots of each merge's two symbols and of their join, resolved to ids once all are in. */
    size_t *slot = malloc(3 * sizeof(size_t) * MOVL_CLIP_MERGES);
    if (!slot) {
        movl_set_error(err, "%s: out of memory", path);
        return MOVL_ERR_RUN;
    }
    const char *p = memchr(data, '\n', len), *end = data + len;
    int rc = MOVL_OK;
    size_t k = 0;
    for (p = p ? p + 1 : end; k < MOVL_CLIP_MERGES; k++) {
        int line = (int)k + 2;
        if (p >= end) {
            movl_set_error(err, "%s: %zu merge lines after the header, CLIP needs %d", path, k, MOVL_CLIP_MERGES);
            rc = MOVL_ERR_INPUT;
            break;
        }
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            eol = end;
        const char *f[3];
        size_t flen[3];
        int nf = split_fields(p, eol, f, flen);
        p = eol + 1;
        if (nf != 2) {
            movl_set_error(err, "%s: line %d: expected two symbols, found %d", path, line, nf);
            rc = MOVL_ERR_INPUT;
            break;
        }
        for (int s = 0; s < 2; s++) {
            size_t i = str_find(b, f[s], flen[s]);
            if (b->slots[i].id < 0) {
                char buf[48];
                movl_set_error(err, "%s: line %d: symbol '%s' is not formed by earlier entries", path, line,
                               printable(f[s], flen[s], buf));
                rc = MOVL_ERR_INPUT;
                break;
            }
            slot[3 * k + (size_t)s] = i;
        }
        if (rc != MOVL_OK)
            break;
        if (arena_reserve(b, flen[0] + flen[1]) != 0) {
            movl_set_error(err, "%s: out of memory", path);
            rc = MOVL_ERR_RUN;
            break;
        }
        memcpy(b->arena + b->arena_n, f[0], flen[0]);
        memcpy(b->arena + b->arena_n + flen[0], f[1], flen[1]);
        slot[3 * k + 2] = str_set_tail(b, flen[0] + flen[1], 512 + (int32_t)k);
    }
    size_t sp;
    if (rc == MOVL_OK && (str_add(b, "<start_of_text>", 15, 512 + MOVL_CLIP_MERGES, &sp) != 0 ||
                          str_add(b, "<end_of_text>", 13, 513 + MOVL_CLIP_MERGES, &sp) != 0)) {
        movl_set_error(err, "%s: out of memory", path);
        rc = MOVL_ERR_RUN;
    }
    for (size_t m = 0; rc == MOVL_OK && m < MOVL_CLIP_MERGES; m++) {
        uint64_t key = ((uint64_t)(uint32_t)b->slots[slot[3 * m]].id << 32) | (uint32_t)b->slots[slot[3 * m + 1]].id;
        size_t i = movl_clip_pair_slot(t, key);
        t->pair_key[i] = key;
        t->pair_rank[i] = (int32_t)m;
        t->pair_merged[i] = b->slots[slot[3 * m + 2]].id;
    }
    free(slot);
    return rc;
}

static int build(movl_clip_tokenizer *t, const char *path, const char *data, size_t len, char *err)
{
    builder b = {0};
    int rc = MOVL_ERR_RUN;
    b.slots = malloc(STR_SLOTS * sizeof *b.slots);
    t->pair_mask = PAIR_SLOTS - 1;
    t->pair_key = malloc(PAIR_SLOTS * sizeof *t->pair_key);
    t->pair_rank = malloc(PAIR_SLOTS * sizeof *t->pair_rank);
    t->pair_merged = malloc(PAIR_SLOTS * sizeof *t->pair_merged);
    if (!b.slots || !t->pair_key || !t->pair_rank || !t->pair_merged) {
        movl_set_error(err, "%s: out of memory", path);
        goto done;
    }
    for (size_t i = 0; i < STR_SLOTS; i++)
        b.slots[i].id = -1;
    for (size_t i = 0; i < PAIR_SLOTS; i++)
        t->pair_key[i] = MOVL_CLIP_PAIR_EMPTY;

    unsigned char bytes[256];
    uint32_t chars[256];
    size_t inner[256], final[256];
    byte_order(bytes, chars);
    for (int i = 0; i < 256; i++) {
        unsigned char s[8];
        int n = movl_utf8_encode(chars[i], s);
        if (str_add(&b, (const char *)s, (size_t)n, i, &inner[i]) != 0)
            goto oom;
    }
    for (int i = 0; i < 256; i++) {
        unsigned char s[8];
        int n = movl_utf8_encode(chars[i], s);
        memcpy(s + n, "</w>", 4);
        if (str_add(&b, (const char *)s, (size_t)n + 4, 256 + i, &final[i]) != 0)
            goto oom;
    }
    rc = add_merges(t, &b, path, data, len, err);
    if (rc != MOVL_OK)
        goto done;
    for (int i = 0; i < 256; i++) {
        t->byte_id[bytes[i]] = b.slots[inner[i]].id;
        t->byte_end_id[bytes[i]] = b.slots[final[i]].id;
    }
    t->sot = 512 + MOVL_CLIP_MERGES; /* appended last, so their own ids */
    t->eot = 513 + MOVL_CLIP_MERGES;
    t->vocab_size = b.distinct;
    goto done;
oom:
    movl_set_error(err, "%s: out of memory", path);
    rc = MOVL_ERR_RUN;
done:
    free(b.slots);
    free(b.arena);
    return rc;
}

int movl_clip_tokenizer_load(const char *path, movl_clip_tokenizer **out, char *err)
{
    *out = NULL;
    char *data;
    size_t len;
    int rc = read_file(path, &data, &len, err);
    if (rc != MOVL_OK)
        return rc;
    movl_clip_tokenizer *t = calloc(1, sizeof *t);
    if (!t) {
        free(data);
        movl_set_error(err, "%s: out of memory", path);
        return MOVL_ERR_RUN;
    }
    rc = build(t, path, data, len, err);
    free(data);
    if (rc != MOVL_OK) {
        movl_clip_tokenizer_free(t);
        return rc;
    }
    *out = t;
    return MOVL_OK;
}

void movl_clip_tokenizer_free(movl_clip_tokenizer *t)
{
    if (!t)
        return;
    free(t->pair_key);
    free(t->pair_rank);
    free(t->pair_merged);
    free(t);
}

int movl_clip_tokenizer_vocab_size(const movl_clip_tokenizer *t) { return t->vocab_size; }
int movl_clip_tokenizer_sot(const movl_clip_tokenizer *t) { return t->sot; }
int movl_clip_tokenizer_eot(const movl_clip_tokenizer *t) { return t->eot; }
