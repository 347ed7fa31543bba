#!/usr/bin/env bash
# `movl bench` on tiny runs: the --json document holds every field listed in
# docs/PERFORMANCE.md with positive, self-consistent values (op shares sum to
# 1, FLOP/s = images/s x FLOP/image); the text report has its sections;
# --compare prints one column per device and file and writes a PNG chart; --ff adds a full
# fine-tuning step with its figures, parts and per-layer split; bad
# input exits 2 with a one-line message naming the file or option; a device
# failing the self-test exits 3. Timings are printed, never asserted.
# Usage: bench_test.sh PATH/TO/movl   (from the repository root)
# About 30 s on a 2-core CPU (PoCL). Exit 77 (skipped) without an OpenCL
# device or without python3.
set -u
movl=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
source "$(dirname "${BASH_SOURCE[0]}")/check_lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$movl" devices >/dev/null 2>&1 || { echo "no OpenCL device: skipped"; exit 77; }
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3) || { echo "python3 missing: skipped"; exit 77; }
start=$SECONDS

# check_json FILE BATCHES SELF_TEST(1|0): the documented fields and their invariants.
check_json() {
  "$PY" - "$@" <<'PY'
import json, math, sys
path, batches, self_test = sys.argv[1], [int(b) for b in sys.argv[2].split(",")], sys.argv[3] == "1"
doc = json.load(open(path))
problems = []
def need(cond, what):
    if not cond:
        problems.append(what)
def positive(o, key, where):
    v = o.get(key)
    need(isinstance(v, (int, float)) and math.isfinite(v) and v > 0,
         f"{where}.{key} = {v!r} is not a positive number")
def close(a, b, what, rel=1e-6):
    need(abs(a - b) <= rel * max(abs(a), abs(b), 1e-30), f"{what}: {a} != {b}")

need(isinstance(doc.get("movl_version"), str), "movl_version")
for key in ("iters", "classes"):
    positive(doc, key, "doc")
devs = doc.get("devices")
need(isinstance(devs, list) and len(devs) == 1, "devices: one device expected")
for d in devs or []:
    for key in ("name", "selector", "type", "vendor", "platform", "platform_version", "driver_version",
                "opencl_c_version"):
        need(isinstance(d.get(key), str) and d[key], f"device.{key} is not a non-empty string")
    positive(d, "compute_units", "device")
    need(isinstance(d.get("clock_mhz"), (int, float)), "device.clock_mhz")
    need(isinstance(d.get("self_test"), str) if self_test else d.get("self_test") is None,
         f"device.self_test = {d.get('self_test')!r} (self-test {'run' if self_test else 'skipped'})")
    peak = d.get("peak", {})
    for key in ("gflop_s", "gb_s", "fma_vector_width", "fma_work_items", "fma_rounds", "fma_s", "triad_bytes",
                "triad_s"):
        positive(peak, key, "peak")
    runs = d.get("runs", [])
    got = [r.get("batch") for r in runs]
    need(got == batches, f"runs: batches {got}, expected {batches}")
    for r in runs:
        where = f"runs[batch {r.get('batch')}]"
        need(r.get("arch") == "resnet18" and r.get("size") == 64 and r.get("iters") == 1,
             f"{where}: arch/size/iters")
        for key in ("load_s", "forward_img_s", "train_step_img_s", "forward_gflop_s", "train_step_gflop_s",
                    "gflop_per_image", "device_bytes", "ops_fraction_of_step"):
            positive(r, key, where)
        close(r["forward_gflop_s"], r["forward_img_s"] * r["gflop_per_image"], f"{where}: forward GFLOP/s")
        close(r["train_step_gflop_s"], 2 * r["train_step_img_s"] * r["gflop_per_image"], f"{where}: step GFLOP/s")
        ops, kinds = r.get("ops", []), r.get("op_kinds", [])
        need(len(ops) > 20, f"{where}: {len(ops)} ops (resnet18 has more than 20 layers)")
        for op in ops + kinds:
            for key in ("gflop", "bytes", "forward_ms", "backward_ms", "share", "gflop_s", "flop_per_byte",
                        "roofline_pct"):
                v = op.get(key)
                need(isinstance(v, (int, float)) and math.isfinite(v) and v >= 0,
                     f"{where} {op.get('name', op.get('kind'))}.{key} = {v!r}")
            need(op.get("kind") in ("conv", "depthwise_conv", "pool", "eltwise", "linear"),
                 f"{where}: kind {op.get('kind')!r}")
        for op in ops:
            if op.get("kind") == "conv":
                positive(op, "gflop", op["name"])
                positive(op, "roofline_pct", op["name"])
        # Bytes moved (fp32, inputs + weights + outputs) worked out by hand for 64x64 inputs.
        B, by_name = r["batch"], {op["name"]: op for op in ops}
        expected = {"conv1": ("conv", 4 * (B * (3 * 64 * 64 + 64 * 32 * 32) + 64 * 3 * 7 * 7 + 64)),
                    "maxpool": ("pool", 4 * B * (64 * 32 * 32 + 2 * 64 * 16 * 16)),  # + argmax
                    "layer1.0.add_relu": ("eltwise", 4 * B * 3 * 64 * 16 * 16),
                    "fc": ("linear", 4 * (B * (512 + 1000) + 512 * 1000 + 1000))}
        for name, (kind, nbytes) in expected.items():
            op = by_name.get(name, {})
            need(op.get("kind") == kind and op.get("bytes") == nbytes,
                 f"{where} {name}: kind {op.get('kind')!r}, {op.get('bytes')} bytes, expected {kind}, {nbytes}")
        close(sum(op["share"] for op in ops), 1.0, f"{where}: op shares sum")
        close(sum(k["share"] for k in kinds), 1.0, f"{where}: op kind shares sum")
        close(sum(op["gflop"] for op in ops), r["gflop_per_image"] * r["batch"], f"{where}: op GFLOP sum")
        need(sorted(k["kind"] for k in kinds) == sorted(set(op["kind"] for op in ops)), f"{where}: op_kinds")
        need(sorted(set(op["kind"] for op in ops)) == ["conv", "eltwise", "linear", "pool"],
             f"{where}: resnet18 op kinds")
    if len(runs) > 1:
        need(runs[-1]["device_bytes"] > runs[0]["device_bytes"], "device memory grows with the batch")
for p in problems:
    print(p)
sys.exit(1 if problems else 0)
PY
}

# Two tiny runs on the default device; the second names it twice (run once)
# and skips the self-test (whose fault switch then cannot fire).
cd "$tmp"
if "$movl" bench --arch resnet18 --batch 1,2 --size 64 --iters 1 --json >a.json 2>a.err; then
  ok
  if check_json a.json 1,2 1; then ok; else bad "a.json fields (above)"; fi
else
  bad "bench a failed: $(head -3 a.err)"
fi
sel=$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["devices"][0]["selector"])' a.json 2>/dev/null)
if env MOVL_SELFTEST_FAULT=conv "$movl" bench --device "${sel:-0},${sel:-0}" --arch resnet18 --batch 3 --size 64 \
  --iters 1 --json --no-self-test >b.json 2>b.err; then
  ok
  if check_json b.json 3 0; then ok; else bad "b.json fields (above)"; fi
else
  bad "bench b failed: $(head -3 b.err)"
fi

# Text report: header with self-test and peaks, a row per batch, the op table at the largest batch.
out=$("$movl" bench --arch resnet18 --batch 2,1 --size 64 --iters 1 2>&1)
for want in "self-test: " "peak fp32 [0-9.]+ GFLOP/s .*memory [0-9.]+ GB/s" "resnet18, 64x64" "^ +2 +[0-9.]+ " \
  "^ +1 +[0-9.]+ " "per op, training step at batch 2" "layer4\.1\.conv2 +conv +[0-9.]+" "per op kind:"; do
  if grep -Eq -- "$want" <<<"$out"; then ok; else bad "text report lacks '$want'"; fi
done

# --compare: both files' columns (same device name: labelled by file), every run's rows, a PNG.
if [ -s a.json ] && [ -s b.json ]; then
  expect 0 "\(a\.json\).*\(b\.json\)" "$movl" bench --compare a.json b.json
  out=$("$movl" bench --compare a.json b.json --png "$tmp/sub.png" 2>&1)
  for want in "peak fp32 GFLOP/s" "peak memory GB/s" "resnet18 64 b1 forward img/s" \
    "resnet18 64 b3 training img/s"; do
    if grep -q -- "$want" <<<"$out"; then ok; else bad "--compare table lacks '$want'"; fi
  done
  # b1 exists only in a.json: its b.json cell is '-'.
  if grep -Eq -- "resnet18 64 b1 forward img/s +[0-9.]+ +-$" <<<"$out"; then
    ok
  else
    bad "--compare: missing cell is not '-'"
  fi
  for png in bench_compare.png sub.png; do
    if [ -s "$png" ] && [ "$(head -c 8 "$png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]; then
      ok
    else
      bad "$png is not a PNG"
    fi
  done
fi

# --ff: one tiny full fine-tuning run. Its JSON section has the documented fields; the backbone's
# trained values are ResNet-18's BN-folded conv weights and biases, counted by hand from torchvision
# (11,689,512 parameters - fc's 513,000 - BN's 2 x 4,800 + one bias per BN channel, 4,800); only
# convs have weight gradients; weights, gradients and Adam's m and v hold at least 4 floats per value.
if "$movl" bench --ff --arch resnet18 --batch 2 --size 32 --iters 1 --json --no-self-test >ff.json 2>ff.err; then
  ok
  if "$PY" - ff.json <<'PY'; then ok; else bad "ff.json fields (above)"; fi
import json, math, sys
r = json.load(open(sys.argv[1]))["devices"][0]["runs"][0]
f, problems = r.get("full_finetune", {}), []
def need(cond, what):
    if not cond:
        problems.append(what)
def num(o, key, lo=0.0):
    v = o.get(key)
    need(isinstance(v, (int, float)) and math.isfinite(v) and v >= lo, f"{key} = {v!r}")
    return v if isinstance(v, (int, float)) else 0
for key in ("img_s", "step_ms_min", "step_ms_median", "step_ms_mean", "param_state_bytes", "other_bytes",
            "device_bytes"):
    num(f, key, 1e-12)
need(f.get("repeats") == 1, f"repeats {f.get('repeats')!r}")
need(num(f, "step_ms_min") <= num(f, "step_ms_median"), "min step above the median")
need(f.get("backbone_params") == 11689512 - 513000 - 2 * 4800 + 4800, f"backbone_params {f.get('backbone_params')}")
need(num(f, "param_state_bytes") >= 16 * f.get("backbone_params", 0), "weights + gradients + Adam < 16 bytes/value")
close = abs(num(f, "device_bytes") - num(f, "param_state_bytes") - num(f, "other_bytes")) <= 1
need(close, "device_bytes != param_state_bytes + other_bytes")
parts = f.get("parts_ms", {})
need(sorted(parts) == sorted(["forward", "probe", "backward", "adam", "repack", "probe_update"]), f"parts {parts}")
for k in parts:
    num(parts, k)
ops = f.get("ops", [])
need([o.get("name") for o in ops] == [o["name"] for o in r["ops"]], "ff ops are not the frozen run's layers")
for o in ops:
    for key in ("forward_ms", "backward_input_ms", "weight_grad_ms"):
        num(o, key)
    if o.get("kind") not in ("conv", "depthwise_conv"):
        need(o.get("weight_grad_ms") == 0, f"{o.get('name')}: a weight gradient without weights")
for p in problems:
    print(p)
sys.exit(1 if problems else 0)
PY
else
  bad "bench --ff failed: $(head -3 ff.err)"
fi
out=$("$movl" bench --ff --arch resnet18 --batch 1 --size 32 --iters 1 --no-self-test 2>&1)
for want in "full fine-tuning step" "FF img/s +ms/step min +median" "^ +1 +[0-9.]+ +[0-9.]+ +[0-9.]+ +11\.17 " \
  "where a full fine-tuning step goes at batch 1" "of it, per layer: weight gradients" "Adam over the backbone" \
  "repack the conv weights" "slowest weight gradients"; do
  if grep -Eq -- "$want" <<<"$out"; then ok; else bad "--ff text report lacks '$want'"; fi
done

# Bad input: exit 2 and a one-line message naming the file or option.
printf 'not json {' >bad.json
printf '{"devices": [{"name": "x", "peak": {"gflop_s": 1}}]}' >other.json
expect 2 "missing\.json: cannot open" "$movl" bench --compare a.json missing.json
expect 2 "bad\.json: not valid JSON" "$movl" bench --compare bad.json
expect 2 "other\.json: not a 'movl bench --json' document: devices\[0\] lacks" "$movl" bench --compare other.json
# a size of 3.4e10 (found by fuzzing: undefined behaviour where it was cast to int)
printf '{"devices": [{"name": "x", "peak": {"gflop_s": 1, "gb_s": 1}, "runs": [{"arch": "resnet18", "batch": 2,
  "size": 3.4e10, "forward_img_s": 1, "train_step_img_s": 1}]}]}' >huge.json
expect 2 "huge\.json: not a 'movl bench --json' document: devices\[0\]\.runs\[0\] lacks a whole number 'size' from 1 to 1048576 \(not 3\.4e\+10\)" \
  "$movl" bench --compare huge.json
expect 2 "--compare expects one or more JSON files" "$movl" bench --compare
expect 2 "--compare takes JSON files and --png only" "$movl" bench --compare a.json --batch 2
expect 2 "--compare takes JSON files and --png only" "$movl" bench --compare a.json --ff
expect 2 "--png names the chart of --compare" "$movl" bench --png x.png
expect 2 "--arch must be one of" "$movl" bench --arch resnet18,vgg16
expect 2 "--batch expects batch sizes 1..1024" "$movl" bench --batch 1,0
expect 2 "--size expects 32..1024" "$movl" bench --size 16
expect 2 "--all and --device exclude each other" "$movl" bench --all --device 0
expect 2 "--device 'no-such-device' matches no OpenCL device" "$movl" bench --device 0,no-such-device
expect 2 "--weights holds one encoder's weights" "$movl" bench --arch resnet18,resnet34 --weights w.safetensors
expect 2 "unknown option or missing value '--bogus'" "$movl" bench --bogus
[ ! -e x.png ] && ok || bad "a rejected command wrote x.png"

# A device that fails the self-test stops the bench with exit 3.
expect 3 "failed the self-test" env MOVL_SELFTEST_FAULT=conv "$movl" bench --arch resnet18 --batch 1 --size 64 --iters 1

echo "time: $((SECONDS - start)) s"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
