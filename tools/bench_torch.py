#!/usr/bin/env python3
"""PyTorch-CPU twin of `movl bench`: the same computation, timed the same way.

Forward: the frozen encoder on a batch (inference, no autograd graph).
Training step: frozen encoder (no weight gradients) -> linear probe -> softmax
cross-entropy, backward to the probe and to the INPUT image (what visual
prompting needs). Weights are random (speed does not depend on their values).

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
        model = EfficientNet.from_name(name, image_size=size)

        class Trunk(torch.nn.Module):
            def forward(self, x):
                return torch.flatten(model._avg_pooling(model.extract_features(x)), 1)

        return model, Trunk(), model._fc.in_features
    sys.exit(f"bench_torch.py: unknown --arch {arch}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--arch", required=True)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--iters", type=int, default=5)
    ap.add_argument("--classes", type=int, default=2)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()

    import torch

    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model, trunk, dim = build(a.arch, a.size)
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
