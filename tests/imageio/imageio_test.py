"""movl's image readers against independent decoders, on files no one here made.

DICOM: the test files shipped in the pydicom wheel (CT, MR, CR, RT dose, secondary captures; uncompressed
little/big endian, implicit VR, deflate, RLE, JPEG baseline/extended/lossless, JPEG-LS, JPEG 2000), decoded
by pydicom with its pylibjpeg plugins. Stored values must be equal for lossless encodings; lossy ones may
differ by the rounding of two different IDCTs: at most 1 grey level for grey images; colour ones at most 3
with a mean below 0.2 (GDCM's libjpeg and pylibjpeg's differ by a level in Cb/Cr and upsample 4:2:2 chroma
differently, and the YCbCr->RGB conversion multiplies a level in Cb by 1.772). Palette colour: GDCM keeps
the high byte of 16-bit lookup tables, so movl's 8-bit values are compared with pydicom's >> 8. The display values (modality LUT, then the VOI
window, MONOCHROME1 inverted) must match a reference computed here from PS3.3 C.11.2.1.2.
JPEG: matplotlib's sample photograph (Debian python-matplotlib-data) against Pillow, which uses the same
libjpeg decoder settings: equal to the last bit; EXIF orientations 1..8 against ImageOps.exif_transpose.
Corrupt and truncated files: exit 2, one line on stderr naming the file, no crash.
Usage: imageio_test.py PATH/TO/imgio_dump (exit 77, skipped, without pydicom, Pillow or the photograph)."""
import glob
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import warnings

import numpy as np

try:
    import pydicom
    from pydicom.pixels import apply_color_lut
    from PIL import Image, ImageOps
except ImportError as e:
    print(f"skipped: {e} (tools/setup.sh --test installs it)")
    sys.exit(77)

warnings.filterwarnings("ignore")  # pydicom's notes on the odd test files
DUMP = sys.argv[1]
PHOTO = "/usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg"
if not os.path.exists(PHOTO):
    print(f"skipped: {PHOTO} missing (Debian package python-matplotlib-data)")
    sys.exit(77)
FILES = os.path.join(os.path.dirname(pydicom.__file__), "data", "test_files")
LOSSY = {"1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.81", "1.2.840.10008.1.2.4.91"}
tmp = tempfile.mkdtemp()
failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


def dump(mode, path, *extra):
    out = os.path.join(tmp, "out.npy")
    r = subprocess.run([DUMP, mode, path, out, *extra], capture_output=True, text=True)
    if r.returncode != 0:
        return r, None, None
    attrs = json.loads(r.stdout) if mode == "raw" else None
    return r, np.load(out), attrs


def expect_error(path, what, *extra):
    r = subprocess.run([DUMP, "image", path, os.path.join(tmp, "bad.npy"), *extra], capture_output=True, text=True)
    lines = r.stderr.strip().splitlines()
    check(r.returncode == 2 and len(lines) == 1 and path in lines[0],
          f"{what}: exit {r.returncode}, one line naming the file ({r.stderr.strip()[:150]})")
    return lines[0] if lines else ""


# ---- DICOM stored values against pydicom ----
# Files pydicom decodes and movl must decode too (every one whose pixel data pydicom reads, less the
# 16/32-bit colour RLE files that movl refuses: checked below).
# Files pydicom reads (with warnings) that movl refuses, and the reason it gives: GDCM asserts on the RT dose
# files (a frame pointer without a frame count); SC_rgb_jpeg.dcm is written implicit VR under an explicit-VR
# header, which sends GDCM's fallback readers to allocate 1.3 GB out of a misread length.
MALFORMED = {"rtdose_1frame.dcm": "malformed DICOM", "rtdose_expb_1frame.dcm": "malformed DICOM",
             "rtdose_rle_1frame.dcm": "malformed DICOM", "SC_rgb_jpeg.dcm": "has no value representation"}
REFUSED = {"SC_rgb_rle_16bit.dcm", "SC_rgb_rle_16bit_2frame.dcm", "SC_rgb_rle_32bit.dcm", "SC_rgb_rle_32bit_2frame.dcm"}
paths = sorted(glob.glob(FILES + "/*.dcm")) + sorted(
    p for p in glob.glob(FILES + "/dicomdirtests/**/*", recursive=True)
    if os.path.isfile(p) and "." not in os.path.basename(p) and os.path.basename(p) not in ("DICOMDIR", "README"))
compared = {"lossless": 0, "lossy": 0}
kinds = set()
for path in paths:
    name = os.path.relpath(path, FILES)
    try:
        ds = pydicom.dcmread(path)
        if "PixelData" not in ds:
            continue
        ref = ds.pixel_array
        if ds.PhotometricInterpretation == "PALETTE COLOR":
            ref = apply_color_lut(ref, ds)
    except Exception:
        continue  # pydicom cannot decode it: no reference (the corrupt ones are tested below)
    if os.path.basename(path) in MALFORMED:
        check(MALFORMED[os.path.basename(path)] in expect_error(path, f"{name} refused"), f"{name}: says why")
        continue
    if os.path.basename(path) in REFUSED:
        msg = expect_error(path, f"{name} refused")
        check("colour RLE is not supported" in msg, f"{name}: says why")
        continue
    r, raw, attrs = dump("raw", path)
    if raw is None:
        check(False, f"{name}: movl fails where pydicom decodes ({r.stderr.strip()[:120]})")
        continue
    ref = ref.reshape(raw.shape).astype(np.float64)
    if ds.PhotometricInterpretation == "PALETTE COLOR" and attrs["bits_stored"] == 8 and ref.max() > 255:
        ref = np.floor(ref / 256)
    ts = str(ds.file_meta.TransferSyntaxUID)
    lossy = ts in LOSSY
    colour = raw.shape[3] == 3
    tol = 0 if not lossy else (3 if colour else 1)
    diff = float(np.abs(raw - ref).max())
    if lossy and colour:
        mean = float(np.abs(raw - ref).mean())
        check(mean < 0.2, f"{name}: mean |movl - pydicom| = {mean:.3f} < 0.2")
    compared["lossy" if lossy else "lossless"] += 1
    kinds.add((ds.file_meta.TransferSyntaxUID.name, ds.PhotometricInterpretation, int(ds.BitsStored)))
    check(diff <= tol, f"{name} ({ds.file_meta.TransferSyntaxUID.name}, {ds.PhotometricInterpretation}, "
                       f"{ds.BitsStored}-bit, {raw.shape[0]} frame(s)): max |movl - pydicom| = {diff:g} <= {tol}")
check(compared["lossless"] >= 60 and compared["lossy"] >= 10,
      f"compared {compared['lossless']} lossless and {compared['lossy']} lossy files, {len(kinds)} kinds")
for needed in ("JPEG 2000", "JPEG-LS", "RLE", "Big Endian", "Implicit", "Deflated", "Lossless, Non-Hierarchical"):
    check(any(needed in k[0] for k in kinds), f"a {needed} file was compared")
check(any(k[1] == "MONOCHROME1" for k in kinds) and any(k[2] == 12 for k in kinds),
      "MONOCHROME1 and 12-bit files were compared")


# ---- DICOM display values: modality LUT, VOI window, MONOCHROME1 ----
def window_ref(x, c, w):
    """PS3.3 C.11.2.1.2.1, the linear VOI function, into [0, 1]."""
    y = ((x - (c - 0.5)) / (w - 1) + 0.5)
    return np.where(x <= c - 0.5 - (w - 1) / 2, 0.0, np.where(x > c - 0.5 + (w - 1) / 2, 1.0, y))


def first(v):
    return float(v[0] if isinstance(v, pydicom.multival.MultiValue) else v)


for rel, modes in [("693_J2KI.dcm", ["file", "minmax", "40,400"]), ("J2K_pixelrep_mismatch.dcm", ["file"]),
                   ("CT_small.dcm", ["file", "minmax", "40,400"]), ("MR_small.dcm", ["file", "minmax"]),
                   ("dicomdirtests/77654033/CR1/6154", ["file", "minmax", "2000,3000"]),
                   ("examples_overlay.dcm", ["file", "minmax"]), ("rtdose.dcm", ["minmax"])]:
    path = os.path.join(FILES, rel)
    ds = pydicom.dcmread(path)
    x = ds.pixel_array.astype(np.float64)
    x = x[0] if x.ndim == 3 else x
    x = x * float(getattr(ds, "RescaleSlope", 1) or 1) + float(getattr(ds, "RescaleIntercept", 0) or 0)
    for mode in modes:
        if mode == "minmax" or (mode == "file" and "WindowCenter" not in ds):  # no window in the file: min-max
            want = (x - x.min()) / (x.max() - x.min())
        else:
            c, w = (first(ds.WindowCenter), first(ds.WindowWidth)) if mode == "file" else map(float, mode.split(","))
            want = window_ref(x, c, w)
        if ds.PhotometricInterpretation == "MONOCHROME1":
            want = 1 - want
        _, got, _ = dump("image", path, mode)
        ok = got is not None and got.shape == (1,) + x.shape + (3,)
        err = float(np.abs(got[0, :, :, 0] - want).max()) if ok else float("inf")
        check(ok and err < 1e-6 and np.array_equal(got[..., 0], got[..., 2]),
              f"{rel} window {mode}: max |movl - reference| = {err:.2g} (grey in all 3 channels)")
# A window the file does not have falls back to min-max.
_, got, _ = dump("image", os.path.join(FILES, "JPGExtended.dcm"), "file")
_, mm, _ = dump("image", os.path.join(FILES, "JPGExtended.dcm"), "minmax")
check(got is not None and np.array_equal(got, mm), "no Window Center/Width in the file: file = minmax")

# Multi-frame: the first frame, or all of them.
for rel in ("examples_ybr_color.dcm", "rtdose.dcm", "SC_rgb_rle_2frame.dcm"):
    path = os.path.join(FILES, rel)
    n = int(pydicom.dcmread(path).NumberOfFrames)
    _, one, _ = dump("image", path, "file")
    _, every, _ = dump("image", path, "file", "all")
    check(one is not None and every is not None and one.shape[0] == 1 and every.shape[0] == n and n > 1
          and np.array_equal(one[0], every[0]), f"{rel}: 1 frame by default, all {n} with all")

# ---- DICOM bad input ----
expect_error(os.path.join(FILES, "MR_truncated.dcm"), "truncated DICOM (pydicom's MR_truncated)")
expect_error(os.path.join(FILES, "rtdose_1frame.dcm"), "RT dose whose frame pointer has no frame count")
expect_error(os.path.join(FILES, "JPEG2000-embedded-sequence-delimiter.dcm"), "JPEG 2000 stream GDCM cannot decode")
expect_error(os.path.join(FILES, "rtplan.dcm"), "DICOM without pixel data")
with open(os.path.join(FILES, "CT_small.dcm"), "rb") as f:
    ct = f.read()
rng = random.Random(12)
for i, cut in enumerate([132, 400, len(ct) // 2, len(ct) - 10]):
    p = os.path.join(tmp, f"cut{i}.dcm")
    with open(p, "wb") as f:
        f.write(ct[:cut])
    expect_error(p, f"CT_small cut to {cut} of {len(ct)} bytes")
huge = bytearray(ct)  # a length of 4 GiB - 2 where CT_small's pixel data says 32768: refused before GDCM allocates it
at = huge.rfind(b"\xe0\x7f\x10\x00OW\x00\x00")
huge[at + 8:at + 12] = (0xFFFFFFFE).to_bytes(4, "little")
p = os.path.join(tmp, "huge_length.dcm")
with open(p, "wb") as f:
    f.write(huge)
check("declares 4294967294 bytes" in expect_error(p, "pixel data declaring 4 GiB"), "huge length: names the element")


def rle_variant(name, what, edit):
    """MR_small_RLE.dcm (16-bit grey: 2 segments) with its first frame's RLE header changed by edit(bytes, at,
    fragment length), at being the header's first byte; movl's one-line error on it."""
    with open(os.path.join(FILES, "MR_small_RLE.dcm"), "rb") as f:
        b = bytearray(f.read())
    px = b.rfind(b"\xe0\x7f\x10\x00OB\x00\x00\xff\xff\xff\xff")
    bot = px + 12  # the offset table item, then the first fragment item
    frag = bot + 8 + int.from_bytes(b[bot + 4:bot + 8], "little")
    assert b[frag:frag + 4] == b"\xfe\xff\x00\xe0", "MR_small_RLE.dcm: no fragment where expected"
    edit(b, frag + 8, int.from_bytes(b[frag + 4:frag + 8], "little"))
    p = os.path.join(tmp, name)
    with open(p, "wb") as f:
        f.write(b)
    return expect_error(p, what)


def put32(b, at, v):
    b[at:at + 4] = v.to_bytes(4, "little")


# GDCM 3.0 divides by the header's segment count and reads offsets past its 15 slots (it crashed on a fuzzed
# file: tests/fuzz/corpus/image/gdcm_rle_segment_count_segv); movl checks the header and runs first
for count in (0, 3, 0xFFFFFFF0):
    msg = rle_variant(f"rle_count{count}.dcm", f"RLE header naming {count} segments",
                      lambda b, at, n: put32(b, at, count))
    check(f"names {count} segments, 1 samples of 16 bits need 2" in msg, f"RLE {count} segments: says why")
msg = rle_variant("rle_offset.dcm", "RLE segment offset past its fragment", lambda b, at, n: put32(b, at + 8, n + 100))
check("RLE segment 2 starts at byte" in msg, "RLE offset past the fragment: says why")
msg = rle_variant("rle_first.dcm", "RLE first segment not at byte 64", lambda b, at, n: put32(b, at + 4, 60))
check("RLE segment 1 starts at byte 60" in msg, "RLE first offset: says why")
msg = rle_variant("rle_runs.dcm", "RLE segment whose runs end past the fragment", lambda b, at, n: put32(b, at + 8, n - 2))
check("RLE segment 2 does not decode to 64 x 64 bytes" in msg, "RLE runs cut: says why")
with open(os.path.join(FILES, "SC_rgb_rle_2frame.dcm"), "rb") as f:
    b = f.read()
at = b.find(b"\x28\x00\x08\x00IS\x02\x002 ")
check(at > 0, "SC_rgb_rle_2frame.dcm: Number of Frames found")
p = os.path.join(tmp, "rle_frames.dcm")
with open(p, "wb") as f:
    f.write(b[:at + 8] + b"3 " + b[at + 10:])
check("holds 2 fragments for 3 frames" in expect_error(p, "RLE with fewer fragments than frames"), "RLE frames: says why")


def survives_damage(data, name, first, most):
    """30 copies of data with 1..most random bytes from first on changed: each decodes or gets a one-line error."""
    for i in range(30):
        b = bytearray(data)
        for _ in range(rng.randint(1, most)):
            b[rng.randrange(first, len(b))] = rng.randrange(256)
        p = os.path.join(tmp, f"damaged_{name.split()[0]}{i}.dcm")
        with open(p, "wb") as f:
            f.write(b)
        r = subprocess.run([DUMP, "image", p, os.path.join(tmp, "d.npy")], capture_output=True, text=True, timeout=20)
        if r.returncode not in (0, 2) or (r.returncode == 2 and len(r.stderr.strip().splitlines()) != 1):
            check(False, f"damaged {name} #{i}: exit {r.returncode}, stderr {r.stderr.strip()[:200]}")
            return
    check(True, f"30 damaged copies of {name}: exit 0 or 2 with one line, no crash")


with open(os.path.join(FILES, "MR_small_RLE.dcm"), "rb") as f:
    mr_rle = f.read()
survives_damage(mr_rle, "MR_small_RLE (its RLE header and runs)", len(mr_rle) - 400, 8)
nometa = bytearray(ct)  # 'DICM' followed by something other than the meta group: GDCM's guess allocated 1.6 GB
nometa[132:134] = b"\x02\x05"
p = os.path.join(tmp, "no_meta.dcm")
with open(p, "wb") as f:
    f.write(nometa)
check("no file meta group (0002,xxxx) after 'DICM'" in expect_error(p, "no meta group after DICM"), "no meta: says why")
crossing = bytearray(ct)  # an element longer than its item: GDCM reads on past the item and allocated 1 GB
at = crossing.find(b"\x10\x00\x20\x00LO\x08\x001234ABCD")
check(at > 0, "CT_small: the second item's (0010,0020) found")
crossing[at + 6] = 13
p = os.path.join(tmp, "crossing.dcm")
with open(p, "wb") as f:
    f.write(crossing)
check("crosses the end of its item" in expect_error(p, "element crossing its item's end"), "crossing: says why")
with open(os.path.join(FILES, "MR_small_jp2klossless.dcm"), "rb") as f:
    j2k = f.read()
siz = j2k.find(b"\xff\x4f\xff\x51") + 6  # Rsiz, then Xsiz, Ysiz, XOsiz, YOsiz, XTsiz, YTsiz (big endian)
check(siz > 6, "MR_small_jp2klossless.dcm: SIZ marker found")
# OpenJPEG sizes its tile arrays from SIZ before reading a tile: a fuzzed width of 16777728 took 1 s and 337 MB
for name, at, value, says in (("j2k_width", 2, 16777728, "codestream of 16777728 x 64 pixels with 1 components in an "
                                                           "image of 64 x 64"),
                              ("j2k_tiles", 18, 0, "tiles of 0 x 64 pixels (at most 4096 tiles")):
    b = bytearray(j2k)
    b[siz + at:siz + at + 4] = value.to_bytes(4, "big")
    p = os.path.join(tmp, name + ".dcm")
    with open(p, "wb") as f:
        f.write(b)
    check(says in expect_error(p, f"JPEG 2000 SIZ: {name}"), f"{name}: says why")
with open(os.path.join(FILES, "MR_small_RLE.dcm"), "rb") as f:
    b = bytearray(f.read())
at = b.rfind(b"\xfe\xff\xdd\xe0\x00\x00\x00\x00")  # the pixel data's sequence delimiter: length 3 GB
check(at > 0, "MR_small_RLE.dcm: sequence delimiter found")
b[at + 4:at + 8] = (0xC6000000).to_bytes(4, "little")
p = os.path.join(tmp, "delimiter.dcm")
with open(p, "wb") as f:
    f.write(b)
check("has length 3321888768 (expected 0)" in expect_error(p, "delimiter with a length"), "delimiter: says why")
meta_end = 132 + 12 + int.from_bytes(ct[140:144], "little")  # (0002,0000) gives the meta group's length
p = os.path.join(tmp, "stray_item.dcm")  # an item delimiter before the data set: GDCM misread 2.7 GB
with open(p, "wb") as f:
    f.write(ct[:meta_end] + b"\xfe\xff\x0d\xe0\x00\x00\x00\x00" + ct[meta_end:])
check("item tag (FFFE,E00D) at byte %d outside any sequence" % meta_end in expect_error(p, "item tag outside a sequence"),
      "stray item: says why")
survives_damage(ct, "CT_small", 132, 40)  # random byte damage: an error or a decode, never a crash or a hang

# ---- JPEG against Pillow ----
def pil_rgb(path):
    im = ImageOps.exif_transpose(Image.open(path))
    return np.asarray(im.convert("RGB"), dtype=np.float32) / 255


def compare_jpeg(path, what):
    _, got, _ = dump("image", path)
    want = pil_rgb(path)
    ok = got is not None and got.shape == (1,) + want.shape
    check(ok and np.array_equal(got[0], want), f"{what}: {want.shape[1]}x{want.shape[0]} equal to Pillow's decode")


compare_jpeg(PHOTO, "photograph (baseline RGB)")
photo = Image.open(PHOTO)
for variant, kw in [("grey", dict(mode="L")), ("progressive", dict(progressive=True)),
                    ("4:2:0 subsampled q70", dict(quality=70, subsampling=2)), ("4:4:4 q95", dict(quality=95, subsampling=0))]:
    p = os.path.join(tmp, f"v_{variant.split()[0]}.jpg")
    im = photo.convert(kw.pop("mode")) if "mode" in kw else photo
    im.save(p, **kw)
    compare_jpeg(p, f"photograph re-saved {variant}")
for k in range(1, 9):
    p = os.path.join(tmp, f"exif{k}.jpg")
    exif = Image.Exif()
    exif[0x0112] = k
    photo.crop((0, 0, 320, 200)).save(p, exif=exif.tobytes(), quality=90)
    compare_jpeg(p, f"EXIF orientation {k}")
p = os.path.join(tmp, "cmyk.jpg")
photo.convert("CMYK").save(p)
check("CMYK" in expect_error(p, "CMYK JPEG refused"), "CMYK: the message says CMYK")
with open(PHOTO, "rb") as f:
    jpg = f.read()
for cut in (2, 300, len(jpg) // 2):
    p = os.path.join(tmp, f"cut{cut}.jpg")
    with open(p, "wb") as f:
        f.write(jpg[:cut])
    expect_error(p, f"JPEG cut to {cut} bytes")
p = os.path.join(tmp, "garbage.jpg")
with open(p, "wb") as f:
    f.write(b"\xff\xd8\xff" + bytes(rng.randrange(256) for _ in range(2000)))
expect_error(p, "JPEG marker followed by garbage")
p = os.path.join(tmp, "notimage.png")
with open(p, "w") as f:
    f.write("hello\n")
check("not a PNG, JPEG or DICOM" in expect_error(p, "text file named .png"), "unknown format: says what was expected")

shutil.rmtree(tmp, ignore_errors=True)
print(f"{len(failures)} failure(s)")
sys.exit(1 if failures else 0)
