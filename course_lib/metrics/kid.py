"""Kernel inception distance (Binkowski et al. 2018): FD's unbiased cousin, usable at small sample sizes.

KID is the squared maximum mean discrepancy between two feature sets under the cubic polynomial kernel

    k(x, y) = (x . y / d + 1)^3                                     (d = feature size)

estimated without bias (Binkowski et al. 2018, eq. 4; Gretton et al. 2012, Lemma 6): for sets X, Y of size m

    MMD^2 = 1/(m(m-1)) sum_{i != j} [k(x_i, x_j) + k(y_i, y_j)] - 2/m^2 sum_{i, j} k(x_i, y_j)

Unbiased means two samples of one distribution score 0 *on average*, so single estimates can be slightly
negative; FD instead reads higher for smaller sets. The estimate is averaged over `subsets` random subsets of
`subset_size` from each side (a seeded generator), and their standard deviation says how much it wobbles.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from .frechet import _check_images, digit_features


@dataclass(frozen=True)
class KID:
    mean: float          # the MMD^2 estimate averaged over the subsets
    std: float           # its standard deviation across subsets
    subset_size: int
    subsets: int


def _as_feats(x, what: str) -> torch.Tensor:
    x = torch.as_tensor(x).detach().to("cpu", torch.float64)
    if x.dim() != 2 or x.shape[1] == 0:
        raise ValueError(f"{what} must have shape (N, D), got {tuple(x.shape)}")
    if not torch.isfinite(x).all():
        raise ValueError(f"{what} contains NaN or inf")
    return x


def polynomial_kernel(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """(..., m, d), (..., n, d) -> (..., m, n): (a . b / d + 1)^3."""
    return (a @ b.transpose(-1, -2) / a.shape[-1] + 1.0) ** 3


def mmd2_unbiased(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Unbiased MMD^2 of equal-size sets (..., m, d) under the cubic kernel (eq. 4 of Binkowski et al.);
    leading dimensions are a batch of subsets, computed in one go."""
    m = x.shape[-2]
    kxx, kyy, kxy = polynomial_kernel(x, x), polynomial_kernel(y, y), polynomial_kernel(x, y)   # (..., m, m)
    diag = kxx.diagonal(dim1=-2, dim2=-1).sum(-1) + kyy.diagonal(dim1=-2, dim2=-1).sum(-1)
    within = (kxx.sum((-2, -1)) + kyy.sum((-2, -1)) - diag) / (m * (m - 1))                     # i != j
    return within - 2.0 * kxy.sum((-2, -1)) / m ** 2


def kid(feats_a, feats_b, *, subset_size: int = 200, subsets: int = 100, seed: int = 0) -> KID:
    """KID between feature sets (N_a, D) and (N_b, D): mean and std of the unbiased MMD^2 over `subsets`
    random subsets of `subset_size` drawn (without replacement within a subset) from each set."""
    a, b = _as_feats(feats_a, "feats_a"), _as_feats(feats_b, "feats_b")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"feature sizes differ: feats_a has D={a.shape[1]}, feats_b has D={b.shape[1]}")
    for name, v, lo in (("subset_size", subset_size, 2), ("subsets", subsets, 1)):
        if isinstance(v, bool) or not isinstance(v, int) or v < lo:
            raise ValueError(f"{name} must be an int >= {lo}, got {v!r}")
    if min(len(a), len(b)) < subset_size:
        raise ValueError(f"subset_size {subset_size} needs at least {subset_size} samples in each set, got "
                         f"{len(a)} and {len(b)} (pass fewer per subset or more samples)")
    g = torch.Generator().manual_seed(seed)
    ia = torch.stack([torch.randperm(len(a), generator=g)[:subset_size] for _ in range(subsets)])   # (S, m)
    ib = torch.stack([torch.randperm(len(b), generator=g)[:subset_size] for _ in range(subsets)])
    vals = mmd2_unbiased(a[ia], b[ib])                                       # (S,): one batched product, fast
    std = float(vals.std()) if subsets > 1 else 0.0
    return KID(float(vals.mean()), std, subset_size, subsets)


def digit_kid(images_a, images_b, *, subset_size: int = 200, subsets: int = 100, seed: int = 0) -> KID:
    """kid in the shipped digit classifier's feature space (as digit_frechet_distance)."""
    a, b = _check_images(images_a, "images_a"), _check_images(images_b, "images_b")
    if a.shape[-1] != b.shape[-1]:
        raise ValueError(f"images_a are {a.shape[-1]}x{a.shape[-1]} but images_b are {b.shape[-1]}x{b.shape[-1]}: "
                         f"compare images of one size")
    return kid(digit_features(a), digit_features(b), subset_size=subset_size, subsets=subsets, seed=seed)
