"""Reference expected calibration error (Guo et al. 2017), written from the
definition with numpy for tests/test_metrics_ci.c.

Usage: calibration_ref.py SCORES_TXT
SCORES_TXT: first line "K probs|logits", then one line per sample:
"label s_0 ... s_{K-1}" (float32 values printed with 9 significant digits).
Prints JSON {"ece", "count", "acc", "conf"} over 15 equal-width bins
((b/15, (b+1)/15], bin 0 also holding 0); acc/conf null in empty bins.
"""
import json
import sys

import numpy as np

BINS = 15

with open(sys.argv[1]) as f:
    k, kind = f.readline().split()
    rows = [line.split() for line in f if line.strip()]
labels = np.array([int(r[0]) for r in rows])
# parse as float32 first: the exact values movl saw, then widen
scores = np.array([[float(v) for v in r[1:]] for r in rows], dtype=np.float32).astype(np.float64)
assert scores.shape[1] == int(k)
pred = scores.argmax(axis=1)  # ties: the first maximum, as movl
if kind == 'logits':
    e = np.exp(scores - scores.max(axis=1, keepdims=True))
    conf = 1.0 / e.sum(axis=1)
else:
    conf = scores.max(axis=1)
correct = (pred == labels).astype(np.float64)
edges = np.arange(BINS + 1) / BINS
ece, count, acc, mean_conf = 0.0, [], [], []
for b in range(BINS):
    inside = (conf > edges[b]) & (conf <= edges[b + 1])
    if b == 0:
        inside |= conf <= 0
    n = int(inside.sum())
    count.append(n)
    if n:
        a, c = correct[inside].mean(), conf[inside].mean()
        ece += n / len(conf) * abs(a - c)
        acc.append(a)
        mean_conf.append(c)
    else:
        acc.append(None)
        mean_conf.append(None)
print(json.dumps({'ece': ece, 'count': count, 'acc': acc, 'conf': mean_conf}))
