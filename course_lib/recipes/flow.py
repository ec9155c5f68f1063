"""Training recipe for flow matching: the diffusion recipe's data, networks and optimiser, another objective.

`genai-course train flow --dataset digits|mnist5k|swiss_roll|ring8|grid25 ...` trains the same network as
`genai-course train diffusion` with the same settings (recipes.diffusion: DEFAULTS, training_data,
train_recipe), so the two compare at equal budgets (benchmarks/flow.py). `genai-course sample CKPT` integrates the ODE with
SAMPLE_DEFAULTS unless --option steps / solver say otherwise. The mathematics lives in
course_lib.models.diffusion.flow.
"""
from __future__ import annotations

from pathlib import Path

import torch

from course_lib import samples
from course_lib.models.diffusion import FlowMatching
# DEFAULTS: every recipe module has one (the recipe protocol); the flow family shares the diffusion family's.
from course_lib.recipes.diffusion import DEFAULTS, IMAGE_SETS, train_recipe, training_data  # noqa: F401

KNOWN_OPTIONS = {"arch", "hidden", "depth", "width", "lr", "batch_size", "conditional", "p_uncond", "data_scale", "ema"}
SAMPLE_DEFAULTS = dict(steps=25, solver="heun")          # 49 network calls; see benchmarks/flow.py


def cli_train(*, dataset: str, seconds: float | None, steps: int | None, seed: int, out: Path,
              options: dict) -> dict:
    """`genai-course train flow --dataset D --seconds N --out CKPT`; options as the diffusion family's
    (arch, hidden, depth, width, lr, batch_size, conditional, p_uncond, data_scale, ema) without the
    schedule ones. Returns steps, seconds and a quality figure (from the default sampler)."""
    from course_lib import checkpoints, config, data, metrics

    samples.check_options("flow", options, KNOWN_OPTIONS)
    gen, opt, conditional, X, Y, toy = training_data("flow", dataset, options, seed)
    cfg = dict(data_shape=list(X.shape[1:]), arch=str(opt["arch"]), hidden=int(opt.get("hidden", 128)),
               depth=int(opt.get("depth", 3)), width=int(opt.get("width", 32)), num_classes=10 if conditional else 0,
               p_uncond=float(opt.get("p_uncond", 0.1)), data_scale=float(opt.get("data_scale", 1.0)))
    model = FlowMatching.from_config(cfg)
    summary = train_recipe(model, X, Y, opt, steps=steps, seconds=seconds, generator=gen)
    g, n = torch.Generator().manual_seed(seed), config.budget(1000, 200)
    if dataset in IMAGE_SETS:
        fake = model.sample(n, **SAMPLE_DEFAULTS, guidance=0.0, generator=g)
        test = data.load(dataset, split="test").images
        summary["frechet_distance_vs_test"] = round(metrics.digit_frechet_distance(fake, test), 2)
    elif toy.modes is not None:
        cov = metrics.mode_coverage(model.sample(config.budget(2500, 500), **SAMPLE_DEFAULTS, generator=g),
                                    toy.modes, toy.std)
        summary.update(modes_covered=f"{cov.covered}/{cov.total}", high_quality_fraction=round(cov.high_quality_fraction, 3))
    checkpoints.save(out, model, cfg, family="flow", dataset=dataset, seed=seed, **summary)
    return summary


def cli_sample(path: Path, *, n: int, seed: int, out: Path | None, options: dict) -> str:
    """`genai-course sample CKPT --n N --out S.npz`: images float32 (N, 1, H, W) in [0, 1] (+ labels when
    conditional), points (N, 2) as `x`. --option steps=K, solver=euler|heun, guidance=S, label=D."""
    from course_lib import checkpoints
    samples.check_options("flow sampling", options, {"steps", "solver", "guidance", "label"})
    model = checkpoints.load(path, FlowMatching.from_config)
    labels = samples.labels_for(n, model.num_classes, options)
    guidance = float(options.get("guidance", 1.0))
    kw = {**SAMPLE_DEFAULTS, **{k: options[k] for k in ("steps", "solver") if k in options}}
    try:
        x = model.sample(n, steps=int(kw["steps"]), solver=str(kw["solver"]), guidance=guidance,
                         labels=labels if guidance > 0 else None, generator=torch.Generator().manual_seed(seed))
    except ValueError as err:
        raise SystemExit(f"error: {err}")
    return samples.write_npz(out, x, labels)
