#!/usr/bin/env bash
# Command-line behaviour of the movl binary: exit codes and one-line errors.
# Usage: cli_test.sh PATH/TO/movl
set -u
movl=$1
source "$(dirname "${BASH_SOURCE[0]}")/check_lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

expect 0 "Platform #0" "$movl" devices
expect 0 '"selector":' "$movl" devices --json
expect 2 "unknown option '--bogus'" "$movl" devices --bogus
expect 2 "unknown command 'frobnicate'" "$movl" frobnicate
expect 0 "usage: movl" "$movl" --help

# No OpenCL platform at all: the ICD loader finds no vendor file.
mkdir -p "$tmp/empty-vendors"
expect 2 "no OpenCL platform.*|Checklist" env OCL_ICD_VENDORS="$tmp/empty-vendors" "$movl" devices
expect 2 "Checklist" env OCL_ICD_VENDORS="$tmp/empty-vendors" "$movl" devices

# A valid 8x8 RGB PNG, so that later checks reach the device and weights.
base64 -d >"$tmp/x.png" <<<'iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAIAAABLbSncAAAAf0lEQVR4nA3JIQEAMQhAUWJMTROCENPoH4Ik04QgBHpJiHD37BMRtmCCCyFcoYQniChbMcWVUK5SytM/DvtgBz/E4R7q8M4fwQ4s8CCCG1Tw4o9kJ5Z4EslNKnn5R7Mba7yJ5jbVvP5j2IMNPsRwhxre/LHYC1v4IhZ3UYu3+AC5/U5BlouRygAAAABJRU5ErkJggg=='

# Device selection errors name the selector and what was expected.
expect 2 "MOVL_DEVICE 'no-such-device' matches no OpenCL device" env MOVL_DEVICE=no-such-device \
  "$movl" classify --arch resnet18 --weights "$tmp/none.safetensors" "$tmp/x.png"
expect 2 "--device '7:3' matches no OpenCL device" \
  "$movl" classify --device 7:3 --arch resnet18 --weights "$tmp/none.safetensors" "$tmp/x.png"

# Bad images: missing, not a PNG, truncated.
printf 'not a png at all' >"$tmp/fake.png"
expect 2 "fake.png: not a PNG file" "$movl" classify --arch resnet18 --weights "$tmp/w" "$tmp/fake.png"
expect 2 "missing.png: cannot open image" "$movl" classify --arch resnet18 --weights "$tmp/w" "$tmp/missing.png"
if [ -f tests/data/photos/README.md ]; then
  first=$(ls tests/data/photos/*.png | head -1)
  head -c 2000 "$first" >"$tmp/cut.png"
  expect 2 "cut.png: corrupt or truncated PNG" "$movl" classify --arch resnet18 --weights "$tmp/w" "$tmp/cut.png"
fi
expect 2 "none.safetensors" "$movl" classify --arch resnet18 --weights "$tmp/none.safetensors" "$tmp/x.png"
expect 2 "unknown --arch" "$movl" classify --arch vgg16 --weights "$tmp/w" "$tmp/x.png"
expect 2 "--arch must be one of" "$movl" bench --arch nope

# Driver self-test: passes on a working device; each deliberately wrong
# kernel (test-only fault switch) is caught, named, and exits 3.
expect 0 ": ok, conv, conv gradient, GEMM, softmax: max relative error" "$movl" devices --check
expect 0 '"self_test":' "$movl" devices --check --json
expect 3 "failed the self-test: conv forward differs from the C reference" env MOVL_SELFTEST_FAULT=conv "$movl" devices --check
expect 3 "failed the self-test: conv backward to the input differs" env MOVL_SELFTEST_FAULT=conv_grad "$movl" devices --check
expect 3 "failed the self-test: GEMM differs" env MOVL_SELFTEST_FAULT=gemm "$movl" devices --check
expect 3 "failed the self-test: softmax cross-entropy differs" env MOVL_SELFTEST_FAULT=softmax "$movl" devices --check
expect 3 '"ok":[[:space:]]*false' env MOVL_SELFTEST_FAULT=gemm "$movl" devices --check --json

# movl report: test ACC and AUC with their 95 % intervals and ECE from summary.json; a summary
# written before the intervals existed (no acc_ci, auc null) still prints, without intervals.
mkdir -p "$tmp/run_ci" "$tmp/run_old"
cat >"$tmp/run_ci/summary.json" <<'EOF'
{"method": "lp", "trainable_params": 2562, "train_seconds": 12.34,
 "test": {"n": 624, "acc": 0.8461538, "auc": 0.9312, "acc_ci": [0.818, 0.8733], "auc_ci": [0.911, 0.94991],
          "ece": 0.0412, "bootstrap": {"resamples": 1000, "seed": 0, "skipped": 0}}}
EOF
cat >"$tmp/run_old/summary.json" <<'EOF'
{"method": "movl", "trainable_params": 7938, "train_seconds": 100, "test": {"n": 624, "acc": 0.8, "auc": null}}
EOF
expect 0 '\| test ACC \[95 % CI\] \| test AUC \[95 % CI\] \| test ECE \|' "$movl" report "$tmp/run_ci"
expect 0 '\| lp \| 0\.846 \[0\.818, 0\.873\] \| 0\.931 \[0\.911, 0\.950\] \| 0\.041 \| 2562 \| 12\.3 s \|' \
  "$movl" report "$tmp/run_ci"
expect 0 '\| movl \| 0\.800 \| n/a \| n/a \| 7938 \| 100\.0 s \|' "$movl" report "$tmp/run_old"
expect 2 "no summary.json" "$movl" report "$tmp/run_ci" "$tmp/nowhere"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
