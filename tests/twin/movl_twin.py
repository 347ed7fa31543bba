#!/usr/bin/python3
"""PyTorch twin of a movl training run (tests/twin_test.sh).

  movl_twin.py RUN_DIR TRACE [--state DIR ...] [tolerances, see --help]

Replays the run whose directory is RUN_DIR (its resolved config.ini) in
PyTorch, in float64, from the same inputs, and compares it with what movl
did. TRACE is the MOVL_TRACE file of that run (one JSON line per step: the
loss CE + lambda * D as movl computed it); each --state DIR holds copies of
resume.safetensors (tensors and progress) that movl wrote when it was stopped after
some step (MOVL_STOP_AFTER_STEPS). Run it from the directory movl ran in (the
config's relative paths are relative to it). Checks:
  one step   from the initial state and from each movl state (after step
             N): the loss of step N + 1 against the trace, and, when the
             state after N + 1 is given too, the update of every parameter
             (relative L2 of twin vs movl change). No drift accumulates here.
  free run   every step from the initial state: the losses against the trace,
             and the parameters of the epoch that movl selected on
             validation (summary.json "selected"; the twin keeps the
             parameters at the end of every epoch) against model.safetensors;
             for ff also the backbone's change since step 0 (all tensors).

What is replayed, each piece mirroring the runtime file named:
  data       the .npz train split, its class-stratified subsample (max_train)
             and the per-epoch shuffles (dataset_sampling.c: xoshiro256**
             seeded through splitmix64);
  inputs     bilinear resize with half-pixel centres, grey -> RGB,
             (v - mean) / std, all in float32 with the same operation order
             as preprocess.c, so the twin starts from the very floats movl
             uploads; the plain and the shrink layout;
  model      the frozen encoder (efficientnet_lite_pytorch / torchvision
             ResNet, eval mode) on the same safetensors weights, float64;
  prompt     padding, shrink_pad, patch, random_patch, full, optional
             sigmoid, zero or seeded normal init (prompt.c), compact layout;
  head       linear probe (zero or seeded random init, trainer_setup.c), or a
             label map on the source logits: rlm, flm, ilm (labelmap.c) or
             fully;
  loss       CE + lambda * D for method movl (discrepancy.h: feature_mse,
             cosine, kl, plain_ce, pixel), CE for vp and vp_lp;
  backbone   method ff: every conv + BN pair folded into one conv with a
             bias, W' = s W, b' = beta - s mean (bn_fold.c), trained with the
             probe by CE on the plain images (trainer_steps.c tr_step_full);
             its optimiser state comes from "opt.backbone" cut at the
             checkpoint's "backbone_offsets" (encoder_params.c's layout);
  optimiser  torch.optim.Adam / SGD per parameter group with the learning
             rate of trainer.c's lr_at (optim.c: warm-up + cosine,
             multistep, constant) set before every step; movl's optimiser
             state (Adam m and v, SGD momentum) is loaded with a --state.
Only runs of ONE joint stage are replayable: methods vp, vp_lp and ff, and
movl, with head.init = zero or random (the lp init and the lp*/vp_then_lp methods
add a cached-feature stage whose model selection the twin does not replay).
Tested paths (tests/twin_test.sh): padding prompts, flm, linear probes,
feature_mse and kl, ff; the other branches follow the runtime's code but are not
exercised by the test.

--dtype float32 runs the same replay in float32: how far PyTorch's own
float32 run drifts from float64 is the yardstick for the free-run
tolerances. MOVL_TWIN_THREADS sets torch's threads (default 1: on a busy
machine more threads spin-wait and run slower).

Exit codes: 0 agreement, 1 disagreement (with a table of the step losses),
2 a run the twin cannot replay or bad input, 3 the efficientnet_lite_pytorch
package is missing, 77 torch is missing.
"""
import argparse
import configparser
import json
import math
import os
import struct
import sys
import time
import types

SKIP = 77
NO_LITE_PACKAGE = 3
BAD = 2

try:
    import numpy as np
    import torch
except ImportError as exc:
    print("movl_twin.py: %s (needs python3-torch and python3-numpy)" % exc, file=sys.stderr)
    sys.exit(SKIP)

M64 = (1 << 64) - 1
DTYPE = torch.float64  # the reference precision; --dtype float32 shows torch's own float32 drift
SPLIT_TRAIN = 0


def fail_input(msg):
    print("movl_twin.py: " + msg, file=sys.stderr)
    sys.exit(BAD)


# ---------------------------------------------------------------- generators
def splitmix64(state):
    """One step of splitmix64; returns (new_state, value)."""
    state = (state + 0x9E3779B97F4A7C15) & M64
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return state, z ^ (z >> 31)


def hash2(a, b):
    """movl_ds_hash2."""
    _, h = splitmix64(a & M64)
    _, v = splitmix64((h ^ b) & M64)
    return v


class Xoshiro:
    """movl_ds_rng: xoshiro256** seeded with four splitmix64 draws."""

    def __init__(self, seed):
        self.s = []
        st = seed & M64
        for _ in range(4):
            st, v = splitmix64(st)
            self.s.append(v)

    def next(self):
        s = self.s

        def rotl(x, k):
            return ((x << k) | (x >> (64 - k))) & M64
        result = (rotl((s[1] * 5) & M64, 7) * 9) & M64
        t = (s[1] << 17) & M64
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
        return result

    def below(self, n):
        threshold = ((1 << 64) - n) % n  # (0 - n) % n in uint64
        while True:
            x = self.next()
            if x >= threshold:
                return x % n


def movl_shuffle(n, seed, epoch):
    perm = list(range(n))
    r = Xoshiro(hash2(seed, epoch))
    for i in range(n - 1, 0, -1):
        j = r.below(i + 1)
        perm[i], perm[j] = perm[j], perm[i]
    return perm


def stratified_quotas(counts, n, max_n):
    k = len(counts)
    quota, rem = [], []
    for c in range(k):
        exact = float(max_n) * counts[c] / n
        quota.append(int(math.floor(exact)))
        rem.append(exact - quota[c])
    given = sum(quota)
    while given < max_n:
        best = -1
        for c in range(k):
            if quota[c] < counts[c] and (best < 0 or rem[c] > rem[best]):
                best = c
        rem[best] = -1
        quota[best] += 1
        given += 1
    for c in range(k):
        if counts[c] == 0 or quota[c] > 0:
            continue
        big = 0
        for d in range(1, k):
            if quota[d] > quota[big]:
                big = d
        if quota[big] <= 1:
            break
        quota[big] -= 1
        quota[c] += 1
    return quota


def subsample(labels, k, split, max_n, seed):
    """Indices kept by movl_dataset_subsample, in their original order."""
    n = len(labels)
    if max_n <= 0 or max_n >= n:
        return list(range(n))
    counts = [int(np.sum(labels == c)) for c in range(k)]
    quota = stratified_quotas(counts, n, max_n)
    keep = np.zeros(n, dtype=bool)
    for c in range(k):
        idx = [i for i in range(n) if labels[i] == c]
        r = Xoshiro(hash2(hash2(seed, split), c))
        for j in range(quota[c]):
            pick = j + r.below(len(idx) - j)
            idx[j], idx[pick] = idx[pick], idx[j]
            keep[idx[j]] = True
    return [int(i) for i in np.flatnonzero(keep)]


# ------------------------------------------------------------ preprocessing
def axis_table(src, dst):
    """fill_table of preprocess.c: taps i0, i1 and float32 fractions."""
    scale = float(src) / dst
    i0, i1, frac = [], [], []
    for i in range(dst):
        s = (i + 0.5) * scale - 0.5
        if s < 0:
            s = 0.0
        a = int(s)
        if a > src - 1:
            a = src - 1
        i0.append(a)
        i1.append(a + 1 if a + 1 < src else src - 1)
        frac.append(np.float32(s - a))
    return np.array(i0), np.array(i1), np.array(frac, dtype=np.float32)


def preprocess(images, size, inner, mean, std):
    """images: uint8 [n][h][w] (grey) or [n][h][w][c] -> float32 [n][3][size][size]
    exactly as movl_prep_batch (every operation in float32, same order)."""
    f32 = np.float32
    lut = np.arange(256, dtype=f32) / f32(255)
    if images.ndim == 3:
        images = images[..., None]
    n, h, w, nc = images.shape
    planes = lut[images].transpose(0, 3, 1, 2)  # [n][nc][h][w]
    target = inner if inner > 0 else size
    offset = (size - target) // 2
    tx0, tx1, fx = axis_table(w, target)
    ty0, ty1, fy = axis_table(h, target)
    a, b = planes[..., tx0], planes[..., tx1]
    hpass = a + (b - a) * fx  # along x: [n][nc][h][target]
    top, bot = hpass[:, :, ty0, :], hpass[:, :, ty1, :]
    rows = top + (bot - top) * fy[:, None]  # along y: [n][nc][target][target]
    out = np.empty((n, 3, size, size), dtype=f32)
    for k in range(3):
        src = rows[:, 0] if nc == 1 else rows[:, k]
        out[:, k] = (0 - mean[k]) / std[k]  # the shrink layout's border
        out[:, k, offset:offset + target, offset:offset + target] = (src - mean[k]) / std[k]
    return out


# ------------------------------------------------------------------ files
def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] != "F32":
            fail_input("%s: tensor %s has dtype %s (expected F32)" % (path, name, info["dtype"]))
        b, e = info["data_offsets"]
        out[name] = np.frombuffer(data[b:e], dtype="<f4").reshape(info["shape"]).copy()
    return out


def read_safetensors_metadata(path):
    """The header's __metadata__ (string values; movl keeps its progress record there)."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        return json.loads(f.read(n)).get("__metadata__", {})


def read_config(run_dir):
    path = os.path.join(run_dir, "config.ini")
    cp = configparser.ConfigParser(comment_prefixes=("#", ";"), inline_comment_prefixes=None,
                                   interpolation=None)
    if not cp.read(path):
        fail_input("%s: cannot read the run's resolved config" % path)
    cfg = {s: dict(cp[s]) for s in cp.sections()}
    for s in cfg:
        for k, v in cfg[s].items():
            if len(v) >= 2 and v[0] == '"' and v[-1] == '"':
                cfg[s][k] = v[1:-1]
    return cfg


def read_trace(path):
    rows = []
    with open(path) as f:
        for line in f:
            if line.strip():
                rows.append(json.loads(line))
    return rows


def load_npz_train(path):
    d = np.load(path)
    x = d["train_images"]
    y = d["train_labels"].reshape(len(x)).astype(np.int64)
    k = max(int(d[s + "_labels"].max()) for s in ("train", "val", "test")) + 1
    return x, y, k


# ------------------------------------------------------------------ encoder
def load_encoder(arch, weights, size):
    sd = {k: torch.from_numpy(v) for k, v in read_safetensors(weights).items()}
    if arch.startswith("resnet"):
        import torchvision
        model = getattr(torchvision.models, arch)()
        mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    elif arch.startswith("efficientnet_lite"):
        try:
            from efficientnet_lite_pytorch import EfficientNet
        except ImportError:
            print("movl_twin.py: the efficientnet_lite_pytorch package is not importable; install it with "
                  "'pip install --no-deps --target DIR efficientnet_lite_pytorch' and set PYTHONPATH=DIR",
                  file=sys.stderr)
            sys.exit(NO_LITE_PACKAGE)
        # static TF-'same' padding is computed from image_size: build for S
        model = EfficientNet.from_name(arch.replace("_", "-"), image_size=size)
        mean, std = (127.0 / 255,) * 3, (128.0 / 255,) * 3  # encoder_efficientnet.c
    else:
        fail_input("encoder.arch = %s is not one the twin knows" % arch)
    missing, unexpected = model.load_state_dict(sd, strict=False)
    missing = [k for k in missing if not k.endswith("num_batches_tracked")]
    if missing or unexpected:
        fail_input("%s does not fit %s (missing %s, unexpected %s)" % (weights, arch, missing[:3], unexpected[:3]))
    model.to(DTYPE).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    for m in model.modules():
        if isinstance(m, torch.nn.Conv2d) and m.groups > 1 and m.groups == m.in_channels == m.out_channels:
            m.forward = types.MethodType(depthwise_forward, m)
    # the C side keeps mean/std as float32
    return model, np.array(mean, dtype=np.float32), np.array(std, dtype=np.float32)


class _Depthwise(torch.autograd.Function):
    """Depthwise convolution of the already padded x with weights w
    [C][1][kh][kw], as kh*kw shifted multiply-adds in an [H][W][B][C] layout
    (channels innermost, so every tap is one vectorised pass); backward to x,
    and to w when w is trained (method ff)."""

    @staticmethod
    def forward(ctx, x, w, stride, dilation):
        kh, kw = w.shape[-2:]
        (sh, sw), (dh, dw) = stride, dilation
        oh = (x.shape[2] - dh * (kh - 1) - 1) // sh + 1
        ow = (x.shape[3] - dw * (kw - 1) - 1) // sw + 1
        taps = w.reshape(w.shape[0], kh * kw).t().contiguous()  # [tap][C]
        xl = x.permute(2, 3, 0, 1).contiguous()
        ctx.save_for_backward(taps, xl if ctx.needs_input_grad[1] else None)
        ctx.geom = (x.shape, kh, kw, stride, dilation, oh, ow)
        out = x.new_zeros(oh, ow, x.shape[0], x.shape[1])
        for u in range(kh):
            for v in range(kw):
                out.addcmul_(xl[u * dh:u * dh + sh * (oh - 1) + 1:sh, v * dw:v * dw + sw * (ow - 1) + 1:sw],
                             taps[u * kw + v])
        return out.permute(2, 3, 0, 1).contiguous()

    @staticmethod
    def backward(ctx, g):
        taps, xl = ctx.saved_tensors
        shape, kh, kw, (sh, sw), (dh, dw), oh, ow = ctx.geom
        gl = g.permute(2, 3, 0, 1).contiguous()
        gx = g.new_zeros(shape[2], shape[3], shape[0], shape[1])
        gw = g.new_zeros(kh * kw, shape[1]) if xl is not None else None
        for u in range(kh):
            for v in range(kw):
                win = (slice(u * dh, u * dh + sh * (oh - 1) + 1, sh), slice(v * dw, v * dw + sw * (ow - 1) + 1, sw))
                gx[win].addcmul_(gl, taps[u * kw + v])
                if gw is not None:  # ff trains the weights: dw[c][u][v] = sum over b, y, x of g * shifted x
                    gw[u * kw + v] = (gl * xl[win]).sum((0, 1, 2))
        if gw is not None:
            gw = gw.t().reshape(shape[1], 1, kh, kw)
        return gx.permute(2, 3, 0, 1).contiguous(), gw, None, None


def depthwise_forward(self, x):
    """Replaces the forward of a depthwise Conv2d: the same
    mathematics as F.conv2d, but torch's CPU float64 depthwise path runs one
    slow convolution per channel (tens of times slower)."""
    if hasattr(self, "static_padding"):
        x = self.static_padding(x)
    ph, pw = self.padding
    if ph or pw:
        x = torch.nn.functional.pad(x, (pw, pw, ph, ph))
    out = _Depthwise.apply(x, self.weight, tuple(self.stride), tuple(self.dilation))
    if self.bias is not None:
        out = out + self.bias.view(1, -1, 1, 1)
    return out


def conv_bn_pairs(arch, model):
    """(movl's layer name, conv module name, its batch norm's module name)
    for every conv + BN pair of the encoder; movl names a layer by its conv
    (encoder_resnet.c, encoder_efficientnet.c), but resnet's "downsample.0"
    is "downsample"."""
    names = dict(model.named_modules())
    pairs = []
    for name, mod in model.named_modules():
        if not isinstance(mod, torch.nn.Conv2d):
            continue
        parent, _, leaf = name.rpartition(".")
        pre = parent + "." if parent else ""
        if arch.startswith("resnet"):
            if leaf == "0" and parent.endswith("downsample"):
                pairs.append((parent, name, parent + ".1"))
                continue
            bn = pre + leaf.replace("conv", "bn")
        else:
            bn = pre + {"_conv_stem": "_bn0", "_conv_head": "_bn1", "_expand_conv": "_bn0",
                        "_depthwise_conv": "_bn1", "_project_conv": "_bn2"}.get(leaf, "?")
        if not isinstance(names.get(bn), torch.nn.BatchNorm2d):
            fail_input("%s: conv %s has no batch norm the twin can fold" % (arch, name))
        pairs.append((name, name, bn))
    return pairs


def fold_backbone(arch, model):
    """Method ff (docs/METHOD.md "Full fine-tuning"): every conv + BN pair
    becomes one conv with a bias, W' = s W and b' = beta - s mean with
    s = gamma / sqrt(var + eps), folded in double and rounded to float32 as
    bn_fold.c does (the twin starts from the floats movl uploads); the BN
    modules are replaced by identities. Returns {movl layer name: conv} and
    the folded float32 tensors {"LAYER.weight"/"LAYER.bias": array}."""
    mods = dict(model.named_modules())
    convs, init = {}, {}
    for layer, conv_name, bn_name in conv_bn_pairs(arch, model):
        conv, bn = mods[conv_name], mods[bn_name]
        s = bn.weight.double() / torch.sqrt(bn.running_var.double() + bn.eps)
        init[layer + ".weight"] = (conv.weight.double() * s.view(-1, 1, 1, 1)).float().numpy()
        init[layer + ".bias"] = (bn.bias.double() - bn.running_mean.double() * s).float().numpy()
        parent, _, leaf = bn_name.rpartition(".")
        setattr(mods[parent] if parent else model, leaf, torch.nn.Identity())
        convs[layer] = conv
    return convs, init


def features_and_logits(arch, model, x):
    if arch.startswith("resnet"):
        m = model
        h = m.maxpool(m.relu(m.bn1(m.conv1(x))))
        h = m.layer4(m.layer3(m.layer2(m.layer1(h))))
        f = torch.flatten(m.avgpool(h), 1)
        return f, m.fc(f)
    f = torch.flatten(model._avg_pooling(model.extract_features(x)), 1)
    return f, model._fc(f)


# ------------------------------------------------------------------ prompt
class Prompt:
    """prompt.h: compact delta (channel-major, masked pixels in row-major
    order: the same order for every type), rendered into 3 x S x S."""

    def __init__(self, cfg, size, mean, std, seed):
        self.type = cfg["type"]
        self.p = int(cfg["size"])
        self.sigmoid = cfg["sigmoid"].lower() in ("true", "yes", "on", "1")
        self.S = size
        self.mean = torch.tensor(mean.astype(np.float64), dtype=DTYPE).view(3, 1, 1)
        self.std = torch.tensor(std.astype(np.float64), dtype=DTYPE).view(3, 1, 1)
        S, p = size, self.p
        if self.type in ("padding", "shrink_pad"):
            m = np.ones((S, S), dtype=bool)
            m[p:S - p, p:S - p] = False
            self.per_channel = int(m.sum())
        elif self.type in ("patch", "random_patch"):
            self.per_channel = p * p
        elif self.type == "full":
            self.per_channel = S * S
        else:
            fail_input("prompt.type = %s is not one the twin knows" % self.type)
        self.count = 3 * self.per_channel
        self.init, self.init_std, self.seed = cfg["init"], float(np.float32(float(cfg["init_std"]))), seed
        self.reset()

    def reset(self):
        """The initial delta (prompt.c movl_prompt_init_host) and patch_rng (trainer_setup.c)."""
        d = np.zeros(self.count, dtype=np.float32)
        if self.init == "normal":
            d = self.normal_init(self.init_std, (self.seed * 7919 + 17) & M64)
        self.delta = torch.tensor(d, dtype=DTYPE, requires_grad=True)
        self.rng = (self.seed * 31 + 3) & M64

    def normal_init(self, std, state):
        out = np.zeros(self.count, dtype=np.float32)
        two_pi = 6.283185307179586476925
        for i in range(0, self.count, 2):
            state, a = splitmix64(state)
            u1 = 1.0 - (a >> 11) * (1.0 / 9007199254740992.0)
            state, b = splitmix64(state)
            u2 = (b >> 11) * (1.0 / 9007199254740992.0)
            r = math.sqrt(-2.0 * math.log(u1))
            out[i] = std * r * math.cos(two_pi * u2)
            if i + 1 < self.count:
                out[i + 1] = std * r * math.sin(two_pi * u2)
        return out

    def random_position(self):
        if self.type != "random_patch":
            return 0, 0
        rng = self.S - self.p + 1
        self.rng, a = splitmix64(self.rng)
        self.rng, b = splitmix64(self.rng)
        return a % rng, b % rng

    def mask(self, oy, ox):
        S, p = self.S, self.p
        m = np.zeros((S, S), dtype=bool)
        if self.type in ("padding", "shrink_pad"):
            m[:] = True
            m[p:S - p, p:S - p] = False
        elif self.type == "patch":
            m[:p, :p] = True
        elif self.type == "random_patch":
            m[oy:oy + p, ox:ox + p] = True
        else:
            m[:] = True
        return m

    def apply(self, x, oy=0, ox=0):
        S = self.S
        m = self.mask(oy, ox)
        pos = np.flatnonzero(m)
        idx = torch.from_numpy(np.concatenate([c * S * S + pos for c in range(3)]))
        v = torch.sigmoid(self.delta) if self.sigmoid else self.delta
        full = torch.zeros(3 * S * S, dtype=DTYPE).scatter(0, idx, v).view(3, S, S)
        if self.type == "shrink_pad":
            mk = torch.from_numpy(m).view(1, S, S)
            return torch.where(mk, (full - self.mean) / self.std, x)
        return x + full


# ------------------------------------------------------------------ schedule
def lr_cosine(base, step, warmup, total):
    step = max(step, 0)
    if step < warmup:
        return base * (step + 1) / warmup
    if total <= warmup:
        return base
    if step >= total:
        return 0.0
    return 0.5 * (1.0 + math.cos(math.pi * (step - warmup) / (total - warmup))) * base


def lr_multistep(base, step, warmup, milestones, gamma):
    step = max(step, 0)
    if step < warmup:
        return base * (step + 1) / warmup
    lr = base
    for m in milestones:
        if step >= m:
            lr *= gamma
    return lr


def lr_at(tc, group, step, steps_per_epoch, epochs):
    base = float(tc[group + "_lr"])
    warmup = int(tc["warmup_steps"])
    sched = tc["schedule"]
    if sched == "cosine":
        return lr_cosine(base, step, warmup, steps_per_epoch * epochs)
    if sched == "multistep":
        ms = [int(v) * steps_per_epoch for v in tc["milestones"].replace(",", " ").split()]
        return lr_multistep(base, step, warmup, ms, float(tc["gamma"]))
    return lr_multistep(base, step, warmup, [], 1.0)


def make_optimizer(tc, group, params):
    truthy = ("true", "yes", "on", "1")
    # trainer_setup.c builds the optimiser config in float32
    wd = float(np.float32(float(tc[group + "_weight_decay"])))
    if tc[group + "_optimizer"] == "adam":
        return torch.optim.Adam(params, lr=0.0, betas=(float(np.float32(0.9)), float(np.float32(0.999))),
                                eps=float(np.float32(1e-8)), weight_decay=wd)
    mom = float(np.float32(float(tc[group + "_momentum"])))
    return torch.optim.SGD(params, lr=0.0, momentum=mom, weight_decay=wd,
                           nesterov=mom > 0 and tc[group + "_nesterov"].lower() in truthy)


def set_lr(opt, lr):
    for g in opt.param_groups:
        g["lr"] = lr


# ------------------------------------------------------------------ heads
def head_init(init, seed, k, fan_in):
    """trainer_setup.c init_head: zero, or the seeded LCG uniform (float32)."""
    nw = k * fan_in
    w = np.zeros(nw + k, dtype=np.float32)
    if init == "random":
        s = (seed * 0x9E3779B97F4A7C15 + fan_in) & M64
        a = np.float32(1.0) / np.sqrt(np.float32(fan_in))
        for i in range(nw + k):
            s = (s * 6364136223846793005 + 1442695040888963407) & M64
            u = np.float32((s >> 40) / 16777216.0)
            w[i] = a * (np.float32(2.0) * u - np.float32(1.0))
    W = torch.tensor(w[:nw].reshape(k, fan_in), dtype=DTYPE, requires_grad=True)
    b = torch.tensor(w[nw:], dtype=DTYPE, requires_grad=True)
    return W, b


def labelmap_rlm(nsrc, k, seed):
    perm = list(range(nsrc))
    state = seed & M64
    out = []
    for t in range(k):
        state, v = splitmix64(state)
        j = t + v % (nsrc - t)
        perm[t], perm[j] = perm[j], perm[t]
        out.append(perm[t])
    return out


def labelmap_flm(counts):
    """Greedy largest entry, ties to the first in row-major order."""
    nsrc, k = counts.shape
    rows, cols = np.zeros(nsrc, bool), np.zeros(k, bool)
    mp = [0] * k
    for _ in range(k):
        best, bs, bt = 0, -1, -1
        for s in range(nsrc):
            if rows[s]:
                continue
            for t in range(k):
                if not cols[t] and (bs < 0 or counts[s, t] > best):
                    best, bs, bt = counts[s, t], s, t
        mp[bt] = bs
        rows[bs] = cols[bt] = True
    return mp


# ------------------------------------------------------------------ losses
def xent(z, y):
    return torch.nn.functional.cross_entropy(z, y, reduction="mean")


def discrepancy(kind, temp, h_p, h_c, z_p, W, b, y, x_p, x):
    """D of discrepancy.h (value of the term itself, not times lambda)."""
    if kind == "feature_mse":
        return ((h_p - h_c) ** 2).mean()
    if kind == "cosine":
        na = h_p.norm(dim=1).clamp_min(1e-8)
        nb = h_c.norm(dim=1).clamp_min(1e-8)
        return (1 - (h_p * h_c).sum(1) / (na * nb)).mean()
    if kind == "kl":
        z_plain = (h_c @ W.t() + b).detach()  # the detached target: no gradient through the plain path
        lp_plain = torch.log_softmax(z_plain / temp, 1)
        lp_prompt = torch.log_softmax(z_p / temp, 1)
        return (lp_plain.exp() * (lp_plain - lp_prompt)).sum(1).mean()
    if kind == "plain_ce":
        return xent(h_c @ W.t() + b, y)
    if kind == "pixel":
        return ((x_p - x) ** 2).mean()
    raise ValueError(kind)


# ------------------------------------------------------------------ replay
class Twin:
    def __init__(self, cfg):
        self.cfg = cfg
        tc = cfg["train"]
        self.method = tc["method"]
        self.head_type = cfg["head"]["type"]
        self.head_init = cfg["head"]["init"]
        if self.method not in ("vp", "vp_lp", "movl", "ff"):
            fail_input("train.method = %s: the twin replays vp, vp_lp, movl and ff only" % self.method)
        if self.method != "vp" and self.head_init == "lp":
            fail_input("head.init = lp adds an LP stage the twin does not replay (use zero or random)")
        if cfg["data"]["format"] != "npz":
            fail_input("data.format = %s: the twin reads .npz datasets only" % cfg["data"]["format"])
        self.seed = int(cfg["experiment"]["seed"])
        self.S = int(cfg["encoder"]["size"])
        self.arch = cfg["encoder"]["arch"]
        self.model, self.mean, self.std = load_encoder(self.arch, cfg["encoder"]["weights"], self.S)
        self.ff = self.method == "ff"  # the backbone (folded) is trained, on plain images
        self.convs, self.bb_init, self.bb = {}, {}, {}
        if self.ff:
            self.convs, self.bb_init = fold_backbone(self.arch, self.model)
        imgs, labels, k = load_npz_train(cfg["data"]["path"])
        if int(cfg["data"]["num_classes"]) > 0:
            k = int(cfg["data"]["num_classes"])
        self.K = k
        keep = subsample(labels, k, SPLIT_TRAIN, int(cfg["data"]["max_train"]), self.seed)
        self.images, self.labels = imgs[keep], labels[keep]
        self.prompt = Prompt(cfg["prompt"], self.S, self.mean, self.std, self.seed)
        inner = self.S - 2 * self.prompt.p if self.prompt.type == "shrink_pad" and not self.ff else 0
        self.x = preprocess(self.images, self.S, inner, self.mean, self.std)
        self.B = int(tc["batch_size"])
        self.EB = int(cfg["eval"]["batch_size"])
        self.epochs = int(tc["epochs"])
        self.steps = (len(self.labels) + self.B - 1) // self.B  # per epoch
        self.is_map = self.method == "vp"
        self.fully = self.is_map and self.head_type == "fully"
        self.has_head = self.fully or not self.is_map
        self.head_name = "map.fully." if self.fully else "probe."
        self.fan_in = 1000 if self.fully else self.D()
        self.disc = cfg["loss"]["discrepancy"] if self.method == "movl" else "none"
        self.lam = float(np.float32(float(cfg["loss"]["lambda"])))
        self.temp = float(np.float32(float(cfg["loss"]["temperature"])))
        self.init_map = None
        self.reset()

    def reset(self):
        """Parameters at step 0 (trainer_setup.c)."""
        self.prompt.reset()
        self.W = self.b = None
        if self.has_head:
            self.W, self.b = head_init(self.head_init, self.seed, self.K, self.fan_in)
        self.map = list(range(self.K)) if self.is_map and not self.fully else None
        self.map_fitted = False
        self.set_backbone(self.bb_init)
        self.opt_state = None
        self.step0 = 0

    def set_backbone(self, tensors):
        """ff: fresh leaf parameters W', b' of every folded conv from
        {"LAYER.weight"/"LAYER.bias": float32 array}."""
        self.bb = {}
        for layer, conv in self.convs.items():
            for kind in ("weight", "bias"):
                p = torch.nn.Parameter(torch.tensor(tensors[layer + "." + kind], dtype=DTYPE))
                setattr(conv, kind, p)
                self.bb[layer + "." + kind] = p

    def load_state(self, state_dir):
        """movl's resume checkpoint (trainer_checkpoint.c): parameters,
        optimiser states and progress after global step N; returns N."""
        path = os.path.join(state_dir, "resume.safetensors")
        t = read_safetensors(path)
        meta = read_safetensors_metadata(path)
        if meta.get("format") != "movl-resume-2" or "progress" not in meta:
            fail_input("%s: not a movl checkpoint of format movl-resume-2" % path)
        j = json.loads(meta["progress"])
        if j["stage_index"] != 0:
            fail_input("%s: a checkpoint of stage %d (the twin replays stage 0 only)" % (state_dir, j["stage_index"]))
        self.reset()
        if not self.ff:
            self.prompt.delta = torch.tensor(t["prompt.delta"], dtype=DTYPE, requires_grad=True)
        self.prompt.rng = int(j["patch_rng"])
        if self.has_head:
            self.W = torch.tensor(t[self.head_name + "weight"], dtype=DTYPE, requires_grad=True)
            self.b = torch.tensor(t[self.head_name + "bias"], dtype=DTYPE, requires_grad=True)
        if "map.index" in t:
            self.map = [int(v) for v in t["map.index"]]
            self.map_fitted = True
        opt = "opt.fully." if self.fully else "opt.probe."
        self.opt_state = {"prompt": [t.get("opt.prompt")],
                          "head": [t.get(opt + "weight"), t.get(opt + "bias")]}
        if self.ff:
            self.load_backbone_state(path, t, meta)
        self.step0 = int(j["global_step"])
        return self.step0

    def load_backbone_state(self, path, t, meta):
        """The backbone's tensors and its optimiser state "opt.backbone": one
        flat array over the encoder's layout (encoder_params.c: each tensor
        at an aligned offset, which the checkpoint's metadata
        "backbone_offsets" lists; m then v for Adam, each of the layout's
        length; the momentum for SGD), cut here into per-tensor states."""
        if "backbone_offsets" not in meta:
            fail_input("%s: no backbone_offsets in the metadata (not an ff checkpoint of this movl)" % path)
        offs = json.loads(meta["backbone_offsets"])
        if sorted(offs) != sorted(self.bb):
            fail_input("%s: backbone tensors %s differ from the twin's folded convs %s"
                       % (path, sorted(set(offs) ^ set(self.bb))[:4], len(self.bb)))
        self.set_backbone({k: t["backbone." + k] for k in self.bb})
        st = t.get("opt.backbone")
        if st is None:
            self.opt_state["backbone"] = [None] * len(self.bb)
            return
        adam = self.cfg["train"]["backbone_optimizer"] == "adam"
        half = len(st) // 2 if adam else len(st)
        per = []
        for k, p in self.bb.items():
            o, n = int(offs[k]), p.numel()
            if o + n > half:
                fail_input("%s: opt.backbone (%d floats) is too short for %s at %d" % (path, len(st), k, o))
            per.append(np.concatenate([st[o:o + n], st[half + o:half + o + n]]) if adam else st[o:o + n])
        self.opt_state["backbone"] = per

    def D(self):
        with torch.no_grad():
            f, _ = features_and_logits(self.arch, self.model, torch.zeros(1, 3, self.S, self.S, dtype=DTYPE))
        return f.shape[1]

    def batch(self, idx):
        x = torch.from_numpy(self.x[idx]).to(DTYPE)
        y = torch.from_numpy(self.labels[idx])
        return x, y

    def fit_label_map(self):
        """trainer_eval.c tr_fit_label_map: RLM, or FLM on the top-1 source
        predictions of the train split through the current prompt."""
        if self.head_type == "rlm":
            self.map = labelmap_rlm(1000, self.K, self.seed)
            return
        counts = np.zeros((1000, self.K), dtype=np.int64)
        n = len(self.labels)
        with torch.no_grad():
            for b0 in range(0, n, self.EB):
                x, y = self.batch(list(range(b0, min(n, b0 + self.EB))))
                _, z = features_and_logits(self.arch, self.model, self.prompt.apply(x))
                for t, c in zip(z.argmax(1).numpy(), y.numpy()):  # argmax: the first index of the maximum
                    counts[t, c] += 1
        self.map = labelmap_flm(counts)

    def params(self):
        """Current parameters under their model.safetensors names (float64 numpy)."""
        s = {} if self.ff else {"prompt.delta": self.prompt.delta.detach().double().numpy().copy()}
        for k, p in self.bb.items():
            s["backbone." + k] = p.detach().double().numpy().copy()
        if self.has_head:
            s[self.head_name + "weight"] = self.W.detach().double().numpy().copy()
            s[self.head_name + "bias"] = self.b.detach().double().numpy().copy()
        if self.map is not None:
            s["map.index"] = np.array(self.map, dtype=np.float64)
        return s

    def optimizers(self):
        tc = self.cfg["train"]
        groups = {"backbone": list(self.bb.values())} if self.ff else {"prompt": [self.prompt.delta]}
        if self.has_head:
            groups["head"] = [self.W, self.b]
        opts = {}
        for g, ps in groups.items():
            opt = make_optimizer(tc, g, ps)
            if self.opt_state and self.step0 > 0:  # movl's state: Adam m then v, or the SGD momentum buffer
                for p, st in zip(ps, self.opt_state[g]):
                    if st is None:
                        continue
                    st = torch.tensor(st, dtype=DTYPE)
                    if isinstance(opt, torch.optim.Adam):
                        n = p.numel()
                        opt.state[p] = {"step": torch.tensor(float(self.step0)), "exp_avg": st[:n].view_as(p).clone(),
                                        "exp_avg_sq": st[n:].view_as(p).clone()}
                    else:
                        opt.state[p] = {"momentum_buffer": st.view_as(p).clone()}
            opts[g] = opt
        return opts

    def replay(self, n_steps):
        """n_steps optimisation steps from the current state (trainer.c
        run_stage + trainer_steps.c tr_step_prompt). Returns the losses and
        the parameters at the end of every epoch completed on the way."""
        tc = self.cfg["train"]
        opts = self.optimizers()
        if self.is_map and not self.fully and not self.map_fitted:
            # prepare_stage: before the first step, with the initial prompt (the same every time: fitted once)
            if self.init_map is None:
                self.fit_label_map()
                self.init_map = list(self.map)
            self.map = list(self.init_map)
            self.map_fitted = True
        losses, snaps, perm = [], {}, None
        for g in range(self.step0, self.step0 + n_steps):
            epoch, s = divmod(g, self.steps)
            if perm is None or s == 0:
                perm = movl_shuffle(len(self.labels), self.seed, 0 * 1000003 + epoch)  # stage 0
            if self.is_map and self.head_type == "ilm" and epoch > 0 and s == 0:
                self.fit_label_map()
            for name, opt in opts.items():
                set_lr(opt, lr_at(tc, name, g, self.steps, self.epochs))
            x, y = self.batch(perm[s * self.B:(s + 1) * self.B])
            if self.ff:  # trainer_steps.c tr_step_full: CE of the probe on the plain images
                h, _ = features_and_logits(self.arch, self.model, x)
                xp, zsrc = x, None
            else:
                oy, ox = self.prompt.random_position()
                xp = self.prompt.apply(x, oy, ox)
                h, zsrc = features_and_logits(self.arch, self.model, xp)
            if self.is_map:
                z = zsrc @ self.W.t() + self.b if self.fully else zsrc[:, self.map]
                loss = xent(z, y)
            else:
                z = h @ self.W.t() + self.b
                loss = xent(z, y)
                if self.disc != "none":
                    hc = None
                    if self.disc != "pixel":
                        with torch.no_grad():  # the cached plain features f(x): no gradient into them
                            hc, _ = features_and_logits(self.arch, self.model, x)
                    loss = loss + self.lam * discrepancy(self.disc, self.temp, h, hc, z, self.W, self.b, y, xp, x)
            for opt in opts.values():
                opt.zero_grad()
            loss.backward()
            for opt in opts.values():
                opt.step()
            losses.append(float(loss))
            if s == self.steps - 1:
                snaps[epoch + 1] = self.params()
        self.step0 += n_steps
        return losses, snaps


# ------------------------------------------------------------------ compare
def rel_l2(a, ref):
    """|a - ref| / |ref|; 0 when both are zero, inf when only ref is."""
    a, ref = np.asarray(a, np.float64).ravel(), np.asarray(ref, np.float64).ravel()
    d, nr = np.linalg.norm(a - ref), np.linalg.norm(ref)
    if nr == 0:
        return 0.0 if d == 0 else math.inf
    return d / nr


class Report:
    def __init__(self, name):
        self.name, self.ok, self.lines = name, True, []

    def check(self, good, line):
        self.lines.append(("ok    " if good else "FAIL  ") + line)
        self.ok &= bool(good)


def compare_params(rep, what, movl, twin, tol, base=None):
    """Relative L2 of every parameter; with base, of the change since base,
    where the twin's parameters after the step are first rounded to float32:
    movl keeps its parameters in float32, so the state to expect is the
    twin's step stored in float32. (This matters where a tensor's values are
    large next to the step: a folded BN bias of 40 moved by Adam's lr 1e-4
    sees a float32 ulp of 4e-6, i.e. a 4 % difference per element between
    the stored and the exact update.)
    The backbone's tensors (ff) are summed up in one entry: the worst one and
    the relative L2 over all of them."""
    parts, bb = [], []
    for key in sorted(twin):
        if key not in movl:
            rep.check(False, "%s: movl has no %s" % (what, key))
            continue
        if movl[key].shape != twin[key].shape:
            rep.check(False, "%s: %s has shape %s in movl, %s in the twin" % (what, key, movl[key].shape,
                                                                              twin[key].shape))
            continue
        if key == "map.index":
            same = np.array_equal(movl[key], twin[key])
            rep.check(same, "%s: label map movl %s, twin %s" % (what, movl[key].astype(int).tolist(),
                                                                twin[key].astype(int).tolist()))
            continue
        m, t = movl[key].astype(np.float64), twin[key]
        if base is not None:
            m, t = m - base[key], t.astype(np.float32).astype(np.float64) - base[key]
        r = rel_l2(m, t)
        if key.startswith("backbone."):
            bb.append((r, key, m, t))
        else:
            parts.append("%s %.1e" % (key, r))
        if not r <= tol:
            rep.check(False, "%s: %s relative L2 difference %.2e > %.2g (|twin| %.3g)" % (what, key, r, tol,
                                                                                        np.linalg.norm(t)))
    if bb:
        r, key, *_ = max(bb, key=lambda e: e[0])
        allr = rel_l2(np.concatenate([e[2].ravel() for e in bb]), np.concatenate([e[3].ravel() for e in bb]))
        parts.insert(0, "backbone (%d tensors) all %.1e, worst %s %.1e" % (len(bb), allr, key[9:], r))
    rep.check(True, "%s (rel. L2, tol %.2g): %s" % (what, tol, ", ".join(parts)))


def main(argv):
    ap = argparse.ArgumentParser(description="PyTorch twin of a movl run (see the module doc).")
    ap.add_argument("run_dir")
    ap.add_argument("trace")
    ap.add_argument("--state", action="append", default=[],
                    help="a folder with a copy of the run's resume.safetensors, saved when it "
                         "stopped after some step (MOVL_STOP_AFTER_STEPS); repeatable")
    ap.add_argument("--steps", type=int, default=0, help="compare the first N step losses of the free run (0: all)")
    ap.add_argument("--loss-rtol", type=float, default=1e-2, help="free run: step losses")
    ap.add_argument("--early-steps", type=int, default=0,
                    help="free run: check the first N steps with --early-loss-rtol (0: no such check)")
    ap.add_argument("--early-loss-rtol", type=float, default=1e-5, help="free run: losses of the early steps")
    ap.add_argument("--param-rtol", type=float, default=0.2, help="free run: the selected parameters")
    ap.add_argument("--change-rtol", type=float, default=0.2,
                    help="free run (ff): the change of the backbone since step 0, all tensors together")
    ap.add_argument("--step-loss-rtol", type=float, default=1e-5, help="one step from movl's state: its loss")
    ap.add_argument("--step-rtol", type=float, default=1e-3, help="one step from movl's state: the update")
    ap.add_argument("--dump", help="also write the one-step losses and updates and the free run's losses and "
                                   "parameters to this .npz (tests/twin/dump_diff.py compares two)")
    ap.add_argument("--dtype", choices=("float64", "float32"), default="float64")
    a = ap.parse_args(argv[1:])
    global DTYPE
    DTYPE = getattr(torch, a.dtype)
    torch.set_num_threads(int(os.environ.get("MOVL_TWIN_THREADS", "1")))
    t0 = time.time()
    cfg = read_config(a.run_dir)
    twin = Twin(cfg)
    m = cfg["train"]["method"]
    rep = Report("%s/%s" % (m, cfg["loss"]["discrepancy"] if m == "movl" else cfg["head"]["type"]))
    trace = read_trace(a.trace)
    total = twin.steps * twin.epochs
    if len(trace) != total or [r["step"] for r in trace] != list(range(1, total + 1)):
        rep.check(False, "the trace holds steps %s, expected 1..%d once each"
                  % ([r["step"] for r in trace][:30], total))
    movl_loss = {r["step"]: r["loss"] for r in trace}

    # 1. One step from movl's own state (and from the common initial state):
    #    the loss of the next step and the update it makes, free of the
    #    drift that accumulates over a free run.
    states = {0: None}
    for d in a.state:
        states[twin.load_state(d)] = d
    step_rows, step_dump = [], {}
    for k in sorted(states):
        if states[k] is None:
            twin.reset()
        else:
            twin.load_state(states[k])
        before = twin.params()
        losses, _ = twin.replay(1)
        if k + 1 in movl_loss:
            r = abs(movl_loss[k + 1] - losses[0]) / abs(losses[0])
            step_rows.append((k + 1, movl_loss[k + 1], losses[0], r))
            rep.check(r <= a.step_loss_rtol, "step %d from movl's state after step %d: loss movl %.9g twin %.9g, "
                      "rel. diff %.1e (tol %.2g)" % (k + 1, k, movl_loss[k + 1], losses[0], r, a.step_loss_rtol))
        step_dump["step%d/loss" % (k + 1)] = np.array(losses[0])
        if k + 1 in states:
            after = read_safetensors(os.path.join(states[k + 1], "resume.safetensors"))
            now = twin.params()
            compare_params(rep, "update of step %d" % (k + 1), after, now, a.step_rtol, base=before)
            if a.dump:  # the update as this twin's dtype stores it (float64: rounded as movl would store it)
                step_dump.update({"step%d/update/%s" % (k + 1, key): v.astype(np.float32).astype(np.float64) -
                                  before[key] for key, v in now.items() if key != "map.index"})

    # 2. The free run: every step from the initial state, as movl ran it.
    twin.reset()
    init = twin.params()
    losses, snaps = twin.replay(total)
    if a.dump:
        step_dump.update({"init/" + k: v for k, v in init.items() if k.startswith("backbone.")})
        np.savez(a.dump, losses=np.array(losses), **step_dump, **{"%d/%s" % (e, k): v for e, sn in snaps.items()
                                                                  for k, v in sn.items()})
    n = min(len(losses), a.steps or len(losses))
    rows = [(i + 1, movl_loss.get(i + 1, math.nan), losses[i]) for i in range(n)]
    rows = [(s, mv, tv, abs(mv - tv) / abs(tv)) for s, mv, tv in rows]
    worst = max([r for *_, r in rows], default=0.0)
    if a.early_steps > 0:
        early = max([r for s, *_, r in rows if s <= a.early_steps], default=0.0)
        rep.check(early <= a.early_loss_rtol, "free run, steps 1..%d: loss max rel. diff %.1e (tol %.2g)"
                  % (min(n, a.early_steps), early, a.early_loss_rtol))
    rep.check(worst <= a.loss_rtol, "free run, steps 1..%d: loss max rel. diff %.1e (tol %.2g)" % (n, worst,
                                                                                                    a.loss_rtol))
    with open(os.path.join(a.run_dir, "summary.json")) as f:
        sel = json.load(f)["selected"]
    if sel["stage"] != 0 or sel["epoch"] not in snaps:
        rep.check(False, "movl selected stage %s epoch %s, which the twin did not replay" % (sel["stage"],
                                                                                          sel["epoch"]))
    else:
        model = read_safetensors(os.path.join(a.run_dir, "model.safetensors"))
        compare_params(rep, "free run, parameters of epoch %d (model.safetensors)" % sel["epoch"], model,
                       snaps[sel["epoch"]], a.param_rtol)
        bb = [k for k in init if k.startswith("backbone.")]
        if bb and all(k in model for k in bb):
            # the backbone's values dwarf what training moves them by: its change is the sensitive measure
            cat = lambda src: np.concatenate([(src[k].astype(np.float64) - init[k]).ravel() for k in bb])
            r = rel_l2(cat(model), cat(snaps[sel["epoch"]]))
            rep.check(r <= a.change_rtol, "free run, change of the backbone since step 0 (all %d tensors): rel. L2 "
                      "%.1e (tol %.2g)" % (len(bb), r, a.change_rtol))

    print("twin %s (%s): %s, %.0f s" % (rep.name, a.dtype, "agrees" if rep.ok else "DISAGREES", time.time() - t0))
    for line in rep.lines:
        print("  " + line)
    if not rep.ok:
        print("  free run:                                       one step from movl's state:")
        print("  step  loss movl     loss twin     rel diff      step  loss movl     loss twin     rel diff")
        one = {s: (mv, tv, r) for s, mv, tv, r in step_rows}
        for s, mv, tv, r in rows:
            extra = "      %4d  %.9f   %.9f   %.1e" % ((s,) + one[s]) if s in one else ""
            bad = r > (a.early_loss_rtol if s <= a.early_steps else a.loss_rtol)  # early_steps 0: never
            print("  %4d  %.9f   %.9f   %.1e%s%s" % (s, mv, tv, r, " <" if bad else "  ", extra))
    return 0 if rep.ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
