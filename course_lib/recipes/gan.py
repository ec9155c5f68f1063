"""Training recipe for the GAN family: defaults, a step or time budget, the CLI.

The tuned defaults (what did best in benchmarks/gan.py) and the command-line adapters
`genai-course train gan` / `genai-course sample CKPT`. The mathematics lives in course_lib.models.gan.
"""
from __future__ import annotations

from pathlib import Path

import torch

from course_lib import samples
from course_lib.models.gan import GANTrainer, build

DEFAULTS = {  # per dataset: the settings that did best here (benchmarks/gan.py); override with --option
    # 2-D: a mixture latent of 50 centres, BatchNorm in G and points halved inside the model: 25/25 grid modes in 60 s
    "ring8": dict(arch="mlp", latent_dim=8, hidden=128, depth=3, pack=1, loss="nonsaturating", lr=1e-3, batch_size=256,
                  latent_modes=50, g_batchnorm=True, data_scale=2.0),
    "grid25": dict(arch="mlp", latent_dim=8, hidden=128, depth=3, pack=1, loss="nonsaturating", lr=1e-3, batch_size=256,
                   latent_modes=50, g_batchnorm=True, data_scale=2.0),
    # digits: PacGAN (pack 4) and a generator twice as fast as the discriminator (G 1e-3, D 5e-4), which overfits
    "digits": dict(arch="conv", latent_dim=32, hidden=64, depth=3, pack=4, loss="nonsaturating", lr=1e-3, d_lr=5e-4,
                   batch_size=64),
    "mnist5k": dict(arch="conv", latent_dim=64, hidden=64, depth=3, pack=1, loss="nonsaturating", lr=5e-4, batch_size=64),
}
IMAGE_SETS = ("digits", "mnist5k")


def cli_train(*, dataset: str, seconds: float | None, steps: int | None, seed: int, out: Path,
              options: dict) -> dict:
    """`genai-course train gan --dataset digits|mnist5k|ring8|grid25 ...`; options: arch, latent_dim, hidden,
    depth, pack, loss, lr, batch_size, n_critic, conditional, and the fixes d_lr, d_hidden, beta1, r1,
    spectral_norm, data_scale, g_batchnorm, latent_modes, augment, ema (see GAN and GANTrainer).
    Returns steps, seconds and a quality figure."""
    from course_lib import checkpoints, config, data, metrics
    from course_lib.train import fit

    samples.check_options("gan", options, {"arch", "latent_dim", "hidden", "depth", "pack", "loss", "lr", "batch_size",
                                           "n_critic", "conditional", "d_lr", "r1", "spectral_norm", "data_scale",
                                           "augment", "ema", "d_hidden", "beta1", "g_batchnorm", "latent_modes"})
    if dataset not in DEFAULTS:
        raise SystemExit(f"error: the gan family trains on {sorted(DEFAULTS)}, got {dataset!r}")
    gen = config.seed_everything(seed)
    opt = {**DEFAULTS[dataset], **options}
    conditional = bool(opt.get("conditional", False)) and dataset in IMAGE_SETS
    if conditional and "pack" not in options:
        opt["pack"] = 1                  # the projection discriminator judges one (image, label) pair at a time
    if conditional and dataset == "digits" and "lr" not in options:
        opt["lr"] = 5e-4                 # its best: 5e-4 for G as for D (1e-3 for both: FD 3.2x)
    if dataset in IMAGE_SETS:
        train = data.load(dataset, split="train")
        X, Y = train.images, train.labels
    else:
        toy = data.load(dataset, n=20000, seed=seed)
        X, Y = toy.x, None
    cfg = dict(data_shape=list(X.shape[1:]), latent_dim=int(opt["latent_dim"]), hidden=int(opt["hidden"]),
               depth=int(opt["depth"]), arch=str(opt["arch"]), num_classes=10 if conditional else 0,
               pack=int(opt["pack"]), d_hidden=int(opt.get("d_hidden", 0)) or None,
               data_scale=float(opt.get("data_scale", 1.0)), spectral_norm=bool(opt.get("spectral_norm", False)),
               g_batchnorm=bool(opt.get("g_batchnorm", False)),
               latent_modes=int(opt.get("latent_modes", 0)))
    model = build(cfg)
    if steps is None and seconds is None:
        steps = config.budget(5000, 200)
    trainer = GANTrainer(model, loss=str(opt["loss"]), lr=float(opt["lr"]), n_critic=int(opt.get("n_critic", 1)),
                         generator=gen, decay_steps=steps, decay_seconds=seconds,
                         d_lr=float(opt.get("d_lr", 0)) or None, betas=(float(opt.get("beta1", 0.5)), 0.999),
                         r1=float(opt.get("r1", 0.0)), augment=int(opt.get("augment", 0)), ema=float(opt.get("ema", 0.0)))
    bs = int(opt["batch_size"])

    def batch():
        idx = torch.randint(0, len(X), (bs,), generator=gen)
        return (X[idx], Y[idx]) if conditional else X[idx]

    hist = fit(model, None, batch, step_fn=trainer, steps=steps, seconds=seconds, progress=False)
    trainer.apply_ema()
    summary = {"steps": len(hist.steps), "seconds": round(hist.seconds, 1)}
    g = torch.Generator().manual_seed(seed)
    if dataset in IMAGE_SETS:
        fake = model.sample(1000, generator=g)
        test = data.load(dataset, split="test").images
        summary["frechet_distance_vs_test"] = round(metrics.digit_frechet_distance(fake, test), 2)
        if conditional:
            labels = torch.arange(1000) % 10
            pred = metrics.classify_digits(model.sample(1000, labels=labels, generator=g))
            summary["class_accuracy"] = round(float((pred == labels).float().mean()), 3)
    else:
        cov = metrics.mode_coverage(model.sample(2500, generator=g), toy.modes, toy.std)
        summary.update(modes_covered=f"{cov.covered}/{cov.total}",
                       high_quality_fraction=round(cov.high_quality_fraction, 3))
    checkpoints.save(out, model, cfg, family="gan", dataset=dataset, seed=seed, loss=str(opt["loss"]), **summary)
    return summary


def cli_sample(ckpt: dict, *, n: int, seed: int, out: Path | None, options: dict) -> str:
    """`genai-course sample CKPT --n N --out S.npz`: images float32 (N, 1, H, W) in [0, 1] (+ labels when
    conditional: 0..9 in turn, or --option label=D); 2-D toy models write points (N, 2) as `x`."""
    model = build(ckpt["config"])
    model.load_state_dict(ckpt["state_dict"])
    model.eval()
    labels = samples.labels_for(n, model.num_classes, options)
    x = model.sample(n, labels=labels, generator=torch.Generator().manual_seed(seed))
    return samples.write_npz(out, x, labels)
