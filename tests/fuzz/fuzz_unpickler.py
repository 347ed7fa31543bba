"""Fuzzes tools/pth2safetensors.py's checkpoint reader (zip and legacy torch.save files through the restricted
unpickler) and the state-dict walk after it, with atheris. The only allowed failure is the converter's own
InputError (a one-line message, exit 2 in the tool); any other exception, a hang or a crash is a finding.
Usage (atheris from tools/setup.sh --test in .deps/python):
  PYTHONPATH=.deps/python /usr/bin/python3 tests/fuzz/fuzz_unpickler.py CORPUS_DIR... [-max_total_time=60]"""
import os
import sys
import tempfile

import atheris

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
import pth2safetensors as conv  # noqa: E402

# Coverage for the parsing functions; not gather(), whose odometer loop atheris 2.3's bytecode rewriting on
# Python 3.11 breaks (a TypeError the plain function never raises).
for fn in ("load_checkpoint", "load_zip", "load_legacy", "_check_storage_id", "_rebuild_tensor", "_codecs_encode",
           "state_dict_of", "script_state_dict", "collect", "storage_as_f32"):
    setattr(conv, fn, atheris.instrument_func(getattr(conv, fn)))
for fn in ("_load_build", "_load_newobj", "find_class"):
    setattr(conv.RestrictedUnpickler, fn, atheris.instrument_func(getattr(conv.RestrictedUnpickler, fn)))
conv.RestrictedUnpickler.dispatch[conv.pickle.BUILD[0]] = conv.RestrictedUnpickler._load_build
conv.RestrictedUnpickler.dispatch[conv.pickle.NEWOBJ[0]] = conv.RestrictedUnpickler._load_newobj

PATH = os.path.join(tempfile.mkdtemp(prefix="movl-fuzz-"), "input.pth")


def one_input(data):
    with open(PATH, "wb") as f:
        f.write(data)
    try:
        obj = conv.load_checkpoint(PATH)
        notes = []
        for name, t in conv.collect(conv.state_dict_of(obj, notes), ["module."], notes)[:64]:
            if t.storage.data is not None and len(t.storage.data) <= 1 << 20:
                conv.gather(conv.storage_as_f32(t.storage), name, t)
    except conv.InputError:
        pass


atheris.Setup(sys.argv, one_input)
atheris.Fuzz()
