"""Benchmark text-to-image latent diffusion on `shapes` (issue 16 part 3); writes benchmarks/results/t2i.json.

One model is trained through course_lib.recipes.t2i (its defaults, seed 0, one thread, <= 300 s for the
autoencoder and the latent denoiser together). Then, for every (shape, colour) pair and every size and
position, prompts in the canonical phrasing are sampled (DDIM, 50 steps, guidance 3) and judged:
  - seen: the 16 pairs of the training split; held-out: the 4 pairs never seen together in training.
  - the judge is pixel-based, no network: colour = the palette colour nearest to the ink-weighted mean
    RGB (each normalised by its brightest channel); shape, size and centre = the best of 4,232 rendered
    templates (4 shapes x 2 sizes x a half-pixel grid of centres) in squared error against the ink mask;
    position = the canonical centre nearest to that template's centre. Its own accuracy on real test and
    held-out images is reported beside the figures (the floor of what it can tell).
Sampling time of latent against pixel-space diffusion at equal steps: the same DDIM loop on a 28x28
MNIST latent (4x7x7) and on 28x28 pixels with the course's U-Net (course_lib.models.diffusion), untrained
networks of the recipes' sizes (time does not depend on the weights).

    python benchmarks/t2i.py                 # about 6 minutes
    COURSE_FAST=1 python benchmarks/t2i.py   # smoke run: a few steps, nothing written
"""
from __future__ import annotations

import os
import sys

import numpy as np
import torch

from course_lib import bench, config, data
from course_lib.data import shapes as S
from course_lib.recipes import t2i as recipe

SECONDS = 300.0
STEPS = 100_000                # the time budget ends the run; the row records the steps


def _templates():
    """(K, 256) ink masks of every shape x size x centre, and their (shape, size, cx, cy) (K, 4)."""
    grid = np.arange(2.0, 13.01, 0.5)
    rows = [(k, s, cx, cy) for k in range(len(S.SHAPES)) for s in range(len(S.SIZES)) for cx in grid for cy in grid]
    p = np.array(rows)
    n = len(p)
    ink = S.render(p[:, 0].astype(int), np.zeros(n, int), p[:, 2], p[:, 3], np.asarray(S.RADIUS)[p[:, 1].astype(int)],
                   np.ones(n)).max(1) / S.RGB[0].max()                          # (K, 16, 16) coverage
    return torch.tensor(ink.reshape(n, -1), dtype=torch.float32), p


def judge(images: torch.Tensor) -> dict[str, torch.Tensor]:
    """Attributes of one-shape scenes (N, 3, 16, 16) in [0, 1], read from the pixels: name -> (N,) int64."""
    x = images.float().clamp(0, 1)
    ink = x.amax(1)                                                              # (N, 16, 16)
    w = ink.flatten(1)                                                           # (N, 256)
    mean_rgb = (x.flatten(2) * w[:, None]).sum(2) / w.sum(1, keepdim=True).clamp(min=1e-6)   # (N, 3)
    rgb = mean_rgb / mean_rgb.amax(1, keepdim=True).clamp(min=1e-6)
    palette = torch.tensor(S.RGB / S.RGB.max(1, keepdims=True), dtype=torch.float32)          # (5, 3)
    colour = torch.cdist(rgb, palette).argmin(1)
    T, p = _templates()
    mask = w / w.amax(1, keepdim=True).clamp(min=1e-6)                           # (N, 256) in [0, 1]
    err = (mask ** 2).sum(1, keepdim=True) - 2 * mask @ T.T + (T ** 2).sum(1)[None]   # (N, K) squared error
    best = torch.from_numpy(p[err.argmin(1).numpy()])                            # (N, 4)
    r = torch.tensor(S.RADIUS, dtype=torch.float64)[best[:, 1].long()]
    off = (S.SIZE - 1) / 2 - (r + 1)
    sx, sy = torch.tensor([0, 0, -1, 1, 0.]), torch.tensor([-1, 1, 0, 0, 0.])    # top, bottom, left, right, middle
    cx = (S.SIZE - 1) / 2 + sx[None] * off[:, None]                              # (N, 5) canonical centres
    cy = (S.SIZE - 1) / 2 + sy[None] * off[:, None]
    position = ((cx - best[:, 2:3]) ** 2 + (cy - best[:, 3:4]) ** 2).argmin(1)
    return {"shape": best[:, 0].long(), "colour": colour, "size": best[:, 1].long(), "position": position}


def agreement(pred: dict, truth: dict) -> dict[str, float]:
    """Per-attribute accuracy (%) and the share with every attribute right ("all")."""
    right = {a: pred[a] == truth[a] for a in truth}
    out = {a: round(100 * float(v.float().mean()), 1) for a, v in right.items()}
    out["all"] = round(100 * float(torch.stack(list(right.values())).all(0).float().mean()), 1)
    return out


def prompts_for(pairs, per_combo: int):
    """Canonical captions of every (shape, colour) in pairs x size x position, per_combo copies each."""
    combos = [dict(shape=s, colour=c, size=z, position=q) for s, c in pairs
              for z in range(len(S.SIZES)) for q in range(len(S.POSITIONS))]
    combos = [c for c in combos for _ in range(per_combo)]
    truth = {a: torch.tensor([c[a] for c in combos]) for a in ("shape", "colour", "size", "position")}
    return [S.GRAMMAR.caption(c) for c in combos], truth


def sample_and_judge(model, pairs, per_combo: int, guidance: float, steps: int = 50):
    prompts, truth = prompts_for(pairs, per_combo)
    g = torch.Generator().manual_seed(0)
    x = torch.cat([model.sample(len(prompts[i:i + 200]), prompts=prompts[i:i + 200], guidance=guidance, steps=steps,
                                generator=g) for i in range(0, len(prompts), 200)])
    return agreement(judge(x), truth), len(prompts)


def sampling_times(steps: int = 50, n: int = 64, repeats: int = 3) -> dict:
    """Seconds to draw n 28x28 images with `steps` DDIM steps: latent (4x7x7) against pixel space (U-Net)."""
    from course_lib.models.diffusion import Diffusion
    from course_lib.recipes import diffusion as pixel_recipe
    captioned = data.load("mnist_captions", split="test")
    words, prompt = captioned.words(), captioned.captions[0]
    opt = {k: v for k, v in recipe.DEFAULTS["mnist_captions"].items() if k not in recipe.TRAIN_KEYS}
    latent = recipe.LatentDiffusion(words=words, image_channels=1, image_size=28, **opt).eval()
    width = int(pixel_recipe.DEFAULTS["mnist5k"].get("width", 32))
    pixel = Diffusion(data_shape=(1, 28, 28), arch="unet", width=width, num_classes=10, prediction="v").eval()

    g = torch.Generator()
    t_latent = bench.best_of(lambda: latent.sample(n, prompts=prompt, guidance=3.0, steps=steps, generator=g), repeats)
    t_pixel = bench.best_of(lambda: pixel.sample(n, sampler="ddim", steps=steps, guidance=3.0,
                                                 labels=torch.arange(n) % 10, generator=g), repeats)
    return {"latent_s": round(t_latent, 3), "pixel_s": round(t_pixel, 3), "speedup": round(t_pixel / t_latent, 2),
            "pixel_unet_width": width}


def main() -> int:
    torch.set_num_threads(1)
    times = sampling_times(steps=50, n=config.budget(64, 4))        # first: the machine is as quiet as it gets
    print(times, flush=True)
    config.seed_everything(0)
    train = data.load("shapes", split="train")
    opt = dict(recipe.DEFAULTS["shapes"])
    train_opt = {k: opt.pop(k) for k in recipe.TRAIN_KEYS}
    model = recipe.build(train, **opt)
    hist = recipe.train(model, train, steps=config.budget(STEPS, 20), seconds=config.budget(SECONDS, 20.0),
                        seed=0, **train_opt)
    model.eval()
    test, held = data.load("shapes", split="test"), data.load("shapes", split="heldout")
    with torch.no_grad():
        recon = float(((model.ae.decode(model.ae.encode(test.images)) - test.images) ** 2).mean())
    seen = [(s, c) for s in range(4) for c in range(5) if s * 5 + c not in S.HELDOUT_IDS]
    unseen = [(S.SHAPES.index(s), S.COLOURS.index(c)) for s, c in S.HELDOUT]
    per = config.budget(10, 1)
    rows, seconds = [], hist["ae"].seconds + hist["diffusion"].seconds
    common = dict(train_s=round(seconds, 1), ae_steps=len(hist["ae"].steps), dm_steps=len(hist["diffusion"].steps),
                  dm_final_loss=round(float(np.mean(hist["diffusion"].loss[-50:])), 4), recon_mse=round(recon, 5))
    for guidance in (1.0, 3.0, 5.0):
        for name, pairs in (("seen", seen), ("heldout", unseen)):
            acc, n = sample_and_judge(model, pairs, per, guidance)
            rows.append({"what": f"samples, {name} pairs", "guidance": guidance, "n": n, **common,
                         **{f"{k}_pct": v for k, v in acc.items()}})
            print(rows[-1], flush=True)
    for name, real in (("test", test), ("heldout", held)):
        acc = agreement(judge(real.images), real.attributes)
        rows.append({"what": f"judge on real {name} images", "n": len(real), **{f"{k}_pct": v for k, v in acc.items()}})
        print(rows[-1], flush=True)
    rows.append({"what": "sampling 64 28x28 images, DDIM 50 steps, guided", **times})
    print(rows[-1], flush=True)
    return bench.record("t2i", title="latent text-to-image diffusion (issue 16 part 3): judged attributes of "
                        "samples for seen and held-out shape-colour pairs", command="python benchmarks/t2i.py",
                        rows=rows, notes=[f"Load average at the end: {os.getloadavg()[0]:.1f} (shared 2-core machine, "
                                          "1 torch thread); seed 0; judge described in benchmarks/t2i.py."])


if __name__ == "__main__":
    sys.exit(main())
