#!/usr/bin/env bash
# Full fine-tuning (method ff) end to end on real data: PneumoniaMNIST (320
# training images, 48x48, 2 epochs) with EfficientNet-Lite0. Checks:
#  - the loss falls (mean of the last 3 steps below the first 3) and the val
#    AUC beats a linear probe trained on the same images (same seed, 30 LP
#    epochs): FF adapts the backbone, so on this data it must do better than
#    the frozen features;
#  - model.safetensors holds every BN-folded backbone tensor (backbone.LAYER.*,
#    the stem's shape) next to the probe, and they moved away from the
#    pretrained values;
#  - movl eval on the run reproduces summary.json's test metrics exactly (so
#    eval loads the fine-tuned backbone, not the pretrained one);
#  - resume on a device of another base-address alignment: the checkpoint of a
#    run stopped mid-epoch, rewritten with the backbone's optimiser state laid
#    out at other offsets (NaN in the gaps), resumes to a model.safetensors
#    byte-identical to the uninterrupted run's; offsets lacking a tensor: exit 2;
#  - bad input: a weights file without a batch-norm tensor, and an FF that does
#    not fit the device's memory, fail with exit 2, one line naming the tensor /
#    the MiB needed, and no run directory left.
# Measured (2 cores, PoCL, seed 1): FF val AUC 0.97-0.98, LP 0.95-0.96; about 2 minutes.
# Usage: ff_test.sh PATH/TO/movl   (from the repository root)
set -u
movl=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pneu=data/medmnist/pneumoniamnist.npz weights=weights/efficientnet_lite0.safetensors
for f in "$pneu" "$weights"; do
  [ -f "$f" ] || { echo "$f missing (tools/setup.sh fetches it): skipped"; exit 77; }
done
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3) || { echo "python3 missing: skipped"; exit 77; }
source "$(dirname "${BASH_SOURCE[0]}")/check_lib.sh"
export MOVL_STOP_AFTER_STEPS=

cat >"$tmp/ff.ini" <<EOF
[experiment]
name = ff
seed = 1
output_dir = $tmp/runs
[encoder]
arch = efficientnet_lite0
weights = $weights
size = 48
[data]
path = $pneu
max_train = 320
max_eval = 0
[train]
method = ff
epochs = 2
batch_size = 32
lp_epochs = 30
EOF

# Safetensors headers and JSON, standard library only.
cat >"$tmp/h.py" <<'EOF'
import json, math, struct, sys

def header(p):
    with open(p, 'rb') as f:
        n = struct.unpack('<Q', f.read(8))[0]
        return json.loads(f.read(n)), 8 + n

def tensor(p, name):
    h, base = header(p)
    a, b = h[name]['data_offsets']
    with open(p, 'rb') as f:
        f.seek(base + a)
        return struct.unpack('<%df' % ((b - a) // 4), f.read(b - a))

cmd, a = sys.argv[1], sys.argv[2:]
if cmd == 'loss_falls':  # TRACE: mean loss of the last 3 steps < mean of the first 3
    losses = [json.loads(l)['loss'] for l in open(a[0])]
    first, last = sum(losses[:3]) / 3, sum(losses[-3:]) / 3
    print('    %d steps, loss %.4f -> %.4f' % (len(losses), first, last))
    sys.exit(0 if len(losses) >= 6 and all(map(math.isfinite, losses)) and last < first else 1)
if cmd == 'val_auc_above':  # FF_RUN LP_RUN: best val AUC of ff above lp's
    def best(run):
        rows = [l.split(',') for l in open(run + '/metrics.csv').read().splitlines()[1:]]
        return max(float(r[4]) for r in rows if r[4])
    f, l = best(a[0]), best(a[1])
    print('    val auc: ff %.4f, lp %.4f' % (f, l))
    sys.exit(0 if f > l else 1)
if cmd == 'backbone':  # MODEL WEIGHTS: every conv of the pretrained file has a folded tensor; the stem moved
    h, _ = header(a[0])
    w, _ = header(a[1])
    convs = [k[:-len('.weight')] for k in w if k.endswith('conv.weight') or k.endswith('_conv_stem.weight')
             or k.endswith('_conv_head.weight')]
    missing = [c for c in convs if 'backbone.%s.weight' % c not in h or 'backbone.%s.bias' % c not in h]
    stem = h.get('backbone._conv_stem.weight', {}).get('shape')
    meta = h.get('__metadata__', {})
    moved = tensor(a[0], 'backbone._conv_stem.weight') != tensor(a[1], '_conv_stem.weight')
    print('    %d convs in the weights file, %d without a backbone tensor; stem %s; metadata backbone: %s'
          % (len(convs), len(missing), stem, 'backbone' in meta))
    sys.exit(0 if convs and not missing and stem == [32, 3, 3, 3] and 'backbone' in meta and moved
             and 'probe.weight' in h else 1)
if cmd == 'same_test':  # SUMMARY EVAL_JSON: eval's test metrics equal the summary's
    s, e = json.load(open(a[0]))['test'], json.load(open(a[1]))
    e = e.get('metrics', e)
    same = all(abs(s[k] - e[k]) < 1e-12 for k in ('acc', 'auc', 'balanced_acc', 'macro_f1')) and s['n'] == e['n']
    print('    summary test acc %.6f auc %.6f, eval acc %.6f auc %.6f' % (s['acc'], s['auc'], e['acc'], e['auc']))
    sys.exit(0 if same else 1)
if cmd == 'drop':  # IN OUT NAME: a copy of the safetensors file without tensor NAME
    h, base = header(a[0])
    data = open(a[0], 'rb').read()[base:]
    out, blobs, off = {}, [], 0
    for k, v in h.items():
        if k == a[2] or k == '__metadata__':
            continue
        x, y = v['data_offsets']
        blobs.append(data[x:y])
        out[k] = dict(v, data_offsets=[off, off + y - x])
        off += y - x
    text = json.dumps(out).encode()
    with open(a[1], 'wb') as f:
        f.write(struct.pack('<Q', len(text)) + text + b''.join(blobs))
if cmd == 'realign':  # IN OUT ALIGN [DROP]: opt.backbone re-laid at offsets aligned to ALIGN floats (+ALIGN/2),
    # NaN in the gaps, as a device of another alignment would write it (a tensor's offset dropped with DROP)
    h, base = header(a[0])
    data = open(a[0], 'rb').read()[base:]
    meta = h['__metadata__']
    offs = json.loads(meta['backbone_offsets'])
    numel = {k: 1 for k in offs}
    for k in offs:
        for d in h['backbone.' + k]['shape']:
            numel[k] *= d
    st = tensor(a[0], 'opt.backbone')
    n_old, align = len(st) // 2, int(a[2])
    new, end = {}, 0
    for k in sorted(offs, key=offs.get):
        end = -(-end // align) * align + align // 2
        new[k] = end
        end += numel[k]
    out_st = [float('nan')] * (2 * end)
    for slot in range(2):
        for k in offs:
            out_st[slot * end + new[k]:slot * end + new[k] + numel[k]] = \
                st[slot * n_old + offs[k]:slot * n_old + offs[k] + numel[k]]
    if len(a) > 3:
        del new[a[3]]
    meta = dict(meta, backbone_offsets=json.dumps(new))
    out, blobs, off = {'__metadata__': meta}, [], 0
    for k, v in h.items():
        if k == '__metadata__':
            continue
        if k == 'opt.backbone':
            blob = struct.pack('<%df' % len(out_st), *out_st)
            v = dict(v, shape=[len(out_st)])
        else:
            x, y = v['data_offsets']
            blob = data[x:y]
        blobs.append(blob)
        out[k] = dict(v, data_offsets=[off, off + len(blob)])
        off += len(blob)
    text = json.dumps(out).encode()
    with open(a[1], 'wb') as f:
        f.write(struct.pack('<Q', len(text)) + text + b''.join(blobs))
    moved = sum(new[k] != offs[k] for k in new)
    print('    %d of %d tensors moved, %d -> %d floats per slot' % (moved, len(offs), n_old, end))
    sys.exit(0 if moved > 0 else 1)
if cmd == 'fits_batch':  # DEVICES_JSON: a Lite0 batch at 224 px that cannot fit the default device (0: none)
    d = [x for x in json.load(open(a[0]))['devices'] if x.get('default')][0]
    need_per_image = 26e6  # activations of one 224 px image in FF, measured (13.3 GB at batch 512)
    b = int(1.5 * d['global_mem_bytes'] / need_per_image) + 1
    print(b if b <= 880 else 0)  # larger batches exceed the conv's 2^30-element tensors first
EOF
h() { "$PY" "$tmp/h.py" "$@"; }

echo "== ff trains"
if MOVL_TRACE="$tmp/trace" "$movl" train "$tmp/ff.ini" >"$tmp/ff.log" 2>&1; then
  ok
  check "ff: the loss falls" h loss_falls "$tmp/trace"
  "$movl" train "$tmp/ff.ini" -s train.method=lp -s experiment.name=lp >"$tmp/lp.log" 2>&1 || bad "lp run: $(tail -1 "$tmp/lp.log")"
  check "ff: val AUC above the linear probe's on the same data" h val_auc_above "$tmp/runs/ff" "$tmp/runs/lp"
  check "ff: model.safetensors holds the fine-tuned backbone" h backbone "$tmp/runs/ff/model.safetensors" "$weights"
  "$movl" eval "$tmp/runs/ff" --json >"$tmp/eval.json" 2>"$tmp/eval.err" || bad "eval: $(tail -1 "$tmp/eval.err")"
  check "ff: eval reproduces the run's test metrics" h same_test "$tmp/runs/ff/summary.json" "$tmp/eval.json"
  grep -q 'trainable parameters' "$tmp/ff.log" && ok || bad "ff: no trainable-parameter count in the log"
else
  bad "ff run failed: $(tail -1 "$tmp/ff.log")"
fi

echo "== resume on a device of another alignment"
# 20 steps in all (320 images, batch 32, 2 epochs); stop mid-epoch 1.
out=$(MOVL_STOP_AFTER_STEPS=13 "$movl" train "$tmp/ff.ini" -s experiment.output_dir="$tmp/stop" 2>&1)
[ $? = 130 ] && ok || bad "ff stopped after 13 steps: expected exit 130: $(tail -1 <<<"$out")"
cp -r "$tmp/stop/ff" "$tmp/stop/bad"
if check "checkpoint re-laid at 48-float alignment" h realign "$tmp/stop/ff/resume.safetensors" "$tmp/re.safetensors" 48; then
  mv "$tmp/re.safetensors" "$tmp/stop/ff/resume.safetensors"
  if "$movl" train --resume "$tmp/stop/ff" >"$tmp/resume.log" 2>&1; then
    check "resumed at another alignment: model.safetensors byte-identical to the uninterrupted run" \
      cmp -s "$tmp/runs/ff/model.safetensors" "$tmp/stop/ff/model.safetensors"
  else
    bad "resume at another alignment failed: $(tail -1 "$tmp/resume.log")"
  fi
fi
h realign "$tmp/stop/bad/resume.safetensors" "$tmp/re.safetensors" 48 _conv_stem.weight >/dev/null &&
  mv "$tmp/re.safetensors" "$tmp/stop/bad/resume.safetensors"
expect 2 "resume.safetensors: metadata 'backbone_offsets' lacks tensor '_conv_stem.weight'" "$movl" train --resume "$tmp/stop/bad"

echo "== bad input"
h drop "$weights" "$tmp/nobn.safetensors" "_blocks.3._bn1.running_var"
expect 2 "nobn.safetensors: missing tensor '_blocks.3._bn1.running_var'" \
  "$movl" train "$tmp/ff.ini" -s encoder.weights="$tmp/nobn.safetensors" -s experiment.name=nobn
check "missing tensor: no run directory" test ! -e "$tmp/runs/nobn"
"$movl" devices --json >"$tmp/devices.json" 2>/dev/null
big=$(h fits_batch "$tmp/devices.json")
if [ "${big:-0}" -gt 0 ]; then
  expect 2 "full fine-tuning at batch $big, size 224 needs at least [0-9]+ MiB of device memory .* has [0-9]+ MiB" \
    "$movl" train "$tmp/ff.ini" -s encoder.size=224 -s train.batch_size=$big -s experiment.name=big
  check "too big: no run directory" test ! -e "$tmp/runs/big"
  out=$("$movl" train "$tmp/ff.ini" -s encoder.size=224 -s train.batch_size=$big -s experiment.name=big 2>&1 | grep 'movl train:')
  [ "$(wc -l <<<"$out")" = 1 ] && ok || bad "too big: the error is not one line: $out"
else
  echo "  (the default device is too large for the memory check: skipped)"
fi

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
