"""Mode coverage for 2-D toy data (ring8, grid25): does a generator hit every mode, and hit it cleanly?

Definition from the Unrolled GAN / VEEGAN / PacGAN experiments on Gaussian mixtures:
- a sample is *high quality* when it lies within n_std standard deviations (default 3) of its nearest
  mode centre;
- a mode is *covered* when enough high-quality samples land on it (see `min_count` below).
A collapsed GAN scores few covered modes; a blurry model scores a low high-quality fraction.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch


@dataclass
class ModeCoverage:
    """Result of mode_coverage. counts[k] = number of high-quality samples whose nearest mode is k."""

    covered: int  # modes with at least min_count high-quality samples
    total: int  # number of modes K
    high_quality_fraction: float  # share of all samples within n_std * std of their nearest mode
    counts: torch.Tensor  # (K,) int64
    min_count: int  # the threshold that was used

    def __str__(self) -> str:
        return (f"{self.covered}/{self.total} modes covered (>= {self.min_count} samples each), "
                f"{100 * self.high_quality_fraction:.1f}% high-quality samples")


def _as_points(x, what: str) -> torch.Tensor:
    x = torch.as_tensor(x).detach().to("cpu", torch.float64)
    if x.dim() != 2 or x.shape[1] != 2:
        raise ValueError(f"{what} must have shape (N, 2), got {tuple(x.shape)}")
    if x.shape[0] == 0:
        raise ValueError(f"{what} is empty: need at least one point, got shape {tuple(x.shape)}")
    if not torch.isfinite(x).all():
        raise ValueError(f"{what} contains NaN or inf")
    return x


def mode_coverage(samples, modes, std: float, n_std: float = 3.0, min_count: int | None = None) -> ModeCoverage:
    """Count covered modes and the fraction of high-quality samples.

    samples: (N, 2) generated points; modes: (K, 2) mode centres; std: the modes' standard deviation
    (Toy2D.std). min_count: high-quality samples a mode needs to count as covered. Default:
    max(1, round(0.2 * N / K)), a fifth of the N/K samples a perfect model puts on each mode
    (20 of 2,500 samples on 25 modes, the threshold PacGAN uses on its 2-D grid). Why not 1, as some
    papers use: with thousands of samples one stray point would "cover" a mode the model has all but
    dropped; a fixed fraction of the fair share keeps the verdict the same whatever N is.
    """
    samples, modes = _as_points(samples, "samples"), _as_points(modes, "modes")
    if not (isinstance(std, (int, float)) and math.isfinite(std) and std > 0):
        raise ValueError(f"std must be a positive number, got {std!r}")
    if not (isinstance(n_std, (int, float)) and n_std > 0):
        raise ValueError(f"n_std must be a positive number, got {n_std!r}")
    n, k = samples.shape[0], modes.shape[0]
    if min_count is None:
        min_count = max(1, round(0.2 * n / k))
    if isinstance(min_count, bool) or not isinstance(min_count, int) or min_count < 1:
        raise ValueError(f"min_count must be a positive int, got {min_count!r}")

    dist = torch.cdist(samples, modes)  # (N, K) Euclidean distances
    nearest_dist, nearest = dist.min(dim=1)  # (N,), (N,)
    good = nearest_dist <= n_std * std  # (N,) bool
    counts = torch.bincount(nearest[good], minlength=k)  # (K,)
    return ModeCoverage(covered=int((counts >= min_count).sum()), total=k,
                        high_quality_fraction=float(good.double().mean()), counts=counts,
                        min_count=min_count)
