#!/usr/bin/env bash
# The demo: set up (apt packages, build, EfficientNet-Lite0 ImageNet weights),
# then classify real photographs with the frozen encoder on the default
# OpenCL device. Pass --device SEL to pick another device.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
build/movl devices
echo
build/movl -v classify --arch efficientnet_lite0 --weights weights/efficientnet_lite0.safetensors "$@" \
  tests/data/photos/*.png
