"""What every model family shares at its door: input checks, random draws on the right device, and the
eval-mode wrapper of `sample`.

A batch of the wrong shape or a label out of range would otherwise fail deep inside the network with a
matmul error; the checks fail at the door with one message naming what was expected and what came.
Random draws go through `randn`/`rand`/`randint`/`multinomial`: torch refuses a CPU generator for a CUDA
tensor (and the reverse), so each helper draws on the generator's own device and moves the result to the
model's. With a CPU generator and a CPU model the draws are exactly torch's.
"""
from __future__ import annotations

import dataclasses
import functools
import inspect

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


def check_data_shape(data_shape, arch: str, archs, conv: tuple[str, int]) -> tuple[int, ...]:
    """data_shape as a tuple of ints, (D,) for points or (C, H, W) for images, and arch one of `archs`;
    conv = (name, m): that convolutional arch needs square images whose side is a multiple of m."""
    data_shape = tuple(int(s) for s in data_shape)
    if arch not in archs:
        raise ValueError(f"arch must be one of {archs}, got {arch!r}")
    if len(data_shape) not in (1, 3):
        raise ValueError(f"data_shape must be (D,) for points or (C, H, W) for images, got {data_shape}")
    name, m = conv
    if arch == name and (len(data_shape) != 3 or data_shape[-1] % m or data_shape[-1] != data_shape[-2]):
        side = "an even side" if m == 2 else f"a side divisible by {m}"
        raise ValueError(f"arch={name!r} needs square images with {side}, got data_shape {data_shape}")
    return data_shape


def check_n(n) -> int:
    """The number of samples asked for: a positive int."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive int, got {n!r}")
    return n


# ---------------------------------------------------------------------- random draws on any device

def _on(generator, device):
    """Where to draw: the generator's device if there is a generator, else the target device."""
    return generator.device if generator is not None else device


def _to(x: torch.Tensor, device) -> torch.Tensor:
    return x if device is None else x.to(device)


def randn(shape, *, generator=None, device=None, dtype=None) -> torch.Tensor:
    """N(0, 1) draws of `shape` on `device` (default CPU), drawn with `generator` wherever it lives."""
    return _to(torch.randn(shape, generator=generator, device=_on(generator, device), dtype=dtype), device)


def rand(shape, *, generator=None, device=None, dtype=None) -> torch.Tensor:
    """U(0, 1) draws of `shape` on `device`, as randn."""
    return _to(torch.rand(shape, generator=generator, device=_on(generator, device), dtype=dtype), device)


def randint(low: int, high: int, shape, *, generator=None, device=None) -> torch.Tensor:
    """int64 draws uniform in [low, high) of `shape` on `device`, as randn."""
    return _to(torch.randint(low, high, shape, generator=generator, device=_on(generator, device)), device)


def multinomial(probs: torch.Tensor, num_samples: int, *, replacement: bool = False, generator=None) -> torch.Tensor:
    """torch.multinomial on probs (..., K) -> indices (..., num_samples) on probs' device, drawn with
    `generator` wherever it lives."""
    idx = torch.multinomial(probs.to(_on(generator, probs.device)), num_samples, replacement, generator=generator)
    return idx.to(probs.device)


# ---------------------------------------------------------------------- sampling and evaluation mode

def eval_mode(method):
    """Run a module's method under torch.no_grad() in eval mode (dropout off, BatchNorm on its running
    statistics) and put the previous train/eval mode back afterwards, also when the method raises."""
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        was_training = self.training
        self.eval()
        try:
            with torch.no_grad():
                return method(self, *args, **kwargs)
        finally:
            self.train(was_training)
    return wrapper


def device_of(module: torch.nn.Module) -> torch.device:
    """The device of a module's first parameter or buffer (CPU for a module with neither)."""
    for t in (*module.parameters(), *module.buffers()):
        return t.device
    return torch.device("cpu")


class Configured:
    """The config half of the family protocol, for a model built from keyword arguments that it keeps in
    `self.config`: `Model.from_config(cfg)` builds it, `model.config_dict()` returns a copy of the dict."""

    @classmethod
    def from_config(cls, config: dict):
        if not isinstance(config, dict):
            raise TypeError(f"{cls.__name__}.from_config takes a dict, got {type(config).__name__}")
        known = set(inspect.signature(cls.__init__).parameters) - {"self"}
        unknown = sorted(set(config) - known)
        if unknown:
            raise ValueError(f"{cls.__name__} config has unknown keys {unknown}; known: {sorted(known)}")
        return cls(**config)

    def config_dict(self) -> dict:
        return dict(self.config)


class DataclassConfigured:
    """The config half of the family protocol for a model built from one dataclass (`config_class`) that it
    keeps in `self.config`: `Model.from_config(cfg_dict)` builds it, `model.config_dict()` returns the dict
    (checkpoints.load(path, Model.from_config)); `model.device` is its parameters' device."""
    config_class: type

    @classmethod
    def from_config(cls, config: dict):
        if not isinstance(config, dict):
            raise TypeError(f"{cls.__name__}.from_config takes a dict, got {type(config).__name__}")
        return cls(cls.config_class(**config))

    def config_dict(self) -> dict:
        return dataclasses.asdict(self.config)

    @property
    def device(self) -> torch.device:
        return device_of(self)
