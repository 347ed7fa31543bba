/* open_clip's SimpleTokenizer.bpe on vocabulary ids: start from the bytes
 * (the last one with "</w>"), then repeatedly join every occurrence, left
 * to right, of the adjacent pair with the lowest merge rank, until no pair
 * has one. The rank of each adjacent pair is kept and looked up again only
 * next to a join; a word of n bytes still costs up to n scans, as in Python. */
#include "text/text_internal.h"

#include <stdint.h>

/* The rank of (a, b) and its merged id, or INT32_MAX. */
static int32_t pair_rank(const struct movl_clip_tokenizer *t, int32_t a, int32_t b, int32_t *merged)
{
    uint64_t key = ((uint64_t)(uint32_t)a << 32) | (uint32_t)b;
    size_t i = movl_clip_pair_slot(t, key);
    if (t->pair_key[i] == MOVL_CLIP_PAIR_EMPTY)
        return INT32_MAX;
    *merged = t->pair_merged[i];
    return t->pair_rank[i];
}

size_t movl_clip_bpe(const struct movl_clip_tokenizer *t, const unsigned char *bytes, size_t n, int32_t *word,
                     int32_t *rank, unsigned char *stale)
{
    int32_t m;
    for (size_t i = 0; i + 1 < n; i++)
        word[i] = t->byte_id[bytes[i]];
    word[n - 1] = t->byte_end_id[bytes[n - 1]];
    for (size_t i = 0; i + 1 < n; i++)
        rank[i] = pair_rank(t, word[i], word[i + 1], &m);
    while (n > 1) {
        int32_t best = INT32_MAX;
        size_t at = 0;
        for (size_t i = 0; i + 1 < n; i++)
            if (rank[i] < best)
                best = rank[i], at = i;
        if (best == INT32_MAX)
            break;
        int32_t merged = 0;
        pair_rank(t, word[at], word[at + 1], &merged);
        /* A rank names one pair, so rank[i] == best is "word[i], word[i+1] is the pair". */
        size_t out = 0;
        for (size_t i = 0; i < n; out++) {
            if (i + 1 < n && rank[i] == best) {
                word[out] = merged;
                stale[out] = 1;
                if (out > 0)
                    stale[out - 1] = 1;
                i += 2;
            } else {
                word[out] = word[i];
                rank[out] = i + 1 < n ? rank[i] : INT32_MAX;
                stale[out] = 0;
                i++;
            }
        }
        n = out;
        for (size_t i = 0; i + 1 < n; i++)
            if (stale[i])
                rank[i] = pair_rank(t, word[i], word[i + 1], &m);
    }
    return n;
}
