#!/usr/bin/env bash
# `movl eval --shift` on a tiny finished run (LP on BreastMNIST, 32 px): the
# clean row equals plain `movl eval` (the split is restored between
# corruptions), a corruption's row equals `movl eval --data` on the npz that
# `movl shift` writes (same seeds, same preprocessing), the means are the
# means of the rows, the text table, and bad input (unknown name, "all"
# without a modality, the run's dataset gone) exits 2 with one line.
# Usage: shift_eval_test.sh PATH/TO/movl   (from the repository root); about a minute.
set -u
movl=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
breast=data/medmnist/breastmnist.npz weights=weights/efficientnet_lite0.safetensors
for f in "$breast" "$weights"; do
  [ -f "$f" ] || { echo "$f missing (tools/setup.sh fetches it): skipped"; exit 77; }
done
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3) || { echo "python3 missing: skipped"; exit 77; }
source "$(dirname "${BASH_SOURCE[0]}")/check_lib.sh"

mkdir -p "$tmp/d"
cp "$breast" "$tmp/d/breastmnist.npz"
run="$tmp/runs/tiny"
"$movl" train configs/lp.ini -s data.path="$tmp/d/breastmnist.npz" -s encoder.size=32 -s data.max_train=64 \
  -s train.lp_epochs=2 -s experiment.output_dir="$tmp/runs" -s experiment.name=tiny >"$tmp/train.log" 2>&1 \
  || { cat "$tmp/train.log"; echo "FAIL: tiny run"; exit 1; }

"$movl" eval "$run" --json >"$tmp/plain.json" 2>/dev/null
"$movl" eval "$run" --shift jpeg:5,gaussian_noise:2,gaussian_noise:4 --json >"$tmp/shift.json" 2>"$tmp/shift.err"
check "eval --shift --json" test -s "$tmp/shift.json"
"$movl" shift "$tmp/d/breastmnist.npz" --out "$tmp/jpeg5.npz" --corrupt jpeg:5 >/dev/null
"$movl" eval "$run" --data "$tmp/jpeg5.npz" --json >"$tmp/jpeg5.json" 2>/dev/null
check "shift results" "$PY" - "$tmp/plain.json" "$tmp/shift.json" "$tmp/jpeg5.json" <<'PYEOF'
import json, math, sys
plain, sh, j5 = (json.load(open(p)) for p in sys.argv[1:4])
close = lambda a, b: abs(a - b) < 1e-9
assert sh['modality'] == 'ultrasound' and sh['split'] == 'test' and sh['images'] == 156, sh
assert close(sh['clean']['acc'], plain['acc']) and close(sh['clean']['auc'], plain['auc']), (sh['clean'], plain)
names = [c['name'] for c in sh['corruptions']]
assert names == ['jpeg', 'gaussian_noise'], names
jp, gn = sh['corruptions']
assert [s['severity'] for s in gn['severities']] == [2, 4]
# the in-memory corruption is the file `movl shift` writes
assert close(jp['severities'][0]['acc'], j5['acc']) and close(jp['severities'][0]['auc'], j5['auc']), (jp, j5)
for c in sh['corruptions']:
    accs = [s['acc'] for s in c['severities']]
    aucs = [s['auc'] for s in c['severities']]
    assert all(0 <= v <= 1 for v in accs + aucs)
    assert close(c['mean_acc'], sum(accs) / len(accs)) and close(c['mean_auc'], sum(aucs) / len(aucs)), c
assert close(sh['mean_acc'], (jp['mean_acc'] + gn['mean_acc']) / 2)
assert close(sh['mean_auc'], (jp['mean_auc'] + gn['mean_auc']) / 2)
print('    clean acc %.4f auc %.4f; jpeg:5 acc %.4f auc %.4f; mean shift acc %.4f auc %.4f' % (
    sh['clean']['acc'], sh['clean']['auc'], jp['severities'][0]['acc'], jp['severities'][0]['auc'],
    sh['mean_acc'], sh['mean_auc']))
PYEOF
expect 0 "^mean shift +[0-9.]+ +[0-9.]+" "$movl" eval "$run" --shift contrast_down:5
expect 0 "^clean +0 " "$movl" eval "$run" --shift contrast_down:5

expect 2 "shift 'fog': item 'fog': unknown corruption 'fog' \(valid: all, pixelate," "$movl" eval "$run" --shift fog
expect 2 "item 'jpeg:9': severity '9' is not one of 1..5" "$movl" eval "$run" --shift jpeg:9
cp "$breast" "$tmp/d/other.npz"
expect 2 "'all' needs a modality" "$movl" eval "$run" --data "$tmp/d/other.npz" --shift all
rm "$tmp/d/breastmnist.npz"
expect 2 "\[data\] path = $tmp/d/breastmnist.npz cannot be read \(No such file or directory\)" \
  "$movl" eval "$run" --shift jpeg:1
out=$("$movl" eval "$run" --shift jpeg:1 2>&1)
[ "$(printf '%s\n' "$out" | wc -l)" = 1 ] && ok || bad "dataset gone: more than one line: $out"

echo "shift eval: $pass passed, $fail failed"
[ "$fail" = 0 ]
