"""The three formulas of a diffusion model, as pure functions: the forward jump q_sample, the DDPM reverse
step and the DDIM step (plus classifier-free guidance and DDIM's step indices). Each cites its equation."""
from __future__ import annotations

import math

import torch

from course_lib.models.diffusion.schedule import NoiseSchedule, _check_schedule


def _per_example(a: torch.Tensor, t: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """a[t] for a batch of step indices t (B,), shaped (B, 1, ...) to broadcast against `like`."""
    return a.to(like.device)[t].reshape(-1, *([1] * (like.dim() - 1)))


def q_sample(x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor, abar: torch.Tensor) -> torch.Tensor:
    """Jump straight to step t of the forward process: x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) noise.

    x0, noise: (B, ...) same shape; t: (B,) int64 in [0, T); abar: (T,). Returns x_t (B, ...).
    """
    if x0.shape != noise.shape:
        raise ValueError(f"x0 and noise must have the same shape, got {tuple(x0.shape)} and {tuple(noise.shape)}")
    if t.dim() != 1 or t.shape[0] != x0.shape[0] or t.dtype != torch.long:
        raise ValueError(f"t must be int64 of shape ({x0.shape[0]},), one step per example, "
                         f"got {t.dtype} {tuple(t.shape)}")
    if len(t) and (t.min() < 0 or t.max() >= len(abar)):
        raise ValueError(f"t must be in [0, {len(abar) - 1}], got {t.min().item()}..{t.max().item()}")
    a = _per_example(abar, t, x0)                                              # (B, 1, ...)
    return a.sqrt() * x0 + (1 - a).sqrt() * noise


def predict_x0(x_t: torch.Tensor, eps: torch.Tensor, abar_t: float, clip: float | None = None) -> torch.Tensor:
    """Invert q_sample with the predicted noise: x0_hat = (x_t - sqrt(1 - abar_t) eps) / sqrt(abar_t),
    clamped to [-clip, clip] when clip is given (images: the data's range)."""
    x0 = (x_t - math.sqrt(1 - abar_t) * eps) / math.sqrt(abar_t)
    return x0 if clip is None else x0.clamp(-clip, clip)


def _x0_from_eps(x_t, t: int, eps, s: NoiseSchedule, clip: float | None, x0=None) -> torch.Tensor:
    if x0 is None:
        x0 = (x_t - s.sqrt_one_minus_abar[t] * eps) / s.sqrt_abar[t]
    return x0 if clip is None else x0.clamp(-clip, clip)


def ddpm_step(x_t: torch.Tensor, t: int, eps: torch.Tensor, schedule: NoiseSchedule,
              noise: torch.Tensor | None = None, clip: float | None = None,
              x0: torch.Tensor | None = None) -> torch.Tensor:
    """One reverse step x_t -> x_{t-1} of DDPM: a draw from the Gaussian posterior q(x_{t-1} | x_t, x0_hat).

    1. x0_hat = (x_t - sqrt(1 - abar_t) eps) / sqrt(abar_t), clamped to [-clip, clip] if clip
    2. mean = sqrt(abar_{t-1}) beta_t / (1 - abar_t) x0_hat + sqrt(alpha_t) (1 - abar_{t-1}) / (1 - abar_t) x_t
       (Ho et al. 2020, eq. 7), which without clipping equals (x_t - beta_t / sqrt(1 - abar_t) eps) / sqrt(alpha_t)
    3. x_{t-1} = mean + sigma_t noise, sigma_t² = beta_t (1 - abar_{t-1}) / (1 - abar_t); at t = 0 just the mean.
    x_t, eps, noise: (B, ...); t: an int step index; schedule: the model's NoiseSchedule.
    x0: the network's own estimate of the clean data when it has one (v-prediction), used in step 1.
    """
    s = _check_schedule(schedule, "ddpm_step")
    T = len(s)
    if isinstance(t, bool) or not isinstance(t, int) or not 0 <= t < T:
        raise ValueError(f"t must be an int step in [0, {T - 1}], got {t!r}")
    x0 = _x0_from_eps(x_t, t, eps, s, clip, x0)
    mean = s.coef_x0[t] * x0 + s.coef_xt[t] * x_t
    if t == 0:
        return mean
    if noise is None:
        raise ValueError("ddpm_step needs noise (same shape as x_t) for every step t > 0")
    return mean + s.posterior_std[t] * noise


def ddim_step(x_t: torch.Tensor, t: int, t_prev: int, eps: torch.Tensor, schedule: NoiseSchedule,
              eta: float = 0.0, noise: torch.Tensor | None = None, clip: float | None = None,
              x0: torch.Tensor | None = None) -> torch.Tensor:
    """One DDIM step from step t to an earlier step t_prev (t_prev = -1: to the data, abar = 1).

    1. x0_hat = (x_t - sqrt(1 - abar_t) eps) / sqrt(abar_t)   (clamped if clip; eps is then recomputed from it)
    2. x_prev = sqrt(abar_prev) x0_hat + sqrt(1 - abar_prev - sigma²) eps + sigma noise   (Song et al. 2021, eq. 12)
       sigma = eta sqrt((1 - abar_prev) / (1 - abar_t) (1 - abar_t / abar_prev)) (eq. 16). eta = 0: deterministic;
       eta = 1 over all T steps: DDPM's posterior variance.
    schedule: the model's NoiseSchedule, as for ddpm_step; x0: the network's own estimate, as for ddpm_step.
    """
    s = _check_schedule(schedule, "ddim_step")
    T = len(s)
    if isinstance(t, bool) or not isinstance(t, int) or not 0 <= t < T:
        raise ValueError(f"t must be an int step in [0, {T - 1}], got {t!r}")
    if isinstance(t_prev, bool) or not isinstance(t_prev, int) or not -1 <= t_prev < t:
        raise ValueError(f"t_prev must be an int in [-1, t - 1] = [-1, {t - 1}], got {t_prev!r}")
    if eta < 0:
        raise ValueError(f"eta must be >= 0, got {eta}")
    x0 = _x0_from_eps(x_t, t, eps, s, clip, x0)
    if clip is not None:                          # the direction must point at the *clamped* x0_hat
        eps = (x_t - s.sqrt_abar[t] * x0) / s.sqrt_one_minus_abar[t]
    if t_prev < 0:                                # to the data: abar_prev = 1, no direction, no noise
        return x0
    sqrt_a_prev, sqrt_1m_prev = s.sqrt_abar[t_prev], s.sqrt_one_minus_abar[t_prev]
    if eta == 0:
        return sqrt_a_prev * x0 + sqrt_1m_prev * eps
    if noise is None:
        raise ValueError("ddim_step with eta > 0 needs noise (same shape as x_t)")
    a_t, a_prev = s.abar[t], s.abar[t_prev]
    sigma = eta * ((1 - a_prev) / (1 - a_t) * (1 - a_t / a_prev)).sqrt()
    return sqrt_a_prev * x0 + (1 - a_prev - sigma ** 2).clamp(min=0).sqrt() * eps + sigma * noise


def guided_eps(eps_label: torch.Tensor, eps_null: torch.Tensor, guidance: float) -> torch.Tensor:
    """Classifier-free guidance: eps_null + s (eps_label - eps_null). s = 0 unconditional, 1 conditional."""
    return eps_null + guidance * (eps_label - eps_null)


def ddim_timesteps(timesteps: int, steps: int) -> list[int]:
    """`steps` step indices from T-1 down to 0, evenly spaced (both ends included, so the first step
    starts from pure noise and the last one lands on the data)."""
    if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= timesteps:
        raise ValueError(f"steps must be an int in [1, {timesteps}] (the model has T = {timesteps}), got {steps!r}")
    if steps == 1:
        return [timesteps - 1]
    ts = torch.linspace(timesteps - 1, 0, steps, dtype=torch.float64).round().long().tolist()
    return list(dict.fromkeys(ts))                # rounding never repeats a step here, but be safe
