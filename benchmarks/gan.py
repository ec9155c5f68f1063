"""Benchmark the GAN family against issue 4's targets and write benchmarks/results/gan.json.

Targets (this CPU):
  - 2-D toys, 60 s of training: with the best fix, 8/8 modes on ring8 and >= 24/25 on grid25, with >= 80%
    high-quality samples (within 3 std of a mode) on each; the vanilla GAN's figures beside them.
  - 8x8 digits, 150 s: Fréchet distance (course_lib's digit-classifier features) <= 2x the real-vs-real
    distance with all 10 classes present; a conditional GAN with >= 90% of samples classified as the digit asked for.
Training goes through the same code as `genai-course train gan` (course_lib.recipes.gan.cli_train).

    python benchmarks/gan.py                 # toys (4 methods x 2 sets x 60 s) + digits (2 x 150 s): ~14 min
    python benchmarks/gan.py --only toys     # or --only digits
    COURSE_FAST=1 python benchmarks/gan.py   # a smoke run: a few seconds each (figures are not the targets)
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import torch

from course_lib import bench, checkpoints, config, data, metrics
from course_lib.models import gan as gan_lib
from course_lib.recipes import gan as recipe

# The fixes are compared against the plain GAN: one Gaussian latent, no BatchNorm, raw coordinates.
PLAIN = dict(pack=1, loss="nonsaturating", latent_modes=0, g_batchnorm=False, data_scale=1.0)
METHODS = {  # name -> cli options (on top of recipes.gan.DEFAULTS, which hold the best fix)
    "vanilla (non-saturating)": PLAIN,
    "WGAN-GP (5 critic steps)": dict(PLAIN, loss="wgan-gp", lr=1e-4, n_critic=5),
    "PacGAN (pack 4)": dict(PLAIN, pack=4),
    "mixture latent (50 centres) + BatchNorm G + scale 2 (defaults)": {},
}


def train(dataset: str, seconds: float, options: dict):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "gan.pt"
        summary = recipe.cli_train(dataset=dataset, seconds=seconds, steps=None, seed=0, out=path, options=options)
        return summary, checkpoints.load(path, gan_lib.build)


def toy_row(dataset: str, method: str, seconds: float) -> dict:
    summary, model = train(dataset, seconds, METHODS[method])
    toy = data.load(dataset, n=10, seed=0)
    cov = metrics.mode_coverage(model.sample(2500, generator=torch.Generator().manual_seed(0)), toy.modes, toy.std)
    target = 8 if dataset == "ring8" else 24
    return {"dataset": dataset, "method": method, "train_s": summary["seconds"], "steps": summary["steps"],
            "modes": f"{cov.covered}/{cov.total}", "high_quality_pct": round(100 * cov.high_quality_fraction, 1),
            "target": f">= {target}/{cov.total}, >= 80%",
            "load_avg_1min": round(os.getloadavg()[0], 1),
            "met": "yes" if cov.covered >= target and cov.high_quality_fraction >= 0.8 else "no"}


def digit_row(conditional: bool, seconds: float) -> dict:
    summary, model = train("digits", seconds, {"conditional": True} if conditional else {})
    train_set, test = data.load("digits", split="train"), data.load("digits", split="test")
    n = len(train_set.images)      # as many samples as real training digits (1,437): FD is biased upward at
    g = torch.Generator().manual_seed(0)                           # small sizes, so compare at the same size
    labels = torch.arange(n) % 10
    fake = model.sample(n, labels=labels if conditional else None, generator=g)     # (n, 1, 8, 8)
    fd = metrics.digit_frechet_distance(fake, test.images)
    fd_real = metrics.digit_frechet_distance(train_set.images, test.images)        # 1,437 vs 360 real digits
    pred = metrics.classify_digits(fake)
    counts = torch.bincount(pred, minlength=10)
    acc = float((pred == labels).float().mean()) if conditional else None
    met = fd <= 2 * fd_real and bool((counts > 0).all()) and (acc is None or acc >= 0.9)
    return {"dataset": "digits", "method": "conditional DCGAN (projection D)" if conditional else "DCGAN + PacGAN (pack 4), G lr 1e-3 / D 5e-4",
            "train_s": summary["seconds"], "steps": summary["steps"], "fd": round(fd, 2),
            "fd_real_train_vs_test": round(fd_real, 2), "fd_ratio": round(fd / fd_real, 2),
            "classes_present": int((counts > 0).sum()),
            "class_accuracy_pct": round(100 * acc, 1) if acc is not None else "-",
            "target": "FD <= 2x real, 10 classes" + (", >= 90% as asked" if conditional else ""),
            "load_avg_1min": round(os.getloadavg()[0], 1), "met": "yes" if met else "no"}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["toys", "digits"], default=None)
    args = parser.parse_args(argv)
    config.set_threads(1)                  # small models: no faster on 2 threads, and the machine is shared
    toy_s, digit_s = config.budget(60.0, 3.0), config.budget(150.0, 5.0)
    rows = []
    if args.only in (None, "toys"):
        for dataset in ("ring8", "grid25"):
            for method in METHODS:
                rows.append(toy_row(dataset, method, toy_s))
                print(rows[-1], flush=True)
    if args.only in (None, "digits"):
        for conditional in (False, True):
            rows.append(digit_row(conditional, digit_s))
            print(rows[-1], flush=True)
    notes = [
        f"Budgets: {toy_s:.0f} s per 2-D run, {digit_s:.0f} s per digit run, 1 CPU thread, through "
        "course_lib.recipes.gan.cli_train (same as `genai-course train gan --seconds N`), seed 0, one run each "
        "(GAN results vary between seeds).",
        "2-D: MLPs with 3 hidden layers of 128 (ReLU generator, LeakyReLU discriminator), 8 latents, batch 256, "
        "Adam (0.5, 0.999) lr 1e-3 with cosine decay to 5% over the budget; WGAN-GP: lr 1e-4, betas (0, 0.9), "
        "5 critic steps, lambda 10. The vanilla, WGAN-GP and PacGAN rows use one Gaussian latent, no BatchNorm and raw "
        "coordinates; the last row is recipes.gan.DEFAULTS: z from a mixture of 50 Gaussians (fixed centres ~ N(0, 2^2 I), "
        "spread 0.2; DeLiGAN, Gurumurthy et al. 2017), BatchNorm in G, points divided by 2 inside G and D, no packing. "
        "Mode coverage: 2,500 samples; high quality = within 3 std of the nearest mode "
        "(ring std 0.02, grid std 0.05); a mode is covered with >= 20% of its fair share (course_lib.metrics.mode_coverage).",
        "Why the mixture latent wins: a continuous G maps one connected Gaussian blob onto a connected set, so between "
        "two neighbouring modes it must leave a bridge of off-mode samples, and the 16/25 vanilla grid was mostly the "
        "outer ring with the inner 3x3 starved. With 50 well-separated latent blobs G can send each blob to one mode "
        "with almost nothing in between; no fix tried on D alone (R1, spectral norm, packing, width) came close.",
        "Digits: DCGAN-style conv generator (2x2 -> 4x4 -> 8x8, BatchNorm, width 64) and discriminator, 32 latents, "
        "batch 64, Adam (0.5, 0.999) with cosine decay; the unconditional discriminator sees packs of 4 "
        "images (PacGAN) and learns at half the generator's rate (G 1e-3, D 5e-4); the conditional model (lr 5e-4 for both) adds a label embedding to z and uses a projection discriminator. FD: 1,437 samples (the size of the real reference; "
        "until 2026-11-29 1,000, which inflates FD: the 1,437-sample figures are not comparable with the 'Tried' notes) "
        "vs the 360 held-out digits in the shipped classifier's features; reference: real train (1,437) vs held-out (360).",
        "Each run uses 1 thread; load_avg_1min (end of each row) above 2 means other jobs competed for the cores.",
        "Tried on digits (150 s, quiet machine, FD ratio to real): no packing 5.3x (14,270 steps: longer training "
        "made it worse, the discriminator overfits 1,437 images), pack 2 3.0x, pack 4 2.7x, WGAN-GP (2 critic "
        "steps, lr 2e-4) 2.8x, WGAN-GP + pack 2 3.4x, an EMA of the generator's weights (0.999) no gain (5.1x).",
        "Tried on digits for issue 4 (150 s unless noted; FD ratio, steps, 1-min load; pack 4, one lr 5e-4 unless "
        "noted): 75 s screens: defaults then 4.93x (8,008 steps, 1.8), translation augment +-1 px on real and fake "
        "14.95x (7,544, 1.4), mixture latent of 50 7.34x (8,069, 1.8), R1 gamma 1 8.55x (6,448, 2.0). 150 s: lr 1e-3 "
        "2.11x (16,416, 1.9), seed 1 2.35x (20,623, 1.5); lr 7e-4 2.89x (21,431, 2.1); lr 2e-3 4.02x (16,616, 2.1); "
        "EMA of G 0.995 2.64x (16,224, 2.0); batch 128 3.20x (11,360, 2.0); lr 1e-3 + batch 32 2.28x (22,347, 2.0); "
        "lr 1e-3 + pack 2 5.52x (19,529, 2.0); lr 1e-3 + pack 8 3.89x (23,573, 2.0); pack 8 4.82x (24,495, 2.3); "
        "G 1e-3 / D 2e-3 3.30x (20,235, 1.6); D 2.5e-4 (G 5e-4) 2.96x (22,553, 1.0); lr 1e-3 + R1 0.05 2.12x (17,451, "
        "1.0); G 1e-3 / D 5e-4 (the new default) seeds 0, 1, 2: 1.82x, 2.25x, 2.21x (22,203 / 23,379 / 23,862 steps, "
        "load 1.0): it meets the target on seed 0 only, so the digit figure is within run-to-run noise of 2x. "
        "Conditional with lr 1e-3 for both: 3.24x, 99.6% as asked (15,634, 2.2), so it keeps lr 5e-4.",
        "The helper's final run at 1,000 samples (load 1.0, the other core idle, so every row got 35-60% more steps than the 2026-11-28 run): the conditional DCGAN's code path is unchanged (same weights as before this branch after 60 fixed steps, checked), yet it measured 2.16x with 17,637 steps against 1.72x with 12,621 steps on 2026-11-28: on 1,437 digits more steps let D overfit, so the digit figures depend on how busy the machine is, and both digit rows sat at about 2x (unconditional 2.08x, 23,709 steps).",
        "Tried on the grid before (30 s screens, vanilla loss unless noted): pack 4, hidden 256, 16 latents + pack 2, lr "
        "5e-4 / batch 512, WGAN-GP at lr 5e-4 and 1e-3: 0/25 modes (samples spread evenly over the square); two-"
        "timescale lr (G 1e-4, D 1e-3): collapse onto 1 mode; G 5e-4 / D 2e-3 with 2 latents: 6/25 modes, 58% "
        "high quality.",
        "Tried on the grid for issue 4 (modes, high-quality %, steps, 1-min load; pack 1 and one Gaussian latent unless "
        "noted). 20 s screens: vanilla 5/25 19.6% (4,153 steps, 1.3); R1 gamma 0.1 4/25 17.2% (3,188, 1.9), gamma 1 "
        "2/25 8.7% (3,102, 1.6), gamma 10 0/25 6.5% (3,072, 2.0); data scale 2 4/25 16.6% (4,655, 2.0); EMA of G 0.999 "
        "0/25 3.0% (4,446, 2.0); batch 64 5/25 32.3% (7,623, 1.6); batch 64 lr 3e-4 0/25 1.5% (7,189, 1.4); lr 2e-3 7/25 "
        "36.4% (4,163, 1.8); Adam beta1 0 3/25 12.0% (3,911, 1.9); D width 256 5/25 27.0% (2,292, 1.6); spectral norm "
        "D 2/25 5.7% (2,582, 1.8); SN + BatchNorm G + scale 2 + lr 2e-3 0/25 1.8% (2,247, 1.9); BatchNorm G 8/25 50.6% "
        "(3,998, 1.3); BN + lr 2e-3 7/25 49.4% (3,428, 1.8); BN + scale 2 13/25 40.8% (3,578, 1.9); BN + scale 4 7/25 "
        "18.0% (3,373, 1.7); BN + scale 2 + batch 128 7/25 24.6% (4,563, 1.5); BN + scale 2 + R1 0.1 14/25 25.7% (2,724, "
        "1.3); BN + pack 4 0/25 1.8% (4,727, 2.0); BN + G width 256 8/25 23.1% (2,506, 2.0); random Fourier features "
        "(64, scale 1 or 0.5) as D's input: 0/25 (G runs off to |x| ~ 100: a periodic D cannot see distance), with BN G "
        "1/25; mixture latent K=100 21/25 41.8% (3,406, 1.8), K=100 + BN + scale 2 22/25 63.6% (2,875, 1.9), K=100 + "
        "pack 4 0/25 1.8% (4,092, 2.0).",
        "60 s confirmations: BN + scale 2 13/25 64.8% (11,343 steps, 1.9); BN + scale 2 + R1 0.1 15/25 49.6% (7,813, 2.1); "
        "K=100 25/25 93.5% (10,239, 1.6); K=100 + BN + scale 2 25/25 98.2% (8,520, 2.0). 30 s: K=50 25/25 71.0% (5,333, "
        "1.7); K=100 + BN 25/25 88.2% (4,457, 1.9); K=100 + scale 2 (no BN) 9/25 16.6% (4,884, 2.0); K=32 + BN + scale 2 "
        "25/25 97.3% (4,343, 2.0); K=50 + BN + scale 2 (the default) seeds 0, 1, 2: 25/25 96.8%, 95.6%, 98.3% "
        "(4,552 / 4,356 / 4,437 steps). Ring, 30 s, K=50 + BN: scale 2 8/8 98.8%, scale 1 8/8 98.6%.",
    ]
    return bench.record("gan", title="GAN (issue 4): mode coverage in 60 s, digit quality in 150 s",
                        command="python benchmarks/gan.py" + (f" --only {args.only}" if args.only else ""),
                        rows=rows, notes=notes)


if __name__ == "__main__":
    sys.exit(main())
