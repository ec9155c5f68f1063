"""Benchmark caption-conditioned MNIST digits (issue 16): latent text-to-image against pixel-space diffusion.

Two models, each trained for the same wall-clock budget (default 300 s, seed 0, one torch thread):
  - latent: course_lib.recipes.t2i on mnist_captions (the autoencoder, then the latent denoiser reading the
    caption through cross-attention), the recipe's defaults or --option overrides;
  - pixel: course_lib.recipes.diffusion's class-conditional U-Net on mnist5k (the same 4,000 training digits),
    conditioned on the digit label only.
Each draws one sample per test image (1,000) with DDIM, 50 steps, guidance 3: the latent model from the test
image's canonical caption, the pixel model from its label. Reported: the digit FD (the shipped MNIST
classifier's features) of the samples against the 4,000 training digits, beside the real reference at the same
sizes (the 1,000 test digits against the training digits) and the autoencoder's floor (its reconstructions of
the test digits); the share whose digit the classifier reads as asked; for the latent model, the attribute
judge's agreement with every captioned attribute (course_lib.metrics.judge, whose own accuracy on real test
digits is reported too); and the seconds to draw 64 samples with each (best of 3).

    python benchmarks/t2i_mnist.py                              # about 12 minutes
    python benchmarks/t2i_mnist.py --option width=64 --tag w64  # a variant, recorded under its own name
    python benchmarks/t2i_mnist.py --speed-only                 # sampling times only, untrained networks of
                                                                # the recipes' sizes (time does not depend on
                                                                # the weights): run it on a quiet machine
    COURSE_FAST=1 python benchmarks/t2i_mnist.py                # smoke run: seconds, nothing written
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np
import torch

from course_lib import bench, config, data, metrics
from course_lib.cli import _options as parse_options
from course_lib.metrics import judge as judges
from course_lib.models.diffusion import Diffusion
from course_lib.recipes import diffusion as pixel_recipe
from course_lib.recipes import t2i as recipe

GUIDANCE, STEPS = 3.0, 50


def train_latent(seconds: float, options: dict):
    config.seed_everything(0)
    train = data.load("mnist_captions", split="train")
    opt = {**recipe.DEFAULTS["mnist_captions"], **options}
    train_opt = {k: opt.pop(k) for k in recipe.TRAIN_KEYS}
    model = recipe.build(train, **opt)
    hist = recipe.train(model, train, steps=10**6, seconds=seconds, seed=0, **train_opt)
    return model.eval(), {"ae_steps": len(hist["ae"].steps), "dm_steps": len(hist["diffusion"].steps),
                          "train_s": round(hist["ae"].seconds + hist["diffusion"].seconds, 1),
                          "params": sum(p.numel() for n, p in model.named_parameters() if not n.startswith("ae."))}


def train_pixel(seconds: float):
    gen, opt, _, X, Y, _ = pixel_recipe.training_data("diffusion", "mnist5k", {"conditional": True}, 0)
    model = Diffusion(data_shape=(1, 28, 28), arch="unet", width=int(opt["width"]), num_classes=10,
                      prediction=opt["prediction"])
    summary = pixel_recipe.train_recipe(model, X, Y, opt, steps=None, seconds=seconds, generator=gen)
    return model, {"steps": summary["steps"], "train_s": summary["seconds"],
                   "params": sum(p.numel() for p in model.parameters())}


def sampling_times(latent, pixel, prompt: str, labels: torch.Tensor, m: int) -> dict:
    """Seconds to draw m samples with each model (DDIM, STEPS steps, guided; best of 3 after a warm-up)."""
    g = torch.Generator().manual_seed(0)
    t_latent = bench.best_of(lambda: latent.sample(m, prompts=prompt, guidance=GUIDANCE, steps=STEPS, generator=g))
    t_pixel = bench.best_of(lambda: pixel.sample(m, sampler="ddim", steps=STEPS, guidance=GUIDANCE, labels=labels[:m],
                                           generator=g))
    return {"what": f"seconds to draw {m} samples, DDIM {STEPS} steps, guided", "latent_s": round(t_latent, 3),
            "pixel_s": round(t_pixel, 3), "speedup": round(t_pixel / t_latent, 2)}


@torch.no_grad()
def speed_only(options: dict) -> int:
    test = data.load("mnist_captions", split="test")
    opt = {k: v for k, v in {**recipe.DEFAULTS["mnist_captions"], **options}.items() if k not in recipe.TRAIN_KEYS}
    latent = recipe.build(data.load("mnist_captions", split="train"), **opt).eval()
    pixel = Diffusion(data_shape=(1, 28, 28), arch="unet", width=int(pixel_recipe.DEFAULTS["mnist5k"]["width"]),
                      num_classes=10, prediction="v").eval()
    row = {**sampling_times(latent, pixel, test.captions[0], test.attributes["digit"], config.budget(64, 4)),
           "latent_options": opt, "pixel_unet_width": pixel_recipe.DEFAULTS["mnist5k"]["width"]}
    print(row, flush=True)
    return bench.record("t2i_mnist_speed", title="caption-conditioned MNIST (issue 16): sampling time of latent "
                        "against pixel-space diffusion at equal steps", command=" ".join(["python"] + sys.argv),
                        rows=[row], notes=[f"Load average at the end: {os.getloadavg()[0]:.1f} (2-core machine, "
                                           "1 torch thread); untrained networks of the recipes' sizes."])


@torch.no_grad()
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=300.0, help="training budget of each model")
    parser.add_argument("--option", action="append", default=[], help="KEY=VALUE for the latent model")
    parser.add_argument("--tag", default="", help="a name for this variant in the results")
    parser.add_argument("--speed-only", action="store_true", help="time sampling of untrained networks only")
    parser.add_argument("--latent-only", action="store_true", help="train and score the latent model only "
                        "(a variant search; nothing written)")
    args = parser.parse_args()
    options = parse_options(args.option)
    torch.set_num_threads(1)
    if args.speed_only:
        return speed_only(options)
    seconds = config.budget(args.seconds, 10.0)
    train, test = data.load("mnist_captions", split="train"), data.load("mnist_captions", split="test")
    n = config.budget(len(test), 100)
    test_images, digits = test.images[:n], test.attributes["digit"][:n]
    prompts = [test.grammar.caption({a: int(v[i]) for a, v in test.attributes.items()}) for i in range(n)]

    with torch.enable_grad():
        latent, latent_info = train_latent(seconds, options)
    print("latent", latent_info, flush=True)
    g = torch.Generator().manual_seed(0)
    fake = torch.cat([latent.sample(len(prompts[i:i + 250]), prompts=prompts[i:i + 250], guidance=GUIDANCE,
                                    steps=STEPS, generator=g) for i in range(0, n, 250)]).clamp(0, 1)
    recon = latent.ae.decode(latent.ae.encode(test_images)).clamp(0, 1)
    attrs = {a: v[:n] for a, v in test.attributes.items()}
    judged = judges.score(fake, attrs, dataset="mnist_captions")
    fd = lambda x: round(metrics.digit_frechet_distance(x, train.images), 2)
    reference = fd(test_images)
    rows = [{"what": "real test digits (the reference)", "n": n, "fd_vs_train": reference, "fd_ratio": 1.0,
             "digit_right_pct": round(100 * float((metrics.classify_digits(test_images) == digits).float().mean()), 1),
             **{f"judge_{k}_pct": round(100 * v, 1) for k, v in judges.score(test_images, attrs, "mnist_captions").items()}}]
    rows.append({"what": "autoencoder reconstructions of the test digits (the latent model's floor)", "n": n,
                 "fd_vs_train": fd(recon), "fd_ratio": round(fd(recon) / reference, 2)})
    latent_fd = fd(fake)
    rows.append({"what": f"latent t2i samples from the test captions{' (' + args.tag + ')' if args.tag else ''}",
                 "n": n, "options": options, **latent_info, "fd_vs_train": latent_fd,
                 "fd_ratio": round(latent_fd / reference, 2),
                 "digit_right_pct": round(100 * float((metrics.classify_digits(fake) == digits).float().mean()), 1),
                 **{f"judge_{k}_pct": round(100 * v, 1) for k, v in judged.items()}})
    print(rows[-1], flush=True)
    if args.latent_only:
        return 0

    with torch.enable_grad():
        pixel, pixel_info = train_pixel(seconds)
    print("pixel", pixel_info, flush=True)
    g = torch.Generator().manual_seed(0)
    fake_pixel = torch.cat([pixel.sample(len(digits[i:i + 250]), sampler="ddim", steps=STEPS, guidance=GUIDANCE,
                                         labels=digits[i:i + 250], generator=g) for i in range(0, n, 250)]).clamp(0, 1)
    pixel_fd = fd(fake_pixel)
    rows.append({"what": "pixel-space U-Net samples from the test labels", "n": n, **pixel_info,
                 "fd_vs_train": pixel_fd, "fd_ratio": round(pixel_fd / reference, 2),
                 "digit_right_pct": round(100 * float((metrics.classify_digits(fake_pixel) == digits).float().mean()), 1)})
    print(rows[-1], flush=True)

    rows.append({**sampling_times(latent, pixel, prompts[0], digits, config.budget(64, 4)),
                 "latent_fd_over_pixel_fd": round(latent_fd / pixel_fd, 2)})
    print(rows[-1], flush=True)
    if config.is_fast():
        return 0
    name = "t2i_mnist" + (f"_{args.tag}" if args.tag else "")
    return bench.record(name, title="caption-conditioned MNIST (issue 16): latent text-to-image against pixel-space "
                        f"diffusion, {args.seconds:.0f} s of training each", command=" ".join(["python"] + sys.argv),
                        rows=rows, notes=[f"Load average at the end: {os.getloadavg()[0]:.1f} (2-core machine, "
                                          "1 torch thread); seed 0; FD in the shipped MNIST classifier's features."])


if __name__ == "__main__":
    sys.exit(main())
