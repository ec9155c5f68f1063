"""Toy 2-D datasets: small enough to train in seconds, easy to look at, and with known answers.

The Gaussian mixtures (ring8, grid25) return their true mode centres and std, so a sampler's mode
coverage (did the GAN find all 25 modes?) can be measured exactly, not guessed from a plot.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from .registry import DatasetInfo, check_split, register


@dataclass
class Toy2D:
    """n points in the plane; for mixtures also the true centres and the per-mode std."""

    x: torch.Tensor  # (n, 2) float32
    modes: torch.Tensor | None  # (K, 2) float32, or None when the data has no discrete modes
    std: float | None
    name: str

    def __len__(self) -> int:
        return self.x.shape[0]

    def __repr__(self) -> str:
        k = None if self.modes is None else self.modes.shape[0]
        return f"Toy2D(name={self.name!r}, x={tuple(self.x.shape)}, modes={k}, std={self.std})"


def _check(name: str, n, seed, split) -> torch.Generator:
    """Validate the common arguments; train and test draw from different streams of the same seed."""
    check_split(name, split, ("train", "test"))
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"n must be a positive int (number of points), got {n!r}")
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    return torch.Generator().manual_seed(2 * seed + (split == "test"))


def gaussian_mixture(modes: torch.Tensor, std: float, n: int, generator: torch.Generator) -> torch.Tensor:
    """n points from an equal-weight mixture of isotropic Gaussians at `modes` (K, 2)."""
    which = torch.randint(len(modes), (n,), generator=generator)  # (n,) mode index per point
    noise = torch.randn(n, 2, generator=generator) * std  # (n, 2)
    return modes[which] + noise  # (n, 2)


def ring8_modes(radius: float = 2.0) -> torch.Tensor:
    angles = torch.arange(8, dtype=torch.float64) * (2 * math.pi / 8)
    return torch.stack([radius * torch.cos(angles), radius * torch.sin(angles)], dim=1).float()  # (8, 2)


def grid25_modes() -> torch.Tensor:
    ticks = torch.tensor([-4.0, -2.0, 0.0, 2.0, 4.0])
    gx, gy = torch.meshgrid(ticks, ticks, indexing="ij")
    return torch.stack([gx.flatten(), gy.flatten()], dim=1)  # (25, 2)


def load_ring8(split: str = "train", n: int = 1000, seed: int = 0) -> Toy2D:
    """8 Gaussians (std 0.02) evenly spaced on a circle of radius 2: the classic mode-collapse test."""
    g = _check("ring8", n, seed, split)
    modes, std = ring8_modes(), 0.02
    return Toy2D(gaussian_mixture(modes, std, n, g), modes, std, "ring8")


def load_grid25(split: str = "train", n: int = 1000, seed: int = 0) -> Toy2D:
    """25 Gaussians (std 0.05) on a 5x5 grid at -4, -2, 0, 2, 4."""
    g = _check("grid25", n, seed, split)
    modes, std = grid25_modes(), 0.05
    return Toy2D(gaussian_mixture(modes, std, n, g), modes, std, "grid25")


def load_swiss_roll(split: str = "train", n: int = 1000, seed: int = 0, noise: float = 0.05) -> Toy2D:
    """A 2-D spiral (sklearn's swiss roll seen from the side), scaled to about [-2.5, 2.8]."""
    g = _check("swiss_roll", n, seed, split)
    t = 1.5 * math.pi * (1 + 2 * torch.rand(n, generator=g))  # (n,) angle along the roll
    x = torch.stack([t * torch.cos(t), t * torch.sin(t)], dim=1) / 5.0  # (n, 2)
    x = x + noise * torch.randn(n, 2, generator=g)
    return Toy2D(x.float(), None, None, "swiss_roll")


def load_two_moons(split: str = "train", n: int = 1000, seed: int = 0, noise: float = 0.05) -> Toy2D:
    """Two interleaved half circles (like sklearn's make_moons), centred on the origin."""
    g = _check("two_moons", n, seed, split)
    upper = torch.rand(n, generator=g) < 0.5  # (n,) which moon
    t = math.pi * torch.rand(n, generator=g)  # (n,) position along the half circle
    outer = torch.stack([torch.cos(t), torch.sin(t)], dim=1)  # (n, 2)
    inner = torch.stack([1 - torch.cos(t), 0.5 - torch.sin(t)], dim=1)  # (n, 2)
    x = torch.where(upper[:, None], outer, inner) - torch.tensor([0.5, 0.25])
    x = x + noise * torch.randn(n, 2, generator=g)
    return Toy2D(x.float(), None, None, "two_moons")


_NOTE = "generated; arguments n=1000, seed=0"
for _name, _desc, _fn in [
    ("ring8", "8 Gaussians on a circle of radius 2 (std 0.02), true modes given", load_ring8),
    ("grid25", "25 Gaussians on a 5x5 grid (std 0.05), true modes given", load_grid25),
    ("swiss_roll", "a 2-D swiss-roll spiral", load_swiss_roll),
    ("two_moons", "two interleaved half circles", load_two_moons),
]:
    register(DatasetInfo(_name, "toy2d", _desc, "generated (no licence needed)", "bundled: course_lib",
                         _NOTE, ("train", "test")), _fn)
