"""Editing images with a trained diffusion (or flow-matching) model: inpainting, SDEdit, noise interpolation.

None of these needs retraining: each one only changes where the reverse process starts or what it is
told at every step.

- Inpainting ("generative fill", RePaint, Lugmayr et al. 2022). mask: 1 = keep the pixel, 0 = regenerate it.
  After every reverse step x_t -> x_prev, the known region is replaced by the known image noised to the
  same level, x_prev = m * q_sample(x_known, prev) + (1 - m) * x_prev, so the model only ever sees noisy
  images whose known part is right. The two parts are noised independently, so they disagree a little;
  RePaint's resampling repairs it: jump back one step by re-noising, x_t ~ q(x_t | x_prev), and denoise
  again, `resample` times at every step. The output's known pixels are the input's exactly (a final
  composite in data units).
- SDEdit (Meng et al. 2022): noise the input to strength s (s = 0: nothing, 1: pure noise), then run the
  rest of the reverse process. Small s keeps the input; large s gives realistic images unrelated to it.
- Interpolation: slerp between two start noises (Gaussian noise lives on a shell of radius ~sqrt(D), which
  a straight line would leave), decoded by the deterministic DDIM chain (eta = 0) or the flow's ODE.

Both model families are driven through one small interface (`_process`): a grid of noise levels from noisy
to clean, the known image at a level, one reverse step, and one forward re-noising jump.

    x = inpaint(model, x_known, mask, sampler="ddim", steps=100, eta=1.0, resample=5, generator=g)
    y = sdedit(model, sketch, strength=0.5, steps=50, generator=g)
    frames = interpolate(model, z0, z1, frames=16)           # (16, C, H, W)
"""
from __future__ import annotations

import functools
import math

import torch

from course_lib.models.diffusion.flow import FlowMatching
from course_lib.models.diffusion.model import SAMPLERS, Diffusion
from course_lib.models.diffusion.steps import ddim_step, ddim_timesteps, ddpm_step
from course_lib.models.inputs import check_batch, eval_mode, randn


# ----------------------------------------------------------------------------- the two reverse processes

class _DiffusionProcess:
    """Levels are step indices t (T-1 = noisiest); -1 stands for the clean data (abar = 1)."""

    def __init__(self, model: Diffusion, sampler: str, steps: int | None, eta: float):
        if sampler not in SAMPLERS:
            raise ValueError(f"sampler must be one of {SAMPLERS}, got {sampler!r}")
        if sampler == "ddpm" and steps not in (None, model.timesteps):
            raise ValueError(f"the DDPM sampler runs all T = {model.timesteps} steps, got steps={steps!r}; "
                             "use sampler='ddim' for fewer steps")
        if not eta >= 0:
            raise ValueError(f"eta must be >= 0, got {eta!r}")
        self.model, self.sampler, self.eta = model, sampler, eta
        self.needs_noise = sampler == "ddpm" or eta > 0                           # fresh noise at every step
        self.steps = model.timesteps if sampler == "ddpm" else (50 if steps is None else steps)
        self.s = model.noise_schedule

    def grid(self, strength: float = 1.0) -> list[int]:
        """Levels from noisy to clean, ending at -1. strength s < 1 starts at step ceil(s T) - 1 and keeps
        the same spacing as the full chain (about s * steps steps)."""
        T = self.model.timesteps
        start = max(math.ceil(strength * T) - 1, 0)
        if self.sampler == "ddpm":
            return list(range(start, -1, -1)) + [-1]
        n = min(max(1, round(strength * self.steps)), start + 1)
        return ddim_timesteps(start + 1, n) + [-1]

    def _abar(self, t: int) -> torch.Tensor:
        return self.s.abar.new_tensor(1.0) if t < 0 else self.s.abar[t]

    def noised(self, x0: torch.Tensor, t: int, noise: torch.Tensor) -> torch.Tensor:
        """q(x_t | x0): sqrt(abar_t) x0 + sqrt(1 - abar_t) noise (x0 itself at t = -1)."""
        a = self._abar(t)
        return x0 if t < 0 else a.sqrt() * x0 + (1 - a).sqrt() * noise

    def predict(self, x, t: int, labels, guidance: float) -> tuple[torch.Tensor, torch.Tensor]:
        """(eps, x0_hat) at step t, x0_hat unclamped (x0_hat = (x_t - sqrt(1 - abar_t) eps) / sqrt(abar_t))."""
        eps, x0 = self.model.predict(x, t, labels, guidance)
        return eps, (x - self.s.sqrt_one_minus_abar[t] * eps) / self.s.sqrt_abar[t] if x0 is None else x0

    def step(self, x, t: int, t_prev: int, labels, guidance: float, noise, predicted=None) -> torch.Tensor:
        """One reverse step x_t -> x_{t_prev} (DDPM ancestral, or DDIM with eta); `predicted`: predict()'s
        (eps, x0_hat) when the caller already has them."""
        eps, x0 = predicted or self.predict(x, t, labels, guidance)
        if self.sampler == "ddpm":
            return ddpm_step(x, t, eps, self.s, noise=noise if t > 0 else None, clip=self.model.clip, x0=x0)
        return ddim_step(x, t, t_prev, eps, self.s, eta=self.eta, noise=noise if self.eta > 0 else None,
                         clip=self.model.clip, x0=x0)

    def renoise(self, x_prev, t_prev: int, t: int, noise) -> torch.Tensor:
        """Forward jump q(x_t | x_{t_prev}) = N(sqrt(a) x_prev, (1 - a) I), a = abar_t / abar_{t_prev}."""
        a = self._abar(t) / self._abar(t_prev)
        return a.sqrt() * x_prev + (1 - a).sqrt() * noise


class _FlowProcess:
    """Levels are times t in [0, 1] (1 = noise, 0 = data) on the straight path x_t = (1 - t) x0 + t z;
    reverse steps are Euler steps of dx/dt = v."""

    def __init__(self, model: FlowMatching, sampler: str, steps: int | None, eta: float):
        if sampler != "euler":
            raise ValueError(f"a flow-matching model edits with sampler='euler', got {sampler!r}")
        self.model, self.steps, self.needs_noise = model, 25 if steps is None else steps, False
        if isinstance(self.steps, bool) or not isinstance(self.steps, int) or self.steps < 1:
            raise ValueError(f"steps must be a positive int, got {steps!r}")

    def grid(self, strength: float = 1.0) -> list[float]:
        n = max(1, round(strength * self.steps))
        return torch.linspace(float(strength), 0.0, n + 1).tolist()

    def noised(self, x0, t: float, noise) -> torch.Tensor:
        return (1 - t) * x0 + t * noise

    def predict(self, x, t: float, labels, guidance: float) -> tuple[torch.Tensor, torch.Tensor]:
        """(v, x0_hat): following the velocity to t = 0 in one step, x0_hat = x_t - t v."""
        v = self.model.velocity(x, t, labels, guidance)
        return v, x - t * v

    def step(self, x, t: float, t_prev: float, labels, guidance: float, noise, predicted=None) -> torch.Tensor:
        v, _ = predicted or self.predict(x, t, labels, guidance)
        return x + (t_prev - t) * v

    def renoise(self, x_prev, t_prev: float, t: float, noise) -> torch.Tensor:
        """From time t_prev back up to t > t_prev: c x_prev + sqrt(t² - c² t_prev²) noise, c = (1-t)/(1-t_prev),
        which has the straight path's marginal at t."""
        c = (1 - t) / (1 - t_prev)
        return c * x_prev + math.sqrt(max(t * t - (c * t_prev) ** 2, 0.0)) * noise


def _process(model, sampler, steps, eta):
    if isinstance(model, Diffusion):
        return _DiffusionProcess(model, "ddpm" if sampler is None else sampler, steps, eta)
    return _FlowProcess(model, "euler" if sampler is None else sampler, steps, eta)


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
            consistency: float = 0.0, generator: torch.Generator | None = None,
            return_trajectory: bool = False):
    """Fill the masked pixels of x_known (N, C, H, W) in [0, 1]; mask 1 = keep, 0 = regenerate (check_mask).

    sampler: "ddpm" (default for Diffusion: all T steps) or "ddim" (`steps` steps, eta 1 = DDPM-like noise;
    eta 0 leaves nothing for resampling to mix); a FlowMatching model uses Euler steps ("euler", 25).
    resample r >= 1: RePaint's resampling, every step denoised r times (r - 1 jumps back by re-noising),
    r times the network calls. consistency w >= 0: also pull every x_t towards a prediction that agrees with
    the known pixels (_pull_to_known; a backward pass per step, about 3x the cost). Returns (N, C, H, W) in [0, 1] whose known pixels equal x_known's exactly;
    with return_trajectory also the states before every step (levels + 1, N, C, H, W), data units.
    """
    x_known = _check_images(model, x_known, "x_known")
    m = check_mask(mask, x_known)
    if isinstance(resample, bool) or not isinstance(resample, int) or resample < 1:
        raise ValueError(f"resample must be an int >= 1 (1 = no resampling), got {resample!r}")
    if isinstance(consistency, bool) or not isinstance(consistency, (int, float)) or not consistency >= 0:
        raise ValueError(f"consistency must be a number >= 0 (0 = off), got {consistency!r}")
    proc = _process(model, sampler, steps, eta)
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
    proc = _process(model, sampler, steps, eta)
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


# ----------------------------------------------------------------------------- interpolation

def slerp(z0: torch.Tensor, z1: torch.Tensor, alpha) -> torch.Tensor:
    """Spherical interpolation between two noises of the same shape (...), for each alpha in [0, 1]:
    sin((1 - a) w) / sin w z0 + sin(a w) / sin w z1, w the angle between them (flattened). Returns
    (len(alpha), ...) for a sequence of alphas, or (...) for one. Nearly parallel noises fall back to lerp."""
    if z0.shape != z1.shape:
        raise ValueError(f"z0 and z1 must have the same shape, got {tuple(z0.shape)} and {tuple(z1.shape)}")
    a = torch.as_tensor(alpha, dtype=z0.dtype, device=z0.device)
    single = a.dim() == 0
    a = a.reshape(-1, *([1] * z0.dim()))                                           # (A, 1, ...)
    cos = (z0.flatten() @ z1.flatten()) / (z0.norm() * z1.norm())
    w = torch.arccos(cos.clamp(-1, 1))
    if w.abs() < 1e-4:
        out = (1 - a) * z0 + a * z1
    else:
        out = (torch.sin((1 - a) * w) * z0 + torch.sin(a * w) * z1) / torch.sin(w)
    return out[0] if single else out


@_editor
def interpolate(model, z0: torch.Tensor, z1: torch.Tensor, frames: int = 16, *, steps: int | None = None,
                labels=None, guidance: float = 1.0) -> torch.Tensor:
    """Decode `frames` slerps between start noises z0 and z1 (each (C, H, W), model space) deterministically
    (Diffusion: DDIM, eta 0, `steps` = 50; FlowMatching: Euler, 25). Returns (frames, C, H, W) in [0, 1];
    the first frame is model.sample(1, ..., x_T=z0)'s and the last z1's."""
    if isinstance(frames, bool) or not isinstance(frames, int) or frames < 2:
        raise ValueError(f"frames must be an int >= 2, got {frames!r}")
    for name, z in (("z0", z0), ("z1", z1)):
        if not isinstance(z, torch.Tensor) or tuple(z.shape) != tuple(model.data_shape):
            raise ValueError(f"{name} must be one noise of shape {tuple(model.data_shape)}, got "
                             f"{tuple(z.shape) if isinstance(z, torch.Tensor) else type(z).__name__}")
    x_T = slerp(z0, z1, torch.linspace(0, 1, frames))                              # (frames, C, H, W)
    if labels is not None and labels.dim() == 0:
        labels = labels.expand(frames)
    if isinstance(model, Diffusion):
        return model.sample(frames, sampler="ddim", steps=steps or 50, eta=0.0, labels=labels,
                            guidance=guidance, x_T=x_T)
    return model.sample(frames, steps=steps or 25, labels=labels, guidance=guidance, x_T=x_T)
