"""Editing images with a trained diffusion (or flow-matching) model: inpainting and SDEdit.

Neither needs retraining: each only changes where the reverse process starts or what it is told at every step.

- Inpainting ("generative fill", RePaint, Lugmayr et al. 2022). mask: 1 = keep the pixel, 0 = regenerate it.
  After every reverse step x_t -> x_prev, the known region is replaced by the known image noised to the
  same level, x_prev = m * q_sample(x_known, prev) + (1 - m) * x_prev, so the model only ever sees noisy
  images whose known part is right. The two parts are noised independently, so they disagree a little;
  RePaint's resampling repairs it: jump back one step by re-noising, x_t ~ q(x_t | x_prev), and denoise
  again, `resample` times at every step. Optionally (`consistency`) each x_t is also pulled along the
  gradient that makes the network's x0_hat agree with the known pixels. The output's known pixels are the
  input's exactly (a final composite in data units). With `candidates` k, k completions are made and the
  one the model itself finds most plausible (denoising_error, a likelihood stand-in) is kept.
- SDEdit (Meng et al. 2022): noise the input to strength s (s = 0: nothing, 1: pure noise), then run the
  rest of the reverse process. Small s keeps the input; large s gives realistic images unrelated to it.

Both families run through `reverse.reverse_process` (levels, noising, one step, one jump back).

    x = inpaint(model, x_known, mask, sampler="ddim", steps=50, eta=1.0, resample=5, consistency=1.0,
                candidates=4, generator=g)
    y = sdedit(model, sketch, strength=0.5, steps=50, generator=g)
"""
from __future__ import annotations

import functools

import torch

from course_lib.models.diffusion.flow import FlowMatching
from course_lib.models.diffusion.model import Diffusion
from course_lib.models.diffusion.reverse import reverse_process
from course_lib.models.inputs import check_batch, eval_mode, randn


def _editor(fn):
    """Check the model's type first (a clear TypeError), then run fn in eval mode without gradients."""
    inner = eval_mode(fn)

    @functools.wraps(fn)
    def wrapper(model, *args, **kwargs):
        if not isinstance(model, (Diffusion, FlowMatching)):
            raise TypeError(f"model must be a Diffusion or FlowMatching model, got {type(model).__name__}")
        return inner(model, *args, **kwargs)
    return wrapper


def _pull_to_known(proc, x, t, labels, guidance, m, x0_known, weight: float):
    """The prediction at x_t and a step that pulls x_t towards agreeing with the known pixels: weight times the
    gradient of ||m * (x0_hat(x_t) - x0_known)|| (per image; the norm, not its square, so the step's size does
    not shrink as the fit improves: DPS, Chung et al. 2023). Replacement alone never tells the masked region
    what the known one looks like except through the noisy x_t; this gradient does, through the network."""
    with torch.enable_grad():
        xg = x.detach().requires_grad_(True)
        out, x0 = proc.predict(xg, t, labels, guidance)
        residual = (m * (x0 - x0_known)).flatten(1).norm(dim=1)                   # (N,)
        grad, = torch.autograd.grad(residual.sum(), xg)                            # (N, C, H, W)
    return (out.detach(), x0.detach()), weight * grad


def _check_images(model, x, what: str) -> torch.Tensor:
    if not model.images:
        raise ValueError(f"editing works on image models (data_shape (C, H, W)); this model has data_shape "
                         f"{tuple(model.data_shape)}")
    return check_batch(x, model.data_shape, what)


# ----------------------------------------------------------------------------- inpainting

def check_mask(mask, x_known: torch.Tensor) -> torch.Tensor:
    """The mask as a float tensor broadcast to x_known's shape (N, C, H, W), 1 = keep, 0 = regenerate.

    Accepted shapes: (H, W), or 4-D with 1 or N images and 1 or C channels. Values must be exactly 0 or 1
    (bool or numbers), and every image must have at least one pixel to regenerate."""
    n, c, h, w = x_known.shape
    if not isinstance(mask, torch.Tensor):
        raise TypeError(f"mask must be a torch.Tensor (1 = keep, 0 = regenerate), got {type(mask).__name__}")
    shape = tuple(mask.shape)
    ok = shape == (h, w) or (len(shape) == 4 and shape[0] in (1, n) and shape[1] in (1, c) and shape[2:] == (h, w))
    if not ok:
        raise ValueError(f"mask must have shape ({h}, {w}) or ({n} or 1, {c} or 1, {h}, {w}) to match x_known "
                         f"{tuple(x_known.shape)}, got {shape}")
    m = mask.to(x_known.device, torch.float32)
    if not ((m == 0) | (m == 1)).all():
        bad = m[(m != 0) & (m != 1)][0].item()
        raise ValueError(f"mask must be binary (1 = keep, 0 = regenerate), got a value {bad:g}")
    m = m.expand(n, c, h, w)                                                  # (H, W) or (1|N, 1|C, H, W)
    kept = m.flatten(1).min(dim=1).values                                     # (N,) 1 where nothing is masked
    if (kept == 1).any():
        i = int((kept == 1).nonzero()[0])
        raise ValueError(f"mask has no pixels to regenerate (no 0) for image {i}: nothing to inpaint")
    return m.contiguous()


def half_mask(shape, keep: str = "top") -> torch.Tensor:
    """A (1, 1, H, W) mask keeping one half of the image: keep in "top", "bottom", "left", "right"."""
    h, w = shape[-2:]
    m = torch.zeros(1, 1, h, w)
    halves = {"top": (slice(0, h // 2), slice(None)), "bottom": (slice(h - h // 2, h), slice(None)),
              "left": (slice(None), slice(0, w // 2)), "right": (slice(None), slice(w - w // 2, w))}
    if keep not in halves:
        raise ValueError(f"keep must be one of {tuple(halves)}, got {keep!r}")
    m[(0, 0, *halves[keep])] = 1.0
    return m


@_editor
def inpaint(model, x_known: torch.Tensor, mask: torch.Tensor, *, sampler: str | None = None,
            steps: int | None = None, eta: float = 1.0, resample: int = 1, labels=None, guidance: float = 1.0,
            consistency: float = 0.0, candidates: int = 1, generator: torch.Generator | None = None,
            return_trajectory: bool = False):
    """Fill the masked pixels of x_known (N, C, H, W) in [0, 1]; mask 1 = keep, 0 = regenerate (check_mask).

    sampler: "ddpm" (default for Diffusion: all T steps) or "ddim" (`steps` steps, eta 1 = DDPM-like noise;
    eta 0 leaves nothing for resampling to mix); a FlowMatching model uses Euler steps ("euler", 25).
    resample r >= 1: RePaint's resampling, every step denoised r times (r - 1 jumps back by re-noising),
    r times the network calls. consistency w >= 0: also pull every x_t towards a prediction that agrees with
    the known pixels (_pull_to_known; a backward pass per step, about 3x the cost).
    candidates k >= 1: make k completions of every image and keep the one the model finds most plausible
    (lowest denoising_error; k times the cost; no trajectory then).
    Returns (N, C, H, W) in [0, 1] whose known pixels equal x_known's exactly;
    with return_trajectory also the states before every step (levels + 1, N, C, H, W), data units.
    """
    x_known = _check_images(model, x_known, "x_known")
    m = check_mask(mask, x_known)
    if isinstance(resample, bool) or not isinstance(resample, int) or resample < 1:
        raise ValueError(f"resample must be an int >= 1 (1 = no resampling), got {resample!r}")
    if isinstance(consistency, bool) or not isinstance(consistency, (int, float)) or not consistency >= 0:
        raise ValueError(f"consistency must be a number >= 0 (0 = off), got {consistency!r}")
    if isinstance(candidates, bool) or not isinstance(candidates, int) or candidates < 1:
        raise ValueError(f"candidates must be an int >= 1, got {candidates!r}")
    if candidates > 1:
        if return_trajectory:
            raise ValueError("return_trajectory works with candidates=1 only")
        return _best_of(model, x_known, m, candidates, labels, guidance, generator, sampler=sampler, steps=steps,
                        eta=eta, resample=resample, consistency=consistency)
    proc = reverse_process(model, sampler, steps, eta)
    n, dev = x_known.shape[0], model._device()
    labels = model.sampling_labels(labels, n, guidance)
    x0 = model.to_model(x_known.to(dev))                                           # (N, C, H, W) in [-1, 1]
    m = m.to(dev)
    noise = lambda: randn(x0.shape, generator=generator, device=dev)              # (N, C, H, W)
    levels = proc.grid(1.0)
    x = m * proc.noised(x0, levels[0], noise()) + (1 - m) * noise()
    states = [x] if return_trajectory else None
    for t, t_prev in zip(levels[:-1], levels[1:]):
        for r in range(resample):
            if consistency:
                predicted, pull = _pull_to_known(proc, x, t, labels, guidance, m, x0, consistency)
                x_prev = proc.step(x, t, t_prev, labels, guidance, noise(), predicted) - pull
            else:
                x_prev = proc.step(x, t, t_prev, labels, guidance, noise())
            x_prev = m * proc.noised(x0, t_prev, noise()) + (1 - m) * x_prev       # known part at level t_prev
            if r + 1 < resample:
                x = proc.renoise(x_prev, t_prev, t, noise())                       # jump back and redo the step
        x = x_prev
        if return_trajectory:
            states.append(x)
    out = m * x_known.to(dev) + (1 - m) * model.from_model(x)                      # known pixels exactly
    if return_trajectory:
        return out, torch.stack([model.from_model(s, clamp=False) for s in states])
    return out


PLAUSIBILITY_LEVELS = (0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6)    # as fractions of the noise range


@_editor
def denoising_error(model, x: torch.Tensor, *, labels=None, guidance: float = 1.0, draws: int = 2,
                    generator: torch.Generator | None = None) -> torch.Tensor:
    """How implausible the model finds each image x (N, C, H, W) in [0, 1]: lower is more plausible, (N,).

    sum over a few noise levels and `draws` noises of SNR(level) ||x0_hat(x_level) - x0||²: the weighting
    of the diffusion loss that makes it a bound on -log p(x) (up to constants and the level spacing), so a
    Monte-Carlo stand-in for a likelihood. Used to rank candidate completions; seeded by `generator`."""
    x = _check_images(model, x, "x")
    proc, dev = reverse_process(model), model._device()
    labels = model.sampling_labels(labels, x.shape[0], guidance)
    x0 = model.to_model(x.to(dev))
    levels = [round(f * (model.timesteps - 1)) for f in PLAUSIBILITY_LEVELS] if isinstance(model, Diffusion) \
        else list(PLAUSIBILITY_LEVELS)
    error = torch.zeros(x.shape[0], device=dev)
    for level in levels:
        for _ in range(draws):
            x_t = proc.noised(x0, level, randn(x0.shape, generator=generator, device=dev))
            _, x0_hat = proc.predict(x_t, level, labels, guidance)
            error += proc.snr(level) * ((x0_hat - x0) ** 2).flatten(1).sum(1)
    return error


def _best_of(model, x_known, m, k: int, labels, guidance, generator, **opts) -> torch.Tensor:
    """k completions of every image (one batch of k N), and per image the lowest denoising_error."""
    n = x_known.shape[0]
    reps = None if labels is None else labels.repeat(k)
    outs = inpaint(model, x_known.repeat(k, 1, 1, 1), m.repeat(k, 1, 1, 1), labels=reps, guidance=guidance,
                   generator=generator, **opts)                                   # (k N, C, H, W)
    error = denoising_error(model, outs, labels=reps, guidance=guidance, generator=generator).view(k, n)
    return outs.view(k, n, *outs.shape[1:])[error.argmin(0), torch.arange(n)]    # (N, C, H, W)


# ----------------------------------------------------------------------------- SDEdit

@_editor
def sdedit(model, x: torch.Tensor, strength: float, *, sampler: str | None = None, steps: int | None = None,
           eta: float = 0.0, labels=None, guidance: float = 1.0,
           generator: torch.Generator | None = None) -> torch.Tensor:
    """Image-to-image: noise x (N, C, H, W) in [0, 1] to `strength` s in [0, 1], then denoise.

    s = 0 returns x unchanged; s = 1 starts from pure noise (plain sampling: with the same generator it is
    model.sample's chain). Diffusion defaults to DDIM with `steps` = 50 for the whole chain (about s * steps
    are run) and eta = 0; "ddpm" runs every step below s T. FlowMatching: Euler, 25 steps for the whole path.
    """
    x = _check_images(model, x, "x")
    if isinstance(strength, bool) or not isinstance(strength, (int, float)) or not 0 <= strength <= 1:
        raise ValueError(f"strength must be a number in [0, 1] (0 = keep the input, 1 = pure sampling), "
                         f"got {strength!r}")
    if isinstance(model, Diffusion) and sampler is None:
        sampler = "ddim"
    proc = reverse_process(model, sampler, steps, eta)
    if strength == 0:
        return x.clone()
    n, dev = x.shape[0], model._device()
    labels = model.sampling_labels(labels, n, guidance)
    levels = proc.grid(float(strength))
    z = randn(x.shape, generator=generator, device=dev)                            # (N, C, H, W)
    h = z if strength == 1 else proc.noised(model.to_model(x.to(dev)), levels[0], z)
    for t, t_prev in zip(levels[:-1], levels[1:]):
        noise = randn(x.shape, generator=generator, device=dev) if proc.needs_noise else None
        h = proc.step(h, t, t_prev, labels, guidance, noise)
    return model.from_model(h)
