#!/usr/bin/env bash
# `movl shift` on real MedMNIST files: the corrupted npz keeps keys, dtypes,
# shapes and labels (checked with numpy) and loads in movl; same seed, same
# bytes; another seed, other noise; the grid picture; bad input exits 2 with
# one line and writes nothing. With the medmnistc package in $MOVL_MEDMNISTC
# (default /tmp/mc; `python3 -m pip install --no-deps --target /tmp/mc
# medmnistc`) the deterministic corruptions are compared with it too.
# Usage: shift_cli_test.sh PATH/TO/movl   (from the repository root)
set -u
movl=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pneu=data/medmnist/pneumoniamnist.npz breast=data/medmnist/breastmnist.npz retina=data/medmnist/retinamnist.npz
for f in "$pneu" "$breast" "$retina"; do
  [ -f "$f" ] || { echo "$f missing (tools/setup.sh fetches it): skipped"; exit 77; }
done
PY=/usr/bin/python3
"$PY" -c 'import numpy' 2>/dev/null || { echo "python3 with numpy missing: skipped"; exit 77; }
source "$(dirname "${BASH_SOURCE[0]}")/check_lib.sh"

# same keys, dtypes, shapes, labels; images changed in every split
same_layout() {
  "$PY" - "$1" "$2" <<'PYEOF'
import sys, numpy as np
a, b = np.load(sys.argv[1]), np.load(sys.argv[2])
assert sorted(a.files) == sorted(b.files), (a.files, b.files)
for k in a.files:
    assert a[k].dtype == b[k].dtype and a[k].shape == b[k].shape, k
    if k.endswith('_labels'):
        assert (a[k] == b[k]).all(), k
    else:
        assert (a[k] != b[k]).any(), k + ' unchanged'
PYEOF
}

for spec in "$pneu gaussian_noise:3" "$breast speckle_noise:5" "$retina jpeg:2" "$retina motion_blur:4" "$pneu pixelate:5"; do
  set -- $spec
  out="$tmp/$(basename "$1" .npz)_${2/:/_}.npz"
  check "movl shift $1 --corrupt $2" "$movl" shift "$1" --out "$out" --corrupt "$2"
  check "layout of $out (numpy)" same_layout "$1" "$out"
  # movl reads it back (the grid loads the dataset with movl's npz loader)
  check "movl loads $out" "$movl" shift "$out" --grid "$tmp/back.png" --corrupt jpeg:1
done
"$movl" shift "$pneu" --out "$tmp/n1.npz" --corrupt shot_noise:4 --seed 3 >/dev/null
"$movl" shift "$pneu" --out "$tmp/n2.npz" --corrupt shot_noise:4 --seed 3 >/dev/null
"$movl" shift "$pneu" --out "$tmp/n3.npz" --corrupt shot_noise:4 --seed 4 >/dev/null
check "same seed, same bytes" cmp -s "$tmp/n1.npz" "$tmp/n2.npz"
if cmp -s "$tmp/n1.npz" "$tmp/n3.npz"; then bad "another seed gave the same noise"; else ok; fi

# the grid: 13 X-ray rows x 6 columns of 28 px images enlarged to 112 px (+ labels)
expect 0 "wrote $tmp/g.png: 13 corruptions x severities 0..5 of test image 5" \
  "$movl" shift "$pneu" --grid "$tmp/g.png" --index 5
check "grid size" "$PY" -c "
import struct, sys
d = open('$tmp/g.png', 'rb').read(24)
w, h = struct.unpack('>II', d[16:24])
sys.exit(0 if (w, h) == (150 + 6 * 116 + 4, 28 + 13 * 116 + 4) else 1)"
expect 0 "2 corruptions" "$movl" shift "$retina" --grid "$tmp/g2.png" --corrupt jpeg:1,defocus_blur --split val

# bad input: exit 2, one line, nothing written
expect 2 "--corrupt fog:2: item 'fog:2': unknown corruption 'fog' \(valid: all, pixelate, jpeg," \
  "$movl" shift "$pneu" --out "$tmp/bad.npz" --corrupt fog:2
expect 2 "item 'jpeg:6': severity '6' is not one of 1..5" "$movl" shift "$pneu" --out "$tmp/bad.npz" --corrupt jpeg:6
expect 2 "--corrupt jpeg: expected one NAME:SEVERITY" "$movl" shift "$pneu" --out "$tmp/bad.npz" --corrupt jpeg
expect 2 "nowhere.npz: cannot open as an .npz" "$movl" shift "$tmp/nowhere.npz" --out "$tmp/bad.npz" --corrupt jpeg:1
expect 2 "give one of --out and --grid" "$movl" shift "$pneu" --out "$tmp/bad.npz" --grid "$tmp/bad.png"
expect 2 "--modality 'mri' is not one of" "$movl" shift "$pneu" --out "$tmp/bad.npz" --corrupt jpeg:1 --modality mri
expect 2 "--index 9999 is outside split 'test' \(624 images\)" "$movl" shift "$pneu" --grid "$tmp/bad.png" --index 9999
head -c 1000 "$pneu" >"$tmp/trunc.npz"
expect 2 "trunc.npz: cannot open as an .npz" "$movl" shift "$tmp/trunc.npz" --out "$tmp/bad.npz" --corrupt jpeg:1
left=$(ls "$tmp" | grep -E '^bad\.|\.tmp\.' || true)
[ -z "$left" ] && ok || bad "bad input left files: $left"

# the medmnistc reference, where installed
mc=${MOVL_MEDMNISTC:-/tmp/mc}
if [ -f "$mc/medmnistc/corruptions/compression.py" ] && "$PY" -c 'import PIL, torchvision' 2>/dev/null; then
  echo "against medmnistc ($mc):"
  cmp_args=()
  for c in pixelate:1:0.30 pixelate:5:0.10 jpeg:1:50 jpeg:5:7 brightness_up:3:1.6 contrast_down:5:0.4; do
    "$movl" shift "$breast" --out "$tmp/ref_${c%:*}.npz" --corrupt "${c%:*}" >/dev/null
    cmp_args+=("$c=$tmp/ref_${c%:*}.npz")
  done
  check "breastmnist vs medmnistc" "$PY" tests/shift/medmnistc_compare.py "$mc" "$breast" 0 "${cmp_args[@]}"
  cmp_args=()
  for c in pixelate:2:0.6 jpeg:5:5 brightness_down:4:0.6 contrast_down:3:0.7; do
    "$movl" shift "$retina" --out "$tmp/ref_${c%:*}.npz" --corrupt "${c%:*}" >/dev/null
    cmp_args+=("$c=$tmp/ref_${c%:*}.npz")
  done
  check "retinamnist vs medmnistc" "$PY" tests/shift/medmnistc_compare.py "$mc" "$retina" 1 "${cmp_args[@]}"
  cmp_args=()
  for c in gamma_up:5:1.6 gamma_down:5:0.4 contrast_up:5:1.6; do
    "$movl" shift "$pneu" --out "$tmp/ref_${c%:*}.npz" --corrupt "${c%:*}" >/dev/null
    cmp_args+=("$c=$tmp/ref_${c%:*}.npz")
  done
  check "pneumoniamnist vs medmnistc" "$PY" tests/shift/medmnistc_compare.py "$mc" "$pneu" 0 "${cmp_args[@]}"
else
  echo "medmnistc not in $mc: reference comparison skipped"
fi

echo "shift cli: $pass passed, $fail failed"
[ "$fail" = 0 ]
