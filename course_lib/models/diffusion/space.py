"""What the diffusion and flow-matching models share: where the data live inside the model, and checks.

Images are in [0, 1] outside and [-1, 1] inside (the noise has unit spread, so should the data); 2-D
points are divided by `data_scale`. Conditional models use labels 0..num_classes-1 and one extra "null"
label (num_classes) for classifier-free guidance.
"""
from __future__ import annotations

import torch

from course_lib.models.inputs import check_batch, check_labels, randn


class DataSpace:
    """Mixin: needs self.data_shape, self.images, self.data_scale, self.num_classes and self._device()."""

    KIND = "model"                                     # how error messages name it

    def to_model(self, x: torch.Tensor) -> torch.Tensor:
        return x * 2 - 1 if self.images else x / self.data_scale

    def from_model(self, x: torch.Tensor, clamp: bool = True) -> torch.Tensor:
        if not self.images:
            return x * self.data_scale
        return ((x + 1) / 2).clamp(0, 1) if clamp else (x + 1) / 2

    def _check_x(self, x) -> torch.Tensor:
        return check_batch(x, self.data_shape, "x")

    def _check_labels(self, labels, n: int) -> torch.Tensor | None:
        return check_labels(labels, n, self.num_classes, self.KIND)

    def null_labels(self, n: int) -> torch.Tensor | None:
        """(n,) copies of the "no label" index, or None for an unconditional model."""
        return torch.full((n,), self.num_classes, dtype=torch.long, device=self._device()) if self.num_classes else None

    def sampling_labels(self, labels, n: int, guidance: float) -> torch.Tensor | None:
        """The labels a sampler conditions on: default 0, 1, 2, ... in turn; None when unconditional or
        guidance 0 (the label is then ignored, but still checked)."""
        if not guidance >= 0:
            raise ValueError(f"guidance must be >= 0, got {guidance!r}")
        if self.num_classes and guidance > 0:
            labels = torch.arange(n, device=self._device()) % self.num_classes if labels is None else labels
            return self._check_labels(labels, n).to(self._device())
        if labels is not None:
            self._check_labels(labels, n)
        return None

    def start_noise(self, n: int, x_T, generator) -> torch.Tensor:
        """x_T (n, *data_shape) in model space: the given one (checked) or a fresh draw."""
        if x_T is None:
            return randn((n, *self.data_shape), generator=generator, device=self._device())
        if tuple(x_T.shape) != (n, *self.data_shape):
            raise ValueError(f"x_T must have shape ({n}, {', '.join(map(str, self.data_shape))}), got {tuple(x_T.shape)}")
        return x_T.to(self._device(), torch.float32)
