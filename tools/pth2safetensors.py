#!/usr/bin/env python3
"""Convert a PyTorch checkpoint (.pth/.pt) to an F32 safetensors file.

Needs neither PyTorch nor numpy, and never runs code from the checkpoint: the
pickle is read by an unpickler that only resolves an allow-list of globals
(tensor rebuild functions, storage types, OrderedDict); any other global is
refused. Both checkpoint formats of torch.save are read:
  - zip (PyTorch >= 1.6): <dir>/data.pkl plus one record <dir>/data/<key>
    per storage;
  - legacy (PyTorch < 1.6 or _use_new_zipfile_serialization=False): magic
    number, protocol version and sys-info pickles, the main pickle, a pickle
    list of storage keys, then per key an 8-byte little-endian element count
    and the raw bytes.
TorchScript archives (torch.jit.save, e.g. OpenAI's CLIP .pt files) are the
zip layout with the module objects pickled: each __torch__.* class becomes an
inert attribute record (nothing is looked up or run), and the tensors are
named by their attribute paths, as state_dict() names them; the archive's code
and constants are not read.
Views (storage offset, non-contiguous strides) are gathered into contiguous
row-major order. F16, BF16 and F64 tensors are converted to F32 (F64 rounds
to nearest, as torch's .float() does). Integer and bool tensors (e.g. BatchNorm's
num_batches_tracked) are not weights: they are left out, with a note on stderr.
A dict holding 'state_dict' or 'model' is unwrapped.

Usage: pth2safetensors.py [--prefix-strip P]... [--list] INPUT [OUTPUT]
Exit codes: 0 ok, 2 bad input (nothing written), 1 writing the output failed.
"""
import argparse
import collections
import io
import json
import os
import pickle
import struct
import sys
import zipfile
from array import array

MAGIC_NUMBER = 0x1950A86A20F9469CFC6C  # first pickle of a legacy checkpoint
LEGACY_PROTOCOL = 1001
MAX_ELEMENTS = 1 << 31  # per tensor; guards against absurd expanded views

# torch.<Name>Storage -> (dtype, bytes per element)
STORAGE_TYPES = {
    "FloatStorage": ("F32", 4),
    "DoubleStorage": ("F64", 8),
    "HalfStorage": ("F16", 2),
    "BFloat16Storage": ("BF16", 2),
    "LongStorage": ("I64", 8),
    "IntStorage": ("I32", 4),
    "ShortStorage": ("I16", 2),
    "CharStorage": ("I8", 1),
    "ByteStorage": ("U8", 1),
    "BoolStorage": ("BOOL", 1),
    "UntypedStorage": ("U8", 1),
}
FLOAT_DTYPES = ("F32", "F64", "F16", "BF16")


class InputError(Exception):
    """Bad input: reported as one line, exit code 2."""


class StorageType:
    def __init__(self, name):
        self.name = name
        self.dtype, self.itemsize = STORAGE_TYPES[name]


class Storage:
    """One storage record: raw little-endian bytes of numel elements."""

    def __init__(self, key, stype, numel):
        self.key, self.stype, self.numel = key, stype, numel
        self.data = None


class StorageView:
    """Legacy-format view of a root storage: (element offset, element count)."""

    def __init__(self, root, offset, numel):
        self.root, self.offset, self.numel = root, offset, numel


class TensorRef:
    __slots__ = ("storage", "offset", "size", "stride")

    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, size, stride


def _is_int(x):
    return isinstance(x, int) and not isinstance(x, bool)


def _rebuild_tensor(storage, storage_offset, size, stride):
    if isinstance(storage, StorageView):
        if not _is_int(storage_offset):
            raise InputError("tensor rebuild with a non-integer storage offset")
        storage_offset += storage.offset
        storage = storage.root
    if not isinstance(storage, Storage):
        raise InputError("tensor rebuild without a storage (got %s)" % type(storage).__name__)
    size, stride = tuple(size), tuple(stride)
    if not (_is_int(storage_offset) and storage_offset >= 0 and len(size) == len(stride)
            and all(_is_int(v) and v >= 0 for v in size + stride)):
        raise InputError("tensor rebuild with invalid offset/size/stride %r %r %r" % (storage_offset, size, stride))
    return TensorRef(storage, storage_offset, size, stride)


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None,
                       metadata=None):
    return _rebuild_tensor(storage, storage_offset, size, stride)


def _rebuild_parameter(data, requires_grad=False, backward_hooks=None, state=None):
    return data


def _codecs_encode(text, encoding="utf-8"):
    # protocol-2 pickles spell Python 3 bytes as _codecs.encode(str, 'latin1')
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1", "utf-8", "utf8"):
        raise InputError("unexpected _codecs.encode call in the pickle")
    return text.encode(encoding)


ALLOWED_GLOBALS = {
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch", "Size"): tuple,
    ("_codecs", "encode"): _codecs_encode,
}


class ScriptModule:
    """A module object of a TorchScript archive (OpenAI's CLIP .pt files): an inert record of the
    attributes its pickle BUILDs onto it (tensors, submodules, flags). No class is looked up and no code
    runs: every __torch__.* GLOBAL resolves to a subclass of this one, named after it."""

    def __init__(self):
        self.attrs = {}


def _script_class(module, name):
    return type("ScriptModule:%s.%s" % (module, name), (ScriptModule,), {})


# Built on the pure-Python unpickler: its memo is a dict, so a corrupt memo
# index cannot make it allocate gigabytes as the C one does.
class RestrictedUnpickler(pickle._Unpickler):
    def __init__(self, file, persistent_load):
        super().__init__(file)
        self._persistent_load = persistent_load

    def _load_build(self):
        # BUILD sets attributes: a state dict needs it for OrderedDict's _metadata, a TorchScript
        # module record for its attribute dict; nothing else is allowed to receive it
        target = self.stack[-2]
        if isinstance(target, ScriptModule):
            state = self.stack.pop()
            if not isinstance(state, dict):
                raise InputError("refusing to BUILD a TorchScript module from a %s" % type(state).__name__)
            target.attrs.update(state)
            return
        if not isinstance(target, dict):
            raise InputError("refusing to BUILD a %s" % type(target).__name__)
        pickle._Unpickler.load_build(self)

    def _load_newobj(self):
        # NEWOBJ only on a TorchScript module record, and only without arguments
        args, cls = self.stack.pop(), self.stack.pop()
        if not (isinstance(cls, type) and issubclass(cls, ScriptModule)) or args != ():
            raise InputError("refusing NEWOBJ of %r" % (cls,))
        self.append(cls())

    def _load_bytearray8(self):
        # the stock one allocates the declared length (up to 2^63) before reading: read, then count
        (n,) = struct.unpack("<Q", self.read(8))
        data = self.read(n)
        if len(data) != n:
            raise InputError("pickle truncated in a BYTEARRAY8 of %d bytes (%d present)" % (n, len(data)))
        self.append(bytearray(data))

    dispatch = dict(pickle._Unpickler.dispatch)
    dispatch[pickle.BUILD[0]] = _load_build
    dispatch[pickle.NEWOBJ[0]] = _load_newobj
    dispatch[pickle.BYTEARRAY8[0]] = _load_bytearray8

    def find_class(self, module, name):
        if module == "torch" and name in STORAGE_TYPES:
            return StorageType(name)
        if module == "__torch__" or module.startswith("__torch__."):
            return _script_class(module, name)
        found = ALLOWED_GLOBALS.get((module, name))
        if found is None:
            raise InputError("refusing to load GLOBAL %s.%s (only tensors and state dicts are allowed)"
                             % (module, name))
        return found

    def persistent_load(self, pid):
        return self._persistent_load(pid)


def _no_persistent(pid):
    raise InputError("unexpected persistent id %r in a header pickle" % (pid,))


def _check_storage_id(pid, length):
    if not (isinstance(pid, tuple) and len(pid) == length and pid[0] == "storage"
            and isinstance(pid[1], StorageType) and isinstance(pid[2], str) and _is_int(pid[4]) and pid[4] >= 0):
        if isinstance(pid, tuple) and pid and pid[0] == "module":
            raise InputError("the checkpoint holds a pickled nn.Module; save model.state_dict() instead")
        raise InputError("unexpected persistent id %r" % (pid,))


def load_zip(path):
    zf = zipfile.ZipFile(path)
    pkls = [n for n in zf.namelist() if n.endswith("/data.pkl") and n.count("/") == 1]
    if len(pkls) != 1:
        raise InputError("zip archive without exactly one <dir>/data.pkl: not a torch.save checkpoint")
    prefix = pkls[0][: -len("data.pkl")]
    if prefix + "byteorder" in zf.namelist():
        order = zf.read(prefix + "byteorder").decode("ascii", "replace").strip()
        if order != "little":
            raise InputError("checkpoint byte order is '%s'; only little-endian is supported" % order)
    storages = {}

    def persistent_load(pid):
        _check_storage_id(pid, 5)
        _, stype, key, _location, numel = pid
        st = storages.get(key)
        if st is None:
            st = storages[key] = Storage(key, stype, numel)
            try:
                st.data = zf.read(prefix + "data/" + key)
            except KeyError:
                raise InputError("storage record %sdata/%s is missing from the archive" % (prefix, key)) from None
            if len(st.data) != numel * stype.itemsize:
                raise InputError("storage %s holds %d bytes, expected %d elements of %d bytes"
                                 % (key, len(st.data), numel, stype.itemsize))
        elif st.stype.name != stype.name or st.numel != numel:
            raise InputError("storage %s is referenced with two different types or sizes" % key)
        return st

    with zf.open(pkls[0]) as f:
        return RestrictedUnpickler(f, persistent_load).load()


def load_legacy(path):
    # from memory: a corrupt length in the pickle then fails as truncated data
    # instead of asking the file layer for gigabytes
    with open(path, "rb") as raw, io.BytesIO(raw.read()) as f:
        try:
            magic = RestrictedUnpickler(f, _no_persistent).load()
        except InputError:
            raise
        except Exception:
            magic = None
        if magic != MAGIC_NUMBER:
            raise InputError("not a PyTorch checkpoint: neither a zip archive nor a legacy file with the magic number "
                             "(tar checkpoints of PyTorch < 0.4 are not supported)")
        version = RestrictedUnpickler(f, _no_persistent).load()
        if version != LEGACY_PROTOCOL:
            raise InputError("legacy checkpoint protocol %r, expected %d" % (version, LEGACY_PROTOCOL))
        sys_info = RestrictedUnpickler(f, _no_persistent).load()
        if isinstance(sys_info, dict) and sys_info.get("little_endian") is False:
            raise InputError("checkpoint was written on a big-endian machine; not supported")
        roots = {}

        def persistent_load(pid):
            _check_storage_id(pid, 6)
            _, stype, key, _location, numel, view = pid
            root = roots.get(key)
            if root is None:
                root = roots[key] = Storage(key, stype, numel)
            elif root.stype.name != stype.name or root.numel != numel:
                raise InputError("storage %s is referenced with two different types or sizes" % key)
            if view is None:
                return root
            if not (isinstance(view, tuple) and len(view) == 3 and _is_int(view[1]) and _is_int(view[2])
                    and view[1] >= 0 and view[2] >= 0 and view[1] + view[2] <= numel):
                raise InputError("storage %s has an invalid view %r" % (key, view))
            return StorageView(root, view[1], view[2])

        result = RestrictedUnpickler(f, persistent_load).load()
        keys = RestrictedUnpickler(f, _no_persistent).load()
        if not (isinstance(keys, list) and all(isinstance(k, str) for k in keys)):
            raise InputError("legacy checkpoint has no list of storage keys after the main pickle")
        for key in keys:
            root = roots.get(key)
            if root is None:
                raise InputError("storage key %s is listed but no tensor uses it" % key)
            head = f.read(8)
            if len(head) != 8:
                raise InputError("file truncated before the record of storage %s" % key)
            count = int.from_bytes(head, "little")
            if count != root.numel:
                raise InputError("storage %s record holds %d elements, the pickle says %d" % (key, count, root.numel))
            nbytes = count * root.stype.itemsize
            root.data = f.read(nbytes)
            if len(root.data) != nbytes:
                raise InputError("file truncated in storage %s: %d of %d bytes present" % (key, len(root.data), nbytes))
        for root in roots.values():
            if root.data is None:
                raise InputError("storage %s has no data record" % root.key)
        return result


def load_checkpoint(path):
    if not os.path.isfile(path):
        raise InputError("no such file")
    try:
        return load_zip(path) if zipfile.is_zipfile(path) else load_legacy(path)
    except InputError:
        raise
    except Exception as e:  # anything the pickle or zip layers raise on malformed data
        raise InputError("malformed checkpoint (%s: %s)" % (type(e).__name__, e)) from None


def _f16_bits_to_f32_bits(h):
    sign = (h & 0x8000) << 16
    exp = (h >> 10) & 0x1F
    mant = h & 0x3FF
    if exp == 0x1F:
        return sign | 0x7F800000 | (mant << 13)  # inf, NaN with its payload
    if exp == 0:
        if mant == 0:
            return sign
        e = -14  # subnormal: normalise into an f32 normal number
        while not mant & 0x400:
            mant <<= 1
            e -= 1
        return sign | ((e + 127) << 23) | ((mant & 0x3FF) << 13)
    return sign | ((exp - 15 + 127) << 23) | (mant << 13)


_F16_TABLE = None


def storage_as_f32(st):
    """The storage's elements as array('f')."""
    global _F16_TABLE
    dtype = st.stype.dtype
    if dtype == "F32":
        out = array("f")
        out.frombytes(st.data)
        return out
    if dtype == "F64":
        wide = array("d")
        wide.frombytes(st.data)
        return array("f", wide)  # C cast: round to nearest, overflow to inf
    half = array("H")
    half.frombytes(st.data)
    if dtype == "F16":
        if _F16_TABLE is None:
            _F16_TABLE = array("I", map(_f16_bits_to_f32_bits, range(65536)))
        bits = array("I", map(_F16_TABLE.__getitem__, half))
    else:  # BF16 is the upper half of an f32
        bits = array("I", (h << 16 for h in half))
    out = array("f")
    out.frombytes(bits.tobytes())
    return out


def gather(elems, name, t):
    """Row-major contiguous copy of view t out of storage elements."""
    numel = 1
    for s in t.size:
        numel *= s
    if numel == 0:
        return array("f")
    if numel > MAX_ELEMENTS:
        raise InputError("tensor '%s' has %d elements, more than this converter handles" % (name, numel))
    last = t.offset + sum((s - 1) * st for s, st in zip(t.size, t.stride))
    if last >= len(elems):
        raise InputError("tensor '%s' view (offset %d, size %s, stride %s) reaches past its storage of %d elements"
                         % (name, t.offset, list(t.size), list(t.stride), len(elems)))
    dims = [(s, st) for s, st in zip(t.size, t.stride) if s != 1]  # size-1 dims have no effect
    expect, contiguous = 1, True
    for s, st in reversed(dims):
        contiguous &= st == expect
        expect *= s
    if contiguous:
        return elems[t.offset:t.offset + numel]
    inner_n, inner_st = dims[-1]
    outer = dims[:-1]
    out = array("f")
    index = [0] * len(outer)
    base = t.offset
    while True:
        if inner_st == 0:
            out.extend(array("f", [elems[base]]) * inner_n)
        else:
            out.extend(elems[base:base + (inner_n - 1) * inner_st + 1:inner_st])
        # odometer over the outer dimensions
        d = len(outer) - 1
        while d >= 0:
            index[d] += 1
            base += outer[d][1]
            if index[d] < outer[d][0]:
                break
            base -= outer[d][1] * index[d]
            index[d] = 0
            d -= 1
        if d < 0:
            return out


def script_state_dict(root):
    """The state dict of a TorchScript module record: its tensor attributes under their dotted paths, in
    the order the pickle gives them (as module.state_dict() names them); other attributes are left out."""
    sd, seen = collections.OrderedDict(), set()

    def walk(m, prefix):
        if id(m) in seen:  # a module shared between two places is listed once
            return
        seen.add(id(m))
        for key, value in m.attrs.items():
            if isinstance(value, TensorRef):
                sd[prefix + key] = value
            elif isinstance(value, ScriptModule):
                walk(value, prefix + key + ".")
    walk(root, "")
    return sd


def state_dict_of(obj, notes):
    """Unwraps {'state_dict': ...} / {'model': ...} and returns the tensor dict."""
    if isinstance(obj, ScriptModule):
        notes.append("read the parameters and buffers of a TorchScript module")
        return script_state_dict(obj)
    while isinstance(obj, dict):
        inner = next((k for k in ("state_dict", "model") if isinstance(obj.get(k), dict)), None)
        if inner is None:
            break
        notes.append("using the '%s' entry of the checkpoint" % inner)
        obj = obj[inner]
    if not isinstance(obj, dict):
        raise InputError("checkpoint holds a %s, expected a state dict (name -> tensor)" % type(obj).__name__)
    return obj


def collect(sd, prefixes, notes):
    """[(name, TensorRef)] of the float tensors; other entries noted."""
    out, names, skipped, other = [], set(), [], []
    for key, value in sd.items():
        if not isinstance(key, str):
            raise InputError("state dict key %r is not a string" % (key,))
        name = key
        for p in prefixes:
            if p and name.startswith(p):
                name = name[len(p):]
                break
        if not isinstance(value, TensorRef):
            other.append(key)
            continue
        if value.storage.stype.dtype not in FLOAT_DTYPES:
            skipped.append("%s (%s)" % (key, value.storage.stype.dtype))
            continue
        if name in names or name == "__metadata__":
            raise InputError("tensor name '%s' (from '%s') is reserved or repeated after prefix stripping"
                             % (name, key))
        names.add(name)
        out.append((name, value))
    if skipped:
        notes.append("left out %d non-float tensors, e.g. %s" % (len(skipped), ", ".join(skipped[:3])))
    if other:
        notes.append("left out %d non-tensor entries, e.g. %s" % (len(other), ", ".join(other[:3])))
    return out


def write_safetensors(path, tensors, metadata):
    """tensors: [(name, shape, f32 bytes)]; header padded with spaces to 8 bytes;
    written to path.tmp.PID, then renamed."""
    header, offset = {}, 0
    for name, shape, data in tensors:
        header[name] = {"dtype": "F32", "shape": list(shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
    header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    tmp = "%s.tmp.%d" % (path, os.getpid())
    try:
        with open(tmp, "wb") as f:
            f.write(len(text).to_bytes(8, "little"))
            f.write(text)
            for _, _, data in tensors:
                f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise


def one_line(text):
    """Message text with control characters (from names in the file) as '?'."""
    return "".join(ch if ch.isprintable() else "?" for ch in str(text))


def main(argv=None):
    ap = argparse.ArgumentParser(description="Convert a PyTorch checkpoint to F32 safetensors without PyTorch.")
    ap.add_argument("input", help="checkpoint written by torch.save (zip or legacy format)")
    ap.add_argument("output", nargs="?", help="safetensors file to write")
    ap.add_argument("--prefix-strip", action="append", default=[], metavar="PREFIX",
                    help="remove PREFIX (e.g. 'module.') from tensor names; repeatable, first match wins")
    ap.add_argument("--list", action="store_true", help="print name, dtype and shape of every tensor; write nothing")
    args = ap.parse_args(argv)
    prog = os.path.basename(sys.argv[0]) if argv is None else "pth2safetensors.py"
    if sys.byteorder != "little":
        print("%s: error: big-endian hosts are not supported" % prog, file=sys.stderr)
        return 2
    if not args.list and not args.output:
        print("%s: error: an OUTPUT file is needed (or --list)" % prog, file=sys.stderr)
        return 2
    notes = []
    try:
        sd = state_dict_of(load_checkpoint(args.input), notes)
        if args.list:
            for key, value in sd.items():
                if isinstance(value, TensorRef):
                    print("%s\t%s\t%s" % (key, value.storage.stype.dtype, list(value.size)))
                else:
                    print("%s\t(not a tensor: %s)" % (key, type(value).__name__))
            return 0
        tensors = collect(sd, args.prefix_strip, notes)
        converted, out = {}, []
        for name, t in tensors:
            key = id(t.storage)
            if key not in converted:
                converted[key] = storage_as_f32(t.storage)
            out.append((name, t.size, gather(converted[key], name, t).tobytes()))
    except InputError as e:
        print("%s: error: %s: %s" % (prog, args.input, one_line(e)), file=sys.stderr)
        return 2
    metadata = {"format": "pt", "source": os.path.basename(args.input),
                "converted_by": "movl tools/pth2safetensors.py"}
    try:
        write_safetensors(args.output, out, metadata)
    except OSError as e:
        print("%s: error: writing %s failed: %s" % (prog, args.output, one_line(e)), file=sys.stderr)
        return 1
    for note in notes:
        print("%s: note: %s" % (prog, one_line(note)), file=sys.stderr)
    total = sum(len(d) for _, _, d in out) // 4
    print("%s: wrote %d tensors (%d floats) to %s" % (prog, len(out), total, args.output), file=sys.stderr)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # --list piped into e.g. head
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)
