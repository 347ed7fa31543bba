#!/usr/bin/env bash
# movl vs PyTorch-CPU on the same computation, side by side in one run.
#   tools/bench_compare.sh ARCH [BATCH] [SIZE] [ITERS]
# Threads: PyTorch gets as many threads as this machine has cores ($(nproc)),
# which is what PoCL uses. Prints both results and the ratio movl/PyTorch.
set -euo pipefail
cd "$(dirname "$0")/.."
arch=${1:?usage: tools/bench_compare.sh ARCH [BATCH] [SIZE] [ITERS]}
batch=${2:-32}
size=${3:-224}
iters=${4:-3}
threads=$(nproc)
export PYTHONPATH="$PWD/.deps/python${PYTHONPATH:+:$PYTHONPATH}"
m=$(build/movl bench --arch "$arch" --batch "$batch" --size "$size" --iters "$iters" --json)
t=$(OMP_NUM_THREADS=$threads /usr/bin/python3 tools/bench_torch.py --arch "$arch" --batch "$batch" --size "$size" \
      --iters "$iters" --threads "$threads" --json)
/usr/bin/python3 - "$m" "$t" <<'PY'
import json, sys
doc, t = json.loads(sys.argv[1]), json.loads(sys.argv[2])
dev = doc['devices'][0]  # movl bench --json: one entry per device, one run per encoder and batch
m = dev['runs'][0]
print(f"{m['arch']}, batch {m['batch']}, {m['size']}x{m['size']}")
peak = dev['peak']
print(f"  movl on {dev['name']} (measured peaks {peak['gflop_s']:.0f} GFLOP/s, {peak['gb_s']:.1f} GB/s):")
print(f"    forward {m['forward_img_s']:.2f} img/s, training step {m['train_step_img_s']:.2f} img/s, "
      f"device memory {m['device_bytes'] / 2**20:.0f} MiB")
print(f"  {t['framework']} ({t['threads']} threads): forward {t['forward_img_s']:.2f} img/s, "
      f"training step {t['train_step_img_s']:.2f} img/s")
print(f"  ratio movl/pytorch: forward {m['forward_img_s'] / t['forward_img_s']:.2f}, "
      f"training step {m['train_step_img_s'] / t['train_step_img_s']:.2f}")
PY
