"""Seed corpora for the fuzz harnesses, cut from real files at run time (too large to commit whole):
image: pydicom's DICOM test files under 64 KiB, matplotlib's sample JPEG, the test photographs (PNG);
safetensors: the first tensors of the EfficientNet-Lite0 weights, rewritten as small valid files;
npz: 4 images per split of each shipped MedMNIST file, stored and deflated; ini: every config;
unpickler: torch.save state dicts (zip and legacy) when PyTorch is there.
Usage: make_seeds.py OUT_DIR (one sub-folder per harness). Missing sources are skipped with a note."""
import glob
import io
import json
import os
import struct
import sys

import numpy as np

out = sys.argv[1]
root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def put(harness, name, data):
    os.makedirs(os.path.join(out, harness), exist_ok=True)
    with open(os.path.join(out, harness, name), "wb") as f:
        f.write(data)


def read(p):
    with open(p, "rb") as f:
        return f.read()


# image
try:
    import pydicom
    files = os.path.join(os.path.dirname(pydicom.__file__), "data", "test_files")
    for p in sorted(glob.glob(files + "/*.dcm")) + sorted(glob.glob(files + "/dicomdirtests/*/*/*")):
        if os.path.isfile(p) and os.path.getsize(p) <= 65536:
            put("image", os.path.relpath(p, files).replace("/", "_"), read(p))
except ImportError:
    print("make_seeds: no pydicom, no DICOM seeds")
for p in ["/usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg"] + glob.glob(root + "/tests/data/photos/*.png"):
    if os.path.exists(p):
        put("image", os.path.basename(p), read(p))

# safetensors: small valid files from the real weights' first tensors
w = os.path.join(root, "weights", "efficientnet_lite0.safetensors")
if os.path.exists(w):
    with open(w, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        base = 8 + n
        names = [k for k in header if k != "__metadata__"][:4]
        tensors, blob = {}, b""
        for k in names:
            a, b = header[k]["data_offsets"]
            f.seek(base + a)
            data = f.read(b - a)
            tensors[k] = dict(header[k], data_offsets=[len(blob), len(blob) + len(data)])
            blob += data
    for meta_name, meta in (("plain", None), ("model", {"classes": "2", "class_names": "[\"normal\", \"pneumonia\"]"})):
        h = dict(tensors)
        if meta:
            h["__metadata__"] = meta
        text = json.dumps(h).encode()
        put("safetensors", meta_name + ".safetensors", struct.pack("<Q", len(text)) + text + blob)
else:
    print("make_seeds: no weights, no safetensors seeds beyond the committed corpus")

# npz
for p in sorted(glob.glob(root + "/data/medmnist/*.npz")):
    d = np.load(p)
    small = {k: d[k][:4] for k in d.files}
    for how, save in (("stored", np.savez), ("deflated", np.savez_compressed)):
        buf = io.BytesIO()
        save(buf, **small)
        put("npz", os.path.basename(p)[:-4] + "_" + how + ".npz", buf.getvalue())

# ini: every shipped config, and one with -s overrides after a NUL
for p in sorted(glob.glob(root + "/configs/*.ini") + glob.glob(root + "/configs/paper/*.ini")):
    put("ini", os.path.relpath(p, root + "/configs").replace("/", "_"), read(p))
movl_ini = os.path.join(root, "configs", "movl.ini")
if os.path.exists(movl_ini):
    put("ini", "movl_overrides.ini", read(movl_ini) + b"\0loss.lambda=0.5\0prompt.size=12\0data.window=40,400")

# unpickler
try:
    import collections
    import torch
    sd = collections.OrderedDict(w=torch.randn(3, 4), b=torch.zeros(2, dtype=torch.float16), i=torch.arange(3))
    for name, kw in (("zip.pth", {}), ("legacy.pth", {"_use_new_zipfile_serialization": False})):
        buf = io.BytesIO()
        torch.save(sd, buf, **kw)
        put("unpickler", name, buf.getvalue())
    buf = io.BytesIO()
    torch.save({"state_dict": {"module.x": torch.randn(2, 3).t()}}, buf)
    put("unpickler", "nested_view.pth", buf.getvalue())
except ImportError:
    print("make_seeds: no PyTorch, no checkpoint seeds beyond the committed corpus")
