#!/usr/bin/env bash
# The PyTorch end-to-end peer (tools/train_torch.py) and the side-by-side
# timing (tools/bench_e2e_compare.sh) on a tiny MoVL run: both sides finish,
# the tables carry both walls, metrics and time splits; the peer refuses what
# it does not implement with exit 2 and a message naming the key. Asserts no
# timing. About 20 s on a 2-core CPU. Skipped (77) without the data, the
# weights, Debian's python3-torch or the efficientnet_lite_pytorch package.
# Usage: e2e_compare_test.sh PATH/TO/movl   (from the repository root)
set -u
movl=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for f in data/medmnist/pneumoniamnist.npz weights/efficientnet_lite0.safetensors; do
  [ -f "$f" ] || { echo "$f missing (tools/setup.sh fetches it): skipped"; exit 77; }
done
/usr/bin/python3 -c 'import torch, numpy' 2>/dev/null || { echo "no python3-torch: skipped"; exit 77; }
PYTHONPATH="$PWD/.deps/python" /usr/bin/python3 -c 'import efficientnet_lite_pytorch' 2>/dev/null ||
  { echo "no efficientnet_lite_pytorch (tools/setup.sh --test): skipped"; exit 77; }
source "$(dirname "${BASH_SOURCE[0]}")/check_lib.sh"

tiny=(-s data.max_train=48 -s data.max_eval=40 -s train.lp_epochs=2 -s train.epochs=1 -s encoder.size=32
  -s prompt.size=4)
out=$(MOVL="$movl" tools/bench_e2e_compare.sh configs/demo.ini "${tiny[@]}" -n 1 --torch-threads 1 --keep "$tmp/k" 2>&1)
rc=$?
check "bench_e2e_compare: exit 0 ($rc)" test "$rc" = 0
check "wall table: repeat 1, min and median rows with a ratio" bash -c '
  grep -Eq "^\| 1 \| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \|$" <<<"$1" && grep -Eq "^\| min \| " <<<"$1" &&
  grep -Eq "^\| median \| " <<<"$1"' _ "$out"
check "metrics of both sides" bash -c '
  grep -Eq "^\| movl \| 0\.[0-9]{4} \| 0\.[0-9]{4} \| " <<<"$1" && grep -Eq "^\| PyTorch \| 0\.[0-9]{4} \| 0\.[0-9]{4} \| " <<<"$1"' _ "$out"
check "time split of both sides" bash -c '
  for p in setup dataset cache data steps val test output; do grep -Eq "^\| $p \| [0-9.]+ \| [0-9.]+ \|$" <<<"$1" || exit 1; done
  grep -Eq "^\| checkpoint \| [0-9.]+ \| - \|$" <<<"$1"' _ "$out"
check "the peer ran movl's resolved config (same trainable parameters: 2562 probe + 12 * 4 * 28 prompt)" bash -c '
  [ "$(grep -Ec "^\| (movl|PyTorch) \| .* \| 3906 \|$" <<<"$1")" = 2 ]' _ "$out"
check "the peer printed its split and test metrics" grep -Eq '^test: acc 0\.[0-9]{4}, auc 0\.[0-9]{4}' "$tmp/k/torch_1.log"
[ "$fail" = 0 ] || echo "$out"

peer() { PYTHONPATH="$PWD/.deps/python" /usr/bin/python3 tools/train_torch.py "$@"; }
expect 2 "train.method = ff is not supported by the PyTorch peer" peer configs/demo.ini -s train.method=ff
expect 2 "prompt.type = patch is not supported by the PyTorch peer" peer configs/demo.ini -s prompt.type=patch
expect 2 "key train.bogus is not one the PyTorch peer supports" peer configs/demo.ini -s train.bogus=1
expect 2 "nowhere.ini: cannot read it" peer "$tmp/nowhere.ini"
expect 2 "\-n 0: not a positive count" tools/bench_e2e_compare.sh configs/demo.ini -n 0

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
