"""Training recipe for the GAN family: the training step, defaults, a step or time budget, the CLI.

GANTrainer (one step of the two-player game, with its optimizers, schedule, EMA and augmentation), the
tuned defaults (what did best in benchmarks/gan.py) and the command-line adapters `genai-course train gan`
/ `genai-course sample CKPT`. The mathematics (networks, losses, penalties) lives in course_lib.models.gan.

Sampling: a GAN has one sampler, G(z) with z from the model's latent (in eval mode), so `genai-course
sample` has no sampler options; benchmarks/gan.py's FD is that sampler's figure.
"""
from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F

from course_lib import samples
from course_lib.models.gan import (GAN, LOSSES, critic_loss, discriminator_loss, generator_loss_minimax,
                                   generator_loss_nonsaturating, generator_loss_wgan, gradient_penalty, r1_penalty)
from course_lib.models.inputs import check_batch, check_labels, randint
from course_lib.train import EMA, CosineSchedule

def translate(x: torch.Tensor, shift: int = 1, generator: torch.Generator | None = None) -> torch.Tensor:
    """DiffAugment-style translation (Zhao et al. 2020): move each image by a random (dy, dx) in
    [-shift, shift]^2 pixels, filling with zeros. Differentiable (a gather), so it can be applied to the
    generator's fakes as well as the real images; D then never sees the 1,437 digits at one fixed position.
    x: (B, C, H, W) -> (B, C, H, W).
    """
    if x.dim() != 4:
        raise ValueError(f"translate needs images (B, C, H, W), got shape {tuple(x.shape)}")
    if shift < 0:
        raise ValueError(f"shift must be >= 0, got {shift}")
    if shift == 0:
        return x
    b, c, h, w = x.shape
    padded = F.pad(x, (shift, shift, shift, shift))                      # (B, C, H+2s, W+2s)
    off = randint(0, 2 * shift + 1, (2, b), generator=generator, device=x.device)   # (2, B) crop corners
    rows = (off[0][:, None] + torch.arange(h, device=x.device))[:, None, :, None]   # (B, 1, H, 1)
    cols = (off[1][:, None] + torch.arange(w, device=x.device))[:, None, None, :]   # (B, 1, 1, W)
    bi = torch.arange(b, device=x.device)[:, None, None, None]
    ci = torch.arange(c, device=x.device)[None, :, None, None]
    return padded[bi, ci, rows, cols]                                    # (B, C, H, W)



class GANTrainer:
    """One call = one training step on one batch; pass it to course_lib.train.fit as step_fn.

    loss: "minimax" | "nonsaturating" | "wgan-gp". The discriminator is updated first (n_critic times on
    the same real batch with fresh fakes), then the generator once. Returns the losses as floats.
    batch: x (B, *data_shape), or (x, labels) for a conditional GAN.
    lr / d_lr: generator / discriminator learning rates (Adam, betas (0.5, 0.999); (0, 0.9) for WGAN-GP).
    decay_steps / decay_seconds: optional budget for a cosine learning-rate decay (pass fit's budget).
    r1: gamma of the R1 penalty, D's loss + (gamma / 2) E_data[||grad_x D(x)||^2] (0 = off).
    augment: translate real and fake images by up to this many pixels before D sees them (0 = off).
    ema: decay of an exponential moving average of G's weights, loaded by apply_ema() (0 = off).
    """

    def __init__(self, model: GAN, loss: str = "nonsaturating", lr: float = 2e-4, d_lr: float | None = None,
                 betas=(0.5, 0.999), n_critic: int = 1, gp_weight: float = 10.0,
                 generator: torch.Generator | None = None, decay_steps: int | None = None,
                 decay_seconds: float | None = None, r1: float = 0.0, augment: int = 0, ema: float = 0.0):
        if loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
        if r1 < 0:
            raise ValueError(f"r1 (the weight gamma of the R1 penalty) must be >= 0, got {r1}")
        if augment and len(model.data_shape) != 3:
            raise ValueError("augment (random translation) is for images; 2-D points have no pixels to move")
        if not 0.0 <= ema < 1.0:
            raise ValueError(f"ema must be in [0, 1) (0 = off), got {ema}")
        self.model, self.loss, self.n_critic, self.gp_weight, self.gen = model, loss, n_critic, gp_weight, generator
        self.r1, self.augment = r1, int(augment)
        # EMA of G's weights (Karras et al. 2018; Yazici et al. 2019): averages out G's oscillation around the
        # equilibrium. Kept here; apply_ema() copies it into the model at the end of training.
        self.ema_g = EMA(model.G, ema) if ema else None
        if loss == "wgan-gp":
            betas = (0.0, 0.9)  # WGAN-GP paper: no momentum in the first moment
        self.opt_g = torch.optim.Adam(model.G.parameters(), lr=lr, betas=betas)
        self.opt_d = torch.optim.Adam(model.D.parameters(), lr=d_lr or lr, betas=betas)
        # Cosine decay to 5% over fit's budget: the small late steps settle samples precisely onto the modes.
        self.schedule = (CosineSchedule([self.opt_g, self.opt_d], [lr, d_lr or lr], steps=decay_steps,
                                        seconds=decay_seconds)
                         if decay_steps is not None or decay_seconds is not None else None)

    def _split(self, batch):
        if isinstance(batch, (tuple, list)):
            x, y = batch
        else:
            x, y = batch, None
        check_batch(x, self.model.data_shape, "batch")
        if self.model.num_classes and y is None:
            raise ValueError("a conditional GAN needs batches (x, labels)")
        y = check_labels(y if self.model.num_classes else None, len(x), self.model.num_classes, "GAN")
        return x, y

    def __call__(self, batch) -> dict:
        G, D = self.model.G, self.model.D
        x, y = self._split(batch)
        b = x.shape[0]
        aug = (lambda t: translate(t, self.augment, self.gen)) if self.augment else (lambda t: t)
        for _ in range(self.n_critic):                           # --- discriminator / critic
            with torch.no_grad():
                fake = G(self.model.noise(b, self.gen), y)       # (B, *data_shape), no gradient into G
            real_in, fake_in = aug(x), aug(fake)
            real_out, fake_out = D(real_in, y), D(fake_in, y)
            if self.loss == "wgan-gp":
                gp = gradient_penalty(D, real_in, fake_in, labels=y, generator=self.gen)
                d_loss = critic_loss(real_out, fake_out) + self.gp_weight * gp
            else:
                d_loss = discriminator_loss(real_out, fake_out)
            if self.r1:
                r1 = r1_penalty(D, real_in, labels=y)
                d_loss = d_loss + 0.5 * self.r1 * r1
            self.opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            self.opt_d.step()
        fake_out = D(aug(G(self.model.noise(b, self.gen), y)), y)  # --- generator; D's grads are discarded
        g_loss = {"minimax": generator_loss_minimax, "nonsaturating": generator_loss_nonsaturating,
                  "wgan-gp": generator_loss_wgan}[self.loss](fake_out)
        self.opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        self.opt_g.step()
        if self.ema_g is not None:
            self.ema_g.update(self.model.G)
        if self.schedule is not None:
            self.schedule.step()                                 # the rates of the next step
        out = {"d_loss": d_loss.item(), "g_loss": g_loss.item()}
        if self.loss == "wgan-gp":
            out["gp"] = gp.item()
        if self.r1:
            out["r1"] = r1.item()
        return out

    def apply_ema(self) -> None:
        """Load the averaged generator weights into model.G (call once, after training); no-op without ema."""
        if self.ema_g is not None:
            self.ema_g.copy_to(self.model.G)


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
    spectral_norm, data_scale, g_batchnorm, latent_modes, augment, ema, mapping (StyleGAN's mapping network:
    its number of layers; see GAN and GANTrainer).
    Returns steps, seconds and a quality figure."""
    from course_lib import checkpoints, config, data, metrics
    from course_lib.train import fit, random_rows

    samples.check_options("gan", options, {"arch", "latent_dim", "hidden", "depth", "pack", "loss", "lr", "batch_size",
                                           "n_critic", "conditional", "d_lr", "r1", "spectral_norm", "data_scale",
                                           "augment", "ema", "d_hidden", "beta1", "g_batchnorm", "latent_modes",
                                           "mapping"})
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
    if int(opt.get("mapping", 0)):
        cfg["mapping"] = int(opt["mapping"])
    model = GAN.from_config(cfg)
    if steps is None and seconds is None:
        steps = config.budget(5000, 200)
    trainer = GANTrainer(model, loss=str(opt["loss"]), lr=float(opt["lr"]), n_critic=int(opt.get("n_critic", 1)),
                         generator=gen, decay_steps=steps, decay_seconds=seconds,
                         d_lr=float(opt.get("d_lr", 0)) or None, betas=(float(opt.get("beta1", 0.5)), 0.999),
                         r1=float(opt.get("r1", 0.0)), augment=int(opt.get("augment", 0)), ema=float(opt.get("ema", 0.0)))
    batch = random_rows(X, *([Y] if conditional else []), batch_size=int(opt["batch_size"]), generator=gen)
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
    checkpoints.save(out, model, model.config_dict(), family="gan", dataset=dataset, seed=seed, loss=str(opt["loss"]),
                     **summary)
    return summary


def cli_sample(path: Path, *, n: int, seed: int, out: Path | None, options: dict) -> str:
    """`genai-course sample CKPT --n N --out S.npz`: images float32 (N, 1, H, W) in [0, 1] (+ labels when
    conditional: 0..9 in turn, or --option label=D); 2-D toy models write points (N, 2) as `x`.
    --option truncation=PSI in (0, 1]: the truncation trick (typical samples, less variety)."""
    from course_lib import checkpoints
    samples.check_options("gan sampling", options, {"label", "truncation"})
    model = checkpoints.load(path, GAN.from_config)
    labels = samples.labels_for(n, model.num_classes, options)
    try:
        x = model.sample(n, labels=labels, generator=torch.Generator().manual_seed(seed),
                         truncation=float(options.get("truncation", 1.0)))
    except ValueError as err:
        raise SystemExit(f"error: {err}")
    return samples.write_npz(out, x, labels)
