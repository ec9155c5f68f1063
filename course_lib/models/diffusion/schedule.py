"""Noise schedules: the betas of T forward steps and every coefficient the samplers derive from them."""
from __future__ import annotations

import math

import torch
import torch.nn as nn

SCHEDULES = ("linear", "cosine")


def _check_timesteps(timesteps) -> int:
    if isinstance(timesteps, bool) or not isinstance(timesteps, int) or timesteps < 2:
        raise ValueError(f"timesteps must be an int >= 2, got {timesteps!r}")
    return timesteps


def linear_betas(timesteps: int, beta_start: float = 1e-4, beta_end: float = 0.02) -> torch.Tensor:
    """DDPM's schedule: beta rises linearly from 1e-4 to 0.02 over 1,000 steps; (T,) float32.

    For other T the end points are scaled by 1000 / T (Nichol & Dhariwal 2021), so abar_T stays near 0.
    """
    T = _check_timesteps(timesteps)
    scale = 1000.0 / T
    return torch.linspace(beta_start * scale, min(beta_end * scale, 0.999), T, dtype=torch.float64).float()


def cosine_betas(timesteps: int, s: float = 0.008) -> torch.Tensor:
    """Nichol & Dhariwal's cosine schedule: abar(t) = cos²(((t/T + s) / (1 + s)) π/2) / abar(0); (T,) float32.

    Noise is added more gently at the start than with the linear schedule; betas are capped at 0.999.
    """
    T = _check_timesteps(timesteps)
    u = torch.arange(T + 1, dtype=torch.float64) / T                          # (T+1,) 0 .. 1
    f = torch.cos((u + s) / (1 + s) * math.pi / 2) ** 2
    abar = f / f[0]                                                            # abar[0] = 1 (clean data)
    return (1 - abar[1:] / abar[:-1]).clamp(max=0.999).float()                 # beta_t = 1 - abar_t / abar_{t-1}


def make_betas(kind: str, timesteps: int) -> torch.Tensor:
    """The (T,) betas of a named schedule: "linear" or "cosine"."""
    if kind not in SCHEDULES:
        raise ValueError(f"schedule must be one of {SCHEDULES}, got {kind!r}")
    return linear_betas(timesteps) if kind == "linear" else cosine_betas(timesteps)


def alpha_bars(betas: torch.Tensor) -> torch.Tensor:
    """abar_t = prod_{s<=t} (1 - beta_s): the share of the signal's variance left at step t; (T,)."""
    return torch.cumprod(1 - betas.double(), dim=0).float()


def snr(abar: torch.Tensor) -> torch.Tensor:
    """Signal-to-noise ratio abar_t / (1 - abar_t) of x_t; plotted in log scale it compares schedules."""
    return abar / (1 - abar)


class NoiseSchedule(nn.Module):
    """A T-step schedule and every per-step coefficient the samplers use, computed once in float64 (1 - abar_t
    is tiny for small t and abar_t tiny for large t) and kept as float32 buffers: `.to(device)` moves them
    with the model; they are not saved (rebuilt from the betas). Both reverse steps take this one object.

        schedule = NoiseSchedule(cosine_betas(1000))
        x_prev = ddpm_step(x_t, t, eps, schedule, noise=z)
        x_prev = ddim_step(x_t, t, t_prev, eps, schedule)
    """

    def __init__(self, betas: torch.Tensor):
        super().__init__()
        b = torch.as_tensor(betas).detach().cpu().double()                       # (T,)
        if b.dim() != 1 or len(b) < 2 or not ((b > 0) & (b < 1)).all():
            raise ValueError(f"betas must be a 1-D tensor of at least 2 values in (0, 1), got {tuple(b.shape)}")
        abar = torch.cumprod(1 - b, dim=0)                                       # (T,) abar_t
        abar_prev = torch.cat([b.new_ones(1), abar[:-1]])                        # (T,) abar_{t-1}, 1 before step 0
        coefficients = {
            "betas": b, "abar": abar, "abar_prev": abar_prev,
            "sqrt_abar": abar.sqrt(), "sqrt_one_minus_abar": (1 - abar).sqrt(),  # x_t = sqrt_abar x0 + ... eps
            # DDPM posterior q(x_{t-1} | x_t, x_0) (Ho et al. 2020, eq. 7): mean = coef_x0 x_0 + coef_xt x_t
            "coef_x0": abar_prev.sqrt() * b / (1 - abar),
            "coef_xt": (1 - b).sqrt() * (1 - abar_prev) / (1 - abar),
            "posterior_std": (b * (1 - abar_prev) / (1 - abar)).sqrt(),
        }
        for name, value in coefficients.items():
            self.register_buffer(name, value.float(), persistent=False)

    def __len__(self) -> int:
        return len(self.betas)


def _check_schedule(schedule, who: str) -> NoiseSchedule:
    if not isinstance(schedule, NoiseSchedule):
        raise TypeError(f"{who} takes a NoiseSchedule (e.g. NoiseSchedule(linear_betas(T)) or model.noise_schedule), "
                        f"got {type(schedule).__name__}: a bare tensor could be betas or abar")
    return schedule
