#!/usr/bin/env bash
# Hospital formats end to end: `movl train` on a class folder of real DICOM files
# (pydicom's CT and MR series: extension-less files found by their preamble, and
# *.dcm), on a folder of JPEGs (PneumoniaMNIST images saved as JPEG by Pillow,
# one with an EXIF orientation) and on a CSV manifest of DICOMs; `movl predict`
# and `movl classify` on those files; the [data] window and dicom_frames keys
# and their bad values.
# Usage: formats_train_test.sh PATH/TO/movl   (from the repository root; PYTHONPATH
# with pydicom, tools/setup.sh --test). About 1 minute on a 2-core CPU.
set -u
movl=$1
PY=/usr/bin/python3
weights=weights/efficientnet_lite0.safetensors pneu=data/medmnist/pneumoniamnist.npz
[ -f "$weights" ] && [ -f "$pneu" ] || { echo "weights or data missing (tools/setup.sh): skipped"; exit 77; }
files=$("$PY" -c 'import os, pydicom; print(os.path.join(os.path.dirname(pydicom.__file__), "data", "test_files"))' \
  2>/dev/null) || { echo "pydicom missing (tools/setup.sh --test): skipped"; exit 77; }
"$PY" -c 'import PIL, numpy' 2>/dev/null || { echo "Pillow/numpy missing: skipped"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
source "$(dirname "${BASH_SOURCE[0]}")/../check_lib.sh"

# ---- a folder of DICOM files: CT against MR ----
dcm=$tmp/dicom
mkdir -p "$dcm/ct" "$dcm/mr"
cp "$files"/dicomdirtests/77654033/CT2/* "$files"/dicomdirtests/98892001/CT2N/* "$files"/dicomdirtests/98892001/CT5N/* "$dcm/ct/"
cp "$files/CT_small.dcm" "$dcm/ct/"
cp "$files"/dicomdirtests/98892003/MR1/* "$files"/dicomdirtests/98892003/MR2/* "$files"/dicomdirtests/98892003/MR700/* "$dcm/mr/"
cp "$files/MR_small.dcm" "$files/MR_small_jp2klossless.dcm" "$files/MR_small_RLE.dcm" "$dcm/mr/"
echo "not an image" >"$dcm/mr/NOTES" # extension-less but not DICOM: skipped, as other files are
n_ct=$(ls "$dcm/ct" | wc -l) n_mr=$(($(ls "$dcm/mr" | wc -l) - 1))
cat >"$tmp/dicom.ini" <<EOF
[encoder]
arch = efficientnet_lite0
weights = $weights
size = 64
[data]
path = $dcm
val_fraction = 0.2
test_fraction = 0.2
window = minmax
[train]
method = lp
lp_epochs = 60
batch_size = 8
head_optimizer = adam
head_lr = 0.01
[experiment]
output_dir = $tmp/runs/dicom
EOF
out=$("$movl" train "$tmp/dicom.ini" 2>&1)
rc=$?
check "train on a DICOM folder exits 0 ($(tail -1 <<<"$out"))" test $rc = 0
# total: the sum of the summary's total row (train + val + test)
total() { awk '$1 == "total" {print $2 + $3 + $4; exit}'; }
check "the summary counts $((n_ct + n_mr)) DICOM images in 2 classes" test "$(total <<<"$out")" = $((n_ct + n_mr))
"$movl" predict "$tmp/runs/dicom/dicom" "$dcm"/ct/* "$dcm"/mr/[0-9A-Z]*[0-9m] >"$tmp/pred.txt" 2>"$tmp/pred.err"
check "predict on every DICOM file ($(tail -1 "$tmp/pred.err"))" test "$(wc -l <"$tmp/pred.txt")" = "$((n_ct + n_mr))"
acc=$(awk -F'\t' '{split($2, c, " "); want = ($1 ~ /\/ct\//) ? "ct" : "mr"; n++; if (c[2] == want) k++}
  END {printf "%.3f", k / n}' "$tmp/pred.txt")
# The series are 16x16 thumbnails and 20 train images: a floor well above the majority class (18/32 = 0.56).
echo "    CT vs MR: predict accuracy over all $((n_ct + n_mr)) files $acc"
check "CT vs MR accuracy $acc >= 0.75 (every file, training ones included)" awk -v a="$acc" 'BEGIN {exit !(a >= 0.75)}'

# A fixed window, every frame of multi-frame files, and bad values of the keys.
mkdir -p "$tmp/frames/dose" "$tmp/frames/colour"
cp "$files/rtdose.dcm" "$files/rtdose_rle.dcm" "$files/rtdose_expb.dcm" "$tmp/frames/dose/"
cp "$files/examples_ybr_color.dcm" "$files/SC_rgb_rle_2frame.dcm" "$files/SC_rgb_rle.dcm" "$tmp/frames/colour/"
frames() { # FIRST_OR_ALL: the train summary's total over the two classes of 3 files each (one per split)
  "$movl" train "$tmp/dicom.ini" -s data.path="$tmp/frames" -s data.dicom_frames="$1" -s train.lp_epochs=1 \
    -s data.val_fraction=0.34 -s data.test_fraction=0.34 -s experiment.output_dir="$tmp/runs/frames_$1" 2>&1 | total
}
check "dicom_frames = all: 3 x 15 dose frames and 30 + 2 + 1 colour ones" test "$(frames all)" = 78
check "dicom_frames = first: one sample per file" test "$(frames first)" = 6
quiet() { "$@" >/dev/null 2>&1; }
check "window = 40,400 trains" quiet "$movl" train "$tmp/dicom.ini" -s data.window=40,400 -s train.lp_epochs=1 \
  -s experiment.output_dir="$tmp/runs/win"
expect 2 "data.*window.*'40' is not a window \(expected file, minmax or CENTER,WIDTH" \
  "$movl" train "$tmp/dicom.ini" -s data.window=40 -s experiment.output_dir="$tmp/runs/badwin"
expect 2 "dicom_frames" "$movl" train "$tmp/dicom.ini" -s data.dicom_frames=some -s experiment.output_dir="$tmp/runs/badfr"
check "no run folder left by bad keys" test -z "$(ls -A "$tmp/runs/badwin" "$tmp/runs/badfr" 2>/dev/null)"

# A CSV manifest of DICOM files, with class names and paths relative to it.
{
  echo "path,label"
  for f in "$dcm"/ct/*; do echo "dicom/ct/$(basename "$f"),ct"; done
  for f in "$dcm"/mr/*[0-9m]; do echo "dicom/mr/$(basename "$f"),mr"; done
} >"$tmp/manifest.csv"
check "train on a CSV manifest of DICOMs" quiet "$movl" train "$tmp/dicom.ini" -s data.path="$tmp/manifest.csv" \
  -s train.lp_epochs=2 -s experiment.output_dir="$tmp/runs/csv"

# A truncated DICOM in a class folder: the error names it, exit 2.
cp -r "$dcm" "$tmp/broken"
head -c 3000 "$files/CT_small.dcm" >"$tmp/broken/ct/cut.dcm"
expect 2 "broken/ct/cut.dcm: (truncated|malformed)" "$movl" train "$tmp/dicom.ini" -s data.path="$tmp/broken" \
  -s experiment.output_dir="$tmp/runs/broken"
expect 2 "cut.dcm: (truncated|malformed)" "$movl" predict "$tmp/runs/dicom/dicom" "$tmp/broken/ct/cut.dcm"

# ---- a folder of JPEGs: PneumoniaMNIST, normal against pneumonia ----
"$PY" - "$pneu" "$tmp/jpeg" <<'EOF'
import os, sys
import numpy as np
from PIL import Image
d = np.load(sys.argv[1])
for split in ("train", "test"):
    x, y = d[split + "_images"], d[split + "_labels"].ravel()
    for c, name in ((0, "normal"), (1, "pneumonia")):
        os.makedirs(f"{sys.argv[2]}/{split}/{name}", exist_ok=True)
        for i in np.flatnonzero(y == c)[:60 if split == "train" else 40]:
            Image.fromarray(x[i]).save(f"{sys.argv[2]}/{split}/{name}/{i:04d}.jpg", quality=90)
# one turned 90 degrees with an EXIF tag that turns it back
im = Image.fromarray(d["test_images"][0])
exif = Image.Exif()
exif[0x0112] = 6
im.transpose(Image.Transpose.ROTATE_90).save(f"{sys.argv[2]}/rotated.jpg", exif=exif.tobytes(), quality=100)
im.save(f"{sys.argv[2]}/upright.jpg", quality=100)
EOF
cat >"$tmp/jpeg.ini" <<EOF
[encoder]
arch = efficientnet_lite0
weights = $weights
size = 64
[data]
path = $tmp/jpeg/train
[train]
method = lp
lp_epochs = 20
batch_size = 16
[experiment]
output_dir = $tmp/runs/jpeg
EOF
out=$("$movl" train "$tmp/jpeg.ini" 2>&1)
check "train on a JPEG folder exits 0 ($(tail -1 <<<"$out"))" test $? = 0
"$movl" predict "$tmp/runs/jpeg/jpeg" "$tmp"/jpeg/test/*/*.jpg >"$tmp/jpred.txt" 2>"$tmp/jpred.err"
acc=$(awk -F'\t' '{split($2, c, " "); want = ($1 ~ /\/normal\//) ? "normal" : "pneumonia"; n++; if (c[2] == want) k++}
  END {printf "%.3f", k / n}' "$tmp/jpred.txt")
echo "    PneumoniaMNIST as JPEG: predict accuracy on 80 held-out test images $acc"
check "JPEG predict: 80 lines ($(tail -1 "$tmp/jpred.err"))" test "$(wc -l <"$tmp/jpred.txt")" = 80
check "JPEG predict accuracy $acc >= 0.7 on held-out images" awk -v a="$acc" 'BEGIN {exit !(a >= 0.7)}'
p1=$("$movl" predict --json "$tmp/runs/jpeg/jpeg" "$tmp/jpeg/rotated.jpg" "$tmp/jpeg/upright.jpg" 2>&1)
check "EXIF orientation applied: the turned copy scores like the upright one" "$PY" -c '
import json, sys
a, b = json.loads(sys.argv[1])
sys.exit(not (a["class"] == b["class"] and abs(a["probability"] - b["probability"]) < 0.02))' "$p1"
"$PY" -c 'from PIL import Image; Image.open("'"$tmp/jpeg/upright.jpg"'").convert("CMYK").save("'"$tmp/cmyk.jpg"'")'
expect 2 "cmyk.jpg: CMYK JPEG is not supported" "$movl" predict "$tmp/runs/jpeg/jpeg" "$tmp/cmyk.jpg"

# classify (ImageNet top-5) reads JPEG and DICOM too.
out=$("$movl" classify --arch efficientnet_lite0 --weights "$weights" --top 2 \
  /usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg "$files/CT_small.dcm" 2>&1)
check "classify prints 2 classes for a JPEG and a DICOM ($(tail -1 <<<"$out"))" \
  test "$(grep -c . <<<"$out")" -ge 4

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
