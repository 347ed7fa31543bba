#!/usr/bin/env bash
# movl sweep end to end on real data (PneumoniaMNIST, EfficientNet-Lite0 at
# 32x32, 64 training images): a 2x2 grid with 2 seeds run two points at a
# time, collect checked against the points' own summaries, a re-run that
# skips everything, a stopped sweep that resumes to the same results, and bad
# input that exits 2 and leaves nothing behind. About a minute on 2 cores.
# Usage: sweep_test.sh PATH/TO/movl
set -u
movl=$(realpath "$1")
weights=${MOVL_WEIGHTS:-weights/efficientnet_lite0.safetensors}
pneu=data/medmnist/pneumoniamnist.npz
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
if [ ! -f "$weights" ] || [ ! -f "$pneu" ]; then
  echo "SKIP: needs $weights (tools/fetch_weights.sh) and $pneu"
  exit 77
fi
weights=$(realpath "$weights")
pneu=$(realpath "$pneu")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
source "$(dirname "${BASH_SOURCE[0]}")/check_lib.sh"

base() {
  cat <<EOF
[experiment]
output_dir = $tmp/runs
[encoder]
arch = efficientnet_lite0
weights = $weights
size = 32
[data]
path = $pneu
max_train = 64
max_eval = 32
[prompt]
size = 2
[train]
method = movl
lp_epochs = 1
epochs = 1
batch_size = 16
EOF
}
{ base; printf '[sweep]\nloss.lambda = 0, 0.5\nprompt.size = 2, 4\nexperiment.seed = 1, 2\n'; } >"$tmp/exp.ini"

echo "== 2x2 grid, 2 seeds, two points at a time"
# A point folder left by a run killed during set-up (no checkpoint; a config
# being written) must not stop that point from running.
mkdir -p "$tmp/sw/000_lambda=0_size=2_seed=1"
echo partial >"$tmp/sw/000_lambda=0_size=2_seed=1/config.ini.tmpAbC123"
echo partial >"$tmp/sw/000_lambda=0_size=2_seed=1/config.ini"
out=$("$movl" sweep "$tmp/exp.ini" --out "$tmp/sw" --devices 0,0 2>&1)
rc=$?
check "sweep exits 0 ($rc): $(tail -2 <<<"$out")" [ $rc = 0 ]
n=$(ls "$tmp"/sw/*/summary.json 2>/dev/null | wc -l)
check "8 point runs with summary.json (found $n)" [ "$n" = 8 ]
check "curves.png in every point's run directory" bash -c "[ \$(ls '$tmp'/sw/*/curves.png | wc -l) = 8 ]"
check "sweep.png is a PNG" bash -c "head -c 8 '$tmp/sw/sweep.png' | od -An -tx1 | grep -q '89 50 4e 47 0d 0a 1a 0a'"
# collect's rows and means against the points' own summaries, computed here
check "results.csv and results.md agree with the summaries" "$PY" - "$tmp/sw" <<'PY'
import csv, json, math, os, statistics, sys
d = sys.argv[1]
rows = list(csv.DictReader(open(os.path.join(d, "results.csv"))))
assert len(rows) == 8, f"{len(rows)} rows"
groups = {}
for r in rows:
    s = json.load(open(os.path.join(d, r["name"], "summary.json")))
    assert r["status"] == "done", r
    assert abs(float(r["test_acc"]) - s["test"]["acc"]) < 1e-5, (r, s["test"])
    assert abs(float(r["test_auc"]) - s["test"]["auc"]) < 1e-5, (r, s["test"])
    assert abs(float(r["val_auc"]) - s["val"]["auc"]) < 1e-5, (r, s["val"])
    groups.setdefault((r["loss.lambda"], r["prompt.size"]), []).append(s)
md = open(os.path.join(d, "results.md")).read()
assert len(groups) == 4
for (lam, size), ss in groups.items():
    assert len(ss) == 2
    def cell(split, m):
        v = [s[split][m] for s in ss]
        mean, sd = statistics.mean(v), statistics.stdev(v)
        # 95 % Student t interval of the mean, 1 degree of freedom: t = tan(pi (0.975 - 1/2)) (closed form)
        half = math.tan(math.pi * 0.475) * sd / math.sqrt(len(v))
        return f"{mean:.4f} ± {sd:.4f} [{mean - half:.4f}, {mean + half:.4f}]"
    row = f"| {lam} | {size} | 2 | {cell('val', 'acc')} | {cell('val', 'auc')} | {cell('test', 'acc')} | {cell('test', 'auc')} |"
    assert row in md, f"missing row {row} in\n{md}"
PY

echo "== re-run: every point is skipped"
before=$(stat -c %Y "$tmp"/sw/*/summary.json | md5sum)
out=$("$movl" sweep "$tmp/exp.ini" --out "$tmp/sw" --devices all 2>&1)
rc=$?
check "re-run exits 0 ($rc) and skips 8 points: $(tail -2 <<<"$out")" \
  bash -c "[ $rc = 0 ] && grep -q '8 of 8 points already complete: skipped' <<<\"\$1\" && ! grep -q started <<<\"\$1\"" _ "$out"
check "no summary rewritten" [ "$before" = "$(stat -c %Y "$tmp"/sw/*/summary.json | md5sum)" ]
out=$("$movl" sweep collect "$tmp/sw" 2>&1)
check "collect prints the table" grep -q '| loss.lambda | prompt.size | n | val ACC' <<<"$out"

echo "== a stopped sweep resumes to the same results"
out=$(MOVL_STOP_AFTER_STEPS=3 "$movl" sweep "$tmp/exp.ini" --out "$tmp/sw2" 2>&1)
rc=$?
check "stopped sweep exits 130 ($rc)" [ $rc = 130 ]
check "points stopped at their checkpoints" bash -c "[ \$(ls '$tmp'/sw2/*/resume.safetensors | wc -l) = 8 ] && [ -z \"\$(ls '$tmp'/sw2/*/summary.json 2>/dev/null)\" ]"
out=$("$movl" sweep "$tmp/exp.ini" --out "$tmp/sw2" 2>&1)
rc=$?
check "resumed sweep exits 0 ($rc): $(tail -1 <<<"$out")" [ $rc = 0 ]
check "resumed points' metrics equal the uninterrupted sweep's" bash -c \
  "diff <(cut -d, -f1-10 '$tmp/sw/results.csv') <(cut -d, -f1-10 '$tmp/sw2/results.csv')"

echo "== a point runs in one process at a time; SIGTERM to the sweep stops its points"
{ base; printf '[sweep]\nmode = zip\nloss.lambda = 0, 0.5\nexperiment.seed = 3, 4\n'; } >"$tmp/zip.ini"
"$movl" sweep "$tmp/zip.ini" --out "$tmp/sw3" >"$tmp/sw3.out" 2>&1 &
sweep_pid=$!
for _ in $(seq 100); do grep -q '^run directory' "$tmp"/sw3/logs/000_*.log 2>/dev/null && break; sleep 0.1; done
out=$("$movl" sweep run-point "$tmp/sw3" 0 2>&1)
rc=$?
check "run-point of a point another process is training: exit 75 ($rc), nothing done" \
  bash -c "[ $rc = 75 ] && grep -q 'already running in another process' <<<\"\$1\"" _ "$out"
kill -TERM $sweep_pid
wait $sweep_pid
rc=$?
check "SIGTERM to the sweep: exit 130 ($rc), its point stopped: $(tail -2 "$tmp/sw3.out" | head -1)" \
  bash -c "[ $rc = 130 ] && grep -q '000_lambda=0_seed=3: stopped' '$tmp/sw3.out' && ! pgrep -f '[r]un-point $tmp/sw3' >/dev/null"
out=$("$movl" sweep "$tmp/zip.ini" --out "$tmp/sw3" 2>&1)
rc=$?
check "zip sweep finishes after the stop ($rc): 2 points" \
  bash -c "[ $rc = 0 ] && [ \$(ls '$tmp'/sw3/*/summary.json | wc -l) = 2 ]"

echo "== bad input: exit 2, one line, nothing created"
# expect_bad PATTERN SWEEP_LINES [ARGS...]: the sweep fails with exit 2 and PATTERN, no sweep folder.
case_n=0
expect_bad() {
  local pattern=$1 lines=$2
  shift 2
  case_n=$((case_n + 1))
  { base; printf '[sweep]\n%b\n' "$lines"; } >"$tmp/bad$case_n.ini"
  out=$("$movl" sweep "$tmp/bad$case_n.ini" --out "$tmp/badsw$case_n" "$@" 2>&1)
  rc=$?
  if [ $rc = 2 ] && grep -Fq -- "$pattern" <<<"$out" && [ ! -e "$tmp/badsw$case_n" ]; then ok; else
    bad "case $case_n exited $rc (expected 2), output: $out (expected: $pattern)"
  fi
}
expect_bad "bad1.ini:19: unknown key 'loss.lamda' in [sweep] (did you mean 'loss.lambda'?)" "loss.lamda = 0, 1"
expect_bad "bad2.ini:19: unknown key 'prompt.sise' in [sweep] (did you mean 'prompt.size'?)" "prompt.sise = 1"
expect_bad "bad3.ini:19: loss.lambda has an empty value (expected loss.lambda = v1, v2, ...)" "loss.lambda ="
expect_bad "bad4.ini:19: prompt.size value 'big' is not an integer" "prompt.size = 2, big"
expect_bad "bad5.ini:19: loss.discrepancy value 'l2' is not one of" "loss.discrepancy = kl, l2"
expect_bad "sweep point 001_size=16: -s prompt.size=16: [prompt] size = 16 is too large" "prompt.size = 2, 16"
expect_bad "bad7.ini has no [sweep] section" ""
# Slurm asked for, but not installed: nothing created, nothing submitted
out=$(PATH=/nonexistent "$movl" sweep "$tmp/exp.ini" --out "$tmp/noslurm" --slurm --wait 2>&1)
rc=$?
check "--slurm without sbatch on PATH: exit 2 ($rc), nothing created" \
  bash -c "[ $rc = 2 ] && [ ! -e '$tmp/noslurm' ] && grep -q 'sbatch not found on PATH' <<<\"\$1\"" _ "$out"
# devices are checked before anything is created: a selector that matches
# nothing (exit 2), a device that fails the driver self-test (exit 3)
out=$("$movl" sweep "$tmp/exp.ini" --out "$tmp/nodev" --devices 0,7 2>&1)
rc=$?
check "--devices 0,7: exit 2 ($rc), nothing created" \
  bash -c "[ $rc = 2 ] && [ ! -e '$tmp/nodev' ] && grep -q \"device '7' matches no OpenCL device\" <<<\"\$1\"" _ "$out"
out=$(MOVL_SELFTEST_FAULT=gemm "$movl" sweep "$tmp/exp.ini" --out "$tmp/brokendev" 2>&1)
rc=$?
check "device failing the self-test: exit 3 ($rc), nothing created" \
  bash -c "[ $rc = 3 ] && [ ! -e '$tmp/brokendev' ] && grep -q 'failed the self-test: GEMM' <<<\"\$1\"" _ "$out"
if command -v sbatch >/dev/null; then
  out=$("$movl" sweep "$tmp/exp.ini" --out "$tmp/with space" --slurm 2>&1)
  rc=$?
  check "--slurm into a folder with a space: exit 2 ($rc), nothing created" \
    bash -c "[ $rc = 2 ] && [ ! -e '$tmp/with space' ] && grep -q \"holds a space, quote or '%'\" <<<\"\$1\"" _ "$out"
fi
# a sweep folder belongs to one experiment
{ base; printf '[sweep]\nloss.lambda = 0, 0.5\nprompt.size = 2, 8\nexperiment.seed = 1, 2\n'; } >"$tmp/other.ini"
out=$("$movl" sweep "$tmp/other.ini" --out "$tmp/sw" 2>&1)
rc=$?
check "another experiment into the same folder: exit 2 ($rc)" \
  bash -c "[ $rc = 2 ] && grep -q 'sw/sweep.ini was made from a different experiment' <<<\"\$1\"" _ "$out"
out=$("$movl" sweep collect "$tmp" 2>&1)
rc=$?
check "collect of a folder that is no sweep: exit 2 ($rc)" bash -c "[ $rc = 2 ] && grep -q 'points.csv: cannot open' <<<\"\$1\"" _ "$out"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
