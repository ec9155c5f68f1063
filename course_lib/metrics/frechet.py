"""Fréchet distance between two sets of feature vectors, and its digit version (FID for digits).

Fit a Gaussian to each set (mean mu, covariance S) and take the Fréchet (2-Wasserstein) distance
between the two Gaussians:

    FD = |mu_a - mu_b|^2 + tr(S_a) + tr(S_b) - 2 tr((S_a^1/2 S_b S_a^1/2)^1/2)

The last trace is computed from eigenvalues of symmetric matrices in float64 (no general sqrtm, so no
complex round-off). FD depends on the sample sizes (small sets read higher), so compare models at the
same N, against the real-vs-real reference in benchmarks/results/digit_classifier.json.
"""
from __future__ import annotations

import warnings

import numpy as np
import torch

from .classifier import CHANNELS, load_classifier


def _sqrt_psd(mat: np.ndarray) -> np.ndarray:
    """Square root of a symmetric positive semi-definite matrix; round-off negatives are clipped to 0."""
    vals, vecs = np.linalg.eigh(mat)
    return (vecs * np.sqrt(np.clip(vals, 0.0, None))) @ vecs.T


def gaussian_frechet_distance(mu_a, cov_a, mu_b, cov_b) -> float:
    """Closed-form Fréchet distance between N(mu_a, cov_a) and N(mu_b, cov_b) (float64)."""
    mu_a, mu_b = np.asarray(mu_a, np.float64).reshape(-1), np.asarray(mu_b, np.float64).reshape(-1)
    d = mu_a.shape[0]
    cov_a = np.asarray(cov_a, np.float64).reshape(d, d)
    cov_b = np.asarray(cov_b, np.float64).reshape(d, d)
    root_a = _sqrt_psd(cov_a)
    middle = root_a @ cov_b @ root_a  # (D, D), symmetric PSD
    eig = np.linalg.eigvalsh((middle + middle.T) / 2)
    cross = np.sqrt(np.clip(eig, 0.0, None)).sum()  # tr((S_a^1/2 S_b S_a^1/2)^1/2)
    fd = ((mu_a - mu_b) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b) - 2.0 * cross
    return float(max(fd, 0.0))  # it is a squared distance; tiny negatives are round-off


def _as_features(x, what: str) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().to("cpu", torch.float64).numpy()
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"{what} must have shape (N, D), got {x.shape}")
    if x.shape[0] < 2:
        raise ValueError(f"{what} needs at least 2 samples to estimate a covariance, got {x.shape[0]}")
    if not np.isfinite(x).all():
        raise ValueError(f"{what} contains NaN or inf")
    return x


def frechet_distance(feats_a, feats_b) -> float:
    """Fréchet distance between feature sets (N_a, D) and (N_b, D) (tensors or arrays)."""
    a, b = _as_features(feats_a, "feats_a"), _as_features(feats_b, "feats_b")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"feature sizes differ: feats_a has D={a.shape[1]}, feats_b has D={b.shape[1]}")
    n_min = min(a.shape[0], b.shape[0])
    if n_min <= a.shape[1]:
        warnings.warn(f"only {n_min} samples for {a.shape[1]} features: the covariance is singular and "
                      f"the Fréchet distance is strongly biased; use more samples than features", stacklevel=2)
    cov_a = np.atleast_2d(np.cov(a, rowvar=False))  # (D, D), also for D = 1
    cov_b = np.atleast_2d(np.cov(b, rowvar=False))
    return gaussian_frechet_distance(a.mean(0), cov_a, b.mean(0), cov_b)


# ----------------------------------------------------------------------------- digits

def _check_images(images, what: str = "images") -> torch.Tensor:
    """(N, 1, H, W) float in [0, 1] with H = W in {8, 28}, else a clear error."""
    if not isinstance(images, (torch.Tensor, np.ndarray)):
        raise TypeError(f"{what} must be a torch.Tensor or numpy array, got {type(images).__name__}")
    images = torch.as_tensor(images)
    sizes = sorted(CHANNELS)
    if images.dim() != 4 or images.shape[1] != 1 or images.shape[2] != images.shape[3] \
            or images.shape[2] not in CHANNELS:
        raise ValueError(f"{what} must have shape (N, 1, H, W) with H = W in {sizes}, "
                         f"got {tuple(images.shape)}")
    if images.shape[0] == 0:
        raise ValueError(f"{what} is empty: got shape {tuple(images.shape)}")
    if not images.is_floating_point():
        raise ValueError(f"{what} must be float in [0, 1], got dtype {images.dtype} "
                         f"(divide integer pixels by their maximum level)")
    lo, hi = float(images.min()), float(images.max())
    if not (lo >= -1e-4 and hi <= 1 + 1e-4):  # also catches NaN
        raise ValueError(f"{what} must be in [0, 1], got values in [{lo:.3g}, {hi:.3g}] "
                         f"(tanh outputs: use (x + 1) / 2; clamp small overshoots)")
    return images.float().clamp(0, 1)


@torch.no_grad()
def _run(images, fn_name: str, batch_size: int = 1024) -> torch.Tensor:
    images = _check_images(images)
    model = load_classifier(images.shape[-1], str(images.device))
    fn = getattr(model, fn_name)
    return torch.cat([fn(chunk) for chunk in images.split(batch_size)])


def digit_features(images) -> torch.Tensor:
    """(N, 1, H, W) digits in [0, 1], H = W = 8 or 28 -> (N, 128) classifier features (float32)."""
    return _run(images, "features")


def classify_digits(images) -> torch.Tensor:
    """(N, 1, H, W) digits in [0, 1], H = W = 8 or 28 -> (N,) predicted labels (int64)."""
    return _run(images, "forward").argmax(dim=1)


def digit_frechet_distance(images_a, images_b) -> float:
    """Fréchet distance between two image sets in the shipped classifier's feature space."""
    a, b = _check_images(images_a, "images_a"), _check_images(images_b, "images_b")
    if a.shape[-1] != b.shape[-1]:
        raise ValueError(f"images_a are {a.shape[-1]}x{a.shape[-1]} but images_b are {b.shape[-1]}x{b.shape[-1]}: "
                         f"compare images of one size")
    return frechet_distance(digit_features(a), digit_features(b))
