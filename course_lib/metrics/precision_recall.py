"""Precision and recall of a generative model (Kynkäänniemi et al. 2019): two numbers where FD gives one.

Around every real feature vector put a ball reaching its k-th nearest real neighbour; their union
estimates the manifold of real data. Precision = the share of generated samples inside the real manifold
(are samples realistic?); recall = the share of real samples inside the generated manifold, built the
same way (is the variety covered?). Truncation, guidance and mode collapse move the two apart, which
one distance cannot show.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from .frechet import _check_images, digit_features


@dataclass
class PrecisionRecall:
    precision: float
    recall: float
    k: int


def _radii(feats: torch.Tensor, k: int) -> torch.Tensor:
    """Distance of each row to its k-th nearest other row (N,)."""
    d = torch.cdist(feats, feats)                                           # (N, N), zeros on the diagonal
    return d.kthvalue(k + 1, dim=1).values                                  # k + 1: skip the point itself


def _inside(points: torch.Tensor, centres: torch.Tensor, radii: torch.Tensor) -> torch.Tensor:
    """(P,) bool: each point lies in at least one ball (centre, radius)."""
    return (torch.cdist(points, centres) <= radii[None, :]).any(dim=1)


def precision_recall(real_feats, fake_feats, k: int = 3) -> PrecisionRecall:
    """Improved precision and recall between two feature sets (N, D) and (M, D)."""
    real, fake = (torch.as_tensor(f, dtype=torch.float64) for f in (real_feats, fake_feats))
    if real.dim() != 2 or fake.dim() != 2 or real.shape[1] != fake.shape[1]:
        raise ValueError(f"features must be (N, D) and (M, D) with the same D, got {tuple(real.shape)} and "
                         f"{tuple(fake.shape)}")
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k < min(len(real), len(fake)):
        raise ValueError(f"k must be an int in 1..{min(len(real), len(fake)) - 1}, got {k!r}")
    precision = _inside(fake, real, _radii(real, k)).double().mean().item()
    recall = _inside(real, fake, _radii(fake, k)).double().mean().item()
    return PrecisionRecall(precision, recall, k)


def digit_precision_recall(real_images, fake_images, k: int = 3) -> PrecisionRecall:
    """precision_recall in the shipped digit classifier's feature space (as digit_frechet_distance)."""
    real, fake = _check_images(real_images, "real_images"), _check_images(fake_images, "fake_images")
    return precision_recall(digit_features(real), digit_features(fake), k)
