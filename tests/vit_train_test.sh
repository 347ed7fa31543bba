#!/usr/bin/env bash
# Every method and prompt type on a transformer: a small random-weight CLIP image tower (2 blocks of width
# 128, patch 32; tests/golden/make_clip_golden.py, open_clip's model code) loaded as clip_vit_b_32 at 64 px.
#  - methods lp, vp (flm over the embedding dimensions), vp_lp, movl, lp_then_vp, vp_then_lp, ff each train
#    one epoch with finite losses and a summary; prompt types padding, shrink_pad, patch, random_patch, full
#    each train with movl;
#  - ff: model.safetensors holds the fine-tuned tower (every backbone tensor, the attention and MLP weights,
#    layer norms, position embedding and class token), some of it moved from the checkpoint's values, and
#    movl eval reproduces the run's test metrics (eval loads the fine-tuned tower);
#  - ff resume: a run stopped after 3 steps and resumed writes a model.safetensors byte-identical to the
#    uninterrupted run's.
# About 1 minute on 2 cores.  Usage: vit_train_test.sh PATH/TO/movl   (from the repository root)
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
[train]
method = movl
epochs = 1
batch_size = 4
lp_epochs = 2
prompt_optimizer = adam
prompt_lr = 0.01
EOF
} >"$tmp/base.ini"

# train NAME OVERRIDE...: one run; checks it finished with finite losses
train() {
  local name=$1
  shift
  local args=()
  for o in "$@"; do args+=(-s "$o"); done
  if "$movl" train "$tmp/base.ini" -s "experiment.name=$name" "${args[@]}" --no-self-test >"$tmp/$name.log" 2>&1; then
    ok
  else
    bad "$name: movl train failed"
    tail -3 "$tmp/$name.log"
    return
  fi
  check "$name: summary and finite losses" $PY - "$tmp/runs/$name" <<'EOF'
import csv, json, math, sys
s = json.load(open(sys.argv[1] + "/summary.json"))
rows = list(csv.DictReader(open(sys.argv[1] + "/metrics.csv")))
assert rows and all(math.isfinite(float(r["train_loss"])) for r in rows if r["train_loss"]), rows
assert 0 <= s["test"]["acc"] <= 1
EOF
}

for m in lp vp vp_lp movl lp_then_vp vp_then_lp ff; do
  train "m_$m" "train.method=$m"
done
for p in shrink_pad patch random_patch full; do
  train "p_$p" "prompt.type=$p"
done

check "ff: the fine-tuned tower is in model.safetensors, moved from the checkpoint" $PY - \
  "$tmp/runs/m_ff/model.safetensors" "$tmp/g/weights.safetensors" <<'EOF'
import sys
sys.path.insert(0, "tests")
from run_files import tensors
m, w = tensors(sys.argv[1]), tensors(sys.argv[2])
want = ["backbone.tokens.pos_embedding", "backbone.tokens.class_token", "backbone.patch_embed.weight",
        "backbone.visual.ln_pre.weight", "backbone.visual.transformer.resblocks.1.attn.qkv.weight",
        "backbone.visual.transformer.resblocks.1.mlp.c_proj.bias", "backbone.visual.ln_post.bias",
        "backbone.visual.proj.weight"]
missing = [k for k in want if k not in m]
assert not missing, (missing, sorted(m)[:8])
a, b = m["backbone.visual.transformer.resblocks.1.attn.qkv.weight"], w["visual.transformer.resblocks.1.attn.in_proj_weight"]
moved = max(abs(x - y) for x, y in zip(a, b))
assert 0 < moved < 1, moved
EOF
"$movl" eval "$tmp/runs/m_ff" --json >"$tmp/ff_eval.json" 2>"$tmp/ff_eval.err"
check "ff: eval reproduces the test metrics" $PY tests/run_files.py same-test-metrics "$tmp/runs/m_ff/summary.json" "$tmp/ff_eval.json"

# ff resume: stop after 3 steps (2 epochs of 3 steps), resume, compare with an uninterrupted run
train ff_full "train.method=ff" "train.epochs=2" "head.init=zero"
MOVL_STOP_AFTER_STEPS=3 "$movl" train "$tmp/base.ini" -s experiment.name=ff_stop -s train.method=ff \
  -s train.epochs=2 -s head.init=zero --no-self-test >"$tmp/stop.log" 2>&1
check "ff stopped after 3 steps leaves a checkpoint" test -f "$tmp/runs/ff_stop/resume.safetensors"
"$movl" train --resume "$tmp/runs/ff_stop" --no-self-test >"$tmp/resume.log" 2>&1
check "ff resumed model.safetensors equals the uninterrupted run's" \
  cmp "$tmp/runs/ff_stop/model.safetensors" "$tmp/runs/ff_full/model.safetensors"

echo "$pass passed, $fail failed"
[ $fail = 0 ] && [ $pass -gt 0 ]
