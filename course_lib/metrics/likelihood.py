"""Likelihood numbers that can be compared across models and datasets: NLL in nats, bits, bits/dim.

A model's negative log-likelihood (NLL) of one example grows with the example's size: a 28x28 image has
12x more pixels than an 8x8 one. Dividing by the number of dimensions D and converting nats to bits
gives bits per dimension, the unit the literature reports for images:

    bits/dim = nll_nats / (D * ln 2)

For text, the same per-token number is reported as perplexity = exp(nll_nats_per_token).
"""
from __future__ import annotations

import math

import torch

LN2 = math.log(2.0)


def _check_positive_int(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{what} must be a positive int, got {value!r}")
    return value


def nats_to_bits(nats):
    """Nats -> bits (divide by ln 2). Works on floats, NumPy arrays and tensors alike."""
    return nats / LN2


def bits_per_dim(nll_nats_per_example, num_dims: int):
    """Bits per dimension: nll_nats / (D ln 2), for an NLL per example (not summed over a batch).

    num_dims is D, the number of values in one example (64 for an 8x8 image, 784 for 28x28).
    A model that spends exactly 8 bits on every 0..255 pixel scores 8.0; better models score less.
    """
    _check_positive_int(num_dims, "num_dims")
    return nll_nats_per_example / (num_dims * LN2)


def perplexity(nll_nats_per_token):
    """exp(mean NLL per token): the number of equally likely choices the model is 'torn between'."""
    if isinstance(nll_nats_per_token, torch.Tensor):
        return torch.exp(nll_nats_per_token)
    return math.exp(nll_nats_per_token)


def nll(log_probs) -> float:
    """Mean negative log-likelihood in nats from per-example log-probabilities (natural log)."""
    log_probs = torch.as_tensor(log_probs, dtype=torch.float64)
    if log_probs.numel() == 0:
        raise ValueError("log_probs is empty: need at least one log-probability")
    return float(-log_probs.mean())


def gaussian_nll(x: torch.Tensor, mean: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """NLL in nats of x under a diagonal Gaussian N(mean, exp(log_var)), summed over all but dim 0.

    Per dimension: 0.5 * (log(2 pi) + log_var + (x - mean)^2 / exp(log_var)).
    Returns (N,): one NLL per example, ready for bits_per_dim(..., num_dims=x[0].numel()).
    """
    if x.dim() < 1:
        raise ValueError(f"x must have a batch dimension, got shape {tuple(x.shape)}")
    mean, log_var = torch.broadcast_tensors(mean, log_var)
    if torch.broadcast_shapes(x.shape, mean.shape) != x.shape:
        raise ValueError(f"mean/log_var of shape {tuple(mean.shape)} do not broadcast to x {tuple(x.shape)}")
    per_dim = 0.5 * (math.log(2 * math.pi) + log_var + (x - mean) ** 2 * torch.exp(-log_var))
    return per_dim.reshape(x.shape[0], -1).sum(dim=1)  # (N,)


def dequantized_nll(nll_nats_density, num_dims: int, levels: int):
    """Turn a density's NLL on [0,1]^D into a discrete NLL (nats) over `levels` grey levels per pixel.

    A continuous density p on [0,1]^D, evaluated at dequantized pixels x = (k + u) / levels with
    u ~ U[0,1)^D, bounds the probability of the integer image k:  -log P(k) <= E_u[-log p(x)] + D log(levels).
    Without the D log(levels) term a density on [0,1] can report a negative NLL, which no discrete model can.
    """
    _check_positive_int(num_dims, "num_dims")
    _check_positive_int(levels, "levels")
    return nll_nats_density + num_dims * math.log(levels)
