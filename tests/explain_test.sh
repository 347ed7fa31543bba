#!/usr/bin/env bash
# movl explain on tiny trained runs of a small random-weight CLIP image tower (2 blocks of width 128,
# patch 32, at 64 px; tests/golden/make_clip_golden.py), whose GELU / layer-norm network is smooth, so
# finite differences and the trapezoid rule converge as calculus says:
#  (a) integrated gradients: for every image, |sum of attributions - (logit(x) - logit(black))| <= 1 % of
#      |logit(x) - logit(black)| at 32 steps (docs/EXPLAIN.md), and the error shrinks from 16 to 64 steps;
#      logit(x) equals the logit movl predict gives, so the run's prompt is applied as in predict;
#  (b) the plain gradient against central finite differences of the class logit (--check-grad, step 0.03)
#      at 16 seeded elements per image, |grad - fd| <= 2 % of the largest |grad|, on a movl run with a padding
#      prompt, on vp (a label map head), on zeroshot (CLIP's text head, named classes) and on shrink_pad,
#      where the border (replaced by the prompt) has gradient 0 and finite difference 0;
#  (c) the PNG: written to RUN_DIR/explain/<stem>_explain.png (or --out), its size as documented
#      (3 panels of 4 x 64 px: 832 x 336) and as the JSON says, no temporary file left; every bad input
#      (missing run, not a run, unreadable or non-image file, --class out of range, bad --method, bad
#      numbers, two images with one output name) exits 2 with one line naming it, before any PNG;
#  (d) SmoothGrad: two runs with one seed give the same numbers and byte-identical PNGs, another seed others.
# Usage: explain_test.sh PATH/TO/movl   (from the repository root); about 15 s on 2 cores.
set -u
movl=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
source "$(dirname "${BASH_SOURCE[0]}")/check_lib.sh"
export MOVL_STOP_AFTER_STEPS=

clip_golden "$tmp/g" 9 64 "a photo of a {}." a b c

{
  clip_ini_head base 2 "$tmp/runs" "$tmp/g"
  cat <<EOF
[prompt]
type = padding
size = 8
init = normal
init_std = 0.5
[train]
method = movl
epochs = 1
batch_size = 4
lp_epochs = 2
prompt_optimizer = adam
prompt_lr = 0.01
EOF
} >"$tmp/base.ini"
# a non-zero prompt from the start (init normal), so the maps go through a prompt that acts
for run in "pad" "vp train.method=vp" "shrink prompt.type=shrink_pad"; do
  set -- $run
  name=$1
  shift
  args=()
  for o in "$@"; do args+=(-s "$o"); done
  "$movl" train "$tmp/base.ini" -s "experiment.name=$name" "${args[@]}" --no-self-test >"$tmp/$name.log" 2>&1 ||
    { tail -3 "$tmp/$name.log"; echo "FAIL: training $name"; exit 1; }
done
# CLIP's zero-shot text head (named classes; the gradient goes through its L2 normalisation)
"$movl" train "$tmp/base.ini" -s experiment.name=zs -s train.method=zeroshot -s head.type=clip_text \
  -s "head.template=a photo of a {}." -s "head.classes=a, b, c" --no-self-test >"$tmp/zs.log" 2>&1 ||
  { tail -3 "$tmp/zs.log"; echo "FAIL: training zs"; exit 1; }
imgs=("$tmp/g/test_0.png" "$tmp/g/test_5.png" "$tmp/g/test_10.png")
pad=$tmp/runs/pad

# (a) integrated gradients: completeness, convergence, the logit predict gives
for s in 16 32 64; do
  "$movl" explain "$pad" "${imgs[@]}" --method integrated_gradients --steps $s --json --out "$tmp/ig$s" \
    >"$tmp/ig$s.json" 2>"$tmp/ig$s.err" || { bad "explain ig --steps $s failed"; cat "$tmp/ig$s.err"; }
done
"$movl" predict "$pad" "${imgs[@]}" --json >"$tmp/predict.json" 2>/dev/null
check "integrated gradients: completeness within 1 % at 32 steps, better at 64 than at 16, predict's logits" \
  $PY - "$tmp/ig16.json" "$tmp/ig32.json" "$tmp/ig64.json" "$tmp/predict.json" <<'EOF'
import json, math, sys
ig = [json.load(open(p)) for p in sys.argv[1:4]]
pred = json.load(open(sys.argv[4]))
worst = {}
for s, runs in zip((16, 32, 64), ig):
    assert len(runs) == 3, runs
    for r, p in zip(runs, pred):
        c = r["completeness"]
        assert r["method"] == "integrated_gradients" and r["steps"] == s and r["evaluations"] == s + 1, r
        assert abs(c["difference"] - (c["logit_input"] - c["logit_baseline"])) < 1e-12, c
        assert abs(c["sum_attributions"] - r["attribution_sum"]) < 1e-12, c
        assert abs(c["difference"]) > 1e-3, c  # something to attribute
        rel = abs(c["sum_attributions"] - c["difference"]) / abs(c["difference"])
        assert abs(rel - c["relative_error"]) < 1e-9, (rel, c)
        worst[s] = max(worst.get(s, 0), rel)
        # the class explained is the predicted one, with predict's logit and probability
        assert r["class"] == r["predicted"] == p["class"], (r, p)
        z = p["scores"]
        assert abs(c["logit_input"] - z[r["class"]]) < 1e-4 * max(1, abs(z[r["class"]])), (c, z)
        pk = math.exp(z[r["class"]]) / sum(math.exp(v) for v in z)
        assert abs(r["probability"] - pk) < 1e-5, (r["probability"], pk)
assert worst[32] <= 0.01, worst
assert worst[64] < worst[16], worst
print("    ig completeness, worst relative error over 3 images: %.2e (16 steps), %.2e (32), %.2e (64)" % (
    worst[16], worst[32], worst[64]))
EOF

# (b) the plain gradient against central finite differences
for name in pad vp shrink zs; do
  "$movl" explain "$tmp/runs/$name" "${imgs[@]}" --json --check-grad 16 --check-step 0.03 --out "$tmp/fd_$name" \
    >"$tmp/fd_$name.json" 2>"$tmp/fd_$name.err" || { bad "explain --check-grad on $name failed"; cat "$tmp/fd_$name.err"; }
  check "$name: gradient = central finite differences within 2 % of the largest" \
    $PY - "$tmp/fd_$name.json" "$name" <<'EOF'
import json, sys
runs, name = json.load(open(sys.argv[1])), sys.argv[2]
worst, border, inner = 0, 0, 0
for r in runs:
    g = r["gradient_check"]
    assert len(g) == 16 and r["check_step"] == 0.03, r
    assert len({(e["channel"], e["y"], e["x"]) for e in g}) == 16, g
    top = max(abs(e["grad"]) for e in g)
    assert top > 0, g
    for e in g:
        worst = max(worst, abs(e["grad"] - e["fd"]) / top)
        if name == "shrink":  # border of width 8 of 64 px: replaced by the prompt
            edge = min(e["y"], e["x"], 63 - e["y"], 63 - e["x"]) < 8
            if edge:
                assert e["grad"] == 0 and e["fd"] == 0, e
                border += 1
            else:
                inner += 1
assert worst <= 0.02, worst
if name == "zs":
    assert all(r["name"] == "abc"[r["class"]] for r in runs), runs
if name == "shrink":
    assert border and inner, (border, inner)
print("    %s: max |grad - fd| / max |grad| = %.2e over %d elements" % (name, worst, 16 * len(runs)))
EOF
done

# (c) the PNG and bad input
"$movl" explain "$pad" "${imgs[0]}" >"$tmp/text.out" 2>"$tmp/text.err"
png=$pad/explain/test_0_explain.png
check "text line: image, class, p, method, PNG" grep -Eq "^.*test_0.png	[0-9]+( .+)?	p=0\.[0-9]{4}	grad	$png$" "$tmp/text.out"
check "default output RUN_DIR/explain/<stem>_explain.png" test -s "$png"
check "PNG size 832 x 336 (3 panels of 4 x 64 px), as the JSON says; no temporary files" \
  $PY - "$png" "$tmp/ig32.json" "$tmp/ig32" <<'EOF'
import json, os, struct, sys
def size(p):
    b = open(p, "rb").read(24)
    assert b[:8] == b"\x89PNG\r\n\x1a\n" and b[12:16] == b"IHDR", p
    return struct.unpack(">II", b[16:24])
assert size(sys.argv[1]) == (832, 336), size(sys.argv[1])
for r in json.load(open(sys.argv[2])):
    assert (r["width"], r["height"]) == (832, 336) == size(r["png"]), r
    assert os.path.dirname(r["png"]) == sys.argv[3], r["png"]
assert not [f for f in os.listdir(sys.argv[3]) if ".tmp" in f], os.listdir(sys.argv[3])
EOF
# one line naming the thing, exit 2, and no PNG written
one_line() {
  local pattern=$1
  shift
  local out rc
  out=$("$@" 2>&1)
  rc=$?
  if [ $rc = 2 ] && [ "$(printf '%s\n' "$out" | wc -l)" = 1 ] && grep -Eq -- "$pattern" <<<"$out"; then
    ok
  else
    bad "'$*' exited $rc (expected 2 and one line matching '$pattern'):"
    printf '%s\n' "$out" | head -5
  fi
}
mkdir -p "$tmp/notarun"
printf 'not an image' >"$tmp/fake.png"
mkdir -p "$tmp/other"
cp "${imgs[1]}" "$tmp/other/test_0.png"
one_line "nowhere: no such run folder" "$movl" explain "$tmp/nowhere" "${imgs[0]}"
one_line "notarun: not a run folder \(no config.ini\)" "$movl" explain "$tmp/notarun" "${imgs[0]}"
one_line "missing.png: cannot open image" "$movl" explain "$pad" "${imgs[0]}" "$tmp/missing.png" --out "$tmp/bad1"
one_line "fake.png: not a PNG, JPEG or DICOM file" "$movl" explain "$pad" "$tmp/fake.png" --out "$tmp/bad2"
one_line "--class 3 is out of range: the run has 3 classes \(0\.\.2\)" "$movl" explain "$pad" "${imgs[0]}" --class 3 --out "$tmp/bad3"
one_line "--class '-1' is not a class index" "$movl" explain "$pad" "${imgs[0]}" --class -1
one_line "--method 'lime' is not a method \(expected grad, smoothgrad or integrated_gradients\)" \
  "$movl" explain "$pad" "${imgs[0]}" --method lime
one_line "--steps '0' is not a count in 1\.\.100000" "$movl" explain "$pad" "${imgs[0]}" --method ig --steps 0
one_line "--samples 'many' is not a count" "$movl" explain "$pad" "${imgs[0]}" --method smoothgrad --samples many
one_line "--noise '-1' is not a number in 0\.\.10" "$movl" explain "$pad" "${imgs[0]}" --noise -1
one_line "--check-step 'x' is not a step" "$movl" explain "$pad" "${imgs[0]}" --check-step x
one_line "would both be explained into .*/test_0_explain.png" "$movl" explain "$pad" "${imgs[0]}" "$tmp/other/test_0.png"
check "a bad image among good ones: no PNG written" test ! -e "$tmp/bad1"
check "--class out of range: no PNG written" test ! -e "$tmp/bad3"
expect 2 "usage: movl explain RUN_DIR IMAGE" "$movl" explain "$pad"

# (d) SmoothGrad replays with its seed
sg() { "$movl" explain "$pad" "${imgs[0]}" "${imgs[1]}" --method smoothgrad --samples 6 --noise 0.2 --json "$@" 2>/dev/null; }
sg --seed 3 --out "$tmp/sg1" >"$tmp/sg1.json"
sg --seed 3 --out "$tmp/sg2" >"$tmp/sg2.json"
sg --seed 4 --out "$tmp/sg3" >"$tmp/sg3.json"
check "smoothgrad: same seed, same numbers" $PY - "$tmp/sg1.json" "$tmp/sg2.json" "$tmp/sg3.json" <<'EOF'
import json, sys
a, b, c = (json.load(open(p)) for p in sys.argv[1:4])
key = lambda runs: [(r["class"], r["logit"], r["attribution_sum"], r["attribution_abs_sum"]) for r in runs]
assert key(a) == key(b), (key(a), key(b))
assert [r["attribution_abs_sum"] for r in a] != [r["attribution_abs_sum"] for r in c], (key(a), key(c))
assert all(r["samples"] == 6 and r["evaluations"] == 6 and r["seed"] == 3 for r in a), a
EOF
for f in test_0 test_5; do
  check "smoothgrad: $f's PNG byte-identical with the same seed" cmp -s "$tmp/sg1/${f}_explain.png" "$tmp/sg2/${f}_explain.png"
done
check "smoothgrad: another seed, another PNG" test "$(cmp -s "$tmp/sg1/test_0_explain.png" "$tmp/sg3/test_0_explain.png"; echo $?)" = 1

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
