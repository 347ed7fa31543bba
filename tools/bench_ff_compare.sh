#!/usr/bin/env bash
# Full fine-tuning step, movl vs PyTorch-CPU, side by side in one run.
#   tools/bench_ff_compare.sh ARCH [BATCH] [SIZE] [ITERS] [THREADS]
# movl: `movl bench --ff` (PoCL uses every core); PyTorch: tools/bench_torch.py --ff with THREADS
# threads (default: this machine's cores). Prints both results, the ratio movl/PyTorch of the
# median steps, and where movl's step goes (profiling markers and per-layer events).
set -euo pipefail
cd "$(dirname "$0")/.."
arch=${1:?usage: tools/bench_ff_compare.sh ARCH [BATCH] [SIZE] [ITERS] [THREADS]}
batch=${2:-32}
size=${3:-224}
iters=${4:-5}
threads=${5:-$(nproc)}
export PYTHONPATH="$PWD/.deps/python${PYTHONPATH:+:$PYTHONPATH}"
m=$(build/movl bench --ff --no-self-test --arch "$arch" --batch "$batch" --size "$size" --iters "$iters" --json)
t=$(OMP_NUM_THREADS=$threads /usr/bin/python3 tools/bench_torch.py --ff --arch "$arch" --batch "$batch" \
      --size "$size" --iters "$iters" --threads "$threads" --json)
/usr/bin/python3 - "$m" "$t" <<'PY'
import json, sys
doc, t = json.loads(sys.argv[1]), json.loads(sys.argv[2])
dev = doc['devices'][0]
r = dev['runs'][0]
f = r['full_finetune']
mib = 2**20
print(f"{r['arch']}, batch {r['batch']}, {r['size']}x{r['size']}, full fine-tuning step, {f['repeats']} repeats")
print(f"  movl on {dev['name']}: {f['img_s']:.2f} img/s, ms/step min {f['step_ms_min']:.1f} median "
      f"{f['step_ms_median']:.1f}; device memory {f['device_bytes'] / mib:.0f} MiB (weights + gradients + Adam "
      f"{f['param_state_bytes'] / mib:.0f}, activations and the rest {f['other_bytes'] / mib:.0f})")
print(f"  {t['framework']} ({t['threads']} threads): {t['ff_img_s']:.2f} img/s, ms/step min "
      f"{t['ff_step_ms_min']:.1f} median {t['ff_step_ms_median']:.1f}; weights + gradients + Adam "
      f"{t['ff_param_state_bytes'] / mib:.0f} MiB, saved for backward {t['ff_saved_bytes'] / mib:.0f} MiB")
print(f"  ratio movl/pytorch (speed): median {t['ff_step_ms_median'] / f['step_ms_median']:.2f}, "
      f"min {t['ff_step_ms_min'] / f['step_ms_min']:.2f}")
p = f['parts_ms']
bin_ms = sum(o['backward_input_ms'] for o in f['ops'])
wg_ms = sum(o['weight_grad_ms'] for o in f['ops'])
total = sum(p.values())
print("  movl's step, mean ms (share): " + ", ".join(
    f"{k} {v:.0f} ({100 * v / total:.0f}%)" for k, v in
    [("forward", p['forward']), ("probe", p['probe']), ("backward-input", bin_ms), ("weight gradients", wg_ms),
     ("Adam", p['adam']), ("repack", p['repack']), ("probe update", p['probe_update'])]))
kinds = {}
for o in f['ops']:
    k = kinds.setdefault(o['kind'], [0.0, 0.0, 0.0])
    k[0] += o['forward_ms']; k[1] += o['backward_input_ms']; k[2] += o['weight_grad_ms']
print("  per op kind, forward / backward-input / weight gradients ms: " + ", ".join(
    f"{k} {v[0]:.0f}/{v[1]:.0f}/{v[2]:.0f}" for k, v in kinds.items()))
top = sorted(f['ops'], key=lambda o: -o['weight_grad_ms'])[:5]
print("  slowest weight gradients, ms: " + ", ".join(f"{o['name']} {o['weight_grad_ms']:.0f}" for o in top))
PY
