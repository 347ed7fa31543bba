#!/usr/bin/env bash
# `movl train` end to end: the methods on real data (PneumoniaMNIST with a
# frozen EfficientNet-Lite0) reach measured accuracy floors; bad input fails
# with exit code 2, a one-line message and no run directory left behind;
# interrupted runs resume to the same result as uninterrupted ones; eval,
# predict and features on a finished run.
# Usage: train_test.sh PATH/TO/movl   (from the repository root)
# About 4 minutes on a 2-core CPU (PoCL). Needs the data and weights of
# tools/setup.sh (exit 77, skipped, without them) and a python3 for JSON;
# numpy-based checks are skipped without numpy.
set -u
movl=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pneu=data/medmnist/pneumoniamnist.npz breast=data/medmnist/breastmnist.npz retina=data/medmnist/retinamnist.npz
weights=weights/efficientnet_lite0.safetensors
for f in "$pneu" "$breast" "$retina" "$weights"; do
  [ -f "$f" ] || { echo "$f missing (tools/setup.sh fetches it): skipped"; exit 77; }
done
PY=/usr/bin/python3 # Debian's, with numpy; else whatever python3 is on PATH
[ -x "$PY" ] || PY=$(command -v python3) || { echo "python3 missing: skipped"; exit 77; }
numpy=0
"$PY" -c 'import numpy' 2>/dev/null && numpy=1
export MOVL_STOP_AFTER_STEPS= MOVL_TRACE= # only where a check sets them
start=$SECONDS

source "$(dirname "${BASH_SOURCE[0]}")/check_lib.sh"

# JSON, safetensors headers, CSV and PNG helpers (standard library only, except npz).
cat >"$tmp/h.py" <<'EOF'
import json, math, struct, sys, zlib

def load(p):
    with open(p) as f:
        return json.load(f)

def header(p):
    with open(p, 'rb') as f:
        n = struct.unpack('<Q', f.read(8))[0]
        return json.loads(f.read(n))

def metrics_ok(m):
    return all(isinstance(m[k], (int, float)) and math.isfinite(m[k]) and 0 <= m[k] <= 1
               for k in ('acc', 'auc', 'balanced_acc', 'macro_f1'))

def png(path, rows):  # 8-bit grey
    h, w = len(rows), len(rows[0])
    raw = b''.join(b'\0' + bytes(r) for r in rows)
    def chunk(t, d):
        return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)
    with open(path, 'wb') as f:
        f.write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 0, 0, 0, 0)) +
                chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b''))

cmd, a = sys.argv[1], sys.argv[2:]
if cmd == 'floors':  # SUMMARY ACC AUC: test metrics at least these
    t = load(a[0])['test']
    print('    test acc %.4f auc %.4f (floors %s %s)' % (t['acc'], t['auc'], a[1], a[2]))
    sys.exit(0 if metrics_ok(t) and t['acc'] >= float(a[1]) and t['auc'] >= float(a[2]) else 1)
elif cmd == 'finite':  # SUMMARY: val and test metrics finite, in [0, 1]
    s = load(a[0])
    print('    test acc %.4f auc %.4f' % (s['test']['acc'], s['test']['auc']))
    sys.exit(0 if metrics_ok(s['val']) and metrics_ok(s['test']) else 1)
elif cmd == 'uncertainty':  # SUMMARY: val/test CIs hold the point estimates, ECE from its bins, 1000 resamples with the run's seed
    s = load(a[0])
    okv = True
    for split in ('val', 'test'):
        m = s[split]
        ci_ok = all(m[k + '_ci'][0] <= m[k] <= m[k + '_ci'][1] and m[k + '_ci'][1] - m[k + '_ci'][0] < 0.5
                    for k in ('acc', 'auc'))
        c = m['calibration']
        ece = sum(n / m['n'] * abs(x - y) for n, x, y in zip(c['count'], c['acc'], c['conf']) if n)
        bins_ok = c['bins'] == 15 == len(c['count']) and sum(c['count']) == m['n'] and abs(ece - m['ece']) < 1e-9
        boot_ok = m['bootstrap']['resamples'] == 1000 and m['bootstrap']['seed'] == s['seed']
        print('    %s: acc %.4f [%.4f, %.4f], auc %.4f [%.4f, %.4f], ECE %.4f, %d skipped' % (
            split, m['acc'], *m['acc_ci'], m['auc'], *m['auc_ci'], m['ece'], m['bootstrap']['skipped']))
        okv &= ci_ok and bins_ok and boot_ok
    sys.exit(0 if okv else 1)
elif cmd == 'pngsize':  # PNG W H: a PNG of this size
    d = open(a[0], 'rb').read(24)
    sys.exit(0 if d[:8] == b'\x89PNG\r\n\x1a\n' and struct.unpack('>II', d[16:24]) == (int(a[1]), int(a[2])) else 1)
elif cmd == 'same':  # SUMMARY SUMMARY: identical results (timings may differ)
    x, y = load(a[0]), load(a[1])
    keys = ('val', 'test', 'selected', 'trainable_params')
    for k in keys:
        if x[k] != y[k]:
            print('    %s differs: %s vs %s' % (k, x[k], y[k]))
    sys.exit(0 if all(x[k] == y[k] for k in keys) else 1)
elif cmd == 'split':  # SUMMARY SESSIONS: time_split has every phase, none negative, summing to at most wall_s
    d = load(a[0])['time_split']
    keys = ('setup_s', 'dataset_s', 'cache_s', 'data_s', 'steps_s', 'val_s', 'checkpoint_s', 'test_s', 'shift_s',
            'output_s')
    total = sum(d[k] for k in keys)
    print('    time_split: %s' % ', '.join('%s %.3f' % (k, d[k]) for k in keys + ('wall_s',)))
    sys.exit(0 if all(d[k] >= 0 for k in keys) and total <= d['wall_s'] + 1e-6 and d['sessions'] == int(a[1])
             and set(d) == set(keys) | {'wall_s', 'sessions'} else 1)
elif cmd == 'evaleq':  # SUMMARY EVAL_JSON: eval's metrics are the summary's test metrics
    t, e = load(a[0])['test'], load(a[1])
    keys = ('n', 'acc', 'auc', 'balanced_acc', 'macro_f1', 'confusion', 'acc_ci', 'auc_ci', 'ece', 'bootstrap',
            'calibration')
    for k in keys:
        if t[k] != e[k]:
            print('    %s: summary %s, eval %s' % (k, t[k], e[k]))
    sys.exit(0 if all(t[k] == e[k] for k in keys) else 1)
elif cmd == 'ood':  # EVAL_JSON N: finite metrics over N images
    e = load(a[0])
    print('    OOD acc %.4f auc %.4f on %d images' % (e['acc'], e['auc'], e['n']))
    sys.exit(0 if metrics_ok(e) and e['n'] == int(a[1]) else 1)
elif cmd == 'tensors':  # FILE NAME=D0xD1 ...: exactly these F32 tensors (and shapes)
    h = header(a[0])
    want = dict(s.split('=') for s in a[1:])
    got = {k: 'x'.join(map(str, v['shape'])) for k, v in h.items() if k != '__metadata__'}
    bad = [k for k in h if k != '__metadata__' and h[k]['dtype'] != 'F32']
    if got != want or bad:
        print('    %s holds %s, expected %s' % (a[0], got, want))
    sys.exit(0 if got == want and not bad else 1)
elif cmd == 'features':  # FILE: values finite and in ReLU6 range, labels 0/1
    h = header(a[0])
    off = 8 + struct.unpack('<Q', open(a[0], 'rb').read(8))[0]
    data = open(a[0], 'rb').read()
    okv = True
    for k, v in h.items():
        if k == '__metadata__':
            continue
        b, e = v['data_offsets']
        vals = struct.unpack('<%df' % ((e - b) // 4), data[off + b:off + e])
        if k.startswith('labels.'):
            okv &= set(vals) <= {0.0, 1.0} and len(set(vals)) == 2
        else:
            okv &= all(math.isfinite(x) and 0 <= x <= 6 for x in vals) and max(vals) > 0
    sys.exit(0 if okv else 1)
elif cmd == 'jointrow':  # METRICS_CSV AUC: lp_init rows 1..30, then movl epoch 1 trained and above AUC
    rows = [l.strip().split(',') for l in open(a[0])][1:]
    lp = [int(r[1]) for r in rows if r[0] == 'lp_init']
    mv = [r for r in rows if r[0] == 'movl' and r[1] == '1']
    if mv:
        print('    joint epoch: train loss %s, val acc %s, val auc %s' % tuple(mv[0][2:5]))
    sys.exit(0 if lp == list(range(1, 31)) and len(mv) == 1 and math.isfinite(float(mv[0][2]))
             and float(mv[0][4]) >= float(a[1]) else 1)
elif cmd == 'csvsame':  # A B: metrics.csv equal but for the seconds column
    rows = [[l.rsplit(',', 1)[0] for l in open(p)] for p in a]
    sys.exit(0 if rows[0] == rows[1] else 1)
elif cmd == 'pngs':  # NPZ SPLIT N DIR: the first N images of a split as PNGs + labels.txt
    import numpy as np
    z = np.load(a[0])
    im, lb = z[a[1] + '_images'], z[a[1] + '_labels'].reshape(-1)
    with open(a[3] + '/labels.txt', 'w') as f:
        for i in range(int(a[2])):
            png('%s/%04d.png' % (a[3], i), im[i].tolist())
            f.write('%s/%04d.png %d\n' % (a[3], i, lb[i]))
elif cmd == 'predacc':  # PREDICT_OUT LABELS: accuracy of `movl predict` lines
    lab = dict(l.split() for l in open(a[1]))
    n = hit = 0
    for l in open(a[0]):
        f = l.rstrip('\n').split('\t')
        if len(f) == 3 and f[0] in lab:
            n += 1
            hit += f[1].split()[0] == lab[f[0]]
            assert 0.5 <= float(f[2]) <= 1
    print('%d %.6f' % (n, hit / max(n, 1)))
elif cmd == 'value':  # FILE a.b.c: one JSON value
    v = load(a[0])
    for k in a[1].split('.'):
        v = v[k]
    print(v)
elif cmd == 'noise':  # DIR N: N random 16x16 PNGs per class folder a, b
    import os, random
    r = random.Random(1)
    for c in 'ab':
        os.makedirs('%s/%s' % (a[0], c), exist_ok=True)
        for i in range(int(a[1])):
            png('%s/%s/%02d.png' % (a[0], c, i), [[r.randrange(256) for _ in range(16)] for _ in range(16)])
elif cmd == 'mismatch':  # FILE: an npz whose train split has 20 images and 19 labels
    import numpy as np
    r = np.random.RandomState(0)
    im = lambda n: r.randint(0, 256, (n, 28, 28)).astype(np.uint8)
    lb = lambda n: r.randint(0, 2, (n, 1)).astype(np.uint8)
    np.savez(a[0], train_images=im(20), train_labels=lb(19), val_images=im(6), val_labels=lb(6),
             test_images=im(6), test_labels=lb(6))
EOF
h() { "$PY" "$tmp/h.py" "$@"; }

# train NAME ARGS...: a run into $tmp/runs/NAME; 0 when it exits 0 with a summary.json.
train() {
  local name=$1
  shift
  local t0=$SECONDS
  "$movl" train "$@" -s experiment.output_dir="$tmp/runs" -s experiment.name="$name" >"$tmp/$name.log" 2>&1
  local rc=$?
  echo "  $name: exit $rc, $((SECONDS - t0)) s"
  if [ "$rc" != 0 ] || [ ! -f "$tmp/runs/$name/summary.json" ]; then
    tail -3 "$tmp/$name.log"
    return 1
  fi
}

echo "== methods on PneumoniaMNIST (efficientnet_lite0, 64 x 64; majority class = 62.5% of test)"
# Floors a little under what was measured on a 2-core CPU (PoCL) with seeds
# 0, 1, 2 (these runs use seed 0, whose result is deterministic on one device):
#   lp   (1000 train images, 30 epochs):           test acc 0.835 0.861 0.859, auc 0.923 0.936 0.939
#   movl (500 train, lp_epochs 30, 1 joint epoch): test acc 0.780 0.829 0.838, auc 0.862 0.918 0.927
# (in all three movl runs model selection kept the LP initialisation: the joint
# epoch's val AUC, 0.92-0.95, was a little below it).
if train lp configs/lp.ini -s data.max_eval=0; then
  ok
  check "lp above its floors" h floors "$tmp/runs/lp/summary.json" 0.81 0.90
  check "lp summary: bootstrap intervals around ACC/AUC, ECE from its 15 bins" h uncertainty "$tmp/runs/lp/summary.json"
  check "lp reliability.png, 560 x 600" h pngsize "$tmp/runs/lp/reliability.png" 560 600
else bad "lp run"; fi
if train movl configs/movl.ini -s data.max_train=500 -s data.max_eval=0 -s train.epochs=1; then
  ok
  check "movl above its floors" h floors "$tmp/runs/movl/summary.json" 0.75 0.84
  check "movl metrics.csv: 30 lp_init epochs, then a joint epoch with a finite loss and val auc >= 0.85" \
    h jointrow "$tmp/runs/movl/metrics.csv" 0.85
else bad "movl run"; fi
# vp (label map flm) and vp_lp: short, must finish with finite metrics and the right model tensors
if train vp configs/vp.ini -s data.max_train=256 -s data.max_eval=0 -s train.epochs=1; then
  ok
  check "vp metrics finite" h finite "$tmp/runs/vp/summary.json"
  check "vp model tensors" h tensors "$tmp/runs/vp/model.safetensors" prompt.delta=5376 map.index=2
  check "vp prompt.png" test -s "$tmp/runs/vp/prompt.png"
else bad "vp run"; fi
if train vp_lp configs/vp_lp.ini -s data.max_train=256 -s data.max_eval=128 -s train.epochs=1; then
  ok
  check "vp_lp metrics finite" h finite "$tmp/runs/vp_lp/summary.json"
  check "vp_lp model tensors" h tensors "$tmp/runs/vp_lp/model.safetensors" prompt.delta=5376 \
    probe.weight=2x1280 probe.bias=2
else bad "vp_lp run"; fi

echo "== eval, predict, features ($((SECONDS - start)) s)"
for run in lp movl vp; do
  [ -f "$tmp/runs/$run/summary.json" ] || continue
  if "$movl" eval "$tmp/runs/$run" --json >"$tmp/eval_$run.json" 2>"$tmp/eval_$run.err"; then
    check "eval $run --json equals the summary's test metrics" h evaleq "$tmp/runs/$run/summary.json" "$tmp/eval_$run.json"
  else bad "movl eval $run: $(tail -1 "$tmp/eval_$run.err")"; fi
done
if [ -f "$tmp/runs/lp/summary.json" ]; then
  # out of distribution: BreastMNIST (2 classes, 156 test images) through the pneumonia model
  if "$movl" eval "$tmp/runs/lp" --data "$breast" --json >"$tmp/ood.json" 2>"$tmp/ood.err"; then
    check "OOD eval on breastmnist" h ood "$tmp/ood.json" 156
  else bad "movl eval --data breastmnist: $(tail -1 "$tmp/ood.err")"; fi
  check "eval text output" bash -c "'$movl' eval '$tmp/runs/lp' --split val 2>/dev/null | grep -Eq 'val.*acc 0\.[0-9]+ \[0\.[0-9]+, [01]\.[0-9]+\], auc 0\.[0-9]+ \[0\.[0-9]+, [01]\.[0-9]+\].*ECE 0\.[0-9]+'"
  mkdir -p "$tmp/png"
  if [ $numpy = 1 ]; then
    # predict on the 624 test images as PNG files: the PNG path of predict must
    # see what the npz path saw, so the accuracy equals the summary's
    h pngs "$pneu" test 624 "$tmp/png"
    if "$movl" predict "$tmp/runs/lp" "$tmp"/png/*.png >"$tmp/pred.txt" 2>"$tmp/pred.err"; then
      read -r n acc < <(h predacc "$tmp/pred.txt" "$tmp/png/labels.txt")
      want=$(h value "$tmp/runs/lp/summary.json" test.acc)
      echo "    predict: $n images, acc $acc (summary test acc $want)"
      check "predict: one line per image, accuracy of the summary" \
        "$PY" -c "import sys; sys.exit(not ($n == 624 and abs($acc - $want) <= 1.5 / 624))"
    else bad "movl predict: $(tail -1 "$tmp/pred.err")"; fi
  else
    h noise "$tmp/png" 1
    cp "$tmp/png/a/00.png" "$tmp/png/0000.png"
  fi
  out=$("$movl" predict "$tmp/runs/lp" "$tmp/png/0000.png" 2>/dev/null)
  check "predict prints a class and its probability ($out)" grep -Eq $'^[^\t]+0000\\.png\t[01]( [^\t]+)?\t(0\\.[5-9][0-9]*|1\\.0+)$' <<<"$out"
  check "predict --json parses" bash -c "'$movl' predict --json '$tmp/runs/lp' '$tmp/png/0000.png' 2>/dev/null | '$PY' -c 'import json,sys; j=json.load(sys.stdin); sys.exit(not (len(j)==1 and j[0][\"class\"] in (0,1)))'"
fi
# expect_code CODE PATTERN CMD...: CMD exits CODE and its output holds PATTERN (fixed string)
expect_code() {
  local code=$1 pattern=$2 out rc
  shift 2
  out=$("$@" 2>&1)
  rc=$?
  if [ "$rc" = "$code" ] && grep -Fq -- "$pattern" <<<"$out"; then ok; else
    bad "'$*' exited $rc (expected $code): $(tail -1 <<<"$out") (expected: $pattern)"
  fi
}
if [ -f "$tmp/runs/lp/summary.json" ]; then
  expect_code 2 "--split 'bogus' is not a split (expected train, val or test)" "$movl" eval "$tmp/runs/lp" --split bogus
  expect_code 2 "nowhere/config.ini: cannot open experiment file" "$movl" eval "$tmp/nowhere"
  # RetinaMNIST has 5 classes, the model 2
  expect_code 2 "retinamnist.npz: train_labels[3] = 4 is outside the class range 0..1" "$movl" eval "$tmp/runs/lp" --data "$retina"
  expect_code 2 "nowhere.png: cannot open image" "$movl" predict "$tmp/runs/lp" "$tmp/nowhere.png"
fi
if "$movl" features configs/lp.ini --out "$tmp/F.safetensors" -s data.max_train=100 -s data.max_eval=50 \
  >"$tmp/feat.log" 2>&1; then
  check "features file shapes" h tensors "$tmp/F.safetensors" features.train=100x1280 labels.train=100 \
    features.val=50x1280 labels.val=50 features.test=50x1280 labels.test=50
  check "features values" h features "$tmp/F.safetensors"
else bad "movl features: $(tail -1 "$tmp/feat.log")"; fi

echo "== bad input: exit 2, one line, no run directory ($((SECONDS - start)) s)"
cat >"$tmp/small.ini" <<EOF
[encoder]
arch = efficientnet_lite0
weights = $weights
size = 32
[data]
path = $pneu
max_train = 64
max_eval = 32
[train]
method = lp
lp_epochs = 1
batch_size = 16
EOF
case_n=0
# expect_fail PATTERN ARGS...: `movl train ARGS` (output_dir a fresh folder)
# exits 2, its output holds PATTERN (fixed string), the folder is absent or empty.
expect_fail() {
  local pattern=$1
  shift
  case_n=$((case_n + 1))
  local dir="$tmp/bad$case_n" out rc
  out=$("$movl" train "$@" -s experiment.output_dir="$dir" 2>&1)
  rc=$?
  local left
  left=$(ls -A "$dir" 2>/dev/null)
  if [ "$rc" = 2 ] && grep -Fq -- "$pattern" <<<"$out" && [ -z "$left" ]; then
    ok
  else
    bad "train $* exited $rc (expected 2); left behind: '$left'; output: $(grep -v '^ ' <<<"$out" | tail -2)" \
      "(expected: $pattern)"
  fi
}
(cat "$tmp/small.ini" && printf '[loss]\nlamda = 0.1\n') >"$tmp/key.ini"
expect_fail "key.ini:14: unknown key 'lamda' in [loss] (did you mean 'lambda'?)" "$tmp/key.ini"
(cat "$tmp/small.ini" && printf '[trian]\nepochs = 1\n') >"$tmp/sec.ini"
expect_fail "sec.ini:13: unknown section [trian] (did you mean [train]?)" "$tmp/sec.ini"
expect_fail "[train] head_lr = -1 is out of range (expected > 0)" "$tmp/small.ini" -s train.head_lr=-1
expect_fail "[encoder] weights = $tmp/none.safetensors cannot be read (No such file or directory" \
  "$tmp/small.ini" -s encoder.weights="$tmp/none.safetensors"
printf 'not a safetensors file' >"$tmp/bad.safetensors" # passes the config check, fails at set-up
expect_fail "bad.safetensors: header length" "$tmp/small.ini" -s encoder.weights="$tmp/bad.safetensors"
# folder datasets: 2 classes x 10 random 16x16 PNGs
h noise "$tmp/good" 10
# predict needs only the run folder: a model trained on class folders a, b
# still names its classes after its dataset is gone; eval still needs data
cp -r "$tmp/good" "$tmp/folders"
if "$movl" train "$tmp/small.ini" -s data.path="$tmp/folders" -s experiment.output_dir="$tmp/runs" \
  -s experiment.name=named >"$tmp/named.log" 2>&1; then
  want=$("$movl" predict "$tmp/runs/named" "$tmp/good/a/00.png" 2>&1)
  mv "$tmp/folders" "$tmp/folders.away"
  got=$("$movl" predict "$tmp/runs/named" "$tmp/good/a/00.png" 2>&1)
  check "predict without the run's dataset prints what it printed with it ($got)" test "$got" = "$want"
  check "predict names the class from the model file" grep -Eq $'\t[01] [ab]\t' <<<"$got"
  expect_code 2 "folders cannot be read" "$movl" eval "$tmp/runs/named"
  # a model file whose class count metadata disagrees with its head is refused
  cp -r "$tmp/runs/named" "$tmp/runs/badmeta"
  "$PY" - "$tmp/runs/badmeta/model.safetensors" <<'PY'
import json, struct, sys
p = sys.argv[1]
b = open(p, "rb").read()
n = struct.unpack("<Q", b[:8])[0]
h = json.loads(b[8:8 + n])
h["__metadata__"]["classes"] = "7"
t = json.dumps(h).encode()
t += b" " * (-len(t) % 8)
open(p, "wb").write(struct.pack("<Q", len(t)) + t + b[8 + n:])
PY
  expect_code 2 "metadata classes = '7' is not the class count of its head (2)" \
    "$movl" predict "$tmp/runs/badmeta" "$tmp/good/a/00.png"
else bad "train on class folders: $(tail -1 "$tmp/named.log")"; fi
# a class folder whose name is not UTF-8: the model header stays UTF-8 JSON
# (standard safetensors readers parse it) and carries no class names
mkdir -p "$tmp/latin1" && cp -r "$tmp/good/a" "$tmp/latin1/a" && cp -r "$tmp/good/b" "$tmp/latin1/"$'caf\xe9'
if "$movl" train "$tmp/small.ini" -s data.path="$tmp/latin1" -s experiment.output_dir="$tmp/runs" \
  -s experiment.name=latin1 >"$tmp/latin1.log" 2>&1; then
  check "model header of a non-UTF-8 class folder: valid UTF-8 JSON, no class_names" "$PY" -c "
import json, struct, sys
b = open('$tmp/runs/latin1/model.safetensors', 'rb').read()
h = json.loads(b[8:8 + struct.unpack('<Q', b[:8])[0]].decode('utf-8'))
sys.exit('class_names' in h['__metadata__'] or h['__metadata__']['classes'] != '2')"
else bad "train on a non-UTF-8 class folder: $(tail -1 "$tmp/latin1.log")"; fi
cp -r "$tmp/good" "$tmp/trunc"
head -c 40 "$tmp/good/a/03.png" >"$tmp/trunc/a/03.png"
expect_fail "trunc/a/03.png: corrupt or truncated PNG" "$tmp/small.ini" -s data.path="$tmp/trunc"
cp -r "$tmp/good" "$tmp/dangling"
ln -s "$tmp/nowhere.png" "$tmp/dangling/b/99.png"
expect_fail "dangling/b/99.png: cannot read image (No such file or directory)" "$tmp/small.ini" -s data.path="$tmp/dangling"
ln -s "$tmp/nowhere.npz" "$tmp/link.npz"
expect_fail "[data] path = $tmp/link.npz cannot be read (No such file or directory)" "$tmp/small.ini" \
  -s data.path="$tmp/link.npz"
mkdir "$tmp/dir.npz"
expect_fail "[data] path = $tmp/dir.npz is a folder, but [data] format = npz expects a file" "$tmp/small.ini" \
  -s data.path="$tmp/dir.npz" -s data.format=npz
expect_fail "split 'val' is empty (val_frac 0.04 of 20 images rounds to none in every class" "$tmp/small.ini" \
  -s data.path="$tmp/good" -s data.val_fraction=0.04
expect_fail "the train, val and test splits must all be non-empty (found " "$tmp/small.ini" \
  -s data.path="$tmp/good" -s data.val_fraction=0
mkdir -p "$tmp/empty" "$tmp/noimg/a" "$tmp/noimg/b"
echo notes >"$tmp/noimg/a/readme.txt"
expect_fail "empty: no class folders" "$tmp/small.ini" -s data.path="$tmp/empty"
expect_fail "noimg/a: class folder has no images" "$tmp/small.ini" -s data.path="$tmp/noimg"
# RetinaMNIST has labels 0..4; three classes leave 3 and 4 out of range
expect_fail "is outside the class range 0..2 (num_classes 3)" "$tmp/small.ini" -s data.path="$retina" \
  -s data.num_classes=3
# a CSV manifest with a label past num_classes
printf 'path,label\n' >"$tmp/m.csv"
for i in 00 01 02 03 04 05 06 07 08 09; do printf 'good/a/%s.png,0\ngood/b/%s.png,1\n' $i $i >>"$tmp/m.csv"; done
echo 'good/b/09.png,2' >>"$tmp/m.csv"
expect_fail "m.csv:22: label 2 is outside the class range 0..1 (num_classes 2)" "$tmp/small.ini" -s data.path="$tmp/m.csv" -s data.num_classes=2
# more classes than a label map holds (1001, inferred from the data): refused at set-up
{ printf 'path,label,split\n'; for c in $(seq 0 1000); do for sp in train val test; do
  printf 'good/a/00.png,%d,%s\n' "$c" "$sp"; done; done; } >"$tmp/k1001.csv"
expect_fail "1001 classes, but the label map of method vp handles at most 1000" "$tmp/small.ini" \
  -s data.path="$tmp/k1001.csv" -s train.method=vp -s train.epochs=1 -s prompt.size=4
# a diverging run is a run failure (exit 1), and leaves no directory when it never checkpointed
out=$("$movl" train "$tmp/small.ini" -s experiment.output_dir="$tmp/diverge" -s train.head_optimizer=sgd \
  -s train.head_lr=1e38 -s train.lp_epochs=3 2>&1)
rc=$?
check "diverging run: exit 1 ($rc), message, no run directory" bash -c "[ $rc = 1 ] && [ -z \"\$(ls -A '$tmp/diverge')\" ] &&
  grep -q 'lp: the training loss is not finite at step [0-9]* (lower the learning rate)' <<<\"\$1\"" _ "$out"
# a device that fails the driver self-test stops the run before any work: exit 3,
# the device named, no run directory; --no-self-test lets the run go ahead
out=$(MOVL_SELFTEST_FAULT=conv "$movl" train "$tmp/small.ini" -s experiment.output_dir="$tmp/selftest" 2>&1)
rc=$?
check "self-test fault: exit 3 ($rc), device and driver named, no run directory" bash -c "[ $rc = 3 ] &&
  [ -z \"\$(ls -A '$tmp/selftest')\" ] && grep -q \"device '.*' (.*, driver .*) failed the self-test: conv forward\" <<<\"\$1\"" _ "$out"
out=$(MOVL_SELFTEST_FAULT=conv "$movl" train "$tmp/small.ini" --no-self-test -s experiment.output_dir="$tmp/selftest" 2>&1)
check "--no-self-test skips the check ($(tail -1 <<<"$out"))" test -f "$tmp/selftest/small/summary.json"
if [ $numpy = 1 ]; then
  h mismatch "$tmp/mismatch.npz"
  expect_fail "mismatch.npz: train_images has 20 images but train_labels has 19 labels" "$tmp/small.ini" \
    -s data.path="$tmp/mismatch.npz"
fi

echo "== resume ($((SECONDS - start)) s)"
# movl at 32 x 32 on 96 images, batch 16: lp_init steps 1-12 (2 epochs), movl steps 13-24 (2 epochs)
{ resume_ini "$tmp/resume" "$weights" "$pneu"; printf '[eval]\nbatch_size = 32\n'; } >"$tmp/r.ini"
R=$tmp/resume
# -v: the reference run also prints its time split (and must not change its results)
MOVL_TRACE="$tmp/trace.full" "$movl" train "$tmp/r.ini" -v -s experiment.name=full >"$tmp/full.log" 2>&1
check "uninterrupted reference run" test -f "$R/full/summary.json"
check "trace has a line per step" test "$(wc -l <"$tmp/trace.full")" = 24
check "-v: a time line per epoch (4)" test "$(grep -c '^\(lp_init\|movl\) epoch [12]/2 time: ' "$tmp/full.log")" = 4
check "-v: the time split, one line per phase" bash -c "grep -q '^time split: [0-9.]* s wall$' '$tmp/full.log' &&
  for p in set-up dataset cache data steps val checkpoint test shift output; do
    grep -q \"^  \$p  *[0-9.]* s  *[0-9.]* %\" '$tmp/full.log' || exit 1; done"
check "summary.json time_split: every phase, non-negative, within wall_s" h split "$R/full/summary.json" 1
# same_as_full NAME: the resumed run NAME ended exactly as the uninterrupted one
same_as_full() {
  local d="$R/$1"
  check "$1: summary.json test/val/selected as uninterrupted" h same "$R/full/summary.json" "$d/summary.json"
  check "$1: model.safetensors byte-identical" cmp -s "$R/full/model.safetensors" "$d/model.safetensors"
  check "$1: metrics.csv identical but for seconds" h csvsame "$R/full/metrics.csv" "$d/metrics.csv"
  check "$1: per-step losses identical" cmp -s "$tmp/trace.full" "$tmp/trace.$1"
}
# stop after N steps: 4 mid-epoch in lp_init, 12 at the stage boundary, 15 mid-epoch in movl, 18 at a movl epoch end
for n in 4 12 15 18; do
  name=stop$n
  out=$(MOVL_TRACE="$tmp/trace.$name" MOVL_STOP_AFTER_STEPS=$n "$movl" train "$tmp/r.ini" -s experiment.name=$name 2>&1)
  rc=$?
  check "$name: exit 130 ($rc), resume hint" grep -q "interrupted; continue with: movl train --resume $R/$name" <<<"$out"
  [ $rc = 130 ] || bad "$name: exit $rc"
  check "$name: checkpoint, no summary.json" bash -c "[ -f '$R/$name/resume.safetensors' ] && [ ! -e '$R/$name/summary.json' ]"
  check "$name: stopped after $n steps" test "$(wc -l <"$tmp/trace.$name")" = $n
  if MOVL_TRACE="$tmp/trace.$name" "$movl" train --resume "$R/$name" >"$tmp/$name.log" 2>&1; then
    same_as_full $name
    check "$name: time_split over 2 sessions" h split "$R/$name/summary.json" 2
  else bad "$name: resume failed: $(tail -1 "$tmp/$name.log")"; fi
done
# periodic checkpoints change nothing
"$movl" train "$tmp/r.ini" -s experiment.name=every -s output.checkpoint_every=5 >"$tmp/every.log" 2>&1
check "checkpoint_every = 5: same result" h same "$R/full/summary.json" "$R/every/summary.json"
check "checkpoint_every = 5: same model" cmp -s "$R/full/model.safetensors" "$R/every/model.safetensors"
# a real SIGINT once the movl stage has begun
MOVL_TRACE="$tmp/trace.sigint" "$movl" train "$tmp/r.ini" -s experiment.name=sigint >"$tmp/sigint.out" 2>&1 &
pid=$!
for _ in $(seq 1200); do
  grep -q '^movl epoch 1/2 step' "$tmp/sigint.out" && break
  sleep 0.05
done
kill -INT $pid
wait $pid
rc=$?
check "SIGINT: exit 130 ($rc) with a resume hint" bash -c "[ $rc = 130 ] && grep -q 'interrupted; continue with' '$tmp/sigint.out'"
steps=$(wc -l <"$tmp/trace.sigint")
echo "  SIGINT stopped after $steps of 24 steps"
if MOVL_TRACE="$tmp/trace.sigint" "$movl" train --resume "$R/sigint" >"$tmp/sigint.log" 2>&1; then
  same_as_full sigint
else bad "sigint: resume failed: $(tail -1 "$tmp/sigint.log")"; fi
# SIGTERM during set-up: a clean stop, exit 130, and no folder left unless it
# holds a checkpoint. Set-up builds kernels, and PoCL's compiler catches the
# signal too and fails the build under way; before that was handled, 6 of
# these 10 stops ended with exit 1 (measured on PoCL 3.1, warm caches).
for d in 0 0.1 0.2 0.3 0.4 0.5 0.6 0.7 0.8 0.9; do
  "$movl" train "$tmp/r.ini" -s experiment.name=setup$d >"$tmp/setup$d.out" 2>&1 &
  pid=$!
  for _ in $(seq 600); do
    grep -q '^run directory' "$tmp/setup$d.out" && break
    sleep 0.05
  done
  sleep $d
  kill -TERM $pid
  wait $pid
  rc=$?
  check "SIGTERM $d s into set-up: exit 130 ($rc: $(tail -1 "$tmp/setup$d.out")), no half-made run" \
    bash -c "[ $rc = 130 ] && { [ ! -e '$R/setup$d' ] || [ -f '$R/setup$d/resume.safetensors' ]; }"
done
out=$("$movl" train --resume "$R/full" 2>&1)
rc=$?
check "resume of a finished run refused (exit $rc: $out)" bash -c "[ $rc = 2 ] && grep -q 'the run is already complete' <<<\"\$1\"" _ "$out"
# a checkpoint without movl's progress record (here a model file) is refused, not half-restored
cp -r "$R/stop4" "$R/badckpt" && rm -f "$R/badckpt/summary.json" && cp "$R/full/model.safetensors" "$R/badckpt/resume.safetensors"
out=$("$movl" train --resume "$R/badckpt" 2>&1)
rc=$?
check "resume from a file without a progress record refused (exit $rc: $out)" bash -c "[ $rc = 2 ] && grep -q 'resume.safetensors: not a movl checkpoint' <<<\"\$1\"" _ "$out"
out=$("$movl" train --resume "$tmp" 2>&1)
check "resume of a non-run refused" grep -q 'not a run directory (no config.ini)' <<<"$out"

echo "$pass passed, $fail failed ($((SECONDS - start)) s)"
[ "$fail" = 0 ]
