#!/usr/bin/python3
"""Reference values for the golden case of tests/test_metrics.c.

  /usr/bin/python3 tests/golden/metrics_golden.py

Builds two fixed datasets with the integer generator that the C test repeats
(an LCG: state = (state * 1103515245 + 12345) mod 2^31, draw = state >> 16),
computes every metric with numpy alone, by methods other than the C code's
(AUC from average ranks, F1 from precision and recall), and prints the C
initialisers that test_metrics.c hard-codes. Rerun and paste the output if the
datasets in the test change.

  probs:  N=200 K=4 imbalanced labels; scores on a 1/16 grid, so scores and
          argmax have many ties.
  logits: N=150 K=3 labels; logits on a 1/256 grid, AUC on softmax.

Definitions (metrics.h): argmax ties to the lowest index; one-vs-rest AUC with
ties counting 1/2; multi-class AUC = mean of the defined classes; balanced
accuracy = mean recall over classes present; macro F1 over all K classes with
zero_division = 0 (scikit-learn labels=range(K)).
"""
import numpy as np


class Lcg:
    def __init__(self, seed):
        self.state = seed

    def draw(self):
        self.state = (self.state * 1103515245 + 12345) & 0x7FFFFFFF
        return self.state >> 16


def make_probs():
    g = Lcg(12345)
    n, k = 200, 4
    labels = np.zeros(n, dtype=np.int64)
    scores = np.zeros((n, k), dtype=np.float32)
    for i in range(n):
        r = g.draw() % 10
        labels[i] = 0 if r < 5 else 1 if r < 8 else 2 if r < 9 else 3
        bonus = g.draw() % 5
        for c in range(k):
            v = g.draw() % 8 + (bonus if c == labels[i] else 0)
            scores[i, c] = np.float32(v / 16.0)
    return labels, scores


def make_logits():
    g = Lcg(777)
    n, k = 150, 3
    labels = np.zeros(n, dtype=np.int64)
    scores = np.zeros((n, k), dtype=np.float32)
    for i in range(n):
        labels[i] = g.draw() % 3
        for c in range(k):
            v = ((g.draw() % 2001) - 1000) / 256.0 + (1.5 if c == labels[i] else 0.0)
            scores[i, c] = np.float32(v)
    return labels, scores


def average_ranks(x):
    order = np.argsort(x, kind="mergesort")
    xs = x[order]
    ranks = np.empty(len(x))
    i = 0
    while i < len(x):
        j = i
        while j < len(x) and xs[j] == xs[i]:
            j += 1
        ranks[order[i:j]] = (i + 1 + j) / 2.0  # mean of ranks i+1..j
        i = j
    return ranks


def auc_ranks(score, positive):
    npos, nneg = positive.sum(), (~positive).sum()
    if npos == 0 or nneg == 0:
        return float("nan")
    r = average_ranks(score)
    return (r[positive].sum() - npos * (npos + 1) / 2.0) / (npos * nneg)


def metrics(labels, scores, logits):
    n, k = scores.shape
    x = scores.astype(np.float64)
    if logits:
        e = np.exp(x - x.max(axis=1, keepdims=True))
        x = e / e.sum(axis=1, keepdims=True)
    pred = np.argmax(scores, axis=1)
    conf = np.zeros((k, k), dtype=np.int64)
    np.add.at(conf, (labels, pred), 1)
    class_auc = np.array([auc_ranks(x[:, c], labels == c) for c in range(k)])
    if k == 2:
        auc = class_auc[1]
    else:
        d = class_auc[~np.isnan(class_auc)]
        auc = d.mean() if len(d) else float("nan")
    tp = np.diag(conf).astype(np.float64)
    support, predicted = conf.sum(axis=1), conf.sum(axis=0)
    present = support > 0
    recall = tp[present] / support[present]
    prec = np.where(predicted > 0, tp / np.maximum(predicted, 1), 0.0)
    rec = np.where(support > 0, tp / np.maximum(support, 1), 0.0)
    f1 = np.where(prec + rec > 0, 2 * prec * rec / np.where(prec + rec > 0, prec + rec, 1), 0.0)
    return dict(acc=float((pred == labels).mean()), auc=float(auc), class_auc=class_auc,
                balanced_acc=float(recall.mean()), macro_f1=float(f1.mean()), confusion=conf)


def show(name, m):
    k = len(m["class_auc"])
    print(f"/* {name} */")
    print(f"static const double {name}_acc = {m['acc']:.17g}, {name}_auc = {m['auc']:.17g},")
    print(f"                    {name}_balanced_acc = {m['balanced_acc']:.17g}, {name}_macro_f1 = {m['macro_f1']:.17g};")
    print(f"static const double {name}_class_auc[{k}] = {{" + ", ".join(f"{v:.17g}" for v in m["class_auc"]) + "};")
    rows = ", ".join("{" + ", ".join(str(v) for v in row) + "}" for row in m["confusion"])
    print(f"static const long long {name}_confusion[{k}][{k}] = {{{rows}}};")


if __name__ == "__main__":
    show("golden_probs", metrics(*make_probs(), logits=False))
    show("golden_logits", metrics(*make_logits(), logits=True))
