#!/usr/bin/env bash
# tools/pth2safetensors.py against PyTorch itself: random state dicts saved by
# torch.save in the zip and the legacy format (views with offsets and strides,
# expanded and channels-last tensors, F16/BF16/F64 with special values, 0-d
# and empty tensors), a hand-built legacy file with storage views, wrapped
# checkpoints with a 'module.' prefix, a torchvision ResNet-18 and a
# TorchScript archive (torch.jit.save, the format of OpenAI's CLIP files); every
# tensor must match torch bit-exactly. Malicious pickles must be refused with
# exit code 2 and nothing written. The converter runs with torch and numpy
# blocked, to prove it needs neither.
# Exit 77 (skip) when the Python with torch is missing. Optional: MOVL_TEST_PTH
# names a real checkpoint to convert and compare as well.
set -u
PY=${MOVL_TORCH_PYTHON:-/usr/bin/python3}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
if ! "$PY" -c 'import torch, torchvision, numpy' >/dev/null 2>&1; then
    echo "SKIP: $PY cannot import torch, torchvision and numpy"
    exit 77
fi
exec "$PY" - "$ROOT/tools/pth2safetensors.py" <<'PYEOF'
import collections, io, json, os, pickle, random, shutil, struct, subprocess, sys, tempfile, zipfile
import torch, torchvision

CONVERTER = sys.argv[1]
# runs the converter with torch and numpy made unimportable
RUNNER = ("import sys, runpy; sys.modules['torch'] = None; sys.modules['numpy'] = None; "
          "sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')")
passed = failed = 0


def check(cond, msg):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL", msg)


def convert(*args):
    r = subprocess.run([sys.executable, "-c", RUNNER, CONVERTER, *args], capture_output=True, text=True)
    return r.returncode, r.stdout, r.stderr


def read_safetensors(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    return n, header, raw[8 + n:]


def compare(label, sd, path, strip=""):
    """Every float tensor of sd must be in path, F32, same shape, same bits."""
    n, header, data = read_safetensors(path)
    check(n % 8 == 0, "%s: header length %d not a multiple of 8" % (label, n))
    names = [k for k in header if k != "__metadata__"]
    want = [k[len(strip):] if k.startswith(strip) else k for k, v in sd.items() if v.is_floating_point()]
    check(names == want, "%s: names %s, expected %s" % (label, names[:5], want[:5]))
    end = 0
    for key, t in sd.items():
        name = key[len(strip):] if key.startswith(strip) else key
        if not t.is_floating_point():
            check(name not in header, "%s: non-float tensor %s was written" % (label, name))
            continue
        e = header.get(name)
        if e is None:
            continue
        b, en = e["data_offsets"]
        check(b == end, "%s: %s starts at %d, expected %d (packed)" % (label, name, b, end))
        end = en
        check(e["dtype"] == "F32" and e["shape"] == list(t.shape), "%s: %s dtype/shape %s" % (label, name, e))
        ref = t.detach().float().contiguous().numpy().tobytes()
        check(data[b:en] == ref, "%s: tensor %s differs from torch" % (label, name))
    check(end == len(data), "%s: data block has %d bytes, tensors cover %d" % (label, len(data), end))


def no_temp_files(label, d):
    left = [f for f in os.listdir(d) if ".tmp." in f]
    check(not left, "%s: temp files left behind: %s" % (label, left))


def random_state_dict(g):
    sd = collections.OrderedDict()
    base = torch.randn(6, 10, generator=g)
    sd["conv.weight"] = torch.randn(8, 3, 3, 3, generator=g)
    sd["view.offset"] = base[2:5, 1:9:2]  # storage offset 21, strides (10, 2)
    sd["view.t"] = base.t()  # shares base's storage
    sd["chlast"] = torch.randn(4, 3, 5, 5, generator=g).contiguous(memory_format=torch.channels_last)
    sd["expanded"] = torch.randn(3, 1, generator=g).expand(3, 4)  # stride 0
    half = torch.randn(5, 7, generator=g).half()
    half.view(-1)[:7] = torch.tensor([float("inf"), -float("inf"), 6e-8, -3e-6, 65504.0, -0.0, float("nan")])
    sd["half"] = half
    sd["half.view"] = half[1:, 2:6]
    sd["bf16"] = torch.randn(4, 4, generator=g).bfloat16()
    f64 = torch.randn(3, 3, generator=g, dtype=torch.float64)
    f64.view(-1)[:4] = torch.tensor([1e300, -1e-300, 1.0 + 2.0 ** -30, 3.0000001], dtype=torch.float64)
    sd["f64"] = f64
    sd["scalar"] = torch.tensor(3.25)
    sd["empty"] = torch.zeros(0, 4)
    sd["param"] = torch.nn.Parameter(torch.randn(3, generator=g))
    sd["bn.num_batches_tracked"] = torch.tensor(7)
    sd["mask"] = torch.tensor([True, False])
    return sd


class RawStorage:
    """Placeholder pickled as a legacy persistent id with a view."""

    def __init__(self, pid):
        self.pid = pid


class RawTensor:
    def __init__(self, storage, offset, size, stride):
        self.args = (storage, offset, size, stride, False, collections.OrderedDict())

    def __reduce__(self):
        return (torch._utils._rebuild_tensor_v2, self.args)


class LegacyPickler(pickle.Pickler):
    def persistent_id(self, obj):
        return obj.pid if isinstance(obj, RawStorage) else None


def write_legacy_with_views(path, values):
    """A legacy checkpoint whose tensors use storage views (view_metadata),
    as PyTorch < 1.6 wrote them; torch.load reads it as the reference."""
    root = RawStorage(("storage", torch.FloatStorage, "root0", "cpu", len(values), None))
    v1 = RawStorage(("storage", torch.FloatStorage, "root0", "cpu", len(values), ("view1", 4, 12)))
    v2 = RawStorage(("storage", torch.FloatStorage, "root0", "cpu", len(values), ("view2", 10, 6)))
    sd = collections.OrderedDict()
    sd["whole"] = RawTensor(root, 0, (len(values),), (1,))
    sd["view1.mat"] = RawTensor(v1, 1, (3, 3), (1, 3))  # transposed, inside view1
    sd["view2.vec"] = RawTensor(v2, 2, (4,), (1,))
    with open(path, "wb") as f:
        for head in (0x1950A86A20F9469CFC6C, 1001,
                     dict(protocol_version=1001, little_endian=True, type_sizes=dict(short=2, int=4, long=4))):
            pickle.dump(head, f, protocol=2)
        LegacyPickler(f, protocol=2).dump(sd)
        pickle.dump(["root0"], f, protocol=2)
        f.write(struct.pack("<q", len(values)))
        f.write(struct.pack("<%df" % len(values), *values))


class Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, ("touch " + self.marker,))


def expect_refused(label, path, out, phrase, marker=None):
    rc, _, err = convert(path, out)
    check(rc == 2, "%s: exit code %d, expected 2 (%s)" % (label, rc, err.strip()))
    check(phrase in err and path in err, "%s: message lacks '%s' or the file name: %s" % (label, phrase, err.strip()))
    check(len(err.strip().splitlines()) == 1, "%s: error is not one line: %s" % (label, err))
    check(not os.path.exists(out), "%s: output was written" % label)
    if marker:
        check(not os.path.exists(marker), "%s: the pickle's code ran" % label)


def main():
    seed = int(os.environ.get("MOVL_TEST_SEED", random.randrange(1 << 31))) % (1 << 31)
    print("seed: %d (replay with MOVL_TEST_SEED)" % seed)
    g = torch.Generator().manual_seed(seed)
    d = tempfile.mkdtemp(prefix="movl_test_convert_")
    try:
        sd = random_state_dict(g)
        for fmt, zipped in (("zip", True), ("legacy", False)):
            src, out = os.path.join(d, fmt + ".pth"), os.path.join(d, fmt + ".safetensors")
            torch.save(sd, src, _use_new_zipfile_serialization=zipped)
            check(zipfile.is_zipfile(src) == zipped, "%s: torch.save wrote the wrong format" % fmt)
            rc, _, err = convert(src, out)
            check(rc == 0, "%s: converter failed: %s" % (fmt, err.strip()))
            check("left out 2 non-float tensors" in err, "%s: no note on the int/bool tensors: %s" % (fmt, err))
            if rc == 0:
                compare(fmt, torch.load(src), out)
                meta = read_safetensors(out)[1].get("__metadata__", {})
                check(meta.get("source") == fmt + ".pth", "%s: metadata %s" % (fmt, meta))

        # wrapped checkpoint with a DataParallel prefix
        wrapped = {"epoch": 3, "state_dict": collections.OrderedDict(("module." + k, v) for k, v in sd.items())}
        src, out = os.path.join(d, "wrapped.pth"), os.path.join(d, "wrapped.safetensors")
        torch.save(wrapped, src)
        rc, _, err = convert("--prefix-strip", "module.", src, out)
        check(rc == 0 and "using the 'state_dict' entry" in err, "wrapped: rc %d: %s" % (rc, err.strip()))
        if rc == 0:
            compare("wrapped", torch.load(src)["state_dict"], out, strip="module.")

        # legacy storage views (view_metadata), read by torch as the reference
        src, out = os.path.join(d, "legacy_views.pth"), os.path.join(d, "legacy_views.safetensors")
        rnd = random.Random(seed)
        write_legacy_with_views(src, [rnd.uniform(-1, 1) for _ in range(20)])
        ref = torch.load(src)
        check(ref["view1.mat"][0, 1].item() == ref["whole"][4 + 1 + 3].item(), "legacy views: torch reads views")
        rc, _, err = convert(src, out)
        check(rc == 0, "legacy views: %s" % err.strip())
        if rc == 0:
            compare("legacy views", ref, out)

        # a real network layout: torchvision ResNet-18, random init
        src, out = os.path.join(d, "resnet18.pth"), os.path.join(d, "resnet18.safetensors")
        torch.save(torchvision.models.resnet18().state_dict(), src)
        rc, _, err = convert(src, out)
        check(rc == 0, "resnet18: %s" % err.strip())
        if rc == 0:
            compare("resnet18", torch.load(src), out)
            check(len(read_safetensors(out)[1]) == 102 + 1, "resnet18: 102 float tensors expected")

        # a TorchScript archive (torch.jit.save, as OpenAI's CLIP .pt files): nested modules, an F16
        # parameter and an int buffer (left out); names and order as state_dict() gives them
        class Inner(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.attn = torch.nn.MultiheadAttention(8, 2)
                self.ln_1 = torch.nn.LayerNorm(8)
                self.register_buffer("input_resolution", torch.tensor(224))

            def forward(self, x):
                return self.ln_1(self.attn(x, x, x, need_weights=False)[0])

        class Outer(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.visual = Inner()
                self.proj = torch.nn.Parameter(torch.randn(8, 4, generator=g).half())
                self.class_embedding = torch.nn.Parameter(torch.randn(8, generator=g))

            def forward(self, x):
                return self.visual(x + self.class_embedding) @ self.proj.float()

        script = torch.jit.trace(Outer().eval(), torch.randn(3, 1, 8, generator=g))  # script() needs a source file
        src, out = os.path.join(d, "script.pt"), os.path.join(d, "script.safetensors")
        torch.jit.save(script, src)
        rc, _, err = convert(src, out)
        check(rc == 0 and "TorchScript" in err and "left out 1 non-float tensors" in err,
              "torchscript: rc %d: %s" % (rc, err.strip()))
        if rc == 0:
            compare("torchscript", torch.jit.load(src).state_dict(), out)

        rc, listing, _ = convert("--list", os.path.join(d, "legacy.pth"))
        check(rc == 0 and "conv.weight\tF32\t[8, 3, 3, 3]" in listing and "half\tF16\t[5, 7]" in listing
              and "bn.num_batches_tracked\tI64\t[]" in listing, "--list output: %s" % listing[:200])

        # malicious and broken inputs: exit 2, nothing written, no code run
        marker = os.path.join(d, "pwned")
        evil = os.path.join(d, "evil.pkl")
        with open(evil, "wb") as f:
            pickle.dump(Evil(marker), f, protocol=2)
        expect_refused("plain evil pickle", evil, os.path.join(d, "evil1.safetensors"),
                       "refusing to load GLOBAL posix.system", marker)
        evil_zip = os.path.join(d, "evil_zip.pth")
        with zipfile.ZipFile(evil_zip, "w") as z:
            z.writestr("archive/data.pkl", pickle.dumps({"w": Evil(marker)}, protocol=2))
        expect_refused("evil zip", evil_zip, os.path.join(d, "evil2.safetensors"),
                       "refusing to load GLOBAL posix.system", marker)
        evil_legacy = os.path.join(d, "evil_legacy.pth")
        with open(evil_legacy, "wb") as f:
            for head in (0x1950A86A20F9469CFC6C, 1001, {"little_endian": True}):
                pickle.dump(head, f, protocol=2)
            pickle.dump(collections.OrderedDict(w=Evil(marker)), f, protocol=4)
        expect_refused("evil legacy", evil_legacy, os.path.join(d, "evil3.safetensors"),
                       "refusing to load GLOBAL posix.system", marker)
        build = os.path.join(d, "build.pth")  # BUILD (setattr) onto a storage type object
        with open(build, "wb") as f:
            f.write(b"\x80\x02ctorch\nFloatStorage\nq\x00}q\x01X\x01\x00\x00\x00aq\x02K\x01sb.")
        expect_refused("BUILD on a non-dict", build, os.path.join(d, "build.safetensors"),
                       "refusing to BUILD a StorageType")
        newobj = os.path.join(d, "newobj.pth")  # NEWOBJ of an allowed global that is not a module record
        with open(newobj, "wb") as f:
            f.write(b"\x80\x02ccollections\nOrderedDict\nq\x00)\x81q\x01.")
        expect_refused("NEWOBJ of a non-module", newobj, os.path.join(d, "newobj.safetensors"), "refusing NEWOBJ")
        module = os.path.join(d, "module.pth")
        torch.save(torch.nn.Linear(2, 2), module)
        expect_refused("pickled nn.Module", module, os.path.join(d, "module.safetensors"),
                       "refusing to load GLOBAL torch.nn.modules.linear.Linear")
        legacy = open(os.path.join(d, "legacy.pth"), "rb").read()
        cut = os.path.join(d, "cut.pth")
        with open(cut, "wb") as f:
            f.write(legacy[:-10])
        expect_refused("truncated legacy", cut, os.path.join(d, "cut.safetensors"), "file truncated")
        garbage = os.path.join(d, "garbage.pth")
        with open(garbage, "wb") as f:
            f.write(b"\x00not a checkpoint at all")
        expect_refused("garbage", garbage, os.path.join(d, "garbage.safetensors"), "not a PyTorch checkpoint")
        expect_refused("missing input", os.path.join(d, "nope.pth"), os.path.join(d, "nope.safetensors"),
                       "no such file")
        no_temp_files("all conversions", d)

        real = os.environ.get("MOVL_TEST_PTH")
        if real:
            out = os.path.join(d, "real.safetensors")
            rc, _, err = convert(real, out)
            check(rc == 0, "real checkpoint %s: %s" % (real, err.strip()))
            if rc == 0:
                ref = torch.load(real, map_location="cpu")
                compare("real checkpoint", ref.get("state_dict", ref), out)
    finally:
        shutil.rmtree(d, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 and passed > 0 else 1


sys.exit(main())
PYEOF
