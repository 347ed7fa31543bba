#!/usr/bin/python3
"""PyTorch reference data for the encoder tests (tests/test_encoders.c).

  make_golden.py golden ARCH SEED BATCH SIZE OUTDIR
      Builds ARCH (resnet18/34/50, efficientnet_lite0..4) with random weights
      and random batch-norm statistics, eval mode, and writes
        OUTDIR/weights.safetensors  the model's float tensors (state_dict names)
        OUTDIR/golden.safetensors   input, features, logits, dfeatures, dlogits, dinput
      where dinput is d/dinput of sum(dfeatures*features) + sum(dlogits*logits).
      The reference runs in float64 on the float32-rounded weights and input,
      so it is the exact result for what the C side reads.
      The input gradient depends discontinuously on the ReLU/ReLU6 masks (and
      max-pool winners): float32 rounding would flip the few pre-activations
      that lie within ~1e-6 of a kink, and on a deep net at a small size one
      flip moves the gradient of a whole input region by ~1e-2. So the
      generator moves each such channel's batch-norm beta a little (in
      float64, then rounded to float32) until no pre-activation lies within
      1e-4 x its layer's RMS of a kink (and no max-pool window has a runner-up
      that close to its maximum), which leaves no flip for float32 to make.
      golden also holds torch_fp32_error: the relative L2 errors of
      PyTorch's own float32 features, logits and dinput against the reference,
      and the weight gradients of that same sum with respect to the
      BN-folded parameters movl trains in full fine-tuning (BN frozen, eval
      mode): for each conv followed by its batch norm, with s = gamma /
      sqrt(var + eps) per output channel, W' = s W and b' = beta - s mean, so
        wgrad.LAYER = dL/dW' = dL/dW / s      bgrad.LAYER = dL/db' = dL/dbeta
      (LAYER: the conv's module name, "downsample.0" written "downsample" as
      movl names it).

  make_golden.py real WEIGHTS RESIZE SIZE OUTDIR IMAGE...
      Preprocesses real photographs as the C side does (see preprocess()):
      shorter side to RESIZE, central SIZE x SIZE crop, EfficientNet-Lite
      normalisation. Writes OUTDIR/real.safetensors: input [n][3][SIZE][SIZE]
      and logits [n][1000] of efficientnet_lite0 with the ImageNet WEIGHTS
      (.pth or safetensors), in float64. An IMAGE that is not a PNG (the C
      loader reads PNG only) is first written losslessly as OUTDIR/N.png
      (N: its position in the list) and that PNG is what is preprocessed.

Needs torch and torchvision (Debian: python3-torch, python3-torchvision) and,
for efficientnet_lite*, the efficientnet_lite_pytorch package (PyPI wheel,
code only) importable through PYTHONPATH, e.g.
  pip install --no-deps --target DIR efficientnet_lite_pytorch
  PYTHONPATH=DIR /usr/bin/python3 tests/golden/make_golden.py ...
Exit code 77 when torch is missing (the C tests then skip); 3 when the
efficientnet_lite_pytorch package is missing (a failure: CI installs it).
"""
import copy
import json
import math
import os
import struct
import sys

SKIP = 77
NO_LITE_PACKAGE = 3

try:
    import numpy as np
    import torch
    import torchvision
except ImportError as exc:  # the C test turns this into a skip
    print("make_golden.py: %s (needs python3-torch, python3-torchvision, python3-numpy)" % exc, file=sys.stderr)
    sys.exit(SKIP)

ARCHS = ["resnet18", "resnet34", "resnet50"] + ["efficientnet_lite%d" % i for i in range(5)] + [
    "vit_b_16", "vit_b_32", "vit_b_16_tiny", "vit_b_32_tiny", "vit_b_16_tiny_interp", "vit_b_32_tiny_interp",
    "clip_vit_b_32", "clip_vit_b_16_tiny", "clip_vit_b_32_tiny", "clip_vit_b_32_gelu_tiny"]
# _interp: the weights file holds a model built for one more patch per side (SIZE + patch); the reference
# is that model with torchvision's interpolate_embeddings to SIZE, as movl resizes the position embedding.
# torchvision ViTs; the _tiny ones keep B's patch and head width (64) at 2 layers of width 128 (2 heads) and
# MLP 256, which movl loads as vit_b_16 / vit_b_32 (it reads the width, depth and MLP size from the file).
TINY_VIT = dict(num_layers=2, num_heads=2, hidden_dim=128, mlp_dim=256)


def write_safetensors(path, tensors):
    """tensors: list of (name, numpy array); written as little-endian F32."""
    header, blobs, offset = {}, [], 0
    for name, arr in tensors:
        data = np.ascontiguousarray(arr, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(arr.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)  # keep the data block 8-byte aligned
    tmp = path + ".tmp.%d" % os.getpid()
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)
    os.replace(tmp, path)


def register_open_clip():
    """Makes open_clip's modules importable without the package's __init__ (which pulls in optional
    dependencies); the package comes from PYTHONPATH (tools/setup.sh --test installs it)."""
    import types
    for d in sys.path:
        if os.path.isdir(os.path.join(d, "open_clip")):
            pkg = types.ModuleType("open_clip")
            pkg.__path__ = [os.path.join(d, "open_clip")]
            sys.modules["open_clip"] = pkg
            return
    print("open_clip is not on PYTHONPATH; install it with "
          "'pip install --no-deps --target DIR open_clip_torch==3.3.0' and set PYTHONPATH=DIR", file=sys.stderr)
    sys.exit(NO_LITE_PACKAGE)


def import_open_clip_vit():
    """open_clip's VisionTransformer and QuickGELU."""
    register_open_clip()
    from open_clip.transformer import VisionTransformer, QuickGELU
    return VisionTransformer, QuickGELU


def import_lite():
    try:
        from efficientnet_lite_pytorch import EfficientNet
    except ImportError:
        print("make_golden.py: the efficientnet_lite_pytorch package is not importable; install it with "
              "'pip install --no-deps --target DIR efficientnet_lite_pytorch' and set PYTHONPATH=DIR",
              file=sys.stderr)
        sys.exit(NO_LITE_PACKAGE)
    return EfficientNet


def build(arch, size):
    """The PyTorch model for arch. EfficientNet-Lite uses static TF-'same'
    padding computed from image_size at construction, so it is built for the
    size the C side is loaded with."""
    if arch.startswith("resnet"):
        return getattr(torchvision.models, arch)()
    if arch.startswith("clip_"):  # the image tower of OpenAI's CLIP (QuickGELU), open_clip's code
        VisionTransformer, QuickGELU = import_open_clip_vit()
        patch = 16 if arch.startswith("clip_vit_b_16") else 32
        shape = dict(width=128, layers=2, heads=2, mlp_ratio=2.0, output_dim=64) if "_tiny" in arch else \
            dict(width=768, layers=12, heads=12, mlp_ratio=4.0, output_dim=512)
        act = torch.nn.GELU if "_gelu" in arch else QuickGELU
        return VisionTransformer(image_size=size, patch_size=patch, act_layer=act, **shape)
    if arch.startswith("vit_"):
        patch = 16 if arch.startswith("vit_b_16") else 32
        if "_tiny" in arch:
            return torchvision.models.VisionTransformer(image_size=size, patch_size=patch, **TINY_VIT)
        return getattr(torchvision.models, arch)(image_size=size)
    EfficientNet = import_lite()
    return EfficientNet.from_name(arch.replace("_", "-"), image_size=size)


def features_and_logits(arch, model, x):
    """Pooled features (input of the classifier) and logits, exactly as the
    models' own forward() computes them (dropout is off in eval mode)."""
    if arch.startswith("resnet"):
        m = model
        h = m.maxpool(m.relu(m.bn1(m.conv1(x))))
        h = m.layer4(m.layer3(m.layer2(m.layer1(h))))
        f = torch.flatten(m.avgpool(h), 1)
        return f, m.fc(f)
    if arch.startswith("clip_"):  # the image embedding; movl's CLIP encoder gives it as features and logits
        f = model(x)
        return f, f
    if arch.startswith("vit_"):  # VisionTransformer.forward up to the head: encoder.ln'd class token
        h = model._process_input(x)
        h = torch.cat([model.class_token.expand(h.shape[0], -1, -1), h], dim=1)
        f = model.encoder(h)[:, 0]
        return f, model.heads(f)
    h = model.extract_features(x)
    f = torch.flatten(model._avg_pooling(h), 1)
    return f, model._fc(f)


def randomize(arch, model, size, gen):
    """Random weights and random (but well-scaled) batch-norm statistics, so
    that folding every term of BN is exercised: running statistics are first
    measured on a random batch (keeps activations O(1) through deep nets),
    then perturbed; gamma and beta are random and nonzero."""
    bns = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() > 1:  # conv / linear weights: uniform, variance 1.44 / fan_in
                bound = math.sqrt(3.0 / (p[0].numel())) * 1.2
                p.copy_((torch.rand(p.shape, generator=gen) * 2 - 1) * bound)
            else:
                p.copy_((torch.rand(p.shape, generator=gen) * 2 - 1) * 0.1)
        for m in model.modules():  # layer norms: gammas 0.5..1.5 (0 +- 0.1 would silence the residual branches)
            if isinstance(m, torch.nn.LayerNorm):
                m.weight.copy_(0.5 + torch.rand(m.weight.shape, generator=gen))
        lite = arch.startswith("efficientnet")
        for bn in bns:
            # Lite: gammas up to 3 so that some ReLU6 outputs clip at 6.
            bn.weight.copy_(0.5 + torch.rand(bn.weight.shape, generator=gen) * (2.5 if lite else 1.0))
            bn.bias.copy_((torch.rand(bn.bias.shape, generator=gen) * 2 - 1) * 0.5)
            bn.momentum = 1.0  # running stats := statistics of the next batch
            bn.reset_running_stats()
        model.train()
        model(torch.randn(4, 3, size, size, generator=gen))
        for bn in bns:
            std = bn.running_var.sqrt()
            bn.running_mean.add_((torch.rand(bn.running_mean.shape, generator=gen) * 2 - 1) * 0.2 * std)
            bn.running_var.mul_(0.7 + torch.rand(bn.running_var.shape, generator=gen) * 0.8)
    model.eval()


KINK_MARGIN = 1e-4  # relative to the RMS of the activation's input


def shift_off_kinks(u, kinks, gap):
    """Smallest |eps| such that no u + eps lies within gap of a kink."""
    lo = np.concatenate([k - u - gap for k in kinks])
    hi = lo + 2 * gap
    near = np.abs(lo + gap) < 1000 * gap  # far intervals cannot contain the answer
    lo, hi = lo[near], hi[near]
    for eps in sorted(np.concatenate([[0.0], lo, hi]), key=abs):
        if not np.any((lo < eps) & (eps < hi)):
            return float(eps)
    raise RuntimeError("no shift found")


def clear_kinks(model, x, rounds=4):
    """Moves batch-norm betas so that, for input x, no activation input lies
    near a kink: each ReLU/ReLU6 input is the output of the batch norm run
    just before it (plus, after a residual add, a branch that does not depend
    on that norm's beta), so beta[c] += eps moves channel c by exactly eps.
    Runs until a pass moves nothing (shifts made in one pass change the
    inputs of the later activations, which that same pass then sees)."""
    total = 0
    for _ in range(rounds):
        last_bn, moved = [None], [0]

        def bn_hook(m, _i, _o):
            last_bn[0] = m

        def act_hook(m, inp):
            v = inp[0].clone()
            gap = KINK_MARGIN * float(v.pow(2).mean().sqrt())
            kinks = [0.0, 6.0] if isinstance(m, torch.nn.ReLU6) else [0.0]
            near = torch.zeros(v.shape[1], dtype=torch.bool)
            for k in kinks:
                near |= ((v - k).abs() < gap).transpose(0, 1).reshape(v.shape[1], -1).any(1)
            for c in torch.nonzero(near).flatten().tolist():
                u = v[:, c].detach().numpy().ravel()
                eps = shift_off_kinks(u, kinks, 2 * gap)  # twice: robust to the float32 rounding of beta
                v[:, c] += eps
                last_bn[0].bias.data[c] += eps
                moved[0] += 1
            return (v,)
        hooks = [m.register_forward_hook(bn_hook) for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
        hooks += [m.register_forward_pre_hook(act_hook) for m in model.modules()
                  if isinstance(m, (torch.nn.ReLU, torch.nn.ReLU6))]
        with torch.no_grad():
            model(x)
        for h in hooks:
            h.remove()
        for m in model.modules():  # the C side reads float32 betas
            if isinstance(m, torch.nn.BatchNorm2d):
                m.bias.data = m.bias.data.float().double()
        total += moved[0]
        if moved[0] == 0:
            return total
    raise RuntimeError("activations still near a kink after %d rounds" % rounds)


TIE_MARGIN = 1e-5  # relative to the RMS of the max pool's input


def near_ties(model, x):
    """Max-pool windows whose positive maximum has a runner-up within
    TIE_MARGIN: float32 could pick the other one. (Ties of zeros, from the
    ReLU before the pool, are harmless: the ReLU's backward drops them.)"""
    count = [0]

    def hook(m, inp):
        v = inp[0]
        p = torch.nn.functional.pad(v, [m.padding] * 4, value=float("-inf"))
        win = p.unfold(2, m.kernel_size, m.stride).unfold(3, m.kernel_size, m.stride).flatten(-2)
        top = win.topk(2, dim=-1).values
        gap = TIE_MARGIN * float(v.pow(2).mean().sqrt())
        count[0] += int(((top[..., 0] > 0) & (top[..., 0] - top[..., 1] < gap)).sum())
    hooks = [m.register_forward_pre_hook(hook) for m in model.modules() if isinstance(m, torch.nn.MaxPool2d)]
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()
    return count[0]


def state_tensors(model, prefix=""):
    """The model's float tensors under their state_dict names (num_batches_tracked is int64 and unused);
    prefix: "visual." for a CLIP image tower, as in a whole CLIP checkpoint."""
    return [(prefix + k, v.detach().float().numpy()) for k, v in model.state_dict().items() if v.is_floating_point()]


def golden(arch, seed, batch, size, outdir):
    if arch not in ARCHS:
        sys.exit("make_golden.py: unknown arch '%s' (expected one of %s)" % (arch, ", ".join(ARCHS)))
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    interp = arch.endswith("_interp")
    patch = 16 if "_b_16" in arch else 32
    built = size + patch if interp else size
    model = build(arch, built)
    randomize(arch, model, built, gen)
    # Round everything to float32 first: the float64 reference then computes
    # exactly on the values the C side reads.
    model = model.float().double()
    stored = state_tensors(model) if interp else None  # else written after clear_kinks has moved the betas
    if interp:
        from torchvision.models.vision_transformer import interpolate_embeddings
        state = interpolate_embeddings(size, patch, model.state_dict())
        model = build(arch, size).double()
        model.load_state_dict(state)
        model.eval()
    for _ in range(20):  # a new input while a max-pool window has two near-equal winners
        x = torch.randn(batch, 3, size, size, generator=gen).float().double()
        moved = clear_kinks(model, x)
        if near_ties(model, x) == 0:
            break
    else:
        raise RuntimeError("max-pool windows keep near-ties")
    x.requires_grad_(True)
    f, z = features_and_logits(arch, model, x)
    with torch.no_grad():
        assert torch.allclose(z, model(x), rtol=0, atol=1e-9), "features_and_logits disagrees with model.forward"
    gf = torch.randn(f.shape, generator=gen).float().double()
    gz = torch.randn(z.shape, generator=gen).float().double()
    ((f * gf).sum() + (z * gz).sum()).backward()
    fp32_error = torch_fp32_error(arch, model, x.detach(), gf, gz, (f.detach(), z.detach(), x.grad))
    os.makedirs(outdir, exist_ok=True)
    write_safetensors(os.path.join(outdir, "weights.safetensors"),
                      stored or state_tensors(model, "visual." if arch.startswith("clip_") else ""))
    write_safetensors(os.path.join(outdir, "golden.safetensors"), [
        ("input", x.detach().numpy()), ("features", f.detach().numpy()), ("logits", z.detach().numpy()),
        ("dfeatures", gf.numpy()), ("dlogits", gz.numpy()), ("dinput", x.grad.numpy()),
        ("torch_fp32_error", np.array(fp32_error))] + folded_weight_grads(model) +
        (transformer_param_grads(arch, model) if arch.startswith(("vit_", "clip_")) else []) +
        ([("pos_embedding_resized", model.encoder.pos_embedding.detach().numpy())] if interp else []))
    relu6_clipped = 0
    if arch.startswith("efficientnet"):
        relu6_clipped = count_relu6_clipping(model, x.detach())
    print("make_golden: %s seed %d batch %d size %d: features %s |f|max %.3g, logits |z|max %.3g, "
          "|dx|max %.3g, relu6 outputs at 6: %d, betas moved off kinks: %d; "
          "torch float32 rel. error: features %.1e logits %.1e dinput %.1e"
          % ((arch, seed, batch, size, tuple(f.shape), f.abs().max(), z.abs().max(), x.grad.abs().max(),
              relu6_clipped, moved) + tuple(fp32_error)))


def folded_weight_grads(model):
    """(name, array) of dL/dW' and dL/db' for every conv + batch norm pair, from the grads of a backward."""
    out, conv = [], None
    for name, m in model.named_modules():
        if isinstance(m, torch.nn.Conv2d):
            conv = (name, m)
        elif isinstance(m, torch.nn.BatchNorm2d) and conv is not None:
            cname, c = conv
            scale = m.weight.detach() / torch.sqrt(m.running_var + m.eps)
            layer = cname[:-2] if cname.endswith("downsample.0") else cname
            out.append(("wgrad." + layer, (c.weight.grad / scale.view(-1, 1, 1, 1)).numpy()))
            out.append(("bgrad." + layer, m.bias.grad.numpy().copy()))
            conv = None
    return out


def transformer_param_grads(arch, model):
    """(name, array) of dL/dP for every tensor movl trains in a ViT or CLIP image tower, under movl's names
    ("grad." + LAYER.TENSOR, as movl_encoder_tensor_info gives them) and in movl's layouts: the patch
    convolution as its [out][3*k*k] matrix, q/k/v packed as attn.qkv, the position embedding [tokens][dim] and
    class token [dim] of the "tokens" layer, CLIP's proj transposed to [embed][width]. The classifier
    (heads.head) is not trained by movl."""
    prefix = "visual." if arch.startswith("clip_") else ""
    out = []
    for name, p in model.named_parameters():
        g = p.grad.detach()
        full = prefix + name
        if name.startswith("heads."):
            continue
        if name in ("conv_proj.weight", "conv1.weight"):
            full, g = "patch_embed.weight", g.reshape(g.shape[0], -1)
        elif name == "conv_proj.bias":
            full = "patch_embed.bias"
        elif name in ("encoder.pos_embedding", "positional_embedding"):
            full, g = "tokens.pos_embedding", g.reshape(-1, g.shape[-1])
        elif name in ("class_token", "class_embedding"):
            full, g = "tokens.class_token", g.reshape(-1)
        elif name == "proj":
            full, g = "visual.proj.weight", g.t()
        elif name.endswith("in_proj_weight") or name.endswith("in_proj_bias"):
            block = full[:full.rindex(".")]  # ...self_attention or ...attn
            block = block[:block.rindex(".")]
            full = block + ".attn.qkv." + ("weight" if name.endswith("weight") else "bias")
        out.append(("grad." + full, g.contiguous().numpy().copy()))
    return out


def torch_fp32_error(arch, model, x, gf, gz, exact):
    """Relative L2 errors of PyTorch's float32 features, logits and dinput."""
    m32 = copy.deepcopy(model).float()
    x32 = x.float().requires_grad_(True)
    f, z = features_and_logits(arch, m32, x32)
    ((f * gf.float()).sum() + (z * gz.float()).sum()).backward()
    return [float((a.double() - b).norm() / b.norm()) for a, b in zip((f.detach(), z.detach(), x32.grad), exact)]


def count_relu6_clipping(model, x):
    count = [0]

    def hook(_m, _i, out):
        count[0] += int((out >= 6).sum())
    hooks = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, torch.nn.ReLU6)]
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()
    return count[0]


# Preprocessing of real photographs, mirrored by runtime/core/image.c
# (movl_image_load_png, movl_image_resize_crop, movl_image_to_chw):
#  1. decode to RGB (alpha dropped, grey repeated), values v / 255 in [0, 1];
#  2. resize so that the shorter side is RESIZE, the longer one
#     RESIZE * long // short (integer division), bilinear, align_corners=False,
#     no antialiasing (torch.nn.functional.interpolate(mode="bilinear"));
#  3. crop the central SIZE x SIZE square, top = round((h - SIZE) / 2),
#     left = round((w - SIZE) / 2) (Python round, as torchvision's center_crop);
#  4. (v - mean) / std per channel with the encoder's mean/std.
LITE_MEAN = (127.0 / 255, 127.0 / 255, 127.0 / 255)  # TF EfficientNet-Lite: (pixel - 127) / 128 on 0..255
LITE_STD = (128.0 / 255, 128.0 / 255, 128.0 / 255)


def load_rgb(path):
    from PIL import Image
    img = Image.open(path).convert("RGB")
    return torch.from_numpy(np.asarray(img, dtype=np.float32) / 255.0).permute(2, 0, 1).contiguous()


def preprocess(path, resize, size, mean, std):
    x = load_rgb(path).unsqueeze(0)
    h, w = x.shape[2:]
    if w <= h:
        nw, nh = resize, resize * h // w
    else:
        nw, nh = resize * w // h, resize
    x = torch.nn.functional.interpolate(x, size=(nh, nw), mode="bilinear", align_corners=False)
    top, left = round((nh - size) / 2), round((nw - size) / 2)
    x = x[:, :, top:top + size, left:left + size]
    m = torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1)
    s = torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1)
    return ((x - m) / s)[0]


def as_png(path, outdir, index):
    if path.lower().endswith(".png"):
        return path
    from PIL import Image
    png = os.path.join(outdir, "%d.png" % index)
    Image.open(path).convert("RGB").save(png)
    return png


def real(weights, resize, size, outdir, images):
    EfficientNet = import_lite()
    model = EfficientNet.from_name("efficientnet-lite0", image_size=size)
    missing, unexpected = model.load_state_dict(load_state(weights), strict=False)
    missing = [k for k in missing if not k.endswith("num_batches_tracked")]
    if missing or unexpected:
        sys.exit("make_golden.py: %s does not fit efficientnet-lite0 (missing %s, unexpected %s)"
                 % (weights, missing[:3], unexpected[:3]))
    model.double().eval()
    os.makedirs(outdir, exist_ok=True)
    pngs = [as_png(p, outdir, i) for i, p in enumerate(images)]
    x = torch.stack([preprocess(p, resize, size, LITE_MEAN, LITE_STD) for p in pngs])
    with torch.no_grad():
        z = model(x.double())
    write_safetensors(os.path.join(outdir, "real.safetensors"), [("input", x.numpy()), ("logits", z.numpy())])
    for p, row in zip(images, z):
        top = torch.topk(torch.softmax(row, 0), 3)
        print("make_golden: %s: PyTorch top-3 %s" % (os.path.basename(p), ", ".join(
            "%d (%.1f%%)" % (int(i), 100 * float(v)) for v, i in zip(top.values, top.indices))))


def load_state(path):
    """A .pth checkpoint or a safetensors file."""
    if not path.endswith(".safetensors"):
        return torch.load(path, map_location="cpu")
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    dtypes = {"F32": np.float32, "F16": np.float16}
    sd = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        b, e = info["data_offsets"]
        arr = np.frombuffer(data[b:e], dtype=dtypes[info["dtype"]]).reshape(info["shape"])
        sd[name] = torch.from_numpy(arr.astype(np.float32))
    return sd


def main(argv):
    if len(argv) == 7 and argv[1] == "golden":
        golden(argv[2], int(argv[3]), int(argv[4]), int(argv[5]), argv[6])
    elif len(argv) >= 7 and argv[1] == "real":
        real(argv[2], int(argv[3]), int(argv[4]), argv[5], argv[6:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    torch.set_num_threads(2)
    main(sys.argv)
