"""LoRA (Hu et al. 2021): adapt a frozen Linear with a trainable low-rank update, W x + (alpha / r) B A x.

A (r, in) and B (out, r) hold r * (in + out) numbers instead of in * out. B starts at zero, so a fresh
adapter changes nothing (training starts from the pretrained model exactly); A starts random so the
gradient of B is not zero. Several adapters can sit on one frozen base and be switched by name (one
base model, one small adapter per person or task); `merge` folds one into the weight, W + (alpha/r) B A,
so inference costs nothing extra.

    add_lora(gpt, rank=8, targets=("qkv", "proj"))      # freezes gpt; returns the LoRALinear layers
    ... train: only lora_A / lora_B have requires_grad ...
    add_adapter(gpt, "comedy", rank=8); set_adapter(gpt, "comedy")   # a second adapter, switched on
    merged = merge_lora(gpt)                             # a plain model again, adapter folded in
"""
from __future__ import annotations

import copy
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class LoRALinear(nn.Module):
    """A frozen nn.Linear plus named low-rank adapters; `active` picks one (None: the base alone)."""

    def __init__(self, base: nn.Linear, rank: int, alpha: float | None = None, name: str = "default"):
        super().__init__()
        if not isinstance(base, nn.Linear):
            raise TypeError(f"LoRALinear wraps an nn.Linear, got {type(base).__name__}")
        self.base = base
        for p in self.base.parameters():
            p.requires_grad_(False)
        self.lora_A, self.lora_B = nn.ParameterDict(), nn.ParameterDict()
        self.scaling: dict[str, float] = {}
        self.active: str | None = None
        self.add(name, rank, alpha)

    def add(self, name: str, rank: int, alpha: float | None = None) -> None:
        """A new adapter `name` (B = 0: a no-op until trained), made the active one."""
        limit = min(self.base.in_features, self.base.out_features)
        if isinstance(rank, bool) or not isinstance(rank, int) or not 1 <= rank <= limit:
            raise ValueError(f"LoRA rank must be an int in 1..{limit} (min of the layer's in_features "
                             f"{self.base.in_features} and out_features {self.base.out_features}), got {rank!r}")
        if not isinstance(name, str) or not name.isidentifier() or name in self.lora_A:
            raise ValueError(f"adapter name must be a new identifier, got {name!r} (existing: {list(self.lora_A)})")
        w = self.base.weight
        A = torch.empty(rank, self.base.in_features, device=w.device, dtype=w.dtype)
        nn.init.kaiming_uniform_(A, a=math.sqrt(5))                       # as nn.Linear initialises
        self.lora_A[name] = nn.Parameter(A)                               # (r, in)
        self.lora_B[name] = nn.Parameter(torch.zeros(self.base.out_features, rank, device=w.device, dtype=w.dtype))
        self.scaling[name] = (rank if alpha is None else alpha) / rank    # alpha / r
        self.active = name

    def delta(self, name: str | None = None) -> torch.Tensor:
        """The adapter's weight update (alpha / r) B A, (out, in)."""
        name = self.active if name is None else name
        return self.scaling[name] * self.lora_B[name] @ self.lora_A[name]

    def forward(self, x):                                                 # (..., in) -> (..., out)
        y = self.base(x)
        if self.active is None:
            return y
        a, b = self.lora_A[self.active], self.lora_B[self.active]
        return y + self.scaling[self.active] * F.linear(F.linear(x, a), b)   # x A^T B^T: never forms B A

    def merged(self, name: str | None = None) -> nn.Linear:
        """A plain nn.Linear with the adapter folded in: W + (alpha / r) B A."""
        out = copy.deepcopy(self.base)
        if (self.active if name is None else name) is not None:
            with torch.no_grad():
                out.weight += self.delta(name)
        out.weight.requires_grad_(True)
        return out

    def extra_repr(self) -> str:
        return f"adapters={ {n: a.size(0) for n, a in self.lora_A.items()} }, active={self.active!r}"


def _targets(model: nn.Module, targets):
    """(parent, child name, full name) of every nn.Linear whose full name ends with one of `targets`."""
    found = []
    for name, module in model.named_modules():
        for child_name, child in module.named_children():
            full = f"{name}.{child_name}" if name else child_name
            if isinstance(child, nn.Linear) and any(full.endswith(t) for t in targets):
                found.append((module, child_name, full))
    return found


def add_lora(model: nn.Module, rank: int, targets=("attn.qkv", "attn.proj"), alpha: float | None = None,
             name: str = "default") -> list[LoRALinear]:
    """Freeze `model` and wrap the Linear layers named by `targets` (suffixes) in LoRALinear, in place."""
    if isinstance(targets, str):
        targets = (targets,)
    found = _targets(model, targets)
    if not found:
        linears = [n for n, m in model.named_modules() if isinstance(m, nn.Linear)]
        raise ValueError(f"no nn.Linear named like {list(targets)}; the model's Linear layers: {linears}")
    for p in model.parameters():
        p.requires_grad_(False)
    layers = []
    for parent, child_name, _ in found:
        layer = LoRALinear(getattr(parent, child_name), rank, alpha, name)
        setattr(parent, child_name, layer)
        layers.append(layer)
    return layers


def lora_layers(model: nn.Module) -> list[LoRALinear]:
    return [m for m in model.modules() if isinstance(m, LoRALinear)]


def add_adapter(model: nn.Module, name: str, rank: int, alpha: float | None = None) -> None:
    """Another adapter on every LoRA layer of the model, made active (the others keep their weights)."""
    layers = lora_layers(model)
    if not layers:
        raise ValueError("the model has no LoRA layers: call add_lora(model, rank, targets) first")
    for layer in layers:
        layer.add(name, rank, alpha)


def set_adapter(model: nn.Module, name: str | None) -> None:
    """Switch every LoRA layer to adapter `name` (None: the frozen base model alone)."""
    for layer in lora_layers(model):
        if name is not None and name not in layer.lora_A:
            raise ValueError(f"no adapter named {name!r}; this model has {list(layer.lora_A)}")
        layer.active = name


def merge_lora(model: nn.Module, name: str | None = None) -> nn.Module:
    """A copy of the model with each LoRALinear replaced by its merged nn.Linear (adapter `name`, default
    the active one): the same outputs, no adapter overhead."""
    model = copy.deepcopy(model)
    for module in list(model.modules()):
        for child_name, child in list(module.named_children()):
            if isinstance(child, LoRALinear):
                setattr(module, child_name, child.merged(name))
    for p in model.parameters():
        p.requires_grad_(True)
    return model


def trainable_fraction(model: nn.Module) -> float:
    """Share of the model's parameters that will train (requires_grad)."""
    total = sum(p.numel() for p in model.parameters())
    return sum(p.numel() for p in model.parameters() if p.requires_grad) / total
