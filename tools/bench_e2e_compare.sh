#!/usr/bin/env bash
# End-to-end timing of one experiment on both sides: `build/movl train` and
# its PyTorch peer (tools/train_torch.py), back to back, REPEATS times, in
# one run, so the ratio is always measured under the same conditions.
#   tools/bench_e2e_compare.sh CONFIG [-s section.key=value ...] [-n REPEATS] [--torch-threads N] [--keep DIR]
#                              [--wait-idle]
# Each repeat runs movl first, then the peer on the resolved config.ini of
# movl's run (every key, movl's defaults filled in, so both run the very same
# settings). Prints the machine's load before and after, each repeat's wall
# time (the whole process, from exec to exit) of both sides and the ratio
# torch / movl, their min and median, the test ACC/AUC of both (not expected
# to be equal: different float paths and data subsets), and the time split of
# both (medians; movl's from summary.json time_split). --wait-idle: before
# each side, wait (up to 10 minutes) until the CPUs were at least 90 % idle
# over 5 s, for shared machines (PyTorch's OpenMP threads slow down many
# times when another process holds a core). A benchmark: it prints
# figures and asserts nothing about them. Runs from the repository root
# (CONFIG's relative paths are relative to it); needs build/movl, Debian's
# /usr/bin/python3 with python3-torch, and the efficientnet_lite_pytorch
# package in .deps/python (tools/setup.sh --test) for EfficientNet-Lite.
set -u
usage() {
  echo "usage: tools/bench_e2e_compare.sh CONFIG [-s section.key=value ...] [-n REPEATS] [--torch-threads N] [--keep DIR] [--wait-idle]" >&2
  exit 2
}
[ $# -ge 1 ] || usage
config=$1
shift
sets=() repeats=1 threads="" keep="" wait=0
while [ $# -gt 0 ]; do
  case $1 in
    -s) [ $# -ge 2 ] || usage; sets+=(-s "$2"); shift 2 ;;
    -n) [ $# -ge 2 ] || usage; repeats=$2; shift 2 ;;
    --torch-threads) [ $# -ge 2 ] || usage; threads=$2; shift 2 ;;
    --keep) [ $# -ge 2 ] || usage; keep=$2; shift 2 ;;
    --wait-idle) wait=1; shift ;;
    *) usage ;;
  esac
done
[[ $repeats =~ ^[1-9][0-9]*$ ]] || { echo "bench_e2e_compare: -n $repeats: not a positive count" >&2; exit 2; }
[ -z "$threads" ] || [[ $threads =~ ^[1-9][0-9]*$ ]] || { echo "bench_e2e_compare: --torch-threads $threads: not a positive count" >&2; exit 2; }
[ -f "$config" ] || { echo "bench_e2e_compare: $config: no such file" >&2; exit 2; }
movl=${MOVL:-build/movl} PY=/usr/bin/python3 # MOVL: another movl binary (the tests pass theirs)
[ -x "$movl" ] || { echo "bench_e2e_compare: $movl missing (tools/setup.sh builds it)" >&2; exit 2; }
"$PY" -c 'import torch, numpy' 2>/dev/null || { echo "bench_e2e_compare: $PY lacks torch/numpy (apt-get install python3-torch)" >&2; exit 2; }
export PYTHONPATH="$PWD/.deps/python${PYTHONPATH:+:$PYTHONPATH}"

if [ -n "$keep" ]; then
  mkdir -p "$keep" || exit 2
  out=$(cd "$keep" && pwd)
else
  out=$(mktemp -d)
  trap 'rm -rf "$out"' EXIT
fi
now() { date +%s.%N; }
# idle_pct SECONDS: the share of CPU time spent idle over the next SECONDS (/proc/stat)
idle_pct() {
  local a b c d e f g h t1 i1
  read -r _ a b c d e f g h _ </proc/stat
  t1=$((a + b + c + d + e + f + g + h)) i1=$((d + e))
  sleep "$1"
  read -r _ a b c d e f g h _ </proc/stat
  echo $((100 * (d + e - i1) / (a + b + c + d + e + f + g + h - t1 + 1)))
}
# wait_idle: with --wait-idle, until an idle 5 s (at most 120 tries); says how idle it found the machine
wait_idle() {
  [ "$wait" = 1 ] || return 0
  local p
  for _ in $(seq 120); do
    p=$(idle_pct 5)
    [ "$p" -ge 90 ] && break
  done
  idle_note="$idle_note $1 after ${p} % idle;"
}
tthreads=()
[ -z "$threads" ] || tthreads=(--threads "$threads")

echo "== $config ${sets[*]:-} ($repeats repeats; $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs)"
echo "load before: $(uptime)"
for i in $(seq "$repeats"); do
  idle_note=""
  wait_idle movl
  t0=$(now)
  if ! "$movl" train "$config" "${sets[@]}" -s experiment.output_dir="$out" -s experiment.name="movl_$i" \
    >"$out/movl_$i.log" 2>&1; then
    echo "bench_e2e_compare: movl train failed (repeat $i):" >&2
    tail -3 "$out/movl_$i.log" >&2
    exit 1
  fi
  t_movl=$(now)
  wait_idle torch
  t1=$(now)
  if ! "$PY" tools/train_torch.py "$out/movl_$i/config.ini" "${tthreads[@]}" --json "$out/torch_$i.json" \
    >"$out/torch_$i.log" 2>&1; then
    echo "bench_e2e_compare: tools/train_torch.py failed (repeat $i):" >&2
    tail -3 "$out/torch_$i.log" >&2
    exit 1
  fi
  t2=$(now)
  echo "$i $t0 $t_movl $t1 $t2" >>"$out/walls.txt"
  echo "  repeat $i: movl $(awk "BEGIN { printf \"%.1f\", $t_movl - $t0 }") s, torch $(awk "BEGIN { printf \"%.1f\", $t2 - $t1 }") s (load $(cut -d' ' -f1-3 /proc/loadavg);$idle_note)"
done
echo "load after: $(uptime)"

"$PY" - "$out" <<'EOF'
import json, statistics, sys
out = sys.argv[1]
rows = [l.split() for l in open(out + "/walls.txt")]
mv = [float(r[2]) - float(r[1]) for r in rows]  # rows: repeat, movl start, movl end, torch start, torch end
pt = [float(r[4]) - float(r[3]) for r in rows]
print()
print("| repeat | movl wall (s) | PyTorch wall (s) | PyTorch / movl |")
print("|---|---:|---:|---:|")
for r, a, b in zip(rows, mv, pt):
    print("| %s | %.1f | %.1f | %.2f |" % (r[0], a, b, b / a))
print("| min | %.1f | %.1f | %.2f |" % (min(mv), min(pt), min(pt) / min(mv)))
md_m, md_t = statistics.median(mv), statistics.median(pt)
print("| median | %.1f | %.1f | %.2f |" % (md_m, md_t, md_t / md_m))
ms = [json.load(open("%s/movl_%s/summary.json" % (out, r[0]))) for r in rows]
ts = [json.load(open("%s/torch_%s.json" % (out, r[0]))) for r in rows]
print()
print("| side | test ACC | test AUC | val ACC | val AUC | selected | trainable parameters |")
print("|---|---:|---:|---:|---:|---|---:|")
for name, s in (("movl", ms[-1]), ("PyTorch", ts[-1])):
    sel = s["selected"]
    print("| %s | %.4f | %.4f | %.4f | %.4f | stage %s epoch %s | %d |" % (name, s["test"]["acc"], s["test"]["auc"],
          s["val"]["acc"], s["val"]["auc"], sel["stage"], sel["epoch"], s["trainable_params"]))
keys = ["setup", "dataset", "cache", "data", "steps", "val", "checkpoint", "test", "shift", "output", "wall"]
print()
print("| phase (median s) | movl | PyTorch |")
print("|---|---:|---:|")
for k in keys:
    a = [s["time_split"].get(k + "_s") for s in ms]
    b = [s["time_split"].get(k + "_s") for s in ts]
    cell = lambda v: "%.2f" % statistics.median(v) if None not in v else "-"
    print("| %s | %s | %s |" % ("in-process wall" if k == "wall" else k, cell(a), cell(b)))
print("| process wall | %.2f | %.2f |" % (md_m, md_t))
EOF
