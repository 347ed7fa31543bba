"""What the shell tests read from run folders, standard library only (tests run from the repository root):
  tensors(path)       a safetensors file's float32 tensors, name -> tuple of values
  same-test-metrics SUMMARY EVAL_JSON
                      exit 0 when `movl eval --json` reproduced summary.json's test acc and auc to 1e-9
  whole DIR...        exit 0 when every file of the folders is complete for its kind (safetensors sizes as their
                      headers say, JSON parses, PNGs end in IEND, CSV/INI end in a newline); temporary files
                      (NAME.tmp.PID) aside; else prints each half-written file
"""
import json
import os
import struct
import sys
import zlib


def tensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, v in header.items():
        if name != "__metadata__":
            b, e = v["data_offsets"]
            out[name] = struct.unpack("<%df" % ((e - b) // 4), data[b:e])
    return out


def whole(path):
    """None if the file at path is complete for its kind, else what is wrong."""
    name = os.path.basename(path)
    data = open(path, "rb").read()
    if name.endswith(".safetensors"):
        if len(data) < 8:
            return "shorter than its header length"
        n = struct.unpack("<Q", data[:8])[0]
        try:
            header = json.loads(data[8:8 + n])
        except ValueError:
            return "header is not JSON"
        end = max([v["data_offsets"][1] for k, v in header.items() if k != "__metadata__"] or [0])
        return None if 8 + n + end == len(data) else "size %d, header says %d" % (len(data), 8 + n + end)
    if name.endswith(".json"):
        try:
            json.loads(data)
            return None
        except ValueError:
            return "not JSON"
    if name.endswith(".png"):
        if data[:8] != b"\x89PNG\r\n\x1a\n" or data[-12:-8] != b"\0\0\0\0" or data[-8:-4] != b"IEND":
            return "no PNG signature or no IEND chunk at its end"
        return None if zlib.crc32(b"IEND") & 0xffffffff == struct.unpack(">I", data[-4:])[0] else "bad IEND CRC"
    if name.endswith((".csv", ".ini")):
        return None if data.endswith(b"\n") else "no final newline"
    return None


def half_written(folder):
    """[(file name, what is wrong)] of the folder's files, temporary files aside."""
    bad = []
    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name)
        if ".tmp." in name or not os.path.isfile(path):
            continue
        why = whole(path)
        if why:
            bad.append((name, why))
    return bad


def same_test_metrics(summary, eval_json):
    s, e = json.load(open(summary))["test"], json.load(open(eval_json))
    e = e.get("test", e)
    return abs(s["acc"] - e["acc"]) < 1e-9 and abs(s["auc"] - e["auc"]) < 1e-9


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "same-test-metrics":
        sys.exit(0 if same_test_metrics(sys.argv[2], sys.argv[3]) else 1)
    if len(sys.argv) >= 3 and sys.argv[1] == "whole":
        bad = [(d, n, w) for d in sys.argv[2:] for n, w in half_written(d)]
        for d, n, w in bad:
            print("%s/%s: half-written (%s)" % (d, n, w))
        sys.exit(1 if bad else 0)
    sys.exit("usage: run_files.py same-test-metrics SUMMARY EVAL_JSON | whole DIR...")
