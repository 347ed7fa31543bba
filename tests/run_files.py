"""What the shell tests read from run folders, standard library only (tests run from the repository root):
  tensors(path)       a safetensors file's float32 tensors, name -> tuple of values
  same-test-metrics SUMMARY EVAL_JSON
                      exit 0 when `movl eval --json` reproduced summary.json's test acc and auc to 1e-9
"""
import json
import struct
import sys


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


def same_test_metrics(summary, eval_json):
    s, e = json.load(open(summary))["test"], json.load(open(eval_json))
    e = e.get("test", e)
    return abs(s["acc"] - e["acc"]) < 1e-9 and abs(s["auc"] - e["auc"]) < 1e-9


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "same-test-metrics":
        sys.exit(0 if same_test_metrics(sys.argv[2], sys.argv[3]) else 1)
    sys.exit("usage: run_files.py same-test-metrics SUMMARY EVAL_JSON")
