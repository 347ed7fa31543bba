#!/usr/bin/python3
"""open_clip's CLIP tokenizer as the reference of tests/test_tokenizer.c, and
the generator of the Python-derived tables of runtime/text/text_tables.c.

  tokenizer_golden.py golden STRINGS.jsonl VOCAB OUT.jsonl
      For every line {"text": ..., "ctx": [77, ...]} of STRINGS.jsonl (ctx
      defaults to [77]) writes {"text", "ctx", "ids", "ref"} to OUT.jsonl: the
      ids of open_clip 3.3.0's SimpleTokenizer (clean='lower') with VOCAB,
      without the zero padding. A line with "fix_encoding": false is a known
      difference (ftfy's mojibake repair, which movl does not do): its ids
      come from the same tokenizer with ftfy's fix_encoding turned off, and
      "ref" says so ("no_fix_encoding", or "no_fix_encoding_same" when the
      real tokenizer agrees anyway, i.e. the line is no difference at all).
      Then generated strings, compared the same way:
       - "sweep": every codepoint Python's Unicode tables assign (private use
         and surrogates left out), 32 at a time joined into one string, at a
         context long enough for no truncation;
       - "long": a few strings longer than ftfy's 1,000,000-codepoint segments;
       - "fuzz": FUZZ_COUNT strings of random FUZZ_PIECES (a fixed seed;
         $TOKENIZER_FUZZ_N and $TOKENIZER_FUZZ_SEED change them).
      Runs of unrelated characters can look like mojibake to ftfy: a sweep or
      fuzz string that its fix_encoding changes is compared with it off
      ("sweep_no_fix_encoding", "fuzz_no_fix_encoding").
  tokenizer_golden.py tables > runtime/text/text_tables.c
      Prints the C tables (HTML5 entities, ftfy's tables, Python's case
      properties); rerun when moving to another Python or ftfy.

open_clip's tokenizer module is loaded from its file, not through the
package (whose __init__ pulls optional dependencies); it needs torch, ftfy
and regex. Exit 77 when one of them is missing (the C test then skips).
"""
import html
import html.entities
import importlib.util
import json
import os
import sys
import unicodedata

SKIP = 77
SWEEP_CHUNK = 32
SWEEP_CTX = 320  # 32 codepoints: at most 4 bytes and so 4 tokens each, plus sot/eot


def load_tokenizer_module():
    try:
        import ftfy  # noqa: F401
        import regex  # noqa: F401
        import torch  # noqa: F401
    except ImportError as exc:
        print(f"tokenizer_golden: {exc}; skipping", file=sys.stderr)
        sys.exit(SKIP)
    for root in sys.path:
        path = os.path.join(root, "open_clip", "tokenizer.py")
        if os.path.isfile(path):
            break
    else:
        print("tokenizer_golden: open_clip/tokenizer.py not on PYTHONPATH; skipping", file=sys.stderr)
        sys.exit(SKIP)
    spec = importlib.util.spec_from_file_location("open_clip_tokenizer", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def unpadded(row):
    ids = row.tolist()
    while ids and ids[-1] == 0:
        ids.pop()
    return ids


def sweep_strings():
    cps = []
    for c in range(0x110000):
        cat = unicodedata.category(chr(c))
        if cat not in ("Cn", "Cs", "Co"):
            cps.append(c)
    for i in range(0, len(cps), SWEEP_CHUNK):
        yield "".join(chr(c) for c in cps[i:i + SWEEP_CHUNK])


# Pieces that meet at the edges of the cleaning rules: entities and their
# parts, '<' (which turns ftfy's unescaping off), line breaks, C1 controls,
# terminal escapes, combining marks, ligatures, width forms, quotes, sigma
# with case-ignorable neighbours, the special tokens and contractions.
FUZZ_PIECES = [
    "&amp;", "&", "amp", ";", "&#", "39;", "x27;", "&#x", "2019;", "&lt;", "<", ">", "&nbsp;", "&NTILDE;", "&not",
    "it", "#", "&AElig", "&notin", "&#128", "&#x9d;", "&#0", "\r", "\n", "\r\n", " ", "  ", "\t", "\u00a0",
    "\u3000", "\u2028", "\x85", "\x80", "\x91", "\x92", "\x9d", "\x81", "\x1b[", "31m", "\x1b", "1;2", "\u0663",
    "m", "\u0301", "\u0345", "\u0327", "\u0323", "\u0307", "e", "E", "s", "S", "\u017f", "'", "\u2019", "\u201c",
    "\u02bc", "<start_of_text>", "<end_of_text>", "start_of_text>", "_", "\ufb01", "\ufb05", "\uff21", "\uff76",
    "\uff9e", "\uffe3", "\u03a3", "\u03c3", "\u0391", "\u00ad", ".", "\u0130", "I", "\u0131", "\u00df", "\u01c5",
    "\u212b", "\ud55c", "\u1100", "\u1161", "\u11a8", "\U0001f600", "\u200d", "\ufe0f", "\U0001f3fd", "1", "2",
    ",", "-", "re", "ve", "ll", "d", "t", "\ufeff", "\x01", "\x7f", "\x0b", "\x0c", "\x1c", "a", "b", "z", "\u4e2d",
    "\u0457", "\u0626", "\u0101", "\u0102", "\u0104", "\u00c3", "\u00a9", "\u00e9", "\u0149", "\u2126",
    "\u1fb3", "\u0390", "\u00b2", "\u2160", "\u00bd", "!", "?", "\"", "\\", "\u200b", "\u180e", "\u2000",
]
FUZZ_COUNT = int(os.environ.get("TOKENIZER_FUZZ_N", "3000"))
FUZZ_SEED = int(os.environ.get("TOKENIZER_FUZZ_SEED", "20261203"))


def fuzz_strings():
    import random
    rng = random.Random(FUZZ_SEED)
    for _ in range(FUZZ_COUNT):
        yield "".join(rng.choice(FUZZ_PIECES) for _ in range(rng.randint(0, 24)))


def long_strings():
    """Past fix_text's 1,000,000-codepoint segments: a mark cut off from its
    letter (no NFC across the cut), '<' in the first or only the second
    segment (ftfy's unescaping off from there on; three levels of &amp; show
    it, as open_clip's own html.unescape undoes only two)."""
    pad = " " * 999999
    yield pad + "e\u0301"
    yield pad + "<&amp;amp;amp;"
    yield pad + "x<&amp;amp;amp;"
    yield "&amp;amp;amp;" + pad + "<"
    yield pad + "x&amp;amp;amp;\n<"
    yield "\u3000" * 1000001 + "x"


def golden(strings_path, vocab, out_path):
    mod = load_tokenizer_module()
    import ftfy

    class NoFixEncoding:
        """Stands in for the ftfy module inside open_clip's tokenizer."""
        @staticmethod
        def fix_text(text, **kw):
            return ftfy.fix_text(text, fix_encoding=False, **kw)

    tok = mod.SimpleTokenizer(bpe_path=vocab)

    def ids(text, ctx, fix_encoding=True):
        mod.ftfy = ftfy if fix_encoding else NoFixEncoding
        try:
            return unpadded(tok(text, context_length=ctx)[0])
        finally:
            mod.ftfy = ftfy

    with open(strings_path, encoding="utf-8") as f, open(out_path, "w", encoding="utf-8") as out:
        def emit(text, ctx, row, ref):
            out.write(json.dumps({"text": text, "ctx": ctx, "ids": row, "ref": ref}, ensure_ascii=True) + "\n")

        for line in f:
            if not line.strip():
                continue
            case = json.loads(line)
            text = case["text"]
            for ctx in case.get("ctx", [77]):
                real = ids(text, ctx)
                if case.get("fix_encoding", True):
                    emit(text, ctx, real, "open_clip")
                else:
                    plain = ids(text, ctx, fix_encoding=False)
                    emit(text, ctx, plain, "no_fix_encoding" if plain != real else "no_fix_encoding_same")
        for text in sweep_strings():
            real, plain = ids(text, SWEEP_CTX), ids(text, SWEEP_CTX, fix_encoding=False)
            emit(text, SWEEP_CTX, plain, "sweep" if plain == real else "sweep_no_fix_encoding")
        for text in long_strings():
            emit(text, 77, ids(text, 77), "long")
        for text in fuzz_strings():
            real, plain = ids(text, 77), ids(text, 77, fix_encoding=False)
            emit(text, 77, plain, "fuzz" if plain == real else "fuzz_no_fix_encoding")


# ---- tables ----

def c_str(s):
    out = []
    for b in s.encode("utf-8"):
        ch = chr(b)
        out.append(ch if ch.isascii() and (ch.isalnum() or ch in " ;&#_-.,:!()[]{}+*/=<>|~^%$@'`") else "\\%03o" % b)
    return '"' + "".join(out) + '"'


def ranges(pred):
    out, start = [], None
    for c in range(0x110001):
        inside = c < 0x110000 and pred(c)
        if inside and start is None:
            start = c
        elif not inside and start is not None:
            out.append((start, c - 1))
            start = None
    return out


def sigma_final(before, after):
    """Whether str.lower() gives the final sigma for U+03A3 between before and after."""
    low = (before + "\u03a3" + after).lower()
    return low[len(before.lower())] == "\u03c2"


def tables():
    import ftfy.chardata as cd

    p = print
    p("/* Generated by tests/golden/tokenizer_golden.py tables (Python %s, Unicode %s, ftfy's"
      % (sys.version.split()[0], unicodedata.unidata_version))
    p(" * chardata); do not edit. The data the text cleaning takes from Python and ftfy")
    p(" * verbatim, so that it matches them entry for entry (text_internal.h). */")
    p('#include "text/text_internal.h"')
    p("")
    h5 = sorted(html.entities.html5.items())
    p("/* html.entities.html5: every HTML5 name (with and without ';'), sorted by strcmp. */")
    p("const movl_text_entity movl_html5_entities[] = {")
    for name, value in h5:
        p("    {%s, %s}," % (c_str(name), c_str(value)))
    p("};")
    p("const size_t movl_html5_entity_count = %d;" % len(h5))
    p("")
    extra = sorted((k[1:], v) for k, v in cd.HTML_ENTITIES.items() if k[1:] not in html.entities.html5)
    assert all(html.entities.html5[k[1:]] == v for k, v in cd.HTML_ENTITIES.items() if k[1:] in html.entities.html5)
    p("/* ftfy's HTML_ENTITIES beyond the ';' names of html5: all-caps forms of lower-case")
    p(" * names (\"NTILDE;\"), sorted by strcmp. */")
    p("const movl_text_entity movl_ftfy_upper_entities[] = {")
    for name, value in extra:
        p("    {%s, %s}," % (c_str(name), c_str(value)))
    p("};")
    p("const size_t movl_ftfy_upper_entity_count = %d;" % len(extra))
    p("")
    p("/* Python's html._invalid_charrefs: numeric references replaced by another character. */")
    p("const movl_text_cpmap movl_html_invalid_charrefs[] = {")
    for num, value in sorted(html._invalid_charrefs.items()):
        p("    {0x%X, %s}," % (num, c_str(value)))
    p("};")
    p("const size_t movl_html_invalid_charref_count = %d;" % len(html._invalid_charrefs))
    p("")
    p("/* Python's html._invalid_codepoints: numeric references that decode to nothing. */")
    rs = ranges(lambda c: c in html._invalid_codepoints)
    p("const movl_text_range movl_html_invalid_codepoints[] = {")
    for a, b in rs:
        p("    {0x%X, 0x%X}," % (a, b))
    p("};")
    p("const size_t movl_html_invalid_codepoint_count = %d;" % len(rs))
    p("")
    p("/* ftfy.chardata.LIGATURES, sorted by codepoint. */")
    p("const movl_text_cpmap movl_ftfy_ligatures[] = {")
    for c, v in sorted(cd.LIGATURES.items()):
        p("    {0x%X, %s}," % (c, c_str(v)))
    p("};")
    p("const size_t movl_ftfy_ligature_count = %d;" % len(cd.LIGATURES))
    p("")
    p("/* ftfy.chardata.WIDTH_MAP (NFKC of U+FF01..U+FFEF, and U+3000 -> space), sorted. */")
    p("const movl_text_cpmap movl_ftfy_width_map[] = {")
    for c, v in sorted(cd.WIDTH_MAP.items()):
        p("    {0x%X, %s}," % (c, c_str(v)))
    p("};")
    p("const size_t movl_ftfy_width_count = %d;" % len(cd.WIDTH_MAP))
    p("")
    p("/* ftfy's fix_c1_controls: U+0080..U+009F as bytes of sloppy-windows-1252. */")
    p("const uint32_t movl_ftfy_c1_map[32] = {")
    vals = [ord(bytes([b]).decode("sloppy-windows-1252")) for b in range(0x80, 0xA0)]
    for i in range(0, 32, 8):
        p("    " + " ".join("0x%04X," % v for v in vals[i:i + 8]))
    p("};")
    p("")
    # str.lower()'s Final_Sigma test skips Case_Ignorable characters and then
    # asks whether the first other one is Cased; both sets are read off
    # str.lower() itself, so they are Python's tables exactly.
    def ignorable(c):
        ch = chr(c)
        return sigma_final("A" + ch, "") and not sigma_final(ch, "")

    def cased(c):
        ch = chr(c)
        return not ignorable(c) and not sigma_final("A", ch)

    for name, pred, what in (("case_ignorable", ignorable, "Case_Ignorable"),
                             ("cased", cased, "Cased (those not Case_Ignorable; the others are never asked)")):
        rs = ranges(lambda c: not 0xD800 <= c <= 0xDFFF and pred(c))
        p("/* Python's %s, as str.lower()'s Final_Sigma rule sees it. */" % what)
        p("const movl_text_range movl_py_%s[] = {" % name)
        for a, b in rs:
            p("    {0x%X, 0x%X}," % (a, b))
        p("};")
        p("const size_t movl_py_%s_count = %d;" % (name, len(rs)))
        p("")


def main(argv):
    if len(argv) == 5 and argv[1] == "golden":
        golden(argv[2], argv[3], argv[4])
    elif len(argv) == 2 and argv[1] == "tables":
        tables()
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
