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
expect 2 "fake.png: not a PNG, JPEG or DICOM file" "$movl" classify --arch resnet18 --weights "$tmp/w" "$tmp/fake.png"
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

# movl report --group: runs grouped over seeds per dataset and size, one row per method variant.
# Three lp seeds on pneumonia (ACC 0.80/0.82/0.84: mean 0.820, sample std 0.020, Student t
# t(0.975, 2) = 4.3027 -> half width 4.3027 * 0.020 / sqrt(3) = 0.0497; AUC 0.90/0.91/0.95:
# 0.920 ± 0.026 [0.854, 0.986]; shift ACC 0.70/0.72/0.74, shift AUC only in two: 0.80/0.90),
# one movl seed (kl, from its config.ini) that shows its bootstrap interval, one breast run.
accs=(0 0.80 0.82 0.84) aucs=(0 0.90 0.91 0.95) saccs=(0 0.70 0.72 0.74) saucs=(0 0.80 null 0.90)
for i in 1 2 3; do
  mkdir -p "$tmp/g/lp$i"
  cat >"$tmp/g/lp$i/summary.json" <<EOF
{"method": "lp", "data": "/x/data/medmnist/pneumoniamnist.npz", "size": 64, "seed": $i, "trainable_params": 2562,
 "train_seconds": $((10 * i)), "test": {"acc": ${accs[$i]}, "auc": ${aucs[$i]}, "acc_ci": [0.5, 0.9], "auc_ci": [0.6, 0.99]},
 "shift": {"mean_acc": ${saccs[$i]}, "mean_auc": ${saucs[$i]}}}
EOF
done
mkdir -p "$tmp/g/kl" "$tmp/g/breast"
cat >"$tmp/g/kl/summary.json" <<'EOF'
{"method": "movl", "data": "data/medmnist/pneumoniamnist.npz", "size": 64, "seed": 1, "trainable_params": 3842,
 "train_seconds": 50, "test": {"acc": 0.8461538, "auc": 0.9312, "acc_ci": [0.818, 0.8733], "auc_ci": [0.911, 0.94991]}}
EOF
printf '[encoder]\narch = efficientnet_lite0\nweights = %s/none.safetensors\n[data]\npath = %s/none.npz\n[train]\nmethod = movl\n[loss]\ndiscrepancy = kl\n' "$tmp" "$tmp" >"$tmp/g/kl/config.ini"
sed 's/pneumoniamnist/breastmnist/' "$tmp/g/lp1/summary.json" >"$tmp/g/breast/summary.json"
g=("$tmp/g/lp1" "$tmp/g/kl" "$tmp/g/lp2" "$tmp/g/breast" "$tmp/g/lp3")
expect 0 '### pneumoniamnist, 64 px' "$movl" report --group "${g[@]}"
expect 0 '\| method \| seeds \| test ACC \[95 % CI\] \| test AUC \[95 % CI\] \| shift ACC \| shift AUC \| trainable parameters \| training time \|' \
  "$movl" report --group "${g[@]}"
expect 0 '\| lp \| 3 \| 0\.820 ± 0\.020 \[0\.770, 0\.870\] \| 0\.920 ± 0\.026 \[0\.854, 0\.986\] \| 0\.720 ± 0\.020 \| 0\.850 ± 0\.071 \| 2562 \| 20\.0 s \|' \
  "$movl" report --group "${g[@]}"
expect 0 '\| movl \(kl\) \| 1 \| 0\.846 \[0\.818, 0\.873\] \| 0\.931 \[0\.911, 0\.950\] \| n/a \| n/a \| 3842 \| 50\.0 s \|' \
  "$movl" report --group "${g[@]}"
expect 0 '\| lp \| 1 \| 0\.800 \[0\.500, 0\.900\] \| 0\.900 \[0\.600, 0\.990\] \| 0\.700 \| 0\.800 \| 2562 \| 10\.0 s \|' \
  "$movl" report --group "${g[@]}"
order=$("$movl" report --group "${g[@]}" | grep -E '^(###|\| (lp|movl))' | cut -d'|' -f1-3 | tr '\n' ';')
check "report --group: pneumonia's table (lp, then movl (kl)) first, then breast's" test "$order" = \
  "### pneumoniamnist, 64 px;| lp | 3 ;| movl (kl) | 1 ;### breastmnist, 64 px;| lp | 1 ;"
expect 0 '^pneumoniamnist,64,lp,3,0\.82,0\.02,0\.770' "$movl" report --group --csv "${g[@]}"
check "report --group --csv: a header and one line per row" test "$("$movl" report --group --csv "${g[@]}" | wc -l)" = 4
printf '[encoder]\narch = efficientnet_lite0\nweights = w\n[data]\npath = p\n[train]\nmethod = lp\nhead_lr = 0.01\n' >"$tmp/g/lp1/config.ini"
sed 's/0.01/0.1/' "$tmp/g/lp1/config.ini" >"$tmp/g/lp2/config.ini"
expect 0 "note: .*lp1 and .*lp2 differ in more than the seed" "$movl" report --group "${g[@]}"
expect 2 "no summary.json" "$movl" report --group "$tmp/g/lp1" "$tmp/nowhere"
expect 2 "unknown option '--bogus'" "$movl" report --group --bogus "$tmp/g/lp1"
expect 2 "usage: movl report" "$movl" report --csv "$tmp/g/lp1"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
