#!/usr/bin/python3
"""How far two twin replays of the same movl run are apart.

  dump_diff.py A.npz REF.npz

A and REF are movl_twin.py --dump files of one run, typically --dtype
float32 against the default float64: PyTorch's own float32 drift, the
yardstick for the tolerances in tests/twin_test.sh. Prints, like the twin's
checks: each one-step loss (relative difference), each one-step update
(relative L2: all backbone tensors together and the worst tensor, the
others one by one), the free run's worst loss and the worst parameter of
each epoch's snapshot, and (ff) the backbone's change since step 0.
"""
import sys

import numpy as np


def rel_l2(a, ref):
    d, n = np.linalg.norm(np.ravel(a) - np.ravel(ref)), np.linalg.norm(np.ravel(ref))
    return 0.0 if d == 0 else (d / n if n else np.inf)


def summary(a, r, keys):
    parts, bb = [], []
    for k in keys:
        e = rel_l2(a[k], r[k])
        (bb if "/backbone." in k else parts).append((e, k.rsplit("/", 1)[1]))
    if bb:
        allr = rel_l2(np.concatenate([a[k].ravel() for k in keys if "/backbone." in k]),
                      np.concatenate([r[k].ravel() for k in keys if "/backbone." in k]))
        worst = max(bb)
        parts.insert(0, (allr, "backbone all"))
        parts.insert(1, (worst[0], "worst " + worst[1]))
    return ", ".join("%s %.1e" % (n, e) for e, n in parts), max([e for e, _ in parts], default=0.0)


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    a, r = np.load(argv[1]), np.load(argv[2])
    keys = sorted(set(a.files) & set(r.files))
    steps = sorted({int(k.split("/")[0][4:]) for k in keys if k.startswith("step")})
    for s in steps:
        la, lr = float(a["step%d/loss" % s]), float(r["step%d/loss" % s])
        line = "step %d: loss rel. diff %.1e" % (s, abs(la - lr) / abs(lr))
        upd = [k for k in keys if k.startswith("step%d/update/" % s)]
        if upd:
            line += "; update " + summary(a, r, upd)[0]
        print(line)
    la, lr = a["losses"], r["losses"]
    print("free run: loss max rel. diff %.1e over %d steps" % (np.max(np.abs(la - lr) / np.abs(lr)), len(lr)))
    for e in sorted({k.split("/")[0] for k in keys if k.split("/")[0].isdigit()}, key=int):
        text, worst = summary(a, r, [k for k in keys if k.startswith(e + "/") and not k.endswith("map.index")])
        print("free run, epoch %s parameters (worst %.1e): %s" % (e, worst, text))
        bb = [k[5:] for k in keys if k.startswith("init/")]
        if bb:
            def change(d):
                return np.concatenate([(d[e + "/" + k] - d["init/" + k]).ravel() for k in bb])
            print("free run, epoch %s: change of the backbone since step 0 (all %d tensors) rel. L2 %.1e"
                  % (e, len(bb), rel_l2(change(a), change(r))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
