"""Training recipe for the diffusion family: training on a budget, defaults, the CLI.

`train_model` (AdamW, warm-up and cosine decay, EMA of the weights), the tuned defaults (what did best in
benchmarks/diffusion.py) and the command-line adapters `genai-course train diffusion` / `genai-course sample
CKPT`. The mathematics lives in course_lib.models.diffusion.

The default sampler of `genai-course sample` (SAMPLE_DEFAULTS) is the best the benchmark found within a
sensible time: 2-D points run the full DDPM chain (25/25 grid modes, 98% high quality against 89% for DDIM 25,
and 2,500 points take about 10 s); images run DDIM with 50 steps and eta 0 (digits: FD 2.32 against 2.17
for the full 1,000-step chain, at a twentieth of the time: 6 s against 125 s for 1,437 samples on one CPU
thread). --option sampler=ddpm asks for the full chain.
"""
from __future__ import annotations

from pathlib import Path

import torch

from course_lib import samples
from course_lib.models.diffusion import Diffusion
from course_lib.train import EMA, CosineSchedule, fit, random_rows

DEFAULTS = {  # per dataset: what did best here (benchmarks/diffusion.py); override with --option
    "swiss_roll": dict(arch="mlp", hidden=128, depth=3, data_scale=1.0, clip=3.0, lr=1e-3, batch_size=256, ema=0.995),
    "ring8": dict(arch="mlp", hidden=128, depth=3, data_scale=1.0, clip=2.5, lr=1e-3, batch_size=256, ema=0.995),
    "grid25": dict(arch="mlp", hidden=128, depth=3, data_scale=2.0, clip=2.5, lr=1e-3, batch_size=256, ema=0.995),
    "digits": dict(arch="unet", width=16, lr=3e-3, batch_size=128, ema=0.995, prediction="v"),
    "mnist5k": dict(arch="unet", width=32, lr=1e-3, batch_size=64, ema=0.995, prediction="v"),
}
IMAGE_SETS = ("digits", "mnist5k")
KNOWN_OPTIONS = {"arch", "hidden", "depth", "width", "timesteps", "schedule", "lr", "batch_size", "conditional",
                 "p_uncond", "data_scale", "clip", "ema", "prediction"}



def train_model(model: Diffusion, X: torch.Tensor, Y: torch.Tensor | None, *, steps: int | None,
                seconds: float | None, lr: float = 1e-3, batch_size: int = 128, ema: float = 0.0,
                generator: torch.Generator | None = None, progress: bool = True, desc: str | None = None):
    """Train on data X (N, *data_shape) [+ labels Y (N,)] with AdamW, a cosine learning-rate decay over
    the budget and (ema > 0) an exponential moving average of the weights copied in at the end.
    Returns fit's History. Used by the CLI, the benchmark and notebook 07."""
    if Y is not None and len(Y) != len(X):
        raise ValueError(f"X and Y must have the same length, got {len(X)} and {len(Y)}")
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    schedule = CosineSchedule(optimizer, lr, steps=steps, seconds=seconds, warmup=100)
    averaged = EMA(model, ema) if ema else None
    gen = generator if generator is not None else torch.Generator().manual_seed(0)
    hist = fit(model, lambda m, b: m.loss(b[0], b[1], generator=gen), random_rows(X, Y, batch_size=batch_size,
               generator=gen), optimizer=optimizer, steps=steps, seconds=seconds, progress=progress,
               desc=desc or "diffusion", on_step=[schedule] + ([averaged] if averaged is not None else []))
    if averaged is not None:
        averaged.copy_to(model)
    return hist


def training_data(family: str, dataset: str, options: dict, seed: int):
    """The start the diffusion and flow recipes share: the seeded generator, the dataset's settings with the
    options on top, and the training data: images (with labels when conditional) or 20,000 toy points.
    Returns (generator, settings, conditional, X, Y or None, the toy set or None)."""
    from course_lib import config, data
    if dataset not in DEFAULTS:
        raise SystemExit(f"error: the {family} family trains on {sorted(DEFAULTS)}, got {dataset!r}")
    gen = config.seed_everything(seed)
    opt = {**DEFAULTS[dataset], **options}
    conditional = bool(opt.get("conditional", False)) and dataset in IMAGE_SETS
    if dataset in IMAGE_SETS:
        train = data.load(dataset, split="train")
        return gen, opt, conditional, train.images, (train.labels if conditional else None), None
    toy = data.load(dataset, n=20000, seed=seed)
    return gen, opt, conditional, toy.x, None, toy


def train_recipe(model, X, Y, opt: dict, *, steps: int | None, seconds: float | None, generator) -> dict:
    """train_model with the recipe's settings (5,000 steps unless a budget is given), then eval mode;
    returns the summary's steps and seconds."""
    from course_lib import config
    if steps is None and seconds is None:
        steps = config.budget(5000, 100)
    hist = train_model(model, X, Y, steps=steps, seconds=seconds, lr=float(opt["lr"]),
                       batch_size=int(opt["batch_size"]), ema=float(opt.get("ema", 0.0)), generator=generator,
                       progress=False)
    model.eval()
    return {"steps": len(hist.steps), "seconds": round(hist.seconds, 1)}


def cli_train(*, dataset: str, seconds: float | None, steps: int | None, seed: int, out: Path,
              options: dict) -> dict:
    """`genai-course train diffusion --dataset digits|mnist5k|swiss_roll|ring8|grid25 ...`; options: arch,
    hidden, depth, width, timesteps, schedule, lr, batch_size, conditional, p_uncond, data_scale, clip, ema,
    prediction (eps or v).
    Returns steps, seconds and a quality figure (from 50 DDIM steps, the quick sampler)."""
    from course_lib import checkpoints, config, data, metrics

    samples.check_options("diffusion", options, KNOWN_OPTIONS)
    gen, opt, conditional, X, Y, toy = training_data("diffusion", dataset, options, seed)
    cfg = dict(data_shape=list(X.shape[1:]), timesteps=int(opt.get("timesteps", 1000)),
               schedule=str(opt.get("schedule", "cosine")), arch=str(opt["arch"]), hidden=int(opt.get("hidden", 128)),
               depth=int(opt.get("depth", 3)), width=int(opt.get("width", 32)), num_classes=10 if conditional else 0,
               p_uncond=float(opt.get("p_uncond", 0.1)), data_scale=float(opt.get("data_scale", 1.0)),
               clip=float(opt["clip"]) if "clip" in opt else None, prediction=str(opt.get("prediction", "eps")))
    model = Diffusion.from_config(cfg)
    summary = train_recipe(model, X, Y, opt, steps=steps, seconds=seconds, generator=gen)
    g, n = torch.Generator().manual_seed(seed), config.budget(1000, 200)
    if dataset in IMAGE_SETS:
        fake = model.sample(n, steps=50, sampler="ddim", guidance=0.0, generator=g)   # unconditional samples
        test = data.load(dataset, split="test").images
        summary["frechet_distance_vs_test_ddim50"] = round(metrics.digit_frechet_distance(fake, test), 2)
        if conditional:
            labels = torch.arange(n) % 10
            pred = metrics.classify_digits(model.sample(n, steps=50, sampler="ddim", labels=labels, generator=g))
            summary["class_accuracy_ddim50"] = round(float((pred == labels).float().mean()), 3)
    else:
        cov = metrics.mode_coverage(model.sample(config.budget(2500, 500), steps=50, sampler="ddim", generator=g),
                                    toy.modes, toy.std) \
            if toy.modes is not None else None
        if cov is not None:
            summary.update(modes_covered=f"{cov.covered}/{cov.total}",
                           high_quality_fraction_ddim50=round(cov.high_quality_fraction, 3))
    checkpoints.save(out, model, cfg, family="diffusion", dataset=dataset, seed=seed, **summary)
    return summary


SAMPLE_DEFAULTS = {"points": dict(sampler="ddpm"), "images": dict(sampler="ddim", steps=50, eta=0.0)}


def sampler_options(model: Diffusion, options: dict) -> dict:
    """The sampler `genai-course sample` runs: SAMPLE_DEFAULTS for the data kind, overridden by --option
    sampler / steps / eta (steps alone implies DDIM; sampler=ddpm alone the full chain)."""
    chosen = dict(SAMPLE_DEFAULTS["images" if model.images else "points"])
    if "sampler" in options or "steps" in options:
        chosen = {"sampler": str(options.get("sampler", "ddim"))}
        if "steps" in options:
            chosen["steps"] = int(options["steps"])
    if chosen["sampler"] == "ddim" or "eta" in options:
        chosen["eta"] = float(options.get("eta", chosen.get("eta", 0.0)))
    return chosen


def cli_sample(path: Path, *, n: int, seed: int, out: Path | None, options: dict) -> str:
    """`genai-course sample CKPT --n N --out S.npz`: images float32 (N, 1, H, W) in [0, 1] (+ labels when
    conditional: 0..9 in turn, or --option label=D); 2-D toy models write points (N, 2) as `x`.
    Default sampler: DDIM 50 steps for images, the full DDPM chain for points (see the module docstring).
    --option sampler=ddpm|ddim, steps=K (implies ddim), eta=E, guidance=S (conditional models)."""
    from course_lib import checkpoints
    samples.check_options("diffusion sampling", options, {"sampler", "steps", "eta", "guidance", "label"})
    model = checkpoints.load(path, Diffusion.from_config)
    labels = samples.labels_for(n, model.num_classes, options)
    guidance = float(options.get("guidance", 1.0))
    x = model.sample(n, **sampler_options(model, options), guidance=guidance,
                     labels=labels if guidance > 0 else None, generator=torch.Generator().manual_seed(seed))
    return samples.write_npz(out, x, labels)
