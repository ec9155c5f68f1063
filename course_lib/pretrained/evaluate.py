"""The figures a zoo model is recorded with, computed the same way by the training script and the tests.

Two sizes per family: "full" (the figures in the manifest's `metrics` and in benchmarks/RESULTS.md, with
the sampler the family's benchmark found best) and "check" (a small seeded evaluation, seconds on a CPU,
that tests/test_pretrained.py reruns on the shipped file and compares with the recorded value). Every
evaluation is seeded and independent of COURSE_FAST, so the same file gives the same figure.

Each evaluator returns {metric name: {"value": float, "how": str}} (plus "abs_tol" for counts).
"""
from __future__ import annotations

from functools import lru_cache
from typing import Callable

import torch

KINDS = ("check", "full")
SEED = 0


def _rec(value, how: str, digits: int = 4, **extra) -> dict:
    value = value if isinstance(value, int) else round(float(value), digits)
    return {"value": value, "how": how, **extra}


@lru_cache(maxsize=4)
def _digits(split: str):
    from course_lib import data
    return data.load("digits", split=split)


@lru_cache(maxsize=4)
def _text(dataset: str, split: str) -> str:
    from course_lib import data
    return data.load(dataset, split=split)                  # the plays take seconds to read: once


@lru_cache(maxsize=1)
def _fd_real() -> float:
    """Real train (1,437) vs held-out (360) digits: the reference of every FD ratio."""
    from course_lib import metrics
    return metrics.digit_frechet_distance(_digits("train").images, _digits("test").images)


def _image_figures(images: torch.Tensor, what: str, n_note: str) -> dict:
    """FD, FD ratio and classes present of generated 8x8 digits against the 360 held-out ones."""
    from course_lib import metrics
    images = images.detach().cpu().clamp(0, 1)
    fd = metrics.digit_frechet_distance(images, _digits("test").images)
    counts = metrics.classify_digits(images).bincount(minlength=10)
    how = (f"{n_note} samples ({what}, seed {SEED}) vs the 360 held-out digits in the shipped digit "
           "classifier's features")
    return {"fd": _rec(fd, how),
            "fd_ratio": _rec(fd / _fd_real(), how + f"; divided by real train (1,437) vs held-out ({_fd_real():.3f})"),
            "classes_present": _rec(int((counts > 0).sum()), "digit classes among the same samples "
                                    "(shipped classifier)", abs_tol=0)}


def _gen() -> torch.Generator:
    return torch.Generator().manual_seed(SEED)


@torch.no_grad()
def _gpt(model, entry, meta: dict, kind: str) -> dict:
    from course_lib.tokenizers import tokenizer_from_meta
    text = _text(entry.dataset, "val")
    ids = torch.tensor(tokenizer_from_meta(meta).encode(text), dtype=torch.long)
    dev = next(model.parameters()).device
    batches = 50 if kind == "full" else 8
    T = model.config.block_size
    loss = model.nll(ids.to(dev), batch_size=32, max_batches=batches)
    windows = min((len(ids) - 1) // T, 32 * batches)
    how = (f"mean next-token loss over the first {windows:,} consecutive {T}-token windows of "
           f"{entry.dataset}'s validation split (plays held out of training)")
    out = {"val_loss_nats_per_token": _rec(loss, how)}
    if kind == "full":
        out["val_loss_nats_per_char"] = _rec(loss * len(ids) / len(text), how + "; per character of text")
    return out


@torch.no_grad()
def _vae(model, entry, meta: dict, kind: str) -> dict:
    from course_lib.metrics import bits_per_dim
    from course_lib.models.latent_mixture import LatentMixture
    test = _digits("test")
    dev = next(model.parameters()).device
    x = test.images.to(dev)
    labels = test.labels.to(dev) if getattr(model, "num_classes", 0) else None
    k = 500 if kind == "full" else 50
    elbo = model.elbo(x, labels, generator=torch.Generator(dev).manual_seed(SEED)).mean().item()
    nll = model.nll(x, labels=labels, k=k, generator=torch.Generator(dev).manual_seed(SEED)).mean().item()
    D = x[0].numel()
    on = f"the 360 held-out digits, seed {SEED}"
    out = {"test_elbo_nats": _rec(elbo, f"mean ELBO (one reparameterised sample) on {on}", 3),
           f"test_iw_nll_nats_k{k}": _rec(nll, f"importance-weighted NLL bound, k = {k}, on {on}", 3),
           "test_bits_per_dim": _rec(bits_per_dim(nll, D), f"the IW NLL / ({D} ln 2)")}
    if kind == "full" and "latent_mixture" in meta:
        g = _gen()
        z = LatentMixture.from_state(meta["latent_mixture"]).sample(1437, generator=g)
        images = model.sample(1437, generator=g, pixels="sample", z=z)
        out.update(_image_figures(images, "codes from the fitted latent mixture, pixels drawn", "1,437"))
    return out


def _denoiser_figures(model, n: int, how: str, kw: dict) -> dict:
    """FD (and, conditional, class accuracy) of n samples of a diffusion or flow-matching model."""
    from course_lib import metrics
    labels = torch.arange(n) % 10 if model.num_classes else None
    images = model.sample(n, labels=labels, guidance=1.0, generator=_gen(), **kw)
    out = _image_figures(images, how + (", labels 0..9 in turn, guidance 1" if labels is not None else ""),
                         f"{n:,}")
    if labels is not None:
        acc = (metrics.classify_digits(images.cpu()) == labels).float().mean().item()
        out["class_accuracy"] = _rec(acc, "share of those samples the shipped classifier reads as the label asked for",
                                     abs_tol=2 / n)
    return out


@torch.no_grad()
def _diffusion(model, entry, meta: dict, kind: str) -> dict:
    if kind == "full":
        return _denoiser_figures(model, 1437, "DDPM, all 1,000 steps", dict(sampler="ddpm"))
    return _denoiser_figures(model, 400, "DDIM, 20 steps, eta 0", dict(sampler="ddim", steps=20))


@torch.no_grad()
def _flow(model, entry, meta: dict, kind: str) -> dict:
    if kind == "full":
        return _denoiser_figures(model, 1437, "Heun, 25 steps (49 network calls)", dict(steps=25, solver="heun"))
    return _denoiser_figures(model, 400, "Euler, 10 steps", dict(steps=10, solver="euler"))


@torch.no_grad()
def _gan(model, entry, meta: dict, kind: str) -> dict:
    return _image_figures(model.sample(1437, generator=_gen()), "generator, z ~ the model's latent", "1,437")


@torch.no_grad()
def _pixels(model, entry, meta: dict, kind: str) -> dict:
    from course_lib.recipes import pixels
    bpd = pixels.bits_per_dim(model, _digits("test").images)
    out = {"test_bits_per_dim": _rec(bpd, "exact -log2 p(image) / 64 on the 360 held-out digits, each pixel one of "
                                     "17 grey levels (the VAE's discretisation)")}
    n = 1437 if kind == "full" else 400
    images = pixels.sample(model, n, generator=_gen())
    return {**out, **_image_figures(images, "pixel by pixel, temperature 1", f"{n:,}")}


EVALUATORS: dict[str, Callable] = {"gpt": _gpt, "vae": _vae, "diffusion": _diffusion, "flow": _flow, "gan": _gan,
                                   "pixels": _pixels}


def evaluate_model(model, entry, meta: dict, kind: str = "check") -> dict:
    """The figures of `model` (built from `entry`, with its checkpoint `meta`) at evaluation `kind`."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    key = f"{entry.family}:{entry.dataset}"              # a family on a dataset of its own kind (gpt:molecules)
    if key not in EVALUATORS and entry.family not in EVALUATORS:
        raise KeyError(f"no evaluator for family {entry.family!r}; known: {sorted(EVALUATORS)}")
    model.eval()
    return EVALUATORS.get(key, EVALUATORS.get(entry.family))(model, entry, meta, kind)


def evaluate(name: str, kind: str = "check", device="cpu") -> dict:
    """Load a zoo model exactly as users do (SHA-256 checked, float16 -> float32) and evaluate it."""
    from .loading import checkpoint, load
    from .registry import info
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    return evaluate_model(load(name, device=device), info(name), checkpoint(name)["meta"], kind)
