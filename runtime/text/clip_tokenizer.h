/* CLIP's byte-level BPE tokenizer, equal to open_clip 3.3.0's SimpleTokenizer
 * (clean='lower') called as tokenizer(text, context_length=ctx).
 *
 * The text goes through the same steps as in Python:
 *  1. ftfy 6.3.1's fix_text with its default configuration, line by line
 *     (segments end after '\n' or at 1,000,000 codepoints), each segment
 *     fixed until it stops changing: unescape_html (ftfy's variant: names
 *     ending in ';', all-caps Latin names; off from the first segment that
 *     contains '<' on, as ftfy's "auto" does), fix_c1_controls,
 *     fix_latin_ligatures, fix_character_width, uncurl_quotes,
 *     fix_line_breaks, remove_terminal_escapes, remove_control_chars, NFC
 *     (utf8proc). fix_surrogates has nothing to do on valid UTF-8.
 *  2. Python's html.unescape twice (the full HTML5 table, legacy names
 *     without ';', the longest-prefix rule, numeric references with its
 *     invalid-codepoint rules), str.strip, " ".join(str.split()), and
 *     str.lower (full lower case: U+0130 -> "i\u0307"; Final_Sigma).
 *  3. open_clip's pattern <start_of_text>|<end_of_text>|'s|'t|'re|'ve|'m|
 *     'll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+ with regex's IGNORECASE
 *     (so "'ſ" is a contraction and U+0345, which folds to a letter, matches
 *     no alternative and splits words like a space); each match as UTF-8
 *     bytes through bytes_to_unicode and the BPE merges.
 * The data taken from Python and ftfy (the full HTML5 entity table of
 * html.entities.html5, ftfy's all-caps entities, ligature, width and C1
 * tables, html's invalid-charref tables, Python's Cased/Case_Ignorable) is
 * generated into text_tables.c by tests/golden/tokenizer_golden.py tables.
 *
 * Known differences (the one documented kind): ftfy's mojibake repair,
 * fix_encoding (guessing that the text is UTF-8 decoded with a one-byte
 * codec and re-decoding it, with restore_byte_a0, replace_lossy_sequences
 * and decode_inconsistent_utf8), is a heuristic and is not done. Where
 * open_clip repairs, movl tokenizes the text as typed:
 *   "cafÃ©"                  open_clip "café", movl "cafã©"
 *   "â€œquotedâ€\x9d"        open_clip "\"quoted\"", movl "â€œquotedâ€\x9d"
 *   "Ã¼ber", "voilÃ\xa0 le travail", "Ã\xa0 la mode",
 *   "The Mona Lisa doesnÃ¢â‚¬â„¢t have eyebrows."   (all repaired by open_clip)
 * and, rarely, runs of unrelated accented letters that happen to spell
 * mojibake ("ăĄą", the windows-1250 bytes of "㥹": 2 of the 4524
 * strings of the test's codepoint sweep). Ordinary prompts and class names
 * do not meet it; tests/test_tokenizer.c checks these strings against open_clip
 * with ftfy's fix_encoding turned off, where they match.
 * Limitations: the text is a C string, so it cannot hold U+0000; a piece
 * (a run of letters or of punctuation) of n bytes costs O(n^2) in BPE, as
 * in Python; the
 * combining classes of the characters Unicode 15.0 added (U+10EFD..U+10EFF,
 * U+11F41, U+11F42, U+1E08F, U+1E4EC..U+1E4EF) are utf8proc's 15.0 ones
 * where Python 3.11 has 14.0 (unassigned: class 0), which can change NFC's
 * order next to other marks.
 *
 * Thread safety: a loaded tokenizer is read only; tokenize from any thread. */
#ifndef MOVL_CLIP_TOKENIZER_H
#define MOVL_CLIP_TOKENIZER_H

#include <stdint.h>

typedef struct movl_clip_tokenizer movl_clip_tokenizer;

/* Loads the merges file (gzip as shipped, or plain text). Missing file, bad
 * gzip, too few merge lines, a line that is not two symbols, a symbol not
 * formed by earlier entries: MOVL_ERR_INPUT "PATH: ..." (line number where
 * it applies). Out of memory: MOVL_ERR_RUN. */
int movl_clip_tokenizer_load(const char *path, movl_clip_tokenizer **out, char *err);
void movl_clip_tokenizer_free(movl_clip_tokenizer *t);
int movl_clip_tokenizer_vocab_size(const movl_clip_tokenizer *t); /* 49408 */
int movl_clip_tokenizer_sot(const movl_clip_tokenizer *t);        /* 49406 */
int movl_clip_tokenizer_eot(const movl_clip_tokenizer *t);        /* 49407 */

/* open_clip's tokenizer(text, context_length=ctx) for one UTF-8 string:
 * ids[ctx] (int32), zero padded; [sot] + tokens + [eot], truncated to ctx
 * with the last id set to eot. *eot_pos (may be NULL) = the index of the
 * first eot id, which is what the text tower pools (open_clip pools
 * argmax(ids); a literally typed "<end_of_text>" is an eot id too). Invalid
 * UTF-8: MOVL_ERR_INPUT naming the byte offset; ctx < 1: MOVL_ERR_INPUT;
 * out of memory: MOVL_ERR_RUN. */
int movl_clip_tokenize(const movl_clip_tokenizer *t, const char *text, int ctx, int32_t *ids, int *eot_pos, char *err);

#endif
