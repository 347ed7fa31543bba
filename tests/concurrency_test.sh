#!/usr/bin/env bash
# Several movl processes on the same files at once (docs/RELIABILITY.md, "Concurrency"):
#  1. a second `movl train --resume` of a run folder that a `movl train` is training exits 75 (the run folder's
#     lock, train.lock, names the holder's PID) and changes nothing; the first run ends byte-identical to an
#     uninterrupted one; after a SIGKILL, two resumes started together: one trains, the other exits 75 (or 2 when
#     the first has already finished), and the model is again byte-identical;
#  2. two `movl train EXP.ini` of one experiment name at once get two run folders (name, name-2), both complete
#     and equal;
#  3. two `movl sweep` on one sweep folder at once: both exit 0, every point runs once (the other sweep skips it
#     or finds it complete), results.csv lists every point done, no file half-written, no temporary file left;
#  4. the program cache (MOVL_CACHE=force, an empty MOVL_CACHE_DIR) filled by 4 processes at once: all succeed,
#     every cache file is whole (magic, length), none is temporary, and a fifth process builds nothing.
# Usage: concurrency_test.sh PATH/TO/movl   (from the repository root); about 1 minute on 2 cores.
set -u
movl=$(realpath "$1")
source "$(dirname "${BASH_SOURCE[0]}")/check_lib.sh"
weights=weights/efficientnet_lite0.safetensors pneu=data/medmnist/pneumoniamnist.npz
need_files "$weights" "$pneu"
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$tmp"' EXIT
export MOVL_STOP_AFTER_STEPS= MOVL_TRACE= MOVL_EVENTS=

# movl at 32 x 32 on 96 images: 24 steps, a checkpoint every 5
{ resume_ini "$tmp/runs" "$(realpath "$weights")" "$(realpath "$pneu")"; printf '[output]\ncheckpoint_every = 5\n'; } >"$tmp/r.ini"
R=$tmp/runs
"$movl" train "$tmp/r.ini" -s experiment.name=ref --no-self-test >"$tmp/ref.log" 2>&1 ||
  { tail -3 "$tmp/ref.log"; echo "FAIL: the reference run"; exit 1; }

# wait_for FILE PATTERN: until FILE has a line matching PATTERN (at most 60 s)
wait_for() {
  for _ in $(seq 1200); do
    grep -q -- "$2" "$1" 2>/dev/null && return 0
    sleep 0.05
  done
  return 1
}
same_model() { cmp -s "$R/ref/model.safetensors" "$R/$1/model.safetensors"; }

echo "== 1. two trainers on one run folder"
"$movl" train "$tmp/r.ini" -s experiment.name=a --no-self-test >"$tmp/a.log" 2>&1 &
pid=$!
wait_for "$tmp/a.log" '^run directory' || bad "run a never started"
out=$("$movl" train --resume "$R/a" --no-self-test 2>&1)
rc=$?
if kill -0 $pid 2>/dev/null; then
  check "resume of a run being trained: exit 75 ($rc), one line naming the folder and the holder: $out" \
    bash -c "[ $rc = 75 ] && [ \$(wc -l <<<\"\$1\") = 1 ] &&
      grep -q \"^movl train: $R/a: another movl train is using this run folder ($R/a/train.lock: held by another movl process (pid $pid))\" <<<\"\$1\"" _ "$out"
else
  echo "  (run a finished before the second trainer started: the check of exit 75 is void this time)"
fi
wait $pid
check "run a: finished (exit $?)" test -f "$R/a/summary.json"
check "run a: model byte-identical to the uninterrupted run's" same_model a

# a run killed half way, then two resumes at once
"$movl" train "$tmp/r.ini" -s experiment.name=b --no-self-test >"$tmp/b.log" 2>&1 &
pid=$!
wait_for "$tmp/b.log" '^movl epoch 1/2 step' || bad "run b never reached its joint stage"
kill -KILL $pid
wait $pid 2>/dev/null
"$movl" train --resume "$R/b" --no-self-test >"$tmp/b1.log" 2>&1 &
p1=$!
"$movl" train --resume "$R/b" --no-self-test >"$tmp/b2.log" 2>&1 &
p2=$!
wait $p1
r1=$?
wait $p2
r2=$?
codes="$r1 $r2"
check "two resumes at once: one exits 0, the other 75 or 2 (exits: $codes)" \
  bash -c "[ '$codes' = '0 75' ] || [ '$codes' = '75 0' ] || [ '$codes' = '0 2' ] || [ '$codes' = '2 0' ]"
check "run b: model byte-identical to the uninterrupted run's" same_model b
check "run b: no file half-written, no temporary left" bash -c "$PY tests/run_files.py whole '$R/b' &&
  ! ls '$R/b' | grep -q '\.tmp\.'"

echo "== 2. two trainers of one experiment name"
"$movl" train "$tmp/r.ini" -s experiment.name=c --no-self-test >"$tmp/c1.log" 2>&1 &
p1=$!
"$movl" train "$tmp/r.ini" -s experiment.name=c --no-self-test >"$tmp/c2.log" 2>&1 &
p2=$!
wait $p1
r1=$?
wait $p2
r2=$?
check "both exit 0 ($r1 $r2)" [ "$r1 $r2" = "0 0" ]
check "two run folders c and c-2, each named in one log" bash -c "cat '$tmp/c1.log' '$tmp/c2.log' |
  grep '^run directory' | sort | tr '\n' ' ' | grep -qx 'run directory: $R/c run directory: $R/c-2 '"
check "c and c-2: models byte-identical to the uninterrupted run's" bash -c "cmp -s '$R/ref/model.safetensors' \
  '$R/c/model.safetensors' && cmp -s '$R/ref/model.safetensors' '$R/c-2/model.safetensors'"

echo "== 3. two sweeps on one folder"
{
  sed -e '/^\[output\]/,$d' -e 's/^max_train = 96/max_train = 48/' "$tmp/r.ini"
  printf '[sweep]\nloss.lambda = 0, 0.5\nexperiment.seed = 1, 2\n'
} >"$tmp/sw.ini"
"$movl" sweep "$tmp/sw.ini" --out "$tmp/sw" --devices 0 >"$tmp/sw1.log" 2>&1 &
p1=$!
"$movl" sweep "$tmp/sw.ini" --out "$tmp/sw" --devices 0 >"$tmp/sw2.log" 2>&1 &
p2=$!
wait $p1
r1=$?
wait $p2
r2=$?
check "both sweeps exit 0 ($r1 $r2): $(tail -1 "$tmp/sw1.log") / $(tail -1 "$tmp/sw2.log")" [ "$r1 $r2" = "0 0" ]
check "4 points complete" test "$(ls "$tmp"/sw/*/summary.json 2>/dev/null | wc -l)" = 4
check "every point trained once (one 'run directory' line in its log)" bash -c "for l in '$tmp'/sw/logs/*.log; do
  [ \$(grep -c '^run directory' \"\$l\") = 1 ] || { echo \"  \$l\"; exit 1; }; done"
check "results.csv: 4 points done" bash -c "[ \$(grep -c ',done,' '$tmp/sw/results.csv') = 4 ] ||
  [ \$($PY -c \"import csv,sys; print(sum(r['status'] == 'done' for r in csv.DictReader(open(sys.argv[1]))))\" \
    '$tmp/sw/results.csv') = 4 ]"
check "sweep folder and points: no file half-written, no temporary left" bash -c "$PY tests/run_files.py whole \
  '$tmp/sw' '$tmp'/sw/*/ && ! find '$tmp/sw' -name '*.tmp.*' | grep -q ."

echo "== 4. the program cache filled by 4 processes at once"
export MOVL_CACHE=force MOVL_CACHE_DIR=$tmp/cache
pids=()
for i in 1 2 3 4; do
  "$movl" devices --check -v >"$tmp/cache$i.log" 2>&1 &
  pids+=($!)
done
codes=""
for p in "${pids[@]}"; do
  wait "$p"
  codes="$codes$? "
done
check "4 self-tests at once on an empty cache: all exit 0 ($codes)" [ "$codes" = "0 0 0 0 " ]
n=$(ls "$tmp/cache"/*.clbin 2>/dev/null | wc -l)
check "cache files written ($n), none temporary" bash -c "[ $n -gt 0 ] && ! ls '$tmp/cache' | grep -q '\.tmp\.'"
check "every cache file whole: magic, then a length the file holds" "$PY" - "$tmp/cache" <<'EOF'
import os, struct, sys
d = sys.argv[1]
for name in os.listdir(d):
    data = open(os.path.join(d, name), "rb").read()
    n = struct.unpack("<Q", data[8:16])[0]
    assert data[:8] == b"MOVLBIN1", name
    assert len(data) == 16 + n, (name, len(data), n)
EOF
"$movl" devices --check -v >"$tmp/cache5.log" 2>&1
check "a fifth process: every program a cache hit ($(grep -c 'cache hit' "$tmp/cache5.log") hits)" \
  bash -c "grep -q 'cache hit' '$tmp/cache5.log' && ! grep -q 'cache miss' '$tmp/cache5.log'"
unset MOVL_CACHE MOVL_CACHE_DIR

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
