"""The reverse processes that editing drives, behind one small interface, so inpainting and SDEdit are
written once for both families:

    grid(strength)            levels from noisy to clean (strength < 1 starts part-way)
    noised(x0, level, noise)  the clean data at a level (the forward process)
    predict(x, level, ...)    the network's output and its estimate x0_hat of the clean data
    step(x, level, next, ...) one reverse step
    renoise(x, level, up, ..) one forward jump back up (RePaint's resampling)

Diffusion's levels are step indices t (T-1 = noisiest, -1 = the data); flow matching's are times in [0, 1].
"""
from __future__ import annotations

import math

import torch

from course_lib.models.diffusion.flow import FlowMatching
from course_lib.models.diffusion.model import SAMPLERS, Diffusion
from course_lib.models.diffusion.steps import ddim_step, ddim_timesteps, ddpm_step


class DiffusionProcess:
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

    def snr(self, t: int) -> float:
        """Signal-to-noise ratio abar_t / (1 - abar_t) of level t."""
        a = self.s.abar[t].item()
        return a / (1 - a)

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


class FlowProcess:
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

    def snr(self, t: float) -> float:
        """Signal-to-noise ratio ((1 - t) / t)² of x_t = (1 - t) x0 + t z."""
        return ((1 - t) / t) ** 2

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


def reverse_process(model, sampler: str | None = None, steps: int | None = None, eta: float = 0.0):
    """The model's reverse process: DiffusionProcess (sampler "ddpm" by default, or "ddim") or FlowProcess
    (Euler steps) for a FlowMatching model."""
    if isinstance(model, Diffusion):
        return DiffusionProcess(model, "ddpm" if sampler is None else sampler, steps, eta)
    if isinstance(model, FlowMatching):
        return FlowProcess(model, "euler" if sampler is None else sampler, steps, eta)
    raise TypeError(f"model must be a Diffusion or FlowMatching model, got {type(model).__name__}")
