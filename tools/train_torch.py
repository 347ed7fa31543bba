#!/usr/bin/python3
"""The PyTorch end-to-end peer of `movl train`: the same experiment, written
the way a plain PyTorch user would (float32, eval-mode frozen encoder,
autograd to the input image), so tools/bench_e2e_compare.sh can time both
on the same INI file.

  /usr/bin/python3 tools/train_torch.py EXP.ini [-s section.key=value ...] [--threads N] [--json OUT]

Reads the experiment with configparser: the keys below, with movl's
defaults (runtime/experiment/config_schema.c) for the ones the file leaves
out; a resolved run config.ini (every key) works as well. What it runs:
  data     a MedMNIST .npz (its train/val/test splits), uint8 images decoded
           once; a seeded class-stratified subsample for [data] max_train /
           max_eval (numpy's generator: not movl's subset, the same sizes);
           each batch resized with bilinear interpolation (half-pixel
           centres), grey repeated to RGB, normalised with the encoder's
           mean/std, in the loop, as movl prepares its batches;
  encoder  efficientnet_lite0..4 (efficientnet_lite_pytorch, the package
           tools/setup.sh --test puts in .deps/python) or resnet18/34/50
           (torchvision), [encoder] weights loaded from safetensors, frozen
           in eval mode (batch norm statistics, no dropout);
  methods  lp: a linear probe on cached features (features f(x) of train
           and val computed once); vp_lp and movl: a padding prompt
           x~ = x + M*delta (zero init) and the probe trained jointly
           through the encoder, movl with L = CE + lambda * D and D =
           feature_mse against the cached plain features (or none); with
           [head] init = lp (movl's default) the probe is first trained on
           the cached features for lp_epochs, and that solution is the joint
           stage's first model-selection candidate (docs/METHOD.md);
  training Adam or SGD (momentum, Nesterov, weight decay) per group (prompt,
           head), fresh optimisers per stage, the learning rate of
           [train] schedule set before every step (warm-up, cosine,
           multistep, constant), seeded shuffles per epoch;
  eval     validation after every epoch, model selection on
           [eval] select_metric (the best epoch's parameters end the stage),
           then the selected model on val and test: ACC and ROC-AUC
           (binary: the positive class's probability; else the mean
           one-vs-rest AUC).
Not done (movl does them; they cost it ~0.1 % of a demo run, see
docs/PERFORMANCE.md, "End to end against the PyTorch peer"): checkpoints, bootstrap intervals, calibration,
plots, the model file. Anything else (other methods, prompt types,
discrepancies, data formats, [eval] shift) is refused with a message naming
the key, exit 2.

Prints the wall time, where it went (the phases of movl's summary.json
time_split that the peer has) and the test ACC/AUC; --json OUT writes them
(through a temporary name and a rename). Threads: --threads, default every
CPU this process may use (torch.set_num_threads).
"""
import argparse
import configparser
import json
import math
import os
import struct
import sys
import time

T_START = time.monotonic()  # before torch is imported: its import is part of set-up
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BAD = 2

# movl's defaults for the keys the peer reads (config_schema.c; method_def for head.init and loss.discrepancy).
DEFAULTS = {
    "experiment": {"name": "", "seed": "0", "output_dir": "runs"},
    "encoder": {"size": "0"},
    "data": {"format": "auto", "num_classes": "0", "max_train": "0", "max_eval": "0"},
    "prompt": {"type": "padding", "size": "30", "init": "zero", "sigmoid": "false"},
    "head": {"type": "linear", "init": None},
    "loss": {"discrepancy": None, "lambda": "0.1"},
    "train": {"epochs": "10", "batch_size": "32", "lp_epochs": "30", "schedule": "cosine", "warmup_steps": "0",
              "milestones": "", "gamma": "0.1", "prompt_optimizer": "sgd", "prompt_lr": "40",
              "prompt_momentum": "0.9", "prompt_nesterov": "false", "prompt_weight_decay": "0",
              "head_optimizer": "adam", "head_lr": "0.001", "head_momentum": "0.9", "head_nesterov": "false",
              "head_weight_decay": "0"},
    "eval": {"select_metric": "auc", "batch_size": "64", "shift": ""},
}
REQUIRED = {"encoder": ("arch", "weights"), "data": ("path",), "train": ("method",)}
# Keys that do not change what is computed (devices, outputs, splits and DICOM decoding of sources the peer
# does not read: it reads npz only).
IGNORED = {"experiment": ("output_dir",), "device": ("select",), "data": ("val_fraction", "test_fraction",
           "modality", "window", "dicom_frames"), "prompt": ("init_std",), "loss": ("temperature",), "output": ("save_prompt_png",
           "checkpoint_every"), "train": ("backbone_optimizer", "backbone_lr", "backbone_momentum",
           "backbone_nesterov", "backbone_weight_decay"),
           "head": ("template", "classes", "vocab")}  # CLIP's text head only (head.type stays checked)
NATIVE_SIZE = {"efficientnet_lite0": 224, "efficientnet_lite1": 240, "efficientnet_lite2": 260,
               "efficientnet_lite3": 280, "efficientnet_lite4": 300, "resnet18": 224, "resnet34": 224,
               "resnet50": 224}
TRUE = ("true", "yes", "on", "1")


def fail(msg):
    print("train_torch.py: " + msg, file=sys.stderr)
    sys.exit(BAD)


# ------------------------------------------------------------------ config
def read_config(path, overrides):
    cp = configparser.ConfigParser(comment_prefixes=("#", ";"), inline_comment_prefixes=None, interpolation=None)
    try:
        if not cp.read(path):
            fail("%s: cannot read it" % path)
    except configparser.Error as exc:
        fail("%s: not an INI file (%s)" % (path, str(exc).splitlines()[0]))
    cfg = {s: dict(cp[s]) for s in cp.sections()}
    for o in overrides:
        key, eq, value = o.partition("=")
        sec, dot, name = key.partition(".")
        if not eq or not dot:
            fail("-s %s: expected section.key=value" % o)
        cfg.setdefault(sec.strip(), {})[name.strip()] = value.strip()
    for s in cfg:
        for k, v in cfg[s].items():
            if len(v) >= 2 and v[0] == '"' and v[-1] == '"':
                cfg[s][k] = v[1:-1]
    known = set(DEFAULTS) | set(IGNORED) | set(REQUIRED)
    for s in cfg:
        if s == "sweep":
            fail("%s: [sweep] sections are for movl sweep; give the peer one point's config" % path)
        if s not in known:
            fail("%s: section [%s] is not one the PyTorch peer knows" % (path, s))
        for k in cfg[s]:
            if k not in DEFAULTS.get(s, {}) and k not in IGNORED.get(s, ()) and k not in REQUIRED.get(s, ()):
                fail("%s: key %s.%s is not one the PyTorch peer supports" % (path, s, k))
    out = {s: dict(d) for s, d in DEFAULTS.items()}
    for s, d in cfg.items():
        out.setdefault(s, {}).update(d)
    for s, keys in REQUIRED.items():
        for k in keys:
            if not out.get(s, {}).get(k):
                fail("%s: %s.%s is required" % (path, s, k))
    method = out["train"]["method"]
    if method not in ("lp", "vp_lp", "movl"):
        fail("%s: train.method = %s is not supported by the PyTorch peer (lp, vp_lp, movl); run it with movl alone"
             % (path, method))
    if out["head"]["init"] is None:
        out["head"]["init"] = "lp" if method == "movl" else "zero"
    if out["loss"]["discrepancy"] is None:
        out["loss"]["discrepancy"] = "feature_mse" if method == "movl" else "none"
    checks = [("prompt", "type", ("padding",)), ("prompt", "init", ("zero",)), ("prompt", "sigmoid", ("false",)),
              ("head", "type", ("linear",)), ("head", "init", ("lp", "zero")),
              ("loss", "discrepancy", ("feature_mse", "none") if method == "movl" else ("none",)),
              ("data", "format", ("auto", "npz")), ("eval", "shift", ("",)),
              ("eval", "select_metric", ("acc", "auc")), ("train", "schedule", ("cosine", "multistep", "constant")),
              ("train", "prompt_optimizer", ("sgd", "adam")), ("train", "head_optimizer", ("sgd", "adam"))]
    for s, k, allowed in checks:
        if out[s][k].lower() not in allowed:
            fail("%s: %s.%s = %s is not supported by the PyTorch peer (%s)" % (path, s, k, out[s][k],
                                                                                ", ".join(allowed) or "empty"))
    if out["encoder"]["arch"] not in NATIVE_SIZE:
        fail("%s: encoder.arch = %s is not supported by the PyTorch peer" % (path, out["encoder"]["arch"]))
    if not out["data"]["path"].endswith(".npz"):
        fail("%s: data.path = %s: the PyTorch peer reads MedMNIST .npz files only" % (path, out["data"]["path"]))
    for s, k in (("encoder", "weights"), ("data", "path")):
        if not os.path.isfile(out[s][k]):
            fail("%s: %s.%s = %s: no such file" % (path, s, k, out[s][k]))
    return out


def number(cfg, s, k, kind=float, lo=None):
    try:
        v = kind(cfg[s][k])
    except ValueError:
        fail("%s.%s = %s: not a number" % (s, k, cfg[s][k]))
    if lo is not None and v < lo:
        fail("%s.%s = %s: must be at least %s" % (s, k, cfg[s][k], lo))
    return v


# ------------------------------------------------------------------ timing
class Split:
    """One running phase at a time (as movl's trainer_timing.c), so the phases add up to the wall time."""
    NAMES = ("setup", "dataset", "cache", "data", "steps", "val", "test", "output")

    def __init__(self):
        self.sec = dict.fromkeys(self.NAMES, 0.0)
        self.phase, self.since = "setup", T_START

    def enter(self, phase):
        now = time.monotonic()
        self.sec[self.phase] += now - self.since
        self.phase, self.since = phase, now

    def now(self):
        now = time.monotonic()
        sec = dict(self.sec)
        sec[self.phase] += now - self.since
        return sec, now - T_START


# ------------------------------------------------------------------ model
def read_safetensors(path, torch):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    import numpy as np
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] != "F32":
            fail("%s: tensor %s has dtype %s (expected F32)" % (path, name, info["dtype"]))
        b, e = info["data_offsets"]
        out[name] = torch.from_numpy(np.frombuffer(data[b:e], dtype="<f4").reshape(info["shape"]).copy())
    return out


def build_encoder(arch, weights, size, torch):
    """The frozen encoder as f(x) -> pooled features, its feature width and input mean/std."""
    if arch.startswith("resnet"):
        import torchvision
        model = getattr(torchvision.models, arch)()
        mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
        trunk = torch.nn.Sequential(*list(model.children())[:-1], torch.nn.Flatten())
        dim = model.fc.in_features
    else:
        try:
            from efficientnet_lite_pytorch import EfficientNet
        except ImportError:
            sys.path.insert(0, os.path.join(REPO, ".deps", "python"))
            try:
                from efficientnet_lite_pytorch import EfficientNet
            except ImportError:
                fail("efficientnet_lite_pytorch not found (tools/setup.sh --test puts it in .deps/python)")
        # static TF-'same' padding follows image_size: built for S, as the twin and bench_torch.py do
        model = EfficientNet.from_name(arch.replace("_", "-"), image_size=size)
        mean, std = (127.0 / 255,) * 3, (128.0 / 255,) * 3  # encoder_efficientnet.c

        class Trunk(torch.nn.Module):
            def forward(self, x):
                return torch.flatten(model._avg_pooling(model.extract_features(x)), 1)

        trunk, dim = Trunk(), model._fc.in_features
    missing, unexpected = model.load_state_dict(read_safetensors(weights, torch), strict=False)
    missing = [k for k in missing if not k.endswith("num_batches_tracked")]
    if missing or unexpected:
        fail("%s does not fit %s (missing %s, unexpected %s)" % (weights, arch, missing[:3], unexpected[:3]))
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return trunk, dim, mean, std


# ------------------------------------------------------------------ data
def stratified(labels, max_n, rng):
    """Indices of a class-stratified subsample of max_n (largest remainders), in their original order."""
    import numpy as np
    n = len(labels)
    if max_n <= 0 or max_n >= n:
        return np.arange(n)
    classes = np.unique(labels)
    exact = np.array([max_n * np.sum(labels == c) / n for c in classes])
    quota = np.floor(exact).astype(int)
    for c in np.argsort(-(exact - quota), kind="stable")[:max_n - quota.sum()]:
        quota[c] += 1
    keep = np.concatenate([rng.choice(np.flatnonzero(labels == c), q, replace=False) for c, q in zip(classes, quota)])
    return np.sort(keep)


def load_npz(path, max_train, max_eval, seed):
    import numpy as np
    d = np.load(path)
    splits = {}
    for s in ("train", "val", "test"):
        if s + "_images" not in d or s + "_labels" not in d:
            fail("%s: no %s_images / %s_labels (not a MedMNIST file)" % (path, s, s))
        x, y = d[s + "_images"], d[s + "_labels"].reshape(-1).astype(np.int64)
        if len(x) != len(y):
            fail("%s: %s_images has %d images but %s_labels has %d labels" % (path, s, len(x), s, len(y)))
        keep = stratified(y, max_train if s == "train" else max_eval, np.random.default_rng([seed, len(splits)]))
        splits[s] = (np.ascontiguousarray(x[keep]), y[keep])
    return splits


class Prep:
    """uint8 images -> normalised float32 batches [n][3][S][S] (bilinear, half-pixel centres)."""

    def __init__(self, size, mean, std, torch):
        self.torch, self.size = torch, size
        self.mean = torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1)
        self.std = torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1)

    def __call__(self, images):
        t = self.torch
        x = t.from_numpy(images).to(t.float32).div_(255.0)
        x = x.unsqueeze(1) if x.dim() == 3 else x.permute(0, 3, 1, 2)
        x = t.nn.functional.interpolate(x, size=(self.size, self.size), mode="bilinear", align_corners=False)
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        return (x - self.mean) / self.std


# ------------------------------------------------------------------ metrics
def auc_binary(score, pos):
    import numpy as np
    n1, n0 = int(pos.sum()), int(len(pos) - pos.sum())
    if n1 == 0 or n0 == 0:
        return float("nan")
    order = np.argsort(score, kind="stable")
    ranks = np.empty(len(score))
    s = score[order]
    i = 0
    while i < len(s):  # tied scores share their mean rank
        j = i
        while j + 1 < len(s) and s[j + 1] == s[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return float((ranks[pos].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def metrics(logits, labels):
    import numpy as np
    z = logits - logits.max(1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(1, keepdims=True)
    acc = float(np.mean(p.argmax(1) == labels))
    k = p.shape[1]
    if k == 2:
        auc = auc_binary(p[:, 1], labels == 1)
    else:
        aucs = [auc_binary(p[:, c], labels == c) for c in range(k)]
        aucs = [a for a in aucs if not math.isnan(a)]
        auc = float(np.mean(aucs)) if aucs else float("nan")
    return acc, auc


# ------------------------------------------------------------------ schedule
def lr_at(base, step, warmup, total, sched, milestones, gamma):
    """trainer.c lr_at with optim.c's warm-up + cosine / multistep / constant."""
    if step < warmup:
        return base * (step + 1) / warmup
    if sched == "cosine":
        if total <= warmup:
            return base
        if step >= total:
            return 0.0
        return 0.5 * (1.0 + math.cos(math.pi * (step - warmup) / (total - warmup))) * base
    lr = base
    for m in (milestones if sched == "multistep" else ()):
        if step >= m:
            lr *= gamma
    return lr


def make_optimizer(cfg, group, params, torch):
    t = cfg["train"]
    wd = number(cfg, "train", group + "_weight_decay", lo=0)
    if t[group + "_optimizer"] == "adam":
        return torch.optim.Adam(params, lr=0.0, weight_decay=wd)
    mom = number(cfg, "train", group + "_momentum", lo=0)
    return torch.optim.SGD(params, lr=0.0, momentum=mom, weight_decay=wd,
                           nesterov=mom > 0 and t[group + "_nesterov"].lower() in TRUE)


# ------------------------------------------------------------------ the run
class Run:
    def __init__(self, cfg, split, torch):
        import numpy as np
        self.np, self.torch, self.cfg, self.split = np, torch, cfg, split
        t = cfg["train"]
        self.method = t["method"]
        self.seed = number(cfg, "experiment", "seed", int, 0)
        self.batch = number(cfg, "train", "batch_size", int, 1)
        self.eval_batch = number(cfg, "eval", "batch_size", int, 1)
        self.lam = number(cfg, "loss", "lambda", lo=0)
        self.disc = cfg["loss"]["discrepancy"]
        self.select_auc = cfg["eval"]["select_metric"] == "auc"
        self.sched, self.warmup = t["schedule"], number(cfg, "train", "warmup_steps", int, 0)
        self.gamma = number(cfg, "train", "gamma")
        self.milestones = [int(v) for v in t["milestones"].replace(",", " ").split()]
        arch = cfg["encoder"]["arch"]
        size = number(cfg, "encoder", "size", int, 0) or NATIVE_SIZE[arch]
        self.size = size
        self.encoder, self.dim, mean, std = build_encoder(arch, cfg["encoder"]["weights"], size, torch)
        self.prep = Prep(size, mean, std, torch)
        split.enter("dataset")
        self.data = load_npz(cfg["data"]["path"], number(cfg, "data", "max_train", int, 0),
                             number(cfg, "data", "max_eval", int, 0), self.seed)
        k = number(cfg, "data", "num_classes", int, 0)
        self.k = k or int(max(y.max() for _, y in self.data.values())) + 1
        split.enter("setup")
        self.probe = torch.nn.Linear(self.dim, self.k)
        torch.nn.init.zeros_(self.probe.weight)  # head.init = zero / lp: movl starts the probe at zero
        torch.nn.init.zeros_(self.probe.bias)
        p = number(cfg, "prompt", "size", int, 1)
        if self.method != "lp" and 2 * p >= size:
            fail("prompt.size = %d: a padding border of 2 x %d leaves nothing of a %d x %d image" % (p, p, size, size))
        self.mask = torch.ones(1, 3, size, size)
        self.mask[:, :, p:size - p, p:size - p] = 0
        self.delta = torch.zeros(1, 3, size, size, requires_grad=True)
        self.use_prompt = False
        self.gen = torch.Generator().manual_seed(self.seed)
        self.feats = {}
        self.best = None
        self.stage = -1  # index of the running stage, as summary.json "selected" counts them

    def prompted(self, x):
        return x + self.mask * self.delta if self.use_prompt else x

    def batches(self, n, b):
        return [(i, min(i + b, n)) for i in range(0, n, b)]

    def cache(self, s):
        x, _ = self.data[s]
        with self.torch.inference_mode():
            self.feats[s] = self.torch.cat([self.encoder(self.prep(x[i:j])) for i, j in self.batches(len(x),
                                                                                                    self.eval_batch)])

    def scores(self, s, cached):
        x, y = self.data[s]
        with self.torch.inference_mode():
            if cached:
                z = self.probe(self.feats[s])
            else:
                z = self.torch.cat([self.probe(self.encoder(self.prompted(self.prep(x[i:j]))))
                                    for i, j in self.batches(len(x), self.eval_batch)])
        return metrics(z.numpy().astype(self.np.float64), y)

    def select(self, name, epoch, cached, loss):
        acc, auc = self.scores("val", cached)
        score = auc if self.select_auc and not math.isnan(auc) else acc
        better = self.best is None or score > self.best[0]
        if better:
            self.best = (score, self.stage, epoch, {k: v.detach().clone() for k, v in self.params().items()})
        print("%s epoch %d: train loss %.4f, val acc %.4f, val auc %.4f%s" % (name, epoch, loss, acc, auc,
              " (best so far)" if better else ""), flush=True)

    def params(self):
        return {"W": self.probe.weight, "b": self.probe.bias, "delta": self.delta}

    def restore(self):
        with self.torch.no_grad():
            for k, v in self.params().items():
                v.copy_(self.best[3][k])

    def lp_stage(self, name, epochs):
        t, sp = self.torch, self.split
        feats, y = self.feats["train"], self.torch.from_numpy(self.data["train"][1])
        opt = make_optimizer(self.cfg, "head", list(self.probe.parameters()), t)
        n = len(y)
        steps = len(self.batches(n, self.batch))
        base = number(self.cfg, "train", "head_lr")
        self.best, step = None, 0
        self.stage += 1
        for epoch in range(epochs):
            sp.enter("data")
            perm = t.randperm(n, generator=self.gen)
            total = 0.0
            for i, j in self.batches(n, self.batch):
                sp.enter("data")
                idx = perm[i:j]
                h, yb = feats[idx], y[idx]
                sp.enter("steps")
                for g in opt.param_groups:
                    g["lr"] = lr_at(base, step, self.warmup, steps * epochs, self.sched,
                                    [m * steps for m in self.milestones], self.gamma)
                loss = t.nn.functional.cross_entropy(self.probe(h), yb)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                total += float(loss)
                step += 1
            sp.enter("val")
            self.select(name, epoch + 1, True, total / steps)
        sp.enter("val")
        self.restore()

    def joint_stage(self, name, epochs, first_candidate):
        t, sp, cfg = self.torch, self.split, self.cfg
        x, y = self.data["train"][0], self.torch.from_numpy(self.data["train"][1])
        self.use_prompt = True
        po = make_optimizer(cfg, "prompt", [self.delta], t)
        ho = make_optimizer(cfg, "head", list(self.probe.parameters()), t)
        bases = (number(cfg, "train", "prompt_lr"), number(cfg, "train", "head_lr"))
        n = len(y)
        steps = len(self.batches(n, self.batch))
        feature_mse = self.disc == "feature_mse"
        self.best, step = None, 0
        self.stage += 1
        if first_candidate:  # the LP solution with the zero prompt
            sp.enter("val")
            self.select(name, 0, False, float("nan"))
        for epoch in range(epochs):
            sp.enter("data")
            perm = t.randperm(n, generator=self.gen)
            total = 0.0
            for i, j in self.batches(n, self.batch):
                sp.enter("data")
                idx = perm[i:j]
                xb, yb = self.prep(x[idx.numpy()]), y[idx]
                plain = self.feats["train"][idx] if feature_mse else None
                sp.enter("steps")
                for o, base in zip((po, ho), bases):
                    for g in o.param_groups:
                        g["lr"] = lr_at(base, step, self.warmup, steps * epochs, self.sched,
                                        [m * steps for m in self.milestones], self.gamma)
                h = self.encoder(self.prompted(xb))
                loss = t.nn.functional.cross_entropy(self.probe(h), yb)
                if feature_mse:
                    loss = loss + self.lam * ((h - plain) ** 2).mean()
                po.zero_grad(set_to_none=True)
                ho.zero_grad(set_to_none=True)
                loss.backward()
                po.step()
                ho.step()
                total += float(loss)
                step += 1
                if step % max(steps // 4, 1) == 0 or i + self.batch >= n:
                    print("%s epoch %d/%d step %d/%d loss %.4f" % (name, epoch + 1, epochs, step - epoch * steps,
                                                                   steps, total / (step - epoch * steps)), flush=True)
            sp.enter("val")
            self.select(name, epoch + 1, False, total / steps)
        sp.enter("val")
        self.restore()

    def run(self):
        sp = self.split
        lp_epochs, epochs = number(self.cfg, "train", "lp_epochs", int, 1), number(self.cfg, "train", "epochs", int, 1)
        lp_first = self.method == "lp" or self.cfg["head"]["init"] == "lp"
        if lp_first or self.disc == "feature_mse":
            sp.enter("cache")
            self.cache("train")
            if lp_first:
                self.cache("val")
        if lp_first:
            self.lp_stage("lp" if self.method == "lp" else "lp_init", lp_epochs)
        if self.method != "lp":
            self.joint_stage(self.method, epochs, lp_first)
        sp.enter("test")
        cached = self.method == "lp"
        if cached:
            self.cache("test")
        val, test = self.scores("val", cached), self.scores("test", cached)
        trainable = self.k * self.dim + self.k + (0 if self.method == "lp" else int(self.mask[0].sum()))
        return {"val": {"acc": val[0], "auc": val[1], "n": len(self.data["val"][1])},
                "test": {"acc": test[0], "auc": test[1], "n": len(self.data["test"][1])},
                "selected": {"stage": self.best[1], "epoch": self.best[2]}, "trainable_params": trainable}


def write_json(path, obj):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    try:
        with open(tmp, "w") as f:
            json.dump(obj, f, indent=2)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        if os.path.exists(tmp):
            os.remove(tmp)
        fail("%s: cannot write (%s)" % (path, exc.strerror))


def main(argv):
    ap = argparse.ArgumentParser(description="PyTorch peer of `movl train` (see the docstring)")
    ap.add_argument("config")
    ap.add_argument("-s", dest="set", action="append", default=[], metavar="section.key=value")
    ap.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    ap.add_argument("--json", metavar="OUT", help="write wall time, split and metrics here")
    a = ap.parse_args(argv)
    cfg = read_config(a.config, a.set)
    if a.threads < 1:
        fail("--threads %d: must be at least 1" % a.threads)
    split = Split()
    try:
        import numpy  # noqa: F401
        import torch
    except ImportError as exc:
        fail("%s (needs Debian's python3-torch and python3-numpy: run with /usr/bin/python3)" % exc)
    torch.set_num_threads(a.threads)
    run = Run(cfg, split, torch)
    print("torch %s, %d threads, %s %d px, %s, %d / %d / %d images" % (
        torch.__version__, torch.get_num_threads(), cfg["encoder"]["arch"], run.size, run.method,
        *(len(run.data[s][1]) for s in ("train", "val", "test"))), flush=True)
    result = run.run()
    split.enter("output")
    sec, wall = split.now()
    print("test: acc %.4f, auc %.4f (%d trainable parameters)" % (result["test"]["acc"], result["test"]["auc"],
                                                                  result["trainable_params"]))
    print("time split: %.1f s wall" % wall)
    for k in Split.NAMES:
        print("  %-10s %9.2f s %5.1f %%" % (k, sec[k], 100 * sec[k] / wall if wall > 0 else 0.0))
    step = sec["data"] + sec["steps"]
    if step > 0:
        print("  data is %.1f %% of the training steps' time (data + steps)" % (100 * sec["data"] / step))
    if a.json:
        result.update({"peer": "pytorch", "torch": torch.__version__, "threads": torch.get_num_threads(),
                       "method": run.method, "time_split": dict({k + "_s": v for k, v in sec.items()}, wall_s=wall)})
        write_json(a.json, result)
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
