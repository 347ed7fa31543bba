#!/usr/bin/env bash
# The demo: set up (apt packages, build, EfficientNet-Lite0 ImageNet weights),
# then adapt the frozen encoder to PneumoniaMNIST twice on the default OpenCL
# device, with a linear probe (LP) and with MoVL (prompt + probe, joint loss),
# and print a comparison table. Extra arguments go to both runs, e.g.
#   tools/demo.sh --device gpu
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
build/movl devices
dirs=()
for method in lp movl; do
  echo
  echo "== $method =="
  out=$(mktemp)
  build/movl train configs/demo.ini -s train.method=$method -s experiment.name=demo_$method "$@" | tee "$out"
  dirs+=("$(sed -n 's/^run directory: //p' "$out")")
  rm -f "$out"
done
echo
build/movl report "${dirs[@]}"
