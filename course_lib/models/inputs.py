"""Input checks the image and point models share (VAE, GAN, diffusion).

A batch of the wrong shape or a label out of range would otherwise fail deep inside the network with a
matmul error; these checks fail at the door with one message naming what was expected and what came.
"""
from __future__ import annotations

import torch


def _describe(x) -> str:
    return f"{tuple(x.shape)} {x.dtype}" if isinstance(x, torch.Tensor) else type(x).__name__


def check_batch(x, data_shape, what: str = "x") -> torch.Tensor:
    """x must be a float tensor (N, *data_shape); returns it unchanged."""
    data_shape = tuple(data_shape)
    if (not isinstance(x, torch.Tensor) or x.dim() != len(data_shape) + 1
            or tuple(x.shape[1:]) != data_shape or not x.is_floating_point()):
        raise ValueError(f"{what} must have shape (N, {', '.join(map(str, data_shape))}) float, got {_describe(x)}")
    return x


def check_labels(labels, n: int, num_classes: int, model: str = "model") -> torch.Tensor | None:
    """Labels for a batch of n: (n,) int64 in [0, num_classes) for a conditional model, None for an
    unconditional one (num_classes 0), which refuses labels rather than silently ignoring them."""
    if not num_classes:
        if labels is not None:
            raise ValueError(f"this {model} is unconditional (num_classes=0): do not pass labels")
        return None
    if not isinstance(labels, torch.Tensor) or labels.dtype != torch.long or tuple(labels.shape) != (n,):
        raise ValueError(f"a conditional {model} needs labels of shape ({n},) int64, got {_describe(labels)}")
    if n and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"labels must be in [0, {num_classes - 1}], got {labels.min().item()}..{labels.max().item()}")
    return labels
