#!/usr/bin/env bash
# movl vs PyTorch-CPU on the same computation, side by side in one run.
#   tools/bench_compare.sh ARCH [BATCH] [SIZE] [ITERS]
#   tools/bench_compare.sh --table [--repeat N] [--iters K]
# The first form times one row and prints both results and the ratio
# movl/PyTorch. --table times every row of docs/PERFORMANCE.md's table
# (ResNet-18/50 and EfficientNet-Lite0 at 64, 128 and 224 px), each N times
# (default 3), movl and PyTorch alternating, and prints a Markdown table of
# the medians and of the ratio's min/median over the repeats.
# Threads: PyTorch gets as many threads as this machine has cores ($(nproc)),
# which is what PoCL uses.
set -euo pipefail
cd "$(dirname "$0")/.."
threads=$(nproc)
export PYTHONPATH="$PWD/.deps/python${PYTHONPATH:+:$PYTHONPATH}"

# One measurement of ARCH BATCH SIZE ITERS: a line "movl_fwd movl_step torch_fwd torch_step".
measure() {
  local m t
  m=$(build/movl bench --arch "$1" --batch "$2" --size "$3" --iters "$4" --no-self-test --json)
  t=$(OMP_NUM_THREADS=$threads /usr/bin/python3 tools/bench_torch.py --arch "$1" --batch "$2" --size "$3" \
        --iters "$4" --threads "$threads" --json)
  /usr/bin/python3 -c '
import json, sys
m = json.loads(sys.argv[1])["devices"][0]["runs"][0]
t = json.loads(sys.argv[2])
print(m["forward_img_s"], m["train_step_img_s"], t["forward_img_s"], t["train_step_img_s"])' "$m" "$t"
}

if [ "${1:-}" = --table ]; then
  shift
  repeat=3 iters=3
  while [ $# -gt 0 ]; do
    case $1 in
      --repeat) repeat=${2:?--repeat N}; shift ;;
      --iters) iters=${2:?--iters K}; shift ;;
      *) echo "tools/bench_compare.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
    shift
  done
  rows=("resnet18 32 224" "resnet50 16 224" "resnet18 32 128" "resnet18 32 64"
        "efficientnet_lite0 32 224" "efficientnet_lite0 32 128" "efficientnet_lite0 32 64")
  out=$(mktemp)
  trap 'rm -f "$out"' EXIT
  echo "# $(lscpu | sed -n 's/^Model name: *//p'), $threads cores; $(uptime | sed 's/.*load/load/')" >&2
  for row in "${rows[@]}"; do
    for ((r = 0; r < repeat; r++)); do
      # shellcheck disable=SC2086
      echo "$row $(measure $row "$iters")" >>"$out"
      echo "  $row: repeat $((r + 1))/$repeat done" >&2
    done
  done
  echo "# after: $(uptime | sed 's/.*load/load/')" >&2
  /usr/bin/python3 - "$out" <<'PY'
import statistics as st, sys
rows = {}
for line in open(sys.argv[1]):
    a, b, s, mf, ms, tf, ts = line.split()
    rows.setdefault((a, int(b), int(s)), []).append(tuple(map(float, (mf, ms, tf, ts))))
print("| encoder, batch, size | movl forward img/s | PyTorch forward img/s | forward movl/torch min / median "
      "| movl step img/s | PyTorch step img/s | step movl/torch min / median |")
print("|---|---:|---:|---:|---:|---:|---:|")
for (a, b, s), runs in rows.items():
    med = [st.median(r[i] for r in runs) for i in range(4)]
    rf = [r[0] / r[2] for r in runs]
    rs = [r[1] / r[3] for r in runs]
    print(f"| {a}, {b}, {s} | {med[0]:.1f} | {med[2]:.1f} | {min(rf):.2f} / {st.median(rf):.2f} "
          f"| {med[1]:.1f} | {med[3]:.1f} | {min(rs):.2f} / {st.median(rs):.2f} |")
print(f"\n{len(next(iter(rows.values())))} repeats per row, movl and PyTorch alternating; medians of img/s.")
PY
  exit 0
fi

arch=${1:?usage: tools/bench_compare.sh ARCH [BATCH] [SIZE] [ITERS] | --table [--repeat N] [--iters K]}
batch=${2:-32}
size=${3:-224}
iters=${4:-3}
read -r mf ms tf ts < <(measure "$arch" "$batch" "$size" "$iters")
/usr/bin/python3 - "$arch" "$batch" "$size" "$mf" "$ms" "$tf" "$ts" <<'PY'
import sys
a, b, s = sys.argv[1:4]
mf, ms, tf, ts = map(float, sys.argv[4:])
print(f"{a}, batch {b}, {s}x{s}")
print(f"  movl: forward {mf:.2f} img/s, training step {ms:.2f} img/s")
print(f"  pytorch ({__import__('os').cpu_count()} threads): forward {tf:.2f} img/s, training step {ts:.2f} img/s")
print(f"  ratio movl/pytorch: forward {mf / tf:.2f}, training step {ms / ts:.2f}")
PY
