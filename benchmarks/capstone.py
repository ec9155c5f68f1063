"""The capstone's table (issue 27, parts 1 and 2): every family on the 8x8 digits with one budget, and the
generative learning trilemma (quality, coverage, sampling speed) swept over each family's sampler setting.
Writes benchmarks/results/capstone.json.

Each family (vae, gan, diffusion, flow, pixels) trains for the same wall-clock budget on one thread through
its own `cli_train` (what `genai-course train FAMILY --dataset digits --seconds 120` runs, the family's
tuned defaults), then draws 1,000 samples (seed 0) through its own `cli_sample` (its default sampler).
Recorded per family: steps reached, training seconds, sampling seconds per image, parameters, bits/dim where
the family has one (the VAE's importance-weighted bound and the pixel GPT's exact likelihood, both on the
17-level pixels) and `quality(images)`. The sweep then varies one sampler setting per family: DDIM steps
(and the full 1,000-step DDPM chain), flow-matching solver steps, GAN truncation, VAE prior temperature and
pixel-GPT temperature.

    python benchmarks/capstone.py                  # 5 x 120 s + evaluation and sweep: ~14 min
    python benchmarks/capstone.py --seconds 60     # another budget
    COURSE_FAST=1 python benchmarks/capstone.py    # smoke run: 3 s per family, 200 samples (nothing written)
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
import tempfile
import time
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from course_lib import bench, checkpoints, config, data, metrics, models

FAMILIES = ("vae", "gan", "diffusion", "flow", "pixels")
BUDGET_S = 120.0
DEFAULT_SAMPLER = {"vae": "default: mixture codes, drawn pixels", "gan": "default: truncation 1.0",
                   "diffusion": "default: DDIM 50 steps", "flow": "default: Heun 25 steps (49 calls)",
                   "pixels": "default: temperature 1.0"}      # what each cli_sample draws with no --option


@lru_cache(maxsize=1)
def _reference():
    """The 360 held-out digits and the real train-vs-held-out FD every ratio divides by."""
    train, test = data.load("digits", split="train"), data.load("digits", split="test")
    return test.images, metrics.digit_frechet_distance(train.images, test.images)


def quality(images: torch.Tensor) -> dict:
    """Sample quality and coverage of generated digits (N, 1, 8, 8) against the 360 held-out ones.

    The one place the benchmark scores images: when course_lib.metrics.scorecard lands (FD, KID,
    precision/recall, class coverage, memorisation), return its fields from here instead."""
    test, fd_real = _reference()
    images = images.clamp(0, 1)
    fd = metrics.digit_frechet_distance(images, test)
    pr = metrics.digit_precision_recall(test, images, k=5)
    counts = metrics.classify_digits(images).bincount(minlength=10)
    return {"fd": round(fd, 2), "fd_ratio": round(fd / fd_real, 2), "precision": round(pr.precision, 3),
            "recall": round(pr.recall, 3), "classes": int((counts > 0).sum()),
            "min_class_pct": round(100 * counts.min().item() / len(images), 1)}


def _recipe(family: str):
    return importlib.import_module(f"course_lib.recipes.{family}")


def draw(family: str, ckpt: Path, n: int, options: dict, tmp: Path) -> tuple[torch.Tensor, float]:
    """n samples through the family's own `genai-course sample` (cli_sample), and seconds per image."""
    out = tmp / "samples.npz"
    start = time.perf_counter()
    _recipe(family).cli_sample(ckpt, n=n, seed=0, out=out, options=options)
    seconds = time.perf_counter() - start
    with np.load(out) as f:
        return torch.from_numpy(f["images"]), seconds / n


def vae_at_temperature(ckpt: Path, n: int, temperature: float) -> tuple[torch.Tensor, float]:
    """The VAE with codes z ~ N(0, T^2 I) and drawn pixels (its CLI samples codes from the fitted mixture and
    has no temperature, so the sweep calls the model)."""
    model = checkpoints.load(ckpt, models.family("vae").from_config)
    start = time.perf_counter()
    x = model.sample(n, generator=torch.Generator().manual_seed(0), pixels="sample", temperature=temperature)
    return x, (time.perf_counter() - start) / n


def sweep_settings(family: str) -> list[tuple[str, dict | float]]:
    """(setting name, cli_sample options or, for the VAE, a prior temperature): one trilemma point each."""
    fast = config.is_fast()
    if family == "diffusion":
        steps = (5, 10, 25, 50)
        return [(f"DDIM {k} steps", {"sampler": "ddim", "steps": k}) for k in steps] + \
            ([] if fast else [("DDPM 1000 steps", {"sampler": "ddpm"})])
    if family == "flow":
        return [(f"Euler {k} steps", {"solver": "euler", "steps": k}) for k in (5, 10, 25)] + \
            [("Heun 25 steps (49 calls)", {"solver": "heun", "steps": 25})]
    if family == "gan":
        return [(f"truncation {psi}", {"truncation": psi}) for psi in (1.0, 0.8, 0.6, 0.4)]
    if family == "vae":
        return [(f"N(0, I) prior, temperature {t}", t) for t in (1.0, 0.8, 0.6)]
    return [(f"temperature {t}", {"temperature": t}) for t in (1.0, 0.9, 0.8, 0.7)]


def run_family(family: str, seconds: float | None, steps: int | None, n: int) -> tuple[dict, list[dict]]:
    with tempfile.TemporaryDirectory() as tmp:
        tmp, ckpt = Path(tmp), Path(tmp) / f"{family}.pt"
        config.seed_everything(0)
        start = time.perf_counter()
        summary = _recipe(family).cli_train(dataset="digits", seconds=seconds, steps=steps, seed=0, out=ckpt,
                                            options={})
        total = time.perf_counter() - start                     # with the recipe's own evaluation
        model = checkpoints.load(ckpt, models.family(family).from_config)
        images, per_image = draw(family, ckpt, n, {}, tmp)
        bpd = {"vae": summary.get("test_iw_bits_per_dim"), "pixels": summary.get("test_bits_per_dim")}.get(family)
        row = {"family": family, "setting": DEFAULT_SAMPLER[family], "steps": summary["steps"],
               "train_s": summary["seconds"],
               "train_and_eval_s": round(total, 1), "sample_ms_per_image": round(1000 * per_image, 2),
               "parameters": sum(p.numel() for p in model.parameters()),
               "bits_per_dim": bpd if bpd is not None else "-", **quality(images),
               "load_avg_1min": round(os.getloadavg()[0], 1)}
        print(row, flush=True)
        points = []
        for name, setting in sweep_settings(family):
            if family == "vae":
                x, sec = vae_at_temperature(ckpt, n, setting)
            else:
                x, sec = draw(family, ckpt, n, setting, tmp)
            points.append({"family": family, "setting": name, "sample_ms_per_image": round(1000 * sec, 2),
                           **quality(x)})
            print(points[-1], flush=True)
    return row, points


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=BUDGET_S, help="training budget per family (default 120)")
    parser.add_argument("--steps", type=int, default=None,
                        help="also stop at this many steps (the same count for every family: only for a busy machine)")
    parser.add_argument("--families", nargs="+", default=list(FAMILIES), choices=FAMILIES)
    args = parser.parse_args(argv)
    config.set_threads(1)
    seconds = config.budget(args.seconds, 3.0)
    steps = config.budget(args.steps, 20) if args.steps else None
    n = config.budget(1000, 200)
    rows, sweep = [], []
    for family in args.families:
        row, points = run_family(family, seconds, steps, n)
        rows.append(row)
        sweep += points
    _, fd_real = _reference()
    over = [r["family"] for r in rows if r["train_s"] > 150]
    notes = [
        f"Every family trained {seconds:.0f} s (wall clock, 1 CPU thread, seed 0) on the 1,437 training digits "
        "through its own cli_train with its tuned defaults (= `genai-course train FAMILY --dataset digits --seconds "
        f"{seconds:.0f}`); steps = updates reached in that time (a GAN step is one D and one G update). "
        "train_and_eval_s adds what the recipe computes after training (the VAE's k = 500 IW bound and latent "
        "mixture, the others' test figures). load_avg_1min above 1 means another job shared the 2 cores.",
        f"Samples: {n:,} per family, seed 0, through the family's own cli_sample with no --option (its default "
        "sampler: VAE codes from the fitted latent mixture with drawn pixels; GAN z ~ N(0, I); diffusion DDIM 50 "
        "steps, eta 0; flow matching Heun 25 steps; pixel GPT temperature 1). sample_ms_per_image: wall time of "
        f"the whole call / {n:,}, on 1 thread, batch of {n:,}.",
        "bits_per_dim: bits per pixel of the 17-level image (the digits' own grey levels 0..16; log2 17 = 4.09 is a "
        "uniform guess) on the 360 held-out digits. VAE: importance-weighted upper bound (k = 500); pixel GPT: "
        "exact, the sum of 64 next-level log-probabilities. GAN: no likelihood. Diffusion and flow matching: not "
        "computed (the discrete variational bound of the DDPM over 1,000 steps, and the flow's ODE likelihood "
        "with a dequantisation bound, are left for later).",
        f"Quality (benchmarks/capstone.py `quality`): fd = Fréchet distance in the shipped digit classifier's "
        f"features against the 360 held-out digits; fd_ratio = fd / real train-vs-held-out ({fd_real:.2f}); "
        "precision / recall (Kynkäänniemi et al. 2019, k = 5, same features, held-out digits as the real set); "
        "classes = digit classes the classifier finds among the samples, min_class_pct the rarest one's share.",
        "Trilemma sweep (rows with a `setting`): the same trained model, one sampler setting changed: DDIM steps "
        "and the full DDPM chain; flow-matching Euler steps and Heun; GAN truncation psi (z scaled by psi); VAE "
        "codes z ~ N(0, T^2 I) with drawn pixels (not the mixture of the default); pixel-GPT temperature.",
    ]
    if over:
        notes.append(f"Over the 150-s target: {', '.join(over)}.")
    if steps:
        notes.append(f"Also capped at {steps:,} steps per family.")
    return bench.record("capstone", title="Capstone (issue 27): every family on the 8x8 digits, one budget, and the trilemma",
                        command="python benchmarks/capstone.py" + (f" --seconds {args.seconds:g}" if args.seconds != BUDGET_S else "")
                        + (f" --steps {args.steps}" if args.steps else ""),
                        rows=rows + sweep, notes=notes)


if __name__ == "__main__":
    sys.exit(main())
