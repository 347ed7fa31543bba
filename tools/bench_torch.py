#!/usr/bin/env python3
"""PyTorch-CPU twin of `movl bench`: the same computation, timed the same way.

Forward: the frozen encoder on a batch (inference, no autograd graph).
Training step: frozen encoder (no weight gradients) -> linear probe -> softmax
cross-entropy, backward to the probe and to the INPUT image (what visual
prompting needs). Weights are random (speed does not depend on their values).

--ff: a full fine-tuning step instead, the twin of `movl bench --ff`: model.train() with every
batch-norm module in eval mode (statistics frozen), requires_grad on every backbone parameter, a
linear probe, cross-entropy, backward, one Adam step (lr 1e-4, weight decay 5e-4) over backbone and
probe. Drop connect is off (movl has none). Prints images/s, ms/step min/median over --iters repeats,
the bytes of parameters + gradients + Adam state, and of the tensors autograd saved for backward.

Run with Debian's PyTorch:  /usr/bin/python3 tools/bench_torch.py --arch resnet18 --batch 32 --threads 2
EfficientNet-Lite needs the efficientnet_lite_pytorch model code on PYTHONPATH
(tools/setup.sh --test puts it in .deps/python).
"""
import argparse
import json
import os
import sys
import time


def build(arch, size):
    import torch
    import torchvision

    if arch.startswith("resnet"):
        model = getattr(torchvision.models, arch)()
        dim = model.fc.in_features
        trunk = torch.nn.Sequential(*list(model.children())[:-1], torch.nn.Flatten())
        return model, trunk, dim
    if arch.startswith("efficientnet_lite"):
        try:
            from efficientnet_lite_pytorch import EfficientNet
        except ImportError:
            sys.exit("bench_torch.py: efficientnet_lite_pytorch not found (run tools/setup.sh --test and "
                     "export PYTHONPATH=$PWD/.deps/python)")
        name = arch.replace("_", "-")
        # No drop connect: it would only act in train mode (--ff), and movl has none.
        model = EfficientNet.from_name(name, image_size=size, drop_connect_rate=None)

        class Trunk(torch.nn.Module):
            def forward(self, x):
                return torch.flatten(model._avg_pooling(model.extract_features(x)), 1)

        return model, Trunk(), model._fc.in_features
    if arch.startswith("vit_"):  # torchvision's ViT; features = the final-normed class token
        model = getattr(torchvision.models, arch)(image_size=size)

        class VitTrunk(torch.nn.Module):
            def forward(self, x):
                h = model._process_input(x)
                h = torch.cat([model.class_token.expand(h.shape[0], -1, -1), h], dim=1)
                return model.encoder(h)[:, 0]

        return model, VitTrunk(), model.hidden_dim
    if arch.startswith("clip_vit_"):  # open_clip's image tower (QuickGELU); features = the embedding
        import types
        for d in sys.path:
            if os.path.isdir(os.path.join(d, "open_clip")):
                pkg = types.ModuleType("open_clip")
                pkg.__path__ = [os.path.join(d, "open_clip")]
                sys.modules["open_clip"] = pkg
                break
        try:
            from open_clip.transformer import QuickGELU, VisionTransformer
        except ImportError:
            sys.exit("bench_torch.py: open_clip not found (run tools/setup.sh --test and "
                     "export PYTHONPATH=$PWD/.deps/python)")
        model = VisionTransformer(image_size=size, patch_size=16 if "b_16" in arch else 32, width=768, layers=12,
                                  heads=12, mlp_ratio=4.0, output_dim=512, act_layer=QuickGELU)
        return model, model, 512
    sys.exit(f"bench_torch.py: unknown --arch {arch}")


def full_finetune(a, model, trunk, dim):
    """Times a.iters full fine-tuning steps after one warm-up; returns the figures as a dict."""
    import statistics

    import torch

    model.train()
    for m in model.modules():  # BN frozen: running statistics used and kept, as movl folds them
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.eval()
    # The backbone: every parameter but the 1000-class head (which the step does not use).
    backbone = [p for n, p in model.named_parameters() if not n.startswith(("fc.", "_fc."))]
    for p in model.parameters():
        p.requires_grad_(True)
    probe = torch.nn.Linear(dim, a.classes)
    params = backbone + list(probe.parameters())
    opt = torch.optim.Adam(params, lr=1e-4, weight_decay=5e-4)
    x = torch.randn(a.batch, 3, a.size, a.size)
    y = torch.arange(a.batch) % a.classes
    saved = {}

    def pack(t):  # bytes autograd keeps for backward, each storage once
        st = t.storage() if hasattr(t, "storage") else None
        if st is not None:
            saved[st.data_ptr()] = st.nbytes() if hasattr(st, "nbytes") else st.size() * t.element_size()
        return t

    def step(count_saved=False):
        opt.zero_grad(set_to_none=True)
        if count_saved:
            with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
                loss = torch.nn.functional.cross_entropy(probe(trunk(x)), y)
        else:
            loss = torch.nn.functional.cross_entropy(probe(trunk(x)), y)
        loss.backward()
        opt.step()
        return loss.item()

    step(count_saved=True)  # warm-up (and Adam's state allocated)
    times = []
    for _ in range(a.iters):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    n = sum(p.numel() for p in params)
    state = sum(t.numel() * t.element_size() for s in opt.state.values() for t in s.values() if torch.is_tensor(t)
                and t.dim() > 0)
    med = statistics.median(times)
    return {
        "ff_img_s": a.batch / med,
        "ff_step_ms_min": 1e3 * min(times),
        "ff_step_ms_median": 1e3 * med,
        "ff_params": n,
        "ff_param_state_bytes": 2 * 4 * n + state,  # weights, gradients, Adam m and v
        "ff_saved_bytes": sum(saved.values()),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--arch", required=True)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--iters", type=int, default=5)
    ap.add_argument("--classes", type=int, default=2)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--ff", action="store_true", help="time a full fine-tuning step (see above)")
    a = ap.parse_args()

    import torch

    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model, trunk, dim = build(a.arch, a.size)
    if a.ff:
        r = {"framework": f"pytorch {torch.__version__}", "threads": a.threads, "arch": a.arch, "batch": a.batch,
             "size": a.size, "iters": a.iters}
        r.update(full_finetune(a, model, trunk, dim))
        if a.json:
            print(json.dumps(r, indent=1))
            return
        mib = 2.0**20
        print(f"pytorch {torch.__version__}, {a.threads} threads, {a.arch}, batch {a.batch}, {a.size}x{a.size}, "
              f"full fine-tuning step, {a.iters} timed repeats")
        print(f"  {'batch':>5} {'FF img/s':>9} {'ms/step min':>11} {'median':>11} {'params M':>9} "
              f"{'w+g+Adam MiB':>13} {'saved MiB':>9}")
        print(f"  {a.batch:5d} {r['ff_img_s']:9.2f} {r['ff_step_ms_min']:11.1f} {r['ff_step_ms_median']:11.1f} "
              f"{r['ff_params'] * 1e-6:9.2f} {r['ff_param_state_bytes'] / mib:13.0f} {r['ff_saved_bytes'] / mib:9.0f}")
        return
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    probe = torch.nn.Linear(dim, a.classes)
    x = torch.randn(a.batch, 3, a.size, a.size)
    y = torch.arange(a.batch) % a.classes

    def forward():
        with torch.no_grad():
            model(x)

    def train_step():
        xi = x.clone().requires_grad_(True)
        loss = torch.nn.functional.cross_entropy(probe(trunk(xi)), y)
        probe.zero_grad(set_to_none=True)
        loss.backward()
        return loss.item()

    forward()
    train_step()
    t0 = time.perf_counter()
    for _ in range(a.iters):
        forward()
    t_fwd = (time.perf_counter() - t0) / a.iters
    t0 = time.perf_counter()
    for _ in range(a.iters):
        train_step()
    t_train = (time.perf_counter() - t0) / a.iters
    r = {
        "framework": f"pytorch {torch.__version__}",
        "threads": a.threads,
        "arch": a.arch,
        "batch": a.batch,
        "size": a.size,
        "iters": a.iters,
        "forward_img_s": a.batch / t_fwd,
        "train_step_img_s": a.batch / t_train,
    }
    if a.json:
        print(json.dumps(r, indent=1))
    else:
        print(f"pytorch {torch.__version__}, {a.threads} threads, {a.arch}, batch {a.batch}, {a.size}x{a.size}")
        print(f"forward        {r['forward_img_s']:8.2f} img/s")
        print(f"training step  {r['train_step_img_s']:8.2f} img/s (forward + probe + backward to the input)")


if __name__ == "__main__":
    main()
