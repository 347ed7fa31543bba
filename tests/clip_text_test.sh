#!/usr/bin/env bash
# CLIP's zero-shot text head ([head] type = clip_text) end to end, on a small random-weight CLIP written by
# tests/golden/make_clip_golden.py (open_clip's model code; no CLIP weights are reachable from this machine):
#  - method zeroshot: `movl train` writes a run without training; `movl predict --json` on the test images
#    gives open_clip's logits (logit_scale * cosine of image and text embeddings) to a relative error below
#    1e-3, and the class names of [head] classes; `movl eval` reproduces the run's test metrics;
#  - method vp through the head (Bahng et al.'s recipe: padding prompt, fixed text head): the prompt trains
#    (finite losses, a prompt that moved away from zero) and eval reproduces its test metrics;
#  - bad input, each a one-line error, exit 2 and no run folder: a template without "{}" (and with two), an
#    empty class name, a class count that does not match the data, an npz without names and no [head] classes,
#    a vocabulary file that is missing or corrupt, a checkpoint without the text tower (named tensor), a
#    non-CLIP encoder, and method zeroshot with a trained head.
# About 1 minute on 2 cores.  Usage: clip_text_test.sh PATH/TO/movl   (from the repository root)
set -u
movl=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
source "$(dirname "${BASH_SOURCE[0]}")/check_lib.sh"
export MOVL_STOP_AFTER_STEPS=

names=(normal pneumonia "age-related macular degeneration")
clip_golden "$tmp/g" 5 64 "a photo of a {}." "${names[@]}"

# config NAME METHOD: an experiment on the golden data and weights
config() {
  local name=$1 method=$2
  {
    clip_ini_head "$name" 3 "$tmp/runs" "$tmp/g"
    printf '[head]\ntype = clip_text\ntemplate = a photo of a {}.\n'
    printf 'classes = normal, pneumonia, age-related macular degeneration\n'
    printf '[train]\nmethod = %s\nepochs = 2\nbatch_size = 4\nprompt_lr = 40\n' "$method"
    printf '[prompt]\ntype = padding\nsize = 8\n'
  } >"$tmp/$name.ini"
  echo "$tmp/$name.ini"
}

# 1. zero-shot: predict's scores are open_clip's logits
cfg=$(config zs zeroshot)
check "zeroshot run" "$movl" train "$cfg" --no-self-test >"$tmp/zs.log" 2>&1 || cat "$tmp/zs.log"
run=$tmp/runs/zs
check "zeroshot summary" test -f "$run/summary.json"
"$movl" predict "$run" --json "$tmp"/g/test_{0..11}.png >"$tmp/pred.json" 2>"$tmp/pred.err"
check "predict on the zeroshot run" test -s "$tmp/pred.json"
check "scores equal open_clip's logits" $PY - "$tmp/pred.json" "$tmp/g/logits.json" <<'EOF'
import json, math, sys
pred, ref = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))["logits"]
worst = 0.0
for i, p in enumerate(pred):
    got, want = p["scores"], ref[i]
    err = math.sqrt(sum((a - b) ** 2 for a, b in zip(got, want)) / sum(b * b for b in want))
    worst = max(worst, err)
    best = max(range(len(want)), key=lambda k: want[k])
    assert p["class"] == best, (i, p["class"], best)
names = ["normal", "pneumonia", "age-related macular degeneration"]
assert all(p["name"] == names[p["class"]] for p in pred), [p.get("name") for p in pred]
print("zero-shot logits: worst relative L2 error %.2e over %d images" % (worst, len(pred)))
sys.exit(0 if worst < 1e-3 else 1)
EOF
"$movl" eval "$run" --json >"$tmp/zs_eval.json" 2>"$tmp/zs_eval.err"
check "eval reproduces the zeroshot test metrics" $PY tests/run_files.py same-test-metrics "$run/summary.json" "$tmp/zs_eval.json"

# 2. VP through the fixed text head
cfg=$(config vp vp)
check "vp run through the text head" "$movl" train "$cfg" --no-self-test >"$tmp/vp.log" 2>&1 || cat "$tmp/vp.log"
run=$tmp/runs/vp
check "vp: finite losses, a trained prompt, the text head unchanged" $PY - "$run" "$tmp/runs/zs" <<'EOF'
import csv, math, sys
sys.path.insert(0, "tests")
from run_files import tensors
rows = list(csv.DictReader(open(sys.argv[1] + "/metrics.csv")))
assert rows and all(math.isfinite(float(r["train_loss"])) for r in rows if r["train_loss"]), rows
vp, zs = tensors(sys.argv[1] + "/model.safetensors"), tensors(sys.argv[2] + "/model.safetensors")
prompt = [k for k in vp if "prompt" in k]
assert prompt and max(abs(x) for x in vp[prompt[0]]) > 1e-3, prompt
w = [k for k in vp if k.endswith("fully.weight")]
assert w and vp[w[0]] == zs[w[0]], "the text head moved"
EOF
"$movl" eval "$run" --json >"$tmp/vp_eval.json" 2>"$tmp/vp_eval.err"
check "eval reproduces the vp test metrics" $PY tests/run_files.py same-test-metrics "$run/summary.json" "$tmp/vp_eval.json"

# 3. bad input: exit 2, one line, no run folder. refuse NAME PATTERN [OVERRIDE...] (-s section.key=value)
refuse() {
  local name=$1 pattern=$2
  shift 2
  local c args=()
  c=$(config "$name" zeroshot)
  for o in "$@"; do args+=(-s "$o"); done
  expect 2 "$pattern" "$movl" train "$c" "${args[@]}" --no-self-test
  check "$name: no run folder" test ! -e "$tmp/runs/$name"
  local lines
  lines=$("$movl" train "$c" "${args[@]}" --no-self-test 2>&1 >/dev/null | wc -l)
  check "$name: one line on stderr" test "$lines" = 1
}
refuse no_hole 'template.*\{\}.*exactly once' 'head.template=a photo of a cat'
refuse two_holes 'template.*exactly once' 'head.template={} and {}'
refuse empty_name 'class name 2 is empty' 'head.classes=normal, , x'
refuse wrong_count 'names 2 classes.*has 3' 'head.classes=normal, pneumonia'
refuse no_names 'no class names' 'head.classes='
refuse no_vocab 'nowhere\.txt\.gz' "head.vocab=$tmp/nowhere.txt.gz"
head -c 5000 data/clip/bpe_simple_vocab_16e6.txt.gz >"$tmp/cut.txt.gz"
refuse cut_vocab 'cut\.txt\.gz' "head.vocab=$tmp/cut.txt.gz"
$PY - "$tmp/g/weights.safetensors" "$tmp/visual_only.safetensors" <<'EOF'
import json, struct, sys
with open(sys.argv[1], "rb") as f:
    n = struct.unpack("<Q", f.read(8))[0]
    h = json.loads(f.read(n))
    data = f.read()
keep, out, off = {}, [], 0
for k, v in h.items():
    if k.startswith("visual."):
        b, e = v["data_offsets"]
        keep[k] = dict(v, data_offsets=[off, off + e - b])
        out.append(data[b:e])
        off += e - b
text = json.dumps(keep).encode()
text += b" " * ((8 - len(text) % 8) % 8)
with open(sys.argv[2], "wb") as f:
    f.write(struct.pack("<Q", len(text)) + text + b"".join(out))
EOF
refuse visual_only "visual_only\.safetensors.*token_embedding\.weight" "encoder.weights=$tmp/visual_only.safetensors"
refuse not_clip 'clip_text needs a CLIP encoder' 'encoder.arch=efficientnet_lite0'
refuse trained_head 'zeroshot needs \[head\] type = clip_text' 'head.type=fully'

echo "$pass passed, $fail failed"
[ $fail = 0 ] && [ $pass -gt 0 ]
