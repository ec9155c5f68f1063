"""A rare class among the digits: which model families keep a 2% minority, which drop it?

Train each family on digits where one class is made rare (`amplification.rare_class_subset`), sample, let
the course classifier judge every sample, and compare the rare class's share among the samples with its
share in training. The classifier errs too, so the honest reference is the share it *judges* in the
training set itself (`judged_shares(X)`), not the nominal 2%.

    X, Y = rare_digits(rare_class=3, share=0.02)
    model = train_family("gan", X, steps=config.budget(3000, 50))
    shares = judged_shares(sample_family(model, 2000, seed=0))     # (10,) class shares among the samples

Mitigation by balanced conditional sampling: train a conditional model (pass Y) and ask for every class
equally (`sample_family(model, n, balanced=True)`); the classifier then says whether the rare class's images
are recognisable, not only requested. Recipes' defaults are reused (course_lib.recipes.*).
"""
from __future__ import annotations

import torch

from course_lib.ethics.amplification import rare_class_subset

FAMILIES = ("vae", "gan", "diffusion")


def rare_digits(rare_class: int = 3, share: float = 0.02, *, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """The 8x8 digits' training split with `rare_class` cut down to `share`: X (N, 1, 8, 8) in [0, 1], Y (N,)."""
    from course_lib import data
    train = data.load("digits", split="train")
    idx = rare_class_subset(train.labels, rare_class, share, seed=seed)
    return train.images[idx], train.labels[idx]


def train_family(family: str, X: torch.Tensor, Y: torch.Tensor | None = None, *, steps: int, seed: int = 0):
    """A model of `family` (vae | gan | diffusion) with the recipe's digits defaults, trained `steps` steps on
    X [conditional on Y when given]. Returns the model in eval mode (a VAE carries its fitted LatentMixture
    as `.latent_mixture`, unconditional only). Budget: config.budget(full, fast)."""
    if family not in FAMILIES:
        raise ValueError(f"family must be one of {FAMILIES}, got {family!r}")
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive int, got {steps!r}")
    if not isinstance(X, torch.Tensor) or X.dim() != 4 or X.shape[1] != 1:
        raise ValueError(f"X must be images (N, 1, H, W), got {getattr(X, 'shape', type(X))}")
    if Y is not None and (not isinstance(Y, torch.Tensor) or Y.shape != (len(X),)):
        raise ValueError(f"Y must be labels ({len(X)},), got {getattr(Y, 'shape', type(Y))}")
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    return {"vae": _train_vae, "gan": _train_gan, "diffusion": _train_diffusion}[family](X, Y, steps, gen, seed)


def _train_vae(X, Y, steps, gen, seed):
    from course_lib.models.latent_mixture import LatentMixture
    from course_lib.models.vae import VAE
    from course_lib.recipes.vae import DEFAULTS
    from course_lib.train import CosineSchedule, fit, random_rows
    opt = DEFAULTS["digits"]
    model = VAE.from_config(dict(image_size=X.shape[-1], levels=17, latent_dim=opt["latent_dim"], hidden=opt["hidden"],
                                 depth=opt["depth"], likelihood="categorical", num_classes=10 if Y is not None else 0,
                                 dropout=opt["dropout"]))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    fit(model, lambda m, b: m.loss(b[0], b[1], k=opt["k"]), random_rows(X, Y, batch_size=128, generator=gen),
        optimizer=optimizer, steps=steps, progress=False, on_step=[CosineSchedule(optimizer, 1e-3, steps=steps)])
    model.eval()
    model.latent_mixture = None if Y is not None else LatentMixture.fit(model, X, seed=seed)
    return model


def _train_gan(X, Y, steps, gen, seed):
    from course_lib.models.gan import GAN
    from course_lib.recipes.gan import DEFAULTS, GANTrainer
    from course_lib.train import fit, random_rows
    opt = dict(DEFAULTS["digits"])
    if Y is not None:
        opt.update(pack=1, lr=5e-4)                   # the recipe's conditional settings
    model = GAN.from_config(dict(data_shape=list(X.shape[1:]), latent_dim=opt["latent_dim"], hidden=opt["hidden"],
                                 depth=opt["depth"], arch=opt["arch"], num_classes=10 if Y is not None else 0,
                                 pack=opt["pack"]))
    trainer = GANTrainer(model, loss=opt["loss"], lr=opt["lr"], d_lr=opt.get("d_lr") if Y is None else None,
                         generator=gen, decay_steps=steps)
    batch = random_rows(X, *([Y] if Y is not None else []), batch_size=opt["batch_size"], generator=gen)
    fit(model, None, batch, step_fn=trainer, steps=steps, progress=False)
    model.eval()
    return model


def _train_diffusion(X, Y, steps, gen, seed):
    from course_lib.models.diffusion import Diffusion
    from course_lib.recipes.diffusion import DEFAULTS, train_model
    opt = DEFAULTS["digits"]
    model = Diffusion.from_config(dict(data_shape=list(X.shape[1:]), timesteps=1000, schedule="cosine", arch=opt["arch"],
                                       width=opt["width"], num_classes=10 if Y is not None else 0, p_uncond=0.1,
                                       prediction=opt["prediction"]))
    train_model(model, X, Y, steps=steps, seconds=None, lr=opt["lr"], batch_size=opt["batch_size"], ema=opt["ema"],
                generator=gen, progress=False)
    model.eval()
    return model


def sample_family(model, n: int, *, seed: int = 0, balanced: bool = False, guidance: float = 1.0) -> torch.Tensor:
    """n images (n, 1, H, W) in [0, 1] with each family's default sampler (VAE: latent mixture codes and drawn
    pixels; diffusion: DDIM 50 steps). balanced=True asks a conditional model for every class equally
    (labels 0..9 in turn); guidance is the diffusion model's classifier-free guidance scale then."""
    from course_lib.models.diffusion import Diffusion
    from course_lib.models.vae import VAE
    g = torch.Generator().manual_seed(seed)
    conditional = bool(getattr(model, "num_classes", 0))
    if balanced and not conditional:
        raise ValueError("balanced sampling needs a conditional model: train it with labels Y")
    labels = torch.arange(n) % 10 if balanced else None
    if conditional and labels is None:
        raise ValueError("this model is conditional: pass balanced=True (or sample it with your own labels)")
    with torch.no_grad():
        if isinstance(model, Diffusion):
            return model.sample(n, steps=50, sampler="ddim", labels=labels, guidance=guidance if conditional else 1.0,
                                generator=g)
        if isinstance(model, VAE):
            mix = getattr(model, "latent_mixture", None)
            z = mix.sample(n, generator=g) if mix is not None else None
            return model.sample(n, labels=labels, generator=g, pixels="sample", z=z)
        return model.sample(n, labels=labels, generator=g)


def judged_shares(images: torch.Tensor) -> torch.Tensor:
    """(10,) share of each class among images (N, 1, 8|28, 8|28), as the course classifier judges them."""
    from course_lib.ethics.amplification import class_shares
    from course_lib.metrics import classify_digits
    return class_shares(classify_digits(images), 10)
