#!/usr/bin/python3
"""PyTorch reference of CLIP's zero-shot head, for tests/test_text_tower.c and tests/clip_text_test.sh.

  make_clip_golden.py OUTDIR SEED SIZE TEMPLATE NAME...
      Builds a small open_clip CLIP (QuickGELU, as OpenAI's weights): an image tower of patch 32, width 128,
      2 blocks (loads in movl as clip_vit_b_32, which reads width and depth from the file) and a text tower of
      width 128, 2 heads, 2 blocks, context 77 and the full 49408-token vocabulary, embedding 64, with random
      weights (every bias and layer-norm parameter random too). Writes
        OUTDIR/weights.safetensors  the whole model under open_clip's state_dict names (a CLIP checkpoint)
        OUTDIR/text.json            prompts (TEMPLATE with each NAME), open_clip's token ids, the end-token
                                    positions, the text embeddings (encode_text, not normalised), logit scale
        OUTDIR/data.npz             a MedMNIST-style dataset of SIZE x SIZE RGB images, 4 per class and split
        OUTDIR/test_N.png           the test images, and OUTDIR/logits.json: open_clip's logits for them,
                                    logit_scale.exp() * normalize(image) . normalize(text), [image][class]
      The references run in float64 on the float32-rounded weights.
Needs torch (Debian python3-torch), PIL, and open_clip's model code and tokenizer on PYTHONPATH (tools/setup.sh
--test installs open_clip_torch --no-deps and ftfy); exit 77 when torch is missing (the test then skips).
"""
import io
import json
import os
import sys

SKIP = 77
try:
    import numpy as np
    import torch
    from PIL import Image
except ImportError as exc:
    print("make_clip_golden.py: %s (needs python3-torch, python3-numpy, python3-pil)" % exc, file=sys.stderr)
    sys.exit(SKIP)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_golden import register_open_clip, write_safetensors  # noqa: E402

MEAN = np.array([0.48145466, 0.4578275, 0.40821073])  # OPENAI_DATASET_MEAN / STD
STD = np.array([0.26862954, 0.26130258, 0.27577711])


def import_open_clip():
    """open_clip's CLIP and tokenizer, without the package's __init__."""
    register_open_clip()
    from open_clip.model import CLIP
    from open_clip import tokenizer
    return CLIP, tokenizer


def build(size, gen):
    CLIP, tokenizer = import_open_clip()
    model = CLIP(embed_dim=64, quick_gelu=True,
                 vision_cfg=dict(image_size=size, patch_size=32, width=128, layers=2, head_width=64, mlp_ratio=2.0),
                 text_cfg=dict(context_length=77, vocab_size=49408, width=128, heads=2, layers=2))
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() == 1 and name.endswith("bias"):
                p.copy_((torch.rand(p.shape, generator=gen) * 2 - 1) * 0.1)
            elif p.dim() == 1 and "ln" in name:  # layer-norm gains 0.5..1.5
                p.copy_(0.5 + torch.rand(p.shape, generator=gen))
    return model.eval(), tokenizer


def npz_bytes(arrays):
    """np.savez into memory (the members np.load and movl read)."""
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def main(argv):
    if len(argv) < 6:
        sys.exit("usage: make_clip_golden.py OUTDIR SEED SIZE TEMPLATE NAME...")
    out, seed, size, template, names = argv[1], int(argv[2]), int(argv[3]), argv[4], argv[5:]
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model, tokenizer = build(size, gen)
    model = model.float().double()
    os.makedirs(out, exist_ok=True)
    state = [(k, v.detach().float().numpy()) for k, v in model.state_dict().items() if v.is_floating_point()]
    write_safetensors(os.path.join(out, "weights.safetensors"), state)

    prompts = [template.replace("{}", n) for n in names]
    tokens = tokenizer.tokenize(prompts)  # [classes][77], as open_clip's zero-shot classifier builds them
    with torch.no_grad():
        text = model.encode_text(tokens)
    scale = model.logit_scale.exp().item()
    with open(os.path.join(out, "text.json"), "w") as f:
        json.dump({"prompts": prompts, "tokens": tokens.tolist(), "eot": tokens.argmax(dim=-1).tolist(),
                   "text_features": text.tolist(), "logit_scale": scale}, f)

    # 4 images per class and split; pixels a random smooth field (patch statistics vary) as uint8 RGB.
    k, per = len(names), 4
    rng = np.random.default_rng(seed)
    arrays = {}
    for split in ("train", "val", "test"):
        n = k * per
        low = rng.integers(0, 256, size=(n, 4, 4, 3)).astype(np.float64)
        imgs = np.stack([np.array(Image.fromarray(l.astype(np.uint8)).resize((size, size), Image.BILINEAR))
                         for l in low])
        noise = rng.integers(-20, 21, size=imgs.shape)
        arrays[split + "_images"] = np.clip(imgs.astype(np.int64) + noise, 0, 255).astype(np.uint8)
        arrays[split + "_labels"] = (np.arange(n) % k).reshape(n, 1).astype(np.uint8)
    with open(os.path.join(out, "data.npz"), "wb") as f:
        f.write(npz_bytes(arrays))

    test = arrays["test_images"]
    x = (test.astype(np.float64) / 255.0 - MEAN) / STD
    x = torch.from_numpy(x.transpose(0, 3, 1, 2).copy()).float().double()
    with torch.no_grad():
        img = model.encode_image(x)
        logits = scale * torch.nn.functional.normalize(img, dim=-1) @ torch.nn.functional.normalize(text, dim=-1).T
    for i, a in enumerate(test):
        Image.fromarray(a).save(os.path.join(out, "test_%d.png" % i))
    with open(os.path.join(out, "logits.json"), "w") as f:
        json.dump({"logits": logits.tolist(), "image_features": img.tolist()}, f)
    print("make_clip_golden: %d classes, logit scale %.4g, |text|max %.3g, logits %.3g..%.3g"
          % (k, scale, text.abs().max(), logits.min(), logits.max()))


if __name__ == "__main__":
    main(sys.argv)
